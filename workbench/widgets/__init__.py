"""Interactive panels (ipywidgets) for each stage of the loop, and the Workbench app that joins them.

Panels only gather input, call the package and display its result objects;
they share an :class:`AppState`, so what one sets the others pick up::

    from workbench.widgets import Workbench
    Workbench()          # in JupyterLab: Data, Train, Compress, Explain, Evaluate, Monitor

Each panel also works alone (``TrainPanel(state)``), and the templated
notebooks show them pre-filled with the results they computed headless.
"""

from workbench.widgets._app import Workbench
from workbench.widgets._base import Banner, ChartSlot, Panel
from workbench.widgets._compress import CompressPanel
from workbench.widgets._data import DataPanel
from workbench.widgets._evaluate import EvaluatePanel
from workbench.widgets._explain import ExplainPanel
from workbench.widgets._monitor import MonitorPanel
from workbench.widgets._notebooks import ensure_model, save_explanations, save_json
from workbench.widgets._state import AppState, holdout_split, load_state
from workbench.widgets._train import TrainPanel

__all__ = [
    "AppState", "Banner", "ChartSlot", "CompressPanel", "DataPanel", "EvaluatePanel", "ExplainPanel",
    "MonitorPanel", "Panel", "TrainPanel", "Workbench", "ensure_model", "holdout_split", "load_state",
    "save_explanations", "save_json",
]
