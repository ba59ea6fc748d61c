"""Score one cell: a transcript (and speaker turns) against a sample's references → row counts.

Rows keep numerators and denominators only (word and character edits, DER seconds, JER
components, cpWER errors); every rate is derived later from pooled counts by the value objects
in ``metrics``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from stt_eval.diarizers.base import assign_speakers
from stt_eval.metrics.boundary import boundary_errors
from stt_eval.metrics.diarization import DEFAULT_COLLAR, score_diarization
from stt_eval.metrics.speaker_wer import cpwer
from stt_eval.metrics.wer import char_counts, score_text
from stt_eval.normalize import DEFAULT_PRESET, check_preset
from stt_eval.types import ResultRow, Sample, SpeakerTurn, Transcript


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
    """Fill a row's WER/CER counts (and errors near chunk cuts) from a transcript."""
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
        warning=f"merge fell back to {fallback}" if fallback else base.warning,
    )


def score_speakers(
    row: ResultRow,
    sample: Sample,
    transcript: Transcript,
    hyp_turns: Sequence[SpeakerTurn],
    scoring: Scoring,
) -> ResultRow:
    """Add DER/JER components (reference RTTM vs hypothesis turns) and cpWER (reference STM vs
    words given the speaker of the turn they overlap most) to a scored row."""
    if sample.turns is None:
        return row
    ds = score_diarization(
        sample.turns, hyp_turns, collar=scoring.collar, skip_overlap=scoring.skip_overlap
    )
    warning = "; ".join(w for w in (row.warning, ds.reason) if w) or None
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
    )
    if sample.segments and transcript.words and hyp_turns:
        words = assign_speakers(transcript.words, hyp_turns)
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


def failure_row(base: ResultRow, error: BaseException | str) -> ResultRow:
    """A failed cell: status "failed" and the reason; never an empty hypothesis scored as ok."""
    message = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    return replace(base, status="failed", error=message, hits=0, subs=0, dels=0, ins=0, ref_words=0)
