"""When a label-free estimate cannot be trusted, and how uncertain it is when it can.

Confidence-based estimation (CBPE) replaces the missing labels with the
model's calibrated probabilities. Two things break it, and both are measured
here rather than assumed away:

**A reference that is the model's training data.** A model is more confident
and more often right on the rows it was fitted on, so calibration maps fitted
there say "the model is rarely wrong" and every later estimate is too high.
The model's ``meta.json`` records the training table's fingerprint
(:func:`workbench.data.io.fingerprint`); a reference with the same fingerprint
*is* the training data (:func:`training_reference`).

**A batch outside the reference's support.** The calibration maps learn how
often the model is right where the reference has rows; where the current batch
has rows that the reference barely covers, they extrapolate, and the estimate
can even move the wrong way. The measure (:func:`measure_support`) is a
*domain classifier*: a small histogram gradient-boosting model that tells
current rows from reference rows, on the model's input features as the model
sees them (numbers as numbers, categories as native categories: no scaling,
no one-hot, interactions such as "older *and* many prior events" captured by
its trees), cross-validated (3 folds) on at most 2,000 rows of each side, so
it takes well under a second. From its out-of-fold probability ``q`` that a row
is current, ``(1 - q) / q`` (corrected for the two sample sizes) estimates the
ratio of the reference's density to the current batch's at that row. The
figure that decides is the **share of current rows where the reference's
density is below a tenth of the current batch's** (``uncovered_share``): the
rows for which the calibration has next to no evidence. The classifier's ROC
AUC is reported beside it, but it does not decide: a plain re-weighting of
well-covered regions (twice as many married people) gives a high AUC while
CBPE stays right, which is exactly the shift CBPE is built for; only mass in
regions the reference barely covers makes it guess.

**The interval.** Given calibrated probabilities ``p``, the unknown labels
are independent Bernoulli draws; drawing them ``n_draws`` times and computing
each metric on every draw gives the spread of the *realised* metric on this
batch (the CBPE sampling variance, without a normal approximation, and for
ROC AUC too). It does not include the calibration maps' own error, so it is a
lower bound on the uncertainty when the reference is small.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from workbench._lazy import lazy

pd = lazy("pandas")

#: rows of each side the domain classifier is fitted on (bounded: the check must stay fast)
SUPPORT_ROWS = 2000
#: a current row is "barely covered" where the reference's density is below this share of the current one
DENSITY_FLOOR = 0.1
#: above this share of barely covered current rows, the estimate is marked unreliable (the check's default)
SUPPORT_TOLERANCE = 0.10
_MIN_SIDE = 50  # rows per side below which the support is not measured (too few to tell anything)
_MAX_CATEGORIES = 250  # HistGradientBoosting takes at most 255 categories per feature
INTERVAL_LEVEL = 0.9
N_DRAWS = 300


# -- is the reference the training data? -----------------------------------------
def training_reference(reference: pd.DataFrame, model: Any) -> bool | None:
    """True when `reference` is the table `model` was trained on; None when the model does not say.

    Compares the reference's content fingerprint with the one the model's
    ``meta.json`` recorded at training (``meta["training_data"]["sha256"]``).
    """
    from workbench.data.io import fingerprint

    recorded = ((getattr(model, "meta", None) or {}).get("training_data") or {}).get("sha256")
    if not recorded:
        return None
    return fingerprint(reference)["sha256"] == recorded


# -- how far is the batch outside the reference? ------------------------------------------
def support_sample(reference: pd.DataFrame, model: Any, *, random_state: int = 0) -> dict:
    """At most :data:`SUPPORT_ROWS` reference rows of the model's features, as plain JSON columns."""
    from workbench.data._spec import prepare_frame

    frame = prepare_frame(
        _rows(reference, SUPPORT_ROWS, random_state), model.spec, where="the reference data"
    )
    return {c: [_cell(v) for v in frame[c].tolist()] for c in frame.columns}


def measure_support(
    sample: Mapping[str, list], current: pd.DataFrame, model: Any, *, random_state: int = 0
) -> dict | None:
    """How far `current` lies outside the reference rows in `sample` (:func:`support_sample`).

    Returns
    -------
    dict or None
        ``uncovered_share`` (share of current rows where the reference's density is below
        :data:`DENSITY_FLOOR` of the current one), ``auc`` (the domain classifier's
        cross-validated ROC AUC, 0.5: indistinguishable), ``rows_reference``, ``rows_current``,
        ``density_floor`` and ``method``; None when either side has too few rows.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    from workbench.data._spec import prepare_frame

    ref = pd.DataFrame(dict(sample))
    cur = prepare_frame(_rows(current, SUPPORT_ROWS, random_state + 1), model.spec, where="the current data")
    if len(ref) < _MIN_SIDE or len(cur) < _MIN_SIDE or list(ref.columns) != list(cur.columns):
        return None
    X, categorical = _encode(ref, cur, model.spec)
    y = np.r_[np.zeros(len(ref)), np.ones(len(cur))]
    clf = HistGradientBoostingClassifier(
        max_iter=100,
        learning_rate=0.1,
        max_depth=3,
        min_samples_leaf=40,
        l2_regularization=1.0,
        categorical_features=categorical if categorical.any() else None,
        early_stopping=False,
        random_state=random_state,
    )
    from threadpoolctl import threadpool_limits

    folds = StratifiedKFold(3, shuffle=True, random_state=random_state)
    # one thread: on a few thousand rows OpenMP's start-up and, on a busy machine, its
    # oversubscription cost far more than it saves (measured: 1.7 s on one thread, 49 s on all)
    with threadpool_limits(1):
        q = cross_val_predict(clf, X, y, cv=folds, method="predict_proba")[:, 1]
    q_cur = np.clip(q[len(ref) :], 1e-6, 1 - 1e-6)
    ratio = (1 - q_cur) / q_cur * (len(cur) / len(ref))  # reference density / current density
    return {
        "uncovered_share": float(np.mean(ratio < DENSITY_FLOOR)),
        "auc": float(roc_auc_score(y, q)),
        "rows_reference": int(len(ref)),
        "rows_current": int(len(cur)),
        "density_floor": DENSITY_FLOOR,
        "method": "domain classifier (histogram gradient boosting, 3-fold cross-validated)",
    }


def _rows(data: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    return data if len(data) <= n else data.sample(n, random_state=seed)


def _cell(v: Any) -> Any:
    if isinstance(v, float) and v != v:
        return None
    return v.item() if isinstance(v, np.generic) else v


def _encode(ref: pd.DataFrame, cur: pd.DataFrame, spec) -> tuple[np.ndarray, np.ndarray]:
    """Both sides as one float matrix: numbers as they are, categories as codes of a shared vocabulary."""
    cols, categorical = [], []
    for c in ref.columns:
        both = pd.concat([ref[c], cur[c]], ignore_index=True)
        if c in spec.numeric:
            cols.append(pd.to_numeric(both, errors="coerce").to_numpy(dtype=float))
            categorical.append(False)
        else:
            text = both.astype(str)
            top = text.value_counts().index[:_MAX_CATEGORIES]
            code = pd.Categorical(text, categories=top).codes.astype(float)
            cols.append(np.where(code < 0, float(len(top)), code))  # the rest share one code
            categorical.append(True)
    return np.column_stack(cols), np.asarray(categorical)


# -- the estimate's interval ----------------------------------------------------------
def estimate_intervals(
    est: Any,
    proba: np.ndarray,
    threshold: float | None,
    *,
    n_draws: int = N_DRAWS,
    level: float = INTERVAL_LEVEL,
    random_state: int = 0,
) -> dict:
    """``{metric: [low, high]}``: where the realised metric lies if the calibrated probabilities are right.

    Labels are drawn from the calibrated probabilities (`n_draws` times) and the
    metrics computed on each draw; the interval is the central `level` share.
    Binary: accuracy, precision, recall, F1, ROC AUC; multiclass: accuracy.
    """
    rng = np.random.default_rng(random_state)
    cal = est.calibrate(np.asarray(proba, dtype=float))
    n = len(cal)
    draws: dict[str, list] = {}
    chunk = max(1, min(n_draws, 4_000_000 // max(n, 1)))
    if est.task == "binary":
        pos = est.classes.index(est.positive_label)
        score, p = np.asarray(proba, dtype=float)[:, pos], cal[:, pos]
        pred = (score >= (est.threshold if threshold is None else threshold)).astype(float)
        ranks = pd.Series(score).rank().to_numpy()  # average ranks: ties count half, as ROC AUC does
        done = 0
        while done < n_draws:
            k = min(chunk, n_draws - done)
            y = (rng.random((k, n)) < p).astype(float)
            pos_n, tp = y.sum(axis=1), y @ pred
            fp, fn = pred.sum() - tp, pos_n - tp
            tn = n - tp - fp - fn
            neg_n = n - pos_n
            with np.errstate(divide="ignore", invalid="ignore"):
                draws.setdefault("accuracy", []).extend((tp + tn) / n)
                draws.setdefault("precision", []).extend(np.where(tp + fp > 0, tp / (tp + fp), 0.0))
                draws.setdefault("recall", []).extend(np.where(pos_n > 0, tp / pos_n, 0.0))
                draws.setdefault("f1", []).extend(
                    np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), 0.0)
                )
                auc = (y @ ranks - pos_n * (pos_n + 1) / 2) / (pos_n * neg_n)
                draws.setdefault("roc_auc", []).extend(auc[(pos_n > 0) & (neg_n > 0)])
            done += k
    else:
        predicted = np.argmax(np.asarray(proba, dtype=float), axis=1)
        right = cal[np.arange(n), predicted]
        draws["accuracy"] = list((rng.random((n_draws, n)) < right).mean(axis=1))
    tail = (1 - level) / 2 * 100
    return {
        k: [float(np.percentile(v, tail)), float(np.percentile(v, 100 - tail))]
        for k, v in draws.items()
        if len(v)
    }
