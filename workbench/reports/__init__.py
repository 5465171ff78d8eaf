"""Report runs: papermill runner, run store (a run is a directory), ledger, rendering.

Names are imported on first use: papermill only when a run is executed.
"""

from workbench._lazy import lazy_exports

_EXPORTS = {
    "Ledger": "workbench.reports.ledger",
    "Report": "workbench.reports.report",
    "load_or_compute": "workbench.reports.report",
    "RunStore": "workbench.reports.store",
    "run_report": "workbench.reports.runner",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
