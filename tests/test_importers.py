"""Importers: fixtures written the way each ecosystem writes them; expected values by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stt_eval.datasets.importers import (
    ImporterUnavailable,
    UnknownFormat,
    import_dataset,
    import_samples,
)
from stt_eval.datasets.manifest import ManifestError, load_manifest


def _touch(*paths):
    for p in paths:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"RIFF")


def test_nemo_rows_whole_and_sliced_round_trip(tmp_path):
    _touch(tmp_path / "audio" / "a.wav", tmp_path / "audio" / "long.wav")
    rows = [
        {"audio_filepath": "audio/a.wav", "duration": 1.5, "text": "go forward"},
        {
            "audio_filepath": "audio/long.wav",
            "duration": 2.25,
            "offset": 12.34,
            "text": "ten meters",
            "speaker": "s2",
        },
        {"audio_filepath": "audio/long.wav", "duration": 1.0, "offset": 20.0, "text": "stop"},
        {"audio_filepath": "audio/gone.wav", "duration": 1.0, "text": "missing"},
        {"audio_filepath": "audio/a.wav", "duration": -1, "text": "bad"},
    ]
    src = tmp_path / "train_manifest.json"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    m = import_samples("nemo", src)
    assert [s.id for s in m.samples] == ["a", "long-0012340", "long-0020000"]
    assert m.samples[0].text == "go forward" and "offset_s" not in m.samples[0].meta
    assert m.samples[1].meta == {
        "offset_s": 12.34,
        "duration_s": 2.25,
        "recording": "long",
        "speaker": "s2",
    }
    assert [p.row for p in m.problems] == [4, 5]
    assert "gone.wav not found" in str(m.problems[0]) and "duration=-1" in str(m.problems[1])

    out = tmp_path / "ours" / "manifest.jsonl"
    out.parent.mkdir()
    import_dataset("nemo", src, out)
    back = load_manifest(out, strict=True)
    assert [(s.id, s.text, s.audio_path.resolve()) for s in back.samples] == [
        (s.id, s.text, s.audio_path.resolve()) for s in m.samples
    ]
    assert back.samples[1].meta["offset_s"] == 12.34


def test_kaldi_data_dir_with_segments_and_utt2spk(tmp_path):
    data = tmp_path / "s5" / "data" / "dev"
    data.mkdir(parents=True)
    _touch(tmp_path / "s5" / "wav" / "rec1.wav")  # relative to the recipe folder, as Kaldi has it
    (data / "wav.scp").write_text("rec1 wav/rec1.wav\nrec2 sph2pipe -f wav -p rec2.sph |\n")
    (data / "text").write_text(
        "spk1-rec1-0000 hello world\nspk1-rec1-0150 good bye\nspk2-rec2-0000 piped audio\n"
    )
    (data / "segments").write_text(
        "spk1-rec1-0000 rec1 0.00 1.20\nspk1-rec1-0150 rec1 1.50 2.75\nspk2-rec2-0000 rec2 0 1\n"
    )
    (data / "utt2spk").write_text("spk1-rec1-0000 spk1\nspk1-rec1-0150 spk1\nspk2-rec2-0000 spk2\n")
    m = import_samples("kaldi", data)
    assert [s.id for s in m.samples] == ["spk1-rec1-0000", "spk1-rec1-0150"]
    second = m.samples[1]
    assert second.text == "good bye"
    assert second.audio_path == tmp_path / "s5" / "wav" / "rec1.wav"
    assert second.meta == {
        "offset_s": 1.5,
        "duration_s": 1.25,
        "recording": "rec1",
        "speaker": "spk1",
    }
    (problem,) = m.problems
    assert problem.row == 3 and problem.sample_id == "spk2-rec2-0000"
    assert "is a command" in problem.message and "without the '|'" in problem.message


def test_kaldi_without_segments_is_one_utterance_per_recording(tmp_path):
    _touch(tmp_path / "a.flac")
    (tmp_path / "wav.scp").write_text(f"utt1 {tmp_path / 'a.flac'}\n")
    (tmp_path / "text").write_text("utt1 just this\n")
    (s,) = import_samples("kaldi", tmp_path).samples
    assert (s.id, s.text, s.meta) == ("utt1", "just this", {})


def test_kaldi_needs_wav_scp_and_text(tmp_path):
    with pytest.raises(ManifestError, match="needs wav.scp and text"):
        import_samples("kaldi", tmp_path)


def test_hf_audiofolder_csv_and_jsonl_splits(tmp_path):
    _touch(tmp_path / "train" / "clips" / "a.wav", tmp_path / "test" / "b.mp3")
    (tmp_path / "train" / "metadata.csv").write_text(
        'file_name,transcription,speaker_id\nclips/a.wav,"hello, world",s1\n'
    )
    (tmp_path / "test" / "metadata.jsonl").write_text(
        json.dumps({"file_name": "b.mp3", "transcription": "bye", "age": 30}) + "\n"
    )
    m = import_samples("hf-audiofolder", tmp_path)
    by_id = {s.id: s for s in m.samples}
    assert set(by_id) == {"clips/a", "b"} and not m.problems
    assert by_id["clips/a"].text == "hello, world"
    assert by_id["clips/a"].meta == {"speaker_id": "s1", "split": "train"}
    assert by_id["b"].meta == {"age": 30, "split": "test"}
    assert by_id["b"].audio_path == tmp_path / "test" / "b.mp3"


def test_hf_audiofolder_without_a_text_column_names_the_choices(tmp_path):
    (tmp_path / "metadata.csv").write_text("file_name,words\na.wav,hi\n")
    with pytest.raises(ManifestError, match="no text column among .*transcription"):
        import_samples("hf-audiofolder", tmp_path)


def test_stm_segments_become_slices(tmp_path):
    _touch(tmp_path / "meeting.wav")
    (tmp_path / "ref.stm").write_text(
        ";; comment\n"
        "meeting 1 alice 0.50 2.00 <o,f0,female> hello there\n"
        "meeting 1 inter_segment_gap 2.00 3.00\n"
        "meeting 1 bob 3.00 4.25 general kenobi\n"
        "other 1 carol 0 1 no audio for this\n"
    )
    m = import_samples("stm", tmp_path / "ref.stm")
    assert [(s.id, s.text) for s in m.samples] == [
        ("meeting-0000050-0000200", "hello there"),
        ("meeting-0000300-0000425", "general kenobi"),
    ]
    assert m.samples[1].meta == {
        "offset_s": 3.0,
        "duration_s": 1.25,
        "recording": "meeting",
        "speaker": "bob",
    }
    (problem,) = m.problems
    assert problem.sample_id == "other-0000000-0000100" and "no audio other.wav" in problem.message


def test_lhotse_cuts_import_as_slices_of_their_recording(tmp_path):
    """A CutSet written by lhotse itself (recording + two supervisions), read back as samples."""
    lhotse = pytest.importorskip("lhotse", reason="lhotse not installed (pip install lhotse)")
    audio = Path(__file__).parents[1] / "datasets/sample/audio/whisper_jfk.flac"
    rec = lhotse.Recording.from_file(audio, recording_id="jfk")
    sups = [
        lhotse.SupervisionSegment(
            "jfk-1", "jfk", start=0.3, duration=2.7, text="And so", speaker="JFK", language="en"
        ),
        lhotse.SupervisionSegment(
            "jfk-2", "jfk", start=3.5, duration=4.0, text="my fellow", language="en"
        ),
    ]
    cuts = lhotse.CutSet.from_manifests(
        recordings=lhotse.RecordingSet.from_recordings([rec]),
        supervisions=lhotse.SupervisionSet.from_segments(sups),
    )
    cuts.to_file(tmp_path / "cuts.jsonl.gz")
    samples = {s.id: s for s in import_samples("lhotse", tmp_path / "cuts.jsonl.gz").samples}
    assert sorted(samples) == ["jfk-1", "jfk-2"]
    one = samples["jfk-1"]
    assert one.text == "And so" and Path(one.audio_path).resolve() == audio.resolve()
    assert one.meta["offset_s"] == pytest.approx(0.3) and one.meta["duration_s"] == 2.7
    assert one.meta["speaker"] == "JFK" and "speaker" not in samples["jfk-2"].meta


def test_lhotse_missing_says_what_to_install(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_lhotse(name, *args, **kwargs):
        if name == "lhotse":
            raise ImportError("No module named 'lhotse'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_lhotse)
    with pytest.raises(ImporterUnavailable, match="pip install lhotse"):
        import_samples("lhotse", tmp_path / "cuts.jsonl.gz")


def test_unknown_format_lists_the_formats(tmp_path):
    with pytest.raises(UnknownFormat, match="nemo, kaldi, hf-audiofolder, stm, lhotse"):
        import_samples("espnet", tmp_path)
