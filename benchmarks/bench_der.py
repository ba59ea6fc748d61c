"""DER scoring time on 20 hours of synthetic RTTM: md-eval.pl, raw pyannote.metrics and stt-eval
(the ``stt-eval der`` command, and the API call alone), side by side in one run.

Twenty one-hour files with 2-4 speakers each (turns of 0.5-12 s, ~10 % overlapped speech); the
hypothesis is the reference with boundaries shifted, ~8 % of turns relabelled and ~5 % dropped,
plus a few false-alarm turns. All three scorers see the same turns and the same scoring region
(UEM = first to last reference turn of each file: md-eval's default and stt-eval's) with
md-eval's collar 0.25 s (pyannote collar=0.5), and must agree on the pooled DER (md-eval prints
two decimals). md-eval and ``stt-eval der`` run as a user runs them: a process reading the two
RTTM files, start-up included; pyannote and ``score_files`` get the turns already parsed.
stt-eval also computes JER and per-speaker detail; the target is ``stt-eval der`` <= md-eval.

    python benchmarks/bench_der.py [--files 20] [--collar 0.25] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

from stt_eval.datasets.annotation_writers import write_rttm
from stt_eval.metrics.diarization import default_uem, score_files
from stt_eval.metrics.intervals import merge_turns
from stt_eval.types import SpeakerTurn


def synthetic_file(rng: random.Random, hours: float = 1.0) -> tuple[SpeakerTurn, ...]:
    """One recording's reference: alternating speakers, random gaps, occasional overlap."""
    speakers = [f"spk{i}" for i in range(rng.randint(2, 4))]
    turns, t, last = [], rng.uniform(0, 2), None
    while t < hours * 3600:
        speaker = rng.choice([s for s in speakers if s != last])
        duration = rng.uniform(0.5, 12.0)
        turns.append(SpeakerTurn(speaker, round(t, 3), round(t + duration, 3)))
        last = speaker
        step = duration + rng.uniform(-1.0, 1.0)  # negative: the next turn overlaps this one
        t += max(0.1, step) if rng.random() < 0.35 else duration + rng.uniform(0.0, 1.5)
    return merge_turns(turns)


def perturb(turns, rng: random.Random) -> tuple[SpeakerTurn, ...]:
    """A plausible system output: shifted boundaries, some wrong labels, misses, false alarms."""
    labels = sorted({t.speaker for t in turns})
    names = {s: f"sys{i}" for i, s in enumerate(labels)}
    out = []
    for t in turns:
        if rng.random() < 0.05:
            continue
        speaker = names[t.speaker]
        if rng.random() < 0.08:
            speaker = names[rng.choice(labels)]
        start = max(0.0, t.start + rng.uniform(-0.3, 0.3))
        end = max(start + 0.1, t.end + rng.uniform(-0.3, 0.3))
        out.append(SpeakerTurn(speaker, round(start, 3), round(end, 3)))
        if rng.random() < 0.02:
            out.append(SpeakerTurn(names[labels[0]], round(end + 0.2, 3), round(end + 1.2, 3)))
    return merge_turns(out)


def run_stt_eval(ref, hyp, collar):
    t = time.perf_counter()
    der = score_files(ref, hyp, collar=collar).total.der
    return der, time.perf_counter() - t


def run_pyannote(ref, hyp, collar):
    from pyannote.core import Annotation, Segment, Timeline
    from pyannote.metrics.diarization import DiarizationErrorRate

    t = time.perf_counter()
    metric = DiarizationErrorRate(collar=2 * collar)
    for fid in ref:
        r, h = Annotation(uri=fid), Annotation(uri=fid)
        for i, turn in enumerate(ref[fid]):
            r[Segment(turn.start, turn.end), i] = turn.speaker
        for i, turn in enumerate(hyp[fid]):
            h[Segment(turn.start, turn.end), i] = turn.speaker
        ((start, end),) = default_uem(ref[fid], hyp[fid])
        metric(r, h, uem=Timeline([Segment(start, end)]))
    return abs(metric), time.perf_counter() - t


def run_cli(collar, tmp: Path):
    args = [
        sys.executable,
        "-m",
        "stt_eval.cli",
        "der",
        str(tmp / "ref.rttm"),
        str(tmp / "hyp.rttm"),
    ]
    t = time.perf_counter()
    out = subprocess.run([*args, "--collar", str(collar), "--json"], capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    if out.returncode:
        sys.exit(out.stderr)
    return json.loads(out.stdout)["total"]["der"], elapsed


def run_md_eval(ref, hyp, collar, tmp: Path):
    sctk = shutil.which("sctk")
    if sctk is None:
        return None, None
    args = [sctk, "md-eval.pl", "-r", str(tmp / "ref.rttm"), "-s", str(tmp / "hyp.rttm")]
    args += ["-c", str(collar)]  # md-eval's own default region, which stt-eval's default matches
    t = time.perf_counter()
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    elapsed = time.perf_counter() - t
    der = float(re.search(r"OVERALL SPEAKER DIARIZATION ERROR = ([\d.]+) percent", out)[1])
    return der / 100, elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=20, help="number of one-hour files")
    parser.add_argument("--collar", type=float, default=0.25, help="md-eval style collar (s)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    ref = {f"file{i:02d}": synthetic_file(rng) for i in range(args.files)}
    hyp = {fid: perturb(turns, rng) for fid, turns in ref.items()}
    n_ref = sum(len(t) for t in ref.values())
    n_hyp = sum(len(t) for t in hyp.values())
    print(
        f"{args.files} files x 1 h, {n_ref} reference / {n_hyp} hypothesis turns, "
        f"collar {args.collar} s each side (pyannote collar={2 * args.collar})"
    )

    warnings.simplefilter("ignore")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        write_rttm(ref, Path(tmp) / "ref.rttm")
        write_rttm(hyp, Path(tmp) / "hyp.rttm")
        rows.append(("md-eval.pl (sctk, process)", *run_md_eval(ref, hyp, args.collar, Path(tmp))))
        rows.append(("stt-eval der (process, DER+JER)", *run_cli(args.collar, Path(tmp))))
    rows.append(("pyannote.metrics (raw DER, in-process)", *run_pyannote(ref, hyp, args.collar)))
    rows.append(("stt-eval score_files (in-process)", *run_stt_eval(ref, hyp, args.collar)))

    print(f"{'scorer':40s} {'DER %':>9s} {'seconds':>8s}")
    for name, der, seconds in rows:
        if der is None:
            print(f"{name:40s} {'skipped: apt-get install -y sctk':>18s}")
        else:
            print(f"{name:40s} {100 * der:9.4f} {seconds:8.2f}")
    if rows[0][1] is not None:
        print(f"stt-eval der / md-eval time: {rows[1][2] / rows[0][2]:.2f}")
    ours = [der for _, der, _ in rows[1:]]  # stt-eval twice and pyannote: full precision
    exact = max(ours) - min(ours) < 1e-9
    md_eval = rows[0][1]
    rounded = md_eval is None or abs(100 * md_eval - round(100 * ours[0], 2)) < 1e-9
    print(f"stt-eval and pyannote DER identical: {exact}; md-eval's two decimals match: {rounded}")
    return 0 if exact and rounded else 1


if __name__ == "__main__":
    sys.exit(main())
