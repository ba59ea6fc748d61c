"""What a row's numbers depend on, and which earlier rows a resumed run keeps.

Every input of a cell is a named component with a content hash, e.g. ``"synonyms file glm.txt":
"3fa2…"``: the recording (and tracks) by its bytes; the manifest row, its reference text, turns
and segments; every file a setting names, by content: a manifest row's ``rttm``/``stm`` (any
``meta.*_path``), a condition's ``path=`` (noise files), the normalizer's ``synonyms(path=…)``,
a provider option called ``path`` or ending in ``_path``/``_file``; the babble talkers mixed into
the recording (other recordings of the dataset); the provider's options. A run records the
components of every cell in ``inputs.json`` before it writes a row, so the next run keeps a
row only while all of them are unchanged, and says which changed when it is not.

A failed cell is kept too when its failure will not pass by sending the same input again
(``failure == "permanent"``: a 4xx, bad audio); transient failures (timeouts, 5xx, 429s that
ran out of attempts) and, with ``retry_failed``, permanent ones are tried again.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from stt_eval.conditions.spec import parse_chain
from stt_eval.datasets.manifest_fields import RESERVED_META
from stt_eval.experiment import ProviderSpec
from stt_eval.normalization.rules import parse_normalizer
from stt_eval.pipeline.cell import Cell
from stt_eval.pipeline.prepare import babble_talkers
from stt_eval.providers.vocabulary import OFF, TERMS
from stt_eval.rows import ResultRow
from stt_eval.run.directory import INPUTS_FILE, row_key, write_atomic
from stt_eval.types import Sample

Inputs = Mapping[str, str]
"""A cell's inputs: component name → content hash."""

UNRECORDED = "their inputs were not recorded (rows of an older stt-eval)"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def _json_hash(value: Any) -> str:
    return _sha(json.dumps(value, sort_keys=True, default=str).encode())


def is_file_setting(name: str) -> bool:
    """Whether a setting names a file whose content the numbers depend on."""
    return name == "path" or name.endswith(("_path", "_file"))


@dataclass
class Hasher:
    """Content hashes of files, each file read once per run (keyed by path, size and mtime)."""

    seen: dict[tuple[str, int, int], str] = field(default_factory=dict)

    def file(self, path: Path | str) -> str:
        try:
            st = Path(path).stat()
        except OSError:
            return "missing"
        key = (str(path), st.st_size, st.st_mtime_ns)
        if key not in self.seen:
            h = hashlib.sha256()
            with Path(path).open("rb") as f:
                for block in iter(lambda f=f: f.read(1 << 20), b""):
                    h.update(block)
            self.seen[key] = h.hexdigest()[:16]
        return self.seen[key]

    def named(self, out: dict[str, str], kind: str, path: Path | str) -> None:
        """Add a file to `out` as ``"<kind> file <name>"`` (the full path when the name is
        taken by another file of the same kind)."""
        label = f"{kind} file {Path(path).name}"
        if label in out:
            label = f"{kind} file {path}"
        out[label] = self.file(path)


def sample_digest(sample: Sample) -> str:
    """What a sample's rows were computed from: the audio file's bytes and every reference and
    setting of the manifest row (not its path: a moved file with the same bytes is the same).
    Kept in every row, so two runs are compared only on the same recordings and references."""
    h = hashlib.sha256()
    for path in (sample.audio_path, *(p for _, p in sample.tracks)):
        with Path(path).open("rb") as f:
            for block in iter(lambda f=f: f.read(1 << 20), b""):
                h.update(block)
    fields_ = {
        k: v for k, v in asdict(sample).items() if k not in ("audio_path", "channels", "tracks")
    }
    # where the reference files sit is not what they hold (their turns and segments are hashed
    # above): two checkouts of one dataset give the same digest, so compare can match them
    fields_["meta"] = {k: v for k, v in sample.meta.items() if k not in RESERVED_META}
    if sample.stream_speakers:  # only then, so other samples' digests stay as they were
        fields_["streams"] = [sample.stream_speakers, bool(sample.tracks)]
    h.update(json.dumps(fields_, sort_keys=True, default=str).encode())
    return h.hexdigest()[:16]


def sample_inputs(sample: Sample, hasher: Hasher) -> dict[str, str]:
    """A sample's own inputs: its audio, reference text, turns, segments, the rest of its
    manifest row, and every file it names (``meta.rttm_path``, ``meta.stm_path``, a field that
    holds a Path) by content."""
    out = {f"recording {sample.audio_path.name}": hasher.file(sample.audio_path)}
    for speaker, path in sample.tracks:
        out[f"track {speaker} {Path(path).name}"] = hasher.file(path)
    out[f"reference text of {sample.id}"] = _json_hash(sample.text)
    for name in ("turns", "segments"):
        if getattr(sample, name) is not None:
            out[f"reference {name} of {sample.id}"] = _json_hash(getattr(sample, name))
    files = {k: v for k, v in sample.meta.items() if is_file_setting(k) and isinstance(v, str)}
    for key, path in files.items():
        hasher.named(out, key.removesuffix("_path").removesuffix("_file"), path)
    own = ("id", "audio_path", "tracks", "text", "turns", "segments", "meta")
    rest = {k: v for k, v in asdict(sample).items() if k not in own}  # any field to come too
    for key, value in list(rest.items()):
        if isinstance(value, Path):  # a file the sample names (a UEM, say): by content
            hasher.named(out, key.removesuffix("_path"), rest.pop(key))
    rest["meta"] = {k: v for k, v in sample.meta.items() if k not in files}
    out[f"manifest row of {sample.id}"] = _json_hash(rest)
    return out


def condition_inputs(
    sample: Sample, condition: str, dataset_paths: Sequence[str], hasher: Hasher
) -> dict[str, str]:
    """The files a condition chain reads (noise files), and the babble talkers it mixes in."""
    out: dict[str, str] = {}
    for step in parse_chain(condition):
        for key, value in step.params:
            if is_file_setting(key) and value:
                hasher.named(out, step.name, str(value))
        if step.get("kind") == "babble":
            talkers = babble_talkers(sample.audio_path, dataset_paths)
            out[f"babble talkers of {sample.id}"] = _json_hash([hasher.file(p) for p in talkers])
    return out


def normalizer_inputs(normalizer: str, hasher: Hasher) -> dict[str, str]:
    """The files a normalizer reads (synonym lists)."""
    out: dict[str, str] = {}
    for step, path in parse_normalizer(normalizer):
        if path is not None:
            hasher.named(out, step, path)
    return out


def provider_inputs(spec: ProviderSpec, hasher: Hasher) -> dict[str, str]:
    """A provider's options, and the content of every file an option names."""
    options = dict(spec.options)
    out = {f"options of {spec.label}": _json_hash(options)}
    for key, value in options.items():
        if is_file_setting(key) and isinstance(value, str) and value:
            hasher.named(out, f"{spec.label} {key}", value)
    return out


def plan_inputs(
    samples: Sequence[Sample], cells: Sequence[Cell], normalizer: str, dataset_paths: Sequence[str]
) -> dict[tuple[str, ...], Inputs]:
    """Every cell's inputs, by the key its row will have (see ``Cell.key``)."""
    hasher = Hasher()
    shared = normalizer_inputs(normalizer, hasher)
    providers = {c.provider.label: provider_inputs(c.provider, hasher) for c in cells}
    vocabularies: dict[str, dict[str, str]] = {}
    for v in dict.fromkeys(c.vocabulary for c in cells):
        vocabularies[v] = {}
        if v not in (OFF, TERMS):  # a phrase file: its content, like any file an input names
            hasher.named(vocabularies[v], "vocabulary file", v)
    out: dict[tuple[str, ...], Inputs] = {}
    for s in samples:
        own = sample_inputs(s, hasher)
        conditions = {
            c: condition_inputs(s, c, dataset_paths, hasher)
            for c in dict.fromkeys(c.condition for c in cells)
        }
        for cell in cells:
            out[cell.key(s.id)] = {
                **own,
                **conditions[cell.condition],
                **shared,
                **providers[cell.provider.label],
                **vocabularies[cell.vocabulary],
            }
    return out


# --------------------------------------------------------------------------- inputs.json


def write_inputs(run_dir: Path, inputs: Mapping[tuple[str, ...], Inputs]) -> None:
    """Record every cell's inputs (each distinct set once, by its hash) in ``inputs.json``."""
    sets: dict[str, Inputs] = {}
    cells = {}
    for key, components in inputs.items():
        digest = _json_hash(components)
        sets.setdefault(digest, dict(components))
        cells[json.dumps(list(key))] = digest
    write_atomic(Path(run_dir) / INPUTS_FILE, json.dumps({"inputs": sets, "cells": cells}))


def read_inputs(run_dir: Path) -> dict[tuple[str, ...], Inputs] | None:
    """The inputs recorded for each cell, None for a run that recorded none (older stt-eval)."""
    path = Path(run_dir) / INPUTS_FILE
    if not path.exists():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return {tuple(json.loads(k)): doc["inputs"][d] for k, d in doc["cells"].items()}
    except (ValueError, KeyError, TypeError):
        return None  # unreadable: as good as none, every row is made again


# --------------------------------------------------------------------------- resume


@dataclass(frozen=True)
class Resumed:
    """Which earlier rows a resumed run keeps, and why the others are made again."""

    kept: tuple[ResultRow, ...]
    changed: tuple[str, ...] = ()
    """What changed, e.g. ``synonyms file glm.txt changed``, first seen first."""
    redone: int = 0
    """Rows made again because an input in ``changed`` changed."""
    removed: tuple[str, ...] = ()
    outdated: tuple[str, ...] = ()
    retried: int = 0
    """Failed cells tried again: transient failures, or all with ``retry_failed``."""

    def describe(self) -> list[str]:
        failed = sum(r.status == "failed" for r in self.kept)
        out = [f"{len(self.kept)} finished cells kept"] if self.kept else []
        if failed:
            out[0] += (
                f", {failed} of them failures that sending again would not fix "
                "(--retry-failed sends them again)"
            )
        if self.redone:
            out.append(f"{self.redone} rows redone: {_listed(self.changed, '; ')}")
        if self.retried:
            out.append(f"{self.retried} failed cells tried again")
        if self.removed:
            out.append(f"dropped, no longer in the manifest or selection: {_listed(self.removed)}")
        if self.outdated:
            out.append(f"made again, another engine version made them: {_listed(self.outdated)}")
        return out


def _listed(items: Sequence[str], sep: str = ", ") -> str:
    more = f" and {len(items) - 8} more" if len(items) > 8 else ""
    return sep.join(items[:8]) + more


def _changes(old: Inputs, new: Inputs) -> list[str]:
    said = [f"{name} changed" for name in new if name in old and old[name] != new[name]]
    said += [f"{name} added" for name in new if name not in old]
    return said + [f"{name} removed" for name in old if name not in new]


def resume(
    rows: Iterable[ResultRow],
    recorded: Mapping[tuple[str, ...], Inputs] | None,
    current: Mapping[tuple[str, ...], Inputs],
    versions: Mapping[str, str],
    retry_failed: bool = False,
) -> Resumed:
    """Keep the rows whose cell is still in the grid, made by the same engine version from the
    same inputs (`recorded` when they were made, `current` now); of failed rows, only those whose
    failure is permanent, and none with `retry_failed`."""
    kept: list[ResultRow] = []
    changed: Counter[str] = Counter()
    removed, outdated, sample_ids = set(), set(), {key[0] for key in current}
    redone = retried = 0
    for row in rows:
        key = row_key(row)
        if (
            not row.provenance.sample_digest
        ):  # a manifest problem's row: made again from the manifest
            continue
        if row.status == "failed" and (retry_failed or row.failure != "permanent"):
            retried += key in current
            continue
        if key not in current:
            if row.status == "ok" and row.identity.sample_id not in sample_ids:
                removed.add(row.identity.sample_id)
            continue
        if versions.get(row.identity.provider) != row.provenance.engine_version:
            outdated.add(row.identity.provider)
            continue
        before = None if recorded is None else recorded.get(key)
        said = [UNRECORDED] if before is None else _changes(before, current[key])
        if said:
            redone += 1
            changed.update(said)
            continue
        kept.append(row)
    return Resumed(
        tuple(kept),
        tuple(changed),
        redone,
        tuple(sorted(removed)),
        tuple(sorted(outdated)),
        retried,
    )
