"""Typed records of a :class:`workbench.monitoring.bias.BiasResult`.

Groups, disparities, the reference comparison.
Each record's ``to_dict()`` is the JSON that stored bias results have always
held (``results.json`` of runs written before these records existed load as
they are), and ``from_dict`` reads it back. The records are built from that
same dict shape by the analysis (:mod:`workbench.monitoring._bias_groups`,
:mod:`workbench.monitoring._bias_compare`), so what is computed and what is
stored cannot drift apart.

Private: import the public names from :mod:`workbench.monitoring.bias`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from workbench.errors import UnknownNameError
from workbench.monitoring._bias_definitions import RATES
from workbench.results import name_list

#: the per-group rates that carry an interval (``<rate>_ci``) when the bootstrap ran
_WITH_CI = (*RATES, "impact_ratio")


@dataclass(frozen=True)
class GroupRates:
    """One group of a sensitive column (or intersection): its size, confusion cells and rates.

    A rate is None when it cannot be computed (no labels, an empty
    denominator); ``unjudged`` lists the rates whose denominator is below
    ``min_group_size`` (listed, never ranked). ``intervals`` maps a rate to its
    bootstrap interval (``[low, high]`` or None); empty without a bootstrap.
    """

    group: str
    values: dict[str, str]  # sensitive column -> this group's value
    count: int
    n_labelled: int
    n_positive: int
    n_predicted_positive: int
    too_small: bool
    confusion: dict[str, int]  # cell (see CELLS) -> rows
    unjudged: list[str]
    selection_rate: float | None = None
    base_rate: float | None = None
    tpr: float | None = None
    fpr: float | None = None
    precision: float | None = None
    accuracy: float | None = None
    impact_ratio: float | None = None
    roc_auc: float | None = None
    intervals: dict[str, list | None] = field(default_factory=dict)

    def rate(self, name: str) -> float | None:
        if name not in (*_WITH_CI, "roc_auc"):
            raise UnknownNameError(f"unknown rate '{name}'; use one of {name_list([*_WITH_CI, 'roc_auc'])}")
        return getattr(self, name)

    def interval(self, name: str) -> list | None:
        """The bootstrap interval of a rate, or None (not judged, or no bootstrap)."""
        return self.intervals.get(name)

    def to_dict(self) -> dict:
        d: dict[str, Any] = {
            "group": self.group,
            "values": dict(self.values),
            "count": self.count,
            "n_labelled": self.n_labelled,
            "n_positive": self.n_positive,
            "n_predicted_positive": self.n_predicted_positive,
            "too_small": self.too_small,
            "confusion": dict(self.confusion),
            "unjudged": list(self.unjudged),
        }
        for m in _WITH_CI:
            d[m] = getattr(self, m)
            if m in self.intervals:
                d[f"{m}_ci"] = _list(self.intervals[m])
        d["roc_auc"] = self.roc_auc
        return d

    @classmethod
    def from_dict(cls, d: Mapping) -> GroupRates:
        return cls(
            group=d["group"],
            values=dict(d.get("values") or {}),
            count=d["count"],
            n_labelled=d.get("n_labelled", 0),
            n_positive=d.get("n_positive", 0),
            n_predicted_positive=d.get("n_predicted_positive", 0),
            too_small=d["too_small"],
            confusion=dict(d.get("confusion") or {}),
            unjudged=list(d.get("unjudged") or []),
            **{m: d.get(m) for m in (*_WITH_CI, "roc_auc")},
            intervals={m: _list(d[f"{m}_ci"]) for m in _WITH_CI if f"{m}_ci" in d},
        )


@dataclass(frozen=True)
class Disparity:
    """One disparity of a sensitive column over its judged groups (None with fewer than two)."""

    value: float | None
    groups: int  # judged groups it was computed over
    ci: list | None = None  # bootstrap interval, when the bootstrap ran

    def to_dict(self) -> dict:
        d: dict[str, Any] = {"value": self.value, "groups": self.groups}
        if self.ci is not None:
            d["ci"] = _list(self.ci)
        return d

    @classmethod
    def from_dict(cls, d: Mapping) -> Disparity:
        return cls(value=d.get("value"), groups=d.get("groups", 0), ci=_list(d.get("ci")))


@dataclass(frozen=True)
class AttributeResult:
    """The groups and disparities of one sensitive column (``sex``) or intersection (``sex+race``)."""

    name: str
    columns: list[str]
    most_favoured: str | None
    groups: list[GroupRates]  # largest first, the "missing" group last
    disparities: dict[str, Disparity]  # metric (see DISPARITIES) -> disparity

    def group(self, name: str) -> GroupRates:
        for g in self.groups:
            if g.group == name:
                return g
        raise UnknownNameError(
            f"no group '{name}' of {self.name}; its groups are {name_list([g.group for g in self.groups])}"
        )

    def disparity(self, metric: str) -> Disparity:
        try:
            return self.disparities[metric]
        except KeyError:
            raise UnknownNameError(
                f"unknown disparity '{metric}'; use one of {name_list(self.disparities)}"
            ) from None

    @property
    def judged(self) -> list[GroupRates]:
        """Groups large enough for their selection rate to be judged."""
        return [g for g in self.groups if "selection_rate" not in g.unjudged]

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "columns": list(self.columns),
            "most_favoured": self.most_favoured,
            "groups": [g.to_dict() for g in self.groups],
            "disparities": {m: d.to_dict() for m, d in self.disparities.items()},
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> AttributeResult:
        return cls(
            name=d["name"],
            columns=list(d["columns"]),
            most_favoured=d.get("most_favoured"),
            groups=[GroupRates.from_dict(g) for g in d["groups"]],
            disparities={m: Disparity.from_dict(v) for m, v in d["disparities"].items()},
        )


@dataclass(frozen=True)
class RateChange:
    """How one group's rate moved between the reference period and now."""

    attribute: str
    group: str
    measure: str  # a rate, or impact_ratio
    reference: float | None
    current: float | None
    change: float | None
    ci: list | None = None
    z: float | None = None  # change in bootstrap standard errors

    def to_dict(self) -> dict:
        """The fields as JSON-safe data."""
        return {**asdict(self), "ci": _list(self.ci)}

    @classmethod
    def from_dict(cls, d: Mapping, attribute: str | None = None) -> RateChange:
        return cls(
            attribute=d.get("attribute", attribute),
            group=d["group"],
            measure=d["measure"],
            reference=d.get("reference"),
            current=d.get("current"),
            change=d.get("change"),
            ci=_list(d.get("ci")),
            z=d.get("z"),
        )


@dataclass(frozen=True)
class DisparityChange:
    """How one disparity moved since the reference period; `lower_bound` > 0 means worse beyond chance."""

    attribute: str
    metric: str
    groups: int
    reference: float | None = None
    current: float | None = None
    worsening: float | None = None  # oriented so that positive is worse
    ci: list | None = None
    lower_bound: float | None = None  # simultaneous over the run's gated comparisons
    significant: bool = False
    driver: RateChange | None = None  # the group whose own rate moved most

    def to_dict(self) -> dict:
        driver = None
        if self.driver is not None:  # stored without its attribute (the disparity's own)
            driver = {k: v for k, v in self.driver.to_dict().items() if k != "attribute"}
        return {
            "attribute": self.attribute,
            "metric": self.metric,
            "groups": self.groups,
            "reference": self.reference,
            "current": self.current,
            "worsening": self.worsening,
            "ci": _list(self.ci),
            "lower_bound": self.lower_bound,
            "significant": self.significant,
            "driver": driver,
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> DisparityChange:
        driver = d.get("driver")
        return cls(
            attribute=d["attribute"],
            metric=d["metric"],
            groups=d.get("groups", 0),
            reference=d.get("reference"),
            current=d.get("current"),
            worsening=d.get("worsening"),
            ci=_list(d.get("ci")),
            lower_bound=d.get("lower_bound"),
            significant=bool(d.get("significant", False)),
            driver=None if driver is None else RateChange.from_dict(driver, d["attribute"]),
        )


@dataclass(frozen=True)
class Comparison:
    """The current period against the reference: every disparity's and judged group's change."""

    reference_rows: int
    reference_labelled: int
    reference_model: str
    comparisons: int  # gated comparisons the simultaneous bound covers
    critical_value: float | None
    disparities: list[DisparityChange] = field(default_factory=list)
    groups: list[RateChange] = field(default_factory=list)
    not_in_reference: list[str] = field(default_factory=list)  # attributes the reference has no groups of

    def to_dict(self) -> dict:
        """The fields as JSON-safe data (each change by its own :meth:`to_dict`)."""
        return {
            **asdict(self),
            "disparities": [c.to_dict() for c in self.disparities],
            "groups": [g.to_dict() for g in self.groups],
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> Comparison:
        return cls(
            reference_rows=d.get("reference_rows", 0),
            reference_labelled=d.get("reference_labelled", 0),
            reference_model=d.get("reference_model", ""),
            comparisons=d.get("comparisons", 0),
            critical_value=d.get("critical_value"),
            disparities=[DisparityChange.from_dict(c) for c in d.get("disparities", [])],
            groups=[RateChange.from_dict(g) for g in d.get("groups", [])],
            not_in_reference=list(d.get("not_in_reference") or []),
        )


def _list(x: Any) -> list | None:
    return None if x is None else list(x)
