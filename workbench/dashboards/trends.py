"""Trend charts across runs, by data period, with control limits.

Statistical process control on the ledger's key figures: the centre line and
the limits (mean ± 3 standard deviations) come from the in-control periods,
i.e. the runs whose gating checks passed; a point outside the limits is drawn
red. Beside them, each check's own threshold. Pure functions from ledger rows
to plotly figures: nothing is recomputed from data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import plotly.graph_objects as go

from workbench.dashboards.runs import by_period, check_of, latest_per_period, metric
from workbench.viz._template import slim_template
from workbench.viz.performance import control_limits, performance_trend_figure

_LAYOUT = dict(template=slim_template(), margin=dict(l=60, r=20, t=50, b=40), height=330,
               legend=dict(orientation="h", y=-0.22))
_RED, _BLUE, _GREY = "#d62728", "#1f77b4", "#8c8c8c"
_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")
DRIFT_SHARE, FOUR_FIFTHS = "drift.share", 0.8


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
    return out


def drift_share_figure(runs: Sequence[Mapping]) -> go.Figure | None:
    """Share of drifted columns per period, with control limits from the in-control periods."""
    drift = [r for r in runs if r["kind"] == "drift" and metric(r, DRIFT_SHARE) is not None]
    if not drift:
        return None
    fig = go.Figure()
    models = sorted({r["model"] for r in drift})
    all_points = latest_per_period(drift) if len(models) == 1 else by_period(drift)
    rows = [{"period": r["period_label"], "drift_share": metric(r, DRIFT_SHARE)} for r in all_points]
    clean = [r["period_label"] for r in all_points if r["status"] == "passed"]
    limits = control_limits(rows, "drift_share", baseline=clean)
    periods = sorted({r["period"] for r in rows})
    _limit_lines(fig, periods, limits)
    check = check_of(drift[0], DRIFT_SHARE)
    if check and check.get("threshold") is not None:
        fig.add_trace(go.Scatter(x=periods, y=[check["threshold"]] * len(periods), mode="lines",
                                 name=f"check limit ({check['threshold']:.0%})",
                                 line=dict(color=_RED, dash="dash", width=1.5), hoverinfo="skip"))
    for i, model in enumerate(models):
        points = latest_per_period([r for r in drift if r["model"] == model])
        ys = [metric(r, DRIFT_SHARE) for r in points]
        failed = [DRIFT_SHARE in r["failed_errors"] or _outside(y, limits) for r, y in zip(points, ys, strict=True)]
        fig.add_trace(go.Scatter(
            x=[r["period_label"] for r in points], y=ys, mode="lines+markers",
            name="drift share" if len(models) == 1 else f"drift share · {model}",
            line=dict(color=_PALETTE[i % len(_PALETTE)]),
            marker=dict(size=9, color=[_RED if f else _PALETTE[i % len(_PALETTE)] for f in failed]),
            customdata=[[r.get("name") or r["id"], r["status"].replace("_", " ")] for r in points],
            hovertemplate="%{x}: %{y:.0%} of columns drifted<br>%{customdata[0]} (%{customdata[1]})<extra></extra>"))
    fig.update_layout(title="Drift share by data period (control limits from in-control periods)",
                      yaxis_title="share of columns drifted", yaxis_tickformat=".0%", xaxis_type="category",
                      **_LAYOUT)
    return fig


def accuracy_figure(runs: Sequence[Mapping]) -> go.Figure | None:
    """Estimated accuracy (no labels yet) beside the measured one, by period, with control limits."""
    rows: dict[str, dict] = {}
    # Drift runs carry the label-free estimate (and a measurement when the batch had labels);
    # performance runs measure on labelled data and win where both exist.
    for kind in ("drift", "performance"):
        for r in latest_per_period(x for x in runs if x["kind"] == kind):
            row = rows.setdefault(r["period_label"], {"period": r["period_label"]})
            for key in ("estimated_accuracy", "accuracy", "reference_accuracy"):
                v = metric(r, key)
                if v is not None and (kind == "performance" or key not in row):
                    row[key] = v
    rows_list = [r for r in rows.values() if len(r) > 1]
    if not any(k in r for r in rows_list for k in ("estimated_accuracy", "accuracy")):
        return None
    fig = performance_trend_figure(rows_list, "accuracy")
    fig.update_layout(title="Accuracy by data period: estimated (no labels) beside measured", **_LAYOUT)
    return fig


def fairness_figures(runs: Sequence[Mapping]) -> dict[str, go.Figure]:
    """Per sensitive attribute: each group's selection-rate ratio to the best group, by period."""
    bias = latest_per_period(r for r in runs if r["kind"] == "bias" and r["status"] != "failed")
    prefix = "bias.impact_ratio."
    groups: dict[str, list[str]] = {}
    for r in bias:
        for key in r.get("metrics") or {}:
            if key.startswith(prefix):
                attr, _, group = key[len(prefix):].partition(".")
                if group and group not in groups.setdefault(attr, []):
                    groups[attr].append(group)
    clean = [r["period_label"] for r in bias if r["status"] == "passed"]
    periods = [r["period_label"] for r in bias]
    out = {}
    for attr, names in groups.items():
        fig = go.Figure()
        limit = next((c["threshold"] for r in reversed(bias)
                      if (c := check_of(r, f"bias.demographic_parity_ratio.{attr}")) and c.get("threshold")), FOUR_FIFTHS)
        fig.add_trace(go.Scatter(x=periods, y=[limit] * len(periods), mode="lines", name=f"limit {limit:g}",
                                 line=dict(color=_RED, dash="dash", width=1.5), hoverinfo="skip"))
        for i, group in enumerate(names):
            color = _PALETTE[i % len(_PALETTE)]
            ys = [metric(r, f"{prefix}{attr}.{group}") for r in bias]
            rows = [{"period": p, "ratio": y} for p, y in zip(periods, ys, strict=True)]
            limits = control_limits(rows, "ratio", baseline=clean)
            if limits["lower"] is not None:
                fig.add_trace(go.Scatter(x=periods, y=[limits["lower"]] * len(periods), mode="lines",
                                         name=f"{group}: lower control limit", legendgroup=group,
                                         showlegend=False, hoverinfo="skip",
                                         line=dict(color=color, dash="dot", width=1)))
            marks = [_RED if (y is not None and (y < limit or _outside(y, limits))) else color for y in ys]
            fig.add_trace(go.Scatter(
                x=periods, y=ys, mode="lines+markers", name=group, legendgroup=group, connectgaps=True,
                line=dict(color=color), marker=dict(size=8, color=marks),
                hovertemplate=f"{attr} = {group}<br>%{{x}}: %{{y:.2f}} of the best group's rate<extra></extra>"))
        fig.update_layout(title=f"Fairness by {attr}: each group's selection rate ÷ the highest group's "
                                "(dotted: lower control limit)",
                          yaxis_title="ratio to best group", xaxis_type="category", **_LAYOUT)
        out[attr] = fig
    return out


def _limit_lines(fig: go.Figure, periods: Sequence[str], limits: Mapping) -> None:
    if limits.get("lower") is None or not periods:
        return
    lower = max(limits["lower"], 0.0)
    for y, name in ((limits["center"], "centre line"), (lower, "lower control limit"),
                    (limits["upper"], "upper control limit")):
        fig.add_trace(go.Scatter(x=list(periods), y=[y] * len(periods), mode="lines", name=name,
                                 line=dict(color=_GREY, dash="dot" if name != "centre line" else "solid", width=1),
                                 hovertemplate=f"{name}: %{{y:.3f}} ({limits['method']})<extra></extra>"))


def _outside(v, limits: Mapping) -> bool:
    if v is None or limits.get("lower") is None:
        return False
    return v < limits["lower"] or v > limits["upper"]
