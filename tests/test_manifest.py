"""Manifests: every bad row reported at once with its row number; CSV and JSONL; round trip."""

from __future__ import annotations

import json

import pytest

from stt_eval.datasets.manifest import ManifestError, load_manifest, save_manifest
from stt_eval.datasets.transcripts import TranscriptFileError, read_transcripts, read_trn, write_trn

from .conftest import SAMPLE


def _write_jsonl(path, rows):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


@pytest.fixture
def audio(tmp_path):
    (tmp_path / "a.flac").write_bytes(
        (SAMPLE / "audio" / "pocketsphinx_goforward.flac").read_bytes()
    )
    return "a.flac"


def test_bundled_sample_is_valid():
    m = load_manifest(SAMPLE / "manifest.jsonl", strict=True)
    assert len(m.samples) >= 8 and not m.problems
    assert any(s.meta.get("rttm_path") for s in m.samples)


def test_all_bad_rows_are_reported_with_row_numbers(tmp_path, audio):
    path = _write_jsonl(
        tmp_path / "m.jsonl",
        [
            {"id": "ok", "audio": audio, "text": "go forward"},
            {"id": "notext", "audio": audio},
            {"id": "ok", "audio": audio, "text": "duplicate"},
            {"id": "gone", "audio": "nope.wav", "text": "x"},
            {"id": "extra", "audio": audio, "text": "x", "speaker": {"name": "bob"}},
            {"id": "lang", "audio": audio, "text": "x", "language": "English"},
            "{not json",
        ],
    )
    m = load_manifest(path)
    assert [s.id for s in m.samples] == ["ok"]
    by_row = {p.row: p.message for p in m.problems}
    assert set(by_row) == {2, 3, 4, 5, 6, 7}
    assert "missing text" in by_row[2] and "add the reference transcript" in by_row[2]
    assert "duplicate id" in by_row[3] and "row 1" in by_row[3]
    assert "nope.wav" in by_row[4] and "not found" in by_row[4]
    assert "'speaker' is an object" in by_row[5] and "meta column" in by_row[5]
    assert "'English'" in by_row[6] and "ISO 639" in by_row[6]
    assert "not valid JSON" in by_row[7]
    with pytest.raises(ManifestError) as err:
        load_manifest(path, strict=True)
    assert str(err.value).count("row ") >= 6


def test_unknown_fields_are_kept_as_meta_with_one_warning_per_field(tmp_path, audio):
    rows = [
        {"id": f"u{i}", "audio": audio, "text": "go", "speaker": f"s{i}", "duration": 1.5}
        for i in range(3)
    ]
    rows.append({"id": "m", "audio": audio, "text": "go", "txt": "typo", "meta": {"a": 1}})
    with pytest.warns(UserWarning) as caught:
        m = load_manifest(_write_jsonl(tmp_path / "m.jsonl", rows), strict=True)
    notes = [str(w.message) for w in caught]
    assert len(notes) == 3 and notes == list(m.notes)  # speaker, duration, txt: once each
    assert "'speaker'" in notes[0] and "3 rows, first row 1" in notes[0]
    assert "did you mean 'text'?" in notes[2] and "row 4" in notes[2]
    assert m.samples[1].meta == {"speaker": "s1", "duration": 1.5}
    assert m.samples[3].meta == {"a": 1, "txt": "typo"}


def test_csv_unknown_columns_are_meta_too(tmp_path, audio):
    (tmp_path / "m.csv").write_text(f"id,audio,text,speaker\nx,{audio},go forward,bob\n")
    with pytest.warns(UserWarning, match="'speaker' is not a manifest field"):
        (s,) = load_manifest(tmp_path / "m.csv", strict=True).samples
    assert s.meta == {"speaker": "bob"}


def test_csv_with_metadata_and_terms(tmp_path, audio):
    (tmp_path / "m.csv").write_text(
        f"id,audio,text,terms,meta.channel\nx,{audio},go forward,forward;meters,phone\n"
    )
    (s,) = load_manifest(tmp_path / "m.csv", strict=True).samples
    assert s.terms == ("forward", "meters") and s.meta == {"channel": "phone"}
    assert s.audio_path == tmp_path / audio


def test_csv_with_a_wrong_header_names_the_columns(tmp_path, audio):
    (tmp_path / "m.csv").write_text(f"file,transcript\n{audio},go forward\n")
    with pytest.raises(ManifestError) as err:
        load_manifest(tmp_path / "m.csv")
    msg = str(err.value)
    assert "m.csv" in msg and "missing ['id', 'audio', 'text']" in msg and "'id,audio,text'" in msg


def test_save_then_load_round_trips(tmp_path):
    m = load_manifest(SAMPLE / "manifest.jsonl")
    out = save_manifest(m.samples, tmp_path / "copy.jsonl")
    again = load_manifest(out, check_audio=True)
    assert [(s.id, s.text, s.audio_path.resolve(), s.language) for s in again.samples] == [
        (s.id, s.text, s.audio_path.resolve(), s.language) for s in m.samples
    ]


def test_trn_reads_sclite_format(tmp_path):
    (tmp_path / "r.trn").write_text("go forward ten meters (spk1_utt1)\n\nhello (spk1_utt2)\n")
    assert read_trn(tmp_path / "r.trn") == {
        "spk1_utt1": "go forward ten meters",
        "spk1_utt2": "hello",
    }
    write_trn({"a": "x  y"}, tmp_path / "w.trn")
    assert read_transcripts(tmp_path / "w.trn") == {"a": "x y"}


def test_trn_errors_name_the_line(tmp_path):
    (tmp_path / "r.trn").write_text("fine (a)\nno id here\n")
    with pytest.raises(TranscriptFileError, match=r"r.trn: line 2: not trn format"):
        read_trn(tmp_path / "r.trn")
