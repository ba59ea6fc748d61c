"""What differs between the two runs `stt-eval compare` reads, before any number is compared:
providers and their options, conditions, chunking and merges, diarizers, channel modes,
normalizer and collar (from each run's ``experiment.json``, or its rows when that file is
missing), the engines, models and versions that made the rows, and the files; and, for every
cell found in one run only, which part of its key the other run lacks."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from stt_eval.run.directory import EXPERIMENT_FILE

SHOWN = 5
"""Values listed per side before "and N more"."""

SETTINGS = (
    # (aspect, key of the resolved experiment, column of the rows)
    ("conditions", "conditions", "condition"),
    ("chunking", "chunking", "chunking"),
    ("merge", "merge", "merge"),
    ("diarizers", "diarizers", "diarizer"),
    ("channel mode", "channel_mode", "channel_mode"),
    ("normalizer", "normalizer", "normalizer"),
    ("collar (s)", "collar", "collar_s"),
)


def experiment_of(run_dir: Path) -> dict[str, Any]:
    """A run's resolved experiment (``experiment.json``), empty when it has none."""
    path = Path(run_dir) / EXPERIMENT_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _listed(values: Sequence[object]) -> str:
    values = [str(v) for v in values]
    more = f" and {len(values) - SHOWN} more" if len(values) > SHOWN else ""
    return ", ".join(values[:SHOWN]) + more if values else "–"


def _values(exp: dict, key: str, rows: pd.DataFrame, column: str) -> list[str]:
    """A setting's values in the order the experiment lists them (else as the rows hold them)."""
    value = exp.get("experiment", {}).get(key)
    if value is None:
        found = rows[column].dropna() if column in rows else pd.Series([], dtype=object)
        return sorted({str(v) for v in found})
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def _providers(exp: dict, rows: pd.DataFrame) -> dict[str, str]:
    """Provider label → its options as text (from the experiment; rows carry no options)."""
    listed = exp.get("experiment", {}).get("providers")
    if not listed:
        return {str(p): "" for p in sorted(set(rows["provider"]))}
    return {p["label"]: ", ".join(f"{k}={v}" for k, v in (p.get("options") or [])) for p in listed}


def _engines(rows: pd.DataFrame) -> dict[str, str]:
    """Provider → the engine, model and version(s) its rows record."""
    cols = [c for c in ("engine", "model", "engine_version") if c in rows]
    out = {}
    for provider, group in rows.groupby("provider", sort=True):
        made = group[cols].astype(object).where(group[cols].notna(), "").drop_duplicates()
        said = [" ".join(str(v) for v in r if str(v)) for r in made.values]
        out[str(provider)] = "; ".join(s for s in said if s) or "–"
    return out


def differences(
    exp_a: dict, exp_b: dict, rows_a: pd.DataFrame, rows_b: pd.DataFrame
) -> list[dict[str, str]]:
    """What differs between two runs, one ``{"aspect", "A", "B"}`` per difference (none: the
    same experiment on the same files, made by the same engines)."""
    out: list[dict[str, str]] = []

    def differ(aspect: str, a: object, b: object) -> None:
        if a != b:
            out.append({"aspect": aspect, "A": str(a), "B": str(b)})

    prov_a, prov_b = _providers(exp_a, rows_a), _providers(exp_b, rows_b)
    if set(prov_a) != set(prov_b):
        only_a, only_b = (
            [p for p in x if p not in y] for x, y in ((prov_a, prov_b), (prov_b, prov_a))
        )
        differ("providers (only in one run)", _listed(only_a), _listed(only_b))
    for name in sorted(set(prov_a) & set(prov_b)):
        differ(f"options of {name}", prov_a[name] or "defaults", prov_b[name] or "defaults")
    for aspect, key, column in SETTINGS:
        differ(
            aspect,
            _listed(_values(exp_a, key, rows_a, column)),
            _listed(_values(exp_b, key, rows_b, column)),
        )
    eng_a, eng_b = _engines(rows_a), _engines(rows_b)
    for name in sorted(set(eng_a) & set(eng_b)):
        differ(f"engine of {name}", eng_a[name], eng_b[name])
    differ(
        "stt-eval version", exp_a.get("stt_eval_version", "–"), exp_b.get("stt_eval_version", "–")
    )
    files_a, files_b = set(rows_a["sample_id"]), set(rows_b["sample_id"])
    if files_a != files_b:
        out.append(
            {
                "aspect": f"files ({len(files_a & files_b)} in both)",
                "A": f"{len(files_a)}; only here: {_listed(sorted(files_a - files_b))}",
                "B": f"{len(files_b)}; only here: {_listed(sorted(files_b - files_a))}",
            }
        )
    return out


def why_missing(
    only: pd.DataFrame, other: pd.DataFrame, key: Sequence[str], side: str, other_side: str
) -> Counter:
    """For cells of one run missing from the other: the first part of the key (file first,
    then provider, condition…) whose value the other run never has, counted; a cell whose
    every part the other run has elsewhere is a combination it did not run."""
    seen = {col: set(other[col].astype(str)) for col in key if col in other}
    counts: Counter = Counter()
    for cell in only[list(key)].astype(str).itertuples(index=False, name=None):
        reason = f"the combination is not in {other_side}"
        for col, value in zip(key, cell):
            if col in seen and value not in seen[col]:
                reason = f"{col} {value} is not in {other_side}"
                break
        counts[f"only in {side}: {reason}"] += 1
    return counts
