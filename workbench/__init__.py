"""workbench: train, compress, explain, evaluate and monitor scikit-learn models.

``import workbench as wb`` is light on purpose: the stage functions are
imported on first use, so a dashboard kernel that only renders stored results
never pays for scikit-learn pipelines, Evidently, lime or onnxruntime.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench._lazy import lazy_exports
from workbench.errors import (
    DataError,
    ModelFileError,
    ParameterError,
    RecipeError,
    SpecError,
    WorkbenchError,
)

__version__ = "0.1.0"

_LAZY = {
    "DatasetSpec": "workbench.data",
    "infer_spec": "workbench.data",
    "load_table": "workbench.data",
    "load_demo": "workbench.data",
    "list_demos": "workbench.data",
    "simulate_batches": "workbench.data.simulate",
    "default_scenarios": "workbench.data.simulate",
    "write_batches": "workbench.data.simulate",
    "train": "workbench.modeling.train",
    "RECIPES": "workbench.modeling.train",
    "evaluate": "workbench.modeling.evaluate",
    "Model": "workbench.modeling.artifact",
    "compress": "workbench.compression",
    "explain_local": "workbench.explain",
    "explain_worst_errors": "workbench.explain",
    "explanation_stability": "workbench.explain",
    "permutation_importance": "workbench.explain",
    "partial_dependence": "workbench.explain",
    "surrogate_tree": "workbench.explain",
    "explain_shap": "workbench.explain",
    "explain_shap_worst_errors": "workbench.explain",
    "shap_summary": "workbench.explain",
    "assess_performance": "workbench.monitoring.performance",
    "fit_estimator": "workbench.monitoring.performance",
    "detect_drift": "workbench.monitoring.drift",
    "check_quality": "workbench.monitoring.quality",
    "assess_bias": "workbench.monitoring.bias",
    "run_report": "workbench.reports.runner",
    "compare_models": "workbench.releases.compare",
    "save_model": "workbench.modeling.artifact",
    "load_model": "workbench.modeling.artifact",
    "Workbench": "workbench.widgets",
}

__all__ = [
    "__version__",
    "WorkbenchError",
    "DataError",
    "SpecError",
    "ModelFileError",
    "RecipeError",
    "ParameterError",
    *_LAZY,
]

if TYPE_CHECKING:  # pragma: no cover
    from workbench.compression import compress  # noqa: F401
    from workbench.data import DatasetSpec, infer_spec, list_demos, load_demo, load_table  # noqa: F401
    from workbench.data.simulate import default_scenarios, simulate_batches, write_batches  # noqa: F401
    from workbench.explain import (  # noqa: F401
        explain_local,
        explain_shap,
        explain_shap_worst_errors,
        explain_worst_errors,
        explanation_stability,
        partial_dependence,
        permutation_importance,
        shap_summary,
        surrogate_tree,
    )
    from workbench.modeling.artifact import Model, load_model, save_model  # noqa: F401
    from workbench.modeling.evaluate import evaluate  # noqa: F401
    from workbench.modeling.train import RECIPES, train  # noqa: F401
    from workbench.monitoring.bias import assess_bias  # noqa: F401
    from workbench.monitoring.drift import detect_drift  # noqa: F401
    from workbench.monitoring.performance import assess_performance, fit_estimator  # noqa: F401
    from workbench.monitoring.quality import check_quality  # noqa: F401
    from workbench.reports.runner import run_report  # noqa: F401
    from workbench.widgets import Workbench  # noqa: F401


__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
