"""The prediction log writer: every record a server answered, as Parquet segments partitioned by date.

Layout (the contract the log readers rely on, :mod:`workbench.serving.log_table`)::

    LOGDIR/date=YYYY-MM-DD/part-<YYYYmmddTHHMMSSffffff>-<8 hex>.parquet

one row per (record, model that scored it): the meta columns :data:`META_COLUMNS`
(all starting with an underscore), then the record's features under their
original names (minus the excluded ones). The date is the UTC date of the
row's ``_time``.

Never on the request path: :meth:`PredictionLog.append` puts rows in a buffer
(O(1)); a background thread writes them every ``flush_seconds`` or every
``flush_rows`` rows. A segment is written under a temporary name beginning
with a dot and renamed with :func:`os.replace`, so a crash loses at most the
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
        self.rows_written = 0
        self.rows_dropped = 0
        self.segments_written = 0
        self.problem: str | None = None
        self._buffer: list[dict] = []
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
        return len(self._buffer)

    def append(self, rows: list[dict]) -> None:
        """Queue `rows` for writing (returns at once; the background thread writes them)."""
        if not rows:
            return
        with self._lock:
            self._buffer.extend(rows)
            full = len(self._buffer) >= self.flush_rows
        if full:
            self._wake.set()

    def flush(self) -> None:
        """Write everything buffered now (in the caller's thread)."""
        with self._write_lock:
            with self._lock:
                rows, self._buffer = self._buffer, []
            if rows:
                self._write(rows)

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

    def _write(self, rows: list[dict]) -> None:
        try:
            for day, part in _by_date(rows):
                self._write_segment(day, part)
                rows = rows[len(part) :]
        except OSError as exc:
            self.problem = _unwritable(self.log_dir, exc)
            with self._lock:  # keep them for the next try, the oldest first, within the cap
                self._buffer[:0] = rows
                over = len(self._buffer) - MAX_BUFFERED_ROWS
                if over > 0:
                    del self._buffer[:over]
                    self.rows_dropped += over
            return
        self.problem = None

    def _write_segment(self, day: str, rows: list[dict]) -> None:
        import pyarrow.parquet as pq

        folder = self.log_dir / f"date={day}"
        folder.mkdir(parents=True, exist_ok=True)
        stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%S%f")
        name = f"part-{stamp}-{secrets.token_hex(4)}.parquet"
        tmp = folder / f".{name}.tmp"
        try:
            pq.write_table(self._table(rows), tmp)
            os.replace(tmp, folder / name)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        self.rows_written += len(rows)
        self.segments_written += 1

    def _table(self, rows: list[dict]):
        import pyarrow as pa

        types = {
            "string": pa.string(),
            "number": pa.float64(),
            "float64": pa.float64(),
            "bool": pa.bool_(),
            "timestamp": pa.timestamp("us", tz="UTC"),
        }
        arrays, names = [], []
        for name, kind in META_COLUMNS:
            arrays.append(pa.array([r.get(name) for r in rows], type=types[kind]))
            names.append(name)
        extra: dict[str, None] = {}  # columns beyond the typed ones, in the order first seen
        for r in rows:
            extra.update(dict.fromkeys(r))
        for name in (*self.features, *(c for c in extra if c not in self.features)):
            if name in self.exclude or name in _META_NAMES:
                continue
            values = [r.get(name) for r in rows]
            kind = self.features.get(name)
            arrays.append(_column(values, types.get(kind), kind))
            names.append(name)
        return pa.Table.from_arrays(arrays, names=names)


_META_NAMES = frozenset(name for name, _ in META_COLUMNS)


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


def _by_date(rows: list[dict]) -> list[tuple[str, list[dict]]]:
    """Consecutive runs of rows with the same UTC date (rows arrive in time order, so usually one)."""
    out: list[tuple[str, list[dict]]] = []
    for r in rows:
        t = r.get("_time")
        day = (t.astimezone(_dt.UTC) if t is not None else _dt.datetime.now(_dt.UTC)).date().isoformat()
        if out and out[-1][0] == day:
            out[-1][1].append(r)
        else:
            out.append((day, [r]))
    return out


def _unwritable(folder: Path, exc: OSError) -> str:
    return f"the log folder cannot be written: {folder} ({exc.strerror or exc}); serving goes on without it"
