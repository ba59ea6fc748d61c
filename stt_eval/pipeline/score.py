"""Score one cell: a transcript (and speaker turns) against a sample's references → row counts.

Rows keep numerators and denominators only (word and character edits, DER seconds, JER
components, cpWER errors); every rate is derived later from pooled counts by the value objects
in ``metrics``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from stt_eval.diarizers.base import assign_speakers
from stt_eval.metrics.boundary import boundary_errors
from stt_eval.metrics.confidence import confidence_bins
from stt_eval.metrics.diarization import DEFAULT_COLLAR, score_diarization
from stt_eval.metrics.errors import edits, flags
from stt_eval.metrics.speaker_wer import cpwer
from stt_eval.metrics.terms import score_terms
from stt_eval.metrics.wer import WordScore, char_counts, score_text
from stt_eval.normalization.languages import english_rules_warning
from stt_eval.normalization.rules import (
    DEFAULT_PRESET,
    check_preset,
    normalizes_to_nothing,
    uses_english_rules,
)
from stt_eval.providers.keys import scrub
from stt_eval.types import ResultRow, RowDetail, Sample, SpeakerTurn, Transcript


@dataclass(frozen=True)
class Scoring:
    """How cells are scored: the text normalizer and the DER collar (md-eval's, each side)."""

    normalizer: str = DEFAULT_PRESET
    collar: float = DEFAULT_COLLAR
    skip_overlap: bool = False

    def __post_init__(self) -> None:
        check_preset(self.normalizer)


def score_row(
    base: ResultRow,
    sample: Sample,
    transcript: Transcript,
    cuts: Sequence[float],
    scoring: Scoring,
) -> ResultRow:
    """Fill a row's WER/CER counts (and errors near chunk cuts) from a transcript, with the
    analysis counts (:func:`analysis_fields`)."""
    ws = score_text(sample.text, transcript.text, scoring.normalizer, sample.language)
    cc = char_counts(ws.ref, ws.hyp)
    boundary = None
    if cuts:
        boundary = boundary_errors(
            ws, transcript.words, cuts, normalizer=scoring.normalizer, language=sample.language
        )
    fallback = (transcript.raw or {}).get("merge_fallback")
    return replace(
        base,
        hits=ws.counts.hits,
        subs=ws.counts.subs,
        dels=ws.counts.dels,
        ins=ws.counts.ins,
        ref_words=ws.counts.ref_words,
        ref_chars=cc.ref_chars,
        char_edits=cc.edits,
        boundary_errors=boundary,
        language=transcript.language,
        hypothesis=transcript.text,
        detail=RowDetail(ws.ref, ws.hyp, transcript.words),
        warning=join_warnings(
            base.warning,
            *transcript.warnings,
            f"merge fell back to {fallback}" if fallback else None,
            f"the reference has no words under the {scoring.normalizer} normalizer (only markup "
            "or fillers): WER is undefined for this row; fix the reference or drop the row"
            if normalizes_to_nothing(sample.text, scoring.normalizer, sample.language)
            else None,
            english_rules_warning(
                sample.text, uses_english_rules(scoring.normalizer, sample.language)
            ),
        ),
        **analysis_fields(ws, sample, transcript, scoring),
    )


def analysis_fields(
    ws: WordScore, sample: Sample, transcript: Transcript, scoring: Scoring
) -> dict[str, Any]:
    """Row fields for error analysis from one alignment: domain-term counts, words and errors
    per confidence bin (when the provider gives confidences), edit words and output flags."""
    terms = score_terms(sample.terms, ws, scoring.normalizer, sample.language)
    total = terms.total
    bins = confidence_bins(ws.ref, transcript.words, scoring.normalizer, sample.language)
    ed = edits(ws)
    return {
        "term_ref": total.ref,
        "term_hyp": total.hyp,
        "term_hits": total.hits,
        "term_errors": total.bag_errors,
        "terms_missed": terms.missed,
        "conf_words_by_bin": None if bins is None else bins.words,
        "conf_errors_by_bin": None if bins is None else bins.errors,
        "conf_sum_by_bin": None if bins is None else tuple(round(c, 6) for c in bins.conf_sum),
        "sub_words": ed.subs,
        "del_words": ed.dels,
        "ins_words": ed.ins,
        "flags": flags(transcript.text, ws),
    }


def score_speakers(
    row: ResultRow,
    sample: Sample,
    transcript: Transcript,
    hyp_turns: Sequence[SpeakerTurn],
    scoring: Scoring,
    *,
    labelled: bool = False,
) -> ResultRow:
    """Add DER/JER components (reference RTTM vs hypothesis turns) and cpWER (reference STM vs
    words given the speaker of the turn they overlap most, or their own speakers when the words
    come ``labelled``, as a split run's do) to a scored row."""
    if sample.turns is None:
        return row
    ds = score_diarization(
        sample.turns, hyp_turns, collar=scoring.collar, skip_overlap=scoring.skip_overlap
    )
    warning = join_warnings(row.warning, ds.reason)
    row = replace(
        row,
        der_missed_s=ds.counts.missed_s,
        der_false_alarm_s=ds.counts.false_alarm_s,
        der_confusion_s=ds.counts.confusion_s,
        der_total_s=ds.counts.total_s,
        jer_speaker_error=ds.jer_counts.speaker_error,
        jer_speakers=ds.jer_counts.speakers,
        collar_s=scoring.collar,
        warning=warning,
        detail=replace(
            row.detail or RowDetail(), ref_turns=sample.turns, hyp_turns=tuple(hyp_turns)
        ),
    )
    if sample.segments and transcript.words and hyp_turns:
        words = transcript.words if labelled else assign_speakers(transcript.words, hyp_turns)
        cp = cpwer(sample.segments, words, scoring.normalizer, sample.language)
        row = replace(
            row,
            cp_errors=cp.errors,
            cp_ref_words=cp.ref_words,
            cp_subs=cp.substitutions,
            cp_dels=cp.deletions,
            cp_ins=cp.insertions,
        )
    return row


def join_warnings(*warnings: str | None) -> str | None:
    """Several warnings as one row field (None when there are none), scrubbed of keys."""
    return scrub("; ".join(w for w in warnings if w)) or None


def failure_row(
    base: ResultRow, error: BaseException | str, failure: str = "permanent"
) -> ResultRow:
    """A failed cell: status "failed", the reason (scrubbed of keys) and whether a re-run should
    try it again (``failure``: "transient" or "permanent"); never an empty hypothesis scored as
    ok."""
    message = scrub(error if isinstance(error, str) else f"{type(error).__name__}: {error}")
    return replace(
        base,
        status="failed",
        error=message,
        failure=failure,
        hits=0,
        subs=0,
        dels=0,
        ins=0,
        ref_words=0,
        detail=None,
    )
