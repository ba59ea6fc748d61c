"""Which files the search sees, in which order, and which it holds out: by a hash of the id, so
the same dataset always splits and orders the same way, whatever the manifest's row order."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from stt_eval.errors import BadArgument


def id_hash(sample_id: str) -> float:
    """A sample id's place in [0, 1): the first 8 bytes of its SHA-256, as a fraction."""
    digest = hashlib.sha256(sample_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split(ids: Sequence[str], holdout: float) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(search files, held-out files), each in hash order. About ``holdout`` of the files are
    held out (the lowest hashes), at least one when ``holdout`` > 0, and never all of them.

    >>> split(["a", "b", "c", "d"], 0.0)[1]
    ()
    >>> len(split(["a", "b", "c", "d"], 0.5)[1])
    2
    """
    if not 0.0 <= holdout < 1.0:
        raise BadArgument("holdout", f"{holdout!r} must be a fraction in [0, 1), e.g. 0.25")
    ordered = sorted(dict.fromkeys(ids), key=lambda i: (id_hash(i), i))
    n = 0 if holdout == 0 else min(len(ordered) - 1, max(1, round(holdout * len(ordered))))
    return tuple(ordered[n:]), tuple(ordered[:n])
