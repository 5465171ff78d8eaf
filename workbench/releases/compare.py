"""Champion vs challenger: both models scored on the same rows of one window, compared with paired statistics.

:func:`compare_models` validates its inputs once, scores both models, and
gathers the paired statistics (:mod:`workbench.releases.paired`), fairness
(:mod:`workbench.releases.group_deltas`), serving costs
(:mod:`workbench.releases.operations`) and the label-free comparison
(:mod:`workbench.releases.agreement`) into a
:class:`~workbench.releases.result.ComparisonResult`, whose verdict follows
the rules of :mod:`workbench.releases.verdict`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from workbench.errors import DataError, ParameterError
from workbench.releases.operations import DEFAULT_PRICE
from workbench.releases.result import ComparisonResult
from workbench.releases.verdict import NON_INFERIORITY_MARGIN
from workbench.validation import check_columns, check_number


def compare_models(
    champion: Any,
    challenger: Any,
    data: Any,
    *,
    sensitive: Sequence[str] | str = (),
    cost: Any = None,
    price_per_core_hour: float = DEFAULT_PRICE,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    random_state: int | None = 0,
    latency: bool = True,
    registry: str | None = None,
    reference: Any = None,
    margin: float = NON_INFERIORITY_MARGIN,
    min_group_size: int = 30,
) -> ComparisonResult:
    """Compare a challenger with the champion on the same rows of one window.

    Parameters
    ----------
    champion, challenger : workbench Models, model paths or ``models:/NAME/VERSION`` / ``models:/NAME@ALIAS``
        URIs (resolved in `registry`). Both must be binary classifiers of the same outcome.
    data : the window (a DataFrame, or a CSV/Parquet path) with both models' feature columns. With the
        target column, the paired statistics are measured on its labelled rows; without it, only the
        label-free part (agreement, where they disagree, the label-free estimates) is compared.
    sensitive : columns whose groups are compared (every disparity of the bias report, for both models,
        and the per-group changes).
    cost : a :class:`~workbench.modeling.evaluate.CostMatrix` (or ``{"fn": .., "fp": ..}``); default: each
        error costs 1.
    price_per_core_hour : USD per core-hour for the cost per million predictions (default
        :data:`~workbench.releases.operations.DEFAULT_PRICE`).
    n_bootstrap, confidence, random_state : the paired bootstrap intervals.
    latency : measure latency, throughput, size and serving cost (takes a few seconds).
    reference : a labelled reference table (DataFrame or path) that calibrates the label-free estimates;
        without one they are skipped, with the reason.
    margin : the non-inferiority margin on ROC AUC: a challenger not worse by more than this (beyond
        chance) may be promoted.
    min_group_size : rows a group (or a disagreement slice) needs before it is judged.

    Examples
    --------
    >>> result = compare_models("models:/credit@champion", "challenger.wbm", "window.parquet",
    ...                         sensitive=["sex"])  # doctest: +SKIP
    >>> result.verdict().sentence  # doctest: +SKIP
    'Promote: the challenger is significantly better, ΔROC AUC +0.0123 (95% CI +0.0061 to +0.0188) ...'
    """
    import numpy as np

    from workbench.modeling.evaluate import CostMatrix
    from workbench.releases.agreement import agreement, label_free_estimates
    from workbench.releases.group_deltas import compare_fairness
    from workbench.releases.operations import measure_operations
    from workbench.releases.paired import calibration, paired_statistics

    n_bootstrap = int(check_number(n_bootstrap, "n_bootstrap", low=10, integer=True))
    confidence = check_number(
        confidence, "confidence", low=0, high=1, low_open=True, high_open=True, hint="e.g. 0.95"
    )
    if random_state is not None:
        random_state = int(check_number(random_state, "random_state", low=0, integer=True))
    price_per_core_hour = check_number(price_per_core_hour, "price_per_core_hour", low=0)
    margin = check_number(margin, "margin", low=0, high=1)
    min_group_size = int(check_number(min_group_size, "min_group_size", low=1, integer=True))
    cost = CostMatrix.coerce(cost) or CostMatrix()
    sensitive = _names(sensitive)

    model_a, source_a = _model(champion, "champion", registry)
    model_b, source_b = _model(challenger, "challenger", registry)
    spec = check_comparable(model_a, model_b)
    data = _table(data, "the window")
    check_columns(data, model_a.spec.features, where="the window", what="the champion's feature column")
    check_columns(data, model_b.spec.features, where="the window", what="the challenger's feature column")
    check_columns(data, sensitive, where="the window", what="the sensitive column")
    if reference is not None:
        reference = _table(reference, "the reference data")
        for m, who in ((model_a, "champion"), (model_b, "challenger")):
            check_columns(
                reference, m.spec.features, where="the reference data", what=f"the {who}'s feature column"
            )
        if spec.target not in reference.columns:
            raise DataError(
                f"the target column '{spec.target}' is missing from the reference data, which calibrates "
                "the label-free estimates; pass a labelled reference table"
            )

    score_a = np.asarray(model_a.predict_score(data), dtype=float)
    score_b = np.asarray(model_b.predict_score(data), dtype=float)
    pred_a, pred_b = score_a >= model_a.threshold, score_b >= model_b.threshold
    label = _labels(data, spec)
    known = label < 2
    seeds = np.random.SeedSequence(random_state).spawn(2)
    paired = calib = None
    if known.sum() >= 2:
        y = label[known]
        paired = paired_statistics(
            y, score_a[known], score_b[known], pred_a[known], pred_b[known], cost,
            n_bootstrap=n_bootstrap, confidence=confidence, rng=np.random.default_rng(seeds[0]),
        )  # fmt: skip
        calib = {"champion": calibration(y, score_a[known]), "challenger": calibration(y, score_b[known])}
    fairness, notes = [], []
    if sensitive:
        fairness, notes = compare_fairness(
            data, spec, model_a, model_b, label, pred_a, pred_b, sensitive,
            min_group_size=min_group_size, n_bootstrap=n_bootstrap, confidence=confidence,
            random_state=random_state,
        )  # fmt: skip
    features = list(dict.fromkeys([*model_a.spec.features, *model_b.spec.features]))
    agree = agreement(data, features, pred_a, pred_b, score_a, score_b, min_group_size=min_group_size)
    estimates, note = label_free_estimates(data, model_a, model_b, reference)
    notes.append(note)
    operations = None
    if latency:
        operations = {
            role: measure_operations(m, src, data, price_per_core_hour=price_per_core_hour)
            for role, m, src in (("champion", model_a, source_a), ("challenger", model_b, source_b))
        }
    return ComparisonResult(
        champion=_describe(model_a, source_a),
        challenger=_describe(model_b, source_b),
        positive_label=_native(spec.positive_label),
        n_rows=int(len(data)),
        n_labelled=int(known.sum()),
        confidence=float(confidence),
        n_bootstrap=n_bootstrap,
        random_state=random_state,
        margin=float(margin),
        cost_matrix=cost.to_dict(),
        price_per_core_hour=float(price_per_core_hour),
        paired=paired,
        calibration=calib,
        fairness=fairness,
        operations=operations,
        agreement=agree,
        estimates=estimates,
        notes=notes,
    )


# -- inputs ---------------------------------------------------------------------------
def _model(model: Any, role: str, registry: str | None) -> tuple[Any, str | None]:
    """A workbench Model and where it came from (a path or URI; None for a model in memory)."""
    from workbench.modeling.artifact import load_model

    if isinstance(model, str | Path):
        if not str(model).strip():
            raise ParameterError(f"the {role} is empty; give a model path or a models:/ URI")
        return load_model(model, registry=registry), str(model)
    if hasattr(model, "predict_score") and hasattr(model, "spec"):
        registered = getattr(model, "registered_as", None)
        return model, (registered.uri if registered is not None else (model.meta or {}).get("path"))
    raise ParameterError(
        f"the {role} must be a workbench Model, a model path or a models:/ URI, not {type(model).__name__}"
    )


def check_comparable(a: Any, b: Any):
    """The champion's spec if the models can be compared (same task, binary, same outcome); else one sentence.

    `a` and `b` need only ``task`` and ``spec`` (a Model, or what a report reads from a model file).
    """
    if a.task != b.task:
        raise ParameterError(
            f"the champion is a {a.task} model and the challenger a {b.task} one; only models of the same "
            "task can be compared"
        )
    if a.task != "binary":
        raise ParameterError(
            f"both models are {a.task} models; a comparison (ROC AUC, McNemar's test at each model's "
            "threshold, fairness by group) needs binary classifiers"
        )
    sa, sb = a.spec, b.spec
    if sa.target != sb.target or str(sa.positive_label) != str(sb.positive_label):
        raise DataError(
            f"the champion predicts {sa.target} = {sa.positive_label!r} and the challenger "
            f"{sb.target} = {sb.positive_label!r}; both must predict the same outcome"
        )
    return sa


def _table(data: Any, where: str):
    import pandas as pd

    if isinstance(data, str | Path):
        from workbench.data.io import load_table

        data = load_table(data, what=where.removeprefix("the "))
    if not isinstance(data, pd.DataFrame):
        raise ParameterError(
            f"{where} must be a pandas DataFrame or a CSV/Parquet path, not {type(data).__name__}"
        )
    if data.empty:
        raise DataError(f"{where} has no rows")
    return data


def _labels(data, spec):
    """1 for the positive class, 0 for the other, 2 where the row has no label (or the column is absent)."""
    import numpy as np

    from workbench.data._spec import target_values

    label = np.full(len(data), 2, dtype=np.int64)
    if spec.target in data.columns:
        y = target_values(data, spec, where="the window")
        known = y.notna().to_numpy()
        label[known] = (y[known] == spec.positive_label).to_numpy().astype(np.int64)
    return label


def _names(sensitive: Sequence[str] | str) -> list[str]:
    if isinstance(sensitive, str):
        sensitive = [sensitive]
    names = list(sensitive or [])
    for s in names:
        if not isinstance(s, str) or not s.strip():
            raise ParameterError(f"a sensitive column must be a column name, not {s!r}")
    return list(dict.fromkeys(names))


def _describe(model: Any, source: str | None) -> dict:
    meta = getattr(model, "meta", None) or {}
    registered = getattr(model, "registered_as", None)
    return {
        "name": getattr(model, "name", "model"),
        "source": source,
        "registered": None
        if registered is None
        else {k: v for k, v in registered.to_dict().items() if k != "path"},
        "recipe": meta.get("recipe"),
        "sha256": meta.get("model_sha256"),
        "threshold": float(model.threshold),
        "n_features": len(model.spec.features),
    }


def _native(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v
