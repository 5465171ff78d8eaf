"""Bias / fairness: per-group rates, disparities with bootstrap intervals, and a reference comparison.

:func:`assess_bias` compares a binary classifier's decisions between the
groups of each sensitive column (``sex``, ``race``) and of their pairwise
intersections (``sex+race``), with fairlearn's :class:`~fairlearn.metrics.MetricFrame`.

Per group: ``count``, ``selection_rate`` (share predicted positive),
``base_rate`` (share actually positive), ``tpr``, ``fpr``, ``precision``,
``accuracy``, ``impact_ratio`` (selection rate / the most-favoured group's) and
``roc_auc`` when the model's scores are known. Rates that need labels are
``None`` without them (label-free: selection rates only).

**Too small to judge.** A rate is judged only when its denominator has at
least `min_group_size` rows: the group's rows for the selection rate, its
actual positives for the TPR, its actual negatives for the FPR, its labelled
positive predictions for precision. A group below `min_group_size` rows is
"too small to judge"; unjudged rates are listed but never ranked or used in a
disparity.

**Disparities** per column and intersection, as fairlearn defines them
(``method="between_groups"``) over the judged groups:
``demographic_parity_ratio`` (lowest / highest selection rate: the disparate
impact ratio of the four-fifths rule), ``demographic_parity_difference``,
``equalized_odds_difference`` (the larger of the TPR and FPR differences),
``equal_opportunity_difference`` (TPR difference),
``false_positive_rate_difference``, ``predictive_parity_difference``
(precision), ``accuracy_difference`` and ``base_rate_difference`` (a gap in
actual outcomes: a property of the data, not of the model).

**Confidence intervals** come from a vectorised bootstrap: every metric
depends on a row only through its (group, label, prediction) cell, so
resampling rows is the same as drawing the cell counts from a multinomial.
``n_bootstrap`` draws of a few dozen counts each replace any loop over
resamples, and the cost does not grow with the number of rows (nor does
MetricFrame's: it runs on the cells, weighted by their counts).

Checks (stable names; ``<attr>`` is a sensitive column, or ``a+b`` for an
intersection):

==============================================  =======  ========  =====================================
name                                            default  severity  value
==============================================  =======  ========  =====================================
``bias.demographic_parity_ratio.<attr>``        >= 0.8   warning   lowest / highest selection rate
``bias.demographic_parity_difference.<attr>``   <= 0.1   warning   highest - lowest selection rate
``bias.equalized_odds_difference.<attr>``       <= 0.1   warning   larger of the TPR and FPR gaps
``bias.equal_opportunity_difference.<attr>``    <= 0.1   warning   TPR gap
``bias.<metric>.<attr>.worsened``               <= 0.0   error     worsening since the reference, at
                                                                   least (simultaneous lower bound)
==============================================  =======  ========  =====================================

The absolute checks are always computed and reported, as **warnings**: real
data is rarely fair, and a nightly ``--fail-on all`` should not turn red on a
disparity that was already there when the model was approved (gate on one by
naming it: ``--fail-on 'bias.demographic_parity_ratio.*'``). Without labels
the label-based ones say "nothing to judge" and pass.

The **gating** checks need a ``reference``: a labelled table of the approved
period scored by the same model (or its stored :class:`BiasResult`).
``bias.<metric>.<attr>.worsened`` exists for the four metrics above and for
``predictive_parity_difference`` and ``base_rate_difference``. Its value is
how much the disparity got worse (current minus reference, oriented so that
positive is worse) *at least*, beyond chance: the lower bound of a one-sided
bootstrap interval that holds simultaneously for every comparison of the run
(max-t over all of them), so that a batch with no real change fails any
``.worsened`` check in only about ``1 - confidence`` of runs. The check fails
when that bound is above the threshold (0; raise it to ignore small real
changes). The comparison's bootstrap is a Bayesian one (Jeffreys pseudo-counts),
so that a small group with no or few positive decisions does not look certain.

**Before labels arrive** (the current data has none), the rates and
disparities that need labels are *estimated* from the model's probabilities,
calibrated per group on the labelled reference table (the CBPE idea per group;
see :mod:`workbench.monitoring._bias_estimate`), with intervals, in
``result.estimated``. They gate like the measured ones, against the reference's
measured value: ``bias.estimated.<metric>.<attr>.worsened`` (error, <= 0) for
``equalized_odds_difference`` and ``equal_opportunity_difference``. Without a
model's probabilities or a labelled reference table the estimate is not made,
and the result says why.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from workbench._lazy import lazy
from workbench.checks._names import ABSOLUTE_CHECKS, WORSENED_CHECKS
from workbench.errors import DataError, ParameterError
from workbench.monitoring._bias_compare import _compare
from workbench.monitoring._bias_definitions import (
    CELLS,  # noqa: F401  (public constant, kept importable from here)
    DISPARITIES,
)
from workbench.monitoring._bias_estimate import estimate_fairness, unavailable
from workbench.monitoring._bias_groups import _assess_attribute, _attributes, _Table
from workbench.monitoring._bias_inputs import _require_binary, _sensitive_columns
from workbench.monitoring._bias_numbers import _native
from workbench.monitoring._bias_records import (
    AttributeResult,
    Comparison,
    Disparity,
    DisparityChange,
    GroupRates,
    RateChange,
)
from workbench.monitoring._bias_result import BiasResult
from workbench.validation import check_number

pd = lazy("pandas")

_MIN_REFERENCE_LABELS = 50  # labelled reference rows of each outcome needed to calibrate

__all__ = [
    "BiasResult",
    "AttributeResult",
    "GroupRates",
    "Disparity",
    "Comparison",
    "DisparityChange",
    "RateChange",
    "assess_bias",
    "DISPARITIES",
    "ABSOLUTE_CHECKS",
    "WORSENED_CHECKS",
]


def assess_bias(
    data: pd.DataFrame,
    spec: Any,
    *,
    model: Any = None,
    predictions: Sequence | np.ndarray | pd.Series | str | None = None,
    sensitive: Sequence[str] | str | None = None,
    intersections: bool = True,
    min_group_size: int = 30,
    reference: pd.DataFrame | BiasResult | Mapping | None = None,
    reference_predictions: Sequence | np.ndarray | pd.Series | str | None = None,
    n_bootstrap: int = 500,
    confidence: float = 0.95,
    random_state: int | None = 0,
) -> BiasResult:
    """Compare a binary classifier's decisions between the groups of the sensitive columns.

    Parameters
    ----------
    data : the current table (the target column, when present, gives the labels).
    spec : its DatasetSpec (target, positive class, sensitive columns); None: the model's.
    model : a workbench Model; its predictions use its decision threshold, its
        scores give per-group ROC AUC.
    predictions : instead of a model: predicted labels (an array, or the name
        of a column of `data`; default the spec's prediction column).
    sensitive : the columns to compare (default ``spec.sensitive``).
    intersections : also compare the groups of each pair of sensitive columns.
    min_group_size : rows a rate's denominator needs before it is judged.
    reference : the approved period: a labelled table (scored with the same
        model, or `reference_predictions`), or a stored BiasResult of it.
    n_bootstrap, confidence, random_state : the bootstrap intervals.

    Returns
    -------
    BiasResult
        Per-group rates, disparities with intervals and, with a reference,
        the comparison (which disparities got worse, beyond chance).

    Raises
    ------
    SpecError
        The task (the spec's or the model's) is not binary classification.
    ParameterError
        A bad option, both a model and predictions, or no predictions for a
        table (current or reference).
    DataError
        A missing sensitive or prediction column, sensitive columns that
        cannot define groups, or a stored reference with another positive class.

    Examples
    --------
    Shared set-up: ``demo = load_demo("adult")``; ``model``, a quick logistic regression trained on it.

    >>> result = assess_bias(demo.test.sample(2000, random_state=0), demo.spec,
    ...                      model=model, n_bootstrap=20)
    >>> [a.name for a in result.attributes]
    ['sex', 'race', 'sex+race']
    >>> 0 <= result.disparity("demographic_parity_ratio", "sex") <= 1
    True
    """
    if spec is None and model is not None:
        spec = model.spec
    task = getattr(spec, "task", None)
    _require_binary(task, getattr(model, "task", task))
    if model is not None and (predictions is not None or reference_predictions is not None):
        raise ParameterError("pass either model= or predictions=, not both")
    min_group_size = check_number(min_group_size, "min_group_size", low=1, integer=True)
    n_bootstrap = check_number(n_bootstrap, "n_bootstrap", low=0, integer=True)
    confidence = check_number(
        confidence, "confidence", low=0, high=1, low_open=True, high_open=True, hint="e.g. 0.95"
    )
    if random_state is not None:
        random_state = check_number(random_state, "random_state", low=0, integer=True)
    sens = _sensitive_columns(spec, sensitive)
    seeds = np.random.SeedSequence(random_state).spawn(4)
    ref_result = ref_table = None
    if isinstance(reference, Mapping):
        reference = BiasResult.from_dict(reference)
    if isinstance(reference, BiasResult):
        ref_result = reference
        if ref_result.positive_label != _native(spec.positive_label):
            raise DataError(
                f"the reference result's positive class {ref_result.positive_label!r} is not the "
                f"spec's {spec.positive_label!r}"
            )
    elif reference is not None:
        if (
            model is None
            and reference_predictions is None
            and not (spec.prediction and isinstance(reference, pd.DataFrame) and spec.prediction in reference)
        ):
            raise ParameterError(
                "the reference table needs predictions too: pass model= or reference_predictions="
            )
        ref_result, _, ref_table = _assess_table(
            reference,
            spec,
            model,
            reference_predictions,
            sens,
            intersections,
            min_group_size,
            n_bootstrap,
            confidence,
            random_state,
            seeds[1],
            "the reference data",
        )
    result, reps, table = _assess_table(
        data,
        spec,
        model,
        predictions,
        sens,
        intersections,
        min_group_size,
        n_bootstrap,
        confidence,
        random_state,
        seeds[0],
        "the current data",
    )
    if not result.has_labels:
        result = dataclasses.replace(
            result,
            estimated=_estimated(table, ref_table, ref_result, sens, intersections, seeds[3], confidence),
        )
    if ref_result is None:
        return result
    comparison = _compare(
        result.attributes,
        reps,
        ref_result,
        min_group_size,
        n_bootstrap,
        confidence,
        np.random.default_rng(seeds[2]),
    )
    # the reference's own result, without its own reference and comparison (as stored)
    reference = dataclasses.replace(ref_result, reference=None, comparison=None)
    return dataclasses.replace(result, reference=reference, comparison=comparison)


def _assess_table(
    data,
    spec,
    model,
    predictions,
    sens,
    intersections,
    min_size,
    n_boot,
    confidence,
    random_state,
    seed,
    where,
) -> tuple[BiasResult, dict, _Table]:
    """One table's result (no comparison), the bootstrap replicates behind it, and the table."""
    notes: list[str] = []
    table = _Table.build(data, spec, model, predictions, sens, where)
    rng = np.random.default_rng(seed)
    records, reps = [], {}
    for name, cols in _attributes(table, sens, intersections, notes, where):
        codes, vocab, values = table.groups(cols)
        counts = table.cell_counts(codes, len(vocab))
        rec, rep = _assess_attribute(
            name, cols, vocab, values, counts, table, codes, min_size, n_boot, confidence, rng
        )
        records.append(rec)
        reps[name] = rep
    positive = spec.positive_label
    negative = next((c for c in (spec.classes or []) if c != positive), None)
    result = BiasResult(
        model_name=table.model_name,
        positive_label=_native(positive),
        negative_label=_native(negative),
        threshold=table.threshold,
        n_rows=table.n,
        n_labelled=table.n_labelled,
        min_group_size=int(min_size),
        confidence=float(confidence),
        n_bootstrap=int(n_boot),
        random_state=random_state,
        overall=table.overall(),
        attributes=records,
        notes=notes,
    )
    return result, reps, table


def _estimated(table, ref_table, ref_result, sens, intersections, seed, confidence):
    """The label-free estimate of an unlabelled table's fairness, or why it cannot be made."""
    if table.score is None:
        return unavailable(
            "the predictions were given as labels, without the model's probabilities to estimate from"
        )
    if (
        ref_table is None
        or min(np.sum(ref_table.label == 0), np.sum(ref_table.label == 1)) < _MIN_REFERENCE_LABELS
    ):
        return unavailable(
            "there is no labelled reference table to calibrate the model's probabilities on, and raw "
            "probabilities are not trusted to be calibrated; pass the labelled reference period as reference="
        )
    if ref_table.score is None:
        return unavailable("the reference table was scored without the model's probabilities")
    notes: list[str] = []
    attributes = _attributes(table, sens, intersections, notes, "the current data")
    return estimate_fairness(
        table,
        ref_table,
        attributes,
        ref_result,
        ref_result.min_group_size,
        confidence,
        np.random.default_rng(seed),
    )
