"""The result of a champion-vs-challenger comparison: a frozen record of numbers that renders itself.

Light on purpose (no pandas, numpy or scipy): a dashboard kernel rebuilds it
from ``results.json`` and asks it for its checks, verdict, findings, figures
and card without recomputing anything.

Checks (stable names; all gating, severity error):

=====================================  ========  ===========================================================
name                                   default   value
=====================================  ========  ===========================================================
``release.auc_loss``                   <= 0      the ROC AUC loss the paired interval shows at least
                                                 (minus its upper end); fails on a significant loss beyond
                                                 the tolerance
``release.cost_increase``              <= 0      the increase in business cost per row the interval shows
                                                 at least (its lower end)
``release.fairness.<metric>.<attr>``   <= 0      how much worse the disparity is at least, beyond chance
                                                 (a lower bound holding over all disparities of the run)
``release.latency_p95``                <= 1.5    challenger / champion single-row p95 latency
``release.size``                       <= 2      challenger / champion artifact size
=====================================  ========  ===========================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from workbench._json import json_safe
from workbench.checks import Check, ChecksConfig, make_check
from workbench.checks._names import RELEASE_FAIRNESS
from workbench.errors import UnknownNameError, WorkbenchError
from workbench.metrics import PAIRED_METRICS
from workbench.releases.verdict import DECISION_CODES, Verdict, decide
from workbench.results import name_list

#: default gate thresholds: check name (or family) -> (op, threshold)
RELEASE_CHECKS: dict[str, tuple[str, float]] = {
    "release.auc_loss": ("<=", 0.0),
    "release.cost_increase": ("<=", 0.0),
    "release.fairness": ("<=", 0.0),
    "release.latency_p95": ("<=", 1.5),
    "release.size": ("<=", 2.0),
}
ROLES = ("champion", "challenger")
#: the paired differences (challenger − champion) a labelled window gives
PAIRED = PAIRED_METRICS


@dataclass(frozen=True)
class ComparisonResult:
    """Champion vs challenger on one window; ask it things.

    ``result.verdict()`` (a :class:`~workbench.releases.verdict.Verdict`),
    ``result.delta("roc_auc")`` (point, interval, standard error),
    ``result.attribute("sex")`` (both models' disparities and the per-group
    deltas), ``result.disparity("equal_opportunity_difference", "sex")``,
    ``result.checks()``, ``result.findings()``, ``result.figures()``.
    """

    kind: ClassVar[str] = "compare"
    SCHEMA: ClassVar[int] = 1

    champion: dict  # name, source (path or URI), registered (name, version, alias, uri), recipe, sha256, ...
    challenger: dict
    positive_label: Any
    n_rows: int
    n_labelled: int
    confidence: float
    n_bootstrap: int
    random_state: int | None
    margin: float  # non-inferiority margin on ROC AUC
    cost_matrix: dict
    price_per_core_hour: float
    paired: dict | None = None  # ΔROC AUC, Δaccuracy, Δcost, ΔBrier, McNemar (None without labels)
    calibration: dict | None = None  # role -> brier, ece, curve
    fairness: list = field(default_factory=list)  # per sensitive column (see group_deltas)
    operations: dict | None = None  # role -> latency, throughput, size, cost per million
    agreement: dict = field(default_factory=dict)
    estimates: dict | None = None  # role -> label-free estimate (None: no reference given)
    notes: list = field(default_factory=list)

    # -- the result protocol --------------------------------------------------
    def to_dict(self) -> dict:
        """JSON-safe fields, plus the verdict and key metrics under the default checks (for summary.json)."""
        d: dict[str, Any] = {"kind": self.kind}
        d.update({f.name: getattr(self, f.name) for f in fields(self)})
        d["verdict"] = self.verdict().to_dict()
        d["key_metrics"] = self.key_metrics()
        return json_safe(d)

    @classmethod
    def from_dict(cls, d: Mapping) -> ComparisonResult:
        """Rebuild a comparison from :meth:`to_dict`'s output (a stored run), without recomputing."""
        if d.get("kind", cls.kind) != cls.kind:
            raise WorkbenchError(f"expected a stored comparison result, not a '{d.get('kind')}' result")
        try:
            return cls(**{f.name: d[f.name] for f in fields(cls) if f.name in d})
        except TypeError as exc:
            raise WorkbenchError(f"the stored comparison result is incomplete ({exc})") from None

    def checks(self, config: ChecksConfig | None = None) -> list[Check]:
        """The release gates (see the module docstring); a gate without numbers passes, saying so."""
        level = f"{self.confidence:.0%}"
        out: list[Check | None] = []
        auc = self.delta("roc_auc")
        ci = auc.get("ci")
        op, default = RELEASE_CHECKS["release.auc_loss"]
        out.append(
            make_check(
                "release.auc_loss",
                None if ci is None else -ci[1],
                op,
                default,
                f"ROC AUC changes by {_pm(auc.get('delta'))} ({level} CI {_ci(ci)}): a loss of at least "
                "{value:.3g} (fails above {threshold:g})",
                config,
            )
        )
        cost = self.delta("cost")
        ci = cost.get("ci")
        op, default = RELEASE_CHECKS["release.cost_increase"]
        out.append(
            make_check(
                "release.cost_increase",
                None if ci is None else ci[0],
                op,
                default,
                f"business cost per row changes by {_pm(cost.get('delta'))} ({level} CI {_ci(ci)}): an "
                "increase of at least {value:.3g} (fails above {threshold:g})",
                config,
            )
        )
        op, default = RELEASE_CHECKS["release.fairness"]
        for a in self.fairness:
            for d in a["disparities"]:
                if d["metric"] not in RELEASE_FAIRNESS:
                    continue
                out.append(
                    make_check(
                        f"release.fairness.{d['metric']}.{a['name']}",
                        d.get("worse_by_at_least"),
                        op,
                        default,
                        f"{a['name']}: {d['metric'].replace('_', ' ')} goes from {_f(d['champion'])} to "
                        f"{_f(d['challenger'])}; beyond chance worse by at least {{value:.3g}} ({level} over "
                        "all disparities; fails above {threshold:g})",
                        config,
                    )
                )
        for name, key, what in (
            ("release.latency_p95", "p95_us", "single-row p95 latency"),
            ("release.size", "size_bytes", "artifact size"),
        ):
            op, default = RELEASE_CHECKS[name]
            a, b = self._op(key)
            ratio = b / a if a and b is not None else None
            out.append(
                make_check(
                    name,
                    ratio,
                    op,
                    default,
                    f"{what}: challenger {_f(b)} vs champion {_f(a)}, a ratio of {{value:.3g}} "
                    "(budget {threshold:g}x)",
                    config,
                )
            )
        return [c for c in out if c is not None]

    def verdict(self, config: ChecksConfig | None = None) -> Verdict:
        """Promote, keep the champion, or inconclusive (rules: :mod:`workbench.releases.verdict`)."""
        failed = [c.name for c in self.checks(config) if not c.passed and c.severity == "error"]
        return decide(
            (self.paired or {}).get("roc_auc"),
            n_labelled=self.n_labelled,
            confidence=self.confidence,
            margin=self.margin,
            failed=failed,
            agreement=self.agreement.get("rate"),
        )

    def findings(self, config: ChecksConfig | None = None) -> list[str]:
        """Plain-language sentences, the verdict first."""
        from workbench.releases.findings import comparison_findings

        return comparison_findings(self, config)

    def key_metrics(self) -> dict[str, float | None]:
        """Flat figures for the ledger: the deltas and their intervals, agreement, operations, the decision.

        ``release.decision`` is 1 for promote, 0 inconclusive, -1 keep (under the default checks).
        """
        out: dict[str, float | None] = {}
        for key in PAIRED:
            d = self.delta(key)
            ci = d.get("ci") or [None, None]
            out[f"release.delta_{key}"] = d.get("delta")
            out[f"release.delta_{key}_low"], out[f"release.delta_{key}_high"] = ci
        for role in ROLES:
            out[f"release.roc_auc.{role}"] = self.delta("roc_auc").get(role)
        out["release.mcnemar_p"] = ((self.paired or {}).get("mcnemar") or {}).get("p_value")
        out["release.agreement"] = self.agreement.get("rate")
        for key in ("p95_us", "size_bytes", "cost_per_million"):
            for role, value in zip(ROLES, self._op(key), strict=True):
                out[f"release.{key}.{role}"] = value
        v = self.verdict()
        out["release.decision"] = DECISION_CODES[v.decision]
        out["release.rows_needed"] = None if v.rows_needed is None else float(v.rows_needed)
        return {k: _num(v) for k, v in out.items()}

    def figures(self) -> dict:
        """Plotly figures: ΔROC AUC with its intervals, calibration, group deltas, latency, disagreement."""
        from workbench.viz import releases as fig

        out = {
            "delta_roc_auc": fig.delta_figure(self.paired, self.confidence, self.margin),
            "calibration": fig.calibration_figure(self.calibration),
        }
        for a in self.fairness:
            out[f"group_deltas.{a['name']}"] = fig.group_deltas_figure(a, self.confidence)
        out["latency"] = fig.operations_figure(self.operations)
        out["disagreement"] = fig.disagreement_figure(self.agreement)
        return out

    def _repr_html_(self, config: ChecksConfig | None = None) -> str:
        from workbench.releases._comparison_card import comparison_card

        return comparison_card(self, config)

    # -- asking it things ----------------------------------------------------------
    def delta(self, name: str) -> dict:
        """A paired difference (``roc_auc``, ``accuracy``, ``cost``, ``brier``): both values, delta, ci, se.

        Empty (no numbers) when the window has no labels.
        """
        if name not in PAIRED:
            raise UnknownNameError(f"no paired difference '{name}'; use one of {name_list(PAIRED)}")
        return dict((self.paired or {}).get(name) or {})

    def attribute(self, name: str) -> dict:
        """Both models' disparities and the per-group deltas of one sensitive column."""
        for a in self.fairness:
            if a["name"] == name:
                return a
        raise UnknownNameError(
            f"no sensitive attribute '{name}' in this comparison "
            f"(it has {name_list([a['name'] for a in self.fairness])})"
        )

    def disparity(self, metric: str, attribute: str) -> dict:
        """One disparity of a sensitive column: champion, challenger, delta, ci, worse_by_at_least."""
        for d in self.attribute(attribute)["disparities"]:
            if d["metric"] == metric:
                return d
        names = [d["metric"] for d in self.attribute(attribute)["disparities"]]
        raise UnknownNameError(f"unknown disparity '{metric}'; use one of {name_list(names, limit=10)}")

    def _op(self, key: str) -> tuple[float | None, float | None]:
        ops = self.operations or {}
        return tuple(_num((ops.get(role) or {}).get(key)) for role in ROLES)  # type: ignore[return-value]


# -- formatting ----------------------------------------------------------------------
def _num(v: Any) -> float | None:
    from workbench._json import finite

    return finite(v)


def _f(v: Any) -> str:
    from workbench._html import fmt

    return fmt(_num(v))


def _pm(v: Any) -> str:
    v = _num(v)
    return "—" if v is None else f"{v:+.4f}"


def _ci(ci: Any) -> str:
    return "—" if not ci else f"{ci[0]:+.4f} to {ci[1]:+.4f}"
