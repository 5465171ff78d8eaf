"""The trend charts' common parts: the data periods as an axis on which every run has its own point, a
series per model and kind, hover text, control-limit lines (used by :mod:`workbench.dashboards.trends`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import plotly.graph_objects as go

from workbench.dashboards.runs import by_period, metric
from workbench.viz._layout import layout

LAYOUT = layout(bottom=40, height=330, legend=dict(orientation="h", y=-0.22))
RED, BLUE, GREY = "#d62728", "#1f77b4", "#8c8c8c"


def _finish(fig: go.Figure, axis: _Axis, title: str, yaxis_title: str) -> go.Figure:
    fig.update_layout(title=title, yaxis_title=yaxis_title, **LAYOUT)
    axis.apply(fig)
    return fig


class _Axis:
    """The data periods as an axis on which every run has its own point.

    Runs of one period (batches, segments, re-runs) sit side by side around
    the period's tick, in a stable order (model, name, start), so none hides
    another; the hover names each run.
    """

    SPREAD = 0.6  # of the distance between two periods

    def __init__(self, runs: Sequence[Mapping]):
        self.periods = sorted({r["period_label"] for r in runs})
        self.index = {p: i for i, p in enumerate(self.periods)}
        self._x: dict[str, float] = {}
        for period in self.periods:
            here = sorted(
                (r for r in runs if r["period_label"] == period),
                key=lambda r: (r["model"], r.get("name") or "", r.get("started_at") or "", r["id"]),
            )
            n = len(here)
            for k, r in enumerate(here):
                offset = 0.0 if n == 1 else (k / (n - 1) - 0.5) * self.SPREAD
                self._x[r["id"]] = self.index[period] + offset

    def x(self, run: Mapping) -> float:
        return self._x[run["id"]]

    @property
    def span(self) -> list[float]:
        return [-0.5, len(self.periods) - 0.5]

    def runs(
        self,
        runs: Sequence[Mapping],
        ys: list,
        name: str,
        value: str,
        hover_head: str = "",
        notes: Sequence[str] | None = None,
        **style,
    ):
        """One series of runs (a line through their points), each hovered as its run, then `value` (a
        plotly hover template of ``%{y}``) and its note from `notes` (when given), then its checks; `style`
        styles the line and its markers."""
        hover = _hover(runs)
        if notes is not None:
            hover = [[*h, n] for h, n in zip(hover, notes, strict=True)]
        note = "%{customdata[2]}" if notes is not None else ""
        return go.Scatter(
            x=[self.x(r) for r in runs],
            y=ys,
            mode="lines+markers",
            name=name,
            customdata=hover,
            hovertemplate=hover_head
            + "%{customdata[0]}: "
            + value
            + note
            + "<br>%{customdata[1]}<extra></extra>",
            **style,
        )

    def line(self, y: float, name: str, **style) -> go.Scatter:
        """A horizontal line at `y` across every period (a limit, a control limit), styled by `style`."""
        return go.Scatter(x=self.span, y=[y] * 2, mode="lines", name=name, **style)

    def apply(self, fig: go.Figure) -> None:
        fig.update_xaxes(
            tickmode="array",
            tickvals=list(range(len(self.periods))),
            ticktext=self.periods,
            range=self.span,
            title_text="data period",
            showgrid=False,
            zeroline=False,
        )


def _series(runs: Sequence[Mapping], label: str) -> list[tuple[str, list[dict]]]:
    """The lines to draw: one per model; and per run name when a name recurs across periods (segments)."""
    models = sorted({r["model"] for r in runs})
    out = []
    for model in models:
        mine = by_period(r for r in runs if r["model"] == model)
        base = label if len(models) == 1 else f"{label} · {model}"
        periods_of: dict[str, set] = {}
        for r in mine:
            periods_of.setdefault(r.get("name") or "", set()).add(r["period_label"])
        if any(len(p) > 1 for name, p in periods_of.items() if name):
            for name in sorted(periods_of):
                out.append(
                    (f"{base} · {name or '(no name)'}", [r for r in mine if (r.get("name") or "") == name])
                )
        else:
            out.append((base, mine))
    return out


def _hover(points: Sequence[Mapping]) -> list[list[str]]:
    return [
        [r["period_label"], f"{r.get('name') or r['id']} ({r['status'].replace('_', ' ')})"] for r in points
    ]


def _accuracy_row(r: Mapping) -> dict:
    return {
        "period": r["period_label"],
        **{k: metric(r, k) for k in ("estimated_accuracy", "accuracy", "reference_accuracy")},
    }


def _limit_lines(fig: go.Figure, axis: _Axis, limits: Mapping) -> None:
    if limits.get("lower") is None or not axis.periods:
        return
    lower = max(limits["lower"], 0.0)
    for y, name in (
        (limits["center"], "centre line"),
        (lower, "lower control limit"),
        (limits["upper"], "upper control limit"),
    ):
        fig.add_trace(
            axis.line(
                y,
                name,
                line=dict(color=GREY, dash="dot" if name != "centre line" else "solid", width=1),
                hovertemplate=f"{name}: %{{y:.3f}} ({limits['method']})<extra></extra>",
            )
        )


def _outside(v, limits: Mapping) -> bool:
    if v is None or limits.get("lower") is None:
        return False
    return v < limits["lower"] or v > limits["upper"]
