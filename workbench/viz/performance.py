"""Figures for performance monitoring: measured and label-free estimated metrics, trends.

Pure functions from plain data (the dicts a :class:`PerformanceResult` stores,
or ledger rows) to plotly figures; nothing here computes a metric.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import plotly.graph_objects as go

from workbench._json import finite as _num
from workbench.viz._empty import no_data
from workbench.viz._layout import diagonal, layout, reliability
from workbench.viz.figures import _matrix_figure

_LAYOUT = layout()
_COLORS = {"reference": "#8c8c8c", "estimated": "#1f77b4", "actual": "#2ca02c", "limit": "#d62728"}


def performance_metrics_figure(
    reference: Mapping | None,
    estimated: Mapping | None,
    actual: Mapping | None,
    metrics: Sequence[str],
    *,
    tolerance: Mapping[str, float] | None = None,
    relative: Sequence[str] = (),
    error_bars: Mapping[str, float] | None = None,
    intervals: Mapping[str, Sequence[float]] | None = None,
) -> go.Figure:
    """Reference, estimated and actual values of each metric side by side.

    `tolerance` maps a metric to the largest allowed drop (absolute, or a
    fraction of the reference value for metrics named in `relative`, where a
    rise is the bad direction: RMSE); each gets a red tick at its limit.
    `error_bars` maps a metric to the half-width of the estimate's band;
    `intervals` maps a metric to the estimate's ``[low, high]`` interval (asymmetric bars).
    """
    shown = [m for m in metrics if any(_num((b or {}).get(m)) for b in (reference, estimated, actual))]
    title = "Performance: reference period, estimate and measurement"
    if not shown:
        return no_data("No performance figure yet: no metric was measured or estimated.", title)
    fig = go.Figure()
    for key, block, label in (
        ("reference", reference, "reference period"),
        ("estimated", estimated, "estimated (no labels)"),
        ("actual", actual, "actual (labels)"),
    ):
        if not block or not any(_num(block.get(m)) for m in shown):
            continue
        ys = [_num(block.get(m)) for m in shown]
        err = None
        if key == "estimated" and intervals:
            bounds = [intervals.get(m) for m in shown]
            err = dict(
                type="data",
                symmetric=False,
                array=[
                    max(b[1] - y, 0) if b and y is not None else 0 for b, y in zip(bounds, ys, strict=True)
                ],
                arrayminus=[
                    max(y - b[0], 0) if b and y is not None else 0 for b, y in zip(bounds, ys, strict=True)
                ],
                visible=True,
            )
        elif key == "estimated" and error_bars:
            err = dict(type="data", array=[error_bars.get(m) or 0 for m in shown], visible=True)
        fig.add_trace(
            go.Bar(
                name=label,
                x=shown,
                y=ys,
                marker_color=_COLORS[key],
                error_y=err,
                text=[f"{y:.3f}" if y is not None else "" for y in ys],
                textposition="outside",
                hovertemplate="%{x}: %{y:.4f}<extra>" + label + "</extra>",
            )
        )
    limits_x, limits_y = [], []
    for m, tol in (tolerance or {}).items():
        ref = _num((reference or {}).get(m))
        if m in shown and ref is not None and tol is not None:
            limits_x.append(m)
            limits_y.append(ref * (1 + tol) if m in relative else ref - tol)
    if limits_x:
        fig.add_trace(
            go.Scatter(
                x=limits_x,
                y=limits_y,
                mode="markers",
                name="tolerance limit",
                marker=dict(symbol="line-ew-open", size=46, color=_COLORS["limit"], line=dict(width=3)),
                hovertemplate="%{x} limit %{y:.4f}<extra></extra>",
            )
        )
    fig.update_layout(
        title=title, barmode="group", yaxis_title="value", legend=dict(orientation="h", y=-0.15), **_LAYOUT
    )
    return fig


def expected_confusion_figure(
    matrix: Sequence[Sequence[float]],
    labels: Sequence,
    title: str = "Expected confusion matrix (estimated, no labels)",
) -> go.Figure:
    """A confusion matrix of expected (fractional) counts; rows actual, columns predicted."""
    return _matrix_figure(
        matrix,
        labels,
        title,
        empty="No expected confusion matrix: no rows to estimate it on.",
        count="{:,.1f}",
        yaxis_title="actual (expected)",
        hovertemplate="actual %{y}<br>predicted %{x}<br>%{z:,.1f} rows<extra></extra>",
    )


def calibration_map_figure(curve: Mapping) -> go.Figure:
    """How the reference data recalibrates the model's probabilities.

    `curve` holds ``reliability`` (binned raw score vs observed rate on the
    reference, binary) and ``maps`` (per class, the fitted isotonic map from
    the raw probability to the calibrated one).
    """
    rel = (curve or {}).get("reliability")
    if not (curve or {}).get("maps") and not (rel and rel.get("mean_predicted")):
        return no_data(
            "Uncalibrated: the reference period had no labelled rows to calibrate on.",
            "Calibration fitted on the reference period",
        )
    fig = go.Figure()
    if rel and rel.get("mean_predicted"):
        fig.add_trace(
            reliability(
                rel,
                "observed on reference",
                mode="markers",
                x_label="raw",
                marker=dict(size=9, color=_COLORS["reference"]),
            )
        )
    for m in curve.get("maps") or []:
        fig.add_trace(
            go.Scatter(
                x=m["x"],
                y=m["y"],
                mode="lines",
                line_shape="linear",
                name=f"calibration map ({m['class']})",
                hovertemplate="raw %{x:.3f} -> calibrated %{y:.3f}<extra></extra>",
            )
        )
    fig.add_trace(diagonal("no change"))
    if not curve.get("maps"):
        _empty(fig, "uncalibrated: no calibration map was fitted")
    fig.update_layout(
        title="Calibration fitted on the reference period",
        xaxis_title="model probability",
        yaxis_title="calibrated probability / observed rate",
        **_LAYOUT,
    )
    return fig


def control_limits(
    rows: Sequence[Mapping],
    metric: str = "accuracy",
    *,
    tolerance: float = 0.02,
    baseline: int | Sequence[str] | None = None,
    min_baseline: int = 2,
) -> dict:
    """Control limits for a performance trend.

    With a `baseline` (the first n periods, or a list of period labels known to
    be clean) holding at least `min_baseline` values (two at the least):
    mean ± 3 standard deviations of the metric over those periods (the measured
    value where labels exist, else the estimate). Otherwise a tolerance band:
    the latest reference value ± `tolerance`.
    Returns ``{"method", "center", "lower", "upper"}`` (None values when there
    is nothing to base them on).
    """
    rows = list(rows)
    if baseline is not None:
        if isinstance(baseline, int) and not isinstance(baseline, bool):
            base = rows[:baseline]
        else:
            wanted = {str(p) for p in baseline}
            base = [r for r in rows if str(r.get("period")) in wanted]
        vals = [v for v in (_value(r, metric) for r in base) if v is not None]
        if len(vals) >= max(2, min_baseline):
            mean = sum(vals) / len(vals)
            sd = math.sqrt(sum((v - mean) ** 2 for v in vals) / (len(vals) - 1))
            return {
                "method": "mean ± 3 sd of the baseline periods",
                "center": mean,
                "lower": mean - 3 * sd,
                "upper": mean + 3 * sd,
            }
    refs = [v for v in (_num(r.get(f"reference_{metric}")) for r in rows) if v is not None]
    if refs:
        return {
            "method": f"reference ± {tolerance:g}",
            "center": refs[-1],
            "lower": refs[-1] - tolerance,
            "upper": refs[-1] + tolerance,
        }
    return {"method": "none", "center": None, "lower": None, "upper": None}


def performance_trend_figure(
    rows: Sequence[Mapping],
    metric: str = "accuracy",
    *,
    tolerance: float = 0.02,
    baseline: int | Sequence[str] | None = None,
) -> go.Figure:
    """Estimated (no labels) beside measured `metric` per period, with control limits.

    `rows` are dicts such as ``{"period", "estimated_accuracy", "accuracy",
    "reference_accuracy"}`` (one per run, e.g. from the ledger; missing keys
    are gaps). Points outside the limits (see :func:`control_limits`) are red.
    """
    rows = sorted(rows, key=lambda r: str(r.get("period")))
    if not any(_num(r.get(k)) is not None for r in rows for k in (metric, f"estimated_{metric}")):
        return no_data(
            f"No {metric.replace('_', ' ')} to draw yet: no run measured or estimated it.",
            f"{metric.replace('_', ' ')} over time",
        )
    periods = [str(r.get("period")) for r in rows]
    limits = control_limits(rows, metric, tolerance=tolerance, baseline=baseline)
    fig = go.Figure()
    if limits["lower"] is not None and periods:
        fig.add_hrect(y0=limits["lower"], y1=limits["upper"], fillcolor="#2ca02c", opacity=0.08, line_width=0)
        for y, name in ((limits["lower"], "lower limit"), (limits["upper"], "upper limit")):
            fig.add_trace(
                go.Scatter(
                    x=periods,
                    y=[y] * len(periods),
                    mode="lines",
                    name=name,
                    line=dict(color=_COLORS["limit"], dash="dot", width=1),
                    hovertemplate=f"{name} ({limits['method']}) %{{y:.4f}}<extra></extra>",
                )
            )
    ref = [_num(r.get(f"reference_{metric}")) for r in rows]
    if any(v is not None for v in ref):
        fig.add_trace(
            go.Scatter(
                x=periods,
                y=ref,
                mode="lines",
                name="reference period",
                line_shape="hv",
                line=dict(color=_COLORS["reference"], dash="dash"),
            )
        )
    for key, name, dash in (
        (f"estimated_{metric}", "estimated (no labels)", "dash"),
        (metric, "actual", "solid"),
    ):
        ys = [_num(r.get(key)) for r in rows]
        if not any(v is not None for v in ys):
            continue
        color = _COLORS["estimated" if key.startswith("estimated") else "actual"]
        marks = [_COLORS["limit"] if _outside(v, limits) else color for v in ys]
        fig.add_trace(
            go.Scatter(
                x=periods,
                y=ys,
                mode="lines+markers",
                name=name,
                connectgaps=True,
                line=dict(color=color, dash=dash),
                marker=dict(color=marks, size=9),
                hovertemplate="%{x}<br>" + name + " %{y:.4f}<extra></extra>",
            )
        )
    fig.update_layout(
        title=f"{metric.replace('_', ' ')} over time: estimated vs measured",
        xaxis_title="period",
        yaxis_title=metric,
        xaxis_type="category",
        legend=dict(orientation="h", y=-0.2),
        **_LAYOUT,
    )
    return fig


# -- helpers ----------------------------------------------------------------------


def _value(row: Mapping, metric: str) -> float | None:
    actual = _num(row.get(metric))
    return actual if actual is not None else _num(row.get(f"estimated_{metric}"))


def _outside(v: float | None, limits: Mapping) -> bool:
    if v is None or limits["lower"] is None:
        return False
    return v < limits["lower"] or v > limits["upper"]


def _empty(fig: go.Figure, text: str) -> None:
    fig.add_annotation(
        text=text,
        showarrow=False,
        x=0.5,
        y=0.5,
        xref="paper",
        yref="paper",
        font=dict(size=14, color="#57606a"),
    )
