"""A loopback OpenAI-compatible transcription server (PROVIDER_CONTRACTS §2), and a backend that
runs the real local faster-whisper engine on what it receives.

``POST /v1/audio/transcriptions`` takes the documented multipart form (parsed here, no extra
dependency), checks ``Authorization: Bearer KEY`` and the form the way the schema does
(``additionalProperties: false``: an unknown field is a 400 naming it; ``file`` and ``model``
required; ``response_format`` and ``timestamp_granularities[]`` values and combinations; gpt-4o
models json only; the diarize model's own rules) and answers ``json``, ``text``, ``srt``,
``vtt``, ``verbose_json`` (``words`` only with ``word``, ``segments`` only with ``segment``,
segments alone when no granularity is named, language as an English name) or
``diarized_json``. Errors have the documented body ``{"error": {message, type, param, code}}``;
over 25 MiB is a 413 (the status is unconfirmed in the sources). ``stream`` is accepted and
ignored (as for whisper-1).
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from functools import partial
from typing import Any

import numpy as np
import soundfile as sf

from stt_eval.providers.openai import LANGUAGE_CODES
from stt_eval.testing.server import Fault, LoopbackServer, Reply, Request
from stt_eval.types import Transcript, Word

Backend = Callable[[bytes, Request], Transcript]
"""What the "model" heard in the received audio (the WAV bytes and the request)."""

PATH = "/v1/audio/transcriptions"
MAX_BYTES = 25 * 1024 * 1024
FIELDS = frozenset(
    {
        "file",
        "model",
        "language",
        "prompt",
        "response_format",
        "temperature",
        "stream",
        "chunking_strategy",
    }
)
ARRAYS = frozenset(
    {
        "timestamp_granularities[]",
        "include[]",
        "known_speaker_names[]",
        "known_speaker_references[]",
        "keywords[]",
        "languages[]",
    }
)
FORMATS = ("json", "text", "srt", "verbose_json", "vtt", "diarized_json")
EXTENSIONS = ("flac", "mp3", "mp4", "mpeg", "mpga", "m4a", "ogg", "wav", "webm")
JSON_ONLY = ("gpt-4o-transcribe", "gpt-4o-mini-transcribe", "gpt-4o-mini-transcribe-2025-12-15")
DIARIZE = "gpt-4o-transcribe-diarize"
LANGUAGE_NAMES = {code: name for name, code in LANGUAGE_CODES.items()}
ERROR_TYPES = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    413: ("invalid_request_error", None),
    429: ("rate_limit_exceeded", "rate_limit_exceeded"),
    500: ("server_error", None),
    503: ("server_error", None),
}


def openai_error(
    message: str,
    type: str = "invalid_request_error",
    param: str | None = None,
    code: str | None = None,
) -> dict[str, Any]:
    """The documented error body: all four keys, ``param``/``code`` null when unknown."""
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def openai_fault(status: int, *, retry_after: str | None = None, message: str = "") -> Fault:
    """A fault with the documented error body for `status`."""
    kind, code = ERROR_TYPES.get(status, ("server_error", None))
    said = message or f"Simulated HTTP {status} from the loopback server."
    return Fault(status=status, body=openai_error(said, kind, None, code), retry_after=retry_after)


BAD_KEY = openai_error("Incorrect API key provided.", code="invalid_api_key")
NO_KEY = openai_error(
    "You didn't provide an API key. You need to provide your API key in an Authorization header "
    "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
)


class _OpenAIServer(LoopbackServer):
    """LoopbackServer with OpenAI's 401 and 429 bodies (the base has one body for each)."""

    def handle(self, request: Request, auth_value: str | None) -> Reply:
        reply = super().handle(request, auth_value)
        if reply.status == 401 and reply.body is self.unauthorized and auth_value is None:
            return Reply(401, NO_KEY)
        if reply.status == 429 and reply.body == {"error": "rate limit exceeded"}:
            said = "Rate limit reached for requests per minute. Please try again shortly."
            body = openai_error(said, "rate_limit_exceeded", None, "rate_limit_exceeded")
            return Reply(429, body, reply.headers)
        return reply


def openai_server(
    backend: Backend, *, api_key: str = "test-key", per_minute: int | None = None
) -> LoopbackServer:
    """An OpenAI-compatible server on 127.0.0.1 answering from `backend` (base URL: its ``url``
    + ``/v1``); use it as a context manager."""
    return _OpenAIServer(
        {("POST", PATH): partial(_transcribe, backend)},
        auth=("Authorization", f"Bearer {api_key}"),
        unauthorized=BAD_KEY,
        per_minute=per_minute,
    )


# --------------------------------------------------------------------------- multipart


@dataclass(frozen=True)
class Part:
    """One multipart/form-data part."""

    name: str
    filename: str | None
    content_type: str | None
    data: bytes


def parse_multipart(body: bytes, content_type: str) -> list[Part]:
    """The parts of a multipart/form-data body (RFC 7578); ValueError if it is not one.

    >>> body = (b'--xyz\\r\\nContent-Disposition: form-data; name="model"\\r\\n\\r\\nwhisper-1'
    ...         b'\\r\\n--xyz--\\r\\n')
    >>> parse_multipart(body, "multipart/form-data; boundary=xyz")[0].data
    b'whisper-1'
    """
    header = BytesHeaderParser().parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode())
    boundary = header.get_param("boundary")
    if header.get_content_type() != "multipart/form-data" or not isinstance(boundary, str):
        raise ValueError(f"expected multipart/form-data with a boundary, got {content_type!r}")
    pieces = (b"\r\n" + body).split(b"\r\n--" + boundary.encode())
    if len(pieces) < 2 or not pieces[-1].startswith(b"--"):
        raise ValueError("the multipart body has no closing boundary")
    parts = []
    for piece in pieces[1:-1]:
        head, sep, data = piece.partition(b"\r\n\r\n")
        if not sep:
            raise ValueError("a multipart part has no blank line after its headers")
        headers = BytesHeaderParser().parsebytes(head.lstrip(b" \t").lstrip(b"\r\n") + b"\r\n\r\n")
        name = headers.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            raise ValueError("a multipart part has no name")
        filename = headers.get_param("filename", header="content-disposition")
        parts.append(
            Part(
                name,
                filename if isinstance(filename, str) else None,
                headers.get("Content-Type"),
                data,
            )
        )
    return parts


def _content_type(request: Request) -> str:
    return next((v for k, v in request.headers.items() if k.lower() == "content-type"), "")


def form_fields(request: Request) -> dict[str, list[str]]:
    """The text fields of a transcription request's form (for backends that need them)."""
    fields: dict[str, list[str]] = {}
    for part in parse_multipart(request.body, _content_type(request)):
        if part.filename is None:
            fields.setdefault(part.name, []).append(part.data.decode("utf-8", errors="replace"))
    return fields


# --------------------------------------------------------------------------- the route


def _bad(message: str, param: str | None = None) -> Reply:
    return Reply(400, openai_error(message, param=param))


def _check_form(form: dict[str, list[str]]) -> Reply | None:
    """A 400 for what the schema rejects, else None."""
    for name, values in form.items():
        if name not in FIELDS | ARRAYS:
            return _bad(f"Unrecognized request argument supplied: {name}", name)
        if name not in ARRAYS and len(values) > 1:
            return _bad(f"'{name}' was given {len(values)} times", name)
    model = (form.get("model") or [""])[0]
    if not model:
        return _bad("you must provide a model parameter", "model")
    fmt = (form.get("response_format") or ["json"])[0]
    if fmt not in FORMATS:
        return _bad(f"'{fmt}' is not one of {list(FORMATS)} - 'response_format'", "response_format")
    if model in JSON_ONLY and fmt != "json":
        return _bad(
            f"response_format '{fmt}' is not compatible with model '{model}'. Use 'json'.",
            "response_format",
        )
    if model == DIARIZE and fmt not in ("json", "text", "diarized_json"):
        return _bad(
            f"response_format '{fmt}' is not compatible with model '{model}'.", "response_format"
        )
    if fmt == "diarized_json" and model != DIARIZE:
        return _bad(f"response_format 'diarized_json' needs model '{DIARIZE}'.", "response_format")
    granularities = form.get("timestamp_granularities[]", [])
    if any(g not in ("word", "segment") for g in granularities):
        return _bad(
            "timestamp_granularities[] must be 'word' or 'segment'", "timestamp_granularities[]"
        )
    if granularities and fmt != "verbose_json":
        return _bad(
            "timestamp_granularities[] requires response_format=verbose_json",
            "timestamp_granularities[]",
        )
    if model == DIARIZE and "prompt" in form:
        return _bad(f"prompt is not supported with model '{model}'", "prompt")
    if form.get("include[]") and (model not in JSON_ONLY or form["include[]"] != ["logprobs"]):
        return _bad("include[] ['logprobs'] works only with gpt-4o(-mini)-transcribe", "include[]")
    try:
        temperature = float((form.get("temperature") or ["0"])[0])
    except ValueError:
        temperature = math.nan
    if not 0 <= temperature <= 1:
        return _bad("temperature must be a number between 0 and 1", "temperature")
    language = (form.get("language") or [None])[0]
    if language is not None and not re.fullmatch(r"[a-z]{2}", language):
        return _bad(
            f"Invalid language '{language}'. Language parameter must be specified in "
            "ISO-639-1 format.",
            "language",
        )
    if (form.get("stream") or ["false"])[0] not in ("true", "false"):
        return _bad("stream must be true or false", "stream")
    return None


def _transcribe(backend: Backend, request: Request) -> Reply:
    if len(request.body) > MAX_BYTES:
        return Reply(413, openai_error(f"Maximum content size limit ({MAX_BYTES}) exceeded."))
    try:
        parts = parse_multipart(request.body, _content_type(request))
    except ValueError as exc:
        return _bad(f"Could not parse multipart form: {exc}")
    form: dict[str, list[str]] = {}
    files = [p for p in parts if p.filename is not None]
    for p in parts:
        form.setdefault(p.name, []).append(
            "" if p.filename is not None else p.data.decode("utf-8", errors="replace")
        )
    problem = _check_form(form)
    if problem is not None:
        return problem
    upload = next((p for p in files if p.name == "file"), None)
    if upload is None:
        return _bad("you must provide a file parameter", "file")
    extension = (upload.filename or "").rsplit(".", 1)[-1].lower()
    if "." not in (upload.filename or "") or extension not in EXTENSIONS:
        return _bad(f"Invalid file format. Supported formats: {list(EXTENSIONS)}", "file")
    try:
        duration = sf.info(io.BytesIO(upload.data)).duration
    except RuntimeError:  # libsndfile: not audio
        return _bad("Audio file might be corrupted or unsupported", "file")
    try:
        transcript = backend(upload.data, request)
    except Exception:  # the model failed: a server error in the documented shape
        return Reply(
            500, openai_error("The server had an error processing your request.", "server_error")
        )
    fmt = (form.get("response_format") or ["json"])[0]
    return _answer(transcript, fmt, form, duration)


# --------------------------------------------------------------------------- the answer


def _segments(t: Transcript, duration: float) -> list[dict[str, Any]]:
    """The backend's own segments if it kept them (faster-whisper does), else sentences."""
    raw = t.raw.get("segments") if isinstance(t.raw, Mapping) else None
    spans: list[tuple[float, float, str, float]] = []
    if isinstance(raw, list) and raw:
        spans = [(s["start"], s["end"], s["text"], s.get("avg_logprob", -0.3)) for s in raw]
    elif t.words:
        current: list[Word] = []
        for i, w in enumerate(t.words):
            current.append(w)
            if i + 1 == len(t.words) or w.text.endswith((".", "?", "!")):
                text = " ".join(x.text for x in current)
                spans.append((current[0].start, current[-1].end, text, -0.3))
                current = []
    elif t.text:
        spans = [(0.0, duration, t.text, -0.3)]
    return [
        {
            "id": i,
            "seek": 0,
            "start": a,
            "end": b,
            "text": " " + text.strip(),
            "tokens": [],
            "temperature": 0.0,
            "avg_logprob": logprob,
            "compression_ratio": 1.2,
            "no_speech_prob": 0.01,
        }
        for i, (a, b, text, logprob) in enumerate(spans)
    ]


def _clock(seconds: float, sep: str) -> str:
    ms = round(seconds * 1000)
    return (
        f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}{sep}{ms % 1000:03d}"
    )


def _answer(t: Transcript, fmt: str, form: dict[str, list[str]], duration: float) -> Reply:
    usage = {"type": "duration", "seconds": math.ceil(duration)}
    if fmt == "json":
        return Reply(200, {"text": t.text, "usage": usage})
    if fmt == "text":
        return Reply(200, (t.text + "\n").encode())
    segments = _segments(t, duration)
    if fmt in ("srt", "vtt"):
        sep = "," if fmt == "srt" else "."
        cues = [
            ("" if fmt == "vtt" else f"{i + 1}\n")
            + f"{_clock(s['start'], sep)} --> {_clock(s['end'], sep)}\n{s['text'].strip()}\n"
            for i, s in enumerate(segments)
        ]
        return Reply(200, (("WEBVTT\n\n" if fmt == "vtt" else "") + "\n".join(cues)).encode())
    if fmt == "diarized_json":
        labels: dict[str, str] = {}
        out = []
        for w in t.words:
            speaker = labels.setdefault(w.speaker or "", chr(ord("A") + len(labels) % 26))
            if out and out[-1]["speaker"] == speaker:
                out[-1]["end"], out[-1]["text"] = w.end, out[-1]["text"] + " " + w.text
            else:
                out.append(
                    {
                        "type": "transcript.text.segment",
                        "id": f"seg_{len(out) + 1:03d}",
                        "start": w.start,
                        "end": w.end,
                        "text": w.text,
                        "speaker": speaker,
                    }
                )
        body = {"task": "transcribe", "duration": duration, "text": t.text, "segments": out}
        return Reply(200, {**body, "usage": usage})
    granularities = form.get("timestamp_granularities[]") or ["segment"]
    body: dict[str, Any] = {
        "task": "transcribe",
        "language": LANGUAGE_NAMES.get(t.language or "", t.language or "english"),
        "duration": duration,
        "text": t.text,
    }
    if "word" in granularities:
        body["words"] = [{"word": w.text, "start": w.start, "end": w.end} for w in t.words]
    if "segment" in granularities:
        body["segments"] = segments
    return Reply(200, {**body, "usage": usage})


# --------------------------------------------------------------------------- a real engine


def faster_whisper_backend(model: str = "tiny.en", **options: Any) -> Backend:
    """A backend that runs the local faster-whisper engine on the received audio (decoded with
    soundfile; the form's ``language`` is passed on), so the HTTP path returns real transcripts
    offline."""
    from stt_eval.audio.load import TARGET_RATE, AudioClip, normalize
    from stt_eval.providers.faster_whisper import FasterWhisper

    engine = FasterWhisper(model=model, **options)

    def backend(audio: bytes, request: Request) -> Transcript:
        samples, rate = sf.read(io.BytesIO(audio), dtype="float32", always_2d=True)
        mono = np.asarray(samples.mean(axis=1), dtype=np.float32)
        clip = AudioClip(mono, rate) if rate == TARGET_RATE else normalize(mono, rate)
        language = (form_fields(request).get("language") or [None])[0]
        return engine.transcribe(clip, {"language": language} if language else {})

    return backend
