"""A loopback Smallest.ai Pulse server that follows the documented contract (PROVIDER_CONTRACTS §1).

Both pre-recorded endpoints are served: legacy ``POST /waves/v1/pulse/get_text`` and unified
``POST /waves/v1/stt/?model=pulse|pulse-pro``. The server checks ``Authorization: Bearer KEY``
(401 ``{"message": "Unauthorized: No tokens provided"}`` without the header, ``{"error":
"unauthorized"}`` with a wrong key), rejects unknown parameters and invalid values with the
documented 400 body, and answers in the documented shape from what `backend` heard:
``words``/``utterances`` only with ``word_timestamps=true``, integer 0-based ``speaker`` only with
``diarize=true``, no top-level ``language`` for Pulse, Pulse Pro's own shape for ``pulse-pro``.

The contract's constants are written here again, not imported from the client, so a client
mistake shows up as a rejected request. ``gender_detection``/``emotion_detection`` are accepted
but add nothing; ``webhook_url`` gets the documented asynchronous ``{"status": "processing"}``.
A URL (``{"url"}`` body) is fetched only from a loopback address (tests serve the audio from a
second :class:`LoopbackServer`); anything else is an unreachable URL.
"""

from __future__ import annotations

import io
import json
import urllib.request
import uuid
from collections.abc import Callable
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import soundfile as sf

from stt_eval.testing.server import Fault, LoopbackServer, Reply, Request
from stt_eval.types import Transcript, Word

Backend = Callable[[bytes, Request], Transcript]
"""What the "model" heard in the received audio (the WAV bytes and the request)."""

LEGACY = "/waves/v1/pulse/get_text"
UNIFIED = "/waves/v1/stt/"
LANGUAGES = frozenset(
    "en hi de es ru it fr nl pt uk pl cs sk lv et ro fi sv bg hu da lt mt zh ja ko "
    "multi-eu multi-asian multi-indic".split()
)
ENCODINGS = frozenset({"linear16", "linear32", "alaw", "mulaw", "opus", "ogg_opus"})
FLAGS = frozenset(
    {
        "word_timestamps",
        "diarize",
        "gender_detection",
        "emotion_detection",
        "format",
        "punctuate",
        "capitalize",
    }
)
LEGACY_PARAMS = FLAGS | {"language", "encoding", "webhook_url", "webhook_extra"}
UNIFIED_PARAMS = LEGACY_PARAMS | {"model", "redact_pii", "redact_pci", "webhook_method"}
IGNORED = frozenset({"age_detection"})  # removed 2026-05: "the parameter is now ignored"
MAX_BYTES = 250_000_000
NO_TOKEN = {"message": "Unauthorized: No tokens provided"}
BAD_KEY = {"error": "unauthorized"}


def legacy_error(errors: str) -> dict[str, Any]:
    """The legacy endpoint's 400 body."""
    return {"errors": errors, "status": "error", "message": "Error handling audio data"}


def unified_error(error: str) -> dict[str, Any]:
    """The unified endpoint's error body (``SttErrorResponse``)."""
    return {"error": error, "request_id": str(uuid.uuid4())}


UNIFIED_BODIES = {
    401: "Unauthorized",
    403: "Plan does not include access to the requested model.",
    413: "File size exceeds maximum limit of 250MB.",
    429: "Rate limit exceeded. Please retry after a short backoff.",
    503: "Worker temporarily unavailable.",
}


def pulse_fault(status: int, *, unified: bool = False, retry_after: str | None = None) -> Fault:
    """A fault with the documented body for `status` on the legacy or unified endpoint."""
    if unified:
        body = unified_error(UNIFIED_BODIES.get(status, "Internal server error"))
    elif status == 400:
        body = legacy_error("Audio data too large")
    elif status == 401:
        body = BAD_KEY
    elif status == 429:
        body = {"error": "Too Many Requests"}  # undocumented on the legacy endpoint
    else:
        body = {"error": "Internal server error"}
    return Fault(status=status, body=body, retry_after=retry_after)


class _PulseServer(LoopbackServer):
    """LoopbackServer with Pulse's own 401 and 429 bodies (the base has one body for each)."""

    def handle(self, request: Request, auth_value: str | None) -> Reply:
        reply = super().handle(request, auth_value)
        unified = request.path == UNIFIED
        if reply.status == 401 and reply.body is self.unauthorized:
            if unified:
                return Reply(401, unified_error("Unauthorized"))
            return Reply(401, NO_TOKEN if auth_value is None else BAD_KEY)
        if reply.status == 429 and reply.body == {"error": "rate limit exceeded"} and unified:
            return Reply(429, unified_error(UNIFIED_BODIES[429]), reply.headers)
        return reply


def pulse_server(
    backend: Backend, *, api_key: str = "test-key", per_minute: int | None = None
) -> LoopbackServer:
    """A Pulse server on 127.0.0.1 answering from `backend`; use it as a context manager."""
    routes = {
        ("POST", LEGACY): partial(_transcribe, backend, False),
        ("POST", UNIFIED): partial(_transcribe, backend, True),
    }
    return _PulseServer(
        routes,
        auth=("Authorization", f"Bearer {api_key}"),
        unauthorized=BAD_KEY,
        per_minute=per_minute,
    )


def _header(request: Request, name: str) -> str:
    for key, value in request.headers.items():
        if key.lower() == name.lower():
            return value
    return ""


def _check_query(request: Request, unified: bool) -> str | None:
    """What is wrong with the query parameters, if anything."""
    allowed = UNIFIED_PARAMS if unified else LEGACY_PARAMS
    unknown = sorted(set(request.query) - allowed - IGNORED)
    if unknown:
        return f"Invalid query parameter(s): {', '.join(unknown)}"
    for name, values in request.query.items():
        if len(values) > 1:
            return f"Query parameter {name} given {len(values)} times"
        if name in FLAGS | {"redact_pii", "redact_pci"} and values[0] not in ("true", "false"):
            return f"Invalid value for {name}: {values[0]!r} (expected 'true' or 'false')"
    model = request.param("model")
    if unified and model not in ("pulse", "pulse-pro"):
        return f"Invalid model query parameter {model!r}. Supported values: pulse | pulse-pro."
    language = request.param("language")
    if unified and language is None:
        return "Missing required query param: language."
    if language is not None and language not in LANGUAGES:
        return f"Unsupported language {language!r}"
    encoding = request.param("encoding")
    if encoding is not None and encoding not in ENCODINGS:
        return f"Invalid encoding {encoding!r}"
    if request.param("webhook_method") not in (None, "GET", "POST"):
        return "Invalid webhook_method (expected GET or POST)"
    if unified and model != "pulse-pro":
        for name in ("webhook_url", "webhook_method", "webhook_extra"):
            if request.param(name) is not None:
                return f"{name} is supported with model=pulse-pro only"
    return None


def _fetch(url: Any) -> tuple[bytes, str] | None:
    """The audio at a loopback URL and its file name, or None if unreachable."""
    if not isinstance(url, str):
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.hostname not in ("127.0.0.1", "localhost"):
        return None
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # loopback only
            return response.read(), parts.path.rsplit("/", 1)[-1] or "audio"
    except OSError:
        return None


def _transcribe(backend: Backend, unified: bool, request: Request) -> Reply:
    def error(status: int, text: str) -> Reply:
        return Reply(status, unified_error(text) if unified else legacy_error(text))

    problem = _check_query(request, unified)
    if problem:
        return error(400, problem)
    model = request.param("model", "pulse") if unified else "pulse"
    pro = model == "pulse-pro"
    content_type = _header(request, "Content-Type").split(";")[0].strip().lower()
    filename = None
    if content_type == "application/json":
        if pro:
            return error(400, "Audio-by-URL is not supported with model=pulse-pro")
        try:
            url = json.loads(request.body).get("url")
        except (ValueError, AttributeError):
            url = None
        if not isinstance(url, str) or not url:
            return error(400, "Invalid JSON data: missing or invalid 'url' field")
        fetched = _fetch(url)
        if fetched is None:
            return error(400, f"Could not download audio from url {url!r}")
        audio, filename = fetched
    elif content_type == "application/octet-stream" or content_type.startswith("audio/"):
        audio = request.body
    else:
        return error(400, "Invalid file format. Supported formats: audio/*")
    if len(audio) > MAX_BYTES:
        if unified:
            return Reply(413, unified_error(UNIFIED_BODIES[413]))
        return error(400, "Audio data too large")
    try:
        duration = sf.info(io.BytesIO(audio)).duration
    except RuntimeError:  # libsndfile: not audio
        return error(400, "Invalid file format. Supported formats: audio/*")
    if request.param("webhook_url") is not None:
        return Reply(200, {"status": "processing", "request_id": str(uuid.uuid4())})
    try:
        transcript = backend(audio, request)
    except Exception:  # the model failed: the documented 500
        return Reply(500, {"error": "Internal server error"})
    stamps = request.param("word_timestamps") == "true"
    diarize = request.param("diarize") == "true" and not pro
    if pro:
        return Reply(200, _pro_body(transcript, request, stamps, duration, len(audio)))
    metadata: dict[str, Any] = {"duration": duration, "fileSize": len(audio)}
    if filename is not None:
        metadata["filename"] = filename
    words = _words(transcript, diarize) if stamps else []
    return Reply(
        200,
        {
            "status": "success",
            "transcription": transcript.text,
            "words": words,
            "utterances": _utterances(words) if stamps else [],
            "metadata": metadata,
        },
    )


def _pro_body(
    t: Transcript, request: Request, stamps: bool, duration: float, size: int
) -> dict[str, Any]:
    """Pulse Pro's shape: language and request_id on top, no utterances, words without speakers."""
    return {
        "status": "success",
        "transcription": t.text,
        "words": _words(t, False) if stamps else [],
        "language": request.param("language"),
        "metadata": {
            "duration": duration,
            "processing_time_ms": 12.5,
            "rtfx": 40.0,
            "num_chunks": 1,
        },
        "request_id": str(uuid.uuid4()),
        "totalBytes": size,
    }


def _speaker_of(word: Word, t: Transcript) -> str:
    """The word's speaker, else the turn overlapping it most, else a single speaker."""
    if word.speaker:
        return word.speaker
    best, overlap = "", 0.0
    for turn in t.turns:
        shared = min(turn.end, word.end) - max(turn.start, word.start)
        if shared > overlap:
            best, overlap = turn.speaker, shared
    return best


def _words(t: Transcript, diarize: bool) -> list[dict[str, Any]]:
    """Documented word objects; speakers as 0-based ints in order of first appearance."""
    ids: dict[str, int] = {}
    out = []
    for w in t.words:
        entry: dict[str, Any] = {"word": w.text, "start": w.start, "end": w.end}
        if w.confidence is not None:
            entry["confidence"] = w.confidence
        if diarize:
            entry["speaker"] = ids.setdefault(_speaker_of(w, t), len(ids))
            entry["speaker_confidence"] = 1.0
        out.append(entry)
    return out


def _utterances(words: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Sentence-level utterances: a new one after . ? ! and at every change of speaker."""
    out: list[dict[str, Any]] = []
    current: list[dict[str, Any]] = []
    for i, w in enumerate(words):
        current.append(w)
        following = words[i + 1] if i + 1 < len(words) else None
        if (
            following is None
            or w["word"].endswith((".", "?", "!"))
            or following.get("speaker") != w.get("speaker")
        ):
            utterance = {
                "text": " ".join(x["word"] for x in current),
                "start": current[0]["start"],
                "end": max(x["end"] for x in current),
            }
            if "speaker" in w:
                utterance["speaker"] = w["speaker"]
            out.append(utterance)
            current = []
    return out
