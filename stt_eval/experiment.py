"""Experiments: what to run, as data — dataset × providers × conditions × chunking, from TOML.

An experiment file (paths relative to the file)::

    name = "call-centre"
    dataset = "../datasets/calls/manifest.jsonl"
    providers = ["faster-whisper", { name = "pocketsphinx" }]
    conditions = ["clean", "noise(snr_db=10, kind=babble)", "telephony(codec=ulaw)"]
    chunking = ["none", "30s/2s"]
    merge = ["timestamp"]
    normalizer = "whisper"
    seed = 0
    workers = 2
    select = { channel = "phone" }     # keep samples whose meta matches
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from stt_eval.metrics.diarization import DEFAULT_COLLAR
from stt_eval.normalize import DEFAULT_PRESET, check_preset

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

KEYS = (
    "name", "dataset", "providers", "conditions", "chunking", "merge", "diarizers", "normalizer",
    "seed", "workers", "select", "ids", "max_duration_s", "output", "collar", "skip_overlap",
    "budget_usd", "http_workers",
)  # fmt: skip


class ExperimentError(ValueError):
    """An experiment file or setting is invalid; the message names it and the fix."""


@dataclass(frozen=True)
class ProviderSpec:
    """A provider by registry name, its options, and the label results are reported under."""

    name: str
    options: tuple[tuple[str, Any], ...] = ()
    label: str = ""

    def __post_init__(self) -> None:
        if not self.label:
            model = dict(self.options).get("model")
            object.__setattr__(self, "label", f"{self.name}:{model}" if model else self.name)

    @classmethod
    def parse(cls, value: str | Mapping[str, Any]) -> ProviderSpec:
        if isinstance(value, str):
            return cls(value)
        if not isinstance(value, Mapping) or "name" not in value:
            raise ExperimentError(f'provider {value!r} must be a name or a table with "name"')
        opts = {k: v for k, v in value.items() if k not in ("name", "label")}
        return cls(str(value["name"]), tuple(sorted(opts.items())), str(value.get("label", "")))


@dataclass(frozen=True)
class Experiment:
    """A full grid to run; every field is recorded in the run directory."""

    dataset: Path
    providers: tuple[ProviderSpec, ...] = (
        ProviderSpec("faster-whisper"),
        ProviderSpec("pocketsphinx"),
    )
    conditions: tuple[str, ...] = ("clean",)
    chunking: tuple[str, ...] = ("none",)
    merge: tuple[str, ...] = ("timestamp",)
    diarizers: tuple[str, ...] = ("none",)
    normalizer: str = DEFAULT_PRESET
    seed: int = 0
    workers: int = 2
    select: Mapping[str, Any] = field(default_factory=dict)
    ids: tuple[str, ...] = ()
    max_duration_s: float = 4 * 3600.0
    output: Path = Path("results")
    name: str = "run"
    collar: float = DEFAULT_COLLAR
    skip_overlap: bool = False
    budget_usd: float | None = None
    http_workers: int = 8

    def __post_init__(self) -> None:
        check_preset(self.normalizer)
        if not 0 <= self.collar <= 5:
            raise ExperimentError(
                f"collar={self.collar} must be between 0 and 5 seconds (md-eval style, each side)"
            )
        if self.workers < 1:
            raise ExperimentError(f"workers={self.workers} must be >= 1")
        if self.http_workers < 1:
            raise ExperimentError(f"http_workers={self.http_workers} must be >= 1")
        if self.budget_usd is not None and not self.budget_usd >= 0:
            raise ExperimentError(f"budget_usd={self.budget_usd} must be >= 0 US dollars")
        for axis in ("providers", "conditions", "chunking", "merge", "diarizers"):
            if not getattr(self, axis):
                raise ExperimentError(f"{axis} is empty; list at least one")
        labels = [p.label for p in self.providers]
        if len(set(labels)) != len(labels):
            raise ExperimentError(f"provider labels {labels} repeat; give each a distinct label")

    def fingerprint(self) -> str:
        """A short hash of the grid (not of paths to outputs), used to name and resume runs."""
        d = asdict(self)
        for key in ("output", "workers", "http_workers", "budget_usd"):
            d.pop(key)
        blob = json.dumps(d, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:8]

    @property
    def run_id(self) -> str:
        return f"{self.name}-{self.fingerprint()}"


def _tuple(value: Any, key: str) -> tuple[Any, ...]:
    if isinstance(value, (str, Mapping)):
        return (value,)
    if not isinstance(value, list):
        raise ExperimentError(f"{key} must be a list, got {value!r}")
    return tuple(value)


_PATH_PARAM = re.compile(r"""(\bpath\s*=\s*)("[^"]*"|'[^']*'|[^,)\s]+)""")


def resolve_condition_paths(condition: str, base: Path) -> str:
    """Make relative ``path=`` values in a condition chain relative to the experiment file."""

    def fix(m: re.Match[str]) -> str:
        raw = m.group(2)
        quote = raw[0] if raw[0] in "\"'" else ""
        value = raw.strip("\"'")
        path = Path(value).expanduser()
        if path.is_absolute():
            return m.group(0)
        q = quote or '"'
        return f"{m.group(1)}{q}{(base / path).resolve()}{q}"

    return _PATH_PARAM.sub(fix, condition)


def experiment_from_dict(d: Mapping[str, Any], base: Path) -> Experiment:
    """Build an Experiment from parsed TOML; paths are relative to `base`."""
    unknown = sorted(set(d) - set(KEYS))
    if unknown:
        raise ExperimentError(f"unknown setting(s) {unknown}; valid settings: {', '.join(KEYS)}")
    if "dataset" not in d:
        raise ExperimentError('missing "dataset": the path of a manifest (.jsonl or .csv)')
    kw: dict[str, Any] = {"dataset": (base / d["dataset"]).resolve()}
    if "providers" in d:
        kw["providers"] = tuple(ProviderSpec.parse(p) for p in _tuple(d["providers"], "providers"))
    for key in ("conditions", "chunking", "merge", "diarizers", "ids"):
        if key in d:
            kw[key] = tuple(str(v) for v in _tuple(d[key], key))
    if "conditions" in kw:
        kw["conditions"] = tuple(resolve_condition_paths(c, base) for c in kw["conditions"])
    for key, cast in (
        ("normalizer", str),
        ("seed", int),
        ("workers", int),
        ("max_duration_s", float),
        ("name", str),
        ("collar", float),
        ("skip_overlap", bool),
        ("budget_usd", float),
        ("http_workers", int),
    ):
        if key in d:
            kw[key] = cast(d[key])
    if "select" in d:
        kw["select"] = dict(d["select"])
    if "output" in d:
        kw["output"] = base / d["output"]
    return Experiment(**kw)


def load_experiment(path: Path | str) -> Experiment:
    """Read an experiment TOML file; its name defaults to the file's stem."""
    path = Path(path)
    if not path.is_file():
        raise ExperimentError(f"{path}: experiment file not found")
    try:
        d = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ExperimentError(f"{path}: not valid TOML ({exc})") from exc
    d.setdefault("name", path.stem)
    try:
        return experiment_from_dict(d, path.parent)
    except ExperimentError as exc:
        raise ExperimentError(f"{path}: {exc}") from exc
