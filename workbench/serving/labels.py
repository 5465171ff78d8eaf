"""Labels that arrive later, joined into the prediction log by record id.

The log's segments are never rewritten: a join adds one side table,
``LOGDIR/labels/labels-<stamp>-<hex>.parquet`` (``_id``, the label column and
``_labelled_at``), written under a temporary name and renamed, which
:func:`~workbench.serving.log_table.read_log` joins by ``_id`` (a later join's
label for the same id wins: a correction). With ``out``, the log is left as it
is (it may be read-only) and a labelled copy is written instead: the same
layout, each segment with the label column, built in a temporary folder and
renamed into place when complete.
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from workbench.errors import DataError, ParameterError
from workbench.serving.log_table import (
    LABELS_DIR,
    LABELS_KEY,
    log_root,
    log_segments,
    read_labels,
)
from workbench.validation import check_columns, check_path


@dataclass(frozen=True)
class LabelJoin:
    """What a labels join matched and wrote (counts of ids; ``summary()`` says it in one sentence)."""

    log: str
    labels: str
    id_column: str
    target: str
    n_labels: int  # labels with an id and a value
    n_matched: int  # of them, ids the log holds
    n_unmatched: int  # ids the log does not hold (kept: their records may come later)
    n_missing_values: int  # rows of the labels file without a label value (skipped)
    n_log_ids: int  # distinct record ids in the log
    n_log_unlabelled: int  # of them, still without a label after this join
    n_log_rows_without_id: int  # rows logged without an id: they can never be labelled
    written: str  # the side table, or the labelled copy's folder

    def to_dict(self) -> dict:
        """The counts and paths as a JSON-safe dict."""
        return asdict(self)

    def summary(self) -> str:
        """One sentence: how many labels matched, and what did not."""
        text = (
            f"{self.n_matched:,} of {self.n_labels:,} labels matched a logged record by '{self.id_column}'"
            f" and were joined as '{self.target}'"
        )
        extra = []
        if self.n_unmatched:
            extra.append(f"{self.n_unmatched:,} ids are not in the log (yet)")
        if self.n_missing_values:
            extra.append(f"{self.n_missing_values:,} rows had no label value")
        if self.n_log_unlabelled:
            extra.append(f"{self.n_log_unlabelled:,} of {self.n_log_ids:,} logged ids still have no label")
        if self.n_log_rows_without_id:
            extra.append(f"{self.n_log_rows_without_id:,} logged rows have no id")
        return text + ("; " + "; ".join(extra) if extra else "") + f"; written to {self.written}."


def join_labels(
    log: str | Path,
    labels: Any,
    *,
    id_column: str,
    target: str | None = None,
    out: str | Path | None = None,
) -> LabelJoin:
    """Join labels that arrived later into a prediction log by record id.

    Parameters
    ----------
    log : str or Path
        The log folder (or one of its date folders: the join applies to the whole log).
    labels : str, Path or DataFrame
        A CSV/Parquet table with the id column and the label column.
    id_column : str
        The labels' column holding the ids the server was sent (the log's ``_id``).
    target : str, optional
        The label column (default: the one column besides `id_column`); the
        label is joined under this name, the model's target column name.
    out : str or Path, optional
        Write a labelled copy of the log here (a new folder) and leave the log untouched.

    Returns
    -------
    LabelJoin

    Raises
    ------
    DataError
        The id or label column is missing, ids repeat in the labels, or no id matches the log.
    ParameterError
        The label column cannot be told, or `out` exists.
    """
    import pandas as pd

    from workbench.data.io import load_table

    root = log_root(check_path(log, "the prediction log", kind="dir"))
    table = load_table(labels, what="labels")
    check_columns(table, [id_column], where="the labels", what="the id column")
    target = _target(table, id_column, target)
    if target.startswith("_"):
        raise ParameterError(
            f"the label column '{target}' starts with an underscore, which the log keeps for its own "
            "columns; rename it to the model's target column name"
        )
    ids = _ids(table[id_column])
    dup = ids[ids.duplicated(keep=False) & ids.notna()].unique()
    if len(dup):
        shown = ", ".join(repr(x) for x in dup[:5]) + (f" and {len(dup) - 5} more" if len(dup) > 5 else "")
        raise DataError(
            f"{len(dup):,} ids appear more than once in the labels' '{id_column}' column ({shown}); "
            "keep one label per id"
        )
    values = table[target]
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(object).where(values.notna(), None)
    new = pd.DataFrame({"_id": ids, target: values}).dropna(subset=["_id"])
    n_missing = int(new[target].isna().sum())
    new = new.dropna(subset=[target])
    logged = _logged_ids(root)
    known = logged.dropna()
    matched = new["_id"].isin(set(known))
    if new.empty or not matched.any():
        raise DataError(
            f"none of the {len(new):,} ids in the labels' '{id_column}' column is a record id in the log "
            f"'{root}'; check that --id names the column holding the ids sent to the server"
        )
    if target in _feature_names(root):
        raise ParameterError(
            f"the label column '{target}' is also a logged input column; name the label column with "
            "--target, or rename it to the model's target"
        )
    now = pd.Timestamp.now(tz="UTC")
    new["_labelled_at"] = now
    all_labels = _merged(read_labels(root), new.set_index("_id")[[target]])
    unlabelled = ~known.drop_duplicates().isin(set(all_labels.index[all_labels[target].notna()]))
    written = _write_copy(root, Path(out), all_labels) if out is not None else _write_side(root, new, now)
    return LabelJoin(
        log=str(root),
        labels=str(labels) if not isinstance(labels, pd.DataFrame) else "a DataFrame",
        id_column=id_column,
        target=target,
        n_labels=int(len(new)),
        n_matched=int(matched.sum()),
        n_unmatched=int((~matched).sum()),
        n_missing_values=n_missing,
        n_log_ids=int(known.nunique()),
        n_log_unlabelled=int(unlabelled.sum()),
        n_log_rows_without_id=int(logged.isna().sum()),
        written=str(written),
    )


def _target(table, id_column: str, target: str | None) -> str:
    if target is not None:
        check_columns(table, [target], where="the labels", what="the label column")
        return str(target)
    others = [c for c in table.columns if c != id_column]
    if len(others) != 1:
        listed = ", ".join(f"'{c}'" for c in others[:6]) or "none"
        raise ParameterError(
            f"the labels have {len(others)} columns besides '{id_column}' ({listed}); "
            "name the label column with --target"
        )
    return str(others[0])


def _ids(s):
    """Ids as the log writes them (text): 17 and 17.0 both read '17'."""
    import pandas as pd

    if pd.api.types.is_float_dtype(s) and s.dropna().mod(1).eq(0).all():
        s = s.astype("Int64")
    return s.astype(object).where(s.notna(), None).map(lambda v: None if v is None else str(v))


def _logged_ids(root: Path):
    import pandas as pd
    import pyarrow.parquet as pq

    parts = [pq.read_table(p, columns=["_id"]).column("_id").to_pandas() for p in log_segments(root)]
    return pd.concat(parts, ignore_index=True) if parts else pd.Series([], dtype=object)


def _feature_names(root: Path) -> set[str]:
    import pyarrow.parquet as pq

    first = log_segments(root)[:1]
    return {n for n in pq.read_schema(first[0]).names if not n.startswith("_")} if first else set()


def _merged(old, new):
    import pandas as pd

    if old is None:
        return new
    both = pd.concat([old, new])
    return both[~both.index.duplicated(keep="last")]


def _write_side(root: Path, new, now) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = root / LABELS_DIR
    folder.mkdir(exist_ok=True)
    name = f"labels-{now.strftime('%Y%m%dT%H%M%S%f')}-{uuid.uuid4().hex[:8]}.parquet"
    tmp = folder / f".{name}.tmp"
    try:
        pq.write_table(pa.Table.from_pandas(new.reset_index(drop=True), preserve_index=False), tmp)
        os.replace(tmp, folder / name)
    finally:
        tmp.unlink(missing_ok=True)
    return folder / name


def _write_copy(root: Path, out: Path, labels) -> Path:
    """Every segment with the label columns, built in a temporary folder beside `out`, then renamed."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    if os.path.lexists(out):
        raise ParameterError(f"the labelled copy's folder '{out}' exists; choose a new folder for --out")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.tmp-{uuid.uuid4().hex[:8]}"
    names = [str(c) for c in labels.columns if c != "_labelled_at"]
    try:
        for seg in log_segments(root):
            table = pq.read_table(seg)
            ids = table.column("_id").to_pandas()
            for col in names:
                values = ids.map(labels[col].dropna())
                if col in table.column_names:
                    table = table.drop_columns([col])
                table = table.append_column(col, pa.array(values.astype(object).where(values.notna(), None)))
            meta = {**(table.schema.metadata or {}), LABELS_KEY: json.dumps(names).encode()}
            dest = tmp / seg.parent.name / seg.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(table.replace_schema_metadata(meta), dest)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out
