"""The two bundled local engines on real speech, and the provider registry."""

from __future__ import annotations

import pytest

from stt_eval.audio.load import load_audio
from stt_eval.metrics.wer import score_text
from stt_eval.providers.pocketsphinx import clean_word
from stt_eval.providers.registry import UnknownProvider, get_provider, provider_names

from .conftest import SAMPLE


def test_unknown_provider_lists_known_ones():
    with pytest.raises(UnknownProvider) as err:
        get_provider("whisperx")
    assert all(name in str(err.value) for name in provider_names())


def test_unknown_option_names_the_provider():
    with pytest.raises(UnknownProvider, match="pocketsphinx"):
        get_provider("pocketsphinx", beam=3)


@pytest.mark.parametrize(
    "token,word",
    [
        ("<s>", None),
        ("<sil>", None),
        ("[NOISE]", None),
        ("++UH++", None),
        ("read(2)", "read"),
        ("meters", "meters"),
    ],
)
def test_pocketsphinx_fillers_and_variants(token, word):
    assert clean_word(token) == word


@pytest.mark.slow
def test_pocketsphinx_decodes_its_own_test_utterance():
    # pocketsphinx's own test suite asserts this hypothesis for goforward.raw
    t = get_provider("pocketsphinx").transcribe(
        load_audio(SAMPLE / "audio" / "pocketsphinx_goforward.flac")
    )
    assert t.text == "go forward ten meters"
    assert [w.text for w in t.words] == ["go", "forward", "ten", "meters"]
    assert all(0 <= w.start < w.end <= 2.8 for w in t.words)
    assert all(a.end <= b.start + 1e-6 for a, b in zip(t.words, t.words[1:]))


@pytest.mark.slow
def test_faster_whisper_tiny_en_on_jfk():
    t = get_provider("faster-whisper").transcribe(load_audio(SAMPLE / "audio" / "whisper_jfk.flac"))
    ref = "And so, my fellow Americans, ask not what your country can do for you, ask what you can do for your country."
    assert score_text(ref, t.text).counts.wer <= 0.05
    assert t.language == "en"
    assert len(t.words) >= 20
    assert all(0 <= w.start <= w.end <= 11.1 and 0 <= w.confidence <= 1 for w in t.words)
    assert [w.start for w in t.words] == sorted(w.start for w in t.words)


def test_faster_whisper_identity_covers_model_and_decoding():
    a, b = get_provider("faster-whisper"), get_provider("faster-whisper", beam_size=5)
    assert a.cache_identity() != b.cache_identity()
    assert a.cache_identity()["model"] == "tiny.en"


@pytest.mark.slow
def test_pocketsphinx_result_does_not_depend_on_what_was_decoded_before():
    engine = get_provider("pocketsphinx")
    jfk = load_audio(SAMPLE / "audio" / "whisper_jfk.flac")
    other = load_audio(SAMPLE / "audio" / "pyannote_sample.flac")
    first = engine.transcribe(jfk)
    engine.transcribe(other)  # would shift the carried-over cepstral mean
    assert engine.transcribe(jfk).words == first.words


def test_unknown_option_lists_the_valid_ones():
    with pytest.raises(UnknownProvider, match=r"valid options: .*maxhmmpf"):
        get_provider("pocketsphinx", beam=3)


def test_a_plugin_registers_through_an_entry_point(tmp_path, monkeypatch):
    """A package's entry point in the stt_eval.providers group is a provider like the others."""
    (tmp_path / "my_stt.py").write_text(
        "from dataclasses import dataclass\n"
        "@dataclass(frozen=True)\n"
        "class Mine:\n"
        "    model: str = 'x'\n"
        "    name: str = 'mine'\n"
    )
    dist = tmp_path / "my_stt-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: my-stt\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[stt_eval.providers]\nmine = my_stt:Mine\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "mine" in provider_names()
    assert get_provider("mine", model="y").model == "y"
    with pytest.raises(UnknownProvider, match="valid options: model"):
        get_provider("mine", modle="y")
