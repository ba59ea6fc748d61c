"""Dask as users run it: a `dask scheduler` and two `dask worker --nthreads 1` processes on
127.0.0.1, the CI experiment sent to them with `--executor dask --scheduler tcp://…`. The rows
equal the local executor's, and the cluster transcribes exactly the windows the local run does;
a worker killed mid-run costs no row, and no window it finished is transcribed again, because
the cache is a path every worker writes to and reads from.

The experiment is experiments/ci.toml as CI runs it: both local engines, its three files, four
conditions, unchunked and 15 s windows with two merges, senko on the two-speaker file. Its
rows are the same on the cluster because faster-whisper's transcripts no longer depend on the
process (a window's sampling is seeded from its audio, and its features take one BLAS thread
where a Dask worker's OMP_NUM_THREADS=1 had changed the words)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import replace
from pathlib import Path

import pytest

from stt_eval.experiment import load_experiment
from stt_eval.run.directory import read_rows
from stt_eval.run.grid import run_experiment

from .conftest import ROOT
from .test_crash_resume import _entries

DASK = Path(sys.executable).parent / "dask"
CI = ROOT / "experiments" / "ci.toml"
ROWS = 72
"""3 files × 2 engines × 4 conditions × (unchunked, 15 s windows merged by timestamp, by text
alignment)."""
KILL_AFTER = 5
"""Cache entries written before a worker is killed: some windows finished, most not."""

TIMINGS = ("processing_s", "condition_s", "load_s", "latency_s", "rtfx", "diarization_s")
"""What may differ between two executors' rows: clocks, whether the cache served them, and
the run id (it names the dataset's path, which differs between the two folders)."""


def _grid(folder: Path) -> Path:
    """experiments/ci.toml with its dataset by absolute path and its output in `folder`."""
    text = CI.read_text(encoding="utf-8")
    for key, value in (
        ("dataset", f'"{ROOT / "datasets/sample/manifest.jsonl"}"'),
        ("output", '"results"'),
    ):
        text, n = re.subn(rf"(?m)^{key} = .*$", f"{key} = {value}", text)
        assert n == 1, f"experiments/ci.toml has no single '{key} = …' line to replace"
    (folder / "e.toml").write_text(text, encoding="utf-8")
    return folder / "e.toml"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(stack: ExitStack, args: list[str], cwd: Path) -> subprocess.Popen:
    """A process in its own session, ended (its whole group) when `stack` closes."""
    proc = subprocess.Popen(
        [str(DASK), *args],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    stack.callback(_end, proc)
    return proc


def _end(proc: subprocess.Popen) -> None:
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    with suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)


def _cluster(stack: ExitStack, folder: Path) -> tuple[str, list[subprocess.Popen]]:
    """A scheduler and two single-threaded workers on loopback, started in another directory
    than the run's (they see the run's files only by their absolute paths)."""
    from distributed import Client

    port, cwd = _free_port(), folder / "elsewhere"
    cwd.mkdir()
    address = f"tcp://127.0.0.1:{port}"
    _start(stack, ["scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], cwd)
    workers = [
        _start(
            stack,
            [
                "worker",
                address,
                "--nthreads",
                "1",
                "--host",
                "127.0.0.1",
                "--no-dashboard",
                "--name",
                f"w{i}",
            ],
            cwd,
        )
        for i in (1, 2)
    ]
    with Client(address, timeout=60) as client:
        client.wait_for_workers(2, timeout=120)
    return address, workers


def _rows(run_dir: Path) -> list[dict]:
    rows = [
        {k: v for k, v in r.columns().items() if k not in (*TIMINGS, "cached", "run_id")}
        for r in read_rows(run_dir)
    ]
    return sorted(rows, key=lambda r: (r["sample_id"], r["condition"]))


@contextmanager
def _run_on_cluster(folder: Path) -> Iterator[tuple[subprocess.Popen, list, Path]]:
    """`stt-eval run` of the grid sent to a fresh cluster (the run, its workers, the cache it
    shares with them); every process is ended on leaving."""
    pytest.importorskip("distributed")
    toml, cache = _grid(folder), folder / "cache"
    cmd = [sys.executable, "-m", "stt_eval.cli", "run", str(toml), "--quiet"]
    with ExitStack() as stack:
        address, workers = _cluster(stack, folder)
        run = subprocess.Popen(
            [*cmd, "--executor", "dask", "--scheduler", address],
            env={**os.environ, "STT_EVAL_CACHE": str(cache)},
            stdout=subprocess.DEVNULL,
            stderr=stack.enter_context((folder / "stderr.txt").open("wb")),
            start_new_session=True,
        )
        stack.callback(_end, run)
        yield run, workers, cache


def _ended(run: subprocess.Popen, folder: Path) -> None:
    """Wait for the run to end well (its stderr's tail in the message if it does not)."""
    status = run.wait(timeout=1800)  # a shared CI box can be slow
    assert status == 0, (folder / "stderr.txt").read_text(errors="replace")[-2000:]


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    """The local executor's rows (one worker) and the windows it transcribed: the names of the
    cache entries it wrote (one per window, diarization and condition an engine heard)."""
    folder = tmp_path_factory.mktemp("local")
    exp = replace(load_experiment(_grid(folder)), workers=1)
    run_dir = run_experiment(exp, progress=False, cache_root=folder / "cache").run_dir
    return _rows(run_dir), set(_entries(folder / "cache"))


@pytest.mark.slow
def test_a_scheduler_and_two_workers_give_the_local_rows(tmp_path, local):
    rows, windows = local
    with _run_on_cluster(tmp_path) as (run, _, cache):
        _ended(run, tmp_path)
    assert _rows(next((tmp_path / "results").iterdir())) == rows and len(rows) == ROWS
    assert set(_entries(cache)) == windows  # the workers wrote to the cache path the run gave


@pytest.mark.slow
def test_a_worker_killed_mid_run_costs_no_row_and_no_finished_window(tmp_path, local):
    rows, windows = local
    with _run_on_cluster(tmp_path) as (run, workers, cache):
        deadline = time.time() + 900
        while not (cache / "transcripts").exists() or len(_entries(cache)) < KILL_AFTER:
            assert run.poll() is None and time.time() < deadline, "the run ended before the kill"
            time.sleep(0.05)
        finished = _entries(cache)
        _end(workers[0])  # the worker's host goes away: nanny and worker alike
        assert len(finished) < len(windows), "every window was done before the kill"
        _ended(run, tmp_path)
    assert _rows(next((tmp_path / "results").iterdir())) == rows
    after = _entries(cache)
    assert [k for k, mtime in finished.items() if after[k] != mtime] == [], (
        "a window finished before the kill was transcribed again"
    )
    assert set(after) == windows
