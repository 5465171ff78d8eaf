"""A table's columns and row count without reading its rows (the pre-run checks of every report)."""

from __future__ import annotations

from pathlib import Path

from workbench.errors import DataError


def peek_table(path: str | Path, what: str) -> tuple[list[str], int]:
    """Columns and a row count (0 or more) of a table without reading all of it.

    Duplicate names are refused.
    """
    p = Path(path)
    if p.exists() and p.is_file() and p.name.lower().endswith(_PARQUET_SUFFIXES):
        cols = None
        try:
            import pyarrow.parquet as pq

            meta = pq.ParquetFile(p)
            cols = [c for c in meta.schema_arrow.names if not c.startswith("__index_level_")]
            rows = meta.metadata.num_rows
        except Exception:
            cols = None  # fall through to the full reader, which words the error
        if cols is not None and {"_request_id", "_role", "_time"} <= set(cols):
            cols = None  # a prediction log segment: read as a log (no meta columns, no shadow rows)
        if cols is not None:
            dup = sorted({c for c in cols if cols.count(c) > 1})
            if dup:
                raise DataError(
                    f"the {what} file '{p}' has duplicate column names: "
                    f"{', '.join(repr(c) for c in dup[:5])}; every column needs a name of its own"
                )
            return cols, rows
    from workbench.data.io import CSV_SUFFIXES, PARQUET_SUFFIXES, csv_header, load_table

    if p.exists() and p.is_file() and not p.name.lower().endswith(PARQUET_SUFFIXES):
        import pandas as pd

        if p.name.lower().endswith(CSV_SUFFIXES):
            try:
                header = csv_header(p, what=what)
                named = [h for h in header if h != ""]
                dup = sorted({c for c in named if named.count(c) > 1})
                if dup:
                    raise DataError(
                        f"the {what} file '{p}' has duplicate column names: "
                        f"{', '.join(repr(c) for c in dup[:5])}; every column needs a name of its own"
                    )
                head = pd.read_csv(p, nrows=2, sep="\t" if ".tsv" in p.name.lower() else ",")
                return [str(c) for c in head.columns], len(head)
            except DataError:
                raise
            except pd.errors.EmptyDataError:
                raise DataError(f"the {what} file '{p}' is empty") from None
            except Exception:
                pass
    df = load_table(p, what=what)
    return list(df.columns), len(df)


# workbench.data.io.PARQUET_SUFFIXES, without importing workbench.data (pandas) to peek at a footer
_PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
