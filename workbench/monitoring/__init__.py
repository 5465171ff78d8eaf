"""Monitoring analyses: drift, data quality, performance (incl. label-free), bias.

Each analysis returns a result object with ``to_dict()``/``from_dict()``,
``figures()``, ``findings()``, ``checks(config)`` and an HTML card. Heavy
libraries (Evidently, fairlearn, scikit-learn) are imported inside the
functions that compute, never by the result classes: a dashboard re-renders
stored results without loading them. Names are imported on first use.

The result protocol: frozen dataclasses, JSON-safe fields, no raw rows, checks through
:func:`workbench.checks.make_check` so that thresholds can be overridden by name or pattern.
"""

from workbench._lazy import lazy_exports

_EXPORTS = {
    "DriftResult": "workbench.monitoring.drift",
    "detect_drift": "workbench.monitoring.drift",
    "QualityResult": "workbench.monitoring._quality_result",
    "check_quality": "workbench.monitoring.quality",
    "PerformanceEstimator": "workbench.monitoring._performance_estimate",
    "PerformanceResult": "workbench.monitoring.performance",
    "assess_performance": "workbench.monitoring.performance",
    "fit_estimator": "workbench.monitoring._performance_estimate",
    "BiasResult": "workbench.monitoring._bias_result",
    "assess_bias": "workbench.monitoring.bias",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
