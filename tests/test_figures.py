"""Figures draw exactly the pooled values: each plot's data is checked against rates computed
here by hand from the rows' counts, and a run with nothing for a plot gets no plot."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest
from matplotlib.figure import Figure

from stt_eval.report.figures import plots
from stt_eval.report.figures.accuracy import (
    channel_wer,
    meta_columns,
    wer_by_meta,
    wer_overview,
    wer_vs_snr,
)
from stt_eval.report.figures.chunking import chunking_heatmap
from stt_eval.report.figures.diarization import der_by_condition
from stt_eval.report.figures.labels import category, in_reading_order, series_label, short_label
from stt_eval.report.figures.speed_cost import cost_vs_wer, pareto, speed_vs_wer
from stt_eval.run.directory import rows_frame

from .conftest import flat_row
from .test_settings_apart import NATIVE_SPEAKERS

WHITE10, WHITE20 = "noise(kind=white, snr_db=10)", "noise(kind=white, snr_db=20)"
BABBLE10 = "noise(kind=babble, snr_db=10)"
ULAW = "telephony(codec=ulaw, loss=0)"
ELSEWHERE = Path("/nonexistent.wav")  # a noise file on the machine that made the run
FILE10 = f"noise(kind=file, path={ELSEWHERE}, snr_db=10)"


def _row(sample, provider, condition, subs=0, dels=0, ins=0, n=10, **kw):
    return flat_row(
        "r",
        sample,
        provider,
        condition,
        subs=subs,
        dels=dels,
        ins=ins,
        hits=n - subs - dels,
        ref_words=n,
        **kw,
    )


def _grid(conditions=("clean", WHITE20, WHITE10, BABBLE10, ULAW)):
    """Two providers × two files × conditions; errors grow with the condition's index."""
    rows = []
    for k, cond in enumerate(conditions):
        snr = {WHITE20: 20.0, WHITE10: 10.0, BABBLE10: 10.0}.get(cond)
        for sample, n, group in (("s1", 10, "phone"), ("s2", 30, "phone"), ("s3", 20, "desk")):
            for p, extra in (("A", 0), ("B", 2)):
                rows.append(
                    _row(
                        sample,
                        p,
                        cond,
                        subs=k,
                        dels=extra,
                        ins=1 if p == "B" else 0,
                        n=n,
                        meta={"channel": group, "note": sample},
                        snr_db=None if snr is None else snr + (0.1 if sample == "s1" else -0.1),
                        audio_s=n / 2,
                        latency_s=n / (20 if p == "A" else 4),
                        cost_usd=0.0,
                    )
                )
    return rows


def _wer(rows, **where):
    """Pooled by hand: (S + D + I) / N over the rows matching ``where``."""
    flat = [r.columns() for r in rows]
    pick = [r for r in flat if all(r[k] == v for k, v in where.items())]
    return sum(r["subs"] + r["dels"] + r["ins"] for r in pick) / sum(r["ref_words"] for r in pick)


def _value(data, column="wer", **where):
    part = data
    for k, v in where.items():
        part = part[part[k] == v]
    assert len(part) == 1, where
    return float(part[column].iloc[0])


def test_every_plot_has_a_figure_and_the_values_it_drew():
    rows = _grid()
    made = plots(rows_frame(rows))
    names = [p.name for p in made]
    assert names == ["wer_overview", "wer_vs_snr", "channel_wer", "speed_vs_wer", "wer_by_channel"]
    assert all(isinstance(p.figure, Figure) and not p.data.empty for p in made)
    overview = made[0].data
    for p in "AB":
        for cond in ("clean", WHITE10, ULAW):
            assert _value(overview, provider=p, condition=cond) == pytest.approx(
                _wer(rows, provider=p, condition=cond)
            )
    assert (overview["wer_low"] <= overview["wer"]).all()


def test_wer_vs_snr_uses_the_measured_snr_and_shows_a_single_snr_babble_series():
    rows = _grid()
    plot = wer_vs_snr(rows_frame(rows))
    data = plot.data
    babble = data[data["series"] == "babble noise"]
    assert list(babble["provider"]) == ["A", "B"]
    # measured: the files were at 10.1, 9.9 and 9.9 dB
    assert _value(data, "snr_db", provider="A", condition=BABBLE10) == pytest.approx(
        (10.1 + 9.9 + 9.9) / 3
    )
    assert _value(data, "nominal_snr_db", provider="A", condition=BABBLE10) == 10.0
    assert _value(data, provider="B", condition=BABBLE10) == pytest.approx(
        _wer(rows, provider="B", condition=BABBLE10)
    )
    assert ULAW not in set(data["condition"])  # telephony has no SNR: not on this axis
    (ax,) = plot.figure.axes
    lines = {line.get_label(): line for line in ax.get_lines()}
    for p in "AB":
        line = lines[f"{p} · babble noise"]
        assert line.get_visible() and line.get_marker() not in (None, "None", "", " ")
        assert line.get_markersize() >= 7
        assert list(line.get_xdata()) == pytest.approx([(10.1 + 9.9 + 9.9) / 3])
        assert list(line.get_ydata()) == pytest.approx(
            [100 * _wer(rows, provider=p, condition=BABBLE10)]
        )
        # drawn after the white-noise series, so it is on top where they meet
        assert ax.get_lines().index(line) > ax.get_lines().index(lines[f"{p} · white noise"])
    assert "clean" in " ".join(lines)


def test_channel_bars_only_for_the_categories_the_run_has():
    rows = _grid(("clean", WHITE10))
    assert channel_wer(rows_frame(rows)) is None  # no telephony, no codec: no slot
    rows = _grid(("clean", ULAW))
    plot = channel_wer(rows_frame(rows))
    assert set(plot.data["condition"]) == {"clean", ULAW}
    labels = [t.get_text() for t in plot.figure.axes[0].get_xticklabels()]
    assert labels == ["clean", "telephony µ-law"]
    heights = sorted(round(b.get_height(), 9) for b in plot.figure.axes[0].patches)
    expected = [100 * _wer(rows, provider=p, condition=c) for p in "AB" for c in ("clean", ULAW)]
    assert heights == pytest.approx(sorted(expected))


def test_chunking_heatmap_pools_each_setting_and_sums_boundary_errors():
    assert chunking_heatmap(rows_frame(_grid(("clean",)))) is None
    rows = []
    for chunking, merge, errs in (
        ("none", "none", 1),
        ("10s/1s", "timestamp", 2),
        ("10s/2s", "timestamp", 3),
        ("20s/1s", "concat", 4),
    ):
        for sample, n in (("s1", 10), ("s2", 30)):
            be = None if chunking == "none" else errs - 1
            rows.append(
                _row(
                    sample,
                    "A",
                    "clean",
                    subs=errs,
                    n=n,
                    chunking=chunking,
                    merge=merge,
                    boundary_by_band=None if be is None else (be, 0, 0, 0),
                )
            )
    plot = chunking_heatmap(rows_frame(rows))
    data = plot.data
    assert _value(data, chunking="10s/2s") == pytest.approx(_wer(rows, chunking="10s/2s"))
    assert _value(data, "boundary_errors", chunking="10s/2s") == 2 + 2
    assert _value(data, "chunk_s", chunking="20s/1s") == 20.0
    assert _value(data, "overlap_s", chunking="10s/2s") == 2.0
    assert math.isnan(_value(data, "chunk_s", chunking="none"))
    # no panel has both length and overlap varying: lines, not one-row heatmaps
    assert plot.name == "chunking_by_length"
    wer_ax, errors_ax = plot.figure.axes
    assert not wer_ax.images
    texts = [t.get_text() for t in wer_ax.texts]
    assert f"unchunked: {100 * _wer(rows, chunking='none'):.1f} %" in texts
    assert f"timestamp, 2 s overlap: {100 * _wer(rows, chunking='10s/2s'):.1f} %" in texts
    lines = {line.get_label(): line for line in errors_ax.get_lines()}
    assert list(lines["timestamp, 2 s overlap"].get_ydata()) == [4]


def test_speed_and_cost_scatters_mark_the_pareto_frontier():
    rows = _grid(("clean",))
    plot = speed_vs_wer(rows_frame(rows))
    data = plot.data.set_index("provider")
    audio = sum(r.columns()["audio_s"] for r in rows if r.columns()["provider"] == "B")
    latency = sum(r.columns()["latency_s"] for r in rows if r.columns()["provider"] == "B")
    assert data.loc["B", "rtfx"] == pytest.approx(audio / latency)
    assert data.loc["A", "wer"] == pytest.approx(_wer(rows, provider="A"))
    assert list(data["pareto"]) == [True, False]  # A is faster and more accurate
    assert cost_vs_wer(rows_frame(rows)) is None  # local engines cost nothing
    priced = [
        flat_row(**{**r.columns(), "cost_usd": 0.01 if r.columns()["provider"] == "B" else 0.0})
        for r in rows
    ]
    cost = cost_vs_wer(rows_frame(priced)).data.set_index("provider")
    hours = sum(r.columns()["audio_s"] for r in rows if r.columns()["provider"] == "B") / 3600
    assert cost.loc["B", "usd_per_audio_hour"] == pytest.approx(0.01 * 3 / hours)


def test_pareto_keeps_points_no_other_beats_on_both():
    import pandas as pd

    cost, wer = pd.Series([1.0, 2.0, 3.0, 2.0]), pd.Series([0.3, 0.2, 0.25, 0.35])
    assert list(pareto(cost, wer)) == [True, True, False, False]


def test_der_bars_are_the_pooled_parts_with_a_total_row():
    assert der_by_condition(rows_frame(_grid(("clean",)))) is None
    rows = []
    for cond, missed, conf in (("clean", 1.0, 2.0), (WHITE10, 3.0, 4.0)):
        for sample, total in (("s1", 10.0), ("s2", 30.0)):
            rows.append(
                _row(
                    sample,
                    "A",
                    cond,
                    diarizer="senko",
                    der_missed_s=missed,
                    der_false_alarm_s=0.5,
                    der_confusion_s=conf,
                    der_total_s=total,
                    jer_speaker_error=0.5,
                    jer_speakers=2,
                    cp_errors=3,
                    cp_ref_words=10,
                    cp_subs=3,
                    cp_dels=0,
                    cp_ins=0,
                )
            )
    plot = der_by_condition(rows_frame(rows))
    data = plot.data
    assert list(data["condition"]) == ["clean", WHITE10, "TOTAL"]
    assert _value(data, "miss", condition=WHITE10) == pytest.approx(6.0 / 40.0)
    assert _value(data, "conf", condition="TOTAL") == pytest.approx((2 + 2 + 4 + 4) / 80.0)
    assert _value(data, "der", condition="clean") == pytest.approx((2 + 1 + 4) / 40.0)
    assert _value(data, "cpwer A", condition="TOTAL") == pytest.approx(12 / 40)
    left = plot.figure.axes[0]
    widths = sorted(round(b.get_width(), 9) for b in left.patches)
    assert any(w == pytest.approx(100 * 6.0 / 40.0) for w in widths)  # the missed part


def test_wer_by_metadata_has_each_value_and_the_total():
    rows = _grid(("clean", WHITE10))
    frame = rows_frame(rows)
    assert meta_columns(frame) == ["meta.channel"]  # "note" is one value per file
    data = wer_by_meta(frame, "channel").data
    phone = [r for r in rows if r.meta["channel"] == "phone" and r.columns()["provider"] == "A"]
    by_hand = sum(
        r.columns()["subs"] + r.columns()["dels"] + r.columns()["ins"] for r in phone
    ) / sum(r.columns()["ref_words"] for r in phone)
    assert _value(data, provider="A", **{"meta.channel": "phone"}) == pytest.approx(by_hand)
    assert _value(data, provider="B", **{"meta.channel": "TOTAL"}) == pytest.approx(
        _wer(rows, provider="B")
    )
    assert wer_by_meta(frame, "nonexistent") is None


def test_a_run_of_failures_draws_nothing():
    rows = [flat_row("r", "s1", "A", status="failed", error="boom")]
    assert plots(rows_frame(rows)) == []


def test_conditions_are_read_through_the_registry():
    assert category("clean") == "clean"
    assert category(ULAW) == "telephony"
    assert category("codec(bitrate=32k, format=mp3)") == "codec"
    assert category(f"{ULAW} + {BABBLE10}") == "telephony"
    assert category("not a condition(") == "other"
    assert short_label(WHITE10) == "white noise 10 dB"
    assert series_label(f"{ULAW} + {BABBLE10}") == "babble noise + telephony µ-law"
    shuffled = [ULAW, WHITE10, "clean", BABBLE10, WHITE20, WHITE10]
    assert in_reading_order(shuffled) == ["clean", BABBLE10, WHITE20, WHITE10, ULAW]


def test_chunk_settings_are_never_pooled_into_one_rate():
    """01_quickstart once pooled seven chunk settings into one WER, then crashed pivoting."""
    rows = [
        _row(s, "A", "clean", subs=e, n=10, chunking=c, merge=m)
        for s in ("s1", "s2")
        for c, m, e in (("none", "none", 1), ("10s/2s", "timestamp", 3), ("10s/2s", "concat", 5))
    ]
    rows += [flat_row(**{**r.columns(), "condition": WHITE10, "snr_db": 10.0}) for r in rows]
    frame = rows_frame(rows)
    overview = wer_overview(frame).data.set_index(["provider", "condition"])
    assert overview.loc[("A · unchunked", "clean"), "wer"] == pytest.approx(0.1)
    assert overview.loc[("A · 10s/2s timestamp", "clean"), "wer"] == pytest.approx(0.3)
    assert overview.loc[("A · 10s/2s concat", WHITE10), "wer"] == pytest.approx(0.5)
    snr = wer_vs_snr(frame)  # about the channel: one setting, said in the title
    assert list(snr.data["wer"]) == pytest.approx([0.1, 0.1])
    assert "unchunked audio" in snr.figure.axes[0].get_title()


def test_mix_and_split_transcripts_are_never_pooled_into_one_rate():
    """A channel run's split transcript is another system than its mix: two bars, each its own."""
    rows = [_row("s1", "A", "clean", subs=1, n=10), _row("s2", "A", "clean", subs=0, n=10)]
    rows += [_row("s1", "A", "clean", subs=6, n=10, channel_mode="split")]
    data = wer_overview(rows_frame(rows)).data
    assert sorted(data["provider"]) == ["A · unchunked", "A · unchunked, split channels"]
    assert _value(data, provider="A · unchunked") == pytest.approx(1 / 20)
    assert _value(data, provider="A · unchunked, split channels") == pytest.approx(6 / 10)


def test_a_noise_file_missing_here_still_labels_its_condition_noise():
    """The report of a run made elsewhere reads the condition label, never the file it names."""
    assert not ELSEWHERE.exists()
    assert category(FILE10) == "noise"
    assert short_label(FILE10) == "file noise 10 dB"
    assert in_reading_order([ULAW, FILE10, "clean"]) == ["clean", FILE10, ULAW]
    rows = [
        replace(r, identity=replace(r.identity, condition=FILE10))
        if r.identity.condition == WHITE10
        else r
        for r in _grid()
    ]
    frame = rows_frame(rows)
    snr = wer_vs_snr(frame).data
    assert set(snr.loc[snr["condition"] == FILE10, "series"]) == {"file noise"}
    assert _value(snr, "nominal_snr_db", provider="A", condition=FILE10) == 10.0
    titles = [ax.get_title() for ax in wer_overview(frame).figure.axes]
    assert "file noise 10 dB" in titles


LENGTHS, OVERLAPS, MERGES = (10, 15, 20, 30), (1, 2), ("timestamp", "text-align")


def sixteen_settings(files: int = 4) -> list:
    """A chunking grid of 16 settings (4 lengths × 2 overlaps × 2 merges) and unchunked, of one
    provider over clean and white noise; WER falls with the chunk length. 30s/2s text-align has
    a single file: its rates pool one file, so they have no interval."""
    rows = []
    for c, (length, overlap, merge) in enumerate(
        (length, overlap, merge) for merge in MERGES for length in LENGTHS for overlap in OVERLAPS
    ):
        for k, condition in enumerate(("clean", WHITE10)):
            for f in range(files):
                if (length, overlap, merge) == (30, 2, "text-align") and f:
                    continue
                errors = (40 - length) // 5 + k * 3 + f % 2 + (c % 3)
                rows.append(
                    _row(
                        f"s{f}",
                        "faster-whisper",
                        condition,
                        subs=errors,
                        n=60,
                        chunking=f"{length}s/{overlap}s",
                        merge=merge,
                        boundary_by_band=(errors // 2, 0, 0, 0),
                        snr_db=10.0 if k else None,
                        audio_s=30.0,
                        latency_s=length / 10,
                    )
                )
    for k, condition in enumerate(("clean", WHITE10)):
        for f in range(files):
            rows.append(
                _row(
                    f"s{f}",
                    "faster-whisper",
                    condition,
                    subs=1 + k,
                    n=60,
                    chunking="none",
                    merge="none",
                    snr_db=10.0 if k else None,
                    audio_s=30.0,
                    latency_s=2.0,
                )
            )
    return rows


def _series(ax) -> list[tuple[str, str]]:
    """The (colour, marker) of each labelled series of a panel: lines with markers, and bar
    groups (colour, hatch)."""
    from matplotlib.colors import to_hex

    out = [
        (to_hex(line.get_color()), str(line.get_marker()))
        for line in ax.get_lines()
        if not line.get_label().startswith("_") and line.get_marker() not in (None, "None", "")
    ]
    for bars in ax.containers:
        if bars.get_label() and not bars.get_label().startswith("_") and hasattr(bars, "patches"):
            first = bars.patches[0]
            out.append((to_hex(first.get_facecolor()), str(first.get_hatch())))
    return out


def test_sixteen_settings_stay_tellable_in_every_panel():
    frame = rows_frame(sixteen_settings())
    made = plots(frame)
    names = [p.name for p in made]
    assert "wer_overview" in names and "chunking_heatmap" in names
    for plot in made:
        for ax in plot.figure.axes:
            series = _series(ax)
            assert len(series) == len(set(series)), (plot.name, ax.get_title(), series)
    overview = next(p for p in made if p.name == "wer_overview")
    clean = overview.figure.axes[0]
    assert len(_series(clean)) == 17  # 16 settings and unchunked, each its own series
    ticks = [t.get_text() for t in clean.get_yticklabels()]
    assert "faster-whisper · 30s/2s text-align" in ticks and len(set(ticks)) == 17


def test_a_one_file_system_is_labelled_n1_and_draws_no_whisker():
    frame = rows_frame(sixteen_settings())
    plot = wer_overview(frame)
    data = plot.data
    one = data[data["provider"] == "faster-whisper · 30s/2s text-align"]
    assert set(one["files"]) == {1}
    clean = plot.figure.axes[0]
    texts = [t.get_text() for t in clean.texts]
    wer = 100 * float(one.loc[one["condition"] == "clean", "wer"].iloc[0])
    assert f"{wer:.1f} % n=1" in texts
    assert sum(t.endswith("n=1") for t in texts) == 1
    # a whisker for each system of 2+ files whose interval has a width, none for the single file
    part = data[data["condition"] == "clean"]
    wide = (part["files"] >= 2) & (part["wer_high"] > part["wer_low"])
    assert len([c for c in clean.containers if c.has_xerr]) == wide.sum() >= 15


def test_the_heatmap_has_errors_at_cuts_beside_wer_and_the_baseline_on_its_scale():
    rows = sixteen_settings()
    plot = chunking_heatmap(rows_frame(rows))
    fig = plot.figure
    images = [ax for ax in fig.axes if ax.images]
    # per merge: a WER heatmap and an errors heatmap
    assert len(images) == 4
    wer_ax = images[0]
    grid = wer_ax.images[0].get_array()
    assert grid.shape == (len(LENGTHS) + 1, len(OVERLAPS))  # + the unchunked row
    unchunked = 100 * _wer(rows, chunking="none")
    assert list(grid[0]) == pytest.approx([unchunked] * len(OVERLAPS))
    assert wer_ax.images[0].get_clim() == (0, pytest.approx(100 * plot.data["wer"].max()))
    assert f"unchunked {unchunked:.1f} %" in [t.get_text() for t in wer_ax.texts]
    errors = images[1].images[0].get_array()
    by_hand = sum(
        r.columns()["boundary_errors"]
        for r in rows
        if r.columns()["chunking"] == "10s/1s" and r.columns()["merge"] == "timestamp"
    )
    assert errors[0, 0] == by_hand


def test_settings_that_do_not_cross_are_lines_not_a_sparse_heatmap():
    """15 s / 3 s beside 30 s / 2 s are two points: a 2 × 2 heatmap would be half "not run"."""
    rows = [
        _row(
            s,
            "A",
            "clean",
            subs=e,
            n=20,
            chunking=c,
            merge=m,
            boundary_by_band=None if b is None else (b, 0, 0, 0),
        )
        for s in ("s1", "s2")
        for c, m, e, b in (
            ("none", "none", 1, None),
            ("15s/3s", "timestamp", 2, 1),
            ("30s/2s", "timestamp", 3, 2),
        )
    ]
    plot = chunking_heatmap(rows_frame(rows))
    assert plot.name == "chunking_by_length"
    assert not any(ax.images for ax in plot.figure.axes)
    wer_ax = plot.figure.axes[0]
    assert sorted(
        line.get_label() for line in wer_ax.get_lines() if line.get_marker() != "None"
    ) == [
        "timestamp, 2 s overlap",
        "timestamp, 3 s overlap",
    ]


def test_native_diarization_of_sixteen_settings_has_a_tellable_bar_per_system():
    rows = [flat_row(**{**r.columns(), **NATIVE_SPEAKERS}) for r in sixteen_settings()]
    plot = der_by_condition(rows_frame(rows))
    right = plot.figure.axes[1]
    series = _series(right)
    assert len(series) == 1 + 17 == len(set(series))  # JER, and cpWER of each system
