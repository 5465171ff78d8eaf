"""Figures for drift and data-quality results: pure functions from their stored dicts.

Every builder takes the plain data a result stores (``ColumnDrift.to_dict()``
rows, ``ColumnQuality.to_dict()`` rows): a dashboard draws a stored run
without the raw rows and without recomputing anything.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from workbench.viz._empty import no_data
from workbench.viz._layout import layout

_LAYOUT = layout(top=60, height=None)  # each figure's height follows its panels
_DRIFT, _OK, _REF, _CUR = "#d62728", "#1f77b4", "#7f7f7f", "#ff7f0e"
_P_VALUE_TESTS = ("ks", "chisquare", "z")


def drift_scores_figure(columns: Sequence[Mapping]) -> go.Figure:
    """Each column's drift score relative to its threshold (1 = the drift line), drifted in red.

    Tests differ in scale (p-values, distances), so bars show the normalised
    score: distance / threshold, or log p / log threshold for p-values; the
    hover gives the raw score, the test and the threshold.
    """
    rows = [c for c in columns if c.get("stattest")]
    if not rows:
        return no_data("No column was compared, so there is no drift score to show.", "Drift per column")
    rows = sorted(rows, key=lambda c: _strength(c))
    names = [_name(c) for c in rows]
    x = [min(_strength(c), 1e3) for c in rows]
    fig = go.Figure(
        go.Bar(
            x=x,
            y=names,
            orientation="h",
            marker_color=[_DRIFT if c.get("drifted") else _OK for c in rows],
            customdata=[
                [
                    c.get("stattest"),
                    _num(c.get("score")),
                    _num(c.get("threshold")),
                    "drifted" if c.get("drifted") else "no drift",
                ]
                for c in rows
            ],
            hovertemplate="%{y}<br>%{customdata[0]}: %{customdata[1]} (threshold %{customdata[2]})"
            "<br>%{customdata[3]}<extra></extra>",
        )
    )
    fig.add_vline(x=1, line_dash="dash", line_color="black", annotation_text="drift line")
    fig.update_layout(
        title="Drift per column: score relative to its threshold (≥ 1: drifted, in red)",
        xaxis_title="score ÷ threshold (p-values: log p ÷ log threshold; log scale)",
        xaxis_type="log",
        height=max(300, 28 * len(rows) + 120),
        **_LAYOUT,
    )
    return fig


def distributions_figure(
    columns: Sequence[Mapping], title: str = "Most drifted columns: reference vs current"
) -> go.Figure:
    """Reference and current shares per bin (reference deciles or categories) for a few columns."""
    cols = [c for c in columns if (c.get("bins") or {}).get("labels")]
    if not cols:
        return no_data("No column has binned reference and current values to compare.", title)
    n = len(cols)
    ncols = 1 if n == 1 else 2
    nrows = math.ceil(n / ncols)
    fig = make_subplots(
        rows=nrows,
        cols=ncols,
        subplot_titles=[_subtitle(c) for c in cols],
        vertical_spacing=0.25 if nrows > 1 else 0.1,
    )
    for i, c in enumerate(cols):
        row, col = i // ncols + 1, i % ncols + 1
        b = c["bins"]
        for key, color in (("reference", _REF), ("current", _CUR)):
            fig.add_trace(
                go.Bar(
                    x=b["labels"],
                    y=b[key],
                    name=key,
                    marker_color=color,
                    showlegend=i == 0,
                    legendgroup=key,
                    hovertemplate="%{x}: %{y:.1%}<extra>" + key + "</extra>",
                ),
                row=row,
                col=col,
            )
        fig.update_yaxes(tickformat=".0%", row=row, col=col)
    fig.update_layout(title=title, barmode="group", height=320 * nrows + 80, **_LAYOUT)
    return fig


def psi_table_figure(columns: Sequence[Mapping]) -> go.Figure:
    """A table: column, test, score, threshold, verdict, PSI and KL divergence (fixed bins)."""
    rows = [c for c in columns if c.get("stattest")]
    if not rows:
        return no_data(
            "No column was compared, so there are no drift scores to list.",
            "Drift scores, PSI and KL divergence",
        )
    header = ["column", "test", "score", "threshold", "drifted", "PSI", "KL divergence"]
    cells = [
        [_name(c) for c in rows],
        [c.get("stattest") for c in rows],
        [_num(c.get("score")) for c in rows],
        [_num(c.get("threshold")) for c in rows],
        ["yes" if c.get("drifted") else "no" for c in rows],
        [_num(c.get("psi")) for c in rows],
        [_num(c.get("kl_divergence")) for c in rows],
    ]
    fill = [["#fff5f5" if c.get("drifted") else "white" for c in rows]] * len(header)
    fig = go.Figure(
        go.Table(
            header=dict(values=header, fill_color="#eaeef2", align="left"),
            cells=dict(values=cells, fill_color=fill, align="left"),
        )
    )
    fig.update_layout(
        title="Drift scores, PSI and KL divergence (reference deciles / categories)",
        height=max(250, 26 * len(rows) + 120),
        **_LAYOUT,
    )
    return fig


def missing_figure(columns: Sequence[Mapping]) -> go.Figure:
    """Missing-value share per column, reference beside current."""
    title = "Missing values per column"
    if not columns:
        return no_data("No column was checked for missing values.", title)
    if not any(
        (c.get("reference_missing_share") or 0) > 0 or (c.get("current_missing_share") or 0) > 0
        for c in columns
    ):
        n = len(columns)
        return no_data(
            f"No missing values: none of the {n} column{'s' if n != 1 else ''} has a missing value "
            "in the reference or the current data.",
            title,
        )
    rows = sorted(columns, key=lambda c: -(c.get("current_missing_share") or 0))
    names = [c["name"] for c in rows]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=names, y=[c.get("reference_missing_share") for c in rows], name="reference", marker_color=_REF
        )
    )
    fig.add_trace(
        go.Bar(
            x=names,
            y=[c.get("current_missing_share") for c in rows],
            name="current",
            marker_color=[_DRIFT if c.get("missing_flag") else _CUR for c in rows],
        )
    )
    fig.update_layout(
        title=f"{title} (current in red where the rise is too large)",
        barmode="group",
        yaxis_tickformat=".0%",
        yaxis_title="share of rows missing",
        yaxis_rangemode="tozero",
        height=380,
        **_LAYOUT,
    )
    return fig


def quality_issues_figure(issues: Sequence[Mapping]) -> go.Figure:
    """A table of the data-quality issues found, one row per issue."""
    if not issues:
        return no_data("No data-quality issue was found.", "Data-quality issues")
    header = ["column", "issue", "detail"]
    cells = [
        [i.get("column") for i in issues],
        [i.get("issue") for i in issues],
        [i.get("detail") for i in issues],
    ]
    fig = go.Figure(
        go.Table(
            header=dict(values=header, fill_color="#eaeef2", align="left"),
            cells=dict(values=cells, align="left"),
        )
    )
    fig.update_layout(title="Data-quality issues", height=max(200, 26 * len(issues) + 120), **_LAYOUT)
    return fig


def _strength(c: Mapping) -> float:
    s = c.get("normalized_score")
    if s is None:
        return 1e3 if c.get("drifted") else 1e-3
    return max(float(s), 1e-3)


def _name(c: Mapping) -> str:
    role = c.get("role", "feature")
    return c["name"] if role == "feature" else f"{c['name']} ({role})"


def _subtitle(c: Mapping) -> str:
    verdict = "drifted" if c.get("drifted") else "no drift"
    return f"{_name(c)}: {verdict}"


def _num(x) -> str:
    if x is None:
        return "—"
    x = float(x)
    return f"{x:.3g}" if x == 0 or 1e-3 <= abs(x) < 1e5 else f"{x:.2e}"
