"""The flow points one way: signal and chunking never import metrics, metrics never import
dataset IO or engines, nothing imports the CLI, and no module grows into a god module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from .conftest import ROOT

PACKAGE = ROOT / "stt_eval"
MAX_LINES = 400

UPSTREAM_OF_EVERYTHING = (
    "stt_eval.pipeline", "stt_eval.executors", "stt_eval.runner", "stt_eval.api", "stt_eval.cli",
)  # fmt: skip
FORBIDDEN = {
    # module prefix: imports it must never make
    "stt_eval.audio": ("stt_eval.metrics", "stt_eval.report", "stt_eval.providers"),
    "stt_eval.conditions": ("stt_eval.metrics", "stt_eval.report", "stt_eval.providers"),
    "stt_eval.chunking": (
        "stt_eval.metrics",
        "stt_eval.report",
        "stt_eval.providers",
        "faster_whisper",
    ),
    "stt_eval.metrics": ("stt_eval.datasets", "stt_eval.providers", "stt_eval.report"),
    "stt_eval.providers": ("stt_eval.metrics", "stt_eval.report", "stt_eval.datasets"),
    "stt_eval.types": ("stt_eval.",),
}


def _modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out.append((name, path))
    return out


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


@pytest.mark.parametrize(("name", "path"), _modules(), ids=[n for n, _ in _modules()])
def test_imports_point_down_the_flow(name, path):
    imported = _imports(path)
    if name == "stt_eval.cli" or name.startswith("stt_eval.cli."):
        imported = {m for m in imported if not m.startswith("stt_eval.cli")}  # its own parts
        name = "stt_eval.cli"
    forbidden = list(UPSTREAM_OF_EVERYTHING) if name not in UPSTREAM_OF_EVERYTHING else []
    if name == "stt_eval.api":
        forbidden = ["stt_eval.cli"]
    if name in ("stt_eval.runner", "stt_eval.executors"):
        forbidden = ["stt_eval.api", "stt_eval.cli"]
    if name == "stt_eval.pipeline":
        forbidden = ["stt_eval.executors", "stt_eval.runner", "stt_eval.api", "stt_eval.cli"]
    for prefix, bad in FORBIDDEN.items():
        if name == prefix or name.startswith(prefix + "."):
            forbidden += bad
    wrong = sorted(
        m
        for m in imported
        for b in forbidden
        if m == b or m.startswith(b.rstrip(".") + ".") or (b.endswith(".") and m.startswith(b))
    )
    assert not wrong, f"{name} imports {wrong} against the flow"


@pytest.mark.parametrize(("name", "path"), _modules(), ids=[n for n, _ in _modules()])
def test_no_module_is_a_god_module(name, path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines; split it by concept"
