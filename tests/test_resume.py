"""Resume against real loopback servers: a row is kept only while every input its numbers depend
on is unchanged (and the run says which changed), a transient failure is sent again, a permanent
one kept unless asked, warnings reach the terminal, and the run directory is read strictly and
written whole."""

from __future__ import annotations

import hashlib
import json
import resource
import shutil
import signal
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from stt_eval.api import run
from stt_eval.audio.load import AudioClip, save_wav
from stt_eval.cli import main
from stt_eval.experiment import Experiment, ProviderSpec
from stt_eval.report.tables import failures
from stt_eval.run.directory import (
    LOCK_FILE,
    REPORT_HTML,
    ROWS_FILE,
    RunDirectoryError,
    TornLineWarning,
    read_rows,
    rows_frame,
    run_info,
)
from stt_eval.run.grid import run_experiment
from stt_eval.run.resume import UNRECORDED, resume
from stt_eval.testing.openai import openai_fault, openai_server
from stt_eval.types import Transcript

from .conftest import ROOT, SAMPLE, flat_row

KEY = "sk-loopback-resume"
FILES = {
    "goforward": ("pocketsphinx_goforward.flac", "go forward ten meters"),
    "jfk": ("whisper_jfk.flac", "and so my fellow americans"),
    "cold": ("mfa_cold_corpus.flac", "go forward ten meters"),
}
VOLATILE = ["processing_s", "latency_s", "condition_s", "load_s", "rtfx", "cached", "attempts"]
"""What differs between two runs of the same inputs: times, and whether the cache served it."""


def _heard(audio: bytes, request) -> Transcript:
    """A "model" that hears the audio: the same words, and 0-4 insertions set by its bytes."""
    extra = int(hashlib.sha256(audio).hexdigest(), 16) % 5
    return Transcript("go forward ten meter" + " now" * extra, language="en")


def _manifest(folder, ids=("goforward", "jfk"), rttm=None):
    rows = []
    for sid in ids:
        name, text = FILES[sid]
        shutil.copy(SAMPLE / "audio" / name, folder / name)
        rows.append({"id": sid, "audio": name, "text": text, **({"rttm": rttm} if rttm else {})})
    (folder / "m.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder / "m.jsonl"


def _noise(path, seed):
    rng = np.random.default_rng(seed)
    save_wav(AudioClip(rng.normal(0, 0.1, 32000).astype(np.float32), 16000), path)


def _openai(server, **options) -> ProviderSpec:
    opts = {"base_url": server.url + "/v1", "min_wait_s": 0.0, "max_wait_s": 0.0, **options}
    return ProviderSpec("openai", tuple(sorted(opts.items())))


def _table(rows) -> pd.DataFrame:
    frame = rows_frame(rows).drop(columns=VOLATILE)
    key = ["sample_id", "provider", "condition", "chunking", "merge", "diarizer", "channel_mode"]
    return frame.sort_values(key).reset_index(drop=True)


def test_each_input_changed_in_turn_redoes_its_rows_as_fresh_does(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    glm, hum, rttm = tmp_path / "glm.txt", tmp_path / "hum.wav", tmp_path / "ref.rttm"
    glm.write_text("okay => ok\n")
    _noise(hum, 0)
    rttm.write_text("".join(f"SPEAKER {sid} 1 0.0 1.5 <NA> <NA> a <NA> <NA>\n" for sid in FILES))
    manifest = _manifest(tmp_path, rttm="ref.rttm")
    cache = tmp_path / "cache"
    with openai_server(_heard, api_key=KEY) as server:
        exp = Experiment(
            dataset=manifest,
            providers=(_openai(server),),
            conditions=(
                "clean",
                f"noise(kind=file, path={hum}, snr_db=5)",
                "noise(kind=babble, snr_db=5)",
            ),
            normalizer=f"whisper + synonyms(path={glm})",
            workers=1,
            output=tmp_path / "r",
            name="inputs",
        )
        before = _table(run_experiment(exp, progress=False, cache_root=cache).rows)

        def hum_replaced():
            _noise(hum, 1)

        def recording_added():
            _manifest(tmp_path, ("goforward", "jfk", "cold"), rttm="ref.rttm")

        changes = [
            # (change, what the resume says, rows redone)
            (lambda: glm.write_text("meter => meters\n"), "synonyms file glm.txt changed", 6),
            (hum_replaced, "noise file hum.wav changed", 2),
            (recording_added, "babble talkers of goforward changed", 2),
            (lambda: rttm.write_text(rttm.read_text().replace("1.5", "2.5")), "rttm file", 9),
        ]
        for change, said, redone in changes:
            change()
            resumed = run_experiment(exp, progress=False, cache_root=cache)
            fresh = run_experiment(exp, fresh=True, progress=False, cache_root=cache)
            message = "; ".join(resumed.resumed.describe())
            assert said in message and f"{redone} rows redone" in message, message
            after = _table(resumed.rows)
            pd.testing.assert_frame_equal(after, _table(fresh.rows))
            if change is not recording_added:  # a new recording adds rows: not comparable
                assert not after.equals(before), said  # the edit moved numbers, or row digests
            before = after


def _failed_once(tmp_path, server, status: int):
    """One sample, one attempt per request, and the server's first answer is `status`: the
    experiment and its failure row."""
    exp = Experiment(
        dataset=_manifest(tmp_path, ("goforward",)),
        providers=(_openai(server, max_attempts=1),),
        workers=1,
        output=tmp_path / "r",
        name="failures",
    )
    server.inject(openai_fault(status))
    (first,) = run_experiment(exp, progress=False).rows
    assert first.status == "failed" and f"HTTP {status}" in first.error
    return exp, first


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with openai_server(_heard, api_key=KEY) as server:
        yield server


def test_a_transient_failure_is_sent_again_by_a_rerun(tmp_path, server):
    exp, first = _failed_once(tmp_path, server, 503)
    assert first.failure == "transient"
    again = run_experiment(exp, progress=False)
    assert [r.status for r in again.rows] == ["ok"] and len(server.requests) == 2
    assert again.rows[0].failure is None
    assert "1 failed cells tried again" in again.resumed.describe()


def test_a_permanent_failure_is_kept_until_retry_failed(tmp_path, server):
    exp, first = _failed_once(tmp_path, server, 401)
    assert first.failure == "permanent"
    again = run_experiment(exp, progress=False)
    assert again.rows == (first,) and len(server.requests) == 1  # nothing sent
    assert "--retry-failed" in again.resumed.describe()[0]
    listed = failures(rows_frame(again.rows)).to_dict("records")
    assert [(f["failure"], "HTTP 401" in f["error"]) for f in listed] == [("permanent", True)]
    retried = run(exp, retry_failed=True, progress=False)
    assert [r.status for r in retried.rows] == ["ok"] and len(server.requests) == 2


def _cli(*args, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "stt_eval.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        **kw,
    )


def _finished_run(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with openai_server(_heard, api_key=KEY) as server:
        exp = Experiment(
            dataset=_manifest(tmp_path),
            providers=(_openai(server),),
            workers=1,
            output=tmp_path / "r",
            name="strict",
        )
        return run(exp, progress=False)


def test_a_damaged_line_is_an_error_naming_it_and_a_torn_last_line_is_said(tmp_path, monkeypatch):
    result = _finished_run(tmp_path, monkeypatch)
    path = result.run_dir / ROWS_FILE
    lines = path.read_text().splitlines()
    path.write_text(lines[0] + "\n" + lines[1][:40])  # killed while writing the second row
    with pytest.warns(TornLineWarning, match=r"rows.jsonl: line 2 \(the last\) is cut short"):
        assert len(read_rows(result.run_dir)) == 1
    path.write_text(lines[0][:40] + "\n" + lines[1] + "\n")  # the first row damaged
    with pytest.raises(RunDirectoryError, match=r"rows.jsonl: line 1 of 2 is damaged"):
        read_rows(result.run_dir)
    done = _cli("report", str(result.run_dir))
    assert done.returncode == 1 and "rows.jsonl: line 1 of 2 is damaged" in done.stderr
    assert run_info(result.run_dir).status == "damaged"  # `stt-eval runs` still lists it


def _full_disk(limit: int):
    """A child process whose files cannot grow past `limit` bytes (writes fail as on a full
    disk, EFBIG instead of ENOSPC)."""

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return limited


def test_a_full_disk_leaves_reports_whole_or_absent_and_no_empty_lock(tmp_path, monkeypatch):
    result = _finished_run(tmp_path, monkeypatch)
    html = result.run_dir / REPORT_HTML
    whole = html.read_bytes()
    html.unlink()
    done = _cli("report", str(result.run_dir), preexec_fn=_full_disk(20_000))
    assert done.returncode == 1 and REPORT_HTML in done.stderr, done.stderr
    assert not html.exists() and len(whole) > 20_000
    assert not [p for p in result.run_dir.iterdir() if p.name.endswith(".tmp")]
    # a run that cannot write its LOCK leaves none behind
    toml = tmp_path / "e.toml"
    toml.write_text(f'dataset = "{tmp_path / "m.jsonl"}"\nproviders = ["pocketsphinx"]\n')
    done = _cli("run", str(toml), "--output", str(tmp_path / "o"), preexec_fn=_full_disk(0))
    assert done.returncode != 0
    assert not list((tmp_path / "o").rglob(LOCK_FILE)), done.stderr
    assert not list((tmp_path / "o").rglob("*.tmp"))


def test_row_warnings_reach_the_terminal_summary_and_the_exit_message(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    shutil.copy(SAMPLE / "audio" / FILES["goforward"][0], tmp_path / "a.flac")
    row = {"id": "a", "audio": "a.flac", "text": "go forward", "audio_url": "https://x/a.flac"}
    (tmp_path / "m.jsonl").write_text(json.dumps(row) + "\n")
    with openai_server(_heard, api_key=KEY) as server:
        (tmp_path / "e.toml").write_text(
            'dataset = "m.jsonl"\nconditions = ["clean", "noise(kind=white, snr_db=20)"]\n'
            f'providers = [{{ name = "openai", base_url = "{server.url}/v1" }}]\n'
        )
        assert main(["run", str(tmp_path / "e.toml"), "--output", str(tmp_path), "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert "Warnings (1 cells):" in out and "audio_url not used" in out
    assert "stt-eval: 1 of 2 cells carry a warning; read them under Warnings in" in err
    (run_dir,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    for name in ("summary.md", "report.md", REPORT_HTML):
        assert "audio_url not used" in (run_dir / name).read_text(), name


def test_resume_says_why_each_earlier_row_is_not_kept():
    def row(sid, **kw):
        kw = {"sample_digest": "d", "engine_version": "1", **kw}
        return flat_row("r", sid, "p", **kw)

    key = ("a", "p", "clean", "none", "none", "none", "mix")
    current = {key: {"recording a.wav": "1", "synonyms file glm.txt": "2"}}
    problem = row(
        "row3", status="failed", error="manifest row 3", failure="permanent", sample_digest=""
    )
    rows = [row("a"), row("gone"), problem]
    old = resume(rows, None, current, {"p": "1"})  # a run of an older stt-eval
    assert (old.kept, old.changed, old.removed) == ((), (UNRECORDED,), ("gone",))
    edited = {key: {"recording a.wav": "1", "synonyms file glm.txt": "0", "noise file n.wav": "3"}}
    said = resume(rows, edited, current, {"p": "1"}).describe()
    assert said[0] == "1 rows redone: synonyms file glm.txt changed; noise file n.wav removed"
    assert resume(rows, current, current, {"p": "2"}).outdated == ("p",)
    assert resume(rows, current, current, {"p": "1"}).kept == (rows[0],)


def test_two_checkouts_of_one_dataset_give_one_digest_and_an_edited_rttm_another(tmp_path):
    """compare matches rows by sample_digest: where the dataset sits must not change it."""
    from stt_eval.datasets.manifest import load_manifest
    from stt_eval.run.resume import sample_digest

    from .conftest import ROOT

    sample_dir = ROOT / "datasets" / "sample"
    row = next(
        line
        for line in (sample_dir / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
        if '"pyannote_sample"' in line
    )
    digests = []
    for name in ("a", "b", "edited"):
        d = tmp_path / name
        for part in (
            "audio/pyannote_sample.flac",
            "rttm/pyannote_sample.rttm",
            "stm/pyannote_sample.stm",
        ):
            (d / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(sample_dir / part, d / part)
        (d / "manifest.jsonl").write_text(row + "\n", encoding="utf-8")
        if name == "edited":  # one speaker turn moved by a second
            rttm = d / "rttm/pyannote_sample.rttm"
            first, *rest = rttm.read_text(encoding="utf-8").splitlines()
            fields = first.split()
            fields[3] = f"{float(fields[3]) + 1.0:.3f}"
            rttm.write_text("\n".join([" ".join(fields), *rest]) + "\n", encoding="utf-8")
        (sample,) = load_manifest(d / "manifest.jsonl").samples
        digests.append(sample_digest(sample))
    assert digests[0] == digests[1] != digests[2]
