"""An experiment's ``[tune]`` table: the space to search and the race's settings, each of which
a flag (or API argument) overrides."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stt_eval.experiment import ExperimentError
from stt_eval.tune.space import TABLE_KEYS, Space, space_from

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

RACE_KEYS = ("budget_minutes", "holdout")
"""The ``[tune]`` keys that set the race rather than the space."""


def tune_table(path: Path | str) -> dict[str, Any]:
    """The ``[tune]`` table of an experiment file (empty when it has none); an unknown key is
    refused naming the file and the valid keys."""
    path = Path(path)
    table = tomllib.loads(path.read_text(encoding="utf-8")).get("tune", {})
    if not isinstance(table, Mapping):
        raise ExperimentError(f"{path}: tune must be a table, [tune]")
    unknown = sorted(set(table) - set(TABLE_KEYS) - set(RACE_KEYS))
    if unknown:
        valid = ", ".join((*TABLE_KEYS, *RACE_KEYS))
        raise ExperimentError(f"{path}: [tune] has unknown key(s) {unknown}; valid: {valid}")
    return dict(table)


def resolve(table: Mapping[str, Any], **arguments: Any) -> tuple[Space, dict[str, Any]]:
    """The space and the race's settings (``budget_minutes``, ``holdout``) from a ``[tune]``
    table, each overridden by an argument that is not None."""
    given = {k: v for k, v in arguments.items() if v is not None}
    space = space_from(table, **{k: v for k, v in given.items() if k in TABLE_KEYS})
    race = {k: given.get(k, table.get(k)) for k in RACE_KEYS}
    race["holdout"] = race["holdout"] or 0.0
    return space, race
