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
from workbench.reports.report import (
    HTML_FILE,
    KERNEL_PRELUDE,
    RESULTS_FILE,
    Report,
    block_iri_grammar,
    report_title,
    summary_of,
)
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
    pm = _papermill()
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
            _with_prelude(nb_template), str(run.work_dir / "report.ipynb"), parameters=nb_params, kernel_name="python3",
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
        stored_report = payload["report"]
        report = None
        if payload.get("summary") and stored_report.get("checks_config") == _jsonable(config):
            # the kernel summarised the run under these checks: no result objects to rebuild here
            check_list = [Check.from_dict(c) for c in payload["summary"]["checks"]]
            summary.update({**payload["summary"], "results": stored_report["results"]})
        else:  # a template that stored only the report, or other checks: judge them here
            report = Report.from_dict(stored_report)
            check_list = report.checks(config)
            summary.update(summary_of(report, check_list))
        summary["lineage"] = {**stored_report.get("lineage", {}), "kernel": payload.get("kernel", {}),
                              "runner": {"python": sys.executable}}
        if not (run.work_dir / HTML_FILE).is_file():  # the kernel writes it where it draws the figures
            report = report or Report.from_dict(stored_report)
            report.write_html(run.work_dir / HTML_FILE, title=report_title(kind, name, report.period))
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


def _jsonable(config: Mapping) -> Any:
    """`config` as it reads back from results.json (the kernel stored it as JSON)."""
    return json.loads(json.dumps(dict(config), default=str))


def _papermill():
    """papermill, imported without the IRI grammar jsonschema would compile (~3 s; see ``prepare_kernel``)."""
    import sys

    if "papermill" in sys.modules:
        return sys.modules["papermill"]
    blocked = block_iri_grammar()
    try:
        import papermill
    finally:  # only jsonschema's optional checker is skipped; a later explicit import still works
        if blocked and sys.modules.get("rfc3987_syntax", 0) is None:
            del sys.modules["rfc3987_syntax"]
    return papermill


def _with_prelude(path: Path):
    """The template with :data:`KERNEL_PRELUDE` as its first cell (tagged, its input hidden)."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    cell = nbformat.v4.new_code_cell(KERNEL_PRELUDE)
    cell.metadata["tags"] = ["workbench-prelude"]
    cell.metadata["jupyter"] = {"source_hidden": True}
    nb.cells.insert(0, cell)
    return nb


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
