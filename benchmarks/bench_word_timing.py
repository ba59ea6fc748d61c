"""Word-timing accuracy of faster-whisper tiny.en on the bundled sample: unchunked, and in
15 s windows with 3 s overlap merged by timestamp.

The bundled manifest has no reference word times, so this script makes them offline with a
forced alignment: PocketSphinx's aligner (``Decoder.set_align_text``, its en-us model, 10 ms
frames, beams widened so the overlapped telephone call aligns) on each reference text, words
out of its dictionary left out. ``longform_en`` (199 s) does not align in one piece; it is its
parts joined with 1.5 s of silence (its meta says which), so each part is aligned on its own
and moved to where it sits. That reference is itself
an estimate (a forced aligner is typically within a few tens of ms of hand marks, worse on
noisy or overlapped speech), so read the numbers as agreement between two systems, and the
difference between unchunked and chunked as what the merge does to word times.

Scoring is stt-eval's own (:func:`stt_eval.metrics.timing.timing_counts`), pooled as sums.

    python benchmarks/bench_word_timing.py            # every sample file, ~2 min on 2 cores
    python benchmarks/bench_word_timing.py --ids whisper_jfk pyannote_sample
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from pocketsphinx import Decoder

from stt_eval.audio.load import TARGET_RATE, AudioClip, load_audio, to_int16
from stt_eval.cache.store import TranscriptCache
from stt_eval.datasets.manifest import load_manifest
from stt_eval.metrics.timing import TimingCounts, timing_counts
from stt_eval.pipeline.prepare import Recording, prepare
from stt_eval.pipeline.transcribe import transcribe
from stt_eval.providers.pocketsphinx import clean_word
from stt_eval.providers.registry import get_provider
from stt_eval.types import Sample, Word

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "datasets" / "sample"
SETTINGS = (("none", "none"), ("15s/3s", "timestamp"))


def forced_alignment(clip: AudioClip, text: str) -> tuple[Word, ...]:
    """Reference word times from PocketSphinx's forced aligner (dictionary words only)."""
    decoder = Decoder(
        samprate=TARGET_RATE, loglevel="FATAL", beam=1e-100, wbeam=1e-80, pbeam=1e-100
    )
    tokens = re.sub(r"[^a-z' ]", " ", text.lower()).split()
    decoder.set_align_text(" ".join(t for t in tokens if decoder.lookup_word(t)))
    decoder.start_utt()
    decoder.process_raw(to_int16(clip.samples).tobytes(), full_utt=True)
    decoder.end_utt()
    frate = int(decoder.config["frate"])
    words = []
    for seg in decoder.seg() or ():
        word = clean_word(seg.word)
        if word is not None:
            words.append(Word(word, seg.start_frame / frate, (seg.end_frame + 1) / frate))
    return tuple(words)


def reference_words(sample: Sample, by_id: dict[str, Sample]) -> tuple[Word, ...]:
    """A sample's reference word times; a constructed one's from its parts, moved in place."""
    parts = re.search(
        r"clips (.+?), joined .* with ([\d.]+) s of silence", sample.meta.get("source", "")
    )
    if not parts:
        return forced_alignment(load_audio(sample.audio_path), sample.text)
    words, at = [], 0.0
    for part_id in parts.group(1).split(", "):
        part = by_id[part_id]
        words += [w.shifted(at) for w in reference_words(part, by_id)]
        at += load_audio(part.audio_path).duration_s + float(parts.group(2))
    return tuple(words)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ids", nargs="*", help="sample ids (default: all)")
    args = parser.parse_args()
    every = load_manifest(SAMPLE / "manifest.jsonl").samples
    by_id = {s.id: s for s in every}
    samples = [s for s in every if not args.ids or s.id in args.ids]
    provider = get_provider("faster-whisper")
    cache = TranscriptCache(None)
    totals = {setting: TimingCounts() for setting in SETTINGS}
    print(f"{'sample':32} {'ref words':>9} " + " ".join(f"{c + ' ' + m:>24}" for c, m in SETTINGS))
    for sample in samples:
        audio = prepare(Recording.of(sample), "clean", 0)
        ref = reference_words(sample, by_id)
        if not ref:
            print(f"{sample.id:32} {'the aligner found no path; left out':>60}")
            continue
        cells = []
        for chunking, merge in SETTINGS:
            t = transcribe(provider, audio, {"language": "en"}, cache, chunking, merge, sample.id)
            counts = timing_counts(ref, t.transcript.words)
            totals[(chunking, merge)] += counts
            cells.append(f"{1000 * counts.start_mae_s:6.0f} ms {100 * counts.within_100ms:5.1f} %")
        print(f"{sample.id:32} {len(ref):9d} " + " ".join(f"{c:>24}" for c in cells))
    print()
    for (chunking, merge), t in totals.items():
        print(
            f"tiny.en chunking={chunking} merge={merge}: {t.matched} words paired; "
            f"start MAE {1000 * t.start_mae_s:.0f} ms, end MAE {1000 * t.end_mae_s:.0f} ms; "
            f"start within 50/100/200 ms: {100 * t.within_50ms:.1f} / "
            f"{100 * t.within_100ms:.1f} / {100 * t.within_200ms:.1f} %"
        )


if __name__ == "__main__":
    main()
