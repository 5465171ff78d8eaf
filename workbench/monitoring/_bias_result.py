"""The result of :func:`workbench.monitoring.bias.assess_bias`: a :class:`BiasResult` to ask things of.

Light on purpose (numpy, pandas on first use, plotly inside ``figures()``):
stored results re-render without fairlearn, scikit-learn or scipy. The checks,
the intervals and what they mean are described in :mod:`workbench.monitoring.bias`.

Private: import the public names from :mod:`workbench.monitoring.bias`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from workbench import _html
from workbench._json import json_safe
from workbench._lazy import lazy
from workbench.checks import Check, ChecksConfig, checks_table_html, make_check
from workbench.checks._names import ABSOLUTE_CHECKS, WORSENED_CHECKS
from workbench.errors import UnknownNameError, WorkbenchError
from workbench.monitoring._bias_definitions import _WORDS, DISPARITIES, RATES
from workbench.monitoring._bias_estimated import EstimatedFairness
from workbench.monitoring._bias_findings import _attribute_findings, _worsened_sentence
from workbench.monitoring._bias_numbers import _driver_text, _f, _fmt_ci
from workbench.monitoring._bias_records import AttributeResult, Comparison

pd = lazy("pandas")


@dataclass(frozen=True)
class BiasResult:
    """A binary classifier's decisions compared between groups; ask it things.

    ``result.attribute("sex")`` (an :class:`AttributeResult`: its groups and
    disparities), ``result.by_group("sex")`` (a DataFrame of per-group rates
    with intervals), ``result.disparity("demographic_parity_ratio", "sex")``,
    ``result.disparities()``, ``result.findings()``, ``result.checks()``,
    ``result.figures()``. `reference` holds the reference period's own result
    and `comparison` (a :class:`Comparison`) the changes since then.

    Returned by :func:`~workbench.monitoring.bias.assess_bias`; stored as the
    ``bias`` result kind.

    Attributes
    ----------
    model_name : str
        The model whose decisions were compared.
    positive_label, negative_label
        The favourable decision and the other one.
    threshold : float or None
        The model's decision threshold (None: predictions were given).
    n_rows, n_labelled : int
        Rows compared, and those with an outcome label.
    min_group_size : int
        Rows a rate's denominator needs before it is judged.
    confidence : float
        Level of the bootstrap intervals (e.g. 0.95).
    n_bootstrap : int
        Bootstrap draws behind the intervals.
    random_state : int or None
        Seed of the bootstrap.
    overall : dict
        Rates over all rows, plus ``count``, ``n_labelled`` and ``roc_auc``.
    attributes : list of AttributeResult
        Each sensitive column and intersection: its groups and disparities.
    reference : BiasResult or None
        The reference period's own result (without its own reference).
    comparison : Comparison or None
        The changes since the reference.
    notes : list of str
        What was left out and why.
    estimated : EstimatedFairness or None
        Without labels: the rates and disparities that need labels, estimated
        from calibrated probabilities (or why they could not be); None with labels.
        Schema 2 added it (a schema-1 result has none).
    """

    kind: ClassVar[str] = "bias"
    SCHEMA: ClassVar[int] = 2

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
    estimated: EstimatedFairness | None = None

    # -- the result protocol --------------------------------------------------
    def to_dict(self) -> dict:
        """JSON-safe fields, plus flat views for reports.

        Returns
        -------
        dict
            The fields, and ``groups``, ``disparities`` and ``key_metrics``
            (flat lists and a mapping); :meth:`from_dict` reads it back.
        """
        records = {
            "attributes": [a.to_dict() for a in self.attributes],
            "reference": None if self.reference is None else _reference_dict(self.reference),
            "comparison": None if self.comparison is None else self.comparison.to_dict(),
            "estimated": None if self.estimated is None else self.estimated.to_dict(),
        }
        d: dict[str, Any] = {"kind": self.kind}
        d.update({f.name: json_safe(records.get(f.name, getattr(self, f.name))) for f in fields(self)})
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
        if d["estimated"] is None:  # schema 2 added it; a result without one keeps the schema-1 shape
            del d["estimated"]
        return d

    def key_metrics(self) -> dict:
        """Flat figures for the ledger and trend charts.

        Returns
        -------
        dict
            ``bias.<metric>.<attr>`` for each absolute disparity, and
            ``bias.impact_ratio.<attr>.<group>`` and
            ``bias.selection_rate.<attr>.<group>`` for each judged group of a
            single column; values are floats or None.
        """
        out: dict[str, float | None] = {}
        for a in self.attributes:
            for m in ABSOLUTE_CHECKS:
                out[f"bias.{m}.{a.name}"] = a.disparities[m].value
            if len(a.columns) == 1:
                for g in a.judged:
                    out[f"bias.impact_ratio.{a.name}.{g.group}"] = g.impact_ratio
                    out[f"bias.selection_rate.{a.name}.{g.group}"] = g.selection_rate
        if self.estimated is not None:
            out.update(self.estimated.key_metrics())
        return out

    @classmethod
    def from_dict(cls, d: Mapping) -> BiasResult:
        """The result from its :meth:`to_dict` (a run's ``results.json`` holds it).

        Raises
        ------
        WorkbenchError
            `d` is another kind of result, or incomplete.
        """
        if d.get("kind", "bias") != "bias":
            raise WorkbenchError(f"expected a stored bias result, not a '{d.get('kind')}' result")
        kw = {f.name: d[f.name] for f in fields(cls) if f.name in d}
        kw["attributes"] = [AttributeResult.from_dict(a) for a in d.get("attributes") or []]
        kw["reference"] = None if d.get("reference") is None else BiasResult.from_dict(d["reference"])
        kw["comparison"] = None if d.get("comparison") is None else Comparison.from_dict(d["comparison"])
        kw["estimated"] = None if d.get("estimated") is None else EstimatedFairness.from_dict(d["estimated"])
        try:
            return cls(**kw)
        except TypeError as exc:
            raise WorkbenchError(f"the stored bias result is incomplete ({exc})") from None

    @property
    def has_labels(self) -> bool:
        """True when some rows had an outcome label (label-based rates could be computed)."""
        return self.n_labelled > 0

    def attribute(self, name: str) -> AttributeResult:
        """One sensitive column's (or intersection ``a+b``'s) groups and disparities.

        Raises
        ------
        UnknownNameError
            The result has no such attribute (the message lists those it has).
        """
        for a in self.attributes:
            if a.name == name:
                return a
        raise UnknownNameError(
            f"no sensitive attribute '{name}' in this result "
            f"(it has {', '.join(a.name for a in self.attributes)})"
        )

    def by_group(self, attribute: str) -> pd.DataFrame:
        """Per-group rates of one sensitive column (or intersection ``a+b``), with intervals.

        Returns
        -------
        pandas.DataFrame
            Indexed by group: ``count``, ``too_small``, each rate with its
            ``_low``/``_high`` interval, ``impact_ratio``, ``roc_auc`` and the
            rates left ``unjudged``.
        """
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
        """One disparity's value, e.g. ``disparity("demographic_parity_ratio", "sex")``.

        Returns
        -------
        float or None
            None when fewer than two groups could be judged.

        Raises
        ------
        UnknownNameError
            An unknown metric (one of :data:`DISPARITIES`) or attribute.
        """
        if metric not in DISPARITIES:
            raise UnknownNameError(f"unknown disparity '{metric}'; use one of {', '.join(DISPARITIES)}")
        return self.attribute(attribute).disparity(metric).value

    def disparities(self) -> pd.DataFrame:
        """Every disparity in a table.

        Returns
        -------
        pandas.DataFrame
            One row per (attribute, metric): ``value``, ``low``, ``high``
            (the interval) and the judged ``groups``.
        """
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
        """Absolute checks (warnings) and, with a reference, the gating ``.worsened`` checks.

        Parameters
        ----------
        config : ChecksConfig, optional
            Thresholds by check name or glob pattern; a check set to ``False``
            is left out.

        Returns
        -------
        list of Check
            See the table in :mod:`workbench.monitoring.bias`.
        """
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
        if self.estimated is not None:
            out += self.estimated.checks(config, self._words)
        return [c for c in out if c is not None]

    def findings(self, config: ChecksConfig | None = None) -> list[str]:
        """Plain-language sentences, most important first.

        Parameters
        ----------
        config : ChecksConfig, optional
            Accepted for the result protocol; the sentences are the same under
            any check settings.

        Returns
        -------
        list of str
        """
        scored: list[tuple[float, str]] = []
        pos = f"'{self.positive_label}'"
        changes = self.comparison.disparities if self.comparison else []
        for c in changes:
            if c.significant and c.metric in WORSENED_CHECKS:
                scored.append((100 + c.worsening, _worsened_sentence(self, c)))
        for a in self.attributes:
            scored.extend(_attribute_findings(self, a, pos))
        if self.estimated is not None:
            scored.extend(self.estimated.findings(self._words))
        if not self.has_labels and (self.estimated is None or not self.estimated.available):
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
        """The result's charts, by name.

        Returns
        -------
        dict of str to plotly.graph_objects.Figure
            ``selection_rate.<attr>``, ``error_rates.<attr>`` (with labels),
            ``intersection.<a+b>``, ``disparities`` and, with a reference,
            ``comparison``.
        """
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
            elif self.estimated is not None and self.estimated.available and len(a.columns) == 1:
                fig = fz.error_rates_figure(self.estimated.attribute(a.name))
                fig.update_layout(
                    title=f"Error rates by {a.name}, estimated without labels "
                    f"({self.estimated.level:.0%} intervals)"
                )
                figs[f"estimated_error_rates.{a.name}"] = fig
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
        """The first selection-rate chart (the disparities chart when there is none)."""
        figs = self.figures()
        return next((f for k, f in figs.items() if k.startswith("selection_rate.")), figs["disparities"])

    def _repr_html_(self, config: ChecksConfig | None = None) -> str:
        """The result's card: findings, disparities, each column's groups, checks.

        Its checks are under `config` (a report passes its run's check settings).
        """
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
        if self.estimated is not None:
            body += self.estimated.html()
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


def _reference_dict(reference: BiasResult) -> dict:
    """The reference period's result as stored inside the current one: its own fields and flat views."""
    d = reference.to_dict()
    for k in ("kind", "reference", "comparison"):
        d.pop(k, None)
    return d
