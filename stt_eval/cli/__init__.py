"""The ``stt-eval`` command: a projection of ``stt_eval.api``.

Each command is one API call plus printing (``commands``); flags carry the API's parameter names
as ``dest`` and its defaults (``parser``); ``tests/test_cli.py`` checks both, so the two cannot
drift apart.
"""

from __future__ import annotations

import os
import sys
import warnings

from stt_eval.audio.checks import AudioError
from stt_eval.cli.parser import COMMANDS, build_parser
from stt_eval.providers.errors import ProviderError

__all__ = ["COMMANDS", "build_parser", "main"]


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """A warning as a user reads it: ``warning: <message>``, no source line of ours."""
    print(f"warning: {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    args = build_parser().parse_args(argv)
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
    except (ValueError, OSError, AudioError, ProviderError) as exc:  # they name the file and fix
        print(f"stt-eval: error: {exc}", file=sys.stderr)
        return 2
