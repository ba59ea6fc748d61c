"""Run an experiment grid: plan its cells and jobs, run the jobs on workers, keep the rows.

The runner decides only *what* runs *where*: each job is one sample under one condition (its
audio is conditioned once and reused by every provider and diarizer) and goes through
:func:`stt_eval.pipeline.recording.run_recording`. Rows are appended to ``rows.jsonl`` as each job
finishes, so a killed run resumes where it stopped; finished cells are skipped and cached
transcripts are never paid for twice.
"""

from __future__ import annotations

import json
import resource
import sys
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from stt_eval import __version__
from stt_eval.cache.store import default_cache_dir
from stt_eval.datasets.importers import read_dataset
from stt_eval.datasets.manifest import RowProblem, RowProblemWarning
from stt_eval.datasets.reference_checks import check_references
from stt_eval.diarizers import require_diarizer
from stt_eval.errors import require
from stt_eval.experiment import Experiment, ExperimentError
from stt_eval.pipeline.cell import Cell
from stt_eval.pipeline.prepare import babble_talkers, sent_seconds
from stt_eval.pipeline.recording import RecordingJob, price
from stt_eval.pipeline.score import Scoring
from stt_eval.providers.prices import Estimate, check_budget, cost_usd
from stt_eval.providers.registry import get_provider, is_remote
from stt_eval.providers.vocabulary import labelled
from stt_eval.rows import ResultRow
from stt_eval.run.aside import set_aside
from stt_eval.run.directory import (
    EXPERIMENT_FILE,
    ROWS_FILE,
    TRANSCRIPTS_FILE,
    RunLock,
    append_details,
    append_rows,
    read_rows,
    rewrite_details,
    rewrite_rows,
    row_key,
    with_details,
    write_atomic,
    write_results,
)
from stt_eval.run.executors import DASK_INSTALL, ends_on_sigterm, iter_results
from stt_eval.run.progress import Progress, job_windows, streams_sent, window_seconds
from stt_eval.run.resume import (
    Resumed,
    plan_inputs,
    read_inputs,
    resume,
    sample_digest,
    write_inputs,
)
from stt_eval.streaming.registry import streaming_entry
from stt_eval.types import CHANNELS_DIARIZER, Sample


def cpu_seconds() -> float:
    """User + system CPU seconds of this process and its waited-for children (the workers)."""
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def plan_cells(exp: Experiment) -> tuple[Cell, ...]:
    """Expand the grid (the Experiment has already checked and canonicalised every axis);
    merge strategies only vary for chunked settings; a ``split`` cell has no diarizer axis (its
    speakers come from the channels); ``streaming`` adds one cell per provider × condition
    (streaming has no chunking, merge, diarizer, channel mode or vocabulary). Remote providers' keys and the optional packages the
    experiment needs (Dask, a diarizer's engine) are checked here, before anything is written
    or sent."""
    if exp.executor == "dask":
        require("distributed", "executor = 'dask' (--executor dask)", DASK_INSTALL)
    for name in exp.diarizers:
        require_diarizer(name)
    for spec in exp.providers:
        provider = get_provider(spec.name, **dict(spec.options))
        if is_remote(provider):
            provider.load()
    batch = tuple(
        Cell(
            replace(p, label=labelled(p.label, v)),
            cond,
            ch,
            m if ch != "none" else "none",
            d,
            mode,
            vocabulary=v,
        )
        for p in exp.providers
        for v in dict.fromkeys(exp.vocabulary)
        for cond in dict.fromkeys(exp.conditions)
        for ch in dict.fromkeys(exp.chunking)
        for m in (dict.fromkeys(exp.merge) if ch != "none" else ("none",))
        for mode in dict.fromkeys(exp.channel_mode)
        for d in (dict.fromkeys(exp.diarizers) if mode == "mix" else (CHANNELS_DIARIZER,))
    )
    streaming = tuple(
        Cell(
            p,
            cond,
            "none",
            "none",
            "none",
            "mix",
            mode="streaming",
            pace=exp.pace,
            frame_ms=exp.frame_ms,
        )
        for p in exp.providers
        for cond in dict.fromkeys(exp.conditions)
    )
    return (batch if "batch" in exp.mode else ()) + (streaming if "streaming" in exp.mode else ())


def select_samples(samples: Sequence[Sample], exp: Experiment) -> list[Sample]:
    """Apply the experiment's `ids` and `select` (metadata equality) filters."""
    out = [s for s in samples if not exp.ids or s.id in exp.ids]
    return [s for s in out if all(s.meta.get(k) == v for k, v in exp.select.items())]


def is_remote_cell(cell: Cell) -> bool:
    """Whether a cell's provider is an HTTP API or a remote stream (its jobs run in threads, not
    processes)."""
    if cell.mode == "streaming":
        return streaming_entry(cell.provider.name).remote
    return is_remote(get_provider(cell.provider.name, **dict(cell.provider.options)))


def plan_jobs(
    exp: Experiment,
    cells: Sequence[Cell],
    samples: Sequence[Sample],
    dataset_paths: Sequence[str],
    done: set[tuple[str, ...]],
    cache_root: str | None,
    digests: Mapping[str, str] | None = None,
) -> list[RecordingJob]:
    """One job per sample × condition × kind of provider (local engines, HTTP APIs) with the
    cells not yet done, longest recordings first (so a pool does not end waiting on one file).
    ``split`` cells only go to samples with channels or tracks: for one stream it is the mix."""
    scoring = Scoring(exp.normalizer, exp.collar, exp.skip_overlap)
    remote = {c: is_remote_cell(c) for c in cells}
    jobs = []
    for s in samples:
        todo = [
            c
            for c in cells
            if c.key(s.id) not in done and (c.channel_mode == "mix" or s.stream_speakers)
        ]
        talkers = babble_talkers(s.audio_path, dataset_paths)
        for condition, kind in dict.fromkeys((c.condition, remote[c]) for c in todo):
            group = tuple(c for c in todo if c.condition == condition and remote[c] == kind)
            job = RecordingJob(exp.run_id, s, condition, group, scoring, exp.seed)
            jobs.append(
                replace(
                    job,
                    max_duration_s=exp.max_duration_s,
                    cache_root=cache_root,
                    babble_paths=talkers,
                    remote=kind,
                    digest=(digests or {}).get(s.id, ""),
                )
            )
    return sorted(jobs, key=lambda j: -sent_seconds(j.sample))


def estimate(jobs: Sequence[RecordingJob]) -> list[Estimate]:
    """Audio seconds, requests and list price each provider is about to be sent (before cache
    hits, which are only known once the audio is conditioned); local engines cost nothing.
    Merge strategies and diarizers share one set of windows, so they count once; ``split``
    sends every channel, so its audio minutes are the recording's times its channels; a
    streaming cell streams the recording once, counted under its own label at the provider's
    streaming list price."""
    sent: dict[str, list[float]] = {}
    prices: dict[str, Any] = {}
    for job in jobs:
        duration = sent_seconds(job.sample)
        sends = dict.fromkeys((c.label, c.chunking, streams_sent(job, c)) for c in job.cells)
        for label, chunking, streams in sends:
            sent.setdefault(label, []).extend(window_seconds(duration, chunking) * streams)
        for cell in job.cells:
            if cell.label not in prices:
                provider = get_provider(cell.provider.name, **dict(cell.provider.options))
                prices[cell.label] = price(provider, streaming=cell.mode == "streaming")
    return [
        Estimate(label, sum(w), len(w), cost_usd(prices[label], sum(w)))
        for label, w in sent.items()
    ]


def _manifest_rows(
    exp: Experiment, cells: Sequence[Cell], problems: Sequence[RowProblem], valid_ids: set[str]
) -> list[ResultRow]:
    """One failure row per rejected manifest row and cell; ids never collide with valid samples."""
    rows = []
    for p in problems:
        sid = p.sample_id or f"row{p.row}"
        if sid in valid_ids:  # a duplicate id: keep the valid sample's rows distinct
            sid = f"{sid}#row{p.row}"
        for cell in cells:
            identity = cell.identity(exp.run_id, sid, exp.normalizer)
            rows.append(ResultRow(identity).failed(f"manifest {p}", "permanent"))
    return rows


@dataclass(frozen=True)
class RunResult:
    """Where a run lives, every row it holds (resumed rows included), and how long it took."""

    experiment: Experiment
    run_dir: Path
    rows: tuple[ResultRow, ...]
    manifest_problems: tuple[str, ...]
    wall_s: float
    resumed: Resumed | None = None
    cpu_s: float = 0.0
    """CPU seconds this run used, in this process and its worker processes."""

    @property
    def failed(self) -> int:
        """Cells that ended as failure rows."""
        return sum(r.status == "failed" for r in self.rows)

    @property
    def warned(self) -> int:
        """Cells that carry a warning (listed under Warnings in the summary)."""
        return sum(bool(r.warning) for r in self.rows)


@ends_on_sigterm
def run_experiment(
    exp: Experiment,
    *,
    fresh: bool = False,
    progress: bool = True,
    cache_root: Path | str | None = "default",
    on_rows: Callable[[list[ResultRow]], None] | None = None,
    retry_failed: bool = False,
) -> RunResult:
    """Run (or resume) an experiment; returns all rows of its run directory.

    ``cache_root``: the transcript cache directory, ``"default"`` (:func:`default_cache_dir`) or
    None (no cache). ``fresh`` discards the run's earlier rows instead of resuming; a resumed
    run tries transient failures again, and permanent ones too with ``retry_failed``.
    """
    start = (time.perf_counter(), cpu_seconds())
    cells = plan_cells(exp)
    manifest = read_dataset(exp.dataset, exp.dataset_format)
    chosen = {s.id for s in select_samples(manifest.samples, exp)}
    manifest = check_references(manifest, sent_seconds, chosen)  # before anything is sent
    for problem in manifest.problems:  # once each, before anything runs, not once per cell
        warnings.warn(
            f"{problem}; its {len(cells)} cell(s) are recorded as failures",
            RowProblemWarning,
            stacklevel=2,
        )
    samples = select_samples(manifest.samples, exp)
    if manifest.samples and not samples:
        raise ExperimentError(
            f"ids {list(exp.ids)} / select {dict(exp.select)} match none of the "
            f"{len(manifest.samples)} samples of {exp.dataset} (e.g. ids "
            f"{', '.join(s.id for s in manifest.samples[:3])}); fix the filter"
        )
    if "split" in exp.channel_mode and samples and not any(s.stream_speakers for s in samples):
        said = (
            f"channel_mode split: none of the {len(samples)} samples has channels or tracks "
            '(split needs "channels" or "tracks" in the manifest)'
        )
        if exp.channel_mode == ("split",):
            raise ExperimentError(f'{said}; add them, or use channel_mode = ["mix"]')
        if progress:
            print(f"plan: {said}; only mix runs", file=sys.stderr)
    run_dir = Path(exp.output) / exp.run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    with RunLock(run_dir) as lock:
        if lock.taken_over and progress:
            print(
                f"plan: took over the lock of a run that is gone: {lock.taken_over}",
                file=sys.stderr,
            )
        with set_aside(run_dir, (ROWS_FILE, TRANSCRIPTS_FILE), fresh) as started:

            def written(rows: list[ResultRow]) -> None:
                started()  # the new run is under way: --fresh's old rows go
                if on_rows:
                    on_rows(rows)

            return _run_locked(
                exp,
                cells,
                manifest,
                samples,
                run_dir,
                start,
                fresh=fresh,
                progress=progress,
                cache_root=cache_root,
                on_rows=written,
                retry_failed=retry_failed,
            )


def _run_locked(
    exp,
    cells,
    manifest,
    samples,
    run_dir,
    start,
    *,
    fresh,
    progress,
    cache_root,
    on_rows,
    retry_failed,
) -> RunResult:
    """The run itself, once the run directory is ours."""
    resolved = {
        "experiment": asdict(exp),  # every default filled in
        "engines": {spec.label: asdict(spec.engine()) for spec in exp.providers},
        "stt_eval_version": __version__,
    }
    write_atomic(run_dir / EXPERIMENT_FILE, json.dumps(resolved, indent=2, default=str))
    rows_path = run_dir / ROWS_FILE
    digests = {s.id: sample_digest(s) for s in samples}
    specs = {c.provider.label: c.provider for c in cells}  # one per provider × vocabulary
    versions = {label: spec.engine().version for label, spec in specs.items()}
    dataset_paths = [str(s.audio_path) for s in manifest.samples]
    inputs = plan_inputs(samples, cells, exp.normalizer, dataset_paths)
    earlier, recorded = ([], None) if fresh else (read_rows(run_dir), read_inputs(run_dir))
    resumed = resume(earlier, recorded, inputs, versions, retry_failed)
    kept = with_details(run_dir, resumed.kept)
    details_path = run_dir / TRANSCRIPTS_FILE
    rewrite_details(details_path, kept)  # before the rows: a row on disk has its detail
    rewrite_rows(rows_path, kept)
    write_inputs(run_dir, inputs)  # after the rows: no row made from other inputs is left
    problem_rows = _manifest_rows(exp, cells, manifest.problems, {s.id for s in manifest.samples})
    append_rows(rows_path, problem_rows)
    root = (
        None
        if cache_root is None
        else str(Path(default_cache_dir() if cache_root == "default" else cache_root).absolute())
    )
    done = {row_key(r) for r in kept}
    jobs = plan_jobs(exp, cells, samples, dataset_paths, done, root, digests)
    estimates = estimate(jobs)
    if progress:
        for line in resumed.describe():
            print(f"resume: {line}", file=sys.stderr)
        for e in estimates:
            print(f"plan: {e.describe()} (cache hits are not sent)", file=sys.stderr)
        uploads = sum(
            1
            for j in jobs
            if j.remote and j.sample.audio_url
            for c in j.cells
            if c.condition != "clean" or c.chunking != "none"
        )
        if uploads:
            print(
                f"plan: {uploads} cells of samples with an audio_url upload their audio instead: "
                "the URL serves the recording as it is, not as a condition or chunking makes it",
                file=sys.stderr,
            )
    check_budget(estimates, exp.budget_usd)
    new_rows: list[ResultRow] = []
    bar = Progress([w for j in jobs for w in job_windows(j)], exp.run_id, enabled=progress)
    try:
        for rows in iter_results(jobs, exp, bar if progress else None):
            append_details(details_path, rows)
            append_rows(rows_path, rows)
            new_rows += rows
            bar.rows(rows)
            if on_rows:
                on_rows(rows)
    finally:
        bar.close()
    all_rows = tuple(kept + problem_rows + new_rows)
    write_results(run_dir, all_rows)
    problems = tuple(str(p) for p in manifest.problems)
    wall, cpu = time.perf_counter() - start[0], cpu_seconds() - start[1]
    return RunResult(exp, run_dir, all_rows, problems, wall, resumed, cpu)
