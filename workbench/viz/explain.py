"""Figures for explanations: LIME per row, stability, permutation importance, PDP/ICE, surrogate tree.

Pure functions from the plain dicts the explanation results store to plotly
figures; nothing here computes an explanation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import plotly.graph_objects as go

from workbench.viz._empty import no_data
from workbench.viz._layout import layout

_LAYOUT = layout(top=60, height=None)  # each figure's height follows its rows
_UP, _DOWN, _GREY, _ACCENT = "#d62728", "#1f77b4", "#b0b7bf", "#2ca02c"


def lime_figure(explanation: Mapping, task: str = "binary") -> go.Figure:
    """One row's LIME weights as horizontal bars: conditions on the original columns, strongest on top.

    Red bars push the explained output up (towards the explained class, or a
    higher prediction), blue bars push it down.
    """
    feats = list(explanation.get("features") or [])[::-1]  # plotly draws the first bar at the bottom
    if not feats:
        return no_data(
            f"No LIME weight for row {explanation.get('row_id')}: the explanation has no features.",
            f"Row {explanation.get('row_id')}",
        )
    cls = explanation.get("explained_class")
    target = f"'{cls}'" if cls is not None else "a higher prediction"
    fig = go.Figure(
        go.Bar(
            x=[f["weight"] for f in feats],
            y=[f["condition"] for f in feats],
            orientation="h",
            marker_color=[_UP if f["weight"] > 0 else _DOWN for f in feats],
            customdata=[[f["feature"]] for f in feats],
            hovertemplate="%{y}<br>weight %{x:+.4f}<br>column %{customdata[0]}<extra></extra>",
        )
    )
    head = f"Row {explanation.get('row_id')}: "
    if cls is not None and explanation.get("probability") is not None:
        head += f"P({cls}) = {explanation['probability']:.3f}"
    else:
        head += f"predicted {_fmt(explanation.get('predicted'))}"
    if explanation.get("actual") is not None:
        head += f", actual {_fmt(explanation['actual'])}"
        if explanation.get("error"):
            head += f" ({explanation['error']})"
    r2 = explanation.get("r2")
    sub = f"local fit R² {r2:.2f}" if r2 is not None else ""
    fig.add_vline(x=0, line_color="#57606a", line_width=1)
    fig.update_layout(
        title=dict(text=f"{head}<br><sup>red: towards {target}; blue: away from it; {sub}</sup>"),
        xaxis_title="LIME weight (change in the explained output)",
        yaxis_title=None,
        height=max(260, 70 + 28 * len(feats)),
        showlegend=False,
        **_LAYOUT,
    )
    fig.update_yaxes(automargin=True)
    return fig


def stability_figure(rows: Sequence[Mapping], top_k: int, n_seeds: int) -> go.Figure:
    """Per row, each top feature's mean LIME weight across seeds with ± 1 sd error bars."""
    title = f"LIME weights across {n_seeds} seeds (bars: mean, whiskers: ± 1 sd)"
    if not rows or not any(r.get("features") for r in rows):
        return no_data("No row to show: no explanation was repeated across seeds.", title)
    fig = go.Figure()
    for r in rows:
        feats = list(r.get("features") or [])[::-1]
        fig.add_trace(
            go.Bar(
                x=[f["mean_weight"] for f in feats],
                y=[f["feature"] for f in feats],
                orientation="h",
                name=f"row {r['row_id']} (top-{top_k} overlap {r['top_k_jaccard']:.0%})",
                error_x=dict(type="data", array=[f["sd_weight"] for f in feats], visible=True),
                customdata=[[f["top_k_share"], f.get("condition") or ""] for f in feats],
                hovertemplate="%{y}: %{x:+.4f}<br>%{customdata[1]}<br>in the top "
                + str(top_k)
                + " in %{customdata[0]:.0%} of runs<extra></extra>",
            )
        )
    fig.update_layout(
        title=title,
        xaxis_title="LIME weight",
        barmode="group",
        height=max(320, 90 + 24 * _n_bars(rows)),
        legend=dict(orientation="h", y=-0.2),
        **_LAYOUT,
    )
    fig.update_yaxes(automargin=True)
    return fig


def importance_figure(features: Sequence[Mapping], scoring: str, baseline: float | None = None) -> go.Figure:
    """Permutation importance per original column, largest on top, with ± 1 sd error bars."""
    feats = list(features)[::-1]
    if not feats:
        return no_data(
            "No column to rank: no permutation importance was computed.",
            f"Permutation importance ({scoring})",
        )
    fig = go.Figure(
        go.Bar(
            x=[f["importance_mean"] for f in feats],
            y=[f["feature"] for f in feats],
            orientation="h",
            marker_color=[_DOWN if f["importance_mean"] > 0 else _GREY for f in feats],
            error_x=dict(type="data", array=[f["importance_std"] for f in feats], visible=True),
            hovertemplate="%{y}: %{x:.4f}<extra></extra>",
        )
    )
    base = f" (score {baseline:.4f} before shuffling)" if baseline is not None else ""
    fig.add_vline(x=0, line_color="#57606a", line_width=1)
    fig.update_layout(
        title=f"Permutation importance: drop in {scoring} when a column is shuffled{base}",
        xaxis_title=f"drop in {scoring}",
        height=max(300, 80 + 26 * len(feats)),
        **_LAYOUT,
    )
    fig.update_yaxes(automargin=True)
    return fig


def partial_dependence_figure(pd_: Mapping) -> go.Figure:
    """Partial dependence (thick line) over ICE lines (thin, grey) for one feature.

    Categorical features are drawn on a category axis in the grid's order
    (most common first); multiclass without a chosen class gets one average
    line per class.
    """
    grid = list(pd_.get("grid") or [])
    if not grid:
        return no_data(
            f"No values of '{pd_.get('feature')}' to vary: nothing to draw.",
            f"Partial dependence on '{pd_.get('feature')}'",
        )
    categorical = pd_.get("feature_kind") == "categorical"
    x = [str(g) for g in grid] if categorical else grid
    fig = go.Figure()
    for k, line in enumerate(pd_.get("ice") or []):
        fig.add_trace(
            go.Scatter(
                x=x,
                y=line,
                mode="lines",
                line=dict(color=_GREY, width=0.8),
                opacity=0.5,
                name="single rows (ICE)",
                legendgroup="ice",
                showlegend=k == 0,
                hoverinfo="skip",
            )
        )
    mode = "lines+markers" if categorical or len(grid) <= 25 else "lines"
    if pd_.get("average"):
        fig.add_trace(
            go.Scatter(
                x=x,
                y=pd_["average"],
                mode=mode,
                name="average (partial dependence)",
                line=dict(color=_UP, width=3),
                hovertemplate=f"{pd_.get('feature')} = %{{x}}<br>%{{y:.4f}}<extra></extra>",
            )
        )
    for cls, line in (pd_.get("averages") or {}).items():
        fig.add_trace(go.Scatter(x=x, y=line, mode=mode, name=f"P({cls})"))
    counts = pd_.get("counts")
    if categorical and counts:
        fig.update_xaxes(ticktext=[f"{g}<br>({c:,})" for g, c in zip(x, counts, strict=False)], tickvals=x)
    fig.update_layout(
        title=f"Partial dependence on '{pd_.get('feature')}' ({pd_.get('n_rows', 0):,} rows)",
        xaxis_title=pd_.get("feature"),
        yaxis_title=pd_.get("output"),
        height=420,
        xaxis_type="category" if categorical else None,
        legend=dict(orientation="h", y=-0.25),
        **_LAYOUT,
    )
    return fig


def surrogate_fidelity_figure(
    curve: Sequence[Mapping],
    chosen_depth: int,
    baseline: float | None = None,
    metric: str = "agreement",
    goal: float | None = None,
) -> go.Figure:
    """Fidelity of surrogate trees of depth 1..n on held-out rows (and on their fitted rows).

    The chosen depth is ringed.
    """
    if not curve:
        return no_data("No surrogate tree was fitted.", "Surrogate tree fidelity by depth")
    depths = [c["depth"] for c in curve]
    label = "agreement with the model" if metric == "agreement" else "R² against the model"
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=depths,
            y=[c["fidelity"] for c in curve],
            mode="lines+markers",
            name="held-out rows",
            line=dict(color=_DOWN, width=2),
            customdata=[[c.get("leaves")] for c in curve],
            hovertemplate="depth %{x}: %{y:.3f}<br>%{customdata[0]} leaves<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=depths,
            y=[c.get("fidelity_train") for c in curve],
            mode="lines",
            name="rows the tree learned from",
            line=dict(color=_GREY, dash="dot"),
        )
    )
    chosen = [c for c in curve if c["depth"] == chosen_depth]
    if chosen:
        fig.add_trace(
            go.Scatter(
                x=[chosen_depth],
                y=[chosen[0]["fidelity"]],
                mode="markers",
                name="chosen depth",
                marker=dict(size=16, color="rgba(0,0,0,0)", line=dict(color=_UP, width=3)),
            )
        )
    if baseline is not None and metric == "agreement":
        fig.add_hline(
            y=baseline,
            line_dash="dash",
            line_color="#57606a",
            annotation_text="always the most common answer",
        )
    if goal is not None:
        fig.add_hline(
            y=goal,
            line_dash="dot",
            line_color=_UP,
            annotation_text=f"goal {goal:g}",
            annotation_position="bottom right",
        )
    fig.update_layout(
        title=f"Surrogate tree fidelity by depth ({label})",
        xaxis_title="tree depth",
        yaxis_title=label,
        height=380,
        legend=dict(orientation="h", y=-0.2),
        **_LAYOUT,
    )
    return fig


def surrogate_rules_figure(rules: Sequence[Mapping], task: str = "binary", limit: int = 15) -> go.Figure:
    """The largest rules as a table: conditions, answer, agreement share (or mean prediction) and rows."""
    shown = list(rules)[:limit]
    if not shown:
        return no_data("No rule to show: the surrogate tree has no leaves.", "Surrogate tree rules")
    fourth = "mean prediction" if task == "regression" else "share the model agrees"
    values = [
        [" AND ".join(r.get("conditions") or []) or "always" for r in shown],
        [str(r.get("prediction") if task != "regression" else _fmt(r.get("prediction"))) for r in shown],
        [_fmt(r.get("mean_score")) if task == "regression" else f"{r.get('share') or 0:.0%}" for r in shown],
        [f"{r.get('rows', 0):,}" for r in shown],
    ]
    fig = go.Figure(
        go.Table(
            columnwidth=[6, 1.4, 1.4, 1],
            header=dict(values=["IF", "THEN", fourth, "rows"], fill_color="#f6f8fa", align="left"),
            cells=dict(values=values, align="left", height=24),
        )
    )
    fig.update_layout(
        title=f"Surrogate tree rules ({len(shown)} of {len(rules)}, largest first)",
        height=max(260, 110 + 30 * len(shown)),
        margin=dict(l=10, r=10, t=50, b=10),
    )
    return fig


def empty_figure(title: str, text: str) -> go.Figure:
    """A chart with nothing to draw: `text` under `title` (see :func:`workbench.viz._empty.no_data`)."""
    return no_data(text[:1].upper() + text[1:] + ("" if text.endswith(".") else "."), title)


# -- helpers ----------------------------------------------------------------------
def _n_bars(rows: Sequence[Mapping]) -> int:
    return len({f["feature"] for r in rows for f in r.get("features") or []}) * max(1, len(rows))


def _fmt(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)
