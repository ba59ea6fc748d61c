"""Figures of a run, each a function of its result table (``rows_frame`` or ``results.parquet``)
returning a :class:`~stt_eval.report.figures.style.Plot` — the figure and exactly the values
drawn — or None when the run has nothing for it. Rates come from the pooled tables, never from
averaged rates; the notebooks and the HTML report call these same functions.

One module per kind of figure: :mod:`.accuracy` (WER by condition, SNR, channel, metadata),
:mod:`.chunking`, :mod:`.speed_cost`, :mod:`.diarization`, :mod:`.streaming`; :mod:`.labels` names conditions and
systems, :mod:`.style` gives them one look. matplotlib is heavy: import this package only when a
figure is drawn."""

from __future__ import annotations

import pandas as pd

from stt_eval.report.figures import (
    accuracy,
    chunking,
    diarization,
    review,
    speed_cost,
    streaming,
    timing,
)
from stt_eval.report.figures.style import Plot


def plots(frame: pd.DataFrame) -> list[Plot]:
    """Every plot this run has something to draw (nothing is drawn empty), in report order."""
    made = [
        accuracy.wer_overview(frame),
        accuracy.wer_vs_snr(frame),
        accuracy.channel_wer(frame),
        chunking.chunking_heatmap(frame),
        speed_cost.speed_vs_wer(frame),
        speed_cost.cost_vs_wer(frame),
        diarization.der_by_condition(frame),
        review.review_curves(frame),
        timing.word_time_drift(frame),
        streaming.latency_cdf(frame),
        streaming.latency_vs_wer(frame),
        *(accuracy.wer_by_meta(frame, c) for c in accuracy.meta_columns(frame)),
    ]
    return [p for p in made if p is not None]
