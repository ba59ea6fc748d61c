"""Remote streaming providers over WebSockets: Smallest Pulse live STT, Deepgram live,
AssemblyAI Universal-Streaming v3 and OpenAI realtime transcription (one module each; the
WebSocket plumbing in :mod:`.session`, the shared options and rules in :mod:`.base`).

``REMOTE_STREAMING`` maps each name to a factory taking the provider's options (a mapping),
importing the provider's module only when called.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import fields
from importlib import import_module
from typing import Any

TARGETS: Mapping[str, str] = {
    "pulse": "stt_eval.streaming.remote.pulse:PulseStream",
    "deepgram": "stt_eval.streaming.remote.deepgram:DeepgramStream",
    "assemblyai": "stt_eval.streaming.remote.assemblyai:AssemblyAIStream",
    "openai": "stt_eval.streaming.remote.openai:OpenAIStream",
}
"""Name → ``module:class`` of each remote streaming provider."""


def _factory(target: str) -> Callable[[Mapping[str, Any] | None], Any]:
    def build(options: Mapping[str, Any] | None = None) -> Any:
        module, _, attr = target.partition(":")
        cls = getattr(import_module(module), attr)
        valid = sorted(f.name for f in fields(cls))
        unknown = sorted(set(options or {}) - set(valid))
        if unknown:
            raise ValueError(
                f"{cls.name} streaming does not take option(s) {unknown}; valid options: "
                f"{', '.join(valid)}"
            )
        return cls(**dict(options or {}))

    return build


REMOTE_STREAMING: Mapping[str, Callable[[Mapping[str, Any] | None], Any]] = {
    name: _factory(target) for name, target in TARGETS.items()
}
