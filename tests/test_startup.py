"""Start-up: the quick commands import only what they use (module counts, not seconds; the
wall times are in benchmarks/bench_startup.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .conftest import ROOT

HEAVY = ("pandas", "pydantic", "torch", "faster_whisper", "requests", "matplotlib", "pyannote")
"""What a run needs and `score`, `der`, `--help` and `--version` must not load; only `der`
needs numpy, and none of them scipy (0.3-0.8 s to import scipy.optimize)."""

PROBE = """
import json, sys
from stt_eval.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exit:  # --help and --version exit
    code = exit.code
modules = sorted({m.split(".")[0] for m in sys.modules})
print(json.dumps({"code": code, "modules": modules}), file=sys.stderr)
"""


def _loaded(*argv: str) -> set[str]:
    """Top-level packages imported by running the CLI on argv in a fresh interpreter (which
    must succeed)."""
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    out = json.loads(proc.stderr.strip().splitlines()[-1])
    assert out["code"] in (0, None), proc.stderr
    return set(out["modules"])


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("startup")
    (tmp / "ref.trn").write_text("go forward ten meters (u1)\n")
    (tmp / "hyp.trn").write_text("go forward 10 meters (u1)\n")
    (tmp / "ref.rttm").write_text("SPEAKER f 1 0 10 <NA> <NA> A <NA> <NA>\n")
    (tmp / "hyp.rttm").write_text("SPEAKER f 1 0 12 <NA> <NA> x <NA> <NA>\n")
    return tmp


@pytest.mark.parametrize(
    "argv",
    [
        ("--version",),
        ("--help",),
        ("score", "{tmp}/ref.trn", "{tmp}/hyp.trn"),
        ("score", "{tmp}/ref.trn", "{tmp}/hyp.trn", "--normalizer", "basic"),
        ("der", "{tmp}/ref.rttm", "{tmp}/hyp.rttm"),
    ],
)
def test_quick_commands_load_no_heavy_package(files, argv):
    loaded = _loaded(*(a.format(tmp=files) for a in argv))
    heavy = {*HEAVY, "scipy"} | ({"numpy"} if argv[0] != "der" else set())
    assert not loaded & heavy, sorted(loaded & heavy)


def test_the_probe_sees_what_a_run_loads():
    # `providers` builds every engine: the probe must report pandas-free but requests-laden
    assert "requests" in _loaded("providers")
