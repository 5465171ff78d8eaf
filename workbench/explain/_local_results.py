"""Result objects for local explanations: LIME per row, and how stable LIME is.

Light on purpose: numpy/pandas and workbench helpers only (plotly inside
``figures()``), so a dashboard re-renders stored explanations with
``from_dict`` without importing lime or scikit-learn.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from workbench import _html
from workbench._lazy import lazy
from workbench._records import FieldRecord
from workbench.checks import Check, ChecksConfig, make_check
from workbench.errors import UnknownNameError
from workbench.explain._global_results import _card

pd = lazy("pandas")

#: Below this R², LIME's straight-line fit around a row explains little of the model's behaviour there.
MIN_LOCAL_R2 = 0.1
#: Share of the top features that repeated explanations must agree on to call them stable.
STABLE_JACCARD, FAIR_JACCARD = 0.8, 0.6


@dataclass(frozen=True)
class LocalExplanation(FieldRecord):
    """LIME's explanation of one row: weights of conditions on the original columns.

    ``features`` lists, strongest first, dicts with ``feature`` (original column),
    ``condition`` ("age <= 28", "education = Bachelors"), ``weight`` (the change
    in the explained output when the condition holds, in LIME's local linear
    model), and ``category`` or ``lower``/``upper`` (the condition's parts).
    """

    row_id: Any
    predicted: Any
    probability: float | None  # of `explained_class` (classification)
    explained_class: Any  # None for regression
    features: list
    intercept: float
    local_prediction: float | None
    r2: float
    actual: Any = None
    error: str | None = None  # "false negative", "false positive", "misclassified", "overestimate", ...
    seconds: float | None = None
    notes: list = field(default_factory=list)

    @property
    def output(self) -> float | None:
        """The explained number: the class probability, or the regression prediction."""
        return self.probability if self.explained_class is not None else _float(self.predicted)

    def top(self, k: int = 3) -> list[dict]:
        """The `k` strongest conditions (``features[:k]``)."""
        return self.features[:k]

    def sentence(self) -> str:
        """One plain sentence: what the model said for this row and the strongest reasons."""
        classification = self.explained_class is not None
        if classification:
            said = f"the model gives '{self.explained_class}' a probability of {_p(self.probability)}"
        else:
            said = f"the model predicts {_f(self.output)}"
        actual = ""
        if self.actual is not None:
            err = (
                f", {'an' if self.error and self.error[0] in 'aeiou' else 'a'} {self.error}"
                if self.error
                else ""
            )
            actual = f" (actual: {_f(self.actual)}{err})"
        ups = [f["condition"] for f in self.features[:3] if f["weight"] > 0]
        downs = [f["condition"] for f in self.features[:3] if f["weight"] < 0]
        parts = []
        if ups:
            verb = "pushes" if len(ups) == 1 else "push"
            parts.append(
                f"{_join(ups)} {verb} towards '{self.explained_class}'"
                if classification
                else f"{_join(ups)} {verb} the prediction up"
            )
        if downs:
            verb = "pushes" if len(downs) == 1 else "push"
            parts.append(
                f"{_join(downs)} {verb} away from it"
                if classification and ups
                else f"{_join(downs)} {verb} away from '{self.explained_class}'"
                if classification
                else f"{_join(downs)} {verb} it down"
            )
        reasons = "; ".join(parts) or "no condition stands out"
        return f"Row {self.row_id}: {said}{actual}. {reasons[0].upper() + reasons[1:]}."


@dataclass(frozen=True)
class LocalExplanationResult(FieldRecord):
    """LIME explanations of chosen rows (or of the worst errors), in the original columns.

    Ask it things: ``result[row_id]`` (a :class:`LocalExplanation`),
    ``result.table()`` (one row per row and condition), ``result.figures()``
    (one bar chart per row), ``result.findings()``.
    """

    kind: ClassVar[str] = "local_explanation"
    STORED_NAME: ClassVar[str] = "local explanation"
    STORED_KEYS: ClassVar[dict] = {"model_name": "model"}
    SCHEMA: ClassVar[int] = 1

    model_name: str
    task: str
    explanations: list
    selection: dict  # {"method": "rows"|"worst_errors", "error_kind", "n_errors", "n_rows", "label"}
    num_features: int
    num_samples: int
    random_state: int = 0
    reference_rows: int = 0
    seconds_per_row: float | None = None
    notes: list = field(default_factory=list)

    def __getitem__(self, row_id: Any) -> LocalExplanation:
        for e in self.explanations:
            if e.row_id == row_id or str(e.row_id) == str(row_id):
                return e
        raise UnknownNameError(
            f"row {row_id!r} was not explained; the explained rows are "
            f"{', '.join(repr(e.row_id) for e in self.explanations[:8]) or 'none'}"
            + (f" and {len(self.explanations) - 8} more" if len(self.explanations) > 8 else "")
        )

    def __len__(self) -> int:
        return len(self.explanations)

    def __iter__(self):
        return iter(self.explanations)

    def table(self) -> pd.DataFrame:
        """One row per explained row and condition (strongest first within a row)."""
        rows = [
            {
                "row_id": e.row_id,
                "rank": k + 1,
                "feature": f["feature"],
                "condition": f["condition"],
                "weight": f["weight"],
                "predicted": e.predicted,
                "probability": e.probability,
                "actual": e.actual,
                "r2": e.r2,
            }
            for e in self.explanations
            for k, f in enumerate(e.features)
        ]
        return pd.DataFrame(rows)

    # -- the faces ------------------------------------------------------------------
    def to_dict(self) -> dict:
        """JSON-safe form, as ``results.json`` stores it (:meth:`from_dict` rebuilds it)."""
        return {**super().to_dict(), "explanations": [e.to_dict() for e in self.explanations]}

    @classmethod
    def from_dict(cls, d: Mapping) -> LocalExplanationResult:
        """Rebuild from :meth:`to_dict`'s output without recomputing.

        Raises
        ------
        WorkbenchError
            When the stored dict lacks a field.
        """
        explanations = [LocalExplanation.from_dict(e) for e in d.get("explanations", [])]
        return super().from_dict({"selection": {}, **d, "explanations": explanations})

    def figures(self) -> dict:
        """``{"row <id>": bar chart of the conditions' weights}``, one per explained row."""
        from workbench.viz.explain import lime_figure

        return {f"row {e.row_id}": lime_figure(e.to_dict(), self.task) for e in self.explanations}

    def figure(self):
        """The first row's chart (a figure saying so when no row was explained)."""
        figs = self.figures()
        if figs:
            return next(iter(figs.values()))
        from workbench.viz.explain import empty_figure

        return empty_figure("No row to explain", "no row matched the selection")

    def key_metrics(self) -> dict:
        """Flat figures: how many rows were explained, and the weakest local fit (R²)."""
        return {
            "explanation.local.rows": len(self.explanations),
            "explanation.local.fit_r2": min((e.r2 for e in self.explanations), default=None),
        }

    def findings(self, config: ChecksConfig | None = None) -> list[str]:
        """Plain sentences: what was selected, one per explained row, and rows LIME fits poorly.

        `config` is accepted for the protocol's signature; the sentences do not depend on it.
        """
        out = []
        sel = self.selection
        if sel.get("method") == "worst_errors":
            what = sel.get("label") or "errors"
            n_err, n = sel.get("n_errors", 0), sel.get("n_rows", 0)
            if not n_err:
                out.append(f"The model made no {what} on these {n:,} rows, so there is nothing to explain.")
            else:
                out.append(
                    f"The model made {n_err:,} {what} on {n:,} labelled rows ({n_err / max(n, 1):.1%}); "
                    f"the {len(self.explanations)} most confident ones are explained below."
                )
        out.extend(e.sentence() for e in self.explanations)
        weak = [e for e in self.explanations if e.r2 < MIN_LOCAL_R2]
        if weak:
            ids = ", ".join(str(e.row_id) for e in weak[:5])
            out.append(
                f"For row{'s' if len(weak) > 1 else ''} {ids} LIME's straight-line summary fits the model "
                f"poorly (R² below {MIN_LOCAL_R2:g}): read those weights with care."
            )
        out.extend(self.notes)
        return out

    def checks(self, config: ChecksConfig | None = None) -> list[Check]:
        """The warning ``explanation.local.fit_r2``: the weakest local fit (R²) against its threshold."""
        worst = min((e.r2 for e in self.explanations), default=None)
        c = make_check(
            "explanation.local.fit_r2",
            worst,
            ">=",
            MIN_LOCAL_R2,
            "the weakest local fit has R² {value:.2f} (at least {threshold:g} expected)",
            config,
            severity="warning",
        )
        return [c] if c else []

    def _repr_html_(self, config: ChecksConfig | None = None) -> str:
        body = ""
        for e in self.explanations:
            rows = [{"condition": f["condition"], "weight": f["weight"]} for f in e.features]
            head = (
                f"Row {e.row_id}: predicted {_f(e.predicted)}"
                + (f", P({e.explained_class}): {_p(e.probability)}" if e.explained_class is not None else "")
                + (f", actual {_f(e.actual)}" if e.actual is not None else "")
                + f"; local fit R² {e.r2:.2f}"
            )
            body += f"<div style='margin-top:8px;font-weight:600'>{_html.esc(head)}</div>"
            body += _html.table(rows, ["condition", "weight"])
        sub = (
            f"{self.task}; LIME with {self.num_samples:,} samples around each row, "
            f"reference of {self.reference_rows:,} rows"
            + (f"; {self.seconds_per_row:.2f} s per row" if self.seconds_per_row else "")
        )
        title = f"Local explanations of {self.model_name}"
        return _card(title, self.findings(config), body, sub, self.checks(config))


@dataclass(frozen=True)
class StabilityResult(FieldRecord):
    """How much LIME's explanations change when only the random seed changes.

    Per row: the mean pairwise Kendall tau of the feature rankings (by |weight|,
    all features), the mean pairwise Jaccard overlap of the top-k features, and
    the share of top features whose weight keeps its sign; plus, per feature,
    the mean and spread of its weight across seeds.
    """

    kind: ClassVar[str] = "explanation_stability"
    STORED_NAME: ClassVar[str] = "stability result"
    STORED_KEYS: ClassVar[dict] = {"model_name": "model"}
    SCHEMA: ClassVar[int] = 1

    model_name: str
    task: str
    seeds: list
    top_k: int
    num_samples: int
    rows: list  # {"row_id", "kendall_tau", "top_k_jaccard", "sign_agreement", "features": [...]}
    mean_kendall_tau: float
    mean_top_k_jaccard: float
    mean_sign_agreement: float
    verdict: str  # "stable" | "fairly stable" | "unstable"

    @property
    def stable(self) -> bool:
        """True when the verdict is ``"stable"``."""
        return self.verdict == "stable"

    def summary(self) -> str:
        """The plain verdict in one sentence."""
        head = {"stable": "Stable", "fairly stable": "Fairly stable", "unstable": "Unstable"}[self.verdict]
        s = (
            f"{head}: repeating each explanation with {len(self.seeds)} random seeds, the top {self.top_k} "
            f"features overlap {self.mean_top_k_jaccard:.0%} on average, the full rankings agree "
            f"with a Kendall tau of {self.mean_kendall_tau:.2f} (1 = identical order), and "
            f"{self.mean_sign_agreement:.0%} of the top features keep the direction of their effect."
        )
        if self.verdict != "stable":
            s += (
                " Read only the first few conditions, or explain with more samples than "
                f"{self.num_samples:,} (num_samples)."
            )
        return s

    def figures(self) -> dict:
        """``{"stability": figure}``: each row's agreement across seeds."""
        from workbench.viz.explain import stability_figure

        return {"stability": stability_figure(self.rows, self.top_k, len(self.seeds))}

    def figure(self):
        """The stability figure."""
        return self.figures()["stability"]

    def key_metrics(self) -> dict:
        """Flat figures: the mean agreement of repeated explanations."""
        return {
            "explanation.stability.top_k_jaccard": self.mean_top_k_jaccard,
            "explanation.stability.kendall_tau": self.mean_kendall_tau,
            "explanation.stability.sign_agreement": self.mean_sign_agreement,
        }

    def findings(self, config: ChecksConfig | None = None) -> list[str]:
        """The verdict (:meth:`summary`) and the least stable rows (`config` is not used)."""
        out = [self.summary()]
        shaky = [r for r in self.rows if r["top_k_jaccard"] < FAIR_JACCARD]
        if shaky and len(self.rows) > 1:
            ids = ", ".join(str(r["row_id"]) for r in shaky[:5])
            out.append(f"The least stable row{'s are' if len(shaky) > 1 else ' is'} {ids}.")
        return out

    def checks(self, config: ChecksConfig | None = None) -> list[Check]:
        """The warning ``explanation.stability.top_k_jaccard``: mean top-k overlap against its threshold."""
        c = make_check(
            "explanation.stability.top_k_jaccard",
            self.mean_top_k_jaccard,
            ">=",
            FAIR_JACCARD,
            "repeated explanations share {value:.0%} of their top features (at least "
            "{threshold:.0%} expected)",
            config,
            severity="warning",
        )
        return [c] if c else []

    def _repr_html_(self, config: ChecksConfig | None = None) -> str:
        body = _html.table(
            [
                {
                    "row": str(r["row_id"]),
                    "Kendall tau": r["kendall_tau"],
                    f"top-{self.top_k} overlap": r["top_k_jaccard"],
                    "sign agreement": r["sign_agreement"],
                }
                for r in self.rows
            ]
        )
        return _card(
            f"Explanation stability of {self.model_name}: {self.verdict}",
            self.findings(config),
            body,
            f"LIME with {self.num_samples:,} samples, seeds {self.seeds}, top {self.top_k} features",
            self.checks(config),
        )


def verdict_for(jaccard: float) -> str:
    if jaccard >= STABLE_JACCARD:
        return "stable"
    return "fairly stable" if jaccard >= FAIR_JACCARD else "unstable"


# -- helpers ------------------------------------------------------------------------
def _join(items: list[str]) -> str:
    items = [f"'{i}'" for i in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _p(v: float | None) -> str:
    if v is None:
        return "—"
    if v < 0.001:
        return "below 0.1%"
    if v > 0.999:
        return "above 99.9%"
    return f"{v:.0%}" if 0.01 <= v <= 0.99 else f"{v:.1%}"


def _f(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _float(v: Any) -> float | None:
    try:
        return float(v)
    except (TypeError, ValueError):
        return None
