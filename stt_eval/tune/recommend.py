"""The answer of a race: per provider, the cheapest setting that is not significantly worse
than the best, with its pooled WER and interval over the files it was scored on."""

from __future__ import annotations

from dataclasses import dataclass

from stt_eval.metrics.stats import Interval, PairedTest, bootstrap_rate, seed_for
from stt_eval.tune.race import CostOf, Race, Standing, cost_key
from stt_eval.tune.space import Setting


@dataclass(frozen=True)
class Recommendation:
    """The setting to use, how it scored, what it costs on the race's files, and its test
    against the best (None when it is the best)."""

    setting: Setting
    best: Setting
    wer: float
    interval: Interval
    files: int
    audio_s: float
    requests: int
    test: PairedTest | None


def interval_of(standing: Standing, seed: int = 0) -> Interval:
    """The per-file bootstrap interval of a standing's pooled WER (NaN with fewer than 2 files)."""
    errors = [e for e, _ in standing.counts.values()]
    words = [w for _, w in standing.counts.values()]
    return bootstrap_rate(errors, words, seed=seed_for(seed, standing.setting))


def recommend(race: Race, cost_of: CostOf, seed: int = 0) -> Recommendation | None:
    """Among the settings still in the race (none of them significantly worse than the best on
    the files all of them saw), the cheapest: fewest audio seconds sent, then fewest requests,
    then lowest WER. None when no setting survived."""
    alive = [s for s in race.survivors if s.files]
    if not alive or race.best is None:
        return None
    files = race.files
    chosen = min(alive, key=lambda s: (*cost_key(s.setting, files, cost_of), s.wer))
    seconds, requests = cost_key(chosen.setting, files, cost_of)
    return Recommendation(
        chosen.setting,
        race.best,
        chosen.wer,
        interval_of(chosen, seed),
        len(chosen.files),
        seconds,
        requests,
        None if chosen.setting == race.best else chosen.test,
    )
