"""Report computations made once per run: a run's summary and its report ask for the same
intervals and paired tests of the same rows, so they are memoized on the content of the rows
(a hash of their columns, not the frame object: the report reads the rows back from disk, and
a notebook that edits a frame gets fresh results)."""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

import pandas as pd

F = TypeVar("F", bound=Callable[..., pd.DataFrame])
KEEP = 64
"""Results kept (least recently used dropped first): a run's report asks for a few dozen."""


def _content(frame: pd.DataFrame) -> tuple:
    """A frame's identity by value: its columns and a hash of their values (list-valued columns,
    such as edit words, by their text)."""
    shown = frame.copy(deep=False)
    for col in [c for c in shown.columns if pd.api.types.is_object_dtype(shown[c])]:
        first = shown[col].dropna()
        if len(first) and not isinstance(first.iloc[0], str | bool | int | float):
            shown[col] = shown[col].astype(str)
    digest = pd.util.hash_pandas_object(shown, index=True).to_numpy()
    return tuple(map(str, frame.columns)), len(frame), hash(digest.tobytes())


def _key(value: Any) -> Any:
    if isinstance(value, pd.DataFrame):
        return _content(value)
    if isinstance(value, list | tuple):
        return tuple(_key(v) for v in value)
    return value


def per_rows(fn: F) -> F:
    """Memoize a table computation on the content of its arguments; callers get a copy."""
    cache: OrderedDict[Any, pd.DataFrame] = OrderedDict()

    @functools.wraps(fn)
    def wrapped(*args: Any, **kwargs: Any) -> pd.DataFrame:
        key = (_key(args), _key(tuple(sorted(kwargs.items()))))
        if key in cache:
            cache.move_to_end(key)
            wrapped.hits += 1  # type: ignore[attr-defined]
        else:
            cache[key] = fn(*args, **kwargs)
            if len(cache) > KEEP:
                cache.popitem(last=False)
        return cache[key].copy()

    wrapped.hits = 0  # type: ignore[attr-defined]
    return wrapped  # type: ignore[return-value]
