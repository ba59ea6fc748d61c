"""A cell of the grid: one provider (with its options) under one condition, chunk setting,
merge, diarizer, channel mode, vocabulary and mode — what a row's identity names, and the
options its requests carry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stt_eval.experiment import ProviderSpec
from stt_eval.providers.vocabulary import OFF, phrases
from stt_eval.providers.vocabulary import OPTION as VOCABULARY
from stt_eval.rows import Identity
from stt_eval.streaming.registry import streaming_label
from stt_eval.types import Sample


@dataclass(frozen=True)
class Cell:
    """One provider × condition × chunking × merge × diarizer × channel mode × vocabulary × mode
    of the grid (a ``split`` cell's diarizer is CHANNELS_DIARIZER: its speakers come from the
    channels; a vocabulary other than ``off`` is in the provider's label too; a ``streaming``
    cell has no chunking, merge or diarizer and streams at ``pace`` in ``frame_ms`` frames)."""

    provider: ProviderSpec
    condition: str
    chunking: str
    merge: str
    diarizer: str
    channel_mode: str = "mix"
    vocabulary: str = OFF
    mode: str = "batch"
    pace: str | None = None
    frame_ms: int | None = None

    @property
    def label(self) -> str:
        """What the cell's rows are reported as (a streaming cell says it streams)."""
        if self.mode == "batch":
            return self.provider.label
        return streaming_label(self.provider.label, self.provider.name)

    def identity(self, run_id: str, sample_id: str, normalizer: str) -> Identity:
        """The identity of this cell's row for one sample of a run."""
        return Identity(
            run_id,
            sample_id,
            self.label,
            self.condition,
            self.chunking,
            self.merge,
            self.diarizer,
            normalizer,
            self.channel_mode,
            vocabulary=self.vocabulary,
            mode=self.mode,
            pace=self.pace,
            frame_ms=self.frame_ms,
        )

    def options(self, sample: Sample) -> dict[str, Any]:
        """The per-request options of this cell for one sample: its language and the custom
        vocabulary phrases (none with vocabulary off, or ``terms`` on a sample without)."""
        said = phrases(self.vocabulary, sample.terms)
        return {"language": sample.language, **({VOCABULARY: said} if said else {})}

    def key(self, sample_id: str) -> tuple[str, ...]:
        """The identity of this cell for one sample (what resume matches finished rows on)."""
        return self.identity("", sample_id, "").key
