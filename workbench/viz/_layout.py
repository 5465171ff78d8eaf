"""What workbench's figures share: the layout (the slim template, margins, a height) and the traces
several figures draw (the diagonal of a curve plot, a heatmap with its values written in its cells).

A figure builder passes ``**layout(...)`` to ``fig.update_layout`` with what
its figure needs beyond the defaults (a taller panel grid, a wider left margin
for long labels), rather than keeping its own copy of the defaults.
"""

from __future__ import annotations

from typing import Any

from workbench.viz._template import slim_template


def layout(
    *,
    left: int = 60,
    right: int = 20,
    top: int = 50,
    bottom: int = 50,
    height: int | None = 380,
    **extra: Any,
) -> dict[str, Any]:
    """Keyword arguments for ``fig.update_layout``: the slim template, the margins (px), `height` (``None``:
    plotly's own) and `extra` (a title, axis titles, a legend...)."""
    out: dict[str, Any] = {"template": slim_template(), "margin": dict(l=left, r=right, t=top, b=bottom)}
    if height is not None:
        out["height"] = height
    return {**out, **extra}


def interval_bars(values, intervals, **style) -> dict[str, Any]:
    """Asymmetric error bars (for ``error_x=`` or ``error_y=``) from each value's ``[low, high]`` interval;
    a value or interval that is missing (None, empty) gets none. `style` adds to them (``visible``...)."""
    pairs = [
        (v, ci) if ci and v is not None else (0, (0, 0)) for v, ci in zip(values, intervals, strict=True)
    ]
    return dict(
        type="data",
        symmetric=False,
        array=[ci[1] - v for v, ci in pairs],
        arrayminus=[v - ci[0] for v, ci in pairs],
        **style,
    )


def diagonal(name: str, *, dash: str = "dash", color: str = "gray"):
    """The line y = x from (0, 0) to (1, 1), called `name` (chance, perfect calibration, no change)."""
    import plotly.graph_objects as go

    return go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(dash=dash, color=color), name=name)


def reliability(curve, name: str, *, mode: str, x_label: str, **style):
    """A calibration curve's points: the observed positive rate against the mean predicted probability of
    each bin of ``curve`` (``mean_predicted``, ``fraction_positive``, ``count``); x is `x_label` on hover."""
    import plotly.graph_objects as go

    return go.Scatter(
        x=curve["mean_predicted"],
        y=curve["fraction_positive"],
        mode=mode,
        name=name,
        customdata=curve.get("count"),
        hovertemplate=x_label + " %{x:.3f}<br>observed %{y:.3f}<br>rows %{customdata}<extra></extra>",
        **style,
    )


def text_heatmap(z, x, y, text, **style):
    """A blue heatmap of `z` with `text` written in its cells; `style` adds to the trace (a colour bar...)."""
    import plotly.graph_objects as go

    return go.Heatmap(z=z, x=x, y=y, text=text, texttemplate="%{text}", colorscale="Blues", **style)
