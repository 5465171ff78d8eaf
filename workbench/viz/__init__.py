"""Plotly figure builders: pure functions from plain data (dicts, lists) to figures.

Nothing here imports the analyses: result objects call these with their own
data, so the same figure is drawn in a widget, a notebook, a report or a
dashboard. Names are imported on first use.
"""

from workbench._lazy import lazy_exports

_EXPORTS = {
    "calibration_figure": "workbench.viz.figures",
    "confusion_figure": "workbench.viz.figures",
    "cost_curve_figure": "workbench.viz.figures",
    "leaderboard_figure": "workbench.viz.figures",
    "pr_figure": "workbench.viz.figures",
    "regression_figure": "workbench.viz.figures",
    "roc_figure": "workbench.viz.figures",
    "slices_figure": "workbench.viz.figures",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
