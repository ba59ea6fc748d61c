"""Audio: every common format, any rate and channel count → mono 16 kHz; windows read from disk;
the ffmpeg runner; bad files → AudioError."""

from __future__ import annotations

import io
import subprocess

import numpy as np
import pytest
import soundfile as sf

from stt_eval.audio.load import (
    TARGET_RATE,
    AudioClip,
    AudioError,
    FfmpegError,
    audio_duration,
    ffmpeg_exe,
    load_audio,
    open_audio,
    run_ffmpeg,
    to_int16,
)
from stt_eval.chunking import plan_windows

from .conftest import SAMPLE

JFK = SAMPLE / "audio" / "whisper_jfk.flac"  # 44.1 kHz stereo, 11.0 s
LONGFORM = SAMPLE / "audio" / "longform_en.flac"  # 16 kHz, 199 s


@pytest.fixture(scope="module")
def jfk_ref() -> np.ndarray:
    return load_audio(JFK).samples


def _envelope(x: np.ndarray) -> np.ndarray:
    return np.sqrt((x.reshape(-1, 160) ** 2).mean(axis=1))


def _encode(src, dst, *args):
    subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-v", "error", "-y", "-i", str(src), *args, str(dst)], check=True
    )
    return dst


@pytest.mark.parametrize(
    "suffix,args",
    [
        (".wav", ["-ar", "8000", "-ac", "2"]),
        (".mp3", ["-b:a", "64k"]),
        (".m4a", ["-c:a", "aac", "-b:a", "96k"]),
        (".ogg", ["-c:a", "libvorbis"]),
        (".opus", ["-c:a", "libopus", "-b:a", "48k"]),
        (".flac", ["-ar", "22050"]),
    ],
)
def test_formats_decode_to_mono_16k_with_same_duration(tmp_path, jfk_ref, suffix, args):
    path = _encode(JFK, tmp_path / f"jfk{suffix}", *args)
    clip = load_audio(path)
    assert clip.sample_rate == TARGET_RATE
    assert clip.samples.ndim == 1 and clip.samples.dtype == np.float32
    assert abs(clip.duration_s - 11.0) < 0.08  # codec priming/padding only
    # the same speech: the 10 ms loudness envelopes of decoded and original audio correlate
    n = min(len(clip.samples), len(jfk_ref)) // 160 * 160
    assert np.corrcoef(_envelope(clip.samples[:n]), _envelope(jfk_ref[:n]))[0, 1] > 0.95


def test_sphere_file_is_read(tmp_path, jfk_ref):
    path = tmp_path / "jfk.sph"
    sf.write(path, to_int16(jfk_ref), TARGET_RATE, format="NIST", subtype="PCM_16")
    assert np.array_equal(to_int16(load_audio(path).samples), to_int16(jfk_ref))


def test_stereo_is_averaged_and_rate_converted(tmp_path):
    t = np.arange(48000) / 48000
    left, right = 0.5 * np.sin(2 * np.pi * 440 * t), np.zeros_like(t)
    sf.write(tmp_path / "st.wav", np.stack([left, right], axis=1), 48000)
    clip = load_audio(tmp_path / "st.wav")
    assert len(clip.samples) == 16000
    assert np.max(np.abs(clip.samples[100:-100])) == pytest.approx(0.25, abs=0.01)


def test_wav_bytes_roundtrip_is_16_bit_pcm(jfk_ref):
    clip = AudioClip(jfk_ref, TARGET_RATE)
    data, rate = sf.read(io.BytesIO(clip.to_wav_bytes()), dtype="int16")
    info = sf.info(io.BytesIO(clip.to_wav_bytes()))
    assert (rate, info.subtype, info.channels) == (16000, "PCM_16", 1)
    assert np.array_equal(data, to_int16(jfk_ref))


def _bad_file(kind: str, d):
    path = (
        d
        / {
            "missing": "missing.wav",
            "empty": "empty.wav",
            "text": "notes.wav",
            "truncated": "cut.flac",
        }[kind]
    )
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("these are my meeting notes, not audio\n" * 20)
    elif kind == "truncated":
        path.write_bytes(JFK.read_bytes()[:200])
    return path


@pytest.mark.parametrize(
    "kind,needle",
    [
        ("missing", "file not found"),
        ("empty", "file is empty"),
        ("text", "not a readable audio file"),
        ("truncated", "not a readable audio file"),
    ],
)
def test_bad_files_raise_one_error_naming_the_file(tmp_path, kind, needle):
    path = _bad_file(kind, tmp_path)
    with pytest.raises(AudioError) as err:
        load_audio(path)
    assert str(path) in str(err.value) and needle in str(err.value)
    assert " — " in str(err.value)  # the fix follows the problem


def test_over_long_file_is_refused_with_the_cap_named():
    with pytest.raises(AudioError, match="over the 5 s per-file cap"):
        load_audio(JFK, max_duration_s=5)


def test_slice_is_in_seconds(jfk_ref):
    clip = AudioClip(jfk_ref, TARGET_RATE)
    part = clip.slice(1.0, 2.5)
    assert len(part.samples) == 24000
    assert np.array_equal(part.samples, jfk_ref[16000:40000])


# ----------------------------------------------------------------------------- windows from disk


def test_audio_file_reads_each_window(tmp_path):
    rate = 8000
    samples = (np.arange(rate * 10) % 200 / 200 - 0.5).astype(np.float32) * 0.5
    path = tmp_path / "tone.wav"
    sf.write(path, np.stack([samples, samples], axis=1), rate, subtype="PCM_16")
    with open_audio(path) as audio:
        assert audio.duration_s == 10.0
        for chunk in plan_windows(audio.duration_s, 4.0, 1.0):
            clip = audio.read(chunk.offset_s, chunk.end_s)
            assert clip.sample_rate == 16000
            assert len(clip.samples) == pytest.approx(chunk.duration_s * 16000, abs=2)


def test_audio_file_windows_equal_whole_file_slices_at_16k():
    # sample-exact: streamed and in-memory chunked transcription must see the same audio
    whole = load_audio(LONGFORM)
    with open_audio(LONGFORM) as audio:
        assert audio.duration_s == whole.duration_s
        real = plan_windows(audio.duration_s, 30.0, 2.0)
        for chunk in real[-2:]:  # the last one is shorter
            clip = audio.read(chunk.offset_s, chunk.end_s)
            expect = whole.slice(chunk.offset_s, chunk.end_s).samples
            assert len(clip.samples) == len(expect)
            assert np.array_equal(clip.samples, expect)
        assert len(audio.read(whole.duration_s - 1.0, whole.duration_s + 5.0).samples) == 16000
        assert len(audio.read(5.0, 5.0).samples) == 0


def test_audio_file_decodes_other_formats_with_ffmpeg(tmp_path):
    wav, m4a = tmp_path / "tone.wav", tmp_path / "tone.m4a"
    t = np.arange(16000 * 6) / 16000
    sf.write(wav, (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 16000)
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(wav), "-c:a", "aac", str(m4a)], check=True
    )
    assert audio_duration(wav) == 6.0
    assert audio_duration(m4a) is None  # libsndfile cannot read the header
    with open_audio(m4a) as audio:
        assert audio.duration_s == load_audio(m4a).duration_s  # counted by decoding once
        windows = plan_windows(6.0, 4.0, 1.0)
        for chunk in windows:
            clip = audio.read(chunk.offset_s, chunk.end_s)
            assert abs(len(clip.samples) / 16000 - chunk.duration_s) < 0.05
            assert 0.15 < float(np.sqrt(np.mean(clip.samples**2))) < 0.25  # the tone, not silence


@pytest.mark.parametrize(("kind", "needle"), [("missing", "file not found"), ("empty", "empty")])
def test_open_audio_refuses_bad_paths_like_load_audio(tmp_path, kind, needle):
    path = _bad_file(kind, tmp_path)
    with pytest.raises(AudioError, match=needle):
        open_audio(path)


def test_audio_file_window_decode_failure_names_the_window(tmp_path):
    path = _bad_file("text", tmp_path)
    with open_audio(path) as audio, pytest.raises(AudioError) as err:
        audio.read(2.0, 4.0)
    assert str(path) in str(err.value) and "window at 2s could not be decoded" in str(err.value)


def test_run_ffmpeg_returns_stdout_and_raises_with_the_last_error_line():
    pcm = to_int16(np.zeros(1600, dtype=np.float32)).tobytes()
    raw = ["-f", "s16le", "-ar", "16000", "-ac", "1"]
    out = run_ffmpeg([*raw, "-i", "pipe:0", *raw, "pipe:1"], input=pcm)
    assert out == pcm
    with pytest.raises(FfmpegError) as err:
        run_ffmpeg(["-i", "/nonexistent/audio.wav", "-f", "null", "-"])
    assert err.value.returncode != 0
    assert err.value.last_line and "No such file" in err.value.last_line
