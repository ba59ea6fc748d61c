"""Streaming mode: the grid axis, the latency and stability counts, the engine clock, the
local streaming engines and the timeline cache."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from stt_eval.audio.load import load_audio, to_int16
from stt_eval.cache.store import TranscriptCache
from stt_eval.datasets.manifest import load_manifest
from stt_eval.experiment import ExperimentError, experiment_from_dict
from stt_eval.metrics.streaming import StreamingCounts, percentile, streaming_counts
from stt_eval.metrics.wer import score_text
from stt_eval.pipeline.streaming import stream_clip
from stt_eval.providers.pocketsphinx import PocketSphinx
from stt_eval.providers.pocketsphinx_align import align_reference
from stt_eval.report.streaming import batch_label, streaming_table
from stt_eval.run.directory import rows_frame
from stt_eval.run.grid import plan_cells
from stt_eval.streaming.events import AudioClock, StreamEvent, paced_frames
from stt_eval.streaming.local import EngineClock
from stt_eval.streaming.pace import canonical_pace, pace_factor
from stt_eval.streaming.registry import STREAMING, get_streaming_provider
from stt_eval.types import Word

from .conftest import SAMPLE, flat_row


def _exp(**settings):
    d = {"dataset": str(SAMPLE / "manifest.jsonl"), **settings}
    return experiment_from_dict(d, Path("."))


# --------------------------------------------------------------------------- the grid axis


def test_pace_is_spelled_one_way():
    assert [canonical_pace(p) for p in ("fast", "realtime", 1, 10, "2.5x")] == [
        "fast",
        "realtime",
        "realtime",
        "10x",
        "2.5x",
    ]
    assert (pace_factor("fast"), pace_factor("realtime"), pace_factor("10x")) == (None, 1.0, 10.0)
    for bad in (0, -2, "slow", True):
        with pytest.raises(ValueError, match="pace"):
            canonical_pace(bad)


def test_streaming_cells_appear_once_per_provider_and_condition():
    exp = _exp(
        providers=["pocketsphinx"],
        conditions=["clean", "telephony(codec=ulaw)"],
        chunking=["none", "15s/3s"],
        mode=["batch", "streaming"],
        pace=10,
    )
    cells = plan_cells(exp)
    streaming = [c for c in cells if c.mode == "streaming"]
    assert len(cells) == 2 * 2 + 2 and len(streaming) == 2
    ident = streaming[0].identity("r", "s", "whisper")
    assert (ident.provider, ident.mode, ident.pace, ident.frame_ms) == (
        "pocketsphinx (streaming)",
        "streaming",
        "10x",
        20,
    )
    assert ident.key != cells[0].identity("r", "s", "whisper").key
    assert _exp().run_id == _exp(pace="fast").run_id  # batch-only runs keep their names


def test_a_provider_without_a_streaming_engine_is_refused_when_read(monkeypatch):
    monkeypatch.delitem(STREAMING, "faster-whisper")
    with pytest.raises(ExperimentError, match="'faster-whisper' has no streaming mode"):
        _exp(providers=["faster-whisper"], mode=["streaming"])
    with pytest.raises(ExperimentError, match="pace"):
        _exp(mode=["streaming"], pace="slow")


# --------------------------------------------------------------------------- the counts


REF = (Word("go", 0.5, 0.8), Word("forward", 0.8, 1.3), Word("ten", 1.4, 1.6))


def _events():
    return (
        StreamEvent("partial", 0.9, "go"),
        StreamEvent("partial", 1.2, "go four"),
        StreamEvent("partial", 1.7, "go forward ten"),
        StreamEvent("final", 2.0, "go forward ten"),
        StreamEvent("closed", 2.1),
    )


def test_latencies_and_stability_by_hand():
    c = streaming_counts(_events(), REF, "whisper")
    assert c.first_partial_s == (0.9,)
    # go: first shown at 0.9 (end 0.8); forward: "four" pairs with it at 1.2 (end 1.3);
    # ten (normalized "10"): 1.7 (end 1.6)
    assert c.partial_latency_s == (0.1, -0.1, 0.1)
    assert c.final_latency_s == (1.2, 0.7, 0.4)
    assert c.eos_final_s == (0.4,)
    # shown 1 + 2 + 3 words; only "four" was rewritten
    assert (c.partial_words, c.rewritten_words) == (6, 1)


def test_counts_pool_as_distributions_not_averages():
    a = streaming_counts(_events(), REF, "whisper")
    b = StreamingCounts(1, (3.0,), (1.0,), (2.0,), (1.0,), 4, 3)
    pooled = sum([a, b])
    assert pooled.streams == 2 and pooled.final_latency_s == (1.2, 0.7, 0.4, 2.0)
    assert pooled.rewrite_rate == pytest.approx(4 / 10)
    assert percentile(pooled.final_latency_s, 50) == pytest.approx(0.95)
    no_times = streaming_counts(_events(), None, "whisper")
    assert no_times.final_latency_s == () and no_times.first_partial_s == (0.9,)


def test_engine_clock_at_fast_pace_queues_compute_behind_audio():
    clock = AudioClock(None)
    stamp = EngineClock(clock)
    clock.advance(1.0)
    stamp.begin()
    time.sleep(0.2)  # waiting is not compute: a shared machine's queue for a core is left out
    assert stamp.end() < 1.1
    stamp.begin()
    cpu, wall = time.process_time() + 0.05, time.perf_counter() + 0.05
    while time.process_time() < cpu or time.perf_counter() < wall:
        pass
    first = stamp.end()
    assert first >= 1.05  # audio fed + compute
    stamp.begin()
    second = stamp.end()  # no new audio: it waits for the first decode, not the audio
    assert second >= first


# --------------------------------------------------------------------------- engines


@pytest.mark.slow
def test_pocketsphinx_streams_real_partials_and_its_cached_timeline_is_served(tmp_path):
    clip = load_audio(SAMPLE / "audio" / "pocketsphinx_goforward.flac")
    engine = get_streaming_provider("pocketsphinx")
    cache = TranscriptCache(tmp_path)
    made = stream_clip(engine, clip, {"language": "en"}, cache, "fast", 20)
    tl = made.timeline
    assert len(tl.finals) == 1 and len(tl.partials) > 1
    assert tl.partials[0].at_s < tl.finals[0].at_s
    batch = PocketSphinx().transcribe(clip)
    stream_wer = score_text("go forward ten meters", tl.text).counts.errors
    assert stream_wer <= score_text("go forward ten meters", batch.text).counts.errors + 1
    again = stream_clip(engine, clip, {"language": "en"}, cache, "fast", 20)
    assert again.cached and again.timeline == tl and again.measured == made.measured
    other = stream_clip(engine, clip, {"language": "en"}, cache, "fast", 40)
    assert not other.cached  # the frame size is part of the key


@pytest.mark.slow
def test_simulated_whisper_commits_what_two_hypotheses_agree_on():
    clip = load_audio(SAMPLE / "audio" / "pocketsphinx_goforward.flac")
    clock = AudioClock(None)

    engine = get_streaming_provider("faster-whisper")
    frames = paced_frames(to_int16(clip.samples).tobytes(), 16000, 20, clock)
    tl = asyncio.run(engine.stream(frames, 16000, clock, {"language": "en"}))
    assert tl.simulated and tl.finals
    assert score_text("go forward ten meters", tl.text).counts.errors <= 1
    assert [e.at_s for e in tl.events] == sorted(e.at_s for e in tl.events)


# --------------------------------------------------------------------------- reference times


@pytest.mark.slow
def test_the_aligner_places_words_where_they_were_placed_by_hand():
    fixture = (
        Path(__file__).parent / "fixtures" / "word_times" / "constructed_conv_pocketsphinx.tsv"
    )
    placed = [
        line.split("\t")
        for line in fixture.read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    sample = next(s for s in load_manifest(SAMPLE / "manifest.jsonl").samples if s.id == placed_id)
    aligned = align_reference(load_audio(sample.audio_path), sample.text)
    assert not aligned.left_out and len(aligned.words) == len(sample.text.split())
    errors = []
    for word, edge, seconds in placed:
        # the aligned word of that text nearest the hand-placed time
        times = [getattr(w, edge) for w in aligned.words if w.text == word]
        errors.append(min(abs(t - float(seconds)) for t in times))
    assert percentile(errors, 50) < 0.1 and max(errors) < 0.3, errors


placed_id = "constructed_conv_pocketsphinx"


def test_a_ctm_in_the_manifest_gives_reference_word_times(tmp_path):
    ctm = tmp_path / "a.ctm"
    ctm.write_text(";; by hand\na 1 0.5 0.3 go\na 1 0.8 0.5 forward\n", encoding="utf-8")
    manifest = tmp_path / "m.jsonl"
    audio = SAMPLE / "audio" / "pocketsphinx_goforward.flac"
    manifest.write_text(
        f'{{"id": "a", "audio": "{audio}", "text": "go forward", "ctm": "a.ctm"}}\n',
        encoding="utf-8",
    )
    (sample,) = load_manifest(manifest).samples
    assert [(w.text, w.start, w.end) for w in sample.ref_words] == [
        ("go", 0.5, 0.8),
        ("forward", 0.8, 1.3),
    ]
    ctm.write_text("b 1 0.5 0.3 go\n", encoding="utf-8")
    problems = load_manifest(manifest).problems
    assert len(problems) == 1 and "no CTM line for 'a'" in str(problems[0])


# --------------------------------------------------------------------------- report


def test_the_streaming_table_pools_words_and_pairs_each_stream_with_its_batch_twin():
    def words(subs, ref_words=10):
        return {"hits": ref_words - subs, "subs": subs, "dels": 0, "ins": 0, "audio_s": 10.0}

    stream = {"mode": "streaming", "pace": "fast", "frame_ms": 20, "streamed": 1}
    rows = [
        flat_row(sample_id="a", provider="ps", **words(2)),
        flat_row(sample_id="b", provider="ps", **words(4)),
        flat_row(
            sample_id="a",
            provider="ps (streaming)",
            **words(3),
            **stream,
            first_partial_s=[0.5],
            partial_latency_s=[0.1, 0.2],
            final_latency_s=[1.0, 2.0],
            eos_final_s=[1.5],
            partial_words=10,
            rewritten_words=2,
            processing_s=5.0,
        ),
        flat_row(
            sample_id="b",
            provider="ps (streaming)",
            **words(4),
            **stream,
            first_partial_s=[0.7],
            partial_latency_s=[0.3],
            final_latency_s=[3.0],
            eos_final_s=[2.5],
            partial_words=10,
            rewritten_words=0,
            processing_s=3.0,
        ),
    ]
    (line,) = streaming_table(rows_frame(rows)).to_dict("records")
    assert line["provider"] == "ps (streaming)" and line["files"] == 2
    assert line["wer"] == pytest.approx(7 / 20) and line["batch wer"] == pytest.approx(6 / 20)
    assert line["Δ wer (95 % CI)"].startswith("+5.0")
    assert line["final p50 ms"] == 2000  # the median of the 3 pooled words, not of 2 medians
    assert line["first partial p50 ms"] == 600 and line["eos→final p50 ms"] == 2000
    assert line["rewrites /100 words"] == 10.0 and line["RTF"] == pytest.approx(0.4)
    assert batch_label("fw (simulated streaming)") == "fw"
