"""The mitigation result: every model's numbers on one validation set, the frontier and the choice.

Rendered without fairlearn or scikit-learn (plotly only for the figure), so a
dashboard kernel can show a stored result without loading them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from workbench import _html
from workbench.errors import UnknownNameError, WorkbenchError

#: the fields stored as they are (besides the model's name and the candidates)
_STORED = (
    "sensitive",
    "constraint",
    "disparity",
    "max_disparity",
    "chosen",
    "saved_path",
    "validation",
    "trained_rows",
    "cost",
    "confidence",
    "notes",
)
_TABLE_COLUMNS = ("name", "stage", "accuracy", "roc_auc", "cost", "disparity", "ci", "cut", "accuracy_cost")


@dataclass(frozen=True)
class MitigatedCandidate:
    """One model on the frontier (the original or a mitigated one), judged on the validation set.

    ``disparities`` holds every disparity of the bias report for the sensitive
    column, each ``{"value", "ci"}`` (None when a group is too small to judge).
    """

    name: str
    method: str
    stage: str
    constraint: str | None
    accuracy: float
    roc_auc: float | None
    cost: float | None
    selection_rate: float | None
    disparities: dict
    fit_seconds: float
    sensitive_at_prediction: bool
    params: dict = field(default_factory=dict)
    on_frontier: bool = False
    within_budget: bool = False

    def disparity(self, name: str) -> float | None:
        """The value of a disparity (``equalized_odds_difference``, ...); None when not judged."""
        if name not in self.disparities:
            raise UnknownNameError(f"no disparity '{name}'; the result has {', '.join(self.disparities)}")
        return self.disparities[name]["value"]

    def disparities_values(self) -> dict[str, float | None]:
        """``{disparity: value}`` for every disparity."""
        return {k: v["value"] for k, v in self.disparities.items()}

    def to_dict(self) -> dict:
        """JSON-safe fields."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class MitigationResult:
    """What :func:`~workbench.fairness.mitigate` found: ask it things.

    ``result.chosen`` (the most accurate model within the budget, or None),
    ``result["threshold_optimizer:equalized_odds"]`` (a :class:`MitigatedCandidate`),
    ``result.table()``, ``result.text()``, ``result.figures()["frontier"]``,
    ``result.model(name)`` (the fitted model, in the session that computed it).
    """

    kind: ClassVar[str] = "mitigation"
    SCHEMA: ClassVar[int] = 1

    #: the original model's name
    model_name: str
    #: the sensitive column and the constraint the methods enforced
    sensitive: str
    constraint: str
    #: the disparity the budget limits (the constraint's) and the budget
    disparity: str
    max_disparity: float
    #: every model, the original first, judged on the validation set
    candidates: list[MitigatedCandidate]
    #: the most accurate model within the budget (None: none is), and where it was saved
    chosen: str | None
    saved_path: str | None
    #: the validation set (rows, source), the training rows, the cost matrix, the intervals' confidence
    validation: dict
    trained_rows: int
    cost: dict | None
    confidence: float
    notes: list[str] = field(default_factory=list)
    _models: dict = field(default_factory=dict, repr=False, compare=False)

    # -- asking ---------------------------------------------------------------------------------
    def __getitem__(self, name: str) -> MitigatedCandidate:
        found = next((c for c in self.candidates if c.name == name), None)
        if found is not None:
            return found
        raise UnknownNameError(
            f"no model '{name}'; the result has {', '.join(c.name for c in self.candidates)}"
        )

    @property
    def original(self) -> MitigatedCandidate:
        """The original model's row."""
        return self["original"]

    def model(self, name: str):
        """The fitted :class:`~workbench.modeling.artifact.Model` of a row (only where it was computed)."""
        self[name]
        if name not in self._models:
            raise WorkbenchError(
                f"the model '{name}' is not held by this result (it was read back from JSON); "
                "run the mitigation again, or load the saved model"
            )
        return self._models[name]

    def cut(self, name: str) -> float | None:
        """The share of the original's disparity a model removes (0.5: halved); None when not judged."""
        before, after = self.original.disparity(self.disparity), self[name].disparity(self.disparity)
        if before is None or after is None or before == 0:
            return None
        return 1.0 - after / before

    def accuracy_cost(self, name: str) -> float:
        """Accuracy lost against the original (negative: gained)."""
        return self.original.accuracy - self[name].accuracy

    def needs_sensitive(self) -> list[str]:
        """The rows whose model needs the sensitive column at prediction time."""
        return [c.name for c in self.candidates if c.sensitive_at_prediction]

    def rows(self) -> list[dict]:
        """One plain dict per model: the frontier table."""
        out = []
        for c in self.candidates:
            d = c.disparities.get(self.disparity, {})
            ci = d.get("ci")
            out.append(
                {
                    "name": c.name,
                    "stage": c.stage,
                    "accuracy": c.accuracy,
                    "roc_auc": c.roc_auc,
                    "cost": c.cost,
                    "disparity": d.get("value"),
                    "ci": f"{ci[0]:.3f} to {ci[1]:.3f}" if ci else None,
                    "cut": self.cut(c.name),
                    "accuracy_cost": self.accuracy_cost(c.name),
                    "on_frontier": c.on_frontier,
                    "within_budget": c.within_budget,
                    "sensitive_at_prediction": c.sensitive_at_prediction,
                    "chosen": c.name == self.chosen,
                }
            )
        return out

    def table(self):
        """The frontier table as a pandas DataFrame (one row per model, indexed by name)."""
        import pandas as pd

        return pd.DataFrame(self.rows()).set_index("name")

    # -- the protocol ---------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """JSON-safe: every model's numbers, the budget and the choice (not the fitted models)."""
        return {
            "model": self.model_name,
            "candidates": [c.to_dict() for c in self.candidates],
            **{k: getattr(self, k) for k in _STORED},
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> MitigationResult:
        """The result rebuilt from :meth:`to_dict` (without the fitted models)."""
        return cls(
            model_name=data["model"],
            candidates=[MitigatedCandidate(**c) for c in data["candidates"]],
            **{k: data.get(k) for k in _STORED},
        )

    def checks(self, config: Mapping[str, Any] | None = None) -> list:
        """None: a mitigation study informs a choice; the bias report gates (``[]``)."""
        return []

    def key_metrics(self) -> dict[str, float | None]:
        """The original's and the chosen model's accuracy and disparity, the cut and its accuracy cost."""
        chosen = self[self.chosen] if self.chosen else None
        return {
            "original_accuracy": self.original.accuracy,
            "original_disparity": self.original.disparity(self.disparity),
            "chosen_accuracy": chosen.accuracy if chosen else None,
            "chosen_disparity": chosen.disparity(self.disparity) if chosen else None,
            "disparity_cut": self.cut(self.chosen) if chosen else None,
            "accuracy_cost": self.accuracy_cost(self.chosen) if chosen else None,
        }

    def findings(self, config: Mapping[str, Any] | None = None) -> list[str]:
        """The choice, the best cut and its cost, and who needs the sensitive attribute, in sentences."""
        d, b = self.disparity.replace("_", " "), self.original.disparity(self.disparity)
        out = []
        if self.chosen is None:
            out.append(f"No model has a {d} of at most {self.max_disparity:g} on the validation set.")
        elif self.chosen == "original":
            out.append(f"The original model already has a {d} of at most {self.max_disparity:g}.")
        else:
            c = self[self.chosen]
            out.append(
                f"Chosen: {c.name}, the most accurate model with a {d} of at most {self.max_disparity:g}: "
                f"{_pct(c.disparity(self.disparity))} instead of {_pct(b)}, for "
                f"{_acc_cost(self.accuracy_cost(c.name))}."
            )
        cuts = [(self.cut(c.name), c) for c in self.candidates if c.name != "original"]
        cuts = [(x, c) for x, c in cuts if x is not None]
        if cuts:
            best, c = max(cuts, key=lambda t: (t[0], t[1].accuracy))
            out.append(
                f"The largest cut: {c.name} removes {best:.0%} of the original's {d} "
                f"({_pct(b)} to {_pct(c.disparity(self.disparity))}) "
                f"for {_acc_cost(self.accuracy_cost(c.name))}."
            )
        needs = self.needs_sensitive()
        if needs:
            out.append(
                f"{', '.join(needs)} need the sensitive column '{self.sensitive}' at prediction time: "
                "the deployed service must collect it for every request."
            )
        return out + list(self.notes)

    def figures(self) -> dict[str, Any]:
        """``{"frontier": accuracy against the chosen disparity, the original and the budget on it}``."""
        from workbench.viz.mitigation import mitigation_frontier_figure

        return {
            "frontier": mitigation_frontier_figure(
                [c.to_dict() for c in self.candidates],
                self.disparity,
                chosen=self.chosen,
                max_disparity=self.max_disparity,
            )
        }

    def text(self) -> str:
        """The frontier table and the findings as plain text (what the CLI prints)."""
        head = f"{'model':<44} {'stage':<16} {'accuracy':>8} {'roc_auc':>8} {self.disparity:>30} {'cut':>6}"
        lines = [
            f"Mitigation of {self.model_name} by '{self.sensitive}' ({self.constraint}); "
            f"{self.validation.get('rows', 0):,} validation rows",
            head,
        ]
        for r in self.rows():
            mark = " *" if r["chosen"] else ("  " if not r["sensitive_at_prediction"] else " s")
            disp = "—" if r["disparity"] is None else f"{r['disparity']:.3f} [{r['ci'] or '—'}]"
            cut = "" if r["cut"] is None else f"{r['cut']:.0%}"
            lines.append(
                f"{r['name']:<44} {r['stage']:<16} {r['accuracy']:>8.4f} {_f(r['roc_auc']):>8} "
                f"{disp:>30} {cut:>6}{mark}"
            )
        lines.append("(* chosen; s needs the sensitive column at prediction time)")
        return "\n".join(lines + [""] + self.findings())

    def _repr_html_(self, config: Mapping[str, Any] | None = None) -> str:
        body = (
            "<ul style='margin:4px 0 4px 18px;padding:0'>"
            + "".join(f"<li>{_html.esc(s)}</li>" for s in self.findings())
            + "</ul>"
            + _html.table(self.rows(), _TABLE_COLUMNS, highlight="chosen")
        )
        return _html.card(
            f"Mitigation of {self.model_name} by '{self.sensitive}'",
            body,
            f"{self.constraint}; budget {self.disparity} <= {self.max_disparity:g}; "
            f"{self.validation.get('rows', 0):,} validation rows",
        )


def _f(v) -> str:
    return "—" if v is None else f"{v:.4f}"


def _pct(v) -> str:
    return "—" if v is None else f"{v:.3f}"


def _acc_cost(v: float) -> str:
    return f"{v * 100:.1f} points of accuracy" if v >= 0 else f"a gain of {-v * 100:.1f} points of accuracy"
