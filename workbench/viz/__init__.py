"""Plotly figure builders: pure functions from plain data (dicts, lists) to figures.

Nothing here imports the analyses: result objects call these with their own
data, so the same figure is drawn in a widget, a notebook, a report or a
dashboard. Names are imported on first use.
"""

from workbench._lazy import lazy_exports

_EXPORTS = dict.fromkeys(
    (
        "calibration_figure",
        "confusion_figure",
        "cost_curve_figure",
        "leaderboard_figure",
        "pr_figure",
        "regression_figure",
        "roc_figure",
        "slices_figure",
    ),
    "workbench.viz.figures",  # the training and evaluation figures
)

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
