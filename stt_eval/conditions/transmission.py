"""Channel and level conditions: telephony (band-limit, G.711, packet loss), lossy codecs via
ffmpeg, gain, and resampling.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType

import numpy as np

from stt_eval.audio.load import TARGET_RATE, FfmpegError, resample, run_ffmpeg, to_int16
from stt_eval.conditions.errors import ConditionError
from stt_eval.conditions.g711 import alaw_decode, alaw_encode, ulaw_decode, ulaw_encode
from stt_eval.conditions.step import Value, _fit_length, _StepContext

TELEPHONY_BAND_HZ = (300.0, 3400.0)
"""The narrowband telephone channel (ITU-T G.712)."""
TELEPHONY_FILTER_ORDER = 8
"""Butterworth prototype order per band edge; applied forward and backward (zero phase)."""
TELEPHONY_RATE = 8_000
"""G.711 runs at 8 kHz."""
PACKET_S = 0.02
"""VoIP packet length: 20 ms of audio per RTP packet is the common G.711 packetisation."""

MP3_DELAY_SAMPLES = 1105
"""LAME encoder delay (576) + mp3 decoder delay (529) at the encoding rate: through pipes
ffmpeg cannot write the gapless (LAME) tag, so the decoded audio starts this much late."""

FFMPEG_CODECS = MappingProxyType(
    {
        # format: (encoder, container given to ffmpeg with -f, both ways)
        "mp3": ("libmp3lame", "mp3"),
        "opus": ("libopus", "ogg"),
    }
)
"""How each `codec(format=...)` value maps onto ffmpeg; the container is always explicit."""

_G711 = MappingProxyType({"ulaw": (ulaw_encode, ulaw_decode), "alaw": (alaw_encode, alaw_decode)})


def _telephony(x: np.ndarray, params: Mapping[str, Value], ctx: _StepContext) -> np.ndarray:
    """Narrowband phone line: 300–3400 Hz, 8 kHz G.711, optional 20 ms packet loss, 16 kHz out."""
    from scipy.signal import butter, sosfiltfilt  # ~1 s to import: only when a call is simulated

    sos = butter(
        TELEPHONY_FILTER_ORDER, TELEPHONY_BAND_HZ, btype="bandpass", fs=TARGET_RATE, output="sos"
    )
    padlen = min(3 * (2 * len(sos) + 1), max(len(x) - 1, 0))
    band = sosfiltfilt(sos, x.astype(np.float64), padlen=padlen) if len(x) > 1 else x
    narrow = resample(band.astype(np.float32), TARGET_RATE, TELEPHONY_RATE)
    encode, decode = _G711[str(params["codec"])]
    line = decode(encode(to_int16(narrow))).astype(np.float64) / 32768.0
    loss = float(params["loss"])
    if loss > 0:
        packet = round(PACKET_S * TELEPHONY_RATE)
        n_packets = math.ceil(len(line) / packet)
        lost = np.random.default_rng(ctx.seed).random(n_packets) < loss
        line[np.repeat(lost, packet)[: len(line)]] = 0.0
    wide = resample(line.astype(np.float32), TELEPHONY_RATE, TARGET_RATE)
    return _fit_length(wide, len(x))


def _run_ffmpeg(args: list[str], data: bytes, what: str) -> bytes:
    """Run the bundled ffmpeg on stdin bytes; raise ConditionError with its last error line."""
    try:
        return run_ffmpeg(args, input=data)
    except FfmpegError as err:
        reason = err.last_line or f"exit code {err.returncode}"
        raise ConditionError(f"{what}: ffmpeg failed ({reason})") from err


def _codec(x: np.ndarray, params: Mapping[str, Value], ctx: _StepContext) -> np.ndarray:
    """Lossy round trip through ffmpeg (s16le 16 kHz mono in and out, formats always explicit)."""
    if len(x) == 0:
        return x
    fmt, bitrate = str(params["format"]), str(params["bitrate"])
    encoder, container = FFMPEG_CODECS[fmt]
    what = f"codec(format={fmt}, bitrate={bitrate})"
    raw = ["-f", "s16le", "-ar", str(TARGET_RATE), "-ac", "1"]
    encoded = _run_ffmpeg(
        [*raw, "-i", "pipe:0", "-c:a", encoder, "-b:a", bitrate, "-f", container, "pipe:1"],
        to_int16(x).tobytes(),
        what,
    )
    decoded = _run_ffmpeg(["-f", container, "-i", "pipe:0", *raw, "pipe:1"], encoded, what)
    y = np.frombuffer(decoded, dtype=np.int16).astype(np.float64) / 32768.0
    if fmt == "mp3":
        y = y[MP3_DELAY_SAMPLES:]
    return _fit_length(y, len(x))


def _gain(x: np.ndarray, params: Mapping[str, Value], ctx: _StepContext) -> np.ndarray:
    """Scale by `db` decibels and clip at ±1 (as a too-hot input stage would)."""
    return np.clip(x * 10 ** (float(params["db"]) / 20), -1.0, 1.0)


def _resample_step(x: np.ndarray, params: Mapping[str, Value], ctx: _StepContext) -> np.ndarray:
    """Down to `rate` and back to 16 kHz: removes everything above rate / 2."""
    rate = int(params["rate"])
    low = resample(x.astype(np.float32), TARGET_RATE, rate)
    return _fit_length(resample(low, rate, TARGET_RATE).astype(np.float64), len(x))
