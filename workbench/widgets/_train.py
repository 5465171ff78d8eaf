"""TrainPanel: recipes and options, a leaderboard, the champion, save and load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ipywidgets as w

from workbench.errors import DataError, ModelFileError, WorkbenchError
from workbench.validation import check_text
from workbench.widgets._base import ChartSlot, Panel
from workbench.widgets._state import AppState


class TrainPanel(Panel):
    """Train candidates on ``state.data`` and pick the champion.

    Sets ``state.train_result`` and ``state.model``.

    "Save" writes the current model (``state.model``) to the path and sets
    ``state.model_path``; "Load" reads a saved model instead, after checking
    that it fits the data.
    """

    title = "Train"

    def __init__(self, state: AppState | None = None, **kwargs: Any):
        super().__init__(state, **kwargs)
        from workbench.modeling.train import IMBALANCE

        self.recipes = w.SelectMultiple(options=[], description="Recipes", rows=4)
        self.imbalance = w.Dropdown(options=list(IMBALANCE), value="none", description="Imbalance")
        self.search = w.Checkbox(value=False, description="Search (3-fold CV)", indent=False)
        self.quick = w.Checkbox(value=False, description="Quick (smaller ensembles)", indent=False)
        self.use_cost = w.Checkbox(value=False, description="Business cost")
        self.cost_fn = w.BoundedFloatText(value=1.0, min=0, max=1e9, description="Cost FN")
        self.cost_fp = w.BoundedFloatText(value=1.0, min=0, max=1e9, description="Cost FP")
        self.train_button = self._button("Train", self.train, style="primary")
        self.leaderboard = w.HTML()
        self.chart = ChartSlot(height=420, margin=dict(l=70, r=40, t=70, b=60))
        self.champion = w.Dropdown(options=[], description="Champion")
        self.champion.observe(self._guarded(self._on_champion), "value")
        self.path = w.Text(value="champion.wbm", description="Model file")
        self.overwrite = w.Checkbox(value=False, description="Replace an existing file")
        self.save_button = self._button("Save", self.save)
        self.load_button = self._button("Load", self.load)
        self.leaderboard_rows: list[dict] = []
        self._filling = False
        self._compose(
            w.HBox([self.recipes, w.VBox([self.imbalance, self.search, self.quick])]),
            w.HBox([self.use_cost, self.cost_fn, self.cost_fp]),
            self.train_button,
            self.leaderboard,
            self.chart,
            self.champion,
            w.HBox([self.path, self.overwrite, self.save_button, self.load_button]),
            intro="Train candidate models, compare them on held-out rows and keep the champion.",
        )
        self.state.observe(self._guarded(self._on_spec), "spec")
        self.state.observe(self._guarded(self._on_result), "train_result")
        self._on_spec({"new": self.state.spec})
        self._on_result({"new": self.state.train_result})

    # -- actions ----------------------------------------------------------------------------
    def train(self) -> None:
        """Train the chosen recipes (the Train button)."""
        st = self.state
        if st.data is None or st.spec is None:
            raise DataError("load a dataset in the Data panel first")
        data, validation, spec = st.data, st.validation, st.spec
        options = dict(
            recipes=list(self.recipes.value) or None,
            imbalance=self.imbalance.value,
            cost=self.cost() if spec.task == "binary" else None,
            search=self.search.value,
            quick=self.quick.value,
            random_state=st.random_state,
        )
        n = len(options["recipes"] or []) or 3

        def work():
            from workbench.modeling.train import train

            return train(data, spec, validation=validation, progress=True, **options)

        def done(result) -> None:
            with st.hold_trait_notifications():
                st.train_result = result
                st.model_path = None
                st.model = result.champion
            n = len(result.candidates)
            self.banner.info(
                f"Trained {n} candidate{'s' if n > 1 else ''}; champion: {result.champion_name}."
            )

        self.run(f"Training {n} candidate{'s' if n > 1 else ''}", work, done)

    def cost(self) -> dict | None:
        """The business cost matrix from the inputs (None when unused)."""
        return (
            {"fn": float(self.cost_fn.value), "fp": float(self.cost_fp.value)}
            if self.use_cost.value
            else None
        )

    def save(self) -> None:
        """Save the current model to the path typed in the panel.

        Raises
        ------
        WorkbenchError
            When there is no model or no path; :class:`~workbench.errors.ModelFileError` when the path
            exists and overwriting is not ticked.
        """
        from workbench.modeling.artifact import save_model

        st = self.state
        if st.model is None:
            raise WorkbenchError("train or load a model before saving it")
        path = check_text(
            self.path.value, "the model path", empty="type the path to save the model to (e.g. champion.wbm)"
        )
        if Path(path).exists() and not self.overwrite.value:
            raise ModelFileError(
                f"'{path}' already exists; choose another path, or tick "
                f"'{self.overwrite.description}' to overwrite it"
            )
        saved = save_model(st.model, path, overwrite=self.overwrite.value)
        st.model_path = str(saved)
        self.banner.info(f"Saved '{st.model.name}' to {saved}.")

    def load(self) -> None:
        """Load the model at the path typed in the panel and make it the current model.

        Raises
        ------
        DataError
            When the loaded data lacks the model's features or has another target.
        """
        from workbench.modeling.artifact import load_model

        path = check_text(self.path.value, "the model path", empty="type the path of a saved model first")
        model = load_model(path)
        st = self.state
        if st.data is not None:
            model.spec.check_columns(st.data, where=f"the data ({st.dataset or 'loaded table'})")
            if st.spec is not None and model.spec.target != st.spec.target:
                raise DataError(
                    f"the model predicts '{model.spec.target}' but the data's target is "
                    f"'{st.spec.target}'; load matching data or another model"
                )
        with st.hold_trait_notifications():
            # a models:/ alias is pinned to the version loaded: a report run later uses this very model
            st.model_path = model.registered_as.uri if model.registered_as else str(Path(path))
            st.model = model
        self.banner.info(f"Loaded '{model.name}' from {path}.")

    # -- reacting to the state ----------------------------------------------------------------
    def _on_spec(self, change: dict) -> None:
        from workbench.modeling.train import RECIPES, default_recipes

        spec = change["new"]
        if spec is None or spec.task is None:
            self.recipes.options = []
            return
        self.recipes.options = [name for name, r in RECIPES.items() if spec.task in r.tasks]
        self.recipes.value = tuple(default_recipes(spec.task))
        binary = spec.task == "binary"
        for widget in (self.use_cost, self.cost_fn, self.cost_fp):
            widget.disabled = not binary

    def _on_result(self, change: dict) -> None:
        result = change["new"]
        if result is None:
            self.leaderboard.value, self.leaderboard_rows = "", []
            self.chart.clear()
            self.champion.options = []
            return
        self.leaderboard_rows = result.leaderboard().reset_index().to_dict("records")
        self.leaderboard.value = result._repr_html_()  # the result's own card, as in a notebook
        self.chart.show(_fit_labels_in(result.figure()))
        self._filling = True  # new options reset the value: not a choice of the user's
        try:
            self.champion.options = [r["name"] for r in self.leaderboard_rows]
            self.champion.value = result.champion_name
        finally:
            self._filling = False

    def _on_champion(self, change: dict) -> None:
        result, name = self.state.train_result, change["new"]
        if result is None or name is None or self._filling:
            return
        model = result[name].model
        if self.state.model is not model:
            with self.state.hold_trait_notifications():
                self.state.model_path = None
                self.state.model = model


def _fit_labels_in(fig):
    """The leaderboard chart with room for its point labels: names written beside the outermost points
    (on a log axis) are not cut at the plot's edge."""
    import math

    if not fig.data or "text" not in (getattr(fig.data[0], "mode", None) or ""):
        return fig  # no candidates ("no data" figure): nothing is labelled
    trace = fig.data[0]
    xs = [float(x) for x in (trace.x or ()) if isinstance(x, int | float) and x and x > 0]
    trace.cliponaxis = False  # a label may overhang the plot area into the margin
    if xs:
        lo, hi = math.log10(min(xs)), math.log10(max(xs))
        longest = max((len(str(t)) for t in (trace.text or ())), default=10)
        pad = max(0.3, (hi - lo) * 0.2) * max(1.0, longest / 20)  # decades each side, wider for long names
        fig.update_xaxes(range=[lo - pad, hi + pad])  # a log axis' range is in decades
    ys = fig.layout.yaxis.range
    if ys is not None:  # labels sit above their points: more headroom on top
        lo_y, hi_y = ys
        fig.update_yaxes(range=[lo_y, hi_y + (hi_y - lo_y) * 0.15])
    return fig
