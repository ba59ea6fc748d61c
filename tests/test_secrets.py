"""A key that is pasted badly never leaks: for each provider's loopback server, its key is set
with a trailing newline, a trailing space and an embedded control character; a real run (rows,
parquet, summary, report, exports), ``stt-eval report`` and ``stt-eval transcribe`` then leave
the key in no file written and in no line printed or logged."""

from __future__ import annotations

import json
import logging
import shutil

import pytest

from stt_eval.api import run
from stt_eval.cli import main
from stt_eval.experiment import Experiment, ExperimentError, ProviderSpec
from stt_eval.providers.errors import AuthError, PermanentProviderError
from stt_eval.providers.http import HttpClient, RetryPolicy
from stt_eval.providers.keys import scrub
from stt_eval.testing.assemblyai import assemblyai_server
from stt_eval.testing.deepgram import deepgram_server
from stt_eval.testing.openai import openai_server
from stt_eval.testing.pulse import pulse_server
from stt_eval.types import Transcript, Word

from .conftest import SAMPLE

KEY = "sk-proj-LEAKCHECK-0123456789abcdef"
AUDIO = "pocketsphinx_goforward.flac"
PROVIDERS = {  # name: (variable, server, extra options, base_url suffix)
    "pulse": ("SMALLEST_API_KEY", pulse_server, {}, ""),
    "deepgram": ("DEEPGRAM_API_KEY", deepgram_server, {}, ""),
    "assemblyai": ("ASSEMBLYAI_API_KEY", assemblyai_server, {"poll_interval_s": 0.0}, ""),
    "openai": ("OPENAI_API_KEY", openai_server, {}, "/v1"),
}
VARIANTS = {
    "trailing-newline": KEY + "\n",
    "trailing-space": KEY + " ",
    "control-character": KEY[:12] + "\x01" + KEY[12:],
}


def _heard(audio: bytes, request) -> Transcript:
    words = (Word("go", 0.1, 0.3, 0.9), Word("forward", 0.3, 0.7, 0.8))
    return Transcript("go forward", words, language="en")


def _leaks(text: str, value: str) -> list[str]:
    """The forms of the key `value` (and each piece of it around a control character) that
    `text` holds."""
    pieces = {value, value.strip(), *value.strip().split("\x01"), repr(value)[1:-1]}
    return [p for p in pieces if len(p) >= 8 and p in text]


@pytest.mark.parametrize(
    "variant",
    # a trailing space takes the newline's path (stripped, said): slow, to spare the fast suite
    [pytest.param(v, marks=pytest.mark.slow) if v == "trailing-space" else v for v in VARIANTS],
)
@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_a_badly_pasted_key_is_in_no_file_line_or_log(
    provider, variant, tmp_path, monkeypatch, capfd, caplog
):
    variable, serve, extra, suffix = PROVIDERS[provider]
    value = VARIANTS[variant]
    monkeypatch.setenv(variable, value)
    monkeypatch.setenv("STT_EVAL_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    shutil.copy(SAMPLE / "audio" / AUDIO, tmp_path / AUDIO)
    row = {"id": "goforward", "audio": AUDIO, "text": "go forward ten meters", "language": "en"}
    (tmp_path / "m.jsonl").write_text(json.dumps(row) + "\n")
    refused = variant == "control-character"
    with serve(_heard, api_key=KEY) as server, caplog.at_level(logging.DEBUG):
        options = {"base_url": server.url + suffix, "min_wait_s": 0.0, "max_wait_s": 0.0, **extra}
        spec = ProviderSpec(provider, tuple(sorted(options.items())))
        exp = Experiment(
            dataset=tmp_path / "m.jsonl", providers=(spec,), workers=1, output=tmp_path / "r"
        )
        if refused:
            with pytest.raises(AuthError, match=f"{variable} holds a character") as caught:
                run(exp, progress=False)
            assert not _leaks(str(caught.value), value)
            assert server.requests == []  # refused before anything was sent
        else:
            result = run(exp, progress=False)
            assert [r.status for r in result.rows] == ["ok"]
            assert f"{variable} has whitespace around the key" in caplog.text
            assert main(["report", str(result.run_dir)]) == 0
        cli = ["transcribe", AUDIO, "--provider", provider, "--language", "en"]
        cli += [f"--option={k}={v}" for k, v in options.items()]
        assert main(cli) == (1 if refused else 0)
    out, err = capfd.readouterr()
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.name != AUDIO]
    assert refused or any(p.name == "report.md" for p in written)
    for path in written:
        assert not _leaks(path.read_bytes().decode("utf-8", "replace"), value), path
    assert not _leaks(out + err, value)
    assert not _leaks(caplog.text, value)


def test_scrub_removes_every_form_of_a_configured_key(monkeypatch):
    monkeypatch.setenv("SOME_SERVICE_TOKEN", KEY + "\n")
    said = f"Invalid header value: 'Bearer {KEY}\\n' ({KEY!r}) <td>{KEY}</td>"
    assert KEY not in scrub(said) and "LEAKCHECK" not in scrub(said)
    assert scrub("Authorization: Token abcdefgh12345678") == "Authorization: Token ***"
    assert scrub("Token rings and Bearer bonds") == "Token rings and Bearer bonds"


def test_a_header_that_cannot_be_sent_is_one_attempt_and_never_repeats_the_key():
    sleeps: list[float] = []
    client = HttpClient(
        "echo",
        "http://127.0.0.1:9",
        headers={"Authorization": f"Bearer {KEY}\n"},
        key_variable="ECHO_API_KEY",
        policy=RetryPolicy(5),
        sleep=sleeps.append,
    )
    with pytest.raises(PermanentProviderError, match="check ECHO_API_KEY") as caught:
        client.request("GET", "/x")
    assert sleeps == [] and KEY not in str(caught.value)


def test_base_url_that_is_not_a_url_fails_the_experiment_naming_provider_and_option():
    with pytest.raises((ValueError, ExperimentError), match=r"deepgram: base_url='localhost:80"):
        ProviderSpec("deepgram", (("base_url", "localhost:8080"),))
