"""Nothing silently wrong: every bad input is refused with a message naming the file, the row or
line and the fix, or is kept and flagged. Never a plausible number computed from part of it."""

from __future__ import annotations

# =============================================================================================
# Reading inputs strictly: audio, manifests, transcripts, annotations, scoring.
# Helpers of this section are local to it (prefixed _in_); expected values come from the bytes
# and samples each test crafts, never from the code under test.
# =============================================================================================
import json
import shutil
import struct
import subprocess
import warnings

import numpy as np
import pytest
import soundfile as sf

from stt_eval.api import score_files
from stt_eval.audio.checks import DOWNMIX_ENERGY_FLOOR
from stt_eval.audio.load import (
    AudioError,
    audio_warnings,
    ffmpeg_exe,
    load_audio,
    open_audio,
    read_audio,
)
from stt_eval.cli import main
from stt_eval.datasets.annotations import AnnotationError, read_ctm, read_rttm, read_stm, read_uem
from stt_eval.datasets.manifest import ManifestError, load_manifest
from stt_eval.datasets.text import ByteOrderMarkWarning
from stt_eval.datasets.transcripts import NothingToScore, TranscriptFileError, read_transcripts
from stt_eval.metrics.wer import CharCounts, WordCounts, score_corpus
from stt_eval.normalization.rules import normalizes_to_nothing
from stt_eval.pipeline import prepare as prepared

from .conftest import SAMPLE

_IN_RATE = 16_000
_IN_FIX_AUDIO = "copy or export the recording again"
_IN_FIX_UTF8 = "save the file as UTF-8"


def _in_tone(seconds: float, rate: int = _IN_RATE, amplitude: float = 0.3) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


def _in_wav_bytes(frames: np.ndarray, rate: int = _IN_RATE, declared: int | None = None) -> bytes:
    """A canonical 44-byte-header PCM-16 WAV; ``declared`` overrides the data chunk's size."""
    frames = frames if frames.ndim == 2 else frames[:, None]
    data = np.round(frames * 32767).astype("<i2").tobytes()
    block = 2 * frames.shape[1]
    size = len(data) if declared is None else declared
    fmt = struct.pack("<HHIIHH", 1, frames.shape[1], rate, rate * block, block, 16)
    riff = struct.pack("<I", min(0xFFFFFFFF, 4 + 8 + len(fmt) + 8 + size))
    return (
        b"RIFF"
        + riff
        + b"WAVE"
        + b"fmt "
        + struct.pack("<I", 16)
        + fmt
        + b"data"
        + (struct.pack("<I", size) + data)
    )


def _in_encode(src, dst, *args):
    subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-v", "error", "-y", "-i", str(src), *args, str(dst)],
        check=True,
    )
    return dst


def _in_cut(path, keep: float):
    """Keep the first ``keep`` share of a file's bytes (a copy that stopped part-way)."""
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def _in_audio_error(path, *needles: str) -> str:
    with pytest.raises(AudioError) as err:
        load_audio(path)
    msg = str(err.value)
    assert str(path) in msg, msg
    for needle in needles:
        assert needle in msg, msg
    return msg


# --------------------------------------------------------------------------- truncated audio


def test_truncated_wav_names_what_the_header_promises_and_what_is_there(tmp_path):
    path = tmp_path / "cut.wav"
    full = _in_wav_bytes(_in_tone(1.0))  # 16000 frames x 2 bytes = 32000 data bytes
    path.write_bytes(full[: 44 + 16000])  # half the samples survive the copy
    _in_audio_error(
        path,
        "truncated",
        "promises 32000 bytes of audio (1.00 s)",
        "holds 16000 (0.50 s)",
        _IN_FIX_AUDIO,
    )


def test_truncated_wav_is_refused_by_the_windowed_reader_too(tmp_path):
    path = tmp_path / "cut.wav"
    path.write_bytes(_in_wav_bytes(_in_tone(2.0))[: 44 + 32000])
    with pytest.raises(AudioError, match="promises 64000 bytes") as err:
        open_audio(path)
    assert str(path) in str(err.value)


def test_header_only_wav_is_truncated_not_empty(tmp_path):
    path = tmp_path / "header.wav"
    path.write_bytes(_in_wav_bytes(_in_tone(1.0))[:44])
    _in_audio_error(path, "promises 32000 bytes", "holds 0 (0.00 s)", _IN_FIX_AUDIO)


def test_wav_whose_header_says_zero_bytes_but_holds_audio(tmp_path):
    path = tmp_path / "unfinished.wav"
    # the 16000 sample bytes follow a header that says 0: a recorder that never finished
    path.write_bytes(_in_wav_bytes(_in_tone(0.5), declared=0))
    _in_audio_error(path, "0 bytes of audio, yet 16000 bytes follow", "ffmpeg -i in.wav out.wav")


def test_wav_streamed_with_unknown_length_is_read_whole(tmp_path):
    path = tmp_path / "streamed.wav"
    path.write_bytes(_in_wav_bytes(_in_tone(1.0), declared=0xFFFFFFFF))
    assert load_audio(path).duration_s == 1.0


def test_truncated_flac_is_refused_not_decoded_in_part(tmp_path):
    path = tmp_path / "cut.flac"
    sf.write(path, _in_tone(3.0), _IN_RATE, format="FLAC")
    _in_cut(path, 0.5)
    _in_audio_error(
        path, "damaged or truncated", "of the 3.00 s its header promises", _IN_FIX_AUDIO
    )


def test_truncated_flac_window_fails_instead_of_coming_back_short(tmp_path):
    path = tmp_path / "cut.flac"
    sf.write(path, _in_tone(3.0), _IN_RATE, format="FLAC")
    _in_cut(path, 0.5)
    with open_audio(path) as audio:
        assert audio.duration_s == 3.0  # the header still says 3 s
        with pytest.raises(AudioError, match="damaged or truncated") as err:
            audio.read(0.0, 3.0)
    assert str(path) in str(err.value)


@pytest.mark.parametrize(
    ("fmt", "subtype", "suffix", "width"),
    [
        ("AIFF", "PCM_16", ".aiff", 2),
        ("NIST", "PCM_16", ".sph", 2),  # SPHERE, as LDC corpora ship
        ("W64", "PCM_16", ".w64", 2),
        ("WAV", "PCM_24", ".wav", 3),
        ("RF64", "PCM_16", ".wav", 2),
    ],
)
def test_truncated_headered_formats_are_refused(tmp_path, fmt, subtype, suffix, width):
    path = tmp_path / f"cut{suffix}"
    sf.write(path, _in_tone(1.0), _IN_RATE, format=fmt, subtype=subtype)
    _in_cut(path, 0.6)
    _in_audio_error(path, "truncated", f"promises {_IN_RATE * width} bytes of audio (1.00 s)")


@pytest.fixture
def _in_src(tmp_path):
    path = tmp_path / "src.wav"
    t = np.arange(4 * _IN_RATE) / _IN_RATE
    speechlike = 0.3 * np.sin(2 * np.pi * 440 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))
    sf.write(path, speechlike.astype(np.float32), _IN_RATE)
    return path


def test_truncated_mp3_with_a_length_tag_is_refused(tmp_path, _in_src):
    path = _in_cut(_in_encode(_in_src, tmp_path / "cut.mp3", "-b:a", "64k"), 0.5)
    _in_audio_error(path, "truncated", "promises 4.00 s", _IN_FIX_AUDIO)


def test_vbr_mp3_without_a_length_tag_is_decoded_whole(tmp_path, _in_src):
    # libsndfile guesses this file's length from its first frame (a fraction of it)
    path = _in_encode(_in_src, tmp_path / "vbr.mp3", "-q:a", "4", "-write_xing", "0")
    assert abs(load_audio(path).duration_s - 4.0) < 0.15


@pytest.mark.parametrize(("suffix", "args"), [(".opus", ["-c:a", "libopus"]), (".ogg", [])])
def test_truncated_ogg_is_refused(tmp_path, _in_src, suffix, args):
    path = _in_cut(_in_encode(_in_src, tmp_path / f"cut{suffix}", *args), 0.5)
    _in_audio_error(path, "truncated", "last Ogg page is cut off", _IN_FIX_AUDIO)


def test_truncated_webm_reported_by_ffmpeg_is_refused(tmp_path, _in_src):
    path = _in_cut(_in_encode(_in_src, tmp_path / "cut.webm", "-c:a", "libopus"), 0.5)
    _in_audio_error(path, "damaged", "ffmpeg reported an error", _IN_FIX_AUDIO)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("notes.wav", b"these are my meeting notes, not audio\n" * 20),
        ("noise.flac", np.random.default_rng(0).bytes(20_000)),
        ("fake.mp3", b"\xff\xfb" + b"\0" * 10),
    ],
)
def test_non_audio_bytes_are_refused(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(AudioError) as err:
        load_audio(path)
    assert str(path) in str(err.value) and " — " in str(err.value)


# --------------------------------------------------------------------------- scorable audio


def _in_stereo(tmp_path, right_gain: float):
    left = _in_tone(1.0)
    path = tmp_path / f"stereo{right_gain:+.1f}.wav"
    sf.write(path, np.stack([left, right_gain * left], axis=1), _IN_RATE, subtype="PCM_16")
    return path


@pytest.mark.parametrize("right_gain", [-1.0, -0.8, -0.4, 0.0, 1.0])
def test_channels_that_cancel_in_the_downmix_are_flagged(tmp_path, right_gain):
    # with right = g * left, the mean keeps ((1+g)/2)^2 of the energy against (1+g^2)/2 per channel
    share = ((1 + right_gain) / 2) ** 2 / ((1 + right_gain**2) / 2)
    path = _in_stereo(tmp_path, right_gain)
    loaded = read_audio(path)
    flagged = [w for w in loaded.warnings if "cancel" in w]
    assert bool(flagged) == (share < DOWNMIX_ENERGY_FLOOR)
    if flagged:
        assert str(path) in flagged[0] and f"{100 * share:.1f} %" in flagged[0]
        assert "invert it, keep one channel" in flagged[0] and "split" in flagged[0]
    assert loaded.clip.duration_s == 1.0  # the downmix is kept and still scored


def test_cancelling_channels_are_flagged_through_ffmpeg_too(tmp_path):
    path = _in_encode(_in_stereo(tmp_path, -1.0), tmp_path / "cancel.m4a", "-c:a", "aac")
    assert any("cancel" in w and str(path) in w for w in read_audio(path).warnings)


def test_digital_silence_warns_and_is_still_loaded(tmp_path):
    path = tmp_path / "silence.wav"
    path.write_bytes(_in_wav_bytes(np.zeros(8000, dtype=np.float32)))
    loaded = read_audio(path)
    assert loaded.clip.duration_s == 0.5 and not loaded.clip.samples.any()
    (warning,) = loaded.warnings
    assert (
        str(path) in warning and "digital silence" in warning and "check the recording" in warning
    )


def test_float_samples_beyond_full_scale_warn(tmp_path):
    path = tmp_path / "loud.wav"
    sf.write(path, _in_tone(0.5, amplitude=4.0), _IN_RATE, subtype="FLOAT")
    (warning,) = read_audio(path).warnings
    assert str(path) in warning and "4.00× full scale" in warning and "rescale" in warning


def test_clean_recordings_give_no_warnings():
    for name in ("pocketsphinx_goforward.flac", "whisper_jfk.flac"):  # mono; stereo
        assert read_audio(SAMPLE / "audio" / name).warnings == ()


def test_scanning_a_file_on_disk_gives_the_same_warnings(tmp_path):
    path = _in_stereo(tmp_path, -1.0)
    assert audio_warnings(path) == read_audio(path).warnings != ()


@pytest.mark.parametrize("streamed", [False, True])
def test_prepared_audio_carries_the_warnings_for_the_row(tmp_path, monkeypatch, streamed):
    if streamed:
        monkeypatch.setattr(prepared, "STREAM_ABOVE_S", 0.5)
    path = _in_stereo(tmp_path, -1.0)
    audio = prepared.prepare(prepared.Recording("s", path), "clean", 0, needs_whole=not streamed)
    assert isinstance(audio, prepared.StreamedAudio if streamed else prepared.WholeAudio)
    assert any("cancel" in w for w in audio.warnings)


# --------------------------------------------------------------------------- manifests


@pytest.fixture
def _in_dir(tmp_path):
    shutil.copy(SAMPLE / "audio" / "pocketsphinx_goforward.flac", tmp_path / "a.flac")
    return tmp_path


def _in_jsonl(path, rows):
    path.write_text(
        "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows),
        encoding="utf-8",
    )
    return path


_IN_GOOD = {"id": "good", "audio": "a.flac", "text": "go forward ten meters"}


@pytest.mark.parametrize(
    ("key", "value", "found", "fix"),
    [
        ("text", 42, "text is a number (42), not a string", 'write it in quotes: "text": "42"'),
        ("text", ["go", "forward"], "text is a list", "join the words into one string"),
        ("text", {"en": "go"}, "text is an object", "make it a string"),
        ("text", None, "missing text", "add the reference transcript"),
        ("id", 7, "id is a number (7), not a string", 'write it in quotes: "id": "7"'),
        ("id", True, "id is true/false (True)", 'write it in quotes: "id": "true"'),
        ("id", 7.5, "id is a number (7.5)", 'write it in quotes: "id": "7.5"'),
        ("audio", 3, "audio is a number (3)", 'write it in quotes: "audio": "3"'),
        ("language", 1, "language is a number (1)", 'write it in quotes: "language": "1"'),
        ("rttm", ["a.rttm"], "rttm is a list", "make it a string"),
        ("audio_url", 5, "audio_url is a number (5)", "write it in quotes"),
        ("terms", "refund", "terms is a string ('refund')", 'write "terms": ["a", "b"]'),
        ("terms", ["refund", 5], "terms[1] is a number (5), not a string", "quote it"),
        ("meta", ["phone"], "meta is a list", 'write "meta": {"name": value}'),
        ("meta", {"speakers": ["a", "b"]}, "meta.speakers is a list", "flatten it"),
        ("meta", {"rttm_path": "x.rttm"}, "meta.rttm_path is reserved", "rename the key"),
    ],
)
def test_manifest_types_are_checked_never_coerced(_in_dir, key, value, found, fix):
    bad = {"id": "bad", "audio": "a.flac", "text": "go forward"} | {key: value}
    path = _in_jsonl(_in_dir / "m.jsonl", [_IN_GOOD, bad])
    m = load_manifest(path)
    assert [s.id for s in m.samples] == ["good"]
    (problem,) = m.problems
    assert problem.row == 2 and found in problem.message and fix in problem.message
    assert str(path) in str(problem) and "row 2" in str(problem)


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ('{"id": "b", "audio": "a.flac", "text": "x", "meta": {"snr": NaN}}', "NaN is not JSON"),
        ('{"id": "b", "audio": "a.flac", "text": "x", "text": "y"}', 'key "text" appears twice'),
    ],
)
def test_manifest_json_that_python_would_accept_is_refused(_in_dir, line, needle):
    m = load_manifest(_in_jsonl(_in_dir / "m.jsonl", [_IN_GOOD, line]))
    (problem,) = m.problems
    assert problem.row == 2 and needle in problem.message


def test_every_type_problem_of_every_row_is_reported_at_once(_in_dir):
    rows = [
        {"id": 1, "audio": "a.flac", "text": 2},
        _IN_GOOD,
        {"id": "c", "audio": "a.flac", "text": "x", "terms": "a;b", "meta": {"k": [1]}},
    ]
    path = _in_jsonl(_in_dir / "m.jsonl", rows)
    by_row = {p.row: p.message for p in load_manifest(path).problems}
    assert set(by_row) == {1, 3}
    assert "id is a number (1)" in by_row[1] and "text is a number (2)" in by_row[1]
    assert "terms is a string" in by_row[3] and "meta.k is a list" in by_row[3]
    with pytest.raises(ManifestError) as err:
        load_manifest(path, strict=True)
    assert "row 1" in str(err.value) and "row 3" in str(err.value)


def test_csv_values_are_strings_and_keep_working(_in_dir):
    (_in_dir / "m.csv").write_text("id,audio,text,terms,meta.snr\n7,a.flac,42,x;y,10\n")
    (s,) = load_manifest(_in_dir / "m.csv", strict=True).samples
    assert (s.id, s.text, s.terms, dict(s.meta)) == ("7", "42", ("x", "y"), {"snr": "10"})


def test_csv_column_given_twice_is_refused(_in_dir):
    (_in_dir / "m.csv").write_text("id,audio,text,text\ng,a.flac,go forward,other\n")
    with pytest.raises(ManifestError, match=r"given twice \['text'\]") as err:
        load_manifest(_in_dir / "m.csv")
    assert "m.csv" in str(err.value)


@pytest.mark.parametrize(
    ("name", "content"),
    [("m.jsonl", ""), ("m.jsonl", "\n  \n"), ("m.csv", "id,audio,text\n")],
)
def test_empty_manifest_is_an_error(_in_dir, name, content):
    (_in_dir / name).write_text(content)
    with pytest.raises(ManifestError, match="has no rows") as err:
        load_manifest(_in_dir / name)
    assert name in str(err.value) and "add one row per recording" in str(err.value)


def test_json_array_instead_of_json_lines(_in_dir):
    (_in_dir / "m.json").write_text(json.dumps([_IN_GOOD], indent=2))
    with pytest.raises(ManifestError, match="is a JSON array; a manifest is JSON Lines"):
        load_manifest(_in_dir / "m.json")


def test_line_separator_inside_a_json_string_does_not_split_the_row(_in_dir):
    rows = [_IN_GOOD | {"text": "go\u2028forward"}, _IN_GOOD | {"id": "two"}]
    m = load_manifest(_in_jsonl(_in_dir / "m.jsonl", rows), strict=True)
    assert [s.text for s in m.samples] == ["go\u2028forward", "go forward ten meters"]


# --------------------------------------------------------------------------- encodings and BOMs


def _in_with_bom(path, text: str):
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    return path


def _in_expect_bom_warning(record, path) -> None:
    boms = [w for w in record if issubclass(w.category, ByteOrderMarkWarning)]
    assert len(boms) == 1 and str(path) in str(boms[0].message)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("m.jsonl", json.dumps(_IN_GOOD) + "\n"),
        ("m.csv", "id,audio,text\ngood,a.flac,go forward ten meters\n"),
    ],
)
def test_manifest_bom_is_removed_and_said_once(_in_dir, name, text):
    path = _in_with_bom(_in_dir / name, text)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        m = load_manifest(path, strict=True)
    assert [s.id for s in m.samples] == ["good"]
    _in_expect_bom_warning(record, path)


def _in_latin1(path, first: str, second: str) -> int:
    """Write two lines, the second with a Latin-1 'é'; returns the bad byte's offset."""
    data = (first + "\n").encode() + second.encode("latin-1") + b"\n"
    path.write_bytes(data)
    return data.index(b"\xe9")


@pytest.mark.parametrize(
    ("name", "first", "second"),
    [
        ("m.jsonl", json.dumps(_IN_GOOD), '{"id": "b", "audio": "a.flac", "text": "café"}'),
        ("m.csv", "id,audio,text", "b,a.flac,café au lait"),
    ],
)
def test_manifest_not_in_utf8_names_line_and_byte(_in_dir, name, first, second):
    offset = _in_latin1(_in_dir / name, first, second)
    with pytest.raises(ManifestError) as err:
        load_manifest(_in_dir / name)
    msg = str(err.value)
    assert str(_in_dir / name) in msg and f"line 2 (byte offset {offset})" in msg
    assert "E9" in msg and _IN_FIX_UTF8 in msg


def test_utf16_manifest_is_named_as_such(_in_dir):
    (_in_dir / "m.jsonl").write_bytes((json.dumps(_IN_GOOD) + "\n").encode("utf-16"))
    with pytest.raises(ManifestError, match="UTF-16") as err:
        load_manifest(_in_dir / "m.jsonl")
    assert _IN_FIX_UTF8 in str(err.value)


def test_bom_in_reference_trn_does_not_cost_a_word(tmp_path):
    # "\ufeffgo" would be a substitution: 1 error in 4 words, 25 % WER on identical texts
    ref = _in_with_bom(tmp_path / "ref.trn", "go forward ten meters (u1)\n")
    (tmp_path / "hyp.trn").write_text("go forward ten meters (u1)\n")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        score = score_files(ref, tmp_path / "hyp.trn", normalizer="none")
    assert (score.total.ref_words, score.total.errors) == (4, 0)
    _in_expect_bom_warning(record, ref)


def test_bom_in_jsonl_transcripts_keeps_the_first_id(tmp_path):
    path = _in_with_bom(tmp_path / "h.jsonl", '{"id": "u1", "text": "hello"}\n')
    with pytest.warns(ByteOrderMarkWarning):
        assert read_transcripts(path) == {"u1": "hello"}


@pytest.mark.parametrize(
    ("name", "first", "second"),
    [
        ("r.trn", "go forward (u1)", "café au lait (u2)"),
        ("h.jsonl", '{"id": "u1", "text": "go"}', '{"id": "u2", "text": "café"}'),
    ],
)
def test_transcripts_not_in_utf8_name_line_and_byte(tmp_path, name, first, second):
    offset = _in_latin1(tmp_path / name, first, second)
    with pytest.raises(TranscriptFileError) as err:
        read_transcripts(tmp_path / name)
    msg = str(err.value)
    assert str(tmp_path / name) in msg and f"line 2 (byte offset {offset})" in msg
    assert _IN_FIX_UTF8 in msg


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ('{"id": 7, "text": "go"}', '"id" is a number (7), not a string'),
        ('{"id": "u1", "text": "go", "id": "u2"}', 'key "id" appears twice'),
    ],
)
def test_transcript_jsonl_ids_are_strings_and_keys_unique(tmp_path, line, needle):
    (tmp_path / "h.jsonl").write_text(line + "\n")
    with pytest.raises(TranscriptFileError, match="line 1") as err:
        read_transcripts(tmp_path / "h.jsonl")
    assert needle in str(err.value) and "h.jsonl" in str(err.value)


_IN_ANNOTATIONS = {
    "rttm": (read_rttm, "SPEAKER rec1 1 0.00 1.50 <NA> <NA> {who} <NA> <NA>"),
    "stm": (read_stm, "rec1 1 {who} 0.00 1.50 hello there"),
    "ctm": (read_ctm, "rec1 1 0.00 0.50 {who}"),
    "uem": (read_uem, "rec1 1 0.00 1.50"),
}


@pytest.mark.parametrize("fmt", sorted(_IN_ANNOTATIONS))
def test_annotation_bom_is_removed(tmp_path, fmt):
    reader, line = _IN_ANNOTATIONS[fmt]
    path = _in_with_bom(tmp_path / f"ref.{fmt}", line.format(who="alice") + "\n")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        assert set(reader(path)) == {"rec1"}
    _in_expect_bom_warning(record, path)


@pytest.mark.parametrize("fmt", sorted(_IN_ANNOTATIONS))
def test_annotation_not_in_utf8_names_line_and_byte(tmp_path, fmt):
    reader, line = _IN_ANNOTATIONS[fmt]
    second = line.format(who="josé") if "{who}" in line else line + " café"
    offset = _in_latin1(tmp_path / f"ref.{fmt}", line.format(who="alice"), second)
    with pytest.raises(AnnotationError) as err:
        reader(tmp_path / f"ref.{fmt}")
    msg = str(err.value)
    assert msg.startswith(f"{tmp_path / f'ref.{fmt}'}:2: ") and f"byte offset {offset}" in msg
    assert _IN_FIX_UTF8 in msg


# --------------------------------------------------------------------------- scoring


@pytest.mark.parametrize(
    ("text", "preset", "empty"),
    [
        ("[inaudible]", "whisper", True),
        ("{laugh} [noise] <unk>", "basic", True),
        ("(( ))", "whisper", True),
        ("uh um", "whisper", True),  # fillers are dropped by the whisper preset...
        ("uh um", "basic", False),  # ...but not by basic
        ("?!", "basic", True),
        ("[inaudible]", "none", False),  # none keeps markup as words
        ("[inaudible] yes", "whisper", False),
    ],
)
def test_normalizes_to_nothing(text, preset, empty):
    assert normalizes_to_nothing(text, preset) is empty


def test_markup_only_references_are_reported_not_scored():
    refs = {"a": "go forward", "b": "[inaudible] {laugh}"}
    hyps = {"a": "go forward", "b": "hello there"}
    score = score_corpus(refs, hyps)
    assert score.empty_references == ("b",) and set(score.per_utterance) == {"a"}
    assert (score.total.ref_words, score.total.ins) == (2, 0)  # "hello there" is not counted


def _in_trn(path, lines: dict[str, str]):
    path.write_text("".join(f"{text} ({uid})\n" for uid, text in lines.items()))
    return path


@pytest.mark.parametrize(
    ("refs", "hyps", "needle"),
    [
        ({"u1": "go"}, {"U1": "go"}, "share no utterance id"),
        ({}, {"u1": "go"}, "holds no references"),
        ({"u1": "[noise]", "u2": "{laugh}"}, {"u1": "a", "u2": "b"}, "hold no words"),
    ],
)
def test_score_with_nothing_to_score_names_both_files(tmp_path, refs, hyps, needle):
    ref = _in_trn(tmp_path / "ref.trn", refs)
    hyp = _in_trn(tmp_path / "hyp.trn", hyps)
    with pytest.raises(NothingToScore) as err:
        score_files(ref, hyp)
    assert isinstance(err.value, ValueError)
    assert needle in str(err.value) and str(ref) in str(err.value) and str(hyp) in str(err.value)


def test_cli_score_with_no_shared_ids_fails_instead_of_printing_nan(tmp_path, capsys):
    ref = _in_trn(tmp_path / "ref.trn", {"u1": "go"})
    hyp = _in_trn(tmp_path / "hyp.trn", {"u2": "go"})
    assert main(["score", str(ref), str(hyp)]) != 0
    out = capsys.readouterr()
    assert "nan" not in out.out.lower() and str(ref) in out.err and str(hyp) in out.err


def test_undefined_rates_serialize_as_null():
    doc = {"words": WordCounts().as_dict(), "chars": CharCounts().as_dict()}
    text = json.dumps(doc, allow_nan=False)  # raises on NaN
    assert json.loads(text)["words"] | json.loads(text)["chars"] == {
        "hits": 0,
        "subs": 0,
        "dels": 0,
        "ins": 0,
        "ref_words": 0,
        "hyp_words": 0,
        "errors": 0,
        "wer": None,
        "mer": None,
        "wil": None,
        "edits": 0,
        "ref_chars": 0,
        "cer": None,
    }
    assert WordCounts(hits=3, subs=1).as_dict()["wer"] == 0.25


def test_corpus_score_json_is_strict_and_lists_empty_references():
    score = score_corpus({"a": "go forward", "b": "[noise]"}, {"a": "go", "b": "x", "c": "y"})
    doc = json.loads(json.dumps(score.as_dict(), allow_nan=False))
    assert doc["total"]["wer"] == 0.5 and doc["per_utterance"]["a"]["dels"] == 1
    assert (doc["empty_references"], doc["missing_references"]) == (["b"], ["c"])


# --------------------------------------------------------------------------- a run


@pytest.mark.slow
def test_run_makes_failure_rows_for_bad_inputs_and_scores_the_rest(tmp_path):
    from stt_eval.experiment import Experiment, ProviderSpec
    from stt_eval.run.grid import run_experiment

    shutil.copy(SAMPLE / "audio" / "pocketsphinx_goforward.flac", tmp_path / "good.flac")
    (tmp_path / "cut.wav").write_bytes(_in_wav_bytes(_in_tone(1.0))[: 44 + 16000])
    rows = [
        {"id": "good", "audio": "good.flac", "text": "go forward ten meters"},
        {"id": "cut", "audio": "cut.wav", "text": "some words"},
        {"id": "number", "audio": "good.flac", "text": 42},
    ]
    manifest = _in_with_bom(tmp_path / "m.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    exp = Experiment(
        dataset=manifest,
        providers=(ProviderSpec("pocketsphinx"),),
        workers=1,
        output=tmp_path / "results",
        name="bad-inputs",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ByteOrderMarkWarning)
        result = run_experiment(exp, progress=False)
    by_id = {r.identity.sample_id: r for r in result.rows}
    assert set(by_id) == {"good", "cut", "number"}
    good = by_id["good"]
    assert (
        good.status,
        good.columns()["ref_words"],
        good.columns()["subs"] + good.columns()["dels"] + good.columns()["ins"],
    ) == ("ok", 4, 0)
    cut = by_id["cut"]
    assert cut.status == "failed" and "cut.wav" in cut.error and "truncated" in cut.error
    assert "promises 32000 bytes" in cut.error and _IN_FIX_AUDIO in cut.error
    number = by_id["number"]
    assert number.status == "failed" and "row 3" in number.error
    assert "text is a number (42)" in number.error and "write it in quotes" in number.error


# --------------------------------------------------------------------------- in a whole run


@pytest.mark.slow
def test_a_run_flags_warnings_in_rows_and_exits_1_when_cells_failed(tmp_path, capsys):
    """Cancelling channels and a markup-only reference are scored with a warning in the row; a
    failed cell makes `stt-eval run` say how many failed and exit 1."""
    rate = 16000
    speech, _ = sf.read(SAMPLE / "audio" / "pocketsphinx_goforward.flac", dtype="float32")
    sf.write(tmp_path / "cancel.wav", np.stack([speech, -speech], axis=1), rate)
    shutil.copy(SAMPLE / "audio" / "pocketsphinx_goforward.flac", tmp_path / "go.flac")
    (tmp_path / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    rows = [
        {"id": "cancel", "audio": "cancel.wav", "text": "go forward ten meters"},
        {"id": "markup", "audio": "go.flac", "text": "[inaudible] {laugh}"},
        {"id": "broken", "audio": "broken.wav", "text": "go forward"},
    ]
    (tmp_path / "m.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "e.toml").write_text(
        'dataset = "m.jsonl"\nproviders = ["pocketsphinx"]\nworkers = 1\noutput = "r"\n'
    )
    assert main(["run", str(tmp_path / "e.toml"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "1 of 3 cells failed" in err
    by_id = {
        r["sample_id"]: r
        for r in map(
            json.loads, next((tmp_path / "r").glob("*/rows.jsonl")).read_text().splitlines()
        )
    }  # noqa: E501
    assert by_id["cancel"]["status"] == "ok" and "cancel" in by_id["cancel"]["warning"]
    assert by_id["markup"]["ref_words"] == 0 and "no words" in by_id["markup"]["warning"]
    assert by_id["broken"]["status"] == "failed" and "broken.wav" in by_id["broken"]["error"]
