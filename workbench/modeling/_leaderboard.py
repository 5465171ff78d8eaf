"""What training returns: the trained candidates, their leaderboard and the champion.

Private: import the public names from :mod:`workbench.modeling.train`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from workbench import _html
from workbench._lazy import lazy
from workbench.data._spec import DatasetSpec
from workbench.modeling.artifact import Model
from workbench.results import find_named

pd = lazy("pandas")

#: The leaderboard's columns after the candidate's name (and the selection metric, first): what the CLI
#: prints and the panels show, from :meth:`TrainingResult.leaderboard_text` and
#: :meth:`TrainingResult._repr_html_`.
LEADERBOARD_COLUMNS = (
    "roc_auc",
    "pr_auc",
    "accuracy",
    "f1_macro",
    "log_loss",
    "cost",
    "rmse",
    "r2",
    "mae",
    "fit_time_s",
    "size_bytes",
    "latency_p50_us",
)
#: Metrics where a smaller value is the better one (the others: larger is better).
LOWER_IS_BETTER = {"cost", "cost_per_row", "log_loss", "brier", "rmse", "mae", "median_abs_error"}


@dataclass(frozen=True)
class Candidate:
    """One trained candidate and its figures on the validation data.

    Attributes
    ----------
    name : str
        Its name on the leaderboard (the recipe's, ``-2`` etc. when repeated).
    recipe : str
        The recipe it was built from (a key of :data:`~workbench.modeling.train.RECIPES`).
    model : Model
        The fitted model, ready to save.
    metrics : dict
        Its metrics on the validation data.
    fit_time_s : float
        Seconds to fit it (without the search).
    size_bytes : int
        Size of its saved artifact.
    latency_p50_us, latency_p95_us : float
        Microseconds to predict one row (median, 95th percentile).
    params : dict
        The hyperparameters the search chose (empty without a search).
    search : list
        Each setting the search tried, with its cross-validated score.
    """

    name: str
    recipe: str
    model: Model
    metrics: dict
    fit_time_s: float
    size_bytes: int
    latency_p50_us: float
    latency_p95_us: float
    params: dict = field(default_factory=dict)
    search: list = field(default_factory=list)

    def row(self) -> dict:
        """Its leaderboard row: name, recipe, metrics, costs and decision threshold.

        Returns
        -------
        dict
            JSON-safe values, keyed by column.
        """
        return {
            "name": self.name,
            "recipe": self.recipe,
            **self.metrics,
            "fit_time_s": self.fit_time_s,
            "size_bytes": self.size_bytes,
            "latency_p50_us": self.latency_p50_us,
            "latency_p95_us": self.latency_p95_us,
            "threshold": self.model.threshold,
        }


@dataclass(frozen=True)
class TrainingResult:
    """Candidates side by side and the champion (best by `select_by` on validation data).

    Returned by :func:`~workbench.modeling.train.train`.

    Attributes
    ----------
    candidates : list of Candidate
        The trained candidates, in the order of the recipes.
    champion_name : str
        The best candidate's name.
    select_by : str
        The metric the champion was chosen by.
    spec : DatasetSpec
        The column roles the candidates were trained with.
    validation : dict
        Where the validation rows came from (``source``) and how many (``rows``).
    imbalance : str
        The imbalance strategy used.
    cost : dict or None
        The cost matrix, when one was given.
    notes : list of str
        What training left out and why (columns, rows without a target).
    """

    candidates: list[Candidate]
    champion_name: str
    select_by: str
    spec: DatasetSpec
    validation: dict
    imbalance: str = "none"
    cost: dict | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def champion(self) -> Model:
        """The champion's fitted model."""
        return self[self.champion_name].model

    def __getitem__(self, name: str) -> Candidate:
        """The candidate called `name`.

        Raises
        ------
        UnknownNameError
            No candidate has that name (the message lists them).
        """
        return find_named(self.candidates, name, "candidate")

    def leaderboard(self) -> pd.DataFrame:
        """One row per candidate, best first.

        Returns
        -------
        pandas.DataFrame
            Indexed by candidate name; the columns of :meth:`Candidate.row`.
        """
        df = pd.DataFrame([c.row() for c in self.candidates]).set_index("name")
        asc = self.select_by in LOWER_IS_BETTER
        return df.sort_values(self.select_by, ascending=asc, na_position="last")

    def leaderboard_text(self) -> str:
        """The leaderboard as a fixed-width text table, the champion marked with ``*``.

        What the CLI prints.
        """
        lb = self.leaderboard()
        cols = [c for c in LEADERBOARD_COLUMNS if c in lb.columns]
        view = lb[cols].copy()
        view.index.name = None  # no stray 'name' header row in the printout
        view.insert(0, "", ["*" if n == self.champion_name else "" for n in view.index])
        fmt = {
            c: (lambda v: f"{v:,.0f}") if c in ("size_bytes", "latency_p50_us") else (lambda v: f"{v:.4f}")
            for c in cols
        }
        fmt["fit_time_s"] = lambda v: f"{v:.1f}"
        return view.to_string(formatters=fmt, na_rep="—")

    def to_dict(self) -> dict:
        """The result as JSON-safe data (models left out: each candidate's row and params)."""
        return {
            "kind": "training",
            "champion": self.champion_name,
            "select_by": self.select_by,
            "task": self.spec.task,
            "spec": self.spec.to_dict(),
            "validation": self.validation,
            "imbalance": self.imbalance,
            "cost": self.cost,
            "notes": self.notes,
            "candidates": [{**c.row(), "params": c.params} for c in self.candidates],
        }

    def figure(self):
        """The candidates' selection metric against single-row latency (bubble = model size).

        Returns
        -------
        plotly.graph_objects.Figure
        """
        from workbench.viz import leaderboard_figure

        return leaderboard_figure([c.row() for c in self.candidates], self.select_by, self.champion_name)

    def _repr_html_(self) -> str:
        """The leaderboard card (best first, the champion highlighted).

        The notebook's view and the Train panel's.
        """
        board = self.leaderboard().reset_index()
        rows = [{**r, "champion": r["name"] == self.champion_name} for r in board.to_dict("records")]
        cols = [
            c for c in ("name", *dict.fromkeys([self.select_by, *LEADERBOARD_COLUMNS])) if c in board.columns
        ]
        body = _html.table(rows, cols, highlight="champion")
        notes = "".join(f"<li>{_html.esc(n)}</li>" for n in self.notes)
        body += f"<ul style='color:#57606a'>{notes}</ul>" if notes else ""
        return _html.card(
            f"Leaderboard — champion: {self.champion_name}",
            body,
            f"{self.spec.task}; validation: {self.validation.get('source')} "
            f"({self.validation.get('rows'):,} rows); best by {self.select_by}",
        )
