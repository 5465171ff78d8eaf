"""Workbench: the eight panels as one app on one shared state."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w

from workbench.widgets._compress import CompressPanel
from workbench.widgets._data import DataPanel
from workbench.widgets._evaluate import EvaluatePanel
from workbench.widgets._explain import ExplainPanel
from workbench.widgets._fairness import FairnessPanel
from workbench.widgets._monitor import MonitorPanel
from workbench.widgets._release import ReleasePanel
from workbench.widgets._state import AppState, load_state
from workbench.widgets._train import TrainPanel


class Workbench(w.VBox):
    """Data, Train, Compress, Explain, Evaluate, Monitor, Fairness and Release as tabs over one
    :class:`AppState`.

    ``Workbench()`` loads the bundled Adult data (``dataset=None`` starts
    empty); nothing else runs until a button is pressed. What one tab sets
    (a trained champion, a chosen variant) the others pick up; the header
    always says which data and model are current.

    Examples
    --------
    >>> from workbench.widgets import Workbench   # doctest: +SKIP
    >>> app = Workbench()                          # doctest: +SKIP
    >>> app                                        # doctest: +SKIP
    """

    def __init__(self, state: AppState | None = None, *, dataset: str | None = "adult", **kwargs: Any):
        super().__init__(**kwargs)
        self.state = state if state is not None else AppState()
        if dataset and self.state.data is None:
            load_state(dataset, random_state=self.state.random_state, state=self.state)
        self.data = DataPanel(self.state)
        self.train = TrainPanel(self.state)
        self.compress = CompressPanel(self.state)
        self.explain = ExplainPanel(self.state)
        self.evaluate = EvaluatePanel(self.state)
        self.monitor = MonitorPanel(self.state)
        self.fairness = FairnessPanel(self.state)
        self.release = ReleasePanel(self.state)
        self.tabs = w.Tab(children=self.panels, titles=[p.title for p in self.panels])
        self.header = w.HTML()
        self.state.observe(
            lambda _change: self._show_header(), ["data", "spec", "dataset", "model", "model_path"]
        )
        self._show_header()
        self.children = (self.header, self.tabs)

    @property
    def panels(self) -> list:
        """The eight panels, in tab order."""
        return [
            self.data,
            self.train,
            self.compress,
            self.explain,
            self.evaluate,
            self.monitor,
            self.fairness,
            self.release,
        ]

    def wait(self, timeout: float | None = None) -> None:
        """Block until every panel's running work is done."""
        for p in self.panels:
            p.wait(timeout)

    def _show_header(self) -> None:
        self.header.value = (
            "<div style='font-family:system-ui,sans-serif;padding:6px 0'><b>workbench</b> — "
            f"{html.escape(self.state.describe())}</div>"
        )
