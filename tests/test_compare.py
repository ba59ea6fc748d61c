"""`stt-eval compare`: two runs' rows matched cell by cell, changes beyond noise marked, and what
was dropped counted by reason — on hand-written rows whose rates are computed here by hand."""

from __future__ import annotations

import json

import pytest

from stt_eval.api import compare_runs
from stt_eval.cli import main
from stt_eval.rows import ResultRow
from stt_eval.run.directory import ROWS_FILE, append_rows

from .conftest import flat_row

FILES = [f"f{i:02d}" for i in range(12)]
CLEAN_A = [1, 0, 2, 1, 0, 1, 2, 1, 0, 1, 1, 2]  # substitutions per file, 10 reference words each
CLEAN_UP = [3, 2, 4, 3, 3, 2, 4, 3, 2, 3, 3, 4]  # B makes this many more on every file
NOISE_A = [2, 1, 3, 2, 1, 2, 3, 2, 1, 2, 2, 3]
NOISE_MOVE = [1, -1] * 6  # B: one more, one fewer, ... (no change overall)


def _row(run: str, sid: str, condition: str, subs: int, digest: str = "") -> ResultRow:
    return flat_row(
        run_id=run,
        sample_id=sid,
        provider="p",
        condition=condition,
        hits=10 - subs,
        subs=subs,
        ref_words=10,
        sample_digest=digest or f"d-{sid}",
    )


@pytest.fixture
def runs(tmp_path):
    a, b = tmp_path / "run-a", tmp_path / "run-b"
    rows_a = [_row("a", f, "clean", s) for f, s in zip(FILES, CLEAN_A)]
    rows_a += [_row("a", f, "noise", s) for f, s in zip(FILES, NOISE_A)]
    rows_a.append(_row("a", "only-a", "clean", 0))
    rows_b = [_row("b", f, "clean", s + u) for f, s, u in zip(FILES, CLEAN_A, CLEAN_UP)]
    rows_b += [_row("b", f, "noise", s + m) for f, s, m in zip(FILES, NOISE_A, NOISE_MOVE)]
    rows_b[12] = flat_row(
        run_id="b",
        sample_id="f00",
        provider="p",
        condition="noise",
        status="failed",
        error="timeout",
    )
    rows_b[13] = _row("b", "f01", "noise", 1, digest="d-edited")
    for d, rows in ((a, rows_a), (b, rows_b)):
        d.mkdir()
        append_rows(d / ROWS_FILE, rows)
    return a, b


def test_a_moved_cell_is_marked_and_a_steady_one_is_not(runs):
    table = compare_runs(*runs)
    clean = table[(table["metric"] == "wer") & (table["condition"] == "clean")].iloc[0]
    noise = table[(table["metric"] == "wer") & (table["condition"] == "noise")].iloc[0]
    # clean: 12 files × 10 words; A 12 errors, B 12 + 36 = 48
    assert clean["files"] == 12
    assert clean["a"] == pytest.approx(12 / 120) and clean["b"] == pytest.approx(48 / 120)
    assert clean["change"] == pytest.approx(0.30)
    assert clean["change_low"] > 0 and clean["significant"]
    # noise: f00 failed in B, f01's reference changed; f02..f11: 21 errors / 100 words each side
    assert noise["files"] == 10
    assert noise["a"] == pytest.approx(0.21) and noise["b"] == pytest.approx(0.21)
    assert noise["change"] == pytest.approx(0.0) and not noise["significant"]
    assert len(table) == 2  # no DER or cpWER counts in these rows
    assert table.attrs["matched"] == 22
    assert table.attrs["dropped"] == {
        "only in A": 1,
        "failed in B": 1,
        "recording or reference changed": 1,
    }


def test_cli_prints_the_marked_table_and_json(runs, capsys):
    assert main(["compare", *map(str, runs)]) == 0
    out = capsys.readouterr().out
    lines = {
        line.split("|")[2].strip(): line for line in out.splitlines() if line.startswith("| p ")
    }
    assert "+30.0 **" in lines["clean"] and "**" not in lines["noise"]
    assert "Dropped: 1 only in A, 1 failed in B, 1 recording or reference changed." in out
    assert "| +0.0 |" in lines["noise"]
    assert main(["compare", *map(str, runs), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["matched"] == 22 and doc["runs"] == ["run-a", "run-b"]
    assert [line["significant"] for line in doc["lines"]] == [True, False]


def test_a_directory_without_rows_is_named(tmp_path, runs):
    with pytest.raises(FileNotFoundError, match="nothing: not a run directory"):
        compare_runs(runs[0], tmp_path / "nothing")


def _write(run_dir, rows, experiment=None):
    run_dir.mkdir()
    append_rows(run_dir / ROWS_FILE, rows)
    if experiment is not None:
        (run_dir / "experiment.json").write_text(json.dumps(experiment), encoding="utf-8")
    return run_dir


def _experiment(diarizers, options=(), normalizer="whisper", version="1.2.1"):
    providers = [{"name": "p", "options": [list(o) for o in options], "label": "p"}]
    return {
        "experiment": {
            "providers": providers,
            "conditions": ["clean"],
            "chunking": ["none"],
            "merge": ["timestamp"],
            "diarizers": diarizers,
            "normalizer": normalizer,
            "collar": 0.25,
        },
        "engines": {"p": {"name": "p", "model": "m", "version": version}},
        "stt_eval_version": "0.1.0",
    }


def test_wer_cells_match_whether_or_not_a_diarizer_ran(tmp_path):
    turns = {"collar_s": 0.25, "der_missed_s": 1.0, "der_false_alarm_s": 0.0}
    turns |= {"der_confusion_s": 0.0, "der_total_s": 10.0}
    with_senko = [
        flat_row(
            run_id="a",
            sample_id=f,
            provider="p",
            hits=9,
            subs=1,
            ref_words=10,
            sample_digest=f"d-{f}",
            diarizer="senko",
            **turns,
        )
        for f in FILES
    ]
    without = [_row("b", f, "clean", 1) for f in FILES]
    a = _write(tmp_path / "a", with_senko, _experiment(["senko"]))
    b = _write(tmp_path / "b", without, _experiment(["none"]))
    table = compare_runs(a, b)
    assert table.attrs["matched"] == len(FILES) and table.attrs["dropped"] == {}
    (line,) = table.to_dict("records")  # WER only: B scored no DER
    assert line["metric"] == "wer" and line["files"] == len(FILES) and line["change"] == 0
    assert table.attrs["differences"] == [{"aspect": "diarizers", "A": "senko", "B": "none"}]


def test_what_differs_and_why_cells_are_missing_are_said(tmp_path, capsys):
    rows_a = [_row("a", f, "clean", 1) for f in FILES]
    rows_b = [_row("b", f, "clean", 2) for f in FILES[:10]] + [_row("b", "new", "clean", 0)]
    rows_b += [
        flat_row(run_id="b", sample_id=f, provider="q", hits=10, ref_words=10) for f in FILES[:3]
    ]
    for row in rows_b:
        object.__setattr__(row.provenance, "engine_version", "2.0")
    exp_b = _experiment(["none"], options=[("beam_size", 5)], normalizer="none", version="2.0")
    exp_b["experiment"]["providers"].append({"name": "q", "options": [], "label": "q"})
    a = _write(tmp_path / "a", rows_a, _experiment(["none"]))
    b = _write(tmp_path / "b", rows_b, exp_b)
    table = compare_runs(a, b)
    found = {d["aspect"]: (d["A"], d["B"]) for d in table.attrs["differences"]}
    assert found["providers (only in one run)"] == ("–", "q")
    assert found["options of p"] == ("defaults", "beam_size=5")
    assert found["normalizer"] == ("whisper", "none")
    assert found["engine of p"] == ("–", "2.0")  # A's rows recorded no engine
    assert found["files (10 in both)"] == ("12; only here: f10, f11", "11; only here: new")
    assert table.attrs["missing"] == {
        "only in A: sample_id f10 is not in B": 1,
        "only in A: sample_id f11 is not in B": 1,
        "only in B: sample_id new is not in A": 1,
        "only in B: provider q is not in A": 3,
    }
    assert main(["compare", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "| options of p | defaults | beam_size=5 |" in out
    assert "- 3 only in B: provider q is not in A" in out
