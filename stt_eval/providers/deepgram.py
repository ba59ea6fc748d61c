"""Deepgram pre-recorded transcription: one ``POST /v1/listen`` with the WAV as the body.

The contract (PROVIDER_CONTRACTS.md §3, from Deepgram's OpenAPI spec, SDK and docs):
``Authorization: Token KEY``; every option is a query parameter, booleans as ``true``/``false``;
the body is the raw audio (``Content-Type: audio/wav``, as in Deepgram's getting-started curl) or,
for audio Deepgram fetches itself, JSON ``{"url": ...}``. The answer is
``results.channels[0].alternatives[0]`` (``transcript`` and ``words``), ``results.utterances``
(only with ``utterances=true``) and ``metadata.duration``; all times are seconds.

Speakers: Deepgram numbers them ``0, 1, ...``; a Word's or SpeakerTurn's label is that number as a
string (``"0"``, ``"1"``), so every label maps one-to-one onto the raw response. Speakers are read
only when this provider asked for them (``diarize=True``): without diarization an utterance's
speaker, if a server sent one, would pass for a one-speaker diarization and be scored as such.

All options are sent explicitly (Deepgram's own defaults are ``punctuate=false``,
``smart_format=false`` and model ``base-general``), so a result never depends on a server default.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from stt_eval.audio.load import AudioClip
from stt_eval.providers.errors import PermanentProviderError
from stt_eval.providers.remote import RemoteProvider, request_options
from stt_eval.providers.response import checked_transcript, parse_turns, parse_words
from stt_eval.providers.vocabulary import requested
from stt_eval.types import Transcript

LISTEN_PATH = "/v1/listen"
DEFAULT_MODEL = "nova-3"
PRERECORDED_CONCURRENCY = 100
"""Deepgram's rate-limits page: Nova/Enhanced/Base pre-recorded, up to 100 concurrent requests
per project (Whisper Cloud: 5 — set ``max_in_flight=5`` for it)."""

_FLAGS = ("detect_language", "diarize", "punctuate", "smart_format", "utterances")


@dataclass(frozen=True)
class Deepgram(RemoteProvider):
    """Deepgram ``/v1/listen`` (pre-recorded).

    ``model`` is any Deepgram model name (default ``nova-3``). ``language`` overrides the
    per-request language (a BCP-47 tag such as ``en`` or ``en-US``); ``detect_language=True``
    sends no language and asks Deepgram to detect it. ``diarize``, ``punctuate``,
    ``smart_format`` and ``utterances`` are Deepgram's switches of the same names; utterances
    become the transcript's speaker turns when ``diarize`` is on.
    """

    model: str = DEFAULT_MODEL
    language: str | None = None
    detect_language: bool = False
    diarize: bool = False
    punctuate: bool = True
    smart_format: bool = True
    utterances: bool = True
    name: str = "deepgram"

    KEY_VARIABLE: ClassVar[str] = "DEEPGRAM_API_KEY"
    API_VERSION: ClassVar[str] = "v1"
    DEFAULT_BASE_URL: ClassVar[str] = "https://api.deepgram.com"
    DEFAULT_IN_FLIGHT: ClassVar[int | None] = PRERECORDED_CONCURRENCY

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.model, str) or not self.model.strip():
            raise ValueError(f"deepgram: model={self.model!r} must be a model name, e.g. 'nova-3'")
        if self.language is not None and (
            not isinstance(self.language, str) or not self.language.strip()
        ):
            raise ValueError(
                f"deepgram: language={self.language!r} must be a BCP-47 tag such as 'en', or None"
            )
        for flag in _FLAGS:
            if not isinstance(getattr(self, flag), bool):
                raise ValueError(f"deepgram: {flag}={getattr(self, flag)!r} must be true or false")

    def auth_headers(self, key: str) -> Mapping[str, str]:
        return {"Authorization": f"Token {key}"}

    def query(
        self, language: str | None, vocabulary: tuple[str, ...] = ()
    ) -> dict[str, str | list[str]]:
        """The query parameters of one request (`language`: the per-request language;
        `vocabulary`: phrases, sent as repeated ``keyterm`` for Nova-3 and as ``keywords`` for
        older models, as Deepgram's Keywords page says)."""
        params: dict[str, str | list[str]] = {
            "model": self.model,
            "punctuate": _flag(self.punctuate),
            "smart_format": _flag(self.smart_format),
            "diarize": _flag(self.diarize),
            "utterances": _flag(self.utterances),
        }
        if self.detect_language:
            params["detect_language"] = "true"
        elif self.language or language:
            params["language"] = self.language or str(language)
        if vocabulary:
            params["keyterm" if self.model.startswith("nova-3") else "keywords"] = list(vocabulary)
        return params

    def transcribe(self, audio: AudioClip, options: Mapping[str, Any] | None = None) -> Transcript:
        """Send the clip (or, with ``options["audio_url"]``, the URL) and parse the answer."""
        opts = request_options(options, self.name)
        params = self.query(opts.get("language"), requested(opts))
        client = self.client()
        if opts.get("audio_url"):
            response = client.request(
                "POST",
                LISTEN_PATH,
                params=params,
                json_body={"url": str(opts["audio_url"])},
                audio_s=audio.duration_s,
            )
        else:
            body = audio.to_wav_bytes()
            self.check_size(body)
            response = client.request(
                "POST",
                LISTEN_PATH,
                params=params,
                data=body,
                headers={"Content-Type": "audio/wav"},
                audio_s=audio.duration_s,
            )
        return parse_listen_response(
            response.json(),
            diarized=self.diarize,
            language=params.get("language"),  # type: ignore[arg-type]
        )


def parse_listen_response(doc: Any, *, diarized: bool, language: str | None = None) -> Transcript:
    """A ``/v1/listen`` answer → Transcript: channel 0's first alternative, its words (the
    ``punctuated_word`` when present), utterances as speaker turns when `diarized`, and the
    detected language, else `language` (the one requested). Malformed word and utterance
    entries are dropped with a warning (:mod:`stt_eval.providers.response`).

    A 200 without that structure (e.g. the ``{"request_id"}`` of a callback request) is a
    PermanentProviderError, never an empty transcript.
    """
    results = doc.get("results") if isinstance(doc, dict) else None
    channels = results.get("channels") if isinstance(results, dict) else None
    channel = channels[0] if isinstance(channels, list) and channels else None
    alternatives = channel.get("alternatives") if isinstance(channel, dict) else None
    alt = alternatives[0] if isinstance(alternatives, list) and alternatives else None
    if not isinstance(alt, dict):
        raise _malformed("results.channels[0].alternatives[0]", doc)
    text, raw_words = alt.get("transcript"), alt.get("words")
    if not isinstance(text, str) or not isinstance(raw_words, list):
        raise _malformed("a transcript and words in results.channels[0].alternatives[0]", doc)
    speaker = _speaker if diarized else None
    words = parse_words(raw_words, text_keys=("punctuated_word", "word"), speaker=speaker)
    turns = parse_turns(results.get("utterances") if diarized else None, speaker=_speaker)
    detected = channel.get("detected_language")
    found = detected if isinstance(detected, str) and detected else language
    return checked_transcript("deepgram", text, words, turns, language=found, raw=doc)


def speaker_label(speaker: Any) -> str | None:
    """Deepgram's 0-based speaker number as a label: ``0`` → ``"0"``; None stays None.

    >>> speaker_label(1), speaker_label(None)
    ('1', None)
    """
    return None if speaker is None else str(speaker)


def _speaker(entry: Mapping[str, Any]) -> str | None:
    return speaker_label(entry.get("speaker"))


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _malformed(what: str, doc: Any) -> PermanentProviderError:
    start = json.dumps(doc)[:200]
    return PermanentProviderError(
        f"deepgram: a 200 answer without {what} — not a transcription result (a callback "
        f"request, or an API change); the answer starts {start}",
        status=200,
    )
