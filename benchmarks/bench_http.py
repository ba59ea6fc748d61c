"""HTTP throughput under a rate limit, and a re-run that sends nothing.

A loopback OpenAI-compatible server answers every request after LATENCY_S and counts requests
over its limit (429). The run sends REQUESTS one-second clips through the real runner, thread
pool, rate limiter, retry policy and cache, with the provider's limit set to LIMIT_PER_S.

    python benchmarks/bench_http.py [--requests 300] [--latency 0.3] [--rate 20]

Anchor (the issue's target): sustained throughput >= 90 % of the limit with zero requests over
it; a re-run of the finished grid sends 0 requests and finishes in seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import soundfile as sf

from stt_eval.audio.load import load_audio
from stt_eval.experiment import Experiment, ProviderSpec
from stt_eval.run.grid import run_experiment
from stt_eval.testing.openai import openai_server
from stt_eval.types import Transcript, Word

ROOT = Path(__file__).resolve().parents[1]
KEY = "bench-key"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--latency", type=float, default=0.3, help="server latency, seconds")
    parser.add_argument("--rate", type=float, default=20.0, help="limit, requests per second")
    args = parser.parse_args()
    os.environ["OPENAI_API_KEY"] = KEY

    def slow_model(audio: bytes, request) -> Transcript:
        time.sleep(args.latency)
        return Transcript("ask not", (Word("ask", 0.1, 0.4, 0.9), Word("not", 0.4, 0.7, 0.9)))

    jfk = load_audio(ROOT / "datasets" / "sample" / "audio" / "whisper_jfk.flac")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        rows = []
        for i in range(args.requests):  # one-second clips, each different audio (no cache hits)
            clip = jfk.slice(i % 10, i % 10 + 1.0)
            samples = clip.samples.copy()
            samples[0] = (i + 1) / 32768.0  # make every clip's bytes unique
            sf.write(tmp / f"c{i}.wav", samples, 16000, subtype="PCM_16")
            rows.append({"id": f"c{i}", "audio": f"c{i}.wav", "text": "ask not"})
        (tmp / "m.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        per_minute = int(args.rate * 60)
        with openai_server(slow_model, api_key=KEY, per_minute=per_minute) as server:
            spec = ProviderSpec(
                "openai",
                (("base_url", server.url + "/v1"), ("requests_per_minute", args.rate * 60)),
            )
            exp = Experiment(
                dataset=tmp / "m.jsonl",
                providers=(spec,),
                output=tmp / "r",
                name="bench",
                http_workers=max(8, int(args.rate * args.latency * 2)),
            )
            start = time.perf_counter()
            first = run_experiment(exp, progress=False, cache_root=tmp / "cache")
            wall = time.perf_counter() - start
            over = sum(1 for r in server.requests if r.path.endswith("transcriptions")) - len(
                first.rows
            )
            sent = len(server.requests)
            start = time.perf_counter()
            run_experiment(exp, progress=False, cache_root=tmp / "cache", fresh=True)
            rerun = time.perf_counter() - start
            resent = len(server.requests) - sent
    ok = sum(r.status == "ok" for r in first.rows)
    throughput = args.requests / wall
    print(f"{'figure':44s} {'stt-eval':>12s} {'anchor':>14s}")
    print(f"{'requests ok':44s} {ok:>12d} {args.requests:>14d}")
    print(
        f"{'sustained throughput (requests/s)':44s} {throughput:>12.2f} {'>= ' + format(0.9 * args.rate, '.1f'):>14s}"
    )
    print(f"{'share of the limit':44s} {throughput / args.rate:>12.1%} {'>= 90 %':>14s}")
    print(f"{'requests over the limit (429s and retries)':44s} {over:>12d} {0:>14d}")
    print(f"{'re-run: requests sent':44s} {resent:>12d} {0:>14d}")
    print(f"{'re-run: wall time (s)':44s} {rerun:>12.2f} {'seconds':>14s}")


if __name__ == "__main__":
    main()
