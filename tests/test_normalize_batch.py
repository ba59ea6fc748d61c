"""The corpus normalizer gives exactly the words of whole-text normalization: on real transcripts,
on texts built from every word a cross-word Whisper rule reads, and on the cases that once broke
a cut; and ``score_corpus`` counts (one process or two) equal jiwer's on the normalized texts."""

from __future__ import annotations

import json
import random

import jiwer
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stt_eval.metrics import wer
from stt_eval.metrics.wer import score_corpus
from stt_eval.normalization.batch import SEPARATOR, CorpusNormalizer, context_words, whisper_pieces
from stt_eval.normalization.rules import words

from .conftest import ROOT

PLAIN = [
    "apple",
    "House",
    "colour",
    "archaeology",
    "Smith",
    "theatre",
    "organise",
    "ok",
    "hello,",
    '"quoted"',
    "what?",
    "yes!",
    "a;",
]
TRICKY = [
    "$",
    "$5",
    "5$",
    "%",
    "5%",
    "%5",
    "'s",
    "'d",
    "'ll",
    "n't",
    "'",
    "...",
    "wait...",
    "end.",
    "U.S.",
    "3.5",
    ".5",
    "5.",
    "v.2",
    "..5",
    "$.",
    "1,000",
    "1st",
    "5th",
    "th",
    "s",
    "o",
    "oh",
    "and",
    "a",
    "half",
    "point",
    "double",
    "per",
    "cent",
    "dollars",
    "£",
    "¢",
    "minus",
    "he's",
    "he'd",
    "been",
    "gotta",
    "got",
    "gone",
    "done",
    "don't",
    "won't",
    "mr.",
    "st.",
    "uh",
    "hmm",
    "twenty-one",
    "x:y",
    "--",
    "-",
    "&",
    "1960s",
    "i'ma",
    "ma'am",
    "o'clock",
    "100",
    "thousand",
    "é",
    "naïve",
    "(",
    ")",
    "[x]",
    "<b>",
    "{laugh}",
    "((yes))",
    "I-",
    "-tion",
    "half-time",
]
SPACES = [" ", " ", " ", "  ", "\t", "\n", "\r\n", "\x1c"]
VOCAB = PLAIN * 3 + TRICKY + sorted(context_words())


def _texts(seed: int, n: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        k = rng.randint(1, 25)
        out.append("".join(rng.choice(VOCAB) + rng.choice(SPACES) for _ in range(k)))
    return out


def _real_texts() -> list[str]:
    texts = []
    for name in ("refs.jsonl", "hyps_engines.jsonl"):
        for line in (ROOT / "tests/fixtures/score" / name).read_text().splitlines():
            texts.append(json.loads(line)["text"])
    for line in (ROOT / "datasets/sample/manifest.jsonl").read_text().splitlines():
        texts.append(json.loads(line)["text"])
    return texts


@pytest.mark.parametrize(
    "preset", ["whisper", "basic", "none", "whisper + fillers", "basic + fillers"]
)
def test_real_transcripts_normalize_as_whole_texts(preset):
    texts = _real_texts()
    # sentences too, so pieces repeat across texts and come from the memo
    texts += [s for t in texts for s in t.split(". ")]
    got = CorpusNormalizer(preset).many(texts)
    assert [got[t] for t in texts] == [words(t, preset) for t in texts]


def test_adversarial_texts_normalize_as_whole_texts():
    texts = _texts(seed=1, n=1500)
    got = CorpusNormalizer("whisper").many(texts)
    wrong = [(t, words(t), got[t]) for t in texts if got[t] != words(t)]
    assert not wrong, wrong[:3]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(VOCAB), st.sampled_from(SPACES)), max_size=20))
def test_any_text_from_the_tricky_vocabulary(parts):
    text = "".join(w + s for w, s in parts)
    assert CorpusNormalizer("whisper").words(text) == words(text)


@pytest.mark.parametrize(
    "text",
    [
        "wait... then go",  # a "." left at the end of a piece would be kept
        "5$ - ok",  # "-" vanishes: "$" would end the piece
        "okay um % fifteens",  # "um" vanishes: "%" would start the piece
        "theatre and a half",  # "and a half" is dropped at the start of a text
        "he's\tbeen",  # "'s been" needs one literal space
        "brep\r\n's gotta go",  # "gotta" → "got to", then "'s got" → "has got"
        "Hello, Ναί",  # not ASCII: normalized whole
    ],
)
def test_cases_that_must_not_be_cut(text):
    assert CorpusNormalizer("whisper").words(text) == words(text)


def test_plain_words_are_cut_and_context_words_are_not():
    pieces = whisper_pieces("The colour of twenty one apples, and a pear")
    assert pieces == ["The", "colour", "of twenty one", "apples,", "and a", "pear"]  # "kind of"
    assert "gotta" in context_words() and SEPARATOR not in context_words()


def _corpus(n: int, seed: int = 0) -> tuple[dict[str, str], dict[str, str]]:
    rng = random.Random(seed)
    real = [s for t in _real_texts() for s in t.split(". ")]
    refs, hyps = {}, {}
    for i in range(n):
        ref = rng.choice(real)
        hyp = [w for w in ref.lower().split() if rng.random() > 0.1]
        hyp += rng.sample(ref.split(), k=min(2, len(ref.split()))) if rng.random() < 0.3 else []
        refs[f"u{i}"], hyps[f"u{i}"] = ref + " " + rng.choice(TRICKY), " ".join(hyp)
    return refs, hyps


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("preset", ["whisper", "basic"])
def test_corpus_counts_equal_jiwer_on_the_normalized_texts(monkeypatch, preset, workers):
    monkeypatch.setattr(wer, "PARALLEL_MIN_UTTERANCES", 10)  # two processes even here
    refs, hyps = _corpus(300)
    score = score_corpus(refs, hyps, preset, workers=workers, alignments=True, cer=True)
    ids = [u for u in refs if words(refs[u], preset)]
    assert sorted(score.per_utterance) == sorted(ids)
    assert score.empty_references == tuple(u for u in refs if u not in ids)
    for uid in ids:
        r, h = words(refs[uid], preset), words(hyps[uid], preset)
        expected = jiwer.process_words(" ".join(r), " ".join(h) or "x")  # jiwer needs a word
        c = score.per_utterance[uid]
        if h:
            assert (c.hits, c.subs, c.dels, c.ins) == (
                expected.hits,
                expected.substitutions,
                expected.deletions,
                expected.insertions,
            )
        else:
            assert (c.hits, c.subs, c.dels, c.ins) == (0, 0, len(r), 0)
        assert score.alignments[uid].ref == tuple(r) and score.alignments[uid].hyp == tuple(h)
    total = jiwer.process_words(
        [" ".join(words(refs[u], preset)) for u in ids if words(hyps[u], preset)],
        [" ".join(words(hyps[u], preset)) for u in ids if words(hyps[u], preset)],
    )
    pooled = sum(c for u, c in score.per_utterance.items() if words(hyps[u], preset))
    assert pooled.errors == total.substitutions + total.deletions + total.insertions
