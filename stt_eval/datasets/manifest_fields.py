"""What a manifest row's fields are, and which of their values have the wrong JSON type.

Kept apart from :mod:`stt_eval.datasets.manifest` (reading files, building samples) so each
module owns one concept. Fields that are not manifest fields are not errors: they are moved
under ``meta`` (:func:`fold_unknown`) and the reader warns once per field for the whole file.
"""

from __future__ import annotations

import difflib
import json
from typing import Any

from stt_eval.datasets.text import json_type

FIELDS = (
    "id",
    "audio",
    "text",
    "rttm",
    "stm",
    "ctm",
    "language",
    "terms",
    "audio_url",
    "meta",
    "channels",
    "tracks",
)
REQUIRED = ("id", "audio", "text")
STRINGS = ("id", "audio", "text", "rttm", "stm", "ctm", "language", "audio_url")
"""Fields whose value is a string (the others: ``terms`` and ``channels`` lists of strings,
``meta`` an object, ``tracks`` an object of speaker → file)."""
RESERVED_META = ("rttm_path", "stm_path", "ctm_path")
"""Meta keys stt-eval sets itself (the resolved ``rttm`` / ``stm`` / ``ctm`` paths)."""


def fold_unknown(row: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The row with every field that is not in FIELDS moved under ``meta``, and the names of
    the fields moved. A moved field whose name is already a meta key, or whose value is a list
    or an object (meta values become table columns), stays where it was so the type check
    reports it."""
    unknown = [k for k in row if k not in FIELDS]
    if not unknown:
        return row, []
    meta = row.get("meta")
    if meta is not None and not isinstance(meta, dict):
        return row, []
    out = {k: v for k, v in row.items() if k in FIELDS}
    folded = dict(meta or {})
    moved = []
    for key in unknown:
        if key in folded or key in RESERVED_META or isinstance(row[key], (dict, list)):
            out[key] = row[key]
            continue
        folded[key] = row[key]
        moved.append(key)
    if folded:
        out["meta"] = folded
    return out, moved


def unknown_field_note(field: str, rows: list[int]) -> str:
    """The one warning for a field that is not a manifest field, whatever its number of rows."""
    close = difflib.get_close_matches(field, FIELDS, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    where = f"row {rows[0]}" if len(rows) == 1 else f"{len(rows)} rows, first row {rows[0]}"
    return (
        f"field {field!r} is not a manifest field ({where}); kept as meta.{field}{hint} "
        f'(put it under "meta" to silence this; manifest fields: {", ".join(FIELDS)})'
    )


def leftover_problems(row: dict[str, Any]) -> list[str]:
    """Unknown fields :func:`fold_unknown` could not move: clashing or nested values."""
    out = []
    for key in (k for k in row if k not in FIELDS):
        value = row[key]
        if isinstance(value, (dict, list)):
            out.append(
                f"field {key!r} is {json_type(value)}, not a manifest field and not a value a "
                "meta column can hold; flatten it or drop it"
            )
        else:
            out.append(f"field {key!r} is also a meta key; keep one of the two")
    return out


def quoted(key: str, value: Any) -> str:
    """The fix for a scalar that should have been a string: its JSON text, in quotes."""
    return f'write it in quotes: "{key}": "{json.dumps(value)}"'


def shown(value: Any) -> str:
    """A value for a message, cut short if long."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def type_problems(row: dict[str, Any]) -> list[str]:
    """Every value of a row whose JSON type is wrong: the key, the type found, and the fix."""
    out = []
    for key in STRINGS:
        value = row.get(key)
        if value is not None and not isinstance(value, str):
            fix = (
                "join the words into one string"
                if key == "text" and isinstance(value, list)
                else quoted(key, value)
                if isinstance(value, (int, float, bool))
                else "make it a string"
            )
            out.append(f"{key} is {json_type(value)} ({shown(value)}), not a string; {fix}")
    for key, example in (("terms", '["a", "b"]'), ("channels", '["agent", "customer"]')):
        items = row.get(key)
        if items is not None and not isinstance(items, list):
            out.append(
                f"{key} is {json_type(items)} ({shown(items)}), not a list of strings; "
                f'write "{key}": {example}'
            )
        elif items is not None:
            out.extend(
                f"{key}[{i}] is {json_type(t)} ({shown(t)}), not a string; {key} must be a "
                "list of strings: quote it"
                for i, t in enumerate(items)
                if not isinstance(t, str)
            )
    tracks = row.get("tracks")
    if tracks is not None and (
        not isinstance(tracks, dict) or not all(isinstance(v, str) for v in tracks.values())
    ):
        out.append(
            f"tracks is {json_type(tracks)} ({shown(tracks)}), not an object of speaker → file; "
            'write "tracks": {"alice": "alice.wav", "bob": "bob.wav"}'
        )
    meta = row.get("meta")
    if meta is not None and not isinstance(meta, dict):
        out.append(
            f"meta is {json_type(meta)} ({shown(meta)}), not an object; "
            'write "meta": {"name": value}'
        )
    elif meta is not None:
        for key, value in meta.items():
            if key in RESERVED_META:
                out.append(
                    f"meta.{key} is reserved (stt-eval sets it from the {key[:-5]} field); "
                    "rename the key"
                )
            elif isinstance(value, (dict, list)):
                out.append(
                    f"meta.{key} is {json_type(value)}, not a string, number, true/false or "
                    "null; meta values become table columns: flatten it (e.g. join a list "
                    "with ';')"
                )
    return out
