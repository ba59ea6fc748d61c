"""Language codes and scripts: a sample's ``language`` chooses the normalizer's rules, so an
unknown code is refused rather than taken as "not English", and text in a script the English
rules would damage is named.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from stt_eval.errors import BadInput

ISO_639_1 = frozenset(
    "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy "
    "da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu "
    "hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb "
    "lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om "
    "or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw "
    "ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu".split()
)
"""The 184 two-letter ISO 639-1 codes."""
OTHER_CODES = frozenset({"jw", "haw", "yue"})
"""Codes outside ISO 639-1 that Whisper uses (its Javanese, Hawaiian, Cantonese)."""


_TAG = re.compile(r"([a-z]{2,3})(?:-[A-Za-z0-9]{2,8})*")


class UnknownLanguage(BadInput):
    """A language code that is not an ISO 639 code: it would silently pick another normalizer."""


@lru_cache(maxsize=256)
def check_language(language: str) -> str:
    """``language`` if its primary subtag is an ISO 639-1 code (or a three-letter code, whose
    space is too large to list, or one Whisper uses); else UnknownLanguage naming the fix.

    >>> check_language("en-US")
    'en-US'
    """
    m = _TAG.fullmatch(language) if isinstance(language, str) else None
    if m and (m.group(1) in ISO_639_1 or m.group(1) in OTHER_CODES or len(m.group(1)) == 3):
        return language
    raise UnknownLanguage(
        f"language {language!r} is not an ISO 639 code (it picks the normalizer's rules, English "
        "for 'en', and is passed to the engine); write a code such as 'en', 'en-US', 'de', 'ja' "
        "or 'ar'"
    )


def foreign_script(text: str) -> str | None:
    """The name of the first non-Latin script with letters in ``text`` (``HIRAGANA``,
    ``ARABIC``, ``CJK``, ``CYRILLIC``, ...), None when every letter is Latin.

    >>> foreign_script("Straße"), foreign_script("でんき"), foreign_script("مرحبا")
    (None, 'HIRAGANA', 'ARABIC')
    """
    if text.isascii():
        return None
    for ch in text:
        if ch.isalpha() and not ch.isascii():
            script = unicodedata.name(ch, "").split(" ")[0]
            if script and script != "LATIN":
                return script
    return None


def english_rules_warning(text: str, uses_english_rules: bool) -> str | None:
    """A warning when English normalizer rules meet text in another script: they strip marks
    that tell words apart (Japanese voicing: でんき "electricity" → てんき "weather")."""
    script = foreign_script(text) if uses_english_rules else None
    if script is None:
        return None
    return (
        f"the reference holds {script.lower()} text but is normalized with the English rules, "
        "which strip marks that tell words apart (でんき → てんき); set the sample's "
        '"language" (e.g. "ja", "ar") in the manifest, or --language for stt-eval score'
    )
