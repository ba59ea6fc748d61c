"""Content-addressed transcript cache: the same audio sent with the same settings is never sent twice.

The key is the sha256 of the exact WAV bytes a provider receives plus everything that changes its
output (provider identity, model, version, options). Entries are JSON files written atomically
(temp file + rename), so an interrupted run never leaves a half-written entry. Nothing secret is
stored: provider identities hold model names and options, never keys.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from stt_eval.types import Measured, SpeakerTurn, Transcript, Word

CACHE_FORMAT = 3
"""Bumped when an entry's layout changes; part of every key, so old entries are never misread."""


def default_cache_dir() -> Path:
    """$STT_EVAL_CACHE, else $XDG_CACHE_HOME/stt-eval, else ~/.cache/stt-eval."""
    if os.environ.get("STT_EVAL_CACHE"):
        return Path(os.environ["STT_EVAL_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "stt-eval"


def transcript_to_dict(t: Transcript) -> dict[str, Any]:
    return {
        "text": t.text,
        "language": t.language,
        "words": [[w.text, w.start, w.end, w.confidence, w.speaker] for w in t.words],
        "turns": [[s.speaker, s.start, s.end] for s in t.turns],
        "raw": t.raw,
    }


def transcript_from_dict(d: Mapping[str, Any]) -> Transcript:
    return Transcript(
        text=d["text"],
        words=tuple(Word(*w) for w in d.get("words", ())),
        turns=tuple(SpeakerTurn(*s) for s in d.get("turns", ())),
        language=d.get("language"),
        raw=d.get("raw"),
    )


def cache_key(audio_wav: bytes, identity: Mapping[str, Any], options: Mapping[str, Any]) -> str:
    """sha256 over the audio bytes and the canonical JSON of the provider identity and options."""
    h = hashlib.sha256()
    h.update(audio_wav)
    h.update(
        json.dumps(
            {"v": CACHE_FORMAT, "id": identity, "opt": options}, sort_keys=True, default=str
        ).encode()
    )
    return h.hexdigest()


@dataclass(frozen=True)
class CachedTranscript:
    """A cache hit: the transcript and what making it cost, measured when it was made."""

    transcript: Transcript
    measured: Measured


@dataclass(frozen=True)
class TranscriptCache:
    """A directory of cached transcripts; ``None`` root disables caching.

    Each entry records its own key; an entry that does not parse, or holds another key, is
    treated as missing (recomputed and overwritten), never served.
    """

    root: Path | None

    def path(self, key: str) -> Path:
        """Where the entry for `key` lives (under ``root/transcripts/``)."""
        if self.root is None:
            raise ValueError("this cache is disabled (root=None): it has no entries")
        return self.root / "transcripts" / key[:2] / f"{key}.json"

    def get(self, key: str) -> CachedTranscript | None:
        if self.root is None:
            return None
        try:
            entry = json.loads(self.path(key).read_text(encoding="utf-8"))
            if entry["key"] != key:
                return None
            return CachedTranscript(
                transcript_from_dict(entry["transcript"]), Measured(**entry["measured"])
            )
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError):
            return None  # missing or unreadable entries are recomputed

    def put(self, key: str, transcript: Transcript, measured: Measured) -> None:
        if self.root is None:
            return
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        entry = {
            "key": key,
            "measured": asdict(measured),
            "transcript": transcript_to_dict(transcript),
        }
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(entry, default=float), encoding="utf-8")
        tmp.replace(path)
