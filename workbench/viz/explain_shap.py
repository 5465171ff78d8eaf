"""Figures for SHAP: a waterfall per row, mean |SHAP| per column, a beeswarm, a dependence plot.

Pure functions from the plain dicts the SHAP results store to plotly figures
(plain scatter traces, no WebGL: the dashboards ship plotly's cartesian bundle).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from workbench.viz._empty import no_data
from workbench.viz.explain import _DOWN, _GREY, _LAYOUT, _UP

#: how many columns a row's waterfall shows before the rest are summed into one bar
WATERFALL_COLUMNS = 10


def waterfall_figure(row: Mapping, base: float, output: str) -> go.Figure:
    """One row's SHAP values as a waterfall from the base value to the model's output."""
    contributions = list(row.get("contributions") or [])
    title = f"Row {row.get('row_id')}"
    if not contributions:
        return no_data(f"No SHAP value for row {row.get('row_id')}.", title)
    shown = contributions[:WATERFALL_COLUMNS]
    rest = contributions[WATERFALL_COLUMNS:]
    labels = [f"{c['feature']} = {_value(c.get('value'))}" for c in shown]
    deltas = [float(c["shap"]) for c in shown]
    if rest:
        labels.append(f"{len(rest)} other columns")
        deltas.append(float(sum(c["shap"] for c in rest)))
    fig = go.Figure(
        go.Waterfall(
            orientation="h",
            base=float(base),
            measure=["relative"] * len(deltas),
            y=labels[::-1],
            x=deltas[::-1],
            increasing=dict(marker_color=_UP),
            decreasing=dict(marker_color=_DOWN),
            hovertemplate="%{y}<br>SHAP %{x:+.4f}<extra></extra>",
        )
    )
    head = f"{title}: {output} {float(row.get('output', base)):.3f}"
    if row.get("actual") is not None:
        head += f", actual {row['actual']}" + (f" ({row['error']})" if row.get("error") else "")
    fig.add_vline(x=float(base), line_color="#57606a", line_width=1, line_dash="dot")
    fig.update_layout(
        title=dict(
            text=f"{head}<br><sup>from the base value {base:.3f}; red raises it, blue lowers it</sup>"
        ),
        xaxis_title=output,
        height=max(280, 80 + 28 * len(deltas)),
        showlegend=False,
        **_LAYOUT,
    )
    fig.update_yaxes(automargin=True)
    return fig


def shap_importance_figure(
    features: Sequence[Mapping], output: str, agreement: Sequence[Mapping] = ()
) -> go.Figure:
    """Mean |SHAP| per original column, largest on top; the rank agreement in the subtitle."""
    feats = list(features)[::-1]
    title = f"Mean |SHAP| per column ({output})"
    if not feats:
        return no_data("No column to rank: no SHAP value was computed.", title)
    fig = go.Figure(
        go.Bar(
            x=[f["mean_abs_shap"] for f in feats],
            y=[f["feature"] for f in feats],
            orientation="h",
            marker_color=_DOWN,
            hovertemplate="%{y}: %{x:.4f}<extra></extra>",
        )
    )
    sub = "; ".join(
        f"{a['method']}: Spearman {'n/a' if a['spearman'] is None else format(a['spearman'], '.2f')}"
        for a in agreement
    )
    fig.update_layout(
        title=dict(text=title + (f"<br><sup>rank agreement with {sub}</sup>" if sub else "")),
        xaxis_title="mean |SHAP value|",
        height=max(280, 80 + 24 * len(feats)),
        showlegend=False,
        **_LAYOUT,
    )
    fig.update_yaxes(automargin=True)
    return fig


def beeswarm_figure(ranking: Sequence[str], points: Mapping, output: str) -> go.Figure:
    """Every row's SHAP value per column (one band per column, most important on top).

    Numeric columns are coloured by the row's value (its rank within the
    column: blue low, red high); categorical columns are grey, the category in
    the hover text. Points are spread vertically with a seeded jitter.
    """
    title = f"SHAP values per row and column ({output})"
    cols = [c for c in ranking if points.get(c, {}).get("shap")]
    if not cols:
        return no_data("No SHAP value to show.", title)
    rng = np.random.default_rng(0)
    fig = go.Figure()
    for k, col in enumerate(cols[::-1]):
        p = points[col]
        shap_values = np.asarray(p["shap"], dtype=float)
        y = k + rng.uniform(-0.3, 0.3, len(shap_values))
        if p.get("kind") == "numeric":
            color = _ranks(p["values"])
            marker = dict(color=color, colorscale=[[0, _DOWN], [1, _UP]], cmin=0, cmax=1, size=4, opacity=0.6)
        else:
            marker = dict(color=_GREY, size=4, opacity=0.6)
        fig.add_trace(
            go.Scatter(
                x=shap_values,
                y=y,
                mode="markers",
                marker=marker,
                name=col,
                text=[_value(v) for v in p["values"]],
                hovertemplate=f"{col} = %{{text}}<br>SHAP %{{x:+.4f}}<extra></extra>",
            )
        )
    fig.add_vline(x=0, line_color="#57606a", line_width=1)
    fig.update_layout(
        title=dict(
            text=f"{title}<br><sup>colour: the column's value, blue low, red high (grey: a category)</sup>"
        ),
        xaxis_title="SHAP value",
        yaxis=dict(tickmode="array", tickvals=list(range(len(cols))), ticktext=cols[::-1]),
        height=max(320, 90 + 30 * len(cols)),
        showlegend=False,
        **_LAYOUT,
    )
    fig.update_yaxes(automargin=True)
    return fig


def dependence_figure(column: Mapping, output: str, color: Mapping | None = None) -> go.Figure:
    """A column's SHAP values against its values; coloured by another column's values when given."""
    name = column["feature"]
    title = f"SHAP dependence on '{name}' ({output})"
    values, shap_values = list(column.get("values") or []), list(column.get("shap") or [])
    if not shap_values:
        return no_data(f"No SHAP value of '{name}' to show.", title)
    marker: dict = dict(size=5, opacity=0.6, color=_DOWN)
    if color is not None and color.get("kind") == "numeric":
        marker.update(
            color=_ranks(color["values"]),
            colorscale=[[0, _DOWN], [1, _UP]],
            showscale=True,
            colorbar=dict(title=f"{color['feature']} (rank)"),
        )
    fig = go.Figure()
    if column.get("kind") == "numeric":
        fig.add_trace(go.Scatter(x=values, y=shap_values, mode="markers", marker=marker))
    else:  # categories side by side, points spread with a seeded jitter (a colour per point, unlike a box)
        shown = [_value(v) for v in values]
        cats = sorted(set(shown))
        x = np.asarray([cats.index(v) for v in shown], dtype=float)
        x += np.random.default_rng(0).uniform(-0.3, 0.3, len(x))
        fig.add_trace(go.Scatter(x=x, y=shap_values, mode="markers", marker=marker, text=shown))
        fig.update_xaxes(tickmode="array", tickvals=list(range(len(cats))), ticktext=cats)
    fig.add_hline(y=0, line_color="#57606a", line_width=1)
    fig.update_layout(
        title=title,
        xaxis_title=name,
        yaxis_title=f"SHAP value of '{name}'",
        height=380,
        showlegend=False,
        **_LAYOUT,
    )
    return fig


def _ranks(values: Sequence) -> list[float]:
    """Each value's rank within the column in [0, 1] (missing values at 0.5)."""
    v = np.asarray([np.nan if x is None else x for x in values], dtype=float)
    ok = np.isfinite(v)
    out = np.full(len(v), 0.5)
    if ok.sum() > 1:
        order = np.argsort(np.argsort(v[ok], kind="stable"), kind="stable")
        out[ok] = order / (ok.sum() - 1)
    return out.tolist()


def _value(v) -> str:
    if v is None:
        return "missing"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)
