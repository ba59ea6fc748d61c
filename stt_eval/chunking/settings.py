"""Chunk settings: how to cut a recording, as data, and its one-line spelling ``30s/2s/vad``.

The names of the planners and window strategies live here, once; the planning, merging and
strategy modules dispatch on them. The spelling is ``CHUNK[/OVERLAP][/PLANNER][/STRATEGY]``:

- ``30s/2s`` fixed 30 s windows overlapping by 2 s; a wide overlap (``30s/6s``) is the same
  setting, reaching past the few seconds before a cut where engines drop words;
- ``30s/2s/redecode``: as ``30s/2s``, then a *collapsed* window (far fewer words per second
  than its neighbours) is decoded again with a stronger setting (beam 5; local engines with a
  ``beam_size`` option) and its words kept if it heard more;
- ``30s/2s/continue``: sequential, as Whisper's own long-form decoding: each window starts at
  the last confident word of the previous one (the overlap applies only where a window heard
  nothing confident). Windows are decided one after another, so it cannot be planned ahead or
  spread over workers, and it sends more audio than a fixed grid. It keeps each window's
  words up to the next one's start, so the merge setting does not apply to it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from stt_eval.errors import SttEvalError

PLANNERS = ("fixed", "vad")
"""How window edges are placed: on a fixed grid, or with each seam moved into a pause."""
STRATEGIES = ("plain", "redecode", "continue")
"""What is done beyond cutting and merging (see the module docstring); ``plain``: nothing."""
_EXAMPLE = (
    "e.g. '30s/2s' (30 s windows, 2 s overlap), '30s', '30s/2s/vad', '30s/2s/redecode', "
    "'30s/2s/continue' or 'none'"
)


class ChunkingError(SttEvalError, ValueError):
    """A chunking setting or window plan that cannot work; the message says why and how to fix."""


@dataclass(frozen=True)
class ChunkSetting:
    """How to cut a recording: window length, overlap between neighbours, cut planner and
    window strategy.

    ``chunk_s=None`` means no chunking (the whole recording in one request).
    """

    chunk_s: float | None
    overlap_s: float = 0.0
    planner: str = "fixed"
    strategy: str = "plain"

    def __post_init__(self) -> None:
        for value, names, what in (
            (self.planner, PLANNERS, "chunk planner"),
            (self.strategy, STRATEGIES, "window strategy"),
        ):
            if value not in names:
                raise ChunkingError(
                    f"unknown {what} {value!r}; choose one of: {', '.join(names)} ({_EXAMPLE})"
                )
        if self.chunk_s is None:
            if self.overlap_s or self.planner != "fixed" or self.strategy != "plain":
                raise ChunkingError(
                    "chunking 'none' takes no overlap, planner or strategy; give a window length "
                    f"to use them ({_EXAMPLE})"
                )
            return
        if self.strategy == "continue" and self.planner != "fixed":
            raise ChunkingError(
                f"the 'continue' strategy places every window itself, so it takes no "
                f"{self.planner!r} planner; write e.g. '30s/2s/continue'"
            )
        check_window(self.chunk_s, self.overlap_s)

    @property
    def enabled(self) -> bool:
        return self.chunk_s is not None


def check_window(chunk_s: float, overlap_s: float) -> None:
    """Raise ChunkingError unless ``chunk_s`` > 0 and 0 <= ``overlap_s`` < ``chunk_s / 2``.

    Less than half, so each moment is covered by at most two windows and a merge only ever has
    to reconcile neighbours.
    """
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
    """Parse ``CHUNK[/OVERLAP][/PLANNER][/STRATEGY]`` or ``none`` into a setting.

    >>> parse_chunking("30s/2s")
    ChunkSetting(chunk_s=30.0, overlap_s=2.0, planner='fixed', strategy='plain')
    >>> parse_chunking("30s/2s/vad").planner
    'vad'
    >>> parse_chunking("30s/2s/vad/redecode").strategy
    'redecode'
    >>> parse_chunking("none").enabled
    False
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ChunkingError(f"empty chunking setting; {_EXAMPLE}")
    text = spec.strip().lower()
    if text == "none":
        return ChunkSetting(None)
    parts = text.split("/")
    planner, strategy = "fixed", "plain"
    if len(parts) > 1 and parts[-1].strip() in STRATEGIES[1:]:
        strategy = parts.pop().strip()
    if len(parts) > 1 and parts[-1].strip() in PLANNERS:
        planner = parts.pop().strip()
    if len(parts) == 3:
        raise ChunkingError(
            f"unknown chunk planner {parts[2].strip()!r} in chunking {spec!r}; choose one of: "
            f"{', '.join(PLANNERS)}, or a strategy: {', '.join(STRATEGIES[1:])} ({_EXAMPLE})"
        )
    if len(parts) > 2:
        raise ChunkingError(f"cannot parse chunking {spec!r}: too many '/' parts; {_EXAMPLE}")
    if not _DURATION.match(parts[0]):
        raise ChunkingError(
            f"cannot parse chunking {spec!r}: expected 'none' or "
            f"CHUNK[/OVERLAP][/PLANNER][/STRATEGY] with planner one of {', '.join(PLANNERS)} "
            f"and strategy one of {', '.join(STRATEGIES[1:])}; {_EXAMPLE}"
        )
    chunk_s = _parse_seconds(parts[0], "chunk length", spec)
    overlap_s = _parse_seconds(parts[1], "overlap", spec) if len(parts) == 2 else 0.0
    return ChunkSetting(chunk_s, overlap_s, planner, strategy)


def _seconds(value: float) -> str:
    """Shortest plain decimal that reads back to exactly `value` ("30", "2.5", "0.1")."""
    import numpy as np

    return np.format_float_positional(float(value), unique=True, trim="-")


def format_chunking(setting: ChunkSetting) -> str:
    """The canonical string of a setting; ``parse_chunking`` reads it back to an equal setting.

    >>> format_chunking(parse_chunking("30/2.0s"))
    '30s/2s'
    >>> format_chunking(ChunkSetting(30.0, 0.0, "vad"))
    '30s/0s/vad'
    >>> format_chunking(parse_chunking("30s/redecode"))
    '30s/0s/redecode'
    """
    if setting.chunk_s is None:
        return "none"
    text = f"{_seconds(setting.chunk_s)}s"
    if setting.overlap_s or setting.planner != "fixed" or setting.strategy != "plain":
        text += f"/{_seconds(setting.overlap_s)}s"
    if setting.planner != "fixed":
        text += f"/{setting.planner}"
    if setting.strategy != "plain":
        text += f"/{setting.strategy}"
    return text
