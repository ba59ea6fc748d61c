"""A finished run's ``summary.md``: what was run, where its time went, what a resume kept, then
the pooled tables (:func:`~stt_eval.report.markdown.summary_markdown`)."""

from __future__ import annotations

import os
from pathlib import Path

from stt_eval.report.markdown import summary_markdown
from stt_eval.run.directory import SUMMARY_FILE, rows_frame, write_atomic
from stt_eval.run.grid import RunResult


def time_split(result: RunResult) -> str:
    """Where this run's time went: engine, diarization and conditioning seconds measured in
    this run (cached rows cost nothing now), wall time and CPU utilisation."""
    fresh = [r for r in result.rows if r.status == "ok" and not r.measurement.cached]
    engine = sum(r.measurement.processing_s for r in fresh)
    # one diarization per clip, shared by every provider and chunking: count it once
    clip = {(r.identity.sample_id, r.identity.condition, r.identity.diarizer): r for r in fresh}
    diarization = sum(r.measurement.diarization_s for r in clip.values())
    conditioning = sum(r.measurement.condition_s for r in result.rows)
    loading = sum(r.measurement.load_s for r in result.rows)
    cores = os.cpu_count() or 1
    use = result.cpu_s / result.wall_s / cores if result.wall_s > 0 else 0.0
    return (
        f"\nTime: engines {engine:.1f} s, diarization {diarization:.1f} s, decoding and "
        f"conditioning audio {conditioning:.1f} s, loading models {loading:.1f} s (summed over "
        f"workers) in {result.wall_s:.1f} s of wall time; CPU {result.cpu_s:.1f} s = {use:.0%} "
        f"of {cores} cores.\n"
    )


def write_summary(result: RunResult) -> Path:
    """Write the run's Markdown summary (pooled tables, per file, worst files, failures)."""
    exp = result.experiment
    frame = rows_frame(result.rows)
    files = frame["sample_id"].nunique() if len(frame) else 0
    notes = (
        f"Run `{exp.run_id}` · {files} files · wall time {result.wall_s:.0f} s · "
        f"results in `{result.run_dir}`\n"
    )
    notes += time_split(result) + "\n"
    if result.resumed is not None and result.resumed.describe():
        notes += "\nResumed: " + "; ".join(result.resumed.describe()) + ".\n"
    text = summary_markdown(frame, f"stt-eval summary — {exp.run_id}", exp.normalizer, notes)
    return write_atomic(result.run_dir / SUMMARY_FILE, text)
