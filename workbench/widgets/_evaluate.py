"""EvaluatePanel: metrics, a live threshold slider, calibration and the weakest slices."""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from workbench import _html
from workbench.errors import ParameterError
from workbench.widgets._base import ChartSlot, Panel
from workbench.widgets._state import AppState

_SLICES_SHOWN = 12
CHART_WIDTH, CHART_HEIGHT = 430, 400  # pixels of the confusion matrix and calibration charts


class EvaluatePanel(Panel):
    """Evaluate ``state.model`` on the held-out rows; sets ``state.evaluation``.

    It evaluates again whenever the model changes.
    The threshold slider moves the decision threshold of a binary model: the
    confusion matrix and the business cost follow at once through
    :meth:`~workbench.modeling.evaluate.EvaluationResult.at_threshold` (two
    binary searches over sorted scores; nothing is predicted again).
    """

    title = "Evaluate"

    def __init__(self, state: AppState | None = None, **kwargs: Any):
        super().__init__(state, **kwargs)
        self.use_cost = w.Checkbox(value=False, description="Business cost")
        self.cost_fn = w.BoundedFloatText(value=1.0, min=0, max=1e9, description="Cost FN")
        self.cost_fp = w.BoundedFloatText(value=1.0, min=0, max=1e9, description="Cost FP")
        self.latency = w.Checkbox(value=False, description="Measure latency")
        self.evaluate_button = self._button("Evaluate", self.evaluate, style="primary")
        self.metrics = w.HTML()
        self.threshold = w.FloatSlider(
            value=0.5,
            min=0.0,
            max=1.0,
            step=0.005,
            continuous_update=True,
            readout_format=".3f",
            description="Threshold",
            layout=w.Layout(width="480px"),
        )
        self.threshold.observe(self._guarded(self._on_threshold), "value")
        self.at_threshold = w.HTML()
        # side by side in a panel ~900 px wide (a narrower one wraps them): fixed sizes, margins that hold
        # the axis titles and tick labels, the calibration legend under its plot instead of beside it
        self.confusion = ChartSlot(
            width=CHART_WIDTH, height=CHART_HEIGHT, margin=dict(l=90, r=20, t=60, b=70)
        )
        self.calibration = ChartSlot(
            width=CHART_WIDTH,
            height=CHART_HEIGHT,
            margin=dict(l=70, r=20, t=60, b=100),
            legend=dict(orientation="h", x=0, y=-0.28, xanchor="left", yanchor="top"),
        )
        self.slices = w.HTML()
        self.current: dict | None = None  # the last at_threshold() answer shown
        self._quiet = False
        for widget in (self.use_cost, self.cost_fn, self.cost_fp):
            widget.observe(self._guarded(self._on_cost), "value")
        self._compose(
            w.HBox([self.use_cost, self.cost_fn, self.cost_fp]),
            w.HBox([self.latency, self.evaluate_button]),
            self.metrics,
            self.threshold,
            self.at_threshold,
            w.HBox(
                [self.confusion, self.calibration], layout=w.Layout(flex_flow="row wrap", overflow="visible")
            ),
            self.slices,
            intro="Metrics on held-out rows; drag the threshold to see the errors and the cost move.",
        )
        self.state.observe(self._guarded(self._on_model), ["model", "validation"])
        self.state.observe(self._guarded(self._on_evaluation), "evaluation")
        self._on_evaluation({"new": self.state.evaluation})

    # -- actions ------------------------------------------------------------------------------
    def evaluate(self) -> None:
        """Evaluate the current model (the Evaluate button; also run when the model changes)."""
        from workbench.modeling.evaluate import evaluate

        st = self.state
        model, data = self._model_and_data(held_out=True)
        where = "the held-out data" if st.validation is not None else "the training data"
        cost, latency = self.cost(), self.latency.value
        if cost is not None and model.task != "binary":
            raise ParameterError("a business cost only applies to binary classifiers")

        def work():
            return evaluate(model, data, cost=cost, latency=latency, where=where)

        def done(result) -> None:
            if st.model is model:  # a newer model may have arrived meanwhile
                st.evaluation = result

        self.run(f"Evaluating {getattr(model, 'name', 'the model')} on {len(data):,} rows", work, done)

    def cost(self) -> dict | None:
        """The cost matrix the panel's fields give, or None when costs are off."""
        return (
            {"fn": float(self.cost_fn.value), "fp": float(self.cost_fp.value)}
            if self.use_cost.value
            else None
        )

    def set_cost(self, cost: dict | None) -> None:
        """Fill the cost inputs (e.g. with the cost a notebook evaluated with) without evaluating again."""
        self._quiet = True
        try:
            self.use_cost.value = cost is not None
            if cost is not None:
                self.cost_fn.value, self.cost_fp.value = (
                    float(cost.get("fn", 1.0)),
                    float(cost.get("fp", 1.0)),
                )
        finally:
            self._quiet = False

    # -- reacting --------------------------------------------------------------------------------
    def _on_model(self, change: dict) -> None:
        self.state.evaluation = None
        if self.state.model is not None and (
            self.state.validation is not None or self.state.data is not None
        ):
            self.evaluate()

    def _on_cost(self, change: dict) -> None:
        unused = change["owner"] is not self.use_cost and not self.use_cost.value
        if not (self._quiet or unused) and self.state.evaluation is not None and self.state.model is not None:
            self.evaluate()

    def _on_evaluation(self, change: dict) -> None:
        ev = change["new"]
        self.current = None
        if ev is None:
            self.metrics.value = self.at_threshold.value = self.slices.value = ""
            self.confusion.clear()
            self.calibration.clear()
            self.threshold.layout.display = "none"
            return
        from workbench import viz

        self.metrics.value = ev.metrics_html()  # the result's own cards, as in a notebook
        binary = ev.task == "binary"
        self.threshold.layout.display = None if binary else "none"
        if ev.confusion is not None:
            self.confusion.show(viz.confusion_figure(ev.confusion, ev.labels))
        else:
            self.confusion.clear()
        figs = ev.figures()
        self.calibration.show(
            figs.get("calibration") or figs.get("predicted_vs_actual") or figs.get("confusion")
        )
        self.slices.value = ev.slices_html(_SLICES_SHOWN)
        if binary:
            if abs(self.threshold.value - ev.threshold) > 1e-12:
                self.threshold.value = ev.threshold  # its observer redraws the matrix
            else:
                self._show_threshold(ev.threshold)
        else:
            self.at_threshold.value = ""

    def _on_threshold(self, change: dict) -> None:
        if self.state.evaluation is not None and self.state.evaluation.task == "binary":
            self._show_threshold(change["new"])

    def _show_threshold(self, t: float) -> None:
        """Confusion matrix and cost at threshold `t`, from the evaluation's sorted scores (no prediction)."""
        ev = self.state.evaluation
        r = ev.at_threshold(t)
        self.current = r
        matrix = [[r["tn"], r["fp"]], [r["fn"], r["tp"]]]
        fig = self.confusion.figure
        if fig is not None:
            # only the numbers change: updating the drawn heatmap in place takes ~1 ms, where building
            # the figure again (viz.confusion_figure) takes ~60 ms, too slow for a slider being dragged
            total = sum(map(sum, matrix)) or 1
            with fig.batch_update():
                fig.data[0].z = matrix
                fig.data[0].text = [[f"{v:,}<br>({v / total:.1%})" for v in row] for row in matrix]
                fig.layout.title.text = f"Confusion matrix at threshold {t:.3f}"
        shown = {
            "threshold": t,
            "precision": r["precision"],
            "recall": r["recall"],
            "accuracy": r["accuracy"],
            "selection rate": r["selection_rate"],
        }
        if "cost" in r:
            shown["cost"] = r["cost"]
        self.at_threshold.value = _html.kv(shown)
