"""Word error rate from pooled counts, aligned by rapidfuzz's Levenshtein opcodes (what jiwer
calls, here on one character a word).

Counts add (``sum(counts)`` pools them); rates are derived from the pooled counts, never by
averaging per-file rates. The S/D/I split is jiwer's unit-cost Levenshtein alignment; sclite
weighs substitutions 4 and deletions/insertions 3, so on ties the split can differ while the total
number of errors and reference words agree.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from rapidfuzz.distance import Levenshtein

from stt_eval.errors import BadArgument
from stt_eval.normalization.batch import CorpusNormalizer, WordCodes
from stt_eval.normalization.rules import DEFAULT_PRESET, check_preset, words


def json_rate(rate: float) -> float | None:
    """A rate for JSON: None (null) when it is undefined (NaN), since JSON has no NaN."""
    return None if math.isnan(rate) else rate


@dataclass(frozen=True)
class WordCounts:
    """Hits, substitutions, deletions and insertions of a word alignment; adds with ``+``."""

    hits: int = 0
    subs: int = 0
    dels: int = 0
    ins: int = 0

    def __post_init__(self) -> None:
        for name in ("hits", "subs", "dels", "ins"):
            if getattr(self, name) < 0:
                raise ValueError(f"WordCounts: {name}={getattr(self, name)} must be >= 0")

    def __add__(self, other: WordCounts) -> WordCounts:
        if not isinstance(other, WordCounts):
            return NotImplemented
        return WordCounts(
            self.hits + other.hits,
            self.subs + other.subs,
            self.dels + other.dels,
            self.ins + other.ins,
        )

    def __radd__(self, other: object) -> WordCounts:
        if other == 0:  # lets the built-in sum() start from 0
            return self
        return NotImplemented  # type: ignore[return-value]

    @property
    def ref_words(self) -> int:
        return self.hits + self.subs + self.dels

    @property
    def hyp_words(self) -> int:
        return self.hits + self.subs + self.ins

    @property
    def errors(self) -> int:
        return self.subs + self.dels + self.ins

    @property
    def wer(self) -> float:
        """(S + D + I) / N; NaN when there are no reference words."""
        return self.errors / self.ref_words if self.ref_words else float("nan")

    @property
    def mer(self) -> float:
        """Match error rate: (S + D + I) / (H + S + D + I)."""
        total = self.hits + self.errors
        return self.errors / total if total else float("nan")

    @property
    def wil(self) -> float:
        """Word information lost: 1 − H²/(N·P)."""
        if not self.ref_words or not self.hyp_words:
            return float("nan") if not (self.ref_words or self.hyp_words) else 1.0
        return 1.0 - self.hits**2 / (self.ref_words * self.hyp_words)

    def as_dict(self) -> dict[str, Any]:
        """Counts and rates as JSON-safe values: an undefined rate (no reference words) is None,
        so ``json.dumps`` writes ``null``, never the invalid ``NaN``."""
        counts = ("hits", "subs", "dels", "ins", "ref_words", "hyp_words", "errors")
        rates = {name: json_rate(getattr(self, name)) for name in ("wer", "mer", "wil")}
        return {**{name: getattr(self, name) for name in counts}, **rates}


@dataclass(frozen=True)
class AlignedOp:
    """One run of the alignment: equal / substitute / delete / insert over index ranges."""

    type: str
    ref_start: int
    ref_end: int
    hyp_start: int
    hyp_end: int


@dataclass(frozen=True)
class WordScore:
    """The counts of one reference/hypothesis pair and the alignment that produced them."""

    counts: WordCounts
    ref: tuple[str, ...]
    hyp: tuple[str, ...]
    ops: tuple[AlignedOp, ...]


@dataclass(frozen=True)
class CharCounts:
    """Character edits and reference characters (for CER); adds with ``+``."""

    edits: int = 0
    ref_chars: int = 0

    def __add__(self, other: CharCounts) -> CharCounts:
        return CharCounts(self.edits + other.edits, self.ref_chars + other.ref_chars)

    def __radd__(self, other: object) -> CharCounts:
        return self if other == 0 else NotImplemented  # type: ignore[return-value]

    @property
    def cer(self) -> float:
        return self.edits / self.ref_chars if self.ref_chars else float("nan")

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe counts and CER (None when there are no reference characters)."""
        return {"edits": self.edits, "ref_chars": self.ref_chars, "cer": json_rate(self.cer)}


def align_words(ref: Sequence[str], hyp: Sequence[str]) -> WordScore:
    """Align two word lists (already normalized) and count the edits."""
    ref, hyp = tuple(ref), tuple(hyp)
    codes = WordCodes()
    counts, ops = _align_coded(codes.encode(ref), codes.encode(hyp), keep_ops=True)
    return WordScore(counts, ref, hyp, ops)


def score_text(
    reference: str, hypothesis: str, normalizer: str = DEFAULT_PRESET, language: str = "en"
) -> WordScore:
    """Normalize both sides with the same preset, then align and count."""
    return align_words(
        words(reference, normalizer, language), words(hypothesis, normalizer, language)
    )


def char_counts(ref_words: Sequence[str], hyp_words: Sequence[str]) -> CharCounts:
    """Character edits between the normalized texts (spaces included, as jiwer's CER counts
    them: the unit-cost edit distance)."""
    ref, hyp = " ".join(ref_words), " ".join(hyp_words)
    if not ref:
        return CharCounts(len(hyp), 0)
    if not hyp:
        return CharCounts(len(ref), len(ref))
    return CharCounts(Levenshtein.distance(ref, hyp), len(ref))


@dataclass(frozen=True)
class CorpusScore:
    """Per-utterance counts for every reference id (one with no hypothesis is all deletions),
    the ids present on one side only, and the ids whose reference normalizes to nothing (only
    markup such as ``[inaudible]``): those are reported, not scored. ``alignments`` (when
    asked for) holds each scored utterance's normalized words and edit runs; ``chars`` (when
    asked for) its character edits, for CER."""

    per_utterance: dict[str, WordCounts]
    missing_hypotheses: tuple[str, ...]
    missing_references: tuple[str, ...]
    empty_references: tuple[str, ...] = ()
    alignments: Mapping[str, WordScore] = field(default_factory=dict)
    chars: Mapping[str, CharCounts] = field(default_factory=dict)
    by: str | None = None
    groups: Mapping[str, WordCounts] = field(default_factory=dict)
    """Pooled counts per value of label ``by`` (see :meth:`breakdown`), when asked for."""

    @cached_property
    def total(self) -> WordCounts:
        """The pooled counts (summed field by field: a million ``+`` would take a second)."""
        c = self.per_utterance.values()
        return WordCounts(
            sum(x.hits for x in c),
            sum(x.subs for x in c),
            sum(x.dels for x in c),
            sum(x.ins for x in c),
        )

    @property
    def total_chars(self) -> CharCounts:
        return sum(self.chars.values(), CharCounts())

    def breakdown(self, labels: Mapping[str, Mapping[str, str]], key: str) -> dict[str, WordCounts]:
        """Pooled counts per value of label ``key`` (``spk``, ``meta.channel``); utterances
        without that label pool under ``"(none)"``."""
        out: dict[str, WordCounts] = {}
        for uid, counts in self.per_utterance.items():
            value = labels.get(uid, {}).get(key, "(none)")
            out[value] = out.get(value, WordCounts()) + counts
        return dict(sorted(out.items()))

    def as_dict(self) -> dict[str, Any]:
        """The whole score as JSON-safe values (undefined rates are None, i.e. ``null``)."""
        out = {
            "total": self.total.as_dict(),
            "per_utterance": {uid: c.as_dict() for uid, c in self.per_utterance.items()},
            "missing_hypotheses": list(self.missing_hypotheses),
            "missing_references": list(self.missing_references),
            "empty_references": list(self.empty_references),
        }
        if self.chars:
            out["total_chars"] = self.total_chars.as_dict()
        if self.by:
            out["by"] = {self.by: {k: c.as_dict() for k, c in self.groups.items()}}
        return out


PARALLEL_MIN_UTTERANCES = 20_000
"""Below this many utterances a second process costs more than it saves."""


_KIND = {"replace": "substitute"}
"""rapidfuzz's name of an edit → ours (and jiwer's)."""


def _align_coded(ref: str, hyp: str, keep_ops: bool) -> tuple[WordCounts, tuple[AlignedOp, ...]]:
    """Counts (and, with ``keep_ops``, edit runs) of one pair of texts given as
    :class:`~stt_eval.normalization.batch.WordCodes` strings: rapidfuzz's Levenshtein
    alignment, the very one ``jiwer.process_words`` takes (it maps words to integers), without
    building its per-utterance objects."""
    if not ref or not hyp:
        ops = [AlignedOp("delete", 0, len(ref), 0, 0)] if ref else []
        ops += [AlignedOp("insert", 0, 0, 0, len(hyp))] if hyp else []
        return WordCounts(dels=len(ref), ins=len(hyp)), tuple(ops)
    if keep_ops:
        ops = tuple(
            AlignedOp(_KIND.get(kind, kind), *span) for kind, *span in Levenshtein.opcodes(ref, hyp)
        )
        hits = sum(op.ref_end - op.ref_start for op in ops if op.type == "equal")
        dels = sum(op.ref_end - op.ref_start for op in ops if op.type == "delete")
        ins = sum(op.hyp_end - op.hyp_start for op in ops if op.type == "insert")
        return WordCounts(hits, len(ref) - hits - dels, dels, ins), ops
    subs = dels = ins = 0
    if ref != hyp:
        for kind, _, _ in Levenshtein.editops(ref, hyp):
            if kind == "replace":
                subs += 1
            elif kind == "delete":
                dels += 1
            else:
                ins += 1
    return WordCounts(len(ref) - subs - dels, subs, dels, ins), ()


_Scored = tuple[WordCounts, WordScore | None, CharCounts | None] | None


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: scoring allocates millions of small acyclic lists and
    tuples, and the collections they trigger cost ~15 % of the time while freeing nothing."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _score_pairs(args: tuple[list[str], list[str], str, str, bool, bool]) -> list[_Scored]:
    """Normalize, align and count each (reference, hypothesis) pair; None where the reference
    normalizes to nothing. Runs in a worker process for large corpora."""
    with _gc_paused():
        return _score_pairs_now(*args)


def _score_pairs_now(
    refs: list[str], hyps: list[str], normalizer: str, language: str, alignments: bool, cer: bool
) -> list[_Scored]:
    norm = CorpusNormalizer(normalizer, language)
    coded = norm.coded(refs + hyps)
    decode = norm.codes.decode
    out: list[_Scored] = []
    for r, h in zip(refs, hyps, strict=True):
        rc, hc = coded[r], coded[h]
        if not rc:
            out.append(None)
            continue
        counts, ops = _align_coded(rc, hc, alignments)
        if not (alignments or cer):
            out.append((counts, None, None))
            continue
        rw, hw = decode(rc), decode(hc)
        ws = WordScore(counts, tuple(rw), tuple(hw), ops) if alignments else None
        out.append((counts, ws, char_counts(rw, hw) if cer else None))
    return out


def score_corpus(
    references: dict[str, str],
    hypotheses: dict[str, str],
    normalizer: str = DEFAULT_PRESET,
    language: str = "en",
    *,
    alignments: bool = False,
    cer: bool = False,
    workers: int = 1,
) -> CorpusScore:
    """Score transcripts matched by id; ids on one side only, and references that normalize to
    nothing, are reported, never dropped or counted silently. A reference with no hypothesis
    is scored as all deletions (the system said nothing for it), and listed; a hypothesis with
    no reference cannot be scored, and is listed. ``alignments`` keeps each utterance's
    alignment, ``cer`` counts character edits too; ``workers`` processes score a large corpus
    in parts (counts are sums, so they are the same for any number)."""
    check_preset(normalizer)
    shared = list(references)
    refs = [references[u] for u in shared]
    hyps = [hypotheses.get(u, "") for u in shared]
    if not isinstance(workers, int) or workers < 1:
        raise BadArgument("workers", f"workers={workers!r} must be a whole number >= 1")
    if workers == 1 or len(shared) < PARALLEL_MIN_UTTERANCES:
        scored = _score_pairs((refs, hyps, normalizer, language, alignments, cer))
    else:
        from concurrent.futures import ProcessPoolExecutor

        size = -(-len(shared) // workers)
        parts = [
            (refs[i : i + size], hyps[i : i + size], normalizer, language, alignments, cer)
            for i in range(0, len(shared), size)
        ]
        with ProcessPoolExecutor(workers) as pool:
            scored = [s for part in pool.map(_score_pairs, parts) for s in part]
    done = [(uid, s) for uid, s in zip(shared, scored, strict=True) if s is not None]
    return CorpusScore(
        {uid: s[0] for uid, s in done},
        tuple(sorted(set(references) - set(hypotheses))),
        tuple(sorted(set(hypotheses) - set(references))),
        tuple(uid for uid, s in zip(shared, scored, strict=True) if s is None),
        {uid: s[1] for uid, s in done if s[1] is not None},
        {uid: s[2] for uid, s in done if s[2] is not None},
    )
