"""Chunking: settings, window plans, merges, VAD cuts, real long-form (boundary errors:
test_boundary.py)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from stt_eval.audio.load import AudioClip, load_audio, open_audio
from stt_eval.audio.vad import speech_silences
from stt_eval.chunking import (
    ChunkingError,
    ChunkSetting,
    cut_points,
    format_chunking,
    merge_chunks,
    parse_chunking,
    plan_chunks,
    plan_windows,
)
from stt_eval.chunking.planning import plan_vad_windows
from stt_eval.metrics.wer import score_text
from stt_eval.types import MERGE_STRATEGIES, Chunk, Transcript, Word

ROOT = Path(__file__).parents[1]
SAMPLE = ROOT / "datasets" / "sample"
LONGFORM = SAMPLE / "audio" / "longform_en.flac"
TOL = 1e-6


# ----------------------------------------------------------------------------- settings


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("none", ChunkSetting(None)),
        ("30s", ChunkSetting(30.0, 0.0)),
        ("30s/2s", ChunkSetting(30.0, 2.0)),
        ("30s/2s/vad", ChunkSetting(30.0, 2.0, "vad")),
        ("15s/500ms", ChunkSetting(15.0, 0.5)),
        ("30/2", ChunkSetting(30.0, 2.0)),
    ],
)
def test_parse_chunking(spec, expected):
    assert parse_chunking(spec) == expected


@pytest.mark.parametrize(
    ("setting", "text"),
    [
        (ChunkSetting(None), "none"),
        (ChunkSetting(30.0), "30s"),
        (ChunkSetting(30.0, 2.0), "30s/2s"),
        (ChunkSetting(30.0, 2.0, "vad"), "30s/2s/vad"),
        (ChunkSetting(12.5, 0.25), "12.5s/0.25s"),
        (ChunkSetting(30.0, 2.0, strategy="redecode"), "30s/2s/redecode"),
        (ChunkSetting(30.0, 0.0, "vad", "redecode"), "30s/0s/vad/redecode"),
        (ChunkSetting(30.0, 2.0, strategy="continue"), "30s/2s/continue"),
    ],
)
def test_format_round_trips(setting, text):
    assert format_chunking(setting) == text
    assert parse_chunking(text) == setting


@given(
    chunk=st.floats(0.01, 10_000),
    frac=st.floats(0.0, 0.499),
    planner=st.sampled_from(["fixed", "vad"]),
    strategy=st.sampled_from(["plain", "redecode", "continue"]),
)
def test_format_parse_round_trip_property(chunk, frac, planner, strategy):
    assume(planner == "fixed" or strategy != "continue")
    setting = ChunkSetting(chunk, chunk * frac, planner, strategy)
    assert parse_chunking(format_chunking(setting)) == setting


@pytest.mark.parametrize(
    ("spec", "fragments"),
    [
        ("30s/40s", ["overlap 40s", "less than half the chunk length (30s)", "'30s/2s'"]),
        ("30s/15s", ["overlap 15s", "less than half"]),
        ("0s/1s", ["chunk length must be a positive number of seconds, got 0.0", "'30s/2s'"]),
        ("abc", ["cannot parse chunking 'abc'", "'30s/2s'"]),
        ("30s/2s/magic", ["unknown chunk planner 'magic'", "fixed, vad", "redecode, continue"]),
        ("30s/2s/vad/continue", ["'continue' strategy", "no 'vad' planner", "'30s/2s/continue'"]),
        ("none/redecode", ["cannot parse chunking 'none/redecode'", "'30s/2s/redecode'"]),
        ("30s/2x", ["cannot read the overlap '2x'", "'30s/2s'"]),
        ("", ["empty chunking", "'30s/2s'"]),
    ],
)
def test_bad_settings_say_what_and_how(spec, fragments):
    with pytest.raises(ChunkingError) as err:
        parse_chunking(spec)
    for fragment in fragments:
        assert fragment in str(err.value)
    assert isinstance(err.value, ValueError)


def test_bad_planner_lists_valid_ones():
    with pytest.raises(ChunkingError, match="choose one of: fixed, vad"):
        ChunkSetting(30.0, 2.0, "silence")


# ----------------------------------------------------------------------------- planning


def test_plan_windows_hand_case():
    got = [(c.index, c.offset_s, c.end_s) for c in plan_windows(80.0, 30.0, 2.0, "s")]
    assert got == [(0, 0.0, 30.0), (1, 28.0, 58.0), (2, 56.0, 80.0)]
    assert cut_points(plan_windows(80.0, 30.0, 2.0)) == (29.0, 57.0)


def test_a_short_last_window_is_balanced_with_its_neighbour():
    # 70 s at 30s/2s would end on a 14 s window [56, 70]; the last two share [28, 70] with a
    # 2 s overlap: two windows of (42 + 2) / 2 = 22 s
    got = [(c.offset_s, c.end_s) for c in plan_windows(70.0, 30.0, 2.0)]
    assert got == [(0.0, 30.0), (28.0, 50.0), (48.0, 70.0)]
    # a 0.05 s tail (the pocketsphinx crash) is never sent on its own
    assert [(c.offset_s, c.end_s) for c in plan_windows(30.05, 30.0)] == [
        (0, 15.025),
        (15.025, 30.05),
    ]


def test_plan_windows_no_tiny_trailing_window():
    # 58 s = two full windows exactly: a third window [56, 58] would lie inside the second
    assert [(c.offset_s, c.end_s) for c in plan_windows(58.0, 30.0, 2.0)] == [(0, 30), (28, 58)]
    assert len(plan_windows(20.0, 30.0, 2.0)) == 1
    assert len(plan_windows(20.0, None)) == 1


@pytest.mark.parametrize(("dur", "chunk", "overlap"), [(0, 30, 2), (10, 0, 0), (10, 30, 20)])
def test_plan_windows_validates(dur, chunk, overlap):
    with pytest.raises(ChunkingError):
        plan_windows(dur, chunk, overlap)


@settings(max_examples=300, deadline=None)
@given(
    chunk=st.floats(1.0, 600.0),
    n_chunks=st.floats(0.01, 80.0),
    frac=st.floats(0.0, 0.49),
)
def test_windows_cover_with_overlap_and_no_gap(chunk, n_chunks, frac):
    duration, overlap = chunk * n_chunks, chunk * frac
    ws = plan_windows(duration, chunk, overlap)
    assert ws[0].offset_s == 0.0
    assert ws[-1].end_s == pytest.approx(duration, abs=TOL)
    assert [c.index for c in ws] == list(range(len(ws)))
    for a, b in zip(ws, ws[1:], strict=False):
        assert a.end_s - b.offset_s == pytest.approx(overlap, abs=1e-6 * chunk)  # overlap, no gap
        assert b.end_s > a.end_s  # never a window inside its predecessor
    assert all(c.duration_s <= chunk + TOL for c in ws)
    assert all(a.duration_s == pytest.approx(chunk, abs=1e-6 * chunk) for a in ws[:-2])
    if len(ws) > 1:  # the minimum window length: no last window under half a chunk
        assert ws[-1].duration_s >= chunk / 2 - TOL
        assert ws[-2].duration_s == pytest.approx(chunk, abs=1e-6 * chunk) or ws[
            -2
        ].duration_s == pytest.approx(ws[-1].duration_s, abs=1e-6 * chunk)
    if len(ws) > 1:  # minimal: the second-to-last window did not already reach the end
        assert ws[-2].end_s < duration


def _no_read(start_s, end_s):
    raise AssertionError(f"the fixed planner read audio ({start_s}, {end_s})")


@pytest.mark.parametrize("spec", ["none", "30s", "30s/2s"])
def test_plan_chunks_fixed_never_reads_audio(spec):
    setting = parse_chunking(spec)
    got = plan_chunks(setting, 70.0, _no_read, sample_id="s")
    assert got == plan_windows(70.0, setting.chunk_s, setting.overlap_s, "s")


def test_plan_chunks_vad_needs_a_silence_finder():
    with pytest.raises(ChunkingError, match="find_silences=stt_eval.audio.vad.speech_silences"):
        plan_chunks(parse_chunking("30s/2s/vad"), 70.0, _no_read)


def _quiet_spans(clip: AudioClip, threshold: float = 0.01) -> list[tuple[float, float]]:
    """A stand-in silence finder (no engine): runs of 20 ms frames with RMS below threshold."""
    hop = round(0.02 * clip.sample_rate)
    n = len(clip.samples) // hop
    rms = np.sqrt((clip.samples[: n * hop].reshape(n, hop) ** 2).mean(axis=1))
    spans, start = [], None
    for k, quiet in enumerate([*(rms < threshold), False]):
        if quiet and start is None:
            start = k
        elif not quiet and start is not None:
            spans.append((start * 0.02, k * 0.02))
            start = None
    return spans


def test_vad_planner_puts_seams_in_the_pauses_the_finder_reports():
    # 70 s of noise with two pauses; fixed 30s/2s seams would be at 29 s and 57 s
    rate = 16000
    x = np.random.default_rng(0).normal(0, 0.1, 70 * rate).astype(np.float32)
    pauses = [(27.6, 28.4), (54.2, 55.0)]
    for a, b in pauses:
        x[round(a * rate) : round(b * rate)] = 0.0
    clip = AudioClip(x, rate)
    reads = []

    def read(a, b):
        reads.append((a, b))
        return clip.slice(a, b)

    setting = parse_chunking("30s/2s/vad")
    windows = plan_chunks(setting, clip.duration_s, read, find_silences=_quiet_spans)
    cuts = cut_points(windows)
    assert len(cuts) == 2
    for cut, (a, b) in zip(cuts, pauses, strict=True):
        assert a < cut < b, f"seam {cut:.2f}s not in the pause {a}-{b}s"
    assert all(w.duration_s <= 30.0 + 1e-6 for w in windows)
    for a, b in zip(windows, windows[1:], strict=False):
        assert a.end_s - b.offset_s == pytest.approx(2.0, abs=1e-6)
    # only the seconds around each seam were read: tolerance 3 s + 1 s of context each side
    assert len(reads) == 2 and all(b - a <= 5.0 + 1e-6 for a, b in reads)


@settings(max_examples=200, deadline=None)
@given(
    chunk=st.floats(4.0, 60.0),
    n_chunks=st.floats(1.05, 12.0),
    frac=st.floats(0.0, 0.3),
    pauses=st.lists(st.floats(0.0, 1.0), max_size=30),
)
def test_vad_windows_never_leave_a_short_last_window(chunk, n_chunks, frac, pauses):
    """Whatever the pauses, the VAD plan covers the recording with neighbours overlapping by
    ``overlap``, no window over a chunk, and no last window under half a chunk."""
    duration, overlap = chunk * n_chunks, chunk * frac
    silences = sorted((p * duration, p * duration + 0.3) for p in pauses)
    offset = [0.0]

    def read(a, b):
        offset[0] = a
        return AudioClip(np.zeros(round((b - a) * 16000), dtype=np.float32), 16000)

    def find(clip):  # the global pauses, in the read clip's own time
        return [(a - offset[0], b - offset[0]) for a, b in silences]

    ws = plan_vad_windows(duration, read, find, chunk, overlap)
    assert ws[0].offset_s == 0.0 and ws[-1].end_s == pytest.approx(duration, abs=TOL)
    assert all(c.duration_s <= chunk + TOL for c in ws)
    for a, b in zip(ws, ws[1:], strict=False):
        assert a.end_s - b.offset_s == pytest.approx(overlap, abs=1e-6 * chunk)
    if len(ws) > 1:
        assert ws[-1].duration_s >= chunk / 2 - TOL


# ----------------------------------------------------------------------------- merging


def _synthetic(draw_words, chunk, overlap):
    """Words with times, and per-window transcripts holding the words fully inside each window."""
    t, words = 0.3, []
    for k, (text, gap, dur) in enumerate(draw_words):
        words.append(Word(text, t + gap, t + gap + dur, confidence=0.5, speaker=f"S{k % 2}"))
        t = t + gap + dur
    duration = t + 0.3
    windows = plan_windows(duration, chunk, overlap, "syn")
    parts = []
    for c in windows:
        inside = [w for w in words if w.start >= c.offset_s and w.end <= c.end_s]
        local = [
            Word(
                w.text,
                max(0.0, w.start - c.offset_s),
                max(0.0, w.end - c.offset_s),
                w.confidence,
                w.speaker,
            )
            for w in inside
        ]
        parts.append((c, Transcript(" ".join(w.text for w in local), tuple(local))))
    return words, windows, parts


VOCAB = ["the", "cat", "hello", "sat", "on", "mat", "a"]
word_lists = st.lists(
    st.tuples(st.sampled_from(VOCAB), st.floats(0.0, 0.8), st.floats(0.05, 0.4)),
    min_size=40,
    max_size=150,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    draw=word_lists,
    chunk=st.floats(5.0, 12.0),
    overlap=st.floats(1.5, 2.4),
    strategy=st.sampled_from(["text-align", "timestamp"]),
)
def test_merge_recovers_the_sequence_exactly(draw, chunk, overlap, strategy):
    # words last <= 0.4 s and the overlap is >= 1.5 s, so every word lies whole in some window
    words, windows, parts = _synthetic(draw, chunk, overlap)
    assume(len(windows) >= 2)
    merged = merge_chunks(parts, strategy)
    assert [w.text for w in merged.words] == [w.text for w in words]
    assert merged.text == " ".join(w.text for w in words)
    assert [w.speaker for w in merged.words] == [w.speaker for w in words]
    assert [w.confidence for w in merged.words] == [0.5] * len(words)
    for got, want in zip(merged.words, words, strict=True):
        assert got.start == pytest.approx(want.start, abs=TOL)
        assert got.end == pytest.approx(want.end, abs=TOL)


@settings(max_examples=100, deadline=None)
@given(
    draw=word_lists,
    chunk=st.floats(5.0, 12.0),
    overlap=st.floats(0.0, 2.4),
    strategy=st.sampled_from(MERGE_STRATEGIES[1:]),
)
def test_merged_timestamps_are_monotonic(draw, chunk, overlap, strategy):
    _, _, parts = _synthetic(draw, chunk, overlap)
    merged = merge_chunks(parts, strategy)
    starts = [w.start for w in merged.words]
    assert starts == sorted(starts)


@settings(max_examples=100, deadline=None)
@given(draw=word_lists, chunk=st.floats(5.0, 12.0), overlap=st.floats(1.5, 2.4))
def test_concat_duplicates_the_overlap_words(draw, chunk, overlap):
    words, windows, parts = _synthetic(draw, chunk, overlap)
    merged = merge_chunks(parts, "concat")
    in_two = sum(
        1
        for w in words
        for a, b in zip(windows, windows[1:], strict=False)
        if w.start >= b.offset_s and w.end <= a.end_s
    )
    assert len(merged.words) == len(words) + in_two


def _w(text, start, end):
    return Word(text, start, end)


def test_text_align_hand_case_drops_cut_off_words():
    # window 0 = [0, 10], window 1 = [8, 18]; seams of Whisper output differ at the edges:
    # window 0 hears a cut-off "wor" at its end, window 1 a cut-off "ust" at its start.
    c0, c1 = Chunk("s", 0, 0.0, 10.0), Chunk("s", 1, 8.0, 10.0)
    t0 = Transcript(
        "",
        (
            _w("we", 6.0, 6.5),
            _w("must", 7.6, 8.2),
            _w("go", 8.5, 8.9),
            _w("now,", 9.1, 9.5),
            _w("wor", 9.7, 10.0),
        ),
    )
    t1 = Transcript(
        "",
        (
            _w("ust", 0.0, 0.2),
            _w("Go", 0.6, 0.9),
            _w("now", 1.1, 1.5),
            _w("world", 1.7, 2.2),
            _w("peace", 2.4, 3.0),
        ),
    )
    merged = merge_chunks([(c1, t1), (c0, t0)], "text-align")  # order of parts does not matter
    assert merged.text == "we must go now world peace"
    timestamp = merge_chunks([(c0, t0), (c1, t1)], "timestamp")  # seam at 9.0
    assert timestamp.text == "we must go now world peace"
    assert (
        merge_chunks([(c0, t0), (c1, t1)], "concat").text
        == "we must go now, wor ust Go now world peace"
    )


def test_text_align_matches_repeated_words_to_their_own_occurrence():
    c0, c1 = Chunk("s", 0, 0.0, 10.0), Chunk("s", 1, 8.0, 10.0)
    hellos = [_w("hello", 7.0 + 0.5 * k, 7.3 + 0.5 * k) for k in range(6)]  # 7.0 ... 9.8
    t0 = Transcript("", tuple(w for w in hellos if w.end <= 10.0))
    t1 = Transcript("", tuple(w.shifted(-8.0) for w in hellos if w.start >= 8.0))
    assert merge_chunks([(c0, t0), (c1, t1)], "text-align").text == " ".join(["hello"] * 6)


def test_merge_falls_back_to_text_when_a_part_has_no_words():
    c0, c1 = Chunk("s", 0, 0.0, 10.0), Chunk("s", 1, 8.0, 10.0)
    merged = merge_chunks([(c0, Transcript("one two")), (c1, Transcript("two three"))], "timestamp")
    assert merged.text == "one two two three"
    assert "no word timings" in merged.raw["merge_fallback"]


def test_merge_shifts_to_global_time_and_handles_empty_parts():
    c0, c1 = Chunk("s", 0, 0.0, 30.0), Chunk("s", 1, 28.0, 10.0)
    merged = merge_chunks(
        [(c0, Transcript("")), (c1, Transcript("hi", (_w("hi", 3.0, 3.5),)))], "text-align"
    )
    assert merged.text == "hi"
    assert merged.words[0].start == pytest.approx(31.0)


def test_unknown_strategy_lists_valid_ones():
    with pytest.raises(ChunkingError, match="concat, text-align, timestamp"):
        merge_chunks([], "smart")


# ----------------------------------------------------------------------------- real audio


def test_vad_cuts_land_in_silence():
    clip = load_audio(LONGFORM)
    windows = plan_vad_windows(
        clip.duration_s, clip.slice, speech_silences, 30.0, 2.0, sample_id="longform_en"
    )
    assert windows[0].offset_s == 0.0 and windows[-1].end_s == pytest.approx(clip.duration_s)
    for a, b in zip(windows, windows[1:], strict=False):
        assert a.end_s - b.offset_s == pytest.approx(2.0, abs=1e-6)
    speech_rms = float(np.sqrt(np.mean(clip.samples**2)))
    for cut in cut_points(windows):
        near = clip.slice(cut - 0.05, cut + 0.05).samples
        assert float(np.sqrt(np.mean(near**2))) < 0.25 * speech_rms, (
            f"cut at {cut:.2f}s is in speech"
        )
    # each seam moved at most the 3 s tolerance earlier than a fixed plan would put it next:
    # windows are never longer than the engine's 30 s; the last two share the tail (a fixed
    # plan ends on a 2.9 s window), so neither is under half a chunk
    assert all(27.0 - 1e-6 <= c.duration_s <= 30.0 + 1e-6 for c in windows[:-2])
    assert all(15.0 <= c.duration_s <= 30.0 + 1e-6 for c in windows[-2:])
    # the fixed cut at 29 s falls mid-word; the VAD plan must not keep it
    assert all(abs(cut - 29.0) > 0.2 for cut in cut_points(windows))
    # reading only the audio around each seam from disk gives the same plan
    setting = parse_chunking("30s/2s/vad")
    with open_audio(LONGFORM) as audio:
        from_disk = plan_chunks(
            setting,
            audio.duration_s,
            audio.read,
            find_silences=speech_silences,
            sample_id="longform_en",
        )
    assert from_disk == windows
    in_memory = plan_chunks(
        setting, clip.duration_s, clip.slice, find_silences=speech_silences, sample_id="longform_en"
    )
    assert in_memory == windows


# ----------------------------------------------------------------------------- slow: real engine


def _reference(sample_id):
    for line in (SAMPLE / "manifest.jsonl").read_text().splitlines():
        row = json.loads(line)
        if row["id"] == sample_id:
            return row["text"]
    raise KeyError(sample_id)


@pytest.mark.slow
def test_chunked_wer_matches_unchunked_on_real_long_form():
    # the engine (loads faster-whisper): imported only by this slow test
    from stt_eval.providers.registry import get_provider

    engine = get_provider("faster-whisper")  # tiny.en, beam 1, seeded: reproducible
    ref = _reference("longform_en")
    clip = load_audio(LONGFORM)
    whole = score_text(ref, engine.transcribe(clip).text, "whisper").counts.wer
    windows = plan_windows(clip.duration_s, 30.0, 2.0, "longform_en")
    parts = [(c, engine.transcribe(clip.slice(c.offset_s, c.end_s))) for c in windows]
    wer = {
        s: score_text(ref, merge_chunks(parts, s).text, "whisper").counts.wer
        for s in MERGE_STRATEGIES
    }
    best = min(wer["text-align"], wer["timestamp"])
    # Measured in a fresh process (tiny.en, beam 1): unchunked 11.8 %; 30 s / 2 s with the last
    # two windows balanced 15.5 % (old planner, 2.9 s tail: 13.4 %). The balanced plan's cut
    # at 183.4 s falls mid-speech and the words before it are lost: the engine's loss on a cut,
    # not the merge's (issue 22 measured the same on other long-form files). Within the test
    # suite the unchunked text was once ~27 % (transcripts depended on what the process had
    # transcribed before), so this bound is on the merge working at all, not on a fine margin.
    assert best <= whole + 0.045, f"chunked {best:.4f} vs unchunked {whole:.4f}"
    assert wer["concat"] >= best + 0.01, f"concat {wer['concat']:.4f} not worse than {best:.4f}"
    assert not math.isnan(best)
