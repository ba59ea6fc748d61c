"""Custom vocabulary: the grid axis that sends a list of phrases to each provider's documented
boosting field, so a run measures whether it helps on one's own audio (boosting can also raise
WER elsewhere; OpenBench saw whisper-1's WER rise from 20.7 to 32.0 with prompts).

An axis value (``vocabulary = ["off", "terms"]`` in an experiment) is one of:

- ``off``: nothing is sent (every provider's default);
- ``terms``: each sample's own ``terms`` from the manifest;
- a path to a UTF-8 text file of phrases, one a line (blank lines and ``#`` comments skipped),
  sent for every sample.

The phrases go to the provider as the per-request option ``vocabulary`` (a tuple), so the
transcript cache key includes them. Each provider maps them to its documented field
(:data:`FIELDS`); one without a documented field for its endpoint (:data:`UNSUPPORTED`)
refuses with
:class:`~stt_eval.providers.errors.InputRejected` (a failure row that says why), never ignores
them silently.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from stt_eval.providers.errors import InputRejected

OFF = "off"
TERMS = "terms"
OPTION = "vocabulary"
"""The per-request option that carries the phrases."""

FIELDS = {
    "deepgram": "keyterm (nova-3), keywords (older models)",
    "assemblyai": "keyterms_prompt (word_boost was removed from the API reference in 2025-09)",
    "openai": "prompt (keywords[] for gpt-transcribe; the diarize model takes neither)",
    "faster-whisper": "hotwords",
}
"""Where each built-in provider that takes phrases sends them."""
UNSUPPORTED = {
    "pulse": "Pulse takes keywords on its WebSocket API only, not over HTTP (pulse-stt-ws.yaml; "
    "its word-boosting page)",
    "pocketsphinx": "its keyphrase-spotting and grammar modes replace transcription instead of "
    "biasing it",
}
"""Why each built-in provider without a vocabulary field has none."""


def check_vocabulary(value: str) -> str:
    """An axis value in canonical form: ``off``, ``terms`` or an existing phrase file's
    absolute path; a ValueError saying what to write otherwise."""
    text = value.strip()
    if text.lower() in (OFF, TERMS):
        return text.lower()
    path = Path(text).expanduser()
    if not path.is_file():
        raise ValueError(
            f"vocabulary {value!r} is not 'off', 'terms' or a file of phrases (one a line); "
            "give one of those"
        )
    if not read_phrases(path):
        raise ValueError(f"vocabulary file {path} holds no phrases; write one phrase a line")
    return str(path.resolve())


def read_phrases(path: Path | str) -> tuple[str, ...]:
    """The phrases of a vocabulary file, in order, duplicates dropped."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return tuple(dict.fromkeys(s for s in (line.strip() for line in lines) if s and s[0] != "#"))


def phrases(setting: str, terms: Sequence[str] | None) -> tuple[str, ...]:
    """The phrases one sample's request carries under an axis value (empty: send nothing)."""
    if setting == OFF:
        return ()
    if setting == TERMS:
        return tuple(dict.fromkeys(t.strip() for t in terms or () if t.strip()))
    return read_phrases(setting)


def tag(setting: str) -> str:
    """A short name of an axis value for labels: ``terms``, or a file's stem."""
    return setting if setting in (OFF, TERMS) else Path(setting).stem


def labelled(label: str, setting: str) -> str:
    """The provider label of a cell: the provider's own with vocabulary off, else suffixed
    (``faster-whisper+terms``), so every table keeps the two apart.

    >>> labelled("deepgram", "off"), labelled("deepgram", "terms")
    ('deepgram', 'deepgram+terms')
    """
    return label if setting == OFF else f"{label}+{tag(setting)}"


def requested(options: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The phrases a request carries (``options["vocabulary"]``), checked to be strings."""
    value = (options or {}).get(OPTION) or ()
    if isinstance(value, str) or not all(isinstance(p, str) for p in value):
        raise ValueError(f"{OPTION} must be a sequence of phrases, not {value!r}")
    return tuple(value)


def unsupported(provider: str, options: Mapping[str, Any] | None) -> None:
    """Refuse a request with phrases for a provider that has no documented field for them."""
    if requested(options):
        raise InputRejected(
            f"{provider}: custom vocabulary is not supported: "
            f"{UNSUPPORTED.get(provider, 'it has no field for it')}; "
            'run it with vocabulary = ["off"] only'
        )
