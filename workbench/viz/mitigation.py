"""The mitigation frontier: accuracy against a disparity, one marker per model, the original among them.

A pure function from the plain candidate dicts a ``MitigationResult`` stores to a plotly figure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import plotly.graph_objects as go

from workbench.viz._empty import no_data
from workbench.viz._layout import interval_bars
from workbench.viz.compression import _COLORS, _LAYOUT  # one look for both frontiers

_STAGES = {
    "original": _COLORS["original"],
    "pre-processing": "#2ca02c",
    "in-processing": "#1f77b4",
    "post-processing": "#9467bd",
}
_CHOSEN = _COLORS["chosen"]


def mitigation_frontier_figure(
    candidates: Sequence[Mapping],
    disparity: str,
    *,
    chosen: str | None = None,
    max_disparity: float | None = None,
) -> go.Figure:
    """Validation accuracy against `disparity` (lower is fairer), coloured by stage.

    The Pareto frontier (no model both more accurate and fairer) is joined by a
    line; the budget is a dashed vertical line; the chosen model is ringed; the
    horizontal bars are the disparities' bootstrap intervals; a diamond marks a
    model that needs the sensitive column at prediction time.
    """
    shown = [
        c for c in candidates if (c.get("disparities", {}).get(disparity) or {}).get("value") is not None
    ]
    title = f"Mitigation: accuracy against {disparity.replace('_', ' ')}"
    if not shown:
        return no_data("No model has a disparity that could be judged on the validation set.", title)

    def x(c):
        return c["disparities"][disparity]["value"]

    fig = go.Figure()
    frontier = sorted((c for c in shown if c.get("on_frontier")), key=x)
    if len(frontier) > 1:
        fig.add_trace(
            go.Scatter(
                x=[x(c) for c in frontier],
                y=[c["accuracy"] for c in frontier],
                mode="lines",
                line=dict(color="#1f77b4", width=1.5, dash="dot"),
                name="Pareto frontier",
                hoverinfo="skip",
            )
        )
    for stage, color in _STAGES.items():
        group = [c for c in shown if c.get("stage") == stage]
        if not group:
            continue
        labelled = {"original", chosen}
        fig.add_trace(
            go.Scatter(
                x=[x(c) for c in group],
                y=[c["accuracy"] for c in group],
                mode="markers+text",
                name=stage,
                text=[c["name"] if c["name"] in labelled or c.get("on_frontier") else "" for c in group],
                textposition="middle right",
                textfont=dict(size=10),
                hovertext=[c["name"] for c in group],
                error_x=interval_bars(
                    [x(c) for c in group],
                    [c["disparities"][disparity].get("ci") for c in group],
                    thickness=1,
                    width=0,
                ),
                marker=dict(
                    color=color,
                    size=11,
                    symbol=["diamond" if c.get("sensitive_at_prediction") else "circle" for c in group],
                    line=dict(width=1, color="#ffffff"),
                ),
                hovertemplate="<b>%{hovertext}</b><br>" + disparity + " %{x:.3f}<br>accuracy %{y:.4f}"
                "<extra></extra>",
            )
        )
    pick = next((c for c in shown if c["name"] == chosen), None)
    if pick is not None:
        fig.add_trace(
            go.Scatter(
                x=[x(pick)],
                y=[pick["accuracy"]],
                mode="markers",
                name=f"chosen: {chosen}",
                hoverinfo="skip",
                marker=dict(size=22, color="rgba(0,0,0,0)", line=dict(color=_CHOSEN, width=3)),
            )
        )
    if max_disparity is not None:
        fig.add_vline(
            x=max_disparity,
            line=dict(color=_CHOSEN, dash="dash", width=1),
            annotation_text=f"budget ({max_disparity:g})",
            annotation_position="top right",
        )
    fig.update_layout(
        title=title + " (diamonds need the sensitive column to predict)",
        xaxis=dict(title=f"{disparity.replace('_', ' ')} (validation; lower is fairer)", rangemode="tozero"),
        yaxis_title="accuracy (validation)",
        legend=dict(orientation="h", y=-0.18),
        **_LAYOUT,
    )
    return fig
