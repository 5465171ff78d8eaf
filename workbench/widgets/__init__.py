"""Interactive panels (ipywidgets) for each stage of the loop, and the Workbench app that joins them.

Panels only gather input, call the package and display its result objects;
they share an :class:`AppState`, so what one sets the others pick up::

    from workbench.widgets import Workbench
    Workbench()          # in JupyterLab: Data, Train, Compress, Explain, Evaluate, Monitor, Release

Each panel also works alone (``TrainPanel(state)``), and the templated
notebooks show them pre-filled with the results they computed headless.
Names are imported on first use.
"""

from workbench._lazy import lazy_exports

_EXPORTS = {
    "Workbench": "workbench.widgets._app",
    "Banner": "workbench.widgets._base",
    "ChartSlot": "workbench.widgets._base",
    "Panel": "workbench.widgets._base",
    "CompressPanel": "workbench.widgets._compress",
    "DataPanel": "workbench.widgets._data",
    "EvaluatePanel": "workbench.widgets._evaluate",
    "ExplainPanel": "workbench.widgets._explain",
    "FairnessPanel": "workbench.widgets._fairness",
    "MonitorPanel": "workbench.widgets._monitor",
    "ReleasePanel": "workbench.widgets._release",
    "ensure_model": "workbench.widgets._notebooks",
    "save_explanations": "workbench.widgets._notebooks",
    "save_json": "workbench.widgets._notebooks",
    "AppState": "workbench.widgets._state",
    "holdout_split": "workbench.widgets._state",
    "load_state": "workbench.widgets._state",
    "TrainPanel": "workbench.widgets._train",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
