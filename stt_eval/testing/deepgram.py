"""A loopback Deepgram ``POST /v1/listen`` that follows the documented contract (PROVIDER_CONTRACTS
§3), for testing the client offline.

What the "model" heard comes from `backend(wav_bytes, request) -> Transcript` (in URL mode the
bytes are empty and the URL is in ``request.json()["url"]``); the server dresses it the way
Deepgram does:

- ``Authorization: Token KEY`` or 401; the query parameters of the spec's list only (booleans
  ``true``/``false``, a BCP-47 ``language``, a known ``encoding``), anything else a 400 in the
  documented ``{"err_code", "err_msg", "request_id"}`` shape;
- a raw-audio body (this fake decodes WAV only; anything else gets the documented 400
  "failed to process audio: corrupt or unsupported data"), or ``Content-Type: application/json``
  with ``{"url"}`` (malformed JSON gets the documented ``{"category": "INVALID_JSON", ...}``);
- ``words`` always; ``punctuated_word`` only with ``punctuate`` or ``smart_format`` (``word`` is
  the lower-case unpunctuated form, as is ``transcript`` without them); integer 0-based
  ``speaker`` (by first appearance of the backend's labels) only with ``diarize=true``;
  ``results.utterances`` only with ``utterances=true`` (split on a change of speaker or a pause
  over ``utt_split``, default 0.8 s); ``detected_language`` only with ``detect_language=true``;
- ``callback=URL``: the documented ``{"request_id"}`` acknowledgement instead of a transcript.

Other documented parameters are accepted and have no effect. 401 and 429 bodies are not
documented by Deepgram; this server uses the ``err_code``/``err_msg`` shape for them too.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import uuid
import wave
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from stt_eval.testing.server import LoopbackServer, Reply, Request
from stt_eval.types import Transcript

Backend = Callable[[bytes, Request], Transcript]

BOOLEAN_PARAMS = frozenset(
    {
        "punctuate",
        "smart_format",
        "diarize",
        "utterances",
        "paragraphs",
        "multichannel",
        "numerals",
        "measurements",
        "dictation",
        "filler_words",
        "profanity_filter",
        "mip_opt_out",
        "sentiment",
        "topics",
        "intents",
        "detect_entities",
    }
)
OTHER_PARAMS = frozenset(
    {
        "model",
        "language",
        "detect_language",
        "diarize_model",
        "utt_split",
        "redact",
        "replace",
        "search",
        "keywords",
        "keyterm",
        "encoding",
        "callback",
        "callback_method",
        "extra",
        "tag",
        "version",
        "summarize",
        "custom_topic",
        "custom_topic_mode",
        "custom_intent",
        "custom_intent_mode",
    }
)
PARAMS = BOOLEAN_PARAMS | OTHER_PARAMS
"""The ``/v1/listen`` query parameters of Deepgram's OpenAPI spec (PROVIDER_CONTRACTS §3.3)."""

ENCODINGS = frozenset({"linear16", "flac", "mulaw", "amr-nb", "amr-wb", "opus", "speex", "g729"})
_BCP47 = re.compile(r"^(multi|[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*)$")
_PUNCT = re.compile(r"[^\w\s'-]")


def deepgram_error(message: str, code: str = "Bad Request") -> dict[str, str]:
    """Deepgram's documented error body: ``{"err_code", "err_msg", "request_id"}``."""
    return {"err_code": code, "err_msg": message, "request_id": str(uuid.uuid4())}


def invalid_json(details: str) -> dict[str, str]:
    """Deepgram's documented body for a JSON request it cannot use."""
    return {
        "category": "INVALID_JSON",
        "message": "Invalid JSON submitted.",
        "details": details,
        "request_id": str(uuid.uuid4()),
    }


def deepgram_server(
    backend: Backend, *, api_key: str = "test-key", per_minute: int | None = None
) -> LoopbackServer:
    """A loopback ``/v1/listen`` answering what `backend` heard in Deepgram's shapes."""

    def listen(request: Request) -> Reply:
        params = {name: values[-1] for name, values in request.query.items()}
        problem = check_params(params)
        if problem:
            return Reply(400, deepgram_error(f"Bad Request: {problem}"))
        if _content_type(request).startswith("application/json"):
            try:
                doc = json.loads(request.body)
            except ValueError as exc:
                return Reply(400, invalid_json(f"Json deserialize error: {exc}"))
            if not isinstance(doc, dict) or not isinstance(doc.get("url"), str):
                return Reply(400, invalid_json("Json deserialize error: missing field `url`"))
            audio, duration = b"", None
        else:
            duration = wav_duration(request.body)
            if duration is None:
                return Reply(
                    400,
                    deepgram_error(
                        "Bad Request: failed to process audio: corrupt or unsupported data"
                    ),
                )
            audio = request.body
        if params.get("callback"):
            return Reply(200, {"request_id": str(uuid.uuid4())})
        return Reply(200, listen_response(backend(audio, request), params, audio, duration))

    return LoopbackServer(
        {("POST", "/v1/listen"): listen},
        auth=("Authorization", f"Token {api_key}"),
        unauthorized=deepgram_error("Invalid credentials.", code="INVALID_AUTH"),
        per_minute=per_minute,
    )


def check_params(params: Mapping[str, str]) -> str | None:
    """What is wrong with the query parameters, or None."""
    unknown = sorted(set(params) - PARAMS)
    if unknown:
        return f"unknown query parameter(s) {unknown}"
    for name in sorted(set(params) & BOOLEAN_PARAMS):
        if params[name] not in ("true", "false"):
            return f"{name}={params[name]!r} is not a boolean (true or false)"
    if "model" in params and not params["model"].strip():
        return "model is empty"
    if "language" in params and not _BCP47.match(params["language"]):
        return f"language={params['language']!r} is not a BCP-47 language tag"
    nova3 = params.get("model", "base-general").startswith("nova-3")
    if "keyterm" in params and not nova3:  # Deepgram's Keyterm page: "Nova-3 only"
        return "keyterm is only available for Nova-3 models; use keywords"
    if "keywords" in params and nova3:  # its Keywords page: "For Nova-3, use Keyterm Prompting"
        return "keywords is not available for Nova-3 models; use keyterm"
    if "encoding" in params and params["encoding"] not in ENCODINGS:
        return f"encoding={params['encoding']!r} is not one of {sorted(ENCODINGS)}"
    if "utt_split" in params:
        try:
            float(params["utt_split"])
        except ValueError:
            return f"utt_split={params['utt_split']!r} is not a number"
    return None


def wav_duration(body: bytes) -> float | None:
    """Seconds of a WAV body, None when it is not one."""
    try:
        with wave.open(io.BytesIO(body)) as w:
            return w.getnframes() / w.getframerate()
    except (wave.Error, EOFError, ValueError):
        return None


def plain(text: str) -> str:
    """Deepgram's ``word``: lower case without punctuation."""
    return " ".join(_PUNCT.sub("", text).lower().split())


def listen_response(
    heard: Transcript, params: Mapping[str, str], audio: bytes, duration: float | None
) -> dict[str, Any]:
    """The ``ListenV1Response`` for what the model heard, under these query parameters."""
    on = {name for name in BOOLEAN_PARAMS if params.get(name) == "true"}
    punctuated = bool(on & {"punctuate", "smart_format"})
    diarize = "diarize" in on
    speakers: dict[str | None, int] = {}
    words = []
    for w in heard.words:
        item: dict[str, Any] = {
            "word": plain(w.text),
            "start": w.start,
            "end": w.end,
            "confidence": 1.0 if w.confidence is None else w.confidence,
        }
        if diarize:
            item["speaker"] = speakers.setdefault(w.speaker, len(speakers))
            item["speaker_confidence"] = 0.9
        if punctuated:
            item["punctuated_word"] = w.text
        words.append(item)
    channel: dict[str, Any] = {
        "alternatives": [
            {
                "transcript": heard.text if punctuated else plain(heard.text),
                "confidence": _mean(w["confidence"] for w in words),
                "words": words,
            }
        ]
    }
    if params.get("detect_language", "false") != "false":
        channel["detected_language"] = heard.language or "en"
    results: dict[str, Any] = {"channels": [channel]}
    if "utterances" in on:
        gap = float(params.get("utt_split", "0.8"))
        results["utterances"] = [
            _utterance(group, punctuated, diarize) for group in _groups(words, gap, diarize)
        ]
    model_id = str(uuid.uuid4())
    model = params.get("model", "base-general")
    if duration is None:
        duration = max((w.end for w in heard.words), default=0.0)
    return {
        "metadata": {
            "transaction_key": "deprecated",
            "request_id": str(uuid.uuid4()),
            "sha256": hashlib.sha256(audio).hexdigest(),
            "created": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
            "duration": duration,
            "channels": 1,
            "models": [model_id],
            "model_info": {model_id: {"name": model, "version": "loopback", "arch": model}},
        },
        "results": results,
    }


def _groups(words: Sequence[dict[str, Any]], gap: float, diarize: bool) -> list[list[dict]]:
    groups: list[list[dict[str, Any]]] = []
    for w in words:
        last = groups[-1][-1] if groups else None
        if (
            last is None
            or w["start"] - last["end"] > gap
            or (diarize and w["speaker"] != last["speaker"])
        ):
            groups.append([w])
        else:
            groups[-1].append(w)
    return groups


def _utterance(words: list[dict[str, Any]], punctuated: bool, diarize: bool) -> dict[str, Any]:
    key = "punctuated_word" if punctuated else "word"
    out: dict[str, Any] = {
        "start": words[0]["start"],
        "end": words[-1]["end"],
        "confidence": _mean(w["confidence"] for w in words),
        "channel": 0,
        "transcript": " ".join(w[key] for w in words),
        "words": words,
        "id": str(uuid.uuid4()),
    }
    if diarize:
        out["speaker"] = words[0]["speaker"]
    return out


def _mean(values: Any) -> float:
    values = list(values)
    return sum(values) / len(values) if values else 0.0


def _content_type(request: Request) -> str:
    for name, value in request.headers.items():
        if name.lower() == "content-type":
            return value.lower()
    return ""
