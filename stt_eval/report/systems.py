"""What one system is: a provider at one transcript setting (chunking, merge, channel mode).

Rows that differ in a setting are transcripts of the same audio made differently — 16 chunk
settings of one recording are 16 results, and a ``split`` transcript is another than the
``mix`` one — so no rate, interval or TOTAL row ever adds them up: every table groups by each
setting that varies in the run (:func:`by_setting`), and figures name each system
(:func:`systems`)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

SETTINGS = ("chunking", "merge", "channel_mode")
"""The columns that, with the provider, make a system (older rows files lack channel_mode)."""


def setting_columns(frame: pd.DataFrame) -> list[str]:
    """The setting columns ``frame`` has."""
    return [c for c in SETTINGS if c in frame]


def varied(frame: pd.DataFrame) -> list[str]:
    """The setting columns that take more than one value in ``frame``."""
    return [c for c in setting_columns(frame) if frame[c].nunique() > 1]


def by_setting(frame: pd.DataFrame, by: Sequence[str], skip: Sequence[str] = ()) -> list[str]:
    """``by`` plus every setting that varies in ``frame`` and ``by`` lacks (except ``skip``):
    grouping by it can never pool two settings into one rate."""
    by = list(by)
    return by + [c for c in varied(frame) if c not in by and c not in skip]


def setting_label(chunking: str, merge: str, mode: str = "mix") -> str:
    """A setting as a reader says it: ``unchunked``, ``15s/3s timestamp, split channels``."""
    name = "unchunked" if chunking == "none" else f"{chunking} {merge}"
    return name if mode == "mix" else f"{name}, {mode} channels"


def system_names(frame: pd.DataFrame) -> pd.Series:
    """Each row's system: its provider, plus its setting when ``frame`` has several."""
    columns = setting_columns(frame)
    if frame.empty or frame[columns].drop_duplicates().shape[0] < 2:
        return frame["provider"]
    setting = [setting_label(*s) for s in zip(*(frame[c] for c in columns))]
    return frame["provider"] + " · " + pd.Series(setting, frame.index)


def systems(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with ``provider`` naming the system (see :func:`system_names`)."""
    return frame.assign(provider=system_names(frame)) if len(frame) else frame
