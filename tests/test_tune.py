"""stt-eval tune: the race on synthetic per-file counts, the recommendation, the holdout split,
the space and its presets, the [tune] table and the TOML snippet."""

from __future__ import annotations

import random

import pytest

from stt_eval.chunking import parse_chunking
from stt_eval.errors import BadArgument
from stt_eval.experiment import ExperimentError, load_experiment
from stt_eval.tune.files import split
from stt_eval.tune.options import resolve, tune_table
from stt_eval.tune.race import race, schedule
from stt_eval.tune.recommend import recommend
from stt_eval.tune.space import PRESETS, Setting, Space, fits

from .conftest import ROOT

FILES = [f"f{i:02d}" for i in range(16)]
GOOD = Setting("30s/2s", "timestamp")
TWIN = Setting("30s/2s", "text-align")
BAD = Setting("10s", "timestamp")
CHEAP = Setting("60s", "timestamp")


def synthetic(rates: dict[Setting, float], noise: int = 3, seed: int = 0):
    """``evaluate`` over 200-word files: each setting's errors are its rate × 200 plus a per-file
    difficulty every setting shares (so pairing cancels it) and a little own noise."""
    rng = random.Random(seed)
    hard = {f: rng.randint(0, 30) for f in FILES}
    own = {(s, f): rng.randint(0, noise) for s in rates for f in FILES}
    calls = []

    def evaluate(settings, files):
        calls.append((tuple(settings), tuple(files)))
        return {
            s: {f: (round(rates[s] * 200) + hard[f] + own[s, f], 200) for f in files}
            for s in settings
        }

    return evaluate, calls


def flat_cost(setting, file_id):
    """60 s recordings: windows of the chunk length, stepping by chunk − overlap."""
    c = parse_chunking(setting.chunking)
    if c.chunk_s is None:
        return 60.0, 1
    n = max(1, -(-(60 - c.overlap_s) // (c.chunk_s - c.overlap_s)))
    return 60.0 + (n - 1) * c.overlap_s, int(n)


def test_the_schedule_doubles_the_files_seen_and_ends_at_all_of_them():
    assert schedule(16) == [1, 2, 4, 8, 16]
    assert schedule(6) == [1, 2, 4, 6]
    assert schedule(3, first=4) == [3]


def test_a_clearly_worse_setting_is_dropped_as_worse_and_equal_settings_both_survive():
    evaluate, _ = synthetic({GOOD: 0.10, TWIN: 0.10, BAD: 0.30})
    result = race([GOOD, TWIN, BAD], FILES, evaluate, flat_cost, floor=3, equivalence=0.0)
    fate = {s.setting: s for s in result.standings}
    assert fate[BAD].dropped_round is not None
    assert fate[BAD].reason.startswith("worse than")
    assert fate[BAD].test.significant and fate[BAD].test.difference > 0
    assert fate[GOOD].dropped_round is None and fate[TWIN].dropped_round is None
    assert len(result.files) == len(FILES)  # the twins were raced to the end


def test_halving_keeps_the_better_half_and_never_fewer_than_the_floor():
    rates = {Setting(f"{10 + i}s", "timestamp"): 0.05 + 0.02 * i for i in range(8)}
    evaluate, calls = synthetic(rates)
    result = race(list(rates), FILES, evaluate, flat_cost, floor=2, equivalence=0.0)
    assert [len(settings) for settings, _ in calls][:3] == [8, 4, 2]
    assert {s.setting.chunking for s in result.survivors} <= {"10s", "11s"}
    assert len(result.survivors) >= 1
    halved = [s for s in result.standings if s.reason.startswith("halved")]
    assert halved and all(s.dropped_round for s in halved)


def test_halving_halves_the_chunkings_and_a_kept_chunking_keeps_its_merges():
    rates = {
        Setting(f"{10 + i}s", m): 0.05 + 0.02 * i
        for i in range(4)
        for m in ("timestamp", "text-align")
    }
    evaluate, calls = synthetic(rates)
    race(list(rates), FILES, evaluate, flat_cost, floor=2, equivalence=0.0)
    first_kept = {s.chunking for s in calls[1][0]}
    assert first_kept == {"10s", "11s"} and len(calls[1][0]) == 4


def test_the_race_stops_before_a_round_would_overrun_the_budget():
    evaluate, calls = synthetic({GOOD: 0.10, TWIN: 0.10, CHEAP: 0.10})
    result = race([GOOD, TWIN, CHEAP], FILES, evaluate, flat_cost, budget_s=400.0, floor=3)
    assert result.stopped.startswith("budget")
    assert result.spent_s <= 400.0
    sent = sum(
        flat_cost(s, f)[0]
        for settings, files in calls
        for s in {x.chunking: x for x in settings}.values()
        for f in files
    )
    assert sent == result.spent_s  # merges of one chunking share its windows: paid once


def test_a_setting_that_fails_on_a_file_is_out_and_a_file_nobody_scored_is_skipped():
    evaluate, _ = synthetic({GOOD: 0.1, BAD: 0.1})

    def flaky(settings, files):
        got = evaluate(settings, files)
        got[BAD].pop(FILES[0], None)
        for counts in got.values():
            counts.pop(FILES[1], None)  # unreadable for every setting
        return got

    result = race([GOOD, BAD], FILES, flaky, flat_cost, floor=2, equivalence=0.0)
    fate = {s.setting: s for s in result.standings}
    assert fate[BAD].reason == f"failed on {FILES[0]}"
    assert FILES[1] not in result.files and fate[GOOD].dropped_round is None


def test_the_recommendation_is_the_cheapest_setting_not_significantly_worse():
    evaluate, _ = synthetic({GOOD: 0.100, CHEAP: 0.105, BAD: 0.30}, noise=12)
    result = race([GOOD, CHEAP, BAD], FILES, evaluate, flat_cost, floor=3, equivalence=0.0)
    rec = recommend(result, flat_cost)
    assert result.best == GOOD
    assert rec.setting == CHEAP  # 60 s in 1 request beats 30 s/2 s (62 s in 2 requests)
    assert rec.test is not None and not rec.test.significant
    assert rec.interval.low < rec.wer < rec.interval.high
    assert (rec.audio_s, rec.requests) == (60.0 * 16, 16)


def test_the_holdout_split_is_deterministic_and_independent_of_order():
    ids = [f"rec-{i}" for i in range(20)]
    search, held = split(ids, 0.25)
    assert len(held) == 5 and not set(search) & set(held)
    assert split(list(reversed(ids)), 0.25) == (search, held)
    assert split(ids, 0.0) == (split(ids, 0.0)[0], ())
    assert len(split(["a", "b"], 0.9)[0]) == 1  # never holds out every file
    with pytest.raises(BadArgument, match=r"must be a fraction in \[0, 1\)") as err:
        split(ids, 1.0)
    assert err.value.argument == "holdout"


def test_the_default_space_respects_the_overlap_rule_and_holds_the_presets():
    settings = Space().settings()
    chunkings = {s.chunking for s in settings}
    assert "10s/5s" not in chunkings  # overlap must stay under half the chunk
    assert set(PRESETS.values()) <= chunkings
    assert {"none", "30s/2s", "60s/5s/vad"} <= chunkings
    assert all(s.merge == "none" for s in settings if s.chunking == "none")
    for spelling in PRESETS.values():
        setting = parse_chunking(spelling)
        assert setting.overlap_s < setting.chunk_s / 2


def test_an_upload_limit_keeps_out_the_windows_over_it():
    seconds = 30 * 32_000  # 30 s of 16-bit 16 kHz audio
    assert fits(Setting("30s"), 600, seconds) and not fits(Setting("60s"), 600, seconds)
    assert not fits(Setting("none", "none"), 600, seconds) and fits(
        Setting("none", "none"), 20, seconds
    )
    assert fits(Setting("120s/15s"), 3600, None)


def test_the_tune_table_narrows_the_space_and_flags_override_it(tmp_path):
    manifest = ROOT / "datasets" / "sample" / "manifest.jsonl"
    path = tmp_path / "exp.toml"
    path.write_text(
        f'dataset = "{manifest}"\n[tune]\nchunk_s = [20, 40]\noverlap_s = [0]\nmerge = "timestamp"\n'
        'planner = ["fixed"]\npresets = []\nunchunked = false\nholdout = 0.2\n'
    )
    load_experiment(path)  # `run` reads the same file: the table is not an unknown setting
    space, race_args = resolve(tune_table(path), chunk_s=[40], holdout=None)
    assert [s.label for s in space.settings()] == ["40s timestamp"]
    assert race_args == {"budget_minutes": None, "holdout": 0.2}
    path.write_text(f'dataset = "{manifest}"\n[tune]\nchunks = [20]\n')
    with pytest.raises(ExperimentError, match=r"unknown key\(s\) \['chunks'\]"):
        tune_table(path)
    space, _ = resolve(
        {"chunking": ["30s/6s"]},
        chunk_s=[30],
        overlap_s=[2],
        merge=["timestamp"],
        planner=["fixed"],
        presets=[],
        unchunked=False,
    )
    assert [s.chunking for s in space.settings()] == ["30s/2s", "30s/6s"]
    with pytest.raises(BadArgument, match="30x") as err:
        resolve({}, chunking=["30x"])
    assert err.value.argument == "chunking"
    with pytest.raises(BadArgument, match="'midpoint'.* unknown; choose from") as err:
        resolve({}, merge=["midpoint"])
    assert err.value.argument == "merge"


def _tuned(tmp_path, rates):
    """A TuneResult from a synthetic race (no engine), for the document and the snippet."""
    from stt_eval.tune.runner import ProviderTune, TuneResult

    evaluate, _ = synthetic(rates, noise=12)
    result = race(list(rates), FILES, evaluate, flat_cost, floor=3, equivalence=0.0)
    costs = {(s.chunking, f): flat_cost(s, f) for s in rates for f in FILES}
    tuned = ProviderTune(
        "faster-whisper",
        result,
        recommend(result, flat_cost),
        (),
        costs,
        {(s, f): 1 for s in rates for f in FILES},
        dict.fromkeys(FILES, 60.0),
    )
    manifest = ROOT / "datasets" / "sample" / "manifest.jsonl"
    exp = load_experiment_text(tmp_path, f'dataset = "{manifest}"\n')
    return TuneResult(exp, Space(), (tuned,), tuple(FILES), (), tmp_path / "out")


def load_experiment_text(tmp_path, text):
    path = tmp_path / "exp.toml"
    path.write_text(text)
    return load_experiment(path)


def test_the_toml_snippet_reads_back_as_the_recommended_setting(tmp_path):
    from stt_eval.tune.table import toml_snippet

    result = _tuned(tmp_path, {GOOD: 0.100, CHEAP: 0.105, BAD: 0.30})
    rec = result.providers[0].recommendation
    snippet = toml_snippet(result)
    manifest = ROOT / "datasets" / "sample" / "manifest.jsonl"
    exp = load_experiment_text(tmp_path, f'dataset = "{manifest}"\n{snippet}')
    assert exp.chunking == (rec.setting.chunking,) == ("60s",)
    assert exp.merge == (rec.setting.merge,)


def test_the_document_opens_with_the_recommendation_and_lists_every_setting(tmp_path):
    from stt_eval.tune.document import write_tune

    result = _tuned(tmp_path, {GOOD: 0.100, CHEAP: 0.105, BAD: 0.30})
    md_path, html_path = write_tune(result)
    md = md_path.read_text()
    assert md.index("## Recommendation") < md.index("## Paste into your experiment")
    assert "use **60s timestamp**" in md
    assert "not significantly worse than the best, 30s/2s timestamp" in md
    for setting in ("30s/2s timestamp", "60s timestamp", "10s timestamp"):
        assert f"| {setting} |" in md
    assert (md_path.parent / "tune_pareto.png").stat().st_size > 0
    html = html_path.read_text()
    assert "data:image/png;base64," in html and "chunking = [&quot;60s&quot;]" in html


@pytest.mark.slow
def test_tune_end_to_end_with_pocketsphinx_then_run_pays_nothing_again(tmp_path, monkeypatch):
    """A tiny space on two short sample files: tune writes its pages, and running the
    recommended setting afterwards is served entirely from the cache the race filled."""
    from stt_eval import api

    monkeypatch.setenv("STT_EVAL_CACHE", str(tmp_path / "cache"))
    manifest = ROOT / "datasets" / "sample" / "manifest.jsonl"
    path = tmp_path / "exp.toml"
    path.write_text(
        f'dataset = "{manifest}"\nproviders = ["pocketsphinx"]\nids = ["whisper_jfk", '
        f'"mfa_cold_corpus"]\nworkers = 1\noutput = "{tmp_path / "results"}"\n'
        '[tune]\nchunk_s = [8, 12]\noverlap_s = [0]\nmerge = ["timestamp"]\n'
        'planner = ["fixed"]\npresets = []\nunchunked = false\n'
    )
    result = api.tune(path, progress=False)
    rec = result.providers[0].recommendation
    assert rec.setting.chunking in ("8s", "12s")
    assert (result.output / "tune.md").exists() and (result.output / "tune.html").exists()
    from stt_eval.tune.table import toml_snippet

    path.write_text(path.read_text().split("[tune]")[0] + toml_snippet(result))
    assert load_experiment(path).chunking == (rec.setting.chunking,)
    rows = api.run(path, progress=False).rows
    assert rows and all(r.status == "ok" and r.measurement.cached for r in rows)


def test_rows_become_per_file_counts_pooled_over_conditions_and_failures_leave_a_file_out():
    from stt_eval.tune.runner import _counts

    from .conftest import flat_row

    chunked, whole = Setting("30s/2s", "timestamp"), Setting("none", "none")
    rows = [
        flat_row(
            sample_id="a",
            chunking="30s/2s",
            merge="timestamp",
            hits=8,
            subs=2,
            boundary_by_band=(1, 0, 0, 0),
        ),
        flat_row(
            sample_id="a",
            condition="noise",
            chunking="30s/2s",
            merge="timestamp",
            hits=5,
            dels=5,
            boundary_by_band=(2, 0, 0, 0),
        ),
        flat_row(sample_id="b", chunking="30s/2s", merge="timestamp", hits=10),
        flat_row(
            sample_id="b",
            condition="noise",
            chunking="30s/2s",
            merge="timestamp",
            status="failed",
            error="timeout",
        ),
        flat_row(sample_id="a", hits=9, ins=1),  # unchunked: no boundary count at all
        flat_row(sample_id="a", chunking="60s", merge="timestamp", hits=1),  # not asked for
    ]
    boundary = {}
    counts = _counts(rows, [chunked, whole], boundary)
    assert counts == {chunked: {"a": (7, 20)}, whole: {"a": (1, 9)}}
    assert boundary == {(chunked, "a"): 3}  # the unchunked row counts no cut: unknown, not 0


def test_tune_help_names_the_space_flags_and_the_holdout(capsys):
    from stt_eval.cli import main

    with pytest.raises(SystemExit) as done:
        main(["tune", "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    for word in (
        "--chunk-s",
        "--overlap-s",
        "--merge",
        "--planner",
        "--presets",
        "--holdout",
        "--budget-minutes",
        "--no-unchunked",
        "nemo-10-10-5",
        "tune.html",
    ):
        assert word in out, word
