"""Whether the audio that decodes is something an engine can be fairly scored on (what the file's
header promises is :mod:`stt_eval.audio.checks`' concern).

- :class:`SignalStats` and :func:`signal_warnings`: audio that decodes fine yet is not what the
  engine should hear. These are warnings, not errors: the row is still scored, and says why its
  number may be meaningless.

  * channels that cancel in the mono downmix (one channel phase-inverted: the average of the
    channels is near silence, so every reference word becomes a deletion);
  * digital silence (every sample is 0 at 16 bits);
  * samples beyond full scale (a float file not scaled to [-1, 1]: clipped, so distorted).
- :class:`Unreadable`: NaN or infinite samples are an :class:`AudioError` naming how many and
  where, not "digital silence" or "beyond full scale".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from stt_eval.audio.checks import AudioError

if TYPE_CHECKING:
    import numpy as np

DOWNMIX_ENERGY_FLOOR = 0.10
"""Warn when the mono downmix keeps less than this share of the channels' mean energy. Identical
channels keep 100 %, unrelated ones ~50 %, one silent channel 50 %; only channels that cancel
(one the other's negative, fully or mostly) fall below 10 %."""

SILENT_PEAK = 0.5 / 32768
"""A peak below half a 16-bit step: every sample rounds to 0 when the clip is made 16-bit."""

FULL_SCALE = 1.0
"""Samples beyond ±1 (possible only in float files) are clipped when the clip is made 16-bit."""


@dataclass(frozen=True)
class Unreadable:
    """Samples that are not numbers (NaN, ±Inf: a float file written from a failed
    computation), counted over a file read in blocks, with the time of the first; adds."""

    nan: int = 0
    inf: int = 0
    first_s: float | None = None

    @classmethod
    def of(cls, frames: np.ndarray, start_s: float = 0.0, rate: int = 1) -> Unreadable:
        """The non-finite samples of a (frames, channels) block that starts at ``start_s``."""
        import numpy as np

        finite = np.isfinite(frames)
        if finite.all():
            return cls()
        rows = ~finite.reshape(len(frames), -1).all(axis=1)
        nan = int(np.isnan(frames).sum())
        return cls(nan, int((~finite).sum()) - nan, start_s + int(np.argmax(rows)) / rate)

    def __add__(self, other: Unreadable) -> Unreadable:
        if not isinstance(other, Unreadable):
            return NotImplemented
        first = self.first_s if self.first_s is not None else other.first_s
        return Unreadable(self.nan + other.nan, self.inf + other.inf, first)

    def check(self, path: Path | str) -> None:
        """AudioError naming how many samples are NaN or infinite and where the first is: they
        have no loudness, so they are neither silence nor clipping."""
        if self.first_s is None:
            return
        kinds = [f"{n} {what}" for n, what in ((self.nan, "NaN"), (self.inf, "infinite")) if n]
        raise AudioError(
            path,
            f"holds samples that are not numbers ({' and '.join(kinds)}; the first at "
            f"{self.first_s:.3f} s), which no engine can hear",
            "re-export the recording from its source (a float file written from a failed "
            "computation holds NaN)",
        )


@dataclass(frozen=True)
class SignalStats:
    """Energy of each channel and of their mean (the mono downmix), the peak and the samples
    that are not numbers; adds with ``+`` so a file read in blocks is judged as a whole."""

    channel_energy: tuple[float, ...]
    downmix_energy: float
    peak: float
    unreadable: Unreadable = Unreadable()

    @classmethod
    def of(cls, frames: np.ndarray, start_s: float = 0.0, rate: int = 1) -> SignalStats:
        """Stats of a (frames, channels) block of float samples starting at ``start_s``."""
        import numpy as np  # on first use: importing the module costs no numpy

        data = np.asarray(frames, dtype=np.float64)
        if data.ndim == 1:
            data = data[:, None]
        mono = data.mean(axis=1)
        return cls(
            tuple(float(e) for e in np.einsum("ij,ij->j", data, data)),
            float(mono @ mono),
            float(np.abs(data).max()) if data.size else 0.0,
            Unreadable.of(frames, start_s, rate),
        )

    def __add__(self, other: SignalStats) -> SignalStats:
        if not isinstance(other, SignalStats):
            return NotImplemented
        if len(self.channel_energy) != len(other.channel_energy):
            raise ValueError("SignalStats of different channel counts cannot be added")
        return SignalStats(
            tuple(a + b for a, b in zip(self.channel_energy, other.channel_energy, strict=True)),
            self.downmix_energy + other.downmix_energy,
            max(self.peak, other.peak),
            self.unreadable + other.unreadable,
        )

    @property
    def downmix_share(self) -> float | None:
        """Downmix energy over the channels' mean energy (1.0 for identical channels); None for
        mono or all-silent audio."""
        mean = sum(self.channel_energy) / len(self.channel_energy)
        if len(self.channel_energy) < 2 or mean <= 0:
            return None
        return self.downmix_energy / mean


def signal_warnings(path: Path | str, stats: SignalStats) -> tuple[str, ...]:
    """Warnings (``"<file>: problem — fix"``) for audio that decodes but cannot be scored fairly:
    digital silence, channels that cancel in the downmix, samples beyond full scale."""
    out = []
    share = stats.downmix_share
    if stats.peak < SILENT_PEAK:
        out.append(
            f"{path}: is digital silence (every sample is 0 at 16 bits), so every reference word "
            "will count as a deletion — check the recording and its export"
        )
    elif share is not None and share < DOWNMIX_ENERGY_FLOOR:
        out.append(
            f"{path}: its {len(stats.channel_energy)} channels cancel when averaged to mono (the "
            f"downmix keeps {100 * share:.1f} % of the channels' mean energy, under "
            f"{100 * DOWNMIX_ENERGY_FLOOR:.0f} %), so the engine hears near-silence — one channel "
            "is probably phase-inverted: invert it, keep one channel "
            "(ffmpeg -i in.wav -af pan=mono|c0=c0 out.wav), or name each channel's speaker "
            '("channels" in the manifest) and transcribe them apart (channel_mode = "split")'
        )
    if stats.peak > FULL_SCALE:
        out.append(
            f"{path}: samples reach {stats.peak:.2f}× full scale (a float file not scaled to "
            "[-1, 1]); they are clipped to ±1, which distorts the speech — rescale the file so "
            "its peak is below 1.0"
        )
    return tuple(out)
