"""Long-form benchmark: a 2-hour recording processed window by window in bounded memory.

Loops real speech (``longform_en``, 199 s) into a temporary FLAC of about ``--minutes`` (whole
loops, so the reference is the loop's text repeated), then for each window: read it from disk
(``stt_eval.audio.load.open_audio``) → add white noise at 10 dB SNR → transcribe with faster-whisper tiny.en
(int8, beam 1, 2 threads) → merge all windows. Prints peak RSS (target < 1 GB), throughput and
RTF beside the anchor (tiny.en RTF 0.054 on 2 cores, DESIGN.md section 13), and the WER.

    python benchmarks/bench_longform.py              # ~2 h of audio, ~7-8 min on 2 cores
    python benchmarks/bench_longform.py --minutes 5  # quick check
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import soundfile as sf

from stt_eval.audio.load import AudioClip, load_audio, open_audio
from stt_eval.chunking import format_chunking, merge_chunks, parse_chunking, plan_windows
from stt_eval.datasets.manifest import load_manifest
from stt_eval.metrics.wer import score_text
from stt_eval.types import Chunk, Transcript

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "datasets" / "sample"
ANCHOR_RTF = 0.054
"""faster-whisper tiny.en int8 beam 1 on 2 cores (DESIGN.md section 13)."""


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def reference(sample_id: str = "longform_en") -> str:
    """A bundled sample's reference text."""
    samples = load_manifest(SAMPLE / "manifest.jsonl").samples
    return next(s.text for s in samples if s.id == sample_id)


def build_recording(source: AudioClip, loops: int, path: Path) -> float:
    """Write `loops` copies of the source clip to a 16-bit FLAC, one copy at a time."""
    with sf.SoundFile(str(path), "w", source.sample_rate, 1, subtype="PCM_16", format="FLAC") as f:
        for _ in range(loops):
            f.write(source.samples)
    return loops * source.duration_s


def read_windows(path: Path, windows: Sequence[Chunk]) -> Iterator[tuple[Chunk, AudioClip]]:
    """Each window read from disk on its own: memory stays at one window."""
    with open_audio(path) as audio:
        for window in windows:
            yield window, audio.read(window.offset_s, window.end_s)


def make_condition():
    """White noise at 10 dB SNR: stt_eval.conditions when present, else a numpy fallback."""
    try:
        from stt_eval.conditions import apply_chain, parse_chain

        chain = parse_chain("noise(snr_db=10, kind=white)")
        return (
            "conditions: noise(snr_db=10, kind=white)",
            lambda clip, seed: apply_chain(clip, chain, seed).clip,
        )
    except ImportError:

        def add_noise(clip: AudioClip, seed: int) -> AudioClip:
            rng = np.random.default_rng(seed)
            power = float(np.mean(clip.samples.astype(np.float64) ** 2))
            noise = rng.standard_normal(len(clip.samples)) * math.sqrt(power / 10.0)
            return AudioClip(
                np.clip(clip.samples + noise, -1, 1).astype(np.float32), clip.sample_rate
            )

        return "inline numpy white noise, 10 dB SNR (whole-clip power)", add_noise


def transcribe(clip: AudioClip, seed: int = 0) -> Transcript:
    """The stt-eval provider (tiny.en int8, beam 1), seeded per window for reproducible runs."""
    from stt_eval.providers.registry import get_provider

    return get_provider("faster-whisper", seed=seed).transcribe(clip)


def measure_anchor(clip: AudioClip) -> float:
    """RTF of the same model on the first 37 s of clean speech: the anchor, re-measured now."""
    part = clip.slice(0.0, 37.0)
    transcribe(part)  # warm-up
    t0 = time.perf_counter()
    transcribe(part)
    return (time.perf_counter() - t0) / part.duration_s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--minutes", type=float, default=120.0, help="length of the recording (default 120)"
    )
    ap.add_argument("--chunking", default="30s/2s", help="fixed-planner chunking (default 30s/2s)")
    ap.add_argument("--merge", default="timestamp", help="merge strategy (default timestamp)")
    ap.add_argument("--no-noise", action="store_true", help="skip the 10 dB white-noise condition")
    args = ap.parse_args()

    setting = parse_chunking(args.chunking)
    if setting.planner != "fixed":
        sys.exit("bench_longform streams windows from disk; use a fixed planner (e.g. 30s/2s)")
    source = load_audio(SAMPLE / "audio" / "longform_en.flac")
    loops = max(1, round(args.minutes * 60 / source.duration_s))
    ref = " ".join([reference()] * loops)
    condition_name, condition = make_condition()
    if args.no_noise:
        condition_name, condition = "none (clean)", lambda clip, seed: clip

    with tempfile.TemporaryDirectory(prefix="bench_longform_") as tmp:
        path = Path(tmp) / "longform_loop.flac"
        t0 = time.perf_counter()
        duration = build_recording(source, loops, path)
        build_s = time.perf_counter() - t0
        del source
        from stt_eval.providers.faster_whisper import FasterWhisper

        FasterWhisper().load()
        anchor_rtf = measure_anchor(load_audio(SAMPLE / "audio" / "longform_en.flac"))
        windows = plan_windows(
            sf.info(str(path)).duration, setting.chunk_s, setting.overlap_s, "loop"
        )
        rss_setup = current_rss_mb()
        print(
            f"recording: {duration / 60:.1f} min ({loops} loops of longform_en), "
            f"{path.stat().st_size / 2**20:.0f} MiB FLAC, built in {build_s:.1f} s"
        )
        print(
            f"chunking {format_chunking(setting)} → {len(windows)} windows; merge {args.merge}; "
            f"condition: {condition_name}; tiny.en int8 beam 1, 2 threads"
        )

        parts = []
        read_s = cond_s = asr_s = 0.0
        rss_track = []
        t_start = time.perf_counter()
        t_mark = t_start
        it = read_windows(path, windows)
        for k in range(len(windows)):
            a = time.perf_counter()
            chunk, clip = next(it)
            b = time.perf_counter()
            clip = condition(clip, chunk.index)
            c = time.perf_counter()
            parts.append((chunk, transcribe(clip, chunk.index)))
            d = time.perf_counter()
            read_s, cond_s, asr_s = read_s + b - a, cond_s + c - b, asr_s + d - c
            if (k + 1) % max(1, len(windows) // 10) == 0 or k + 1 == len(windows):
                rss_track.append((k + 1, current_rss_mb()))
                now = time.perf_counter()
                print(
                    f"  {k + 1:>4}/{len(windows)} windows  {chunk.end_s / 60:6.1f} min audio  "
                    f"rss {rss_track[-1][1]:6.0f} MiB  {now - t_start:6.1f} s  "
                    f"(last {now - t_mark:.1f} s)",
                    file=sys.stderr,
                    flush=True,
                )
                t_mark = now
        t_merge = time.perf_counter()
        merged = merge_chunks(parts, args.merge)
        merge_s = time.perf_counter() - t_merge
        wall = time.perf_counter() - t_start

    score = score_text(ref, merged.text, "whisper")
    c = score.counts
    print(
        f"peak RSS                 {peak_rss_mb():8.0f} MiB  (target < 1024 MiB; "
        f"after model load {rss_setup:.0f} MiB; current by progress: "
        + ", ".join(f"{k}:{m:.0f}" for k, m in rss_track)
        + ")"
    )
    print(f"wall (read→merge)        {wall:8.1f} s    for {duration:.0f} s of audio")
    print(
        f"  read {read_s:.1f} s, condition {cond_s:.1f} s, transcribe {asr_s:.1f} s, merge {merge_s:.2f} s"
    )
    print(f"throughput               {duration / wall:8.1f} audio s per wall s")
    print(f"RTF end-to-end           {wall / duration:8.4f}   anchor tiny.en beam 1: {ANCHOR_RTF}")
    print(
        f"RTF transcribe only      {asr_s / duration:8.4f}   same model on 37 s clean, this run: "
        f"{anchor_rtf:.4f}"
    )
    print(
        f"WER (whisper norm.)      {100 * c.wer:8.2f} %  S {c.subs} D {c.dels} I {c.ins} "
        f"N {c.ref_words}  ({len(merged.words)} words kept)"
    )


if __name__ == "__main__":
    main()
