"""Explain: why the model said what it said, per row (LIME, SHAP) and overall (inspection, SHAP).

The stage functions are in :mod:`workbench.explain._api` (local) and
:mod:`workbench.explain._global_api` (global) and :mod:`workbench.explain._shap_api` (SHAP,
computed in ``_shap``); the result objects (``to_dict``/``from_dict``, figures, HTML card) in
``_local_results``, ``_global_results`` and ``_shap_results``, which render stored explanations
without lime, shap or scikit-learn. Names are imported on first use.
"""

from workbench._lazy import lazy_exports

_EXPORTS = {
    "ERROR_KINDS": "workbench.explain._api",
    "explain_local": "workbench.explain._api",
    "explain_worst_errors": "workbench.explain._api",
    "explanation_stability": "workbench.explain._api",
    "local_explainer": "workbench.explain._api",
    "partial_dependence": "workbench.explain._global_api",
    "permutation_importance": "workbench.explain._global_api",
    "surrogate_tree": "workbench.explain._global_api",
    "LocalExplainer": "workbench.explain._lime",
    "LocalExplanation": "workbench.explain._local_results",
    "LocalExplanationResult": "workbench.explain._local_results",
    "StabilityResult": "workbench.explain._local_results",
    "ImportanceResult": "workbench.explain._global_results",
    "MIN_FIDELITY": "workbench.explain._global_results",
    "PartialDependenceResult": "workbench.explain._global_results",
    "SurrogateResult": "workbench.explain._global_results",
    "explain_shap": "workbench.explain._shap_api",
    "explain_shap_worst_errors": "workbench.explain._shap_api",
    "shap_summary": "workbench.explain._shap_api",
    "ShapExplanationResult": "workbench.explain._shap_results",
    "ShapRow": "workbench.explain._shap_results",
    "ShapSummaryResult": "workbench.explain._shap_results",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
