"""PocketSphinx's own incremental decoder as a streaming engine: true partials, finals per
utterance.

PocketSphinx's endpointer (its WebRTC-style VAD with a 0.3 s window) cuts the stream into
utterances; inside one, each frame is decoded as it arrives (``process_raw``) and the current
best path (``hyp()``) is a partial whenever it changes. When the endpointer says speech ended (or
the stream does), the utterance is decoded again whole (``full_utt=True``, cepstral mean over the
utterance, as the batch provider does) and that is its final, with word times from its
segmentation; the second pass's compute is in the final's receipt time.

Why two passes: the live first pass normalizes features with a running cepstral mean that
starts from a fixed guess (``cmninit`` 40,3,-1) and takes seconds to adapt, so a stream's first
utterance decoded live only is far worse than batch (whisper_jfk: 100 % WER live vs 27 %
batch). Decoding settings are the batch provider's (:mod:`stt_eval.providers.pocketsphinx`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pocketsphinx import Decoder, Endpointer

from stt_eval.audio.load import TARGET_RATE
from stt_eval.providers.errors import InputRejected
from stt_eval.providers.pocketsphinx import PocketSphinx, clean_word
from stt_eval.streaming.events import AudioClock, StreamEvent, Timeline
from stt_eval.streaming.local import RECEIPT, EngineClock
from stt_eval.types import Word


@lru_cache(maxsize=2)
def _decoder(maxhmmpf: int) -> Decoder:
    """One streaming decoder per process and setting (loading the en-us model takes ~0.5 s)."""
    return Decoder(samprate=TARGET_RATE, loglevel="FATAL", maxhmmpf=maxhmmpf)


def _text(decoder: Decoder) -> str:
    hyp = decoder.hyp()
    words = (clean_word(w) for w in (hyp.hypstr.split() if hyp else ()))
    return " ".join(w for w in words if w)


def _words(decoder: Decoder, offset_s: float) -> tuple[Word, ...]:
    frate = int(decoder.config["frate"])
    out = []
    for seg in decoder.seg() or ():
        text = clean_word(seg.word)
        if text is not None:
            start = offset_s + seg.start_frame / frate
            end = offset_s + max(seg.start_frame, seg.end_frame + 1) / frate
            out.append(Word(text, start, end, min(1.0, max(0.0, float(seg.prob)))))
    return tuple(out)


@dataclass(frozen=True)
class PocketSphinxStream:
    """PocketSphinx 5 streaming: the batch provider's model and settings, decoded live."""

    maxhmmpf: int = 5000
    name: str = "pocketsphinx"

    def cache_identity(self) -> Mapping[str, Any]:
        batch = PocketSphinx(self.maxhmmpf).cache_identity()
        how = "endpointer, live partials, final re-decoded whole"
        return {**batch, "streaming": how, "receipt": RECEIPT}

    def load(self) -> None:
        _decoder(self.maxhmmpf)

    async def stream(
        self,
        frames: AsyncIterator[bytes],
        sample_rate: int,
        clock: AudioClock,
        options: Mapping[str, Any] | None = None,
    ) -> Timeline:
        if sample_rate != TARGET_RATE:
            raise InputRejected(f"pocketsphinx streams {TARGET_RATE} Hz audio, got {sample_rate}")
        decoder, stamp = _decoder(self.maxhmmpf), EngineClock(clock)
        decoder.reinit_feat()
        ep = Endpointer(sample_rate=sample_rate)
        events: list[StreamEvent] = []
        state: dict[str, Any] = {"partial": "", "start_s": 0.0, "audio": bytearray()}

        def feed(speech: bytes | None, was_in_speech: bool, last: bool = False) -> None:
            if speech is not None:
                if not was_in_speech:
                    decoder.start_utt()
                    state["start_s"], state["audio"] = ep.speech_start, bytearray()
                decoder.process_raw(speech, full_utt=False)
                state["audio"] += speech
            if speech is not None and (last or not ep.in_speech):
                decoder.end_utt()  # the live pass; the final is the whole utterance again
                live_cmn = decoder.get_cmn()
                decoder.reinit_feat()
                decoder.start_utt()
                decoder.process_raw(bytes(state["audio"]), full_utt=True)
                decoder.end_utt()
                decoder.set_cmn(live_cmn)
                words = _words(decoder, state["start_s"])
                at = stamp.end()
                text = " ".join(w.text for w in words)
                events.append(
                    StreamEvent("final", at, text, words, state["start_s"], ep.speech_end)
                )
                state["partial"] = ""
            elif speech is not None:
                text = _text(decoder)
                at = stamp.end()
                if text and text != state["partial"]:
                    events.append(StreamEvent("partial", at, text, start_s=state["start_s"]))
                    state["partial"] = text

        pending, fed = b"", 0
        async for frame in frames:
            pending, fed = pending + frame, fed + len(frame)
            while len(pending) >= ep.frame_bytes:
                chunk, pending = pending[: ep.frame_bytes], pending[ep.frame_bytes :]
                stamp.begin()
                was = ep.in_speech
                feed(ep.process(chunk), was)
        if ep.in_speech:
            stamp.begin()
            feed(ep.end_stream(pending or b"\0\0"), True, last=True)  # b"" is refused
        events.append(StreamEvent("closed", stamp.end() if events else clock.now_s()))
        return Timeline(
            tuple(events),
            fed / 2 / sample_rate,
            meta={"compute_s": round(stamp.compute_s, 4), "engine": "pocketsphinx"},
        )
