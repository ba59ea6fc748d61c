"""Text normalization presets applied to references and hypotheses alike, at scoring time.

Presets (the name is stored with every result):

- ``whisper`` (default): reference markup handled as below, then the Whisper English normalizer
  (lower case, punctuation, numbers "thirty" → "30", "Mr." → "mister", British → American
  spelling, fillers "uh"/"um"/"hmm" dropped) — what public leaderboards use. For a sample whose
  language is not English, Whisper's basic (multilingual) normalizer is used instead.
  Known quirks, the same on both sides so WER is unaffected: "ten o'clock" and "10 o'clock" both
  become "100 clock", and the interjection "oh" becomes the digit "0" (the number normalizer reads
  it as zero) — expect "0" in normalized text shown in reports.
- ``basic``: markup handled, lower case, punctuation removed (apostrophes inside words kept),
  whitespace collapsed.
- ``none``: split on whitespace; nothing else.

Reference markup (transcription conventions of LDC / sclite / Transcriber), for ``whisper`` and
``basic``:

- ``{laugh}``, ``[noise]``, ``<unk>``, ``<sil>`` — non-lexical events: removed.
- ``((words))`` — uncertain transcription: the words are kept, the parentheses dropped;
  ``(( ))`` (unintelligible) is removed.
- ``I-``, ``-tion`` — cut-off word fragments: removed, so a recogniser is neither rewarded nor
  punished for guessing a partial word.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from whisper_normalizer.basic import BasicTextNormalizer
from whisper_normalizer.english import EnglishTextNormalizer

PRESETS = ("whisper", "basic", "none")
DEFAULT_PRESET = "whisper"

_EVENT = re.compile(r"\{[^}]*\}|\[[^\]]*\]|<[^>]*>")
_UNCERTAIN = re.compile(r"\(\(([^)]*)\)\)")
_FRAGMENT = re.compile(r"(?<!\S)(?:\w+-|-\w+)(?!\S)")
_PUNCT = re.compile(r"[^\w\s']|_")
_EDGE_APOSTROPHE = re.compile(r"(?<!\w)'|'(?!\w)")
_MARKUP_MARK = re.compile(r"[{\[<(-]")  # every markup pattern needs one of these


class UnknownNormalizer(ValueError):
    """A normalizer name that is not one of PRESETS."""


def strip_markup(text: str) -> str:
    """Remove event tags and cut-off fragments; keep the words of uncertain ``((…))`` spans."""
    if not _MARKUP_MARK.search(text):
        return text
    text = _UNCERTAIN.sub(r" \1 ", text)
    text = _EVENT.sub(" ", text)
    return _FRAGMENT.sub(" ", text)


def basic_core(text: str) -> str:
    """The ``basic`` preset after markup is stripped: lower case, punctuation, whitespace."""
    text = _PUNCT.sub(" ", text.lower())
    return " ".join((_EDGE_APOSTROPHE.sub(" ", text) if "'" in text else text).split())


@lru_cache(maxsize=1)
def whisper_english() -> EnglishTextNormalizer:
    return EnglishTextNormalizer()


@lru_cache(maxsize=1)
def _whisper_basic() -> Callable[[str], str]:
    return BasicTextNormalizer()


def is_english(language: str) -> bool:
    """Whether ``whisper`` uses its English normalizer (else Whisper's multilingual one)."""
    return language.split("-")[0].lower() == "en"


def whisper_core(language: str) -> Callable[[str], str]:
    """The ``whisper`` preset after markup is stripped, for ``language``."""
    return whisper_english() if is_english(language) else _whisper_basic()


def _whisper(text: str, language: str) -> str:
    return " ".join(whisper_core(language)(strip_markup(text)).split())


def check_preset(name: str) -> str:
    """Return `name` if it is a known preset, else raise naming the valid ones."""
    if name not in PRESETS:
        raise UnknownNormalizer(f"unknown normalizer {name!r}; choose one of: {', '.join(PRESETS)}")
    return name


def normalize_text(text: str, preset: str = DEFAULT_PRESET, language: str = "en") -> str:
    """Normalize one transcript with a named preset.

    >>> normalize_text("Mr. Smith {laugh} ((said)) I- thirty words.")
    'mister smith said 30 words'
    >>> normalize_text("It's [noise] DONE, ok?", "basic")
    "it's done ok"
    """
    check_preset(preset)
    if preset == "none":
        return " ".join(text.split())
    if preset == "basic":
        return basic_core(strip_markup(text))
    return _whisper(text, language)


def words(text: str, preset: str = DEFAULT_PRESET, language: str = "en") -> list[str]:
    """The normalized transcript as a list of words (what WER is computed over)."""
    return normalize_text(text, preset, language).split()


def normalizes_to_nothing(text: str, preset: str = DEFAULT_PRESET, language: str = "en") -> bool:
    """Whether a text has no word left after normalization with ``preset`` (only markup,
    fillers or punctuation). A reference like that cannot be scored: WER over 0 reference words
    is undefined, and the hypothesis's words would all count as insertions against a reference
    that only says nothing intelligible was transcribed. Scorers flag it instead.

    >>> normalizes_to_nothing("[inaudible] {laugh} uh")
    True
    >>> normalizes_to_nothing("[inaudible] yes")
    False
    """
    return not words(text, preset, language)
