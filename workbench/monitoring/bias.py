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
import itertools
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from workbench import _html
from workbench.data._spec import target_values
from workbench.errors import DataError, SpecError, WorkbenchError
from workbench.monitoring.checks import Check, ChecksConfig, checks_table_html, make_check

__all__ = ["BiasResult", "assess_bias", "DISPARITIES", "ABSOLUTE_CHECKS", "WORSENED_CHECKS"]

#: Per-group rates, in display order.
RATES = ("selection_rate", "base_rate", "tpr", "fpr", "precision", "accuracy")
#: disparity -> (per-group rate, kind, the direction that is worse)
DISPARITIES: dict[str, tuple[str, str, str]] = {
    "demographic_parity_ratio": ("selection_rate", "ratio", "lower"),
    "demographic_parity_difference": ("selection_rate", "difference", "higher"),
    "equalized_odds_difference": ("tpr+fpr", "difference", "higher"),
    "equal_opportunity_difference": ("tpr", "difference", "higher"),
    "false_positive_rate_difference": ("fpr", "difference", "higher"),
    "predictive_parity_difference": ("precision", "difference", "higher"),
    "accuracy_difference": ("accuracy", "difference", "higher"),
    "base_rate_difference": ("base_rate", "difference", "higher"),
}
#: absolute checks: metric -> (op, default threshold)
ABSOLUTE_CHECKS: dict[str, tuple[str, float]] = {
    "demographic_parity_ratio": (">=", 0.8),
    "demographic_parity_difference": ("<=", 0.1),
    "equalized_odds_difference": ("<=", 0.1),
    "equal_opportunity_difference": ("<=", 0.1),
}
#: metrics compared with the reference (check ``bias.<metric>.<attr>.worsened``, default <= 0)
WORSENED_CHECKS = ("demographic_parity_ratio", "demographic_parity_difference", "equalized_odds_difference",
                   "equal_opportunity_difference", "predictive_parity_difference", "base_rate_difference")

# confusion cells per group: (label, prediction) with label negative / positive / unknown
CELLS = ("tn", "fp", "fn", "tp", "unlabelled_negative", "unlabelled_positive")
_MISSING = "missing"
_SEP = " & "
_MAX_DRAWS = 1 << 22  # multinomial counts held at once (bounds the bootstrap's memory)
_PRIOR = 0.5  # Jeffreys pseudo-count per cell in the comparison's Bayesian bootstrap
_WORDS = {
    "selection_rate": "share predicted {pos}",
    "base_rate": "share actually {pos}",
    "tpr": "share of actual {pos} cases predicted {pos} (true positive rate)",
    "fpr": "share of actual {neg} cases wrongly predicted {pos} (false positive rate)",
    "precision": "share of {pos} predictions that are right (precision)",
    "accuracy": "accuracy",
    "impact_ratio": "selection rate relative to the most-favoured group",
    "demographic_parity_ratio": "ratio of the lowest to the highest share predicted {pos}",
    "demographic_parity_difference": "gap between the highest and lowest share predicted {pos}",
    "equalized_odds_difference": "largest gap in true or false positive rates",
    "equal_opportunity_difference": "gap in true positive rates",
    "false_positive_rate_difference": "gap in false positive rates",
    "predictive_parity_difference": "gap in precision",
    "accuracy_difference": "gap in accuracy",
    "base_rate_difference": "gap in actual {pos} rates",
}


@dataclass(frozen=True)
class BiasResult:
    """A binary classifier's decisions compared between groups; ask it things.

    ``result.by_group("sex")`` (a DataFrame of per-group rates with
    intervals), ``result.disparity("demographic_parity_ratio", "sex")``,
    ``result.disparities()``, ``result.findings()``, ``result.checks()``,
    ``result.figures()``. `reference` holds the reference period's own
    result (as a dict) and `comparison` the changes since then.
    """

    kind: ClassVar[str] = "bias"

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
    overall: dict
    attributes: list = field(default_factory=list)
    reference: dict | None = None
    comparison: dict | None = None
    notes: list = field(default_factory=list)

    # -- the result protocol --------------------------------------------------
    def to_dict(self) -> dict:
        """JSON-safe fields, plus flat views (``groups``, ``disparities``, ``key_metrics``) for reports."""
        d = {"kind": self.kind}
        d.update({f.name: _jsonable(getattr(self, f.name)) for f in fields(self)})
        d["groups"] = [{"sensitive": a["name"], **{k: v for k, v in g.items() if k != "confusion"}}
                       for a in d["attributes"] for g in a["groups"]]
        d["disparities"] = [{"sensitive": a["name"], "metric": m, **v}
                            for a in d["attributes"] for m, v in a["disparities"].items()]
        d["key_metrics"] = self.key_metrics()
        return d

    def key_metrics(self) -> dict:
        """Flat figures for the ledger and trend charts: disparities, and each judged group's ratio and rate."""
        out: dict[str, float | None] = {}
        for a in self.attributes:
            for m in ABSOLUTE_CHECKS:
                out[f"bias.{m}.{a['name']}"] = a["disparities"][m]["value"]
            if len(a["columns"]) == 1:
                for g in a["groups"]:
                    if "selection_rate" not in g["unjudged"]:
                        out[f"bias.impact_ratio.{a['name']}.{g['group']}"] = g["impact_ratio"]
                        out[f"bias.selection_rate.{a['name']}.{g['group']}"] = g["selection_rate"]
        return out

    @classmethod
    def from_dict(cls, d: Mapping) -> BiasResult:
        if d.get("kind", "bias") != "bias":
            raise WorkbenchError(f"expected a stored bias result, not a '{d.get('kind')}' result")
        return cls(**{f.name: d[f.name] for f in fields(cls) if f.name in d})

    @property
    def has_labels(self) -> bool:
        return self.n_labelled > 0

    def attribute(self, name: str) -> dict:
        for a in self.attributes:
            if a["name"] == name:
                return a
        raise WorkbenchError(f"no sensitive attribute '{name}' in this result "
                             f"(it has {', '.join(a['name'] for a in self.attributes)})")

    def by_group(self, attribute: str) -> pd.DataFrame:
        """Per-group rates of one sensitive column (or intersection ``a+b``), with intervals."""
        rows = []
        for g in self.attribute(attribute)["groups"]:
            row = {"group": g["group"], "count": g["count"], "too_small": g["too_small"]}
            for m in (*RATES, "impact_ratio", "roc_auc"):
                row[m] = g.get(m)
                if f"{m}_ci" in g:
                    ci = g[f"{m}_ci"] or [None, None]
                    row[f"{m}_low"], row[f"{m}_high"] = ci
            row["unjudged"] = ", ".join(g.get("unjudged", []))
            rows.append(row)
        return pd.DataFrame(rows).set_index("group")

    def disparity(self, metric: str, attribute: str) -> float | None:
        if metric not in DISPARITIES:
            raise WorkbenchError(f"unknown disparity '{metric}'; use one of {', '.join(DISPARITIES)}")
        return self.attribute(attribute)["disparities"][metric]["value"]

    def disparities(self) -> pd.DataFrame:
        """One row per (attribute, metric): value, interval, judged groups."""
        rows = []
        for a in self.attributes:
            for m, d in a["disparities"].items():
                ci = d.get("ci") or [None, None]
                rows.append({"attribute": a["name"], "metric": m, "value": d["value"], "low": ci[0],
                             "high": ci[1], "groups": d.get("groups")})
        return pd.DataFrame(rows)

    def checks(self, config: ChecksConfig | None = None) -> list[Check]:
        """Absolute checks (warnings) and, with a reference, the gating ``.worsened`` checks."""
        out: list[Check | None] = []
        level = f"{self.confidence:.0%}"
        for a in self.attributes:
            for m, (op, default) in ABSOLUTE_CHECKS.items():
                d = a["disparities"][m]
                text = self._words(m)
                msg = (f"{a['name']}: {text} is {{value:.3g}} (limit {op} {{threshold:g}}"
                       + (f"; {level} interval {_fmt_ci(d.get('ci'))})" if d.get("ci") else ")"))
                out.append(make_check(f"bias.{m}.{a['name']}", d["value"], op, default, msg, config,
                                      severity="warning"))
        for c in (self.comparison or {}).get("disparities", []):
            if c["metric"] not in WORSENED_CHECKS:
                continue
            name = f"bias.{c['metric']}.{c['attribute']}.worsened"
            n = (self.comparison or {}).get("comparisons") or 1
            msg = (f"{c['attribute']}: {self._words(c['metric'])} went from {_f(c['reference'])} (reference) "
                   f"to {_f(c['current'])}; beyond chance it got worse by at least {{value:.3g}} ({level} "
                   f"confidence over all {n} comparisons; fails above {{threshold:g}})" + _driver_text(c.get("driver")))
            out.append(make_check(name, c.get("lower_bound"), "<=", 0.0, msg, config, severity="error"))
        return [c for c in out if c is not None]

    def findings(self) -> list[str]:
        """Plain-language sentences, most important first."""
        scored: list[tuple[float, str]] = []
        pos = f"'{self.positive_label}'"
        for c in (self.comparison or {}).get("disparities", []):
            if c.get("significant") and c["metric"] in WORSENED_CHECKS:
                scored.append((100 + c["worsening"], self._worsened_sentence(c)))
        for a in self.attributes:
            scored.extend(self._attribute_findings(a, pos))
        if not self.has_labels:
            scored.append((-1, f"The data has no outcome labels, so only the share predicted {pos} could be "
                               "compared between groups; true and false positive rates, precision and accuracy "
                               "need the actual outcomes."))
        small = [f"{a['name']} = {g['group']} ({g['count']:,} rows)" for a in self.attributes
                 if len(a["columns"]) == 1 for g in a["groups"] if g["too_small"]]
        if small:
            scored.append((-2, f"Too small to judge (fewer than {self.min_group_size} rows): {', '.join(small)}; "
                               "listed, but not ranked or used in the disparities."))
        scored.extend((-3, n) for n in self.notes)
        missing = (self.comparison or {}).get("not_in_reference") or []
        if missing:
            scored.append((-3, f"The reference has no {', '.join(m.replace('+', ' × ') for m in missing)} groups "
                               "to compare with, so those were not checked for worsening."))
        return [s for _, s in sorted(scored, key=lambda t: -t[0])]

    def figures(self) -> dict:
        from workbench.viz import fairness as fz

        figs = {}
        words = {k: v.format(pos=f"'{self.positive_label}'", neg=f"'{self.negative_label}'")
                 for k, v in _WORDS.items()}
        for a in self.attributes:
            figs[f"selection_rate.{a['name']}"] = fz.selection_rate_figure(a, words["selection_rate"])
            if self.has_labels:
                figs[f"error_rates.{a['name']}"] = fz.error_rates_figure(a)
            if len(a["columns"]) == 2:
                figs[f"intersection.{a['name']}"] = fz.intersection_heatmap(a, "selection_rate",
                                                                           words["selection_rate"])
        rows = []
        for a in self.attributes:
            for m, (op, thr) in ABSOLUTE_CHECKS.items():
                d = a["disparities"][m]
                rows.append({"attribute": a["name"], "metric": m, "value": d["value"], "ci": d.get("ci"),
                             "op": op, "threshold": thr})
        figs["disparities"] = fz.disparity_figure(rows)
        if self.comparison and self.comparison.get("disparities"):
            figs["comparison"] = fz.comparison_figure(self.comparison["disparities"], self.confidence)
        return figs

    def figure(self):
        figs = self.figures()
        return next((f for k, f in figs.items() if k.startswith("selection_rate.")), figs["disparities"])

    def _repr_html_(self) -> str:
        items = "".join(f"<li>{_html.esc(s)}</li>" for s in self.findings())
        body = f"<ul style='margin:4px 0 8px 18px;padding:0'>{items}</ul>"
        rows = [{"attribute": r.attribute, "metric": r.metric, "value": r.value,
                 "interval": _fmt_ci([r.low, r.high]) if r.low is not None else "—"}
                for r in self.disparities().itertuples() if r.metric in ABSOLUTE_CHECKS]
        body += _html.table(rows)
        for a in self.attributes:
            if len(a["columns"]) == 1:
                body += f"<div style='margin-top:8px;font-weight:600'>{_html.esc(a['name'])}</div>"
                body += _html.table([{"group": g["group"], "count": g["count"], **{m: g.get(m) for m in RATES},
                                      "impact_ratio": g.get("impact_ratio"), "too small": g["too_small"]}
                                     for g in a["groups"]], highlight="too small")
        body += checks_table_html(self.checks())
        sub = (f"{self.n_rows:,} rows ({self.n_labelled:,} labelled), positive = '{self.positive_label}'"
               + (f", threshold {self.threshold:.3g}" if self.threshold is not None else "")
               + (f"; compared with a reference of {self.reference['n_rows']:,} rows" if self.reference else ""))
        return _html.card(f"Bias / fairness of {self.model_name}", body, sub)

    # -- sentences -----------------------------------------------------------
    def _words(self, key: str) -> str:
        return _WORDS[key].format(pos=f"'{self.positive_label}'", neg=f"'{self.negative_label}'")

    def _attribute_findings(self, a: dict, pos: str) -> list[tuple[float, str]]:
        out: list[tuple[float, str]] = []
        judged = [g for g in a["groups"] if "selection_rate" not in g["unjudged"]]
        name = a["name"].replace("+", " × ")
        inter = len(a["columns"]) > 1
        if len(judged) < 2:
            out.append((0, f"Only {len(judged)} group of {name} is large enough to judge (at least "
                           f"{self.min_group_size} rows), so its groups cannot be compared."))
            return out
        best = max(judged, key=lambda g: g["selection_rate"])
        low = sorted((g for g in judged if g is not best and g["impact_ratio"] is not None
                      and g["impact_ratio"] < 0.8), key=lambda g: g["impact_ratio"])
        dpr = a["disparities"]["demographic_parity_ratio"]
        if low:
            parts = [(f"{g['group']}'s share predicted {pos} is {g['impact_ratio']:.2f} of {best['group']}'s "
                      f"({g['selection_rate']:.1%} vs {best['selection_rate']:.1%}"
                      + (f"; {self.confidence:.0%} interval {_fmt_ci(g.get('impact_ratio_ci'))})"
                         if g.get("impact_ratio_ci") else ")")) if g["selection_rate"] > 0 else
                     f"{g['group']} is never predicted {pos} ({g['count']:,} rows; {best['group']}: "
                     f"{best['selection_rate']:.1%})" for g in low[:3]]
            more = f" (and {len(low) - 3} more)" if len(low) > 3 else ""
            score = (0.8 - low[0]["impact_ratio"]) / 0.8 * (5 if not inter else 2)
            out.append((score, f"For {name}, " + "; ".join(parts) + more
                        + ": below the four-fifths (0.8) rule for the selection rate."))
        elif not inter:
            out.append((0.1, f"For {name}, every group's share predicted {pos} is at least 0.8 of the highest "
                             f"({best['group']}, {best['selection_rate']:.1%}): lowest ratio "
                             f"{_f(dpr['value'])}, within the four-fifths rule."))
        for metric, rate, label in (("equal_opportunity_difference", "tpr", "true positive rate"),
                                    ("false_positive_rate_difference", "fpr", "false positive rate")):
            d = a["disparities"][metric]
            if d["value"] is None or d["value"] <= 0.1:
                continue
            gs = [g for g in a["groups"] if rate not in g["unjudged"] and g.get(rate) is not None]
            hi, lo = max(gs, key=lambda g: g[rate]), min(gs, key=lambda g: g[rate])
            what = (f"of actual {pos} cases, the model predicts {pos} for {hi[rate]:.0%} of {hi['group']} but "
                    f"{lo[rate]:.0%} of {lo['group']}" if rate == "tpr" else
                    f"of actual '{self.negative_label}' cases, the model wrongly predicts {pos} for "
                    f"{hi[rate]:.0%} of {hi['group']} but {lo[rate]:.0%} of {lo['group']}")
            ci = f", {self.confidence:.0%} interval {_fmt_ci(d['ci'])}" if d.get("ci") else ""
            out.append(((d["value"] - 0.1) / 0.1 * (2 if not inter else 1),
                        f"For {name}, {what} ({label} gap {d['value']:.2f}{ci}; above 0.1)."))
        return out

    def _worsened_sentence(self, c: dict) -> str:
        level = f"{self.confidence:.0%}"
        s = (f"Against the reference period, the {self._words(c['metric'])} for {c['attribute'].replace('+', ' × ')} "
             f"got worse beyond chance: {_f(c['reference'])} then, {_f(c['current'])} now (worse by "
             f"{_f(c['worsening'])}; {level} interval {_fmt_ci(c['ci'])})")
        return s + _driver_text(c.get("driver")) + "."


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
        raise WorkbenchError("pass either model= or predictions=, not both")
    _check_options(min_group_size, n_bootstrap, confidence)
    sens = _sensitive_columns(spec, sensitive)
    seeds = np.random.SeedSequence(random_state).spawn(3)
    ref_result = None
    if isinstance(reference, Mapping):
        reference = BiasResult.from_dict(reference)
    if isinstance(reference, BiasResult):
        ref_result = reference
        if ref_result.positive_label != _native(spec.positive_label):
            raise DataError(f"the reference result's positive class {ref_result.positive_label!r} is not the "
                            f"spec's {spec.positive_label!r}")
    elif reference is not None:
        if model is None and reference_predictions is None and not (
                spec.prediction and isinstance(reference, pd.DataFrame) and spec.prediction in reference):
            raise WorkbenchError("the reference table needs predictions too: pass model= or reference_predictions=")
        ref_result, _ = _assess_table(reference, spec, model, reference_predictions, sens, intersections,
                                      min_group_size, n_bootstrap, confidence, random_state, seeds[1],
                                      "the reference data")
    result, reps = _assess_table(data, spec, model, predictions, sens, intersections, min_group_size,
                                 n_bootstrap, confidence, random_state, seeds[0], "the current data")
    if ref_result is None:
        return result
    comparison = _compare(result.attributes, reps, ref_result, min_group_size, n_bootstrap, confidence,
                          np.random.default_rng(seeds[2]))
    ref_dict = ref_result.to_dict()
    for k in ("kind", "reference", "comparison"):
        ref_dict.pop(k, None)
    return dataclasses.replace(result, reference=ref_dict, comparison=comparison)


def _assess_table(data, spec, model, predictions, sens, intersections, min_size, n_boot, confidence,
                  random_state, seed, where) -> tuple[BiasResult, dict]:
    """One table's result (no comparison) and the bootstrap replicates behind it."""
    notes: list[str] = []
    table = _Table.build(data, spec, model, predictions, sens, where)
    rng = np.random.default_rng(seed)
    records, reps = [], {}
    for name, cols in _attributes(table, sens, intersections, notes, where):
        codes, vocab, values = table.groups(cols)
        counts = table.cell_counts(codes, len(vocab))
        rec, rep = _assess_attribute(name, cols, vocab, values, counts, table, codes, min_size, n_boot, confidence,
                                     rng)
        records.append(rec)
        reps[name] = rep
    positive = spec.positive_label
    negative = next((c for c in (spec.classes or []) if c != positive), None)
    result = BiasResult(
        model_name=table.model_name, positive_label=_native(positive), negative_label=_native(negative),
        threshold=table.threshold, n_rows=table.n, n_labelled=table.n_labelled, min_group_size=int(min_size),
        confidence=float(confidence), n_bootstrap=int(n_boot), random_state=random_state,
        overall=table.overall(), attributes=records, notes=notes,
    )
    return result, reps


# -- one table: predictions, labels, groups -------------------------------------------
class _Table:
    """Decisions (`pred`), labels (`label`: 0, 1, or 2 unknown) and sensitive values of one table."""

    def __init__(self, pred, label, score, sensitive, model_name, threshold):
        self.pred, self.label, self.score = pred, label, score
        self.sensitive, self.model_name, self.threshold = sensitive, model_name, threshold
        self.n = len(pred)
        self.n_labelled = int(np.sum(label < 2))

    @classmethod
    def build(cls, data, spec, model, predictions, sens, where) -> _Table:
        if not isinstance(data, pd.DataFrame):
            raise DataError(f"{where} must be a pandas DataFrame")
        if data.empty:
            raise DataError(f"{where} has no rows")
        for c in sens:
            if c not in data.columns:
                raise DataError(f"the sensitive column '{c}' is missing from {where}")
        positive = spec.positive_label
        score = None
        if model is not None:
            score = np.asarray(model.predict_score(data), dtype=float)
            threshold = float(model.threshold)
            pred = score >= threshold
            name = getattr(model, "name", "model")
        else:
            if predictions is None:
                predictions = spec.prediction if spec.prediction and spec.prediction in data.columns else None
                if predictions is None:
                    raise WorkbenchError("bias analysis needs predictions: pass model= or predictions=")
            if isinstance(predictions, str):
                if predictions not in data.columns:
                    raise DataError(f"the prediction column '{predictions}' is missing from {where}")
                predictions = data[predictions]
            pred = _as_positive(predictions, spec, where)
            if len(pred) != len(data):
                raise DataError(f"there are {len(pred):,} predictions for the {len(data):,} rows of {where}")
            threshold, name = None, "given predictions"
        label = np.full(len(data), 2, dtype=np.int64)
        if spec.target is not None and spec.target in data.columns:
            y = target_values(data, spec, where=where)
            known = y.notna().to_numpy()
            label[known] = (y[known] == positive).to_numpy().astype(np.int64)
        sensitive = {c: _group_codes(data[c]) for c in sens}
        return cls(pred.astype(bool), label, score, sensitive, name, threshold)

    def groups(self, cols: Sequence[str]) -> tuple[np.ndarray, list[str], dict[str, dict]]:
        """Group codes of the rows (into a sorted vocabulary), the vocabulary, and each group's values."""
        code, names = self.sensitive[cols[0]]
        parts = [names]
        for c in cols[1:]:
            ci, ni = self.sensitive[c]
            code, parts = code * len(ni) + ci, [*parts, ni]
        present, code = np.unique(code, return_inverse=True)
        rows = [[p[int(k)] for p, k in zip(parts, _unravel(int(v), [len(p) for p in parts]), strict=True)]
                for v in present]
        labels = [_SEP.join(r) for r in rows]
        order = sorted(range(len(labels)), key=lambda i: _group_order(labels[i]))
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        vocab = [labels[i] for i in order]
        values = {labels[i]: dict(zip(cols, rows[i], strict=True)) for i in range(len(labels))}
        return rank[code.ravel()], vocab, values

    def cell_counts(self, codes: np.ndarray, n_groups: int) -> np.ndarray:
        """(groups, 6) counts of the confusion cells (see CELLS) per group."""
        cell = codes * 6 + self.label * 2 + self.pred
        return np.bincount(cell, minlength=6 * n_groups).reshape(n_groups, 6)

    def overall(self) -> dict:
        c = np.bincount(self.label * 2 + self.pred, minlength=6).reshape(1, 6)
        r = {k: _num(v[0]) for k, v in _rates(c).items()}
        r.update(count=self.n, n_labelled=self.n_labelled, roc_auc=None)
        lab = self.label < 2
        if self.score is not None and 0 < self.label[lab].sum() < lab.sum():
            r["roc_auc"] = _auc(self.label[lab], self.score[lab])
        return r


def _attributes(table: _Table, sens: list[str], intersections: bool, notes: list[str], where: str) -> list[tuple]:
    usable = []
    for c in sens:
        values = table.sensitive[c][1]
        if len(values) < 2:
            if len(sens) == 1:
                raise DataError(f"the sensitive column '{c}' has a single group ('{values[0]}') in {where}; "
                                "a bias analysis needs at least two groups to compare")
            notes.append(f"The sensitive column '{c}' has a single group ('{values[0]}') in {where}, so it "
                         "was not compared.")
            continue
        usable.append(c)
    if not usable:
        raise DataError(f"every sensitive column has a single group in {where}; there is nothing to compare")
    attrs = [(c, [c]) for c in usable]
    if intersections:
        attrs += [(f"{a}+{b}", [a, b]) for a, b in itertools.combinations(usable, 2)]
    return attrs


# -- per attribute: MetricFrame point estimates, bootstrap intervals -------------------
def _assess_attribute(name, cols, vocab, values, counts, table, codes, min_size, n_boot, confidence, rng):
    by_group = _metric_frame(counts, vocab)
    judged = _judged(counts, min_size)
    point = {m: np.array([by_group.get(g, {}).get(m, np.nan) for g in vocab], dtype=float) for m in RATES}
    point["impact_ratio"] = _impact(point["selection_rate"], judged["selection_rate"])
    reps = _bootstrap_rates(counts, n_boot, rng) if n_boot else None
    if reps is not None:
        reps["impact_ratio"] = _impact(reps["selection_rate"], judged["selection_rate"])
    # the comparison with a reference redraws from the counts, so nothing else needs keeping
    lo_q, hi_q = (1 - confidence) / 2, 1 - (1 - confidence) / 2
    auc = _group_auc(table, codes, vocab, counts, min_size)
    groups = []
    for k, g in enumerate(vocab):
        c = counts[k]
        rec = {"group": g, "values": values[g],
               "count": int(c.sum()), "n_labelled": int(c[:4].sum()), "n_positive": int(c[2] + c[3]),
               "n_predicted_positive": int(c[1] + c[3] + c[5]), "too_small": bool(c.sum() < min_size),
               "confusion": {cell: int(v) for cell, v in zip(CELLS, c, strict=True)},
               "unjudged": [m for m in RATES if not judged[m][k]]}
        for m in (*RATES, "impact_ratio"):
            rec[m] = _num(point[m][k])
            if reps is not None:
                ok = judged["selection_rate" if m == "impact_ratio" else m][k]
                rec[f"{m}_ci"] = _ci(reps[m][:, k], lo_q, hi_q) if ok and rec[m] is not None else None
        rec["roc_auc"] = auc.get(g)
        groups.append(rec)
    disp = {}
    for m in DISPARITIES:
        value, n_groups = _disparity(point, judged, m)
        d = {"value": _num(value[()]) if value is not None else None, "groups": n_groups}
        if reps is not None and value is not None:
            d["ci"] = _ci(_disparity(reps, judged, m)[0], lo_q, hi_q)
        disp[m] = d
    favoured = None
    if judged["selection_rate"].any():
        sr = np.where(judged["selection_rate"], point["selection_rate"], -np.inf)
        favoured = vocab[int(np.argmax(sr))]
    order = np.argsort(-counts.sum(axis=1), kind="stable")
    rec = {"name": name, "columns": list(cols), "most_favoured": favoured,
           "groups": [groups[i] for i in order if groups[i]["group"] != _MISSING]
           + [g for g in groups if g["group"] == _MISSING],
           "disparities": disp}
    return rec, {"vocab": vocab, "counts": counts}


def _metric_frame(counts: np.ndarray, vocab: list[str]) -> dict[str, dict]:
    """Per-group metrics from fairlearn's MetricFrame, run on the confusion cells weighted by their counts.

    Every metric here is a (weighted) mean over rows, so one row per cell
    weighted by its count gives exactly the per-row numbers, and MetricFrame's
    per-row overhead (seconds on a few thousand rows) does not grow with the data.
    """
    from fairlearn.metrics import MetricFrame, selection_rate

    k_idx, cell_idx = np.nonzero(counts)
    w = counts[k_idx, cell_idx].astype(float)
    groups = np.asarray(vocab, dtype=object)[k_idx]
    y_pred = (cell_idx % 2).astype(int)
    y_true = np.where(cell_idx < 4, cell_idx // 2, 0).astype(int)
    labelled = cell_idx < 4
    out: dict[str, dict] = {g: {} for g in vocab}
    frames = []
    everything = {"count": _weighted_count, "selection_rate": selection_rate}
    by_label = {"base_rate": _base_rate, "tpr": _tpr, "fpr": _fpr, "precision": _precision, "accuracy": _accuracy}
    if labelled.all():  # one frame when every row is labelled (or none is)
        frames.append(({**everything, **by_label}, slice(None)))
    else:
        frames.append((everything, slice(None)))
        if labelled.any():
            frames.append((by_label, labelled))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for metrics, rows in frames:
            mf = MetricFrame(metrics=metrics, y_true=y_true[rows] if metrics is not everything else y_pred,
                             y_pred=y_pred[rows], sensitive_features=groups[rows],
                             sample_params={m: {"sample_weight": w[rows]} for m in metrics})
            for g, row in mf.by_group.iterrows():
                out[str(g)].update({m: float(v) for m, v in row.items()})
    # a rate whose denominator is empty is undefined, whatever a library returns for it
    for k, g in enumerate(vocab):
        c = counts[k]
        for m, den in (("tpr", c[2] + c[3]), ("fpr", c[0] + c[1]), ("precision", c[1] + c[3])):
            if den == 0:
                out[g][m] = np.nan
    return out


def _weighted_count(y_true, y_pred, sample_weight):
    return float(np.sum(sample_weight))


def _base_rate(y_true, y_pred, sample_weight):
    return float(np.average(y_true, weights=sample_weight))


# fairlearn's true/false positive rates and scikit-learn's precision and accuracy give the
# same numbers (the tests check); their input validation, once per group and metric, was
# most of the analysis time.
def _tpr(y_true, y_pred, sample_weight):
    return _share(y_pred, sample_weight, y_true == 1)


def _fpr(y_true, y_pred, sample_weight):
    return _share(y_pred, sample_weight, y_true == 0)


def _precision(y_true, y_pred, sample_weight):
    return _share(y_true, sample_weight, y_pred == 1)


def _share(x, w, where):
    return float(np.average(x[where], weights=w[where])) if w[where].sum() > 0 else np.nan


def _accuracy(y_true, y_pred, sample_weight):
    return float(np.average(y_true == y_pred, weights=sample_weight))


def _judged(counts: np.ndarray, min_size: int) -> dict[str, np.ndarray]:
    """Which groups' rates are judged: a group needs min_size rows, each rate that many in its denominator."""
    n = counts.sum(axis=1)
    big = n >= min_size
    lab = counts[:, :4].sum(axis=1)
    return {
        "selection_rate": big,
        "base_rate": big & (lab >= min_size),
        "accuracy": big & (lab >= min_size),
        "tpr": big & (counts[:, 2] + counts[:, 3] >= min_size),
        "fpr": big & (counts[:, 0] + counts[:, 1] >= min_size),
        "precision": big & (counts[:, 1] + counts[:, 3] >= min_size),
    }


def _rates(c: np.ndarray) -> dict[str, np.ndarray]:
    """Per-group rates from cell counts of shape (..., groups, 6); NaN where a denominator is 0."""
    c = c.astype(float)
    tn, fp, fn, tp, un, up = (c[..., i] for i in range(6))
    n, lab, pos, neg = c.sum(-1), tn + fp + fn + tp, fn + tp, tn + fp
    with np.errstate(invalid="ignore", divide="ignore"):
        return {"selection_rate": (fp + tp + up) / n, "base_rate": pos / lab, "tpr": tp / pos,
                "fpr": fp / neg, "precision": tp / (fp + tp), "accuracy": (tn + tp) / lab}


def _bootstrap_rates(counts: np.ndarray, n_boot: int, rng, *, prior: float = 0.0) -> dict[str, np.ndarray]:
    """Per-group rates for `n_boot` resamples of the rows, drawn as multinomial cell counts.

    Resampling n rows with replacement only changes how many rows fall in
    each (group, label, prediction) cell: a multinomial draw of n over the
    cells with the observed shares. Chunks keep at most _MAX_DRAWS counts in memory.

    With ``prior > 0`` the draw is a Bayesian bootstrap instead (cell shares
    from a Dirichlet with `prior` added to each count of a group's observed label
    states): a group with no or few events then keeps an honest spread, where the
    plain bootstrap would make its rate look certain (0 of 30 resamples to 0).
    """
    flat = counts.ravel().astype(float)
    n = int(flat.sum())
    if prior > 0:
        shape = counts.shape
        states = np.array([counts[..., :4].sum() > 0] * 4 + [counts[..., 4:].sum() > 0] * 2)
        alpha = (counts + prior * (states[None, :] & (counts.sum(axis=1) > 0)[:, None])).ravel()
    chunk = max(1, _MAX_DRAWS // max(len(flat), 1))
    parts = []
    for start in range(0, n_boot, chunk):
        size = min(chunk, n_boot - start)
        if prior > 0:
            draws = rng.standard_gamma(alpha, size=(size, len(alpha))).reshape(size, *shape)
        else:
            draws = rng.multinomial(n, flat / n, size=size).reshape(size, *counts.shape)
        parts.append(_rates(draws))
    return {m: np.concatenate([r[m] for r in parts]) for m in parts[0]}


def _impact(sr: np.ndarray, judged: np.ndarray) -> np.ndarray:
    """Each judged group's selection rate over the highest judged one (NaN for the others)."""
    out = np.full(sr.shape, np.nan)
    if judged.any():
        with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            best = np.nanmax(sr[..., judged], axis=-1, keepdims=True)
            out[..., judged] = sr[..., judged] / best
    return out


def _disparity(rates: Mapping[str, np.ndarray], judged: Mapping[str, np.ndarray], metric: str):
    """(value(s), judged groups) of a disparity over the judged groups; (None, n) under two groups.

    Works on point estimates (shape (groups,)) and on bootstrap replicates
    (shape (n_boot, groups)) alike.
    """
    rate, kind, _ = DISPARITIES[metric]
    if rate == "tpr+fpr":
        a, na = _disparity(rates, judged, "equal_opportunity_difference")
        b, nb = _disparity(rates, judged, "false_positive_rate_difference")
        if a is None and b is None:
            return None, min(na, nb)
        if a is None or b is None:
            return (a if b is None else b), max(na, nb)
        return np.fmax(a, b), max(na, nb)
    mask = judged[rate]
    if mask.sum() < 2:
        return None, int(mask.sum())
    x = rates[rate][..., mask]
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        hi, lo = np.nanmax(x, axis=-1), np.nanmin(x, axis=-1)
        value = lo / hi if kind == "ratio" else hi - lo
    return np.asarray(value, dtype=float), int(mask.sum())


def _group_auc(table: _Table, codes, vocab, counts, min_size) -> dict[str, float | None]:
    if table.score is None or table.n_labelled == 0:
        return {}
    out = {}
    lab = table.label < 2
    for k, g in enumerate(vocab):
        c = counts[k]
        if c[2] + c[3] > 0 and c[0] + c[1] > 0 and c.sum() >= min_size:
            m = (codes == k) & lab
            out[g] = _auc(table.label[m], table.score[m])
    return out


def _auc(y: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC from ranks (the Mann-Whitney statistic; ties count half), as scikit-learn computes it."""
    ranks = pd.Series(score).rank(method="average").to_numpy()
    pos = y == 1
    n1, n0 = int(pos.sum()), int((~pos).sum())
    return float((ranks[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


# -- the reference comparison -----------------------------------------------------------
def _compare(records, reps, ref: BiasResult, min_size, n_boot, confidence, rng) -> dict:
    lo_q, hi_q = (1 - confidence) / 2, 1 - (1 - confidence) / 2
    ref_attrs = {a["name"]: a for a in ref.attributes}
    out_d, out_g, skipped = [], [], []
    family: list[tuple[dict, np.ndarray]] = []
    for rec in records:
        name = rec["name"]
        if name not in ref_attrs:
            skipped.append(name)
            continue
        cur = reps[name]
        vocab = cur["vocab"]
        ref_by = {g["group"]: g for g in ref_attrs[name]["groups"]}
        ref_counts = np.array([[ref_by[g]["confusion"][c] if g in ref_by else 0 for c in CELLS]
                               for g in vocab], dtype=np.int64)
        judged_c, judged_r = _judged(cur["counts"], min_size), _judged(ref_counts, min_size)
        judged = {m: judged_c[m] & judged_r[m] for m in judged_c}
        pc, pr = _rates(cur["counts"]), _rates(ref_counts)
        for p in (pc, pr):
            p["impact_ratio"] = _impact(p["selection_rate"], judged["selection_rate"])
        rc = rr = None
        if n_boot:
            rc = _bootstrap_rates(cur["counts"], n_boot, rng, prior=_PRIOR)
            rr = _bootstrap_rates(ref_counts, n_boot, rng, prior=_PRIOR)
            for r in (rc, rr):
                r["impact_ratio"] = _impact(r["selection_rate"], judged["selection_rate"])
        changes: dict[tuple[str, str], dict] = {}
        for k, g in enumerate(vocab):
            for m in ("selection_rate", "impact_ratio", "tpr", "fpr", "precision", "base_rate"):
                ok = judged["selection_rate" if m == "impact_ratio" else m][k]
                if not ok:
                    continue
                row = {"attribute": name, "group": g, "measure": m, "reference": _num(pr[m][k]),
                       "current": _num(pc[m][k]), "change": _num(pc[m][k] - pr[m][k]), "ci": None, "z": None}
                if rc is not None:
                    diff = rc[m][:, k] - rr[m][:, k]
                    row["ci"] = _ci(diff, lo_q, hi_q)
                    sd = float(np.nanstd(diff))
                    row["z"] = _num(row["change"] / sd) if sd > 0 and row["change"] is not None else None
                changes[(g, m)] = row
                out_g.append(row)
        for m in DISPARITIES:
            orient = -1.0 if DISPARITIES[m][2] == "lower" else 1.0
            vc, n_groups = _disparity(pc, judged, m)
            vr, _ = _disparity(pr, judged, m)
            entry = {"attribute": name, "metric": m, "groups": n_groups, "reference": None, "current": None,
                     "worsening": None, "ci": None, "lower_bound": None, "significant": False, "driver": None}
            if vc is not None and vr is not None and np.isfinite(vc) and np.isfinite(vr):
                entry.update(reference=_num(vr[()]), current=_num(vc[()]), worsening=_num(orient * (vc - vr)))
                if rc is not None:
                    w = orient * (_disparity(rc, judged, m)[0] - _disparity(rr, judged, m)[0])
                    entry["ci"] = _basic_ci(entry["worsening"], w, lo_q, hi_q)
                    if m in WORSENED_CHECKS:
                        family.append((entry, w))
                entry["driver"] = _driver(changes, m)
            out_d.append(entry)
    critical = _simultaneous(family, confidence)
    return {"reference_rows": ref.n_rows, "reference_labelled": ref.n_labelled, "reference_model": ref.model_name,
            "comparisons": len(family), "critical_value": critical,
            "disparities": out_d, "groups": out_g, "not_in_reference": skipped}


def _simultaneous(family: list[tuple[dict, np.ndarray]], confidence: float) -> float | None:
    """Set each gated comparison's lower bound so that all hold together at `confidence` (max-t bootstrap).

    Checking many disparities at once would raise a false alarm on a good
    share of clean batches if each had its own 95% interval. The critical
    value is the `confidence` quantile of the largest standardised bootstrap
    deviation over all of them (Westfall-Young max-t), so a batch with no
    real change fails any ``.worsened`` check in only about 1 - confidence of
    runs. The deviations are taken around the estimate (basic bootstrap), which also
    removes the upward bias of max-minus-min statistics in small groups.
    """
    if not family:
        return None
    dev = []
    for entry, w in family:
        sd = float(np.nanstd(w))
        entry["_sd"] = sd
        dev.append((w - entry["worsening"]) / sd if sd > 0 else np.zeros_like(w))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        top = np.nanmax(np.vstack(dev), axis=0)
    top = top[np.isfinite(top)]
    if not len(top):
        return None
    critical = float(np.quantile(top, confidence))
    for entry, _ in family:
        sd = entry.pop("_sd")
        entry["lower_bound"] = entry["worsening"] - critical * sd
        entry["significant"] = bool(entry["lower_bound"] > 0)
    return critical


def _driver(changes: dict, metric: str) -> dict | None:
    """The group whose own rate moved most (in standard errors) behind a disparity's change."""
    rate = DISPARITIES[metric][0]
    measures = {"selection_rate": ("impact_ratio",), "tpr+fpr": ("tpr", "fpr")}.get(rate, (rate,))
    rows = [r for (g, m), r in changes.items() if m in measures and r["change"] is not None]
    if not rows:
        return None
    best = max(rows, key=lambda r: abs(r["z"]) if r["z"] is not None else abs(r["change"]))
    return {k: best[k] for k in ("group", "measure", "reference", "current", "change", "ci", "z")}


# -- validation and helpers ------------------------------------------------------------
def _require_binary(task: str | None, model_task: str | None) -> None:
    for t in (task, model_task):
        if t == "multiclass":
            raise WorkbenchError("bias analysis needs a binary classifier; for multiclass, evaluate per-group "
                                 "accuracy with workbench.evaluate(model, data, slices=[...])")
        if t == "regression":
            raise WorkbenchError("bias analysis needs a binary classifier; for a regression model, compare "
                                 "per-group errors with workbench.evaluate(model, data, slices=[...])")
    if task != "binary":
        raise SpecError("bias analysis needs a spec with a binary target (the task is "
                        f"{task or 'not set'})")


def _check_options(min_group_size, n_bootstrap, confidence) -> None:
    if isinstance(min_group_size, bool) or not isinstance(min_group_size, int | np.integer) or min_group_size < 1:
        raise WorkbenchError(f"min_group_size must be a whole number of 1 or more, not {min_group_size!r}")
    if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, int | np.integer) or n_bootstrap < 0:
        raise WorkbenchError(f"n_bootstrap must be a whole number of 0 or more, not {n_bootstrap!r}")
    if not isinstance(confidence, int | float) or not 0 < confidence < 1:
        raise WorkbenchError(f"confidence must be between 0 and 1 (e.g. 0.95), not {confidence!r}")


def _sensitive_columns(spec, sensitive) -> list[str]:
    if sensitive is None:
        sens = list(spec.sensitive or [])
    elif isinstance(sensitive, str):
        sens = [sensitive]
    else:
        sens = list(dict.fromkeys(sensitive))
    if not sens:
        raise WorkbenchError("bias analysis needs sensitive columns: declare them in the spec or pass "
                             "sensitive=[...]")
    return sens


def _group_codes(s: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Integer group codes and group names (as text); missing values form the group "missing"."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    names = [str(_native(u)) for u in uniques]
    if (codes < 0).any():
        codes = np.where(codes < 0, len(names), codes)
        names.append(_MISSING)
    return codes.astype(np.int64), names


def _as_positive(pred, spec, where: str) -> np.ndarray:
    """Predicted labels as booleans (positive class), from class labels or 0/1/bool."""
    codes, uniques = pd.factorize(pd.Series(pred).to_numpy(dtype=object), use_na_sentinel=True)
    if (codes < 0).any():
        raise DataError(f"the predictions for {where} have missing values")
    positive, classes = spec.positive_label, list(spec.classes or [])
    values = [_native(v) for v in uniques]
    if all(str(v) in {str(c) for c in classes} for v in values):
        hit = np.array([str(v) == str(positive) for v in values], dtype=bool)
    elif all(isinstance(v, bool | int | float) and v in (0, 1) for v in values):  # also True/False
        hit = np.array([bool(v) for v in values], dtype=bool)
    else:
        shown = ", ".join(repr(v) for v in values[:4])
        raise DataError(f"the predictions for {where} must be class labels ({', '.join(map(repr, classes))}) or "
                        f"0/1, not values such as {shown}")
    return hit[codes] if len(hit) else np.zeros(len(codes), dtype=bool)


def _unravel(v: int, sizes: list[int]) -> list[int]:
    out = []
    for size in reversed(sizes):
        v, r = divmod(v, size)
        out.append(r)
    return out[::-1]


def _group_order(g: str):
    return (g == _MISSING, g)


def _ci(x: np.ndarray, lo_q: float, hi_q: float) -> list | None:
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if len(x) < 2:
        return None
    lo, hi = np.quantile(x, [lo_q, hi_q])
    return [float(lo), float(hi)]


def _basic_ci(estimate: float, reps: np.ndarray, lo_q: float, hi_q: float) -> list | None:
    """The basic (pivot) bootstrap interval: the bootstrap deviations reflected around the estimate."""
    q = _ci(reps, lo_q, hi_q)
    return None if q is None else [2 * estimate - q[1], 2 * estimate - q[0]]


def _num(v: Any) -> float | None:
    if v is None:
        return None
    v = float(v)
    return v if math.isfinite(v) else None


def _native(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _jsonable(x: Any) -> Any:
    if isinstance(x, Mapping):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def _f(v: float | None) -> str:
    return "—" if v is None else f"{v:.3g}"


def _fmt_ci(ci: Sequence | None) -> str:
    if not ci or ci[0] is None:
        return "—"
    return f"{ci[0]:.2f} to {ci[1]:.2f}"


def _driver_text(d: dict | None) -> str:
    if not d or d.get("change") is None:
        return ""
    what = {"impact_ratio": "selection rate relative to the most-favoured group", "tpr": "true positive rate",
            "fpr": "false positive rate", "precision": "precision", "base_rate": "actual positive rate",
            "selection_rate": "selection rate"}[d["measure"]]
    verb = "fell" if d["change"] < 0 else "rose"
    return f"; mostly {d['group']}: its {what} {verb} from {_f(d['reference'])} to {_f(d['current'])}"
