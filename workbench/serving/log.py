"""The prediction log writer: every record a server answered, as Parquet segments partitioned by date.

Layout (the contract the log readers rely on, :mod:`workbench.serving.log_table`)::

    LOGDIR/date=YYYY-MM-DD/part-<YYYYmmddTHHMMSSffffff>-<8 hex>.parquet

one row per (record, model that scored it): the meta columns :data:`META_COLUMNS`
(all starting with an underscore), then the record's features under their
original names (minus the excluded ones). The date is the UTC date of the
row's ``_time``.

Never on the request path: :meth:`PredictionLog.append` (rows as dicts) and
:meth:`PredictionLog.append_columns` (a request's rows as columns, what the
server sends: no dict per row) put them in a buffer (O(1)); a background
thread builds each Arrow column in one call over every buffered row and writes
them every ``flush_seconds`` or every ``flush_rows`` rows. A segment is written
under a temporary name beginning with a dot and renamed with :func:`os.replace`, so a crash loses at most the
unflushed buffer and never leaves a damaged segment. When the folder cannot
be written, the rows stay buffered (up to a cap, then the oldest are
dropped and counted), :attr:`PredictionLog.healthy` turns False with the
reason in :attr:`PredictionLog.problem`, and the next flush tries again.
"""

from __future__ import annotations

import datetime as _dt
import os
import secrets
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

#: (name, pyarrow type name) of the meta columns, in the order segments hold them
META_COLUMNS = (
    ("_request_id", "string"),
    ("_id", "string"),
    ("_time", "timestamp"),
    ("_model_name", "string"),
    ("_model_version", "string"),
    ("_role", "string"),
    ("_fallback", "bool"),
    ("_fallback_reason", "string"),
    ("_status", "string"),
    ("_errors", "string"),
    ("_latency_ms", "float64"),
    ("_prediction", "string"),
    ("_proba", "float64"),
)
#: rows kept while the folder cannot be written; older ones are dropped (and counted) beyond it
MAX_BUFFERED_ROWS = 200_000


class PredictionLog:
    """Appends prediction rows to Parquet segments under `log_dir`, from a background thread.

    Parameters
    ----------
    log_dir : str or Path
        The log folder (created when missing).
    exclude : iterable of str
        Feature columns left out of the log (e.g. personal data).
    flush_rows : int
        Write as soon as this many rows are buffered.
    flush_seconds : float
        Write what is buffered at least this often.
    features : mapping, optional
        Feature column -> ``"number"`` or ``"string"``: their types in every segment (so a
        column that is empty in one segment keeps its type); other columns are typed from their values.

    Examples
    --------
    >>> import datetime, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     log = PredictionLog(tmp, features={"age": "number"})
    ...     log.append([{"_request_id": "r1", "_time": datetime.datetime.now(datetime.UTC),
    ...                  "_status": "ok", "age": 41.0}])
    ...     log.close()
    ...     print(log.rows_written, log.healthy)
    1 True
    """

    def __init__(
        self,
        log_dir: str | os.PathLike,
        *,
        exclude: Iterable[str] = (),
        flush_rows: int = 5000,
        flush_seconds: float = 1.0,
        features: Mapping[str, str] | None = None,
    ):
        self.log_dir = Path(log_dir)
        self.exclude = frozenset(exclude)
        self.flush_rows = max(1, int(flush_rows))
        self.flush_seconds = float(flush_seconds)
        self.features = {c: t for c, t in (features or {}).items() if c not in self.exclude}
        self._row_names = tuple(features or {})  # the order of append_columns' feature rows
        self.rows_written = 0
        self.rows_dropped = 0
        self.segments_written = 0
        self.problem: str | None = None
        self._buffer: list = []  # chunks: a list of row dicts, or a _Columns
        self._rows = 0
        self._lock = threading.Lock()  # guards the buffer
        self._write_lock = threading.Lock()  # one writer at a time (the thread, flush, close)
        self._wake = threading.Event()
        self._closed = False
        try:
            self.log_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self.problem = _unwritable(self.log_dir, exc)
        self._thread = threading.Thread(target=self._run, name="workbench-prediction-log", daemon=True)
        self._thread.start()

    @property
    def healthy(self) -> bool:
        """False while the log folder cannot be written (:attr:`problem` says why)."""
        return self.problem is None

    @property
    def buffered(self) -> int:
        """Rows waiting to be written."""
        return self._rows

    def append(self, rows: list[dict]) -> None:
        """Queue `rows` for writing (returns at once; the background thread writes them)."""
        if rows:
            self._queue(list(rows), len(rows))

    def append_columns(self, meta: Mapping[str, Any], features: list[list]) -> None:
        """Queue rows given as columns: one row per entry of `features` (returns at once).

        Parameters
        ----------
        meta : mapping
            Meta column -> a list with one value per row, or one value for every row. ``_time``
            is one datetime for every row (one request's rows share it).
        features : list of list
            Each row's feature values in the order of the `features` given to the log, excluded ones
            included (numbers as floats, NaN or None for a missing one; text as str or None).
        """
        if features:
            self._queue(_Columns(dict(meta), features, self._row_names), len(features))

    def _queue(self, chunk, n: int) -> None:
        with self._lock:
            self._buffer.append(chunk)
            self._rows += n
            full = self._rows >= self.flush_rows
        if full:
            self._wake.set()

    def flush(self) -> None:
        """Write everything buffered now (in the caller's thread)."""
        with self._write_lock:
            with self._lock:
                chunks, self._buffer, self._rows = self._buffer, [], 0
            if chunks:
                self._write(chunks)

    def close(self) -> None:
        """Stop the background thread and write what is buffered."""
        if self._closed:
            return
        self._closed = True
        self._wake.set()
        self._thread.join(timeout=30)
        self.flush()

    # -- the background thread ----------------------------------------------------------------
    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(self.flush_seconds)
            self._wake.clear()
            if self._closed:
                break
            try:
                self.flush()
            except Exception as exc:  # never let the thread die: the next flush tries again
                self.problem = f"the prediction log could not be written: {type(exc).__name__}: {exc}"

    def _write(self, chunks: list) -> None:
        parts = _by_date(chunks)
        try:
            while parts:
                self._write_segment(*parts[0])
                del parts[0]
        except OSError as exc:
            chunks = [chunk for _, part in parts for chunk in part]
            self.problem = _unwritable(self.log_dir, exc)
            with self._lock:  # keep them for the next try, the oldest first, within the cap
                self._buffer[:0] = chunks
                self._rows += sum(map(_size, chunks))
                while self._rows > MAX_BUFFERED_ROWS and self._buffer:
                    over = self._rows - MAX_BUFFERED_ROWS
                    first = self._buffer[0]
                    if _size(first) <= over:
                        del self._buffer[0]
                        dropped = _size(first)
                    else:
                        self._buffer[0] = _tail(first, _size(first) - over)
                        dropped = over
                    self._rows -= dropped
                    self.rows_dropped += dropped
            return
        self.problem = None

    def _write_segment(self, day: str, chunks: list) -> None:
        import pyarrow.parquet as pq

        n = sum(map(_size, chunks))

        folder = self.log_dir / f"date={day}"
        folder.mkdir(parents=True, exist_ok=True)
        stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%S%f")
        name = f"part-{stamp}-{secrets.token_hex(4)}.parquet"
        tmp = folder / f".{name}.tmp"
        try:
            pq.write_table(self._table(chunks), tmp)
            os.replace(tmp, folder / name)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        self.rows_written += n
        self.segments_written += 1

    def _table(self, chunks: list):
        """One table of every chunk's rows: each column gathered over the chunks, then built in one call."""
        import pyarrow as pa

        types = {
            "string": pa.string(),
            "number": pa.float64(),
            "float64": pa.float64(),
            "bool": pa.bool_(),
            "timestamp": pa.timestamp("us", tz="UTC"),
        }
        columns: dict[str, list] = {name: [] for name, _ in META_COLUMNS}
        columns.update((c, []) for c in self.features)
        done = 0  # rows gathered so far
        for chunk in chunks:
            n = _size(chunk)
            if isinstance(chunk, _Columns):
                for name, _ in META_COLUMNS:
                    value = chunk.meta.get(name)
                    columns[name].extend(value if isinstance(value, list) else [value] * n)
                for name, values in zip(chunk.names, zip(*chunk.features, strict=True), strict=False):
                    if name in columns:  # not an excluded column
                        columns[name].extend(values)
            else:
                for name, _ in META_COLUMNS:
                    columns[name].extend([r.get(name) for r in chunk])
                extra: dict[str, None] = {}  # columns beyond the typed ones, in the order first seen
                for r in chunk:
                    extra.update(dict.fromkeys(r))
                for name in (*self.features, *(c for c in extra if c not in self.features)):
                    if name in self.exclude or name in _META_NAMES:
                        continue
                    if name not in columns:
                        columns[name] = [None] * done
                    values = [r.get(name) for r in chunk]
                    kind = self.features.get(name)
                    columns[name].extend(_typed(values, kind) if kind else values)
            done += n
            for values in columns.values():  # columns this chunk did not have
                if len(values) < done:
                    values.extend([None] * (done - len(values)))
        arrays, names = [], []
        for name, values in columns.items():
            if name in self.exclude:
                continue
            kind = dict(META_COLUMNS).get(name) or self.features.get(name)
            if kind is None:
                arrays.append(_column(values, None, None))
            else:  # NaN is a missing number: null, as a missing text
                arrays.append(pa.array(values, type=types[kind], from_pandas=kind in ("number", "float64")))
            names.append(name)
        return pa.Table.from_arrays(arrays, names=names)


_META_NAMES = frozenset(name for name, _ in META_COLUMNS)


class _Columns:
    """Rows queued as columns: meta values (a list per column, or one value for all) and feature rows."""

    __slots__ = ("meta", "features", "names")

    def __init__(self, meta: dict, features: list[list], names: tuple = ()):
        self.meta, self.features, self.names = meta, features, names


def _size(chunk) -> int:
    return len(chunk.features) if isinstance(chunk, _Columns) else len(chunk)


def _tail(chunk, n: int):
    """The last `n` rows of a chunk."""
    if not isinstance(chunk, _Columns):
        return chunk[-n:]
    meta = {k: v[-n:] if isinstance(v, list) else v for k, v in chunk.meta.items()}
    return _Columns(meta, chunk.features[-n:], chunk.names)


def typed_value(value: Any, kind: str) -> Any:
    """A value as a feature column of `kind` keeps it: a float (anything but a number: None) or text."""
    if kind in ("number", "float64"):
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
    return None if value is None else value if isinstance(value, str) else str(value)


def _typed(values: list, kind: str) -> list:
    return [typed_value(v, kind) for v in values]


def _column(values: list, pa_type, kind: str | None):
    """A feature column: numbers as float64 and text as strings when typed, whatever came in."""
    import pyarrow as pa

    if kind in ("number", "float64"):
        values = [
            float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None for v in values
        ]
    elif kind == "string":
        values = [None if v is None else v if isinstance(v, str) else str(v) for v in values]
    else:
        try:
            return pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed types: keep them as text
            return pa.array([None if v is None else str(v) for v in values], type=pa.string())
    return pa.array(values, type=pa_type)


def _by_date(chunks: list) -> list[tuple[str, list]]:
    """Consecutive runs of rows with the same UTC date, as chunks (rows arrive in time order: usually one)."""
    out: list[tuple[str, list]] = []

    def add(day: str, chunk) -> None:
        if out and out[-1][0] == day:
            out[-1][1].append(chunk)
        else:
            out.append((day, [chunk]))

    for chunk in chunks:
        if isinstance(chunk, _Columns):
            add(_day(chunk.meta.get("_time")), chunk)
            continue
        for r in chunk:  # dict rows: each its own time
            day = _day(r.get("_time"))
            if out and out[-1][0] == day and isinstance(out[-1][1][-1], list):
                out[-1][1][-1].append(r)
            else:
                add(day, [r])
    return out


def _day(t) -> str:
    return (t.astimezone(_dt.UTC) if t is not None else _dt.datetime.now(_dt.UTC)).date().isoformat()


def _unwritable(folder: Path, exc: OSError) -> str:
    return f"the log folder cannot be written: {folder} ({exc.strerror or exc}); serving goes on without it"
