"""What a chunk setting costs to send: the audio seconds and requests of its window plan over a
run's files (:func:`~stt_eval.chunking.planning.plan_windows`, the fixed grid; a VAD plan cuts
at pauses near the same places, so the grid's figures stand in for it), which is what a remote
provider bills and rate-limits."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from stt_eval.chunking.planning import plan_windows
from stt_eval.chunking.settings import parse_chunking


def setting_label(chunking: str, merge: str) -> str:
    """A transcript setting as the verdict names it: ``30s/2s timestamp``; ``none`` alone."""
    return chunking if merge in ("none", "") else f"{chunking} {merge}"


def sent(label: str, durations: Sequence[float]) -> tuple[float, int]:
    """Audio seconds sent and requests made for files of these ``durations`` under a setting
    (:func:`setting_label`)."""
    setting = parse_chunking(label.split(" ")[0])
    audio, requests = 0.0, 0
    for duration in durations:
        if duration <= 0:
            continue
        windows = plan_windows(duration, setting.chunk_s, setting.overlap_s)
        audio += sum(w.end_s - w.offset_s for w in windows)
        requests += len(windows)
    return audio, requests


def _durations(rows: pd.DataFrame) -> list[float]:
    """One duration per file (the longest a row recorded, in sorted file order)."""
    return rows.groupby("sample_id", sort=True)["audio_s"].max().fillna(0).tolist()


def cheapest(labels: Sequence[str], rows: pd.DataFrame) -> str:
    """The setting that sends the least audio, then makes the fewest requests (then by name)."""
    durations = _durations(rows)
    return min(labels, key=lambda label: (*sent(label, durations), label))


def cost_phrase(label: str, rows: pd.DataFrame) -> str:
    """E.g. "it sends 7 % more audio than the recordings, in 41 requests"."""
    durations = _durations(rows)
    audio, requests = sent(label, durations)
    total = sum(durations)
    extra = (
        "as much audio as the recordings"
        if not total or audio <= total * 1.0005
        else f"{100 * (audio / total - 1):.0f} % more audio than the recordings"
    )
    return f"it sends {extra} in {requests} requests"
