"""MonitorPanel: check a production batch (drift, data quality, bias) here, or run it as a report."""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any

import ipywidgets as w

from workbench.errors import DataError, WorkbenchError
from workbench.report_kinds import MONITORING_KINDS
from workbench.widgets._base import ChartSlot, Panel
from workbench.widgets._state import AppState


class MonitorPanel(Panel):
    """Monitoring for the current model: a batch against the training rows (the reference).

    Batches are simulated from the held-out rows (:func:`workbench.simulate_batches`:
    clean ones and ones with injected drift, quality faults and bias shifts,
    each with its manifest), read from a file, or one date of a prediction log
    (the records callers sent that day). "Check batch" runs drift,
    data quality and bias in this kernel; "Run as report" runs the papermill
    report (:func:`workbench.run_report`) in the background and links its
    static HTML when done.
    """

    title = "Monitor"

    def __init__(self, state: AppState | None = None, **kwargs: Any):
        super().__init__(state, **kwargs)
        self.batch_size = w.BoundedIntText(
            value=2000, min=50, max=1_000_000, step=500, description="Batch rows"
        )
        self.simulate_button = self._button("Simulate batches", self.simulate)
        self.batch = w.Dropdown(options=[], description="Batch")
        self.batch.observe(self._guarded(self._on_batch), "value")
        self.path = w.Text(placeholder="or a CSV/Parquet batch file", description="File")
        # a prediction log folder: its dates become batches (what callers got that day, no shadow rows)
        self.log_dir = w.Text(
            placeholder="or a prediction log folder", description="Log", continuous_update=False
        )
        self.log_date = w.Dropdown(options=[], description="Log date")
        self.log_dir.observe(self._guarded(self._on_log_dir), "value")
        self.check_button = self._button("Check batch", self.check, style="primary")
        self.kind = w.Dropdown(options=list(MONITORING_KINDS), value="drift", description="Report")
        self.reports_dir = w.Text(value="reports", description="Reports dir")
        self.report_button = self._button("Run as report", self.run_as_report)
        self.manifest = w.HTML()
        self.cards = w.HTML()
        self.drift_chart = ChartSlot()
        self.bias_chart = ChartSlot()
        self.link = w.HTML()
        self.batches: dict = {}
        self.results: dict = {}
        self.outcome = None  # the last report run (workbench.reports.runner.RunOutcome)
        self._compose(
            w.HBox([self.batch_size, self.simulate_button]),
            w.HBox([self.batch, self.path]),
            w.HBox([self.log_dir, self.log_date]),
            self.manifest,
            self.check_button,
            w.HBox([self.kind, self.reports_dir, self.report_button]),
            self.link,
            self.cards,
            self.drift_chart,
            self.bias_chart,
            intro="Compare a production batch with the training data: drift, data quality and fairness.",
        )
        self.state.observe(self._guarded(self._on_data), ["data", "validation", "spec"])

    # -- batches --------------------------------------------------------------------------------
    def simulate(self) -> None:
        """Simulate production batches from the held-out rows (the "Simulate batches" button)."""
        from workbench.data.simulate import simulate_batches

        st = self.state
        holdout = st.validation if st.validation is not None else st.data
        if holdout is None or st.spec is None:
            raise DataError("load a dataset in the Data panel first")
        spec, size = st.spec, int(self.batch_size.value)

        def done(batches) -> None:
            self.batches = {b.name: b for b in batches}
            self.batch.options = list(self.batches)
            self.banner.info(f"{len(batches)} batches of {size:,} rows simulated from the held-out rows.")

        self.run(
            "Simulating batches",
            lambda: simulate_batches(holdout, spec, batch_size=size, random_state=st.random_state),
            done,
        )

    def current(self):
        """The batch to check: a typed file, else the chosen date of the log, else the simulated batch."""
        from workbench.data.io import load_table

        path = self.path.value.strip()
        if path:
            return load_table(path, what="batch"), Path(path).name
        log = self.log_dir.value.strip()
        if log:
            from workbench.serving.log_table import read_log

            if self.log_date.value is None:
                raise DataError(f"'{log}' holds no prediction log dates; check the log folder")
            return read_log(Path(log) / f"date={self.log_date.value}"), f"log-{self.log_date.value}"
        if self.batch.value is None:
            raise DataError("simulate batches or type the path of a batch file first")
        return self.batches[self.batch.value].data, self.batch.value

    def _on_batch(self, change: dict) -> None:
        b = self.batches.get(change["new"])
        if b is None:
            self.manifest.value = ""
            return
        m = b.manifest
        what = (
            "; ".join(f"{c['kind']} {_params(c.get('params', {}))}" for c in m["changes"])
            or "nothing (clean)"
        )
        self.manifest.value = (
            f"<div style='color:#57606a'>{html.escape(b.name)} ({m['period']}, {m['rows']:,} rows): "
            f"injected {html.escape(what)}</div>"
        )

    def _on_log_dir(self, change: dict) -> None:
        """List the log's dates, newest first (the latest day is the batch a monitor usually checks)."""
        from workbench.serving.log_table import log_dates

        log = str(change["new"] or "").strip()
        dates = log_dates(log)[::-1] if log else []
        self.log_date.options = dates
        self.log_date.value = dates[0] if dates else None
        if log and not dates:
            raise DataError(
                f"'{log}' is not a prediction log folder (no date=YYYY-MM-DD folders of segments)"
            )

    def _on_data(self, change: dict) -> None:
        self.batches, self.results = {}, {}
        self.batch.options = []
        self.cards.value = self.link.value = ""
        self.drift_chart.clear()
        self.bias_chart.clear()

    # -- in this kernel ---------------------------------------------------------------------------
    def check(self) -> None:
        """Drift and data quality against the training rows, and bias when the model allows.

        What the "Check batch" button does.
        """
        from workbench.monitoring.bias import assess_bias
        from workbench.monitoring.drift import detect_drift
        from workbench.monitoring.quality import check_quality

        st = self.state
        if st.data is None or st.spec is None:
            raise DataError("load a dataset in the Data panel first")
        current, name = self.current()
        model = st.model
        spec = model.spec if model is not None else st.spec
        reference = st.data

        def work():
            out = {
                "drift": detect_drift(reference, current, spec, model=model),
                "quality": check_quality(reference, current, spec),
            }
            if model is not None and model.task == "binary" and spec.sensitive:
                out["bias"] = assess_bias(current, spec, model=model)
            return out

        def done(results) -> None:
            self.results = results
            self.cards.value = "".join(r._repr_html_() for r in results.values())
            self.drift_chart.show(results["drift"].figure())
            if "bias" in results:
                self.bias_chart.show(results["bias"].figure())
            else:
                self.bias_chart.clear()
            checks = [c for r in results.values() for c in r.checks() if c is not None]
            failed = [c.name for c in checks if c.status == "FAIL"]
            warned = [c.name for c in checks if c.status == "warn"]
            self.banner.info(
                f"{name}: {len(failed)} check{'s' if len(failed) != 1 else ''} failed"
                + (f" ({', '.join(failed[:4])}{', ...' if len(failed) > 4 else ''})" if failed else "")
                + (f"; {len(warned)} warning{'s' if len(warned) != 1 else ''}" if warned else "")
                + "."
            )

        self.run(f"Checking {name}", work, done)

    # -- as a report ---------------------------------------------------------------------------------
    def run_as_report(self) -> None:
        """Run the chosen report on the batch with papermill, in the background.

        What the "Run as report" button does.
        """
        from workbench.modeling.artifact import save_model
        from workbench.reports.runner import run_report

        st = self.state
        if st.model is None:
            raise WorkbenchError("a report needs a model: train or load one first")
        if st.data is None:
            raise DataError("load a dataset in the Data panel first")
        current, name = self.current()
        kind, reports_dir = self.kind.value, Path(self.reports_dir.value.strip() or "reports")
        model, model_path, reference = st.model, st.model_path, st.data

        def work():
            # a report reads files: the inputs are kept beside the runs so a run's parameters stay valid
            inputs = reports_dir / "inputs"
            inputs.mkdir(parents=True, exist_ok=True)
            ref_path = inputs / f"reference-{_safe(Path(st.dataset or 'data').stem)}.parquet"
            reference.to_parquet(ref_path, index=False)
            cur_path = inputs / f"{_safe(name)}.parquet"
            current.to_parquet(cur_path, index=False)
            path = model_path
            if path is None:
                path = str(save_model(model, inputs / f"{_safe(model.name)}.wbm", overwrite=True))
            params = {
                "drift": {"reference": str(ref_path), "current": str(cur_path), "model": path},
                "bias": {"data": str(cur_path), "model": path, "reference": str(ref_path)},
                "performance": {"data": str(cur_path), "model": path, "reference": str(ref_path)},
            }[kind]
            return run_report(kind, params, reports_dir=reports_dir, name=_safe(name), progress=False)

        def done(outcome) -> None:
            self.outcome = outcome
            report = Path(outcome.run_dir) / "report.html"
            href = _href(report)
            status = outcome.summary.get("status", "")
            self.link.value = (
                f"<div>{html.escape(kind.capitalize())} report on {html.escape(name)} ({status}): "
                f"<a href='{html.escape(href)}' target='_blank'>{html.escape(str(report))}</a></div>"
            )
            headline = outcome.summary.get("headline") or f"The {kind} report finished."
            (self.banner.error if outcome.exit_code == 3 else self.banner.info)(headline)

        self.run(f"Running the {kind} report on {name}", work, done)


def _href(path: Path) -> str:
    """A link relative to the kernel's folder when possible (JupyterLab opens those in a tab)."""
    try:
        return os.path.relpath(path.resolve(), Path.cwd())
    except ValueError:  # another drive (Windows)
        return path.resolve().as_uri()


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in str(name)) or "batch"


def _params(params: dict) -> str:
    shown = {k: v for k, v in params.items() if isinstance(v, str | int | float) and k != "seed"}
    return "(" + ", ".join(f"{k}={v}" for k, v in list(shown.items())[:3]) + ")" if shown else ""
