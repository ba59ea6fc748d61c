"""Hallucinations as rates: words where nobody spoke, repetition loops, known made-up phrases.

Under noise and silence Whisper-family models invent text ("thanks for watching", loops,
words in silence); evaluations now report it as a rate (the hallucination error rate of
arXiv 2502.12414). Counts per transcript (:class:`HallucinationCounts`, which add):

- ``nonspeech_words`` over ``nonspeech_s``: hypothesis words (normalized tokens) whose middle
  falls where the reference has no speech — insertions per minute of non-speech. Non-speech is
  what the row heard (the audio, with any padding a ``pad`` condition added) minus the
  reference's speech: its word times (``Sample.ref_words``), else its speaker turns (RTTM), else
  the whole recording (then only padding counts), each widened by :data:`COLLAR_S`;
- ``loop_words``: hypothesis tokens in back-to-back repeats of an n-gram beyond the longest run
  the reference has of it (:data:`~stt_eval.metrics.errors.REPEAT_MIN` repeats or more), over
  ``hyp_words``;
- ``phrases``: occurrences of :data:`KNOWN_PHRASES` in the hypothesis beyond those in the
  reference, matched after normalization, per minute of audio (``audio_s``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from stt_eval.metrics.errors import MAX_NGRAM, REPEAT_MIN, longest_runs
from stt_eval.metrics.terms import normalize_terms, occurrences
from stt_eval.normalization.rules import DEFAULT_PRESET
from stt_eval.normalization.rules import words as normalized_words
from stt_eval.types import SpeakerTurn, Word

COLLAR_S = 0.5
"""Seconds of grace on each side of reference speech before a word counts as in non-speech
(reference and hypothesis word times both drift by a few hundred ms)."""

KNOWN_PHRASES: tuple[tuple[str, str], ...] = (
    ("thanks for watching", "McCloudS/subgen#21; collabora/WhisperLive#185"),
    ("thank you for watching", "zachlatta/freeflow#111; silverstein/minutes#242"),
    ("please subscribe to our channel", "silverstein/minutes#242"),
    ("subtitles by the amara.org community", "silverstein/minutes#242; EnviousWispr#452"),
    ("that's all", "collabora/WhisperLive#185"),
)
"""Phrases Whisper-family models are reported to write over silence and noise, each with the
GitHub issue that shows it (openai/whisper discussion #679 traces them to YouTube subtitles in
the training data). A phrase counts only beyond the reference's own uses of it."""


@dataclass(frozen=True)
class HallucinationCounts:
    """Non-speech seconds and the words hypothesised there, loop and hypothesis tokens, known
    phrases and audio seconds of one or more transcripts; adds with ``+``."""

    nonspeech_s: float = 0.0
    nonspeech_words: int = 0
    loop_words: int = 0
    hyp_words: int = 0
    phrases: int = 0
    audio_s: float = 0.0

    def __post_init__(self) -> None:
        for name in ("nonspeech_s", "nonspeech_words", "loop_words", "hyp_words", "phrases"):
            if getattr(self, name) < 0:
                raise ValueError(f"HallucinationCounts: {name}={getattr(self, name)} is negative")

    def __add__(self, other: HallucinationCounts) -> HallucinationCounts:
        if not isinstance(other, HallucinationCounts):
            return NotImplemented
        return HallucinationCounts(
            self.nonspeech_s + other.nonspeech_s,
            self.nonspeech_words + other.nonspeech_words,
            self.loop_words + other.loop_words,
            self.hyp_words + other.hyp_words,
            self.phrases + other.phrases,
            self.audio_s + other.audio_s,
        )

    def __radd__(self, other: object) -> HallucinationCounts:
        return self if other == 0 else NotImplemented  # type: ignore[return-value]

    @property
    def nonspeech_min(self) -> float:
        return self.nonspeech_s / 60.0

    @property
    def audio_min(self) -> float:
        return self.audio_s / 60.0

    @property
    def nonspeech_ipm(self) -> float:
        """Words hypothesised per minute of non-speech; NaN without non-speech."""
        return self.nonspeech_words / self.nonspeech_min if self.nonspeech_min else float("nan")

    @property
    def loop_share(self) -> float:
        """The share of hypothesis tokens that are loop repeats; NaN without tokens."""
        return self.loop_words / self.hyp_words if self.hyp_words else float("nan")

    @property
    def phrases_pm(self) -> float:
        """Known hallucinated phrases per minute of audio; NaN without audio."""
        return self.phrases / self.audio_min if self.audio_min else float("nan")


Span = tuple[float, float]


def _merged(spans: Iterable[Span]) -> list[Span]:
    out: list[Span] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def speech_spans(
    heard: Span,
    ref_words: Sequence[Word] | None,
    turns: Sequence[SpeakerTurn] | None,
    recording: Span,
) -> list[Span]:
    """Where the reference says someone speaks, widened by :data:`COLLAR_S` (the whole
    ``recording`` when it has neither word times nor turns), clipped to what was ``heard``."""
    if ref_words:
        spans = [(w.start, w.end) for w in ref_words]
    elif turns:
        spans = [(t.start, t.end) for t in turns]
    else:
        spans = [recording]
    wide = _merged((a - COLLAR_S, b + COLLAR_S) for a, b in spans)
    return [(max(a, heard[0]), min(b, heard[1])) for a, b in wide if b > heard[0] and a < heard[1]]


def nonspeech_seconds(heard: Span, speech: Sequence[Span]) -> float:
    """Seconds of ``heard`` outside ``speech`` (:func:`speech_spans`)."""
    return max(0.0, (heard[1] - heard[0]) - sum(b - a for a, b in speech))


def in_nonspeech(t: float, heard: Span, speech: Sequence[Span]) -> bool:
    return heard[0] <= t <= heard[1] and not any(a <= t <= b for a, b in speech)


def nonspeech_words(
    words: Sequence[Word],
    heard: Span,
    speech: Sequence[Span],
    normalizer: str = DEFAULT_PRESET,
    language: str = "en",
) -> int:
    """Normalized tokens of the hypothesis words whose middle is in non-speech."""
    return sum(
        len(normalized_words(w.text, normalizer, language))
        for w in words
        if in_nonspeech((w.start + w.end) / 2, heard, speech)
    )


def loop_words(hyp: Sequence[str], ref: Sequence[str], max_n: int = MAX_NGRAM) -> int:
    """Hypothesis tokens in repeats beyond the reference's own longest run of the same n-gram,
    for runs of :data:`REPEAT_MIN` or more; a token counts once however many n-grams cover it.

    >>> loop_words("thank you thank you thank you thank you".split(), "thank you".split())
    6
    >>> loop_words("no no no".split(), "no no no".split())
    0
    """
    allowed = longest_runs(ref, max_n)
    looped: set[int] = set()
    for n in range(1, max_n + 1):
        i = 0
        while i + 2 * n <= len(hyp):
            gram, reps = tuple(hyp[i : i + n]), 1
            while tuple(hyp[i + reps * n : i + (reps + 1) * n]) == gram:
                reps += 1
            keep = max(1, allowed.get(gram, 1))
            if reps >= REPEAT_MIN and reps > keep:
                looped.update(range(i + keep * n, i + reps * n))
            i += n * (reps - 1) if reps > 1 else 1
    return len(looped)


def known_phrases(
    hyp: Sequence[str],
    ref: Sequence[str],
    phrases: Iterable[str] = tuple(p for p, _ in KNOWN_PHRASES),
    normalizer: str = DEFAULT_PRESET,
    language: str = "en",
) -> int:
    """Occurrences of the phrases in the normalized hypothesis beyond those in the reference."""
    return sum(
        max(0, len(occurrences(hyp, p)) - len(occurrences(ref, p)))
        for p in normalize_terms(phrases, normalizer, language)
    )
