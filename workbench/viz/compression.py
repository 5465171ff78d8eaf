"""Figures for a compression study: the speed/accuracy frontier and size against accuracy.

Pure functions from the plain variant dicts a ``CompressionResult`` stores to
plotly figures; nothing here measures anything.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import plotly.graph_objects as go

from workbench._html import size_text
from workbench._json import finite as _num
from workbench.viz._empty import no_data
from workbench.viz._layout import layout

_LAYOUT = layout(left=70, top=60, bottom=60, height=440)
_COLORS = {
    "original": "#6e7781",
    "chosen": "#d62728",
    "frontier": "#1f77b4",
    "accepted": "#1f77b4",
    "rejected": "#bbbbbb",
}


def frontier_figure(
    variants: Sequence[Mapping],
    metric: str,
    chosen: str | None = None,
    *,
    max_loss: float | None = None,
    original_score: float | None = None,
    higher_is_better: bool = True,
) -> go.Figure:
    """Single-row p50 latency (log axis) against the metric, one marker per variant.

    Marker area follows the artifact size; the Pareto frontier (no variant is
    both faster and more accurate) is joined by a line; rejected variants are
    grey; the budget is a dashed line; the chosen variant is ringed in red.
    """
    shown = [v for v in variants if _num(v.get("latency_p50_us")) and _num(v.get("score")) is not None]
    if not shown:
        return no_data(
            "No variant has both a latency and a score to show.", "Compression: latency against accuracy"
        )
    fig = go.Figure()
    sizes = [max(1, v.get("size_bytes") or 1) for v in shown]
    big = max(sizes)
    frontier = sorted((v for v in shown if v.get("on_frontier")), key=lambda v: v["latency_p50_us"])
    if len(frontier) > 1:
        fig.add_trace(
            go.Scatter(
                x=[v["latency_p50_us"] for v in frontier],
                y=[v["score"] for v in frontier],
                mode="lines",
                line=dict(color=_COLORS["frontier"], width=1.5, dash="dot"),
                name="Pareto frontier",
                hoverinfo="skip",
            )
        )
    for label, pick, color in (
        ("original", lambda v: v.get("technique") == "original", _COLORS["original"]),
        ("accepted", lambda v: v.get("accepted") and v.get("technique") != "original", _COLORS["accepted"]),
        ("rejected", lambda v: not v.get("accepted"), _COLORS["rejected"]),
    ):
        group = [v for v in shown if pick(v)]
        if not group:
            continue
        # only the frontier, the original and the chosen variant are labelled: the rest crowd together
        labels = [
            v["name"]
            if v.get("on_frontier") or v["name"] == chosen or v.get("technique") == "original"
            else ""
            for v in group
        ]
        fig.add_trace(
            go.Scatter(
                x=[v["latency_p50_us"] for v in group],
                y=[v["score"] for v in group],
                mode="markers+text",
                name=label,
                text=labels,
                textposition="middle right",
                textfont=dict(size=10),
                hovertext=[v["name"] for v in group],
                marker=dict(
                    color=color,
                    size=[_marker(v.get("size_bytes"), big) for v in group],
                    opacity=0.8,
                    line=dict(width=1, color="#ffffff"),
                ),
                customdata=[[size_text(v.get("size_bytes")), v.get("reason", "")] for v in group],
                hovertemplate="<b>%{hovertext}</b><br>p50 %{x:,.0f} µs<br>"
                + metric
                + " %{y:.4f}<br>size %{customdata[0]}<br>%{customdata[1]}<extra></extra>",
            )
        )
    chosen_v = next((v for v in shown if v["name"] == chosen), None)
    if chosen_v is not None:
        fig.add_trace(
            go.Scatter(
                x=[chosen_v["latency_p50_us"]],
                y=[chosen_v["score"]],
                mode="markers",
                name=f"chosen: {chosen}",
                hoverinfo="skip",
                marker=dict(
                    size=_marker(chosen_v.get("size_bytes"), big) + 10,
                    color="rgba(0,0,0,0)",
                    line=dict(color=_COLORS["chosen"], width=3),
                ),
            )
        )
    if max_loss is not None and original_score is not None:
        limit = original_score - max_loss if higher_is_better else original_score + max_loss
        fig.add_hline(
            y=limit,
            line=dict(color=_COLORS["chosen"], dash="dash", width=1),
            annotation_text=f"budget ({metric} {'-' if higher_is_better else '+'}{max_loss:g})",
            annotation_position="bottom right",
        )
    return _against_metric(
        fig,
        "Compression: single-row latency against accuracy (marker area: size on disk)",
        "single-row latency, p50 (µs, log scale)",
        metric,
    )


def size_figure(variants: Sequence[Mapping], metric: str, chosen: str | None = None) -> go.Figure:
    """Artifact size on disk (log axis) against the metric, accepted variants in colour."""
    shown = [v for v in variants if _num(v.get("size_bytes")) and _num(v.get("score")) is not None]
    if not shown:
        return no_data(
            "No variant has both a size and a score to show.", "Compression: size on disk against accuracy"
        )
    fig = go.Figure()
    for label, pick, color in (
        ("accepted", lambda v: v.get("accepted"), _COLORS["accepted"]),
        ("rejected", lambda v: not v.get("accepted"), _COLORS["rejected"]),
    ):
        group = [v for v in shown if pick(v)]
        if not group:
            continue
        fig.add_trace(
            go.Scatter(
                x=[v["size_bytes"] for v in group],
                y=[v["score"] for v in group],
                mode="markers",
                name=label,
                text=[v["name"] for v in group],
                marker=dict(
                    size=[14 if v["name"] == chosen else 9 for v in group],
                    color=color,
                    line=dict(
                        width=[3 if v["name"] == chosen else 0 for v in group], color=_COLORS["chosen"]
                    ),
                ),
                hovertemplate="<b>%{text}</b><br>%{x:,} bytes<br>" + metric + " %{y:.4f}<extra></extra>",
            )
        )
    return _against_metric(
        fig, "Compression: size on disk against accuracy", "artifact size (bytes, log scale)", metric
    )


def _against_metric(fig: go.Figure, title: str, x_title: str, metric: str) -> go.Figure:
    """`fig` laid out as a cost of the variants (log x axis, titled `x_title`) against `metric` (y)."""
    fig.update_layout(
        title=title,
        xaxis=dict(title=x_title, type="log"),
        yaxis_title=metric,
        legend=dict(orientation="h", y=-0.18),
        **_LAYOUT,
    )
    return fig


def _marker(size: float | None, biggest: float) -> float:
    if not size or not biggest:
        return 10
    return 8 + 26 * math.sqrt(size / biggest)
