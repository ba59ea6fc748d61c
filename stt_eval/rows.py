"""A result row: one scored cell of a run, held as typed groups and flattened for the tidy table.

- :class:`Identity`: which cell (sample, provider, condition, chunking, merge, diarizer, channel
  mode; batch or streaming, and a stream's pace and frames) and how it was scored (normalizer, DER collar);
- :class:`Counts`: every registered metric's value object (:mod:`stt_eval.metrics.registry`),
  which add with ``+``;
- :class:`Measurement`: what making it cost (audio, latency, attempts, list price, cache);
- :class:`Provenance`: the engine, model and versions that made it, and the sample's digest.

``rows.jsonl`` and ``results.parquet`` hold the flattened columns (:meth:`ResultRow.columns`),
named as they always were; :meth:`ResultRow.from_columns` reads them back, from this version
or an older one (a column it does not know is dropped, one it lacks takes its default).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal

from stt_eval.metrics.registry import METRICS
from stt_eval.types import InvalidRecord, Measured, RowDetail, Status


@dataclass(frozen=True)
class Identity:
    """Which grid cell of which run a row scores, and the scoring settings (normalizer, and the
    DER collar where DER was scored)."""

    run_id: str
    sample_id: str
    provider: str
    condition: str = "clean"
    chunking: str = "none"
    merge: str = "none"
    diarizer: str = "none"
    normalizer: str = "whisper"
    channel_mode: str = "mix"  # one of CHANNEL_MODES; rows written before it existed are "mix"
    collar_s: float | None = None
    vocabulary: str = "off"  # custom vocabulary sent (providers.vocabulary); older rows: off
    mode: str = "batch"  # one of MODES; rows written before it existed are "batch"
    pace: str | None = None  # a streaming row's pace ("realtime", "fast", "10x") and frames
    frame_ms: int | None = None

    @property
    def key(self) -> tuple[str, ...]:
        """The cell for this sample (what resume matches finished rows on; ``Cell.key``); a
        batch cell's is what it was before streaming existed, so older run directories match."""
        stream = (self.mode, self.pace or "", str(self.frame_ms or ""))
        return (
            self.sample_id,
            self.provider,
            self.condition,
            self.chunking,
            self.merge,
            self.diarizer,
            self.channel_mode,
        ) + (stream if self.mode != "batch" else ())  # vocabulary: in the provider label


@dataclass(frozen=True)
class Counts:
    """Each registered metric's value object by name (None: not scored for it); adds metric by
    metric, so rows pool with ``sum()``."""

    values: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = set(self.values) - set(METRICS)
        if unknown:
            raise InvalidRecord(
                f"Counts: no metric named {sorted(unknown)}; register it in "
                "stt_eval/metrics/registry.py"
            )
        for name, value in self.values.items():
            kind = METRICS[name].kind
            if value is not None and not isinstance(value, kind):
                raise InvalidRecord(f"Counts: {name} must be a {kind.__name__}, not {value!r}")
        full = {m.name: None if m.optional else m.kind() for m in METRICS.values()}
        object.__setattr__(self, "values", {**full, **self.values})

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def set(self, **values: Any) -> Counts:
        """These counts with some metrics' values replaced."""
        return Counts({**self.values, **values})

    def __add__(self, other: Counts) -> Counts:
        if not isinstance(other, Counts):
            return NotImplemented
        added = {}
        for name, a in self.values.items():
            b = other.values[name]
            added[name] = b if a is None else a if b is None else a + b
        return Counts(added)

    def __radd__(self, other: object) -> Counts:
        return self if other == 0 else NotImplemented  # type: ignore[return-value]

    def columns(self) -> dict[str, Any]:
        """Every metric's flattened columns, in registry order."""
        out: dict[str, Any] = {}
        for name, metric in METRICS.items():
            out.update(metric.flatten(self.values[name]))
        return out

    @classmethod
    def from_columns(cls, columns: Mapping[str, Any]) -> Counts:
        return cls({name: metric.read(columns) for name, metric in METRICS.items()})


@dataclass(frozen=True)
class Measurement:
    """What making the row cost: the audio (seconds, streams sent, SNR), engine and request
    seconds, HTTP attempts and retries (none for a local engine), list price (None: unknown),
    whether it came from the cache, and this run's share of diarizing, conditioning and loading
    models."""

    audio_s: float = 0.0
    streams: int = 1  # audio streams transcribed: the channels under split (audio sent = × this)
    snr_db: float | None = None
    processing_s: float = 0.0
    latency_s: float = 0.0
    attempts: int = 0
    retries: int = 0
    rtfx: float | None = None
    cost_usd: float | None = None
    cached: bool = False
    diarization_s: float = 0.0
    condition_s: float = 0.0  # this run's time decoding and conditioning the audio (its share)
    load_s: float = 0.0  # this run's time loading models for this row's job (its share)

    @classmethod
    def of(
        cls,
        measured: Measured,
        audio_s: float,
        snr_db: float | None,
        cached: bool,
        streams: int = 1,
        diarization_s: float = 0.0,
    ) -> Measurement:
        """A row's measurement from what transcribing cost (RTFx from the request latency)."""
        return cls(
            audio_s=audio_s,
            streams=streams,
            snr_db=snr_db,
            processing_s=measured.processing_s,
            latency_s=measured.latency_s,
            attempts=measured.attempts,
            retries=measured.retries,
            rtfx=audio_s / measured.latency_s if measured.latency_s > 0 else None,
            cost_usd=measured.cost_usd,
            cached=cached,
            diarization_s=diarization_s,
        )


@dataclass(frozen=True)
class Provenance:
    """What made the row: the engine, model and their version, the stt-eval version that scored
    it, and the digest of the sample it was computed from."""

    engine: str = ""
    model: str | None = None
    engine_version: str = ""
    stt_eval_version: str = ""
    sample_digest: str = ""


_GROUPS = {"identity": Identity, "measurement": Measurement, "provenance": Provenance}


@dataclass(frozen=True)
class ResultRow:
    """One scored (sample × provider × condition × chunking) cell of a run; a tidy-table row.

    Counts, not rates: rates are derived from pooled counts at report time. A failure is a row
    with status "failed" and the reason in `error`, never an empty hypothesis.
    """

    identity: Identity
    status: Status = "ok"
    error: str | None = None
    warning: str | None = None
    failure: Literal["transient", "permanent"] | None = None
    """A failed row's kind: "transient" (a re-run sends it again) or "permanent" (kept unless
    --retry-failed); None when ok."""
    counts: Counts = field(default_factory=Counts)
    measurement: Measurement = field(default_factory=Measurement)
    provenance: Provenance = field(default_factory=Provenance)
    language: str | None = None
    hypothesis: str = ""
    reference: str = ""
    terms_missed: tuple[str, ...] = ()  # the normalized terms of the occurrences missed
    flags: tuple[str, ...] = ()  # metrics.errors.FLAGS that apply (hallucination, loops)
    meta: Mapping[str, Any] = field(default_factory=dict)
    detail: RowDetail | None = field(default=None, compare=False, repr=False)
    """In memory only, from the pipeline to the run directory's sidecar (see RowDetail)."""

    def __post_init__(self) -> None:
        if self.status not in ("ok", "failed"):
            raise InvalidRecord(f"ResultRow: status={self.status!r} must be 'ok' or 'failed'")
        if self.status == "failed" and not self.error:
            raise InvalidRecord("ResultRow: a failed row needs an error message saying why")

    def failed(self, error: str, failure: str = "permanent") -> ResultRow:
        """This cell as a failure: the reason, its kind, no counts, nothing scored."""
        return replace(
            self, status="failed", error=error, failure=failure, counts=Counts(), detail=None
        )

    def columns(self) -> dict[str, Any]:
        """The flattened row: every group's fields and every metric's columns (``rows.jsonl``
        and the tidy table hold these)."""
        own = {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name not in ("detail", "counts", *_GROUPS)
        }
        out: dict[str, Any] = {**_fields(self.identity)}
        for name in ("status", "error", "warning", "failure"):
            out[name] = own.pop(name)
        out.update(self.counts.columns())
        out.update(_fields(self.measurement))
        out.update(_fields(self.provenance))
        out.update(own)
        return out

    @classmethod
    def from_columns(cls, columns: Mapping[str, Any]) -> ResultRow:
        """A row from flattened columns (this version's or an older one's): unknown columns
        are dropped, missing ones take their defaults; list values become tuples."""
        columns = _with_retries(columns)
        try:
            groups = {
                name: kind(**{f.name: columns[f.name] for f in fields(kind) if f.name in columns})
                for name, kind in _GROUPS.items()
            }
            counts = Counts.from_columns(columns)
        except (TypeError, ValueError) as exc:
            sample = columns.get("sample_id", "?")
            raise InvalidRecord(f"ResultRow {sample}: {exc}") from None
        own = {
            f.name: tuple(columns[f.name]) if isinstance(columns[f.name], list) else columns[f.name]
            for f in fields(cls)
            if f.name in columns and f.name not in ("detail", "counts", *_GROUPS)
        }
        return cls(**groups, counts=counts, **own)


def _with_retries(columns: Mapping[str, Any]) -> Mapping[str, Any]:
    """A row from before ``retries`` existed: its ``attempts`` were 1 + retries when unchunked,
    and one per window when chunked (retries unknown, taken as 0)."""
    attempts = columns.get("attempts")
    if "retries" in columns or not isinstance(attempts, int):
        return columns
    unchunked = columns.get("chunking", "none") == "none"
    return {**columns, "retries": max(0, attempts - 1) if unchunked else 0}


def _fields(group: Any) -> dict[str, Any]:
    return {f.name: getattr(group, f.name) for f in fields(group)}


COLUMNS = tuple(ResultRow(Identity("", "", "")).columns())
"""The tidy table's columns, in order (``meta`` becomes ``meta.<key>`` columns there)."""
