"""Provider word lists → Words on the stream's audio: times converted to seconds and shifted by
the audio sent on earlier connections (every provider restarts its times at 0 on a new one)."""

from __future__ import annotations

from typing import Any

from stt_eval.errors import SttEvalError
from stt_eval.types import Word


def seconds_words(raw: Any, text_key: str, offset_s: float, scale: float) -> tuple[Word, ...]:
    """The well-formed entries of `raw` as Words: ``start``/``end`` times `scale` (1 for
    seconds, 0.001 for milliseconds) plus `offset_s`; malformed entries are left out (a stream
    keeps going on one bad word; the final's text still holds it)."""
    if not isinstance(raw, list):
        return ()
    words = []
    for entry in raw:
        if not isinstance(entry, dict):
            continue
        text, start, end = entry.get(text_key), entry.get("start"), entry.get("end")
        if not isinstance(text, str) or not _number(start) or not _number(end):
            continue
        confidence = entry.get("confidence")
        try:
            words.append(
                Word(
                    text,
                    start * scale + offset_s,
                    end * scale + offset_s,
                    confidence if _number(confidence) and 0 <= confidence <= 1 else None,
                    None if entry.get("speaker") is None else str(entry["speaker"]),
                )
            )
        except (SttEvalError, ValueError):
            continue
    return tuple(words)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
