"""RTTM/STM/CTM/UEM: strict reading (errors name file, line and fix) and lossless round trips."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from stt_eval.datasets.annotation_writers import write_ctm, write_rttm, write_stm, write_uem
from stt_eval.datasets.annotations import AnnotationError, read_ctm, read_rttm, read_stm, read_uem
from stt_eval.types import SpeakerSegment, Word
from stt_eval.types import SpeakerTurn as T

SAMPLE = Path(__file__).parents[1] / "datasets" / "sample"
GOOD = "SPEAKER f1 1 0.500 1.250 <NA> <NA> alice <NA> <NA>"


def _file(tmp_path: Path, name: str, *lines: str) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------- RTTM


def test_read_rttm_parses_turns_and_skips_comments(tmp_path):
    path = _file(
        tmp_path,
        "a.rttm",
        ";; a comment",
        "",
        "SPEAKER f1 1 3.000 1.000 <NA> <NA> bob <NA> <NA>",
        GOOD,
        "SPKR-INFO f1 1 <NA> <NA> <NA> unknown bob <NA> <NA>",
        "SPEAKER f2 1 0 2 <NA> <NA> carol <NA> <NA>",
    )
    assert read_rttm(path) == {
        "f1": (T("alice", 0.5, 1.75), T("bob", 3.0, 4.0)),
        "f2": (T("carol", 0.0, 2.0),),
    }


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("SPEAKER f1 1 0.5 -1.0 <NA> <NA> alice <NA> <NA>", "tdur"),  # negative duration
        ("SPEAKER f1 1 0.5 0 <NA> <NA> alice <NA> <NA>", "must be > 0"),  # zero duration
        ("SPEAKER f1 1 0.5 1.0 <NA> <NA> alice <NA>", "9 columns"),  # 9 columns
        ("SPEAKER f1 1 0.5 1.0 <NA> <NA> alice <NA> <NA> extra", "11 columns"),
        ("SPEAKER f1 1 abc 1.0 <NA> <NA> alice <NA> <NA>", "tbeg='abc' is not a number"),
        ("SPEAKER f1 1 0.5 1.0s <NA> <NA> alice <NA> <NA>", "tdur='1.0s' is not a number"),
        ("SPEAKER f1 1 nan 1.0 <NA> <NA> alice <NA> <NA>", "tbeg"),
        ("SPEEKER f1 1 0.5 1.0 <NA> <NA> alice <NA> <NA>", "unknown RTTM type"),
    ],
)
def test_malformed_rttm_names_file_line_and_fix(tmp_path, line, needle):
    path = _file(tmp_path, "bad.rttm", GOOD, line)
    with pytest.raises(AnnotationError, match=needle) as info:
        read_rttm(path)
    assert info.value.line_no == 2
    assert f"{path}:2" in str(info.value)
    assert " — " in str(info.value) and info.value.fix  # says how to fix it
    assert isinstance(info.value, ValueError)


def test_unknown_file_id_is_an_error(tmp_path):
    path = _file(tmp_path, "a.rttm", GOOD, "SPEAKER typo 1 0 1 <NA> <NA> bob <NA> <NA>")
    assert read_rttm(path, known_ids={"f1", "typo"})  # fine when known
    with pytest.raises(AnnotationError, match="'typo' is not in the manifest") as info:
        read_rttm(path, known_ids={"f1"})
    assert info.value.line_no == 2


def test_overlapping_same_speaker_turns_merge_with_warning(tmp_path):
    path = _file(
        tmp_path,
        "dup.rttm",
        "SPEAKER f1 1 0.0 2.0 <NA> <NA> alice <NA> <NA>",
        "SPEAKER f1 1 1.5 1.5 <NA> <NA> alice <NA> <NA>",  # 1.5-3.0 overlaps 0-2
        "SPEAKER f1 1 1.0 1.0 <NA> <NA> bob <NA> <NA>",  # another speaker: kept
        "SPEAKER f1 1 3.0 1.0 <NA> <NA> alice <NA> <NA>",  # touches: not an overlap
    )
    with pytest.warns(UserWarning, match=r"dup\.rttm.*merged 1 stretch.*first: alice 0-3"):
        turns = read_rttm(path)["f1"]
    assert turns == (T("alice", 0.0, 3.0), T("bob", 1.0, 2.0), T("alice", 3.0, 4.0))
    alice = sum(t.duration for t in turns if t.speaker == "alice")
    assert alice == pytest.approx(4.0)  # not 2 + 1.5 + 1


def test_touching_same_speaker_turns_are_kept_as_written_without_warning(tmp_path):
    # md-eval puts a no-score collar at every reference boundary as written, so the reader keeps
    # the boundary at 2.0 (stt_eval.metrics.intervals.merge_turns joins them where coverage is all
    # that matters, e.g. when scoring without a collar)
    path = _file(
        tmp_path,
        "touch.rttm",
        "SPEAKER f1 1 0.0 2.0 <NA> <NA> alice <NA> <NA>",
        "SPEAKER f1 1 2.0 1.0 <NA> <NA> alice <NA> <NA>",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_rttm(path)["f1"] == (T("alice", 0.0, 2.0), T("alice", 2.0, 3.0))


def test_sample_rttms_read_cleanly():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for path in (SAMPLE / "rttm").glob("*.rttm"):
            turns = read_rttm(path, known_ids={path.stem})[path.stem]
            assert len({t.speaker for t in turns}) == 2


def test_rttm_round_trip(tmp_path):
    turns = {
        "f1": (T("alice", 0.5, 1.75), T("bob", 1.0, 2.333), T("alice", 3.0, 4.1234567)),
        "f2": (T("carol", 0.0, 2.0),),
    }
    back = read_rttm(write_rttm(turns, tmp_path / "out.rttm"))
    assert back.keys() == turns.keys()
    for fid in turns:
        for a, b in zip(back[fid], turns[fid], strict=True):
            assert a.speaker == b.speaker
            assert a.start == pytest.approx(b.start, abs=1e-6)
            assert a.end == pytest.approx(b.end, abs=1e-6)
    assert (tmp_path / "out.rttm").read_text().splitlines()[0] == (
        "SPEAKER f1 1 0.500 1.250 <NA> <NA> alice <NA> <NA>"
    )


def test_write_rttm_rejects_spaces_in_labels(tmp_path):
    with pytest.raises(ValueError, match="whitespace"):
        write_rttm({"f1": [T("alice smith", 0, 1)]}, tmp_path / "x.rttm")


# --------------------------------------------------------------------------- STM


def test_read_stm_skips_comments_and_excluded_segments(tmp_path):
    path = _file(
        tmp_path,
        "a.stm",
        ';; CATEGORY "0" "" ""',
        "f1 1 alice 0.0 1.5 <O,F0,female> Hello there.",
        "f1 1 inter_segment_gap 1.5 2.0",
        "f1 1 excluded_region 2.0 3.0 IGNORE_TIME_SEGMENT_IN_SCORING",
        "f1 1 bob 3.0 4.0 hi",
        "f1 1 bob 4.0 4.5",
    )
    assert read_stm(path) == {
        "f1": (
            SpeakerSegment("alice", 0.0, 1.5, "Hello there."),
            SpeakerSegment("bob", 3.0, 4.0, "hi"),
            SpeakerSegment("bob", 4.0, 4.5, ""),
        )
    }


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("f1 1 alice 2.0 1.0 hi", "before tbeg"),
        ("f1 1 alice x 1.0 hi", "not a number"),
        ("f1 1 alice 2.0", "4 columns"),
    ],
)
def test_malformed_stm(tmp_path, line, needle):
    path = _file(tmp_path, "bad.stm", line)
    with pytest.raises(AnnotationError, match=needle) as info:
        read_stm(path)
    assert info.value.line_no == 1


def test_sample_stm_matches_its_rttm_speakers():
    for path in (SAMPLE / "stm").glob("*.stm"):
        segments = read_stm(path, known_ids={path.stem})[path.stem]
        assert segments and all(s.text for s in segments)
        assert len({s.speaker for s in segments}) == 2


def test_stm_round_trip(tmp_path):
    segs = {
        "f1": (SpeakerSegment("alice", 0.0, 1.5, "Hello, there."), SpeakerSegment("bob", 2, 3, ""))
    }
    assert read_stm(write_stm(segs, tmp_path / "out.stm")) == segs


# --------------------------------------------------------------------------- CTM


def test_ctm_round_trip_with_and_without_confidence(tmp_path):
    words = {
        "f1": (Word("hello", 0.1, 0.4, 0.9), Word("there", 0.4, 0.4, None)),
        "f2": (Word("hi", 1.0, 1.25),),
    }
    path = write_ctm(words, tmp_path / "out.ctm")
    assert read_ctm(path) == words
    assert path.read_text().splitlines() == [
        "f1 1 0.100 0.300 hello 0.9",
        "f1 1 0.400 0.000 there NA",
        "f2 1 1.000 0.250 hi",
    ]


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("f1 1 0.1 -0.2 hello", "tdur"),
        ("f1 1 0.1 0.2", "4 columns"),
        ("f1 1 0.1 0.2 hello 1.5", "confidence"),
        ("f1 1 0.1 0.2 hello high", "not a number"),
    ],
)
def test_malformed_ctm(tmp_path, line, needle):
    with pytest.raises(AnnotationError, match=needle):
        read_ctm(_file(tmp_path, "bad.ctm", line))


# --------------------------------------------------------------------------- UEM


def test_uem_round_trip_and_merge(tmp_path):
    path = _file(
        tmp_path, "a.uem", "f1 1 5.0 6.0", "f1 1 0.0 2.0", "f1 1 1.0 3.0", "f1 1 6 7", "f2 1 0 9"
    )
    regions = read_uem(path)  # overlapping and touching regions merge
    assert regions == {"f1": ((0.0, 3.0), (5.0, 7.0)), "f2": ((0.0, 9.0),)}
    assert read_uem(write_uem(regions, tmp_path / "out.uem")) == regions


@pytest.mark.parametrize(("line", "needle"), [("f1 1 3 2", "not after"), ("f1 1 0", "3 columns")])
def test_malformed_uem(tmp_path, line, needle):
    with pytest.raises(AnnotationError, match=needle):
        read_uem(_file(tmp_path, "bad.uem", line))


def test_missing_file_is_an_annotation_error(tmp_path):
    with pytest.raises(AnnotationError, match="not found"):
        read_rttm(tmp_path / "nope.rttm")


# --------------------------------------------------------------------------- properties

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "spk_3"]), st.integers(0, 10**6), st.integers(1, 10**5)
        ),
        min_size=1,
        max_size=10,
    )
)
def test_rttm_round_trip_property(tmp_path_factory, rows):
    # millisecond times, one speaker's turns made disjoint by the merge in read_rttm itself
    turns = [T(s, start / 1000, (start + dur) / 1000) for s, start, dur in rows]
    path = tmp_path_factory.mktemp("rt") / "x.rttm"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        once = read_rttm(write_rttm({"f": turns}, path))
        twice = read_rttm(write_rttm(once, path))
    assert once == twice
    assert {t.speaker for t in once["f"]} == {t.speaker for t in turns}
