"""Whether a corpus score is a number at all: a WER needs reference words and ids shared by
both sides. Refusing (naming both files and why) is a scoring rule, so it lives with the
scores, not with the readers of the files."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path

from stt_eval.errors import BadInput
from stt_eval.metrics.wer import CorpusScore


class NothingToScore(BadInput):
    """References and hypotheses give no word to score (no shared id, or references that hold no
    words): a WER would be undefined, so none is reported. Names both files."""


class IncompleteHypotheses(BadInput):
    """``strict``: a reference has no hypothesis (otherwise scored as all deletions)."""


def some_ids(ids: Collection[str], shown: int = 3) -> str:
    """A few ids of a collection, for messages: "5 id(s), e.g. 'a', 'b', 'c'"."""
    first = ", ".join(repr(i) for i in list(ids)[:shown])
    return f"{len(ids)} id(s), e.g. {first}" if len(ids) > shown else f"{len(ids)} id(s): {first}"


def check_scorable(
    score: CorpusScore,
    references: Path,
    hypotheses: Path,
    refs: Mapping[str, str],
    hyps: Mapping[str, str],
    normalizer: str,
    strict: bool = False,
) -> None:
    """Raise NothingToScore, naming both files and why, when no reference word was scored or
    no id is on both sides (the wrong file: every reference would be all deletions); with
    ``strict``, IncompleteHypotheses when a reference has no hypothesis."""
    if score.total.ref_words and set(refs) & set(hyps):
        if strict:
            check_complete(score, hypotheses)
        return
    if not refs or not hyps:
        which, kind = (references, "references") if not refs else (hypotheses, "hypotheses")
        raise NothingToScore(
            f"{which} holds no {kind}, so nothing in {references} and {hypotheses} can be "
            "scored; check you passed the right file (trn lines are 'words (id)', JSONL rows "
            '{"id": …, "text": …})'
        )
    if not set(refs) & set(hyps):
        raise NothingToScore(
            f"{references} and {hypotheses} share no utterance id (references: {some_ids(refs)}; "
            f"hypotheses: {some_ids(hyps)}); ids must match exactly, case and punctuation included"
        )
    raise NothingToScore(
        f"the references in {references} shared with {hypotheses} hold no words after the "
        f"{normalizer!r} normalizer ({some_ids(score.empty_references)} normalize to nothing: "
        "only markup such as [noise] or {laugh}), so WER is undefined; add the words that "
        "were said, or score with another normalizer (normalizer='none', --normalizer none)"
    )


def check_complete(score: CorpusScore, hypotheses: Path) -> None:
    """``--strict``: raise IncompleteHypotheses naming the references with no hypothesis, which
    are otherwise scored as all deletions."""
    if score.missing_hypotheses:
        raise IncompleteHypotheses(
            f"{hypotheses} has no hypothesis for {some_ids(score.missing_hypotheses)}; add them "
            "(an empty text if the system said nothing), or drop --strict to score them as all "
            "deletions"
        )
