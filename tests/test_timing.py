"""Word-timing accuracy against reference word times: a window whose words are all shifted by a
known offset shows up in the drift bins and the pooled errors, which add as sums."""

from __future__ import annotations

import pytest

from stt_eval.metrics.timing import DRIFT_BIN_S, TimingCounts, paired_words, timing_counts
from stt_eval.types import Word

WORDS = "alpha bravo charlie delta echo foxtrot golf hotel india juliet".split()


def reference(seconds: int = 60) -> tuple[Word, ...]:
    """One word a second for a minute, each 0.5 s long."""
    return tuple(Word(WORDS[i % len(WORDS)], float(i), i + 0.5) for i in range(seconds))


def test_one_window_shifted_by_a_known_offset_is_found():
    ref = reference()
    late = 0.4  # the words of the window 30-45 s come back 400 ms late
    hyp = tuple(w.shifted(late) if 30 <= w.start < 45 else w for w in ref)
    t = timing_counts(ref, hyp)
    assert t.matched == 60
    assert t.start_abs_s == pytest.approx(15 * late) and t.end_abs_s == pytest.approx(15 * late)
    assert t.start_mae_s == pytest.approx(15 * late / 60)
    assert (t.within_50, t.within_100, t.within_200) == (45, 45, 45)
    drift = {start: mean for start, _, mean in t.drift()}
    assert drift[2 * DRIFT_BIN_S] == pytest.approx(late)  # the 30-45 s bin, and only it
    assert all(mean == pytest.approx(0.0) for s, mean in drift.items() if s != 2 * DRIFT_BIN_S)


def test_words_pair_by_the_alignment_and_unmatched_ones_are_left_out():
    ref = (Word("the", 0.0, 0.2), Word("cat", 0.3, 0.6), Word("sat", 0.7, 1.0))
    hyp = (Word("The", 0.05, 0.2), Word("bat", 0.3, 0.6), Word("sat.", 0.82, 1.1))
    pairs = paired_words(ref, hyp)
    assert [(r.text, h.text) for r, h in pairs] == [("the", "The"), ("sat", "sat.")]
    t = timing_counts(ref, hyp)
    assert (t.matched, t.within_50, t.within_100, t.within_200) == (2, 1, 1, 2)
    assert t.start_abs_s == pytest.approx(0.05 + 0.12)
    assert timing_counts(None, hyp) is None


def test_pooled_counts_are_sums_not_means_of_means():
    a = TimingCounts(1, 1.0, 1.0, 0, 0, 0)
    b = TimingCounts(3, 0.0, 0.0, 3, 3, 3)
    assert (a + b).start_mae_s == pytest.approx(0.25)  # not (1.0 + 0.0) / 2
    assert sum([a, b]) == a + b


def test_the_drift_figure_shows_the_shifted_window_from_pooled_rows():
    from stt_eval.metrics.registry import METRICS
    from stt_eval.report.figures.timing import word_time_drift
    from stt_eval.run.directory import rows_frame

    from .conftest import flat_row

    ref = reference()
    hyp = tuple(w.shifted(0.4) if 30 <= w.start < 45 else w for w in ref)
    half = len(ref) // 2  # two files: the first and second half of the same minute
    rows = [
        flat_row(
            sample_id=sid,
            hits=1,
            **METRICS["timing"].flatten(timing_counts(ref[part], hyp[part])),
        )
        for sid, part in (("a", slice(0, half)), ("b", slice(half, None)))
    ]
    plot = word_time_drift(rows_frame(rows))
    errors = dict(zip(plot.data["from_s"], plot.data["error_s"]))
    assert errors[30.0] == pytest.approx(0.4) and errors[0.0] == pytest.approx(0.0)
    assert plot.data["words"].sum() == 60


def test_a_chunked_run_finds_the_window_whose_words_come_back_late(tmp_path, monkeypatch):
    """Three 15 s windows of three tones; the server answers the middle one's words 0.4 s late
    (as a merge or an engine might): the row's drift bins show it there and nowhere else."""
    import io

    import numpy as np
    import soundfile as sf

    from stt_eval.experiment import ProviderSpec
    from stt_eval.pipeline.cell import Cell
    from stt_eval.pipeline.recording import RecordingJob, run_recording
    from stt_eval.pipeline.score import Scoring
    from stt_eval.testing.openai import openai_server
    from stt_eval.types import Sample, Transcript

    rate, tones = 16000, (300.0, 600.0, 900.0)
    t = np.arange(15 * rate) / rate
    path = tmp_path / "tones.wav"
    sf.write(path, np.concatenate([0.3 * np.sin(2 * np.pi * f * t) for f in tones]), rate)
    local = [(1.0 + 3 * i, 1.5 + 3 * i) for i in range(4)]  # four words a window
    names = [WORDS[(4 * k + i) % len(WORDS)] + str(k) for k in range(3) for i in range(4)]
    ref = tuple(
        Word(names[4 * k + i], 15 * k + a, 15 * k + b)
        for k in range(3)
        for i, (a, b) in enumerate(local)
    )

    def backend(wav, request):
        samples, _ = sf.read(io.BytesIO(wav))
        peak = np.argmax(np.abs(np.fft.rfft(samples))) * rate / len(samples)
        k = int(np.argmin([abs(peak - f) for f in tones]))
        late = 0.4 if k == 1 else 0.0
        words = tuple(Word(names[4 * k + i], a + late, b + late) for i, (a, b) in enumerate(local))
        return Transcript(" ".join(w.text for w in words), words=words, language="en")

    monkeypatch.setenv("OPENAI_API_KEY", "timing-test-key-1")
    sample = Sample("tones", path, " ".join(names), language="en", ref_words=ref)
    with openai_server(backend, api_key="timing-test-key-1") as server:
        options = (("base_url", server.url + "/v1"), ("max_wait_s", 0.0), ("min_wait_s", 0.0))
        cell = Cell(ProviderSpec("openai", options), "clean", "15s/0s", "timestamp", "none")
        (row,) = run_recording(RecordingJob("r", sample, "clean", (cell,), Scoring()))
    assert row.status == "ok", row.error
    timing = row.counts["timing"]
    assert timing.matched == 12 and timing.within_100 == 8
    drift = {start: mean for start, _, mean in timing.drift()}
    assert drift == pytest.approx({0.0: 0.0, 15.0: 0.4, 30.0: 0.0})
