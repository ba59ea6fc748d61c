"""Diarization error rate (DER), its components in seconds, and JER, as md-eval and
pyannote.metrics compute them, from one numpy pass over all files (:mod:`.speaker_time`).

DER = (missed + false alarm + confusion) / total reference speech, all in seconds of the scored
region, with the optimal (Hungarian) one-to-one mapping of hypothesis to reference speakers
found as md-eval finds it: on the scored region BEFORE collars are cut out (pyannote maps after,
which differs when a reference speaker is split: md-eval 27.15 % where pyannote says 24.97 %).
Components are kept as seconds in :class:`DERCounts`, which add, so a corpus DER is pooled
(``sum(counts).der``), never an average of per-file rates.

Collar. stt-eval's ``collar`` is md-eval's (``md-eval.pl -c``) and dscore's: the seconds left
unscored on EACH side of every reference turn boundary. pyannote.metrics' ``collar`` is the TOTAL
width of that zone, so stt-eval's ``collar`` is pyannote's ``collar / 2``::

    time (s)        9.5      9.75     10.0     10.25    10.5
    reference       AAAAAAAAAAAAAAAAAA|BBBBBBBBBBBBBBBBBBB        boundary at 10.0
    collar=0.25     ..........[xxxxxxxxxxxxxxxxxx]........        [9.75, 10.25] not scored
    pyannote        collar=0.5 (total width, centred on 10.0)     the same zone

Scoring region. With ``uem=None`` the region is :data:`DEFAULT_SCORING_REGION`, md-eval's own
default (``md-eval.pl`` without ``-u`` builds its UEM with ``uem_from_rttm`` over the reference):
from the start of the first to the end of the last reference turn. Hypothesis speech before the
first or after the last reference turn is therefore not scored; pass a UEM covering the whole
recording to count it as false alarm::

    time (s)    0    2              6         9
    reference        AAAAAAAAAAAAAAA
    hypothesis            xxxxxxxxxxxxxxxxxxxx
    scored           [=============]             6-9 s of x is outside: not a false alarm

Reference without speech. DER's denominator is then 0: ``DERCounts.der`` is NaN (and the score
says why in ``reason``), while false-alarm seconds are still counted so pooled DER includes them.

JER comes as pyannote.metrics' components in :class:`JERCounts` (the summed Jaccard errors of the
reference speakers, paired as pyannote pairs them, and their number), which add like DERCounts: a
corpus JER is ``sum(jer_counts).jer`` (pyannote's ``abs(JaccardErrorRate())``), not a mean.

Merging. Overlapping or touching turns of one speaker are merged (:mod:`.intervals`) before
scoring, so an overlap is not counted twice; collars go around the reference turns as given, as
md-eval and pyannote put them: touching turns of one speaker keep their boundary's collar.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import TYPE_CHECKING

from stt_eval.errors import BadArgument, BadInput
from stt_eval.metrics.intervals import Region, merge_regions, merge_turns
from stt_eval.types import SpeakerTurn

if TYPE_CHECKING:  # numpy comes with scoring: `stt-eval score` reads DEFAULT_COLLAR only
    import numpy as np

    from stt_eval.metrics.speaker_time import SpeakerTime

DEFAULT_COLLAR = 0.25
"""The collar runs and commands use unless told otherwise: md-eval's ``-c 0.25`` (seconds on each
side of a reference boundary), the usual value. :func:`score_diarization` itself defaults to 0."""

DEFAULT_SCORING_REGION = (
    "no UEM given: as md-eval.pl without -u, from the start of the first to the end of the last "
    "reference turn (hypothesis speech outside that span is not scored)"
)
"""What is scored when no UEM is given; printed by reports next to DER."""

UNDEFINED_REASON = "reference has no speech in the scored region, so DER is undefined (0/0)"


@dataclass(frozen=True)
class DERCounts:
    """Seconds of missed speech, false alarm, speaker confusion and reference speech; adds.

    >>> a = DERCounts(missed_s=1.0, total_s=10.0)
    >>> b = DERCounts(confusion_s=3.0, total_s=30.0)
    >>> sum([a, b]).der  # pooled: 4 s of error over 40 s, not the mean of 10 % and 10 %
    0.1
    """

    missed_s: float = 0.0
    false_alarm_s: float = 0.0
    confusion_s: float = 0.0
    total_s: float = 0.0

    def __post_init__(self) -> None:
        for name in ("missed_s", "false_alarm_s", "confusion_s", "total_s"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ValueError(f"DERCounts: {name}={value!r} must be a finite number >= 0")
            object.__setattr__(self, name, float(value))

    def __add__(self, other: DERCounts) -> DERCounts:
        if not isinstance(other, DERCounts):
            return NotImplemented
        return DERCounts(
            self.missed_s + other.missed_s,
            self.false_alarm_s + other.false_alarm_s,
            self.confusion_s + other.confusion_s,
            self.total_s + other.total_s,
        )

    def __radd__(self, other: object) -> DERCounts:
        if other == 0:  # sum() starts from 0
            return self
        return NotImplemented

    @property
    def error_s(self) -> float:
        return self.missed_s + self.false_alarm_s + self.confusion_s

    def _share(self, seconds: float) -> float:
        return seconds / self.total_s if self.total_s > 0 else math.nan

    @property
    def der(self) -> float:
        """(missed + false alarm + confusion) / reference speech; NaN when there is none."""
        return self._share(self.error_s)

    @property
    def missed_rate(self) -> float:
        """DER's missed-speech part: missed / reference speech (the three parts add up to DER)."""
        return self._share(self.missed_s)

    @property
    def false_alarm_rate(self) -> float:
        return self._share(self.false_alarm_s)

    @property
    def confusion_rate(self) -> float:
        return self._share(self.confusion_s)


@dataclass(frozen=True)
class JERCounts:
    """pyannote.metrics' JER components: reference speakers' summed Jaccard errors and their
    number; adds.

    ``jer = speaker_error / speakers``. Pooled over files this is what pyannote's own
    ``abs(JaccardErrorRate())`` reports (errors summed / speakers summed): every reference speaker
    weighs the same, whichever file it is in; it is not the mean of per-file JERs.

    >>> a = JERCounts(speaker_error=0.5, speakers=1)  # one speaker, half wrong: JER 50 %
    >>> b = JERCounts(speaker_error=0.3, speakers=3)  # three speakers: JER 10 %
    >>> round(sum([a, b]).jer, 9)  # 0.8 / 4, not (50 % + 10 %) / 2
    0.2
    """

    speaker_error: float = 0.0
    speakers: int = 0

    def __post_init__(self) -> None:
        n, e = self.speakers, self.speaker_error
        if isinstance(n, bool) or not isinstance(n, Integral) or n < 0:
            raise ValueError(f"JERCounts: speakers={n!r} must be an int >= 0")
        # each speaker's Jaccard error is in [0, 1] (the slack absorbs float dust)
        if not isinstance(e, Real) or not 0 <= e <= n + 1e-9 * max(1, n):
            raise ValueError(
                f"JERCounts: speaker_error={e!r} must be between 0 and speakers={n} "
                "(the sum of per-speaker Jaccard errors, each at most 1)"
            )
        object.__setattr__(self, "speakers", int(n))
        object.__setattr__(self, "speaker_error", float(e))

    def __add__(self, other: JERCounts) -> JERCounts:
        if not isinstance(other, JERCounts):
            return NotImplemented
        return JERCounts(self.speaker_error + other.speaker_error, self.speakers + other.speakers)

    def __radd__(self, other: object) -> JERCounts:
        if other == 0:  # sum() starts from 0
            return self
        return NotImplemented

    @property
    def jer(self) -> float:
        """Summed speaker errors / reference speakers; NaN when there is no reference speaker."""
        return self.speaker_error / self.speakers if self.speakers > 0 else math.nan


@dataclass(frozen=True)
class SpeakerScore:
    """How one reference speaker fared: its mapped hypothesis speaker and Jaccard error.

    ``jer = 1 - overlap_s / (speech_s + hyp_s - overlap_s)`` (1.0 when unmapped); the mean over
    reference speakers is the file's JER.
    """

    speaker: str
    hyp_speaker: str | None
    speech_s: float
    hyp_s: float
    overlap_s: float

    @property
    def jer(self) -> float:
        if self.hyp_speaker is None:
            return 1.0
        union = self.speech_s + self.hyp_s - self.overlap_s
        return 1.0 - self.overlap_s / union if union > 0 else 1.0


@dataclass(frozen=True)
class DiarizationScore:
    """DER and JER components of one file, per-speaker detail and the region that was scored."""

    counts: DERCounts
    jer_counts: JERCounts = JERCounts()
    per_speaker: tuple[SpeakerScore, ...] = ()
    mapping: Mapping[str, str] = field(default_factory=dict)
    scored_region: tuple[Region, ...] = ()
    reason: str | None = None

    @property
    def der(self) -> float:
        return self.counts.der

    @property
    def jer(self) -> float:
        return self.jer_counts.jer


@dataclass(frozen=True)
class FileScores:
    """Scores by file id and their pooled counts, so callers never add them up themselves.

    ``total.der`` is seconds of error over seconds of reference speech across all files;
    ``jer_total.jer`` is summed speaker errors over summed reference speakers (pyannote's
    ``abs(JaccardErrorRate())`` over the same files).
    """

    per_file: dict[str, DiarizationScore]

    @property
    def total(self) -> DERCounts:
        return sum((s.counts for s in self.per_file.values()), DERCounts())

    @property
    def jer_total(self) -> JERCounts:
        return sum((s.jer_counts for s in self.per_file.values()), JERCounts())


def default_uem(
    ref_turns: Iterable[SpeakerTurn], hyp_turns: Iterable[SpeakerTurn]
) -> tuple[Region, ...]:
    """:data:`DEFAULT_SCORING_REGION`: ``((first ref start, last ref end),)``; ``()`` without
    reference turns. `hyp_turns` is accepted for symmetry but does not move the region."""
    ref = list(ref_turns)
    if not ref:
        return ()
    start, end = min(t.start for t in ref), max(t.end for t in ref)
    return ((float(start), float(end)),) if end > start else ()


def _check_args(collar: float, uem: Sequence[Region] | None) -> None:
    if not isinstance(collar, (int, float)) or not math.isfinite(collar) or collar < 0:
        why = "md-eval's convention: seconds on each side of a boundary; 0.25 is the usual value"
        raise BadArgument("collar", f"collar={collar!r} must be >= 0 seconds", why)
    for region in uem or ():
        if len(region) != 2 or not region[1] > region[0] >= 0:
            raise ValueError(
                f"uem region {region!r} must be (start, end) with 0 <= start < end seconds"
            )


def score_diarization(
    ref_turns: Sequence[SpeakerTurn],
    hyp_turns: Sequence[SpeakerTurn],
    collar: float = 0.0,
    skip_overlap: bool = False,
    uem: Sequence[Region] | None = None,
) -> DiarizationScore:
    """Score one file's hypothesis speaker turns against its reference turns.

    `collar` is md-eval's (seconds each side of each reference boundary); `skip_overlap` leaves
    reference overlap unscored; `uem` is the (start, end) regions to score, ``None`` meaning
    :data:`DEFAULT_SCORING_REGION`. A hypothesis with no turns is all missed speech; a
    reference with no speech gives NaN DER and JER with the reason in ``.reason``.
    """
    (score,) = _score_all([(ref_turns, hyp_turns, uem)], collar, skip_overlap)
    return score


def _score_all(
    files: Sequence[tuple[Sequence[SpeakerTurn], Sequence[SpeakerTurn], Sequence[Region] | None]],
    collar: float,
    skip_overlap: bool,
) -> list[DiarizationScore]:
    """Every file's score from one pass over all their turns."""
    from stt_eval.metrics.speaker_time import FileTurns, speaker_time

    inputs = []
    for ref_turns, hyp_turns, uem in files:
        _check_args(collar, uem)
        ref = merge_turns(ref_turns)
        regions = merge_regions(uem) if uem is not None else default_uem(ref, ())
        inputs.append(FileTurns(tuple(ref_turns), ref, merge_turns(hyp_turns), regions))
    return [_score(t) for t in speaker_time(inputs, collar=collar, skip_overlap=skip_overlap)]


def _score(t: SpeakerTime) -> DiarizationScore:
    from stt_eval.metrics.assignment import pair_speakers, present

    # md-eval's mapping: hypothesis x reference time in the region before collars
    mapped = pair_speakers(t.both_mapping.T, present(t.hyp_mapping), present(t.ref_mapping))
    correct = sum(t.both_scored[r, h] for h, r in mapped)
    counts = DERCounts(
        missed_s=_clean(t.missed),
        false_alarm_s=_clean(t.false_alarm),
        confusion_s=_clean(t.paired - correct),
        total_s=_clean(t.total),
    )
    if counts.total_s == 0:
        return DiarizationScore(counts, scored_region=t.scored_region, reason=UNDEFINED_REASON)
    mapping = {t.hyp_labels[h]: t.ref_labels[r] for h, r in mapped}
    return DiarizationScore(
        counts=counts,
        jer_counts=_jer(t),
        per_speaker=_per_speaker(t, {r: h for h, r in mapped}, present(t.ref_scored)),
        mapping=mapping,
        scored_region=t.scored_region,
    )


def _jer(t: SpeakerTime) -> JERCounts:
    """pyannote's JER: its own pairing, in the scored region; per reference speaker
    (false alarm + miss) / union with its partner, 1 without one. pyannote renames reference
    speakers A, B, … and hypothesis speakers 0, 1, … and sorts the names as text (``"10"`` before
    ``"2"``): that order breaks ties."""
    from stt_eval.metrics.assignment import pair_speakers, present, pyannote_label

    ref, hyp = present(t.ref_scored), present(t.hyp_scored)
    ref = ref[sorted(range(len(ref)), key=pyannote_label)]
    hyp = hyp[sorted(range(len(hyp)), key=str)]
    partner = dict(pair_speakers(t.both_scored, ref, hyp))
    error = 0.0
    for r in ref.tolist():
        h = partner.get(r)
        if h is None:
            error += 1.0
            continue
        ref_s, hyp_s, both = t.ref_scored[r], t.hyp_scored[h], t.both_scored[r, h]
        error += ((hyp_s - both) + (ref_s - both)) / (ref_s + hyp_s - both)
    return JERCounts(speaker_error=float(error), speakers=len(ref))


def _clean(x: float) -> float:
    """Round float dust (1e-15 negatives from interval arithmetic) to microseconds."""
    return max(0.0, round(float(x), 6))


def _per_speaker(t: SpeakerTime, partner: Mapping[int, int], ref: np.ndarray) -> tuple:
    """Each scored reference speaker, its md-eval partner and their seconds."""
    out = []
    for r in ref.tolist():
        h = partner.get(r)
        both = (t.hyp_scored[h], t.both_scored[r, h]) if h is not None else (0.0, 0.0)
        hyp = None if h is None else t.hyp_labels[h]
        out.append(SpeakerScore(t.ref_labels[r], hyp, *map(_clean, (t.ref_scored[r], *both))))
    return tuple(out)


def score_files(
    ref_by_file: Mapping[str, Sequence[SpeakerTurn]],
    hyp_by_file: Mapping[str, Sequence[SpeakerTurn]],
    collar: float = 0.0,
    skip_overlap: bool = False,
    uem_by_file: Mapping[str, Sequence[Region]] | None = None,
) -> FileScores:
    """:func:`score_diarization` for every reference file (missing hypothesis = all missed),
    with the pooled DER and JER counts in ``.total`` and ``.jer_total``.

    A hypothesis file with no reference raises, since it would otherwise be silently ignored.
    """
    extra = sorted(set(hyp_by_file) - set(ref_by_file))
    if extra:
        raise BadInput(
            f"hypothesis has file id(s) {extra[:5]} with no reference; "
            "fix the ids or add reference turns"
        )
    order = sorted(ref_by_file)
    scores = _score_all(
        [
            (
                ref_by_file[fid],
                hyp_by_file.get(fid, ()),
                None if uem_by_file is None else uem_by_file.get(fid),
            )
            for fid in order
        ],
        collar,
        skip_overlap,
    )
    return FileScores(dict(zip(order, scores)))
