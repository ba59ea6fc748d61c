"""Pairing speakers: the optimal one-to-one pairing of rows and columns of a small weight matrix
(the Hungarian problem), as ``scipy.optimize.linear_sum_assignment(-weights)`` solves it, ties
included, and the speaker order pyannote.metrics hands it.

Diarization maps hypothesis to reference speakers this way (pyannote.metrics and md-eval both
maximise the time the pairs share). Importing scipy.optimize costs 0.3-0.8 s, longer than
scoring 20 hours of RTTM, and speaker matrices are a few rows wide, so this is scipy's own
algorithm (Crouse's shortest augmenting path, ``rectangular_lsap.cpp``) in plain Python, step
for step, so that equal totals resolve to the same pairs; a test checks it against scipy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from stt_eval.metrics.speaker_time import DUST


def max_assignment(weights: Sequence[Sequence[float]]) -> list[tuple[int, int]]:
    """(row, column) pairs, one per row or column of the narrower side, by increasing row,
    with the largest summed weight: ``zip(*linear_sum_assignment(-weights))``.

    >>> max_assignment([[1, 5], [4, 1]])
    [(0, 1), (1, 0)]
    >>> max_assignment([[2.0], [3.0], [1.0]])
    [(1, 0)]
    """
    rows = len(weights)
    cols = len(weights[0]) if rows else 0
    if rows == 0 or cols == 0:
        return []
    cost = [[-float(w) for w in row] for row in weights]
    if cols < rows:  # scipy solves the wide problem: transpose a tall one
        transposed = _solve([list(col) for col in zip(*cost)])
        return sorted((row, col) for col, row in enumerate(transposed))
    return list(enumerate(_solve(cost)))


def _solve(cost: list[list[float]]) -> list[int]:
    """The column of each row (rows <= columns) of the minimum-cost assignment."""
    n_rows, n_cols = len(cost), len(cost[0])
    u, v = [0.0] * n_rows, [0.0] * n_cols
    path, col4row, row4col = [-1] * n_cols, [-1] * n_rows, [-1] * n_cols
    for current in range(n_rows):
        # the shortest augmenting path from `current` to a free column
        min_val, i, sink = 0.0, current, -1
        remaining = list(range(n_cols - 1, -1, -1))  # reversed: scipy's order (identity on ties)
        in_rows, in_cols = [False] * n_rows, [False] * n_cols
        shortest = [math.inf] * n_cols
        while sink == -1:
            index, lowest = -1, math.inf
            in_rows[i] = True
            row, ui = cost[i], u[i]
            for it, j in enumerate(remaining):
                reduced = min_val + row[j] - ui - v[j]
                if reduced < shortest[j]:
                    path[j], shortest[j] = i, reduced
                # among equal costs prefer a free column: it ends the path
                if shortest[j] < lowest or (shortest[j] == lowest and row4col[j] == -1):
                    lowest, index = shortest[j], it
            min_val = lowest
            j = remaining[index]
            if row4col[j] == -1:
                sink = j
            else:
                i = row4col[j]
            in_cols[j] = True
            remaining[index] = remaining[-1]
            remaining.pop()
        # dual update, then flip the path
        u[current] += min_val
        for r in range(n_rows):
            if in_rows[r] and r != current:
                u[r] += min_val - shortest[col4row[r]]
        for c in range(n_cols):
            if in_cols[c]:
                v[c] -= min_val - shortest[c]
        j = sink
        while True:
            i = path[j]
            row4col[j] = i
            col4row[i], j = j, col4row[i]
            if i == current:
                break
    return col4row


def pair_speakers(both: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> list[tuple[int, int]]:
    """The optimal pairing of row and column indices (the speakers present, in pyannote's
    label order), as pyannote's ``HungarianMapper``: pairs that share no time stay unpaired."""
    shared = both[np.ix_(rows, cols)]
    shared[shared <= DUST] = 0.0  # touching pieces share no time, only float dust
    chosen = max_assignment(shared.tolist())
    return [(int(rows[r]), int(cols[c])) for r, c in chosen if shared[r, c] > 0]


def present(seconds: np.ndarray) -> np.ndarray:
    return np.flatnonzero(seconds > DUST)


def pyannote_label(i: int) -> str:
    """pyannote's i-th string label: A … Z, AA … ZZ, AAA …"""
    size = 1
    while i >= 26**size:
        i, size = i - 26**size, size + 1
    return "".join(chr(65 + i // 26**k % 26) for k in reversed(range(size)))
