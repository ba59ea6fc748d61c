"""API keys: read from the environment or a ``.env`` file, checked, and scrubbed from every text
that leaves the process (rows, logs, reports, exports, the terminal).

- A key is read from its variable, else from a ``.env`` file found from the working directory
  upwards. Surrounding whitespace (a pasted newline, a trailing space) is stripped and the user
  is told once, naming the variable; a control or non-ASCII character inside is refused, naming
  the variable. No message ever holds the value.
- :func:`scrub` replaces every configured key value — of the variables read here and of every
  key-like variable (``*_KEY``, ``*_TOKEN``, ``*_SECRET``) in the environment or ``.env`` — and
  any ``Bearer …``/``Token …`` credential with ``***``. It is applied where text leaves: failure
  rows, log records (:class:`ScrubFilter` on the ``stt_eval`` logger), reports, exports and the
  CLI's stdout/stderr (:func:`scrubbing_output`).
"""

from __future__ import annotations

import functools
import html
import logging
import os
import re
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from dotenv import dotenv_values, find_dotenv

from stt_eval.providers.errors import AuthError

SECRET_SUFFIXES = ("API_KEY", "_KEY", "_TOKEN", "_SECRET")
"""Variables whose values are scrubbed even when no provider read them."""
MIN_SECRET_CHARS = 8
"""Shorter values are not scrubbed (replacing ``abc`` everywhere would mangle text)."""
MASK = "***"
_CREDENTIAL = re.compile(r"\b(Bearer|Token)\s+(?=[\w.~+/=-]*\d)[\w.~+/=-]{16,}")
"""A credential after its scheme: 16+ token characters with a digit (so that a transcript's
"Token classification" stays as it is)."""
_BAD_CHAR = re.compile(r"[^\x21-\x7e]")
"""A character no API key holds: control, space, non-ASCII."""

_lock = threading.Lock()
_variables: set[str] = set()  # the variables a provider read (any name, not only *_KEY)
_said: set[tuple[str, str]] = set()  # (variable, raw value) whose whitespace was reported
log = logging.getLogger("stt_eval")


def _dotenv() -> dict[str, str]:
    found = find_dotenv(usecwd=True)
    if not found:
        return {}
    return _dotenv_at(found, Path(found).stat().st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _dotenv_at(path: str, mtime_ns: int) -> dict[str, str]:
    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def _raw(variable: str) -> str | None:
    value = os.environ.get(variable)
    return value if value else _dotenv().get(variable)


def api_key(variable: str, provider: str) -> str:
    """The checked key in `variable` (environment first, then ``.env``).

    Missing: AuthError naming the variable. Surrounding whitespace: stripped, with a warning
    naming the variable (once per value). A control, space or non-ASCII character inside:
    AuthError naming the variable and the character's position, never the value.
    """
    with _lock:
        _variables.add(variable)
    raw = _raw(variable)
    key = (raw or "").strip()
    if not key:
        raise AuthError(
            f"{provider}: no API key: set {variable} in the environment or in a .env file in "
            f"the working directory ({variable}=...)"
        )
    if key != raw and (variable, raw) not in _said:
        with _lock:
            _said.add((variable, raw))
        log.warning(
            "%s: %s has whitespace around the key (e.g. a pasted newline); it was stripped — "
            "remove it from the environment or .env",
            provider,
            variable,
        )
    bad = _BAD_CHAR.search(key)
    if bad is not None:
        raise AuthError(
            f"{provider}: {variable} holds a character no API key has ({_name(bad.group())} at "
            f"position {bad.start() + 1} of {len(key)}); copy the key again into {variable}"
        )
    return key


def _name(char: str) -> str:
    return "a space" if char == " " else f"U+{ord(char):04X}"


# --------------------------------------------------------------------------- scrubbing


def _forms(value: str) -> Iterable[str]:
    """The ways a value can appear in text: as is, stripped, as Python escapes it in a repr,
    HTML-escaped, and each run of printable characters of a value with control characters."""
    stripped = value.strip()
    yield from (value, stripped, value.encode("unicode_escape").decode("ascii"))
    yield html.escape(stripped)
    yield from _BAD_CHAR.split(stripped)


def configured_secrets() -> tuple[str, ...]:
    """Every text form of every configured key, longest first."""
    values = {**_dotenv(), **os.environ}
    with _lock:
        wanted = set(_variables)
    found = {
        form
        for name, value in values.items()
        if value and (name in wanted or name.upper().endswith(SECRET_SUFFIXES))
        for form in _forms(value)
        if len(form) >= MIN_SECRET_CHARS
    }
    return tuple(sorted(found, key=len, reverse=True))


def scrub(text: str) -> str:
    """`text` without any configured key value or ``Bearer``/``Token`` credential (``***``).

    >>> scrub("401 for 'Authorization: Bearer sk-live-abcdef123456'")
    "401 for 'Authorization: Bearer ***'"
    >>> scrub("Token classification and Bearer bonds")
    'Token classification and Bearer bonds'
    """
    for secret in configured_secrets():
        if secret in text:
            text = text.replace(secret, MASK)
    return _CREDENTIAL.sub(rf"\1 {MASK}", text)


class ScrubFilter(logging.Filter):
    """Scrubs a log record's message and traceback before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = scrub(record.getMessage()), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        return True


if not any(isinstance(f, ScrubFilter) for f in log.filters):
    log.addFilter(ScrubFilter())


class _Scrubbing:
    """A text stream that scrubs what is written to it (the rest is the wrapped stream's)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(scrub(text))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


F = TypeVar("F", bound=Callable[..., Any])


def scrubbing_output(func: F) -> F:
    """Run `func` with ``sys.stdout`` and ``sys.stderr`` scrubbed (the CLI's entry point)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        out, err = sys.stdout, sys.stderr
        sys.stdout = out if isinstance(out, _Scrubbing) else _Scrubbing(out)
        sys.stderr = err if isinstance(err, _Scrubbing) else _Scrubbing(err)
        try:
            return func(*args, **kwargs)
        finally:
            sys.stdout, sys.stderr = out, err

    return wrapper  # type: ignore[return-value]
