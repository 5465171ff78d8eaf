"""Figures for a canary judgment: both arms' answers, latency quantiles, failure and fallback rates.

Pure functions from the plain dicts a :class:`~workbench.releases.canary_result.CanaryResult` stores.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import plotly.graph_objects as go

from workbench.viz._empty import no_data
from workbench.viz._template import slim_template

_LAYOUT = dict(template=slim_template(), margin=dict(l=60, r=20, t=60, b=50), height=340)
_ARMS = {"champion": "#1f77b4", "canary": "#ff7f0e"}


def predictions_figure(prediction: Mapping | None) -> go.Figure:
    """The share of each arm's answers per bin (champion deciles, or classes)."""
    title = "Answers: canary vs champion"
    bins = (prediction or {}).get("bins") or {}
    if not bins.get("labels"):
        return no_data("Both arms need answered records to compare their answers.", title)
    series = {"champion": bins["reference"], "canary": bins["current"]}
    return _bars(bins["labels"], series, title, y_title="share of answers", percent=True)


def latency_figure(champion: Mapping, canary: Mapping) -> go.Figure:
    """Per-record latency quantiles of each arm (ms)."""
    title = "Latency per record"
    arms = {"champion": champion.get("latency_ms") or {}, "canary": canary.get("latency_ms") or {}}
    if not all(arms.values()):
        return no_data("Latency needs answered records in both arms.", title)
    keys = list(arms["champion"])
    return _bars(keys, {k: [v.get(q) for q in keys] for k, v in arms.items()}, title, y_title="ms")


def rates_figure(rejected: Mapping, fallbacks: Mapping, accuracy: Mapping | None) -> go.Figure:
    """Validation-failure, fallback and (with labels) accuracy rates of each arm."""
    tests = {"rejected": rejected or {}, "fallback": fallbacks or {}}
    if accuracy:
        tests["accuracy"] = accuracy
    labels = list(tests)
    series = {arm: [tests[k].get(arm) for k in labels] for arm in _ARMS}
    return _bars(labels, series, "Rates per arm", y_title="share of records", percent=True)


def _bars(
    x: Sequence, series: Mapping[str, Sequence], title: str, *, y_title: str, percent: bool = False
) -> go.Figure:
    fig = go.Figure()
    for arm, y in series.items():
        fig.add_trace(
            go.Bar(
                x=list(x),
                y=list(y),
                name=arm,
                marker_color=_ARMS.get(arm),
                hovertemplate="%{x}: %{y" + (":.2%" if percent else ":.3g") + "}<extra>" + arm + "</extra>",
            )
        )
    fig.update_layout(title=title, barmode="group", yaxis_title=y_title, **_LAYOUT)
    if percent:
        fig.update_yaxes(tickformat=".0%")
    return fig
