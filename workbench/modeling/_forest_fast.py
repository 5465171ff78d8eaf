"""A random forest's probabilities for a few rows, without joblib's per-tree dispatch.

Why this exists: scikit-learn's ``ForestClassifier.predict_proba`` hands each
tree to joblib as its own task (threads, ``n_jobs=-1`` in the forest recipe).
For a large table that overhead is nothing; for the handful of rows a served
request or a micro-batch holds it is everything: ~0.1 ms of dispatch per tree,
~20 ms for 200 trees, while the trees themselves answer in ~1 ms. Serving
scores one to a few hundred rows per call, so below :data:`SMALL` rows the
trees are called here in a plain loop. The arithmetic is scikit-learn's own
(``_accumulate_prediction``): each tree's ``predict_proba`` on the validated
float32 input, summed in tree order, divided by the number of trees, so the
answer is the same to the last bits or two (scikit-learn's threads add in
whatever order they finish). ``benchmarks/serving.py`` measures the gain and
``tests/test_serving.py`` asserts the equality on every forest recipe.

Anything else (other estimators, multi-output forests, imbalanced-learn
pipelines, more rows) returns None and the caller uses ``predict_proba``.
"""

from __future__ import annotations

import numpy as np

#: Up to this many rows the trees are looped over here; beyond it joblib's threads pay off.
SMALL = 512


def small_batch_proba(estimator, X) -> np.ndarray | None:
    """Class probabilities of a forest (or a scikit-learn pipeline ending in one) for a few rows.

    Parameters
    ----------
    estimator : object
        A fitted ``RandomForestClassifier``/``ExtraTreesClassifier``, or a
        ``sklearn.pipeline.Pipeline`` whose last step is one.
    X : DataFrame or array
        The rows, as the estimator's ``predict_proba`` takes them.

    Returns
    -------
    ndarray or None
        What ``estimator.predict_proba(X)`` returns, or None when this path
        does not apply (another estimator, more than :data:`SMALL` rows).
    """
    if len(X) > SMALL or len(X) == 0:
        return None
    from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
    from sklearn.pipeline import Pipeline

    forest = estimator
    if type(estimator) is Pipeline:  # exactly scikit-learn's: imbalanced-learn's skips its samplers
        forest = estimator.steps[-1][1]
    if not isinstance(forest, (RandomForestClassifier, ExtraTreesClassifier)) or forest.n_outputs_ != 1:
        return None
    validate = getattr(forest, "_validate_X_predict", None)  # scikit-learn's own input checks
    if validate is None:
        return None
    if forest is not estimator:
        for _, step in estimator.steps[:-1]:
            if step is not None and step != "passthrough":
                X = step.transform(X)
    X = validate(X)
    out = np.zeros((X.shape[0], int(forest.n_classes_)), dtype=np.float64)
    for tree in forest.estimators_:
        out += tree.predict_proba(X, check_input=False)
    out /= len(forest.estimators_)
    return out
