"""The two small estimators a mitigated model file holds, around what fairlearn fitted.

fairlearn's fitted objects are not all storable in a safe format: a fitted
``ExponentiatedGradient`` keeps its predictors as closures (``_hs``) and its
weights and history as pandas objects, and a ``ThresholdOptimizer`` keeps its
trade-off curves as DataFrames. What *predicts* is smaller and plain:

- :class:`RandomizedMixture`: ExponentiatedGradient's result, the fitted
  predictors and their weights; the probability of a positive decision is
  ``sum_t w_t * h_t(x)``, exactly fairlearn's ``_pmf_predict``.
- :class:`GroupThresholdClassifier`: ThresholdOptimizer's result, fairlearn's
  own :class:`~fairlearn.postprocessing._interpolated_thresholder.InterpolatedThresholder`
  (the original model and one interpolated threshold pair per group), fed the
  group of each row from the sensitive column of the model's input.

Both are scikit-learn classifiers (``classes_``, ``predict_proba``,
``predict``) with no code of their own beyond this module, and are listed by
class in the trusted model-file types (:mod:`workbench.modeling._skops_trust`).
**Randomized decisions, reproducibly.** Both are randomized classifiers: for
some rows fairlearn decides positive with a probability ``p`` (its
``_pmf_predict``) and draws anew on every ``predict`` call. Deciding ``p >= 0.5``
instead would break the very balance they were fitted for, so the draw is kept
but made once per row: ``u`` is a uniform number computed from a hash of the
row's input values (the same row always gets the same decision, in any process)
and the decision is ``u < p``. :meth:`predict_proba` returns
``score = (decision + p) / 2`` as the positive-class column: at the workbench
model's threshold 0.5 it gives exactly that decision, and within each decision
the rows keep the order of ``p`` (so ROC AUC still ranks them).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from workbench.errors import DataError, ModelFileError


def _decide(X, p: np.ndarray, seed: int) -> np.ndarray:
    """``[1 - score, score]`` with ``score = (decision + p) / 2`` and the row-seeded decision ``u < p``."""
    import pandas as pd

    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X))
    hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy(dtype=np.uint64)
    hashed = pd.util.hash_array(hashed ^ np.uint64(seed))
    u = (hashed >> np.uint64(11)).astype(np.float64) / float(1 << 53)
    score = ((u < p).astype(float) + p) / 2.0
    return np.column_stack([1.0 - score, score])


class _Randomized(ClassifierMixin, BaseEstimator):
    """What both share: labels, the per-row draw, and no fitting of their own (fairlearn fitted them)."""

    def fit(self, X, y=None):
        """Not supported: fairlearn fitted what this holds (see :func:`workbench.fairness.mitigate`)."""
        raise NotImplementedError(
            f"{type(self).__name__} is built from a fitted fairlearn object; use mitigate()"
        )

    def __sklearn_is_fitted__(self) -> bool:
        return True

    @property
    def classes_(self) -> np.ndarray:
        """The class labels, in the order of :meth:`predict_proba`'s columns."""
        return np.asarray(self.classes)

    def positive_probability(self, X) -> np.ndarray:
        """The chance of a positive decision per row (each subclass says how)."""
        raise NotImplementedError

    def predict_proba(self, X) -> np.ndarray:
        """``[1 - score, score]`` per row: the decision drawn once per row, ordered by its probability."""
        return _decide(X, self.positive_probability(X), self.seed)

    def predict(self, X) -> np.ndarray:
        """The labels decided (fairlearn's randomized decision, drawn once per row)."""
        return self.classes_[(self.predict_proba(X)[:, 1] >= 0.5).astype(int)]


class RandomizedMixture(_Randomized):
    """A weighted mixture of fitted 0/1 classifiers (what ExponentiatedGradient returns).

    Parameters
    ----------
    predictors : list
        Fitted classifiers predicting 0 (negative) or 1 (positive).
    weights : numpy.ndarray
        Their non-negative weights (summing to 1).
    classes : numpy.ndarray
        ``[negative label, positive label]``: the labels :meth:`predict` returns.
    seed : int
        Seeds the per-row draws (see the module docstring).
    """

    def __init__(self, predictors=None, weights=None, classes=None, seed=0):
        self.predictors = predictors
        self.weights = weights
        self.classes = classes
        self.seed = seed

    def positive_probability(self, X) -> np.ndarray:
        """The chance of a positive decision per row: ``sum_t w_t * h_t(x)``, as fairlearn's pmf."""
        positive = np.zeros(len(X), dtype=float)
        for weight, predictor in zip(self.weights, self.predictors, strict=True):
            if weight > 0:
                positive += float(weight) * (np.asarray(predictor.predict(X)) == 1)
        return positive


class GroupThresholdClassifier(_Randomized):
    """ThresholdOptimizer's fitted thresholds, reading each row's group from a column of the input.

    Parameters
    ----------
    thresholder : fairlearn InterpolatedThresholder
        What ``ThresholdOptimizer.fit`` built (``interpolated_thresholder_``).
    sensitive : str
        The input column holding the sensitive attribute (its safe model name).
    column : str
        The sensitive column's name as users know it (for error messages).
    classes : numpy.ndarray
        ``[negative label, positive label]``.
    seed : int
        Seeds the per-row draws (see the module docstring).
    """

    def __init__(self, thresholder=None, sensitive=None, column=None, classes=None, seed=0):
        self.thresholder = thresholder
        self.sensitive = sensitive
        self.column = column
        self.classes = classes
        self.seed = seed

    def positive_probability(self, X) -> np.ndarray:
        """The chance of a positive decision per row, from the row's group thresholds (fairlearn's pmf)."""
        if self.sensitive not in getattr(X, "columns", ()):
            raise DataError(
                f"this model post-processes by group and needs the sensitive column '{self.column}' "
                "at prediction time; add it to the data"
            )
        self._check_thresholds()
        groups = X[self.sensitive].astype(str).to_numpy()
        unseen = sorted(set(groups) - {str(g) for g in self.thresholder.interpolation_dict})
        if unseen:
            raise DataError(
                f"the sensitive column '{self.column}' holds groups the thresholds were not fitted for "
                f"({', '.join(unseen[:5])}); this model can only decide for the groups it was mitigated on"
            )
        pmf = self.thresholder._pmf_predict(X, sensitive_features=groups)
        return np.asarray(pmf, dtype=float)[:, 1]

    def _check_thresholds(self) -> None:
        """A model file is hostile input: the thresholder may only read probabilities and compare numbers."""
        from fairlearn.postprocessing._threshold_operation import ThresholdOperation

        t = self.thresholder
        ok = getattr(t, "_predict_method", None) == "predict_proba" and isinstance(
            getattr(t, "interpolation_dict", None), dict
        )
        for bunch in t.interpolation_dict.values() if ok else ():
            ops = [bunch.get("operation0"), bunch.get("operation1")]
            ok = ok and all(
                isinstance(op, ThresholdOperation)
                and op._operator in (">", "<")
                and isinstance(op._threshold, float | int | np.floating | np.integer)
                for op in ops
            )
        if not ok:
            raise ModelFileError("this model's group thresholds are malformed; the model file cannot be used")
