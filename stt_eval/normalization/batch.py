"""Normalize a whole corpus with exactly the words :func:`stt_eval.normalization.rules.words` gives, fast:
each distinct text once, and each text cut into pieces that repeat across utterances, each
distinct piece normalized once (the Whisper English normalizer costs ~20 µs a word).

Most texts are cheaper still: a text whose every token normalizes alone is its tokens' words
(see :class:`CorpusNormalizer`). The rest, for ``basic`` and ``none``, are normalized a distinct
text at a time. The Whisper English
normalizer is not word-local: numbers ("twenty one" → "21", "five per cent" → "5%"),
contractions across a space ("he 's" → "he's", "he'd been" → "he had been", "gotta" → "got to"
then "'s got" → "has got"), "and a half", ordinal suffixes ("5 th") and the final removal of
``.$¢€£%`` not next to a digit all look across words. So a text is cut only at an *inert* word,
one no cross-word rule can touch or see past:

- letters only, with at most ``,;:!?"`` around them and one ``.`` after them (no digit,
  apostrophe or other symbol; the rule that drops a ``.`` not before a digit reads only the
  character after it, and a word's neighbour starts after whitespace), and not
  a word any cross-word rule names (:func:`context_words`: every number-normalizer word, every
  word in a contraction rule or its replacement, the fillers, "and a half", ordinal suffixes).
  To the number normalizer such a word reads exactly like the end (or start) of the text: it
  flushes any pending number and no rule reads it as a neighbour;
- nowhere after a word holding ``$¢€£``, ``..`` or ``.`` before a digit (a symbol those leave
  at the end of a piece is kept where the whole text drops it: "wait... then"), nowhere before
  a word starting with ``'`` or holding ``%`` or "half" (rules join those to the word before:
  "he 's", " %", "and a half" dropped at the start of a text). The bans are sticky, reaching
  past any number of words, since words that vanish (fillers, lone symbols) make neighbours of
  the rest;
- and only in ASCII texts free of ``<[(`` (Whisper's own bracket and parenthesis removal spans
  words; non-ASCII case and Unicode normalization rules are not checked): other texts are
  normalized whole.

Runs of other words keep their own whitespace (contraction rules match one literal space).
Pieces are normalized by the library itself, many to a call joined by an inert separator word;
tests compare all this with whole-text normalization on adversarial random texts. A composition
that starts with the ``whisper`` preset gets this for the preset and applies its other steps to
the preset's words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from itertools import chain

from stt_eval.errors import BadInput
from stt_eval.normalization.languages import check_language
from stt_eval.normalization.rules import (
    PRESETS,
    format_normalizer,
    is_english,
    parse_normalizer,
    strip_markup,
    whisper_core,
    whisper_english,
    words,
    words_only,
)

_INERT = re.compile(r'[,;:!?"]*([A-Za-z]+)(?:[,;:!?"]*\.)?[,;:!?"]*')
_NO_CUT_AFTER = re.compile(r"[$¢€£]|\.\.|\.\d")  # may leave a symbol at the end of a piece
_NO_CUT_BEFORE = re.compile(r"^'|%|half", re.IGNORECASE)  # joined to what comes before
_WHOLE_ONLY = re.compile(r"[<\[(]")
_PREPROCESS_WORDS = "and a half st nd rd th s"  # EnglishNumberNormalizer.preprocess's patterns
_PIECE = re.compile("i|[^i]+")
_TOKEN = re.compile(r"\S+")
SEPARATOR = "qzxsepjv"
"""An inert word put between pieces to normalize many in one call (the normalizer costs
~140 µs a call before its ~20 µs a word); never in a piece it separates."""
BATCH = 256
CHUNK = 20_000
"""Texts split at a time (their tokens stay in memory together)."""


@lru_cache(maxsize=1)
def context_words() -> frozenset[str]:
    """Every word a Whisper English rule reads across a word boundary, from the normalizer's
    own tables (over-inclusion only makes pieces longer)."""
    norm = whisper_english()
    num = norm.standardize_numbers
    nested = [k for v in num.suffixers.values() if isinstance(v, dict) for k in v]
    sources = [
        *num.words,
        *num.decimals,
        *nested,
        *norm.replacers,
        *norm.replacers.values(),
        norm.ignore_patterns,
        _PREPROCESS_WORDS,
    ]
    return frozenset(w for s in sources for w in re.findall(r"[a-z]+", s.replace(r"\b", " ")))


def inert_core(token: str, context: frozenset[str]) -> str | None:
    """An inert token's lower-cased letters, which it normalizes as (lower case is the Whisper
    normalizer's first step, and it drops ``,;:!?"`` and a lone final ``.`` before any rule
    reads a word); None for any other token."""
    m = _INERT.fullmatch(token)
    core = m.group(1).lower() if m is not None else None
    return None if core is None or core in context else core


@lru_cache(maxsize=1)
def respelled() -> frozenset[str]:
    """The words the Whisper normalizer's British → American table rewrites."""
    return frozenset(whisper_english().standardize_spellings.mapping)


def normalizes_to_itself(core: str, context: frozenset[str]) -> bool:
    """Whether a lower-case word is its own Whisper normalization: true of an inert core the
    spelling table does not list, since every other rule needs a digit, a symbol, an apostrophe
    or a word of its tables (:func:`context_words`) to match. Spares the normalizer (~10 µs a
    word) for most of a corpus's vocabulary; a test compares the two over real transcripts."""
    return inert_core(core, context) == core and core not in respelled()


def token_kind(token: str, context: frozenset[str]) -> str:
    """One letter per token: ``i`` inert; else ``b`` (no cut anywhere after it), ``s`` (no cut
    anywhere before it), ``q`` (neither) or ``x`` (a cut may come next to it)."""
    if inert_core(token, context) is not None:
        return "i"
    after = _NO_CUT_AFTER.search(token) is not None
    before = _NO_CUT_BEFORE.search(token) is not None
    return "q" if after and before else "b" if after else "s" if before else "x"


class _Kinds(dict):
    """token → :func:`token_kind`, computed once per distinct token."""

    def __missing__(self, token: str) -> str:
        kind = self[token] = token_kind(token, context_words())
        return kind


def whisper_pieces(text: str, kinds: dict[str, str] | None = None) -> list[str]:
    """A text cut at inert words: each inert word between the last ``s``/``q`` token and the
    first ``b``/``q`` token is a piece of its own, each run of other words one piece with the
    whitespace it had (contraction rules match one literal space). The bans are sticky because
    words that vanish (fillers, lone symbols) leave the banned token next to the cut."""
    kinds = _Kinds() if kinds is None else kinds
    tokens = text.split()
    k = "".join(map(kinds.__getitem__, tokens))
    if not k.strip("i"):  # the common case: every word inert, every word a piece
        return tokens
    last_s = max(k.rfind("s"), k.rfind("q"))
    first_b = min(j for j in (k.find("b"), k.find("q"), len(k)) if j >= 0)
    if last_s >= 0 or first_b < len(k):
        k = "x" * (last_s + 1) + k[last_s + 1 : first_b] + "x" * (len(k) - max(first_b, last_s + 1))
    spans = [m.span() for m in _PIECE.finditer(k)]
    if " ".join(tokens) == text.strip():
        return [tokens[a] if b - a == 1 else " ".join(tokens[a:b]) for a, b in spans]
    at = [m.span() for m in _TOKEN.finditer(text)]
    return [text[at[a][0] : at[b - 1][1]] for a, b in spans]


class WordCodes(dict):
    """word → one character standing for it (assigned in order of first sight), so a text's
    words are a string that rapidfuzz aligns at C speed, with :meth:`decode` to get them back."""

    def __init__(self) -> None:
        super().__init__()
        self.words: list[str] = []

    def __missing__(self, word: str) -> str:
        n = len(self.words)
        if n >= MAX_WORDS:
            raise BadInput(
                f"more than {MAX_WORDS:,} distinct normalized words: too many to align as "
                "characters",
                "score the corpus in parts (their counts add)",
            )
        code = self[word] = chr(n if n < _SURROGATES else n + 0x800)
        self.words.append(word)
        return code

    def encode(self, words: Iterable[str]) -> str:
        return "".join(map(self.__getitem__, words))

    def decode(self, code: str) -> list[str]:
        words = self.words
        return [words[c if c < _SURROGATES else c - 0x800] for c in map(ord, code)]


_SURROGATES = 0xD800
MAX_WORDS = 0x110000 - 0x800
"""Distinct words a :class:`WordCodes` can tell apart: every code point but the surrogates."""
_LOCAL_STEPS = frozenset({"lowercase", "punctuation", "fillers"})
"""Steps whose output for a text is the joined output for each of its whitespace-separated
tokens alone (after ``markup``, which is not, has run on the whole text)."""


class CorpusNormalizer:
    """``words(text)`` for many texts with one preset and language, memoizing texts, tokens and
    pieces; the result equals :func:`stt_eval.normalization.rules.words` for every text. Words
    come as :class:`WordCodes` strings (:meth:`coded`) or as lists (:meth:`many`).

    Most texts take a fast path: after markup is stripped, a text whose every token normalizes
    alone (any token for ``basic``/``none``, an inert one for ``whisper``) is the concatenation
    of its tokens' codes, one dictionary look-up a token. Each distinct token is normalized
    once; an inert token's words are its lower-cased letters' (``Colour,`` and ``colour.`` both
    normalize as ``colour``: lower case is the Whisper normalizer's first step, and it drops the
    ``,;:!?"`` and the lone final ``.`` around letters before any rule reads a word)."""

    def __init__(self, preset: str, language: str = "en") -> None:
        self.preset = preset
        self.language = check_language(language)
        self.codes = WordCodes()
        self._coded: dict[str, str] = {}
        self._tokens: dict[str, str | None] = {}  # token → its code, None: not alone
        self._pieces: dict[str, list[str]] = {}
        self._piece_codes: dict[str, str] = {}
        self._kinds = _Kinds()
        steps = parse_normalizer(preset)
        names = tuple(s for s, _ in steps)
        head = PRESETS["whisper"]
        self._whisper = names[: len(head)] == head and is_english(language)
        self._tail = format_normalizer(steps[len(head) :]) if len(steps) > len(head) else None
        self._core = whisper_core(language)
        self._markup = names[:1] == ("markup",)
        rest = names[1:] if self._markup else names
        if self._whisper and self._tail is None:
            self._local: str | None = "whisper"
        elif set(rest) <= _LOCAL_STEPS:
            self._local = format_normalizer(steps[1:] if self._markup else steps)
        else:
            self._local = None

    def _cut(self, text: str) -> list[str] | None:
        """The pieces of one text, or None when it is normalized whole."""
        if not self._whisper:
            return None
        stripped = strip_markup(text)
        if stripped.isascii() and not _WHOLE_ONLY.search(stripped):
            return whisper_pieces(stripped, self._kinds)
        return None

    def _batchable(self, piece: str) -> bool:
        """Whether ``SEPARATOR`` is a cut on both sides of the piece (no banned token in it)."""
        kinds = self._kinds
        return all(kinds[t] in "ix" for t in piece.split()) and SEPARATOR not in piece.lower()

    def _fill(self, pieces: Iterable[str]) -> None:
        """Normalize the pieces not seen yet, many to a call where the separator cuts (a word
        that normalizes to itself is spared the call)."""
        context = context_words()
        cold = sorted({p for p in pieces if p not in self._pieces})  # sorted: the same batches
        for p in cold:
            if normalizes_to_itself(p, context):
                self._pieces[p] = [p]
        cold = [p for p in cold if p not in self._pieces]
        batched = [p for p in cold if self._batchable(p)]
        for i in range(0, len(batched), BATCH):
            chunk = batched[i : i + BATCH]
            joined = self._core(f" {SEPARATOR} ".join(chunk)).split()
            parts: list[list[str]] = [[]]
            for w in joined:
                if w == SEPARATOR:
                    parts.append([])
                else:
                    parts[-1].append(w)
            if len(parts) == len(chunk):
                self._pieces.update(zip(chunk, parts, strict=True))
        for p in cold:
            if p not in self._pieces:
                self._pieces[p] = self._core(p).split()

    def _learn(self, tokens: Iterable[str]) -> None:
        """The code of each new token that normalizes alone; None for the others."""
        new = [t for t in tokens if t not in self._tokens]
        if self._local != "whisper":
            for t in new:
                self._tokens[t] = self.codes.encode(words(t, self._local, self.language))
            return
        context, cores = context_words(), {}
        for t in new:
            core = inert_core(t, context)
            self._tokens[t] = None  # until its core is normalized, if it has one
            if core is not None:
                cores[t] = core
                self._kinds[t] = "i"
        self._fill(cores.values())  # an inert token normalizes as its core: Colour, as colour
        coded = {c: self.codes.encode(words_only(self._pieces[c])) for c in set(cores.values())}
        for t, core in cores.items():
            self._tokens[t] = coded[core]

    def coded(self, texts: Iterable[str]) -> dict[str, str]:
        """Each distinct text's words as a :class:`WordCodes` string (``self.codes``)."""
        distinct = list(dict.fromkeys(texts))
        new = [t for t in distinct if t not in self._coded]
        if self._local is not None:
            new = [t for i in range(0, len(new), CHUNK) for t in self._fast(new[i : i + CHUNK])]
        self._slow(new)
        return {t: self._coded[t] for t in distinct}

    def _fast(self, texts: list[str]) -> list[str]:
        """Code the texts whose every token normalizes alone; return the others. Each text is
        split once (its tokens' hashes then serve the memo too)."""
        stripped = list(map(strip_markup, texts)) if self._markup else texts
        split = [s.split() for s in stripped]
        self._learn(set(chain.from_iterable(split)))
        code, slow = self._tokens.__getitem__, []
        whole = self._local == "whisper"  # non-ASCII texts are normalized whole
        for text, s, tokens in zip(texts, stripped, split, strict=True):
            if whole and not s.isascii():
                slow.append(text)
                continue
            try:
                self._coded[text] = "".join(map(code, tokens))
            except TypeError:  # a token that does not normalize alone (None)
                slow.append(text)
        return slow

    def _slow(self, texts: list[str]) -> None:
        """Code each text through its pieces (whisper: each distinct piece coded once, an
        inert token's code being its own) or whole."""
        cuts = {t: self._cut(t) for t in texts}
        needed = {p for pieces in cuts.values() if pieces is not None for p in pieces}
        needed -= self._piece_codes.keys()
        self._fill(p for p in needed if self._tokens.get(p) is None)
        encode, piece = self.codes.encode, self._piece_codes.__getitem__
        for p in needed:
            code = self._tokens.get(p)
            self._piece_codes[p] = encode(words_only(self._pieces[p])) if code is None else code
        for text, pieces in cuts.items():
            if pieces is None:
                self._coded[text] = encode(words(text, self.preset, self.language))
            elif self._tail is None:
                self._coded[text] = "".join(map(piece, pieces))
            else:  # steps after the whisper preset, on its words
                ws = self.codes.decode("".join(map(piece, pieces)))
                self._coded[text] = encode(words(" ".join(ws), self._tail, self.language))

    def many(self, texts: Iterable[str]) -> dict[str, list[str]]:
        """Each distinct text's words."""
        return {t: self.codes.decode(c) for t, c in self.coded(texts).items()}

    def words(self, text: str) -> list[str]:
        """One text's words."""
        return self.many([text])[text]
