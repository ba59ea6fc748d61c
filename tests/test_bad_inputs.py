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
from stt_eval.audio.load import (
    AudioError,
    audio_warnings,
    ffmpeg_exe,
    load_audio,
    open_audio,
    read_audio,
)
from stt_eval.audio.signal import DOWNMIX_ENERGY_FLOOR
from stt_eval.cli import main
from stt_eval.datasets.annotations import AnnotationError, read_ctm, read_rttm, read_stm, read_uem
from stt_eval.datasets.manifest import ManifestError, load_manifest
from stt_eval.datasets.text import ByteOrderMarkWarning
from stt_eval.datasets.transcripts import TranscriptFileError, read_transcripts
from stt_eval.metrics.scorable import IncompleteHypotheses, NothingToScore
from stt_eval.metrics.wer import CharCounts, WordCounts, score_corpus
from stt_eval.normalization.rules import normalizes_to_nothing
from stt_eval.pipeline import prepare as prepared

from .conftest import SAMPLE, flat_row

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


# =============================================================================================
# Issue 21, rules 3, 4 and 6: every engine survives any length; references are checked against
# their recording; undefined is not a number. Helpers are local to this section (prefixed _un_);
# expected values are worked out by hand from the inputs each test writes.
# =============================================================================================
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from stt_eval.audio.load import AudioClip  # noqa: E402
from stt_eval.cache.store import TranscriptCache  # noqa: E402
from stt_eval.chunking import plan_windows  # noqa: E402
from stt_eval.normalization.languages import UnknownLanguage  # noqa: E402
from stt_eval.normalization.rules import normalize_text  # noqa: E402
from stt_eval.pipeline.transcribe import transcribe_clip  # noqa: E402
from stt_eval.providers.registry import BUILT_IN, get_provider, is_remote  # noqa: E402


def _un_clip(seconds: float, kind: str, seed: int = 0) -> AudioClip:
    n = round(seconds * _IN_RATE)
    if kind == "silence":
        x = np.zeros(n)
    elif kind == "noise":
        x = 0.1 * np.random.default_rng(seed).standard_normal(n)
    else:
        x = _in_tone(seconds).astype(np.float64)
    return AudioClip(x.astype(np.float32), _IN_RATE)


# --------------------------------------------------------------------------- any length


@pytest.mark.parametrize(
    ("duration", "chunk", "overlap"),
    [(30.05, 30.0, 0.0), (58.1, 30.0, 2.0), (70.0, 30.0, 2.0), (10.4, 5.0, 1.0), (0.5, 0.2, 0.05)],
)
def test_no_window_is_shorter_than_half_a_chunk(duration, chunk, overlap):
    windows = plan_windows(duration, chunk, overlap)
    assert len(windows) > 1
    assert all(chunk / 2 - 1e-9 <= w.duration_s <= chunk + 1e-9 for w in windows)
    assert windows[0].offset_s == 0 and windows[-1].end_s == pytest.approx(duration)
    for a, b in zip(windows, windows[1:], strict=False):
        assert a.end_s - b.offset_s == pytest.approx(overlap)


@pytest.mark.parametrize("pause_at", [None, 47.0, 49.5])
def test_the_vad_planner_balances_its_tail_too(pause_at):
    """70 s at 30s/2s/vad: the third window would be 14 s; the balanced seam (49 s) moves into
    a pause up to 3 s earlier, never later, so the last window only grows."""
    from stt_eval.chunking import cut_points
    from stt_eval.chunking.planning import plan_vad_windows

    clip, starts = _un_clip(70.0, "noise"), []

    def read(a, b):
        starts.append(a)
        return clip.slice(a, b)

    def silences(region):  # a 0.3 s pause at pause_at, in the region's own time
        return [] if pause_at is None else [(pause_at - starts[-1], pause_at - starts[-1] + 0.3)]

    windows = plan_vad_windows(70.0, read, silences, 30.0, 2.0)
    assert [round(w.offset_s, 3) for w in windows[:2]] == [0.0, 28.0]
    assert all(15.0 <= w.duration_s <= 30.0 + 1e-9 for w in windows)
    assert windows[-1].duration_s >= 22.0 - 1e-9 and windows[-1].end_s == 70.0
    last_cut = cut_points(windows)[-1]
    assert pause_at <= last_cut <= pause_at + 0.3 if pause_at == 47.0 else last_cut == 49.0


def test_a_clip_with_no_samples_is_an_empty_transcript_and_sends_nothing(tmp_path):
    class Refuses:
        name = "refuses"

        def cache_identity(self):
            return {"engine": "refuses"}

        def load(self):
            raise AssertionError("an empty clip was sent")

        transcribe = load

    t, measured, cached = transcribe_clip(
        Refuses(), AudioClip(np.zeros(0, np.float32), _IN_RATE), {}, TranscriptCache(None)
    )
    assert (t.text, t.words, measured.cost_usd, cached) == ("", (), 0.0, False)


def test_an_engine_that_returns_nothing_gives_an_empty_transcript():
    class Silent:
        name = "silent"

        def cache_identity(self):
            return {"engine": "silent"}

        def load(self):
            pass

        def transcribe(self, clip, options=None):
            return None

    t, _, _ = transcribe_clip(Silent(), _un_clip(0.05, "noise"), {}, TranscriptCache(None))
    assert t.text == "" and t.words == ()


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(BUILT_IN))
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seconds=st.floats(0.01, 0.5),
    kind=st.sampled_from(["silence", "noise", "tone"]),
    seed=st.integers(0, 9),
)
def test_every_local_engine_survives_any_short_clip(name, seconds, kind, seed):
    engine = get_provider(name)
    if is_remote(engine):
        pytest.skip("HTTP APIs are tested against their loopback servers")
    clip = _un_clip(seconds, kind, seed)
    t, _, _ = transcribe_clip(engine, clip, {"language": "en"}, TranscriptCache(None))
    assert isinstance(t.text, str)
    assert all(0 <= w.start <= w.end for w in t.words)


@pytest.mark.slow
def test_transcribe_of_a_0_05_s_file_prints_no_traceback(tmp_path, capsys):
    path = tmp_path / "short.wav"
    sf.write(path, _un_clip(0.05, "noise").samples, _IN_RATE)
    assert main(["transcribe", str(path), "--provider", "pocketsphinx", "--no-cache"]) == 0
    assert "Traceback" not in capsys.readouterr().err


def _un_run(tmp_path, rows, **settings):
    """A pocketsphinx run of ``rows`` (a manifest in tmp_path) with one worker."""
    from stt_eval.experiment import Experiment, ProviderSpec
    from stt_eval.run.grid import run_experiment

    _in_jsonl(tmp_path / "m.jsonl", rows)
    exp = Experiment(
        dataset=tmp_path / "m.jsonl",
        providers=(ProviderSpec("pocketsphinx"),),
        workers=1,
        output=tmp_path / "r",
        name="un",
        **settings,
    )
    return run_experiment(exp, progress=False)


@pytest.mark.slow
def test_a_chunked_run_whose_tail_would_be_0_05_s_scores_every_recording(tmp_path):
    speech, rate = sf.read(SAMPLE / "audio" / "pocketsphinx_goforward.flac", dtype="float32")
    n = round(2.0 * rate) + round(0.05 * rate)  # 2 s windows leave a 0.05 s tail
    sf.write(tmp_path / "go.wav", np.resize(speech, n), rate)
    rows = [{"id": "go", "audio": "go.wav", "text": "go forward ten meters"}]
    (row,) = _un_run(tmp_path, rows, chunking=("2s",)).rows
    assert row.status == "ok", row.error


# --------------------------------------------------------------------------- undefined is not a number


@pytest.mark.parametrize(
    ("ref", "hyp"),
    [("Wait... what...", "wait what"), ("go -- now !", "go now"), ("so ... ok .", "so ok")],
)
@pytest.mark.parametrize("preset", ["whisper", "basic", "whisper + fillers"])
def test_punctuation_only_tokens_are_not_words(ref, hyp, preset):
    from stt_eval.metrics.wer import score_text

    counts = score_text(ref, hyp, preset).counts
    assert (counts.errors, counts.ref_words) == (0, len(hyp.split()))


def test_the_none_normalizer_keeps_every_token():
    assert normalize_text("go ...", "none") == "go ..."


@pytest.mark.parametrize("language", ["zz", "EN", "en_US", "", "xx-US"])
def test_an_unknown_language_is_refused_where_it_would_pick_the_rules(language):
    with pytest.raises(UnknownLanguage, match="is not an ISO 639 code") as err:
        normalize_text("hello", "whisper", language)
    assert repr(language) in str(err.value) and "'ja'" in str(err.value)


def test_an_unknown_language_in_a_manifest_row_names_the_row(_in_dir):
    rows = [{"id": "a", "audio": "a.wav", "text": "hi", "language": "zz"}]
    _in_jsonl(_in_dir / "m.jsonl", rows)
    problems = load_manifest(_in_dir / "m.jsonl", check_audio=False).problems
    assert len(problems) == 1 and "row 1" in str(problems[0]) and "'zz'" in str(problems[0])


def test_score_refuses_an_unknown_language(tmp_path, capsys):
    ref = _in_trn(tmp_path / "ref.trn", {"u1": "go"})
    assert main(["score", str(ref), str(ref), "--language", "zz"]) == 1
    assert "'zz' is not an ISO 639 code" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("ref", "hyp", "script"),
    [("でんき", "てんき", "hiragana"), ("كتب", "كتب", "arabic"), ("привет", "привет", "cyrillic")],
)
def test_non_latin_references_under_english_rules_warn_and_name_the_fix(tmp_path, ref, hyp, script):
    refs = _in_trn(tmp_path / "ref.trn", {"u1": ref, "u2": "plain english"})
    hyps = _in_trn(tmp_path / "hyp.trn", {"u1": hyp, "u2": "plain english"})
    with pytest.warns(UserWarning) as record:
        score_files(refs, hyps)
    (said,) = [str(w.message) for w in record]
    assert str(refs) in said and "'u1'" in said and "'u2'" not in said
    assert script in said and '"language"' in said and "--language" in said


def test_japanese_scored_as_japanese_tells_voicing_apart(tmp_path):
    refs = _in_trn(tmp_path / "ref.trn", {"u1": "でんき"})
    hyps = _in_trn(tmp_path / "hyp.trn", {"u1": "てんき"})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no script warning once the language is given
        assert score_files(refs, hyps, language="ja").total.errors == 1


def test_latin_text_with_accents_does_not_warn(tmp_path):
    refs = _in_trn(tmp_path / "ref.trn", {"u1": "café naïve Straße"})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        score_files(refs, refs)


def test_a_missing_hypothesis_is_all_deletions_and_listed(tmp_path, capsys):
    ref = _in_trn(tmp_path / "ref.trn", {"u1": "go forward", "u2": "turn left now"})
    hyp = _in_trn(tmp_path / "hyp.trn", {"u1": "go forward"})
    score = score_files(ref, hyp)
    assert (score.total.dels, score.total.ref_words, score.missing_hypotheses) == (3, 5, ("u2",))
    assert main(["score", str(ref), str(hyp)]) == 0
    out = capsys.readouterr()
    assert out.out.startswith("WER 60.00 %") and "'u2' has no hypothesis" in out.err


def test_a_missing_hypothesis_is_refused_with_strict(tmp_path, capsys):
    ref = _in_trn(tmp_path / "ref.trn", {"u1": "go forward", "u2": "turn left now"})
    hyp = _in_trn(tmp_path / "hyp.trn", {"u1": "go forward"})
    with pytest.raises(IncompleteHypotheses) as err:
        score_files(ref, hyp, strict=True)
    assert str(hyp) in str(err.value) and "'u2'" in str(err.value)
    assert main(["score", str(ref), str(hyp), "--strict"]) == 1
    assert "WER" not in capsys.readouterr().out


@pytest.mark.parametrize(
    ("make", "nan", "inf"),
    [
        (lambda x: np.full_like(x, np.nan), 16000, 0),
        (lambda x: np.where(np.arange(len(x)) % 100 == 7, np.nan, x), 160, 0),
        (lambda x: np.where(np.arange(len(x)) == 8000, np.inf, x), 0, 1),
    ],
)
def test_nan_and_inf_samples_are_named_not_called_silence(tmp_path, make, nan, inf):
    path = tmp_path / "f.wav"
    sf.write(path, make(_in_tone(1.0)), _IN_RATE, subtype="FLOAT")
    for read in (load_audio, audio_warnings):
        with pytest.raises(AudioError) as err:
            read(path)
        msg = str(err.value)
        assert str(path) in msg and "not numbers" in msg and "silence" not in msg
        assert (f"{nan} NaN" in msg) == bool(nan) and (f"{inf} infinite" in msg) == bool(inf)


def test_cost_and_budget_use_the_decoded_length_and_a_slice_its_own(tmp_path, monkeypatch):
    """MP3 and m4a headers give no length: they were estimated at 0 s and $0 and passed any
    budget. A slice of a recording was estimated at the whole recording's length."""
    from stt_eval.experiment import Experiment, ProviderSpec
    from stt_eval.providers.prices import OverBudget
    from stt_eval.run.grid import estimate, plan_cells, plan_jobs, run_experiment

    src = SAMPLE / "audio" / "pocketsphinx_goforward.flac"  # 2.786 s
    _in_encode(src, tmp_path / "go.mp3")
    _in_encode(src, tmp_path / "go.m4a", "-c:a", "aac")
    shutil.copy(SAMPLE / "audio" / "longform_en.flac", tmp_path / "long.flac")  # 198.9 s
    rows = [
        {"id": "mp3", "audio": "go.mp3", "text": "go forward ten meters"},
        {"id": "m4a", "audio": "go.m4a", "text": "go forward ten meters"},
        {
            "id": "slice",
            "audio": "long.flac",
            "text": "words",
            "meta": {"offset_s": 10.0, "duration_s": 6.0},
        },
    ]
    _in_jsonl(tmp_path / "m.jsonl", rows)
    spec = ProviderSpec(
        "openai", (("base_url", "http://127.0.0.1:9/v1"), ("price_per_minute", 1.0))
    )
    exp = Experiment(
        dataset=tmp_path / "m.jsonl", providers=(spec,), output=tmp_path / "r", budget_usd=0.1
    )
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    samples = load_manifest(tmp_path / "m.jsonl").samples
    jobs = plan_jobs(exp, plan_cells(exp), samples, [], set(), None)
    (sent,) = estimate(jobs)
    # two 2.786 s files (decoded; aac may pad a frame) and the 6 s slice
    assert sent.audio_s == pytest.approx(2 * 2.786 + 6.0, abs=0.1)
    assert sent.usd == pytest.approx(sent.audio_s / 60, rel=1e-6) and sent.requests == 3
    with pytest.raises(OverBudget, match=r"over the budget of \$0.10"):
        run_experiment(exp, progress=False)


# --------------------------------------------------------------------------- references against audio


def _un_rttm(path, *turns: tuple[str, float, float, str]):
    """RTTM lines (file id, start, duration, speaker)."""
    path.write_text(
        "".join(f"SPEAKER {f} 1 {a} {d} <NA> <NA> {s} <NA> <NA>\n" for f, a, d, s in turns)
    )
    return path


def _un_speech_manifest(tmp_path, **row):
    """go.flac (2.786 s of speech) with one manifest row of extra fields."""
    shutil.copy(SAMPLE / "audio" / "pocketsphinx_goforward.flac", tmp_path / "go.flac")
    base = {"id": "go", "audio": "go.flac", "text": "go forward ten meters"}
    _in_jsonl(tmp_path / "m.jsonl", [base | row])
    return tmp_path / "m.jsonl"


def _un_checked(manifest):
    from stt_eval.datasets.reference_checks import check_references
    from stt_eval.pipeline.prepare import sent_seconds

    loaded = load_manifest(manifest)
    return check_references(loaded, sent_seconds, {s.id for s in loaded.samples})


def test_turns_far_past_the_end_of_the_audio_are_refused_naming_file_and_overshoot(tmp_path):
    rttm = _un_rttm(tmp_path / "go.rttm", ("go", 0.5, 2.0, "a"), ("go", 2.5, 57.5, "b"))
    checked = _un_checked(_un_speech_manifest(tmp_path, rttm="go.rttm"))
    assert checked.samples == ()
    (problem,) = checked.problems
    said = str(problem)
    assert str(rttm) in said and "'go'" in said and "60 s" in said
    assert "57.21 s after the audio" in said and "2.79 s long" in said  # 60 - 2.786


def test_turns_just_past_the_end_are_clipped_with_a_warning(tmp_path):
    from stt_eval.datasets.reference_checks import ReferenceClippedWarning

    rttm = _un_rttm(tmp_path / "go.rttm", ("go", 0.5, 2.5, "a"), ("go", 2.9, 0.05, "b"))
    with pytest.warns(ReferenceClippedWarning) as record:
        checked = _un_checked(_un_speech_manifest(tmp_path, rttm="go.rttm"))
    (said,) = [str(w.message) for w in record]
    assert str(rttm) in said and "0.21 s after the audio" in said and "clipped" in said
    (sample,) = checked.samples
    # the turn starting after the end is gone, the other ends at the audio's end
    assert [(t.speaker, t.start, t.end) for t in sample.turns] == [("a", 0.5, 2.78625)]


def test_a_text_longer_than_anyone_says_in_the_audio_is_warned_about(tmp_path):
    from stt_eval.datasets.reference_checks import ReferenceRateWarning

    text = " ".join(["word"] * 40)  # 40 words in 2.786 s: 14 a second
    manifest = _un_speech_manifest(tmp_path, text=text)
    with pytest.warns(ReferenceRateWarning) as record:
        (sample,) = _un_checked(manifest).samples
    (said,) = [str(w.message) for w in record]
    assert str(manifest) in said and "'go'" in said and "40 words for 2.79 s" in said
    assert sample.text == text  # kept and scored: a warning, not a refusal


def test_only_the_samples_a_run_chose_are_checked(tmp_path):
    from stt_eval.datasets.reference_checks import check_references

    _un_rttm(tmp_path / "go.rttm", ("go", 0.0, 60.0, "a"))
    loaded = load_manifest(_un_speech_manifest(tmp_path, rttm="go.rttm"))
    asked = []
    checked = check_references(loaded, lambda s: asked.append(s.id) or 2.786, set())
    assert (asked, checked) == ([], loaded)


def test_stm_segments_past_the_end_are_refused_too(tmp_path):
    (tmp_path / "go.stm").write_text("go 1 a 0.0 9.0 go forward ten meters\n")
    checked = _un_checked(_un_speech_manifest(tmp_path, stm="go.stm"))
    assert checked.samples == () and "6.21 s after the audio" in str(checked.problems[0])


@pytest.mark.slow
def test_a_run_fails_the_cells_of_a_recording_whose_rttm_overshoots_and_scores_the_rest(tmp_path):
    from stt_eval.datasets.manifest import RowProblemWarning

    _un_rttm(tmp_path / "long.rttm", ("go", 0.0, 60.0, "a"))
    _un_rttm(tmp_path / "ok.rttm", ("ok", 0.3, 2.0, "a"))
    shutil.copy(SAMPLE / "audio" / "pocketsphinx_goforward.flac", tmp_path / "go.flac")
    rows = [
        {"id": "go", "audio": "go.flac", "text": "go forward ten meters", "rttm": "long.rttm"},
        {"id": "ok", "audio": "go.flac", "text": "go forward ten meters", "rttm": "ok.rttm"},
    ]
    with pytest.warns(RowProblemWarning, match="long.rttm"):
        result = _un_run(tmp_path, rows)
    by_id = {r.identity.sample_id: r for r in result.rows}
    assert by_id["go"].status == "failed" and "after the audio" in by_id["go"].error
    assert by_id["ok"].status == "ok" and by_id["ok"].counts["words"].ref_words == 4


def test_an_rttm_of_another_recording_names_the_ids_it_holds(tmp_path):
    _un_rttm(tmp_path / "other.rttm", ("call-7", 0.0, 1.0, "a"), ("call-8", 0.0, 1.0, "b"))
    manifest = load_manifest(_un_speech_manifest(tmp_path, rttm="other.rttm"))
    (problem,) = manifest.problems
    said = str(problem)
    assert "other.rttm" in said and "no RTTM line for 'go'" in said
    assert "'call-7', 'call-8'" in said


def test_an_rttm_with_no_speaker_line_is_a_recording_with_no_speech(tmp_path):
    (tmp_path / "none.rttm").write_text(";; no speech\n")
    (sample,) = load_manifest(_un_speech_manifest(tmp_path, rttm="none.rttm")).samples
    assert sample.turns == ()


def test_an_stm_of_another_recording_names_the_ids_it_holds(tmp_path):
    (tmp_path / "x.stm").write_text("call-7 1 a 0.0 1.0 hello\n")
    (problem,) = load_manifest(_un_speech_manifest(tmp_path, stm="x.stm")).problems
    assert "no STM line for 'go'" in str(problem) and "'call-7'" in str(problem)


@pytest.mark.parametrize(
    ("uem", "needle"),
    [
        ("", "holds no scoring region"),
        (";; only a comment\n\n", "holds no scoring region"),
        ("a 1 0 2\n", "no UEM line for 'b'; the file holds 'a'"),
        ("a 1 0 2\nc 1 0 2\n", "file id 'c' is not in the reference"),
    ],
)
def test_der_checks_the_uem_against_the_reference(tmp_path, capsys, uem, needle):
    ref = _un_rttm(tmp_path / "ref.rttm", ("a", 0.0, 2.0, "x"), ("b", 0.0, 2.0, "y"))
    (tmp_path / "s.uem").write_text(uem)
    assert main(["der", str(ref), str(ref), "--uem", str(tmp_path / "s.uem")]) == 1
    err = capsys.readouterr().err
    assert needle in err and str(tmp_path / "s.uem") in err and "manifest" not in err


def test_der_says_reference_not_manifest(tmp_path, capsys):
    ref = _un_rttm(tmp_path / "ref.rttm", ("a", 0.0, 2.0, "x"))
    hyp = _un_rttm(tmp_path / "hyp.rttm", ("a", 0.0, 2.0, "s1"), ("typo", 0.0, 1.0, "s1"))
    assert main(["der", str(ref), str(hyp)]) == 1
    err = capsys.readouterr().err
    assert "manifest" not in err and f"not in the reference {ref}" in err and "'a'" in err


@pytest.mark.parametrize(
    "content", ["", ";; header only\n", "SPKR-INFO a 1 <NA> <NA> <NA> unknown x <NA> <NA>\n"]
)
def test_der_refuses_an_empty_reference_instead_of_printing_nan(tmp_path, capsys, content):
    (tmp_path / "ref.rttm").write_text(content)
    hyp = _un_rttm(tmp_path / "hyp.rttm", ("a", 0.0, 2.0, "s1"))
    assert main(["der", str(tmp_path / "ref.rttm"), str(hyp)]) == 1
    out = capsys.readouterr()
    assert "nan" not in out.out.lower() and "holds no SPEAKER turns" in out.err


def _un_rows():
    def row(sample, errors, n, ins=0, **kw):
        return flat_row("r", sample, "p", subs=errors, hits=n - errors, ins=ins, ref_words=n, **kw)

    return [
        row("a", 1, 10, reference="ten words", hypothesis="x"),
        row("b", 0, 30, reference="thirty words", hypothesis="y"),
        row(
            "markup", 0, 0, ins=4, reference="[inaudible] {laugh}", hypothesis="one two three four"
        ),
    ]


def test_a_reference_with_no_words_is_left_out_of_pooled_wer_and_counted_apart():
    from stt_eval.report.tables import no_ref_words, per_file, pooled
    from stt_eval.run.directory import rows_frame

    frame = rows_frame(_un_rows())
    (line,) = pooled(frame, ["provider"]).to_dict("records")
    # 1 error over 40 words: the 4 words heard over an empty reference are not insertions
    assert (line["ins"], line["ref_words"], line["files"], line["no_ref_words"]) == (0, 40, 2, 1)
    assert line["wer"] == pytest.approx(1 / 40)
    assert "markup" not in set(per_file(frame)["sample_id"])
    assert list(no_ref_words(frame)["sample_id"]) == ["markup"]


def test_a_reference_with_no_words_has_its_own_section_and_no_interval_share():
    from stt_eval.report.analysis.intervals import with_intervals
    from stt_eval.report.markdown import summary_markdown
    from stt_eval.report.tables import pooled
    from stt_eval.run.directory import rows_frame

    frame = rows_frame(_un_rows())
    text = summary_markdown(frame, "t", "whisper")
    assert "## References with no words (1)" in text and "[inaudible] {laugh}" in text
    assert "no_ref_words" in text
    table = with_intervals(pooled(frame, ["provider"], total=False), frame, ["provider"])
    # the interval resamples the two files with words: it cannot exceed their worst rate
    assert table["wer_high"].iloc[0] <= 0.1 + 1e-9


# --------------------------------------------------------------------------- imports


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ('{"id": "a", "audio": "x.wav", "text": "hi"}', "unexpected keyword argument 'audio'"),
        ('{"id": "a", "type": "MonoCut"}', "missing 3 required positional arguments"),
        ("not json", "JSONDecodeError"),
    ],
)
def test_import_lhotse_of_a_jsonl_that_is_not_a_cutset_is_one_line(tmp_path, capsys, line, needle):
    pytest.importorskip("lhotse")
    (tmp_path / "m.jsonl").write_text(line + "\n")
    args = ["import", "lhotse", str(tmp_path / "m.jsonl"), "-o", str(tmp_path / "out.jsonl")]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "is not a lhotse CutSet" in err and str(tmp_path / "m.jsonl") in err and needle in err
    assert not (tmp_path / "out.jsonl").exists()


def test_import_nemo_refuses_an_unknown_language_per_row(tmp_path):
    from stt_eval.datasets.importers import read_dataset

    sf.write(tmp_path / "a.wav", _in_tone(0.5), _IN_RATE)
    rows = [
        {"audio_filepath": "a.wav", "text": "hi", "duration": 0.5, "lang": "zz"},
        {"audio_filepath": "a.wav", "text": "hi", "duration": 0.5, "lang": "de"},
    ]
    _in_jsonl(tmp_path / "n.jsonl", rows)
    manifest = read_dataset(tmp_path / "n.jsonl", "nemo")
    assert [s.language for s in manifest.samples] == ["de"]
    (problem,) = manifest.problems
    assert problem.row == 1 and "'zz' is not an ISO 639 code" in str(problem)


@pytest.mark.parametrize(("language", "warned"), [("en", True), ("ja", False)])
def test_a_run_row_of_non_latin_text_under_english_rules_says_so(language, warned):
    from stt_eval.pipeline.score import Scoring, score_transcript
    from stt_eval.types import Sample, Transcript

    sample = Sample("jp", SAMPLE / "x.wav", "でんき", language=language)
    scored = score_transcript(sample, Transcript("てんき"), (), Scoring())
    assert ("hiragana" in (scored.warning or "")) is warned
    words = scored.counts["words"]
    assert (words.subs, words.ref_words) == ((0, 1) if warned else (1, 1))
