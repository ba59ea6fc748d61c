"""Window planning: where to cut a recording into overlapping windows (fixed grid or VAD seams).

Plans need only the recording's duration and, for the VAD planner, a way to read a few
seconds around each seam and find the pauses in them. Both come in as callables, so the same
planner serves a clip in memory (``clip.slice``) and a multi-hour file on disk
(``AudioFile.read``), and no engine is imported here: the pipeline injects the silence finder
(``stt_eval.audio.vad.speech_silences``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from stt_eval.audio.load import AudioClip
from stt_eval.chunking.settings import ChunkingError, ChunkSetting, check_window
from stt_eval.types import Chunk

_EPS = 1e-6
"""Seconds below which two times are the same (well under one sample at 16 kHz)."""

ReadAudio = Callable[[float, float], AudioClip]
"""``read(start_s, end_s)``: the normalized 16 kHz clip of that span of the recording."""
FindSilences = Callable[[AudioClip], Sequence[tuple[float, float]]]
"""``find_silences(clip)``: the non-speech intervals of a clip, in seconds from its start."""


def _check_duration(duration_s: float) -> None:
    if not isinstance(duration_s, (int, float)) or not math.isfinite(duration_s) or duration_s <= 0:
        raise ChunkingError(f"recording duration must be > 0 seconds, got {duration_s!r}")


def _windows_from_edges(edges: Sequence[tuple[float, float]], sample_id: str) -> list[Chunk]:
    return [Chunk(sample_id, i, a, b - a) for i, (a, b) in enumerate(edges)]


def plan_windows(
    duration_s: float, chunk_s: float | None, overlap_s: float = 0.0, sample_id: str = ""
) -> list[Chunk]:
    """Fixed windows of ``chunk_s`` every ``chunk_s - overlap_s`` seconds covering [0, duration].

    The last window ends at the duration; no window starts once the previous one reaches the
    end, and the last is never shorter than half a chunk (see ``_balance_tail``).
    ``chunk_s=None`` (or a chunk longer than the recording) gives one window.

    >>> [(c.offset_s, c.end_s) for c in plan_windows(80, 30, 2)]
    [(0.0, 30.0), (28.0, 58.0), (56.0, 80.0)]
    >>> [(c.offset_s, c.end_s) for c in plan_windows(70, 30, 2)]
    [(0.0, 30.0), (28.0, 50.0), (48.0, 70.0)]
    """
    _check_duration(duration_s)
    if chunk_s is None:
        return [Chunk(sample_id, 0, 0.0, float(duration_s))]
    check_window(chunk_s, overlap_s)
    step = chunk_s - overlap_s
    edges: list[tuple[float, float]] = []
    i = 0
    while True:
        start = i * step  # multiply, don't accumulate: no drift over thousands of windows
        end = start + chunk_s
        if end >= duration_s - _EPS:
            edges.append((float(start), float(duration_s)))
            break
        edges.append((float(start), float(end)))
        i += 1
    return _windows_from_edges(_balance_tail(edges, chunk_s, overlap_s), sample_id)


def _balance_tail(
    edges: list[tuple[float, float]], chunk_s: float, overlap_s: float
) -> list[tuple[float, float]]:
    """The minimum window length: a last window shorter than half a chunk shares the last two
    windows' span equally with its neighbour, keeping the overlap.

    Engines lose words on short windows (a 6 s tail lost words in all 11 noise draws tried),
    and one under 0.1 s made pocketsphinx fail outright. Appending the tail to the previous
    window instead would exceed ``chunk_s``, a provider's request limit; balanced, both are
    between half a chunk and a chunk long.
    """
    if len(edges) < 2 or edges[-1][1] - edges[-1][0] >= chunk_s / 2:
        return edges
    start, end = edges[-2][0], edges[-1][1]
    width = (end - start + overlap_s) / 2
    return [*edges[:-2], (start, start + width), (start + width - overlap_s, end)]


def cut_points(windows: Sequence[Chunk]) -> tuple[float, ...]:
    """The seams between neighbouring windows: the midpoint of each overlap (the edge if none).

    >>> cut_points(plan_windows(80, 30, 2))
    (29.0, 57.0)
    """
    return tuple((b.offset_s + a.end_s) / 2 for a, b in zip(windows, windows[1:], strict=False))


_FRAME_S = 0.02
"""Hop of the energy track used to place a cut inside a silence."""


def _energy_track(clip: AudioClip) -> np.ndarray:
    """RMS of the 300 ms around every 20 ms frame: where in a silence it is quietest.

    300 ms keeps the pick ~150 ms away from speech even inside digital silence, where every
    frame is 0 and the tie-break would otherwise pull the cut to the edge of the next word.
    """
    hop = round(_FRAME_S * clip.sample_rate)
    n = len(clip.samples) // hop
    if n == 0:
        return np.zeros(0)
    power = (clip.samples[: n * hop].astype(np.float64) ** 2).reshape(n, hop).mean(axis=1)
    return np.sqrt(np.convolve(power, np.ones(15) / 15, mode="same"))


def _snap(
    t: float, silences: Sequence[tuple[float, float]], energy: np.ndarray, lo: float, hi: float
) -> float:
    """Move t into the nearest silence within [lo, hi], at that silence's quietest frame.

    The VAD marks silences with some lag (a loud onset right after digital silence can be
    labelled silence for half a second), so the cut goes where the signal is quietest, not
    just anywhere the VAD says "no speech". Returns t unchanged if no silence is in range.
    """
    best, best_d = None, math.inf
    for a, b in silences:
        a, b = max(a, lo), min(b, hi)
        if a > b:
            continue
        d = 0.0 if a <= t <= b else min(abs(a - t), abs(b - t))
        if d < best_d:
            best, best_d = (a, b), d
    if best is None:
        return t
    a, b = best
    # frame k is centred on (k + 0.5) * _FRAME_S
    first = max(0, math.ceil(a / _FRAME_S - 0.5))
    last = min(len(energy), math.floor(b / _FRAME_S - 0.5) + 1)
    if first >= last:
        return min(max(t, a), b)
    frames = np.arange(first, last)
    times = (frames + 0.5) * _FRAME_S
    # quietest frame; among (near-)equal ones, the nearest to t
    key = energy[frames] + 1e-4 * np.abs(times - t)
    return float(times[int(np.argmin(key))])


_VAD_CONTEXT_S = 1.0
"""Audio read on each side of a seam's search range, so the VAD has settled at its edges."""


def plan_vad_windows(
    duration_s: float,
    read: ReadAudio,
    find_silences: FindSilences,
    chunk_s: float,
    overlap_s: float = 0.0,
    tolerance_s: float = 3.0,
    sample_id: str = "",
) -> list[Chunk]:
    """Like ``plan_windows``, but each seam moved into the nearest silence up to ``tolerance_s``
    earlier.

    The seam (the overlap midpoint, see ``cut_points``) is what is snapped, so the place where
    neighbours hand over falls between words; the windows extend ``overlap_s / 2`` past it on
    each side. Seams only move earlier, so no window is longer than ``chunk_s``: Whisper cuts
    a 32 s window at 30 s internally, mid-word, which is what this planner exists to avoid
    (tiny.en on longform_en, 30s/2s: ±3 s gave 17.3 % WER, earlier-only 11.1 %). Where
    ``find_silences`` finds no silence in range the seam stays where ``plan_windows`` would put
    it. Inside the chosen silence the seam goes to the quietest 300 ms (see ``_snap``). Seams
    are placed one after the other, and only the few seconds around each nominal seam are
    ``read``, so memory stays bounded for a multi-hour file on disk.

        nominal seam          snapped seam (in the pause)
             v                   v
        ...speech speech|speech  ____ speech...
    """
    _check_duration(duration_s)
    check_window(chunk_s, overlap_s)
    if tolerance_s < 0:
        raise ChunkingError(f"tolerance_s must be >= 0, got {tolerance_s!r}; e.g. 3.0")
    if chunk_s >= duration_s - _EPS:
        return [Chunk(sample_id, 0, 0.0, float(duration_s))]
    # seams must stay more than one overlap apart, or three windows would overlap
    tol = min(tolerance_s, (chunk_s - 2 * overlap_s) / 2)
    half = overlap_s / 2

    def place(nominal: float, lo: float) -> float:
        """The seam nearest ``nominal`` in a pause of [lo, nominal] (only ever earlier: a window
        never exceeds chunk_s, see the docstring); ``nominal`` when there is none."""
        lo = max(lo, nominal - tol)
        if lo >= nominal:
            return nominal
        r0 = max(0.0, lo - _VAD_CONTEXT_S)
        region = read(r0, min(duration_s, nominal + _VAD_CONTEXT_S))
        silences = find_silences(region)
        return r0 + _snap(nominal - r0, silences, _energy_track(region), lo - r0, nominal - r0)

    def floor(k: int) -> float:
        """The earliest seam k may take: more than one overlap after seam k - 1."""
        return seams[k - 1] + overlap_s + _EPS if k else half

    seams: list[float] = []
    start = 0.0
    while start + chunk_s < duration_s - _EPS:
        seams.append(place(start + chunk_s - half, floor(len(seams))))
        start = seams[-1] - half
    if duration_s - start < chunk_s / 2:  # the minimum window length, as in _balance_tail
        first = max(0.0, seams[-2] - half) if len(seams) > 1 else 0.0
        seams[-1] = place(
            (first + duration_s) / 2, max(floor(len(seams) - 1), duration_s + half - chunk_s)
        )
    bounds = [0.0, *seams, float(duration_s)]
    edges = [
        (max(0.0, a - half) if i else 0.0, min(float(duration_s), b + half))
        for i, (a, b) in enumerate(zip(bounds, bounds[1:], strict=False))
    ]
    return _windows_from_edges(edges, sample_id)


def plan_chunks(
    setting: ChunkSetting,
    duration_s: float,
    read: ReadAudio,
    *,
    find_silences: FindSilences | None = None,
    sample_id: str = "",
) -> list[Chunk]:
    """The windows a setting gives for one recording of ``duration_s`` seconds.

    ``read(start_s, end_s)`` returns the normalized 16 kHz clip of a span: ``clip.slice`` for a
    clip in memory, ``AudioFile.read`` for a file on disk. The ``fixed`` planner (and ``none``,
    one window) never calls it. The ``vad`` planner reads a few seconds around each seam and
    needs ``find_silences`` (the pipeline passes ``stt_eval.audio.vad.speech_silences``).
    """
    if setting.chunk_s is None or setting.planner == "fixed":
        return plan_windows(duration_s, setting.chunk_s, setting.overlap_s, sample_id)
    if find_silences is None:
        raise ChunkingError(
            f"the {setting.planner!r} planner needs find_silences, a function from a clip to "
            "its non-speech intervals: pass find_silences=stt_eval.audio.vad.speech_silences, or use "
            "the 'fixed' planner"
        )
    return plan_vad_windows(
        duration_s, read, find_silences, setting.chunk_s, setting.overlap_s, sample_id=sample_id
    )
