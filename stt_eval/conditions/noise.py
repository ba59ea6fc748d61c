"""Additive noise at an SNR over active speech: speech-activity mask and power, coloured noise,
babble, noise files, and the `noise` step with its parameter check.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from stt_eval.audio.load import (
    TARGET_RATE,
    AudioClip,
    AudioError,
    audio_duration,
    load_audio,
    resample,
)
from stt_eval.conditions.errors import ConditionError
from stt_eval.conditions.step import Value, _NoiseResult, _StepContext

__all__ = ["active_speech_mask", "active_speech_power"]

VAD_FRAME_S = 0.02
"""Energy-VAD frame length: 20 ms, the usual speech analysis frame."""
VAD_REFERENCE_PERCENTILE = 95.0
"""The 'loudest frames' level is this percentile of frame power (robust to a few clicks)."""
VAD_THRESHOLD_DB = 30.0
"""A frame is active speech when its power is within this many dB of the loudest-frames level."""
VAD_FLOOR_DBFS = -80.0
"""Frames quieter than this are never speech (digital silence, dither)."""

MIN_NOISE_FILE_S = 1.0
"""A noise file shorter than this loops audibly; it is rejected at validation time."""
BABBLE_TALKERS = 3
"""Babble mixes this many other recordings' speech (fewer if fewer are given); a run offers each
sample the first BABBLE_TALKERS other recordings of its dataset."""

# --- active speech level ---------------------------------------------------------------------


def active_speech_mask(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """Per-sample bool mask of active speech from a simple energy VAD.

    Frames of `VAD_FRAME_S` are active when their mean power is within `VAD_THRESHOLD_DB` of the
    `VAD_REFERENCE_PERCENTILE`-th percentile power of the frames above `VAD_FLOOR_DBFS` (the
    loudest frames; digital silence does not lower it). Pauses and silence are thus excluded from
    the speech level, so an SNR means the same thing for a clip with long silences as for a dense
    one. A trailing partial frame is judged on its own power. Not ITU-T P.56 (no envelope or
    hangover): a simple, documented stand-in that agrees with it within about 1 dB on speech.
    """
    x = np.asarray(samples, dtype=np.float64)
    frame = max(1, round(VAD_FRAME_S * sample_rate))
    n_frames = math.ceil(len(x) / frame)
    if n_frames == 0:
        return np.zeros(0, dtype=bool)
    padded = np.zeros(n_frames * frame)
    padded[: len(x)] = x
    sums = (padded.reshape(n_frames, frame) ** 2).sum(axis=1)
    counts = np.full(n_frames, frame)
    counts[-1] = len(x) - frame * (n_frames - 1)
    power = sums / counts
    floor = 10 ** (VAD_FLOOR_DBFS / 10)
    audible = power[power > floor]
    if len(audible) == 0:
        return np.zeros(len(x), dtype=bool)
    reference = np.percentile(audible, VAD_REFERENCE_PERCENTILE)
    active = power > max(reference * 10 ** (-VAD_THRESHOLD_DB / 10), floor)
    return np.repeat(active, frame)[: len(x)]


def active_speech_power(samples: np.ndarray, sample_rate: int) -> float:
    """Mean power of the active-speech samples (0.0 if the clip has none)."""
    mask = active_speech_mask(samples, sample_rate)
    if not mask.any():
        return 0.0
    x = np.asarray(samples, dtype=np.float64)[mask]
    return float(np.mean(x * x))


def _snr_db(speech_power: float, noise: np.ndarray) -> float:
    """SNR in dB of an active-speech power over the mean power of a noise signal."""
    noise_power = float(np.mean(np.asarray(noise, dtype=np.float64) ** 2))
    if noise_power == 0.0:
        return math.inf
    return 10 * math.log10(speech_power / noise_power)


# --- noise generation ------------------------------------------------------------------------


def _coloured_noise(n: int, exponent: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian noise with power spectrum ∝ 1/f**exponent (0 white, 1 pink, 2 brown).

    Shaped in the frequency domain (amplitude × f**(-exponent/2)), DC removed, unit variance.
    """
    white = rng.standard_normal(n)
    if exponent == 0 or n < 2:
        return white
    spectrum = np.fft.rfft(white)
    freqs = np.fft.rfftfreq(n)
    scale = np.zeros_like(freqs)
    scale[1:] = freqs[1:] ** (-exponent / 2)
    shaped = np.fft.irfft(spectrum * scale, n)
    return shaped / np.std(shaped)


def _loop_to_length(source: np.ndarray, n: int, start: int) -> np.ndarray:
    """`n` samples of `source` repeated end to end, starting at offset `start`."""
    idx = (np.arange(n) + start) % len(source)
    return source[idx]


def _babble(n: int, sources: Sequence[AudioClip], rng: np.random.Generator) -> np.ndarray:
    """Several other talkers at equal active-speech level, each looped from a random offset."""
    usable = [s for s in sources if len(s.samples) > 0]
    chosen = rng.permutation(len(usable))[:BABBLE_TALKERS]
    mix = np.zeros(n)
    talkers = 0
    for i in sorted(chosen):
        samples = resample(usable[i].samples, usable[i].sample_rate, TARGET_RATE)
        power = active_speech_power(samples, TARGET_RATE)
        if power == 0.0:
            continue
        start = int(rng.integers(len(samples)))
        mix += _loop_to_length(samples.astype(np.float64), n, start) / math.sqrt(power)
        talkers += 1
    if talkers == 0:
        raise ConditionError(
            "noise(kind=babble): none of the babble sources contains speech; pass other "
            "samples' audio in babble_sources"
        )
    return mix


def _noise_file(path: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """The user's noise file at 16 kHz, looped or cut to `n` samples from a seeded offset."""
    noise = load_audio(path).samples.astype(np.float64)
    return _loop_to_length(noise, n, int(rng.integers(len(noise))))


# --- the noise step --------------------------------------------------------------------------


def _apply_noise(x: np.ndarray, params: Mapping[str, Value], ctx: _StepContext) -> _NoiseResult:
    """Add noise scaled so active-speech power / noise power = snr_db, then measure it."""
    kind = params["kind"]
    speech_power = active_speech_power(x, TARGET_RATE)
    if speech_power == 0.0:
        raise ConditionError(
            f"noise(kind={kind}): the clip has no active speech (every 20 ms frame is below "
            f"{VAD_FLOOR_DBFS:.0f} dBFS), so an SNR cannot be set; drop the sample or use gain"
        )
    rng = np.random.default_rng(ctx.seed)
    n = len(x)
    if kind == "babble":
        if len(ctx.babble_sources) < 1:
            raise ConditionError(
                "noise(kind=babble) needs other recordings' speech to mix: a run takes them "
                "from the dataset; for one file pass the dataset it belongs to (--dataset "
                "MANIFEST); a single-recording dataset cannot babble"
            )
        if ctx.original is not None and any(
            np.array_equal(s.samples, ctx.original) for s in ctx.babble_sources
        ):
            raise ConditionError(
                "noise(kind=babble): babble_sources contains the sample itself; pass only "
                "the other samples' speech"
            )
        noise = _babble(n, ctx.babble_sources, rng)
    elif kind == "file":
        noise = _noise_file(str(params["path"]), n, rng)
    else:
        noise = _coloured_noise(n, {"white": 0.0, "pink": 1.0, "brown": 2.0}[kind], rng)
    noise_power = float(np.mean(noise * noise))
    if noise_power == 0.0:
        raise ConditionError(f"noise(kind={kind}): the noise is silent; use a non-silent noise")
    target = speech_power / 10 ** (float(params["snr_db"]) / 10)
    speech = x.astype(np.float64)
    out = np.clip(speech + noise * math.sqrt(target / noise_power), -1.0, 1.0)
    return _NoiseResult(out, _snr_db(speech_power, out - speech))


# --- validation ------------------------------------------------------------------------------


def _noise_file_duration(path: Path) -> float:
    """Duration of a noise file in seconds (header only when libsndfile can read it)."""
    duration = audio_duration(path)
    return duration if duration is not None else load_audio(path).duration_s


def _check_noise(params: Mapping[str, Value]) -> None:
    """kind=file needs a `path`; other kinds must not have one."""
    kind, path = params["kind"], params.get("path")
    if kind != "file" and path is not None:
        raise ConditionError(
            f"noise: path={path!r} is only used with kind=file (got kind={kind}); "
            "add kind=file or drop path"
        )
    if kind == "file" and path is None:
        raise ConditionError("noise(kind=file) needs path=<noise audio file>")


def _check_noise_file(params: Mapping[str, Value]) -> None:
    """kind=file's `path` is an audio file on this machine, at least 1 s long."""
    if params["kind"] != "file":
        return
    p = Path(str(params["path"]))
    if not p.is_file():
        raise ConditionError(f"noise: noise file {str(p)!r} not found; check the path")
    try:
        duration = _noise_file_duration(p)
    except AudioError as err:
        raise ConditionError(f"noise: noise file {str(p)!r} is not usable: {err}") from err
    if duration < MIN_NOISE_FILE_S:
        raise ConditionError(
            f"noise: noise file {str(p)!r} is {duration:.2f} s long; it must be at least "
            f"{MIN_NOISE_FILE_S:.0f} s (use a longer recording of the noise)"
        )
