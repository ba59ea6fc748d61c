"""Providers by name: one module each, imported only when asked for."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from stt_eval.providers.base import Provider


def _faster_whisper(**kw: Any) -> Provider:
    from stt_eval.providers.faster_whisper import FasterWhisper

    return FasterWhisper(**kw)


def _pocketsphinx(**kw: Any) -> Provider:
    from stt_eval.providers.pocketsphinx import PocketSphinx

    return PocketSphinx(**kw)


PROVIDERS: Mapping[str, Callable[..., Provider]] = {
    "faster-whisper": _faster_whisper,
    "pocketsphinx": _pocketsphinx,
}


class UnknownProvider(ValueError):
    """A provider name that is not registered."""


def get_provider(name: str, **options: Any) -> Provider:
    """Build a provider by name; unknown names and options list the valid ones."""
    if name not in PROVIDERS:
        raise UnknownProvider(
            f"unknown provider {name!r}; known providers: {', '.join(sorted(PROVIDERS))}"
        )
    try:
        return PROVIDERS[name](**options)
    except TypeError as exc:
        raise UnknownProvider(
            f"provider {name!r} does not take these options {sorted(options)}: {exc}"
        ) from exc
