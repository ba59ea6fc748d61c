"""Tidy tables from a run's rows: pooled WER/CER, pooled DER/JER/cpWER, per-file rows, worst
files, failures.

Pooling is addition. A table sums the count columns of its rows per group, builds the metric's
value object from the sums and reads the rate from it by name (:func:`rates`, from
:mod:`stt_eval.metrics.registry`), so each formula lives once, in ``stt_eval.metrics``, and no
rate is ever an average of rates.

TOTAL rows, as in pyannote.metrics' ``report()``: the first grouping column names what is
compared (the provider; the diarizer for DER), at one setting (chunking, merge, channel mode:
:mod:`stt_eval.report.systems`). Each system that has more than one row gets a TOTAL row right
after them, pooling those rows (its conditions, say); its other grouping columns read
``TOTAL``. There is no TOTAL across providers or across settings: pooled over different systems,
or over 16 chunk settings of the same audio, it would describe none of them. Every table groups
by each setting that varies in the run, asked or not (:func:`~stt_eval.report.systems.by_setting`).
In a TOTAL row every count, ``files`` and ``failed`` included, is the sum of the rows above it.

A rate whose counts a row does not carry (rows written before JER components were stored) is
NaN, shown as "–": it is never estimated. A row read back from ``rows.jsonl`` with only part of
a metric's counts carries none of that metric (cpWER before its S/D/I split was stored), so it
is left out of that metric's pooling.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from stt_eval.metrics.registry import METRICS, rate
from stt_eval.report.systems import SETTINGS, by_setting, system_names
from stt_eval.types import CHANNELS_DIARIZER

TOTAL = "TOTAL"
"""The label of pooled rows in the grouping columns (``sample_id`` in :func:`per_file`)."""

TRANSCRIPT_KEY = ("sample_id", "provider", "condition", "chunking", "merge", "channel_mode")
"""One transcript: the diarizer only adds speaker turns, so rows differing by it share one; a
``split`` transcript (channels apart) is another transcript than the ``mix`` one."""


# --------------------------------------------------------------------------- pooling helpers


def columns(*metrics: str) -> list[str]:
    """The flattened count columns of registered metrics (``words``, ``der``…), in order."""
    return [c for m in metrics for c in METRICS[m].column_names]


def rates(sums: pd.DataFrame, name: str, unknown: str | None = None) -> list[float]:
    """The rate ``name`` (``wer``, ``der``, ``cpwer``…) of each row of summed counts, read
    from its metric's value object; NaN where the column ``unknown`` (a count of rows that
    lacked the counts, see :func:`_counts_or_missing`) is non-zero."""
    metric, ratio = rate(name)
    return [
        math.nan if unknown and r[unknown] else ratio.of(metric.read(r))
        for r in sums.to_dict("records")
    ]


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    """A column, or all-NaN when an older rows file does not have it."""
    return frame[name] if name in frame else pd.Series(math.nan, index=frame.index)


def _known(frame: pd.DataFrame, columns: Sequence[str]) -> pd.Series:
    """Rows that carry every one of `columns`."""
    known = pd.Series(True, index=frame.index)
    for col in columns:
        known &= _column(frame, col).notna()
    return known


def _first(frame: pd.DataFrame, key: Sequence[str]) -> pd.Series:
    """1 on the first row of each `key` value, 0 on repeats: summed, it counts distinct keys."""
    return (~frame.duplicated(list(key))).astype(int)


def _totals(
    sums: pd.DataFrame, system: list[str], columns: list[str], several_only: bool = True
) -> pd.DataFrame:
    """TOTAL rows: `columns` of `sums` added up per `system` (only for systems with more than
    one row unless `several_only` is False); the other grouping columns read TOTAL."""
    groups = sums.groupby(system, sort=False)
    totals = groups[columns].sum()
    if several_only:
        totals = totals[groups.size() > 1]
    totals = totals.reset_index()
    for col in sums.columns:
        if col not in totals:
            totals[col] = TOTAL
    return totals[list(sums.columns)]


def _pool(
    rows: pd.DataFrame,
    by: Sequence[str],
    columns: Sequence[str],
    system: Sequence[str],
    total: bool,
    several_only: bool = True,
) -> pd.DataFrame:
    """`columns` summed per group of `by` (groups in order of appearance), each `system`'s TOTAL
    row right after its groups when `total`."""
    by, columns, system = list(by), list(columns), list(system)
    sums = rows.groupby(by, sort=False)[columns].sum().reset_index()
    if not total or len(system) == len(by):
        return sums
    totals = _totals(sums, system, columns, several_only)
    order = {k: i for i, k in enumerate(dict.fromkeys(sums[system].itertuples(False, None)))}
    both = pd.concat([sums, totals], ignore_index=True)
    rank = [order[k] for k in both[system].itertuples(False, None)]
    is_total = [False] * len(sums) + [True] * len(totals)
    key = pd.DataFrame({"rank": rank, "total": is_total})
    return both.loc[key.sort_values(["rank", "total"], kind="stable").index].reset_index(drop=True)


def _transcripts(frame: pd.DataFrame, by: Sequence[str] = ()) -> pd.DataFrame:
    """One row per transcript (see :data:`TRANSCRIPT_KEY`) and group of `by`, an ok row when
    there is one, so word counts are not added once per diarizer (unless grouped by it)."""
    key = [k for k in dict.fromkeys([*TRANSCRIPT_KEY, *by]) if k in frame]  # older files: no mode
    ranked = frame.assign(_failed=frame["status"] != "ok").sort_values("_failed", kind="stable")
    return ranked.drop_duplicates(key).sort_index().drop(columns="_failed")


# --------------------------------------------------------------------------- WER


def pooled(frame: pd.DataFrame, by: Sequence[str], total: bool = True) -> pd.DataFrame:
    """Pooled WER/CER with S/D/I per group of rows, plus file and failure counts; with `total`,
    a TOTAL row per system (``by[0]`` at one setting) pooling its groups (see the module
    docstring). Settings that vary in ``frame`` are grouping columns even when not asked."""
    by = by_setting(frame, by)
    frame = _transcripts(frame, by)
    done = frame["status"] == "ok"
    ok = done & (frame["ref_words"] > 0)  # no reference word: WER undefined, not 100 %
    rows = frame[by].copy()
    counts = columns("words", "chars")
    for col in counts:
        rows[col] = frame[col].where(ok, 0)  # a failure counts nothing but itself
    rows["files"] = _first(frame[ok], [*by, "sample_id"]).reindex(frame.index, fill_value=0)
    rows["failed"] = (~done).astype(int)
    rows["no_ref_words"] = (done & ~ok).astype(int)
    boundary = _column(frame, "boundary_errors").where(ok)
    rows["boundary_errors"] = boundary.fillna(0)
    rows["boundary_rows"] = boundary.notna().astype(int)
    summed = [*counts, "files", "failed", "no_ref_words", "boundary_errors", "boundary_rows"]
    system = [by[0], *(c for c in by[1:] if c in SETTINGS)]
    out = _pool(rows, by, summed, system, total)
    out["wer"] = rates(out, "wer")
    out["cer"] = rates(out, "cer")
    for col in (*counts, "files", "failed", "no_ref_words"):
        out[col] = out[col].astype(int)
    if boundary.notna().any():
        # errors the cuts caused (chunked rows with an unchunked row to compare with)
        errors = out["boundary_errors"].where(out["boundary_rows"] > 0)
        out["boundary_errors"] = errors.astype("Int64")
    else:
        out = out.drop(columns="boundary_errors")
    return out.drop(columns="boundary_rows")


PER_FILE_COLUMNS = (
    "sample_id",
    "provider",
    "condition",
    "chunking",
    "merge",
    "wer",
    "subs",
    "dels",
    "ins",
    "ref_words",
    "audio_s",
    "processing_s",
)


def per_file(frame: pd.DataFrame, total: bool = False) -> pd.DataFrame:
    """One line per successful transcript with a WER (for drill-down, not for averaging): one
    whose reference has no word is in :func:`no_ref_words` instead.

    With `total`, a TOTAL line (``sample_id`` TOTAL) per provider × condition × chunking × merge
    with more than one file, after all files: its counts, audio and processing seconds added up
    and its WER from them, as pyannote.metrics' ``report()`` ends with one.
    """
    ok = _transcripts(frame[(frame["status"] == "ok") & (frame["ref_words"] > 0)])
    ok = ok.sort_values(["sample_id", "provider", "condition"]).reset_index(drop=True)
    key = [k for k in TRANSCRIPT_KEY if k in ok]
    summed = [*columns("words"), "audio_s", "processing_s"]
    rows = ok[[*key, *summed]]
    if total and len(rows):
        sums = _totals(rows, key[1:], summed)
        rows = pd.concat([rows, sums], ignore_index=True)
    out = rows.copy()
    out["wer"] = rates(rows, "wer")
    split = "channel_mode" in out and (out["channel_mode"] == "split").any()
    shown = list(PER_FILE_COLUMNS)
    return out[shown[:5] + ["channel_mode"] + shown[5:] if split else shown]


def speed_and_cost(frame: pd.DataFrame) -> pd.DataFrame:
    """Per provider (and setting, when the run has several): audio transcribed, request latency,
    RTFx (audio seconds / latency seconds, pooled), HTTP retries, list price (total and per audio
    hour; NaN when a price is unknown) and the share served from the cache. Cached rows keep what
    was measured when they were made."""
    ok = _transcripts(frame[frame["status"] == "ok"])
    if ok.empty:
        return pd.DataFrame()
    ok = ok.assign(
        latency_s=_column(ok, "latency_s").fillna(_column(ok, "processing_s")),
        retries=_column(ok, "retries").fillna(0),
        cost_usd=_column(ok, "cost_usd").astype(float),
        cached=_column(ok, "cached").fillna(False).astype(int),
        transcripts=1,
    )
    groups = ok.groupby(by_setting(ok, ["provider"]), sort=False)
    out = groups[["transcripts", "audio_s", "latency_s", "retries", "cached"]].sum()
    out["cost_usd"] = (
        groups["cost_usd"].sum(min_count=1).where(groups["cost_usd"].count() == groups.size())
    )
    out["rtfx"] = out["audio_s"] / out["latency_s"].where(out["latency_s"] > 0)
    out["retries"] = out["retries"].astype(int)
    out["usd_per_audio_hour"] = out["cost_usd"] / (out["audio_s"] / 3600).where(out["audio_s"] > 0)
    out["cached"] = out["cached"] / out["transcripts"]
    columns = [
        "transcripts",
        "audio_s",
        "latency_s",
        "rtfx",
        "retries",
        "cost_usd",
        "usd_per_audio_hour",
        "cached",
    ]
    return out[columns].reset_index()


def worst_files(frame: pd.DataFrame, n: int = 5) -> pd.DataFrame:
    """The n transcripts with the highest WER (ties: more reference words, so more errors)."""
    rows = per_file(frame)
    return rows.sort_values(["wer", "ref_words"], ascending=False).head(n).reset_index(drop=True)


def no_ref_words(frame: pd.DataFrame) -> pd.DataFrame:
    """Transcripts whose reference has no word after normalization (only markup or fillers):
    their WER is undefined, so they are left out of every pooled WER and listed here."""
    empty = _transcripts(frame[(frame["status"] == "ok") & (frame["ref_words"] == 0)])
    columns = ["sample_id", "provider", "condition", "reference", "hypothesis"]
    return empty[[c for c in columns if c in empty]].drop_duplicates().reset_index(drop=True)


def failures(frame: pd.DataFrame) -> pd.DataFrame:
    """Failed cells with their reasons and kinds (a re-run sends a "transient" one again, a
    "permanent" one only with --retry-failed), one line per sample × provider × condition;
    rows written before the kind existed show none."""
    bad = frame[frame["status"] == "failed"]
    kind = ["failure"] if "failure" in bad else []
    return (
        bad[["sample_id", "provider", "condition", "chunking", *kind, "error"]]
        .drop_duplicates()
        .reset_index(drop=True)
    )


# --------------------------------------------------------------------------- diarization


def pooled_der(
    frame: pd.DataFrame, by: Sequence[str] = ("diarizer", "condition"), total: bool = True
) -> pd.DataFrame:
    """Pooled DER (with its missed / false-alarm / confusion parts) and JER per group, plus
    cpWER per provider; with `total`, a TOTAL row per value of ``by[0]``.

    A local diarizer's turns do not depend on the ASR provider, so its rows are de-duplicated
    per sample × condition; provider-native diarization stays per provider. JER pools pyannote's
    components (summed speaker errors / summed reference speakers), never a mean of file JERs.
    """
    by = list(by)
    if "der_total_s" not in frame:
        return pd.DataFrame()
    rows = frame[(frame["status"] == "ok") & frame["der_total_s"].notna()].copy()
    if rows.empty:
        return pd.DataFrame()
    rows = own_diarizers(rows)
    der_rows = rows.drop_duplicates(["sample_id", "condition", "chunking", "diarizer"])
    der_rows = _counts_or_missing(der_rows, "jer")
    der_rows["files"] = _first(der_rows, [*by, "sample_id"])
    counts = columns("der", "jer")
    out = _pool(der_rows, by, [*counts, "jer_missing", "files"], by[:1], total)
    out["files"] = out["files"].astype(int)
    out["jer"] = rates(out, "jer", unknown="jer_missing")
    for name in ("der", "miss", "fa", "conf"):
        out[name] = rates(out, name)
    out = out.drop(columns=[*counts, "jer_missing"])
    cp = rows[_column(rows, "cp_ref_words").notna()]
    if cp.empty:
        return out
    # cpWER is not de-duplicated: the words, so the speaker-attributed errors, are the provider's
    cp = _counts_or_missing(cp.assign(provider=system_names(cp)), "cpwer")
    system = [by[0], "provider"]
    cp_sums = _pool(
        cp, [*by, "provider"], [*columns("cpwer"), "cpwer_missing"], system, total, False
    )
    cp_sums["cpwer"] = rates(cp_sums, "cpwer", unknown="cpwer_missing")
    wide = cp_sums.pivot(index=by, columns="provider", values="cpwer")
    wide.columns = [f"cpwer {c}" for c in wide.columns]
    return out.merge(wide.reset_index(), on=by, how="left")


def own_diarizers(rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` with a provider's own speakers (native diarization, or channels) named
    ``<diarizer>:<system>``: they come from that system's words, so from its setting too; a
    local diarizer's turns are the clip's whatever the provider or setting."""
    own = rows["diarizer"].isin(("provider", CHANNELS_DIARIZER))
    label = rows["diarizer"] + ":" + system_names(rows)
    return rows.assign(diarizer=rows["diarizer"].where(~own, label))


def _counts_or_missing(rows: pd.DataFrame, metric: str) -> pd.DataFrame:
    """`metric`'s columns with 0 where a row lacks any of them, and ``<metric>_missing`` = 1 on
    those rows, so a group's sum of it says whether its pooled rate is known."""
    counts = columns(metric)
    known = _known(rows, counts)
    out = rows.assign(**{col: _column(rows, col).where(known, 0) for col in counts})
    out[f"{metric}_missing"] = (~known).astype(int)
    return out
