"""Window strategies: ``continue`` (each window starts where the engine's last confident word
ended) and ``redecode`` (a collapsed window decoded again, stronger). The fast tests use a real
HTTP provider against a loopback server whose "engine" hears tone bursts as numbered words, so
what every window should hear is known by construction; the slow one runs faster-whisper."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import pytest
import soundfile as sf

from stt_eval.audio.load import AudioClip
from stt_eval.cache.store import TranscriptCache
from stt_eval.chunking.strategies import collapsed, stronger
from stt_eval.conditions import Conditioned
from stt_eval.pipeline.prepare import WholeAudio
from stt_eval.pipeline.transcribe import transcribe
from stt_eval.providers.faster_whisper import FasterWhisper
from stt_eval.providers.registry import get_provider
from stt_eval.testing.openai import openai_server
from stt_eval.types import Chunk, Transcript, Word

RATE = 16000
WORDS = 30
"""Word k is a 0.4 s tone of 300 + 40 k Hz starting at k + 0.3 s: 30 words in 30 s."""


def _recording() -> AudioClip:
    x = np.zeros(WORDS * RATE, dtype=np.float32)
    t = np.arange(round(0.4 * RATE)) / RATE
    for k in range(WORDS):
        a = round((k + 0.3) * RATE)
        x[a : a + len(t)] = 0.3 * np.sin(2 * np.pi * (300 + 40 * k) * t)
    return AudioClip(x, RATE)


def _tones(audio: bytes, stop_after: int | None) -> Transcript:
    """The bursts lying whole inside the clip, as words "wK" (a burst cut by an edge is not
    heard); only the first `stop_after` of them, like an engine that stops after a fragment."""
    x, rate = sf.read(io.BytesIO(audio), dtype="float32")
    hop = rate // 100
    loud = np.abs(x[: len(x) // hop * hop]).reshape(-1, hop).max(axis=1) > 0.05
    edges = np.flatnonzero(np.diff(np.concatenate([[0], loud.astype(int), [0]])))
    words = []
    for a, b in zip(edges[::2], edges[1::2], strict=True):
        if a == 0 or b == len(loud):
            continue
        burst = x[a * hop : b * hop]
        freq = np.argmax(np.abs(np.fft.rfft(burst))) * rate / len(burst)
        words.append(Word(f"w{round((freq - 300) / 40)}", a / 100, b / 100, 0.9))
    words = words[:stop_after]
    return Transcript(" ".join(w.text for w in words), tuple(words), language="en")


@dataclass(frozen=True)
class ToneEngine:
    """A local engine with a beam: at beam 1 it hears nothing in a clip starting at 7 s (a
    collapse, as tiny.en's on a window that starts mid-sentence); wider, it hears every word."""

    beam_size: int = 1
    name: str = "tones"

    def load(self) -> None:
        pass

    def cache_identity(self):
        return {"engine": "tones", "beam_size": self.beam_size}

    def transcribe(self, audio: AudioClip, options=None) -> Transcript:
        heard = _tones(audio.to_wav_bytes(), None)
        first = heard.words[0].text if heard.words else ""
        if self.beam_size < 5 and first == "w7":
            return Transcript("")
        return heard


def test_redecode_decodes_a_collapsed_window_again_at_beam_5(tmp_path):
    audio = WholeAudio(Conditioned(_recording(), None))
    cache = TranscriptCache(tmp_path / "cache")
    plain = transcribe(ToneEngine(), audio, {}, cache, "8s/1s", "timestamp", "s")
    assert "w10" not in plain.transcript.text.split()  # lost with the window at 7-15 s
    again = transcribe(ToneEngine(), audio, {}, cache, "8s/1s/redecode", "timestamp", "s")
    assert again.transcript.text.split() == EVERY_WORD
    assert again.transcript.raw["redecoded"] == [1]  # the window at 7-15 s


def _transcribe(tmp_path, monkeypatch, chunking: str, stop_after: int | None = None):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-loopback")
    with openai_server(lambda audio, _: _tones(audio, stop_after), api_key="sk-loopback") as s:
        provider = get_provider("openai", base_url=s.url + "/v1", min_wait_s=0.0, max_wait_s=0.0)
        audio = WholeAudio(Conditioned(_recording(), None))
        cache = TranscriptCache(tmp_path / "cache")
        return transcribe(provider, audio, {}, cache, chunking, "timestamp", "s")


EVERY_WORD = [f"w{k}" for k in range(WORDS)]


def test_continue_hears_every_word_once_where_the_grid_does_too(tmp_path, monkeypatch):
    out = _transcribe(tmp_path, monkeypatch, "8s/1s/continue")
    assert out.transcript.text.split() == EVERY_WORD
    # each window after the first starts at the end of the previous one's last word heard whole
    assert all(round(c % 1, 2) == 0.7 for c in out.cuts) and len(out.cuts) >= 3


def test_continue_recovers_what_an_engine_that_stops_early_drops(tmp_path, monkeypatch):
    """An engine that hears only 3 words per request loses most of a fixed grid's words;
    continuing where it stopped hears them all, at the cost of one request per 3 words."""
    fixed = _transcribe(tmp_path, monkeypatch, "8s/1s", stop_after=3)
    assert len(fixed.transcript.text.split()) <= WORDS / 2  # 3 words from each of 5 windows
    cont = _transcribe(tmp_path, monkeypatch, "8s/1s/continue", stop_after=3)
    assert cont.transcript.text.split() == EVERY_WORD
    # 3 words per request: windows from 0, 2.7, 5.7 ... 23.7 s (9); the 3.3 s left is under
    # half a chunk, so the next starts at 26 s for context (keeps w27, w28), then 28.7 s (w29)
    assert cont.measured.attempts == 11
    assert cont.cuts == pytest.approx([2.7 + 3 * k for k in range(8)] + [26.7, 28.7])


def test_redecode_says_when_an_engine_has_no_stronger_setting(tmp_path, monkeypatch):
    out = _transcribe(tmp_path, monkeypatch, "8s/1s/redecode")
    assert out.transcript.text.split() == EVERY_WORD
    assert "openai has no stronger setting" in " ".join(out.transcript.warnings)


def test_a_collapsed_window_is_one_far_slower_than_its_neighbours():
    def part(i, n):
        return Chunk("s", i, 10.0 * i, 10.0), Transcript(" ".join(["w"] * n))

    assert collapsed([part(0, 25), part(1, 12), part(2, 22)]) == []  # 12 >= 0.5 x 23.5
    assert collapsed([part(0, 25), part(1, 11), part(2, 25)]) == [1]
    assert collapsed([part(0, 0), part(1, 0), part(2, 2)]) == []  # quiet, not collapsed
    assert stronger(FasterWhisper()) == FasterWhisper(beam_size=5)
    assert stronger(FasterWhisper(beam_size=5)) is None
