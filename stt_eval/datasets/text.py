"""Reading the text files a user hands over (manifests, transcripts, RTTM/STM/CTM/UEM) one strict
way: UTF-8, and nothing else.

- A UTF-8 byte-order mark (what Windows Notepad and Excel's "CSV UTF-8" put first) is removed,
  with one :class:`ByteOrderMarkWarning` per file read, so it never becomes part of the first id,
  word or column name (where it would silently turn a perfect transcript into a 25 % WER).
- Bytes that are not UTF-8 (a Latin-1 or Windows-1252 export), a UTF-16/32 file, or NUL bytes (a
  binary file) raise :class:`UnreadableText` with the line and byte offset of the first bad
  byte, how many lines are bad, and the fix; each reader turns it into its own error type.
- JSON lines are read strictly (:func:`loads_strict`): a key given twice, or NaN, is an error
  rather than the last value winning or a float that no JSON tool can read back.
- Lines end at ``\\n``, ``\\r\\n`` or ``\\r`` only: ``str.splitlines`` would also split inside a
  JSON string at U+2028 or U+0085, corrupting the row and every line number after it.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

from stt_eval.errors import SttEvalError

UTF8_BOM = b"\xef\xbb\xbf"
_OTHER_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)
SAVE_AS_UTF8 = (
    "save the file as UTF-8 (in an editor: 'Save with encoding: UTF-8'; from Latin-1 or "
    "Windows-1252: iconv -f cp1252 -t utf-8 old > new)"
)


class ByteOrderMarkWarning(UserWarning):
    """A text file began with a UTF-8 byte-order mark; it was removed before reading."""


class UnreadableText(SttEvalError, ValueError):
    """A text file is not UTF-8; ``line`` (1-based) and ``offset`` (bytes from the start of the
    file) locate the first bad byte. Readers re-raise it as their own error type."""

    def __init__(self, path: Path, line: int | None, offset: int | None, problem: str) -> None:
        self.path = path
        self.line = line
        self.offset = offset
        self.problem = problem
        self.fix = SAVE_AS_UTF8
        where = f"line {line} (byte offset {offset}): " if line is not None else ""
        self.where_problem = f"{where}{problem}"
        super().__init__(f"{path}: {self.where_problem}", self.fix)


def _line_of(data: bytes, offset: int) -> int:
    """The 1-based line of a byte offset, counting line ends as :func:`split_lines` does."""
    head = data[:offset].replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return head.count(b"\n") + 1


def _bad_lines(data: bytes) -> int:
    """How many lines hold bytes that are not UTF-8."""
    bad = 0
    for raw in data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n"):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            bad += 1
    return bad


def read_text(path: Path | str) -> str:
    """The text of a UTF-8 file, a leading BOM removed (with a warning).

    Raises FileNotFoundError for a missing file and :class:`UnreadableText` for anything that is
    not UTF-8 text.
    """
    path = Path(path)
    data = path.read_bytes()
    start = 0
    for bom, name in _OTHER_BOMS:
        if data.startswith(bom):
            raise UnreadableText(
                path, 1, 0, f"is {name} text (it starts with a {name} byte-order mark)"
            )
    if data.startswith(UTF8_BOM):
        start = len(UTF8_BOM)
        warnings.warn(
            f"{path}: removed the UTF-8 byte-order mark (BOM) at its start, so it does not become "
            "part of the first id, word or column; save the file as UTF-8 without BOM to silence "
            "this",
            ByteOrderMarkWarning,
            stacklevel=3,
        )
    try:
        text = data[start:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = start + exc.start
        bad = data[offset : offset + min(4, exc.end - exc.start)]
        more = _bad_lines(data[start:]) - 1
        others = f"; {more} more line(s) have such bytes" if more > 0 else ""
        raise UnreadableText(
            path,
            _line_of(data, offset),
            offset,
            f"byte(s) {bad.hex(' ').upper()} are not UTF-8 (the file is in another encoding, "
            f"e.g. Latin-1 or Windows-1252){others}",
        ) from None
    nul = text.find("\0")
    if nul >= 0:
        offset = start + len(text[:nul].encode("utf-8"))
        raise UnreadableText(
            path,
            _line_of(data, offset),
            offset,
            "contains NUL bytes: it is UTF-16 or binary, not UTF-8 text",
        )
    return text


def split_lines(text: str) -> list[str]:
    """Lines of a text, ended by ``\\n``, ``\\r\\n`` or ``\\r`` only (see the module docstring);
    a final line end does not start an empty last line."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def read_lines(path: Path | str) -> list[str]:
    """:func:`read_text` split into lines; line ``n`` is ``lines[n - 1]``."""
    return split_lines(read_text(path))


class NotStrictJson(SttEvalError, ValueError):
    """A line that ``json.loads`` would accept but that is not strict JSON: a key given twice in
    one object (json.loads silently keeps the last) or NaN / Infinity (not JSON at all)."""


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in pairs:
        if key in out:
            raise NotStrictJson(f'key "{key}" appears twice in one object; keep one')
        out[key] = value
    return out


def _no_constant(name: str) -> float:
    raise NotStrictJson(f"{name} is not JSON; write null (unknown) or a number")


def loads_strict(line: str) -> object:
    """``json.loads`` that refuses duplicate keys and NaN/Infinity (:class:`NotStrictJson`);
    malformed JSON raises ``json.JSONDecodeError`` as usual."""
    return json.loads(line, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)


def json_lines(lines: Sequence[str]) -> Iterator[tuple[int, object, str | None]]:
    """Each non-blank line's 1-based number with its strict JSON value, or ``None`` and why it
    is not valid JSON (the readers of JSONL formats all turn that into their own error)."""
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield n, loads_strict(line), None
        except json.JSONDecodeError as exc:
            yield n, None, f"{exc.msg} at column {exc.colno}"
        except NotStrictJson as exc:
            yield n, None, str(exc)


def json_type(value: object) -> str:
    """A value's type as JSON names it, for messages ("a number", "a list", …)."""
    if value is None:
        return "null"
    for kind, name in (
        (bool, "true/false"),
        (str, "a string"),
        (list, "a list"),
        (dict, "an object"),
    ):
        if isinstance(value, kind):
            return name
    return "a number" if isinstance(value, (int, float)) else type(value).__name__
