"""Normalization presets: markup handling, numbers and spelling, and preset errors."""

from __future__ import annotations

import pytest

from stt_eval.normalize import PRESETS, UnknownNormalizer, normalize_text, strip_markup, words


@pytest.mark.parametrize(
    "text,expected",
    [
        ("{laugh} yes [noise] <unk> no", "yes no"),
        ("I said ((maybe)) so", "I said maybe so"),
        ("that is (( )) all", "that is all"),
        ("I- I went to the sta- station", "I went to the station"),
        ("-tion is a suffix", "is a suffix"),
        ("state-of-the-art stays", "state-of-the-art stays"),
    ],
)
def test_markup(text, expected):
    assert " ".join(strip_markup(text).split()) == expected


def test_whisper_preset_standardizes_both_sides_alike():
    assert words("Mr. Smith paid thirty-five dollars for the colour TV.") == words(
        "mister smith paid $35 for the color tv"
    )


def test_whisper_preset_drops_fillers_and_markup():
    assert words("Um, {breath} I think [noise] uh ((yes)).") == ["i", "think", "yes"]


def test_basic_preset_keeps_words_and_apostrophes():
    assert words("It's DONE, isn't it? [noise]", "basic") == ["it's", "done", "isn't", "it"]


def test_none_preset_only_splits():
    assert words("Hello,  World!", "none") == ["Hello,", "World!"]


def test_non_english_uses_the_multilingual_normalizer():
    # the English normalizer would rewrite "veinte" nothing and strip accents; the basic one keeps them
    assert words("¿Qué tal, Señor?", language="es") == ["qué", "tal", "señor"]


def test_unknown_preset_lists_the_valid_ones():
    with pytest.raises(UnknownNormalizer) as err:
        normalize_text("x", "fancy")
    assert all(p in str(err.value) for p in PRESETS)
