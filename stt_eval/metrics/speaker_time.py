"""Speaker time of many files' diarizations in one numpy pass: what DER and JER are made of.

Every file's reference and hypothesis turns, scoring regions and collar zones become events on
one time line sorted by (file, time). Between two neighbouring events nothing changes, so each
such elementary segment has a number of reference and hypothesis speakers and lies inside or
outside two regions: the *mapping* region (the UEM, less reference overlap with
``skip_overlap``) where speakers are paired as md-eval pairs them, before collars, and the
*scored* region (the mapping region less the collars) where errors count::

    time (s)     0    1    2    3    4    5    6
    ref          AAAAAAAAAAAAAA BBBBBBBBB             boundaries at 0, 2.8, 3, 4.8
    hyp          xxxxxxxxxx yyyyyyyyyyyyyyyyy
    segments     |    |    |  ||    |   |             one per pair of neighbouring events
    per segment  n_ref, n_hyp, in mapping region, in scored region, duration

Per file this gives the scored reference speech and its missed, false-alarm and paired
(``min(n_ref, n_hyp)``) seconds; per (reference, hypothesis) speaker pair the seconds both
speak in each region, from which :mod:`stt_eval.metrics.diarization` finds the mapping.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from stt_eval.metrics.intervals import Region
from stt_eval.types import SpeakerTurn

_REF, _HYP, _UEM, _COLLAR = range(4)

DUST = 1e-6
"""Seconds below which a piece of time is float dust (``3.1 + 0.5 - 3.6``), not speech: pyannote
drops pieces this short, and scores are rounded to microseconds."""


@dataclass(frozen=True)
class FileTurns:
    """One file's input: reference turns as written (collars go around them), reference and
    hypothesis turns merged per speaker, and the (start, end) regions to score."""

    ref_written: Sequence[SpeakerTurn]
    ref: Sequence[SpeakerTurn]
    hyp: Sequence[SpeakerTurn]
    regions: Sequence[Region]


@dataclass(frozen=True)
class SpeakerTime:
    """Seconds of one file. Speakers are sorted by label; ``*_mapping`` is in the mapping
    region, ``*_scored`` in the scored region; ``both_*[r, h]`` is the time reference speaker
    ``r`` and hypothesis speaker ``h`` speak together."""

    total: float  # reference speaker-seconds scored (two speakers at once count twice)
    missed: float
    false_alarm: float
    paired: float  # sum of min(n_ref, n_hyp): what correct and confused speech share
    ref_labels: tuple[str, ...]
    hyp_labels: tuple[str, ...]
    ref_mapping: np.ndarray
    hyp_mapping: np.ndarray
    ref_scored: np.ndarray
    hyp_scored: np.ndarray
    both_mapping: np.ndarray
    both_scored: np.ndarray
    scored_region: tuple[Region, ...]


def speaker_time(
    files: Sequence[FileTurns], collar: float = 0.0, skip_overlap: bool = False
) -> list[SpeakerTime]:
    """:class:`SpeakerTime` of each file; ``collar`` seconds each side of every written
    reference boundary are left out of the scored region."""
    starts: list[float] = []
    ends: list[float] = []
    file_of: list[int] = []
    kinds: list[int] = []
    speaker_of: list[int] = []
    labels: list[tuple[tuple[str, ...], tuple[str, ...]]] = []
    n_ref = n_hyp = 0

    def add(f: int, kind: int, spans, speakers=None) -> None:
        for i, (start, end) in enumerate(spans):
            starts.append(start)
            ends.append(end)
            file_of.append(f)
            kinds.append(kind)
            speaker_of.append(-1 if speakers is None else speakers[i])

    for f, item in enumerate(files):
        ref_labels = tuple(sorted({t.speaker for t in item.ref}))
        hyp_labels = tuple(sorted({t.speaker for t in item.hyp}))
        labels.append((ref_labels, hyp_labels))
        rid = {s: n_ref + i for i, s in enumerate(ref_labels)}
        hid = {s: n_hyp + i for i, s in enumerate(hyp_labels)}
        n_ref, n_hyp = n_ref + len(ref_labels), n_hyp + len(hyp_labels)
        add(f, _REF, [(t.start, t.end) for t in item.ref], [rid[t.speaker] for t in item.ref])
        add(f, _HYP, [(t.start, t.end) for t in item.hyp], [hid[t.speaker] for t in item.hyp])
        add(f, _UEM, item.regions)
        if collar > 0:
            written = [t for t in item.ref_written if t.end > t.start]
            bounds = [b for t in written for b in (t.start, t.end)]
            add(f, _COLLAR, [(b - collar, b + collar) for b in bounds])

    sweep = _Sweep(
        np.array(starts, dtype=float),
        np.array(ends, dtype=float),
        np.array(file_of, dtype=np.int64),
        np.array(kinds, dtype=np.int64),
        np.array(speaker_of, dtype=np.int64),
        len(files),
        skip_overlap,
    )
    return sweep.per_file(labels, n_ref, n_hyp)


class _Sweep:
    """The sorted events of all files and the state of each elementary segment."""

    def __init__(self, start, end, file, kind, speaker, n_files: int, skip_overlap: bool):
        n = len(start)
        self.n_files, self.kind, self.speaker = n_files, kind, speaker
        times = np.concatenate([start, end])
        files = np.concatenate([file, file])
        sign = np.concatenate([np.ones(n, np.int64), -np.ones(n, np.int64)])
        order = np.lexsort((times, files))  # stable: a start sorts before an end at one time
        self.time, self.file = times[order], files[order]
        position = np.empty_like(order)
        position[order] = np.arange(2 * n)
        self.first, self.last = position[:n], position[n:]  # an interval's events
        # segment k runs from event k to event k + 1 of the same file
        same_file = np.append(self.file[1:] == self.file[:-1], False)
        self.duration = np.where(same_file, np.diff(self.time, append=0.0), 0.0)
        kinds, signs = np.concatenate([kind, kind])[order], sign[order]
        count = [np.cumsum(np.where(kinds == k, signs, 0)) for k in range(4)]
        self.n_ref, self.n_hyp = count[_REF], count[_HYP]
        self.in_mapping = count[_UEM] > 0
        if skip_overlap:
            self.in_mapping &= self.n_ref < 2
        self.in_scored = self.in_mapping & (count[_COLLAR] == 0)

    def _by_file(self, weights: np.ndarray) -> np.ndarray:
        return np.bincount(self.file, weights=weights, minlength=self.n_files)

    def _members(self, kind: int) -> tuple[np.ndarray, np.ndarray]:
        """(segment, speaker) of every segment a turn of `kind` covers in the mapping region."""
        chosen = self.kind == kind
        first, last, speaker = self.first[chosen], self.last[chosen], self.speaker[chosen]
        lengths = last - first
        offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        segment = np.repeat(first, lengths) + offsets
        keep = self.in_mapping[segment] & (self.duration[segment] > 0)
        return segment[keep], np.repeat(speaker, lengths)[keep]

    def _regions(self) -> list[list[Region]]:
        """Each file's scored region as sorted, merged (start, end) pairs."""
        timed = np.flatnonzero(self.duration > 0)
        scored, file = self.in_scored[timed], self.file[timed]
        begins = scored & ~np.concatenate([[False], scored[:-1] & (file[1:] == file[:-1])])
        stops = scored & ~np.concatenate([scored[1:] & (file[1:] == file[:-1]), [False]])
        lows, highs = self.time[timed[begins]], self.time[timed[stops] + 1]
        real = highs - lows > DUST
        lows, highs, file = lows[real].tolist(), highs[real].tolist(), file[begins][real]
        cuts = np.searchsorted(file, np.arange(self.n_files + 1)).tolist()
        return [list(zip(lows[a:b], highs[a:b])) for a, b in zip(cuts, cuts[1:])]

    def _pairs(self, ref, hyp, n_hyp: int) -> tuple[np.ndarray, np.ndarray]:
        """Sorted keys ``ref * n_hyp + hyp`` of the speaker pairs that share a segment, and
        the segments they share (one entry per pair and segment)."""
        (ref_seg, ref_spk), (hyp_seg, hyp_spk) = ref, hyp
        hyp_spk = hyp_spk[np.argsort(hyp_seg, kind="stable")]
        per_segment = np.bincount(hyp_seg, minlength=len(self.time))
        first = np.cumsum(per_segment) - per_segment  # a segment's first hyp speaker, sorted
        repeat = per_segment[ref_seg]
        ramp = np.arange(repeat.sum()) - np.repeat(np.cumsum(repeat) - repeat, repeat)
        pair_hyp = hyp_spk[np.repeat(first[ref_seg], repeat) + ramp]
        return np.repeat(ref_spk, repeat) * n_hyp + pair_hyp, np.repeat(ref_seg, repeat)

    def per_file(self, labels, n_ref: int, n_hyp: int) -> list[SpeakerTime]:
        scored = self.duration * self.in_scored
        n_r, n_h = self.n_ref, self.n_hyp
        parts = (n_r, np.maximum(n_r - n_h, 0), np.maximum(n_h - n_r, 0), np.minimum(n_r, n_h))
        sums = [self._by_file(scored * x).tolist() for x in parts]
        ref, hyp = self._members(_REF), self._members(_HYP)
        alone = [
            np.bincount(spk, weights=w[seg], minlength=n)
            for (seg, spk), n in ((ref, n_ref), (hyp, n_hyp))
            for w in (self.duration, scored)
        ]
        key, segment = self._pairs(ref, hyp, max(n_hyp, 1))
        keys, inverse = np.unique(key, return_inverse=True)
        both = [
            np.bincount(inverse, weights=w[segment], minlength=len(keys))
            for w in (self.duration, scored)
        ]
        key_ref, key_hyp = keys // max(n_hyp, 1), keys % max(n_hyp, 1)
        ref_base = np.cumsum([0] + [len(r) for r, _ in labels])
        hyp_base = np.cumsum([0] + [len(h) for _, h in labels])
        cut = np.searchsorted(key_ref, ref_base)
        regions = self._regions()
        out = []
        for f, (ref_labels, hyp_labels) in enumerate(labels):
            r0, r1, h0, h1, lo, hi = *ref_base[f : f + 2], *hyp_base[f : f + 2], *cut[f : f + 2]
            matrices = []
            for values in both:
                m = np.zeros((len(ref_labels), len(hyp_labels)))
                m[key_ref[lo:hi] - r0, key_hyp[lo:hi] - h0] = values[lo:hi]
                matrices.append(m)
            out.append(
                SpeakerTime(
                    *(part[f] for part in sums),
                    ref_labels,
                    hyp_labels,
                    alone[0][r0:r1],
                    alone[2][h0:h1],
                    alone[1][r0:r1],
                    alone[3][h0:h1],
                    *matrices,
                    tuple(regions[f]),
                )
            )
        return out
