"""References checked against their recording when a run is planned: speaker turns (RTTM) and
segments (STM) must end within the audio, and the text must be one a person could say in it.

A turn past the end is time no system can be credited for: an RTTM of a longer recording (or of
another one) scored 97.7 % DER with no word. A few tenths of a second past the end is the
annotation tool's rounding or an encoder's padding, so that much is clipped with a warning
naming the file and the overshoot; more is refused, and the sample's cells become failure rows.
A text with more words than anyone says in the audio's length is warned about: it is most
likely the text of another row (a manifest whose columns slipped).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Collection, Sequence
from dataclasses import replace

from stt_eval.datasets.manifest import Manifest, RowProblem
from stt_eval.types import InvalidRecord, Sample, SpeakerSegment, SpeakerTurn

OVERSHOOT_TOLERANCE_S = 0.5
"""Turns or segments ending at most this far past the audio are clipped; further, refused."""


MAX_WORDS_PER_SECOND = 8.0
"""Well above fast speech (4-5 words a second): a reference faster than this is suspect."""


class ReferenceClippedWarning(UserWarning):
    """A reference ran a little past the end of its recording and was clipped to it."""


class ReferenceRateWarning(UserWarning):
    """A reference text has more words than its recording could hold."""


def text_rate_warning(sample: Sample, duration_s: float) -> str | None:
    """A warning when the reference has at least 10 words and more than
    MAX_WORDS_PER_SECOND of them per second of audio; None otherwise (or length unknown)."""
    words = len(sample.text.split())
    if duration_s <= 0 or words < 10 or words <= MAX_WORDS_PER_SECOND * duration_s:
        return None
    return (
        f"{sample.id!r}: the reference has {words} words for {duration_s:.2f} s of audio "
        f"({words / duration_s:.0f} words a second; fast speech is 4-5): is it another "
        "recording's text? check the row's audio and text"
    )


def _clip(
    spans: Sequence[SpeakerTurn | SpeakerSegment], end_s: float
) -> tuple[SpeakerTurn | SpeakerSegment, ...]:
    return tuple(replace(s, end=min(s.end, end_s)) for s in spans if s.start < end_s)


def fit_to_recording(sample: Sample, duration_s: float) -> tuple[Sample, tuple[str, ...]]:
    """The sample with its RTTM turns and STM segments clipped to ``duration_s`` seconds, and
    a warning for each file clipped; InvalidRecord naming the file, its last end, the audio's
    length and the fix when one runs more than OVERSHOOT_TOLERANCE_S past the end."""
    said: list[str] = []
    fitted = sample
    for kind, field in (("rttm", "turns"), ("stm", "segments")):
        spans = getattr(sample, field)
        if not spans or duration_s <= 0:
            continue
        last = max(s.end for s in spans)
        over = last - duration_s
        if over <= 1e-9:
            continue
        where = f"{kind} {sample.meta.get(f'{kind}_path', '')}".strip()
        what = f"{where}: {field} of {sample.id!r} end at {last:g} s, {over:.2f} s after the audio"
        if over > OVERSHOOT_TOLERANCE_S:
            raise InvalidRecord(
                f"{what} ({duration_s:.2f} s long); is it the reference of another recording? "
                "fix its times or the audio path"
            )
        said.append(f"{what}; clipped to the audio's {duration_s:.2f} s")
        fitted = replace(fitted, **{field: _clip(spans, duration_s)})
    return fitted, tuple(said)


def check_references(
    manifest: Manifest, seconds: Callable[[Sample], float], ids: Collection[str]
) -> Manifest:
    """The manifest with the references of the samples in ``ids`` fitted to their audio
    (``seconds(sample)``, 0 when unknown: unchecked); refused samples move to the problems,
    clipped ones and texts too long for their audio warn. Other samples are left as they are
    (a run of a few ids does not decode the whole dataset)."""
    samples: list[Sample] = []
    problems = list(manifest.problems)
    for sample in manifest.samples:
        if sample.id not in ids:
            samples.append(sample)
            continue
        duration = seconds(sample)
        rate = text_rate_warning(sample, duration)
        if rate:
            warnings.warn(f"{manifest.path}: {rate}", ReferenceRateWarning, stacklevel=2)
        try:
            fitted, said = fit_to_recording(sample, duration)
        except InvalidRecord as exc:
            problems.append(RowProblem(manifest.path, None, sample.id, str(exc)))
            continue
        for text in said:
            warnings.warn(text, ReferenceClippedWarning, stacklevel=2)
        samples.append(fitted)
    return replace(manifest, samples=tuple(samples), problems=tuple(problems))
