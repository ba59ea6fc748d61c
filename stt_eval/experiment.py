"""Experiments: what to run, as typed data — dataset × providers × conditions × chunking ×
mode (batch or streaming).

A ``streaming`` cell streams the conditioned recording whole, as ``frame_ms`` PCM frames at
``pace``, to the provider's streaming engine: chunking, merge, diarizers and channel modes are
batch axes, so each provider × condition has one streaming cell, whatever they hold.

The schema is the :class:`Experiment` dataclass itself, validated by pydantic: scalars are
strict (``workers = 2.7`` or ``skip_overlap = "false"`` are errors, never coerced), unknown keys
are errors, and every axis value is checked against its registry (providers and their options,
conditions, chunk settings, merge strategies, diarizers) — all problems of a file at once, each
with its key path, before any audio is read. See ``experiments/example.toml`` for every setting.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Mapping
from dataclasses import asdict, field, replace
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    TypeAdapter,
    ValidationError,
)
from pydantic.dataclasses import dataclass

from stt_eval.chunking import format_chunking, parse_chunking
from stt_eval.conditions.spec import canonical_condition
from stt_eval.datasets.importers import DATASET_FORMATS, FORMATS, MANIFEST
from stt_eval.diarizers import DIARIZERS
from stt_eval.errors import BadArgument, SttEvalError
from stt_eval.metrics.diarization import DEFAULT_COLLAR
from stt_eval.normalization.rules import DEFAULT_PRESET, check_preset
from stt_eval.providers.base import Engine, engine_of
from stt_eval.providers.registry import get_provider
from stt_eval.providers.vocabulary import OFF, TERMS, check_vocabulary
from stt_eval.streaming.pace import DEFAULT_FRAME_MS, DEFAULT_PACE, canonical_pace
from stt_eval.streaming.registry import NoStreaming, streaming_entry
from stt_eval.types import CHANNEL_MODES, EXECUTORS, MERGE_STRATEGIES, MODES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DIARIZER_CHOICES = ("none", "provider")
"""Besides the registered local diarizers: no diarization, or the provider's own speakers."""

_CONFIG = ConfigDict(extra="forbid")


class ExperimentError(SttEvalError, ValueError):
    """An experiment file or setting is invalid; the message names it and the fix."""


@dataclass(frozen=True, config=_CONFIG)
class ProviderSpec:
    """A provider by registry name, its options, and the label results are reported under.

    Building one checks the name and the options against the provider (unknown ones list the
    valid ones), so a typo fails when the experiment is read, not mid-run.
    """

    name: StrictStr
    options: tuple[tuple[StrictStr, Any], ...] = ()
    label: StrictStr = ""

    def __post_init__(self) -> None:
        get_provider(self.name, **dict(self.options))
        if not self.label:
            model = dict(self.options).get("model")
            object.__setattr__(self, "label", f"{self.name}:{model}" if model else self.name)

    def engine(self) -> Engine:
        """The engine, model and version this provider runs (recorded with every row)."""
        return engine_of(get_provider(self.name, **dict(self.options)))

    @classmethod
    def parse(cls, value: Any) -> Any:
        """A provider from TOML: a name, or a table with ``name``, options and ``label``."""
        if isinstance(value, str):
            return cls(value)
        if isinstance(value, Mapping) and "name" in value:
            opts = {k: v for k, v in value.items() if k not in ("name", "label")}
            return cls(value["name"], tuple(sorted(opts.items())), value.get("label", ""))
        if isinstance(value, Mapping):
            raise ValueError('a provider table needs "name", e.g. { name = "faster-whisper" }')
        return value


def _checked(check: Any, choices: tuple[str, ...], what: str) -> Any:
    def validate(value: str) -> str:
        if check is not None:
            return check(value)
        if value not in choices:
            raise ValueError(f"unknown {what} {value!r}; choose from {', '.join(choices)}")
        return value

    return AfterValidator(validate)


def _preset(name: str) -> str:
    return check_preset(name)  # canonical text, recorded in every row


def _chunking(text: str) -> str:
    return format_chunking(parse_chunking(text))


def _existing(path: Path) -> Path:
    if not path.exists():
        raise ValueError(
            f"manifest {path} not found; give the path of a .jsonl or .csv file, or a dataset in "
            f'another format: dataset = {{ format = "nemo", path = "…" }} ({", ".join(FORMATS)})'
        )
    return path


Axis = Annotated[tuple[StrictStr, ...], Field(min_length=1)]
Condition = Annotated[StrictStr, _checked(canonical_condition, (), "condition")]
Chunking = Annotated[StrictStr, _checked(_chunking, (), "chunking")]
Merge = Annotated[StrictStr, _checked(None, MERGE_STRATEGIES, "merge strategy")]
Diarizer = Annotated[StrictStr, _checked(None, (*DIARIZER_CHOICES, *DIARIZERS), "diarizer")]
ChannelMode = Annotated[StrictStr, _checked(None, CHANNEL_MODES, "channel mode")]
Vocabulary = Annotated[StrictStr, _checked(check_vocabulary, (), "vocabulary")]
Mode = Annotated[StrictStr, _checked(None, MODES, "mode")]
Pace = Annotated[StrictStr | StrictInt | StrictFloat, AfterValidator(canonical_pace)]
Scalar = StrictStr | StrictBool | StrictInt | StrictFloat


@dataclass(frozen=True, config=_CONFIG)
class Experiment:
    """A full grid to run; every field is recorded, resolved, in the run directory."""

    dataset: Annotated[Path, AfterValidator(_existing)]
    dataset_format: Annotated[StrictStr, _checked(None, DATASET_FORMATS, "dataset format")] = (
        MANIFEST
    )
    providers: Annotated[
        tuple[Annotated[ProviderSpec, BeforeValidator(ProviderSpec.parse)], ...],
        Field(min_length=1),
    ] = (ProviderSpec("faster-whisper"), ProviderSpec("pocketsphinx"))
    conditions: Annotated[tuple[Condition, ...], Field(min_length=1)] = ("clean",)
    chunking: Annotated[tuple[Chunking, ...], Field(min_length=1)] = ("none",)
    merge: Annotated[tuple[Merge, ...], Field(min_length=1)] = ("timestamp",)
    diarizers: Annotated[tuple[Diarizer, ...], Field(min_length=1)] = ("none",)
    channel_mode: Annotated[tuple[ChannelMode, ...], Field(min_length=1)] = ("mix",)
    vocabulary: Annotated[tuple[Vocabulary, ...], Field(min_length=1)] = (OFF,)
    mode: Annotated[tuple[Mode, ...], Field(min_length=1)] = ("batch",)
    pace: Pace = DEFAULT_PACE
    frame_ms: Annotated[StrictInt, Field(ge=10, le=1000)] = DEFAULT_FRAME_MS
    normalizer: Annotated[StrictStr, AfterValidator(_preset)] = DEFAULT_PRESET
    seed: StrictInt = 0
    workers: Annotated[StrictInt, Field(ge=1)] = 2
    select: dict[StrictStr, Scalar] = field(default_factory=dict)
    ids: tuple[StrictStr, ...] = ()
    max_duration_s: Annotated[StrictFloat, Field(gt=0)] = 4 * 3600.0
    output: Path = Path("results")
    name: Annotated[StrictStr, Field(min_length=1, pattern=r"^[\w.-]+$")] = "run"
    collar: Annotated[StrictFloat, Field(ge=0, le=5)] = DEFAULT_COLLAR
    skip_overlap: StrictBool = False
    budget_usd: Annotated[StrictFloat, Field(ge=0)] | None = None
    http_workers: Annotated[StrictInt, Field(ge=1)] = 8
    executor: Annotated[StrictStr, _checked(None, EXECUTORS, "executor")] = "local"
    scheduler: StrictStr | None = None

    def __post_init__(self) -> None:
        if self.dataset_format == MANIFEST and not self.dataset.is_file():
            raise ValueError(
                f"dataset: manifest {self.dataset} is not a file; give a .jsonl or "
                ".csv manifest, or the dataset's format: dataset = { format = … }"
            )
        labels = [p.label for p in self.providers]
        if len(set(labels)) != len(labels):
            raise ValueError(f"provider labels {labels} repeat; give each a distinct label")
        if "streaming" in self.mode:
            for p in self.providers:
                try:
                    streaming_entry(p.name)
                except NoStreaming as exc:
                    raise ValueError(f"mode: {exc}") from None

    def fingerprint(self) -> str:
        """A short hash of the grid (not of where outputs go or how fast), naming the run."""
        d = asdict(self)
        for key in ("output", "workers", "http_workers", "budget_usd", "executor", "scheduler"):
            d.pop(key)
        if d["dataset_format"] == MANIFEST:
            d.pop("dataset_format")  # run ids from before the setting existed stay the same
        if d["channel_mode"] == ("mix",):  # the default: runs named before the axis keep names
            d.pop("channel_mode")
        if d["vocabulary"] == (OFF,):  # the default: runs named before the axis keep names
            d.pop("vocabulary")
        if d["mode"] == ("batch",):  # likewise: pace and frames only matter to streaming
            for key in ("mode", "pace", "frame_ms"):
                d.pop(key)
        blob = json.dumps(d, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:8]

    @property
    def run_id(self) -> str:
        return f"{self.name}-{self.fingerprint()}"


KEYS = tuple(Experiment.__dataclass_fields__)
"""Every setting an experiment file may hold."""

_PATH_PARAM = re.compile(r"""(\bpath\s*=\s*)("[^"]*"|'[^']*'|[^,)\s]+)""")


def resolve_condition_paths(condition: str, base: Path) -> str:
    """Make relative ``path=`` values in a condition chain relative to the experiment file."""

    def fix(m: re.Match[str]) -> str:
        raw = m.group(2)
        quote = raw[0] if raw[0] in "\"'" else ""
        path = Path(raw.strip("\"'")).expanduser()
        if path.is_absolute():
            return m.group(0)
        q = quote or '"'
        return f"{m.group(1)}{q}{(base / path).resolve()}{q}"

    return _PATH_PARAM.sub(fix, condition)


def _where(loc: tuple[Any, ...]) -> str:
    """A pydantic error location as a key path: ``providers[1].options``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(file)"


def explain(exc: ValidationError) -> list[str]:
    """One line per problem: key path, what is wrong, and the fix where there is a general one."""
    lines = []
    errors = exc.errors()
    itemised = {e["loc"][0] for e in errors if len(e["loc"]) > 1}
    for err in errors:
        if err["type"] == "too_short" and err["loc"][0] in itemised:
            continue  # its items' own errors say why it ended up empty
        where, message = _where(err["loc"]), err["msg"].removeprefix("Value error, ")
        if err["type"] in ("unexpected_keyword_argument", "extra_forbidden"):
            message = f"unknown setting; valid settings: {', '.join(KEYS)}"
        elif err["type"] == "missing_argument" or err["type"] == "missing":
            message = "missing; " + ("the path of a manifest" if where == "dataset" else "set it")
        elif "input" in err and err["type"].endswith("_type"):
            message += f", got {err['input']!r}"
            if err["type"] == "bool_type":
                message += " (write true or false, without quotes)"
        lines.append(f"{where}: {message}")
    return lines


def experiment_from_dict(d: Mapping[str, Any], base: Path) -> Experiment:
    """Build an Experiment from parsed TOML; paths are relative to `base`."""
    d = dict(d)
    if isinstance(d.get("dataset"), Mapping):  # dataset = { format = "nemo", path = "…" }
        table = dict(d["dataset"])
        if set(table) != {"format", "path"} or "dataset_format" in d:
            raise ExperimentError(
                f"dataset: a table needs exactly 'format' and 'path' (got {sorted(table)}), e.g. "
                'dataset = { format = "nemo", path = "train.jsonl" }, and no dataset_format'
            )
        d["dataset"], d["dataset_format"] = table["path"], table["format"]
    for key in ("dataset", "output"):
        if isinstance(d.get(key), str):
            d[key] = (base / d[key]).resolve()
    axes = ("providers", "conditions", "chunking", "merge", "diarizers", "channel_mode", "mode")
    for key in (*axes, "vocabulary", "ids"):
        if isinstance(d.get(key), (str, Mapping)):
            d[key] = [d[key]]  # one value where a list is expected
    if isinstance(d.get("vocabulary"), list):  # phrase files relative to the file too
        d["vocabulary"] = [
            str(base / v) if isinstance(v, str) and v.strip().lower() not in (OFF, TERMS) else v
            for v in d["vocabulary"]
        ]
    if isinstance(d.get("normalizer"), str):  # synonyms(path=…) relative to the file too
        d["normalizer"] = resolve_condition_paths(d["normalizer"], base)
    if isinstance(d.get("conditions"), list):
        d["conditions"] = [
            resolve_condition_paths(c, base) if isinstance(c, str) else c for c in d["conditions"]
        ]
    try:
        return TypeAdapter(Experiment).validate_python(d)
    except ValidationError as exc:
        lines = explain(exc)
        said = lines[0] if len(lines) == 1 else f"{len(lines)} problem(s):\n  " + "\n  ".join(lines)
        raise ExperimentError(said) from None


_BOUNDS = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}
"""pydantic's bound names, as a message writes them."""


def override(exp: Experiment, **settings: Any) -> Experiment:
    """The experiment with the settings given as arguments that are not None; a value it cannot
    take is refused naming its argument and the valid range, as it would be in the file."""
    settings = {k: v for k, v in settings.items() if v is not None}
    try:
        return replace(exp, **settings)
    except ValidationError as exc:
        err = exc.errors()[0]
        name, message = str(err["loc"][0]), err["msg"].removeprefix("Value error, ")
        limits = [f"{op} {err['ctx'][k]}" for k, op in _BOUNDS.items() if k in err.get("ctx", {})]
        message = f"must be {' and '.join(limits)}" if limits else message
        raise BadArgument(name, f"{settings[name]!r} is not allowed; {message}") from None


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
    d.pop("tune", None)  # the [tune] table narrows `stt-eval tune`'s search (stt_eval.tune)
    try:
        return experiment_from_dict(d, path.parent)
    except ExperimentError as exc:
        raise ExperimentError(f"{path}: {exc}") from exc
