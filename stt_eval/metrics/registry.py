"""Every count a result row carries, in one table: its value object, its flattened columns and
the rates read from pooled counts.

A metric is its value object (in its own module; it adds with ``+``) and its entry in
:data:`METRICS`, nothing else: the row stores the value object, the tidy table flattens it to
:attr:`Metric.columns`, and the pooled tables, the bootstrap intervals and the paired tests
find a rate by its name in :data:`RATES`, so no second list of numerators exists anywhere.

A rate is ``numerator / denominator`` of two attributes of the pooled value object (NaN when
the denominator is 0), so pooling files is adding their value objects and a resampled file
contributes its numerator and denominator: never a mean of rates.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from stt_eval.metrics.boundary import BoundaryCounts
from stt_eval.metrics.confidence import ConfidenceBins
from stt_eval.metrics.crosstalk import CrosstalkCounts
from stt_eval.metrics.diarization import DERCounts, JERCounts
from stt_eval.metrics.errors import Edits
from stt_eval.metrics.hallucination import HallucinationCounts
from stt_eval.metrics.speaker_wer import CpWERCounts
from stt_eval.metrics.streaming import StreamingCounts
from stt_eval.metrics.terms import TermCounts
from stt_eval.metrics.timing import TimingCounts
from stt_eval.metrics.wer import CharCounts, WordCounts


@dataclass(frozen=True)
class Rate:
    """A rate of a metric: ``numerator / denominator``, two attributes of its value object."""

    numerator: str
    denominator: str

    def of(self, counts: Any) -> float:
        """The rate of (pooled) counts; NaN when the denominator is 0 or the counts are None."""
        if counts is None:
            return math.nan
        den = getattr(counts, self.denominator)
        return getattr(counts, self.numerator) / den if den else math.nan


@dataclass(frozen=True)
class Metric:
    """One registered count: its value object type, the tidy-table columns it flattens to
    (``(column, attribute)`` pairs, in order) and its rates by name.

    ``optional``: None when a row was not scored for it (DER on a file without speaker turns).
    ``derived``: columns written for readers but computed from the others, so not read back
    (they are checked instead, e.g. ``ref_words`` = hits + subs + dels).
    """

    name: str
    kind: type
    columns: tuple[tuple[str, str], ...]
    rates: Mapping[str, Rate] = field(default_factory=dict)
    optional: bool = True
    derived: tuple[str, ...] = ()

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c for c, _ in self.columns)

    @property
    def stored(self) -> tuple[tuple[str, str], ...]:
        """The columns a value is read back from (all but the derived ones)."""
        return tuple((c, a) for c, a in self.columns if c not in self.derived)

    def column(self, attribute: str) -> str:
        """The tidy-table column that holds one attribute of the value object."""
        return next(c for c, a in self.columns if a == attribute)

    def flatten(self, value: Any) -> dict[str, Any]:
        """The value as its columns (all None when the row was not scored for it)."""
        return {c: None if value is None else getattr(value, a) for c, a in self.columns}

    def read(self, columns: Mapping[str, Any]) -> Any:
        """The value object from flattened columns (a row, or summed counts). An optional
        metric is None when any stored column is missing, so a row from before a count existed
        carries none of it; another takes the defaults of the columns it lacks. Numbers take
        their field's type (sums come back as numpy or float scalars)."""
        values = {a: columns.get(c) for c, a in self.stored}
        types = {f.name: type(f.default) for f in fields(self.kind)}
        if self.optional and any(_missing(v) for v in values.values()):
            return None
        values = {a: v for a, v in values.items() if not _missing(v)}  # the others: defaults
        value = self.kind(**{a: _cast(v, types[a]) for a, v in values.items()})
        for c, a in self.columns:
            given = columns.get(c)
            if c in self.derived and not _missing(given) and given != getattr(value, a):
                raise ValueError(
                    f"{c}={given} disagrees with the other {self.name} counts "
                    f"({getattr(value, a)}); the row was edited or written by a broken version"
                )
        return value


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _cast(value: Any, kind: type) -> Any:
    if kind is int:
        if isinstance(value, float) and not value.is_integer():
            raise ValueError(f"{value} is not a whole count")
        return int(value)
    if kind is float:
        return float(value)
    if kind is tuple:
        return tuple(value.tolist() if hasattr(value, "tolist") else value)
    return value


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric(
            "words",
            WordCounts,
            (
                ("hits", "hits"),
                ("subs", "subs"),
                ("dels", "dels"),
                ("ins", "ins"),
                ("ref_words", "ref_words"),
            ),
            {"wer": Rate("errors", "ref_words")},
            optional=False,
            derived=("ref_words",),
        ),
        Metric(
            "chars",
            CharCounts,
            (("ref_chars", "ref_chars"), ("char_edits", "edits")),
            {"cer": Rate("edits", "ref_chars")},
            optional=False,
        ),
        Metric(
            "boundary",
            BoundaryCounts,
            (("boundary_by_band", "by_band"), ("boundary_errors", "errors")),
            derived=("boundary_errors",),
        ),
        Metric(
            "der",
            DERCounts,
            (
                ("der_missed_s", "missed_s"),
                ("der_false_alarm_s", "false_alarm_s"),
                ("der_confusion_s", "confusion_s"),
                ("der_total_s", "total_s"),
            ),
            {
                "der": Rate("error_s", "total_s"),
                "miss": Rate("missed_s", "total_s"),
                "fa": Rate("false_alarm_s", "total_s"),
                "conf": Rate("confusion_s", "total_s"),
            },
        ),
        Metric(
            "jer",
            JERCounts,
            (("jer_speaker_error", "speaker_error"), ("jer_speakers", "speakers")),
            {"jer": Rate("speaker_error", "speakers")},
        ),
        Metric(
            "cpwer",
            CpWERCounts,
            (
                ("cp_errors", "errors"),
                ("cp_ref_words", "ref_words"),
                ("cp_subs", "substitutions"),
                ("cp_dels", "deletions"),
                ("cp_ins", "insertions"),
            ),
            {"cpwer": Rate("errors", "ref_words")},
        ),
        Metric("crosstalk", CrosstalkCounts, (("crosstalk_words", "words"),)),
        Metric(
            "terms",
            TermCounts,
            (
                ("term_ref", "ref"),
                ("term_hyp", "hyp"),
                ("term_hits", "hits"),
                ("term_errors", "bag_errors"),
            ),
            {
                "term_recall": Rate("hits", "ref"),
                "term_precision": Rate("hits", "hyp"),
                "ter": Rate("bag_errors", "ref"),
            },
            optional=False,
        ),
        Metric(
            "confidence",
            ConfidenceBins,
            (
                ("conf_words_by_bin", "words"),
                ("conf_errors_by_bin", "errors"),
                ("conf_sum_by_bin", "conf_sum"),
            ),
        ),
        Metric(
            "hallucination",
            HallucinationCounts,
            (
                ("nonspeech_s", "nonspeech_s"),
                ("nonspeech_words", "nonspeech_words"),
                ("loop_words", "loop_words"),
                ("hyp_tokens", "hyp_words"),
                ("halluc_phrases", "phrases"),
                ("halluc_audio_s", "audio_s"),
            ),
            {
                "nonspeech_ipm": Rate("nonspeech_words", "nonspeech_min"),
                "loop_share": Rate("loop_words", "hyp_words"),
                "phrases_pm": Rate("phrases", "audio_min"),
            },
        ),
        Metric(
            "timing",
            TimingCounts,
            (
                ("timed_words", "matched"),
                ("start_abs_s", "start_abs_s"),
                ("end_abs_s", "end_abs_s"),
                ("start_within_50ms", "within_50"),
                ("start_within_100ms", "within_100"),
                ("start_within_200ms", "within_200"),
                ("drift_words_by_bin", "drift_n"),
                ("drift_sum_s_by_bin", "drift_sum_s"),
            ),
            {
                "start_mae_s": Rate("start_abs_s", "matched"),
                "end_mae_s": Rate("end_abs_s", "matched"),
                "within_50ms": Rate("within_50", "matched"),
                "within_100ms": Rate("within_100", "matched"),
                "within_200ms": Rate("within_200", "matched"),
            },
        ),
        Metric(
            "edits",
            Edits,
            (("sub_words", "subs"), ("del_words", "dels"), ("ins_words", "ins")),
            optional=False,
        ),
        Metric(
            "streaming",
            StreamingCounts,
            (
                ("streamed", "streams"),
                ("first_partial_s", "first_partial_s"),
                ("partial_latency_s", "partial_latency_s"),
                ("final_latency_s", "final_latency_s"),
                ("eos_final_s", "eos_final_s"),
                ("partial_words", "partial_words"),
                ("rewritten_words", "rewritten_words"),
            ),
            {"partial_rewrites": Rate("rewritten_words", "partial_words")},
        ),
    )
}
"""Every count a row carries, by name, in the tidy table's column order."""

RATES: dict[str, tuple[Metric, Rate]] = {
    name: (m, rate) for m in METRICS.values() for name, rate in m.rates.items()
}
"""Every rate by name (``wer``, ``der``, ``cpwer``, ``ter``…), with the metric that holds it."""


def rate(name: str) -> tuple[Metric, Rate]:
    """A registered rate by name, or a ValueError listing them."""
    try:
        return RATES[name]
    except KeyError:
        raise ValueError(f"no rate {name!r}; choose one of: {', '.join(RATES)}") from None
