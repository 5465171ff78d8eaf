"""The state the panels share, and how a table becomes that state (demo split or a seeded holdout)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import traitlets

from workbench.errors import DataError, ParameterError

#: Share of a user's table held out for validation when it has no split of its own.
HOLDOUT_SIZE = 0.2


def in_live_kernel() -> bool:
    """True inside a Jupyter kernel (long work then runs in a thread so the UI stays responsive)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipywidgets
        return False
    ip = get_ipython()
    return ip is not None and getattr(ip, "kernel", None) is not None


class AppState(traitlets.HasTraits):
    """What the panels share: the data, its roles, the current model and its results.

    Panels observe these traits, so what one panel sets flows to the others
    (train a model in :class:`TrainPanel`, and :class:`EvaluatePanel`
    evaluates it). Set them from code too: ``state.selected_row = 123``.

    ``run_in_thread`` decides whether long work runs in a background thread
    (default: yes inside a live kernel, so the UI stays responsive; no
    elsewhere, e.g. in tests, where a click returns when the work is done).
    """

    data = traitlets.Any(None, allow_none=True, help="training DataFrame")
    validation = traitlets.Any(None, allow_none=True, help="held-out DataFrame (or None)")
    spec = traitlets.Any(None, allow_none=True, help="DatasetSpec of `data`")
    dataset = traitlets.Unicode("", help="name of the data: a bundled demo or a file path")
    train_result = traitlets.Any(None, allow_none=True, help="TrainingResult of the last training")
    model = traitlets.Any(None, allow_none=True, help="the current model (champion, chosen or loaded)")
    model_path = traitlets.Unicode(None, allow_none=True, help="where the current model is saved")
    evaluation = traitlets.Any(None, allow_none=True, help="EvaluationResult of the current model")
    selected_row = traitlets.Any(None, allow_none=True, help="index label of the row to explain")
    study = traitlets.Any(None, allow_none=True, help="CompressionResult of the last study")
    random_state = traitlets.Int(0)
    run_in_thread = traitlets.Bool()

    @traitlets.default("run_in_thread")
    def _default_run_in_thread(self) -> bool:
        return in_live_kernel()

    def describe(self) -> str:
        """One line: the data and the model (what the Workbench header shows)."""
        if self.data is None or self.spec is None:
            return "No data loaded yet."
        val = f", {len(self.validation):,} held out" if self.validation is not None else ""
        text = f"Data: {self.dataset or 'a table'} ({len(self.data):,} rows{val}; target: {self.spec.target})"
        if self.model is not None:
            where = f", saved at {self.model_path}" if self.model_path else ", not saved"
            text += f". Model: {getattr(self.model, 'name', 'model')}{where}"
        else:
            text += ". No model yet"
        return text + "."


def load_state(
    dataset: str | None = "adult",
    *,
    data_path: str | None = None,
    target: str | None = None,
    sensitive: Iterable[str] = (),
    positive: Any = None,
    max_rows: int | None = None,
    random_state: int = 0,
    state: AppState | None = None,
) -> AppState:
    """Load a bundled demo (its official split) or a file (a seeded holdout) into an :class:`AppState`.

    With `data_path`, `target` names the target column and
    ``HOLDOUT_SIZE`` of the rows (stratified for classification) is held out as
    validation. `max_rows` keeps a seeded sample of at most that many rows of
    each part (quick previews).
    """
    from workbench.data._spec import infer_spec
    from workbench.data.datasets import load_demo
    from workbench.data.io import load_table

    sensitive = list(sensitive)
    if data_path:
        table = load_table(data_path)
        if target is None:
            raise ParameterError(
                f"name the target column of '{data_path}' (one of its {table.shape[1]} columns)"
            )
        spec = infer_spec(table, target=target, sensitive=sensitive, positive=positive)
        data, validation = holdout_split(table, spec, random_state=random_state)
        name = str(data_path)
    else:
        if not dataset:
            raise ParameterError("choose a bundled dataset or give a data file")
        demo = load_demo(dataset)
        data, validation, spec = demo.train, demo.test, demo.spec
        if target is not None or sensitive or positive is not None:
            new_target = target or spec.target
            if positive is None and new_target == spec.target:
                positive = spec.positive_label  # keep the demo's positive class for its own target
            spec = infer_spec(
                data, target=new_target, sensitive=sensitive or spec.sensitive, positive=positive
            )
        name = dataset
    if max_rows is not None:  # a quick preview: a seeded sample of each part
        if len(data) > max_rows:
            data = data.sample(int(max_rows), random_state=random_state)
        if validation is not None and len(validation) > max_rows:
            validation = validation.sample(int(max_rows), random_state=random_state)
    state = state if state is not None else AppState()
    with state.hold_trait_notifications():
        state.spec = spec
        state.data = data
        state.validation = validation
        state.dataset = name
        state.random_state = random_state
    return state


def holdout_split(table, spec, *, random_state: int = 0, size: float = HOLDOUT_SIZE):
    """Training and validation parts of a table (stratified on the target when every class has 2+ rows)."""
    from sklearn.model_selection import train_test_split

    if spec.target is None:
        return table, None
    y = table[spec.target]
    labelled = y.notna()
    if labelled.sum() < 10:
        raise DataError(
            f"the target column '{spec.target}' has fewer than 10 values; there is nothing to learn from"
        )
    strat = None
    if spec.is_classification:
        counts = y[labelled].value_counts()
        strat = y[labelled] if counts.min() >= 2 else None
    train, test = train_test_split(table[labelled], test_size=size, random_state=random_state, stratify=strat)
    return train, test
