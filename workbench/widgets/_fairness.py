"""FairnessPanel: mitigate the current model's unfairness with fairlearn; see the frontier; use a model."""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from workbench import _html
from workbench.errors import DataError, WorkbenchError
from workbench.widgets._base import ChartSlot, Panel
from workbench.widgets._state import AppState

_CONSTRAINTS = ("equalized_odds", "demographic_parity", "true_positive_rate_parity")
_COLUMNS = ("name", "stage", "accuracy", "roc_auc", "disparity", "ci", "cut", "accuracy_cost")


class FairnessPanel(Panel):
    """Run :func:`workbench.fairness.mitigate` on ``state.model``; "Use this model" sets ``state.model``.

    The methods learn from ``state.data`` and every model is judged on
    ``state.validation``. With a path in "Save to" the chosen model is saved
    there. Models that need the sensitive column at prediction time are marked.
    """

    title = "Fairness"

    def __init__(self, state: AppState | None = None, **kwargs: Any):
        super().__init__(state, **kwargs)
        self.result = None
        self.sensitive = w.Dropdown(options=[], description="Sensitive")
        self.constraint = w.Dropdown(
            options=list(_CONSTRAINTS), value="equalized_odds", description="Constraint"
        )
        self.max_disparity = w.BoundedFloatText(
            value=0.05, min=0.0, max=1.0, step=0.01, description="Budget", tooltip="the largest disparity"
        )
        self.quick = w.Checkbox(value=False, description="Quick (fewer iterations)")
        self.out = w.Text(
            value="", placeholder="file to save the chosen model (optional)", description="Save to"
        )
        self.run_button = self._button("Mitigate", self.run_mitigation, style="primary")
        self.findings = w.HTML()
        self.chart = ChartSlot()
        self.table = w.HTML()
        self.choice = w.Dropdown(options=[], description="Model")
        self.use_button = self._button("Use this model", self.use_model)
        self._compose(
            w.HBox([self.sensitive, self.constraint, self.max_disparity]),
            w.HBox([self.quick, self.out]),
            self.run_button,
            self.findings,
            self.chart,
            self.table,
            w.HBox([self.choice, self.use_button]),
            intro="Reduce the current model's unfairness with fairlearn (pre-, in- and post-processing); "
            "every model judged on the held-out rows; the most accurate within the budget chosen.",
        )
        self.state.observe(self._guarded(self._on_spec), "spec")
        self._on_spec({"new": self.state.spec})

    def run_mitigation(self) -> None:
        """Mitigate the current model (the "Mitigate" button)."""
        from workbench.fairness import mitigate

        st = self.state
        model, data = self._model_and_data()
        if not self.sensitive.value:
            raise DataError("the data has no sensitive column; mark one in the Data panel")
        validation = st.validation
        options = dict(
            sensitive=self.sensitive.value,
            constraint=self.constraint.value,
            max_disparity=float(self.max_disparity.value),
            out=self.out.value.strip() or None,
            overwrite=True,
            quick=self.quick.value,
            random_state=st.random_state,
        )

        def work():
            return mitigate(model, data, validation=validation, progress=True, **options)

        def done(result) -> None:
            self.show(result)
            self.banner.info(result.findings()[0])

        self.run(f"Mitigating {getattr(model, 'name', 'the model')}", work, done)

    def use_model(self) -> None:
        """Make the chosen row's model the current model (the "Use this model" button)."""
        if self.result is None or self.choice.value is None:
            raise WorkbenchError("run a mitigation first")
        name = self.choice.value
        model = self.result.model(name)
        path = self.result.saved_path if name == self.result.chosen else None
        with self.state.hold_trait_notifications():
            self.state.model_path = path
            self.state.model = model
        needs = (
            " It needs the sensitive column at prediction time."
            if self.result[name].sensitive_at_prediction
            else ""
        )
        self.banner.info(
            f"Now using '{name}'" + (f" (saved at {path})." if path else " (not saved).") + needs
        )

    def show(self, result) -> None:
        """Display a :class:`~workbench.fairness.MitigationResult` (the findings, frontier and table)."""
        self.result = result
        self.findings.value = _html.card(
            f"Mitigation of {result.model_name} by '{result.sensitive}'",
            "<ul style='margin:4px 0 4px 18px;padding:0'>"
            + "".join(f"<li>{_html.esc(s)}</li>" for s in result.findings())
            + "</ul>",
            f"{result.constraint}; budget {result.disparity} <= {result.max_disparity:g}",
        )
        self.chart.show(result.figures()["frontier"])
        self.table.value = _html.table(result.rows(), _COLUMNS, highlight="chosen")
        self.choice.options = [c.name for c in result.candidates if c.name != "original"]
        if result.chosen in self.choice.options:
            self.choice.value = result.chosen

    def _on_spec(self, change: dict) -> None:
        spec = change["new"]
        options = list(getattr(spec, "sensitive", None) or [])
        self.sensitive.options = options
        if options:
            self.sensitive.value = options[0]
