"""Audio in and out: load any common format to mono 16 kHz 16-bit, read windows of a recording
on disk, write WAV bytes.

libsndfile (soundfile) decodes wav/flac/ogg/opus/sph in-process; anything else (mp3, m4a/AAC,
webm, shorten-compressed sph, …) goes through the bundled ffmpeg (:mod:`stt_eval.audio.ffmpeg`, whose
names are re-exported here), piped straight to PCM so no ffprobe is ever needed.

Reading is strict, because a decoder's leniency becomes a plausible wrong number: a file that
holds less audio than its header promises, or that a decoder only partly understands, is an
AudioError, never scored on the part that decodes (see :mod:`stt_eval.audio.checks`). MP3 is
always decoded by ffmpeg: libsndfile stops an untagged VBR MP3 at a length guessed from its first
frame. Audio that decodes but is not fairly scorable (digital silence, channels that cancel in
the mono downmix, float samples beyond full scale) is kept and comes with warnings:
:func:`read_audio` returns them with the clip, :func:`audio_warnings` scans a file on disk.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from math import gcd
from pathlib import Path
from types import TracebackType
from typing import cast

import numpy as np
import soundfile as sf

from stt_eval.audio.checks import TRUNCATED_FIX, AudioError, check_file, mpeg_length_tagged
from stt_eval.audio.ffmpeg import FfmpegError, run_ffmpeg
from stt_eval.audio.ffmpeg import ffmpeg_exe as ffmpeg_exe  # re-exported
from stt_eval.audio.signal import SignalStats, signal_warnings

TARGET_RATE = 16_000
"""Every engine gets mono 16 kHz 16-bit PCM: the rate ASR models are trained on."""

LENGTH_TOLERANCE_S = 0.05
"""How much shorter than its header promises a compressed file may decode (codec priming and
padding are counted differently by decoders) before it counts as truncated."""

BLOCK_FRAMES = 1 << 20
"""Frames decoded at a time, so the float copies made for the downmix and its checks stay small."""


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


_SOUNDFILE_CANNOT = (sf.LibsndfileError, RuntimeError, TypeError)
"""What soundfile raises for a file libsndfile cannot decode (then ffmpeg takes over)."""


def _libsndfile_info(path: Path) -> sf._SoundFileInfo | None:
    """libsndfile's view of the header, or None when it cannot read the file."""
    try:
        return sf.info(str(path))
    except _SOUNDFILE_CANNOT:
        return None


_MPEG = "MP3"
"""soundfile's name of the MPEG audio container (MP3, and layers I and II)."""


def _libsndfile_decodes(info: sf._SoundFileInfo | None) -> bool:
    """Whether libsndfile decodes this file; never MPEG, whose untagged VBR length it guesses."""
    return info is not None and info.format != _MPEG


def _ffmpeg_failure(path: Path, err: FfmpegError, problem: str, fix: str) -> AudioError:
    if err.returncode == 0:  # strict: ffmpeg decoded only part of it
        return AudioError(
            path,
            f"is damaged: ffmpeg reported an error while decoding it ({err.last_line})",
            "copy or export the recording again (the decoder skipped or lost part of it)",
        )
    reason = err.last_line or f"ffmpeg exit code {err.returncode}"
    return AudioError(path, f"{problem} ({reason})", fix)


def _decode_ffmpeg(
    path: Path,
    problem: str,
    fix: str,
    start_s: float | None = None,
    duration_s: float | None = None,
) -> np.ndarray:
    """Decode a file (or ``duration_s`` from ``start_s``, an input seek) with ffmpeg straight to
    mono 16 kHz float samples on the 16-bit grid; a failure is an AudioError(problem, fix), and
    so is an error ffmpeg reports while still exiting 0 (damaged data)."""
    seek = ["-ss", f"{start_s:.6f}"] if start_s is not None else []
    length = ["-t", f"{duration_s:.6f}"] if duration_s is not None else []
    args = [*seek, "-i", str(path), *length, "-f", "s16le", "-ac", "1", "-ar", str(TARGET_RATE)]
    try:
        out = run_ffmpeg([*args, "-"], strict=True)
    except FfmpegError as err:
        raise _ffmpeg_failure(path, err, problem, fix) from err
    return np.frombuffer(out, dtype=np.int16).astype(np.float32) / 32768.0


_UNREADABLE = (
    "not a readable audio file",
    "check the file is audio and not truncated; re-export it as WAV or FLAC",
)
"""AudioError problem and fix when ffmpeg cannot decode a whole file either."""


@dataclass(frozen=True, eq=False)
class _Decoded:
    """A whole file decoded: mono samples (None when not kept), rate, frames, channel stats."""

    mono: np.ndarray | None
    rate: int
    frames: int
    stats: SignalStats


def _downmix(f: sf.SoundFile, path: Path, keep: bool = True) -> _Decoded:
    """Read an open file to the end in blocks: its mono downmix (the mean of the channels, kept
    if ``keep``) and the stats of its channels. A read that fails part-way is an AudioError
    saying where decoding stopped."""
    mono = np.empty(f.frames, dtype=np.float32) if keep else None
    stats = SignalStats((0.0,) * f.channels, 0.0, 0.0)
    n = 0
    try:
        for block in f.blocks(BLOCK_FRAMES, dtype="float32", always_2d=True):
            stats += SignalStats.of(block, n / f.samplerate, int(f.samplerate))
            if mono is not None:
                mono[n : n + len(block)] = block.mean(axis=1)
            n += len(block)
    except _SOUNDFILE_CANNOT as exc:
        raise AudioError(
            path,
            f"is damaged or truncated: decoding fails after {n / f.samplerate:.2f} s of the "
            f"{f.frames / f.samplerate:.2f} s its header promises ({exc})",
            TRUNCATED_FIX,
        ) from None
    stats.unreadable.check(path)
    return _Decoded(mono[:n] if mono is not None else None, int(f.samplerate), n, stats)


def _decode_libsndfile(path: Path, keep: bool) -> _Decoded | None:
    """Decode with libsndfile, or None when it cannot open the file."""
    try:
        handle = sf.SoundFile(str(path))
    except _SOUNDFILE_CANNOT:
        return None
    with handle:
        return _downmix(handle, path, keep)


def _decode_with_ffmpeg(path: Path, keep: bool) -> _Decoded:
    """Decode with ffmpeg to 16 kHz 16-bit WAV, channels kept (so the downmix is checked)."""
    wav = ["-f", "wav", "-c:a", "pcm_s16le", "-ar", str(TARGET_RATE), "-"]
    try:
        out = run_ffmpeg(["-i", str(path), *wav], strict=True)
    except FfmpegError as err:
        raise _ffmpeg_failure(path, err, *_UNREADABLE) from err
    with sf.SoundFile(io.BytesIO(out)) as handle:
        return _downmix(handle, path, keep)


def _decode(path: Path, keep: bool = True) -> _Decoded:
    """Decode a whole file after checking its header (:func:`~stt_eval.audio.checks.check_file`).

    libsndfile decodes what it can; anything else, and MP3, goes through ffmpeg, channels kept,
    so both paths downmix and check alike. Audio shorter than its header promises (libsndfile's
    reading of it; for MP3 only a Xing/Info/VBRI count) is an AudioError.
    """
    check_file(path)
    info = _libsndfile_info(path)
    decoded = _decode_libsndfile(path, keep) if _libsndfile_decodes(info) else None
    promised = info.duration if info is not None else None
    if decoded is None:
        if info is not None and info.format == _MPEG and not mpeg_length_tagged(path):
            promised = None
        decoded = _decode_with_ffmpeg(path, keep)
    got = decoded.frames / decoded.rate
    if promised is not None and got < promised - LENGTH_TOLERANCE_S:
        raise AudioError(
            path,
            f"is truncated: its header promises {promised:.2f} s of audio but only {got:.2f} s "
            "decodes",
            TRUNCATED_FIX,
        )
    if decoded.frames == 0:
        raise AudioError(
            path, "contains no audio samples", "re-export the recording; it decodes to 0 s"
        )
    return decoded


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Polyphase resampling (band-limited, exact for rational ratios)."""
    if from_rate == to_rate:
        return samples.astype(np.float32, copy=False)
    from scipy.signal import resample_poly  # ~1 s to import: only when a rate changes

    g = gcd(from_rate, to_rate)
    return resample_poly(samples, to_rate // g, from_rate // g).astype(np.float32)


def normalize(samples: np.ndarray, sample_rate: int) -> AudioClip:
    """Mono float samples at any rate → the canonical clip: 16 kHz, on the 16-bit grid."""
    out = resample(samples, sample_rate, TARGET_RATE)
    return AudioClip(to_int16(out).astype(np.float32) / 32768.0, TARGET_RATE)


@dataclass(frozen=True, eq=False)
class LoadedAudio:
    """A recording loaded as a normalized clip, with warnings about its source: audio that
    decodes but may not be fairly scorable (see :func:`~stt_eval.audio.signal.signal_warnings`).
    Each warning reads ``"<file>: problem — fix"``; a row that carries one is still scored."""

    clip: AudioClip
    warnings: tuple[str, ...] = ()


def read_audio(path: Path | str, max_duration_s: float | None = None) -> LoadedAudio:
    """Load a recording as a normalized clip (mono, 16 kHz, 16-bit) and its warnings.

    Raises AudioError naming the file for missing, empty, truncated (shorter than its header
    promises), damaged, non-audio, zero-length or over-long input. Warns (in the result) for
    digital silence, channels that cancel in the mono downmix, and float samples past full scale.
    """
    path = Path(path)
    decoded = _decode(path)
    duration = decoded.frames / decoded.rate
    if max_duration_s is not None and duration > max_duration_s:
        raise AudioError(
            path,
            f"is {duration:.0f} s long, over the {max_duration_s:.0f} s per-file cap",
            "raise max_duration_s in the experiment, or split the file",
        )
    mono = cast(np.ndarray, decoded.mono)  # kept: keep=True is _decode's default
    return LoadedAudio(normalize(mono, decoded.rate), signal_warnings(path, decoded.stats))


def load_audio(path: Path | str, max_duration_s: float | None = None) -> AudioClip:
    """The clip of :func:`read_audio` (its warnings dropped): same checks, same errors."""
    return read_audio(path, max_duration_s).clip


def audio_warnings(path: Path | str) -> tuple[str, ...]:
    """Scan a whole recording once, in blocks (memory does not grow with its length), and
    return the warnings :func:`read_audio` would give. Raises the same AudioErrors, so a long
    recording that will be streamed window by window is refused before any window is sent."""
    path = Path(path)
    return signal_warnings(path, _decode(path, keep=False).stats)


def save_wav(clip: AudioClip, path: Path | str) -> Path:
    """Write a clip as 16-bit PCM WAV (to listen to what an engine was given)."""
    path = Path(path)
    path.write_bytes(clip.to_wav_bytes())
    return path


def audio_duration(path: Path | str) -> float | None:
    """Length in seconds from the file's header, or None when libsndfile cannot read it (m4a, …)
    or only guesses it (MP3).

    Cheap: nothing is decoded, and nothing is checked (a truncated file is refused when it is
    read). None means "ask ``AudioFile.duration_s``", which decodes.
    """
    info = _libsndfile_info(Path(path))
    return float(info.duration) if _libsndfile_decodes(info) else None


class AudioFile:
    """A recording on disk, open for reading windows of it one at a time.

    Memory stays at one window however long the recording is: libsndfile formats are read
    with ``seek``/``read`` of just the window's frames; anything else (m4a, …) goes through the
    bundled ffmpeg with an input seek per window. Each window is normalized on its own, so for
    16 kHz input ``read(a, b)`` equals ``load_audio(path).slice(a, b)`` sample for sample, while
    a file at another rate may differ from whole-file resampling by a few samples at the edges.

    A window that cannot be read whole (the file ends before its header says) is an AudioError,
    never a shorter clip. Not a frozen record: it holds an open file handle. Use it as a
    context manager (or call ``close``)::

        with open_audio(path) as audio:
            clip = audio.read(28.0, 58.0)
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        check_file(self.path)
        self._handle: sf.SoundFile | None = None
        if _libsndfile_decodes(_libsndfile_info(self.path)):
            try:
                self._handle = sf.SoundFile(str(self.path))
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
        try:
            f.seek(a)
            data = f.read(b - a, dtype="float32", always_2d=True)
        except _SOUNDFILE_CANNOT as exc:
            data, reason = np.zeros((0, 1), np.float32), f" ({exc})"
        else:
            reason = ""
        if len(data) < b - a:
            raise AudioError(
                self.path,
                f"is damaged or truncated: the window at {start_s:g}s stops after "
                f"{(a + len(data)) / f.samplerate:.2f} s of the {self.duration_s:.2f} s its "
                f"header promises{reason}",
                TRUNCATED_FIX,
            )
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
    missing, empty or directory path, or a WAV/AIFF that holds less than its header promises.
    A file that fails later (a FLAC cut short) raises AudioError from the window that fails."""
    return AudioFile(path)
