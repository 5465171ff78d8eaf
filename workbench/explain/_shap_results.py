"""Result objects for SHAP: chosen rows (or the worst errors), and the global summary with rank agreement.

Light on purpose (numpy/pandas and workbench helpers; plotly inside
``figures()``): stored SHAP results re-render without shap, numba or
scikit-learn.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from workbench import _html
from workbench._lazy import lazy
from workbench._records import FieldRecord
from workbench.checks import ChecksConfig
from workbench.errors import UnknownNameError
from workbench.explain._global_results import Description, _card
from workbench.results import name_list

pd = lazy("pandas")

_METHOD_WORDS = {"tree": "exact tree SHAP", "kernel": "kernel SHAP"}


@dataclass(frozen=True)
class ShapRow(FieldRecord):
    """SHAP values of one row: each original column's share of the explained output.

    ``contributions`` lists, largest |shap| first, ``{"feature", "value", "shap"}``
    (``value``: the row's value of that column). ``base_value + sum(shap)`` is
    ``output`` (the model's own output for the row, in the result's units).
    """

    row_id: Any
    predicted: Any
    probability: float
    output: float
    contributions: list
    actual: Any = None
    error: str | None = None

    def top(self, k: int = 3) -> list[dict]:
        """The `k` largest contributions."""
        return self.contributions[:k]

    def total(self) -> float:
        """The sum of the contributions (``output - base_value``)."""
        return float(sum(c["shap"] for c in self.contributions))


@dataclass(frozen=True)
class ShapExplanationResult(Description):
    """SHAP explanations of chosen rows (or of the worst errors), in the original columns.

    Ask it things: ``result[row_id]`` (a :class:`ShapRow`), ``result.table()``,
    ``result.figures()`` (one waterfall per row), ``result.findings()``.
    ``method`` is ``"tree"`` (exact) or ``"kernel"`` (model-agnostic); ``output``
    says what the values add up to ("probability of '>50K'", "log-odds of '>50K'").
    """

    kind: ClassVar[str] = "shap_explanation"
    STORED_NAME: ClassVar[str] = "SHAP explanation"
    SCHEMA: ClassVar[int] = 1

    model_name: str
    task: str
    method: str
    output: str
    base_value: float | None  # None when no row was explained
    explanations: list
    selection: dict
    background_rows: int = 0
    nsamples: int | None = None
    random_state: int = 0
    seconds_per_row: float | None = None
    notes: list = field(default_factory=list)

    def __getitem__(self, row_id: Any) -> ShapRow:
        for e in self.explanations:
            if e.row_id == row_id or str(e.row_id) == str(row_id):
                return e
        raise UnknownNameError(
            f"row {row_id!r} was not explained; the explained rows are "
            f"{name_list([e.row_id for e in self.explanations])}"
        )

    def __len__(self) -> int:
        return len(self.explanations)

    def __iter__(self):
        return iter(self.explanations)

    def table(self) -> pd.DataFrame:
        """One row per explained row and column (largest |shap| first within a row)."""
        return pd.DataFrame(
            [
                {"row_id": e.row_id, "rank": k + 1, **c, "output": e.output, "actual": e.actual}
                for e in self.explanations
                for k, c in enumerate(e.contributions)
            ]
        )

    def sentence(self, row_id: Any) -> str:
        """One plain sentence for a row: its output and the columns that moved it most."""
        e = self[row_id]
        ups = [_said(c) for c in e.contributions[:3] if c["shap"] > 0]
        downs = [_said(c) for c in e.contributions[:3] if c["shap"] < 0]
        parts = [f"{', '.join(ups)} raise it"] if ups else []
        parts += [f"{', '.join(downs)} lower it"] if downs else []
        actual = f" (actual: {e.actual}{', a ' + e.error if e.error else ''})" if e.actual is not None else ""
        return (
            f"Row {e.row_id}: {self.output} {e.output:.3f} against {self.base_value:.3f} on average"
            f"{actual}. {'; '.join(parts) or 'No column stands out'}."
        )

    def to_dict(self) -> dict:
        """JSON-safe form, as ``results.json`` stores it (:meth:`from_dict` rebuilds it)."""
        return {**super().to_dict(), "explanations": [e.to_dict() for e in self.explanations]}

    @classmethod
    def from_dict(cls, d: Mapping) -> ShapExplanationResult:
        """Rebuild from :meth:`to_dict`'s output without recomputing.

        Raises
        ------
        WorkbenchError
            When the stored dict lacks a field.
        """
        rows = [ShapRow.from_dict(e) for e in d.get("explanations", [])]
        return super().from_dict({**d, "explanations": rows})

    def figures(self) -> dict:
        """``{"row <id>": waterfall}`` for every explained row."""
        from workbench.viz.explain_shap import waterfall_figure

        return {
            f"row {e.row_id}": waterfall_figure(e.to_dict(), self.base_value, self.output)
            for e in self.explanations
        }

    def key_metrics(self) -> dict:
        """Flat figures: rows explained, seconds per row, and the largest additivity gap."""
        base = self.base_value or 0.0
        gap = max((abs(base + e.total() - e.output) for e in self.explanations), default=None)
        return {
            "explanation.shap.rows": len(self.explanations),
            "explanation.shap.seconds_per_row": self.seconds_per_row,
            "explanation.shap.additivity_gap": gap,
        }

    def findings(self, config: ChecksConfig | None = None) -> list[str]:
        """One sentence per row (at most five), then the notes."""
        out = [self.sentence(e.row_id) for e in self.explanations[:5]]
        if not self.explanations:
            out.append(f"No row to explain: {self.selection.get('label', 'no rows')} were found.")
        return out + list(self.notes)

    def _repr_html_(self, config: ChecksConfig | None = None) -> str:
        rows = [
            {"row": e.row_id, "output": e.output, "top columns": ", ".join(_said(c) for c in e.top(3))}
            for e in self.explanations
        ]
        return _card(
            f"SHAP explanation of {self.model_name}",
            self.findings(config),
            _html.table(rows) if rows else "",
            _subtitle(self.method, self.output, self.base_value, self.background_rows, self.nsamples),
        )


@dataclass(frozen=True)
class ShapSummaryResult(Description):
    """SHAP over many rows: mean |SHAP| per original column, a beeswarm, dependence, and rank agreement.

    ``features`` holds ``{"feature", "mean_abs_shap", "mean_shap"}``, most
    important first. ``points`` holds per column ``{"kind", "values", "shap"}``
    for up to a few hundred rows (the beeswarm and dependence plots).
    ``agreement`` compares the SHAP ranking with other methods' (permutation
    importance, LIME): ``{"method", "spearman", "kendall", "top_k",
    "top_k_overlap", "ranking"}``.
    """

    kind: ClassVar[str] = "shap_summary"
    STORED_NAME: ClassVar[str] = "SHAP summary"
    SCHEMA: ClassVar[int] = 1

    model_name: str
    task: str
    method: str
    output: str
    base_value: float
    features: list
    points: dict
    n_rows: int
    agreement: list = field(default_factory=list)
    dependence_feature: str | None = None
    background_rows: int = 0
    nsamples: int | None = None
    random_state: int = 0
    seconds_per_row: float | None = None
    notes: list = field(default_factory=list)

    @property
    def ranking(self) -> list[str]:
        """Original columns, largest mean |SHAP| first."""
        return [f["feature"] for f in self.features]

    def column(self, name: str) -> dict:
        """One column's summary: ``{"feature", "mean_abs_shap", "mean_shap", "kind", "values", "shap"}``.

        Raises
        ------
        UnknownNameError
            For a column the model does not have (a ``KeyError``).
        """
        for f in self.features:
            if f["feature"] == name:
                return {**f, **self.points.get(name, {})}
        raise UnknownNameError(
            f"no column '{name}' in the SHAP summary; its columns are {name_list(self.ranking)}"
        )

    def table(self) -> pd.DataFrame:
        """Mean |SHAP| and mean SHAP per column, indexed by column, most important first."""
        return pd.DataFrame(self.features).set_index("feature")

    def agreement_table(self) -> pd.DataFrame:
        """The rank agreement with each other method, one row per method."""
        cols = ["method", "spearman", "kendall", "top_k", "top_k_overlap"]
        return pd.DataFrame([{c: a.get(c) for c in cols} for a in self.agreement], columns=cols)

    def dependence_figure(self, column: str, color_by: str | None = None):
        """A column's SHAP values against its values (colored by `color_by`'s values when given)."""
        from workbench.viz.explain_shap import dependence_figure

        col = self.column(column)
        color = self.column(color_by) if color_by is not None else None
        return dependence_figure(col, self.output, color)

    def figures(self) -> dict:
        """``{"importance", "beeswarm", "dependence"}`` (dependence on :attr:`dependence_feature`)."""
        from workbench.viz.explain_shap import beeswarm_figure, shap_importance_figure

        figs = {
            "importance": shap_importance_figure(self.features, self.output, self.agreement),
            "beeswarm": beeswarm_figure(self.ranking, self.points, self.output),
        }
        if self.dependence_feature is not None:
            figs["dependence"] = self.dependence_figure(self.dependence_feature)
        return figs

    def figure(self):
        """The beeswarm."""
        return self.figures()["beeswarm"]

    def key_metrics(self) -> dict:
        """Flat figures: mean |SHAP| per column and each method's rank agreement."""
        out = {f"explanation.shap.{f['feature']}": f["mean_abs_shap"] for f in self.features}
        for a in self.agreement:
            key = a["method"].replace(" ", "_")
            out[f"explanation.shap.agreement.{key}.spearman"] = a["spearman"]
            out[f"explanation.shap.agreement.{key}.kendall"] = a["kendall"]
        return out

    def findings(self, config: ChecksConfig | None = None) -> list[str]:
        """Plain sentences: the columns that move the output most, and how far other rankings agree."""
        top = self.features[:3]
        out = []
        if top:
            parts = [f"'{f['feature']}' ({f['mean_abs_shap']:.3g})" for f in top]
            out.append(
                f"The columns that move the {self.output} most are {', '.join(parts)}: mean |SHAP| over "
                f"{self.n_rows:,} rows ({_METHOD_WORDS.get(self.method, self.method)})."
            )
        for a in self.agreement:
            rho = "n/a" if a["spearman"] is None else f"{a['spearman']:.2f}"
            word = _agreement_word(a["spearman"])
            out.append(
                f"SHAP and {a['method']} rank the columns {word} (Spearman {rho}, Kendall "
                f"{a['kendall']:.2f}; {a['top_k_overlap']:.0%} of the top {a['top_k']} shared)."
            )
        return out + list(self.notes)

    def _repr_html_(self, config: ChecksConfig | None = None) -> str:
        body = _html.table(self.features[:15], ["feature", "mean_abs_shap", "mean_shap"])
        if self.agreement:
            body += _html.table(
                [
                    {k: a[k] for k in ("method", "spearman", "kendall", "top_k_overlap")}
                    for a in self.agreement
                ]
            )
        return _card(
            f"SHAP summary of {self.model_name}",
            self.findings(config),
            body,
            _subtitle(self.method, self.output, self.base_value, self.background_rows, self.nsamples),
        )


def _said(c: Mapping) -> str:
    v = c.get("value")
    shown = f"{v:.4g}" if isinstance(v, float) else ("missing" if v is None else str(v))
    return f"{c['feature']} = {shown} ({c['shap']:+.3f})"


def _agreement_word(rho: float | None) -> str:
    if rho is None:
        return "without a comparable order"
    if rho >= 0.8:
        return "much alike"
    if rho >= 0.5:
        return "broadly alike"
    return "differently"


def _subtitle(method: str, output: str, base: float | None, background: int, nsamples: int | None) -> str:
    how = _METHOD_WORDS.get(method, method)
    if method == "kernel":
        how += f" ({background} background rows, {nsamples} coalitions per row)"
    if base is None:
        return how
    return f"{how}; values add up to the {output} from a base value of {base:.3f}"
