"""`stt-eval score` on the forms users have: the same transcripts as trn, text, JSONL (ours and
NeMo's) and STM/CTM give the same hand-derived counts; the CTM path agrees with sclite."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stt_eval.api import score_files
from stt_eval.cli import main
from stt_eval.datasets.score_inputs import LineMatchingWarning
from stt_eval.datasets.transcripts import TranscriptFileError, _trn_line
from stt_eval.metrics.wer import WordCounts

REFS = {"u1": "the cat sat on the mat", "u2": "hello world", "u3": "good morning everyone"}
HYPS = {"u1": "the bat sat on mat", "u2": "hello there world", "u3": "good morning"}
# by hand: u1 cat→bat (S), second "the" deleted (D), 4 hits; u2 "there" inserted (I), 2 hits;
# u3 "everyone" deleted (D), 2 hits.  N = 6 + 2 + 3 = 11.
EXPECTED = WordCounts(hits=8, subs=1, dels=2, ins=1)


def _trn(path, texts):
    path.write_text("".join(f"{t} ({u})\n" for u, t in texts.items()))
    return path


def _ctm(path, texts):
    rows = []
    for uid, text in texts.items():
        for i, w in enumerate(text.split()):
            rows.append(f"{uid} 1 {0.5 * i + 0.1:.2f} 0.30 {w}")
    path.write_text("\n".join(rows) + "\n")
    return path


def _stm(path, texts):
    path.write_text(
        "".join(
            f"{u} 1 spk_{u} 0.00 {0.5 * len(t.split()) + 0.5:.2f} {t}\n" for u, t in texts.items()
        )
    )
    return path


@pytest.fixture
def forms(tmp_path):
    out = {
        "trn": (_trn(tmp_path / "r.trn", REFS), _trn(tmp_path / "h.trn", HYPS)),
        "txt": (tmp_path / "r.txt", tmp_path / "h.txt"),
        "jsonl": (tmp_path / "r.jsonl", tmp_path / "h.jsonl"),
        "nemo": (tmp_path / "r.jsonl", tmp_path / "nemo_h.json"),
        "stm-ctm": (_stm(tmp_path / "r.stm", REFS), _ctm(tmp_path / "h.ctm", HYPS)),
        "trn-ctm": (tmp_path / "r.trn", tmp_path / "h.ctm"),
    }
    out["txt"][0].write_text("\n".join(REFS.values()) + "\n")
    out["txt"][1].write_text("\n".join(HYPS.values()) + "\n")
    out["jsonl"][0].write_text(
        "".join(json.dumps({"id": u, "text": t}) + "\n" for u, t in REFS.items())
    )
    out["jsonl"][1].write_text(
        "".join(json.dumps({"id": u, "text": t}) + "\n" for u, t in HYPS.items())
    )
    out["nemo"][1].write_text(
        "".join(
            json.dumps(
                {
                    "audio_filepath": f"/data/{u}.wav",
                    "duration": 2.0,
                    "text": REFS[u],
                    "pred_text": t,
                }
            )
            + "\n"
            for u, t in HYPS.items()
        )
    )
    return out


@pytest.mark.parametrize("form", ["trn", "txt", "jsonl", "nemo", "stm-ctm", "trn-ctm"])
def test_every_form_gives_the_same_counts(forms, form):
    refs, hyps = forms[form]
    if form == "txt":
        with pytest.warns(LineMatchingWarning, match="paired by line number"):
            score = score_files(refs, hyps, normalizer="none")
    else:
        score = score_files(refs, hyps, normalizer="none")
    assert score.total == EXPECTED
    assert len(score.per_utterance) == 3


def test_text_files_must_have_the_same_number_of_lines(tmp_path):
    (tmp_path / "r.txt").write_text("a\nb\n")
    (tmp_path / "h.txt").write_text("a\n")
    with pytest.raises(TranscriptFileError, match="2 lines but .* has 1"):
        score_files(tmp_path / "r.txt", tmp_path / "h.txt")


def test_text_against_ids_is_refused(forms):
    with pytest.raises(TranscriptFileError, match="plain text .* has ids"):
        score_files(forms["txt"][0], forms["trn"][1])


def test_cer_and_breakdown_by_speaker_and_meta(tmp_path):
    refs = tmp_path / "r.jsonl"
    refs.write_text(
        json.dumps({"id": "a", "text": "abc", "speaker": "x", "meta": {"ch": "phone"}})
        + "\n"
        + json.dumps({"id": "b", "text": "de fg", "speaker": "y", "meta": {"ch": "mic"}})
        + "\n"
    )
    hyps = _trn(tmp_path / "h.trn", {"a": "abd", "b": "de fg"})
    score = score_files(refs, hyps, normalizer="none", cer=True, by="spk")
    # "abc" → "abd": one character substituted of 3; "de fg" exact: 0 of 5.
    assert (score.total_chars.edits, score.total_chars.ref_chars) == (1, 8)
    assert score.groups == {"x": WordCounts(subs=1), "y": WordCounts(hits=2)}
    by_meta = score_files(refs, hyps, normalizer="none", by="meta.ch")
    assert by_meta.groups == {"mic": WordCounts(hits=2), "phone": WordCounts(subs=1)}
    with pytest.raises(ValueError, match="no utterance .* has the label 'meta.nope'"):
        score_files(refs, hyps, by="meta.nope")


def test_align_prints_ref_hyp_and_marks(forms, capsys):
    refs, hyps = forms["trn"]
    assert main(["score", str(refs), str(hyps), "--normalizer", "none", "--align"]) == 0
    out = capsys.readouterr().out
    assert "id: (u1)\nScores: (#C #S #D #I) 4 1 1 0\n" in out
    assert "REF:  the CAT sat on THE mat\n" in out
    assert "HYP:  the BAT sat on *** mat\n" in out
    assert "Eval:     S          D\n" in out
    assert "REF:  hello ***** world\nHYP:  hello THERE world\nEval:       I\n" in out


def test_ctm_words_go_to_the_segment_they_fall_in(tmp_path):
    stm = tmp_path / "r.stm"
    stm.write_text("f 1 A 0.0 2.0 one two\nf 1 B 3.0 5.0 three four\n")
    ctm = tmp_path / "h.ctm"
    # "three" ends at 3.2 but its midpoint (2.9) lies in the gap, nearer B → B.
    ctm.write_text("f 1 0.1 0.2 one\nf 1 1.2 0.2 two\nf 1 2.6 0.6 three\nf 1 3.5 0.2 four\n")
    score = score_files(stm, ctm, normalizer="none", by="spk")
    assert score.groups == {"A": WordCounts(hits=2), "B": WordCounts(hits=2)}


SCLITE_STM = """\
f1 1 alice 0.00 2.00 the cat sat on
f1 1 bob 3.00 5.00 a mat today
f2 1 carol 0.00 1.00 hello world
"""
SCLITE_CTM = """\
f1 1 0.10 0.30 the
f1 1 0.50 0.30 bat
f1 1 0.90 0.30 sat
f1 1 1.30 0.30 on
f1 1 2.40 0.20 um
f1 1 3.10 0.30 a
f1 1 3.50 0.30 mat
f1 1 4.60 0.60 today
f2 1 0.20 0.30 hello
"""


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("sctk") is None, reason="sctk (sclite) is not installed")
def test_stm_ctm_counts_match_sclite(tmp_path):
    (tmp_path / "ref.stm").write_text(SCLITE_STM)
    (tmp_path / "hyp.ctm").write_text(SCLITE_CTM)
    out = subprocess.run(
        [
            "sctk",
            "sclite",
            "-r",
            "ref.stm",
            "stm",
            "-h",
            "hyp.ctm",
            "ctm",
            "-o",
            "pralign",
            "stdout",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    by_speaker = {}
    for spk, c, s, d, i in re.findall(
        r"id: \((\w+)-\d+\).*?Scores: \(#C #S #D #I\) (\d+) (\d+) (\d+) (\d+)", out, re.S
    ):
        by_speaker[spk] = WordCounts(int(c), int(s), int(d), int(i))
    ours = score_files(tmp_path / "ref.stm", tmp_path / "hyp.ctm", normalizer="none", by="spk")
    assert ours.total == sum(by_speaker.values(), WordCounts())
    assert dict(ours.groups) == by_speaker
    # and by hand: alice cat→bat (S); bob "um" inserted; carol "world" deleted
    assert ours.total == WordCounts(hits=7, subs=1, dels=1, ins=1)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab ()\t.x", max_size=14))
def test_trn_lines_split_as_the_trn_pattern_says(line):
    m = re.match(r"^(.*?)\s*\(([^()\s]+)\)\s*$", line)
    assert _trn_line(line) == ((m[1], m[2]) if m else ("", None))
