"""Domain terms: are the words that matter to a team (names, drugs, products) transcribed?

A sample lists its terms (``Sample.terms``; multi-word terms allowed). Each term is normalized
with the same preset as the transcripts, so "New Jersey" matches "new jersey" and "twenty five"
matches "25", and is then found in the normalized reference and hypothesis as a run of words.
A term is normalized on its own, so a rule that depends on context can keep it from matching
(the ``whisper`` preset writes "twenty five dollars" as "$25", so the term "twenty five" is not
found there): list such a term as it normalizes in its sentence ("$25").

Counts per sample (:class:`TermCounts`, which add, so ``sum()`` pools them over files):

- ``ref``: occurrences of the terms in the reference;
- ``hyp``: occurrences in the hypothesis;
- ``hits``: reference occurrences *recognised*: every word of the occurrence is aligned as a
  correct word (the WER alignment) to consecutive hypothesis words. A term said once and
  transcribed once somewhere else in the file is not a hit;
- ``bag_errors``: Σ over terms of ``|R(t) − H(t)|``, the numerator of the term error rate.

From them: **recall** = hits / ref (the share of spoken terms the transcript gets right);
**precision** = hits / hyp (the share of the terms it writes that were said there; the other
``hyp − hits`` are false alarms); **term error rate**, as the spoken-document-retrieval
community defined it and teams still report it::

    TER = Σ_t |R(t) − H(t)| / Σ_t R(t)

with R(t), H(t) the occurrences of term t in the reference and hypothesis of a file, summed over
files (S. E. Johnson et al., "The Cambridge University Spoken Document Retrieval System", ICASSP
1999; used in the TREC-7/8 SDR track, Garofolo et al. 2000). TER counts terms as a bag per file
— a term moved within the file costs nothing, a missing one costs 1, an extra one 1 — so it can
exceed 100 % and it is not 1 − recall.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from stt_eval.metrics.wer import WordScore
from stt_eval.normalization.rules import DEFAULT_PRESET
from stt_eval.normalization.rules import words as normalized_words


@dataclass(frozen=True)
class TermCounts:
    """Term occurrences in reference and hypothesis, those recognised, and the TER numerator."""

    ref: int = 0
    hyp: int = 0
    hits: int = 0
    bag_errors: int = 0

    def __post_init__(self) -> None:
        for name in ("ref", "hyp", "hits", "bag_errors"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"TermCounts: {name}={value!r} must be an int >= 0")
        if self.hits > min(self.ref, self.hyp):
            raise ValueError(
                f"TermCounts: hits={self.hits} cannot exceed ref={self.ref} or hyp={self.hyp}"
            )

    def __add__(self, other: TermCounts) -> TermCounts:
        if not isinstance(other, TermCounts):
            return NotImplemented
        return TermCounts(
            self.ref + other.ref,
            self.hyp + other.hyp,
            self.hits + other.hits,
            self.bag_errors + other.bag_errors,
        )

    def __radd__(self, other: object) -> TermCounts:
        return self if other == 0 else NotImplemented  # type: ignore[return-value]

    @property
    def missed(self) -> int:
        return self.ref - self.hits

    @property
    def false_alarms(self) -> int:
        return self.hyp - self.hits

    @property
    def recall(self) -> float:
        """hits / reference occurrences; NaN when no term was said."""
        return self.hits / self.ref if self.ref else float("nan")

    @property
    def precision(self) -> float:
        """hits / hypothesis occurrences; NaN when the transcript has none."""
        return self.hits / self.hyp if self.hyp else float("nan")

    @property
    def ter(self) -> float:
        """Σ|R(t) − H(t)| / Σ R(t) (see the module docstring); NaN when no term was said."""
        return self.bag_errors / self.ref if self.ref else float("nan")


@dataclass(frozen=True)
class TermScore:
    """Counts per normalized term, and the terms of the reference occurrences missed."""

    per_term: Mapping[str, TermCounts]
    missed: tuple[str, ...] = ()

    @property
    def total(self) -> TermCounts:
        return sum(self.per_term.values(), TermCounts())


def normalize_terms(
    terms: Iterable[str], normalizer: str = DEFAULT_PRESET, language: str = "en"
) -> tuple[tuple[str, ...], ...]:
    """Each term as normalized words (like the transcripts); duplicates and terms that
    normalize to nothing are dropped, order kept.

    >>> normalize_terms(["New Jersey", "new jersey!", "uh", "Twenty five"])
    (('new', 'jersey'), ('25',))
    """
    out: dict[tuple[str, ...], None] = {}
    for term in terms:
        tokens = tuple(normalized_words(term, normalizer, language))
        if tokens:
            out.setdefault(tokens, None)
    return tuple(out)


def occurrences(tokens: Sequence[str], term: Sequence[str]) -> list[int]:
    """Start indices of ``term`` in ``tokens``, left to right, not overlapping.

    >>> occurrences("a b a b a".split(), ["a", "b", "a"])
    [0]
    """
    n, found, i = len(term), [], 0
    term = list(term)
    while n and i + n <= len(tokens):
        if list(tokens[i : i + n]) == term:
            found.append(i)
            i += n
        else:
            i += 1
    return found


def _aligned(score: WordScore) -> dict[int, int]:
    """Reference index → hypothesis index of every word aligned as correct."""
    out = {}
    for op in score.ops:
        if op.type == "equal":
            for k in range(op.ref_end - op.ref_start):
                out[op.ref_start + k] = op.hyp_start + k
    return out


def score_terms(
    terms: Iterable[str],
    score: WordScore,
    normalizer: str = DEFAULT_PRESET,
    language: str = "en",
) -> TermScore:
    """Term counts of one sample from its WER alignment (``score`` from ``score_text`` with the
    same normalizer, so the words it aligned are the words the terms are looked up in)."""
    aligned = _aligned(score)
    per_term: dict[str, TermCounts] = {}
    missed: list[str] = []
    for term in normalize_terms(terms, normalizer, language):
        name = " ".join(term)
        in_ref = occurrences(score.ref, term)
        in_hyp = set(occurrences(score.hyp, term))
        hits = 0
        for start in in_ref:
            at = aligned.get(start)
            recognised = at in in_hyp and all(
                aligned.get(start + k) == at + k for k in range(len(term))
            )
            if recognised:
                hits += 1
                in_hyp.discard(at)  # one hypothesis occurrence recognises one reference one
            else:
                missed.append(name)
        n_hyp = len(occurrences(score.hyp, term))
        per_term[name] = TermCounts(len(in_ref), n_hyp, hits, abs(len(in_ref) - n_hyp))
    return TermScore(per_term, tuple(missed))
