"""DER/JER: hand-derived fixtures, the collar convention, pooling, and md-eval.pl as a reference."""

from __future__ import annotations

import math
import random
import re
import shutil
import subprocess
import warnings
from pathlib import Path

import pytest

from stt_eval.datasets.annotation_writers import write_rttm
from stt_eval.datasets.annotations import read_rttm
from stt_eval.metrics.assignment import max_assignment
from stt_eval.metrics.diarization import (
    DERCounts,
    FileScores,
    JERCounts,
    default_uem,
    score_diarization,
    score_files,
)
from stt_eval.metrics.intervals import merge_turns
from stt_eval.types import SpeakerTurn as T

SAMPLE = Path(__file__).parents[1] / "datasets" / "sample"


# --------------------------------------------------------------------------- hand-derived


def test_missed_false_alarm_and_overlap_by_hand():
    # time (s)  0    1    2    3    4    5    6    7    8    9    10   11   12
    # ref A     |AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA|                                  0-6
    # ref B                         |BBBBBBBBBBBBBBBBBBBBBBBBBBBBBB|              4-10
    # hyp x     |xxxxxxxxxxxxxxxxxxxxxxxx|                                        0-5
    # hyp y                              |yyyyyyyyyyyyyyyyyyyy|                   5-9
    # hyp z                                                          |zzzz|       11-12
    # best mapping x->A, y->B.
    # 4-5: A and B talk, only x(A) found -> 1 s missed; 5-6: only y(B) -> 1 s missed;
    # 9-10: B talks, nobody found -> 1 s missed; 11-12: z with no reference -> 1 s false alarm
    # when the UEM covers it (the default region, md-eval's, stops at the last reference end).
    # total reference speech = 6 + 6 = 12 s.
    ref = [T("A", 0, 6), T("B", 4, 10)]
    hyp = [T("x", 0, 5), T("y", 5, 9), T("z", 11, 12)]
    assert score_diarization(ref, hyp).counts.false_alarm_s == 0.0  # z is outside 0-10
    score = score_diarization(ref, hyp, uem=[(0.0, 12.0)])
    assert score.counts.missed_s == pytest.approx(3.0)
    assert score.counts.false_alarm_s == pytest.approx(1.0)
    assert score.counts.confusion_s == pytest.approx(0.0)
    assert score.counts.total_s == pytest.approx(12.0)
    assert score.der == pytest.approx(4 / 12)
    # JER: A vs x: 1 - 5/6; B vs y: 1 - 4/6; mean = (1/6 + 2/6) / 2
    assert score.jer == pytest.approx(0.25)
    assert score.jer_counts.speaker_error == pytest.approx(1 / 6 + 2 / 6)
    assert score.jer_counts.speakers == 2
    assert dict(score.mapping) == {"x": "A", "y": "B"}
    assert sum(s.jer for s in score.per_speaker) / 2 == pytest.approx(score.jer)


def test_confusion_by_hand():
    # time (s)  0    2    4    6    8    10
    # ref A     |AAAAAAAAAAAAAAAAAAAAAAAA|
    # hyp       |xxxxxxxx|yyyyyyyyyyyyyyy|     y->A (6 s), x unmapped: 4 s confusion
    score = score_diarization([T("A", 0, 10)], [T("x", 0, 4), T("y", 4, 10)])
    assert (score.counts.missed_s, score.counts.false_alarm_s) == (0.0, 0.0)
    assert score.counts.confusion_s == pytest.approx(4.0)
    assert score.der == pytest.approx(0.4)


def test_speaker_labels_do_not_matter():
    ref = [T("A", 0, 6), T("B", 4, 10)]
    a = score_diarization(ref, [T("x", 0, 5), T("y", 5, 9)])
    b = score_diarization(ref, [T("y", 0, 5), T("x", 5, 9)])
    assert a.counts == b.counts


# time (s)    0 .. 9.5   9.75   10.0   10.25  10.5 .. 20
# ref         AAAAAAAAAAAAAAAAAAAA|BBBBBBBBBBBBBBBBBBBBB      boundary at 10.0
# hyp         xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx|yyyyyyyyyy      boundary late, at 10.5
COLLAR_REF = [T("A", 0, 10), T("B", 10, 20)]
COLLAR_HYP = [T("x", 0, 10.5), T("y", 10.5, 20)]


@pytest.mark.parametrize(
    ("collar", "confusion", "total"),
    [
        # no collar: 10.0-10.5 is B labelled x(A): 0.5 s confusion over 20 s
        (0.0, 0.5, 20.0),
        # md-eval collar 0.25: [9.75, 10.25], [0, 0.25], [19.75, 20] unscored -> total 19;
        # only 10.25-10.5 is still wrong: 0.25 s. (pyannote's own collar=0.25 would leave
        # [9.875, 10.125] out: 0.375 s over 19.5 s -- the factor of 2 matters.)
        (0.25, 0.25, 19.0),
        # collar 0.5: [9.5, 10.5] unscored covers the whole error; total 20 - 0.5 - 1 - 0.5
        (0.5, 0.0, 18.0),
    ],
)
def test_collar_is_md_eval_style_each_side(collar, confusion, total):
    score = score_diarization(COLLAR_REF, COLLAR_HYP, collar=collar)
    assert score.counts.confusion_s == pytest.approx(confusion)
    assert score.counts.total_s == pytest.approx(total)
    assert score.counts.missed_s == pytest.approx(0.0)
    assert score.counts.false_alarm_s == pytest.approx(0.0)


def test_skip_overlap_leaves_overlap_unscored():
    # same as the first fixture: overlap 4-6 is removed, so its 2 s of misses go, total 12 - 4
    ref = [T("A", 0, 6), T("B", 4, 10)]
    hyp = [T("x", 0, 5), T("y", 5, 9), T("z", 11, 12)]
    score = score_diarization(ref, hyp, skip_overlap=True)
    assert score.counts.missed_s == pytest.approx(1.0)
    assert score.counts.total_s == pytest.approx(8.0)


def test_explicit_uem_limits_scoring():
    ref = [T("A", 0, 6), T("B", 4, 10)]
    hyp = [T("x", 0, 5), T("y", 5, 9), T("z", 11, 12)]
    score = score_diarization(ref, hyp, uem=[(0.0, 10.0)])  # z (11-12) is outside
    assert score.counts.false_alarm_s == 0.0
    assert score.counts.missed_s == pytest.approx(3.0)
    assert score.scored_region == ((0.0, 10.0),)


def test_default_region_is_the_reference_extent_like_md_eval_and_silences_pyannote():
    # time (s)  0    2    3         6         9
    # ref A          AAAAAAAAAAAAAAA                    2-6
    # hyp x               xxxxxxxxxxxxxxxxxxx           3-9
    # default region = 2-6: 1 s missed (2-3); 6-9 is outside, so no false alarm
    ref, hyp = [T("A", 2, 6)], [T("x", 3, 9)]
    assert default_uem(ref, hyp) == ((2.0, 6.0),)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pyannote's "uem was approximated" would fail this
        score = score_diarization(ref, hyp)
    assert score.scored_region == ((2.0, 6.0),)
    assert score.counts.false_alarm_s == 0.0
    assert score.counts.missed_s == pytest.approx(1.0)
    whole = score_diarization(ref, hyp, uem=[(0.0, 9.0)])  # a UEM over the whole file counts it
    assert whole.counts.false_alarm_s == pytest.approx(3.0)


def test_empty_hypothesis_is_all_missed():
    score = score_diarization([T("A", 0, 3), T("B", 3, 5)], [])
    assert score.counts == DERCounts(missed_s=5.0, total_s=5.0)
    assert score.der == 1.0
    assert score.jer_counts == JERCounts(speaker_error=2.0, speakers=2)


def test_reference_without_speech_gives_nan_with_reason():
    score = score_diarization([], [T("x", 1, 2)])
    assert math.isnan(score.der) and math.isnan(score.jer)
    assert score.jer_counts == JERCounts()  # adds nothing to a pooled JER
    assert "no speech" in score.reason
    with_uem = score_diarization([], [T("x", 1, 2)], uem=[(0.0, 5.0)])
    assert math.isnan(with_uem.der) and "no speech" in with_uem.reason
    assert with_uem.counts.false_alarm_s == pytest.approx(1.0)  # still pooled


def test_same_speaker_overlap_is_not_counted_twice():
    doubled = [T("A", 0, 6), T("A", 4, 10)]
    assert merge_turns(doubled) == (T("A", 0, 10),)
    score = score_diarization(doubled, [T("x", 0, 10)])
    assert score.counts.total_s == pytest.approx(10.0)
    assert score.der == 0.0


# time (s)   0        2.75 3.0 3.25             6.0                 10
# ref A      AAAAAAAAAAAAAAA|AAAAAAAAAAAAAAAAAAAA|                         A 0-3 touches A 3-6
# ref B                                         |BBBBBBBBBBBBBBBBBBB|      B 6-10
# hyp        xxxxxxxxxxxxxyy|yyxxxxxxxxxxxxxxxxxx|zzzzzzzzzzzzzzzzzzz|      y (2.9-3.1) is wrong
TOUCH_REF = [T("A", 0, 3), T("A", 3, 6), T("B", 6, 10)]
TOUCH_HYP = [T("x", 0, 2.9), T("y", 2.9, 3.1), T("x", 3.1, 6), T("z", 6, 10)]


def test_collar_goes_around_touching_turns_as_written():
    # As md-eval (and pyannote) do, the boundary at 3.0 between two touching turns of A gets
    # its collar: [2.75, 3.25] is not scored, so y's 0.2 s of confusion lies inside it.
    # Unscored: 0-0.25, 2.75-3.25, 5.75-6.25, 9.75-10 = 1.5 s of 10 -> total 8.5, no error.
    score = score_diarization(TOUCH_REF, TOUCH_HYP, collar=0.25)
    assert score.counts.total_s == pytest.approx(8.5)
    assert score.counts.error_s == pytest.approx(0.0)
    # written as one turn, A 0-6 has no boundary at 3.0: y is 0.2 s of confusion over 9 s
    joined = score_diarization(merge_turns(TOUCH_REF), TOUCH_HYP, collar=0.25)
    assert joined.counts.total_s == pytest.approx(9.0)
    assert joined.counts.confusion_s == pytest.approx(0.2)
    # without a collar, touching turns and the joined turn score the same
    assert score_diarization(TOUCH_REF, TOUCH_HYP).counts == (
        score_diarization(merge_turns(TOUCH_REF), TOUCH_HYP).counts
    )


@pytest.mark.parametrize("collar", [-0.1, float("nan")])
def test_bad_collar_raises(collar):
    with pytest.raises(ValueError, match="collar"):
        score_diarization([T("A", 0, 1)], [], collar=collar)


def test_pooling_adds_seconds_not_rates():
    short = score_diarization([T("A", 0, 10)], [T("x", 0, 9)])  # 1 s missed of 10: 10 %
    long = score_diarization([T("A", 0, 100)], [])  # all 100 s missed: 100 %
    pooled = sum([short.counts, long.counts])
    assert pooled == DERCounts(missed_s=101.0, total_s=110.0)
    assert pooled.der == pytest.approx(101 / 110)  # not (0.1 + 1.0) / 2
    assert (pooled.missed_rate, pooled.false_alarm_rate) == (pytest.approx(101 / 110), 0.0)
    by_file = score_files({"a": [T("A", 0, 10)], "b": [T("A", 0, 100)]}, {"a": [T("x", 0, 9)]})
    assert isinstance(by_file, FileScores) and list(by_file.per_file) == ["a", "b"]
    assert by_file.total == pooled


def test_pooled_jer_weighs_speakers_not_files():
    # file a: one speaker, nothing found: its Jaccard error is 1 -> JER 100 %
    # file b: three speakers, found exactly (relabelled) -> JER 0 %
    # pooled: (1 + 0) / (1 + 3) = 25 %; the mean of the two file JERs would be 50 %
    ref = {"a": [T("A", 0, 10)], "b": [T("A", 0, 10), T("B", 10, 20), T("C", 20, 30)]}
    hyp = {"b": [T("x", 0, 10), T("y", 10, 20), T("z", 20, 30)]}
    scores = score_files(ref, hyp)
    assert [s.jer for s in scores.per_file.values()] == [1.0, 0.0]
    assert scores.jer_total == JERCounts(speaker_error=1.0, speakers=4)
    assert scores.jer_total.jer == pytest.approx(0.25)


def test_jer_counts_add_and_validate():
    assert sum([JERCounts(0.5, 1), JERCounts(0.3, 3)]) == JERCounts(0.8, 4)
    assert math.isnan(JERCounts().jer)
    with pytest.raises(ValueError, match="speakers"):
        JERCounts(0.0, -1)
    with pytest.raises(ValueError, match="speaker_error"):
        JERCounts(2.5, 2)  # each speaker's error is at most 1
    with pytest.raises(ValueError, match="speaker_error"):
        JERCounts(float("nan"), 1)


def test_score_files_rejects_hypothesis_without_reference():
    with pytest.raises(ValueError, match="no reference"):
        score_files({"a": [T("A", 0, 1)]}, {"b": [T("x", 0, 1)]})


def test_der_counts_validate():
    with pytest.raises(ValueError, match="missed_s"):
        DERCounts(missed_s=-1.0)
    assert math.isnan(DERCounts().der)


# --------------------------------------------------------------------------- md-eval.pl

SCTK = shutil.which("sctk")
needs_sctk = pytest.mark.skipif(
    SCTK is None, reason="md-eval.pl not found: install Debian's sctk (apt-get install -y sctk)"
)


def _md_eval(tmp: Path, ref: dict, hyp: dict, collar: float, *options: str) -> float:
    """md-eval.pl's pooled DER in percent with its own default region (no -u): stt-eval's
    default is meant to be the same, so no UEM is passed to either side."""
    write_rttm(ref, tmp / "ref.rttm")
    write_rttm(hyp, tmp / "hyp.rttm")
    out = subprocess.run(
        [SCTK, "md-eval.pl", "-r", str(tmp / "ref.rttm"), "-s", str(tmp / "hyp.rttm")]
        + ["-c", str(collar), *options],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(re.search(r"OVERALL SPEAKER DIARIZATION ERROR = ([\d.]+) percent", out)[1])


def _perturb(turns, kind: str, rng: random.Random):
    out = []
    names = {s: f"sys{i}" for i, s in enumerate(sorted({t.speaker for t in turns}))}
    labels = sorted(names.values())
    for t in turns:
        speaker = names[t.speaker]
        start, end = t.start, t.end
        if kind == "shift":
            start = max(0.0, start + rng.uniform(-0.4, 0.4))
            end = max(start + 0.05, end + rng.uniform(-0.4, 0.4))
        elif kind == "swap" and rng.random() < 0.3:
            speaker = rng.choice([label for label in labels if label != speaker] or labels)
        elif kind == "drop" and rng.random() < 0.3:
            continue
        out.append(T(speaker, round(start, 3), round(end, 3)))
    return merge_turns(out)


@pytest.mark.slow
@needs_sctk
@pytest.mark.parametrize("collar", [0.0, 0.25])
@pytest.mark.parametrize("kind", ["shift", "swap", "drop", "outside"])
def test_agrees_with_md_eval_on_sample(tmp_path, kind, collar):
    ref = {}
    for path in sorted((SAMPLE / "rttm").glob("*.rttm")):
        ref.update(read_rttm(path))
    rng = random.Random(f"{kind}-{collar}")
    hyp = {
        fid: _perturb(turns, "shift" if kind == "outside" else kind, rng)
        for fid, turns in ref.items()
    }
    if kind == "outside":  # hypothesis speech before the first and after the last reference turn
        for fid, turns in hyp.items():
            first, last = min(t.start for t in ref[fid]), max(t.end for t in ref[fid])
            extra = [
                T("sys0", max(0.0, first - 1.0), first + 0.5),
                T("sys1", last - 0.5, last + 2.0),
            ]
            hyp[fid] = [*turns, *extra]
    ours = score_files(ref, hyp, collar=collar).total
    theirs = _md_eval(tmp_path, ref, hyp, collar)
    assert ours.der > 0  # the perturbation did something
    assert 100 * ours.der == pytest.approx(theirs, abs=0.01)


@pytest.mark.slow
@needs_sctk
@pytest.mark.parametrize("collar", [0.0, 0.25])
def test_skip_overlap_agrees_with_md_eval_single_speaker_scoring(tmp_path, collar):
    """skip_overlap is md-eval's -1: only regions where at most one reference speaker talks."""
    ref = {}
    for path in sorted((SAMPLE / "rttm").glob("*.rttm")):
        ref.update(read_rttm(path))
    rng = random.Random(f"skip-{collar}")
    hyp = {fid: _perturb(turns, "shift", rng) for fid, turns in ref.items()}
    ours = score_files(ref, hyp, collar=collar, skip_overlap=True).total
    assert ours.total_s < score_files(ref, hyp, collar=collar).total.total_s  # overlap left out
    assert 100 * ours.der == pytest.approx(_md_eval(tmp_path, ref, hyp, collar, "-1"), abs=0.01)


@pytest.mark.slow
@needs_sctk
@pytest.mark.parametrize("collar", [0.0, 0.25])
def test_agrees_with_md_eval_on_touching_and_overlapping_turns_of_one_speaker(tmp_path, collar):
    """Collars around the reference turns as written, speech counted once: md-eval's rules."""
    ref = {
        "touch": TOUCH_REF,
        "overlap": [T("A", 0, 6), T("A", 4, 10), T("B", 10, 12)],  # A 4-6 written twice
    }
    hyp = {
        "touch": TOUCH_HYP,
        "overlap": [T("x", 0, 3.9), T("y", 3.9, 4.2), T("x", 4.2, 7), T("y", 7, 8)]
        + [T("x", 8, 10), T("z", 10.5, 12.5)],
    }
    ours = score_files(ref, hyp, collar=collar).total
    assert ours.der > 0
    assert 100 * ours.der == pytest.approx(_md_eval(tmp_path, ref, hyp, collar), abs=0.01)


# A's short turns lose half their time to 0.25 s collars, its long turn a sixth: before collars
# x (4 s of A) outweighs y (3 s), after them y (2.5 s) outweighs x (2 s). md-eval maps before
# its collars, so y's 2.5 s on A are confusion: 2.5 / (2 + 2.5 + 4.5) = 27.78 % (pyannote's own
# mapping, made after, would say x's 2 s: 22.22 %).
SPLIT_REF = [T("A", 0, 1), T("A", 2, 3), T("A", 4, 5), T("A", 6, 7), T("A", 10, 13), T("B", 20, 25)]
SPLIT_HYP = [T("x", 0, 1), T("x", 2, 3), T("x", 4, 5), T("x", 6, 7), T("y", 10, 13), T("z", 20, 25)]


def test_speakers_are_mapped_before_the_collars_like_md_eval():
    score = score_diarization(SPLIT_REF, SPLIT_HYP, collar=0.25)
    assert score.counts.confusion_s == pytest.approx(2.5)
    assert score.counts.total_s == pytest.approx(9.0)
    assert score.der == pytest.approx(2.5 / 9)


@pytest.mark.slow
@needs_sctk
def test_speaker_mapping_agrees_with_md_eval_when_collars_would_change_it(tmp_path):
    ours = score_files({"f": SPLIT_REF}, {"f": SPLIT_HYP}, collar=0.25).total
    assert 100 * ours.der == pytest.approx(
        _md_eval(tmp_path, {"f": SPLIT_REF}, {"f": SPLIT_HYP}, 0.25), abs=0.01
    )


# --------------------------------------------------------------------------- raw pyannote


def _random_turns(rng: random.Random, prefix: str, n: int, speakers: int = 3):
    out = []
    for _ in range(n):
        start = round(rng.uniform(0, 60), 2)
        speaker = f"{prefix}{rng.randrange(speakers)}"
        out.append(T(speaker, start, round(start + rng.uniform(0.2, 8), 2)))
    return merge_turns(out)


def _pyannote(turns, regions, uri="f"):
    """Turns and (start, end) regions as pyannote's Annotation and Timeline."""
    # pyannote.* costs ~1 s to import: only the tests that call it pay
    from pyannote.core import Annotation, Segment, Timeline

    ann = Annotation(uri=uri)
    for i, t in enumerate(turns):
        ann[Segment(t.start, t.end), i] = t.speaker
    return ann, Timeline([Segment(s, e) for s, e in regions], uri=uri)


@pytest.mark.parametrize("seed", range(6))
def test_matches_a_direct_pyannote_call(seed):
    """The single-crop shortcut gives what DiarizationErrorRate/JaccardErrorRate give directly."""
    from pyannote.metrics.diarization import DiarizationErrorRate, JaccardErrorRate

    rng = random.Random(seed)
    ref, hyp = _random_turns(rng, "r", 25), _random_turns(rng, "h", 25)
    collar, skip = (0.0, 0.25, 0.5)[seed % 3], seed >= 3
    uem = [(1.0, 30.0), (35.0, 70.0)]
    (r, tl), (h, _) = _pyannote(ref, uem), _pyannote(hyp, uem)
    direct = DiarizationErrorRate(collar=2 * collar, skip_overlap=skip)(r, h, uem=tl, detailed=True)
    jer = JaccardErrorRate(collar=2 * collar, skip_overlap=skip)(r, h, uem=tl, detailed=True)
    ours = score_diarization(ref, hyp, collar=collar, skip_overlap=skip, uem=uem)
    assert ours.counts.missed_s == pytest.approx(direct["missed detection"], abs=1e-6)
    assert ours.counts.false_alarm_s == pytest.approx(direct["false alarm"], abs=1e-6)
    assert ours.counts.total_s == pytest.approx(direct["total"], abs=1e-6)
    if collar == 0:  # with collars the mapping is md-eval's (made before them), not pyannote's
        assert ours.counts.confusion_s == pytest.approx(direct["confusion"], abs=1e-6)
    assert ours.jer_counts.speaker_error == pytest.approx(jer["speaker error"], abs=1e-9)
    assert ours.jer_counts.speakers == jer["speaker count"]
    assert ours.jer == pytest.approx(jer["jaccard error rate"], abs=1e-9)


@pytest.mark.parametrize("collar", [0.0, 0.25])
def test_pooled_jer_is_pyannotes_accumulated_jer(collar):
    """Summed JERCounts over files = abs(JaccardErrorRate) after the same files."""
    from pyannote.metrics.diarization import JaccardErrorRate

    rng = random.Random(f"pool-{collar}")
    # 1 to 5 speakers per file, so pooling (by speaker) and a mean over files differ
    ref = {f"f{i}": _random_turns(rng, "r", rng.randint(5, 20), 1 + i % 5) for i in range(6)}
    hyp = {fid: _random_turns(rng, "h", rng.randint(1, 20)) for fid in ref}
    metric = JaccardErrorRate(collar=2 * collar)
    per_file = []
    for fid in ref:
        region = default_uem(ref[fid], hyp[fid])  # the region score_files uses without a UEM
        (r, uem), (h, _) = _pyannote(ref[fid], region, fid), _pyannote(hyp[fid], region, fid)
        per_file.append(metric(r, h, uem=uem))
    ours = score_files(ref, hyp, collar=collar)
    assert ours.jer_total.jer == pytest.approx(abs(metric), abs=1e-9)
    assert ours.jer_total.speakers == metric.accumulated_["speaker count"]
    assert abs(metric) != pytest.approx(sum(per_file) / len(per_file), abs=1e-6)  # not a mean


# --------------------------------------------------------------------------- properties

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

turn_lists = st.lists(
    st.tuples(
        st.sampled_from("ABC"),
        st.integers(0, 400).map(lambda x: x / 10),
        st.integers(1, 80).map(lambda x: x / 10),
    ).map(lambda t: T(t[0], t[1], round(t[1] + t[2], 1))),
    min_size=1,
    max_size=12,
)


@settings(max_examples=40, deadline=None)
@given(turn_lists, st.sampled_from([0.0, 0.25]))
def test_relabelled_reference_scores_zero(ref, collar):
    hyp = [T({"A": "q", "B": "r", "C": "s"}[t.speaker], t.start, t.end) for t in ref]
    score = score_diarization(ref, hyp, collar=collar)
    assert score.counts.error_s == pytest.approx(0.0, abs=1e-6)
    if score.counts.total_s > 0:
        assert score.jer == pytest.approx(0.0, abs=1e-6)


@settings(max_examples=40, deadline=None)
@given(turn_lists, turn_lists, st.sampled_from([0.0, 0.25]))
def test_components_are_bounded(ref, hyp, collar):
    c = score_diarization(ref, hyp, collar=collar).counts
    assert c.missed_s + c.confusion_s <= c.total_s + 1e-6
    merged = merge_turns(ref)
    assert c.total_s <= sum(t.duration for t in merged) + 1e-6
    empty = score_diarization(ref, [], collar=collar).counts
    assert empty.missed_s == pytest.approx(empty.total_s)


@pytest.mark.parametrize("seed", range(4))
def test_files_scored_together_score_as_each_alone(seed):
    """One pass over all files: nothing leaks across a file boundary, whatever the ids."""
    rng = random.Random(f"together-{seed}")
    ref = {f"f{i}": _random_turns(rng, "r", rng.randint(0, 15)) for i in range(5)}
    hyp = {fid: _random_turns(rng, "h", rng.randint(0, 15)) for fid in ref}
    collar, skip = (0.0, 0.25)[seed % 2], seed >= 2
    together = score_files(ref, hyp, collar=collar, skip_overlap=skip)
    for fid in ref:
        alone = score_diarization(ref[fid], hyp[fid], collar=collar, skip_overlap=skip)
        assert together.per_file[fid] == alone


def test_max_assignment_is_scipys_ties_included():
    """The speaker pairing resolves equal totals as scipy's linear_sum_assignment does."""
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    rng = random.Random(0)
    for _ in range(2000):
        rows, cols, top = rng.randint(1, 6), rng.randint(1, 6), rng.choice([1, 2, 5, 100])
        weights = [[float(rng.randint(0, top)) for _ in range(cols)] for _ in range(rows)]
        a, b = linear_sum_assignment(-np.array(weights))
        assert max_assignment(weights) == list(zip(a.tolist(), b.tolist())), weights
