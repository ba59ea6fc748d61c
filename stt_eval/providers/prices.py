"""List prices per audio minute, what a transcription costs, and the run's estimate and budget.

Every price names its source and the date it was read; a price that no source documents is
absent (cost unknown, shown as such), never guessed. An experiment can set
``price_per_minute`` on a provider to override or fill in its contract price.
"""

from __future__ import annotations

from dataclasses import dataclass

from stt_eval.errors import SttEvalError


@dataclass(frozen=True)
class Price:
    """US dollars per minute of audio sent, and where that number comes from."""

    usd_per_minute: float
    source: str
    as_of: str

    def __post_init__(self) -> None:
        if not self.usd_per_minute >= 0:
            raise ValueError(f"price {self.usd_per_minute!r} must be >= 0 US dollars per minute")


PRICES: dict[tuple[str, str], Price] = {
    ("pulse", "pulse"): Price(
        0.005,
        "smallest.ai docs, model card pulse.mdx: Batch $0.005/min (Standard plan)",
        "2026-08-21",
    ),
    ("pulse", "pulse-pro"): Price(
        0.004, "smallest.ai docs, model card pulse-pro.mdx: $0.004/min", "2026-08-21"
    ),
    ("deepgram", "nova-3"): Price(
        0.0043,
        "third-party pages citing Deepgram's pre-recorded Nova-3 list price (unconfirmed "
        "by Deepgram's own pages)",
        "2026-08-21",
    ),
    ("assemblyai", "universal-3-pro"): Price(
        0.0035,
        "a competitor's model card quoting AssemblyAI at $3.50 per 1,000 minutes "
        "(unconfirmed by AssemblyAI)",
        "2026-08-21",
    ),
}
"""Known list prices by (provider, model). Local engines cost nothing and are not listed."""

STREAMING_PRICES: dict[tuple[str, str], Price] = {
    ("pulse", "pulse"): Price(
        0.008,
        "smallest.ai docs, model card pulse.mdx: Realtime $0.008/min (Standard plan); the "
        "changelog of 2026-05-28 says $0.006/min — the docs disagree, the model card is used",
        "2026-08-21",
    ),
    ("deepgram", "nova-3"): Price(
        0.0059,
        "third-party pages citing Deepgram's streaming Nova-3 list price (unconfirmed by "
        "Deepgram's own pages)",
        "2026-08-21",
    ),
}
"""Streamed audio by (provider, model): priced per minute streamed (AssemblyAI bills the time a
connection stays open; it and OpenAI's token-priced realtime transcription have no documented
per-minute price here, so their cost is unknown)."""

LOCAL = frozenset({"faster-whisper", "pocketsphinx"})


def price_of(
    provider: str, model: str | None, override: float | None = None, *, streaming: bool = False
) -> Price | None:
    """The price of one provider and model (`streaming`: of its streaming mode): the
    experiment's override, else the table; None when nobody documents one. Local engines are free.

    >>> price_of("pulse", "pulse").usd_per_minute, price_of("pulse", "pulse", streaming=True).usd_per_minute
    (0.005, 0.008)
    >>> price_of("openai", "whisper-1") is None
    True
    """
    if override is not None:
        return Price(override, "set in the experiment (price_per_minute)", "")
    if provider in LOCAL:
        return Price(0.0, "local engine", "")
    return (STREAMING_PRICES if streaming else PRICES).get((provider, model or ""))


def cost_usd(price: Price | None, audio_s: float) -> float | None:
    """The list price of sending `audio_s` seconds; None when the price is unknown."""
    return None if price is None else price.usd_per_minute * audio_s / 60.0


@dataclass(frozen=True)
class Estimate:
    """Before a run: audio to send per provider label, and what it will cost (None: unknown)."""

    provider: str
    audio_s: float
    requests: int
    usd: float | None

    def describe(self) -> str:
        cost = "price unknown" if self.usd is None else f"≈ ${self.usd:.2f}"
        return f"{self.provider}: {self.audio_s / 60:.1f} audio min in {self.requests} requests, {cost}"


class OverBudget(SttEvalError, ValueError):
    """The estimated cost of a run is over the experiment's budget."""


def check_budget(estimates: list[Estimate], budget_usd: float | None) -> None:
    """Refuse a run whose estimated cost is over `budget_usd` (unknown prices count as 0 and
    are named, so the user knows the estimate is a lower bound)."""
    if budget_usd is None:
        return
    total = sum(e.usd or 0.0 for e in estimates)
    if total > budget_usd:
        lines = "; ".join(e.describe() for e in estimates)
        raise OverBudget(
            f"estimated cost ${total:.2f} is over the budget of ${budget_usd:.2f} ({lines}); "
            "raise budget_usd, select fewer samples (ids/select) or fewer conditions"
        )
