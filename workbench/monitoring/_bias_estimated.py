"""The label-free fairness estimate a :class:`~workbench.monitoring.bias.BiasResult` carries.

Computed by :mod:`workbench.monitoring._bias_estimate` (how, and what the
intervals mean); stored, checked and rendered from here without recomputing.
Private: import the public names from :mod:`workbench.monitoring.bias`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from workbench import _html
from workbench.checks import Check, ChecksConfig, make_check
from workbench.checks._names import ESTIMATED_CHECKS
from workbench.errors import UnknownNameError
from workbench.results import name_list

#: the label-based disparities estimated without labels (check ``bias.estimated.<metric>.<attr>.worsened``)
ESTIMATED = ESTIMATED_CHECKS
#: every disparity the estimate reports (the gated ones first)
REPORTED = (
    *ESTIMATED,
    "false_positive_rate_difference",
    "predictive_parity_difference",
    "accuracy_difference",
)
#: the per-group rates estimated from the expected confusion cells
ESTIMATED_RATES = ("tpr", "fpr", "precision", "accuracy")


@dataclass(frozen=True)
class EstimatedFairness:
    """Per group, the confusion matrix expected from calibrated probabilities; the disparities it gives.

    ``attributes`` holds, per sensitive column (or intersection), its groups
    (``tpr``, ``fpr``, ``precision``, ``accuracy`` and their ``_ci``
    intervals, ``calibration``: ``"group"`` or ``"overall"``) and its
    disparities (``value``, ``ci``, the reference's measured ``reference``,
    ``change`` and ``lower_bound``: how much worse at least, beyond chance).
    ``reason`` says why no estimate was made (then ``attributes`` is empty).
    """

    level: float
    n_draws: int
    attributes: list = field(default_factory=list)
    reason: str | None = None

    @property
    def available(self) -> bool:
        """True when the estimate was made."""
        return self.reason is None

    def to_dict(self) -> dict:
        """JSON-safe fields (:meth:`from_dict` reads them back)."""
        return {
            "level": self.level,
            "n_draws": self.n_draws,
            "attributes": [dict(a) for a in self.attributes],
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> EstimatedFairness:
        """The estimate from its :meth:`to_dict`."""
        return cls(
            level=float(d.get("level", 0.9)),
            n_draws=int(d.get("n_draws", 0)),
            attributes=[dict(a) for a in d.get("attributes") or []],
            reason=d.get("reason"),
        )

    def attribute(self, name: str) -> dict:
        """One attribute's estimated groups and disparities.

        Raises
        ------
        UnknownNameError
            No such attribute was estimated.
        """
        by_name = {a["name"]: a for a in self.attributes}
        if name not in by_name:
            raise UnknownNameError(f"no estimated sensitive attribute '{name}' (it has {name_list(by_name)})")
        return by_name[name]

    def disparity(self, metric: str, attribute: str) -> dict:
        """One estimated disparity: ``value``, ``ci``, ``reference``, ``change``, ``lower_bound``.

        Raises
        ------
        UnknownNameError
            An unknown metric or attribute.
        """
        if metric not in REPORTED:
            raise UnknownNameError(f"no estimated disparity '{metric}'; use one of {name_list(REPORTED)}")
        return self.attribute(attribute)["disparities"][metric]

    def key_metrics(self) -> dict:
        """``bias.estimated.<metric>.<attr>`` and its interval's ``.low`` / ``.high``."""
        out: dict[str, float | None] = {}
        for a in self.attributes:
            for m in ESTIMATED:
                d = a["disparities"][m]
                ci = d.get("ci") or [None, None]
                key = f"bias.estimated.{m}.{a['name']}"
                out[key], out[f"{key}.low"], out[f"{key}.high"] = d.get("value"), ci[0], ci[1]
        return out

    def checks(self, config: ChecksConfig | None, words) -> list[Check | None]:
        """``bias.estimated.<metric>.<attr>.worsened``: the estimate vs the reference's measurement."""
        out = []
        for a in self.attributes:
            for m in ESTIMATED:
                d = a["disparities"][m]
                if d.get("reference") is None and d.get("value") is None:
                    continue
                msg = (
                    f"{a['name']}: {words(m)}, estimated without labels {_f(d.get('value'))} "
                    f"({self.level:.0%} interval {_ci(d.get('ci'))}) vs {_f(d.get('reference'))} measured in "
                    "the reference; beyond chance it got worse by at least {value:.3g} (fails above "
                    "{threshold:g})"
                )
                out.append(
                    make_check(
                        f"bias.estimated.{m}.{a['name']}.worsened",
                        d.get("lower_bound"),
                        "<=",
                        0.0,
                        msg,
                        config,
                        severity="error",
                    )
                )
        return out

    def findings(self, words) -> list[tuple[float, str]]:
        """Scored sentences (higher first), the way :meth:`BiasResult.findings` ranks them."""
        if not self.available:
            return [(50, f"Fairness could not be estimated before labels arrive: {self.reason}.")]
        out = []
        for a in self.attributes:
            for m in ESTIMATED:
                d = a["disparities"][m]
                if d.get("value") is None:
                    continue
                worse = d.get("lower_bound") is not None and d["lower_bound"] > 0
                ref = (
                    ""
                    if d.get("reference") is None
                    else f" vs {_f(d['reference'])} measured in the reference"
                )
                sentence = (
                    f"{a['name']}: {words(m)} estimated without labels at {_f(d['value'])} "
                    f"({self.level:.0%} interval {_ci(d.get('ci'))}){ref}"
                    + (": worse beyond chance." if worse else ".")
                )
                out.append((99 if worse else 1, sentence))
        shared = sorted(
            {
                f"{a['name']} = {g['group']}"
                for a in self.attributes
                for g in a["groups"]
                if g["calibration"] == "overall"
            }
        )
        out.append(
            (
                0.5,
                "No labels yet: true and false positive rates, precision and accuracy per group are "
                "estimated from the model's probabilities, calibrated per group on the labelled reference"
                + (
                    f" (on the whole reference for {', '.join(shared)}: too few reference rows)"
                    if shared
                    else ""
                )
                + "; the estimate follows changes in who comes, not a change in how inputs relate to "
                "outcomes, so measure once labels arrive.",
            )
        )
        return out

    def html(self) -> str:
        """The estimate's tables: disparities, then each single column's groups."""
        if not self.available:
            return ""
        rows = [
            {
                "attribute": a["name"],
                "metric": m,
                "estimated": d.get("value"),
                "interval": _ci(d.get("ci")),
                "reference (measured)": d.get("reference"),
                "worse at least": d.get("lower_bound"),
            }
            for a in self.attributes
            for m, d in a["disparities"].items()
        ]
        body = "<div style='margin-top:8px;font-weight:600'>Estimated without labels</div>" + _html.table(
            rows
        )
        for a in self.attributes:
            if len(a["columns"]) == 1:
                body += _html.table(
                    [
                        {
                            "group": g["group"],
                            "count": g["count"],
                            **{f"est. {r}": g.get(r) for r in ESTIMATED_RATES},
                            "calibration": g["calibration"],
                        }
                        for g in a["groups"]
                    ]
                )
        return body


def _f(v: Any) -> str:
    return "—" if v is None else f"{v:.3f}"


def _ci(ci: Any) -> str:
    return "—" if not ci or None in ci else f"{ci[0]:.3f}–{ci[1]:.3f}"
