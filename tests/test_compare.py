"""`stt-eval compare`: two runs' rows matched cell by cell, changes beyond noise marked, and what
was dropped counted by reason — on hand-written rows whose rates are computed here by hand."""

from __future__ import annotations

import json

import pytest

from stt_eval.api import compare_runs
from stt_eval.cli import main
from stt_eval.rows import ResultRow
from stt_eval.run.directory import ROWS_FILE, append_rows

from .conftest import flat_row

FILES = [f"f{i:02d}" for i in range(12)]
CLEAN_A = [1, 0, 2, 1, 0, 1, 2, 1, 0, 1, 1, 2]  # substitutions per file, 10 reference words each
CLEAN_UP = [3, 2, 4, 3, 3, 2, 4, 3, 2, 3, 3, 4]  # B makes this many more on every file
NOISE_A = [2, 1, 3, 2, 1, 2, 3, 2, 1, 2, 2, 3]
NOISE_MOVE = [1, -1] * 6  # B: one more, one fewer, ... (no change overall)


def _row(run: str, sid: str, condition: str, subs: int, digest: str = "") -> ResultRow:
    return flat_row(
        run_id=run,
        sample_id=sid,
        provider="p",
        condition=condition,
        hits=10 - subs,
        subs=subs,
        ref_words=10,
        sample_digest=digest or f"d-{sid}",
    )


@pytest.fixture
def runs(tmp_path):
    a, b = tmp_path / "run-a", tmp_path / "run-b"
    rows_a = [_row("a", f, "clean", s) for f, s in zip(FILES, CLEAN_A)]
    rows_a += [_row("a", f, "noise", s) for f, s in zip(FILES, NOISE_A)]
    rows_a.append(_row("a", "only-a", "clean", 0))
    rows_b = [_row("b", f, "clean", s + u) for f, s, u in zip(FILES, CLEAN_A, CLEAN_UP)]
    rows_b += [_row("b", f, "noise", s + m) for f, s, m in zip(FILES, NOISE_A, NOISE_MOVE)]
    rows_b[12] = flat_row(
        run_id="b",
        sample_id="f00",
        provider="p",
        condition="noise",
        status="failed",
        error="timeout",
    )
    rows_b[13] = _row("b", "f01", "noise", 1, digest="d-edited")
    for d, rows in ((a, rows_a), (b, rows_b)):
        d.mkdir()
        append_rows(d / ROWS_FILE, rows)
    return a, b


def test_a_moved_cell_is_marked_and_a_steady_one_is_not(runs):
    table = compare_runs(*runs)
    clean = table[(table["metric"] == "wer") & (table["condition"] == "clean")].iloc[0]
    noise = table[(table["metric"] == "wer") & (table["condition"] == "noise")].iloc[0]
    # clean: 12 files × 10 words; A 12 errors, B 12 + 36 = 48
    assert clean["files"] == 12
    assert clean["a"] == pytest.approx(12 / 120) and clean["b"] == pytest.approx(48 / 120)
    assert clean["change"] == pytest.approx(0.30)
    assert clean["change_low"] > 0 and clean["significant"]
    # noise: f00 failed in B, f01's reference changed; f02..f11: 21 errors / 100 words each side
    assert noise["files"] == 10
    assert noise["a"] == pytest.approx(0.21) and noise["b"] == pytest.approx(0.21)
    assert noise["change"] == pytest.approx(0.0) and not noise["significant"]
    assert len(table) == 2  # no DER or cpWER counts in these rows
    assert table.attrs["matched"] == 22
    assert table.attrs["dropped"] == {
        "only in A": 1,
        "failed in B": 1,
        "recording or reference changed": 1,
    }


def test_cli_prints_the_marked_table_and_json(runs, capsys):
    assert main(["compare", *map(str, runs)]) == 0
    out = capsys.readouterr().out
    lines = {
        line.split("|")[2].strip(): line for line in out.splitlines() if line.startswith("| p ")
    }
    assert "+30.0 **" in lines["clean"] and "**" not in lines["noise"]
    assert "Dropped: 1 only in A, 1 failed in B, 1 recording or reference changed." in out
    assert "| +0.0 |" in lines["noise"]
    assert main(["compare", *map(str, runs), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["matched"] == 22 and doc["runs"] == ["run-a", "run-b"]
    assert [line["significant"] for line in doc["lines"]] == [True, False]


def test_a_directory_without_rows_is_named(tmp_path, runs):
    with pytest.raises(FileNotFoundError, match="nothing: not a run directory"):
        compare_runs(runs[0], tmp_path / "nothing")
