"""The search space: which chunk settings ``stt-eval tune`` races, as data, and its presets.

A :class:`Setting` is one chunking spelling (``30s/2s/vad``) with one merge strategy: exactly
what one cell of ``stt-eval run`` holds, so a setting's rows are run cells and share their cache.

The published presets, mapped onto the spelling that exists (windows of ``chunk`` seconds that
overlap neighbours by ``overlap`` < ``chunk / 2``; the merge keeps each window's middle)::

    whisper-30s       30s        Whisper's own 30 s window, no overlap
    nemo-10-10-5      20s/9.5s   NeMo buffered, 10 s left / 10 s chunk / 5 s right context
    nemo-10-2-2       6s/2.5s    NeMo buffered, 10 s left / 2 s chunk / 2 s right context
    parakeet-120s-15s 120s/15s   Parakeet long-form: 120 s windows, 15 s overlap

NeMo keeps the ``chunk`` middle of a buffer of ``left + chunk + right`` seconds; here a window
is ``chunk + 2 × context`` with the *right* context on both sides (the look-ahead that saves the
words before a cut; the left context has no counterpart in independent windows), and the
overlap (2 × context) is capped just under half the window, as the spelling requires: 10-10-5
becomes a 20 s window with 9.5 s overlap instead of 10 s; 10-2-2 a 6 s window with 2.5 s.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from stt_eval.audio.load import TARGET_RATE
from stt_eval.chunking import PLANNERS, ChunkingError, ChunkSetting, format_chunking
from stt_eval.chunking import parse_chunking as parse
from stt_eval.errors import BadArgument
from stt_eval.types import MERGE_STRATEGIES

WAV_BYTES_PER_S = TARGET_RATE * 2
"""16-bit mono PCM at 16 kHz: what a window costs against a provider's upload limit."""

PRESETS: dict[str, str] = {
    "whisper-30s": "30s",
    "nemo-10-10-5": "20s/9.5s",
    "nemo-10-2-2": "6s/2.5s",
    "parakeet-120s-15s": "120s/15s",
}
"""Published long-form settings by name → their chunking spelling (see the module docstring)."""

DEFAULT_CHUNKS = (10.0, 15.0, 20.0, 30.0, 45.0, 60.0)
DEFAULT_OVERLAPS = (0.0, 2.0, 5.0)
DEFAULT_MERGES = ("text-align", "timestamp")
UNCHUNKED = "none"


@dataclass(frozen=True, order=True)
class Setting:
    """One candidate: a chunking spelling and a merge strategy (``none`` when unchunked)."""

    chunking: str
    merge: str = "timestamp"

    @property
    def label(self) -> str:
        return self.chunking if self.chunking == UNCHUNKED else f"{self.chunking} {self.merge}"

    @property
    def window_s(self) -> float | None:
        """The longest request this setting sends (None: the whole recording)."""
        return parse(self.chunking).chunk_s


@dataclass(frozen=True)
class Space:
    """What to race: the grid chunk × overlap × merge × planner (pairs the overlap rule refuses
    are skipped), the named presets and further spellings (× merge), and the unchunked baseline."""

    chunk_s: tuple[float, ...] = DEFAULT_CHUNKS
    overlap_s: tuple[float, ...] = DEFAULT_OVERLAPS
    merge: tuple[str, ...] = DEFAULT_MERGES
    planner: tuple[str, ...] = PLANNERS
    presets: tuple[str, ...] = tuple(PRESETS)
    unchunked: bool = True
    chunking: tuple[str, ...] = ()
    """Further spellings as they are, e.g. ``30s/6s`` or a window strategy's."""

    def __post_init__(self) -> None:
        for spelling in self.chunking:
            try:
                parse(spelling)
            except ChunkingError as exc:
                raise BadArgument("chunking", str(exc)) from None
        for name, values, allowed in (
            ("merge", self.merge, MERGE_STRATEGIES),
            ("planner", self.planner, PLANNERS),
            ("presets", self.presets, tuple(PRESETS)),
        ):
            bad = [v for v in values if v not in allowed]
            if bad:
                raise BadArgument(name, f"{bad} unknown; choose from {', '.join(allowed)}")

    def settings(self) -> tuple[Setting, ...]:
        """Every candidate once, unchunked first, then by chunk, overlap, planner and merge."""
        chunkings = [UNCHUNKED] if self.unchunked else []
        for chunk, overlap, planner in itertools.product(
            sorted(self.chunk_s), sorted(self.overlap_s), self.planner
        ):
            try:
                chunkings.append(format_chunking(ChunkSetting(chunk, overlap, planner)))
            except ChunkingError:
                continue  # overlap >= chunk / 2: the spelling refuses it (e.g. 10 s / 5 s)
        chunkings += [PRESETS[name] for name in self.presets] + list(self.chunking)
        out = []
        for chunking in dict.fromkeys(format_chunking(parse(c)) for c in chunkings):
            merges = ("none",) if chunking == UNCHUNKED else self.merge
            out += [Setting(chunking, m) for m in merges]
        return tuple(out)


TABLE_KEYS = ("chunk_s", "overlap_s", "merge", "planner", "presets", "unchunked", "chunking")
"""The keys of an experiment's ``[tune]`` table that narrow the space (the rest: see TuneTable)."""


def space_from(table: Mapping[str, Any], **flags: Any) -> Space:
    """The space from an experiment's ``[tune]`` table, each key overridden by a flag that is
    not None; missing keys take the defaults."""
    values = {k: table[k] for k in TABLE_KEYS if k in table}
    values |= {k: v for k, v in flags.items() if v is not None}
    for key in ("chunk_s", "overlap_s", "merge", "planner", "presets", "chunking"):
        if key in values:
            raw = values[key]
            values[key] = tuple(raw) if isinstance(raw, (list, tuple)) else (raw,)
            if key in ("chunk_s", "overlap_s"):
                values[key] = tuple(float(v) for v in values[key])
    return Space(**values)


def fits(setting: Setting, duration_s: float, max_upload_bytes: int | None) -> bool:
    """Whether every request of a setting stays under a provider's documented upload limit on a
    recording of ``duration_s`` (no limit: always)."""
    if max_upload_bytes is None:
        return True
    longest = setting.window_s if setting.window_s is not None else duration_s
    return min(longest, duration_s) * WAV_BYTES_PER_S <= max_upload_bytes


def within_limit(
    settings: Sequence[Setting], longest_file_s: float, max_upload_bytes: int | None
) -> tuple[tuple[Setting, ...], tuple[Setting, ...]]:
    """The settings a provider can take on the longest recording, and those it cannot."""
    ok = tuple(s for s in settings if fits(s, longest_file_s, max_upload_bytes))
    return ok, tuple(s for s in settings if s not in ok)
