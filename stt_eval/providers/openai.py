"""OpenAI-compatible ``POST {base}/audio/transcriptions``: OpenAI, Groq and self-hosted servers.

The request is the documented multipart form (PROVIDER_CONTRACTS §2.2): ``file`` as
``audio.wav`` (``audio/wav``), ``model``, ``response_format`` and, for ``verbose_json``,
``timestamp_granularities[]=word`` and ``segment``, plus ``language``/``prompt``/``temperature``
when set. Groq is the same API at ``base_url="https://api.groq.com/openai/v1"`` with
``key_variable="GROQ_API_KEY"``; a self-hosted server needs only its ``base_url`` (and any
non-empty key if it checks none).

Third-party servers deviate from OpenAI's answers; these are tolerated:

- words inside the segments instead of a top-level ``words`` list: those are used;
- malformed word entries are dropped with a warning (:mod:`stt_eval.providers.response`);
- no ``words`` (granularities ignored) or no usable word: each segment's text is split on
  whitespace and its words spread over the segment's span in proportion to their length (real
  segment times, interpolated word times, no confidence); with no segments either, the
  transcript has the text and no words;
- ``null`` for any field (``text`` null falls back to the segments' text);
- no ``language`` or ``duration`` (the requested language stands in);
- ``language`` as an ISO code instead of OpenAI's English name (``"english"`` → ``en``);
- a word ``probability`` (faster-whisper servers) or ``confidence`` in [0, 1] is kept;
- a plain-text body when ``response_format`` was ignored (taken as the transcript), while a
  2xx that is broken JSON or an HTML page is still retried like any other bad answer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stt_eval.audio.load import AudioClip
from stt_eval.providers.errors import InputRejected, PermanentProviderError
from stt_eval.providers.http import HttpResponse, body_kind
from stt_eval.providers.remote import RemoteProvider, request_options
from stt_eval.providers.response import (
    Parsed,
    checked_transcript,
    parse_turns,
    parse_words,
    time_span,
)
from stt_eval.providers.vocabulary import requested
from stt_eval.types import Transcript, Word

PATH = "/audio/transcriptions"
DEFAULT_MODEL = "whisper-1"
KEYWORDS_MODEL = "gpt-transcribe"
"""The one model whose form documents ``keywords[]`` (PROVIDER_CONTRACTS §2.2)."""
FORMATS = ("auto", "verbose_json", "json", "text", "diarized_json")
MAX_BYTES = 25 * 1024 * 1024  # 25 MiB (OpenAI Audio API FAQ, whisper-1)
LANGUAGE_CODES = {
    "english": "en",
    "chinese": "zh",
    "german": "de",
    "spanish": "es",
    "russian": "ru",
    "korean": "ko",
    "french": "fr",
    "japanese": "ja",
    "portuguese": "pt",
    "turkish": "tr",
    "polish": "pl",
    "catalan": "ca",
    "dutch": "nl",
    "arabic": "ar",
    "swedish": "sv",
    "italian": "it",
    "indonesian": "id",
    "hindi": "hi",
    "finnish": "fi",
    "vietnamese": "vi",
    "hebrew": "he",
    "ukrainian": "uk",
    "greek": "el",
    "malay": "ms",
    "czech": "cs",
    "romanian": "ro",
    "danish": "da",
    "hungarian": "hu",
    "tamil": "ta",
    "norwegian": "no",
    "thai": "th",
    "urdu": "ur",
    "croatian": "hr",
    "bulgarian": "bg",
    "lithuanian": "lt",
    "latin": "la",
    "maltese": "mt",
    "welsh": "cy",
    "slovak": "sk",
    "telugu": "te",
    "persian": "fa",
    "latvian": "lv",
    "bengali": "bn",
    "serbian": "sr",
    "slovenian": "sl",
    "kannada": "kn",
    "estonian": "et",
    "macedonian": "mk",
    "marathi": "mr",
    "gujarati": "gu",
    "malayalam": "ml",
    "tagalog": "tl",
    "cantonese": "yue",
    "icelandic": "is",
}
"""Whisper's English language names → ISO 639 codes (verbose_json says ``"english"``)."""
_ISO = re.compile(r"[a-z]{2,3}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def iso_language(value: Any) -> str | None:
    """An ISO 639 code from a language name or code (None when there is none).

    >>> iso_language("english"), iso_language("en"), iso_language("pt-BR"), iso_language(None)
    ('en', 'en', 'pt', None)
    """
    if not isinstance(value, str) or not value.strip():
        return None
    name = value.strip().lower()
    if name in LANGUAGE_CODES:
        return LANGUAGE_CODES[name]
    primary = name.replace("_", "-").split("-")[0]
    return primary if _ISO.fullmatch(primary) else name


def auto_format(model: str) -> str:
    """The richest response format a model documents: ``diarized_json`` for the diarize model,
    ``json`` for the other gpt-* models (json only), ``verbose_json`` for Whisper models."""
    if "diarize" in model:
        return "diarized_json"
    return "json" if model.startswith("gpt-") else "verbose_json"


@dataclass(frozen=True)
class OpenAICompatible(RemoteProvider):
    """An OpenAI-compatible transcription endpoint.

    ``model`` (default ``whisper-1``); ``response_format`` (``auto``: see :func:`auto_format`);
    ``prompt`` and ``temperature`` (0–1) are sent only when set; ``language`` overrides the
    sample's (``options["language"]``), sent as an ISO 639-1 code; ``key_variable`` names the
    key's environment variable when it is not ``OPENAI_API_KEY`` (``GROQ_API_KEY``).
    """

    model: str = DEFAULT_MODEL
    response_format: str = "auto"
    prompt: str = ""
    temperature: float | None = None
    language: str = ""
    key_variable: str = ""
    name: str = "openai"

    KEY_VARIABLE = "OPENAI_API_KEY"
    API_VERSION = "v1"
    DEFAULT_BASE_URL = "https://api.openai.com/v1"
    MAX_UPLOAD_BYTES = MAX_BYTES
    OUTPUT_NEUTRAL = RemoteProvider.OUTPUT_NEUTRAL | {"key_variable"}

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.model, str) or not self.model.strip():
            raise ValueError("openai: model must be a model name, e.g. 'whisper-1'")
        if self.response_format not in FORMATS:
            raise ValueError(
                f"openai: response_format={self.response_format!r} is not one of "
                f"{', '.join(FORMATS)}"
            )
        if self.temperature is not None and not (
            isinstance(self.temperature, (int, float)) and 0 <= self.temperature <= 1
        ):
            raise ValueError(f"openai: temperature={self.temperature!r} must be between 0 and 1")
        if self.language and not _ISO.fullmatch(iso_language(self.language) or ""):
            raise ValueError(f"openai: language={self.language!r} is not an ISO 639-1 code")
        if self.key_variable and not _ENV_NAME.fullmatch(self.key_variable):
            # never echo it: a key pasted here by mistake must not reach a message
            raise ValueError(
                "openai: key_variable must name an environment variable (letters, digits and "
                "underscores, e.g. GROQ_API_KEY), not hold the key itself"
            )

    @property
    def effective_format(self) -> str:
        """The response format sent (``auto`` resolved)."""
        return auto_format(self.model) if self.response_format == "auto" else self.response_format

    @property
    def key_env(self) -> str:
        """The environment variable holding the key."""
        return self.key_variable or self.KEY_VARIABLE

    def auth_headers(self, key: str) -> Mapping[str, str]:
        return {"Authorization": f"Bearer {key}"}

    def cache_identity(self) -> Mapping[str, Any]:
        return {**super().cache_identity(), "response_format": self.effective_format}

    def form(
        self, language: str | None, audio_s: float, vocabulary: tuple[str, ...] = ()
    ) -> list[tuple[str, str]]:
        """The multipart form fields besides ``file`` (repeated names allowed); `vocabulary`
        phrases go into ``prompt`` (after the provider's own prompt), the documented way to
        steer Whisper's spelling of uncommon words; ``gpt-transcribe`` documents ``keywords[]``
        for them instead."""
        fmt = self.effective_format
        form = [("model", self.model), ("response_format", fmt)]
        if fmt == "verbose_json":
            form += [
                ("timestamp_granularities[]", "word"),
                ("timestamp_granularities[]", "segment"),
            ]
        if language:
            form.append(("language", language))
        keywords = self.model == KEYWORDS_MODEL
        prompt = " ".join(p for p in (self.prompt, "" if keywords else ", ".join(vocabulary)) if p)
        if prompt:
            form.append(("prompt", prompt))
        if keywords:
            form += [("keywords[]", phrase) for phrase in vocabulary]
        if self.temperature is not None:
            form.append(("temperature", str(float(self.temperature))))
        if "diarize" in self.model and audio_s > 30:
            form.append(("chunking_strategy", "auto"))  # required by the diarize model > 30 s
        return form

    def transcribe(self, audio: AudioClip, options: Mapping[str, Any] | None = None) -> Transcript:
        options = request_options(options, self.name)
        tag = self.language or options.get("language") or ""
        language = iso_language(tag)
        if tag and (language is None or not _ISO.fullmatch(language)):
            raise InputRejected(f"openai: language {tag!r} is not an ISO 639-1 code")
        if "diarize" in self.model and requested(options):
            raise InputRejected(
                f"openai: {self.model} takes no prompt, so no custom vocabulary; run it with "
                'vocabulary = ["off"] only'
            )
        body = audio.to_wav_bytes()
        self.check_size(body)
        response = self.client().request(
            "POST",
            PATH,
            data=self.form(language, audio.duration_s, requested(options)),  # type: ignore[arg-type]
            files={"file": ("audio.wav", body, "audio/wav")},
            audio_s=audio.duration_s,
            expect_json=self.effective_format != "text",  # a text answer may be empty (silence)
            accept_text=True,  # a server that ignored response_format answers plain text
        )
        return transcript_from_openai(decode_body(response), language)


# --------------------------------------------------------------------------- the response


def decode_body(response: HttpResponse) -> Any:
    """The JSON document, or the body as text when it is a plain-text transcript."""
    if body_kind(response.body) == "json":
        return response.json()
    return response.body.decode("utf-8", errors="replace")


def transcript_from_openai(doc: Any, language: str | None = None) -> Transcript:
    """A Transcript from a json / verbose_json / diarized_json document or a plain-text body;
    `language` is the one requested (it stands in when the server names none).

    >>> t = transcript_from_openai({"text": "Hi you", "language": "english", "segments": [
    ...     {"start": 1.0, "end": 2.0, "text": " Hi you"}]})
    >>> [(w.text, w.start, w.end) for w in t.words], t.language
    ([('Hi', 1.0, 1.4), ('you', 1.4, 2.0)], 'en')
    """
    if isinstance(doc, str):  # response_format=text (empty for silence), or a server ignoring it
        return Transcript(doc.strip(), language=language, raw={"text": doc})
    if not isinstance(doc, dict):
        raise PermanentProviderError(f"openai: 200 with a {type(doc).__name__}, not an object")
    segments = [s for s in doc.get("segments") or () if isinstance(s, dict)]
    text = doc.get("text")
    if not isinstance(text, str):
        parts = [s["text"].strip() for s in segments if isinstance(s.get("text"), str)]
        if not parts:
            error = doc.get("error")
            said = error.get("message") if isinstance(error, dict) else error
            raise PermanentProviderError(
                f"openai: 200 without a transcript ({said or 'no text and no segments'})",
                status=200,
                provider_message=str(said) if said else None,
            )
        text = " ".join(parts)
    nested = [w for s in segments for w in (s.get("words") or ())]
    words = _words(doc.get("words"))
    recovered = words.items or _words(nested).items or _spread_segments(segments)
    return checked_transcript(
        "openai",
        text.strip(),
        words,
        parse_turns(segments, speaker=_speaker),
        language=iso_language(doc.get("language")) or language,
        raw=doc,
        extra_words=recovered,
    )


def _words(entries: Any) -> Parsed[Word]:
    """The server's words (confidence as ``confidence`` or faster-whisper's ``probability``)."""
    return parse_words(entries, confidence_keys=("confidence", "probability"))


def _speaker(segment: Mapping[str, Any]) -> str | None:
    speaker = segment.get("speaker")
    return None if speaker in (None, "") else str(speaker)


def spread_words(
    text: str, start: float, end: float, speaker: str | None = None
) -> tuple[Word, ...]:
    """A segment's words spread over its span in proportion to their length in characters.

    >>> [(w.text, w.start, w.end) for w in spread_words("a bcd", 0.0, 2.0)]
    [('a', 0.0, 0.5), ('bcd', 0.5, 2.0)]
    """
    tokens = text.split()
    total = sum(len(t) for t in tokens)
    words, done = [], 0
    for token in tokens:
        a = start + (end - start) * done / total
        done += len(token)
        b = start + (end - start) * done / total
        words.append(Word(token, a, max(a, b), None, speaker))
    return tuple(words)


def _spread_segments(segments: list[dict[str, Any]]) -> tuple[Word, ...]:
    words: list[Word] = []
    for s in segments:
        span = time_span(s)
        if span is None or not isinstance(s.get("text"), str):
            return ()
        speaker = s.get("speaker")
        words.extend(spread_words(s["text"], *span, str(speaker) if speaker else None))
    return tuple(words)
