"""Intervals and paired tests: coverage on synthetic data with a known rate, hand-derived cases,
and (slow) agreement with sclite's ``sc_stats -t mapsswe`` on constructed hypothesis pairs."""

from __future__ import annotations

import math
import random
import re
import shutil
import subprocess

import numpy as np
import pytest

from stt_eval.datasets.transcripts import write_trn
from stt_eval.metrics.stats import (
    Interval,
    adjust,
    bootstrap_rate,
    holm,
    mapsswe,
    paired_bootstrap,
    seed_for,
)
from stt_eval.metrics.wer import score_text

# --------------------------------------------------------------------------- intervals


def test_95_percent_interval_covers_the_true_rate_95_percent_of_the_time():
    # 400 synthetic test sets of 60 files: each file has 20-400 words and its own error rate
    # drawn from Beta(2, 18) (mean 0.1), errors ~ Binomial(words, rate). The population's
    # pooled rate is E[words * rate] / E[words] = E[rate] = 0.1 (words and rate independent).
    master = np.random.default_rng(2024)
    covered = 0
    for rep in range(400):
        words = master.integers(20, 401, size=60)
        errors = master.binomial(words, master.beta(2, 18, size=60))
        iv = bootstrap_rate(errors, words, level=0.95, seed=rep)
        covered += iv.contains(0.1)
    assert 0.93 <= covered / 400 <= 0.97


def test_interval_is_reproducible_for_a_seed():
    errors, words = [3, 0, 7, 2, 9, 1], [40, 35, 60, 20, 80, 30]
    assert bootstrap_rate(errors, words, seed=5) == bootstrap_rate(errors, words, seed=5)
    assert bootstrap_rate(errors, words, seed=5) != bootstrap_rate(errors, words, seed=6)
    assert seed_for(0, ("wer", "p")) == seed_for(0, ("wer", "p")) != seed_for(0, ("wer", "q"))


def test_files_with_one_rate_give_a_point_interval():
    iv = bootstrap_rate([1, 2, 5], [10, 20, 50])  # every file, so every resample, at 10 %
    assert iv.low == pytest.approx(0.1) and iv.high == pytest.approx(0.1)


def test_two_files_span_their_extreme_resamples():
    # resamples {a,a} 30/40 = 75 %, {a,b} 30/60 = 50 %, {b,b} 0/80 = 0 %; the pooled rate is
    # 50 %, not the mean of file rates (37.5 %). With 2 files the expanded percentile interval
    # reads the distribution at Φ(√2 · t₁(0.025)) ≈ 1e-70, i.e. its extremes.
    iv = bootstrap_rate([15, 0], [20, 40])
    assert (iv.low, iv.high) == pytest.approx((0.0, 0.75))
    plain = bootstrap_rate([15, 0], [20, 40], method="percentile")
    assert plain.low >= 0.0 and plain.high <= 0.75


def test_fewer_than_two_files_or_no_words_give_no_interval():
    for iv in (bootstrap_rate([3], [10]), bootstrap_rate([], []), bootstrap_rate([1, 2], [0, 0])):
        assert math.isnan(iv.low) and math.isnan(iv.high)


def test_bad_inputs_name_the_problem():
    with pytest.raises(ValueError, match="numerators but"):
        bootstrap_rate([1, 2], [10])
    with pytest.raises(ValueError, match=">= 0"):
        bootstrap_rate([-1, 2], [10, 10])
    with pytest.raises(ValueError, match="unknown interval method"):
        bootstrap_rate([1, 2], [10, 10], method="bca")
    with pytest.raises(ValueError, match="level"):
        Interval(0.1, 0.2, level=95)


# --------------------------------------------------------------------------- paired tests


def test_paired_bootstrap_finds_a_consistent_difference():
    rng = np.random.default_rng(1)
    words = rng.integers(50, 200, size=30)
    a = rng.binomial(words, 0.05)
    b = rng.binomial(words, 0.15)
    t = paired_bootstrap(a, b, words, names=("fast", "slow"))
    assert t.significant and t.better == "fast" and t.difference < 0
    assert t.interval.high < 0  # the whole interval of a − b is below 0
    assert t.verdict.startswith("fast is better than slow (WER")
    assert t.rate_a == pytest.approx(a.sum() / words.sum())


def test_paired_bootstrap_of_a_system_with_itself_finds_nothing():
    words = [50, 60, 70, 80]
    t = paired_bootstrap([5, 1, 7, 2], [5, 1, 7, 2], words)
    assert t.p_value == 1.0 and not t.significant and t.better is None
    assert t.verdict.startswith("no significant difference between A and B")


def test_paired_bootstrap_is_rough_with_few_files():
    # 3 files all favour A, but 3 files cannot show it at 5 % once the interval is expanded
    t = paired_bootstrap([1, 2, 1], [5, 6, 5], [50, 50, 50])
    assert t.difference < 0 and not t.significant
    assert math.isnan(paired_bootstrap([1], [5], [50]).p_value)  # one file: no test


def test_mapsswe_by_hand():
    # segment differences 1, 3, 1, 3 (the last segment, right for both, is no segment):
    # mean 2, sd √(4/3), Z = 2 / (√(4/3) / √4) = 2√3; two-tailed p = erfc(Z / √2)
    t = mapsswe([2, 4, 2, 4, 0], [1, 1, 1, 1, 0], [10, 10, 10, 10, 10], names=("a", "b"))
    assert t.n == 4
    assert t.statistic == pytest.approx(2 * math.sqrt(3))
    assert t.p_value == pytest.approx(math.erfc(2 * math.sqrt(3) / math.sqrt(2)))
    assert t.better == "b" and t.rate_a == pytest.approx(0.24) and t.rate_b == pytest.approx(0.08)


def test_mapsswe_without_spread_cannot_tell():
    t = mapsswe([2, 2, 2], [1, 1, 1])  # sclite prints Z = 0 here; we say it is undefined
    assert math.isnan(t.p_value) and not t.significant and "cannot tell" in t.verdict


def test_holm_by_hand():
    # sorted 0.01, 0.02, 0.04, 0.30 times 4, 3, 2, 1 = 0.04, 0.06, 0.08, 0.30 (kept monotone)
    assert holm([0.04, 0.30, 0.01, 0.02]) == pytest.approx([0.08, 0.30, 0.04, 0.06])
    assert holm([0.5, math.nan])[0] == 0.5 and math.isnan(holm([0.5, math.nan])[1])


def test_adjusted_tests_rest_their_verdict_on_the_adjusted_p():
    # differences 1 0 1 2 0 1 -1 1 2 0: mean 0.7, sd 0.949, Z = 2.33, p = 0.0196 < 0.05; ten
    # such comparisons at once: Holm multiplies the (equal) p-values by 10
    one = mapsswe([2, 1, 2, 3, 1, 2, 0, 2, 3, 1], [1] * 10)
    tests = adjust([one] * 10)
    assert one.p_value == pytest.approx(math.erfc(0.7 / math.sqrt(0.9 / 10) / math.sqrt(2)))
    assert one.significant and not tests[0].significant
    assert tests[0].p == pytest.approx(10 * one.p_value)
    assert "Holm-adjusted" in tests[0].verdict


# --------------------------------------------------------------------------- sclite


def _utterances(n: int, seed: int) -> list[list[str]]:
    rng = random.Random(seed)
    vocab = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima".split()
    return [[rng.choice(vocab) for _ in range(10)] for _ in range(n)]


def _with_errors(ref: list[str], k: int, rng: random.Random) -> list[str]:
    """``ref`` with ``k`` (0-3) substitutions among words 3-5, so sclite's segmentation (two
    words right on both sides close a segment) makes one segment per utterance with errors."""
    hyp = list(ref)
    for pos in rng.sample([3, 4, 5], k):
        hyp[pos] = "zulu"
    return hyp


def _sc_stats(tmp_path, ref, hyp_a, hyp_b) -> tuple[float, bool]:
    ids = [f"spk_{i:03d}" for i in range(len(ref))]
    write_trn(dict(zip(ids, map(" ".join, ref))), tmp_path / "ref.trn")
    for name, hyps in (("a", hyp_a), ("b", hyp_b)):
        write_trn(dict(zip(ids, map(" ".join, hyps))), tmp_path / f"{name}.trn")
        subprocess.run(
            [
                "sctk",
                "sclite",
                "-r",
                str(tmp_path / "ref.trn"),
                "trn",
                "-h",
                str(tmp_path / f"{name}.trn"),
                "trn",
                name,
                "-i",
                "rm",
                "-o",
                "sgml",
                "-O",
                str(tmp_path),
            ],
            check=True,
            capture_output=True,
        )
    sgml = (tmp_path / "a.trn.sgml").read_bytes() + (tmp_path / "b.trn.sgml").read_bytes()
    subprocess.run(
        ["sctk", "sc_stats", "-p", "-t", "mapsswe", "-v", "-n", "res", "-O", str(tmp_path)],
        input=sgml,
        check=True,
        capture_output=True,
    )
    report = (tmp_path / "res.stats.mapsswe").read_text(errors="replace")
    m = re.search(r"\(Z Stat:\s*(-?[\d.]+)\) \(Stat Diff: (Yes|No)\)", report)
    assert m, report
    return float(m.group(1)), m.group(2) == "Yes"


PAIRS = {
    # name: (error counts A draws from, error counts B draws from)
    "a-better": ([0, 0, 1, 1, 2], [1, 2, 2, 3, 3]),
    "b-better": ([1, 2, 3, 3, 2], [0, 1, 0, 1, 1]),
    "no-difference": ([0, 1, 2, 3], [0, 1, 2, 3]),
    "small-but-real": ([0, 1, 1, 2], [1, 1, 2, 2]),
}


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("sctk") is None, reason="sctk not installed: apt-get install sctk")
@pytest.mark.parametrize("pair", sorted(PAIRS))
def test_paired_tests_agree_with_sclite_mapsswe(tmp_path, pair):
    rng = random.Random(sorted(PAIRS).index(pair))
    refs = _utterances(60, seed=len(pair))
    draws_a, draws_b = PAIRS[pair]
    hyp_a = [_with_errors(r, rng.choice(draws_a), rng) for r in refs]
    hyp_b = [_with_errors(r, rng.choice(draws_b), rng) for r in refs]
    z_sclite, significant_sclite = _sc_stats(tmp_path, refs, hyp_a, hyp_b)

    a = [score_text(" ".join(r), " ".join(h), "basic").counts for r, h in zip(refs, hyp_a)]
    b = [score_text(" ".join(r), " ".join(h), "basic").counts for r, h in zip(refs, hyp_b)]
    errors_a, errors_b = [c.errors for c in a], [c.errors for c in b]
    words = [c.ref_words for c in a]
    ours = mapsswe(errors_a, errors_b, words)
    assert ours.statistic == pytest.approx(z_sclite, abs=1e-3)  # sclite prints 3 decimals
    assert ours.significant == significant_sclite
    boot = paired_bootstrap(errors_a, errors_b, words, seed=3)
    assert boot.significant == significant_sclite
    if significant_sclite:
        assert np.sign(boot.difference) == np.sign(z_sclite) == np.sign(ours.difference)
    if pair == "no-difference":
        assert not significant_sclite  # the constructed null case really is one
