"""Result objects for global explanations: permutation importance, partial dependence/ICE, surrogate tree.

Light on purpose (numpy/pandas and workbench helpers; plotly inside
``figures()``): stored results re-render without scikit-learn.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from workbench import _html
from workbench._lazy import lazy
from workbench._records import FieldRecord
from workbench.checks import Check, ChecksConfig, checks_table_html, make_check
from workbench.metrics import METRIC_LABELS

pd = lazy("pandas")

#: A surrogate tree that agrees with the model less often than this should not be read as its description.
MIN_FIDELITY = 0.85
_METRIC_WORDS = {**METRIC_LABELS, "mae": "mean absolute error"}  # in a sentence, spelled out


class Description(FieldRecord):
    """A stored explanation that describes the model: it does not pass or fail, so it has no checks."""

    def checks(self, config: ChecksConfig | None = None) -> list[Check]:
        """No checks: an explanation describes the model, it does not pass or fail (always ``[]``)."""
        return []


def _card(title: str, findings: list[str], body: str, sub: str, checks: list[Check] | None = None) -> str:
    items = "".join(f"<li>{_html.esc(s)}</li>" for s in findings)
    html = f"<ul style='margin:4px 0 8px 18px;padding:0'>{items}</ul>{body}"
    if checks:
        html += checks_table_html(checks)
    return _html.card(title, html, sub)


@dataclass(frozen=True)
class ImportanceResult(Description):
    """Permutation importance: how much the score drops when one column's values are shuffled.

    ``features`` holds ``{"feature", "importance_mean", "importance_std"}``,
    most important first; importance is in units of `scoring` (for lower-is-
    better scores, the rise).
    """

    kind: ClassVar[str] = "permutation_importance"
    STORED_NAME: ClassVar[str] = "permutation importance"
    SCHEMA: ClassVar[int] = 1

    model_name: str
    task: str
    scoring: str
    baseline_score: float
    features: list
    n_repeats: int
    n_rows: int
    random_state: int = 0

    @property
    def ranking(self) -> list[str]:
        """Feature names, most important first."""
        return [f["feature"] for f in self.features]

    def table(self) -> pd.DataFrame:
        """The features as a DataFrame indexed by feature, most important first."""
        return pd.DataFrame(self.features).set_index("feature")

    def figures(self) -> dict:
        """``{"importance": bar chart}`` of the mean importance with its spread."""
        from workbench.viz.explain import importance_figure

        return {"importance": importance_figure(self.features, self.scoring, self.baseline_score)}

    def figure(self):
        """The importance chart."""
        return self.figures()["importance"]

    def key_metrics(self) -> dict:
        """Flat figures: the baseline score and each feature's mean importance."""
        return {
            "explanation.importance.baseline_score": self.baseline_score,
            **{f"explanation.importance.{f['feature']}": f["importance_mean"] for f in self.features},
        }

    def findings(self, config: ChecksConfig | None = None) -> list[str]:
        """Plain sentences: the columns the model relies on most, and those it barely uses."""
        metric = _METRIC_WORDS.get(self.scoring, self.scoring)
        top = [f for f in self.features if f["importance_mean"] > 0][:3]
        out = []
        if top:
            parts = [f"'{f['feature']}' ({f['importance_mean']:.3f})" for f in top]
            out.append(
                f"The model relies most on {', '.join(parts)}: shuffling one of these columns lowers its "
                f"{metric} by that much on average (from {self.baseline_score:.3f}, {self.n_rows:,} rows)."
            )
        unused = [
            f["feature"] for f in self.features if f["importance_mean"] <= max(f["importance_std"], 1e-4)
        ]
        if unused:
            shown = ", ".join(f"'{c}'" for c in unused[:6]) + (
                f" and {len(unused) - 6} more" if len(unused) > 6 else ""
            )
            out.append(
                f"Shuffling {shown} changes the {metric} by no more than chance: the model barely uses "
                f"{'it' if len(unused) == 1 else 'them'}."
            )
        return out

    def _repr_html_(self, config: ChecksConfig | None = None) -> str:
        body = _html.table(self.features, ["feature", "importance_mean", "importance_std"])
        return _card(
            f"Permutation importance of {self.model_name}",
            self.findings(config),
            body,
            f"drop in {_METRIC_WORDS.get(self.scoring, self.scoring)} when a column is shuffled; "
            f"{self.n_repeats} repeats on {self.n_rows:,} rows",
        )


@dataclass(frozen=True)
class PartialDependenceResult(Description):
    """Partial dependence (the average) and ICE lines (single rows) of the model's output on one feature.

    ``grid`` holds the values the feature is set to (numbers at quantiles of
    the data, or categories); ``average`` the mean output at each (``averages``
    per class for multiclass without a chosen class); ``ice`` one line per
    sampled row; ``counts`` how many data rows hold each category.
    """

    kind: ClassVar[str] = "partial_dependence"
    STORED_NAME: ClassVar[str] = "partial dependence"
    SCHEMA: ClassVar[int] = 1

    model_name: str
    task: str
    feature: str
    feature_kind: str  # numeric | categorical
    grid: list
    average: list
    output: str  # what is on the y axis, e.g. "probability of '>50K'"
    ice: list = field(default_factory=list)
    averages: dict = field(default_factory=dict)  # multiclass: class -> average curve
    counts: list | None = None
    n_rows: int = 0
    notes: list = field(default_factory=list)

    @property
    def shape(self) -> str:
        """increasing, decreasing, flat or mixed (numeric features; 'categorical' otherwise)."""
        if self.feature_kind != "numeric" or len(self.average) < 2:
            return "categorical" if self.feature_kind != "numeric" else "flat"
        d = np.diff(np.asarray(self.average, dtype=float))
        span = float(np.ptp(self.average))
        tol = max(1e-9, 0.01 * span)
        if span <= 1e-6:
            return "flat"
        if np.all(d >= -tol):
            return "increasing"
        if np.all(d <= tol):
            return "decreasing"
        return "mixed"

    def figures(self) -> dict:
        """``{"partial_dependence": figure}``: the average curve over the ICE lines."""
        from workbench.viz.explain import partial_dependence_figure

        return {"partial_dependence": partial_dependence_figure(self.to_dict())}

    def figure(self):
        """The partial dependence figure."""
        return self.figures()["partial_dependence"]

    def key_metrics(self) -> dict:
        """Flat figures: how far the average output moves over the feature's values (its range)."""
        curves = [self.average] if self.average else [v for v in self.averages.values() if v]
        swing = max((float(np.ptp(np.asarray(c, dtype=float))) for c in curves), default=None)
        return {f"explanation.partial_dependence.{self.feature}.range": swing}

    def findings(self, config: ChecksConfig | None = None) -> list[str]:
        """Plain sentences: how the average output moves with the feature, and whether rows differ."""
        out = []
        if self.averages and not self.average:
            swings = {c: float(np.ptp(v)) for c, v in self.averages.items() if v}
            if swings:
                c = max(swings, key=swings.get)
                out.append(
                    f"Changing '{self.feature}' moves the probability of '{c}' the most "
                    f"(by up to {swings[c]:.3f} on average over {self.n_rows:,} rows)."
                )
            return out + list(self.notes)
        avg = np.asarray(self.average, dtype=float)
        lo, hi = int(np.argmin(avg)), int(np.argmax(avg))
        g = [_g(v) for v in self.grid]
        if self.feature_kind == "numeric":
            shape = self.shape
            how = {
                "increasing": "rises with",
                "decreasing": "falls as",
                "flat": "barely changes with",
                "mixed": "goes up and down with",
            }[shape]
            extremes = (
                ""
                if {lo, hi} <= {0, len(avg) - 1}
                else f" (lowest {avg[lo]:.3g} at {g[lo]}, highest {avg[hi]:.3g} at {g[hi]})"
            )
            out.append(
                f"On average the {self.output} {how} '{self.feature}': {avg[0]:.3g} at {g[0]}, "
                f"{avg[-1]:.3g} at {g[-1]}{extremes}."
            )
        else:
            out.append(
                f"On average the {self.output} is highest when '{self.feature}' is {g[hi]} ({avg[hi]:.3g}) "
                f"and lowest when it is {g[lo]} ({avg[lo]:.3g})."
            )
        if self.ice:
            ice = np.asarray(self.ice, dtype=float)
            spread = float(np.median(np.ptp(ice, axis=1)))
            if spread > 2 * max(float(np.ptp(avg)), 1e-9):
                out.append(
                    f"Single rows (ICE lines) react much more than the average suggests (median swing "
                    f"{spread:.3g}): the effect of '{self.feature}' depends on the other columns."
                )
        return out + list(self.notes)

    def _repr_html_(self, config: ChecksConfig | None = None) -> str:
        rows = [{"value": _g(v), "average": a} for v, a in zip(self.grid, self.average, strict=False)]
        body = _html.table(rows) if rows else ""
        return _card(
            f"Partial dependence of {self.model_name} on '{self.feature}'",
            self.findings(config),
            body,
            f"{self.output}; {self.n_rows:,} rows, {len(self.ice)} ICE lines shown",
        )


@dataclass(frozen=True)
class SurrogateResult(FieldRecord):
    """A shallow decision tree trained to imitate the model, its fidelity, and its rules in plain text.

    ``fidelity`` is measured on held-out rows the tree never saw: the share of
    rows where the tree and the model give the same label (classification), or
    R² of the tree against the model's predictions (regression). Each rule is
    ``{"conditions": [...], "text", "prediction", "share", "rows", "mean_score"}``
    where ``share`` is the fraction of the rule's rows the model labels as
    ``prediction`` (classification) and ``mean_score`` the model's mean
    positive-class probability (binary) or prediction (regression).
    """

    kind: ClassVar[str] = "surrogate_tree"
    STORED_NAME: ClassVar[str] = "surrogate tree"
    SCHEMA: ClassVar[int] = 1

    model_name: str
    task: str
    max_depth: int
    fidelity: float
    fidelity_metric: str  # agreement | r2
    fidelity_train: float
    baseline: float  # a constant guess's fidelity (majority label; 0 for R²)
    fidelity_by_depth: list
    rules: list
    n_leaves: int
    n_rows_fit: int
    n_rows_holdout: int
    notes: list = field(default_factory=list)

    def rules_text(self) -> str:
        """The rules, one per line, largest first: ready to paste into model documentation."""
        return "\n".join(r["text"] for r in self.rules)

    def figures(self) -> dict:
        """``{"fidelity": fidelity by depth, "rules": the rules}``."""
        from workbench.viz.explain import surrogate_fidelity_figure, surrogate_rules_figure

        return {
            "fidelity": surrogate_fidelity_figure(
                self.fidelity_by_depth, self.max_depth, self.baseline, self.fidelity_metric, MIN_FIDELITY
            ),
            "rules": surrogate_rules_figure(self.rules, self.task),
        }

    def figure(self):
        """The fidelity-by-depth figure."""
        return self.figures()["fidelity"]

    def key_metrics(self) -> dict:
        """Flat figures: the tree's fidelity on held-out rows and its size."""
        return {
            "explanation.surrogate.fidelity": self.fidelity,
            "explanation.surrogate.leaves": self.n_leaves,
        }

    def findings(self, config: ChecksConfig | None = None) -> list[str]:
        """Plain sentences: the tree's fidelity, whether its rules can be trusted, the largest rule."""
        n = len(self.rules)
        if self.fidelity_metric == "agreement":
            head = (
                f"A decision tree {self.max_depth} levels deep ({n} rules) gives the same answer "
                f"as the model on {self.fidelity:.1%} of {self.n_rows_holdout:,} held-out rows "
                f"(always giving the most common answer would agree on {self.baseline:.1%})."
            )
        else:
            head = (
                f"A decision tree {self.max_depth} levels deep ({n} rules) reproduces {self.fidelity:.1%} of "
                f"the variation in the model's predictions on {self.n_rows_holdout:,} held-out rows (R²)."
            )
        out = [head]
        if self.fidelity >= MIN_FIDELITY:
            out.append(
                "Its rules are a faithful, simplified description of the model and can go into its "
                "documentation (they describe the model, not the world)."
            )
        else:
            out.append(
                f"That is below {MIN_FIDELITY:.0%}: the rules miss too much of what the model does to "
                "describe it; try a deeper tree or rely on the other explanations."
            )
        if self.rules:
            out.append(f"The largest rule: {self.rules[0]['text']}")
        return out + list(self.notes)

    def checks(self, config: ChecksConfig | None = None) -> list[Check]:
        """The warning ``explanation.surrogate.fidelity``: fidelity on held-out rows against its threshold."""
        c = make_check(
            "explanation.surrogate.fidelity",
            self.fidelity,
            ">=",
            MIN_FIDELITY,
            "the surrogate tree matches the model on {value:.1%} of held-out rows "
            "(at least {threshold:.0%} expected)"
            if self.fidelity_metric == "agreement"
            else "the surrogate tree explains R² {value:.2f} of the model's predictions "
            "(at least {threshold:.2f} expected)",
            config,
            severity="warning",
        )
        return [c] if c else []

    def _repr_html_(self, config: ChecksConfig | None = None) -> str:
        body = "<pre style='white-space:pre-wrap;font-size:12px'>" + _html.esc(self.rules_text()) + "</pre>"
        return _card(
            f"Surrogate decision tree of {self.model_name}",
            self.findings(config),
            body,
            f"depth {self.max_depth}, {self.n_leaves} leaves, fitted on {self.n_rows_fit:,} rows, "
            f"fidelity on {self.n_rows_holdout:,} held-out rows",
            self.checks(config),
        )


def _g(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)
