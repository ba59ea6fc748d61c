"""Runs that are edited, doubled, emptied or killed: one writer per run, rows tied to the content
they were computed from, workers that die with their run, and a kill -9 at random points that
resumes to the table of an uninterrupted run without transcribing a finished unit again."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from stt_eval.experiment import Experiment, ExperimentError, ProviderSpec
from stt_eval.run.directory import LOCK_FILE, RunLock, RunLocked, read_rows
from stt_eval.run.grid import run_experiment

from .conftest import SAMPLE

FILES = {
    "goforward": ("pocketsphinx_goforward.flac", "go forward ten meters"),
    "jfk": ("whisper_jfk.flac", "and so my fellow americans ask not what your country can do"),
}


def _dataset(folder: Path, texts: dict[str, str] | None = None) -> Path:
    rows = []
    for sid, (name, text) in FILES.items():
        if texts is not None and sid not in texts:
            continue
        shutil.copy(SAMPLE / "audio" / name, folder / name)
        rows.append({"id": sid, "audio": name, "text": (texts or {}).get(sid, text)})
    (folder / "m.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder / "m.jsonl"


def _exp(manifest: Path, out: Path, **kw) -> Experiment:
    kw = {"workers": 1, **kw}
    return Experiment(
        dataset=manifest, providers=(ProviderSpec("pocketsphinx"),), output=out, name="c", **kw
    )


@pytest.mark.slow
def test_an_edited_reference_is_scored_again_and_a_removed_sample_dropped(tmp_path):
    out = tmp_path / "results"
    first = run_experiment(_exp(_dataset(tmp_path), out), progress=False, cache_root=tmp_path)
    assert {r.identity.sample_id: r.columns()["ref_words"] for r in first.rows} == {
        "goforward": 4,
        "jfk": 12,
    }
    # fix jfk's reference, drop goforward: same experiment file, same run id
    manifest = _dataset(tmp_path, {"jfk": "and so my fellow americans"})
    again = run_experiment(_exp(manifest, out), progress=False, cache_root=tmp_path)
    assert again.run_dir == first.run_dir
    assert [(r.identity.sample_id, r.columns()["ref_words"]) for r in again.rows] == [("jfk", 5)]
    assert again.resumed.changed == ("reference text of jfk changed",)
    assert again.resumed.removed == ("goforward",)
    assert [(r.identity.sample_id, r.columns()["ref_words"]) for r in read_rows(again.run_dir)] == [
        ("jfk", 5)
    ]
    assert again.rows[0].measurement.cached  # the audio did not change: the transcript is reused


def test_a_second_writer_is_refused_while_the_first_lives(tmp_path):
    (tmp_path / LOCK_FILE).write_text(
        json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()})
    )
    with pytest.raises(RunLocked, match=rf"PID {os.getpid()} on .*delete .*{LOCK_FILE}"):
        RunLock(tmp_path).__enter__()


def test_a_lock_left_by_a_dead_process_is_taken_over(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    owner = {"pid": dead.pid, "host": socket.gethostname(), "started": 0}
    (tmp_path / LOCK_FILE).write_text(json.dumps(owner))
    with RunLock(tmp_path) as lock:
        assert lock.taken_over == owner
        assert json.loads((tmp_path / LOCK_FILE).read_text())["pid"] == os.getpid()
    assert not (tmp_path / LOCK_FILE).exists()


def test_an_empty_manifest_or_a_filter_matching_nothing_is_named(tmp_path):
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(ValueError, match=r"empty.jsonl: has no rows .*add one row"):
        run_experiment(_exp(tmp_path / "empty.jsonl", tmp_path / "r"), progress=False)
    manifest = _dataset(tmp_path)
    with pytest.raises(ExperimentError, match=r"match none of the 2 samples .*goforward"):
        run_experiment(_exp(manifest, tmp_path / "r", ids=("nope",)), progress=False)
    with pytest.raises(ExperimentError, match=r"select \{'channel': 'phone'\}"):
        run_experiment(_exp(manifest, tmp_path / "r", select={"channel": "phone"}), progress=False)


# --------------------------------------------------------------------------- kill -9


def _grid(folder: Path) -> Path:
    rows = []
    for name in (
        "pocketsphinx_goforward.flac",
        "whisper_jfk.flac",
        "mfa_cold_corpus.flac",
        "mfa_acoustic_corpus.flac",
    ):
        shutil.copy(SAMPLE / "audio" / name, folder / name)
        text = {
            r["audio"].split("/")[-1]: r["text"]
            for r in map(json.loads, (SAMPLE / "manifest.jsonl").read_text().splitlines())
        }[name]  # noqa: E501
        rows.append({"id": name.split(".")[0], "audio": name, "text": text})
    (folder / "m.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (folder / "e.toml").write_text(
        'dataset = "m.jsonl"\nproviders = ["pocketsphinx"]\nworkers = 2\n'
        'conditions = ["clean", "noise(kind=white, snr_db=10)", "telephony(codec=ulaw)"]\n'
        'output = "results"\n'
    )
    return folder / "e.toml"


def _run(toml: Path, cache: Path) -> subprocess.Popen:
    env = {**os.environ, "STT_EVAL_CACHE": str(cache)}
    # SIGINT's default action in the run: a test launched in the background (`cmd &` in a
    # script) inherits it ignored, and Python keeps an ignored SIGINT ignored
    return subprocess.Popen(
        [sys.executable, "-m", "stt_eval.cli", "run", str(toml), "--quiet"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _left_behind(marker: str) -> list[int]:
    """Processes still running whose command line or environment mentions `marker`."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            environ = (proc / "environ").read_bytes()
        except OSError:
            continue
        if marker.encode() in environ:
            pids.append(int(proc.name))
    return pids


def _entries(cache: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in (cache / "transcripts").rglob("*.json")}


def _table(run_dir: Path) -> pd.DataFrame:
    cols = ["sample_id", "condition", "hits", "subs", "dels", "ins", "ref_words", "hypothesis"]
    rows = [{c: r.columns()[c] for c in cols} for r in read_rows(run_dir)]
    return pd.DataFrame(rows, columns=cols).sort_values(cols[:2]).reset_index(drop=True)


@pytest.mark.slow
def test_kill_9_at_random_points_resumes_to_the_uninterrupted_table(tmp_path):
    rng = random.Random(7)
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    for folder in (whole, killed):
        folder.mkdir()
    reference_toml = _grid(whole)
    assert _run(reference_toml, whole / "cache").wait(timeout=300) == 0
    expected = _table(next((whole / "results").iterdir()))

    toml, cache = _grid(killed), killed / "cache"
    for point in range(10):
        before = _entries(cache) if (cache / "transcripts").exists() else {}
        proc = _run(toml, cache)
        time.sleep(rng.uniform(1.0, 6.0))
        os.killpg(proc.pid, signal.SIGKILL) if point % 2 else proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        deadline = time.time() + 5
        while _left_behind(str(cache)) and time.time() < deadline:
            time.sleep(0.2)
        assert _left_behind(str(cache)) == [], f"workers outlived the run killed at point {point}"
        after = _entries(cache)
        rewritten = [k for k, mtime in before.items() if after.get(k) != mtime]
        assert rewritten == [], "a finished unit was transcribed again"
    assert _run(toml, cache).wait(timeout=300) == 0
    pd.testing.assert_frame_equal(_table(next((killed / "results").iterdir())), expected)


@pytest.mark.slow
def test_ctrl_c_stops_at_once_and_leaves_a_resumable_run(tmp_path):
    toml, cache = _grid(tmp_path), tmp_path / "cache"
    proc = _run(toml, cache)
    deadline = time.time() + 120  # interrupt once the first row is written: mid-run, not by a clock
    while time.time() < deadline and not any(map(read_rows, (tmp_path / "results").glob("*"))):
        time.sleep(0.05)
    run_dir = next((tmp_path / "results").iterdir())
    started = time.time()
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 130 and time.time() - started < 30
    assert 0 < len(read_rows(run_dir)) < 12  # it was stopped mid-run
    assert not (run_dir / LOCK_FILE).exists()
    deadline = time.time() + 5
    while _left_behind(str(cache)) and time.time() < deadline:
        time.sleep(0.2)
    assert _left_behind(str(cache)) == []
    assert _run(toml, cache).wait(timeout=300) == 0
    assert len(read_rows(run_dir)) == 12


@pytest.mark.slow
def test_dask_local_cluster_gives_the_local_table(tmp_path):
    pytest.importorskip("distributed")
    manifest = _dataset(tmp_path)
    local = run_experiment(_exp(manifest, tmp_path / "a"), progress=False, cache_root=None)
    on_dask = run_experiment(
        _exp(manifest, tmp_path / "b", executor="dask", workers=2),
        progress=False,
        cache_root=None,
    )
    cols = ["sample_id", "hits", "subs", "dels", "ins", "ref_words", "hypothesis"]

    def table(rows):
        return sorted(tuple(r.columns()[c] for c in cols) for r in rows)

    assert table(on_dask.rows) == table(local.rows) and len(local.rows) == 2


@pytest.mark.slow
def test_kill_9_never_sends_a_finished_unit_twice_to_a_paid_provider(tmp_path):
    """The loopback provider's log: after SIGKILLs at random points and a resume, a unit is sent
    again only if its first request was still in flight (or just answered) when the run died."""
    import hashlib
    import threading

    from stt_eval.testing.openai import openai_server
    from stt_eval.types import Transcript, Word

    log: list[tuple[str, float, float]] = []
    lock = threading.Lock()

    def model(audio: bytes, request) -> Transcript:
        start = time.time()
        time.sleep(0.3)
        with lock:
            log.append((hashlib.sha256(audio).hexdigest(), start, time.time()))
        return Transcript("ask not", (Word("ask", 0.1, 0.4, 0.9), Word("not", 0.4, 0.7, 0.9)))

    toml, cache = _grid(tmp_path), tmp_path / "cache"
    rng, kills = random.Random(3), []
    with openai_server(model, api_key="sk-kill") as server:
        text = toml.read_text().replace(
            'providers = ["pocketsphinx"]',
            f'providers = [{{ name = "openai", base_url = "{server.url}/v1", min_wait_s = 0.0 }}]',
        )
        toml.write_text(text + "http_workers = 4\n")
        env = {**os.environ, "OPENAI_API_KEY": "sk-kill", "STT_EVAL_CACHE": str(cache)}
        for _ in range(4):
            proc = subprocess.Popen(
                [sys.executable, "-m", "stt_eval.cli", "run", str(toml), "--quiet"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            time.sleep(rng.uniform(0.8, 2.5))
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            kills.append(time.time())
        final = subprocess.run(
            [sys.executable, "-m", "stt_eval.cli", "run", str(toml), "--quiet"],
            env=env,
            capture_output=True,
            timeout=300,
        )
        assert final.returncode == 0, final.stderr[-500:]
    assert len(read_rows(next((tmp_path / "results").iterdir()))) == 12
    first_seen: dict[str, tuple[float, float]] = {}
    for digest, start, end in sorted(log, key=lambda e: e[1]):
        if digest in first_seen:
            _, done = first_seen[digest]
            assert any(k - 1.0 < done < k + 1.0 for k in kills), (
                "a unit answered well before any kill was sent again"
            )
        else:
            first_seen[digest] = (start, end)
    assert len(first_seen) == 12  # every unit answered at least once


@pytest.mark.slow
def test_an_engine_upgrade_redoes_rows_and_misses_the_cache(tmp_path, monkeypatch):
    """A new engine version must not silently reuse rows or transcripts made by the old one."""
    import stt_eval.providers.pocketsphinx as ps

    manifest = _dataset(tmp_path, {"goforward": "go forward ten meters"})
    first = run_experiment(_exp(manifest, tmp_path / "r"), progress=False, cache_root=tmp_path)
    real = ps.metadata.version
    monkeypatch.setattr(
        ps.metadata, "version", lambda name: "99.0" if name == "pocketsphinx" else real(name)
    )
    again = run_experiment(_exp(manifest, tmp_path / "r"), progress=False, cache_root=tmp_path)
    assert again.resumed.outdated == ("pocketsphinx",) and not again.resumed.kept
    (row,) = again.rows
    assert (
        row.provenance.engine_version == "99.0" and not row.measurement.cached
    )  # a new cache key: transcribed again
    assert first.rows[0].provenance.engine_version != "99.0"
