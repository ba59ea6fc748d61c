"""Reference word times by forced alignment: the reference text aligned to the clean audio with
PocketSphinx 5's aligner (``Decoder.set_align_text``) and the en-us model its wheel ships.

The reference is lower-cased and stripped of punctuation (apostrophes kept); words the
pronouncing dictionary does not hold (names, numbers written as digits, "yknow") cannot be
aligned and are left out, and said so. Pronunciation variants (``for(2)``) are written as the
word. Times come from 10 ms frames.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata

from pocketsphinx import Decoder

from stt_eval.audio.load import TARGET_RATE, AudioClip, to_int16
from stt_eval.providers.errors import InputRejected
from stt_eval.providers.pocketsphinx import clean_word
from stt_eval.types import Word


def aligner_name() -> str:
    """What made the times, as rows and CTM comments record it."""
    return f"pocketsphinx {metadata.version('pocketsphinx')} forced alignment (en-us)"


@lru_cache(maxsize=1)
def _decoder() -> Decoder:
    return Decoder(samprate=TARGET_RATE, loglevel="FATAL")


@dataclass(frozen=True)
class Aligned:
    """The aligned words and the reference words left out (not in the dictionary)."""

    words: tuple[Word, ...]
    left_out: tuple[str, ...]


def align_reference(clip: AudioClip, text: str) -> Aligned:
    """The words of `text` with their times in `clip` (mono 16 kHz)."""
    if clip.sample_rate != TARGET_RATE:
        raise InputRejected(f"the aligner needs {TARGET_RATE} Hz audio, got {clip.sample_rate}")
    decoder = _decoder()
    tokens = re.sub(r"[^\w' ]+", " ", text.lower()).split()
    known = [t for t in tokens if decoder.lookup_word(t) is not None]
    left_out = tuple(t for t in tokens if decoder.lookup_word(t) is None)
    if not known or not len(clip.samples):
        return Aligned((), left_out)
    decoder.reinit_feat()
    decoder.set_align_text(" ".join(known))
    frate = int(decoder.config["frate"])
    decoder.start_utt()
    try:
        decoder.process_raw(to_int16(clip.samples).tobytes(), full_utt=True)
    finally:
        decoder.end_utt()
    words = []
    for seg in decoder.seg() or ():
        word = clean_word(seg.word)
        if word is not None:
            end = max(seg.start_frame, seg.end_frame + 1) / frate
            words.append(Word(word, seg.start_frame / frate, end))
    return Aligned(tuple(words), left_out)
