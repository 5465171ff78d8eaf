"""Plotly figures on a dashboard: as widgets, or as plain outputs the page draws at once.

A ``go.FigureWidget`` is a real widget: it renders in Voila through the
widget manager and can be replaced when a filter changes. (Plotly HTML inside
an ``HTML`` widget renders nothing.) A figure that does not change is better
published as plotly's own output type (:func:`display_figures`): workbench's
Voila template writes it into the page as the kernel produces it, without
waiting for the widget manager, and JupyterLab draws it like ``fig.show()``.
"""

from __future__ import annotations

import plotly.graph_objects as go

from workbench.viz._display import display_figures

__all__ = ["display_figures", "figure_widget"]


def figure_widget(fig: go.Figure) -> go.FigureWidget:
    """The figure as a widget, without validating it again (it was when built: a 4x cheaper widget)."""
    spec = fig.to_plotly_json()
    layout = {**spec.get("layout", {}), "autosize": True}
    return go.FigureWidget(data=spec.get("data", []), layout=layout, _validate=False)
