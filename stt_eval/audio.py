"""Audio in and out: load any common format to mono 16 kHz 16-bit, and write WAV bytes.

libsndfile (soundfile) decodes wav/flac/ogg/opus/mp3/sph in-process; anything else (m4a/AAC,
webm, shorten-compressed sph, …) goes through the static ffmpeg that imageio-ffmpeg ships, piped
straight to raw PCM so no ffprobe (which that package lacks) is ever needed.
"""

from __future__ import annotations

import io
import subprocess
from dataclasses import dataclass
from math import gcd
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

TARGET_RATE = 16_000
"""Every engine gets mono 16 kHz 16-bit PCM: the rate ASR models are trained on."""


class AudioError(Exception):
    """An audio file could not be used; the message names the file and the fix."""

    def __init__(self, path: Path | str, problem: str, fix: str) -> None:
        self.path = str(path)
        self.problem = problem
        self.fix = fix
        super().__init__(f"{path}: {problem} — {fix}")


@dataclass(frozen=True, eq=False)
class AudioClip:
    """Mono float32 samples in [-1, 1] at `sample_rate` Hz."""

    samples: np.ndarray
    sample_rate: int

    def __post_init__(self) -> None:
        if self.samples.ndim != 1:
            raise ValueError(f"AudioClip needs mono samples, got shape {self.samples.shape}")
        if self.sample_rate <= 0:
            raise ValueError(f"AudioClip: sample_rate={self.sample_rate} must be > 0")
        if self.samples.dtype != np.float32:
            object.__setattr__(self, "samples", self.samples.astype(np.float32))

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate

    def slice(self, start_s: float, end_s: float) -> AudioClip:
        """The part of the clip between two times in seconds (a view, no copy)."""
        a = max(0, round(start_s * self.sample_rate))
        b = min(len(self.samples), round(end_s * self.sample_rate))
        return AudioClip(self.samples[a:b], self.sample_rate)

    def to_wav_bytes(self) -> bytes:
        """16-bit PCM WAV bytes: what providers receive and what the cache hashes."""
        buf = io.BytesIO()
        sf.write(buf, to_int16(self.samples), self.sample_rate, format="WAV", subtype="PCM_16")
        return buf.getvalue()


def to_int16(samples: np.ndarray) -> np.ndarray:
    """Float samples to int16 with clipping (the 16-bit step of normalization)."""
    return np.clip(np.round(samples * 32768.0), -32768, 32767).astype(np.int16)


def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary bundled with imageio-ffmpeg (no system ffmpeg needed)."""
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def _check_file(path: Path) -> None:
    if not path.exists():
        raise AudioError(
            path, "file not found", "check the path (manifest paths are relative to the manifest)"
        )
    if path.is_dir():
        raise AudioError(
            path, "is a directory, not an audio file", "point at the audio file itself"
        )
    if path.stat().st_size == 0:
        raise AudioError(path, "file is empty (0 bytes)", "re-export or re-download the recording")


def _read_soundfile(path: Path) -> tuple[np.ndarray, int]:
    data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    return data.mean(axis=1), int(rate)


def _read_ffmpeg(path: Path) -> tuple[np.ndarray, int]:
    cmd = [ffmpeg_exe(), "-nostdin", "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1"]
    cmd += ["-ar", str(TARGET_RATE), "-"]
    proc = subprocess.run(cmd, capture_output=True, check=False)
    if proc.returncode != 0:
        detail = proc.stderr.decode(errors="replace").strip().splitlines()
        reason = detail[-1] if detail else f"ffmpeg exit code {proc.returncode}"
        raise AudioError(
            path,
            f"not a readable audio file ({reason})",
            "check the file is audio and not truncated; re-export it as WAV or FLAC",
        )
    pcm = np.frombuffer(proc.stdout, dtype=np.int16)
    return pcm.astype(np.float32) / 32768.0, TARGET_RATE


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Polyphase resampling (band-limited, exact for rational ratios)."""
    if from_rate == to_rate:
        return samples.astype(np.float32, copy=False)
    g = gcd(from_rate, to_rate)
    return resample_poly(samples, to_rate // g, from_rate // g).astype(np.float32)


def normalize(samples: np.ndarray, sample_rate: int) -> AudioClip:
    """Mono float samples at any rate → the canonical clip: 16 kHz, on the 16-bit grid."""
    out = resample(samples, sample_rate, TARGET_RATE)
    return AudioClip(to_int16(out).astype(np.float32) / 32768.0, TARGET_RATE)


def load_audio(path: Path | str, max_duration_s: float | None = None) -> AudioClip:
    """Load a recording as a normalized clip (mono, 16 kHz, 16-bit).

    Raises AudioError naming the file for missing, empty, truncated, non-audio, silent-length
    or over-long input.
    """
    path = Path(path)
    _check_file(path)
    try:
        samples, rate = _read_soundfile(path)
    except (sf.LibsndfileError, RuntimeError, TypeError):
        samples, rate = _read_ffmpeg(path)
    if len(samples) == 0:
        raise AudioError(
            path, "contains no audio samples", "re-export the recording; it decodes to 0 s"
        )
    duration = len(samples) / rate
    if max_duration_s is not None and duration > max_duration_s:
        raise AudioError(
            path,
            f"is {duration:.0f} s long, over the {max_duration_s:.0f} s per-file cap",
            "raise max_duration_s in the experiment, or split the file",
        )
    return normalize(samples, rate)


def save_wav(clip: AudioClip, path: Path | str) -> Path:
    """Write a clip as 16-bit PCM WAV (to listen to what an engine was given)."""
    path = Path(path)
    path.write_bytes(clip.to_wav_bytes())
    return path
