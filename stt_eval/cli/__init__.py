"""The ``stt-eval`` command: a projection of ``stt_eval.api``.

Each command is one API call plus printing (``commands``); flags carry the API's parameter names
as ``dest`` and its defaults (``parser``); ``tests/test_cli.py`` checks both, so the two cannot
drift apart.
"""

from __future__ import annotations

import os
import sys
import warnings

from stt_eval.cli.parser import COMMANDS, build_parser
from stt_eval.cli.projection import flag_names
from stt_eval.errors import BadArgument, SttEvalError
from stt_eval.providers.keys import scrubbing_output

__all__ = ["COMMANDS", "build_parser", "main"]


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """A warning as a user reads it: ``warning: <message>``, no source line of ours."""
    print(f"warning: {message}", file=sys.stderr)


def report_error(exc: Exception, flags: dict[str, str]) -> int:
    """One line for what went wrong (``stt-eval: error: …``, naming the file, key or flag) and
    one for the fix (``hint: …``); returns the exit status: 2 for a wrong command line, else 1.
    Anything that is not an expected error is a bug of ours: it asks for a report."""
    hint = None
    if isinstance(exc, SttEvalError):
        message, hint, status = exc.message, exc.hint, exc.exit_code
        if isinstance(exc, BadArgument):
            message = f"argument {flags.get(exc.argument, exc.argument)}: {message}"
    elif isinstance(exc, OSError):  # the system's word on a file, which it names
        message, status = str(exc), 1
    else:
        message, status = f"internal error (please report it): {type(exc).__name__}: {exc}", 1
        hint = "run it again with 'stt-eval --debug …' to see the traceback"
    print(f"stt-eval: error: {message}", file=sys.stderr)
    if hint:
        print(f"hint: {hint}", file=sys.stderr)
    return status


@scrubbing_output  # no key reaches the terminal, whatever prints it
def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning  # restored on leaving the block
            return args.func(args)
    except BrokenPipeError:  # stdout closed early (| head): not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print(
            "interrupted; rows written so far are kept — run the same command again to resume",
            file=sys.stderr,
        )
        return 130
    except Exception as exc:
        if args.debug:
            raise
        return report_error(exc, flag_names(parser))
