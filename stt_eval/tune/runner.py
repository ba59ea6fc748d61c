"""Tune an experiment: race each provider's settings through ``stt-eval run``'s own machinery.

Every round is an ordinary run (:func:`stt_eval.run.grid.run_experiment`) of the experiment
narrowed to one provider, the survivors' chunk settings and merges, and the round's new files,
with the experiment's conditions; its directories go under ``OUTPUT/runs/``. Rows and cell keys
are a run's, and the transcripts go to the same cache, so running the chosen grid afterwards
sends nothing the race already sent. A file's counts pool its conditions (the file is the unit
of the paired test, as in the report). Diarizers and channel modes do not change a transcript's
WER, so a round runs without diarization, on the mix.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from stt_eval.experiment import Experiment, ProviderSpec
from stt_eval.metrics.stats import DEFAULT_ALPHA, Interval, PairedTest, paired_bootstrap
from stt_eval.pipeline.prepare import sent_seconds
from stt_eval.pipeline.transcribe import price
from stt_eval.providers.registry import get_provider
from stt_eval.run.grid import run_experiment, select_samples
from stt_eval.run.progress import window_seconds
from stt_eval.tune.files import split
from stt_eval.tune.race import (
    DEFAULT_EQUIVALENCE,
    Evaluate,
    FileCounts,
    Race,
    Standing,
    race,
)
from stt_eval.tune.recommend import Recommendation, interval_of, recommend
from stt_eval.tune.space import Setting, Space, within_limit

RUNS_DIR = "runs"


@dataclass(frozen=True)
class Holdout:
    """The recommendation checked on files the race did not see, against the race's best."""

    files: tuple[str, ...]
    wer: float
    interval: Interval
    test: PairedTest | None


@dataclass(frozen=True)
class ProviderTune:
    """One provider's race, its recommendation, and what its limits kept out of the space."""

    label: str
    race: Race
    recommendation: Recommendation | None
    over_limit: tuple[Setting, ...]
    costs: Mapping[tuple[str, str], tuple[float, int]]
    """(chunking, file id) → (audio seconds, requests) over the experiment's conditions."""
    boundary: Mapping[tuple[Setting, str], int]
    """(setting, file id) → errors near a cut, summed over conditions (absent: not counted)."""
    recording_s: Mapping[str, float]
    """File id → its seconds times the conditions: the audio sent unchunked."""
    holdout: Holdout | None = None

    def cost(self, setting: Setting, file_id: str) -> tuple[float, int]:
        return self.costs[setting.chunking, file_id]

    def grid_s(self, files: Sequence[str]) -> float:
        """Audio seconds the full grid of this provider's settings sends for ``files``."""
        chunkings = {s.setting.chunking for s in self.race.standings}
        return sum(self.costs[c, f][0] for c in chunkings for f in files)


@dataclass(frozen=True)
class TuneResult:
    """What ``stt-eval tune`` found: the experiment, the space, each provider's race."""

    experiment: Experiment
    space: Space
    providers: tuple[ProviderTune, ...]
    search_files: tuple[str, ...]
    holdout_files: tuple[str, ...]
    output: Path


def _say(progress: bool, line: str) -> None:
    if progress:
        print(line, file=sys.stderr, flush=True)


def _counts(
    rows, settings: Sequence[Setting], boundary: dict[tuple[Setting, str], int]
) -> dict[Setting, dict[str, tuple[int, int]]]:
    """Per setting, (errors, reference words) per file over its ok rows; a file with any failed
    row for a setting is left out for it (the race counts it as a failure). The rows' boundary
    errors (errors near a cut) go into ``boundary`` per (setting, file)."""
    wanted = set(settings)
    out: dict[Setting, dict[str, tuple[int, int]]] = {s: {} for s in settings}
    failed = set()
    for row in rows:
        ident = row.identity
        setting = Setting(ident.chunking, ident.merge)
        if setting not in wanted:
            continue
        if row.status != "ok":
            failed.add((setting, ident.sample_id))
            continue
        words = row.counts["words"]
        errors, ref = out[setting].get(ident.sample_id, (0, 0))
        out[setting][ident.sample_id] = (errors + words.errors, ref + words.ref_words)
        key = (setting, ident.sample_id)
        near_cut = row.counts["boundary"]  # None: no cut, or none the row could attribute
        if near_cut is not None:
            boundary[key] = boundary.get(key, 0) + near_cut.errors
    for setting, sample_id in failed:
        out[setting].pop(sample_id, None)
    return out


def evaluate_with_runs(
    exp: Experiment,
    spec: ProviderSpec,
    output: Path,
    progress: bool,
    boundary: dict[tuple[Setting, str], int],
) -> Evaluate:
    """The race's ``evaluate``: one run of the experiment narrowed to ``spec``, the settings'
    chunkings and merges, and the files; the rows' counts per setting (boundary errors into
    ``boundary``)."""

    def evaluate(settings: Sequence[Setting], files: Sequence[str]) -> dict[Setting, FileCounts]:
        merges = tuple(dict.fromkeys(s.merge for s in settings if s.merge != "none"))
        narrowed = replace(
            exp,
            providers=(spec,),
            chunking=tuple(dict.fromkeys(s.chunking for s in settings)),
            merge=merges or exp.merge,
            ids=tuple(files),
            diarizers=("none",),
            channel_mode=("mix",),
            output=output / RUNS_DIR,
            name=f"{exp.name}-tune",
        )
        result = run_experiment(narrowed, progress=False)
        _say(progress, f"  ran {result.run_dir} ({len(result.rows)} rows, {result.wall_s:.0f} s)")
        return _counts(result.rows, settings, boundary)

    return evaluate


def _holdout(exp: Experiment, spec: ProviderSpec, plan: Search, rec: Recommendation) -> Holdout:
    """Score the recommendation (and the race's best, when another) on the held-out files."""
    pair, files = tuple(dict.fromkeys((rec.setting, rec.best))), plan.held
    names = ", ".join(s.label for s in pair)
    _say(plan.progress, f"{spec.label} holdout: {names} on {len(files)} files")
    counts = evaluate_with_runs(exp, spec, plan.output, plan.progress, {})(pair, files)
    mine = counts[rec.setting]
    both = [f for f in files if f in mine and f in counts[rec.best] and mine[f][1] > 0]
    standing = Standing(rec.setting, {f: mine[f] for f in both})
    test = None
    if rec.best != rec.setting and both:
        test = paired_bootstrap(
            [mine[f][0] for f in both],
            [counts[rec.best][f][0] for f in both],
            [mine[f][1] for f in both],
            (rec.setting.label, rec.best.label),
            level=1 - plan.alpha,
            seed=exp.seed,
        )
    return Holdout(tuple(both), standing.wer, interval_of(standing, exp.seed), test)


def _budget_s(exp: Experiment, spec: ProviderSpec, minutes: float | None) -> float | None:
    """The race's audio budget in seconds: ``minutes``, and what the experiment's dollar budget
    buys at the provider's list price (free or unpriced: no dollar limit)."""
    limits = [] if minutes is None else [minutes * 60.0]
    per_minute = getattr(price(get_provider(spec.name, **dict(spec.options))), "usd_per_minute", 0)
    if exp.budget_usd is not None and per_minute:
        limits.append(exp.budget_usd / per_minute * 60.0)
    return min(limits) if limits else None


def _progress_line(progress: bool, label: str) -> Callable[[int, Race], None]:
    """The race's ``on_round``: a line per round, the five best survivors, what was dropped."""

    def report(index: int, state: Race) -> None:
        alive = state.survivors
        _say(
            progress,
            f"{label} round {index}: {len(state.files)} files, {len(alive)} settings left, "
            f"{state.spent_s / 60:.1f} audio min sent",
        )
        for s in sorted(alive, key=lambda s: s.wer)[:5]:
            _say(progress, f"  {s.setting.label:<24} WER {s.wer:6.1%}")
        for s in state.standings:
            if s.dropped_round == index:
                _say(progress, f"  dropped {s.setting.label}: {s.reason}")

    return report


@dataclass(frozen=True)
class Search:
    """What every provider's race shares: the space, the files and their seconds, the output."""

    space: Space
    seconds: Mapping[str, float]
    search: tuple[str, ...]
    held: tuple[str, ...]
    output: Path
    alpha: float
    equivalence: float
    progress: bool


def tune_provider(
    exp: Experiment, spec: ProviderSpec, plan: Search, budget_s: float | None
) -> ProviderTune:
    """One provider's race over the search files, its recommendation and holdout check."""
    limit = getattr(get_provider(spec.name, **dict(spec.options)), "MAX_UPLOAD_BYTES", None)
    longest = max(plan.seconds.values(), default=0.0)
    settings, over = within_limit(plan.space.settings(), longest, limit)
    streams = len(exp.conditions)
    costs = {}
    for setting in settings:
        for f, duration in plan.seconds.items():
            windows = window_seconds(duration, setting.chunking)
            costs[setting.chunking, f] = (sum(windows) * streams, len(windows) * streams)

    def cost_of(setting: Setting, file_id: str) -> tuple[float, int]:
        return costs[setting.chunking, file_id]

    boundary: dict[tuple[Setting, str], int] = {}
    _say(
        plan.progress,
        f"{spec.label}: racing {len(settings)} settings over {len(plan.search)} files",
    )
    result = race(
        settings,
        plan.search,
        evaluate_with_runs(exp, spec, plan.output, plan.progress, boundary),
        cost_of,
        alpha=plan.alpha,
        budget_s=budget_s,
        equivalence=plan.equivalence,
        seed=exp.seed,
        on_round=_progress_line(plan.progress, spec.label),
    )
    rec = recommend(result, cost_of, exp.seed)
    checked = None
    if rec is not None and plan.held:
        checked = _holdout(exp, spec, plan, rec)
    recording = {f: d * streams for f, d in plan.seconds.items()}
    return ProviderTune(spec.label, result, rec, over, costs, boundary, recording, checked)


def tune_experiment(
    exp: Experiment,
    space: Space,
    output: Path,
    *,
    budget_minutes: float | None = None,
    holdout: float = 0.0,
    alpha: float = DEFAULT_ALPHA,
    equivalence: float = DEFAULT_EQUIVALENCE,
    progress: bool = True,
) -> TuneResult:
    """Race ``space`` for each provider of ``exp`` over its files; see the module docstring.
    The budget (``budget_minutes`` of audio, and the experiment's ``budget_usd``) covers every
    provider's race together; the holdout check comes on top."""
    from stt_eval.datasets.importers import read_dataset

    samples = select_samples(read_dataset(exp.dataset, exp.dataset_format).samples, exp)
    seconds = {s.id: sent_seconds(s) for s in samples}
    search, held = split(list(seconds), holdout)
    plan = Search(space, seconds, search, held, output, alpha, equivalence, progress)
    spent, tuned = 0.0, []
    with warnings.catch_warnings():
        warnings.simplefilter("once", UserWarning)  # a dataset's warnings once, not every round
        for spec in exp.providers:
            budget = _budget_s(exp, spec, budget_minutes)
            left = None if budget is None else budget - spent
            tuned.append(tune_provider(exp, spec, plan, left))
            spent += tuned[-1].race.spent_s
    return TuneResult(exp, space, tuple(tuned), search, held, output)
