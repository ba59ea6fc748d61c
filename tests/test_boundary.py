"""Boundary errors by alignment: a chunked transcript's error counts as the cut's when the
unchunked transcript got those words right, in the band of its distance from the nearest cut.
Every transcript here is constructed, so the answer is known by construction."""

from __future__ import annotations

import pytest

from stt_eval.metrics.boundary import BAND_LABELS, BoundaryCounts, band, cut_attributed
from stt_eval.metrics.wer import align_words, score_text
from stt_eval.types import Word

REF = "a b c d e f g h i j k l".split()


def _words(texts: list[str], start: float = 0.0, step: float = 1.0) -> list[Word]:
    """One word a second: word k spans [start + k, start + k + 0.4], midpoint + 0.2."""
    return [Word(t, start + k * step, start + k * step + 0.4) for k, t in enumerate(texts)]


def _score(hyp: list[str]):
    return align_words(REF, hyp)


WHOLE = REF  # the unchunked transcript gets every word right; "g" is heard at 6.2 s, etc.


def test_errors_count_in_the_band_of_their_distance_from_the_cut():
    # cut at 6.0 s. Chunked: "f" (5.2 s, 0.8 s before) deleted, "d" (3.2 s, 2.8 s before)
    # substituted, "k" (10.2 s, 4.2 s after) deleted: bands 0-1, 2-5, 2-5
    chunked = ["a", "b", "c", "X", "e", "g", "h", "i", "j", "l"]
    got = cut_attributed(_score(chunked), _score(WHOLE), _words(WHOLE), [6.0])
    assert got == BoundaryCounts((1, 0, 2, 0))
    assert got.errors == _score(chunked).counts.errors == 3
    assert dict(zip(BAND_LABELS, got.by_band, strict=True))["2-5 s"] == 2


def test_errors_the_unchunked_transcript_also_made_are_not_the_cuts():
    unchunked = ["a", "b", "c", "Y", "e", "f", "g", "h", "i", "j", "k", "l"]  # "d" wrong too
    chunked = ["a", "b", "c", "X", "e", "g", "h", "i", "j", "k", "l"]  # "d" wrong, "f" lost
    got = cut_attributed(_score(chunked), _score(unchunked), _words(unchunked), [6.0])
    assert got == BoundaryCounts((1, 0, 0, 0))  # only "f"; "d" is the engine's
    assert _score(chunked).counts.errors == 2


def test_an_error_far_from_every_cut_lands_in_the_last_band():
    chunked = ["a", "Z", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"]  # "b" at 1.2 s
    got = cut_attributed(_score(chunked), _score(WHOLE), _words(WHOLE), [9.0, 30.0])
    assert got == BoundaryCounts((0, 0, 0, 1))


def test_an_insertion_counts_between_neighbours_the_unchunked_got_right():
    # "e e" doubled at a cut at 4.5 s (the neighbours "e" 4.2 s and "f" 5.2 s: 4.7 s)
    chunked = ["a", "b", "c", "d", "e", "e", "f", "g", "h", "i", "j", "k", "l"]
    score = _score(chunked)
    assert score.counts.ins == 1
    assert cut_attributed(score, _score(WHOLE), _words(WHOLE), [4.5]) == BoundaryCounts(
        (1, 0, 0, 0)
    )
    # the same insertion made by the unchunked transcript too is not the cut's
    both = cut_attributed(score, score, _words(chunked), [4.5])
    assert both == BoundaryCounts()


def test_the_time_comes_from_the_unchunked_words_not_the_chunked():
    # the unchunked words start 10 s later: "f" at 15.2 s is 0.2 s from a cut at 15.0 s
    chunked = ["a", "b", "c", "d", "e", "g", "h", "i", "j", "k", "l"]
    got = cut_attributed(_score(chunked), _score(WHOLE), _words(WHOLE, start=10.0), [15.0])
    assert got == BoundaryCounts((1, 0, 0, 0))


def test_normalized_tokens_map_back_to_their_words():
    # "twenty five" is one token "25" in the whole text; "then" is still found at its own time
    ref = "twenty five of them"
    words = [Word("Um,", 0, 0.4), Word("twenty", 1, 1.4), Word("five", 1.5, 1.9)]
    words += [Word("of", 8, 8.4), Word("them.", 9, 9.4)]
    whole = score_text(ref, " ".join(w.text for w in words), "whisper")
    chunked = score_text(ref, "25 of then", "whisper")
    got = cut_attributed(chunked, whole, words, [9.0], normalizer="whisper")
    assert got == BoundaryCounts((1, 0, 0, 0))


def test_not_attributed_without_cuts_or_word_times():
    chunked = _score(["a"])
    assert cut_attributed(chunked, _score(WHOLE), _words(WHOLE), []) is None
    assert cut_attributed(chunked, _score(WHOLE), [], [3.0]) is None
    with pytest.raises(ValueError, match="different references"):
        cut_attributed(align_words(["x"], ["x"]), _score(WHOLE), _words(WHOLE), [1.0])


def test_counts_add_band_by_band_and_bands_have_edges_at_1_2_5_s():
    assert BoundaryCounts((1, 0, 2, 0)) + BoundaryCounts((0, 1, 1, 5)) == BoundaryCounts(
        (1, 1, 3, 5)
    )
    assert sum([BoundaryCounts((1, 0, 0, 0))] * 3) == BoundaryCounts((3, 0, 0, 0))
    assert [band(d) for d in (0.5, 1.0, 1.99, 2.0, 5.0)] == [0, 1, 1, 2, 3]
    with pytest.raises(ValueError, match="4 bands"):
        BoundaryCounts((1, 2))


def _run(tmp_path, monkeypatch, chunking):
    """jfk through a loopback OpenAI server that hears "go forward ten meters" at the start of
    every request, so the unchunked transcript is right and each later 4 s window repeats it."""
    import json
    import shutil

    from stt_eval.experiment import Experiment, ProviderSpec
    from stt_eval.run.grid import run_experiment
    from stt_eval.testing.openai import openai_server
    from stt_eval.types import Transcript

    from .conftest import SAMPLE

    def heard(audio, request):
        texts = ["go", "forward", "ten", "meters"]
        return Transcript(" ".join(texts), tuple(_words(texts, start=0.1, step=0.3)))

    monkeypatch.setenv("OPENAI_API_KEY", "sk-loopback")
    shutil.copy(SAMPLE / "audio" / "whisper_jfk.flac", tmp_path / "jfk.flac")
    row = {"id": "jfk", "audio": "jfk.flac", "text": "go forward ten meters"}
    (tmp_path / "m.jsonl").write_text(json.dumps(row) + "\n")
    with openai_server(heard, api_key="sk-loopback") as server:
        opts = {"base_url": server.url + "/v1", "min_wait_s": 0.0, "max_wait_s": 0.0}
        exp = Experiment(
            dataset=tmp_path / "m.jsonl",
            providers=(ProviderSpec("openai", tuple(sorted(opts.items()))),),
            chunking=chunking,
            workers=1,
            output=tmp_path / "r",
        )
        rows = run_experiment(exp, progress=False, cache_root=tmp_path / "c").rows
    return {r.identity.chunking: r for r in rows}


def test_a_run_attributes_a_chunked_rows_errors_against_its_unchunked_row(tmp_path, monkeypatch):
    rows = _run(tmp_path, monkeypatch, ("none", "4s/1s"))
    assert rows["none"].counts["words"].errors == 0 and rows["none"].counts["boundary"] is None
    chunked = rows["4s/1s"]
    # every error is a repeat the unchunked transcript did not make: all the cuts'
    assert chunked.counts["words"].ins > 0
    assert chunked.counts["boundary"].errors == chunked.counts["words"].errors
    assert chunked.columns()["boundary_errors"] == chunked.counts["words"].errors


def test_without_the_unchunked_cell_a_chunked_row_is_not_attributed(tmp_path, monkeypatch):
    rows = _run(tmp_path, monkeypatch, ("4s/1s",))
    assert rows["4s/1s"].counts["words"].ins > 0 and rows["4s/1s"].counts["boundary"] is None
