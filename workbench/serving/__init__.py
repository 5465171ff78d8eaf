"""Serving: guarded predictions, fallback, canary and shadow traffic, alias following, the prediction log.

The library pieces work without a server: :class:`GuardedPredictor` checks
records against the model's training profile (:class:`Guard`,
:class:`GuardPolicy`) and falls back when the model fails; :class:`PredictionLog`
writes the Parquet prediction log, and :func:`read_log` reads it back as a table
(labels that arrive later joined by :func:`join_labels`). ``workbench serve`` puts them behind
FastAPI (:func:`build_app`, :func:`serve`). Nothing here imports FastAPI,
uvicorn or prometheus_client until a server is built.
"""

from workbench._lazy import lazy_exports

_EXPORTS = {
    "Guard": "workbench.serving.guard",
    "GuardPolicy": "workbench.serving.guard",
    "GuardedPredictor": "workbench.serving.predictor",
    "Predictions": "workbench.serving.predictor",
    "PredictionLog": "workbench.serving.log",
    "ServedModel": "workbench.serving.scoring",
    "ServingService": "workbench.serving.service",
    "build_app": "workbench.serving.app",
    "canary_bucket": "workbench.serving.traffic",
    "serve": "workbench.serving.server",
    "read_log": "workbench.serving.log_table",
    "log_dates": "workbench.serving.log_table",
    "is_prediction_log": "workbench.serving.log_table",
    "join_labels": "workbench.serving.labels",
    "LabelJoin": "workbench.serving.labels",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
