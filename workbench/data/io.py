"""Loading tables (CSV, Parquet, DataFrames) and fingerprinting them."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.errors import DataError

CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")


def load_table(
    source: str | Path | pd.DataFrame, *, what: str = "data", columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """Read a CSV or Parquet file, or a prediction log (or pass a DataFrame through).

    A prediction log folder, one of its ``date=YYYY-MM-DD`` folders or one of
    its segments reads as the table of what callers got: the records' features
    and joined labels, without the log's meta columns or shadow rows.

    `columns` reads only those columns (each must be in the file): Parquet
    reads nothing else from disk, CSV converts nothing else; their values are
    typed exactly as a full read types them.

    Raises a :class:`DataError` with one sentence for a missing, unreadable,
    empty or unknown-format file, and for a table with duplicate column names
    (pandas would silently rename a CSV's second 'age' to 'age.1').
    """
    if isinstance(source, pd.DataFrame):
        return source if columns is None else source[list(columns)]
    path = Path(source)
    name = path.name.lower()
    if not path.exists():
        raise DataError(f"the {what} file '{path}' does not exist")
    if path.is_dir() or name.endswith(".parquet"):
        from workbench.serving.log_table import is_prediction_log  # light: reads names and one footer

        if is_prediction_log(path):
            return _read_log(path, what, columns)
    if path.is_dir():
        raise DataError(f"the {what} path '{path}' is a folder, not a file")
    try:
        if name.endswith(PARQUET_SUFFIXES):
            df = _read_parquet(path, columns, what)
        elif name.endswith(CSV_SUFFIXES):
            sep = "\t" if ".tsv" in name else ","
            header = csv_header(path, what=what)
            _refuse_duplicates([h for h in header if h != ""], what, path)  # pandas names blanks "Unnamed: i"
            if columns is not None:
                _refuse_absent(columns, header, what, path)
            wanted = None if columns is None else set(columns)
            df = pd.read_csv(
                path, sep=sep, low_memory=False, usecols=None if wanted is None else lambda c: c in wanted
            )
        else:
            raise DataError(
                f"unknown format for the {what} file '{path}' ({path.suffix or 'no suffix'}); "
                "use CSV (.csv, .tsv) or Parquet (.parquet)"
            )
    except DataError:
        raise
    except PermissionError:
        raise DataError(f"the {what} file '{path}' cannot be read (permission denied)") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"the {what} file '{path}' is empty") from None
    except (UnicodeDecodeError, pd.errors.ParserError, OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"the {what} file '{path}' cannot be read as {_kind(name)}: {first}") from None
    except Exception as exc:  # pyarrow raises its own error types
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"the {what} file '{path}' cannot be read as {_kind(name)}: {first}") from None
    if df.shape[1] == 0 and columns is None:
        raise DataError(f"the {what} file '{path}' has no columns")
    df.columns = [str(c) for c in df.columns]
    _refuse_duplicates(list(df.columns), what, path)
    if columns is not None:
        order = [c for c in dict.fromkeys(columns) if c in df.columns]
        if list(df.columns) != order:
            df = df[order]
    return df


def csv_header(path: str | Path, *, what: str = "data") -> list[str]:
    """The column names of a CSV/TSV file as written (duplicates kept, not renamed), from its first line."""
    path = Path(path)
    sep = "\t" if ".tsv" in path.name.lower() else ","
    try:
        head = pd.read_csv(path, sep=sep, header=None, nrows=1, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise DataError(f"the {what} file '{path}' is empty") from None
    return [str(c) for c in head.iloc[0].tolist()] if len(head) else []


def _refuse_duplicates(names: Sequence[str], what: str, path: Path) -> None:
    seen: set[str] = set()
    dup = list(dict.fromkeys(n for n in names if n in seen or seen.add(n)))
    if dup:
        shown = ", ".join(f"'{n}'" for n in dup[:5]) + (f" and {len(dup) - 5} more" if len(dup) > 5 else "")
        raise DataError(
            f"the {what} file '{path}' has duplicate column names: {shown}; "
            "every column needs a name of its own"
        )


def _refuse_absent(columns: Sequence[str], names: Sequence[str], what: str, path: Path) -> None:
    absent = [c for c in columns if c not in set(names)]
    if absent:
        raise DataError(f"the {what} file '{path}' has no column {', '.join(repr(c) for c in absent[:5])}")


def _read_log(path: Path, what: str, columns: Sequence[str] | None) -> pd.DataFrame:
    """A prediction log (a log folder, a date folder or a segment) as the table of what callers got.

    Its features and joined labels, without the meta columns and the shadow rows
    (:func:`workbench.serving.log_table.read_log`).
    """
    from workbench.serving.log_table import read_log

    df = read_log(path)
    if columns is not None:
        _refuse_absent(columns, list(df.columns), what, path)
        df = df[list(dict.fromkeys(columns))]
    return df


def _read_parquet(path: Path, columns: Sequence[str] | None = None, what: str = "data") -> pd.DataFrame:
    """Parquet with text columns as pandas categoricals.

    Converting a million-row text column to Python string objects dominates
    reading time and memory; a categorical keeps the dictionary encoding.
    Text columns are read as dictionaries straight from the file
    (``read_dictionary``): decoding them to Arrow strings first and
    re-encoding (``strings_to_categorical``) took 3-4x longer at 1M rows
    (benchmarks/monitoring.py). Every stage treats categoricals as text.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pq.read_schema(path)
    if columns is not None:
        _refuse_duplicates(schema.names, what, path)
        _refuse_absent(columns, schema.names, what, path)
        columns = list(dict.fromkeys(columns))
    text = [
        f.name
        for f in schema
        if (pa.types.is_string(f.type) or pa.types.is_large_string(f.type))
        and (columns is None or f.name in columns)
    ]
    table = pq.read_table(path, columns=columns, read_dictionary=text or None, use_pandas_metadata=True)
    # one column per block, Arrow buffers freed as they convert: the peak stays near one copy of the table
    return table.to_pandas(
        strings_to_categorical=True, ignore_metadata=False, split_blocks=True, self_destruct=True
    )


def fingerprint(data: pd.DataFrame) -> dict:
    """A content hash of a table (rows, columns, dtypes, values), for lineage.

    Order-sensitive and cheap (pandas' vectorised row hashing): two runs on the
    same file give the same fingerprint; any changed value changes it.
    """
    h = hashlib.sha256()
    h.update("\x1f".join(map(str, data.columns)).encode())
    h.update("\x1f".join(map(str, data.dtypes)).encode())
    if len(data):
        rows = pd.util.hash_pandas_object(data, index=False).to_numpy(dtype=np.uint64)
        h.update(rows.tobytes())
    return {"sha256": h.hexdigest(), "rows": int(len(data)), "columns": int(data.shape[1])}


def file_fingerprint(path: str | Path, data: pd.DataFrame | None = None) -> dict:
    """A content hash of a data file's bytes (cheaper than hashing a large table's rows)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    out = {"sha256": h.hexdigest(), "file": Path(path).name}
    if data is not None:
        out.update(rows=int(len(data)), columns=int(data.shape[1]))
    return out


def _kind(name: str) -> str:
    return "Parquet" if name.endswith(PARQUET_SUFFIXES) else "CSV"
