"""The verdict that opens a report: what the run says, in sentences with numbers.

Per condition: the provider with the lowest pooled WER, its interval, and whether its lead over
the runner-up is significant; of the providers within :data:`NEAR` of the best, the cheapest and
the fastest; with chunk settings in the run, the recommended one per provider; the same for DER
per diarizer. Significance is the primary test's alone (the paired bootstrap, see
:mod:`stt_eval.report.analysis.paired`): a provider lead is read from the line of the report's
paired-differences table, so the two never disagree; chunk settings and diarizers are tested as
their own families. Where the top two cannot be told apart, the sentence says how many more
files would (:mod:`stt_eval.report.analysis.power`). Pure functions of the rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from stt_eval.report.analysis.intervals import der_rows, file_counts, intervals, ok_rows
from stt_eval.report.analysis.paired import (
    BASELINE,
    FEW_FILES,
    GRID,
    Line,
    comparisons,
    decide,
    files_to_test,
    more_files,
    pair_counts,
    paired_files,
    pct,
)
from stt_eval.report.analysis.power import DEFAULT_POWER
from stt_eval.report.chunk_cost import cheapest, cost_phrase, setting_label
from stt_eval.report.tables import speed_and_cost

NEAR = 0.01
"""How close to the best pooled WER (1 point) a provider counts as about as accurate."""
UNCHUNKED = "none"


def _ci(low: float, high: float) -> str:
    return "interval –" if math.isnan(low) else f"95 % CI {100 * low:.1f}–{100 * high:.1f} %"


def _files(n: float) -> str:
    return "1 file" if int(n) == 1 else f"{int(n)} files"


def conditions_in_order(rows: pd.DataFrame) -> list[str]:
    """The run's conditions, the baseline first, the rest sorted (row order says nothing)."""
    found = sorted(set(rows["condition"]))
    return sorted(found, key=lambda c: c != BASELINE)


def _most_common(values: pd.Series) -> str:
    counts = values.value_counts()
    return sorted(counts.index[counts == counts.max()])[0]


def reference_setting(ok: pd.DataFrame) -> dict[str, str]:
    """The transcript setting providers are compared at when the run varies it: unchunked
    (else the most common chunk setting), its most common merge, the ``mix`` channel mode."""
    fixed: dict[str, str] = {}
    if "chunking" in ok and ok["chunking"].nunique() > 1:
        chunks = ok["chunking"]
        fixed["chunking"] = UNCHUNKED if (chunks == UNCHUNKED).any() else _most_common(chunks)
        ok = ok[chunks == fixed["chunking"]]
    if "merge" in ok and ok["merge"].nunique() > 1:
        fixed["merge"] = _most_common(ok["merge"])
    if "channel_mode" in ok and ok["channel_mode"].nunique() > 1:
        fixed["channel_mode"] = "mix" if (ok["channel_mode"] == "mix").any() else "split"
    return fixed


def _where(rows: pd.DataFrame, values: dict[str, str]) -> pd.DataFrame:
    mask = pd.Series(True, index=rows.index)
    for col, value in values.items():
        mask &= rows[col].astype(str) == value
    return rows[mask]


def _setting_words(fixed: dict[str, str]) -> str:
    if not fixed:
        return ""
    chunk = fixed.get("chunking")
    words = ["unchunked" if chunk == UNCHUNKED else f"chunked {chunk}"] if chunk else []
    if fixed.get("merge") not in (None, UNCHUNKED):
        words.append(f"{fixed['merge']} merge")
    if "channel_mode" in fixed:
        words.append(f"channels {fixed['channel_mode']}")
    return " (" + ", ".join(words) + ")"


def _ranked(rows: pd.DataFrame, system: str, metric: str) -> pd.DataFrame:
    """Pooled ``metric`` per system with its interval, best first (ties by name)."""
    table = intervals(rows, (system,), metric)
    if table.empty:
        return table
    return table.sort_values([metric, system], kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class Lead:
    """The primary test of the best against the runner-up, signed from the best's side."""

    files: int
    diff: float  # best − runner-up: negative, the best makes fewer errors
    low: float
    high: float
    p: float
    significant: bool
    needed: int | None
    level: float = 0.95

    @classmethod
    def of_line(cls, line: Line, best: str) -> Lead:
        t, iv = line.test, line.interval
        sign = 1 if t.a == best else -1
        low, high = (
            sorted((sign * iv.low, sign * iv.high)) if not math.isnan(iv.low) else (iv.low, iv.high)
        )
        diff = sign * t.difference
        return cls(t.n, diff, low, high, t.p, t.significant, line.needed, iv.level)

    @classmethod
    def of_row(cls, row: pd.Series, best: str) -> Lead:
        """From a line of :func:`comparisons`."""
        sign = 1 if row["a"] == best else -1
        bounds = (sign * row["diff_low"], sign * row["diff_high"])
        low, high = sorted(bounds) if not math.isnan(row["diff_low"]) else bounds
        needed = None if pd.isna(row["files_needed"]) else int(row["files_needed"])
        return cls(
            int(row["files"]),
            sign * row["diff"],
            low,
            high,
            row["p_bootstrap"],
            bool(row["significant"]),
            needed,
            float(row["level"]),
        )

    def says(self, best: str, runner: str, metric: str = "WER") -> str:
        """Whether the lead is significant, in a sentence with its numbers."""
        least = files_to_test()
        if self.files < least or math.isnan(self.p):
            return (
                f"{best} vs {runner}: too few files to test ({self.files}; the paired bootstrap "
                f"needs at least {least})."
            )
        points = f"{metric} {100 * abs(self.diff):.1f} pt {'lower' if self.diff <= 0 else 'higher'}"
        if not math.isnan(self.low):
            widened = f" at {100 * self.level:.3g} % (Holm)" if self.level > 0.95 + 1e-9 else ""
            points += f", interval [{100 * self.low:+.1f}, {100 * self.high:+.1f}] pt{widened}"
        numbers = f"{points}, p = {self.p:.3g}"
        if self.significant:
            return f"{best} is better (significant) than {runner}: {numbers}."
        more = more_files(self.needed, self.files)
        return f"{best} and {runner}: no significant difference{more} ({numbers})."


def _pair_line(table: pd.DataFrame, a: str, b: str, cell: dict[str, str]) -> pd.Series | None:
    """The paired-differences line of providers ``a`` and ``b`` within ``cell``."""
    if table.empty:
        return None
    pair = {(a, b), (b, a)}
    keep = pd.Series([(x, y) in pair for x, y in zip(table["a"], table["b"])], index=table.index)
    lines = table[(table["compared"] == "providers") & keep]
    for col in GRID:
        if col in lines and col in cell:
            lines = lines[lines[col].astype(str) == cell[col]]
    return lines.iloc[0] if len(lines) else None


def near_best(ranked: pd.DataFrame, speed: pd.DataFrame) -> str:
    """Of the providers within :data:`NEAR` of the best: the cheapest and the fastest."""
    close = ranked[ranked["wer"] <= ranked["wer"].iloc[0] + NEAR + 1e-12]["provider"].tolist()
    speed = speed[speed["provider"].isin(close)]
    if speed.empty:
        return ""
    names = ", ".join(close)
    priced = speed.dropna(subset=["usd_per_audio_hour"])
    if priced.empty:
        cost = "no list price is known for them"
    else:
        row = priced.sort_values(["usd_per_audio_hour", "provider"]).iloc[0]
        cost = (
            f"the cheapest is {row['provider']} (${row['usd_per_audio_hour']:.2f} per audio hour)"
        )
    timed = speed.dropna(subset=["rtfx"])
    fast = ""
    if len(timed):
        row = timed.sort_values(["rtfx", "provider"], ascending=[False, True]).iloc[0]
        fast = f", the fastest {row['provider']} (RTFx {row['rtfx']:.1f})"
    if len(close) == 1:
        return f"No other provider is within {100 * NEAR:g} pt of it."
    return f"Within {100 * NEAR:g} pt of the best ({names}): {cost}{fast}."


def provider_verdicts(frame: pd.DataFrame) -> list[str]:
    """Per condition: the best provider, its interval, its lead, the cheapest and fastest near
    it."""
    ok = ok_rows(frame)
    if ok.empty or "ref_words" not in ok:
        return []
    fixed = reference_setting(ok)
    table = comparisons(frame)
    out = []
    for condition in conditions_in_order(ok):
        cell = {"condition": condition, **fixed}
        rows = _where(ok, cell)
        ranked = _ranked(rows, "provider", "wer")
        if ranked.empty:
            continue
        best = ranked.iloc[0]
        tied = ranked[ranked["wer"] == best["wer"]]["provider"].tolist()
        who = f"{' and '.join(tied)} tie for" if len(tied) > 1 else f"{best['provider']} has"
        head = (
            f"{condition}{_setting_words(fixed)}: {who} the lowest WER, "
            f"{pct(best['wer'])} ({_ci(best['low'], best['high'])}, {_files(best['files'])})."
        )
        if len(ranked) == 1:
            out.append(head + " It is the only provider scored here.")
            continue
        runner = ranked.iloc[1]
        names = (best["provider"], runner["provider"])
        line = _pair_line(table, *names, cell)
        said = f" Runner-up: {runner['provider']}, {pct(runner['wer'])}."
        if line is not None:
            said += " " + Lead.of_row(line, best["provider"]).says(*names)
        out.append(head + said + " " + near_best(ranked, speed_and_cost(rows)))
    return out


def der_verdicts(frame: pd.DataFrame) -> list[str]:
    """Per condition: the diarizer with the lowest pooled DER, its interval, and its lead over
    the runner-up (the top pairs tested as one family)."""
    rows = der_rows(frame)
    if rows.empty:
        return []
    found, pairs = [], []
    for condition in conditions_in_order(rows):
        ranked = _ranked(rows[rows["condition"] == condition], "diarizer", "der")
        if ranked.empty:
            continue
        found.append((condition, ranked))
        if len(ranked) > 1:
            a, b = ranked["diarizer"].iloc[0], ranked["diarizer"].iloc[1]
            side = [
                rows[(rows["condition"] == condition) & (rows["diarizer"] == n)] for n in (a, b)
            ]
            both = paired_files(*side, "der")
            pairs.append((both, (a, b), ("verdict-der", condition, a, b), "der"))
    lines = iter(decide([p for p in pairs if len(p[0]) >= 2]))
    enough = {p[2] for p in pairs if len(p[0]) >= 2}
    out = []
    for condition, ranked in found:
        best = ranked.iloc[0]
        text = (
            f"Diarization, {condition}: {best['diarizer']} has the lowest DER, {pct(best['der'])} "
            f"({_ci(best['low'], best['high'])}, {_files(best['files'])})."
        )
        if len(ranked) > 1:
            runner = ranked.iloc[1]
            a, b = best["diarizer"], runner["diarizer"]
            if ("verdict-der", condition, a, b) in enough:
                text += f" Runner-up: {b}, {pct(runner['der'])}. " + Lead.of_line(
                    next(lines), a
                ).says(a, b, "DER")
            else:
                text += f" {a} vs {b}: too few files to test."
        out.append(text)
    return out


def verdict(frame: pd.DataFrame) -> list[str]:
    """The verdict's sentences: providers per condition, chunk settings, DER."""
    return [*provider_verdicts(frame), *chunk_verdicts(frame), *der_verdicts(frame)]


def verdict_blocks(frame: pd.DataFrame) -> list[str]:
    """The Verdict section (Markdown: a heading, a line on how it is decided, one bullet per
    finding)."""
    said = verdict(frame)
    if not said:
        return []
    files = frame.loc[frame["status"] == "ok", "sample_id"].nunique()
    rough = f" With {_files(files)} every figure here is rough." if files < FEW_FILES else ""
    how = (
        "Pooled rates with their 95 % intervals. A lead is significant when the paired "
        "bootstrap over files says so; a provider's p is Holm-adjusted over the Paired "
        "differences table, as there. Where "
        "it is not, the files needed are those at which that test would detect the measured "
        f"difference with {100 * DEFAULT_POWER:g} % power, from the per-file spread of the "
        "difference (stt_eval/report/analysis/power.py)." + rough
    )
    return ["## Verdict\n", how + "\n", "".join(f"- {s}\n" for s in said)]


def chunk_verdicts(frame: pd.DataFrame) -> list[str]:
    """Per provider, on the baseline condition: the chunk setting to use — the cheapest (least
    audio sent, then fewest requests) that the primary test does not find worse than the best."""
    ok = ok_rows(frame)
    if ok.empty or "chunking" not in ok or ok["chunking"].nunique() < 2:
        return []
    condition = conditions_in_order(ok)[0]
    ok = ok[ok["condition"] == condition]
    out = []
    for provider in sorted(set(ok["provider"])):
        rows = ok[ok["provider"] == provider]
        labels = [setting_label(c, str(m)) for c, m in zip(rows["chunking"], rows["merge"])]
        rows = rows.assign(setting=labels)
        ranked = _ranked(rows, "setting", "wer")
        if len(ranked) < 2:
            continue
        best = ranked["setting"].iloc[0]
        sides = dict(tuple(file_counts(rows, "wer", ["setting"]).groupby("setting", sort=True)))
        pairs = [
            (pair_counts(sides[best], sides[s]), (best, s), ("chunk", provider, s), "wer")
            for s in ranked["setting"].iloc[1:]
        ]
        lines = dict(zip(ranked["setting"].iloc[1:], decide(pairs)))
        out.append(_chunk_sentence(provider, condition, ranked, lines, rows))
    return out


def _chunk_sentence(
    provider: str, condition: str, ranked: pd.DataFrame, lines: dict[str, Line], rows
) -> str:
    best = ranked.iloc[0]
    say = {s: "no chunking" if s == UNCHUNKED else s for s in ranked["setting"]}
    untested = [s for s, line in lines.items() if not line.testable]
    fine = [s for s, line in lines.items() if line.testable and not line.test.significant]
    pick = cheapest([best["setting"], *fine], rows)
    chosen = ranked[ranked["setting"] == pick].iloc[0]
    head = f"Chunking, {provider} on {condition}: "
    wer = f"WER {pct(chosen['wer'])} ({_ci(chosen['low'], chosen['high'])})"
    if pick == best["setting"]:
        text = f"use {say[pick]}: the lowest {wer}; {cost_phrase(pick, rows)}"
        worse = [s for s, line in lines.items() if line.test.significant]
        text += (
            f"; {len(worse)} of the other {len(lines)} settings are significantly worse"
            if worse
            else ""
        )
    else:
        p = lines[pick].test.p
        text = (
            f"use {say[pick]}: {wer}, not significantly worse than the best, "
            f"{say[best['setting']]} at {pct(best['wer'])} (p = {p:.3g}), and the cheapest such: "
            f"{cost_phrase(pick, rows)}"
        )
    if untested:
        text += (
            f"; too few files to test the other {len(untested)} settings against it "
            f"(the primary test needs at least {files_to_test()})"
        )
    return head + text + "."
