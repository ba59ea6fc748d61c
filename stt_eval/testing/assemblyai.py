"""A loopback AssemblyAI (upload → transcript job → poll) that follows the documented contract
(PROVIDER_CONTRACTS §4), for testing the client offline.

What the "model" heard comes from `backend(wav_bytes, request) -> Transcript`, called when a job
completes with the uploaded bytes and the ``POST /v2/transcript`` request (for a URL the server
did not issue, the bytes are empty and the URL is in ``request.json()["audio_url"]``). The server:

- requires ``Authorization: KEY`` (the bare key) or answers 401 ``{"error": ...}``;
- ``POST /v2/upload`` stores the raw body and answers ``{"upload_url": "https://cdn.assemblyai.com
  /upload/<token>"}`` (400 for an empty body);
- ``POST /v2/transcript`` checks the ``TranscriptParams`` body (``audio_url`` required, types of
  the fields it knows, no unknown fields — the removed ``word_boost``/``boost_param`` included)
  and answers the job with ``status: "queued"``; errors are 400 ``{"error": "..."}``;
- ``GET /v2/transcript/{id}`` answers ``queued`` on the first poll, ``processing`` until
  `polls_until_done` polls have been answered, then ``completed``: ``text``, ``words`` with
  integer **millisecond** times, speakers ``"A"``, ``"B"``, ... (by first appearance of the
  backend's labels) only with ``speaker_labels`` (else null), ``utterances`` (runs of one
  speaker) only with ``speaker_labels`` (else null), ``audio_duration`` in integer seconds,
  ``language_code``; ``punctuate=false`` strips punctuation, ``format_text=false`` lower-cases.
  Unknown ids get 404 ``{"error": ...}``.

Job faults: :meth:`AssemblyAIServer.fail_next_job` makes the next created job end as a 200 with
``status: "error"`` and the given reason (a non-WAV upload or an unknown upload URL fails the same
way by itself); :meth:`AssemblyAIServer.stall_next_job` makes it stay ``processing`` forever.
"""

from __future__ import annotations

import io
import json
import re
import threading
import uuid
import wave
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stt_eval.testing.server import LoopbackServer, Reply, Request
from stt_eval.types import Transcript

Backend = Callable[[bytes, Request], Transcript]

CDN = "https://cdn.assemblyai.com/upload/"
BOOLEAN_FIELDS = frozenset(
    {
        "language_detection",
        "punctuate",
        "format_text",
        "speaker_labels",
        "multichannel",
        "disfluencies",
        "filter_profanity",
        "redact_pii",
        "redact_pii_audio",
        "auto_highlights",
        "auto_chapters",
        "summarization",
        "sentiment_analysis",
        "entity_detection",
        "iab_categories",
        "content_safety",
        "speech_threshold_enabled",
    }
)
OTHER_FIELDS = frozenset(
    {
        "audio_url",
        "speech_models",
        "speech_model",
        "language_code",
        "speakers_expected",
        "speaker_options",
        "keyterms_prompt",
        "prompt",
        "temperature",
        "webhook_url",
        "webhook_auth_header_name",
        "webhook_auth_header_value",
        "audio_start_from",
        "audio_end_at",
        "redact_pii_policies",
        "redact_pii_sub",
        "redact_pii_audio_quality",
        "custom_spelling",
        "summary_model",
        "summary_type",
        "content_safety_confidence",
        "language_confidence_threshold",
        "speech_threshold",
    }
)
FIELDS = BOOLEAN_FIELDS | OTHER_FIELDS
"""``TranscriptParams`` fields this server accepts (PROVIDER_CONTRACTS §4.3); only the ones the
docstring names have an effect."""

REMOVED = frozenset({"word_boost", "boost_param"})
_PUNCT = re.compile(r"[^\w\s'-]")


def assemblyai_error(message: str) -> dict[str, str]:
    """AssemblyAI's documented error body."""
    return {"error": message}


@dataclass
class Job:
    """One transcript job: its request, audio, fate (complete, error or stall) and polls so far."""

    id: str
    params: dict[str, Any]
    request: Request
    audio: bytes | None
    fate: str = "complete"
    error: str | None = None
    polls: int = 0
    heard: Transcript | None = None


class AssemblyAIServer(LoopbackServer):
    """The loopback AssemblyAI API; ``jobs`` and ``uploads`` show what it was sent."""

    def __init__(
        self,
        backend: Backend,
        *,
        api_key: str = "test-key",
        per_minute: int | None = None,
        polls_until_done: int = 2,
    ) -> None:
        if polls_until_done < 0:
            raise ValueError(f"polls_until_done={polls_until_done} must be >= 0")
        self.backend = backend
        self.polls_until_done = polls_until_done
        self.uploads: dict[str, bytes] = {}
        self.jobs: dict[str, Job] = {}
        self._fates: deque[tuple[str, str | None]] = deque()
        self._state = threading.Lock()
        super().__init__(
            {
                ("POST", "/v2/upload"): self._upload,
                ("POST", "/v2/transcript"): self._create,
                ("GET", "/v2/transcript/*"): self._poll,
            },
            auth=("Authorization", api_key),
            unauthorized=assemblyai_error("Invalid API key"),
            per_minute=per_minute,
        )

    def fail_next_job(self, error: str = "Transcoding failed: the file does not contain audio"):
        """The next job created ends with ``status: "error"`` and this reason."""
        with self._state:
            self._fates.append(("error", error))

    def stall_next_job(self) -> None:
        """The next job created stays ``processing`` however often it is polled."""
        with self._state:
            self._fates.append(("stall", None))

    # ----------------------------------------------------------------------- routes

    def _upload(self, request: Request) -> Reply:
        if not request.body:
            return Reply(400, assemblyai_error("Upload body is empty; send the audio bytes"))
        token = uuid.uuid4().hex
        with self._state:
            self.uploads[token] = request.body
        return Reply(200, {"upload_url": CDN + token})

    def _create(self, request: Request) -> Reply:
        try:
            params = json.loads(request.body)
        except ValueError as exc:
            return Reply(400, assemblyai_error(f"Request body is not valid JSON: {exc}"))
        problem = check_params(params)
        if problem:
            return Reply(400, assemblyai_error(problem))
        url = params["audio_url"]
        with self._state:
            fate, error = self._fates.popleft() if self._fates else ("complete", None)
            audio: bytes | None = b""
            if url.startswith(CDN):
                audio = self.uploads.get(url[len(CDN) :])
            if audio is None and fate == "complete":
                fate, error = "error", f"Download error, unable to download {url}"
            job = Job(str(uuid.uuid4()), params, request, audio, fate, error)
            self.jobs[job.id] = job
        return Reply(200, transcript_document(job, "queued"))

    def _poll(self, request: Request) -> Reply:
        tid = request.path.rsplit("/", 1)[-1]
        with self._state:
            job = self.jobs.get(tid)
            if job is None:
                return Reply(404, assemblyai_error(f"Transcript {tid} not found"))
            job.polls += 1
            if job.fate == "stall" or job.polls <= self.polls_until_done:
                return Reply(
                    200, transcript_document(job, "queued" if job.polls == 1 else "processing")
                )
            if job.fate == "complete" and job.audio and _wav_seconds(job.audio) is None:
                job.fate, job.error = "error", "Transcoding failed: the file does not contain audio"
            if job.fate == "error":
                return Reply(200, transcript_document(job, "error"))
            if job.heard is None:
                job.heard = self.backend(job.audio or b"", job.request)
            return Reply(200, transcript_document(job, "completed"))


def assemblyai_server(
    backend: Backend,
    *,
    api_key: str = "test-key",
    per_minute: int | None = None,
    polls_until_done: int = 2,
) -> AssemblyAIServer:
    """A loopback AssemblyAI answering what `backend` heard in AssemblyAI's shapes."""
    return AssemblyAIServer(
        backend, api_key=api_key, per_minute=per_minute, polls_until_done=polls_until_done
    )


def check_params(params: Any) -> str | None:
    """What is wrong with a ``POST /v2/transcript`` body, or None."""
    if not isinstance(params, dict):
        return "Request body must be a JSON object"
    removed = sorted(set(params) & REMOVED)
    if removed:
        return f"Unknown field(s) {removed}: removed from the API; use keyterms_prompt"
    unknown = sorted(set(params) - FIELDS)
    if unknown:
        return f"Unknown field(s) {unknown}"
    if not isinstance(params.get("audio_url"), str) or not params["audio_url"].strip():
        return "audio_url is required"
    for name in sorted(set(params) & BOOLEAN_FIELDS):
        if not isinstance(params[name], bool):
            return f"{name} must be a boolean, got {params[name]!r}"
    for name in ("language_code", "speech_model"):
        value = params.get(name)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            return f"{name} must be a non-empty string or null, got {value!r}"
    models = params.get("speech_models")
    if models is not None and (
        not isinstance(models, list)
        or not models
        or not all(isinstance(m, str) and m.strip() for m in models)
    ):
        return f"speech_models must be a non-empty list of model names, got {models!r}"
    expected = params.get("speakers_expected")
    if expected is not None and (isinstance(expected, bool) or not isinstance(expected, int)):
        return f"speakers_expected must be an integer or null, got {expected!r}"
    return None


def transcript_document(job: Job, status: str) -> dict[str, Any]:
    """The ``Transcript`` object of a job in this status (schema-required keys always there;
    results null until ``completed``)."""
    p = job.params
    models = p.get("speech_models")
    doc: dict[str, Any] = {
        "id": job.id,
        "status": status,
        "audio_url": p["audio_url"],
        "speech_model": p.get("speech_model"),
        "speech_models": models,
        "language_model": "assemblyai_default",
        "acoustic_model": "assemblyai_default",
        "language_code": p.get("language_code", None if p.get("language_detection") else "en_us"),
        "language_detection": p.get("language_detection", False),
        "punctuate": p.get("punctuate", True),
        "format_text": p.get("format_text", True),
        "speaker_labels": p.get("speaker_labels", False),
        "webhook_auth": False,
        "auto_highlights": p.get("auto_highlights", False),
        "redact_pii": p.get("redact_pii", False),
        "summarization": p.get("summarization", False),
        "language_confidence_threshold": p.get("language_confidence_threshold"),
        "language_confidence": None,
        "text": None,
        "words": None,
        "utterances": None,
        "confidence": None,
        "audio_duration": None,
        "error": None,
    }
    if status == "error":
        doc["error"] = job.error
    if status != "completed" or job.heard is None:
        return doc
    heard = job.heard
    dress = _dresser(doc["punctuate"], doc["format_text"])
    letters: dict[str | None, str] = {}
    words = []
    for w in heard.words:
        speaker = None
        if doc["speaker_labels"]:
            speaker = letters.setdefault(w.speaker, speaker_letter(len(letters)))
        words.append(
            {
                "text": dress(w.text),
                "start": round(w.start * 1000),
                "end": round(w.end * 1000),
                "confidence": 1.0 if w.confidence is None else w.confidence,
                "speaker": speaker,
                "channel": None,
            }
        )
    duration = _wav_seconds(job.audio) if job.audio else None
    if duration is None:
        duration = max((w.end for w in heard.words), default=0.0)
    doc.update(
        text=dress(heard.text),
        words=words,
        utterances=_utterances(words) if doc["speaker_labels"] else None,
        confidence=_mean(w["confidence"] for w in words),
        audio_duration=int(round(duration)),
        speech_model_used=models[0] if models else p.get("speech_model") or "universal",
    )
    if p.get("language_detection"):
        doc["language_code"] = heard.language or "en"
        doc["language_confidence"] = 0.99
    return doc


def speaker_letter(index: int) -> str:
    """AssemblyAI's speaker labels: 0 → ``A``, 25 → ``Z``, 26 → ``AA``.

    >>> speaker_letter(0), speaker_letter(1), speaker_letter(26)
    ('A', 'B', 'AA')
    """
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _utterances(words: list[dict[str, Any]]) -> list[dict[str, Any]]:
    runs: list[list[dict[str, Any]]] = []
    for w in words:
        if runs and runs[-1][-1]["speaker"] == w["speaker"]:
            runs[-1].append(w)
        else:
            runs.append([w])
    return [
        {
            "speaker": run[0]["speaker"],
            "start": run[0]["start"],
            "end": run[-1]["end"],
            "confidence": _mean(w["confidence"] for w in run),
            "text": " ".join(w["text"] for w in run),
            "words": run,
            "channel": None,
        }
        for run in runs
    ]


def _dresser(punctuate: bool, format_text: bool) -> Callable[[str], str]:
    def dress(text: str) -> str:
        if not punctuate:
            text = " ".join(_PUNCT.sub("", text).split())
        return text if format_text else text.lower()

    return dress


def _wav_seconds(body: bytes) -> float | None:
    try:
        with wave.open(io.BytesIO(body)) as w:
            return w.getnframes() / w.getframerate()
    except (wave.Error, EOFError, ValueError):
        return None


def _mean(values: Any) -> float:
    values = list(values)
    return sum(values) / len(values) if values else 0.0
