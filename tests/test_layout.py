"""The architecture as a test: one ordered list of layers, data flowing up through them.

A module may import modules of its own layer or of a layer below it, never above, and the
import graph between modules has no circle. A module belongs to the longest prefix listed, so
``stt_eval.providers.http`` sits below the rest of ``stt_eval.providers``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from .conftest import ROOT

PACKAGE = ROOT / "stt_eval"
MAX_LINES = 400

LAYERS: tuple[tuple[str, ...], ...] = (
    # values: records, the error family; import nothing of ours
    ("stt_eval", "stt_eval.types", "stt_eval.errors"),
    # signal and text: decode, check and cut audio; normalize words
    ("stt_eval.audio", "stt_eval.normalization"),
    # what is done to a recording and what is measured: pure functions of audio, text and times
    ("stt_eval.conditions", "stt_eval.chunking", "stt_eval.metrics", "stt_eval.cache"),
    # the result row: a cell's identity, its metrics' counts, what it cost, what made it
    ("stt_eval.rows",),
    # what the user hands over: manifests, references, transcripts, other toolkits' formats
    ("stt_eval.datasets",),
    # engines: plumbing first (errors, prices, rate limits, keys), then the one HTTP client
    ("stt_eval.providers.errors", "stt_eval.providers.prices", "stt_eval.providers.ratelimit"),
    ("stt_eval.providers.keys",),
    ("stt_eval.providers.http",),
    ("stt_eval.providers", "stt_eval.diarizers", "stt_eval.streaming", "stt_eval.streaming.remote"),
    # loopback servers that follow the providers' contracts (tests and notebooks only)
    ("stt_eval.testing", "stt_eval.testing.live"),
    # the experiment: a validated grid over everything below
    ("stt_eval.experiment",),
    # one recording through the stages: prepare -> transcribe -> merge -> score
    ("stt_eval.pipeline",),
    # many recordings: the grid, executors, progress, the run directory, exports
    ("stt_eval.run",),
    # faces: reports read a run's rows, tune races runs and reports them; the API and CLI on top
    ("stt_eval.report", "stt_eval.tune"),
    ("stt_eval.api",),
    ("stt_eval.cli",),
)


def layer_of(module: str) -> int:
    """Index of the layer a module (or an imported name) belongs to; the longest prefix wins."""
    best, best_len = None, -1
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            hit = module == prefix or (prefix != "stt_eval" and module.startswith(prefix + "."))
            if hit and len(prefix) > best_len:
                best, best_len = index, len(prefix)
    if best is None:
        raise AssertionError(f"{module} is in no layer: add it to LAYERS in tests/test_layout.py")
    return best


def _modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out.append((name, path))
    return out


MODULES = dict(_modules())


def _resolve(name: str) -> str:
    """The module an ``import``/``from`` names: ``from stt_eval.x import y`` may import a module
    ``stt_eval.x.y`` or a name defined in ``stt_eval.x``."""
    return name if name in MODULES else name.rsplit(".", 1)[0] if "." in name else name


def imports(path: Path) -> set[str]:
    """Our modules imported anywhere in a file (function-level imports count too)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.update(f"{node.module}.{a.name}" for a in node.names)
            names.add(node.module)
    return {_resolve(n) for n in names if n == "stt_eval" or n.startswith("stt_eval.")} & set(
        MODULES
    )


@pytest.mark.parametrize(("name", "path"), _modules(), ids=[n for n, _ in _modules()])
def test_imports_point_down_the_layers(name, path):
    own = layer_of(name)
    upward = sorted(m for m in imports(path) if layer_of(m) > own)
    assert not upward, f"{name} (layer {own}) imports {upward} from a layer above it"


def test_the_import_graph_has_no_circle():
    graph = {name: imports(path) - {name} for name, path in MODULES.items()}
    # a package's __init__ importing its own modules is not a circle of concepts
    graph = {n: {m for m in deps if not n.startswith(m + ".")} for n, deps in graph.items()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                cycle = stack[stack.index(dep) :] + [dep]
                raise AssertionError("import circle: " + " -> ".join(cycle))
            if dep not in state:
                visit(dep)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)


def test_an_upward_import_is_caught():
    """The rule itself can fail: a metric importing the pipeline is above its layer."""
    assert layer_of("stt_eval.pipeline.recording") > layer_of("stt_eval.metrics.wer")
    assert layer_of("stt_eval.providers.base") > layer_of("stt_eval.providers.http")


@pytest.mark.parametrize(("name", "path"), _modules(), ids=[n for n, _ in _modules()])
def test_no_module_is_a_god_module(name, path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines; split it by concept"
