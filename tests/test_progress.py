"""The progress line before and during a run: what it waits for, in order, and an ETA that
waits for a few windows per engine and weighs them by audio seconds. Expected values are
worked out by hand in the comments."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from stt_eval.run.progress import EngineWork, Progress, duration_text, eta_s
from stt_eval.types import UnitDone

from .conftest import SAMPLE


def test_no_eta_until_every_engine_with_audio_left_has_a_few_windows():
    left = {"whisper": 60.0, "sphinx": 60.0}
    two = {"whisper": EngineWork(2, 20.0, 10.0), "sphinx": EngineWork(5, 50.0, 5.0)}
    assert eta_s(two, left, working_s=15.0) is None  # whisper has 2 of the 3 it needs
    three = {**two, "whisper": EngineWork(3, 30.0, 15.0)}
    assert eta_s(three, left, working_s=20.0) is not None
    # an engine with nothing left does not hold the estimate back
    assert eta_s(two, {"whisper": 0.0, "sphinx": 60.0}, working_s=15.0) is not None
    assert eta_s({}, {"whisper": 0.0}, working_s=1.0) == 0.0


def test_eta_weighs_windows_by_audio_seconds_and_engine_speed():
    # whisper: 0.5 engine s per audio s; sphinx: 0.1. Left: 60 s and 100 s of audio → 30 + 10
    # = 40 engine s. So far 15 + 5 = 20 engine s took 10 wall s (two workers) → 20 s left.
    done = {"whisper": EngineWork(3, 30.0, 15.0), "sphinx": EngineWork(4, 50.0, 5.0)}
    assert eta_s(done, {"whisper": 60.0, "sphinx": 100.0}, working_s=10.0) == pytest.approx(20.0)
    # a 1-s window and a 30-s one are not the same work: counting windows would say 3 more
    # windows like the 3 done; by audio it is 3 s of audio at 0.5 → 1.5 engine s
    short_left = eta_s({"whisper": EngineWork(3, 90.0, 45.0)}, {"whisper": 3.0}, working_s=45.0)
    assert short_left == pytest.approx(1.5)


def test_cached_windows_shorten_what_is_left_but_say_nothing_of_speed():
    bar = Progress([("whisper", 10.0)] * 6, "t", enabled=False)
    for cached in (True, True, True):
        bar.unit(UnitDone("whisper", cached, 1, None, audio_s=10.0, busy_s=4.0))
    assert bar.left == {"whisper": 30.0} and "whisper" not in bar.done and bar.eta() is None
    for _ in range(3):
        bar.unit(UnitDone("whisper", False, 1, None, audio_s=10.0, busy_s=4.0))
    assert bar.done["whisper"] == EngineWork(3, 30.0, 12.0) and bar.eta() == 0.0


def test_durations_read_as_a_person_says_them():
    assert [duration_text(s) for s in (4.4, 59.6, 190, 5580)] == [
        "4 s",
        "1 min 00 s",
        "3 min 10 s",
        "1 h 33 min",
    ]


def _stderr_states(stderr: str) -> list[str]:
    """Each state the progress line showed, in order (tqdm redraws with \\r)."""
    return [s.strip() for s in stderr.replace("\r", "\n").splitlines() if s.strip()]


@pytest.mark.slow
def test_the_progress_line_says_what_it_loads_before_the_first_window(tmp_path):
    name = "pocketsphinx_goforward.flac"
    shutil.copy(SAMPLE / "audio" / name, tmp_path / name)
    row = {"id": "goforward", "audio": name, "text": "go forward ten meters"}
    (tmp_path / "m.jsonl").write_text(json.dumps(row) + "\n")
    (tmp_path / "e.toml").write_text(
        'name = "p"\ndataset = "m.jsonl"\nproviders = ["pocketsphinx"]\noutput = "results"\n'
    )
    env = {**os.environ, "STT_EVAL_CACHE": str(tmp_path / "cache")}  # empty: the model loads
    run = subprocess.run(
        [sys.executable, "-m", "stt_eval.cli", "run", str(tmp_path / "e.toml"), "--workers", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    states = _stderr_states(run.stderr)
    first = next(i for i, s in enumerate(states) if s.startswith("plan: pocketsphinx"))
    loading = next(i for i, s in enumerate(states) if "— loading pocketsphinx (" in s)
    window = next(i for i, s in enumerate(states) if "1/1 [" in s)
    assert first < loading < window, states
    assert "0/1 [" in states[loading]  # nothing was transcribed while it loaded
    assert states[-1].startswith("report: ") and Path(states[-1].split()[1]).exists()
