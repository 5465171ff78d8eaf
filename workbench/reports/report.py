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

from workbench.monitoring.checks import Check, checks_table_html
from workbench.reports.results import result_from_dict, result_to_entry

RESULTS_FILE = "results.json"
KINDS = ("drift", "bias", "performance")


@dataclass
class Report:
    """The results of one report run and what is needed to render them."""

    kind: str
    results: list
    params: dict = field(default_factory=dict)
    period: str | None = None
    lineage: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    checks_config: dict = field(default_factory=dict)

    # -- asking it things -----------------------------------------------------
    def checks(self, config: Mapping | None = None) -> list[Check]:
        config = self.checks_config if config is None else config
        out: list[Check] = []
        for r in self.results:
            out += [c for c in r.checks(config) if c is not None]
        return out

    def findings(self) -> list[str]:
        out = list(self.notes)
        for r in self.results:
            out += list(r.findings())
        return out

    def headline(self, checks: Sequence[Check] | None = None) -> str:
        checks = self.checks() if checks is None else checks
        failed = [c for c in checks if not c.passed and c.severity == "error"]
        warned = [c for c in checks if not c.passed and c.severity != "error"]
        what = {"drift": "Data drift and quality", "bias": "Fairness", "performance": "Model performance"}[self.kind]
        period = f" for {self.period}" if self.period else ""
        if failed:
            names = ", ".join(c.name for c in failed[:3]) + (f" and {len(failed) - 3} more" if len(failed) > 3 else "")
            return f"{what}{period}: {len(failed)} of {len(checks)} checks failed ({names})."
        if warned:
            return f"{what}{period}: all gating checks passed; {len(warned)} warning(s) to read."
        return f"{what}{period}: all {len(checks)} checks passed."

    def metrics(self) -> dict:
        """Key figures for the ledger and the trend charts (flat, JSON-safe)."""
        out: dict[str, Any] = {}
        for r in self.results:
            km = getattr(r, "key_metrics", None)
            km = km() if callable(km) else km
            if not isinstance(km, Mapping):
                km = r.to_dict().get("key_metrics")
            if isinstance(km, Mapping):
                out.update({k: v for k, v in km.items() if k != "period"})
        for c in self.checks():
            if c.value is not None:
                out.setdefault(c.name, c.value)
        return out

    def result(self, kind: str):
        for r in self.results:
            if getattr(r, "kind", None) == kind:
                return r
        return None

    # -- faces ------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"kind": self.kind, "results": [result_to_entry(r) for r in self.results], "params": self.params,
                "period": self.period, "lineage": self.lineage, "notes": self.notes,
                "checks_config": self.checks_config}

    @classmethod
    def from_dict(cls, d: Mapping) -> Report:
        return cls(d["kind"], [result_from_dict(e) for e in d.get("results", [])], dict(d.get("params") or {}),
                   d.get("period"), dict(d.get("lineage") or {}), list(d.get("notes") or []),
                   dict(d.get("checks_config") or {}))

    def summary_html(self) -> str:
        checks = self.checks()
        failed = any(not c.passed and c.severity == "error" for c in checks)
        color = "#cf222e" if failed else "#1a7f37"
        items = "".join(f"<li>{html.escape(f)}</li>" for f in self.findings()[:12])
        return (f"<div class='wb-summary' style='border-left:6px solid {color};padding:8px 14px;margin:6px 0;"
                f"font-family:system-ui,sans-serif'><div class='wb-headline' style='font-size:17px;font-weight:600'>"
                f"{html.escape(self.headline(checks))}</div><ul style='margin:6px 0'>{items}</ul></div>")

    def checks_html(self) -> str:
        return checks_table_html(self.checks())

    def figures(self) -> list[tuple[str, Any]]:
        out = []
        for r in self.results:
            for name, fig in r.figures().items():
                out.append((f"{getattr(r, 'kind', '')}.{name}", fig))
        return out

    def display(self) -> None:
        """Show the report in a notebook: summary, check table, then each result with its charts."""
        from IPython.display import HTML, display

        display(HTML(self.summary_html()))
        display(HTML("<h3>Checks</h3>" + self.checks_html()))
        for r in self.results:
            display(HTML(r._repr_html_()))
            for fig in r.figures().values():
                fig.show()

    def _repr_html_(self) -> str:
        return self.summary_html() + self.checks_html()

    def to_html(self, title: str | None = None) -> str:
        """A static, self-contained page: no code, plotly.js inlined once, charts work offline."""
        from plotly.offline import get_plotlyjs

        title = title or f"workbench {self.kind} report" + (f" — {self.period}" if self.period else "")
        parts = [self.summary_html(), "<h2>Checks</h2>", self.checks_html()]
        for r in self.results:
            parts.append(r._repr_html_())
            for name, fig in r.figures().items():
                parts.append(f"<div class='wb-figure' data-name='{html.escape(name)}'>"
                             + fig.to_html(full_html=False, include_plotlyjs=False) + "</div>")
        lineage = html.escape(json.dumps(self.lineage, indent=1, default=str))
        parts.append(f"<details><summary>Lineage</summary><pre>{lineage}</pre></details>")
        return (
            "<!DOCTYPE html><html><head><meta charset='utf-8'>"
            f"<title>{html.escape(title)}</title><script type='text/javascript'>{get_plotlyjs()}</script>"
            "<style>body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1100px;margin:20px auto;"
            "padding:0 16px;color:#1f2328} table{font-size:13px} h1{font-size:22px}</style></head><body>"
            f"<h1>{html.escape(title)}</h1>" + "".join(parts) + "</body></html>"
        )


def load_or_compute(kind: str, params: Mapping[str, Any], run_dir: str | Path = ".") -> Report:
    """Render stored results when `run_dir` has them; else compute, store and return them.

    This is what the report notebooks call: a run executed by papermill
    computes and stores; the same notebook opened later (Voila, JupyterLab)
    finds ``results.json`` and renders without touching data or models.
    """
    path = Path(run_dir) / RESULTS_FILE
    if path.is_file():
        return Report.from_dict(json.loads(path.read_text())["report"])
    from workbench.reports.compute import compute_report  # heavy: only when computing

    report = compute_report(kind, params)
    store_results(report, run_dir)
    return report


def store_results(report: Report, run_dir: str | Path) -> Path:
    import sys

    path = Path(run_dir) / RESULTS_FILE
    payload = {"report": report.to_dict(),
               "kernel": {"python": sys.executable, "version": sys.version.split()[0], "pid": os.getpid()}}
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, default=_json_default))
    os.replace(tmp, path)
    return path


def _json_default(o: Any) -> Any:
    import numpy as np

    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)
