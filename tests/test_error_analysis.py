"""Error analysis: edit words from alignments, output flags, and the report's analysis tables
(intervals on pooled rows, paired differences with verdicts, top edits, flags)."""

from __future__ import annotations

import pytest

from stt_eval.metrics.errors import Edits, edits, flags, longest_runs, split_sub
from stt_eval.metrics.wer import align_words
from stt_eval.pipeline.score import Scoring, score_transcript, scored_row
from stt_eval.report.analysis.errors import flags_table, top_edits
from stt_eval.report.analysis.intervals import with_intervals
from stt_eval.report.analysis.paired import comparisons
from stt_eval.report.markdown import summary_markdown
from stt_eval.report.tables import TOTAL, pooled
from stt_eval.run.directory import rows_frame
from stt_eval.types import Sample, Transcript

from .conftest import flat_row


def _align(ref: str, hyp: str):
    return align_words(ref.split(), hyp.split())


def test_edit_words_by_hand():
    # after "c", deleting "d" and inserting "g" (2 edits) beats substituting d e f (3)
    e = edits(_align("a b c d e f", "a x c e f g"))
    assert e == Edits(subs=("b → x",), dels=("d",), ins=("g",))
    assert split_sub(e.subs[0]) == ("b", "x")
    assert sum([e, Edits(dels=("z",))]).dels == ("d", "z")


def test_flags_by_hand():
    assert flags("…!?", _align("hello there", "")) == ("punctuation-only",)
    assert flags("", _align("hi", "")) == ()  # an empty transcript is a deletion, not a flag
    loop = "thank you thank you thank you thank you"
    assert flags(loop, _align("thank you all for coming here my friends", loop)) == (
        "repetition",
    )  # 4 runs vs none in the reference; 8 words for 8: no insertion
    assert flags(loop, _align("thank you", loop)) == ("repetition", "insertions")  # 6 inserted
    assert flags(loop, _align("ok", loop)) == ("repetition", "insertions")
    # the reference itself repeats: "words words words words" written as said is no loop
    same = "here are words words words words"
    assert flags(same, _align(same, same)) == ()
    # a greeting said twice and written three times is one insertion, not a loop
    assert flags("", _align("hello hello oh hi", "hello hello hello oh hi")) == ()
    many = "one two three four five six seven"
    assert flags(many, _align("one", many)) == ("insertions",)  # 6 inserted ≥ 5 and ≥ 1 word


def test_longest_runs():
    assert longest_runs("a b a b a b c".split()) == {("a", "b"): 3}  # "b a" is the same run
    assert longest_runs([]) == {}


def _row(sample, provider, errors, n, **kw):
    return flat_row("r", sample, provider, subs=errors, hits=n - errors, ref_words=n, **kw)


def test_every_pooled_row_gets_an_interval_and_totals_resample_files():
    rows = [
        _row(s, "p", e, 10, condition=c)
        for s, e in zip("abcd", (1, 2, 3, 4))
        for c in ("clean", "noise")
    ]
    table = with_intervals(
        pooled(rows_frame(rows), ["provider", "condition"]),
        rows_frame(rows),
        ["provider", "condition"],
    )
    assert list(table["condition"]) == ["clean", "noise", TOTAL]
    for line in table.to_dict("records"):
        assert line["wer_low"] <= line["wer"] <= line["wer_high"]
        # the four files' rates are 10-40 %: no resample of them leaves that range
        assert line["wer_low"] >= 0.1 and line["wer_high"] <= 0.4


def test_comparisons_name_the_better_provider_and_keep_the_null():
    rows = []
    for i in range(12):
        sid = f"f{i:02d}"
        rows += [_row(sid, "good", 1, 50), _row(sid, "bad", 10, 50)]  # 2 % vs 20 % on each file
        rows += [
            _row(sid, "good", 1 + i % 2, 50, condition="noise"),
            _row(sid, "bad", 10, 50, condition="noise"),
        ]
    table = comparisons(rows_frame(rows))
    providers = table[table["compared"] == "providers"]
    assert list(providers["within"]) == ["clean", "noise"]
    assert providers["significant"].all()
    # a pair is named in sorted order, whatever order the rows came in
    assert (
        providers["verdict"]
        .iloc[0]
        .startswith("good is better than bad (significant: WER 20.0 % vs 2.0 %")
    )
    assert providers["diff"].iloc[0] == pytest.approx(0.18)
    conditions = table[table["compared"] == "conditions"].set_index("within")
    # bad: identical on clean and noise → nothing; good: 1 vs 1-2 errors, not significant
    assert not conditions.loc["bad", "significant"]
    assert conditions.loc["bad", "p_bootstrap"] == 1.0
    assert conditions.loc["good", "a"] == "clean" and conditions.loc["good", "b"] == "noise"


def test_top_edits_and_flags_from_rows():
    scoring = Scoring()
    hyps = ("the bat sat on the hat", "a bat sat on the mat", "?!")
    rows = [
        scored_row(
            flat_row("r", f"s{i}", "p"),
            score_transcript(
                Sample(f"s{i}", "x.wav", "the cat sat on the mat"), Transcript(hyp), (), scoring
            ),
        )
        for i, hyp in enumerate(hyps)
    ]
    frame = rows_frame(rows)
    subs = top_edits(frame, "sub", n=2).to_dict("records")
    assert subs[0]["edit"] == "cat → bat" and subs[0]["count"] == 2
    assert subs[0]["share"] == pytest.approx(2 / 4)  # of 4 substitutions
    assert top_edits(frame, "del")["count"].sum() == 6  # the "?!" transcript deletes all
    (line,) = flags_table(frame).to_dict("records")
    assert (line["transcripts"], line["with_errors"], line["punctuation-only"]) == (3, 3, 1)
    assert line["uer"] == 1.0
    with pytest.raises(ValueError, match="unknown edit kind"):
        top_edits(frame, "swap")


def test_summary_has_the_analysis_sections():
    rows = []
    for i in range(4):
        rows += [_row(f"f{i}", "good", 1, 50), _row(f"f{i}", "bad", 10, 50)]
    text = summary_markdown(rows_frame(rows), "t", "whisper")
    assert "these figures are rough" in text
    assert "### Paired differences" in text  # inside the Accuracy group
    line = next(x for x in text.splitlines() if x.startswith("| all | bad | good | 4 |"))
    assert "| 20.0 % | 2.0 % | +18.0 |" in line and line.endswith("| good better (significant) |")
    assert "## Utterance errors and flags" in text
    assert "| good | 2.0 % | [2.0, 2.0] % |" in text  # every file at 2 %: so is every resample
