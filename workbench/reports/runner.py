"""The runner: execute a report template with papermill into a run directory, then index it.

papermill runs the template in the project's own kernel (``python3`` as seen
by this interpreter: ipykernel's spec points at ``sys.executable``); the
kernel's interpreter is recorded in the run. The result is a run directory
(see :mod:`workbench.reports.store`) and a ledger row; the exit code says
whether a check that the caller gates on failed.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.monitoring.checks import Check, failed_checks, load_checks_file
from workbench.reports.report import RESULTS_FILE, Report
from workbench.reports.store import RunStore
from workbench.templates import template as template_path

EXIT_OK, EXIT_CHECK_FAILED, EXIT_FAILED = 0, 1, 3
TEMPLATES = {"drift": "monitoring/drift_report.ipynb", "bias": "monitoring/bias_report.ipynb",
             "performance": "monitoring/performance_report.ipynb"}


def _ipc_kernel_manager():
    import tempfile

    from jupyter_client.manager import AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):
        """Report kernels talk over Unix sockets in a private folder: nothing listens on TCP."""

        def __init__(self, **kwargs):
            kwargs.setdefault("transport", "ipc")
            folder = tempfile.mkdtemp(prefix="wb-kernel-")
            _IPC_DIRS.append(folder)
            kwargs.setdefault("ip", str(Path(folder) / "kernel"))
            super().__init__(**kwargs)

    return IPCKernelManager


_IPC_DIRS: list[str] = []


def _cleanup_ipc_dirs() -> None:
    import shutil

    while _IPC_DIRS:
        shutil.rmtree(_IPC_DIRS.pop(), ignore_errors=True)


def __getattr__(name: str):
    if name == "IPCKernelManager":  # built lazily: jupyter_client is only needed to run reports
        cls = _ipc_kernel_manager()
        globals()[name] = cls
        return cls
    raise AttributeError(name)


@dataclass(frozen=True)
class RunOutcome:
    """What a report run produced: where, its summary, and the exit code a scheduler acts on."""

    run_dir: Path
    summary: dict
    exit_code: int

    @property
    def failed(self) -> list[str]:
        return [c["name"] for c in self.summary.get("checks", []) if not c["passed"]]


def run_report(
    kind: str,
    params: Mapping[str, Any],
    *,
    reports_dir: str | Path = "reports",
    name: str | None = None,
    checks: Mapping | str | Path | None = None,
    fail_on: Sequence[str] | str | None = None,
    template: str | Path | None = None,
    junit: str | Path | None = None,
    progress: bool = True,
    validate: bool = True,
) -> RunOutcome:
    """Run a report end to end: validate inputs, execute the notebook, write the run, index it.

    Bad input raises a :class:`~workbench.errors.WorkbenchError` before any run
    is created. A template that fails mid-run is recorded as a failed run
    (exit code 3) with its error; earlier runs are never touched.
    """
    import papermill as pm

    from workbench.reports.compute import validate_inputs

    config = load_checks_file(checks) if isinstance(checks, str | Path) else dict(checks or {})
    params = {k: (str(v) if isinstance(v, Path) else v) for k, v in params.items()}
    if validate:
        validate_inputs(kind, params)
    nb_template = Path(template) if template else template_path(TEMPLATES[kind])
    store = RunStore(reports_dir)
    run = store.start(kind, name=name, params=params, period=params.get("period"))
    t0 = time.perf_counter()
    nb_params = {**params, "checks": config, "run_dir": ".", "name": name}
    error = None
    try:
        pm.execute_notebook(
            str(nb_template), str(run.work_dir / "report.ipynb"), parameters=nb_params, kernel_name="python3",
            cwd=str(run.work_dir), progress_bar=progress, log_output=False, report_mode=True,
            kernel_manager_class="workbench.reports.runner.IPCKernelManager",
        )
    except pm.PapermillExecutionError as exc:
        error = f"{exc.ename}: {exc.evalue}".strip()
    except Exception as exc:  # the kernel died, the template is broken, ...
        error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
    elapsed = time.perf_counter() - t0
    _cleanup_ipc_dirs()

    summary: dict[str, Any] = {"params": params, "checks_config": config, "duration_s": round(elapsed, 3),
                               "template": str(nb_template)}
    stored = run.work_dir / RESULTS_FILE
    if error is None and not stored.is_file():
        error = f"the template finished without storing its results ({RESULTS_FILE})"
    if error is None:
        payload = json.loads(stored.read_text())
        report = Report.from_dict(payload["report"])
        check_list = report.checks(config)
        summary.update(_summary_of(report, check_list))
        summary["lineage"] = {**report.lineage, "kernel": payload.get("kernel", {}),
                              "runner": {"python": sys.executable}}
        (run.work_dir / "report.html").write_text(report.to_html(title=_title(kind, name, report.period)))
        summary["status"] = "checks_failed" if any(not c.passed and c.severity == "error" for c in check_list) \
            else "passed"
    else:
        summary.update(status="failed", error=error, checks=[], headline=f"The {kind} report run failed: {error}",
                       findings=[], metrics={})
        summary["lineage"] = {"runner": {"python": sys.executable}}
        check_list = []
    final = run.finish(summary)
    summary = json.loads((final / "summary.json").read_text())
    if junit:
        write_junit(check_list, junit, kind=kind, run_dir=final, error=error)
    if error is not None:
        code = EXIT_FAILED
    elif failed_checks(check_list, fail_on):
        code = EXIT_CHECK_FAILED
    else:
        code = EXIT_OK
    return RunOutcome(final, summary, code)


def _summary_of(report: Report, checks: list[Check]) -> dict:
    # The main result's fields sit at the top of summary.json (drift: dataset_drift, drift_share,
    # columns; bias: groups, disparities; ...), for schedulers that read one key.
    main = report.results[0].to_dict() if report.results else {}
    top = {k: v for k, v in main.items() if k not in ("kind", "status", "checks", "params", "period")}
    return {
        **top,
        "period": report.period,
        "headline": report.headline(checks),
        "findings": report.findings(),
        "checks": [c.to_dict() for c in checks],
        "metrics": report.metrics(),
        "results": report.to_dict()["results"],
    }


def _title(kind: str, name: str | None, period: str | None) -> str:
    bits = [f"{kind.capitalize()} report"]
    if name:
        bits.append(name)
    if period:
        bits.append(period)
    return " — ".join(bits)


def write_junit(checks: Sequence[Check], path: str | Path, *, kind: str, run_dir: Path,
                error: str | None = None) -> Path:
    """The checks as JUnit XML, one test case per check (CI systems show failures natively)."""
    from xml.sax.saxutils import escape, quoteattr

    failures = sum(1 for c in checks if not c.passed)
    cases = []
    for c in checks:
        body = ""
        if not c.passed:
            body = (f"<failure message={quoteattr(c.message)} type={quoteattr(c.severity)}>"
                    f"{escape(f'{c.value} {c.op} {c.threshold} is false; run: {run_dir}')}</failure>")
        cases.append(f"<testcase classname={quoteattr('workbench.' + kind)} name={quoteattr(c.name)}>{body}</testcase>")
    if error:
        cases.append(f"<testcase classname={quoteattr('workbench.' + kind)} name='run'>"
                     f"<error message={quoteattr(error)}/></testcase>")
    xml = (f"<?xml version='1.0' encoding='utf-8'?>\n<testsuite name={quoteattr('workbench ' + kind + ' report')} "
           f"tests='{len(cases)}' failures='{failures}' errors='{1 if error else 0}'>" + "".join(cases)
           + "</testsuite>\n")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(xml)
    return path
