"""Error analysis from a WER alignment: which words are substituted, deleted and inserted, and
flags for the outputs a rate hides — hallucinations and degenerate transcripts.

Edits are kept as words so they pool by concatenation and count with a ``Counter``: the most
frequent substitutions (``ref → hyp``) show a provider's systematic confusions (names, numbers,
homophones) better than any rate.

Flags (:data:`FLAGS`), each a cheap, explainable test on one transcript:

- ``punctuation-only``: the provider returned text with no letter or digit ("...", "♪") — an
  engine that heard nothing and said so in punctuation;
- ``repetition``: an n-gram (1 ≤ n ≤ :data:`MAX_NGRAM`) repeated back to back at least
  :data:`REPEAT_MIN` times, and at least ``REPEAT_MIN − 1`` times more than the reference
  repeats it — Whisper's looping failure ("thank you. thank you. thank you."), not a greeting
  said twice and written three times;
- ``insertions``: at least :data:`INSERTION_MIN` inserted words and as many as the reference has
  words — text made up over silence or noise, or a loop on a short reference.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from stt_eval.metrics.wer import WordScore

SUB_SEPARATOR = " → "
"""Joins a substitution's reference and hypothesis word (normalized words have no spaces)."""
REPEAT_MIN = 3
MAX_NGRAM = 8
INSERTION_MIN = 5
FLAGS = ("punctuation-only", "repetition", "insertions")


@dataclass(frozen=True)
class Edits:
    """The words of a transcript's errors: substitutions as ``ref → hyp`` strings, deleted
    reference words, inserted hypothesis words."""

    subs: tuple[str, ...] = ()
    dels: tuple[str, ...] = ()
    ins: tuple[str, ...] = ()

    def __add__(self, other: Edits) -> Edits:
        if not isinstance(other, Edits):
            return NotImplemented
        return Edits(self.subs + other.subs, self.dels + other.dels, self.ins + other.ins)

    def __radd__(self, other: object) -> Edits:
        return self if other == 0 else NotImplemented  # type: ignore[return-value]


def edits(score: WordScore) -> Edits:
    """The edit words of one alignment, in order.

    >>> from stt_eval.metrics.wer import align_words
    >>> edits(align_words("the cat sat".split(), "a cat sat down".split()))
    Edits(subs=('the → a',), dels=(), ins=('down',))
    """
    subs: list[str] = []
    dels: list[str] = []
    ins: list[str] = []
    for op in score.ops:
        ref = score.ref[op.ref_start : op.ref_end]
        hyp = score.hyp[op.hyp_start : op.hyp_end]
        if op.type == "substitute":
            subs.extend(f"{r}{SUB_SEPARATOR}{h}" for r, h in zip(ref, hyp))
        elif op.type == "delete":
            dels.extend(ref)
        elif op.type == "insert":
            ins.extend(hyp)
    return Edits(tuple(subs), tuple(dels), tuple(ins))


def split_sub(pair: str) -> tuple[str, str]:
    """``"ref → hyp"`` back into its two words."""
    ref, _, hyp = pair.partition(SUB_SEPARATOR)
    return ref, hyp


def _run(tokens: Sequence[str], at: int, n: int) -> int:
    """How many times the n-gram starting at ``at`` repeats back to back from there."""
    gram, reps, j = list(tokens[at : at + n]), 1, at + n
    while list(tokens[j : j + n]) == gram:
        reps, j = reps + 1, j + n
    return reps


def longest_runs(tokens: Sequence[str], max_n: int = MAX_NGRAM) -> dict[tuple[str, ...], int]:
    """N-grams that repeat back to back, with their longest run (2 or more), scanning left to
    right: a run's shifted copies ("b a" inside "a b a b a b") are not listed again.

    >>> longest_runs("go go go now".split())
    {('go',): 3}
    """
    runs: dict[tuple[str, ...], int] = {}
    for n in range(1, max_n + 1):
        i = 0
        while i + 2 * n <= len(tokens):
            reps = _run(tokens, i, n)
            if reps >= 2:
                gram = tuple(tokens[i : i + n])
                runs[gram] = max(runs.get(gram, 0), reps)
                i += n * (reps - 1)
            else:
                i += 1
    return runs


def _repeats_more(hyp: Sequence[str], ref: Sequence[str]) -> bool:
    ref_runs = longest_runs(ref)
    return any(
        reps >= REPEAT_MIN and reps - ref_runs.get(gram, 1) >= REPEAT_MIN - 1
        for gram, reps in longest_runs(hyp).items()
    )


def flags(raw_hypothesis: str, score: WordScore) -> tuple[str, ...]:
    """The :data:`FLAGS` that apply to one transcript (raw provider text and its alignment).

    >>> from stt_eval.metrics.wer import align_words
    >>> flags("...", align_words(["hello"], []))
    ('punctuation-only',)
    >>> flags("", align_words(["hi"], "thank you thank you thank you".split()))
    ('repetition', 'insertions')
    """
    out = []
    text = raw_hypothesis.strip()
    if text and not any(ch.isalnum() for ch in text):
        out.append("punctuation-only")
    if _repeats_more(score.hyp, score.ref):
        out.append("repetition")
    ins = score.counts.ins
    if ins >= INSERTION_MIN and ins >= score.counts.ref_words:
        out.append("insertions")
    return tuple(out)
