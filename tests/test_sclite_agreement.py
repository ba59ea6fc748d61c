"""Differential test: `stt-eval score` agrees with NIST sclite (Debian sctk) on total errors and N.

Both scorers see the same normalized words (our whisper preset); sclite weighs sub 4 / del 3 /
ins 3 while jiwer uses unit costs, so only the S/D/I split may differ on ties — totals must not.
"""

from __future__ import annotations

import json
import random
import shutil

import pytest

from stt_eval.api import score_files
from stt_eval.datasets.transcripts import write_trn
from stt_eval.normalization.rules import normalize_text

from .conftest import FIXTURES, sclite_sum

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("sctk") is None, reason="sctk (sclite) not installed: apt-get install sctk"
    ),
]

VOCAB = "the a of and to in is you that it he was for on are as with his they at".split()


def _jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _perturbed(text: str, rng: random.Random) -> str:
    words = text.split()
    out = []
    for w in words:
        r = rng.random()
        if r < 0.08:
            continue  # deletion
        out.append(rng.choice(VOCAB) if r < 0.16 else w)  # substitution
        if rng.random() < 0.05:
            out.append(rng.choice(VOCAB))  # insertion
    return " ".join(out)


def _sclite_totals(ref_trn, hyp_trn) -> tuple[int, int]:
    total = sclite_sum(ref_trn, hyp_trn)
    return total["errors"], total["words"]


def _hyp_sets():
    refs = {r["id"]: r["text"] for r in _jsonl(FIXTURES / "score" / "refs.jsonl")}
    engines = {}
    for row in _jsonl(FIXTURES / "score" / "hyps_engines.jsonl"):
        engines.setdefault(row["engine"], {})[row["id"]] = row["text"]
    rng = random.Random(7)
    engines["synthetic-edits"] = {uid: _perturbed(text, rng) for uid, text in refs.items()}
    return refs, engines


@pytest.mark.parametrize("engine", ["faster-whisper", "pocketsphinx", "synthetic-edits"])
@pytest.mark.parametrize("normalizer", ["whisper", "basic"])
def test_total_errors_and_words_match_sclite(tmp_path, engine, normalizer):
    refs, engines = _hyp_sets()
    hyps = engines[engine]
    refs = {uid: t for uid, t in refs.items() if uid in hyps}
    ids = {
        uid: f"spk_{i:03d}" for i, uid in enumerate(sorted(refs))
    }  # sclite wants speaker_utt ids
    write_trn(
        {ids[u]: normalize_text(t, normalizer) for u, t in refs.items()}, tmp_path / "ref.trn"
    )
    write_trn(
        {ids[u]: normalize_text(t, normalizer) for u, t in hyps.items()}, tmp_path / "hyp.trn"
    )
    sclite_errors, sclite_n = _sclite_totals(tmp_path / "ref.trn", tmp_path / "hyp.trn")

    (tmp_path / "ref.jsonl").write_text(
        "".join(json.dumps({"id": u, "text": t}) + "\n" for u, t in refs.items())
    )
    (tmp_path / "hyp.jsonl").write_text(
        "".join(json.dumps({"id": u, "text": t}) + "\n" for u, t in hyps.items())
    )
    ours = score_files(tmp_path / "ref.jsonl", tmp_path / "hyp.jsonl", normalizer).total

    assert sclite_n > 100
    assert (ours.errors, ours.ref_words) == (sclite_errors, sclite_n)
