"""DataPanel: pick a bundled dataset or a file of your own, and set the columns' roles."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import ipywidgets as w

from workbench import _html
from workbench.errors import DataError, WorkbenchError
from workbench.validation import check_text
from workbench.widgets._base import Panel
from workbench.widgets._state import AppState, holdout_split

_NO_POSITIVE = "(automatic)"


class DataPanel(Panel):
    """Choose the data and its roles; sets ``state.data``, ``state.validation`` and ``state.spec``.

    A bundled demo keeps its official test split as validation; a file of
    your own (a path, or an uploaded CSV/Parquet) gets a seeded, stratified
    holdout. The roles table shows what was guessed; change the target,
    positive class, sensitive and excluded columns and press "Apply roles".
    """

    title = "Data"

    def __init__(self, state: AppState | None = None, **kwargs: Any):
        super().__init__(state, **kwargs)
        from workbench.data.datasets import list_demos

        self.table = None  # the whole table as loaded (before the holdout split)
        self._split = None  # (train, validation) of a bundled demo
        self.dataset = w.Dropdown(options=list_demos(), value="adult", description="Bundled")
        self.load_demo_button = self._button("Load dataset", self._load_demo, style="primary")
        self.path = w.Text(placeholder="path/to/table.csv or .parquet", description="File")
        self.path_target = w.Text(placeholder="its target column", description="Target")
        self.load_file_button = self._button("Load file", self._load_path)
        self.upload = w.FileUpload(
            accept=".csv,.tsv,.txt,.parquet,.pq,.csv.gz", multiple=False, description="Upload"
        )
        self.upload.observe(self._guarded(self._on_upload), "value")
        self.target = w.Dropdown(options=[], description="Target")
        self.target.observe(self._guarded(self._on_target), "value")
        self.positive = w.Dropdown(options=[_NO_POSITIVE], description="Positive")
        self.sensitive = w.SelectMultiple(options=[], description="Sensitive", rows=6)
        self.excluded = w.SelectMultiple(options=[], description="Excluded", rows=6)
        self.apply_button = self._button("Apply roles", self._apply, style="primary")
        self.roles = w.HTML()
        self._compose(
            w.HBox([self.dataset, self.load_demo_button]),
            w.HBox([self.path, self.path_target, self.load_file_button]),
            self.upload,
            w.HBox([w.VBox([self.target, self.positive]), self.sensitive, self.excluded]),
            self.apply_button,
            self.roles,
            intro="A bundled dataset or your own CSV/Parquet file; check the roles guessed for its columns.",
        )
        self.state.observe(self._guarded(self._on_spec), "spec")
        if self.state.spec is not None:
            self._show_spec(self.state.spec, list(self._columns_of_state()))

    # -- loading ------------------------------------------------------------------------
    def _load_demo(self) -> None:
        name = self.dataset.value

        def work():
            from workbench.data.datasets import load_demo

            return load_demo(name)

        def done(demo) -> None:
            self.table, self._split = demo.frame.drop(columns="split"), (demo.train, demo.test)
            self._publish(demo.train, demo.test, demo.spec, name)

        self.run(f"Loading {name}", work, done)

    def _load_path(self) -> None:
        path = check_text(
            self.path.value, "the data path", empty="type the path of a CSV or Parquet file first"
        )
        self._load_table(path, path, self.path_target.value.strip() or None)

    def _on_upload(self, change: dict) -> None:
        files = change["new"]
        if not files:
            return
        f = files[0]
        name, content = f["name"], bytes(f["content"])
        # load_table reads by suffix: keep the upload's name in a private temporary folder
        folder = Path(tempfile.mkdtemp(prefix="workbench-upload-"))
        path = folder / Path(name).name
        path.write_bytes(content)
        self._load_table(str(path), name, self.path_target.value.strip() or None, remove=folder)

    def _load_table(self, path: str, name: str, target: str | None, remove: Path | None = None) -> None:
        def work():
            from workbench.data._spec import infer_spec
            from workbench.data.io import load_table

            try:
                table = load_table(path)
            finally:
                if remove is not None:  # the upload's copy is read whole: it is not needed afterwards
                    shutil.rmtree(remove, ignore_errors=True)
            if target is not None:  # named by the user: a missing column is an error to show
                return table, infer_spec(table, target=target), False
            try:
                return table, infer_spec(table, target=_guess_target(table)), False
            except WorkbenchError:  # the guess does not work as a target: let the user choose
                return table, infer_spec(table), True

        def done(value) -> None:
            table, spec, unsure = value
            self.table, self._split = table, None
            train, validation = holdout_split(table, spec, random_state=self.state.random_state)
            self._publish(train, validation, spec, name)
            if unsure:
                self.banner.info(f"Loaded {name}: choose its target column and press 'Apply roles'.")

        self.run(f"Loading {name}", work, done)

    def _publish(self, train, validation, spec, name: str) -> None:
        st = self.state
        with st.hold_trait_notifications():
            st.data, st.validation, st.dataset = train, validation, name
            st.spec = spec
        msg = f"Loaded {name}: {len(train):,} training rows"
        msg += f" and {len(validation):,} held-out rows." if validation is not None else "."
        self.banner.info(msg)

    # -- roles --------------------------------------------------------------------------
    def _apply(self) -> None:
        """Re-infer the spec with the roles chosen in the widgets."""
        from workbench.data._spec import infer_spec

        table = self.table if self.table is not None else self._state_table()
        if table is None:
            raise DataError("load a dataset first")
        target = self.target.value
        excluded = set(self.excluded.value)
        if target in excluded:
            raise DataError(f"the target column '{target}' cannot be excluded too")
        features = [c for c in table.columns if c != target and c not in excluded]
        positive = None if self.positive.value == _NO_POSITIVE else self.positive.value
        spec = infer_spec(
            table,
            target=target,
            sensitive=list(self.sensitive.value),
            features=features,
            positive=_typed(positive, table[target]) if positive is not None else None,
        )
        old = self.state.spec.excluded if self.state.spec is not None else {}
        spec = spec.replace(
            excluded={c: old.get(c, "excluded by you") for c in table.columns if c in excluded}
        )
        if self._split is not None:
            train, validation = self._split
        else:
            train, validation = holdout_split(table, spec, random_state=self.state.random_state)
        with self.state.hold_trait_notifications():
            self.state.data, self.state.validation = train, validation
            self.state.spec = spec
        self.banner.info(
            f"Roles applied: target '{spec.target}' ({spec.task}), {len(spec.features)} features."
        )

    def _on_spec(self, change: dict) -> None:
        if change["new"] is not None:
            self._show_spec(change["new"], list(self._columns_of_state()))

    def _on_target(self, change: dict) -> None:
        col = change["new"]
        table = self.table if self.table is not None else self._state_table()
        if col is None or table is None or col not in table.columns:
            return
        values = table[col].dropna().unique()
        opts = [_NO_POSITIVE] + ([str(v) for v in sorted(values, key=str)] if len(values) <= 2 else [])
        self.positive.options = opts
        spec = self.state.spec
        if spec is not None and spec.target == col and spec.positive_label is not None:
            self.positive.value = str(spec.positive_label)

    def _show_spec(self, spec, columns: list[str]) -> None:
        self.target.options = columns
        if spec.target in columns:
            self.target.value = spec.target
        self.sensitive.options = columns
        self.sensitive.value = tuple(c for c in spec.sensitive if c in columns)
        self.excluded.options = columns
        self.excluded.value = tuple(c for c in spec.excluded if c in columns)
        rows = spec.describe().to_dict("records")
        for r in rows:
            if r["column"] == spec.target and spec.positive_label is not None:
                r["type"] = f"{spec.task}; positive class '{spec.positive_label}'"
        self.roles.value = _html.card(
            f"Column roles — {self.state.dataset or 'data'}",
            _html.table(rows, ["column", "role", "type", "sensitive"]),
            f"task: {spec.task}; {len(spec.numeric)} numeric and "
            f"{len(spec.categorical)} categorical features",
        )

    def _columns_of_state(self) -> list[str]:
        table = self.table if self.table is not None else self.state.data
        return [] if table is None else [str(c) for c in table.columns]

    def _state_table(self):
        import pandas as pd

        st = self.state
        if st.data is None:
            return None
        self._split = (st.data, st.validation)
        return st.data if st.validation is None else pd.concat([st.data, st.validation])


def _guess_target(table) -> str | None:
    """A first guess at the target of a user's table: a column named like one, else the last column."""
    for c in table.columns:
        if str(c).lower() in ("target", "label", "y", "class", "outcome"):
            return c
    return table.columns[-1] if table.shape[1] > 1 else None


def _typed(label: str, column) -> Any:
    """The positive class as the column holds it (the dropdown shows text)."""
    for v in column.dropna().unique():
        if str(v) == label:
            return v.item() if hasattr(v, "item") else v
    return label
