"""Figures for a champion-vs-challenger comparison: the paired differences, per-group changes, calibration,
serving and disagreement.

Pure functions from the plain dicts a
:class:`~workbench.releases.result.ComparisonResult` stores; nothing here
computes a statistic.
"""

from __future__ import annotations

from collections.abc import Mapping

import plotly.graph_objects as go

from workbench.metrics import METRIC_LABELS, PAIRED_METRICS
from workbench.viz._empty import no_data
from workbench.viz._layout import diagonal, interval_bars, layout

_LAYOUT = layout(left=150, height=320)  # room for the statistics' names
_ROLES = {"champion": "#1f77b4", "challenger": "#ff7f0e"}


def delta_figure(paired: Mapping | None, confidence: float, margin: float) -> go.Figure:
    """Challenger − champion for ROC AUC (bootstrap and DeLong intervals), accuracy, cost and Brier score."""
    title = "Challenger − champion, with paired intervals"
    if not paired or (paired.get("roc_auc") or {}).get("delta") is None and not paired.get("accuracy"):
        return no_data("No labelled rows: the paired differences need the outcomes.", title)
    names, x, intervals = [], [], []
    for key in PAIRED_METRICS:
        label = METRIC_LABELS[key]
        d = paired.get(key) or {}
        if d.get("delta") is None:
            continue
        names.append(f"Δ {label}" + (" (bootstrap)" if key == "roc_auc" else ""))
        x.append(d["delta"])
        intervals.append(d.get("ci"))
        if key == "roc_auc" and (d.get("delong") or {}).get("ci"):
            names.append("Δ ROC AUC (DeLong)")
            x.append(d["delta"])
            intervals.append(d["delong"]["ci"])
    fig = go.Figure(
        go.Scatter(
            x=x,
            y=names,
            mode="markers",
            marker=dict(size=10, color="#444"),
            error_x=interval_bars(x, intervals),
            name=f"{confidence:.0%} interval",
        )
    )
    fig.add_vline(x=0, line_dash="dot", line_color="#888")
    if margin:
        fig.add_vline(
            x=-margin, line_dash="dash", line_color="#d62728", annotation_text="non-inferiority margin"
        )
    fig.update_layout(**_LAYOUT, title=title, xaxis_title="challenger − champion")
    fig.update_yaxes(autorange="reversed")
    return fig


def group_deltas_figure(attribute: Mapping, confidence: float) -> go.Figure:
    """Each group's change in its rates (challenger − champion) with the paired intervals."""
    title = f"Change by group of {attribute.get('name')} (challenger − champion)"
    fig = go.Figure()
    for rate in ("selection_rate", "tpr", "fpr", "precision", "accuracy"):
        groups = [g for g in attribute.get("groups") or [] if rate in g.get("rates", {})]
        entries = [g["rates"][rate] for g in groups]
        if not entries:
            continue
        fig.add_trace(
            go.Scatter(
                x=[e["delta"] for e in entries],
                y=[g["group"] for g in groups],
                mode="markers",
                name=rate,
                error_x=interval_bars([e["delta"] for e in entries], [e.get("ci") for e in entries]),
            )
        )
    if not fig.data:
        return no_data(f"No group of {attribute.get('name')} is large enough to compare.", title)
    fig.add_vline(x=0, line_dash="dot", line_color="#888")
    fig.update_layout(
        **_LAYOUT,
        title=title,
        xaxis_title=f"change ({confidence:.0%} interval)",
        legend=dict(orientation="h"),
    )
    return fig


def calibration_figure(calibration: Mapping | None) -> go.Figure:
    """Both models' reliability curves against the diagonal."""
    title = "Calibration: predicted vs observed share positive"
    if not calibration:
        return no_data("No labelled rows: calibration needs the outcomes.", title)
    fig = go.Figure(diagonal("perfect", dash="dot", color="#aaa"))
    for role, c in calibration.items():
        curve = c.get("curve") or {}
        fig.add_trace(
            go.Scatter(
                x=curve.get("mean_predicted", []),
                y=curve.get("fraction_positive", []),
                mode="lines+markers",
                name=f"{role} (ECE {c.get('ece', 0):.3f})",
                line=dict(color=_ROLES.get(role)),
            )
        )
    fig.update_layout(
        **layout(),
        title=title,
        xaxis_title="mean predicted probability",
        yaxis_title="share actually positive",
    )
    return fig


def operations_figure(operations: Mapping | None) -> go.Figure:
    """Single-row latency p50 and p95 of each model."""
    title = "Single-row latency"
    if not operations:
        return no_data("Latency was not measured in this comparison.", title)
    fig = go.Figure()
    for role, o in operations.items():
        fig.add_trace(
            go.Bar(
                x=["p50", "p95"],
                y=[o.get("p50_us"), o.get("p95_us")],
                name=role,
                marker_color=_ROLES.get(role),
            )
        )
    fig.update_layout(
        **layout(height=320),
        title=title,
        yaxis_title="µs",
        barmode="group",
    )
    return fig


def disagreement_figure(agreement: Mapping | None) -> go.Figure:
    """The slices where the two models decide differently most often."""
    title = "Where the models disagree"
    segments = list((agreement or {}).get("segments") or [])
    if not segments:
        return no_data("No slice is large enough to show where the models disagree.", title)
    labels = [f"{s['column']} = {s['value']}" for s in segments]
    fig = go.Figure(
        go.Bar(
            x=[s["disagreement"] for s in segments],
            y=labels,
            orientation="h",
            text=[f"{s['count']:,} rows" for s in segments],
            marker_color="#8250df",
        )
    )
    rate = (agreement or {}).get("rate")
    if rate is not None:
        fig.add_vline(x=1 - rate, line_dash="dot", line_color="#888", annotation_text="overall")
    fig.update_layout(**layout(left=150), title=title, xaxis_title="share of rows decided differently")
    fig.update_yaxes(autorange="reversed")
    return fig
