"""Trend charts across runs, by data period, with control limits.

Statistical process control on the ledger's key figures: the centre line and
the limits (mean ± 3 standard deviations) come from the in-control runs,
i.e. the runs whose gating checks passed, once there are at least
``MIN_CONTROL_RUNS`` of them; a point outside the limits is drawn red.
Beside them, each check's own threshold. Every run is a point: several runs
of one period (batches, segments) sit side by side at that period, so a
failed run never hides behind another. Pure functions from ledger rows to
plotly figures: nothing is recomputed from data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import plotly.graph_objects as go

from workbench.dashboards._trend_axis import (
    BLUE,
    GREY,
    LAYOUT,
    RED,
    _accuracy_row,
    _Axis,
    _finish,
    _hover,
    _limit_lines,
    _outside,
    _series,
)
from workbench.dashboards.runs import by_period, check_of, metric
from workbench.viz.performance import control_limits

_LAYOUT, _RED, _BLUE, _GREY = LAYOUT, RED, BLUE, GREY
_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")
DRIFT_SHARE, FOUR_FIFTHS = "drift.share", 0.8
# Control limits from fewer in-control runs are a sliver (the standard deviation of two or three
# numbers is mostly chance) and paint ordinary runs as out of control; SPC texts ask for 20-25
# subgroups, five is the least that gives a usable band. Until then the check's limit decides.
MIN_CONTROL_RUNS = 5


def trend_figures(runs: Sequence[Mapping]) -> list[tuple[str, go.Figure]]:
    """The trend charts the runs support: drift share, accuracy, and fairness per sensitive attribute."""
    out = []
    fig = drift_share_figure(runs)
    if fig is not None:
        out.append(("drift_share", fig))
    fig = accuracy_figure(runs)
    if fig is not None:
        out.append(("accuracy", fig))
    out += [(f"fairness.{a}", f) for a, f in fairness_figures(runs).items()]
    out += [(f"fairness_gaps.{a}", f) for a, f in fairness_gap_figures(runs).items()]
    return out


def drift_share_figure(runs: Sequence[Mapping]) -> go.Figure | None:
    """Share of drifted columns, one point per run, with control limits from the in-control runs."""
    drift = [r for r in runs if r["kind"] == "drift" and metric(r, DRIFT_SHARE) is not None]
    if not drift:
        return None
    axis = _Axis(drift)
    fig = go.Figure()
    clean = [
        {"period": r["period_label"], "drift_share": metric(r, DRIFT_SHARE)}
        for r in drift
        if r["status"] == "passed"
    ]
    limits = control_limits(clean, "drift_share", baseline=len(clean), min_baseline=MIN_CONTROL_RUNS)
    _limit_lines(fig, axis, limits)
    check = check_of(drift[0], DRIFT_SHARE)
    if check and check.get("threshold") is not None:
        fig.add_trace(
            axis.line(
                check["threshold"],
                f"check limit ({check['threshold']:.0%})",
                line=dict(color=_RED, dash="dash", width=1.5),
                hoverinfo="skip",
            )
        )
    for i, (label, points) in enumerate(_series(drift, "drift share")):
        ys = [metric(r, DRIFT_SHARE) for r in points]
        # red: the run failed a drift check (the share's own or a column's) or sits outside the limits
        failed = [
            any(str(n).startswith("drift.") for n in r["failed_errors"]) or _outside(y, limits)
            for r, y in zip(points, ys, strict=True)
        ]
        color = _PALETTE[i % len(_PALETTE)]
        fig.add_trace(
            axis.runs(
                points,
                ys,
                label,
                "%{y:.0%} of columns drifted",
                line=dict(color=color),
                marker=dict(size=9, color=[_RED if f else color for f in failed]),
            )
        )
    fig.update_layout(
        title="Drift share by data period, every run "
        + (
            "(control limits from in-control runs)"
            if limits["lower"] is not None
            else f"(control limits once {MIN_CONTROL_RUNS} runs are in control; {len(clean)} so far)"
        ),
        yaxis_title="share of columns drifted",
        yaxis_tickformat=".0%",
        **_LAYOUT,
    )
    axis.apply(fig)
    return fig


def accuracy_figure(runs: Sequence[Mapping]) -> go.Figure | None:
    """Estimated accuracy (no labels) beside the measured one, one point per run, with control limits.

    Drift runs carry the label-free estimate (and a measurement when the batch
    had labels); performance runs measure on labelled data. An estimate carries
    its interval (error bars), and an estimate that cannot be trusted (its
    batch outside the reference's support, or the reference the training data:
    the check ``performance.estimate_reliable`` failed) is drawn as a hollow
    ✕ and listed as "estimate unreliable".
    """
    runs = [
        r
        for r in runs
        if r["kind"] in ("drift", "performance")
        and r["status"] != "failed"
        and any(metric(r, k) is not None for k in ("estimated_accuracy", "accuracy"))
    ]
    if not runs:
        return None
    axis = _Axis(runs)
    clean = [_accuracy_row(r) for r in runs if r["status"] == "passed"]
    limits = control_limits(clean, "accuracy", baseline=len(clean), min_baseline=MIN_CONTROL_RUNS)
    if limits["lower"] is None:  # no in-control runs to base them on: the reference period ± a tolerance
        limits = control_limits([_accuracy_row(r) for r in by_period(runs)], "accuracy")
    fig = go.Figure()
    if limits["lower"] is not None:
        fig.add_hrect(y0=limits["lower"], y1=limits["upper"], fillcolor="#2ca02c", opacity=0.08, line_width=0)
        for y, name in ((limits["lower"], "lower limit"), (limits["upper"], "upper limit")):
            fig.add_trace(
                axis.line(
                    y,
                    name,
                    line=dict(color=_RED, dash="dot", width=1),
                    hovertemplate=f"{name} ({limits['method']}) %{{y:.4f}}<extra></extra>",
                )
            )
    refs: dict[str, float] = {}
    for r in by_period(runs):
        v = metric(r, "reference_accuracy")
        if v is not None:
            refs[r["period_label"]] = v
    if refs:
        xs = [axis.index[p] for p in refs]
        fig.add_trace(
            go.Scatter(
                x=[x - 0.5 for x in xs] + [xs[-1] + 0.5],
                y=[*refs.values(), list(refs.values())[-1]],
                mode="lines",
                name="reference period",
                line_shape="hv",
                line=dict(color=_GREY, dash="dash"),
                hoverinfo="skip",
            )
        )
    for key, name, color, dash in (
        ("estimated_accuracy", "estimated (no labels)", _BLUE, "dash"),
        ("accuracy", "actual", "#2ca02c", "solid"),
    ):
        for label, points in _series([r for r in runs if metric(r, key) is not None], name):
            ys = [metric(r, key) for r in points]
            estimated = key == "estimated_accuracy"
            doubtful = [estimated and unreliable_estimate(r) for r in points]
            fig.add_trace(
                axis.runs(
                    points,
                    ys,
                    label,
                    name + " %{y:.4f}",
                    line=dict(color=color, dash=dash),
                    marker=dict(
                        size=9,
                        color=[_RED if _outside(y, limits) else color for y in ys],
                        symbol=["x-open" if d else "circle" for d in doubtful],
                    ),
                    error_y=_interval_bars(points, ys, "estimated_accuracy") if estimated else None,
                    notes=[" · ESTIMATE UNRELIABLE" if d else "" for d in doubtful],
                )
            )
            if any(doubtful):
                bad = [(r, y) for r, y, d in zip(points, ys, doubtful, strict=True) if d]
                fig.add_trace(
                    go.Scatter(
                        x=[axis.x(r) for r, _ in bad],
                        y=[y for _, y in bad],
                        mode="markers",
                        name="estimate unreliable (batch outside the reference, or training-data reference)",
                        marker=dict(size=16, symbol="circle-open", color=_RED, line=dict(width=2)),
                        hoverinfo="skip",
                    )
                )
    fig.update_layout(
        title="Accuracy by data period, every run: estimated (no labels) beside measured",
        yaxis_title="accuracy",
        **_LAYOUT,
    )
    axis.apply(fig)
    return fig


def unreliable_estimate(run: Mapping) -> bool:
    """Whether a run's label-free performance estimate was marked unreliable."""
    check = check_of(run, "performance.estimate_reliable")
    if check is not None:
        return not check.get("passed", True)
    return metric(run, "estimate_reliable") == 0.0


def fairness_gap_figures(runs: Sequence[Mapping]) -> dict[str, go.Figure]:
    """Per sensitive attribute: equalized-odds and equal-opportunity differences, one point per run.

    Measured where the batch had labels (solid), estimated from calibrated
    probabilities where it had none (dashed, with the estimate's interval);
    a point whose ``.worsened`` check failed is red.
    """
    bias = by_period(r for r in runs if r["kind"] == "bias" and r["status"] != "failed")
    attrs: list[str] = []
    for r in bias:
        for key in r.get("metrics") or {}:
            for prefix in _GAP_PREFIXES:
                attr = key[len(prefix) :] if key.startswith(prefix) else ""
                if attr and not attr.endswith((".low", ".high")) and attr not in attrs:
                    attrs.append(attr)
    out = {}
    for attr in attrs:
        mine = [r for r in bias if any(metric(r, f"{p}{attr}") is not None for p in _GAP_PREFIXES)]
        if not any(metric(r, f"bias.estimated.equalized_odds_difference.{attr}") is not None for r in mine):
            continue  # measured only: the impact-ratio chart and the run pages already show those
        axis = _Axis(mine)
        fig = go.Figure()
        for i, (metric_name, words) in enumerate(_GAPS):
            color = _PALETTE[i]
            for estimated in (False, True):
                key = f"bias.{'estimated.' if estimated else ''}{metric_name}.{attr}"
                points = sorted((r for r in mine if metric(r, key) is not None), key=axis.x)
                if not points:
                    continue
                ys = [metric(r, key) for r in points]
                failed = [f"{key}.worsened" in r["failed_errors"] for r in points]
                how = "estimated (no labels)" if estimated else "measured"
                fig.add_trace(
                    go.Scatter(
                        x=[axis.x(r) for r in points],
                        y=ys,
                        mode="lines+markers",
                        name=f"{words}: {how}",
                        line=dict(color=color, dash="dash" if estimated else "solid"),
                        marker=dict(size=9, color=[_RED if f else color for f in failed]),
                        error_y=_interval_bars(points, ys, key) if estimated else None,
                        customdata=_hover(points),
                        hovertemplate=f"{words} ({how})<br>%{{customdata[0]}}: %{{y:.3f}}"
                        "<br>%{customdata[1]}<extra></extra>",
                    )
                )
        title = f"Fairness by {attr}: equalized odds, equal opportunity: estimated (no labels) and measured"
        out[attr] = _finish(fig, axis, title, "difference between groups")
    return out


_GAPS = (
    ("equalized_odds_difference", "equalized-odds difference"),
    ("equal_opportunity_difference", "equal-opportunity difference"),
)
_GAP_PREFIXES = tuple(f"bias.{e}{m}." for m, _ in _GAPS for e in ("", "estimated."))


def _interval_bars(points: Sequence[Mapping], ys: Sequence[float], key: str) -> dict | None:
    """Asymmetric error bars from a run's ``<key>_low``/``<key>_high`` (or ``<key>.low``/``.high``)."""
    lows = [
        metric(r, f"{key}_low") if metric(r, f"{key}_low") is not None else metric(r, f"{key}.low")
        for r in points
    ]
    highs = [
        metric(r, f"{key}_high") if metric(r, f"{key}_high") is not None else metric(r, f"{key}.high")
        for r in points
    ]
    if all(v is None for v in lows + highs):
        return None
    return dict(
        type="data",
        symmetric=False,
        array=[max(h - y, 0) if h is not None else 0 for h, y in zip(highs, ys, strict=True)],
        arrayminus=[max(y - lo, 0) if lo is not None else 0 for lo, y in zip(lows, ys, strict=True)],
        thickness=1,
        width=3,
    )


def fairness_figures(runs: Sequence[Mapping]) -> dict[str, go.Figure]:
    """Per sensitive attribute: each group's selection-rate ratio to the best group, one point per run."""
    bias = by_period(r for r in runs if r["kind"] == "bias" and r["status"] != "failed")
    prefix = "bias.impact_ratio."
    groups: dict[str, list[str]] = {}
    for r in bias:
        for key in r.get("metrics") or {}:
            if key.startswith(prefix):
                attr, _, group = key[len(prefix) :].partition(".")
                if group and group not in groups.setdefault(attr, []):
                    groups[attr].append(group)
    out = {}
    for attr, names in groups.items():
        runs_of = [r for r in bias if any(metric(r, f"{prefix}{attr}.{g}") is not None for g in names)]
        axis = _Axis(runs_of)
        fig = go.Figure()
        limit = next(
            (
                c["threshold"]
                for r in reversed(runs_of)
                if (c := check_of(r, f"bias.demographic_parity_ratio.{attr}")) and c.get("threshold")
            ),
            FOUR_FIFTHS,
        )
        fig.add_trace(
            axis.line(
                limit,
                f"limit {limit:g}",
                line=dict(color=_RED, dash="dash", width=1.5),
                hoverinfo="skip",
            )
        )
        for i, group in enumerate(names):
            color = _PALETTE[i % len(_PALETTE)]
            key = f"{prefix}{attr}.{group}"
            points = sorted((r for r in runs_of if metric(r, key) is not None), key=axis.x)
            ys = [metric(r, key) for r in points]
            clean = [
                {"period": r["period_label"], "ratio": y}
                for r, y in zip(points, ys, strict=True)
                if r["status"] == "passed"
            ]
            limits = control_limits(clean, "ratio", baseline=len(clean), min_baseline=MIN_CONTROL_RUNS)
            if limits["lower"] is not None:
                fig.add_trace(
                    axis.line(
                        limits["lower"],
                        f"{group}: lower control limit",
                        legendgroup=group,
                        showlegend=False,
                        hoverinfo="skip",
                        line=dict(color=color, dash="dot", width=1),
                    )
                )
            marks = [_RED if (y < limit or _outside(y, limits)) else color for y in ys]
            fig.add_trace(
                axis.runs(
                    points,
                    ys,
                    group,
                    "%{y:.2f} of the best group's rate",
                    hover_head=f"{attr} = {group}<br>",
                    legendgroup=group,
                    line=dict(color=color),
                    marker=dict(size=8, color=marks),
                )
            )
        title = (
            f"Fairness by {attr}: each group's selection rate ÷ the highest group's, every run "
            "(dotted: lower control limit)"
        )
        out[attr] = _finish(fig, axis, title, "ratio to best group")
    return out
