"""Stored results: result objects by kind, rebuilt from their ``to_dict()`` without recomputing.

Importing a result class must stay light (no Evidently, fairlearn or
scikit-learn): dashboards re-render runs through this module.
"""

from __future__ import annotations

import importlib
from typing import Any

RESULT_CLASSES = {
    "drift": ("workbench.monitoring.drift", "DriftResult"),
    "quality": ("workbench.monitoring.quality", "QualityResult"),
    "performance": ("workbench.monitoring.performance", "PerformanceResult"),
    "bias": ("workbench.monitoring.bias", "BiasResult"),
    # Explanations (notebook 03_explain stores them the same way).
    "local_explanation": ("workbench.explain._local_results", "LocalExplanationResult"),
    "explanation_stability": ("workbench.explain._local_results", "StabilityResult"),
    "permutation_importance": ("workbench.explain._global_results", "ImportanceResult"),
    "partial_dependence": ("workbench.explain._global_results", "PartialDependenceResult"),
    "surrogate_tree": ("workbench.explain._global_results", "SurrogateResult"),
}


def result_class(kind: str) -> type:
    try:
        module, name = RESULT_CLASSES[kind]
    except KeyError:
        raise ValueError(f"unknown result kind '{kind}'") from None
    return getattr(importlib.import_module(module), name)


def result_from_dict(entry: dict) -> Any:
    """``{"kind": ..., "data": {...}}`` -> the result object."""
    return result_class(entry["kind"]).from_dict(entry["data"])


def result_to_entry(result: Any) -> dict:
    kind = getattr(result, "kind", None) or type(result).__name__.removesuffix("Result").lower()
    return {"kind": kind, "data": result.to_dict()}
