"""The corpus normalizer gives exactly the words of whole-text normalization: on real transcripts,
on texts built from every word a cross-word Whisper rule reads, and on the cases that once broke
a cut; and ``score_corpus`` counts (one process or two) equal jiwer's on the normalized texts."""

from __future__ import annotations

import json
import random
import string
from dataclasses import astuple

import jiwer
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stt_eval.metrics import wer
from stt_eval.metrics.wer import score_corpus
from stt_eval.normalization.batch import (
    SEPARATOR,
    CorpusNormalizer,
    WordCodes,
    context_words,
    inert_core,
    normalizes_to_itself,
    respelled,
    whisper_pieces,
)
from stt_eval.normalization.rules import whisper_english, words

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
    "Hello.",
    'said."',
    "Colour.,",
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


def test_an_inert_token_normalizes_as_its_core_and_a_plain_core_as_itself():
    # the shortcuts of the corpus normalizer, checked against the library on every token of
    # the real texts, on random letters with punctuation and on the spelling table's words
    context, library = context_words(), whisper_english()
    rng = random.Random(3)
    tokens = {t for text in _real_texts() for t in text.split()}
    tokens |= {
        rng.choice(["", '"', ","])
        + "".join(rng.choices(string.ascii_letters, k=rng.randint(1, 9)))
        + rng.choice(["", ",", ".", '"', "?!", '."', ".,", ":"])
        for _ in range(3000)
    }
    tokens |= set(respelled()) | {w.capitalize() + "." for w in respelled()}
    plain = 0
    for token in sorted(tokens):
        core = inert_core(token, context)
        if core is None:
            continue
        assert words(token) == words(core), token
        if normalizes_to_itself(core, context):
            assert library(core).split() == [core], core
            plain += 1
    assert plain > 2000 and not any(normalizes_to_itself(w, context) for w in respelled())


def test_word_codes_are_one_character_a_word_and_decode():
    codes = WordCodes()
    vocabulary = [f"w{i}" for i in range(0xD800 + 10)]  # past the surrogates, which are skipped
    code = codes.encode(vocabulary + vocabulary[:3])
    assert len(code) == len(vocabulary) + 3 and len(set(code)) == len(vocabulary)
    assert not any(0xD800 <= ord(c) < 0xE000 for c in code)
    assert codes.decode(code) == vocabulary + vocabulary[:3]


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
    assert score_corpus(refs, hyps, preset, workers=workers).per_utterance == score.per_utterance
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
        if h:
            assert [astuple(op) for op in score.alignments[uid].ops] == [
                (c.type, c.ref_start_idx, c.ref_end_idx, c.hyp_start_idx, c.hyp_end_idx)
                for c in expected.alignments[0]
            ]
    total = jiwer.process_words(
        [" ".join(words(refs[u], preset)) for u in ids if words(hyps[u], preset)],
        [" ".join(words(hyps[u], preset)) for u in ids if words(hyps[u], preset)],
    )
    pooled = sum(c for u, c in score.per_utterance.items() if words(hyps[u], preset))
    assert pooled.errors == total.substitutions + total.deletions + total.insertions
