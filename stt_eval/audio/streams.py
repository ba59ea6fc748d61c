"""The speakers of a channel-aware sample heard apart: each channel of a multichannel file, or
each per-speaker track file, as its own normalized mono clip (what ``channel_mode = "split"``
transcribes).

The file is first read exactly as the mix reads it (:func:`~stt_eval.audio.load.audio_warnings`: the
same truncation and damage checks, the same errors); a channel count that does not match the
speakers named, or tracks of different lengths, is an AudioError naming the sample and the fix.
Warnings are per channel (a silent channel); channels that cancel in a downmix are a ``mix``
problem only, so they do not warn here.
"""

from __future__ import annotations

import io
from pathlib import Path

import soundfile as sf

from stt_eval.audio.checks import AudioError
from stt_eval.audio.ffmpeg import FfmpegError, run_ffmpeg
from stt_eval.audio.load import LoadedAudio, audio_warnings, normalize, read_audio
from stt_eval.audio.signal import SignalStats, signal_warnings
from stt_eval.errors import BadInput
from stt_eval.types import Sample

TRACK_LENGTH_TOLERANCE_S = 0.1
"""How much per-speaker tracks may differ in length (export padding) before they are refused:
tracks of one recording must share its timeline, or their words cannot be merged in time."""


def _channels(path: Path) -> tuple[sf.SoundFile, bytes | None]:
    try:
        info = sf.info(str(path))
        if info.format != "MP3":
            return sf.SoundFile(str(path)), None
    except (sf.LibsndfileError, RuntimeError, TypeError):
        pass
    try:  # what libsndfile cannot read: through ffmpeg, channels kept
        out = run_ffmpeg(["-i", str(path), "-f", "wav", "-c:a", "pcm_s16le", "-"], strict=True)
    except FfmpegError as err:
        raise AudioError(
            path, f"cannot be decoded by channel ({err.last_line})", "re-export it as WAV or FLAC"
        ) from err
    return sf.SoundFile(io.BytesIO(out)), out


def read_channels(
    sample: Sample, max_duration_s: float | None = None
) -> tuple[tuple[str, LoadedAudio], ...]:
    """Each channel of ``sample.audio_path`` with the speaker the manifest names for it."""
    path = Path(sample.audio_path)
    audio_warnings(path)  # the mix's checks and errors (truncated, damaged, empty)
    handle, _ = _channels(path)
    with handle as f:
        if f.channels != len(sample.channels):
            raise AudioError(
                path,
                f"has {f.channels} channel(s) but sample {sample.id!r} names "
                f"{len(sample.channels)} speakers {list(sample.channels)}",
                'list one speaker per channel, in channel order, under "channels"',
            )
        if max_duration_s is not None and f.frames / f.samplerate > max_duration_s:
            raise AudioError(
                path,
                f"is {f.frames / f.samplerate:.0f} s long, over the "
                f"{max_duration_s:.0f} s per-file cap",
                "raise max_duration_s",
            )
        data = f.read(dtype="float32", always_2d=True)
        rate = int(f.samplerate)
    out = []
    for k, speaker in enumerate(sample.channels):
        column = data[:, k]
        where = f"{path} channel {k + 1} ({speaker})"
        warnings = signal_warnings(where, SignalStats.of(data[:, k : k + 1]))
        out.append((speaker, LoadedAudio(normalize(column, rate), warnings)))
    return tuple(out)


def read_tracks(
    sample: Sample, max_duration_s: float | None = None
) -> tuple[tuple[str, LoadedAudio], ...]:
    """Each per-speaker track of a sample, loaded as the mix would load it; tracks whose lengths
    differ by more than TRACK_LENGTH_TOLERANCE_S are an AudioError listing every length."""
    loaded = tuple((spk, read_audio(p, max_duration_s)) for spk, p in sample.tracks)
    lengths = [a.clip.duration_s for _, a in loaded]
    if lengths and max(lengths) - min(lengths) > TRACK_LENGTH_TOLERANCE_S:
        listed = ", ".join(
            f"{spk}: {Path(p).name} {n:.2f} s"
            for (spk, p), n in zip(sample.tracks, lengths, strict=True)
        )
        raise AudioError(
            sample.tracks[0][1],
            f"sample {sample.id!r} has tracks of different lengths "
            f"({listed}); they must share one timeline",
            "export every track from the same start to the same end (pad the shorter with silence)",
        )
    return loaded


def read_streams(
    sample: Sample, max_duration_s: float | None = None
) -> tuple[tuple[str, LoadedAudio], ...]:
    """The speaker streams of a channel-aware sample (its channels, else its tracks)."""
    if sample.channels:
        return read_channels(sample, max_duration_s)
    if sample.tracks:
        return read_tracks(sample, max_duration_s)
    raise BadInput(f"sample {sample.id!r} has neither channels nor tracks to split")
