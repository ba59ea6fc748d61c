"""Hallucinations as rates: a provider that says "thanks for watching" in padded silence is
counted exactly (non-speech words per minute, known phrases), loops beyond the reference's own
repeats are counted, and the pad condition adds what it says."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from stt_eval.audio.load import AudioClip
from stt_eval.conditions import apply_chain, parse_chain
from stt_eval.experiment import ProviderSpec
from stt_eval.metrics.hallucination import known_phrases, loop_words
from stt_eval.metrics.registry import rate
from stt_eval.normalization.rules import words
from stt_eval.pipeline.cell import Cell
from stt_eval.pipeline.recording import RecordingJob, run_recording
from stt_eval.pipeline.score import Scoring
from stt_eval.testing.openai import openai_server
from stt_eval.types import Sample, Transcript, Word

KEY = "halluc-test-key-5678"
RATE = 16000


@pytest.fixture
def tone(tmp_path):
    """3 s of a 440 Hz tone: the recording; its reference says "hello world"."""
    t = np.arange(3 * RATE) / RATE
    path = tmp_path / "tone.wav"
    sf.write(path, 0.3 * np.sin(2 * np.pi * 440 * t), RATE)
    return Sample(
        "tone",
        path,
        "hello world",
        language="en",
        ref_words=(Word("hello", 0.5, 1.0), Word("world", 1.2, 1.8)),
    )


def test_a_provider_that_thanks_for_watching_in_the_padding_is_counted_exactly(tone, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    heard_seconds = []

    def backend(wav, request):  # times on the padded clip: 10 s of silence, then the tone
        heard_seconds.append(len(wav))
        said = [("thanks", 2.0), ("for", 2.3), ("watching", 2.6)]
        said += [("thanks", 5.0), ("for", 5.3), ("watching", 5.6)]
        words = [Word(w, t, t + 0.25) for w, t in said]
        words += [Word("hello", 10.5, 11.0), Word("world", 11.2, 11.8)]
        return Transcript(" ".join(w.text for w in words), words=tuple(words), language="en")

    condition = "pad(silence_s=10, where=start)"
    with openai_server(backend, api_key=KEY) as server:
        options = (("base_url", server.url + "/v1"), ("max_wait_s", 0.0), ("min_wait_s", 0.0))
        cell = Cell(ProviderSpec("openai", options), condition, "none", "none", "none")
        (row,) = run_recording(RecordingJob("r", tone, condition, (cell,), Scoring()))
    assert row.status == "ok", row.error
    h = row.counts["hallucination"]
    # heard: 0-13 s; the reference moves 10 s later: speech 10.5-11.8 s, widened 10.0-12.3 s
    assert h.nonspeech_s == pytest.approx(13.0 - 2.3)
    assert h.nonspeech_words == 6  # both "thanks for watching", none of the speech
    assert h.phrases == 2 and h.loop_words == 0 and h.hyp_words == 8
    assert rate("nonspeech_ipm")[1].of(h) == pytest.approx(6 / (10.7 / 60))
    assert row.counts["words"].ins == 6 and row.counts["words"].hits == 2
    t = row.counts["timing"]  # the reference times moved with the padding
    assert (t.matched, t.within_50) == (2, 2) and t.start_abs_s == pytest.approx(0.0, abs=1e-6)


def test_pad_adds_silence_or_noise_where_it_says():
    speech = AudioClip((0.3 * np.sin(np.arange(RATE) / 5)).astype(np.float32), RATE)
    end = apply_chain(speech, parse_chain("pad(silence_s=2)"), 0).clip
    assert end.duration_s == pytest.approx(3.0)
    assert not np.any(end.samples[RATE:])  # silence after the speech
    start = apply_chain(speech, parse_chain("pad(silence_s=2, kind=noise, where=start)"), 0).clip
    noise, kept = start.samples[: 2 * RATE], start.samples[2 * RATE :]
    speech_power = float(np.mean(speech.samples.astype(np.float64) ** 2))
    snr = 10 * np.log10(speech_power / float(np.mean(noise.astype(np.float64) ** 2)))
    assert snr == pytest.approx(10.0, abs=0.5)  # the default snr_db, against the speech
    assert np.allclose(kept, speech.samples, atol=1 / 32768)


def test_loops_count_only_repeats_beyond_the_references_own():
    hyp = "so thank you thank you thank you thank you ok".split()
    assert loop_words(hyp, "so thank you ok".split()) == 6
    assert loop_words(hyp, "so thank you thank you thank you thank you ok".split()) == 0
    assert loop_words("go go go go go".split(), "go go".split()) == 3
    assert loop_words("a b a b".split(), []) == 0  # two in a row is not a loop


def test_known_phrases_match_after_normalization_and_beyond_the_reference():
    norm = words("Thanks for watching! Subtitles by the Amara.org community.")
    assert known_phrases(norm, []) == 2
    assert known_phrases(norm, words("Thanks for watching.")) == 1  # said, so not made up
