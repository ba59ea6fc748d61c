"""Text normalization applied to references and hypotheses alike, at scoring time: a
normalizer is a composition of small named steps (jiwer's ``Compose`` pattern), written like a
condition chain, e.g. ``whisper + fillers + synonyms(path=glm.txt)``; its canonical text is
stored with every result.

Presets (compositions of steps):

- ``whisper`` (default) = ``markup + whisper_rules``: reference markup handled as below, then the
  Whisper English normalizer (lower case, punctuation, numbers "thirty" → "30", "Mr." →
  "mister", British → American spelling, fillers "uh"/"um"/"hmm" dropped) — what public
  leaderboards use. For a sample whose language is not English, Whisper's basic (multilingual)
  normalizer is used instead. Known quirks, the same on both sides so WER is unaffected: "ten
  o'clock" and "10 o'clock" both become "100 clock", and the interjection "oh" becomes the digit
  "0" (the number normalizer reads it as zero) — expect "0" in normalized text shown in reports.
- ``basic`` = ``markup + lowercase + punctuation``: apostrophes inside words kept.
- ``chime6`` = ``chime6_rules``: the CHiME-6 challenge normalizer as meeteval applies it through
  chime-utils (which is not on PyPI): lhotse's CHiME-6 recipe rules, then jiwer's removal of
  ``[noise]``-style words; needs the ``lhotse`` extra.
- ``none``: no step; split on whitespace.

Every preset but ``none`` ends by dropping tokens with no letter or digit (``...``, ``--``).

More steps: ``fillers`` drops hesitations (uh, um, er, hmm, …); ``synonyms(path=FILE)`` rewrites
words by a GLM-style file of ``okay => ok`` lines (``;;`` comments), so spelling variants count
as the same word on both sides. Words are always split on whitespace at the end.

Reference markup (transcription conventions of LDC / sclite / Transcriber), step ``markup``:

- ``{laugh}``, ``[noise]``, ``<unk>``, ``<sil>`` — non-lexical events: removed.
- ``((words))`` — uncertain transcription: the words are kept, the parentheses dropped;
  ``(( ))`` (unintelligible) is removed.
- ``I-``, ``-tion`` — cut-off word fragments: removed, so a recogniser is neither rewarded nor
  punished for guessing a partial word.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from whisper_normalizer.english import EnglishTextNormalizer

from stt_eval.errors import UsageError
from stt_eval.normalization.languages import check_language

PRESETS: dict[str, tuple[str, ...]] = {
    "whisper": ("markup", "whisper_rules"),
    "basic": ("markup", "lowercase", "punctuation"),
    "chime6": ("chime6_rules",),
    "none": (),
}
DEFAULT_PRESET = "whisper"
FILLERS = frozenset({"uh", "um", "er", "erm", "ah", "eh", "hmm", "hm", "mm", "mhm", "mmm", "uhm"})

_EVENT = re.compile(r"\{[^}]*\}|\[[^\]]*\]|<[^>]*>")
_UNCERTAIN = re.compile(r"\(\(([^)]*)\)\)")
_FRAGMENT = re.compile(r"(?<!\S)(?:\w+-|-\w+)(?!\S)")
_PUNCT = re.compile(r"[^\w\s']|_")
_EDGE_APOSTROPHE = re.compile(r"(?<!\w)'|'(?!\w)")
_MARKUP_MARK = re.compile(r"[{\[<(-]")  # every markup pattern needs one of these


class UnknownNormalizer(UsageError):
    """A normalizer name that is not one of PRESETS."""


def strip_markup(text: str) -> str:
    """Remove event tags and cut-off fragments; keep the words of uncertain ``((…))`` spans."""
    if not _MARKUP_MARK.search(text):
        return text
    text = _UNCERTAIN.sub(r" \1 ", text)
    text = _EVENT.sub(" ", text)
    return _FRAGMENT.sub(" ", text)


@lru_cache(maxsize=1)
def whisper_english() -> EnglishTextNormalizer:
    from whisper_normalizer.english import EnglishTextNormalizer  # ~0.1 s: on first use

    return EnglishTextNormalizer()


@lru_cache(maxsize=1)
def _whisper_basic() -> Callable[[str], str]:
    from whisper_normalizer.basic import BasicTextNormalizer

    return BasicTextNormalizer()


def is_english(language: str) -> bool:
    """Whether ``whisper`` uses its English normalizer (else Whisper's multilingual one)."""
    return language.split("-")[0].lower() == "en"


def whisper_core(language: str) -> Callable[[str], str]:
    """The ``whisper`` preset after markup is stripped, for ``language``."""
    return whisper_english() if is_english(language) else _whisper_basic()


Step = Callable[[str], str]
_TERM = re.compile(
    r"""\s*([a-z0-9_]+)\s*(?:\(\s*([a-z_]+)\s*=\s*("[^"]*"|'[^']*'|[^)]*?)\s*\))?\s*"""
)


def _punctuation(text: str) -> str:
    text = _PUNCT.sub(" ", text)
    return _EDGE_APOSTROPHE.sub(" ", text) if "'" in text else text


def _fillers(text: str) -> str:
    return " ".join(w for w in text.split() if w.strip(".,;:!?\"'").lower() not in FILLERS)


def _chime6(language: str) -> Step:
    """CHiME-6 scoring as chime-utils composes it (what meeteval's ``chime6`` calls): lhotse's
    Kaldi-style CHiME-6 text normalization, then jiwer's removal of ``[noise]``-style words."""
    import jiwer
    from lhotse.recipes.chime6 import normalize_text_chime6

    rules = jiwer.Compose(
        [
            jiwer.RemoveKaldiNonWords(),
            jiwer.SubstituteRegexes({r"\"": " ", r"^[ \t]+|[ \t]+$": "", "\u2019": "'"}),
            jiwer.RemoveMultipleSpaces(),
        ]
    )
    return lambda text: rules(normalize_text_chime6(text, normalize="kaldi")).strip()


def _stamp(path: str) -> tuple[int, int] | None:
    """What tells an edited file apart in this process (size, modification time)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def _synonyms(path: str) -> Step:
    """A GLM-style synonym file as a step (read again once edited, see :func:`_synonym_step`)."""
    return _synonym_step(path, _stamp(path))


@lru_cache(maxsize=32)
def _synonym_step(path: str, stamp: tuple[int, int] | None) -> Step:
    """Each ``left => right`` line of a synonym file rewrites the word (or words) ``left`` to
    ``right`` wherever it stands as whole words; ``;;`` starts a comment."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise UnknownNormalizer(f"synonyms(path={path}): cannot read it ({exc.strerror})") from None
    table: dict[str, str] = {}
    for n, line in enumerate(lines, 1):
        line = line.split(";;", 1)[0].strip()
        if not line:
            continue
        left, sep, right = line.partition("=>")
        if not sep or not left.split():
            raise UnknownNormalizer(
                f"{path}: line {n}: {line!r} is not a synonym rule; write 'okay => ok' "
                "(the words on the left become the words on the right)"
            )
        table[" ".join(left.split())] = " ".join(right.split())
    if not table:
        raise UnknownNormalizer(f"{path}: no 'left => right' rule in it; add one, e.g. okay => ok")
    keys = sorted(table, key=len, reverse=True)
    pattern = re.compile(r"(?<!\S)(?:" + "|".join(re.escape(k) for k in keys) + r")(?!\S)")
    return lambda text: pattern.sub(lambda m: table[m.group(0)], " ".join(text.split()))


STEPS: dict[str, Callable[..., Step]] = {
    "markup": lambda language: strip_markup,
    "lowercase": lambda language: str.lower,
    "punctuation": lambda language: _punctuation,
    "whisper_rules": whisper_core,
    "chime6_rules": _chime6,
    "fillers": lambda language: _fillers,
    "synonyms": lambda language, path: _synonyms(path),
}
"""Every step by name: a factory of ``text -> text`` for a language (and the step's ``path``)."""


def parse_normalizer(spec: str) -> tuple[tuple[str, str | None], ...]:
    """``(step, path)`` for each step of a normalizer text, presets expanded; raises
    UnknownNormalizer naming the valid names."""
    if not isinstance(spec, str) or not spec.strip():
        raise UnknownNormalizer(f"normalizer {spec!r} is empty; {_choices()}")
    out: list[tuple[str, str | None]] = []
    for term in spec.split("+"):
        m = _TERM.fullmatch(term)
        if m is None:
            raise UnknownNormalizer(
                f"normalizer {spec!r}: cannot read {term.strip()!r}; {_choices()}"
            )
        name, key, value = m.groups()
        if name in PRESETS and key is None:
            out += [(step, None) for step in PRESETS[name]]
        elif name == "synonyms" and key == "path" and value:
            out.append((name, value.strip("\"'")))
        elif name in STEPS and name != "synonyms" and key is None:
            out.append((name, None))
        else:
            raise UnknownNormalizer(f"unknown normalizer step {term.strip()!r}; {_choices()}")
    if any(step == "chime6_rules" for step, _ in out) and find_spec("lhotse") is None:
        raise UnknownNormalizer(
            "the chime6 normalizer needs lhotse (its CHiME-6 recipe holds the rules): "
            "pip install 'stt-eval[lhotse]' (or use whisper or basic)"
        )
    return tuple(out)


def _choices() -> str:
    steps = ", ".join("synonyms(path=FILE)" if s == "synonyms" else s for s in STEPS)
    return f"presets: {', '.join(PRESETS)}; steps: {steps}; joined with '+', e.g. whisper + fillers"


def format_normalizer(steps: tuple[tuple[str, str | None], ...]) -> str:
    """The canonical text of a composition: a preset's name where the steps are one preset."""
    names = tuple(step for step, _ in steps)
    if not names:
        return "none"
    for preset, preset_steps in PRESETS.items():
        if preset_steps and names[: len(preset_steps)] == preset_steps:
            rest = steps[len(preset_steps) :]
            return " + ".join([preset, *(_term(s) for s in rest)])
    return " + ".join(_term(s) for s in steps)


def _term(step: tuple[str, str | None]) -> str:
    return step[0] if step[1] is None else f'{step[0]}(path="{step[1]}")'


def check_preset(spec: str) -> str:
    """The canonical text of a normalizer (a preset or a composition); raises UnknownNormalizer
    naming the valid presets and steps, or the synonym file and line that cannot be used."""
    steps = parse_normalizer(spec)
    for name, path in steps:
        if name == "synonyms":
            _synonyms(path)  # read now: a bad file fails before a run starts
    return format_normalizer(steps)


def uses_english_rules(spec: str, language: str) -> bool:
    """Whether a normalizer applies Whisper's English rules to text of ``language``."""
    return is_english(language) and any(s == "whisper_rules" for s, _ in parse_normalizer(spec))


def _compose(spec: str, language: str) -> tuple[Step, ...]:
    """The steps of a normalizer, made again when a file it reads was edited."""
    check_language(language)  # an unknown code would silently pick the non-English rules
    steps = _parsed(spec)
    return _composed(spec, language, tuple(_stamp(path) for _, path in steps if path))


@lru_cache(maxsize=64)
def _parsed(spec: str) -> tuple[tuple[str, str | None], ...]:
    return parse_normalizer(spec)


@lru_cache(maxsize=64)
def _composed(spec: str, language: str, stamps: tuple) -> tuple[Step, ...]:
    return tuple(
        STEPS[name](language) if path is None else STEPS[name](language, path)
        for name, path in _parsed(spec)
    )


def normalize_text(text: str, preset: str = DEFAULT_PRESET, language: str = "en") -> str:
    """Normalize one transcript with a preset or a composition of steps.

    >>> normalize_text("Mr. Smith {laugh} ((said)) I- thirty words.")
    'mister smith said 30 words'
    >>> normalize_text("It's [noise] DONE, ok?", "basic")
    "it's done ok"
    >>> normalize_text("Um, it's DONE.", "basic + fillers")
    "it's done"
    """
    steps = _compose(preset, language)
    for step in steps:
        text = step(text)
    return " ".join(words_only(text.split()) if steps else text.split())


_LETTER_OR_DIGIT = re.compile(r"[^\W_]")


def words_only(tokens: list[str]) -> list[str]:
    """Tokens with a letter or digit in them: a punctuation-only token (the ``.`` Whisper's
    English normalizer leaves of a trailing ``...``) is not a word a recogniser can get wrong.

    >>> words_only(["go", ".", "--", "3.5", "_"])
    ['go', '3.5']
    """
    return [t for t in tokens if _LETTER_OR_DIGIT.search(t)]


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
