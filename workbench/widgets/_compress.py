"""CompressPanel: a compression study of the current model within an accuracy budget; pick a variant."""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from workbench import _html
from workbench.errors import WorkbenchError
from workbench.widgets._base import ChartSlot, Panel
from workbench.widgets._state import AppState

_COLUMNS = (
    "loss",
    "size_bytes",
    "latency_p50_us",
    "throughput_rows_s",
    "parity_max_abs_diff",
    "accepted",
    "reason",
)


class CompressPanel(Panel):
    """Run :func:`workbench.compress` on ``state.model``; sets ``state.study``, and ``state.model`` on a pick.

    The study is judged on ``state.validation`` (retrained variants learn
    from ``state.data``). With an output folder every variant is saved there
    and a picked variant's file becomes ``state.model_path``.
    """

    title = "Compress"

    def __init__(self, state: AppState | None = None, **kwargs: Any):
        super().__init__(state, **kwargs)
        from workbench.compression._techniques import TECHNIQUES

        self.max_loss = w.BoundedFloatText(
            value=0.005,
            min=0.0,
            max=1.0,
            step=0.001,
            description="Max loss",
            tooltip="how much the metric (ROC AUC for classifiers) may drop",
        )
        self.quick = w.Checkbox(value=False, description="Quick (noisier timings)")
        self.techniques = w.SelectMultiple(
            options=list(TECHNIQUES),
            value=tuple(TECHNIQUES),
            description="Techniques",
            rows=min(7, len(TECHNIQUES)),
        )
        self.out = w.Text(
            value="", placeholder="folder to save every variant (optional)", description="Save to"
        )
        self.run_button = self._button("Run study", self.run_study, style="primary")
        self.findings = w.HTML()
        self.table = w.HTML()
        self.chart = ChartSlot()
        self.variant = w.Dropdown(options=[], description="Variant")
        self.use_button = self._button("Use this variant", self.use_variant)
        self.table_rows: list[dict] = []
        self._compose(
            w.HBox([self.max_loss, self.quick]),
            w.HBox([self.techniques, self.out]),
            self.run_button,
            self.findings,
            self.chart,
            self.table,
            w.HBox([self.variant, self.use_button]),
            intro="Smaller, faster variants of the current model, judged on held-out rows within a budget.",
        )
        self.state.observe(self._guarded(self._on_study), "study")
        self._on_study({"new": self.state.study})

    def run_study(self) -> None:
        """Run the study on the current model (the "Run study" button)."""
        from workbench.compression._study import compress

        st = self.state
        model, data = self._model_and_data()
        validation = st.validation
        options = dict(
            max_loss=float(self.max_loss.value),
            techniques=list(self.techniques.value) or None,
            out=self.out.value.strip() or None,
            quick=self.quick.value,
            random_state=st.random_state,
        )

        def work():
            return compress(model, data, validation=validation, progress=True, **options)

        def done(study) -> None:
            st.study = study
            self.banner.info(study.findings()[0])

        self.run(f"Compressing {getattr(model, 'name', 'the model')}", work, done)

    def use_variant(self) -> None:
        """Make the chosen variant the current model (the "Use this variant" button)."""
        study, name = self.state.study, self.variant.value
        if study is None or name is None:
            raise WorkbenchError("run a compression study first")
        model = study.model(name)
        path = study[name].path
        with self.state.hold_trait_notifications():
            self.state.model_path = path
            self.state.model = model
        self.banner.info(f"Now using '{name}'" + (f" (saved at {path})." if path else " (not saved)."))

    def _on_study(self, change: dict) -> None:
        study = change["new"]
        if study is None:
            self.findings.value = self.table.value = ""
            self.table_rows = []
            self.chart.clear()
            self.variant.options = []
            return
        self.findings.value = _html.card(
            f"Compression of {study.model_name}",
            "<ul style='margin:4px 0 4px 18px;padding:0'>"
            + "".join(f"<li>{_html.esc(s)}</li>" for s in study.findings())
            + "</ul>",
            f"{study.metric} on {study.holdout.get('rows', 0):,} held-out rows; budget {study.max_loss:g}",
        )
        self.table_rows = [
            {
                "variant": v.name,
                study.metric: v.score,
                **{c: getattr(v, c) for c in _COLUMNS},
                "chosen": v.name == study.chosen,
            }
            for v in study.variants
        ]
        self.table.value = _html.table(
            self.table_rows, ["variant", study.metric, *_COLUMNS], highlight="chosen"
        )
        self.chart.show(study.figure())
        usable = [v.name for v in study.variants if v.accepted and not v.parity_failed]
        self.variant.options = usable
        if study.chosen in usable:
            self.variant.value = study.chosen
