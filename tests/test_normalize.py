"""Normalization presets: markup handling, numbers and spelling, and preset errors."""

from __future__ import annotations

from importlib.util import find_spec

import pytest
from whisper_normalizer.basic import BasicTextNormalizer
from whisper_normalizer.english import EnglishTextNormalizer

from stt_eval.experiment import experiment_from_dict
from stt_eval.normalization.rules import (
    PRESETS,
    UnknownNormalizer,
    check_preset,
    normalize_text,
    strip_markup,
    words,
)
from stt_eval.pipeline.score import Scoring


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


def test_presets_are_compositions_of_named_steps_and_print_canonically():
    assert check_preset("whisper") == "whisper" == check_preset(" markup+whisper_rules ")
    assert check_preset("markup + lowercase + punctuation") == "basic"
    assert check_preset("whisper+fillers") == "whisper + fillers"
    assert check_preset("lowercase + fillers") == "lowercase + fillers"
    assert check_preset("none") == "none" and words("A  b,", "none") == ["A", "b,"]


@pytest.mark.parametrize(
    "text",
    ["Mr. Smith paid $20.50 for the colour TV, didn't he?", "{laugh} I- uh ((maybe)) ten o'clock"],
)
def test_preset_outputs_are_the_libraries_outputs(text):
    stripped = strip_markup(text)
    assert words(text) == EnglishTextNormalizer()(stripped).split()
    assert words(text, language="es") == BasicTextNormalizer()(stripped).split()


def test_fillers_step_after_a_preset():
    assert words("Um, it's, ER, done. Hmm?", "basic") == ["um", "it's", "er", "done", "hmm"]
    assert words("Um, it's, ER, done. Hmm?", "basic + fillers") == ["it's", "done"]


def test_synonyms_file_rewrites_whole_words_on_both_sides(tmp_path):
    glm = tmp_path / "glm.txt"
    glm.write_text(";; spelling variants\nokay => ok\nall right => alright ;; two words\n")
    spec = f"basic + synonyms(path={glm})"
    assert words("Okay, all right, okayish", spec) == ["ok", "alright", "okayish"]
    assert words("OK alright okayish", spec) == ["ok", "alright", "okayish"]
    assert check_preset(spec) == f'basic + synonyms(path="{glm}")'


def test_bad_synonym_files_name_the_line_and_the_fix(tmp_path):
    glm = tmp_path / "glm.txt"
    glm.write_text("okay => ok\nalright = all right\n")
    with pytest.raises(UnknownNormalizer, match=r"glm.txt: line 2: .* write 'okay => ok'"):
        words("x", f"basic + synonyms(path={glm})")
    with pytest.raises(UnknownNormalizer, match="cannot read it"):
        check_preset(f"basic + synonyms(path={tmp_path / 'missing.txt'})")


def test_unknown_steps_list_presets_and_steps():
    with pytest.raises(UnknownNormalizer) as err:
        check_preset("whisper + stemming")
    assert "'stemming'" in str(err.value) and "fillers" in str(err.value)
    assert all(p in str(err.value) for p in PRESETS)


def test_chime6_without_lhotse_says_what_to_install(monkeypatch):
    import stt_eval.normalization.rules as normalize

    monkeypatch.setattr(normalize, "find_spec", lambda name: None)
    with pytest.raises(UnknownNormalizer, match=r"lhotse.*pip install 'stt-eval\[lhotse\]'"):
        check_preset("chime6")


@pytest.mark.skipif(find_spec("lhotse") is None, reason="needs lhotse (pip install lhotse)")
def test_chime6_is_meetevals():
    """meeteval's own doctest of its chime6 normalizer (meeteval/wer/normalizer.py), emoji and
    accents included: the expected words are meeteval's, not ours."""
    text = 'Hello, World! äèア😊 hm hmm hmmm [noise] [inaudible] wi-fi word-word 1.1 11 Mr. then," said'
    expected = "hello world äèア😊 hm hmm hmmm wi-fi word-word 11 11 mr then said"
    assert words(text, "chime6") == expected.split()
    assert words("[redacted] all of this goes", "chime6") == []  # CHiME-6 drops such lines


def test_an_experiment_records_its_normalizer_canonically_with_paths_from_the_file(tmp_path):
    (tmp_path / "glm.txt").write_text("okay => ok\n")
    (tmp_path / "m.jsonl").write_text('{"id": "a", "audio": "a.wav", "text": "ok"}\n')
    exp = experiment_from_dict(
        {
            "dataset": "m.jsonl",
            "providers": ["pocketsphinx"],
            "normalizer": "whisper+fillers + synonyms(path=glm.txt)",
        },
        tmp_path,
    )
    glm = (tmp_path / "glm.txt").resolve()
    assert exp.normalizer == f'whisper + fillers + synonyms(path="{glm}")'
    assert Scoring(exp.normalizer).normalizer == exp.normalizer
