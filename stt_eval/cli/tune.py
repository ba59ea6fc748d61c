"""``stt-eval tune``: its flags (each an argument of :func:`stt_eval.api.tune`, same name and
default) and what it prints."""

from __future__ import annotations

import argparse

from stt_eval import api
from stt_eval.cli.projection import defaults_of, flag


def _list(kind):
    """A comma-separated flag value as a tuple (``none``: the empty tuple)."""

    def parse(text: str) -> tuple:
        if text.strip().lower() == "none":
            return ()
        try:
            return tuple(kind(v.strip()) for v in text.split(",") if v.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected a comma-separated list, got {text!r}"
            ) from None

    return parse


def add_tune(sub: argparse._SubParsersAction) -> None:
    d = defaults_of(api.tune)
    p = sub.add_parser(
        "tune",
        help="find the chunk length and overlap to use, per provider",
        description=(
            "Race chunk settings over an experiment's files (successive halving; a setting is "
            "dropped once a paired test finds it significantly worse than the best) and "
            "recommend per provider the cheapest setting not significantly worse than the "
            "best. Default space: chunks 10-60 s x overlaps 0-5 s x merges x fixed/vad cuts, "
            "the presets whisper-30s, nemo-10-10-5, nemo-10-2-2, parakeet-120s-15s, and "
            "unchunked; an experiment's [tune] table or these flags narrow it. Writes tune.md "
            "and tune.html (the recommendation, every setting tried, a Pareto figure, the TOML "
            "to paste). Each round is an ordinary run in the same transcript cache, so running "
            "the chosen grid afterwards pays once."
        ),
    )
    p.add_argument("experiment", help="experiment TOML file")
    flag(p, "--chunk-s", d, "chunk lengths in seconds, e.g. 15,30,60", type=_list(float))
    flag(p, "--overlap-s", d, "overlaps in seconds, e.g. 0,2", type=_list(float))
    flag(p, "--merge", d, "merge strategies, e.g. text-align,timestamp", type=_list(str))
    flag(p, "--planner", d, "cut planners: fixed,vad", type=_list(str))
    flag(p, "--presets", d, "published presets to add, or none", type=_list(str))
    flag(
        p,
        "--unchunked",
        d,
        "race the whole recording in one request too (--no-unchunked: not)",
        action=argparse.BooleanOptionalAction,
    )
    flag(p, "--chunking", d, "further spellings to race, e.g. 30s/6s,45s/3s/vad", type=_list(str))
    flag(p, "--budget-minutes", d, "stop before the race sends more audio minutes", type=float)
    flag(p, "--holdout", d, "fraction of files kept out to confirm the choice on", type=float)
    flag(p, "--output", d, "directory for tune.md/html (default: results/<name>-tune)")
    flag(p, "--workers", d, "parallel worker processes (default: the experiment's)", type=int)
    flag(p, "--quiet", d, "no progress lines", dest="progress", action="store_false")
    p.set_defaults(func=cmd_tune)


def cmd_tune(args: argparse.Namespace) -> int:
    from stt_eval.cli.commands import call
    from stt_eval.tune.document import TUNE_HTML, TUNE_MD, verdict
    from stt_eval.tune.table import toml_snippet

    result = call(api.tune, args)
    for tuned in result.providers:
        print(" ".join(verdict(tuned, result.search_files)).replace("**", ""))
    print(f"\nPaste into your experiment:\n{toml_snippet(result)}")
    print(f"wrote {result.output / TUNE_MD} and {result.output / TUNE_HTML}")
    return 0
