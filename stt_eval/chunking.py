"""Long-form audio: plan overlapping windows, read them one at a time, merge their transcripts.

A recording longer than an engine's context (Whisper: 30 s) is cut into windows that overlap
by ``overlap_s``; each window is transcribed on its own (in *chunk-local* time) and the pieces
are merged back into one transcript in global time. The seams are where errors cluster, so
``boundary_errors`` counts the errors that land near a cut.

Timeline of two neighbouring windows (chunk 30 s, overlap 2 s, step 28 s)::

    0 s                          28 s  29 s  30 s                          58 s
    |---------- window 0 ------------------|
                                 |------------------ window 1 --------------|
                                 |<-- overlap -->|
                                        ^ seam (midpoint of the overlap) = the "cut"

Each moment is covered by at most two windows (overlap < chunk / 2), so a merge only ever has
to reconcile neighbours.
"""

from __future__ import annotations

import bisect
import math
import re
import subprocess
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from stt_eval.audio import TARGET_RATE, AudioClip, normalize
from stt_eval.normalize import words as normalized_words
from stt_eval.types import Chunk, SpeakerTurn, Transcript, Word

if TYPE_CHECKING:
    from stt_eval.metrics.wer import WordScore

PLANNERS = ("fixed", "vad")
MERGE_STRATEGIES = ("concat", "text-align", "timestamp")

_EPS = 1e-6
"""Seconds below which two times are the same (well under one sample at 16 kHz)."""

_EXAMPLE = "e.g. '30s/2s' (30 s windows, 2 s overlap), '30s', '30s/2s/vad' or 'none'"


class ChunkingError(ValueError):
    """A chunking setting or window plan that cannot work; the message says why and how to fix."""


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class ChunkSetting:
    """How to cut a recording: window length, overlap between neighbours, and cut planner.

    ``chunk_s=None`` means no chunking (the whole recording in one request).
    """

    chunk_s: float | None
    overlap_s: float = 0.0
    planner: str = "fixed"

    def __post_init__(self) -> None:
        if self.planner not in PLANNERS:
            raise ChunkingError(
                f"unknown chunk planner {self.planner!r}; choose one of: {', '.join(PLANNERS)} "
                f"({_EXAMPLE})"
            )
        if self.chunk_s is None:
            if self.overlap_s or self.planner != "fixed":
                raise ChunkingError(
                    "chunking 'none' takes no overlap or planner; give a window length to use "
                    f"them ({_EXAMPLE})"
                )
            return
        _check_window(self.chunk_s, self.overlap_s)

    @property
    def enabled(self) -> bool:
        return self.chunk_s is not None


def _check_window(chunk_s: float, overlap_s: float) -> None:
    if not isinstance(chunk_s, (int, float)) or not math.isfinite(chunk_s) or chunk_s <= 0:
        raise ChunkingError(
            f"chunk length must be a positive number of seconds, got {chunk_s!r}; {_EXAMPLE}"
        )
    if not isinstance(overlap_s, (int, float)) or not math.isfinite(overlap_s) or overlap_s < 0:
        raise ChunkingError(f"overlap must be >= 0 seconds, got {overlap_s!r}; {_EXAMPLE}")
    if overlap_s >= chunk_s / 2:
        raise ChunkingError(
            f"overlap {overlap_s:g}s must be less than half the chunk length ({chunk_s:g}s) so only "
            f"neighbouring windows overlap; {_EXAMPLE}"
        )


_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s)?\s*$")


def _parse_seconds(token: str, what: str, spec: str) -> float:
    m = _DURATION.match(token)
    if not m:
        raise ChunkingError(
            f"cannot read the {what} {token!r} in chunking {spec!r}: write seconds like '30s' "
            f"or '500ms'; {_EXAMPLE}"
        )
    value = float(m.group(1))
    return value / 1000 if m.group(2) == "ms" else value


def parse_chunking(spec: str) -> ChunkSetting:
    """Parse ``CHUNK[/OVERLAP][/PLANNER]`` or ``none`` into a setting.

    >>> parse_chunking("30s/2s")
    ChunkSetting(chunk_s=30.0, overlap_s=2.0, planner='fixed')
    >>> parse_chunking("30s/2s/vad").planner
    'vad'
    >>> parse_chunking("none").enabled
    False
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ChunkingError(f"empty chunking setting; {_EXAMPLE}")
    text = spec.strip().lower()
    if text == "none":
        return ChunkSetting(None)
    parts = text.split("/")
    planner = "fixed"
    if len(parts) > 1 and parts[-1].strip() in PLANNERS:
        planner = parts.pop().strip()
    if len(parts) == 3:
        raise ChunkingError(
            f"unknown chunk planner {parts[2].strip()!r} in chunking {spec!r}; choose one of: "
            f"{', '.join(PLANNERS)} ({_EXAMPLE})"
        )
    if len(parts) > 2:
        raise ChunkingError(f"cannot parse chunking {spec!r}: too many '/' parts; {_EXAMPLE}")
    if not _DURATION.match(parts[0]):
        raise ChunkingError(
            f"cannot parse chunking {spec!r}: expected 'none' or CHUNK[/OVERLAP][/PLANNER] "
            f"with planner one of {', '.join(PLANNERS)}; {_EXAMPLE}"
        )
    chunk_s = _parse_seconds(parts[0], "chunk length", spec)
    overlap_s = _parse_seconds(parts[1], "overlap", spec) if len(parts) == 2 else 0.0
    return ChunkSetting(chunk_s, overlap_s, planner)


def _seconds(value: float) -> str:
    """Shortest plain decimal that reads back to exactly `value` ("30", "2.5", "0.1")."""
    return np.format_float_positional(float(value), unique=True, trim="-")


def format_chunking(setting: ChunkSetting) -> str:
    """The canonical string of a setting; ``parse_chunking`` reads it back to an equal setting.

    >>> format_chunking(parse_chunking("30/2.0s"))
    '30s/2s'
    >>> format_chunking(ChunkSetting(30.0, 0.0, "vad"))
    '30s/0s/vad'
    """
    if setting.chunk_s is None:
        return "none"
    text = f"{_seconds(setting.chunk_s)}s"
    if setting.overlap_s or setting.planner != "fixed":
        text += f"/{_seconds(setting.overlap_s)}s"
    if setting.planner != "fixed":
        text += f"/{setting.planner}"
    return text


# --------------------------------------------------------------------------- planning


def _check_duration(duration_s: float) -> None:
    if not isinstance(duration_s, (int, float)) or not math.isfinite(duration_s) or duration_s <= 0:
        raise ChunkingError(f"recording duration must be > 0 seconds, got {duration_s!r}")


def _windows_from_edges(edges: Sequence[tuple[float, float]], sample_id: str) -> list[Chunk]:
    return [Chunk(sample_id, i, a, b - a) for i, (a, b) in enumerate(edges)]


def plan_windows(
    duration_s: float, chunk_s: float | None, overlap_s: float = 0.0, sample_id: str = ""
) -> list[Chunk]:
    """Fixed windows of ``chunk_s`` every ``chunk_s - overlap_s`` seconds covering [0, duration].

    The last window is shortened to end at the duration; no window starts once the previous one
    reaches the end. ``chunk_s=None`` (or a chunk longer than the recording) gives one window.

    >>> [(c.offset_s, c.end_s) for c in plan_windows(70, 30, 2)]
    [(0.0, 30.0), (28.0, 58.0), (56.0, 70.0)]
    """
    _check_duration(duration_s)
    if chunk_s is None:
        return [Chunk(sample_id, 0, 0.0, float(duration_s))]
    _check_window(chunk_s, overlap_s)
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
    return _windows_from_edges(edges, sample_id)


def cut_points(windows: Sequence[Chunk]) -> tuple[float, ...]:
    """The seams between neighbouring windows: the midpoint of each overlap (the edge if none)."""
    return tuple((b.offset_s + a.end_s) / 2 for a, b in zip(windows, windows[1:], strict=False))


def speech_silences(clip: AudioClip, min_silence_s: float = 0.1) -> list[tuple[float, float]]:
    """Non-speech intervals (seconds) found by the Silero VAD that ships with faster-whisper."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    if clip.sample_rate != TARGET_RATE:
        clip = normalize(clip.samples, clip.sample_rate)
    opts = VadOptions(
        threshold=0.5,
        min_speech_duration_ms=0,
        min_silence_duration_ms=int(min_silence_s * 1000),
        speech_pad_ms=30,
    )
    speech = get_speech_timestamps(clip.samples, opts, sampling_rate=TARGET_RATE)
    out: list[tuple[float, float]] = []
    prev = 0.0
    for seg in speech:
        start, end = seg["start"] / TARGET_RATE, seg["end"] / TARGET_RATE
        if start - prev > _EPS:
            out.append((prev, start))
        prev = max(prev, end)
    if clip.duration_s - prev > _EPS:
        out.append((prev, clip.duration_s))
    return out


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


def plan_vad_windows(
    clip: AudioClip,
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
    (tiny.en on longform_en, 30s/2s: ±3 s gave 17.3 % WER, earlier-only 11.1 %). Where the
    VAD finds no silence in range the seam stays where ``plan_windows`` would put it. Inside
    the chosen silence the seam goes to the quietest 300 ms (see ``_snap``). The VAD runs only
    on the few seconds around each nominal seam.

        nominal seam          snapped seam (in the pause)
             v                   v
        ...speech speech|speech  ____ speech...
    """
    return _plan_vad(clip.duration_s, clip.slice, chunk_s, overlap_s, tolerance_s, sample_id)


def plan_vad_windows_from_file(
    path: Path | str,
    chunk_s: float,
    overlap_s: float = 0.0,
    tolerance_s: float = 3.0,
    sample_id: str = "",
) -> list[Chunk]:
    """``plan_vad_windows`` for a recording on disk, reading only the audio around each seam.

    Memory stays bounded for multi-hour files (libsndfile formats only: wav, flac, ogg, mp3).
    """
    import soundfile as sf

    with sf.SoundFile(str(path)) as f:
        rate, frames = f.samplerate, f.frames

        def read(start_s: float, end_s: float) -> AudioClip:
            a = max(0, round(start_s * rate))
            b = min(frames, round(end_s * rate))
            f.seek(a)
            return normalize(f.read(b - a, dtype="float32", always_2d=True).mean(axis=1), rate)

        return _plan_vad(frames / rate, read, chunk_s, overlap_s, tolerance_s, sample_id)


_VAD_CONTEXT_S = 1.0
"""Audio read on each side of a seam's search range, so the VAD has settled at its edges."""


def _plan_vad(
    duration: float,
    read: Callable[[float, float], AudioClip],
    chunk_s: float,
    overlap_s: float,
    tolerance_s: float,
    sample_id: str,
) -> list[Chunk]:
    """Sequential seams: each nominal seam snapped by the VAD on the audio around it only."""
    _check_duration(duration)
    _check_window(chunk_s, overlap_s)
    if tolerance_s < 0:
        raise ChunkingError(f"tolerance_s must be >= 0, got {tolerance_s!r}; e.g. 3.0")
    if chunk_s >= duration - _EPS:
        return [Chunk(sample_id, 0, 0.0, float(duration))]
    # seams must stay more than one overlap apart, or three windows would overlap
    tol = min(tolerance_s, (chunk_s - 2 * overlap_s) / 2)
    half = overlap_s / 2
    seams: list[float] = []
    start = 0.0
    while start + chunk_s < duration - _EPS:
        nominal = start + chunk_s - half
        # only ever earlier: a window never exceeds chunk_s (see the docstring)
        hi = nominal
        lo = max(nominal - tol, (seams[-1] + overlap_s + _EPS) if seams else half)
        seam = nominal
        if lo < hi:
            r0 = max(0.0, lo - _VAD_CONTEXT_S)
            region = read(r0, min(duration, hi + _VAD_CONTEXT_S))
            local = _snap(
                nominal - r0, speech_silences(region), _energy_track(region), lo - r0, hi - r0
            )
            seam = r0 + local
        seams.append(seam)
        start = seam - half
    bounds = [0.0, *seams, float(duration)]
    edges = [
        (max(0.0, a - half) if i else 0.0, min(float(duration), b + half))
        for i, (a, b) in enumerate(zip(bounds, bounds[1:], strict=False))
    ]
    return _windows_from_edges(edges, sample_id)


def plan_chunks(setting: ChunkSetting, clip: AudioClip, sample_id: str = "") -> list[Chunk]:
    """The windows a setting gives for one clip (dispatches on the planner)."""
    if setting.chunk_s is None or setting.planner == "fixed":
        return plan_windows(clip.duration_s, setting.chunk_s, setting.overlap_s, sample_id)
    return plan_vad_windows(clip, setting.chunk_s, setting.overlap_s, sample_id=sample_id)


def plan_chunks_from_file(
    setting: ChunkSetting, path: Path | str, sample_id: str = ""
) -> list[Chunk]:
    """The windows a setting gives for a recording on disk, without loading it whole."""
    import soundfile as sf

    if setting.chunk_s is None or setting.planner == "fixed":
        duration = sf.info(str(path)).duration
        return plan_windows(duration, setting.chunk_s, setting.overlap_s, sample_id)
    return plan_vad_windows_from_file(path, setting.chunk_s, setting.overlap_s, sample_id=sample_id)


# --------------------------------------------------------------------------- reading


def iter_chunk_clips(
    path: Path | str, windows: Sequence[Chunk]
) -> Iterator[tuple[Chunk, AudioClip]]:
    """Yield each window as a normalized 16 kHz clip, read from disk on its own.

    Memory stays at one window however long the recording is: libsndfile formats are read
    with ``seek``/``read`` of just the window's frames; anything else (m4a, …) goes through the
    bundled ffmpeg with an input seek per window. Each piece is resampled on its own, so a
    non-16 kHz file may differ from whole-file resampling by a few samples at window edges.
    """
    import soundfile as sf

    path = Path(path)
    try:
        handle = sf.SoundFile(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError):
        handle = None
    if handle is None:
        for chunk in windows:
            yield chunk, _read_window_ffmpeg(path, chunk)
        return
    with handle as f:
        rate = f.samplerate
        for chunk in windows:
            a = min(f.frames, round(chunk.offset_s * rate))
            b = min(f.frames, round(chunk.end_s * rate))
            f.seek(a)
            data = f.read(b - a, dtype="float32", always_2d=True)
            yield chunk, normalize(data.mean(axis=1), rate)


def _read_window_ffmpeg(path: Path, chunk: Chunk) -> AudioClip:
    from stt_eval.audio import AudioError, ffmpeg_exe

    cmd = [ffmpeg_exe(), "-nostdin", "-v", "error", "-ss", f"{chunk.offset_s:.6f}"]
    cmd += ["-i", str(path), "-t", f"{chunk.duration_s:.6f}"]
    cmd += ["-f", "s16le", "-ac", "1", "-ar", str(TARGET_RATE), "-"]
    proc = subprocess.run(cmd, capture_output=True, check=False)
    if proc.returncode != 0:
        detail = proc.stderr.decode(errors="replace").strip().splitlines()
        raise AudioError(
            path,
            f"window at {chunk.offset_s:g}s could not be decoded ({detail[-1:]})",
            "re-export the recording as WAV or FLAC",
        )
    pcm = np.frombuffer(proc.stdout, dtype=np.int16)
    return AudioClip(pcm.astype(np.float32) / 32768.0, TARGET_RATE)


# --------------------------------------------------------------------------- merging


def _mid(w: Word) -> float:
    return (w.start + w.end) / 2


def _owned(w: Word, lo: float, hi: float) -> bool:
    return lo <= _mid(w) < hi


def _seams(chunks: Sequence[Chunk]) -> list[float]:
    """Ownership bounds: chunk i owns [bounds[i], bounds[i+1]) of global time."""
    return [-math.inf, *cut_points(chunks), math.inf]


def _keys(ws: Sequence[Word], language: str) -> list[tuple[str, int]]:
    """Normalized tokens of each word with the index of the word that produced it."""
    return [
        (tok, i) for i, w in enumerate(ws) for tok in normalized_words(w.text, "basic", language)
    ]


def _nearest_same(src: Sequence[tuple[str, float]], dst: Sequence[tuple[str, float]]) -> list[int]:
    """For each token of src, the index of the same token in dst nearest in time (-1 if none)."""
    out = []
    for tok, t in src:
        cands = [(abs(t - u), j) for j, (other, u) in enumerate(dst) if other == tok]
        out.append(min(cands)[1] if cands else -1)
    return out


def _longest_run(
    a: Sequence[tuple[str, int]],
    b: Sequence[tuple[str, int]],
    wa: Sequence[Word],
    wb: Sequence[Word],
    max_shift_s: float,
) -> tuple[int, int, int]:
    """Longest common run of tokens (i in a, j in b, length) whose words agree in time.

    Two tokens may pair only if they are equal, within ``max_shift_s`` of each other and each
    is the other's nearest equal token in time: so in "hello hello hello" each occurrence pairs
    with itself, not with its neighbour one word later. Ties go to the smaller total shift.
    """
    ta = [(tok, _mid(wa[k])) for tok, k in a]
    tb = [(tok, _mid(wb[k])) for tok, k in b]
    a_to_b, b_to_a = _nearest_same(ta, tb), _nearest_same(tb, ta)
    best, best_key = (0, 0, 0), (0, 0.0)
    prev, prev_d = [0] * (len(b) + 1), [0.0] * (len(b) + 1)
    for i in range(1, len(a) + 1):
        cur, cur_d = [0] * (len(b) + 1), [0.0] * (len(b) + 1)
        j = a_to_b[i - 1] + 1
        if j > 0 and b_to_a[j - 1] == i - 1:
            shift = abs(ta[i - 1][1] - tb[j - 1][1])
            if shift <= max_shift_s:
                cur[j] = prev[j - 1] + 1
                cur_d[j] = prev_d[j - 1] + shift
                key = (cur[j], -cur_d[j])
                if key > best_key:
                    best_key, best = key, (i - cur[j], j - cur[j], cur[j])
        prev, prev_d = cur, cur_d
    return best


def _join_text_align(
    left: list[Word],
    right: list[Word],
    seam: float,
    left_end: float,
    right_start: float,
    language: str,
) -> list[Word]:
    """Join two word lists at the longest common run of the overlap; by time if there is none.

    left  ... w1 w2 [x  y  z] w3'          (w3' cut off at the window edge)
    right          'w0 [x  y  z] w4 ...    ('w0 cut off at the window edge)
    out   ... w1 w2  x  y  z  w4 ...       (left keeps the first half of the run)
    """
    slack = 0.5
    li = len(left)  # scan back from the end: O(overlap), not O(transcript), per seam
    while li > 0 and left[li - 1].end > right_start - slack:
        li -= 1
    rj = next((k for k, w in enumerate(right) if w.start >= left_end + slack), len(right))
    tail, head = left[li:], right[:rj]
    ka, kb = _keys(tail, language), _keys(head, language)
    i, j, n = _longest_run(ka, kb, tail, head, max_shift_s=1.0) if ka and kb else (0, 0, 0)
    if n == 0:
        return (
            left[:li] + [w for w in tail if _mid(w) < seam] + [w for w in right if _mid(w) >= seam]
        )
    k = n // 2  # the first token taken from the right side
    cut_left = li + ka[i + k][1]
    cut_right = kb[j + k][1]
    return left[:cut_left] + right[cut_right:]


def _text_from_words(ws: Sequence[Word]) -> str:
    return " ".join(t for t in (w.text.strip() for w in ws) if t)


def merge_chunks(parts: Sequence[tuple[Chunk, Transcript]], strategy: str) -> Transcript:
    """Merge per-window transcripts (each in chunk-local time) into one in global time.

    - ``concat``: every word of every window, in order (no de-duplication; the baseline).
    - ``text-align``: neighbours are joined at the longest common run of normalized words in
      their overlap (matched words must also agree within 1 s); falls back to ``timestamp``
      at a seam where no run is found.
    - ``timestamp``: each window owns global time up to the midpoint of its overlaps
      (``cut_points``); a word is kept by the window that owns its midpoint.

    Words keep their speakers and confidences; ``text`` is rebuilt from the kept words. If a
    part has text but no word timings, de-duplication is impossible and the texts are
    concatenated (``raw["merge_fallback"]`` says so). Turns are shifted and, except for
    ``concat``, clipped to the owning window (their labels are chunk-local).
    """
    if strategy not in MERGE_STRATEGIES:
        raise ChunkingError(
            f"unknown merge strategy {strategy!r}; choose one of: {', '.join(MERGE_STRATEGIES)}"
        )
    if not parts:
        return Transcript("", raw={"merge": strategy, "parts": []})
    ordered = sorted(parts, key=lambda p: p[0].offset_s)
    chunks = [c for c, _ in ordered]
    shifted = [t.shifted(c.offset_s) for c, t in ordered]
    language = next((t.language for t in shifted if t.language), None)
    raw: dict = {"merge": strategy, "parts": [t.raw for t in shifted]}
    bounds = _seams(chunks)

    no_words = [
        c.index for c, t in zip(chunks, shifted, strict=True) if t.text.strip() and not t.words
    ]
    if no_words:
        raw["merge_fallback"] = f"concat: chunks {no_words} have text but no word timings"
        text = " ".join(t.text.strip() for t in shifted if t.text.strip())
        words = tuple(w for t in shifted for w in t.words)
        turns = tuple(x for t in shifted for x in t.turns)
        return Transcript(text, words, turns, language, raw)

    if strategy == "concat":
        kept = [w for t in shifted for w in t.words]
    elif strategy == "timestamp":
        kept = [
            w for k, t in enumerate(shifted) for w in t.words if _owned(w, bounds[k], bounds[k + 1])
        ]
    else:
        kept = list(shifted[0].words)
        for k in range(1, len(shifted)):
            kept = _join_text_align(
                kept,
                list(shifted[k].words),
                bounds[k],
                chunks[k - 1].end_s,
                chunks[k].offset_s,
                language or "en",
            )
    turns = tuple(_merge_turns(shifted, bounds, clip=strategy != "concat"))
    return Transcript(_text_from_words(kept), tuple(kept), turns, language, raw)


def _merge_turns(
    shifted: Sequence[Transcript], bounds: Sequence[float], clip: bool
) -> Iterator[SpeakerTurn]:
    for k, t in enumerate(shifted):
        for turn in t.turns:
            if not clip:
                yield turn
                continue
            a, b = max(turn.start, bounds[k]), min(turn.end, bounds[k + 1])
            if b > a:
                yield SpeakerTurn(turn.speaker, a, b)


# --------------------------------------------------------------------------- boundary errors


def _token_times(
    hyp_words: Sequence[Word], hyp_tokens: Sequence[str], normalizer: str, language: str
) -> list[float]:
    """A time for every normalized hypothesis token (what the WER alignment sees).

    Each Word is normalized on its own; its tokens get the word's midpoint. Those per-word tokens
    are matched to the whole-text tokens (they can differ: "twenty five" → "25"), and tokens
    left unmatched take the time interpolated between their matched neighbours.
    """
    per_word = [
        (tok, _mid(w)) for w in hyp_words for tok in normalized_words(w.text, normalizer, language)
    ]
    times: list[float | None] = [None] * len(hyp_tokens)
    matcher = SequenceMatcher(None, [t for t, _ in per_word], list(hyp_tokens), autojunk=False)
    for block in matcher.get_matching_blocks():
        for d in range(block.size):
            times[block.b + d] = per_word[block.a + d][1]
    known = [i for i, t in enumerate(times) if t is not None]
    if not known:
        fallback = [_mid(w) for w in hyp_words]
        if not fallback:
            return [math.nan] * len(hyp_tokens)
        # no token matched: spread the words' span evenly over the tokens
        lo, hi = min(fallback), max(fallback)
        n = max(1, len(hyp_tokens) - 1)
        return [lo + (hi - lo) * i / n for i in range(len(hyp_tokens))]
    xs = np.array(known, dtype=float)
    ys = np.array([times[i] for i in known], dtype=float)
    return list(np.interp(np.arange(len(hyp_tokens), dtype=float), xs, ys))


def boundary_errors(
    score: WordScore,
    hyp_words: Sequence[Word],
    cuts: Sequence[float],
    window_s: float = 1.0,
    normalizer: str = "whisper",
    language: str = "en",
) -> int:
    """Errors (S, D, I) of a WER alignment that lie within ±``window_s`` of any cut.

    Reference words have no times, so each error is placed via the hypothesis: every hyp Word
    is normalized on its own to see which normalized tokens it produced (token → word
    midpoint, see ``_token_times``). A substitution or insertion takes the time of its hyp
    token; a deletion takes the midpoint between the aligned hyp tokens on either side of it
    (the one neighbour at the start or end). ``score`` is a ``WordScore`` from ``align_words`` /
    ``score_text`` over the same hypothesis text, normalized with the same preset.
    """
    if not cuts:
        return 0
    times = _token_times(hyp_words, score.hyp, normalizer, language)
    sorted_cuts = sorted(cuts)

    def near(t: float) -> bool:
        if math.isnan(t):
            return False
        k = bisect.bisect_left(sorted_cuts, t)
        return any(
            abs(sorted_cuts[m] - t) <= window_s + _EPS
            for m in (k - 1, k)
            if 0 <= m < len(sorted_cuts)
        )

    count = 0
    for op in score.ops:
        if op.type in ("substitute", "insert"):
            count += sum(near(times[h]) for h in range(op.hyp_start, op.hyp_end))
        elif op.type == "delete":
            before = times[op.hyp_start - 1] if op.hyp_start > 0 else None
            after = times[op.hyp_start] if op.hyp_start < len(times) else None
            if before is None and after is None:
                continue
            t = (
                (before + after) / 2
                if before is not None and after is not None
                else (before if after is None else after)
            )
            if near(t):
                count += op.ref_end - op.ref_start
    return count
