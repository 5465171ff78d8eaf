"""Serving: the prediction log and what reads it (the log as a table, labels joined later).

Names are imported on first use, so ``import workbench.serving`` loads neither pandas nor pyarrow.
"""

from workbench._lazy import lazy_exports

_EXPORTS = {
    "read_log": "workbench.serving.log_table",
    "log_dates": "workbench.serving.log_table",
    "is_prediction_log": "workbench.serving.log_table",
    "join_labels": "workbench.serving.labels",
    "LabelJoin": "workbench.serving.labels",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
