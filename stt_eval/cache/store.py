"""Content-addressed transcript cache: the same audio sent with the same settings is never sent twice,
and nothing in it is served unless it proves what it was computed from.

The key is the sha256 over the sha256 of the exact WAV bytes a provider receives and the canonical
JSON of everything that changes its output (provider identity, model, version, options), so it can
be recomputed from what an entry stores. An entry (format 4) is one JSON file,
``root/transcripts/<key[:2]>/<key>.json``::

    {"format": 4,                      # CACHE_FORMAT when it was written
     "key": "<64 hex>",                # the key it answers
     "source": {"audio_sha256": "<64 hex>", "identity": {...}, "options": {...}},
     "written": "2025-06-01T12:00:00.123456+00:00",
     "measured": {"processing_s": ..., "latency_s": ..., "attempts": ..., "cost_usd": ...},
     "transcript": {"text": ..., "language": ..., "words": [...], "turns": [...], "raw": ...},
     "sha256": "<64 hex>"}             # over the canonical JSON of every other field

:meth:`TranscriptCache.get` serves an entry only if it parses, has this format, holds the requested
key, its ``source`` recomputes to that key (a renamed or swapped entry is caught) and its checksum
matches (a hand-edited transcript or time is caught). Anything else is moved to
``root/quarantine/`` with a ``.reason`` file beside it, a :class:`CacheWarning` naming the entry
and the reason is issued with :func:`warnings.warn`, and the caller recomputes and writes a fresh
entry. A cache that cannot be written only warns: the result is used, just not kept.

Writes go to a unique temp file that is fsynced and renamed over the entry, so readers see the old
entry or the new one, never a torn one, also with several processes writing the same key. Nothing
secret is stored: provider identities hold model names and options, never keys, and a setting that
looks like a credential is refused when the key is made. Entries of older formats are never read
(the format is part of the key); ``stt_eval.cache.admin.verify_cache`` moves them aside.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import tempfile
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from stt_eval.errors import SttEvalError
from stt_eval.types import Measured, SpeakerTurn, Transcript, Word

CACHE_FORMAT = 4
"""Bumped when an entry's layout changes; part of every key, so old entries are never misread."""

KEY_PATTERN = re.compile(r"[0-9a-f]{64}")
"""What every key (and audio sha256) looks like: 64 lowercase hex digits."""
_SECRET_NAME = re.compile(r"api_?key|secret|passw|authori[sz]ation|bearer|token$|^key$", re.I)
_URL_CREDENTIALS = re.compile(r"://[^/@\s]+@|[?&](?:api_?key|key|token|access_token)=", re.I)


class CacheWarning(UserWarning):
    """A cache entry was unreadable, damaged or not what its name says (moved aside and
    recomputed), or an entry could not be written. Never fatal; filter it like any warning."""


class BadEntry(SttEvalError, ValueError):
    """An entry that must not be served; the message says why (it follows the entry's path)."""


def default_cache_dir() -> Path:
    """$STT_EVAL_CACHE, else $XDG_CACHE_HOME/stt-eval, else ~/.cache/stt-eval."""
    if os.environ.get("STT_EVAL_CACHE"):
        return Path(os.environ["STT_EVAL_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "stt-eval"


def _plain(value: Any) -> Any:
    """JSON fallback: numpy scalars become Python numbers, anything else its string."""
    return value.item() if hasattr(value, "item") else str(value)


def canonical_json(value: Any) -> str:
    """The one JSON spelling of `value` that keys and checksums are computed over.

    >>> canonical_json({"b": 1, "a": (0.5, None)})
    '{"a":[0.5,null],"b":1}'
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=_plain)


def _normalised(value: Any) -> Any:
    """`value` as it reads back from JSON (tuples → lists, numpy → Python), so what is stored
    recomputes to the same key and checksum."""
    return json.loads(canonical_json(value))


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def audio_digest(audio_wav: bytes) -> str:
    """The sha256 (hex) of the exact audio bytes a provider receives."""
    return hashlib.sha256(audio_wav).hexdigest()


@dataclass(frozen=True)
class KeySource:
    """What a key is computed from: the audio's sha256, the provider identity and the request
    options (both as they read back from JSON)."""

    audio_sha256: str
    identity: Mapping[str, Any]
    options: Mapping[str, Any]

    def __post_init__(self) -> None:
        if not isinstance(self.audio_sha256, str) or not KEY_PATTERN.fullmatch(self.audio_sha256):
            raise ValueError(
                f"audio_sha256={self.audio_sha256!r} is not a sha256 hex digest; "
                "use audio_digest(wav_bytes)"
            )
        for name in ("identity", "options"):
            if not isinstance(getattr(self, name), Mapping):
                raise ValueError(f"{name}={getattr(self, name)!r} must be a mapping")

    def digest(self) -> str:
        """sha256 over the format version, the audio's sha256 and the canonical settings."""
        settings = canonical_json({"id": self.identity, "opt": self.options})
        return _sha256(f"stt-eval transcript cache {CACHE_FORMAT}\n{self.audio_sha256}\n{settings}")


class CacheKey(str):
    """A cache key (64 hex characters) that remembers its :class:`KeySource`, so
    :meth:`TranscriptCache.put` can store what the entry was computed from."""

    source: KeySource

    def __new__(cls, source: KeySource) -> CacheKey:
        self = super().__new__(cls, source.digest())
        self.source = source
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (CacheKey, (self.source,))


def key_from_digest(
    audio_sha256: str, identity: Mapping[str, Any], options: Mapping[str, Any]
) -> CacheKey:
    """The key for audio with this sha256 sent with these settings (see :func:`cache_key`).

    Settings are stored in the entry, so a field that looks like a credential is refused.
    """
    for name, value in (*identity.items(), *options.items()):
        if _SECRET_NAME.search(str(name)) or _URL_CREDENTIALS.search(str(value)):
            raise ValueError(
                f"cache identity/options field {name!r} looks like a credential; cache entries "
                "store these settings, so leave keys out of cache_identity() and request options"
            )
    return CacheKey(KeySource(audio_sha256, _normalised(identity), _normalised(options)))


def cache_key(
    audio_wav: bytes, identity: Mapping[str, Any], options: Mapping[str, Any]
) -> CacheKey:
    """The key for these audio bytes sent with this provider identity and these options: sha256
    over the audio's sha256 and the canonical JSON of the settings (a ``str``)."""
    return key_from_digest(audio_digest(audio_wav), identity, options)


def transcript_to_dict(t: Transcript) -> dict[str, Any]:
    return {
        "text": t.text,
        "language": t.language,
        "words": [[w.text, w.start, w.end, w.confidence, w.speaker] for w in t.words],
        "turns": [[s.speaker, s.start, s.end] for s in t.turns],
        "raw": t.raw,
        **({"warnings": list(t.warnings)} if t.warnings else {}),
    }


def transcript_from_dict(d: Mapping[str, Any]) -> Transcript:
    return Transcript(
        text=d["text"],
        words=tuple(Word(*w) for w in d.get("words", ())),
        turns=tuple(SpeakerTurn(*s) for s in d.get("turns", ())),
        language=d.get("language"),
        raw=d.get("raw"),
        warnings=tuple(d.get("warnings", ())),
    )


@dataclass(frozen=True)
class CachedTranscript:
    """A cache hit: the transcript and what making it cost, measured when it was made."""

    transcript: Transcript
    measured: Measured


@dataclass(frozen=True)
class CacheEntry:
    """A verified entry: its key, what it was computed from, when, and its contents."""

    key: str
    source: KeySource
    written: datetime
    measured: Measured
    transcript: Transcript

    @property
    def engine(self) -> str:
        """The engine or component named in the stored identity ("unknown" if none)."""
        ident = self.source.identity
        return str(ident.get("engine") or ident.get("component") or "unknown")


def encode_entry(
    key: CacheKey, transcript: Transcript, measured: Measured, *, written: datetime | None = None
) -> bytes:
    """The bytes of a format-4 entry for `key` (``written`` defaults to now, UTC)."""
    if not isinstance(key, CacheKey):
        raise TypeError(
            f"key {key!r} is a plain string; pass the key from cache_key() or key_from_digest(), "
            "which records the audio hash, identity and options the entry is stored with"
        )
    when = written or datetime.now(timezone.utc)
    entry = _normalised(
        {
            "format": CACHE_FORMAT,
            "key": str(key),
            "source": asdict(key.source),
            "written": when.isoformat(),
            "measured": asdict(measured),
            "transcript": transcript_to_dict(transcript),
        }
    )
    entry["sha256"] = _sha256(canonical_json(entry))
    return json.dumps(entry, indent=1, sort_keys=True).encode()


def _field(entry: Mapping[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    value = entry.get(name)
    if not isinstance(value, kind):
        raise BadEntry(f"has no valid {name!r} field (got {type(value).__name__})")
    return value


def _parse(data: bytes) -> dict[str, Any]:
    if not data.strip():
        raise BadEntry("is empty (a write that never finished?)")
    try:
        entry = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadEntry("is not UTF-8 text (binary data)") from None
    except json.JSONDecodeError as e:
        raise BadEntry(f"is not valid JSON ({e.msg} at byte {e.pos}; torn or truncated)") from None
    if not isinstance(entry, dict):
        raise BadEntry(f"is JSON but a {type(entry).__name__}, not an entry object")
    return entry


def decode_entry(data: bytes, key: str) -> CacheEntry:
    """Parse and verify the bytes of the entry stored for `key`; :class:`BadEntry` says why not."""
    entry = _parse(data)
    version = entry.get("format")
    if version != CACHE_FORMAT:
        raise BadEntry(
            f"was written by cache format {version!r}; this version reads format {CACHE_FORMAT}"
            if isinstance(version, int)
            else "has no 'format' field (not an stt-eval cache entry, or one from before format 4)"
        )
    stored_key = _field(entry, "key", str)
    if stored_key != key:
        raise BadEntry(f"holds the entry for key {stored_key[:16]}…, not {key[:16]}… (renamed?)")
    checksum = _field(entry, "sha256", str)
    if _sha256(canonical_json({k: v for k, v in entry.items() if k != "sha256"})) != checksum:
        raise BadEntry("does not match its sha256 checksum (edited by hand or damaged)")
    src = _field(entry, "source", dict)
    try:
        source = KeySource(src.get("audio_sha256"), src.get("identity"), src.get("options"))
        written = datetime.fromisoformat(_field(entry, "written", str))
        if written.tzinfo is None:
            raise ValueError(f"written={entry['written']!r} has no time zone")
    except ValueError as e:
        raise BadEntry(f"has a malformed source or date ({e})") from None
    if source.digest() != key:
        raise BadEntry("has audio hash, identity and options that do not give its key (edited?)")
    try:
        measured = Measured(**_field(entry, "measured", dict))
        transcript = transcript_from_dict(_field(entry, "transcript", dict))
    except (KeyError, TypeError, ValueError) as e:  # InvalidRecord is a ValueError
        raise BadEntry(f"has a malformed measured time or transcript ({e})") from None
    for name, value in asdict(measured).items():
        if not isinstance(value, (int, float)) and not (name == "cost_usd" and value is None):
            raise BadEntry(f"has a malformed measured time ({name}={value!r})")
    return CacheEntry(key, source, written, measured, transcript)


def _warn(message: str) -> None:
    warnings.warn(message, CacheWarning, stacklevel=3)


def quarantine(
    root: Path, path: Path, reason: str, seen: os.stat_result | None = None
) -> Path | None:
    """Move the entry at `path` to ``root/quarantine/`` with a ``.reason`` file beside it.

    Returns where it went, or None if it is gone or was replaced by a fresh entry after `seen`
    (its stat when read): a concurrent writer's good entry is put back, never quarantined.
    """
    qdir = root / "quarantine"
    qdir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    dest = qdir / f"{path.stem}.{stamp}.{os.getpid()}.{secrets.token_hex(3)}.entry"
    try:
        os.rename(path, dest)
    except FileNotFoundError:
        return None  # another process moved or replaced it already
    moved = dest.stat()
    if seen is not None and (moved.st_ino, moved.st_dev) != (seen.st_ino, seen.st_dev):
        # a writer replaced the bad entry after we read it: restore theirs, unless a newer one is in
        with contextlib.suppress(FileExistsError):
            os.link(dest, path)
        dest.unlink()
        return None
    dest.with_suffix(".reason").write_text(
        f"entry: {path}\nreason: {reason}\nmoved: {datetime.now(timezone.utc).isoformat()}\n",
        encoding="utf-8",
    )
    return dest


@dataclass(frozen=True)
class TranscriptCache:
    """A directory of cached transcripts; ``None`` root disables caching.

    An entry is served only after it verifies (see the module docstring); one that does not is
    moved to ``root/quarantine/`` with a :class:`CacheWarning`, and the caller recomputes it.
    """

    root: Path | None

    def path(self, key: str) -> Path:
        """Where the entry for `key` lives (under ``root/transcripts/``)."""
        if self.root is None:
            raise ValueError("this cache is disabled (root=None): it has no entries")
        if not KEY_PATTERN.fullmatch(key):
            raise ValueError(f"key {key!r} is not 64 lowercase hex digits; use cache_key()")
        return Path(self.root) / "transcripts" / key[:2] / f"{key}.json"

    def get(self, key: str) -> CachedTranscript | None:
        """The verified entry for `key`, else None (missing, or bad: moved aside with a warning)."""
        if self.root is None:
            return None
        path = self.path(key)
        try:
            with open(path, "rb") as f:
                seen = os.fstat(f.fileno())
                data = f.read()
        except FileNotFoundError:
            return None
        except OSError as e:
            _warn(f"cache entry {path} could not be read ({e}); recomputing it")
            return None
        try:
            entry = decode_entry(data, key)
        except BadEntry as e:
            try:
                dest = quarantine(Path(self.root), path, str(e), seen)
                where = f"moved to {dest}" if dest else "already replaced"
            except OSError as oe:
                where = f"could not be moved aside ({oe})"
            _warn(f"cache entry {path} {e}; {where}; recomputing it")
            return None
        return CachedTranscript(entry.transcript, entry.measured)

    def put(self, key: CacheKey, transcript: Transcript, measured: Measured) -> None:
        """Store `transcript` for `key` (from :func:`cache_key`) atomically; a write failure warns."""
        if self.root is None:
            return
        path = self.path(key)
        data = encode_entry(key, transcript, measured)
        tmp: str | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{key[:16]}.", suffix=".tmp")
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except OSError as e:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
            _warn(f"cache entry {path} could not be written ({e}); the result is used, not kept")
