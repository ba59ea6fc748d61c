"""Smallest.ai Pulse speech-to-text over HTTP (the Waves API; PROVIDER_CONTRACTS §1).

Two documented pre-recorded endpoints, chosen by ``model`` and ``api``:

=====================  =======================  ============================================
``model``              ``api``                  request
=====================  =======================  ============================================
``pulse`` (default)    ``auto`` / ``legacy``    ``POST /waves/v1/pulse/get_text`` (the
                                                documented default path, still supported)
``pulse``              ``unified``              ``POST /waves/v1/stt/?model=pulse``
``pulse-pro``          ``auto`` / ``unified``   ``POST /waves/v1/stt/?model=pulse-pro`` (the
                                                only endpoint serving Pulse Pro)
=====================  =======================  ============================================

The audio goes as the raw body (``application/octet-stream``); every option is a query
parameter with ``'true'``/``'false'`` booleans. When the per-request options carry
``audio_url`` (the runner passes one only for a clean, unconditioned sample) the body is the
documented ``{"url": ...}`` instead — except for Pulse Pro, which does not take URLs, so the
audio is uploaded (:attr:`Pulse.accepts_url` says which).

``word_timestamps`` gates both ``words`` and ``utterances`` (both ``[]`` without it), and
``diarize`` adds integer 0-based speakers, mapped to labels ``speaker_0``, ``speaker_1``, ...
(older docs showed the strings ``"speaker_0"``; both forms give the same label).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from stt_eval.audio.load import AudioClip
from stt_eval.metrics.intervals import turns_from_words
from stt_eval.providers.errors import InputRejected, PermanentProviderError
from stt_eval.providers.remote import RemoteProvider, request_options
from stt_eval.providers.response import checked_transcript, parse_turns, parse_words
from stt_eval.providers.vocabulary import unsupported
from stt_eval.types import Transcript

LEGACY_PATH = "/waves/v1/pulse/get_text"
UNIFIED_PATH = "/waves/v1/stt/"
MODELS = ("pulse", "pulse-pro")
APIS = ("auto", "legacy", "unified")
LANGUAGES = frozenset(
    "en hi de es ru it fr nl pt uk pl cs sk lv et ro fi sv bg hu da lt mt zh ja ko "
    "multi-eu multi-asian multi-indic".split()
)
"""The documented values of ``language`` (pulse-stt-openapi.yaml); ``multi-indic`` is India
region only."""
DEFAULT_LANGUAGE = "multi-eu"
"""The legacy endpoint's default; sent explicitly to the unified endpoint, which requires one."""
PRO_LANGUAGE = "en"
"""Pulse Pro's language when none is given (the unified spec: "For Pulse Pro pass `en`")."""
MAX_BYTES = 250_000_000


def pulse_language(tag: str) -> str | None:
    """The documented Pulse language code for a language tag, or None if Pulse has none.

    A region subtag is dropped when the tag itself is not a Pulse code.

    >>> pulse_language("en"), pulse_language("en-US"), pulse_language("MULTI-EU")
    ('en', 'en', 'multi-eu')
    >>> pulse_language("yue") is None
    True
    """
    code = tag.strip().lower().replace("_", "-")
    if code in LANGUAGES:
        return code
    primary = code.split("-")[0]
    return primary if primary in LANGUAGES and primary != "multi" else None


def _flag(value: bool) -> str:
    return "true" if value else "false"


@dataclass(frozen=True)
class Pulse(RemoteProvider):
    """Smallest.ai Pulse / Pulse Pro, pre-recorded (batch) transcription.

    ``model`` is ``pulse`` or ``pulse-pro``; ``api`` picks the endpoint (``auto``: legacy for
    Pulse, unified for Pulse Pro; see the module table). ``language`` overrides the sample's
    language (``options["language"]``); without either, the legacy endpoint gets no
    ``language`` (its default is ``multi-eu``) and the unified one gets ``multi-eu`` for Pulse
    or ``en`` for Pulse Pro. ``word_timestamps`` and ``diarize`` are always sent;
    ``format``/``punctuate``/``capitalize`` only when set (the server defaults them to true).
    """

    model: str = "pulse"
    api: str = "auto"
    language: str = ""
    word_timestamps: bool = True
    diarize: bool = False
    format: bool | None = None
    punctuate: bool | None = None
    capitalize: bool | None = None
    name: str = "pulse"

    KEY_VARIABLE = "SMALLEST_API_KEY"
    API_VERSION = "waves/v1"
    DEFAULT_BASE_URL = "https://api.smallest.ai"
    DEFAULT_PER_MINUTE = 25  # Standard plan batch RPM (pulse.mdx model card)
    MAX_UPLOAD_BYTES = MAX_BYTES

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.model not in MODELS:
            raise ValueError(f"pulse: model={self.model!r} is not one of {', '.join(MODELS)}")
        if self.api not in APIS:
            raise ValueError(f"pulse: api={self.api!r} is not one of {', '.join(APIS)}")
        if self.model == "pulse-pro" and self.api == "legacy":
            raise ValueError(
                "pulse: Pulse Pro is served only by the unified endpoint; use api='auto' or "
                "'unified' with model='pulse-pro'"
            )
        if self.language and pulse_language(self.language) is None:
            raise ValueError(
                f"pulse: language={self.language!r} is not a Pulse language; use one of "
                f"{', '.join(sorted(LANGUAGES))}"
            )
        for name in ("word_timestamps", "diarize"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"pulse: {name}={getattr(self, name)!r} must be true or false")
        for name in ("format", "punctuate", "capitalize"):
            if getattr(self, name) not in (None, True, False):
                raise ValueError(f"pulse: {name}={getattr(self, name)!r} must be true or false")
        if self.diarize and not self.word_timestamps:
            raise ValueError(
                "pulse: diarize=true needs word_timestamps=true (without it the response has "
                "no words or utterances to carry speakers)"
            )
        if self.format is False and (self.punctuate or self.capitalize):
            raise ValueError(
                "pulse: format=false turns punctuate and capitalize off; drop one of them"
            )

    @property
    def route(self) -> str:
        """``legacy`` or ``unified``: the endpoint this configuration sends to."""
        if self.api != "auto":
            return self.api
        return "unified" if self.model == "pulse-pro" else "legacy"

    @property
    def path(self) -> str:
        return UNIFIED_PATH if self.route == "unified" else LEGACY_PATH

    @property
    def accepts_url(self) -> bool:
        """Whether an ``audio_url`` is sent as ``{"url"}`` (not for Pulse Pro: bytes only)."""
        return self.model != "pulse-pro"

    def auth_headers(self, key: str) -> Mapping[str, str]:
        return {"Authorization": f"Bearer {key}"}

    def cache_identity(self) -> Mapping[str, Any]:
        return {**super().cache_identity(), "api": self.route}

    def request_language(self, options: Mapping[str, Any]) -> str | None:
        """The ``language`` to send: the option, else the sample's, else the default."""
        tag = self.language or options.get("language") or ""
        if not tag:
            if self.route == "legacy":
                return None
            return PRO_LANGUAGE if self.model == "pulse-pro" else DEFAULT_LANGUAGE
        code = pulse_language(str(tag))
        if code is None:
            raise InputRejected(
                f"pulse: language {tag!r} is not supported; set the provider's language to one "
                f"of {', '.join(sorted(LANGUAGES))} (multi-eu, multi-asian detect the language)"
            )
        return code

    def query(self, language: str | None) -> dict[str, str]:
        """The documented query parameters for one request."""
        params: dict[str, str] = {}
        if self.route == "unified":
            params["model"] = self.model
        if language:
            params["language"] = language
        params["word_timestamps"] = _flag(self.word_timestamps)
        params["diarize"] = _flag(self.diarize)
        for name in ("format", "punctuate", "capitalize"):
            if getattr(self, name) is not None:
                params[name] = _flag(getattr(self, name))
        return params

    def transcribe(self, audio: AudioClip, options: Mapping[str, Any] | None = None) -> Transcript:
        options = request_options(options, self.name)
        unsupported(self.name, options)  # keywords exist on the WebSocket API only
        language = self.request_language(options)
        params = self.query(language)
        url = options.get("audio_url")
        if url and self.accepts_url:
            response = self.client().request(
                "POST",
                self.path,
                params=params,
                json_body={"url": str(url)},
                audio_s=audio.duration_s,
            )
        else:
            body = audio.to_wav_bytes()
            self.check_size(body)
            response = self.client().request(
                "POST",
                self.path,
                params=params,
                data=body,
                headers={"Content-Type": "application/octet-stream"},
                audio_s=audio.duration_s,
            )
        return transcript_from_pulse(response.json(), language)


# --------------------------------------------------------------------------- the response


def transcript_from_pulse(doc: Any, language: str | None = None) -> Transcript:
    """A Transcript from a Pulse or Pulse Pro response; `language` is the one requested.

    Pulse has no top-level ``language``: the requested code stands in (None for the
    ``multi-*`` detectors); Pulse Pro's own ``language`` wins. Turns come from the utterances
    when they carry speakers, else from runs of words by the same speaker; malformed entries
    are dropped with a warning (:mod:`stt_eval.providers.response`). A 200 that is not
    ``status: "success"`` with a ``transcription`` raises, never passes as an empty transcript.

    >>> t = transcript_from_pulse({"status": "success", "transcription": "Hi there",
    ...     "words": [{"word": "Hi", "start": 0.1, "end": 0.3, "confidence": 0.9, "speaker": 1},
    ...               {"word": "there", "start": 0.3, "end": 0.6, "confidence": 0.8,
    ...                "speaker": 1}], "utterances": []}, "en")
    >>> t.words[1], t.turns, t.language
    (Word(text='there', start=0.3, end=0.6, confidence=0.8, speaker='speaker_1'), (SpeakerTurn(speaker='speaker_1', start=0.1, end=0.6),), 'en')
    """
    if not isinstance(doc, dict):
        raise PermanentProviderError(f"pulse: 200 with a {type(doc).__name__}, not an object")
    status = doc.get("status")
    if status == "processing":
        raise PermanentProviderError(
            f"pulse: the request was accepted as an asynchronous job (request_id "
            f"{doc.get('request_id')!r}); stt-eval reads transcripts synchronously, so do not "
            "set a webhook_url",
            status=200,
        )
    if status != "success":
        said = doc.get("message") or doc.get("errors") or doc.get("error")
        raise PermanentProviderError(
            f"pulse: 200 with status {status!r} instead of 'success'"
            + (f": {said}" if said else "; the transcript is not there"),
            status=200,
            provider_message=str(said) if said else None,
        )
    text = doc.get("transcription")
    if not isinstance(text, str):
        raise PermanentProviderError(
            "pulse: 200 without a transcription string; the response is not the documented "
            f"shape (keys: {', '.join(sorted(doc))})",
            status=200,
        )
    words = parse_words(doc.get("words"), speaker=_speaker)
    turns = parse_turns(doc.get("utterances"), speaker=_speaker)
    if not turns.items:
        turns = replace(turns, items=turns_from_words(words.items))
    said_language = doc.get("language")
    if isinstance(said_language, str) and said_language.strip():
        language = said_language.strip()
    elif language is not None and language.startswith("multi"):
        language = None
    return checked_transcript("pulse", text, words, turns, language=language, raw=doc)


def speaker_label(value: Any) -> str | None:
    """``0`` → ``speaker_0``; a string label (``speaker_0``) is kept; anything else → None.

    >>> speaker_label(0), speaker_label("speaker_2"), speaker_label("1"), speaker_label(None)
    ('speaker_0', 'speaker_2', 'speaker_1', None)
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)) and math.isfinite(value) and value == int(value):
        return f"speaker_{int(value)}"
    if isinstance(value, str) and value.strip():
        value = value.strip()
        return f"speaker_{value}" if value.isdigit() else value
    return None


def _speaker(entry: Mapping[str, Any]) -> str | None:
    return speaker_label(entry.get("speaker"))
