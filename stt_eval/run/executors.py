"""Executors: where a run's jobs are computed. Local engines on spawned processes (or one
thread), HTTP providers on threads, or every job on a Dask cluster — the same jobs, the same
rows. Rows come back as each job finishes; progress events (one per transcribed window) arrive
on a queue the runner drains while it waits."""

from __future__ import annotations

import ctypes
import functools
import multiprocessing
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import (
    FIRST_COMPLETED,
    Executor,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from contextlib import ExitStack, suppress
from dataclasses import replace
from typing import Any, ParamSpec, TypeVar

from stt_eval.errors import MissingExtra
from stt_eval.experiment import Experiment
from stt_eval.pipeline.recording import RecordingJob, run_recording
from stt_eval.rows import ResultRow
from stt_eval.run.progress import STARTING, Progress
from stt_eval.types import Activity

PR_SET_PDEATHSIG = 1
"""prctl option: a signal the kernel sends this process when its parent dies (Linux)."""

DASK_INSTALL = "pip install 'stt-eval[dask]'"
"""How to get the optional Dask executor."""

POLL_S = 0.2
"""How often the waiting runner drains progress events."""

P = ParamSpec("P")
R = TypeVar("R")


_EVENTS: Any = None
"""A worker process's progress queue, given by the pool when the process starts (a
multiprocessing queue is passed to a child only so, never with a job)."""


class Terminated(SystemExit):
    """SIGTERM during a run: it ends as Ctrl-C ends it (queued jobs cancelled, workers stopped,
    finished rows kept, the lock released), with a message and the exit status 143."""


def ends_on_sigterm(run: Callable[P, R]) -> Callable[P, R]:
    """Run `run` with SIGTERM turned into :class:`Terminated` (main thread only: elsewhere
    signals cannot be handled), then restore the previous handler."""

    @functools.wraps(run)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if threading.current_thread() is not threading.main_thread():
            return run(*args, **kwargs)

        def on_sigterm(signum: int, frame: Any) -> None:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)  # let the clean-up finish
            raise Terminated(128 + signum)

        previous = signal.signal(signal.SIGTERM, on_sigterm)
        try:
            return run(*args, **kwargs)
        except Terminated:
            print(
                "terminated (SIGTERM); rows written so far are kept — run the same command "
                "again to resume",
                file=sys.stderr,
            )
            raise
        finally:
            signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)

    return wrapper


def _init_worker(threads: str, parent: int, events: Any = None, started: float = 0.0) -> None:
    """Share the cores; and die with the run: a worker whose parent was killed (SIGKILL leaves
    no chance to clean up) must not linger holding its models. Then say it is ready."""
    global _EVENTS
    os.environ["OMP_NUM_THREADS"] = threads
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    with suppress(OSError, AttributeError):  # Linux: the kernel kills us when the parent dies
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)
    threading.Thread(target=_exit_when_orphaned, args=(parent,), daemon=True).start()
    _EVENTS = events
    if events is not None:
        events.put(Activity(os.getpid(), STARTING, time.time() - started))


def _run_in_worker(job: RecordingJob) -> list[ResultRow]:
    """:func:`run_recording` in a pool process, its progress events on the process's queue."""
    return run_recording(replace(job, events=_EVENTS))


def _exit_when_orphaned(parent: int) -> None:
    """Elsewhere (no prctl): notice the parent is gone within a second and exit."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def iter_results(
    jobs: Sequence[RecordingJob], exp: Experiment, progress: Progress | None = None
) -> Iterator[list[ResultRow]]:
    """Each job's rows as it finishes, on the experiment's executor; `progress` gets one
    event per transcribed window and per worker start and model load (local executor; Dask
    reports per job)."""
    if exp.executor == "dask":
        yield from _iter_dask(jobs, exp, progress)
    else:
        yield from _iter_local(jobs, exp.workers, exp.http_workers, progress)


def _iter_local(
    jobs: Sequence[RecordingJob], workers: int, http_workers: int, progress: Progress | None
) -> Iterator[list[ResultRow]]:
    """Local engines on a pool of spawned processes (each loads its engines once and uses its
    share of the cores), or in one thread when there is one worker; HTTP providers in threads,
    limited per provider by their rate limits. On Ctrl-C (or any error) queued jobs are
    cancelled and the worker processes stopped at once; finished rows are already on disk.
    Progress events come back on a plain multiprocessing queue: no Manager process, which
    would outlive a killed run."""
    local = [j for j in jobs if not j.remote]
    remote = [j for j in jobs if j.remote]
    pooled = workers > 1 and len(local) > 1
    if pooled:
        if progress:
            progress.starting(min(workers, len(local)))
        ctx = multiprocessing.get_context("spawn")
        events: Any = ctx.Queue() if progress else None
        threads = str(max(1, (os.cpu_count() or 2) // workers))
        engines: Executor = ProcessPoolExecutor(
            workers,
            mp_context=ctx,
            initializer=_init_worker,
            initargs=(threads, os.getpid(), events, time.time()),
        )
        pending = {engines.submit(_run_in_worker, j) for j in local}
    else:
        events = queue.Queue() if progress else None
        engines = ThreadPoolExecutor(1)
        pending = {engines.submit(run_recording, replace(j, events=events)) for j in local}
    http = ThreadPoolExecutor(http_workers)
    pending |= {http.submit(run_recording, replace(j, events=events)) for j in remote}
    try:
        while pending:
            done, pending = wait(pending, timeout=POLL_S, return_when=FIRST_COMPLETED)
            _drain(events, progress)
            for fut in done:
                yield fut.result()
        _drain(events, progress)
    except BaseException:
        processes = getattr(engines, "_processes", None) or {}
        for process in list(processes.values()):
            process.kill()  # do not let them finish their jobs
        for pool in (engines, http):
            pool.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        if pooled and events is not None:
            events.cancel_join_thread()
            events.close()
    engines.shutdown(wait=True)
    http.shutdown(wait=True)


def _drain(events: Any, progress: Progress | None) -> None:
    """Hand every waiting event to the progress line, then let it refresh its clocks."""
    if events is None or progress is None:
        return
    while True:
        try:
            progress.event(events.get_nowait())
        except (queue.Empty, EOFError, OSError, ValueError):  # ValueError: queue closed
            break
    progress.tick()


def _iter_dask(
    jobs: Sequence[RecordingJob], exp: Experiment, progress: Progress | None
) -> Iterator[list[ResultRow]]:
    """The same jobs on a Dask cluster: the scheduler at ``exp.scheduler``, else a
    ``LocalCluster`` of ``exp.workers`` single-threaded processes (each loads its engines once)."""
    try:
        from distributed import Client, LocalCluster
        from distributed import as_completed as dask_completed
    except ImportError as exc:  # an optional extra (checked when the run was planned)
        raise MissingExtra(
            f"executor = 'dask' needs Dask distributed ({exc})", DASK_INSTALL
        ) from exc
    where = f"the Dask scheduler at {exp.scheduler}" if exp.scheduler else "a Dask LocalCluster"
    if progress:
        progress.event(Activity(0, f"connecting to {where}"))
    with ExitStack() as stack:
        if exp.scheduler:
            client = stack.enter_context(Client(exp.scheduler))
        else:
            cluster = stack.enter_context(
                LocalCluster(
                    n_workers=exp.workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                )
            )
            client = stack.enter_context(Client(cluster))
        if progress:
            progress.event(Activity(0, f"connecting to {where}", 0.0))
            workers = len(client.scheduler_info().get("workers", {}))
            progress.event(Activity(0, f"first jobs on {workers} Dask workers"))
        futures = client.map(run_recording, list(jobs), pure=False)
        job_of = dict(zip((f.key for f in futures), jobs))
        try:
            for future, rows in dask_completed(futures, with_results=True):
                if progress:
                    progress.event(Activity(0, f"first jobs on {workers} Dask workers", 0.0))
                    progress.job_done(job_of[future.key], rows)
                yield rows
        except BaseException:
            client.cancel(futures)
            raise
