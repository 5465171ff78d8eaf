"""Figures for bias / fairness results: per-group rates, disparities, intersections, changes.

Pure functions from the plain dicts a :class:`~workbench.monitoring.bias.BiasResult`
stores (an attribute: ``{"name", "columns", "groups": [...], "disparities": {...}}``)
to plotly figures; nothing here computes a metric.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from workbench.viz._empty import no_data
from workbench.viz._layout import interval_bars, layout, text_heatmap

_LAYOUT = layout()
_JUDGED, _SMALL, _LIMIT = "#1f77b4", "#c7c7c7", "#d62728"


def selection_rate_figure(attribute: Mapping, label: str = "selection rate") -> go.Figure:
    """Each group's selection rate with its interval, and the four-fifths line (0.8 x the best group).

    Groups too small to judge are drawn in grey and have no interval.
    """
    groups = list(attribute.get("groups") or [])
    if not any(g.get("selection_rate") is not None for g in groups):
        return no_data(
            f"No group of {_title(attribute)} has a {label} to show.", f"{_cap(label)} by {_title(attribute)}"
        )
    judged = [
        g
        for g in groups
        if "selection_rate" not in g.get("unjudged", []) and g.get("selection_rate") is not None
    ]
    x = [g["group"] for g in groups]
    y = [g.get("selection_rate") for g in groups]
    fig = go.Figure(
        go.Bar(
            x=x,
            y=y,
            marker_color=[_JUDGED if g in judged else _SMALL for g in groups],
            error_y=_group_bars(groups, "selection_rate"),
            customdata=[
                [g["count"], g.get("impact_ratio"), "too small to judge" if g["too_small"] else ""]
                for g in groups
            ],
            hovertemplate="%{x}<br>" + label + " %{y:.3f}<br>rows %{customdata[0]:,}"
            "<br>ratio to best %{customdata[1]:.2f}<br>%{customdata[2]}<extra></extra>",
            name=label,
        )
    )
    if judged:
        best = max(g["selection_rate"] for g in judged)
        fig.add_hline(
            y=0.8 * best,
            line_dash="dash",
            line_color=_LIMIT,
            annotation_text="0.8 × highest (four-fifths rule)",
        )
    fig.update_layout(
        title=f"{_cap(label)} by {_title(attribute)}",
        yaxis_title=label,
        xaxis_title=_title(attribute),
        **_LAYOUT,
    )
    return fig


def error_rates_figure(attribute: Mapping) -> go.Figure:
    """True and false positive rates per group, with intervals (needs labels)."""
    groups = list(attribute.get("groups") or [])
    if not any(g.get(rate) is not None for g in groups for rate in ("tpr", "fpr")):
        return no_data(
            f"No error rates by {_title(attribute)}: they need labelled rows.",
            f"Error rates by {_title(attribute)}",
        )
    fig = go.Figure()
    for rate, name, color in (
        ("tpr", "true positive rate", "#2ca02c"),
        ("fpr", "false positive rate", "#ff7f0e"),
    ):
        fig.add_trace(
            go.Bar(
                x=[g["group"] for g in groups],
                y=[g.get(rate) for g in groups],
                name=name,
                marker_color=color,
                marker_opacity=[0.35 if rate in g.get("unjudged", []) else 1.0 for g in groups],
                error_y=_group_bars(groups, rate),
                hovertemplate="%{x}<br>" + name + " %{y:.3f}<extra></extra>",
            )
        )
    fig.update_layout(
        title=f"Error rates by {_title(attribute)} (faded: too few rows to judge)",
        barmode="group",
        yaxis_title="rate",
        xaxis_title=_title(attribute),
        **_LAYOUT,
    )
    return fig


def disparity_figure(rows: Sequence[Mapping]) -> go.Figure:
    """Each disparity (attribute x metric) with its interval against its limit.

    `rows`: ``{"attribute", "metric", "value", "ci", "op", "threshold"}``;
    bars beyond their limit are red. Ratios (1 = parity) and differences
    (0 = parity) are on different scales: each kind gets its own panel.
    """
    rows = [r for r in rows if r.get("value") is not None]
    title = "Disparities against their limits (red: beyond the limit)"
    if not rows:
        return no_data("No disparity could be computed (no group large enough to judge).", title)
    panels = _by_scale(rows)
    fig = _panel_grid(panels)
    for i, (_, part, axis_title) in enumerate(panels, start=1):
        part = part[::-1]
        labels = [_label(r) for r in part]
        bad = [
            (r["value"] < r["threshold"]) if r["op"].startswith(">") else (r["value"] > r["threshold"])
            for r in part
        ]
        fig.add_trace(
            go.Bar(
                x=[r["value"] for r in part],
                y=labels,
                orientation="h",
                marker_color=[_LIMIT if b else _JUDGED for b in bad],
                error_x=interval_bars([r["value"] for r in part], [r.get("ci") for r in part], visible=True),
                customdata=[[r["op"], r["threshold"]] for r in part],
                showlegend=i == 1,
                legendgroup="value",
                hovertemplate="%{y}<br>%{x:.3f} (limit %{customdata[0]} %{customdata[1]})<extra></extra>",
                name="value",
            ),
            row=i,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=[r["threshold"] for r in part],
                y=labels,
                mode="markers",
                name="limit",
                showlegend=i == 1,
                legendgroup="limit",
                marker=dict(symbol="line-ns-open", size=18, color=_LIMIT, line=dict(width=3)),
            ),
            row=i,
            col=1,
        )
        fig.update_xaxes(title_text=axis_title, row=i, col=1)
    return _panel_layout(fig, title, rows, panels)


def intersection_heatmap(
    attribute: Mapping, rate: str = "selection_rate", label: str | None = None
) -> go.Figure:
    """A rate for each combination of two sensitive columns; too-small cells left blank."""
    first, second = attribute["columns"][:2]
    if not attribute.get("groups"):
        return no_data(
            f"No combination of {first} and {second} has rows to show.",
            f"{_cap(label or rate)} by {first} × {second}",
        )
    rows = sorted({g["values"][first] for g in attribute["groups"]})
    cols = sorted({g["values"][second] for g in attribute["groups"]})
    z = [[None] * len(cols) for _ in rows]
    text = [[""] * len(cols) for _ in rows]
    for g in attribute["groups"]:
        i, j = rows.index(g["values"][first]), cols.index(g["values"][second])
        v = g.get(rate)
        if rate not in g.get("unjudged", []) and v is not None:
            z[i][j] = v
            text[i][j] = f"{v:.3f}<br>n={g['count']:,}"
        else:
            text[i][j] = f"too small<br>n={g['count']:,}"
    fig = go.Figure(text_heatmap(z, cols, rows, text, hoverongaps=False, colorbar=dict(title=label or rate)))
    fig.update_layout(
        title=f"{_cap(label or rate)} by {first} × {second}", xaxis_title=second, yaxis_title=first, **_LAYOUT
    )
    return fig


def comparison_figure(rows: Sequence[Mapping], confidence: float = 0.95) -> go.Figure:
    """The worsening of each disparity since the reference, with its interval (right of 0: worse).

    A ratio's worsening (a fall) and a difference's (a rise) are on different
    scales: each kind gets its own panel.
    """
    rows = [r for r in rows if r.get("worsening") is not None]
    title = (
        f"Change since the reference ({confidence:.0%} intervals; right of 0 is worse, red: beyond chance)"
    )
    if not rows:
        return no_data("No disparity could be compared with the reference period.", title)
    panels = _by_scale(rows, worsening=True)
    fig = _panel_grid(panels)
    for i, (_, part, axis_title) in enumerate(panels, start=1):
        part = part[::-1]
        fig.add_trace(
            go.Scatter(
                x=[r["worsening"] for r in part],
                y=[_label(r) for r in part],
                mode="markers",
                name="worsening",
                marker=dict(size=10, color=[_LIMIT if r.get("significant") else _JUDGED for r in part]),
                error_x=interval_bars(
                    [r["worsening"] for r in part], [r.get("ci") for r in part], visible=True
                ),
                customdata=[[r["reference"], r["current"]] for r in part],
                showlegend=i == 1,
                legendgroup="worsening",
                hovertemplate=(
                    "%{y}<br>reference %{customdata[0]:.3f} → now %{customdata[1]:.3f}<extra></extra>"
                ),
            ),
            row=i,
            col=1,
        )
        gated = [r for r in part if r.get("lower_bound") is not None]
        if gated:
            fig.add_trace(
                go.Scatter(
                    x=[r["lower_bound"] for r in gated],
                    y=[_label(r) for r in gated],
                    mode="markers",
                    name="lower bound over all comparisons (the gate)",
                    legendgroup="gate",
                    showlegend=not any(t.legendgroup == "gate" for t in fig.data),
                    marker=dict(
                        symbol="triangle-right",
                        size=9,
                        color=[_LIMIT if r.get("significant") else "#7f7f7f" for r in gated],
                    ),
                ),
                row=i,
                col=1,
            )
        fig.add_vline(x=0, line_dash="dash", line_color="gray", row=i, col=1)
        fig.update_xaxes(title_text=axis_title, row=i, col=1)
    return _panel_layout(fig, title, rows, panels)


def _by_scale(rows: Sequence[Mapping], *, worsening: bool = False) -> list[tuple[str, list, str]]:
    """`rows` split into ratios and differences (and anything else): (panel title, rows, axis title) each."""
    ratios = [r for r in rows if "ratio" in str(r.get("metric", ""))]
    diffs = [r for r in rows if "ratio" not in str(r.get("metric", ""))]
    out = []
    if ratios:
        out.append(
            (
                "Ratios (1 = parity)" if not worsening else "Ratios: fall since the reference",
                ratios,
                "ratio" if not worsening else "fall in the ratio (worse →)",
            )
        )
    if diffs:
        out.append(
            (
                "Differences (0 = parity)" if not worsening else "Differences: rise since the reference",
                diffs,
                "difference" if not worsening else "rise in the difference (worse →)",
            )
        )
    return out


def _panel_grid(panels: Sequence[tuple[str, list, str]]) -> go.Figure:
    """One panel a row for :func:`_by_scale`'s panels, each as tall as its rows."""
    return make_subplots(
        rows=len(panels),
        cols=1,
        subplot_titles=[p[0] for p in panels],
        row_heights=[len(p[1]) for p in panels],
        vertical_spacing=0.16 if len(panels) > 1 else 0.0,
    )


def _panel_layout(fig: go.Figure, title: str, rows: Sequence, panels: Sequence) -> go.Figure:
    """`fig` (a :func:`_panel_grid`) laid out: tall enough for its rows, room on the left for their labels."""
    fig.update_layout(
        title=title, **layout(left=300, top=70, height=max(300, 30 * len(rows) + 150 * len(panels)))
    )
    return fig


def _label(r: Mapping) -> str:
    return f"{r['attribute']} · {r['metric'].replace('_', ' ')}"


def _group_bars(groups: Sequence[Mapping], rate: str) -> dict:
    return interval_bars([g.get(rate) for g in groups], [g.get(f"{rate}_ci") for g in groups], visible=True)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _title(attribute: Mapping) -> str:
    return " × ".join(attribute["columns"])
