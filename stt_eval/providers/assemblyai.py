"""AssemblyAI: upload the WAV, create a transcript job, poll it until it completes.

The contract (PROVIDER_CONTRACTS.md §4, from AssemblyAI's OpenAPI spec): ``Authorization: KEY``
(the bare key, no scheme). ``POST /v2/upload`` with the raw bytes answers ``{"upload_url"}``;
``POST /v2/transcript`` with JSON ``{"audio_url", ...}`` answers the job with ``status: "queued"``;
``GET /v2/transcript/{id}`` answers it again, ``queued`` → ``processing`` → ``completed`` or
``error``. A failed job is an HTTP 200 with ``status: "error"`` and the reason in ``error``.

Units: word and utterance ``start``/``end`` are integer **milliseconds** (converted to seconds
here); ``audio_duration`` is integer seconds. Speakers are AssemblyAI's own letters ``"A"``,
``"B"``, ... (null without ``speaker_labels``), kept as they are.

Polling is not retrying: each poll is one request through the HTTP client (which retries a 503 on
a poll like any other), and this module sleeps between polls through ``sleep`` — injectable so
tests run without waiting. ``poll_interval_s`` defaults to 3 s, the interval of AssemblyAI's own
polling example (assemblyai-api-spec ``fern/snippets/getting-started/universal-3-pro/
python-8.py``: ``time.sleep(3)``). ``poll_timeout_s`` (default 900 s) bounds the wait from the
job's creation; AssemblyAI documents no turnaround bound, so raise it for files of several hours.
A job still running at the deadline is a TransientProviderError naming the transcript id (the job
may still finish on AssemblyAI's side; a later retry creates a new one).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from stt_eval.audio.load import AudioClip
from stt_eval.providers.errors import InputRejected, PermanentProviderError, TransientProviderError
from stt_eval.providers.http import HttpClient
from stt_eval.providers.keys import scrub
from stt_eval.providers.remote import RemoteProvider, request_options
from stt_eval.providers.response import checked_transcript, parse_turns, parse_words
from stt_eval.providers.vocabulary import requested
from stt_eval.types import Transcript

UPLOAD_PATH = "/v2/upload"
TRANSCRIPT_PATH = "/v2/transcript"
POLL_INTERVAL_S = 3.0
POLL_TIMEOUT_S = 900.0
MAX_UPLOAD_BYTES = 2_200_000_000
"""AssemblyAI FAQ: uploads up to 2.2 GB (5 GB / 10 h for audio fetched from a URL)."""

MS = 1000.0
"""Word and utterance times are integer milliseconds."""
PENDING = frozenset({"queued", "processing"})
_FLAGS = ("language_detection", "speaker_labels", "punctuate", "format_text")


@dataclass(frozen=True)
class AssemblyAI(RemoteProvider):
    """AssemblyAI pre-recorded transcription (``/v2/upload`` → ``/v2/transcript`` → poll).

    ``speech_model`` picks the model (sent as ``speech_models: [name]``, the spec's replacement
    for the deprecated ``speech_model``); None leaves AssemblyAI's default. ``language_code``
    overrides the per-request language (AssemblyAI codes: ``en``, ``en_us``, ``es``, ...; a
    BCP-47 tag such as ``en-US`` is sent as ``en_us``); ``language_detection=True`` sends no
    language and lets AssemblyAI detect it. ``speaker_labels``, ``punctuate`` and
    ``format_text`` are AssemblyAI's switches of the same names.

    ``poll_interval_s``, ``poll_timeout_s``, ``sleep`` and ``clock`` shape the wait for the job
    and never the transcript, so they stay out of the cache identity; ``sleep`` and ``clock``
    are hooks for tests (field metadata ``hook``), not user options.
    """

    speech_model: str | None = None
    language_code: str | None = None
    language_detection: bool = False
    speaker_labels: bool = False
    punctuate: bool = True
    format_text: bool = True
    poll_interval_s: float = POLL_INTERVAL_S
    poll_timeout_s: float = POLL_TIMEOUT_S
    sleep: Callable[[float], None] = field(
        default=time.sleep, repr=False, compare=False, metadata={"hook": True}
    )
    clock: Callable[[], float] = field(
        default=time.monotonic, repr=False, compare=False, metadata={"hook": True}
    )
    name: str = "assemblyai"

    KEY_VARIABLE: ClassVar[str] = "ASSEMBLYAI_API_KEY"
    API_VERSION: ClassVar[str] = "v2"
    DEFAULT_BASE_URL: ClassVar[str] = "https://api.assemblyai.com"
    MAX_UPLOAD_BYTES: ClassVar[int | None] = MAX_UPLOAD_BYTES
    OUTPUT_NEUTRAL: ClassVar[frozenset[str]] = RemoteProvider.OUTPUT_NEUTRAL | {
        "poll_interval_s",
        "poll_timeout_s",
        "sleep",
        "clock",
    }

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("speech_model", "language_code"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise ValueError(f"assemblyai: {name}={value!r} must be a non-empty name or None")
        for flag in _FLAGS:
            if not isinstance(getattr(self, flag), bool):
                raise ValueError(
                    f"assemblyai: {flag}={getattr(self, flag)!r} must be true or false"
                )
        if not self.poll_interval_s >= 0:
            raise ValueError(f"assemblyai: poll_interval_s={self.poll_interval_s} must be >= 0")
        if not self.poll_timeout_s > 0:
            raise ValueError(f"assemblyai: poll_timeout_s={self.poll_timeout_s} must be > 0")

    @property
    def model(self) -> str | None:
        """The model asked for (prices are looked up by it); None: AssemblyAI's default, which
        the sources do not name."""
        return self.speech_model

    def auth_headers(self, key: str) -> Mapping[str, str]:
        return {"Authorization": key}

    def job_request(
        self, audio_url: str, language: str | None, vocabulary: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        """The ``POST /v2/transcript`` body (`language`: the per-request language;
        `vocabulary`: phrases, sent as ``keyterms_prompt``, the spec's replacement for the
        removed ``word_boost``)."""
        body: dict[str, Any] = {
            "audio_url": audio_url,
            "speaker_labels": self.speaker_labels,
            "punctuate": self.punctuate,
            "format_text": self.format_text,
        }
        if self.language_detection:
            body["language_detection"] = True
        elif self.language_code or language:
            body["language_code"] = language_code(self.language_code or str(language))
        if self.speech_model:
            body["speech_models"] = [self.speech_model]
        if vocabulary:
            body["keyterms_prompt"] = list(vocabulary)
        return body

    def transcribe(self, audio: AudioClip, options: Mapping[str, Any] | None = None) -> Transcript:
        """Upload the clip (unless ``options["audio_url"]`` names audio AssemblyAI can fetch),
        create the job, wait for it and parse the completed transcript."""
        opts = request_options(options, self.name)
        client = self.client()
        audio_url = str(opts["audio_url"]) if opts.get("audio_url") else self.upload(client, audio)
        job = client.request(
            "POST",
            TRANSCRIPT_PATH,
            json_body=self.job_request(audio_url, opts.get("language"), requested(opts)),
            idempotent=False,
        ).json()
        return parse_transcript(self.wait(client, job))

    def upload(self, client: HttpClient, audio: AudioClip) -> str:
        """``POST /v2/upload`` the WAV; its ``upload_url``."""
        body = audio.to_wav_bytes()
        self.check_size(body)
        doc = client.request(
            "POST",
            UPLOAD_PATH,
            data=body,
            headers={"Content-Type": "application/octet-stream"},
            audio_s=audio.duration_s,
        ).json()
        url = doc.get("upload_url") if isinstance(doc, dict) else None
        if not isinstance(url, str) or not url:
            raise _malformed("an upload_url", "the upload", doc)
        return url

    def wait(self, client: HttpClient, job: Any) -> dict[str, Any]:
        """Poll the job every ``poll_interval_s`` until it completes (its document), fails
        (InputRejected with AssemblyAI's reason) or outlives ``poll_timeout_s`` (Transient)."""
        tid = job.get("id") if isinstance(job, dict) else None
        if not isinstance(tid, str) or not tid:
            raise _malformed("a transcript id", "the new job", job)
        deadline = self.clock() + self.poll_timeout_s
        doc = job
        while True:
            status = doc.get("status") if isinstance(doc, dict) else None
            if status == "completed":
                return doc
            if status == "error":
                reason = str(doc.get("error") or "no reason given")
                raise InputRejected(
                    scrub(
                        f"assemblyai: transcript {tid} failed: {reason} — AssemblyAI could not "
                        "transcribe this audio; resending it will not help"
                    ),
                    status=200,
                    provider_message=scrub(reason),
                )
            if status not in PENDING:
                raise _malformed("a known status", f"transcript {tid}", doc)
            remaining = deadline - self.clock()
            if remaining <= 0:
                raise TransientProviderError(
                    f"assemblyai: transcript {tid} was still {status!r} after the poll timeout "
                    f"of {self.poll_timeout_s:g} s — raise poll_timeout_s for long files, or "
                    "retry later (the job may still finish on AssemblyAI's side)"
                )
            self.sleep(min(self.poll_interval_s, remaining))
            doc = client.request("GET", f"{TRANSCRIPT_PATH}/{tid}").json()


def language_code(language: str) -> str:
    """A language as AssemblyAI spells it: lower case, ``_`` for ``-``.

    >>> language_code("en-US"), language_code("es")
    ('en_us', 'es')
    """
    return language.strip().lower().replace("-", "_")


def parse_transcript(doc: Any) -> Transcript:
    """A completed ``Transcript`` document → Transcript: ``text``, ``words`` (ms → s),
    ``utterances`` with a speaker as speaker turns (ms → s), ``language_code``.

    A completed job without a text is a PermanentProviderError, never an empty transcript;
    malformed word and utterance entries are dropped with a warning
    (:mod:`stt_eval.providers.response`).
    """
    tid = doc.get("id") if isinstance(doc, dict) else None
    text = doc.get("text") if isinstance(doc, dict) else None
    if not isinstance(text, str):
        raise _malformed("a text", f"completed transcript {tid}", doc)
    words = parse_words(doc.get("words"), text_keys=("text",), per_second=MS, speaker=_speaker)
    turns = parse_turns(doc.get("utterances"), per_second=MS, speaker=_speaker)
    language = doc.get("language_code")
    language = language if isinstance(language, str) and language else None
    return checked_transcript("assemblyai", text, words, turns, language=language, raw=doc)


def _speaker(entry: Mapping[str, Any]) -> str | None:
    """AssemblyAI's own letter (``"A"``), kept; null (no speaker_labels) is no speaker."""
    speaker = entry.get("speaker")
    return str(speaker) if speaker else None


def _malformed(what: str, where: str, doc: Any) -> PermanentProviderError:
    start = json.dumps(doc)[:200]
    return PermanentProviderError(
        f"assemblyai: {where} came back without {what} (an API change?); the answer starts {start}",
        status=200,
    )
