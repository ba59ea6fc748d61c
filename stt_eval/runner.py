"""Run an experiment grid: samples × providers × conditions × chunking → ResultRows on disk.

Work is split per sample (its audio is decoded and conditioned once, then reused by every
provider). Rows are appended to ``rows.jsonl`` as each sample finishes, so a killed run resumes
where it stopped; finished cells are skipped and cached transcripts are never paid for twice.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from stt_eval.audio import AudioClip, AudioError, load_audio
from stt_eval.cache import TranscriptCache, default_cache_dir
from stt_eval.datasets.manifest import load_manifest
from stt_eval.experiment import Experiment, ExperimentError, ProviderSpec
from stt_eval.pipeline import failure_row, score_row, score_speakers, speaker_turns_of, transcribe
from stt_eval.providers.base import ProviderError
from stt_eval.providers.registry import get_provider
from stt_eval.types import ResultRow, Sample

ROWS_FILE = "rows.jsonl"
RESULTS_FILE = "results.parquet"
BABBLE_TALKERS = 3
STREAM_ABOVE_S = 600.0
"""Chunked recordings longer than this (seconds) are processed one window at a time."""


@dataclass(frozen=True)
class Cell:
    """One provider × condition × chunking × merge × diarizer combination of the grid."""

    provider: ProviderSpec
    condition: str
    chunking: str
    merge: str
    diarizer: str

    def key(self, sample_id: str) -> tuple[str, ...]:
        return (
            sample_id,
            self.provider.label,
            self.condition,
            self.chunking,
            self.merge,
            self.diarizer,
        )


@dataclass(frozen=True)
class SampleJob:
    """Everything a worker needs to process one sample under one condition (picklable)."""

    run_id: str
    sample: Sample
    cells: tuple[Cell, ...]
    normalizer: str
    seed: int
    max_duration_s: float
    cache_root: str | None
    babble_paths: tuple[str, ...] = ()
    collar: float = 0.25
    skip_overlap: bool = False


def canonical_condition(text: str) -> str:
    """Validate a condition chain and print it canonically (errors before any audio is touched)."""
    if text.strip() in ("", "clean"):
        return "clean"
    from stt_eval.conditions import format_chain, parse_chain

    return format_chain(parse_chain(text))


def plan_cells(exp: Experiment) -> tuple[Cell, ...]:
    """Expand the grid; merge strategies only vary for chunked settings."""
    conditions = tuple(dict.fromkeys(canonical_condition(c) for c in exp.conditions))
    chunkings = tuple(dict.fromkeys(exp.chunking))
    if any(c != "none" for c in chunkings):
        from stt_eval.chunking import MERGE_STRATEGIES, format_chunking, parse_chunking

        chunkings = tuple(dict.fromkeys(format_chunking(parse_chunking(c)) for c in chunkings))
        bad = [m for m in exp.merge if m not in MERGE_STRATEGIES]
        if bad:
            raise ExperimentError(
                f"unknown merge strategy {bad}; choose from {', '.join(MERGE_STRATEGIES)}"
            )
    for spec in exp.providers:
        get_provider(
            spec.name, **dict(spec.options)
        )  # unknown names/options fail here, not mid-run
    return tuple(
        Cell(p, cond, ch, m if ch != "none" else "none", d)
        for p in exp.providers
        for cond in conditions
        for ch in chunkings
        for m in (exp.merge if ch != "none" else ("none",))
        for d in exp.diarizers
    )


def row_key(row: ResultRow) -> tuple[str, ...]:
    """The grid cell a row belongs to (matches Cell.key)."""
    return (row.sample_id, row.provider, row.condition, row.chunking, row.merge, row.diarizer)


def _base_row(job: SampleJob, cell: Cell, audio_s: float = 0.0) -> ResultRow:
    s = job.sample
    return ResultRow(
        run_id=job.run_id,
        sample_id=s.id,
        provider=cell.provider.label,
        condition=cell.condition,
        chunking=cell.chunking,
        merge=cell.merge,
        diarizer=cell.diarizer,
        normalizer=job.normalizer,
        audio_s=audio_s,
        reference=s.text,
        meta=s.meta,
    )


def _conditioner(job: SampleJob, condition: str):
    """A function (clip, window index or None) -> (conditioned clip, achieved SNR) for one chain.

    Babble sources are loaded once, on first use; each window gets its own derived seed.
    """
    if condition == "clean":
        return lambda clip, window=None: (clip, None)
    from stt_eval.conditions import apply_chain, derive_seed, parse_chain

    chain = parse_chain(condition)
    babble: list[AudioClip] = []
    if any(dict(spec.params).get("kind") == "babble" for spec in chain):
        babble = [load_audio(p, job.max_duration_s) for p in job.babble_paths]

    def apply(clip: AudioClip, window: int | None = None) -> tuple[AudioClip, float | None]:
        keys = (
            (job.sample.id, condition)
            if window is None
            else (job.sample.id, condition, str(window))
        )
        out = apply_chain(clip, chain, derive_seed(job.seed, *keys), babble_sources=babble)
        return out.clip, out.snr_db

    return apply


def _diarizations(
    job: SampleJob, clip: AudioClip, cells: Sequence[Cell], cache: TranscriptCache
) -> dict[str, Any]:
    """Local diarizer turns for one conditioned clip, once per diarizer (shared by providers).

    Values are (turns, seconds, cached) or the exception that diarizer raised.
    """
    from stt_eval.diarizers import get_diarizer
    from stt_eval.pipeline import diarize

    out: dict[str, Any] = {}
    if job.sample.turns is None:
        return out
    for name in dict.fromkeys(c.diarizer for c in cells):
        if name in ("none", "provider"):
            continue
        try:
            out[name] = diarize(get_diarizer(name), clip, cache)
        except Exception as exc:  # noqa: BLE001 - becomes the failure reason of its cells
            out[name] = exc
    return out


def _score_cell(
    job: SampleJob,
    cell: Cell,
    base: ResultRow,
    clip: AudioClip,
    cache: TranscriptCache,
    diarized: dict[str, Any],
) -> ResultRow:
    provider = get_provider(cell.provider.name, **dict(cell.provider.options))
    options = {"language": job.sample.language}
    result = transcribe(provider, clip, options, cache, cell.chunking, cell.merge, job.sample.id)
    row = score_row(base, job.sample, result, job.normalizer)
    if cell.diarizer == "none" or job.sample.turns is None:
        return row
    if cell.diarizer == "provider":
        turns, secs = speaker_turns_of(result.transcript), 0.0
        if not turns:
            return replace(
                row, warning=f"{cell.provider.label} returned no speakers; DER not scored"
            )
    else:
        found = diarized[cell.diarizer]
        if isinstance(found, Exception):
            return failure_row(base, f"diarizer {cell.diarizer}: {type(found).__name__}: {found}")
        turns, secs, _ = found
    row = score_speakers(
        row, job.sample, result.transcript, turns, job.normalizer, job.collar, job.skip_overlap
    )
    return replace(row, diarization_s=secs)


def _streamable(job: SampleJob) -> float | None:
    """The duration of a long recording that can be processed window by window, else None."""
    import soundfile as sf

    if not all(c.chunking != "none" and c.diarizer == "none" for c in job.cells):
        return None
    try:
        duration = sf.info(str(job.sample.audio_path)).duration
    except Exception:  # noqa: BLE001 - not a libsndfile format: the whole-file path decodes it
        return None
    return duration if duration > STREAM_ABOVE_S else None


def _run_streaming(job: SampleJob, duration: float) -> list[ResultRow]:
    """Long recordings: each cell reads, conditions and transcribes one window at a time."""
    from stt_eval.pipeline import transcribe_stream

    if duration > job.max_duration_s:
        msg = (
            f"{job.sample.audio_path}: is {duration:.0f} s long, over the {job.max_duration_s:.0f} s "
            "per-file cap — raise max_duration_s in the experiment, or split the file"
        )
        return [failure_row(_base_row(job, c), msg) for c in job.cells]
    cache = TranscriptCache(Path(job.cache_root) if job.cache_root else None)
    rows = []
    for cell in job.cells:
        base = _base_row(job, cell, duration)
        try:
            provider = get_provider(cell.provider.name, **dict(cell.provider.options))
            result, snr = transcribe_stream(
                provider, job.sample.audio_path, {"language": job.sample.language}, cache,
                cell.chunking, cell.merge, job.sample.id, _conditioner(job, cell.condition),
            )  # fmt: skip
            rows.append(score_row(replace(base, snr_db=snr), job.sample, result, job.normalizer))
        except (ProviderError, AudioError, ValueError, RuntimeError, OSError) as exc:
            rows.append(failure_row(base, exc))
    return rows


def run_sample(job: SampleJob) -> list[ResultRow]:
    """Process every cell of one sample; any failure becomes a failure row, never an exception.

    Recordings longer than STREAM_ABOVE_S whose cells are all chunked (and not diarized) are
    read window by window so memory does not grow with their length; conditions then apply per
    window and the row's SNR is the mean over windows.
    """
    duration = _streamable(job)
    if duration is not None:
        return _run_streaming(job, duration)
    try:
        clip = load_audio(job.sample.audio_path, job.max_duration_s)
    except AudioError as exc:
        return [failure_row(_base_row(job, c), str(exc)) for c in job.cells]
    cache = TranscriptCache(Path(job.cache_root) if job.cache_root else None)
    rows: list[ResultRow] = []
    by_condition: dict[str, list[Cell]] = {}
    for cell in job.cells:
        by_condition.setdefault(cell.condition, []).append(cell)
    for condition, cells in by_condition.items():
        try:
            conditioned, snr = _conditioner(job, condition)(clip)
        except Exception as exc:  # noqa: BLE001 - a bad condition fails its cells, not the run
            rows += [
                failure_row(_base_row(job, c, clip.duration_s), f"condition {condition}: {exc}")
                for c in cells
            ]
            continue
        diarized = _diarizations(job, conditioned, cells, cache)
        for cell in cells:
            base = replace(_base_row(job, cell, clip.duration_s), snr_db=snr)
            try:
                rows.append(_score_cell(job, cell, base, conditioned, cache, diarized))
            except (ProviderError, AudioError, ValueError, RuntimeError, OSError) as exc:
                rows.append(failure_row(base, exc))
    return rows


def row_to_dict(row: ResultRow) -> dict[str, Any]:
    return json.loads(json.dumps(asdict(row), default=str))


def row_from_dict(d: dict[str, Any]) -> ResultRow:
    return ResultRow(**d)


def read_rows(run_dir: Path) -> list[ResultRow]:
    """Rows written so far; a torn last line (killed mid-write) is ignored."""
    path = run_dir / ROWS_FILE
    rows = []
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                rows.append(row_from_dict(json.loads(line)))
            except (json.JSONDecodeError, TypeError):
                continue
    return rows


def _write_rows(path: Path, rows: Iterable[ResultRow], mode: str = "a") -> None:
    with path.open(mode, encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row_to_dict(row), ensure_ascii=False) + "\n")
        f.flush()
        os.fsync(f.fileno())


def rows_frame(rows: Sequence[ResultRow]):
    """Rows as a tidy pandas DataFrame: one column per field, metadata as ``meta.<key>`` columns."""
    import pandas as pd

    records = []
    for row in rows:
        d = row_to_dict(row)
        meta = d.pop("meta") or {}
        d.update(
            {
                f"meta.{k}": (
                    v if isinstance(v, (str, int, float, bool)) or v is None else json.dumps(v)
                )
                for k, v in meta.items()
            }
        )
        records.append(d)
    return pd.DataFrame.from_records(records)


def write_results(run_dir: Path, rows: Sequence[ResultRow]) -> Path:
    """The run's tidy table as Parquet (rewritten from rows.jsonl, which stays the source of truth)."""
    path = run_dir / RESULTS_FILE
    tmp = path.with_suffix(".tmp")
    rows_frame(rows).to_parquet(tmp, index=False)
    tmp.replace(path)
    return path


@dataclass(frozen=True)
class RunResult:
    """Where a run lives and every row it holds (resumed rows included)."""

    run_dir: Path
    rows: tuple[ResultRow, ...]
    manifest_problems: tuple[str, ...]
    wall_s: float


def _manifest_rows(exp: Experiment, cells: Sequence[Cell], problems, valid_ids) -> list[ResultRow]:
    """One failure row per rejected manifest row and cell; ids never collide with valid samples."""
    rows = []
    for p in problems:
        sid = p.sample_id or f"row{p.row}"
        if sid in valid_ids:  # a duplicate id: keep the valid sample's rows distinct
            sid = f"{sid}#row{p.row}"
        for cell in cells:
            rows.append(
                failure_row(
                    ResultRow(
                        run_id=exp.run_id,
                        sample_id=sid,
                        provider=cell.provider.label,
                        condition=cell.condition,
                        chunking=cell.chunking,
                        merge=cell.merge,
                        diarizer=cell.diarizer,
                        normalizer=exp.normalizer,
                    ),
                    f"manifest {p}",
                )
            )
    return rows


def select_samples(samples: Sequence[Sample], exp: Experiment) -> list[Sample]:
    """Apply the experiment's `ids` and `select` (metadata equality) filters."""
    out = [s for s in samples if not exp.ids or s.id in exp.ids]
    return [s for s in out if all(s.meta.get(k) == v for k, v in exp.select.items())]


def _iter_results(jobs: Sequence[SampleJob], workers: int) -> Iterator[list[ResultRow]]:
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            yield run_sample(job)
        return
    threads = str(max(1, (os.cpu_count() or 2) // workers))
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        workers, mp_context=ctx, initializer=_init_worker, initargs=(threads,)
    ) as pool:
        futures = [pool.submit(run_sample, job) for job in jobs]
        for fut in as_completed(futures):
            yield fut.result()


def _longest_first(job: SampleJob) -> float:
    """Longest recordings first, so the pool does not end waiting on one long file."""
    import soundfile as sf

    try:
        return -sf.info(str(job.sample.audio_path)).duration
    except Exception:  # noqa: BLE001 - unreadable files fail fast in their worker anyway
        return 0.0


def _init_worker(threads: str) -> None:
    os.environ["OMP_NUM_THREADS"] = threads
    os.environ.setdefault("HF_HUB_OFFLINE", "1")


def run_experiment(
    exp: Experiment,
    *,
    fresh: bool = False,
    progress: bool = True,
    cache_root: Path | None | str = "default",
    on_rows: Callable[[list[ResultRow]], None] | None = None,
) -> RunResult:
    """Run (or resume) an experiment; returns all rows of the run directory."""
    start = time.perf_counter()
    cells = plan_cells(exp)
    manifest = load_manifest(exp.dataset)
    samples = select_samples(manifest.samples, exp)
    run_dir = Path(exp.output) / exp.run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "experiment.json").write_text(json.dumps(asdict(exp), indent=2, default=str))
    rows_path = run_dir / ROWS_FILE
    kept = [] if fresh else [r for r in read_rows(run_dir) if r.status == "ok"]
    _write_rows(rows_path, kept, mode="w")
    done = {row_key(r) for r in kept}
    problems_rows = _manifest_rows(exp, cells, manifest.problems, {s.id for s in manifest.samples})
    _write_rows(rows_path, problems_rows)
    root = (
        None
        if cache_root is None
        else str(default_cache_dir() if cache_root == "default" else cache_root)
    )
    all_paths = [str(s.audio_path) for s in manifest.samples]
    jobs = []
    for s in samples:
        others = tuple(p for p in all_paths if p != str(s.audio_path))[:BABBLE_TALKERS]
        todo = [c for c in cells if c.key(s.id) not in done]
        # one job per sample x condition: the conditioned audio is made once and shared by every
        # provider and diarizer, and the pool stays balanced when files differ in length
        for condition in dict.fromkeys(c.condition for c in todo):
            group = tuple(c for c in todo if c.condition == condition)
            jobs.append(
                SampleJob(
                    exp.run_id,
                    s,
                    group,
                    exp.normalizer,
                    exp.seed,
                    exp.max_duration_s,
                    root,
                    others,
                    exp.collar,
                    exp.skip_overlap,
                )  # fmt: skip
            )
    new_rows: list[ResultRow] = []
    bar = None
    if progress:
        from tqdm import tqdm

        total = sum(len(j.cells) for j in jobs)
        bar = tqdm(
            total=total, unit="cell", desc=f"{exp.run_id}", file=sys.stderr, disable=total == 0
        )
    try:
        for rows in _iter_results(sorted(jobs, key=_longest_first), exp.workers):
            _write_rows(rows_path, rows)
            new_rows += rows
            if on_rows:
                on_rows(rows)
            if bar is not None:
                bar.update(len(rows))
    finally:
        if bar is not None:
            bar.close()
    all_rows = tuple(kept + problems_rows + new_rows)
    write_results(run_dir, all_rows)
    return RunResult(
        run_dir, all_rows, tuple(str(p) for p in manifest.problems), time.perf_counter() - start
    )
