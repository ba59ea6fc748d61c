"""The error family: what a run does with an expected failure and with a bug, and --fresh,
which must not lose a run's rows to a run that never started."""

from __future__ import annotations

import json
import logging
import pickle

import pytest

from stt_eval.api import run
from stt_eval.errors import BadArgument, MissingExtra, SttEvalError, require
from stt_eval.experiment import experiment_from_dict
from stt_eval.pipeline.recording import describe_error
from stt_eval.providers.errors import AuthError
from stt_eval.providers.prices import OverBudget
from stt_eval.run.aside import SUFFIX, set_aside
from stt_eval.run.directory import ROWS_FILE, TRANSCRIPTS_FILE, RunLocked

from .conftest import SAMPLE


def test_an_expected_failure_is_its_message_and_hint_and_a_bug_is_an_internal_error(caplog):
    assert describe_error(SttEvalError("x.wav: empty", "record it again")) == (
        "x.wav: empty — record it again"
    )
    assert describe_error(AuthError("openai: HTTP 401", status=401)) == "openai: HTTP 401"
    assert describe_error(FileNotFoundError(2, "No such file", "a.wav")).endswith("'a.wav'")
    try:
        {}["words"]
    except KeyError as bug:
        with caplog.at_level(logging.ERROR):
            said = describe_error(bug)
    assert said.startswith("internal error in stt-eval: KeyError")
    assert "Traceback" in caplog.text and "KeyError: 'words'" in caplog.text


def test_every_kind_of_expected_failure_is_one_family():
    for kind in (RunLocked, OverBudget, AuthError, MissingExtra):
        assert issubclass(kind, SttEvalError), kind
    with pytest.raises(MissingExtra, match="needs no_such_package_xyz") as err:
        require("no_such_package_xyz", "this test", "pip install it")
    assert err.value.hint == "pip install it"


def test_an_error_keeps_its_hint_and_argument_across_processes():
    for exc in (SttEvalError("a", "b"), BadArgument("workers", "0 is not allowed", "use 1")):
        back = pickle.loads(pickle.dumps(exc))
        assert (type(back), str(back), back.hint) == (type(exc), str(exc), exc.hint)
    assert pickle.loads(pickle.dumps(BadArgument("workers", "m"))).argument == "workers"


def _old(run_dir):
    files = {ROWS_FILE: '{"earlier": 1}\n', TRANSCRIPTS_FILE: '{"earlier": 2}\n'}
    run_dir.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (run_dir / name).write_text(text)
    return files


def _read(run_dir, names):
    return {name: (run_dir / name).read_text() for name in names}


def test_set_aside_puts_the_old_files_back_when_the_run_fails_to_start(tmp_path):
    old = _old(tmp_path)
    with pytest.raises(RuntimeError), set_aside(tmp_path, list(old), enabled=True):
        assert not (tmp_path / ROWS_FILE).exists()
        (tmp_path / ROWS_FILE).write_text("a manifest failure row\n")
        raise RuntimeError("the scheduler did not answer")
    assert _read(tmp_path, old) == old and not list(tmp_path.glob(f"*{SUFFIX}"))


def test_set_aside_drops_the_old_files_once_the_run_has_written_a_row(tmp_path):
    old = _old(tmp_path)
    with pytest.raises(KeyboardInterrupt), set_aside(tmp_path, list(old), True) as started:
        (tmp_path / ROWS_FILE).write_text("new\n")
        started()
        raise KeyboardInterrupt  # after the start: the new rows stay, to resume from
    assert (tmp_path / ROWS_FILE).read_text() == "new\n"
    assert not list(tmp_path.glob(f"*{SUFFIX}"))
    with set_aside(tmp_path, list(old), enabled=False):  # a resume moves nothing
        assert (tmp_path / ROWS_FILE).read_text() == "new\n"


def test_rows_a_killed_fresh_run_set_aside_come_back_on_the_next_run(tmp_path):
    """SIGKILL between setting the rows aside and the first new row leaves them aside: the next
    run of the directory puts them back (and says so) before it reads anything."""
    old = _old(tmp_path)
    for name in old:
        (tmp_path / name).rename(tmp_path / (name + SUFFIX))
    (tmp_path / ROWS_FILE).write_text("")  # what the killed run had rewritten
    with (
        pytest.warns(UserWarning, match="interrupted --fresh"),
        set_aside(tmp_path, list(old), enabled=False),
    ):
        assert _read(tmp_path, old) == old
    assert not list(tmp_path.glob(f"*{SUFFIX}"))
    # a set-aside copy older than rows written since is stale: dropped, the new rows stay
    (tmp_path / (ROWS_FILE + SUFFIX)).write_text("stale\n")
    (tmp_path / ROWS_FILE).write_text("newer\n")
    with set_aside(tmp_path, [ROWS_FILE], enabled=False):
        assert (tmp_path / ROWS_FILE).read_text() == "newer\n"
    assert not list(tmp_path.glob(f"*{SUFFIX}"))


def test_fresh_keeps_the_old_rows_when_the_budget_refuses_the_run(tmp_path, monkeypatch):
    """The budget is checked after --fresh has set the rows aside: refused, they come back."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    row = {"id": "jfk", "audio": str(SAMPLE / "audio" / "whisper_jfk.flac"), "text": "and so"}
    (tmp_path / "m.jsonl").write_text(json.dumps(row) + "\n")
    provider = {"name": "openai", "price_per_minute": 1.0, "base_url": "http://127.0.0.1:9/v1"}
    exp = experiment_from_dict(
        {"dataset": "m.jsonl", "providers": [provider], "budget_usd": 0.01, "output": "out"},
        tmp_path,
    )
    old = _old(tmp_path / "out" / exp.run_id)
    with pytest.raises(OverBudget):
        run(exp, fresh=True, progress=False)
    assert _read(tmp_path / "out" / exp.run_id, old) == old
