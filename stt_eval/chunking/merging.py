"""Merging: per-window transcripts (chunk-local time) joined into one transcript in global time.

Neighbouring windows both hear their overlap, so a merge decides which window's words to keep
there: ``concat`` keeps both (the baseline), ``text-align`` joins at the longest common run of
words, ``timestamp`` lets each window own global time up to the seams (``cut_points``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

from stt_eval.chunking.planning import cut_points
from stt_eval.chunking.settings import ChunkingError
from stt_eval.normalization.rules import words as normalized_words
from stt_eval.types import MERGE_STRATEGIES, Chunk, SpeakerTurn, Transcript, Word


def _mid(w: Word) -> float:
    return (w.start + w.end) / 2


def _owned(w: Word, lo: float, hi: float) -> bool:
    return lo <= _mid(w) < hi


def _seams(chunks: Sequence[Chunk]) -> list[float]:
    """Ownership bounds: chunk i owns [bounds[i], bounds[i+1]) of global time."""
    return [-math.inf, *cut_points(chunks), math.inf]


def _keys(ws: Sequence[Word], language: str) -> list[tuple[str, int]]:
    """Normalized tokens of each word with the index of the word that produced it."""
    return [
        (tok, i) for i, w in enumerate(ws) for tok in normalized_words(w.text, "basic", language)
    ]


def _nearest_same(src: Sequence[tuple[str, float]], dst: Sequence[tuple[str, float]]) -> list[int]:
    """For each token of src, the index of the same token in dst nearest in time (-1 if none)."""
    out = []
    for tok, t in src:
        cands = [(abs(t - u), j) for j, (other, u) in enumerate(dst) if other == tok]
        out.append(min(cands)[1] if cands else -1)
    return out


def _longest_run(
    a: Sequence[tuple[str, int]],
    b: Sequence[tuple[str, int]],
    wa: Sequence[Word],
    wb: Sequence[Word],
    max_shift_s: float,
) -> tuple[int, int, int]:
    """Longest common run of tokens (i in a, j in b, length) whose words agree in time.

    Two tokens may pair only if they are equal, within ``max_shift_s`` of each other and each
    is the other's nearest equal token in time: so in "hello hello hello" each occurrence pairs
    with itself, not with its neighbour one word later. Ties go to the smaller total shift.
    """
    ta = [(tok, _mid(wa[k])) for tok, k in a]
    tb = [(tok, _mid(wb[k])) for tok, k in b]
    a_to_b, b_to_a = _nearest_same(ta, tb), _nearest_same(tb, ta)
    best, best_key = (0, 0, 0), (0, 0.0)
    prev, prev_d = [0] * (len(b) + 1), [0.0] * (len(b) + 1)
    for i in range(1, len(a) + 1):
        cur, cur_d = [0] * (len(b) + 1), [0.0] * (len(b) + 1)
        j = a_to_b[i - 1] + 1
        if j > 0 and b_to_a[j - 1] == i - 1:
            shift = abs(ta[i - 1][1] - tb[j - 1][1])
            if shift <= max_shift_s:
                cur[j] = prev[j - 1] + 1
                cur_d[j] = prev_d[j - 1] + shift
                key = (cur[j], -cur_d[j])
                if key > best_key:
                    best_key, best = key, (i - cur[j], j - cur[j], cur[j])
        prev, prev_d = cur, cur_d
    return best


def _join_text_align(
    left: list[Word],
    right: list[Word],
    seam: float,
    left_end: float,
    right_start: float,
    language: str,
) -> list[Word]:
    """Join two word lists at the longest common run of the overlap; by time if there is none.

    left  ... w1 w2 [x  y  z] w3'          (w3' cut off at the window edge)
    right          'w0 [x  y  z] w4 ...    ('w0 cut off at the window edge)
    out   ... w1 w2  x  y  z  w4 ...       (left keeps the first half of the run)
    """
    slack = 0.5
    li = len(left)  # scan back from the end: O(overlap), not O(transcript), per seam
    while li > 0 and left[li - 1].end > right_start - slack:
        li -= 1
    rj = next((k for k, w in enumerate(right) if w.start >= left_end + slack), len(right))
    tail, head = left[li:], right[:rj]
    ka, kb = _keys(tail, language), _keys(head, language)
    i, j, n = _longest_run(ka, kb, tail, head, max_shift_s=1.0) if ka and kb else (0, 0, 0)
    if n == 0:
        return (
            left[:li] + [w for w in tail if _mid(w) < seam] + [w for w in right if _mid(w) >= seam]
        )
    k = n // 2  # the first token taken from the right side
    cut_left = li + ka[i + k][1]
    cut_right = kb[j + k][1]
    return left[:cut_left] + right[cut_right:]


def _text_from_words(ws: Sequence[Word]) -> str:
    return " ".join(t for t in (w.text.strip() for w in ws) if t)


def merge_chunks(parts: Sequence[tuple[Chunk, Transcript]], strategy: str) -> Transcript:
    """Merge per-window transcripts (each in chunk-local time) into one in global time.

    - ``concat``: every word of every window, in order (no de-duplication; the baseline).
    - ``text-align``: neighbours are joined at the longest common run of normalized words in
      their overlap (matched words must also agree within 1 s); falls back to ``timestamp``
      at a seam where no run is found.
    - ``timestamp``: each window owns global time up to the midpoint of its overlaps
      (``cut_points``); a word is kept by the window that owns its midpoint.

    Words keep their speakers and confidences; ``text`` is rebuilt from the kept words. If a
    part has text but no word timings, de-duplication is impossible and the texts are
    concatenated (``raw["merge_fallback"]`` says so). Turns are shifted and, except for
    ``concat``, clipped to the owning window (their labels are chunk-local).
    """
    if strategy not in MERGE_STRATEGIES:
        raise ChunkingError(
            f"unknown merge strategy {strategy!r}; choose one of: {', '.join(MERGE_STRATEGIES)}"
        )
    if not parts:
        return Transcript("", raw={"merge": strategy, "parts": []})
    ordered = sorted(parts, key=lambda p: p[0].offset_s)
    chunks = [c for c, _ in ordered]
    shifted = [t.shifted(c.offset_s) for c, t in ordered]
    language = next((t.language for t in shifted if t.language), None)
    raw: dict = {"merge": strategy, "parts": [t.raw for t in shifted]}
    bounds = _seams(chunks)

    no_words = [
        c.index for c, t in zip(chunks, shifted, strict=True) if t.text.strip() and not t.words
    ]
    if no_words:
        raw["merge_fallback"] = f"concat: chunks {no_words} have text but no word timings"
        text = " ".join(t.text.strip() for t in shifted if t.text.strip())
        words = tuple(w for t in shifted for w in t.words)
        turns = tuple(x for t in shifted for x in t.turns)
        return Transcript(text, words, turns, language, raw, _warnings(shifted))

    if strategy == "concat":
        kept = [w for t in shifted for w in t.words]
    elif strategy == "timestamp":
        kept = [
            w for k, t in enumerate(shifted) for w in t.words if _owned(w, bounds[k], bounds[k + 1])
        ]
    else:
        kept = list(shifted[0].words)
        for k in range(1, len(shifted)):
            kept = _join_text_align(
                kept,
                list(shifted[k].words),
                bounds[k],
                chunks[k - 1].end_s,
                chunks[k].offset_s,
                language or "en",
            )
    turns = tuple(_merge_turns(shifted, bounds, clip=strategy != "concat"))
    return Transcript(_text_from_words(kept), tuple(kept), turns, language, raw, _warnings(shifted))


def _warnings(parts: Sequence[Transcript]) -> tuple[str, ...]:
    """Every part's warnings, each once, in order."""
    return tuple(dict.fromkeys(w for t in parts for w in t.warnings))


def _merge_turns(
    shifted: Sequence[Transcript], bounds: Sequence[float], clip: bool
) -> Iterator[SpeakerTurn]:
    for k, t in enumerate(shifted):
        for turn in t.turns:
            if not clip:
                yield turn
                continue
            a, b = max(turn.start, bounds[k]), min(turn.end, bounds[k + 1])
            if b > a:
                yield SpeakerTurn(turn.speaker, a, b)
