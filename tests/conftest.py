"""Shared fixtures: repo paths, real speech from the bundled sample, an isolated cache."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "datasets" / "sample"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Every test gets its own transcript cache, so nothing leaks between tests or into ~/.cache."""
    monkeypatch.setenv("STT_EVAL_CACHE", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    return SAMPLE


def flat_row(run_id="r", sample_id="s", provider="p", condition="clean", **columns):
    """A result row from its flattened columns (as rows.jsonl holds them), for table tests."""
    from stt_eval.rows import ResultRow

    ids = {"run_id": run_id, "sample_id": sample_id, "provider": provider, "condition": condition}
    return ResultRow.from_columns({**ids, **columns})


def sclite_sum(ref_trn: Path, hyp_trn: Path) -> dict[str, int]:
    """sctk sclite's pooled Sum line for two trn files, as raw counts (``-o rsum``): sentences,
    words, corr, subs, dels, ins, errors."""
    import re
    import subprocess

    args = ["sclite", "-r", str(ref_trn), "trn", "-h", str(hyp_trn), "trn", "-i", "rm"]
    out = subprocess.run(
        ["sctk", *args, "-o", "rsum", "stdout"], capture_output=True, text=True, check=True
    ).stdout
    m = re.search(r"\|\s*Sum\s*\|\s*(\d+)\s+(\d+)\s*\|" + r"\s*(\d+)" * 5, out)
    assert m, out
    keys = ("sentences", "words", "corr", "subs", "dels", "ins", "errors")
    return dict(zip(keys, (int(g) for g in m.groups())))


@pytest.fixture
def fine_switching():
    """The loopback server shares this interpreter with the client (a real one does not): hand
    the GIL over often, so neither side's timing waits on the other's time slice."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(0.0002)
    yield
    sys.setswitchinterval(before)
