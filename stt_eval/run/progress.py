"""Progress a person can trust: one tick per transcribed window (not per cell); before the
first window, what the run waits for (worker processes starting, a model loading, and for how
long); an ETA only once every engine has finished a few windows, weighing them by audio
seconds; how many were served from the cache, sent, retried and failed, and the price so far."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tqdm import tqdm

from stt_eval.chunking import parse_chunking, plan_windows
from stt_eval.pipeline.cell import Cell
from stt_eval.pipeline.prepare import sent_seconds
from stt_eval.pipeline.recording import RecordingJob
from stt_eval.rows import ResultRow
from stt_eval.types import Activity, UnitDone

MIN_WINDOWS = 3
"""Finished windows an engine needs before its speed is extrapolated (the first ones are
the slowest: caches cold, other workers still loading)."""

STARTING = "starting"
"""The Activity a worker process reports once it has started (its imports done)."""

BAR_FORMAT = "{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}{postfix}]"
"""tqdm's line without its own rate and remaining time (windows differ too much for them)."""


def window_seconds(duration: float, chunking: str) -> list[float]:
    """The lengths of the windows one cell sends for a recording of `duration` seconds (fixed
    planning; VAD planning moves the cuts, not their number); none when the length is unknown."""
    setting = parse_chunking(chunking)
    if not duration:
        return []
    return [w.duration_s for w in plan_windows(duration, setting.chunk_s, setting.overlap_s)]


def streams_sent(job: RecordingJob, cell: Cell) -> int:
    """How many streams a cell sends: one per channel or track under ``split``, else one."""
    return len(job.sample.stream_speakers) if cell.channel_mode == "split" else 1


def job_windows(job: RecordingJob) -> list[tuple[str, float]]:
    """Every window a job ticks (each cell's, cache hits included), as (provider label, audio
    seconds); a recording of unknown length is one window of 0 s."""
    duration = sent_seconds(job.sample)
    return [
        (cell.provider.label, seconds)
        for cell in job.cells
        for seconds in (window_seconds(duration, cell.chunking) or [0.0]) * streams_sent(job, cell)
    ]


@dataclass(frozen=True)
class EngineWork:
    """Windows an engine computed (not served from the cache): how many, their audio seconds
    and the engine seconds they took."""

    windows: int = 0
    audio_s: float = 0.0
    busy_s: float = 0.0

    def __add__(self, other: EngineWork) -> EngineWork:
        return EngineWork(
            self.windows + other.windows, self.audio_s + other.audio_s, self.busy_s + other.busy_s
        )


def eta_s(
    done: Mapping[str, EngineWork],
    left_audio_s: Mapping[str, float],
    working_s: float,
    min_windows: int = MIN_WINDOWS,
) -> float | None:
    """Seconds left: each engine's audio still to do at the engine seconds per audio second its
    finished windows took, times the wall seconds the run has spent per engine second so far
    (`working_s`: wall time without starting workers and loading models; this covers the
    parallel workers and the work around the engines). None until every engine with audio
    left has `min_windows` computed windows."""
    left = {engine: s for engine, s in left_audio_s.items() if s > 0}
    if not left:
        return 0.0
    if any(done.get(e, EngineWork()).windows < min_windows for e in left):
        return None
    busy = sum(w.busy_s for w in done.values())
    if busy <= 0 or working_s <= 0 or any(done[e].audio_s <= 0 for e in left):
        return None
    work_left = sum(s * done[e].busy_s / done[e].audio_s for e, s in left.items())
    return work_left * working_s / busy


def duration_text(seconds: float) -> str:
    """``45 s``, ``3 min 10 s``, ``1 h 05 min``."""
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


class Progress:
    """A tqdm bar over windows; what the run waits for rides in its description, the ETA and
    counts in its postfix."""

    def __init__(
        self, windows: Sequence[tuple[str, float]], desc: str, enabled: bool = True
    ) -> None:
        self.cached = self.sent = self.retried = self.failed = 0
        self.cost = 0.0
        self.desc = desc
        self.left: dict[str, float] = {}
        for engine, seconds in windows:
            self.left[engine] = self.left.get(engine, 0.0) + seconds
        self.done: dict[str, EngineWork] = {}
        self.workers, self.ready, self.setup_s = 1, 0, 0.0
        self.waiting: dict[tuple[int, str], float] = {}  # (worker, what) → when it began
        self.names: dict[int, str] = {}
        self.started = time.monotonic()
        self.end_at: float | None = None
        self.bar = tqdm(
            total=len(windows),
            unit="window",
            desc=desc,
            file=sys.stderr,
            disable=not enabled or not windows,
            bar_format=BAR_FORMAT,
        )
        self._postfix(refresh=False)

    def starting(self, workers: int) -> None:
        """A pool of `workers` processes is being started (each imports stt-eval first)."""
        self.workers = workers
        self.waiting[(0, STARTING)] = time.monotonic()
        self._describe()

    def event(self, event: UnitDone | Activity) -> None:
        """One event from a worker: a window done, or an activity begun or ended."""
        if isinstance(event, UnitDone):
            self.unit(event)
        elif event.what == STARTING:
            self.ready += 1
            self.setup_s += event.seconds or 0.0
            if self.ready >= self.workers:
                self.waiting.pop((0, STARTING), None)
            self._describe()
        elif event.seconds is None:
            self.waiting[(event.worker, event.what)] = time.monotonic()
            self._describe()
        else:
            self.waiting.pop((event.worker, event.what), None)
            self.setup_s += event.seconds
            self._describe()

    def unit(self, event: UnitDone) -> None:
        if event.cached:
            self.cached += 1
        else:
            self.sent += 1
            self.retried += event.retries
            self.cost += event.cost_usd or 0.0
            work = EngineWork(1, event.audio_s, event.busy_s)
            self.done[event.provider] = self.done.get(event.provider, EngineWork()) + work
        self.left[event.provider] = self.left.get(event.provider, 0.0) - event.audio_s
        self._estimate()
        self._postfix(refresh=False)
        self.bar.update(1)

    def job_done(self, job: RecordingJob, rows: Sequence[ResultRow]) -> None:
        """A whole job finished where no window events come back (Dask): tick its windows,
        and count its cells as cached or computed (their engine time feeds the ETA)."""
        for row in rows:
            m, provider = row.measurement, row.identity.provider
            if row.status == "ok" and m.cached:
                self.cached += 1
            elif row.status == "ok":
                self.sent += 1
                work = EngineWork(1, m.audio_s, m.processing_s or 0.0)
                self.done[provider] = self.done.get(provider, EngineWork()) + work
        for engine, seconds in job_windows(job):
            self.left[engine] = self.left.get(engine, 0.0) - seconds
        self._estimate()
        self._postfix(refresh=False)
        self.bar.update(len(job_windows(job)))

    def rows(self, rows: Sequence[ResultRow]) -> None:
        self.failed += sum(r.status == "failed" for r in rows)
        self._postfix()

    def tick(self) -> None:
        """Refresh the clocks on the line (how long a model has been loading, the ETA)."""
        if self.waiting:
            self._describe()
        self._postfix()

    def eta(self) -> float | None:
        """Seconds left, from :func:`eta_s` (None until every engine has a few windows)."""
        setup = self.setup_s / max(1, self.workers)
        return eta_s(self.done, self.left, time.monotonic() - self.started - setup)

    def _estimate(self) -> None:
        """Re-estimate when a window finishes; between windows the line counts down (a rate
        re-read every poll would climb while a long window runs)."""
        eta = self.eta()
        self.end_at = None if eta is None else time.monotonic() + eta

    def _name(self, worker: int) -> str:
        if worker in (0, os.getpid()):
            return ""
        return self.names.setdefault(worker, f"worker {len(self.names) + 1}")

    def _what(self, worker: int, what: str) -> str:
        if (worker, what) != (0, STARTING):
            return what
        if not self.ready:
            return f"starting {self.workers} worker processes"
        return f"starting worker processes: {self.ready} of {self.workers} ready"

    def _describe(self) -> None:
        now, by_what = time.monotonic(), {}
        for (w, what), t in self.waiting.items():  # one entry for what several workers do
            since = " ".join(filter(None, (self._name(w), duration_text(now - t))))
            by_what.setdefault(self._what(w, what), []).append(since)
        doing = [f"{what} ({', '.join(times)})" for what, times in by_what.items()]
        text = " — ".join([self.desc, "; ".join(doing)]) if doing else self.desc
        if text != getattr(self.bar, "desc", None):  # whole seconds: redrawn at most once a second
            self.bar.set_description_str(text)

    def _postfix(self, refresh: bool = True) -> None:
        eta = None if self.end_at is None else max(0.0, self.end_at - time.monotonic())
        parts: dict[str, Any] = {
            "cached": self.cached,
            "sent": self.sent,
            "retried": self.retried,
            "failed": self.failed,
        }
        if self.cost:
            parts["cost"] = f"${self.cost:.2f}"
        counts = ", ".join(f"{k}={v}" for k, v in parts.items())
        if eta is None:
            left = f"ETA after {MIN_WINDOWS} windows per engine"
        else:
            left = f"ETA {duration_text(eta)}"
        if f"{left}, {counts}" != getattr(self.bar, "postfix", None):
            self.bar.set_postfix_str(f"{left}, {counts}", refresh=refresh)

    def close(self) -> None:
        self.bar.close()
