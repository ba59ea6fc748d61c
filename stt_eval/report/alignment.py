"""A word alignment as sclite's ``pralign`` shows it: REF / HYP / Eval columns, errors
upper-cased, ``***`` for a missing word, S/D/I under each error. ``stt-eval score --align``
prints it; the report shows the worst files with it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from stt_eval.metrics.wer import WordScore, score_text

MARKS = {"equal": "", "substitute": "S", "delete": "D", "insert": "I"}
"""The Eval mark of each jiwer alignment operation."""


def columns(score: WordScore) -> list[tuple[str, str, str]]:
    """One (reference word, hypothesis word, mark) per aligned position.

    >>> from stt_eval.metrics.wer import align_words
    >>> columns(align_words("the cat sat".split(), "a cat sat down".split()))
    [('THE', 'A', 'S'), ('cat', 'cat', ''), ('sat', 'sat', ''), ('****', 'DOWN', 'I')]
    """
    out = []
    for op in score.ops:
        r = list(score.ref[op.ref_start : op.ref_end])
        h = list(score.hyp[op.hyp_start : op.hyp_end])
        n = max(len(r), len(h))
        r += ["*" * len(w) for w in h[len(r) :]]
        h += ["*" * len(w) for w in r[len(h) :]]
        same = op.type == "equal"
        for rw, hw in zip(r[:n], h[:n], strict=True):
            out.append((rw if same else rw.upper(), hw if same else hw.upper(), MARKS[op.type]))
    return out


def pralign_lines(uid: str, score: WordScore, width: int | None = None) -> list[str]:
    """The alignment as text: an id line, the counts, then REF / HYP / Eval rows (wrapped into
    blocks of at most `width` characters when given, so long files stay readable)."""
    blocks: list[list[tuple[str, str, str]]] = [[]]
    used = 6
    for ref, hyp, mark in columns(score):
        w = max(len(ref), len(hyp))
        cell = (ref.ljust(w), hyp.ljust(w), mark.ljust(w))
        if width and blocks[-1] and used + w + 1 > width:
            blocks.append([])
            used = 6
        blocks[-1].append(cell)
        used += w + 1
    c = score.counts
    out = [f"id: ({uid})", f"Scores: (#C #S #D #I) {c.hits} {c.subs} {c.dels} {c.ins}"]
    for block in blocks:
        for label, i in (("REF:  ", 0), ("HYP:  ", 1), ("Eval: ", 2)):
            out.append((label + " ".join(cell[i] for cell in block)).rstrip())
    return [*out, ""]


def row_alignment(row: Mapping[str, Any], languages: Sequence[str] = ("en",)) -> WordScore | None:
    """The alignment behind a result row's counts, redone from its stored reference and
    hypothesis with its normalizer; None when that does not give the row's S/D/I (rows carry
    the detected language, not the sample's, so `languages` and it are tried in turn)."""
    stored = tuple(int(row[k]) for k in ("subs", "dels", "ins", "ref_words"))
    for language in dict.fromkeys([*languages, row.get("language") or "en"]):
        score = score_text(
            str(row.get("reference") or ""),
            str(row.get("hypothesis") or ""),
            str(row["normalizer"]),
            language,
        )
        c = score.counts
        if (c.subs, c.dels, c.ins, c.ref_words) == stored:
            return score
    return None
