"""Streaming engines by the same names as the batch providers, imported only when asked for.

A name here is the streaming side of the batch provider of that name: an experiment with
``providers = ["pocketsphinx"]`` and ``mode = ["streaming"]`` runs the engine registered here,
built with the same options as the batch one (``model``…). Each entry is one line::

    "deepgram": StreamingEntry("stt_eval.streaming.remote.deepgram:DeepgramStream", remote=True),

The target is ``module:factory`` (a class, a function or ``Class.classmethod``); a remote
entry's target is the module's name → factory mapping (``REMOTE_STREAMING``), whose factories
refuse, by name, the batch options a stream does not take.
``simulated``: a batch engine driven incrementally (its rows and reports say so); ``remote``: a
network service (its cells run in threads, like the HTTP providers').
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from stt_eval.errors import UsageError
from stt_eval.streaming.events import StreamingProvider


@dataclass(frozen=True)
class StreamingEntry:
    """Where a streaming engine lives (``module:factory``, the factory taking the provider's
    options as keywords) and what kind it is."""

    target: str
    simulated: bool = False
    remote: bool = False


STREAMING: dict[str, StreamingEntry] = {
    "pocketsphinx": StreamingEntry("stt_eval.streaming.pocketsphinx:PocketSphinxStream"),
    "faster-whisper": StreamingEntry(
        "stt_eval.streaming.local_agreement:WhisperLocalAgreement.of", simulated=True
    ),
    "pulse": StreamingEntry("stt_eval.streaming.remote:REMOTE_STREAMING", remote=True),
    "deepgram": StreamingEntry("stt_eval.streaming.remote:REMOTE_STREAMING", remote=True),
    "assemblyai": StreamingEntry("stt_eval.streaming.remote:REMOTE_STREAMING", remote=True),
    "openai": StreamingEntry("stt_eval.streaming.remote:REMOTE_STREAMING", remote=True),
}
"""Provider name → its streaming engine."""


class NoStreaming(UsageError):
    """A provider that has no streaming engine was asked to stream."""


def streaming_entry(name: str) -> StreamingEntry:
    """The entry of `name`; a name without one lists those that stream."""
    try:
        return STREAMING[name]
    except KeyError:
        raise NoStreaming(
            f"provider {name!r} has no streaming mode; providers that stream: "
            f'{", ".join(sorted(STREAMING))} (or drop "streaming" from mode)'
        ) from None


def streaming_label(label: str, name: str) -> str:
    """What a streaming cell of provider `name` is reported as: its label and how it streams,
    so no table pools it with the batch rows of the same label."""
    how = "simulated streaming" if streaming_entry(name).simulated else "streaming"
    return f"{label} ({how})"


def get_streaming_provider(
    name: str, options: Mapping[str, Any] | None = None
) -> StreamingProvider:
    """Build the streaming engine of provider `name` with the provider's options."""
    entry = streaming_entry(name)
    module, _, path = entry.target.partition(":")
    factory: Any = import_module(module)
    for attr in path.split("."):
        factory = getattr(factory, attr)
    if entry.remote:
        return factory[name](options)
    return factory(**dict(options or {}))
