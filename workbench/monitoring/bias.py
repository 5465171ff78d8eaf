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
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

import numpy as np

from workbench import _html
from workbench._lazy import lazy
from workbench.checks import Check, ChecksConfig, checks_table_html, make_check
from workbench.checks._names import ABSOLUTE_CHECKS, WORSENED_CHECKS
from workbench.errors import DataError, ParameterError, UnknownNameError, WorkbenchError
from workbench.monitoring._bias_compare import _compare
from workbench.monitoring._bias_definitions import (
    _WORDS,
    CELLS,  # noqa: F401  (public constant, kept importable from here)
    DISPARITIES,
    RATES,
)
from workbench.monitoring._bias_findings import _attribute_findings, _worsened_sentence
from workbench.monitoring._bias_groups import _assess_attribute, _attributes, _Table
from workbench.monitoring._bias_inputs import _require_binary, _sensitive_columns
from workbench.monitoring._bias_numbers import _driver_text, _f, _fmt_ci, _jsonable, _native
from workbench.monitoring._bias_records import (
    AttributeResult,
    Comparison,
    Disparity,
    DisparityChange,
    GroupRates,
    RateChange,
)
from workbench.validation import check_number

pd = lazy("pandas")

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


@dataclass(frozen=True)
class BiasResult:
    """A binary classifier's decisions compared between groups; ask it things.

    ``result.attribute("sex")`` (an :class:`AttributeResult`: its groups and
    disparities), ``result.by_group("sex")`` (a DataFrame of per-group rates
    with intervals), ``result.disparity("demographic_parity_ratio", "sex")``,
    ``result.disparities()``, ``result.findings()``, ``result.checks()``,
    ``result.figures()``. `reference` holds the reference period's own result
    and `comparison` (a :class:`Comparison`) the changes since then.
    """

    kind: ClassVar[str] = "bias"
    SCHEMA: ClassVar[int] = 1

    model_name: str
    positive_label: Any
    negative_label: Any
    threshold: float | None
    n_rows: int
    n_labelled: int
    min_group_size: int
    confidence: float
    n_bootstrap: int
    random_state: int | None
    overall: dict  # rates over all rows, plus count, n_labelled and roc_auc (a flat mapping)
    attributes: list[AttributeResult] = field(default_factory=list)
    reference: BiasResult | None = None
    comparison: Comparison | None = None
    notes: list = field(default_factory=list)

    # -- the result protocol --------------------------------------------------
    def to_dict(self) -> dict:
        """JSON-safe fields, plus flat views (``groups``, ``disparities``, ``key_metrics``) for reports."""
        records = {
            "attributes": [a.to_dict() for a in self.attributes],
            "reference": None if self.reference is None else _reference_dict(self.reference),
            "comparison": None if self.comparison is None else self.comparison.to_dict(),
        }
        d: dict[str, Any] = {"kind": self.kind}
        d.update({f.name: _jsonable(records.get(f.name, getattr(self, f.name))) for f in fields(self)})
        d["groups"] = [
            {"sensitive": a["name"], **{k: v for k, v in g.items() if k != "confusion"}}
            for a in d["attributes"]
            for g in a["groups"]
        ]
        d["disparities"] = [
            {"sensitive": a["name"], "metric": m, **v}
            for a in d["attributes"]
            for m, v in a["disparities"].items()
        ]
        d["key_metrics"] = self.key_metrics()
        return d

    def key_metrics(self) -> dict:
        """Flat figures for the ledger and trend charts: disparities, and each judged group's ratio and rate."""
        out: dict[str, float | None] = {}
        for a in self.attributes:
            for m in ABSOLUTE_CHECKS:
                out[f"bias.{m}.{a.name}"] = a.disparities[m].value
            if len(a.columns) == 1:
                for g in a.judged:
                    out[f"bias.impact_ratio.{a.name}.{g.group}"] = g.impact_ratio
                    out[f"bias.selection_rate.{a.name}.{g.group}"] = g.selection_rate
        return out

    @classmethod
    def from_dict(cls, d: Mapping) -> BiasResult:
        if d.get("kind", "bias") != "bias":
            raise WorkbenchError(f"expected a stored bias result, not a '{d.get('kind')}' result")
        kw = {f.name: d[f.name] for f in fields(cls) if f.name in d}
        kw["attributes"] = [AttributeResult.from_dict(a) for a in d.get("attributes") or []]
        kw["reference"] = None if d.get("reference") is None else BiasResult.from_dict(d["reference"])
        kw["comparison"] = None if d.get("comparison") is None else Comparison.from_dict(d["comparison"])
        try:
            return cls(**kw)
        except TypeError as exc:
            raise WorkbenchError(f"the stored bias result is incomplete ({exc})") from None

    @property
    def has_labels(self) -> bool:
        return self.n_labelled > 0

    def attribute(self, name: str) -> AttributeResult:
        for a in self.attributes:
            if a.name == name:
                return a
        raise UnknownNameError(
            f"no sensitive attribute '{name}' in this result "
            f"(it has {', '.join(a.name for a in self.attributes)})"
        )

    def by_group(self, attribute: str) -> pd.DataFrame:
        """Per-group rates of one sensitive column (or intersection ``a+b``), with intervals."""
        rows = []
        for g in self.attribute(attribute).groups:
            row = {"group": g.group, "count": g.count, "too_small": g.too_small}
            for m in (*RATES, "impact_ratio", "roc_auc"):
                row[m] = g.rate(m)
                if m in g.intervals:
                    row[f"{m}_low"], row[f"{m}_high"] = g.intervals[m] or [None, None]
            row["unjudged"] = ", ".join(g.unjudged)
            rows.append(row)
        return pd.DataFrame(rows).set_index("group")

    def disparity(self, metric: str, attribute: str) -> float | None:
        if metric not in DISPARITIES:
            raise UnknownNameError(f"unknown disparity '{metric}'; use one of {', '.join(DISPARITIES)}")
        return self.attribute(attribute).disparity(metric).value

    def disparities(self) -> pd.DataFrame:
        """One row per (attribute, metric): value, interval, judged groups."""
        rows = []
        for a in self.attributes:
            for m, d in a.disparities.items():
                ci = d.ci or [None, None]
                rows.append(
                    {
                        "attribute": a.name,
                        "metric": m,
                        "value": d.value,
                        "low": ci[0],
                        "high": ci[1],
                        "groups": d.groups,
                    }
                )
        return pd.DataFrame(rows)

    def checks(self, config: ChecksConfig | None = None) -> list[Check]:
        """Absolute checks (warnings) and, with a reference, the gating ``.worsened`` checks."""
        out: list[Check | None] = []
        level = f"{self.confidence:.0%}"
        for a in self.attributes:
            for m, (op, default) in ABSOLUTE_CHECKS.items():
                d = a.disparities[m]
                text = self._words(m)
                msg = f"{a.name}: {text} is {{value:.3g}} (limit {op} {{threshold:g}}" + (
                    f"; {level} interval {_fmt_ci(d.ci)})" if d.ci else ")"
                )
                out.append(
                    make_check(f"bias.{m}.{a.name}", d.value, op, default, msg, config, severity="warning")
                )
        comparison = self.comparison
        for c in comparison.disparities if comparison else []:
            if c.metric not in WORSENED_CHECKS:
                continue
            name = f"bias.{c.metric}.{c.attribute}.worsened"
            n = comparison.comparisons or 1
            msg = (
                f"{c.attribute}: {self._words(c.metric)} went from {_f(c.reference)} (reference) "
                f"to {_f(c.current)}; beyond chance it got worse by at least {{value:.3g}} ({level} "
                f"confidence over all {n} comparisons; fails above {{threshold:g}})" + _driver_text(c.driver)
            )
            out.append(make_check(name, c.lower_bound, "<=", 0.0, msg, config, severity="error"))
        return [c for c in out if c is not None]

    def findings(self, config: ChecksConfig | None = None) -> list[str]:
        """Plain-language sentences, most important first (the same under any check settings)."""
        scored: list[tuple[float, str]] = []
        pos = f"'{self.positive_label}'"
        changes = self.comparison.disparities if self.comparison else []
        for c in changes:
            if c.significant and c.metric in WORSENED_CHECKS:
                scored.append((100 + c.worsening, _worsened_sentence(self, c)))
        for a in self.attributes:
            scored.extend(_attribute_findings(self, a, pos))
        if not self.has_labels:
            scored.append(
                (
                    -1,
                    f"The data has no outcome labels, so only the share predicted {pos} could be "
                    "compared between groups; true and false positive rates, precision and accuracy "
                    "need the actual outcomes.",
                )
            )
        small = [
            f"{a.name} = {g.group} ({g.count:,} rows)"
            for a in self.attributes
            if len(a.columns) == 1
            for g in a.groups
            if g.too_small
        ]
        if small:
            scored.append(
                (
                    -2,
                    f"Too small to judge (fewer than {self.min_group_size} rows): {', '.join(small)}; "
                    "listed, but not ranked or used in the disparities.",
                )
            )
        scored.extend((-3, n) for n in self.notes)
        missing = self.comparison.not_in_reference if self.comparison else []
        if missing:
            scored.append(
                (
                    -3,
                    f"The reference has no {', '.join(m.replace('+', ' × ') for m in missing)} groups "
                    "to compare with, so those were not checked for worsening.",
                )
            )
        return [s for _, s in sorted(scored, key=lambda t: -t[0])]

    def figures(self) -> dict:
        from workbench.viz import fairness as fz

        figs = {}
        words = {
            k: v.format(pos=f"'{self.positive_label}'", neg=f"'{self.negative_label}'")
            for k, v in _WORDS.items()
        }
        for a in self.attributes:  # the figures draw from the stored (dict) shape
            ad = a.to_dict()
            figs[f"selection_rate.{a.name}"] = fz.selection_rate_figure(ad, words["selection_rate"])
            if self.has_labels:
                figs[f"error_rates.{a.name}"] = fz.error_rates_figure(ad)
            if len(a.columns) == 2:
                figs[f"intersection.{a.name}"] = fz.intersection_heatmap(
                    ad, "selection_rate", words["selection_rate"]
                )
        rows = []
        for a in self.attributes:
            for m, (op, thr) in ABSOLUTE_CHECKS.items():
                d = a.disparities[m]
                rows.append(
                    {
                        "attribute": a.name,
                        "metric": m,
                        "value": d.value,
                        "ci": d.ci,
                        "op": op,
                        "threshold": thr,
                    }
                )
        figs["disparities"] = fz.disparity_figure(rows)
        if self.comparison and self.comparison.disparities:
            figs["comparison"] = fz.comparison_figure(
                [c.to_dict() for c in self.comparison.disparities], self.confidence
            )
        return figs

    def figure(self):
        figs = self.figures()
        return next((f for k, f in figs.items() if k.startswith("selection_rate.")), figs["disparities"])

    def _repr_html_(self, config: ChecksConfig | None = None) -> str:
        """The result's card; its checks under `config` (a report passes its run's check settings)."""
        items = "".join(f"<li>{_html.esc(s)}</li>" for s in self.findings(config))
        body = f"<ul style='margin:4px 0 8px 18px;padding:0'>{items}</ul>"
        rows = [
            {
                "attribute": r.attribute,
                "metric": r.metric,
                "value": r.value,
                "interval": _fmt_ci([r.low, r.high]) if r.low is not None else "—",
            }
            for r in self.disparities().itertuples()
            if r.metric in ABSOLUTE_CHECKS
        ]
        body += _html.table(rows)
        for a in self.attributes:
            if len(a.columns) == 1:
                body += f"<div style='margin-top:8px;font-weight:600'>{_html.esc(a.name)}</div>"
                body += _html.table(
                    [
                        {
                            "group": g.group,
                            "count": g.count,
                            **{m: g.rate(m) for m in RATES},
                            "impact_ratio": g.impact_ratio,
                            "too small": g.too_small,
                        }
                        for g in a.groups
                    ],
                    highlight="too small",
                )
        body += checks_table_html(self.checks(config))
        sub = (
            f"{self.n_rows:,} rows ({self.n_labelled:,} labelled), positive = '{self.positive_label}'"
            + (f", threshold {self.threshold:.3g}" if self.threshold is not None else "")
            + (f"; compared with a reference of {self.reference.n_rows:,} rows" if self.reference else "")
        )
        return _html.card(f"Bias / fairness of {self.model_name}", body, sub)

    # -- sentences -----------------------------------------------------------
    def _words(self, key: str) -> str:
        return _WORDS[key].format(pos=f"'{self.positive_label}'", neg=f"'{self.negative_label}'")


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

    Examples
    --------
    >>> result = assess_bias(current, spec, model=champion, reference=last_quarter)  # doctest: +SKIP
    >>> result.disparity("demographic_parity_ratio", "sex")  # doctest: +SKIP
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
    seeds = np.random.SeedSequence(random_state).spawn(3)
    ref_result = None
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
        ref_result, _ = _assess_table(
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
    result, reps = _assess_table(
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
) -> tuple[BiasResult, dict]:
    """One table's result (no comparison) and the bootstrap replicates behind it."""
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
    return result, reps


def _reference_dict(reference: BiasResult) -> dict:
    """The reference period's result as stored inside the current one: its own fields and flat views."""
    d = reference.to_dict()
    for k in ("kind", "reference", "comparison"):
        d.pop(k, None)
    return d
