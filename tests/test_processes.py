"""A run in its default mode (progress bar, two worker processes) leaves no process behind:
not when SIGKILL hits it at any of five points of its life, and not when SIGTERM ends it —
which it does as Ctrl-C does, with a message, exit status 143 and its LOCK released."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from contextlib import suppress
from pathlib import Path

import pytest

from stt_eval.run.directory import LOCK_FILE, read_rows

from .test_crash_resume import _grid, _left_behind

POINTS = {
    "planning": lambda err, run: "plan: " in err,
    "starting workers": lambda err, run: "starting 2 worker processes" in err,
    "loading a model": lambda err, run: "— loading pocketsphinx" in err,
    "first window": lambda err, run: re.search(r" [1-9]\d*/\d+ \[", err) is not None,
    "first row": lambda err, run: any(map(read_rows, run.glob("results/*"))),
}
"""Where the kill lands: the first moment each of these holds (stderr so far, run folder)."""


class _Run:
    """A default-mode `stt-eval run` in its own session, its stderr collected as it comes."""

    def __init__(self, toml: Path, cache: Path) -> None:
        env = {**os.environ, "STT_EVAL_CACHE": str(cache)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "stt_eval.cli", "run", str(toml)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self.err = ""
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for chunk in iter(lambda: os.read(self.proc.stderr.fileno(), 4096), b""):
            self.err += chunk.decode(errors="replace")

    def end(self) -> None:
        """Whatever is left of the run's session ends here (a failed test leaves nothing)."""
        with suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)

    def wait_for(self, point, folder: Path, timeout: float = 180.0) -> None:
        deadline = time.time() + timeout
        while not point(self.err, folder):
            assert self.proc.poll() is None, f"the run ended first: {self.err[-1000:]}"
            assert time.time() < deadline, f"never reached: {self.err[-1000:]}"
            time.sleep(0.02)


def _in_group(pgid: int) -> list[int]:
    """Live processes of the process group `pgid` (the run's session), from /proc; zombies
    hold nothing and wait for this machine's init to reap them."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            pids.append(int(stat.parent.name))
    return pids


def _left(run: _Run, cache: Path) -> list[int]:
    """What of the run is still alive after a few seconds (the kernel's parent-death signal
    and the workers' own watch need a moment)."""
    deadline = time.time() + 10
    while time.time() < deadline:
        left = sorted(set(_in_group(run.proc.pid)) | set(_left_behind(str(cache))))
        if not left:
            return []
        time.sleep(0.2)
    return left


@pytest.mark.slow
@pytest.mark.parametrize("point", list(POINTS))
def test_sigkill_of_a_default_mode_run_leaves_no_process(tmp_path, point):
    toml, cache = _grid(tmp_path), tmp_path / "cache"  # an empty cache: the models load
    run = _Run(toml, cache)
    try:
        run.wait_for(POINTS[point], tmp_path)
        run.proc.send_signal(signal.SIGKILL)  # the run only: its children must follow it
        run.proc.wait(timeout=30)
        assert _left(run, cache) == [], f"left behind after SIGKILL at {point}: {run.err[-500:]}"
    finally:
        run.end()


@pytest.mark.slow
def test_sigterm_ends_a_run_as_ctrl_c_does(tmp_path):
    toml, cache = _grid(tmp_path), tmp_path / "cache"
    run = _Run(toml, cache)
    try:
        run.wait_for(POINTS["first row"], tmp_path)
        run.proc.send_signal(signal.SIGTERM)
        assert run.proc.wait(timeout=60) == 143
        time.sleep(0.2)  # the reader thread takes the last line
        assert "terminated (SIGTERM); rows written so far are kept" in run.err
        run_dir = next((tmp_path / "results").iterdir())
        assert not (run_dir / LOCK_FILE).exists()
        assert 0 < len(read_rows(run_dir)) < 12
        assert _left(run, cache) == []
    finally:
        run.end()
