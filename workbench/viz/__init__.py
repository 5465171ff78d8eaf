"""Plotly figure builders: pure functions from plain data (dicts, lists) to figures.

Nothing here imports the analyses: result objects call these with their own
data, so the same figure is drawn in a widget, a notebook, a report or a
dashboard.
"""

from workbench.viz.figures import (
    calibration_figure,
    confusion_figure,
    cost_curve_figure,
    leaderboard_figure,
    pr_figure,
    regression_figure,
    roc_figure,
    slices_figure,
)

__all__ = [
    "calibration_figure",
    "confusion_figure",
    "cost_curve_figure",
    "leaderboard_figure",
    "pr_figure",
    "regression_figure",
    "roc_figure",
    "slices_figure",
]
