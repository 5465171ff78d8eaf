"""A monitoring report: a composition of result objects, rendered the same way everywhere.

:class:`Report` holds the results of one run (drift + quality + performance,
or bias, or performance), the parameters and lineage. It renders itself as a
notebook (summary, check table, cards and charts), as static HTML with
plotly.js inlined (charts work offline), and as the dict stored in
``results.json``. It never computes: :func:`compute_report` does, and
:func:`load_or_compute` renders stored results when a run directory has them.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench._atomic import write_text_atomic
from workbench._json import json_default
from workbench.checks import Check, checks_shown_above, checks_table_html
from workbench.report_kinds import REPORT_KINDS
from workbench.results import STORE_SCHEMA, AnalysisResult, result_from_entry, result_to_entry

RESULTS_FILE = "results.json"
HTML_FILE = "report.html"
#: The first cell the runner adds to a report notebook (hidden in report mode).
KERNEL_PRELUDE = "from workbench.reports.report import prepare_kernel\nprepare_kernel()"
#: The plotly trace types workbench's figures draw (workbench/viz).


@dataclass
class Report:
    """The results of one report run and what is needed to render them.

    Every result satisfies :class:`workbench.results.AnalysisResult`: the report
    asks each for its checks, findings, key metrics, figures and card alike.
    """

    kind: str
    results: list[AnalysisResult]
    params: dict = field(default_factory=dict)
    period: str | None = None
    lineage: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    checks_config: dict = field(default_factory=dict)
    _figures: list | None = field(default=None, init=False, repr=False, compare=False)

    # -- asking it things -----------------------------------------------------
    def checks(self, config: Mapping | None = None) -> list[Check]:
        """Every result's checks under `config` (default: the run's own check settings)."""
        config = self.checks_config if config is None else config
        out: list[Check] = []
        for r in self.results:
            out += [c for c in r.checks(config) if c is not None]
        return out

    def findings(self) -> list[str]:
        """The report's notes, then each result's findings under the run's check settings."""
        out = list(self.notes)
        for r in self.results:  # under the run's check settings, where a result's findings depend on them
            out += list(r.findings(self.checks_config))
        return out

    def headline(self, checks: Sequence[Check] | None = None) -> str:
        """One sentence: how many checks failed (naming the first three), or that all passed."""
        checks = self.checks() if checks is None else checks
        failed = [c for c in checks if not c.passed and c.severity == "error"]
        warned = [c for c in checks if not c.passed and c.severity != "error"]
        what = REPORT_KINDS[self.kind].title
        period = f" for {self.period}" if self.period else ""
        if failed:
            names = ", ".join(c.name for c in failed[:3]) + (
                f" and {len(failed) - 3} more" if len(failed) > 3 else ""
            )
            return f"{what}{period}: {len(failed)} of {len(checks)} checks failed ({names})."
        if warned:
            return f"{what}{period}: all gating checks passed; {len(warned)} warning(s) to read."
        return f"{what}{period}: all {len(checks)} checks passed."

    def metrics(self) -> dict:
        """Key figures for the ledger and the trend charts (flat, JSON-safe)."""
        out: dict[str, Any] = {}
        for r in self.results:
            out.update(r.key_metrics())
        for c in self.checks():
            if c.value is not None:
                out.setdefault(c.name, c.value)
        return out

    def result(self, kind: str):
        """The result of kind `kind` (``"drift"``, ``"bias"``...), or None when the run has none."""
        for r in self.results:
            if r.kind == kind:
                return r
        return None

    # -- faces ------------------------------------------------------------------
    def to_dict(self) -> dict:
        """What ``results.json`` stores: each result as ``{"kind", "schema", "data"}``, params, lineage."""
        return {
            "kind": self.kind,
            "results": [result_to_entry(r) for r in self.results],
            "params": self.params,
            "period": self.period,
            "lineage": self.lineage,
            "notes": self.notes,
            "checks_config": self.checks_config,
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> Report:
        """Rebuild from :meth:`to_dict`'s output (older result schemas are upgraded), without recomputing."""
        return cls(
            d["kind"],
            [result_from_entry(e) for e in d.get("results", [])],
            dict(d.get("params") or {}),
            d.get("period"),
            dict(d.get("lineage") or {}),
            list(d.get("notes") or []),
            dict(d.get("checks_config") or {}),
        )

    def summary_html(self) -> str:
        """The headline and the first findings, bordered by the worst check state."""
        checks = self.checks()
        states = {c.status for c in checks}
        color = "#cf222e" if "FAIL" in states else "#9a6700" if "warn" in states else "#1a7f37"
        items = "".join(f"<li>{html.escape(f)}</li>" for f in self.findings()[:12])
        return (
            f"<div class='wb-summary' style='border-left:6px solid {color};padding:8px 14px;margin:6px 0;"
            "font-family:system-ui,sans-serif'>"
            "<div class='wb-headline' style='font-size:17px;font-weight:600'>"
            f"{html.escape(self.headline(checks))}</div><ul style='margin:6px 0'>{items}</ul></div>"
        )

    def checks_html(self) -> str:
        """The check table of :meth:`checks`."""
        return checks_table_html(self.checks())

    def figures(self) -> list[tuple[str, Any]]:
        """``[("<kind>.<name>", plotly Figure)]`` of every result, in display order."""
        out = []
        for r, figs in self._result_figures():
            for name, fig in figs.items():
                out.append((f"{r.kind}.{name}", fig))
        return out

    def _result_figures(self) -> list[tuple[Any, dict]]:
        # Built once: a run shows them in the notebook and writes them into the static HTML.
        if self._figures is None:
            self._figures = [(r, r.figures()) for r in self.results]
        return self._figures

    def display(self) -> None:
        """Show the report in a notebook: summary, check table, then each result with its charts."""
        from IPython.display import HTML, display

        from workbench.viz._display import display_figure

        display(HTML(self.summary_html()))
        display(HTML("<h3>Checks</h3>" + self.checks_html()))
        for r, figs in self._result_figures():
            with checks_shown_above():  # the check table above holds every check: a card does not repeat it
                display(HTML(r._repr_html_(self.checks_config)))
            for fig in figs.values():
                display_figure(
                    fig
                )  # what fig.show() publishes in JupyterLab/papermill/Voila, minus its imports

    def _repr_html_(self) -> str:
        return self.summary_html() + self.checks_html()

    def to_html(self, title: str | None = None) -> str:
        """A static, self-contained page: no code, plotly.js inlined once, charts work offline."""
        from plotly.offline import get_plotlyjs

        title = title or f"workbench {self.kind} report" + (f" — {self.period}" if self.period else "")
        parts = [self.summary_html(), "<h2>Checks</h2>", self.checks_html()]
        from workbench.viz._empty import no_data_html

        for r, figs in self._result_figures():
            with checks_shown_above():
                parts.append(r._repr_html_(self.checks_config))
            for name, fig in figs.items():
                sentence = no_data_html(fig)  # a chart with nothing to draw: its sentence, not an empty axis
                if sentence is not None:
                    parts.append(
                        f"<div class='wb-figure' data-name='{html.escape(name)}' data-no-data='1'>"
                        f"{sentence}</div>"
                    )
                    continue
                parts.append(
                    f"<div class='wb-figure' data-name='{html.escape(name)}'>"
                    + fig.to_html(full_html=False, include_plotlyjs=False)
                    + "</div>"
                )
        lineage = html.escape(json.dumps(self.lineage, indent=1, default=str))
        parts.append(f"<details><summary>Lineage</summary><pre>{lineage}</pre></details>")
        return (
            "<!DOCTYPE html><html><head><meta charset='utf-8'>"
            f"<title>{html.escape(title)}</title><script type='text/javascript'>{get_plotlyjs()}</script>"
            "<style>body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1100px;"
            "margin:20px auto;"
            "padding:0 16px;color:#1f2328} table{font-size:13px} h1{font-size:22px}</style></head><body>"
            f"<h1>{html.escape(title)}</h1>" + "".join(parts) + "</body></html>"
        )

    def write_html(self, path: str | Path, title: str | None = None) -> Path:
        """Write :meth:`to_html` to `path` atomically (a reader never sees half a page)."""
        path = Path(path)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(self.to_html(title=title))
        os.replace(tmp, path)
        return path


def report_title(kind: str, name: str | None = None, period: str | None = None) -> str:
    """The title of a run's page: ``Drift report — nightly — 2026-11-28``."""
    bits = [f"{kind.capitalize()} report"]
    if name:
        bits.append(name)
    if period:
        bits.append(period)
    return " — ".join(bits)


def load_or_compute(
    kind: str, params: Mapping[str, Any], run_dir: str | Path = ".", *, name: str | None = None
) -> Report:
    """Render stored results when `run_dir` has them; else compute, store and return them.

    This is what the report notebooks call: a run executed by papermill
    computes and stores ``results.json`` and the static ``report.html`` (titled
    with `name`); the same notebook opened later (Voila, JupyterLab) finds
    ``results.json`` and renders without touching data or models.
    """
    path = Path(run_dir) / RESULTS_FILE
    if path.is_file():
        return Report.from_dict(json.loads(path.read_text())["report"])
    from workbench.reports.compute import compute_report  # heavy: only when computing

    with _profiled("compute"):
        report = compute_report(kind, params)
        store_results(report, run_dir)
    with _profiled("html"):  # here, where the figures are built anyway for the notebook
        report.write_html(Path(run_dir) / HTML_FILE, title=report_title(kind, name, report.period))
    return report


def prepare_kernel() -> None:
    """Make a report kernel start fast (the runner runs this first, in a hidden cell).

    Anything that imports nbformat (plotly.io's renderers, if a user's cell
    asks for them) imports jsonschema, which registers an IRI format checker
    by importing ``rfc3987_syntax``, which compiles a grammar at import time:
    about 3 s, for a check a report never makes. Blocking that optional import
    makes jsonschema skip the checker. (Figures need no more: they are built
    with a slim template, :func:`workbench.viz._template.slim_template`, and
    published without the renderers, :mod:`workbench.viz._display`. The
    dashboards' kernels run this too.)
    """
    block_iri_grammar()


def block_iri_grammar() -> bool:
    """Keep jsonschema from importing ``rfc3987_syntax`` (see :func:`prepare_kernel`).

    True if it now will not.
    """
    import sys

    if "jsonschema" in sys.modules:
        return False
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[assignment]
    return sys.modules["rfc3987_syntax"] is None


#: ``$WORKBENCH_REPORT_PROFILE`` names a folder: each report kernel writes its phases' timings
#: and a cProfile dump there (``<pid>-<phase>.prof``, ``<pid>-timings.json``), to find where a
#: run's time goes.
PROFILE_ENV = "WORKBENCH_REPORT_PROFILE"


class _profiled:
    """Time (and cProfile) a phase of a report kernel when ``$WORKBENCH_REPORT_PROFILE`` is set."""

    def __init__(self, phase: str):
        self.phase, self.folder = phase, os.environ.get(PROFILE_ENV)

    def __enter__(self):
        if self.folder:
            import cProfile
            import time

            self.prof, self.t0, self.age = cProfile.Profile(), time.perf_counter(), _process_age()
            self.prof.enable()
        return self

    def __exit__(self, *exc):
        if not self.folder:
            return False
        import time

        self.prof.disable()
        folder = Path(self.folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.prof.dump_stats(folder / f"{os.getpid()}-{self.phase}.prof")
        timings = folder / f"{os.getpid()}-timings.json"
        data = json.loads(timings.read_text()) if timings.is_file() else {"kernel_age_at_start_s": self.age}
        data[self.phase] = round(time.perf_counter() - self.t0, 3)
        timings.write_text(json.dumps(data))
        return False


def _process_age() -> float | None:
    """Seconds since this process started (Linux), i.e. the kernel's start-up and imports so far."""
    try:
        start_ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return round(uptime - start_ticks / os.sysconf("SC_CLK_TCK"), 3)
    except (OSError, ValueError, IndexError):
        return None


def summary_of(report: Report, checks: Sequence[Check] | None = None) -> dict:
    """What summary.json says about a run's results (the runner adds status, lineage and run fields).

    The main result's fields sit at the top (drift: dataset_drift, drift_share,
    columns; bias: groups, disparities; ...), for schedulers that read one key.
    """
    checks = report.checks() if checks is None else list(checks)
    results = report.to_dict()["results"]
    main = results[0]["data"] if results else {}
    top = {k: v for k, v in main.items() if k not in ("kind", "status", "checks", "params", "period")}
    return {
        **top,
        "period": report.period,
        "headline": report.headline(checks),
        "findings": report.findings(),
        "checks": [c.to_dict() for c in checks],
        "metrics": report.metrics(),
        "results": results,
    }


def store_results(report: Report, run_dir: str | Path) -> Path:
    """Write ``results.json``: the report, the kernel that computed it, and its summary.

    The summary is computed here, in the kernel that has the result objects
    at hand, so the runner files a run without importing the analyses (and
    their pandas/numpy) again; the results are stored once, under "report".
    """
    import sys

    path = Path(run_dir) / RESULTS_FILE
    summary = summary_of(report)
    summary.pop("results")
    payload = {
        "schema": STORE_SCHEMA,
        "report": report.to_dict(),
        "summary": summary,
        "kernel": {"python": sys.executable, "version": sys.version.split()[0], "pid": os.getpid()},
    }
    return write_text_atomic(path, json.dumps(payload, default=json_default))
