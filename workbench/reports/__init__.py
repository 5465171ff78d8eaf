"""Report runs: papermill runner, run store (a run is a directory), ledger, rendering."""

from workbench.reports.ledger import Ledger
from workbench.reports.report import Report, load_or_compute
from workbench.reports.store import RunStore

__all__ = ["Ledger", "Report", "RunStore", "load_or_compute", "run_report"]


def __getattr__(name: str):
    if name == "run_report":  # papermill is imported only when a run is executed
        from workbench.reports.runner import run_report

        return run_report
    raise AttributeError(name)
