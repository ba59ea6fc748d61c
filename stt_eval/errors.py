"""The one error family: every failure a user can cause or fix is an :class:`SttEvalError`.

Anything else that escapes is a bug in stt-eval: a run records it as an "internal error" with
its traceback in the log, and the CLI asks for a report. An error carries a one-line
``message`` (what is wrong, naming the file, row, key or flag) and an optional ``hint`` (the
fix); ``str()`` gives both, for rows and logs.
"""

from __future__ import annotations

from importlib.util import find_spec

__all__ = ["BadArgument", "BadInput", "MissingExtra", "SttEvalError", "UsageError", "require"]


class SttEvalError(Exception):
    """An expected failure: bad input, a locked run, a missing extra, a provider's refusal."""

    exit_code = 1
    """The CLI's exit status for it: 1, or 2 for a command line that is wrong."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint

    @property
    def message(self) -> str:
        """What went wrong, in one line (``args[0]``, so code that rewrites it is seen)."""
        return str(self.args[0]) if self.args else type(self).__name__

    def __str__(self) -> str:
        return f"{self.message} — {self.hint}" if self.hint else self.message


class BadInput(SttEvalError, ValueError):
    """A file or value handed over (a recording, a reference, a run directory) cannot be used."""


class UsageError(SttEvalError, ValueError):
    """A call (a command line) asks for something that does not exist or cannot be: an unknown
    name, an option of the wrong type, a value out of its range."""

    exit_code = 2


class BadArgument(UsageError):
    """One argument of an API call (one flag of the CLI) has a value it cannot take;
    ``argument`` is the parameter's name, which the CLI turns into its flag."""

    def __init__(self, argument: str, message: str, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.argument = argument

    def __reduce__(self):  # a worker's error crosses processes whole
        return type(self), (self.argument, self.message, self.hint)


class MissingExtra(SttEvalError):
    """An optional package this setting needs is not installed; the hint says what to install."""


def require(package: str, needed_for: str, install: str) -> None:
    """Refuse `needed_for` now (when a run is planned, before anything is written or sent) if
    `package` cannot be found; importing it would be slow (torch) and is left to its user."""
    try:
        found = find_spec(package) is not None
    except (ImportError, ValueError):  # a broken parent package, or a module without a spec
        found = False
    if not found:
        raise MissingExtra(f"{needed_for} needs {package}, which is not installed", install)
