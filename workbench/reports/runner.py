"""The runner: execute a report template with papermill into a run directory, then index it.

papermill runs the template in the project's own kernel (``python3`` as seen
by this interpreter: ipykernel's spec points at ``sys.executable``); the
kernel's interpreter is recorded in the run. The result is a run directory
(see :mod:`workbench.reports.store`) and a ledger row; the exit code says
whether a check that the caller gates on failed.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.checks import Check, failed_checks, load_checks_file
from workbench.errors import ParameterError
from workbench.exit_codes import EXIT_CHECK_FAILED, EXIT_FAILED, EXIT_OK
from workbench.report_kinds import REPORT_KINDS
from workbench.reports.report import (
    HTML_FILE,
    KERNEL_PRELUDE,
    RESULTS_FILE,
    Report,
    block_iri_grammar,
    report_title,
    store_results,
    summary_of,
)
from workbench.reports.store import RunStore
from workbench.templates import template as template_path

#: report kind -> its notebook template (see :mod:`workbench.report_kinds`)
TEMPLATES = {name: k.template for name, k in REPORT_KINDS.items()}


#: where a report kernel's own stderr goes (in the run's folder; removed when empty)
KERNEL_LOG = "kernel.log"


def _ipc_kernel_manager():
    import contextlib
    import shutil
    import tempfile

    from jupyter_client.manager import AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):
        """Report kernels talk over Unix sockets in a private folder: nothing listens on TCP.

        Each manager removes its own folder when its kernel's resources are
        cleaned up, so runs in one process (a panel's background runs) never
        remove each other's sockets. A kernel that finished its notebook is
        shut down without the SIGINT jupyter_client sends first (it would
        print "KeyboardInterrupt caught in kernel" for an idle kernel).
        """

        def __init__(self, **kwargs):
            kwargs.setdefault("transport", "ipc")
            self._ipc_folder = tempfile.mkdtemp(prefix="wb-kernel-")
            kwargs.setdefault("ip", str(Path(self._ipc_folder) / "kernel"))
            super().__init__(**kwargs)

        async def _async_launch_kernel(self, kernel_cmd, **kw) -> None:
            # The kernel's own stderr goes to kernel.log in the run's folder, not the user's terminal:
            # under load ipykernel can print a traceback from a race in its own shutdown (its control
            # thread flushing stderr after the IOPub pipe closed), which says nothing about the report.
            # An empty log is removed at cleanup; a non-empty one stays with the run, for diagnosis.
            self._stderr_path = Path(kw.get("cwd") or self._ipc_folder) / KERNEL_LOG
            self._stderr_file = open(self._stderr_path, "ab")  # closed at cleanup
            kw.setdefault("stderr", self._stderr_file)
            await super()._async_launch_kernel(kernel_cmd, **kw)

        async def _async_interrupt_kernel(self) -> None:
            if self.shutting_down:  # jupyter_client interrupts before every shutdown; ours are idle
                return
            await super()._async_interrupt_kernel()

        async def _async_cleanup_resources(self, restart: bool = False) -> None:
            await super()._async_cleanup_resources(restart=restart)
            if not restart:
                stderr = getattr(self, "_stderr_file", None)
                if stderr is not None:
                    stderr.close()
                    with contextlib.suppress(OSError):
                        if self._stderr_path.stat().st_size == 0:
                            self._stderr_path.unlink()
                shutil.rmtree(self._ipc_folder, ignore_errors=True)

    return IPCKernelManager


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
        """Names of the run's failed checks (warnings included)."""
        return [c["name"] for c in self.summary.get("checks", []) if not c["passed"]]


#: parameters that name a file: made absolute before the kernel starts in its run's folder
PATH_PARAMS = ("reference", "current", "data", "model", "labels", "champion", "challenger", "log")
#: parameters that name a model (a path or a models:/ URI)
MODEL_PARAMS = ("model", "champion", "challenger")


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
    results: Report | None = None,
) -> RunOutcome:
    """Run a report end to end: validate inputs, execute the notebook, write the run, index it.

    Bad input raises a :class:`~workbench.errors.WorkbenchError` before any run
    is created: inputs, the checks, ``fail_on`` (a name or pattern that matches
    no check would switch a gate off), the reports folder and the JUnit path.
    Relative paths are resolved against the caller's folder here, once, since
    the report kernel starts in its run's own folder. A run that starts is
    always recorded: completed, checks failed, or failed with its reason (also
    when it is interrupted); earlier runs are never touched.

    `results`: a report computed already (a promotion's comparison): stored in
    the run before the template executes, so the notebook renders it instead
    of computing it again; the run is otherwise like any other (``validate``
    is then usually False: the inputs were read when it was computed).
    """
    if kind not in TEMPLATES and template is None:
        raise ParameterError(f"unknown report kind '{kind}'; use one of {', '.join(TEMPLATES)}")
    params = resolve_params(params)
    config = load_checks_file(checks) if isinstance(checks, str | Path) else dict(checks or {})
    check_writable_dir(reports_dir, "the reports folder")
    if junit:
        check_junit_path(junit)
    if validate:
        from workbench.reports.compute import validate_inputs

        validate_inputs(kind, params)
        _validate_gates(kind, params, config, fail_on)
    pm = _papermill()
    nb_template = Path(template) if template else template_path(TEMPLATES[kind])
    store = RunStore(reports_dir)
    run = store.start(kind, name=name, params=params, period=params.get("period"))
    t0 = time.perf_counter()
    try:
        if results is not None:  # the template finds them and renders, without computing
            store_results(results, run.work_dir)
        summary, check_list, error = _execute(pm, run, kind, nb_template, params, config, name, progress, t0)
    except Exception as exc:  # the runner itself broke after the run started: still a recorded run
        error = _reason(exc)
        summary, check_list = _failed_summary(kind, params, config, nb_template, t0, error), []
    except BaseException as exc:  # Ctrl-C, SIGTERM, a cancelled task: record the run, then stop
        run.finish(
            _failed_summary(
                kind, params, config, nb_template, t0, f"the run was interrupted ({type(exc).__name__})"
            )
        )
        raise
    final = run.finish(summary)
    summary = json.loads((final / "summary.json").read_text())
    if junit:
        write_junit(
            check_list,
            junit,
            kind=kind,
            run_dir=final,
            error=error,
            gated=[c.name for c in failed_checks(check_list, fail_on)],
        )
    if error is not None:
        code = EXIT_FAILED
    elif failed_checks(check_list, fail_on):
        code = EXIT_CHECK_FAILED
    else:
        code = EXIT_OK
    return RunOutcome(final, summary, code)


def resolve_params(params: Mapping[str, Any]) -> dict:
    """`params` with every file path made absolute against the current folder (URIs left as they are)."""
    out = {}
    for k, v in params.items():
        if isinstance(v, Path):
            v = str(v)
        if k in PATH_PARAMS and isinstance(v, str) and v.strip() and not _is_uri(v):
            v = str(Path(v).expanduser().resolve())
        out[k] = v
    if any(_is_model_uri(out.get(k)) for k in MODEL_PARAMS):
        out["registry"] = _pinned_registry(out.get("registry"))
    return out


def _is_model_uri(value) -> bool:
    return isinstance(value, str) and value.strip().startswith("models:/")


def _pinned_registry(registry):
    """The registry of a ``models:/`` model as the kernel (started in its run's folder) must see it.

    An embedded store is pinned as its absolute ``sqlite:///`` URI (no
    credentials in it); a server's URI stays as the caller gave it, or is left
    to the environment the kernel inherits (never copied from it into the
    run's params, where a password would be written down).
    """
    from workbench.registry.location import registry_location

    location = registry_location(registry)
    return location.uri if location.is_local else registry


def _is_uri(text: str) -> bool:
    import re

    return text.startswith("models:/") or re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", text) is not None


def _execute(
    pm, run, kind, nb_template, params, config, name, progress, t0
) -> tuple[dict, list[Check], str | None]:
    """Execute the template into the run's folder and summarise it; (summary, checks, error or None)."""
    nb_params = {**params, "checks": config, "run_dir": ".", "name": name}
    error = None
    try:
        pm.execute_notebook(
            _with_prelude(nb_template),
            str(run.work_dir / "report.ipynb"),
            parameters=nb_params,
            kernel_name="python3",
            cwd=str(run.work_dir.resolve()),
            progress_bar=progress,
            log_output=False,
            report_mode=True,
            kernel_manager_class="workbench.reports.runner.IPCKernelManager",
        )
    except pm.PapermillExecutionError as exc:
        error = f"{exc.ename}: {exc.evalue}".strip()
    except Exception as exc:  # the kernel died, the template is broken, ...
        error = _reason(exc)
    stored = run.work_dir / RESULTS_FILE
    if error is None and not stored.is_file():
        error = f"the template finished without storing its results ({RESULTS_FILE})"
    if error is not None:
        return _failed_summary(kind, params, config, nb_template, t0, error), [], error
    summary: dict[str, Any] = {
        "params": params,
        "checks_config": config,
        "duration_s": round(time.perf_counter() - t0, 3),
        "template": str(nb_template),
    }
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
    summary["lineage"] = {
        **stored_report.get("lineage", {}),
        "kernel": payload.get("kernel", {}),
        "runner": {"python": sys.executable},
    }
    if not (run.work_dir / HTML_FILE).is_file():  # the kernel writes it where it draws the figures
        report = report or Report.from_dict(stored_report)
        report.write_html(run.work_dir / HTML_FILE, title=report_title(kind, name, report.period))
    summary["status"] = (
        "checks_failed" if any(not c.passed and c.severity == "error" for c in check_list) else "passed"
    )
    return summary, check_list, None


def _failed_summary(kind, params, config, nb_template, t0, error: str) -> dict:
    return {
        "params": params,
        "checks_config": config,
        "duration_s": round(time.perf_counter() - t0, 3),
        "template": str(nb_template),
        "status": "failed",
        "error": error,
        "checks": [],
        "headline": f"The {kind} report run failed: {error}",
        "findings": [],
        "metrics": {},
        "lineage": {"runner": {"python": sys.executable}},
    }


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}".strip().rstrip(":")


def _validate_gates(kind: str, params: Mapping[str, Any], config: Mapping, fail_on) -> None:
    """A ``fail_on`` pattern or checks key that matches no check is bad input (it would switch a gate off)."""
    from workbench.checks import validate_config_keys, validate_patterns
    from workbench.reports.compute import peek_table

    columns: list[str] = []
    for key in ("reference", "current", "data"):
        if params.get(key) and not _is_uri(str(params[key])):
            columns += [c for c in peek_table(params[key], key)[0] if c not in columns]
    attributes = list(params.get("sensitive") or [])  # other attributes (intersections) match by shape
    validate_patterns(fail_on, kind=kind, columns=columns, attributes=attributes)
    validate_config_keys(config, kind=kind, columns=columns, attributes=attributes, source="the checks set a")


def check_writable_dir(path: str | Path, what: str) -> Path:
    """Refuse a folder that is a file, or that cannot be created or written (before anything is written)."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise ParameterError(f"{what} '{path}' is a file, not a folder")
    probe = p
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        raise ParameterError(f"{what} '{path}' cannot be created: '{probe}' is a file")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ParameterError(f"{what} '{path}' is not writable")
    return p


def check_junit_path(path: str | Path) -> Path:
    """Refuse a JUnit destination that is a folder, not writable, or another kind of file it would replace."""
    p = Path(path)
    if p.is_dir():
        raise ParameterError(f"the JUnit file '{path}' is a folder; name a file such as checks.xml")
    if p.exists():
        try:
            head = p.read_bytes()[:4096].decode("utf-8", "replace")
        except OSError:
            raise ParameterError(f"the JUnit file '{path}' cannot be read") from None
        if head.strip() and "<testsuite" not in head:
            raise ParameterError(f"'{path}' exists and is not a JUnit file; choose another --junit path")
        if not os.access(p, os.W_OK):
            raise ParameterError(f"the JUnit file '{path}' is not writable")
    else:
        check_writable_dir(p.parent if str(p.parent) else ".", "the JUnit file's folder")
    return p


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


def write_junit(
    checks: Sequence[Check],
    path: str | Path,
    *,
    kind: str,
    run_dir: Path,
    error: str | None = None,
    gated: Sequence[str] = (),
) -> Path:
    """The checks as JUnit XML, one test case per check (CI systems show failures natively).

    A failed error check is a failure; so is a warning the run gates on (named by
    ``--fail-on``), so that the XML agrees with the exit code. Other warnings are
    written as output of their test case.
    """
    from xml.sax.saxutils import escape, quoteattr

    failing = [c.status == "FAIL" or (not c.passed and c.name in gated) for c in checks]
    failures = sum(failing)
    cases = []
    for c, fails in zip(checks, failing, strict=True):
        body = ""
        if fails:
            body = (
                f"<failure message={quoteattr(c.message)} type={quoteattr(c.severity)}>"
                f"{escape(f'{c.name}: {c.outcome_text()}; run: {run_dir}')}</failure>"
            )
        elif c.status == "warn":  # read it, it does not gate: not a failure
            text = f"warning: {c.name}: {c.outcome_text()}: {c.message}; run: {run_dir}"
            body = f"<system-out>{escape(text)}</system-out>"
        cases.append(
            f"<testcase classname={quoteattr('workbench.' + kind)} name={quoteattr(c.name)}>{body}</testcase>"
        )
    if error:
        cases.append(
            f"<testcase classname={quoteattr('workbench.' + kind)} name='run'>"
            f"<error message={quoteattr(error)}/></testcase>"
        )
    xml = (
        "<?xml version='1.0' encoding='utf-8'?>\n"
        f"<testsuite name={quoteattr('workbench ' + kind + ' report')} "
        f"tests='{len(cases)}' failures='{failures}' errors='{1 if error else 0}'>"
        + "".join(cases)
        + "</testsuite>\n"
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(xml)
    return path
