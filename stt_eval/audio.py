"""Audio in and out: load any common format to mono 16 kHz 16-bit, read windows of a recording
on disk, write WAV bytes, and run the bundled ffmpeg.

libsndfile (soundfile) decodes wav/flac/ogg/opus/mp3/sph in-process; anything else (m4a/AAC,
webm, shorten-compressed sph, …) goes through the static ffmpeg that imageio-ffmpeg ships, piped
straight to raw PCM so no ffprobe (which that package lacks) is ever needed. ``run_ffmpeg`` is
the one place the package starts ffmpeg (decoding here, the codec condition in ``conditions``).
"""

from __future__ import annotations

import io
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from math import gcd
from pathlib import Path
from types import TracebackType

import imageio_ffmpeg
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
    return imageio_ffmpeg.get_ffmpeg_exe()


class FfmpegError(RuntimeError):
    """ffmpeg exited non-zero. Callers turn it into their own error (AudioError, ConditionError)
    with ``last_line``, ffmpeg's own last word on what went wrong."""

    def __init__(self, returncode: int, stderr: str) -> None:
        self.returncode = returncode
        self.stderr = stderr
        lines = stderr.strip().splitlines()
        self.last_line: str | None = lines[-1] if lines else None
        super().__init__(f"ffmpeg failed ({self.last_line or f'exit code {returncode}'})")


def run_ffmpeg(args: Sequence[str], *, input: bytes | None = None) -> bytes:
    """Run the bundled ffmpeg on ``args`` (``input`` fed to stdin) and return what it wrote to
    stdout.

    Always quiet and non-interactive (``-nostdin -v error``), so stderr holds only errors; a
    non-zero exit raises FfmpegError carrying that stderr.
    """
    cmd = [ffmpeg_exe(), "-nostdin", "-v", "error", *args]
    proc = subprocess.run(cmd, input=input, capture_output=True, check=False)
    if proc.returncode != 0:
        raise FfmpegError(proc.returncode, proc.stderr.decode(errors="replace"))
    return proc.stdout


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


_SOUNDFILE_CANNOT = (sf.LibsndfileError, RuntimeError, TypeError)
"""What soundfile raises for a file libsndfile cannot decode (then ffmpeg takes over)."""


def _read_soundfile(path: Path) -> tuple[np.ndarray, int]:
    data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    return data.mean(axis=1), int(rate)


def _decode_ffmpeg(
    path: Path,
    problem: str,
    fix: str,
    start_s: float | None = None,
    duration_s: float | None = None,
) -> np.ndarray:
    """Decode a file (or ``duration_s`` from ``start_s``, an input seek) with ffmpeg straight to
    mono 16 kHz float samples on the 16-bit grid; a failure is an AudioError(problem, fix)."""
    seek = ["-ss", f"{start_s:.6f}"] if start_s is not None else []
    length = ["-t", f"{duration_s:.6f}"] if duration_s is not None else []
    args = [*seek, "-i", str(path), *length, "-f", "s16le", "-ac", "1", "-ar", str(TARGET_RATE)]
    try:
        out = run_ffmpeg([*args, "-"])
    except FfmpegError as err:
        reason = err.last_line or f"ffmpeg exit code {err.returncode}"
        raise AudioError(path, f"{problem} ({reason})", fix) from err
    return np.frombuffer(out, dtype=np.int16).astype(np.float32) / 32768.0


_UNREADABLE = (
    "not a readable audio file",
    "check the file is audio and not truncated; re-export it as WAV or FLAC",
)
"""AudioError problem and fix when ffmpeg cannot decode a whole file either."""


def _read_ffmpeg(path: Path) -> tuple[np.ndarray, int]:
    return _decode_ffmpeg(path, *_UNREADABLE), TARGET_RATE


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
    except _SOUNDFILE_CANNOT:
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


def audio_duration(path: Path | str) -> float | None:
    """Length in seconds from the file's header, or None when libsndfile cannot read it (m4a, …).

    Cheap: nothing is decoded. None means "ask ``AudioFile.duration_s``", which decodes.
    """
    try:
        return float(sf.info(str(path)).duration)
    except _SOUNDFILE_CANNOT:
        return None


class AudioFile:
    """A recording on disk, open for reading windows of it one at a time.

    Memory stays at one window however long the recording is: libsndfile formats are read
    with ``seek``/``read`` of just the window's frames; anything else (m4a, …) goes through the
    bundled ffmpeg with an input seek per window. Each window is normalized on its own, so for
    16 kHz input ``read(a, b)`` equals ``load_audio(path).slice(a, b)`` sample for sample, while
    a file at another rate may differ from whole-file resampling by a few samples at the edges.

    Not a frozen record: it holds an open file handle. Use it as a context manager (or call
    ``close``)::

        with open_audio(path) as audio:
            clip = audio.read(28.0, 58.0)
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        _check_file(self.path)
        try:
            self._handle: sf.SoundFile | None = sf.SoundFile(str(self.path))
        except _SOUNDFILE_CANNOT:
            self._handle = None
        self._ffmpeg_samples: int | None = None

    @property
    def duration_s(self) -> float:
        """Length in seconds. From the header for libsndfile formats; otherwise the whole file
        is decoded once with ffmpeg to count its samples (exact, as ``load_audio`` would give;
        transiently ~115 MB per hour of audio)."""
        if self._handle is not None:
            return self._handle.frames / self._handle.samplerate
        if self._ffmpeg_samples is None:
            self._ffmpeg_samples = len(_decode_ffmpeg(self.path, *_UNREADABLE))
        return self._ffmpeg_samples / TARGET_RATE

    def read(self, start_s: float, end_s: float) -> AudioClip:
        """The normalized clip (mono, 16 kHz, 16-bit) of [start_s, end_s), clipped to the file."""
        if self._handle is None:
            start_s = max(0.0, start_s)
            samples = _decode_ffmpeg(
                self.path,
                f"window at {start_s:g}s could not be decoded",
                "re-export the recording as WAV or FLAC",
                start_s,
                max(0.0, end_s - start_s),
            )
            return AudioClip(samples, TARGET_RATE)
        f = self._handle
        a = min(f.frames, max(0, round(start_s * f.samplerate)))
        b = max(a, min(f.frames, round(end_s * f.samplerate)))
        f.seek(a)
        data = f.read(b - a, dtype="float32", always_2d=True)
        return normalize(data.mean(axis=1), f.samplerate)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()

    def __enter__(self) -> AudioFile:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_audio(path: Path | str) -> AudioFile:
    """Open a recording on disk for reading windows (see ``AudioFile``); raises AudioError for a
    missing, empty or directory path."""
    return AudioFile(path)
