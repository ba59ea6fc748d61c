"""Speaker-attributed WER: cpWER (concatenated minimum-permutation WER) via meeteval.

cpWER concatenates each speaker's words in time order on both sides, tries every one-to-one
mapping of hypothesis speakers to reference speakers, and keeps the mapping with the fewest word
errors. A word said by the right person but attributed to another hypothesis speaker counts as a
deletion (on the true speaker's stream) plus an insertion (on the other), so cpWER >= WER and the
gap measures diarization's cost to the transcript. Speaker labels themselves never matter: any
renaming of hypothesis speakers gives the same cpWER.

Both sides are normalized with :func:`stt_eval.normalization.rules.normalize_text` before scoring:
reference segment by segment, hypothesis in runs of consecutive words of one speaker (so
multi-word rules such as "twenty five" -> "25" see the words together).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from stt_eval.normalization.rules import DEFAULT_PRESET, check_preset, normalize_text
from stt_eval.types import Word

SESSION = "session"


class SpeakerText(Protocol):
    """Anything with a speaker and text (e.g. ``SpeakerSegment``); start/end are used when present."""

    speaker: str
    text: str


@dataclass(frozen=True)
class CpWERCounts:
    """Word errors under the best speaker mapping, and reference words; adds with ``+``.

    ``assignment`` (reference speaker, hypothesis speaker) pairs are informational and are not
    kept when counts are added.
    """

    errors: int = 0
    ref_words: int = 0
    substitutions: int = 0
    deletions: int = 0
    insertions: int = 0
    missed_speakers: int = 0
    falarm_speakers: int = 0
    scored_speakers: int = 0
    assignment: tuple[tuple[str | None, str | None], ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        for name in (
            "errors",
            "ref_words",
            "substitutions",
            "deletions",
            "insertions",
            "missed_speakers",
            "falarm_speakers",
            "scored_speakers",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"CpWERCounts: {name}={value!r} must be an int >= 0")
        if self.errors != self.substitutions + self.deletions + self.insertions:
            raise ValueError(
                f"CpWERCounts: errors={self.errors} must equal substitutions+deletions+"
                f"insertions={self.substitutions + self.deletions + self.insertions}"
            )

    def __add__(self, other: CpWERCounts) -> CpWERCounts:
        if not isinstance(other, CpWERCounts):
            return NotImplemented
        return CpWERCounts(
            self.errors + other.errors,
            self.ref_words + other.ref_words,
            self.substitutions + other.substitutions,
            self.deletions + other.deletions,
            self.insertions + other.insertions,
            self.missed_speakers + other.missed_speakers,
            self.falarm_speakers + other.falarm_speakers,
            self.scored_speakers + other.scored_speakers,
        )

    def __radd__(self, other: object) -> CpWERCounts:
        if other == 0:
            return self
        return NotImplemented

    @property
    def cpwer(self) -> float:
        """errors / reference words (NaN when the reference has no words)."""
        return self.errors / self.ref_words if self.ref_words else float("nan")


def _hyp_runs(hyp_words: Sequence[Word]) -> list[tuple[str, float, float, list[str]]]:
    """Consecutive (in time) words of one speaker as (speaker, start, end, texts) runs."""
    runs: list[tuple[str, float, float, list[str]]] = []
    for i, w in enumerate(sorted(hyp_words, key=lambda w: (w.start, w.end))):
        if w.speaker is None or not str(w.speaker).strip():
            raise ValueError(
                f"hypothesis word {i} ({w.text!r} at {w.start:.2f}s) has no speaker; run a "
                "diarizer and stt_eval.diarizers.assign_speakers first, or score plain WER"
            )
        speaker = str(w.speaker)
        if runs and runs[-1][0] == speaker:
            s, start, _end, texts = runs[-1]
            runs[-1] = (s, start, max(_end, w.end), [*texts, w.text])
        else:
            runs.append((speaker, w.start, w.end, [w.text]))
    return runs


def cpwer(
    ref_segments: Sequence[SpeakerText],
    hyp_words: Sequence[Word],
    normalizer: str = DEFAULT_PRESET,
    language: str = "en",
) -> CpWERCounts:
    """cpWER counts of one recording: speaker-attributed reference segments vs speaker words.

    Every hypothesis word needs a speaker (``ValueError`` naming the word otherwise). An empty
    hypothesis is all deletions.
    """
    from meeteval.io import SegLST
    from meeteval.wer import cpwer as meeteval_cpwer

    check_preset(normalizer)
    ref = []
    for i, seg in enumerate(ref_segments):
        if not str(getattr(seg, "speaker", "") or "").strip():
            raise ValueError(f"reference segment {i} has no speaker; cpWER needs one per segment")
        start = float(getattr(seg, "start", i))
        ref.append(
            {
                "session_id": SESSION,
                "speaker": str(seg.speaker),
                "words": normalize_text(seg.text, normalizer, language),
                "start_time": start,
                "end_time": float(getattr(seg, "end", start)),
            }
        )
    hyp = [
        {
            "session_id": SESSION,
            "speaker": speaker,
            "words": normalize_text(" ".join(texts), normalizer, language),
            "start_time": start,
            "end_time": end,
        }
        for speaker, start, end, texts in _hyp_runs(hyp_words)
    ]
    if not ref:
        n = sum(len(h["words"].split()) for h in hyp)
        speakers = len({h["speaker"] for h in hyp if h["words"]})
        return CpWERCounts(errors=n, insertions=n, falarm_speakers=speakers)
    if not hyp:  # meeteval refuses a session missing from the hypothesis
        n = sum(len(r["words"].split()) for r in ref)
        speakers = len({r["speaker"] for r in ref})
        return CpWERCounts(
            errors=n, ref_words=n, deletions=n, missed_speakers=speakers, scored_speakers=speakers
        )
    result = meeteval_cpwer(SegLST(ref), SegLST(hyp))[SESSION]
    return CpWERCounts(
        errors=int(result.errors),
        ref_words=int(result.length),
        substitutions=int(result.substitutions),
        deletions=int(result.deletions),
        insertions=int(result.insertions),
        missed_speakers=int(result.missed_speaker),
        falarm_speakers=int(result.falarm_speaker),
        scored_speakers=int(result.scored_speaker),
        assignment=tuple(result.assignment),
    )
