"""Reading the prediction log as a table: what every report, the labels join and the canary judge read.

The log (written by :mod:`workbench.serving.log`) is hive-style Parquet:
``LOGDIR/date=YYYY-MM-DD/part-<stamp>-<hex>.parquet``, one row per (record,
model that scored it). Meta columns start with an underscore (:data:`META_COLUMNS`);
the record's features keep their original names. Names starting with ``.``
(a segment being written) and files not ending in ``.parquet`` are ignored.

Labels that arrive later are never written into the segments: ``workbench labels
join`` adds a side table, ``LOGDIR/labels/labels-<stamp>-<hex>.parquet`` (``_id``
and the label column), and :func:`read_log` joins it by ``_id`` (the latest label
of an id wins). A labelled copy (``labels join --out``) has the label inside its
segments instead, and names it in the Parquet schema's metadata.

Light at import: pandas and pyarrow are imported by the functions that read.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from workbench.errors import DataError
from workbench.validation import check_choice

#: the meta columns of every segment (the contract), in their order
META_COLUMNS = (
    "_request_id",
    "_id",
    "_time",
    "_model_name",
    "_model_version",
    "_role",
    "_fallback",
    "_fallback_reason",
    "_status",
    "_errors",
    "_latency_ms",
    "_prediction",
    "_proba",
)
#: every role a row can have; shadow rows were never returned to a caller. A fallback's answer is logged
#: under the role its record was routed to, with ``_fallback`` set; "fallback" is the role of such rows
#: in logs written before that
ROLES = ("champion", "canary", "shadow", "fallback")
#: the roles of what callers got: the default of :func:`read_log`
ANSWER_ROLES = ("champion", "canary", "fallback")
#: the folder of the labels side tables, inside the log folder
LABELS_DIR = "labels"
#: the schema-metadata key naming the label columns of a labelled copy's segments
LABELS_KEY = b"workbench.labels"
#: what makes a Parquet file a log segment (columns a plain table would not have together)
_SIGNATURE = frozenset({"_request_id", "_time", "_role", "_status", "_model_version"})
_DATE_DIR = re.compile(r"^date=(\d{4}-\d{2}-\d{2})$")
_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhdw])\s*$")


def read_log(
    path: str | Path,
    *,
    since: Any = None,
    until: Any = None,
    roles: Sequence[str] = ANSWER_ROLES,
    with_meta: bool = False,
):
    """The prediction log (a log folder, one date folder or one segment) as one DataFrame.

    Parameters
    ----------
    path : str or Path
        ``LOGDIR``, ``LOGDIR/date=YYYY-MM-DD`` or one ``.parquet`` segment.
    since, until : str, datetime or date, optional
        Keep records answered at or after `since` and before `until` (UTC when
        no zone is given). Text is ISO 8601 (``2026-11-03``, ``2026-11-03T12:00``)
        or a time back from now: ``90m``, ``24h``, ``7d``, ``2w``.
    roles : sequence of str
        The rows to keep by ``_role`` (default: what callers got, no shadow rows).
    with_meta : bool
        Keep the meta columns (``_time``, ``_role``, ``_latency_ms``...); by default
        the table holds the features and the joined labels only, as a report reads it.

    Returns
    -------
    DataFrame
        One row per (record, model) in time order; text features as categoricals,
        as :func:`workbench.data.io.load_table` reads Parquet. ``df.attrs["label_columns"]``
        names the joined label columns.

    Raises
    ------
    DataError
        For a path that does not exist or holds no segment, or a segment that cannot be read.
    ParameterError
        For an unknown role or a time that cannot be read.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    roles = [check_choice(r, "role", ROLES) for r in ([roles] if isinstance(roles, str) else roles)]
    start, end = parse_time(since, "since"), parse_time(until, "until")
    segments = log_segments(path, since=start, until=end)
    if not segments:
        raise DataError(f"the prediction log '{path}' has no segment in the period asked for")
    table = _concat([_read_segment(p) for p in segments], path)
    labels_in_segments = _label_names(table.schema)
    keep = pc.is_in(table["_role"], value_set=pa.array(roles, pa.string()))
    if start is not None:
        keep = pc.and_(
            keep, pc.greater_equal(table["_time"], pa.scalar(start, table.schema.field("_time").type))
        )
    if end is not None:
        keep = pc.and_(keep, pc.less(table["_time"], pa.scalar(end, table.schema.field("_time").type)))
    table = table.filter(pc.fill_null(keep, False))
    table = table.sort_by([("_time", "ascending")])
    df = table.to_pandas(strings_to_categorical=True, split_blocks=True, self_destruct=True)
    for c in META_COLUMNS:  # meta text stays text: ids and reasons are not categories
        if c in df.columns and str(df[c].dtype) == "category":
            df[c] = df[c].astype(object).where(df[c].notna(), None)
    df.columns = [str(c) for c in df.columns]
    label_columns = list(labels_in_segments)
    side = read_labels(log_root(path))
    if side is not None and "_id" in df.columns:
        for col in (c for c in side.columns if c != "_id"):
            mapped = df["_id"].map(side[col].dropna())
            df[col] = mapped if col not in df.columns else mapped.where(mapped.notna(), df[col])
            label_columns.append(col)
    if not with_meta:
        df = df.drop(columns=[c for c in META_COLUMNS if c in df.columns])
    df = df.reset_index(drop=True)
    df.attrs["label_columns"] = list(dict.fromkeys(label_columns))
    return df


def is_prediction_log(path: str | Path) -> bool:
    """Whether `path` is a prediction log: a log folder, a date folder or a segment (names, one footer)."""
    p = Path(path)
    if p.is_file():
        return p.name.endswith(".parquet") and _is_segment(p)
    if not p.is_dir():
        return False
    if _DATE_DIR.match(p.name):
        return any(_is_segment(s) for s in _parquet_files(p)[:1])
    return any(_is_segment(s) for d in _date_dirs(p)[:1] for s in _parquet_files(d)[:1])


def log_dates(path: str | Path) -> list[str]:
    """The dates (``YYYY-MM-DD``) a log folder holds segments for, oldest first."""
    p = Path(path)
    if not p.is_dir():
        return []
    return [_DATE_DIR.match(d.name).group(1) for d in _date_dirs(p) if _parquet_files(d)]


def log_segments(
    path: str | Path, *, since: _dt.datetime | None = None, until: _dt.datetime | None = None
) -> list[Path]:
    """The segment files under `path` (a log folder, a date folder or a segment), in name (time) order.

    Date folders entirely before `since` or after `until` are not opened.
    """
    p = Path(path)
    if not p.exists():
        raise DataError(f"the prediction log '{path}' does not exist")
    if p.is_file():
        if not (p.name.endswith(".parquet") and _is_segment(p)):
            raise DataError(
                f"'{path}' is not a prediction log segment (a .parquet file with the log's columns)"
            )
        return [p]
    if _DATE_DIR.match(p.name):
        return _parquet_files(p)
    dirs = _date_dirs(p)
    if not dirs:
        raise DataError(
            f"'{path}' is not a prediction log: it holds no date=YYYY-MM-DD folders of .parquet segments"
        )
    out = []
    for d in dirs:
        day = _dt.date.fromisoformat(_DATE_DIR.match(d.name).group(1))
        if since is not None and day < since.date() or until is not None and day > until.date():
            continue
        out += _parquet_files(d)
    return out


def log_root(path: str | Path) -> Path:
    """The log folder of `path` (itself, the parent of a date folder, or above a segment)."""
    p = Path(path)
    if p.is_file():
        p = p.parent
    return p.parent if _DATE_DIR.match(p.name) else p


def read_labels(root: str | Path):
    """The labels side table of a log folder (``_id`` -> label columns; the latest label wins), or None."""
    import pandas as pd
    import pyarrow.parquet as pq

    folder = Path(root) / LABELS_DIR
    files = _parquet_files(folder) if folder.is_dir() else []
    if not files:
        return None
    frames = []
    for f in files:
        try:
            frames.append(pq.read_table(f).to_pandas())
        except Exception as exc:  # pyarrow raises its own error types
            raise DataError(f"the labels file '{f}' cannot be read: {_first_line(exc)}") from None
    labels = pd.concat(frames, ignore_index=True).drop(columns=["_labelled_at"], errors="ignore")
    labels = labels.dropna(subset=["_id"]).drop_duplicates("_id", keep="last")
    return labels.set_index("_id")


def parse_time(value: Any, what: str = "time") -> _dt.datetime | None:
    """`value` as an aware UTC datetime: ISO text, a datetime or date, or ``24h``-style text back from now."""
    from workbench.errors import ParameterError

    if value is None or value == "":
        return None
    if isinstance(value, str):
        m = _RELATIVE.match(value)
        if m:
            unit = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[m.group(2)]
            return _dt.datetime.now(_dt.UTC) - _dt.timedelta(**{unit: float(m.group(1))})
        try:
            value = _dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ParameterError(
                f"{what} must be an ISO time such as 2026-11-03 or 2026-11-03T12:00, or a time back "
                f"from now such as 24h or 7d, not {value!r}"
            ) from None
    if hasattr(value, "to_pydatetime"):  # a pandas Timestamp
        value = value.to_pydatetime()
    if isinstance(value, _dt.date) and not isinstance(value, _dt.datetime):
        value = _dt.datetime(value.year, value.month, value.day)
    if not isinstance(value, _dt.datetime):
        raise ParameterError(f"{what} must be a time (text, datetime or date), not {type(value).__name__}")
    return value.replace(tzinfo=_dt.UTC) if value.tzinfo is None else value.astimezone(_dt.UTC)


# -- helpers -----------------------------------------------------------------------------------
def _date_dirs(p: Path) -> list[Path]:
    return sorted(d for d in p.iterdir() if d.is_dir() and _DATE_DIR.match(d.name))


def _parquet_files(folder: Path) -> list[Path]:
    return sorted(
        f
        for f in folder.iterdir()
        if f.is_file() and f.name.endswith(".parquet") and not f.name.startswith(".")
    )


def _is_segment(path: Path) -> bool:
    import pyarrow.parquet as pq

    try:
        return _SIGNATURE <= set(pq.read_schema(path).names)
    except Exception:  # not Parquet, or damaged: not a segment (the reader words the error)
        return False


def _read_segment(path: Path):
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path)
    except Exception as exc:  # pyarrow raises its own error types
        raise DataError(f"the prediction log segment '{path}' cannot be read: {_first_line(exc)}") from None


def _concat(tables: list, path):
    import pyarrow as pa

    if len(tables) == 1:
        return tables[0]
    try:  # a column that was all-null in one segment, or int in one and float in another
        return pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise DataError(
            f"the segments of the prediction log '{path}' disagree on a column's type: {_first_line(exc)}"
        ) from None


def _label_names(schema) -> list[str]:
    raw = (schema.metadata or {}).get(LABELS_KEY)
    return [str(c) for c in json.loads(raw)] if raw else []


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
