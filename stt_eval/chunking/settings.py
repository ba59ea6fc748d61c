"""Chunk settings: how to cut a recording, as data, and its one-line spelling ``30s/2s/vad``.

The names of the planners and merge strategies live here, once; the planning and merging
modules dispatch on them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from stt_eval.errors import SttEvalError

PLANNERS = ("fixed", "vad")
"""How window edges are placed: on a fixed grid, or with each seam moved into a pause."""
_EXAMPLE = "e.g. '30s/2s' (30 s windows, 2 s overlap), '30s', '30s/2s/vad' or 'none'"


class ChunkingError(SttEvalError, ValueError):
    """A chunking setting or window plan that cannot work; the message says why and how to fix."""


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
    import numpy as np

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
