"""G.711 companding: µ-law and A-law, int16 linear PCM ↔ uint8 codes (nothing else)."""

from __future__ import annotations

import numpy as np

__all__ = ["alaw_decode", "alaw_encode", "ulaw_decode", "ulaw_encode"]

_ULAW_SEG_END = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF])
_ALAW_SEG_END = np.array([0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF])


def ulaw_encode(pcm: np.ndarray) -> np.ndarray:
    """G.711 µ-law: int16 linear PCM → uint8 codes (segment/mantissa, as in the ITU/Sun code).

    >>> ulaw_decode(ulaw_encode(np.array([0, 1000, -1000, 32767], dtype=np.int16))).tolist()
    [0, 988, -988, 32124]
    """
    x = np.asarray(pcm, dtype=np.int32) >> 2  # µ-law works on 14 bits
    mask = np.where(x < 0, 0x7F, 0xFF)
    x = np.minimum(np.abs(x), 8159) + 33  # clip, then add the bias (0x84 >> 2)
    seg = np.searchsorted(_ULAW_SEG_END, x, side="left")
    code = np.where(seg >= 8, 0x7F, (np.minimum(seg, 7) << 4) | ((x >> (seg + 1)) & 0x0F))
    return (code ^ mask).astype(np.uint8)


def ulaw_decode(codes: np.ndarray) -> np.ndarray:
    """G.711 µ-law: uint8 codes → int16 linear PCM."""
    u = ~np.asarray(codes, dtype=np.int32) & 0xFF
    t = (((u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4)
    return np.where(u & 0x80, 0x84 - t, t - 0x84).astype(np.int16)


def alaw_encode(pcm: np.ndarray) -> np.ndarray:
    """G.711 A-law: int16 linear PCM → uint8 codes (segment/mantissa, as in the ITU/Sun code).

    >>> alaw_decode(alaw_encode(np.array([0, 1000, -1000, 32767], dtype=np.int16))).tolist()
    [8, 1008, -1008, 32256]
    """
    x = np.asarray(pcm, dtype=np.int32) >> 3  # A-law works on 13 bits
    negative = x < 0
    mask = np.where(negative, 0x55, 0xD5)
    x = np.where(negative, -x - 1, x)
    seg = np.searchsorted(_ALAW_SEG_END, x, side="left")
    shift = np.where(seg < 2, 1, seg)
    code = np.where(seg >= 8, 0x7F, (np.minimum(seg, 7) << 4) | ((x >> shift) & 0x0F))
    return (code ^ mask).astype(np.uint8)


def alaw_decode(codes: np.ndarray) -> np.ndarray:
    """G.711 A-law: uint8 codes → int16 linear PCM."""
    a = np.asarray(codes, dtype=np.int32) ^ 0x55
    t = a & 0x0F
    seg = (a & 0x70) >> 4
    mag = np.where(seg > 0, (2 * t + 1 + 32) << (seg + 2), (2 * t + 1) << 3)
    return np.where(a & 0x80, mag, -mag).astype(np.int16)
