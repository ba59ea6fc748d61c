"""``--fresh`` without losing data: a run's old rows are moved aside, not emptied, and only
dropped once the new run has written its first row; a run that fails to start (an engine that
will not load, a scheduler that does not answer, Ctrl-C) puts them back. A run killed before
either (SIGKILL) leaves the set-aside files; the next run of the directory puts them back first
and says so (:func:`recover`)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

SUFFIX = ".before-fresh"
"""What a set-aside file is called while the new run starts: ``rows.jsonl.before-fresh``."""


def recover(run_dir: Path, names: Sequence[str]) -> list[str]:
    """Put back what an earlier ``--fresh`` set aside and never dropped (it was killed before its
    first row): a set-aside file replaces an empty or missing one, and is dropped when the newer
    file holds rows. Returns the names put back, for the run to say."""
    back = []
    for name in names:
        path, aside = Path(run_dir) / name, Path(run_dir) / (name + SUFFIX)
        if not aside.exists():
            continue
        if path.exists() and path.stat().st_size > 0:
            aside.unlink()
        else:
            os.replace(aside, path)
            back.append(name)
    return back


@contextmanager
def set_aside(run_dir: Path, names: Sequence[str], enabled: bool) -> Iterator[Callable[[], None]]:
    """Move `names` of `run_dir` aside (when `enabled`); yields ``started``, to call once the
    new run has written a row. Leaving the block normally counts as started; leaving it by an
    exception before ``started`` moves the old files back over whatever the run wrote."""
    for name in recover(run_dir, names):
        warnings.warn(
            f"{Path(run_dir) / name}: put back the rows an interrupted --fresh run had set aside",
            stacklevel=3,
        )
    moved = []
    for name in names if enabled else ():
        path = Path(run_dir) / name
        if path.exists():
            os.replace(path, path.with_name(name + SUFFIX))
            moved.append(path)
    begun = False

    def started() -> None:
        nonlocal begun
        if not begun:
            begun = True
            for path in moved:
                path.with_name(path.name + SUFFIX).unlink(missing_ok=True)

    try:
        yield started
    except BaseException:
        if not begun:
            for path in moved:
                os.replace(path.with_name(path.name + SUFFIX), path)
        raise
    started()
