"""How an API function becomes a command's flags: each flag's name and default come from the
parameter it sets, and an error about a parameter names the flag the user typed."""

from __future__ import annotations

import argparse
import inspect
import json
from collections.abc import Callable
from typing import Any


def defaults_of(func: Callable[..., Any]) -> dict[str, Any]:
    """An API function's parameter defaults: the one place CLI defaults come from."""
    return {
        name: p.default
        for name, p in inspect.signature(func).parameters.items()
        if p.default is not inspect.Parameter.empty
    }


class KeyValue(argparse.Action):
    """``--option KEY=VALUE`` (repeatable) into a dict; values read as JSON when they can be
    (5, 0.5, true), else kept as text."""

    def __call__(self, parser, namespace, text, option_string=None) -> None:
        key, sep, value = str(text).partition("=")
        if not sep or not key.strip():
            parser.error(f"{option_string} expects KEY=VALUE, got {text!r} (e.g. model=base)")
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            parsed = value
        setattr(
            namespace, self.dest, {**(getattr(namespace, self.dest) or {}), key.strip(): parsed}
        )


class Parser(argparse.ArgumentParser):
    """A parser that takes long flags only in full: ``--ful`` is an error, not ``--full``.
    Subcommand parsers are made of the same class."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **{"allow_abbrev": False, **kwargs})


def flag_names(parser: argparse.ArgumentParser) -> dict[str, str]:
    """Each API parameter's flag (``workers`` → ``--workers``) or positional, over every
    command: how an error about a parameter names what the user typed."""
    out: dict[str, str] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                out |= flag_names(sub)
        elif action.option_strings:
            out.setdefault(action.dest, max(action.option_strings, key=len))
        else:
            out.setdefault(action.dest, str(action.metavar or action.dest).upper())
    return out


def flag(p: argparse.ArgumentParser, flag: str, defaults: dict, help: str, **kw: Any) -> None:
    """Add ``--flag`` with the API parameter's name (from the flag unless given) and default."""
    dest = kw.pop("dest", flag.lstrip("-").replace("-", "_"))
    p.add_argument(flag, dest=dest, default=defaults[dest], help=help, **kw)
