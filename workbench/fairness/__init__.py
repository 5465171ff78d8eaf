"""Bias mitigation with fairlearn's own algorithms, judged on one validation set.

Pre-processing (reweighing by group and label; fairlearn's ``CorrelationRemover``),
in-processing (``ExponentiatedGradient`` and ``GridSearch`` with
``DemographicParity``, ``EqualizedOdds`` or ``TruePositiveRateParity``) and
post-processing (``ThresholdOptimizer``), each applied to the original model's
workbench recipe; a frontier of accuracy against disparity and a choice within
a budget (:func:`mitigate`, :class:`MitigationResult`)::

    import workbench.fairness as wf
    result = wf.mitigate(model, table, sensitive="sex", max_disparity=0.05, out="fair.wbm")
    result.figures()["frontier"]

ThresholdOptimizer and CorrelationRemover need the sensitive column at
prediction time (:data:`SENSITIVE_AT_PREDICTION` says why); their saved models
refuse a table without it. Names are imported on first use.
"""

from workbench._lazy import lazy_exports

_EXPORTS = {
    "mitigate": "workbench.fairness._mitigate",
    "mitigate_from_files": "workbench.fairness._mitigate",
    "CONSTRAINTS": "workbench.fairness._methods",
    "METHODS": "workbench.fairness._methods",
    "SENSITIVE_AT_PREDICTION": "workbench.fairness._methods",
    "MitigatedCandidate": "workbench.fairness._result",
    "MitigationResult": "workbench.fairness._result",
    "GroupThresholdClassifier": "workbench.fairness._estimators",
    "RandomizedMixture": "workbench.fairness._estimators",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
