"""Score one cell: a transcript (and speaker turns) against a sample's references → row counts.

Rows keep numerators and denominators only (word and character edits, DER seconds, JER
components, cpWER errors); every rate is derived later from pooled counts by the value objects
in ``metrics``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from stt_eval.diarizers.base import assign_speakers
from stt_eval.metrics.boundary import cut_attributed
from stt_eval.metrics.confidence import confidence_bins
from stt_eval.metrics.diarization import DEFAULT_COLLAR, score_diarization
from stt_eval.metrics.errors import edits, flags
from stt_eval.metrics.hallucination import (
    HallucinationCounts,
    known_phrases,
    loop_words,
    nonspeech_seconds,
    nonspeech_words,
    speech_spans,
)
from stt_eval.metrics.speaker_wer import cpwer
from stt_eval.metrics.terms import score_terms
from stt_eval.metrics.timing import timing_counts
from stt_eval.metrics.wer import WordScore, align_words, char_counts, score_text
from stt_eval.normalization.languages import english_rules_warning
from stt_eval.normalization.rules import (
    DEFAULT_PRESET,
    check_preset,
    normalizes_to_nothing,
    uses_english_rules,
)
from stt_eval.providers.keys import scrub
from stt_eval.rows import Counts, ResultRow
from stt_eval.types import RowDetail, Sample, SpeakerTurn, Transcript

Span = tuple[float, float]


@dataclass(frozen=True)
class Scoring:
    """How cells are scored: the text normalizer and the DER collar (md-eval's, each side)."""

    normalizer: str = DEFAULT_PRESET
    collar: float = DEFAULT_COLLAR
    skip_overlap: bool = False

    def __post_init__(self) -> None:
        check_preset(self.normalizer)


@dataclass(frozen=True)
class Scored:
    """What scoring one transcript gives its row: the counts, what the analysis lists (terms
    missed, output flags), the texts, the detail behind the counts, and warnings."""

    counts: Counts
    hypothesis: str
    language: str | None
    terms_missed: tuple[str, ...]
    flags: tuple[str, ...]
    detail: RowDetail
    warning: str | None = None
    collar_s: float | None = None


def hallucination_counts(
    sample: Sample,
    transcript: Transcript,
    ws: WordScore,
    heard: Span,
    padding: Span,
    scoring: Scoring,
) -> HallucinationCounts:
    """Non-speech words, loops and known phrases of one transcript; ``heard`` is the span of the
    audio the engine heard (padding included) on the timeline of the sample's reference times,
    ``padding`` the seconds a condition added before and after the recording."""
    recording = (heard[0] + padding[0], heard[1] - padding[1])
    speech = speech_spans(heard, sample.ref_words, sample.turns, recording)
    timed = bool(transcript.words) or not ws.hyp  # without word times, where is unknown
    return HallucinationCounts(
        nonspeech_seconds(heard, speech) if timed else 0.0,
        nonspeech_words(transcript.words, heard, speech, scoring.normalizer, sample.language),
        loop_words(ws.hyp, ws.ref),
        len(ws.hyp),
        known_phrases(ws.hyp, ws.ref, normalizer=scoring.normalizer, language=sample.language),
        heard[1] - heard[0],
    )


def score_transcript(
    sample: Sample,
    transcript: Transcript,
    cuts: Sequence[float],
    scoring: Scoring,
    heard: Span | None = None,
    padding: Span = (0.0, 0.0),
) -> Scored:
    """A transcript's WER/CER counts with the analysis counts from the same alignment: domain
    terms, words and errors per confidence bin (when the provider gives confidences), edit words,
    output flags, hallucinations (over ``heard``, the span of audio the engine heard; not counted
    without it) and word timing (with reference times). Boundary errors need the unchunked
    transcript too: ``attribute_cuts``."""
    ws = score_text(sample.text, transcript.text, scoring.normalizer, sample.language)
    terms = score_terms(sample.terms, ws, scoring.normalizer, sample.language)
    bins = confidence_bins(ws.ref, transcript.words, scoring.normalizer, sample.language)
    if bins is not None:
        bins = replace(bins, conf_sum=tuple(round(c, 6) for c in bins.conf_sum))
    counts = Counts(
        {
            "words": ws.counts,
            "chars": char_counts(ws.ref, ws.hyp),
            "terms": terms.total,
            "confidence": bins,
            "edits": edits(ws),
            "timing": timing_counts(
                sample.ref_words, transcript.words, scoring.normalizer, sample.language
            ),
            "hallucination": None
            if heard is None
            else hallucination_counts(sample, transcript, ws, heard, padding, scoring),
        }
    )
    fallback = (transcript.raw or {}).get("merge_fallback")
    warning = join_warnings(
        *transcript.warnings,
        f"merge fell back to {fallback}" if fallback else None,
        f"the reference has no words under the {scoring.normalizer} normalizer (only markup "
        "or fillers): WER is undefined for this row; fix the reference or drop the row"
        if normalizes_to_nothing(sample.text, scoring.normalizer, sample.language)
        else None,
        english_rules_warning(sample.text, uses_english_rules(scoring.normalizer, sample.language)),
    )
    return Scored(
        counts,
        transcript.text,
        transcript.language,
        terms.missed,
        flags(transcript.text, ws),
        RowDetail(ws.ref, ws.hyp, transcript.words, cuts=tuple(cuts)),
        warning,
    )


def attribute_cuts(rows: Sequence[ResultRow], scoring: Scoring, language: str) -> list[ResultRow]:
    """Each chunked row of one sample and condition with its cut-attributed errors
    (``metrics.boundary.cut_attributed``) against the unchunked row of the same provider and
    channel mode; a chunked row without one keeps None: not attributed."""
    unchunked = {
        (r.identity.provider, r.identity.channel_mode): r.detail
        for r in rows
        if r.identity.chunking == "none" and r.status == "ok" and r.detail is not None
    }
    out = []
    for row in rows:
        whole = unchunked.get((row.identity.provider, row.identity.channel_mode))
        if row.identity.chunking != "none" and row.status == "ok" and row.detail and whole:
            counts = cut_attributed(
                align_words(row.detail.ref, row.detail.hyp),
                align_words(whole.ref, whole.hyp),
                whole.words,
                row.detail.cuts,
                scoring.normalizer,
                language,
            )
            row = replace(row, counts=row.counts.set(boundary=counts))
        out.append(row)
    return out


def score_speakers(
    scored: Scored,
    sample: Sample,
    transcript: Transcript,
    hyp_turns: Sequence[SpeakerTurn],
    scoring: Scoring,
    *,
    labelled: bool = False,
) -> Scored:
    """Add DER/JER components (reference RTTM vs hypothesis turns) and cpWER (reference STM vs
    words given the speaker of the turn they overlap most, or their own speakers when the words
    come ``labelled``, as a split run's do) to a scored transcript."""
    if sample.turns is None:
        return scored
    ds = score_diarization(
        sample.turns, hyp_turns, collar=scoring.collar, skip_overlap=scoring.skip_overlap
    )
    cp = None
    if sample.segments and transcript.words and hyp_turns:
        words = transcript.words if labelled else assign_speakers(transcript.words, hyp_turns)
        cp = cpwer(sample.segments, words, scoring.normalizer, sample.language)
    return replace(
        scored,
        counts=scored.counts.set(der=ds.counts, jer=ds.jer_counts, cpwer=cp),
        collar_s=scoring.collar,
        warning=join_warnings(scored.warning, ds.reason),
        detail=replace(scored.detail, ref_turns=sample.turns, hyp_turns=tuple(hyp_turns)),
    )


def scored_row(base: ResultRow, scored: Scored, *warnings: str | None) -> ResultRow:
    """`base` (a cell's identity, measurement and provenance) with what scoring gave it; its
    warning is base's, then `warnings` (the audio's), then scoring's."""
    return replace(
        base,
        identity=replace(base.identity, collar_s=scored.collar_s),
        warning=join_warnings(base.warning, *warnings, scored.warning),
        counts=scored.counts,
        language=scored.language,
        hypothesis=scored.hypothesis,
        terms_missed=scored.terms_missed,
        flags=scored.flags,
        detail=scored.detail,
    )


def join_warnings(*warnings: str | None) -> str | None:
    """Several warnings as one row field (None when there are none), scrubbed of keys."""
    return scrub("; ".join(w for w in warnings if w)) or None
