"""A run directory: ``rows.jsonl`` (the source of truth, appended as cells finish),
``transcripts.jsonl`` (each row's :class:`RowDetail`: scored words, word times, speaker turns),
``inputs.json`` (what each cell's numbers depend on, :mod:`stt_eval.run.resume`),
``results.parquet`` (the tidy table), ``summary.md``, ``report.html`` and ``report.md`` (the
shareable report), ``exports/`` (trn/CTM/RTTM), and ``LOCK`` while a run writes it.

The JSONL files are read strictly: a line that does not parse is an error naming the file and
the line, except the last one, which a run killed mid-write leaves torn (ignored, with a
:class:`TornLineWarning`). The other files are written whole or not at all (:func:`write_atomic`).
"""

from __future__ import annotations

import json
import os
import socket
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from stt_eval.errors import BadInput, SttEvalError
from stt_eval.rows import COLUMNS, ResultRow
from stt_eval.types import RowDetail, SpeakerTurn, Word

ROWS_FILE = "rows.jsonl"
TRANSCRIPTS_FILE = "transcripts.jsonl"
RESULTS_FILE = "results.parquet"
SUMMARY_FILE = "summary.md"
REPORT_HTML = "report.html"
REPORT_MD = "report.md"
EXPERIMENT_FILE = "experiment.json"
INPUTS_FILE = "inputs.json"
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


class RunDirectoryError(BadInput):
    """A run directory file that cannot be read back (a damaged line that is not the last)."""


class TornLineWarning(UserWarning):
    """The last line of a JSONL file of a run is cut short: a run was killed mid-write."""


def _records(path: Path, parse: Callable[[Any], Any]) -> Iterator[Any]:
    """``parse(json)`` of each line of a JSONL file. A line that fails is an error naming the
    file and line, unless it is the last: that one is a write a killed run left unfinished,
    said with a TornLineWarning and skipped."""
    if not path.exists():
        return
    lines = path.read_text(encoding="utf-8").splitlines()
    for n, line in enumerate(lines, 1):
        try:
            yield parse(json.loads(line))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            if n == len(lines):
                warnings.warn(
                    f"{path}: line {n} (the last) is cut short, a run was stopped while "
                    "writing it; it is left out (a resumed run makes that row again)",
                    TornLineWarning,
                    stacklevel=3,
                )
                return
            raise RunDirectoryError(
                f"{path}: line {n} of {len(lines)} is damaged ({type(exc).__name__}: "
                f"{str(exc)[:80]}); only the last line can be cut short by a stopped run, so "
                "the file was edited or its disk failed",
                "restore it, or run again with --fresh",
            ) from None


def read_rows(run_dir: Path) -> list[ResultRow]:
    """Rows written so far; a torn last line (killed mid-write) is left out with a warning, a
    damaged line before it raises RunDirectoryError."""
    return list(_records(Path(run_dir) / ROWS_FILE, row_from_dict))


def write_atomic(path: Path, data: str | bytes | Callable[[Path], object]) -> Path:
    """Write a file whole or not at all: to a temp file beside it (text, bytes, or a writer
    given the temp path), fsync, rename. On a failure (a full disk) the old file stays, the temp
    file is removed and the OSError names `path`."""
    path = Path(path)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as f:
            if isinstance(data, str | bytes):
                f.write(data.encode("utf-8") if isinstance(data, str) else data)
        if callable(data):
            data(tmp)
        with tmp.open("rb+") as f:
            os.fsync(f.fileno())
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OSError(exc.errno, f"could not write {path}: {exc.strerror or exc}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


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
    frame = rows_frame(rows)
    return write_atomic(
        Path(run_dir) / RESULTS_FILE, lambda tmp: frame.to_parquet(tmp, index=False)
    )


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
    detail), read as strictly as the rows; a missing file (a run from before it) has none."""
    records = _records(Path(run_dir) / TRANSCRIPTS_FILE, lambda r: (tuple(r["key"]), _detail(r)))
    return dict(records)


def with_details(run_dir: Path, rows: Iterable[ResultRow]) -> list[ResultRow]:
    """Rows read back with their details from the sidecar (None where it has none)."""
    details = read_details(run_dir)
    return [replace(r, detail=details.get(row_key(r))) for r in rows]


def rewrite_details(path: Path, rows: Iterable[ResultRow]) -> None:
    """Replace the sidecar in one step with the details of `rows` (what a resumed run keeps)."""
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    append_details(tmp, rows, mode="w")
    tmp.replace(path)


# --------------------------------------------------------------------------- one writer


class RunLocked(SttEvalError, RuntimeError):
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
                self._create(json.dumps(me))
            except FileExistsError:
                owner = self._owner()
                if owner and _alive(owner):
                    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(owner["started"]))
                    raise RunLocked(
                        f"{self.path.parent} is being written by PID {owner['pid']} on "
                        f"{owner['host']} since {when}",
                        "wait for that run to finish (or stop it), then run again; if it is "
                        f"gone, delete {self.path}",
                    ) from None
                self.taken_over = owner
                self.path.unlink(missing_ok=True)
                continue
            return self
        raise RunLocked(f"could not take {self.path}; another run keeps taking it")

    def _create(self, text: str) -> None:
        """Create LOCK with its content in one step (a whole temp file hard-linked to the name),
        so a reader never sees an empty LOCK and a full disk leaves none behind."""
        tmp = self.path.with_name(f".{LOCK_FILE}.{os.getpid()}.tmp")
        try:
            tmp.write_text(text)
            os.link(tmp, self.path)
        except FileExistsError:
            raise
        except OSError as exc:
            raise OSError(exc.errno, f"could not write {self.path}: {exc.strerror}") from None
        finally:
            tmp.unlink(missing_ok=True)

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
    status: str  # "running", "finished", "interrupted" or "damaged"
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
    """Status, row counts, list price and size of a run directory ("damaged" when its rows
    cannot be read back: ``stt-eval report`` names the line)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TornLineWarning)  # "interrupted" says it
        try:
            rows, damaged = read_rows(run_dir), False
        except RunDirectoryError:
            rows, damaged = [], True
    lock = RunLock(run_dir)
    owner = lock._owner() if lock.path.exists() else None
    if damaged:
        status = "damaged"
    elif owner and _alive(owner):
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
