"""Looking after a transcript cache: what is in it, checking every entry, removing old ones.

:func:`cache_info` only reads. :func:`verify_cache` checks every entry as
:meth:`~stt_eval.cache.store.TranscriptCache.get` would and moves the bad ones to ``root/quarantine/``.
:func:`prune_cache` removes entries by age and/or engine, empties the quarantine and deletes temp
files left by killed writers. Each returns a frozen report whose ``describe()`` gives a few lines
for people; the CLI prints those.
"""

from __future__ import annotations

import math
import os
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from stt_eval.cache.store import KEY_PATTERN, BadEntry, CacheEntry, decode_entry, quarantine
from stt_eval.errors import BadArgument

STALE_TEMP_S = 3600.0
"""A temp file older than this (seconds) was left by a writer that died; prune removes it."""


def _size(n: int) -> str:
    """
    >>> _size(999), _size(12_345), _size(3_400_000)
    ('999 B', '12.3 kB', '3.4 MB')
    """
    if n < 1000:
        return f"{n} B"
    power = min(int(math.log10(n) // 3), 3)
    return f"{n / 1000**power:.1f} {('kB', 'MB', 'GB')[power - 1]}"


def _entries(count: int) -> str:
    return f"{count} {'entry' if count == 1 else 'entries'}"


def _entry_files(root: Path) -> Iterator[Path]:
    yield from sorted((root / "transcripts").glob("*/*.json"))


def _quarantine_files(root: Path) -> list[Path]:
    return sorted((root / "quarantine").glob("*.entry"))


def _examine(path: Path) -> tuple[CacheEntry | None, str, os.stat_result | None]:
    """The verified entry at `path`, else None and why, plus its stat when read (None if it
    could not be read). FileNotFoundError: it is gone (removed meanwhile)."""
    try:
        with open(path, "rb") as f:
            seen = os.fstat(f.fileno())
            data = f.read()
    except FileNotFoundError:
        raise
    except OSError as e:
        return None, f"could not be read ({e})", None
    key = path.stem
    try:
        if not KEY_PATTERN.fullmatch(key):
            raise BadEntry("is not named <64 hex digits>.json, so no key ever finds it")
        if path.parent.name != key[:2]:
            raise BadEntry(f"is in {path.parent.name}/, where its key is never looked up")
        return decode_entry(data, key), "", seen
    except BadEntry as e:
        return None, str(e), seen


def _check_counts(record: object, *names: str) -> None:
    for name in names:
        value = getattr(record, name)
        if not isinstance(value, int) or value < 0:
            raise ValueError(f"{type(record).__name__}: {name}={value!r} must be a count >= 0")


@dataclass(frozen=True)
class CacheInfo:
    """What a cache holds: entries and their size, how many would not be served (``bad``), the
    quarantine, when the good entries were written and how many each engine has."""

    root: Path
    entries: int
    bytes: int
    bad: int
    quarantined: int
    quarantined_bytes: int
    oldest: datetime | None
    newest: datetime | None
    by_engine: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_counts(self, "entries", "bytes", "bad", "quarantined", "quarantined_bytes")
        if sum(self.by_engine.values()) + self.bad != self.entries:
            raise ValueError(
                f"CacheInfo: by_engine counts {dict(self.by_engine)} plus bad={self.bad} "
                f"do not add up to entries={self.entries}"
            )

    def describe(self) -> list[str]:
        if not self.entries:
            lines = [f"cache {self.root}: no entries"]
        else:
            lines = [f"cache {self.root}: {_entries(self.entries)}, {_size(self.bytes)}"]
        if self.oldest and self.newest:
            lines.append(f"written {self.oldest:%Y-%m-%d %H:%M} … {self.newest:%Y-%m-%d %H:%M} UTC")
        if self.by_engine:
            lines.append("by engine: " + ", ".join(f"{e} {n}" for e, n in self.by_engine.items()))
        if self.bad:
            lines.append(
                f"{_entries(self.bad)} would not be served; `stt-eval cache verify` moves them aside"
            )
        if self.quarantined:
            lines.append(
                f"{_entries(self.quarantined)} quarantined ({_size(self.quarantined_bytes)}); "
                "`stt-eval cache prune` removes them"
            )
        return lines


def cache_info(root: Path | str) -> CacheInfo:
    """Count what the cache at `root` holds (reads every entry, changes nothing)."""
    root = Path(root)
    entries = size = bad = 0
    engines: Counter[str] = Counter()
    written: list[datetime] = []
    for path in _entry_files(root):
        try:
            entry, _, seen = _examine(path)
        except FileNotFoundError:
            continue
        entries, size = entries + 1, size + (seen.st_size if seen else 0)
        if entry is None:
            bad += 1
            continue
        engines[entry.engine] += 1
        written.append(entry.written)
    held = _quarantine_files(root)
    return CacheInfo(
        root=root,
        entries=entries,
        bytes=size,
        bad=bad,
        quarantined=len(held),
        quarantined_bytes=sum(p.stat().st_size for p in held),
        oldest=min(written, default=None),
        newest=max(written, default=None),
        by_engine=dict(sorted(engines.items(), key=lambda kv: (-kv[1], kv[0]))),
    )


@dataclass(frozen=True)
class QuarantinedEntry:
    """An entry that failed verification: where it was, why, and where it went (None: it was
    replaced or removed meanwhile, or could not be moved; the reason then says so)."""

    path: Path
    reason: str
    moved_to: Path | None


@dataclass(frozen=True)
class VerifyReport:
    """Every entry under ``root`` checked: how many, and the bad ones, now quarantined."""

    root: Path
    checked: int
    bad: tuple[QuarantinedEntry, ...] = ()

    def __post_init__(self) -> None:
        _check_counts(self, "checked")
        if len(self.bad) > self.checked:
            raise ValueError(f"VerifyReport: {len(self.bad)} bad of only {self.checked} checked")

    @property
    def ok(self) -> int:
        """Entries that verified and are served as they are."""
        return self.checked - len(self.bad)

    def describe(self) -> list[str]:
        lines = [f"cache {self.root}: {_entries(self.checked)} checked, {self.ok} good"]
        if self.bad:
            lines.append(f"{len(self.bad)} bad, moved to {self.root / 'quarantine'}:")
        lines += [f"  {b.path.parent.name}/{b.path.name}: {b.reason}" for b in self.bad]
        return lines


def verify_cache(root: Path | str) -> VerifyReport:
    """Check every entry under `root` as a read would; move each bad one to the quarantine."""
    root = Path(root)
    checked, bad = 0, []
    for path in _entry_files(root):
        try:
            entry, reason, seen = _examine(path)
        except FileNotFoundError:
            continue
        checked += 1
        if entry is not None:
            continue
        try:
            dest = quarantine(root, path, reason, seen)
        except OSError as e:
            reason, dest = f"{reason}; could not be moved aside ({e})", None
        bad.append(QuarantinedEntry(path, reason, dest))
    return VerifyReport(root, checked, tuple(bad))


@dataclass(frozen=True)
class PruneReport:
    """What pruning removed (or would, with ``dry_run``): entries matching the age and engine,
    the quarantine, and stale temp files; ``engines`` were cached before pruning."""

    root: Path
    dry_run: bool
    older_than_days: float | None
    engine: str | None
    removed: int
    removed_bytes: int
    kept: int
    quarantine_removed: int
    quarantine_bytes: int
    temp_removed: int = 0
    engines: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_counts(
            self, "removed", "removed_bytes", "kept", "quarantine_removed", "quarantine_bytes"
        )
        _check_counts(self, "temp_removed")

    def describe(self) -> list[str]:
        verb = "would remove" if self.dry_run else "removed"
        which = "".join(
            (
                f" of engine {self.engine!r}" if self.engine else "",
                (
                    f" older than {self.older_than_days:g} days"
                    if self.older_than_days is not None
                    else ""
                ),
            )
        )
        lines = [
            f"cache {self.root}: {verb} {_entries(self.removed)}{which} "
            f"({_size(self.removed_bytes)}), {self.kept} kept"
        ]
        if self.engine and self.engine not in self.engines:
            cached = ", ".join(self.engines) or "none"
            lines.append(f"no entries of engine {self.engine!r}; cached engines: {cached}")
        lines.append(
            f"quarantine: {verb} {_entries(self.quarantine_removed)} ({_size(self.quarantine_bytes)})"
        )
        if self.temp_removed:
            lines.append(f"{verb} {self.temp_removed} temp files left by interrupted writes")
        return lines


def prune_cache(
    root: Path | str,
    *,
    older_than_days: float | None = None,
    engine: str | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
) -> PruneReport:
    """Remove the entries written more than `older_than_days` ago and/or made by `engine` (both
    given: entries matching both; neither: no entries), empty the quarantine and delete temp files
    older than :data:`STALE_TEMP_S`. ``dry_run`` only counts.

    Ages come from each entry's ``written`` time (``now`` defaults to the current time, UTC). An
    entry that does not verify is aged by its file time and never matches an engine; run
    :func:`verify_cache` first to move such entries to the quarantine.
    """
    if older_than_days is not None and not (
        isinstance(older_than_days, (int, float))
        and math.isfinite(older_than_days)
        and older_than_days >= 0
    ):
        raise BadArgument(
            "older_than_days", f"older_than_days={older_than_days!r} must be a number of days >= 0"
        )
    root, now = Path(root), now or datetime.now(timezone.utc)
    cutoff = None if older_than_days is None else now - timedelta(days=older_than_days)
    removed = removed_bytes = kept = 0
    engines: set[str] = set()
    for path in _entry_files(root):
        try:
            entry, _, seen = _examine(path)
            size = seen.st_size if seen else path.stat().st_size
            mtime = seen.st_mtime if seen else path.stat().st_mtime
        except FileNotFoundError:
            continue
        if entry is not None:
            name, written = entry.engine, entry.written
            engines.add(name)
        else:
            name, written = None, datetime.fromtimestamp(mtime, timezone.utc)
        matches = (older_than_days is not None or engine is not None) and (
            (cutoff is None or written < cutoff) and (engine is None or name == engine)
        )
        if not matches:
            kept += 1
            continue
        removed, removed_bytes = removed + 1, removed_bytes + size
        if not dry_run:
            path.unlink(missing_ok=True)
    held = _quarantine_files(root)
    held_bytes = sum(p.stat().st_size for p in held)
    temps = [
        p
        for p in (root / "transcripts").glob("*/*.tmp")
        if time.time() - p.stat().st_mtime > STALE_TEMP_S
    ]
    if not dry_run:
        for p in (*held, *(h.with_suffix(".reason") for h in held), *temps):
            p.unlink(missing_ok=True)
    return PruneReport(
        root=root,
        dry_run=dry_run,
        older_than_days=older_than_days,
        engine=engine,
        removed=removed,
        removed_bytes=removed_bytes,
        kept=kept,
        quarantine_removed=len(held),
        quarantine_bytes=held_bytes,
        temp_removed=len(temps),
        engines=tuple(sorted(engines)),
    )
