"""The Verdict that opens a report, on synthetic runs whose answers are known: a provider better
by a known margin, two equal ones (and the files it would take to tell them apart, checked by
simulating the primary test), too few files, a chunk setting to recommend, the cheapest and
fastest near the best, DER; and one primary test whose intervals, p-values and verdicts agree
and do not depend on row order."""

from __future__ import annotations

import math
import random
import re

import numpy as np
import pytest

from stt_eval.metrics.stats import paired_bootstrap
from stt_eval.report.analysis.paired import comparisons
from stt_eval.report.verdict import verdict, verdict_blocks
from stt_eval.run.directory import rows_frame

from .conftest import flat_row

FILES = 40
WORDS = 100
"""Reference words per synthetic file."""


def _row(sample, provider, errors, condition="clean", words=WORDS, **columns):
    return flat_row(
        "r",
        sample,
        provider,
        condition,
        hits=words - int(errors),
        subs=int(errors),
        ref_words=words,
        **columns,
    )


def _run(errors: dict[str, np.ndarray], **columns):
    """Rows of providers on the same FILES files: provider → errors per file."""
    return [
        _row(f"f{i:02d}", provider, e, **columns)
        for provider, per_file in errors.items()
        for i, e in enumerate(per_file)
    ]


def _sides(seed: int):
    """Per-file errors of two providers drawn alike: a file's difficulty plus ±3 errors each."""
    rng = np.random.default_rng(seed)
    base = rng.integers(5, 20, FILES)
    return base + rng.integers(-3, 4, FILES), base + rng.integers(-3, 4, FILES)


def test_a_provider_better_by_a_known_margin_is_called_better_significantly():
    a, noise = _sides(3)
    b = a + 3 + (noise - noise.mean()).round().astype(int) % 2  # B: 3 or 4 more errors per file
    said = verdict(rows_frame(_run({"A": a, "B": b})))
    (line,) = said
    assert line.startswith(f"clean: A has the lowest WER, {100 * a.sum() / (FILES * WORDS):.1f} %")
    assert f"Runner-up: B, {100 * b.sum() / (FILES * WORDS):.1f} %." in line
    margin = 100 * (b.sum() - a.sum()) / (FILES * WORDS)
    assert f"A is better (significant) than B: WER {margin:.1f} pt lower" in line
    assert "no significant" not in line and "too few" not in line


def test_equal_providers_say_how_many_more_files_and_a_simulation_agrees():
    a, b = _sides(1)
    said = verdict(rows_frame(_run({"A": a, "B": b})))
    (line,) = said
    found = re.search(r"A and B: no significant difference; about (\d+) more files would be", line)
    assert found, line
    total = FILES + int(found.group(1))
    # the claim: at `total` files the primary test detects this difference 80 % of the time.
    # Simulate files whose error difference varies as these do, with the measured mean.
    diff = (a - b).astype(float)
    mean = diff.sum() / FILES  # errors per file (all files have WORDS words)
    spread = np.std(diff - mean, ddof=1)
    assert mean != 0 and total < 2000  # a difference to detect, a simulation that runs fast

    def detected(n: int, reps: int = 200) -> float:
        rng = np.random.default_rng(7)
        hits = 0
        for rep in range(reps):
            d = rng.normal(mean, spread, n)
            errors_b = np.full(n, 50.0)
            test = paired_bootstrap(
                errors_b + d, errors_b, np.full(n, float(WORDS)), n_resamples=1000, seed=rep
            )
            hits += test.p_value < 0.05
        return hits / reps

    assert detected(total) == pytest.approx(0.8, abs=0.1)
    assert detected(total // 3, reps=100) < 0.5  # and a third as many files would not do


def test_two_files_are_too_few_to_test_not_no_difference():
    rows = _run({"A": np.array([0, 0]), "B": np.array([95, 95])})[:2]
    rows += [_row(f"f{i:02d}", "B", 95) for i in range(2)]
    frame = rows_frame(rows)
    (line,) = verdict(frame)
    assert "A vs B: too few files to test (2; the paired bootstrap needs at least 4)" in line
    assert "no significant difference" not in line
    (pair,) = comparisons(frame).to_dict("records")
    assert pair["finding"] == "too few files to test" and math.isnan(pair["p_bootstrap"])
    assert math.isnan(pair["diff_low"])  # no interval beside a test that cannot be made


def test_intervals_p_values_and_verdicts_agree_whatever_the_row_order():
    rng = np.random.default_rng(5)
    rows = []
    for condition, shift in (("clean", 0), ("noise(kind=white, snr_db=10)", 6)):
        base = rng.integers(5, 20, 12) + shift
        errors = {"A": base, "B": base + rng.integers(-1, 2, 12), "C": base + 4}
        rows += _run(errors, condition=condition)
    frame = rows_frame(rows)
    table = comparisons(frame)
    assert len(table) == 3 * 2 + 3  # provider pairs per condition, then noise vs clean
    for line in table.to_dict("records"):
        excludes = line["diff_high"] < 0 or line["diff_low"] > 0
        if not math.isnan(line["diff_low"]):
            assert excludes == line["significant"], line
        assert line["significant"] == (line["p_bootstrap"] < 0.05)
        assert ("(significant" in line["verdict"]) == line["significant"]
        assert line["level"] >= 0.95  # widened for Holm, never narrowed
    assert table["significant"].any() and not table["significant"].all()
    # 12 files: MAPSSWE supports, where defined (A vs C differ by 4 on every file: no variance)
    assert table["p_mapsswe"].isna().tolist() == [
        (a, b) == ("A", "C") for a, b in zip(table["a"], table["b"])
    ]

    shuffled = rows[:]
    random.Random(11).shuffle(shuffled)
    again = rows_frame(shuffled)
    assert verdict(again) == verdict(frame)
    assert comparisons(again).equals(table)


def test_mapsswe_is_not_shown_with_few_files():
    frame = rows_frame(_run({"A": np.arange(6), "B": np.arange(6) + 5}))
    (line,) = comparisons(frame).to_dict("records")
    assert line["significant"] and math.isnan(line["p_mapsswe"])


def test_cheapest_and_fastest_within_one_point_of_the_best():
    a, _ = _sides(2)
    costs = {"A": (0.02, 1.0), "C": (0.005, 4.0), "B": (0.001, 0.1)}  # $ per file, latency s
    rows = []
    for provider, errors in (("A", a), ("C", a + (np.arange(FILES) % 2)), ("B", a + 10)):
        cost, latency = costs[provider]
        rows += _run({provider: errors}, audio_s=60.0, latency_s=latency, cost_usd=cost)
    (line,) = verdict(rows_frame(rows))
    # C makes 20 more errors in 4000 words (+0.5 pt): within 1 pt; B is 10 pt worse
    assert "Within 1 pt of the best (A, C): the cheapest is C ($0.30 per audio hour)" in line
    assert "the fastest A (RTFx 60.0)" in line


def test_the_cheapest_chunk_setting_not_worse_than_the_best_is_recommended():
    rng = np.random.default_rng(4)
    base = rng.integers(5, 15, FILES)
    settings = {  # chunking: errors per file (120 s files)
        "none": base + 8,  # the whole file at once loses words: worse
        "30s/2s": base + rng.integers(-1, 2, FILES),  # as good, give or take an error
        "15s/3s": base,
        "10s/2s": base + rng.integers(-1, 2, FILES),
    }
    rows = [
        _row(f"f{i:02d}", "p", e, chunking=chunk, merge="none" if chunk == "none" else "timestamp")
        for chunk, errors in settings.items()
        for i, e in enumerate(errors)
    ]
    for row in rows:
        object.__setattr__(row.measurement, "audio_s", 120.0)
    said = [s for s in verdict(rows_frame(rows)) if s.startswith("Chunking")]
    # 120 s in 30 s windows overlapping by 2 s: 5 windows, 120 + 4 × 2 = 128 s (7 % more);
    # 15s/3s: 10 windows, 147 s; 10s/2s: 15 windows, 148 s; none is worse by 8 errors a file.
    # So 30s/2s is the cheapest of the settings as good as the best.
    assert said == [said[0]] and "Chunking, p on clean: use 30s/2s timestamp:" in said[0]
    assert "7 % more audio than the recordings in 200 requests" in said[0]


def test_der_names_the_better_diarizer():
    rows = []
    for i in range(FILES):
        for diarizer, missed in (("good", 0.5 + (i % 3) * 0.1), ("poor", 2.0 + (i % 2) * 0.2)):
            rows.append(
                _row(
                    f"f{i:02d}",
                    "p",
                    1,
                    diarizer=diarizer,
                    collar_s=0.25,
                    der_missed_s=missed,
                    der_false_alarm_s=0.0,
                    der_confusion_s=0.0,
                    der_total_s=10.0,
                )
            )
    said = [s for s in verdict(rows_frame(rows)) if s.startswith("Diarization")]
    assert len(said) == 1 and said[0].startswith("Diarization, clean: good has the lowest DER")
    assert "good is better (significant) than poor: DER" in said[0]


def test_the_verdict_block_says_how_it_decides():
    blocks = verdict_blocks(rows_frame(_run({"A": np.arange(5), "B": np.arange(5) + 1})))
    assert blocks[0] == "## Verdict\n" and "80 % power" in blocks[1]
    assert "With 5 files every figure here is rough" in blocks[1]
    assert blocks[2].startswith("- clean: A has the lowest WER")


def test_a_tie_is_called_a_tie():
    errors = np.arange(6)
    (line,) = verdict(rows_frame(_run({"B": errors, "A": errors[::-1]})))
    assert line.startswith("clean: A and B tie for the lowest WER, 2.5 %")


def test_reports_open_with_the_verdict_and_group_the_sections():
    from stt_eval.report.document import report_blocks, report_html, report_markdown

    frame = rows_frame(_run({"A": np.arange(5), "B": np.arange(5) + 1}))
    blocks = report_blocks(frame, {})
    md = report_markdown(blocks)
    heads = [line for line in md.splitlines() if line.startswith("## ")]
    assert heads[0] == "## Verdict" and "## Accuracy" in heads and "## Provenance" in heads
    assert len(heads) <= 8  # a few groups, not every section
    assert "### Pooled WER" in md and "### Paired differences" in md
    contents = next(line for line in md.splitlines() if line.startswith("Contents: "))
    assert "[Accuracy](#accuracy)" in contents and "Pooled WER" not in contents
    page = report_html(blocks, frame)
    assert page.index('id="verdict"') < page.index("<nav>") < page.index('id="accuracy"')
    assert '<details class="group" id="accuracy" open>' in page
    assert '<details class="group" id="provenance">' in page  # closed: a reader may skip it
    assert page.count("<details") == page.count("</details>")
