"""Audio loading: every common format, any rate and channel count → mono 16 kHz; bad files → AudioError."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
import soundfile as sf

from stt_eval.audio import TARGET_RATE, AudioClip, AudioError, ffmpeg_exe, load_audio, to_int16

from .conftest import SAMPLE

JFK = SAMPLE / "audio" / "whisper_jfk.flac"  # 44.1 kHz stereo, 11.0 s


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
    import io

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
