"""A run directory: ``rows.jsonl`` (the source of truth, appended as cells finish),
``transcripts.jsonl`` (each row's :class:`RowDetail`: scored words, word times, speaker turns),
``results.parquet`` (the tidy table), ``summary.md``, ``report.html`` and ``report.md`` (the
shareable report), ``exports/`` (trn/CTM/RTTM), and ``LOCK`` while a run writes it.

A torn last line of ``rows.jsonl`` (a run killed mid-write) is ignored when read back; rows are
tied to the content they were computed from (:func:`sample_digest`), so a resumed run keeps only
rows whose recording and references are unchanged.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from stt_eval.rows import COLUMNS, ResultRow
from stt_eval.types import RowDetail, Sample, SpeakerTurn, Word

ROWS_FILE = "rows.jsonl"
TRANSCRIPTS_FILE = "transcripts.jsonl"
RESULTS_FILE = "results.parquet"
SUMMARY_FILE = "summary.md"
REPORT_HTML = "report.html"
REPORT_MD = "report.md"
EXPERIMENT_FILE = "experiment.json"
LOCK_FILE = "LOCK"


def row_to_dict(row: ResultRow) -> dict[str, Any]:
    """A row's flattened columns as plain JSON-able values (paths and other objects as strings),
    without its detail (that goes to the sidecar, :func:`append_details`)."""
    return json.loads(json.dumps(row.columns(), default=str))


def row_key(row: ResultRow) -> tuple[str, ...]:
    """The grid cell a row belongs to (matches ``pipeline.Cell.key``)."""
    return row.identity.key


def row_from_dict(d: dict[str, Any]) -> ResultRow:
    """A row read back; fields written by another version of stt-eval and unknown here are
    dropped (the rest still counts)."""
    return ResultRow.from_columns(d)


def read_rows(run_dir: Path) -> list[ResultRow]:
    """Rows written so far; a torn last line (killed mid-write) is ignored."""
    path = Path(run_dir) / ROWS_FILE
    rows = []
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                rows.append(row_from_dict(json.loads(line)))
            except (json.JSONDecodeError, TypeError, ValueError):
                continue
    return rows


def append_rows(path: Path, rows: Iterable[ResultRow], mode: str = "a") -> None:
    """Append rows to a JSONL file and fsync, so a crash right after loses nothing written."""
    with path.open(mode, encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row_to_dict(row), ensure_ascii=False) + "\n")
        f.flush()
        os.fsync(f.fileno())


def rows_frame(rows: Sequence[ResultRow]) -> pd.DataFrame:
    """Rows as a tidy DataFrame: one column per field, metadata as ``meta.<key>`` columns."""
    records = []
    for row in rows:
        d = row_to_dict(row)
        meta = d.pop("meta") or {}
        d.update(
            {
                f"meta.{k}": (
                    v if isinstance(v, (str, int, float, bool)) or v is None else json.dumps(v)
                )
                for k, v in meta.items()
            }
        )
        records.append(d)
    columns = [name for name in COLUMNS if name != "meta"]
    return pd.DataFrame.from_records(records, columns=None if records else columns)


def write_results(run_dir: Path, rows: Sequence[ResultRow]) -> Path:
    """The run's tidy table as Parquet (rewritten from rows.jsonl, which stays the source of truth)."""
    path = Path(run_dir) / RESULTS_FILE
    tmp = path.with_suffix(".tmp")
    rows_frame(rows).to_parquet(tmp, index=False)
    tmp.replace(path)
    return path


def rewrite_rows(path: Path, rows: Iterable[ResultRow]) -> None:
    """Replace a rows file in one step (temp file, fsync, rename): a crash leaves the old file
    or the new one, never half of each."""
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    append_rows(tmp, rows, mode="w")
    tmp.replace(path)


# --------------------------------------------------------------------------- row details


def _turns(turns: Sequence[SpeakerTurn] | None) -> list | None:
    return None if turns is None else [[t.speaker, t.start, t.end] for t in turns]


def append_details(path: Path, rows: Iterable[ResultRow], mode: str = "a") -> None:
    """Append the details of rows that carry one, keyed by :func:`row_key`, and fsync. Written
    before the rows themselves, so a row on disk always has its detail."""
    with path.open(mode, encoding="utf-8") as f:
        for row in rows:
            d = row.detail
            if d is None:
                continue
            words = [[w.text, w.start, w.end, w.confidence] for w in d.words]
            record = {
                "key": list(row_key(row)),
                "ref": list(d.ref),
                "hyp": list(d.hyp),
                "words": words,
                "ref_turns": _turns(d.ref_turns),
                "hyp_turns": _turns(d.hyp_turns),
            }
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
        f.flush()
        os.fsync(f.fileno())


def _detail(record: dict[str, Any]) -> RowDetail:
    def turns(value: list | None) -> tuple[SpeakerTurn, ...] | None:
        return None if value is None else tuple(SpeakerTurn(*t) for t in value)

    return RowDetail(
        tuple(record["ref"]),
        tuple(record["hyp"]),
        tuple(Word(*w) for w in record["words"]),
        turns(record["ref_turns"]),
        turns(record["hyp_turns"]),
    )


def read_details(run_dir: Path) -> dict[tuple[str, ...], RowDetail]:
    """Row details by :func:`row_key` (the last written wins: a row made again replaces its
    detail); a torn last line is ignored, and so is a missing file (a run from before it)."""
    path = Path(run_dir) / TRANSCRIPTS_FILE
    out: dict[tuple[str, ...], RowDetail] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
                out[tuple(record["key"])] = _detail(record)
            except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                continue
    return out


def with_details(run_dir: Path, rows: Iterable[ResultRow]) -> list[ResultRow]:
    """Rows read back with their details from the sidecar (None where it has none)."""
    details = read_details(run_dir)
    return [replace(r, detail=details.get(row_key(r))) for r in rows]


def rewrite_details(path: Path, rows: Iterable[ResultRow]) -> None:
    """Replace the sidecar in one step with the details of `rows` (what a resumed run keeps)."""
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    append_details(tmp, rows, mode="w")
    tmp.replace(path)


# --------------------------------------------------------------------------- content identity


def sample_digest(sample: Sample) -> str:
    """What a sample's rows were computed from: the audio file's bytes and every reference and
    setting of the manifest row (not its path: a moved file with the same bytes is the same).

    Resume keeps a row only while its sample's digest is unchanged, so an edited reference or a
    replaced recording is scored again.
    """
    h = hashlib.sha256()
    for path in (sample.audio_path, *(p for _, p in sample.tracks)):
        with Path(path).open("rb") as f:
            for block in iter(lambda f=f: f.read(1 << 20), b""):
                h.update(block)
    fields_ = {
        k: v for k, v in asdict(sample).items() if k not in ("audio_path", "channels", "tracks")
    }
    if sample.stream_speakers:  # only then, so other samples' digests stay as they were
        fields_["streams"] = [sample.stream_speakers, bool(sample.tracks)]
    h.update(json.dumps(fields_, sort_keys=True, default=str).encode())
    return h.hexdigest()[:16]


@dataclass(frozen=True)
class Resumed:
    """Which earlier rows a resumed run keeps, and what it drops because its input changed."""

    kept: tuple[ResultRow, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    outdated: tuple[str, ...] = ()

    def describe(self) -> list[str]:
        out = [f"{len(self.kept)} finished cells kept"] if self.kept else []
        if self.changed:
            out.append(f"scored again, their recording or reference changed: {_ids(self.changed)}")
        if self.removed:
            out.append(f"dropped, no longer in the manifest or selection: {_ids(self.removed)}")
        if self.outdated:
            out.append(f"made again, another engine version made them: {_ids(self.outdated)}")
        return out


def _ids(ids: Sequence[str]) -> str:
    return ", ".join(ids[:8]) + (f" and {len(ids) - 8} more" if len(ids) > 8 else "")


def resume(
    rows: Iterable[ResultRow], digests: Mapping[str, str], versions: Mapping[str, str]
) -> Resumed:
    """Keep finished (ok) rows whose sample is still selected with the same digest and whose
    provider (label) still runs the same engine version."""
    kept, changed, removed, outdated = [], set(), set(), set()
    for row in rows:
        if row.status != "ok":
            continue
        sample, provider = row.identity.sample_id, row.identity.provider
        if versions.get(provider) != row.provenance.engine_version:
            outdated.add(provider)
        elif sample not in digests:
            removed.add(sample)
        elif row.provenance.sample_digest != digests[sample]:
            changed.add(sample)
        else:
            kept.append(row)
    return Resumed(
        tuple(kept), tuple(sorted(changed)), tuple(sorted(removed)), tuple(sorted(outdated))
    )


# --------------------------------------------------------------------------- one writer


class RunLocked(RuntimeError):
    """Another process is writing the same run directory."""


class RunLock:
    """An exclusive lock on a run directory (``LOCK`` holds the owner's PID, host and start),
    so two runs of one experiment never write the same rows. A lock left by a process that is
    gone (same host, PID not running) is taken over."""

    def __init__(self, run_dir: Path) -> None:
        self.path = Path(run_dir) / LOCK_FILE
        self.taken_over: dict[str, Any] | None = None

    def __enter__(self) -> RunLock:
        me = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                owner = self._owner()
                if owner and _alive(owner):
                    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(owner["started"]))
                    raise RunLocked(
                        f"{self.path.parent} is being written by PID {owner['pid']} on "
                        f"{owner['host']} since {when}; wait for that run to finish (or stop "
                        f"it), then run again — if it is gone, delete {self.path}"
                    ) from None
                self.taken_over = owner
                self.path.unlink(missing_ok=True)
                continue
            with os.fdopen(fd, "w") as f:
                json.dump(me, f)
            return self
        raise RunLocked(f"could not take {self.path}; another run keeps taking it")

    def _owner(self) -> dict[str, Any] | None:
        try:
            owner = json.loads(self.path.read_text())
            return owner if {"pid", "host", "started"} <= set(owner) else None
        except (OSError, ValueError):
            return None

    def __exit__(self, *exc: object) -> None:
        self.path.unlink(missing_ok=True)


def _alive(owner: Mapping[str, Any]) -> bool:
    if owner["host"] != socket.gethostname():
        return True  # cannot tell from here: assume it is still running
    try:
        os.kill(int(owner["pid"]), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class RunInfo:
    """One run directory at a glance: what it holds and whether it is finished."""

    run_id: str
    path: Path
    status: str  # "running", "finished" or "interrupted"
    ok: int
    failed: int
    cost_usd: float
    bytes: int
    modified: float

    def describe(self) -> str:
        age_h = (time.time() - self.modified) / 3600
        age = f"{age_h:.1f} h" if age_h < 48 else f"{age_h / 24:.0f} d"
        return (
            f"{self.run_id:32s} {self.status:11s} {self.ok:6d} ok {self.failed:5d} failed "
            f"${self.cost_usd:8.2f} {self.bytes / 1e6:8.1f} MB {age:>7s} ago"
        )


def run_info(run_dir: Path) -> RunInfo:
    """Status, row counts, list price and size of a run directory."""
    rows = read_rows(run_dir)
    lock = RunLock(run_dir)
    owner = lock._owner() if lock.path.exists() else None
    if owner and _alive(owner):
        status = "running"
    elif (run_dir / RESULTS_FILE).exists() and not lock.path.exists():
        status = "finished"
    else:
        status = "interrupted"
    files = [p for p in run_dir.rglob("*") if p.is_file()]
    return RunInfo(
        run_dir.name,
        run_dir,
        status,
        sum(r.status == "ok" for r in rows),
        sum(r.status == "failed" for r in rows),
        sum(r.measurement.cost_usd or 0.0 for r in rows),
        sum(p.stat().st_size for p in files),
        max((p.stat().st_mtime for p in files), default=0),
    )
