"""Racing settings over files: successive halving, with a paired test that drops the clearly worse.

Round by round the survivors are scored on more files, the files seen doubling (1, 2, 4, 8, …,
then all), so each round costs about as much as the first while the field halves. After each
round, over the files every survivor has seen:

1. every setting the paired bootstrap (the project's test, :func:`paired_bootstrap` on per-file
   error counts) finds significantly worse than the current best is dropped ("worse");
2. while files remain, only the better half of the chunkings (ranked by their best setting's
   pooled WER, ties to the cheaper) is kept with all their merges, which share their windows and
   so cost nothing more, and never fewer than ``floor`` settings: successive halving
   ("halved", with the chunking's rank).

The race stops when all files are seen, one setting is left, the survivors are equivalent (each
one's paired-difference interval against the best lies within ±``equivalence``: more files would
not separate them by more than that), or the next round would overrun the audio budget.

Everything here is a pure function of per-file counts: ``evaluate`` (the caller's) turns
settings and files into counts, so the logic is tested on synthetic numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from stt_eval.metrics.stats import DEFAULT_ALPHA, PairedTest, paired_bootstrap, seed_for
from stt_eval.tune.space import Setting

FileCounts = Mapping[str, tuple[int, int]]
"""Per file id: (word errors, reference words) of one setting."""
Evaluate = Callable[[Sequence[Setting], Sequence[str]], Mapping[Setting, FileCounts]]
"""``evaluate(settings, file_ids)``: each setting's counts on those files (a file missing from
a setting's counts failed for it)."""
CostOf = Callable[[Setting, str], tuple[float, int]]
"""``cost_of(setting, file_id)``: (audio seconds sent, requests) for one setting on one file."""

DEFAULT_EQUIVALENCE = 0.01
"""Survivors whose paired WER difference from the best is surely within ±1 point are equal."""


MIN_EQUIVALENCE_FILES = 4
"""Fewer files say too little about file-to-file spread to stop on equivalence."""


def schedule(n_files: int, first: int = 1) -> list[int]:
    """Files seen after each round: ``first``, doubling, ending at all ``n_files``.

    >>> schedule(6), schedule(1), schedule(9, first=2)
    ([1, 2, 4, 6], [1], [2, 4, 8, 9])
    """
    seen, out = max(1, min(first, n_files)), []
    while seen < n_files:
        out.append(seen)
        seen *= 2
    return [*out, n_files]


def round_cost(settings: Sequence[Setting], files: Sequence[str], cost_of: CostOf) -> float:
    """Audio seconds a round sends: merges of one chunking share its windows, so count once."""
    chunkings = {s.chunking: s for s in settings}.values()
    return sum(cost_of(s, f)[0] for s in chunkings for f in files)


@dataclass(frozen=True)
class Standing:
    """One setting's pooled errors over the files it was scored on, and its fate."""

    setting: Setting
    counts: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    """(errors, reference words) per file it was scored on, in the order it saw them."""
    dropped_round: int | None = None
    reason: str = ""
    test: PairedTest | None = None
    """Its paired test against the best when it was dropped or the race ended (None: the best)."""

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(self.counts)

    @property
    def errors(self) -> int:
        return sum(e for e, _ in self.counts.values())

    @property
    def ref_words(self) -> int:
        return sum(w for _, w in self.counts.values())

    @property
    def wer(self) -> float:
        return self.errors / self.ref_words if self.ref_words else math.nan


@dataclass(frozen=True)
class Race:
    """How a race went: every setting's standing, the rounds' file counts, why it stopped and
    the audio seconds it sent."""

    standings: tuple[Standing, ...]
    rounds: tuple[int, ...]
    stopped: str
    spent_s: float
    best: Setting | None = None
    files: tuple[str, ...] = field(default=())

    @property
    def survivors(self) -> tuple[Standing, ...]:
        return tuple(s for s in self.standings if s.dropped_round is None)


def _pooled(counts: FileCounts, files: Sequence[str]) -> tuple[int, int]:
    return sum(counts[f][0] for f in files), sum(counts[f][1] for f in files)


def _rate(counts: FileCounts, files: Sequence[str]) -> float:
    errors, words = _pooled(counts, files)
    return errors / words if words else math.inf


def _tests(
    counts: Mapping[Setting, FileCounts],
    files: Sequence[str],
    best: Setting,
    alpha: float,
    seed: int,
) -> dict[Setting, PairedTest]:
    """Each setting against the best on the same files: a = the setting, b = the best."""
    scored = [f for f in files if counts[best][f][1] > 0]
    out = {}
    for s in counts:
        if s == best:
            continue
        out[s] = paired_bootstrap(
            [counts[s][f][0] for f in scored],
            [counts[best][f][0] for f in scored],
            [counts[best][f][1] for f in scored],
            (s.label, best.label),
            level=1 - alpha,
            seed=seed_for(seed, (s, best, len(files))),
        )
    return out


def _equivalent(tests: Mapping[Setting, PairedTest], equivalence: float) -> bool:
    intervals = [t.interval for t in tests.values()]
    return bool(intervals) and all(
        iv is not None and -equivalence <= iv.low and iv.high <= equivalence for iv in intervals
    )


def race(
    settings: Sequence[Setting],
    files: Sequence[str],
    evaluate: Evaluate,
    cost_of: CostOf,
    *,
    alpha: float = DEFAULT_ALPHA,
    budget_s: float | None = None,
    first: int = 1,
    floor: int = 2,
    equivalence: float = DEFAULT_EQUIVALENCE,
    seed: int = 0,
    on_round: Callable[[int, Race], None] | None = None,
) -> Race:
    """Race ``settings`` over ``files`` (in this order); see the module docstring."""
    alive = list(dict.fromkeys(settings))
    counts: dict[Setting, dict[str, tuple[int, int]]] = {s: {} for s in alive}
    fate: dict[Setting, tuple[int, str, PairedTest | None]] = {}
    seen: list[str] = []
    taken = 0  # files handed out so far (a file no setting could score is not "seen")
    spent, rounds, stopped, best, tests = 0.0, [], "all files seen", None, {}
    plan = schedule(len(files), first) if files else []
    for index, upto in enumerate(plan, start=1):
        new = list(files[taken:upto])
        cost = round_cost(alive, new, cost_of)
        if budget_s is not None and spent + cost > budget_s:
            stopped = f"budget: the next round needs {cost / 60:.1f} more audio minutes"
            break
        got = evaluate(alive, new)
        spent, taken = spent + cost, upto
        scored = {f for c in got.values() for f in c}  # a file no setting scored is skipped
        seen += [f for f in new if f in scored]
        rounds.append(len(seen))
        for s in list(alive):
            counts[s].update(got.get(s, {}))
            missing = [f for f in seen if f not in counts[s] and f in scored]
            if missing:
                fate[s] = (index, f"failed on {', '.join(missing)}", None)
                alive.remove(s)
        if not alive:
            stopped = "every setting failed"
            break
        rank = {s: (_rate(counts[s], seen), *cost_key(s, seen, cost_of)) for s in alive}
        best = min(alive, key=rank.__getitem__)
        tests = _tests({s: counts[s] for s in alive}, seen, best, alpha, seed)
        for s, t in tests.items():
            if t.significant and t.difference > 0:
                fate[s] = (index, f"worse than {best.label} (p = {t.p:.3g})", t)
                alive.remove(s)
        more = upto < len(files)
        if more and len(alive) > floor:
            for s, place, of in halve(alive, rank, floor):
                fate[s] = (index, f"halved (chunking rank {place} of {of})", tests.get(s))
                alive.remove(s)
        state = _state(settings, counts, fate, rounds, stopped, spent, best, seen, tests)
        if on_round:
            on_round(index, state)
        if len(alive) == 1 and more:
            stopped = "one setting left"
            break
        survivors = {s: tests[s] for s in alive if s in tests}
        if more and len(seen) >= MIN_EQUIVALENCE_FILES and _equivalent(survivors, equivalence):
            stopped = f"survivors within ±{equivalence:.0%} of the best"
            break
    return _state(settings, counts, fate, rounds, stopped, spent, best, seen, tests)


def halve(
    alive: Sequence[Setting], rank: Mapping[Setting, tuple], floor: int
) -> list[tuple[Setting, int, int]]:
    """The settings halving drops, each with its chunking's place and the number of chunkings.

    What costs is the chunking (merges of one chunking share its windows), so the chunkings are
    halved, ranked by their best setting, and a kept chunking keeps all its merges; enough
    chunkings stay to keep ``floor`` settings.
    """
    order: dict[str, tuple] = {}
    for s in sorted(alive, key=rank.__getitem__):
        order.setdefault(s.chunking, rank[s])
    chunkings = list(order)
    keep = math.ceil(len(chunkings) / 2)
    while keep < len(chunkings) and sum(s.chunking in chunkings[:keep] for s in alive) < floor:
        keep += 1
    place = {c: i for i, c in enumerate(chunkings, start=1)}
    return [(s, place[s.chunking], len(chunkings)) for s in alive if place[s.chunking] > keep]


def cost_key(setting: Setting, files: Sequence[str], cost_of: CostOf) -> tuple[float, int]:
    """(audio seconds, requests) a setting sends for ``files``: what "cheaper" means."""
    costs = [cost_of(setting, f) for f in files]
    return sum(c[0] for c in costs), sum(c[1] for c in costs)


def _state(settings, counts, fate, rounds, stopped, spent, best, seen, tests) -> Race:
    standings = []
    for s in dict.fromkeys(settings):
        own = {f: counts[s][f] for f in seen if f in counts[s]}
        index, reason, test = fate.get(s, (None, "", tests.get(s)))
        standings.append(Standing(s, own, index, reason, test))
    return Race(tuple(standings), tuple(rounds), stopped, spent, best, tuple(seen))
