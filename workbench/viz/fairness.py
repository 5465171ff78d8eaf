"""Figures for bias / fairness results: per-group rates, disparities, intersections, changes.

Pure functions from the plain dicts a :class:`~workbench.monitoring.bias.BiasResult`
stores (an attribute: ``{"name", "columns", "groups": [...], "disparities": {...}}``)
to plotly figures; nothing here computes a metric.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import plotly.graph_objects as go

from workbench.viz._template import slim_template

_LAYOUT = dict(template=slim_template(), margin=dict(l=60, r=20, t=50, b=50), height=380)
_JUDGED, _SMALL, _LIMIT = "#1f77b4", "#c7c7c7", "#d62728"


def selection_rate_figure(attribute: Mapping, label: str = "selection rate") -> go.Figure:
    """Each group's selection rate with its interval, and the four-fifths line (0.8 x the best group).

    Groups too small to judge are drawn in grey and have no interval.
    """
    groups = list(attribute["groups"])
    judged = [g for g in groups if "selection_rate" not in g.get("unjudged", [])
              and g.get("selection_rate") is not None]
    x = [g["group"] for g in groups]
    y = [g.get("selection_rate") for g in groups]
    lo, hi = _bars(groups, "selection_rate")
    fig = go.Figure(go.Bar(
        x=x, y=y, marker_color=[_JUDGED if g in judged else _SMALL for g in groups],
        error_y=dict(type="data", symmetric=False, array=hi, arrayminus=lo, visible=True),
        customdata=[[g["count"], g.get("impact_ratio"), "too small to judge" if g["too_small"] else ""]
                    for g in groups],
        hovertemplate="%{x}<br>" + label + " %{y:.3f}<br>rows %{customdata[0]:,}"
        "<br>ratio to best %{customdata[1]:.2f}<br>%{customdata[2]}<extra></extra>",
        name=label,
    ))
    if judged:
        best = max(g["selection_rate"] for g in judged)
        fig.add_hline(y=0.8 * best, line_dash="dash", line_color=_LIMIT,
                      annotation_text="0.8 × highest (four-fifths rule)")
    fig.update_layout(title=f"{_cap(label)} by {_title(attribute)}", yaxis_title=label,
                      xaxis_title=_title(attribute), **_LAYOUT)
    return fig


def error_rates_figure(attribute: Mapping) -> go.Figure:
    """True and false positive rates per group, with intervals (needs labels)."""
    groups = list(attribute["groups"])
    fig = go.Figure()
    for rate, name, color in (("tpr", "true positive rate", "#2ca02c"), ("fpr", "false positive rate", "#ff7f0e")):
        lo, hi = _bars(groups, rate)
        fig.add_trace(go.Bar(
            x=[g["group"] for g in groups], y=[g.get(rate) for g in groups], name=name, marker_color=color,
            marker_opacity=[0.35 if rate in g.get("unjudged", []) else 1.0 for g in groups],
            error_y=dict(type="data", symmetric=False, array=hi, arrayminus=lo, visible=True),
            hovertemplate="%{x}<br>" + name + " %{y:.3f}<extra></extra>",
        ))
    fig.update_layout(title=f"Error rates by {_title(attribute)} (faded: too few rows to judge)", barmode="group",
                      yaxis_title="rate", xaxis_title=_title(attribute), **_LAYOUT)
    return fig


def disparity_figure(rows: Sequence[Mapping]) -> go.Figure:
    """Each disparity (attribute x metric) with its interval against its limit.

    `rows`: ``{"attribute", "metric", "value", "ci", "op", "threshold"}``;
    bars beyond their limit are red.
    """
    rows = [r for r in rows if r.get("value") is not None]
    labels = [f"{r['attribute']} · {r['metric'].replace('_', ' ')}" for r in rows][::-1]
    values = [r["value"] for r in rows][::-1]
    bad = [(r["value"] < r["threshold"]) if r["op"].startswith(">") else (r["value"] > r["threshold"])
           for r in rows][::-1]
    lo, hi = [], []
    for r in rows[::-1]:
        ci = r.get("ci")
        lo.append(r["value"] - ci[0] if ci else 0)
        hi.append(ci[1] - r["value"] if ci else 0)
    fig = go.Figure(go.Bar(
        x=values, y=labels, orientation="h", marker_color=[_LIMIT if b else _JUDGED for b in bad],
        error_x=dict(type="data", symmetric=False, array=hi, arrayminus=lo, visible=True),
        customdata=[[r["op"], r["threshold"]] for r in rows][::-1],
        hovertemplate="%{y}<br>%{x:.3f} (limit %{customdata[0]} %{customdata[1]})<extra></extra>", name="value",
    ))
    fig.add_trace(go.Scatter(
        x=[r["threshold"] for r in rows][::-1], y=labels, mode="markers", name="limit",
        marker=dict(symbol="line-ns-open", size=18, color=_LIMIT, line=dict(width=3)),
    ))
    fig.update_layout(title="Disparities against their limits (red: beyond the limit)", xaxis_title="value",
                      **{**_LAYOUT, "height": max(300, 26 * len(rows) + 120), "margin": dict(l=300, r=20, t=50, b=50)})
    return fig


def intersection_heatmap(attribute: Mapping, rate: str = "selection_rate", label: str | None = None) -> go.Figure:
    """A rate for each combination of two sensitive columns; too-small cells left blank."""
    first, second = attribute["columns"][:2]
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
    fig = go.Figure(go.Heatmap(z=z, x=cols, y=rows, text=text, texttemplate="%{text}", colorscale="Blues",
                               hoverongaps=False, colorbar=dict(title=label or rate)))
    fig.update_layout(title=f"{_cap(label or rate)} by {first} × {second}", xaxis_title=second,
                      yaxis_title=first, **_LAYOUT)
    return fig


def comparison_figure(rows: Sequence[Mapping], confidence: float = 0.95) -> go.Figure:
    """The worsening of each disparity since the reference, with its interval (right of 0: worse)."""
    rows = [r for r in rows if r.get("worsening") is not None]
    labels = [f"{r['attribute']} · {r['metric'].replace('_', ' ')}" for r in rows][::-1]
    x = [r["worsening"] for r in rows][::-1]
    lo = [r["worsening"] - r["ci"][0] if r.get("ci") else 0 for r in rows][::-1]
    hi = [r["ci"][1] - r["worsening"] if r.get("ci") else 0 for r in rows][::-1]
    fig = go.Figure(go.Scatter(
        x=x, y=labels, mode="markers", marker=dict(size=10, color=[_LIMIT if r.get("significant") else _JUDGED
                                                                   for r in rows][::-1]),
        error_x=dict(type="data", symmetric=False, array=hi, arrayminus=lo, visible=True),
        customdata=[[r["reference"], r["current"]] for r in rows][::-1],
        hovertemplate="%{y}<br>reference %{customdata[0]:.3f} → now %{customdata[1]:.3f}<extra></extra>",
        name="worsening",
    ))
    gated = [r for r in rows[::-1] if r.get("lower_bound") is not None]
    if gated:
        fig.add_trace(go.Scatter(
            x=[r["lower_bound"] for r in gated], y=[f"{r['attribute']} · {r['metric'].replace('_', ' ')}" for r in gated],
            mode="markers", name="lower bound over all comparisons (the gate)",
            marker=dict(symbol="triangle-right", size=9, color=[_LIMIT if r.get("significant") else "#7f7f7f"
                                                                 for r in gated]),
        ))
    fig.add_vline(x=0, line_dash="dash", line_color="gray")
    fig.update_layout(title=f"Change since the reference ({confidence:.0%} intervals; right of 0 is worse, "
                            "red: beyond chance)", xaxis_title="worsening",
                      **{**_LAYOUT, "height": max(300, 26 * len(rows) + 120), "margin": dict(l=300, r=20, t=50, b=50)})
    return fig


def _bars(groups: Sequence[Mapping], rate: str) -> tuple[list, list]:
    lo, hi = [], []
    for g in groups:
        ci, v = g.get(f"{rate}_ci"), g.get(rate)
        lo.append(v - ci[0] if ci and v is not None else 0)
        hi.append(ci[1] - v if ci and v is not None else 0)
    return lo, hi


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _title(attribute: Mapping) -> str:
    return " × ".join(attribute["columns"])
