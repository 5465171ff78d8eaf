"""ExplainPanel: LIME or SHAP for a row or the worst errors, global importance, PDP/ICE, a surrogate tree."""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from workbench import _html
from workbench.errors import DataError, ParameterError
from workbench.validation import check_text
from workbench.widgets._base import Banner, ChartSlot, Panel
from workbench.widgets._state import AppState

#: What the Explain tab says until there is a model to explain.
NEEDS_MODEL = (
    "Explanations need a model: train one in the Train tab (or load a saved one there), then come back here."
)


class ExplainPanel(Panel):
    """Explain ``state.model`` on the held-out rows (``state.validation``, else ``state.data``).

    Local: one row by its index label (or ``state.selected_row``, set by code
    or another panel), or the model's most confident mistakes, with the method
    chosen in ``method``: LIME (samples around the training rows, conditions on
    the original columns) or SHAP (each original column's share of the output,
    a waterfall; exact for the tree recipes, binary models only).
    Global: permutation importance (LIME) or the SHAP summary (beeswarm, rank
    agreement), partial dependence with ICE lines (LIME) or SHAP dependence for
    a chosen feature, and a shallow surrogate tree with its fidelity and rules.
    """

    title = "Explain"

    def __init__(self, state: AppState | None = None, **kwargs: Any):
        super().__init__(state, **kwargs)
        self.method = w.ToggleButtons(options=["LIME", "SHAP"], value="LIME", description="Method")
        self.row = w.Text(placeholder="index label of a row", description="Row")
        self.explain_button = self._button("Explain row", self.explain_row, style="primary")
        self.error_kind = w.Dropdown(options=["any"], description="Errors")
        self.n_errors = w.BoundedIntText(value=5, min=1, max=20, description="How many")
        self.errors_button = self._button("Worst errors", self.explain_errors)
        self.samples = w.BoundedIntText(
            value=5000, min=100, max=100_000, step=500, description="LIME samples"
        )
        self.explained = w.Dropdown(options=[], description="Showing")
        self.explained.observe(self._guarded(self._on_explained), "value")
        self.sentence = w.HTML()
        self.lime_chart = ChartSlot()
        self.importance_button = self._button("Importance", self.compute_importance)
        self.importance_chart = ChartSlot()
        self.feature = w.Dropdown(options=[], description="Feature")
        self.dependence_button = self._button("Partial dependence", self.compute_dependence)
        self.dependence_chart = ChartSlot()
        self.surrogate_button = self._button("Surrogate tree", self.compute_surrogate)
        self.surrogate_text = w.HTML()
        self.rules = w.Textarea(layout=w.Layout(width="95%", height="180px"))
        self.notice = Banner()  # says what is missing before anything can be explained (not an error)
        self.local = self.importance = self.dependence = self.surrogate = self.shap = None
        self._drawn = 0  # charts drawn so far (tells whether selecting a row already drew it)
        self._own_selection = False
        self._compose(
            self.notice,
            self.method,
            w.HBox([self.row, self.explain_button]),
            w.HBox([self.error_kind, self.n_errors, self.errors_button]),
            self.samples,
            self.explained,
            self.sentence,
            self.lime_chart,
            w.HBox([self.importance_button, self.feature, self.dependence_button, self.surrogate_button]),
            self.importance_chart,
            self.dependence_chart,
            self.surrogate_text,
            self.rules,
            intro="Why the model says what it says: for one row (LIME or SHAP, in your columns) and overall.",
        )
        self.state.observe(self._guarded(self._on_model), "model")
        self.state.observe(self._guarded(self._on_selected), "selected_row")
        self._on_model({"new": self.state.model})

    # -- inputs ---------------------------------------------------------------------------------
    def _inputs(self):
        model, data = self._model_and_data(held_out=True)
        reference = self.state.data if self.state.data is not None else data
        return model, data, reference

    def row_label(self, text: Any):
        """The index label typed in the row box, as the data's index holds it."""
        _, data, _ = self._inputs()
        if not isinstance(text, str):
            return text
        text = check_text(text, "the row", empty="type the index label of a row to explain")
        if data.index.dtype.kind in "iu":
            try:
                return int(text)
            except ValueError:
                raise DataError(f"rows are numbered: '{text}' is not a row number") from None
        return text

    def show_results(
        self,
        *,
        local: Any = None,
        importance: Any = None,
        dependence: Any = None,
        surrogate: Any = None,
        shap: Any = None,
    ) -> None:
        """Show explanations computed elsewhere (a notebook's), as if the panel had computed them.

        `local` is a LIME or a SHAP explanation of rows; `shap` a SHAP summary.
        """
        if shap is not None:
            self._show_shap(shap)
        if local is not None:
            self._show_local(local)
        if importance is not None:
            self._show_importance(importance)
        if dependence is not None:
            self.feature.value = dependence.feature
            self._show_dependence(dependence)
        if surrogate is not None:
            self._show_surrogate(surrogate)

    # -- local ----------------------------------------------------------------------------------
    def explain_row(self) -> None:
        """Explain the row typed in the row box (the "Explain row" button)."""
        from workbench.explain import _api as ex

        model, data, reference = self._inputs()
        label = self.row_label(self.row.value)
        samples = int(self.samples.value)
        self._select(label)
        if self.method.value == "SHAP":
            from workbench.explain import _shap_api as sh

            self.run(
                f"Explaining row {label} (SHAP)",
                lambda: sh.explain_shap(
                    model, data, rows=[label], reference=reference, random_state=self.state.random_state
                ),
                self._show_local,
            )
            return
        self.run(
            f"Explaining row {label}",
            lambda: ex.explain_local(
                model,
                data,
                rows=[label],
                reference=reference,
                num_samples=samples,
                random_state=self.state.random_state,
            ),
            self._show_local,
        )

    def explain_errors(self) -> None:
        """Explain the most confident mistakes of the chosen kind (the "Worst errors" button)."""
        from workbench.explain import _api as ex

        model, data, reference = self._inputs()
        kind, n, samples = self.error_kind.value, int(self.n_errors.value), int(self.samples.value)

        def done(result) -> None:
            self._show_local(result)
            if len(result):
                self._select(result.explanations[0].row_id)

        if self.method.value == "SHAP":
            from workbench.explain import _shap_api as sh

            self.run(
                f"Explaining the {n} worst errors (SHAP)",
                lambda: sh.explain_shap_worst_errors(
                    model, data, kind=kind, n=n, reference=reference, random_state=self.state.random_state
                ),
                done,
            )
            return
        self.run(
            f"Explaining the {n} worst errors",
            lambda: ex.explain_worst_errors(
                model,
                data,
                kind=kind,
                n=n,
                reference=reference,
                num_samples=samples,
                random_state=self.state.random_state,
            ),
            done,
        )

    def _show_local(self, result) -> None:
        self.local = result
        ids = [str(e.row_id) for e in result]
        drawn = self._drawn
        self.explained.options = ids  # selects the first id: its observer draws it (once)
        if not ids:
            self.lime_chart.clear()
            self.sentence.value = _html.card(
                "Local explanation", "".join(f"<p>{_html.esc(s)}</p>" for s in result.findings())
            )
        elif self._drawn == drawn:  # the value did not change (same first row): draw it here
            self._on_explained({"new": self.explained.value or ids[0]})

    def _on_explained(self, change: dict) -> None:
        if self.local is None or change["new"] is None:
            return
        from workbench.viz.explain import lime_figure

        e = self.local[change["new"]]
        self._drawn += 1
        if self.local.kind == "shap_explanation":
            from workbench.viz.explain_shap import waterfall_figure

            self.lime_chart.show(waterfall_figure(e.to_dict(), self.local.base_value, self.local.output))
            self.sentence.value = f"<p>{_html.esc(self.local.sentence(e.row_id))}</p>"
            return
        self.lime_chart.show(lime_figure(e.to_dict(), self.local.task))  # only the row shown, not every row's
        self.sentence.value = f"<p>{_html.esc(e.sentence())}</p>"

    def _select(self, label: Any) -> None:
        self._own_selection = True
        try:
            self.state.selected_row = label
        finally:
            self._own_selection = False

    def _on_selected(self, change: dict) -> None:
        label = change["new"]
        if self._own_selection or label is None or self.state.model is None:
            return
        self.row.value = str(label)
        self.explain_row()

    # -- global ---------------------------------------------------------------------------------
    def compute_importance(self) -> None:
        """Permutation importance (LIME) or the SHAP summary of the current model, in the background."""
        from workbench.explain import _global_api as ex

        model, data, reference = self._inputs()
        if self.method.value == "SHAP":
            self.run("SHAP summary", lambda: self._shap_summary(model, data, reference), self._show_shap)
            return
        self.run(
            "Permutation importance",
            lambda: ex.permutation_importance(model, data, random_state=self.state.random_state),
            self._show_importance,
        )

    def _show_importance(self, result) -> None:
        self.importance = result
        self._show_ranking(result)

    def _show_ranking(self, result) -> None:
        """Chart a ranking of the columns (permutation importance or SHAP's)."""
        self.importance_chart.show(result.figure())
        if result.ranking and self.dependence is None:  # until a dependence is drawn, suggest the top feature
            self.feature.value = result.ranking[0]

    def _shap_summary(self, model, data, reference):
        from workbench.explain import _shap_api as sh

        lime = self.local if self.local is not None and self.local.kind == "local_explanation" else None
        return sh.shap_summary(
            model,
            data,
            reference=reference,
            importance=self.importance,
            lime=lime,
            random_state=self.state.random_state,
        )

    def _show_shap(self, result) -> None:
        self.shap = result
        self._show_ranking(result)
        if self.feature.value is not None:
            self.dependence_chart.show(result.dependence_figure(self.feature.value))

    def compute_dependence(self) -> None:
        """Partial dependence (LIME) or SHAP dependence on the chosen feature, then chart it.

        Raises
        ------
        ParameterError
            When no feature is chosen.
        """
        from workbench.explain import _global_api as ex

        model, data, _ = self._inputs()
        feature = self.feature.value
        if feature is None:
            raise ParameterError("choose a feature first")
        if self.method.value == "SHAP":
            if self.shap is None:  # the summary holds every column's points: compute it once
                self.compute_importance()
            else:
                self.dependence_chart.show(self.shap.dependence_figure(feature))
            return
        self.run(
            f"Partial dependence on '{feature}'",
            lambda: ex.partial_dependence(model, data, feature, random_state=self.state.random_state),
            self._show_dependence,
        )

    def _show_dependence(self, result) -> None:
        self.dependence = result
        self.dependence_chart.show(result.figure())

    def compute_surrogate(self) -> None:
        """Fit a surrogate tree to the current model in the background, then show its rules."""
        from workbench.explain import _global_api as ex

        model, data, _ = self._inputs()
        self.run(
            "Fitting a surrogate tree",
            lambda: ex.surrogate_tree(model, data, random_state=self.state.random_state),
            self._show_surrogate,
        )

    def _show_surrogate(self, result) -> None:
        self.surrogate = result
        self.surrogate_text.value = _html.card(
            "Surrogate decision tree",
            "".join(f"<p>{_html.esc(s)}</p>" for s in result.findings()[:2]),
            f"fidelity {result.fidelity:.1%} ({result.fidelity_metric}) "
            f"on {result.n_rows_holdout:,} held-out rows",
        )
        self.rules.value = result.rules_text()

    # -- reacting ---------------------------------------------------------------------------------
    def _on_model(self, change: dict) -> None:
        from workbench.explain._api import ERROR_KINDS

        model = change["new"]
        self.local = self.importance = self.dependence = self.surrogate = self.shap = None
        for slot in (self.lime_chart, self.importance_chart, self.dependence_chart):
            slot.clear()
        self.sentence.value = self.surrogate_text.value = self.rules.value = ""
        self.explained.options = []
        self._show_needs(model)
        if model is None:
            self.feature.options, self.error_kind.options = [], ["any"]
            return
        self.feature.options = list(model.spec.features)
        kinds = list(ERROR_KINDS.get(model.task, ("any",)))
        self.error_kind.options = kinds
        self.error_kind.value = "false_negative" if "false_negative" in kinds else kinds[0]

    def _show_needs(self, model: Any) -> None:
        """Without a model: a notice above the panel, and its buttons disabled (nothing can run yet)."""
        if model is None:
            self.notice.info(NEEDS_MODEL)
        else:
            self.notice.clear()
        if not self.busy:
            for b in self._buttons:
                b.disabled = model is None

    def _set_busy(self, busy: bool, label: str = "") -> None:
        super()._set_busy(busy, label)
        if not busy and self.state.model is None:  # the model went away while the work ran
            for b in self._buttons:
                b.disabled = True
