"""The ledger: one SQLite row per report run, for trends, listings and the dashboard.

SQLite in WAL mode with a busy timeout, so that concurrent runs on one reports
directory (two cron jobs, a CI matrix) serialise their small writes instead of
failing. The ledger is an index: it can always be rebuilt from the run
directories' ``summary.json`` files.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from workbench.errors import WorkbenchError

LEDGER_NAME = "ledger.sqlite"
#: folders under a reports directory that hold no runs (model cards: workbench.releases.card)
NOT_RUNS = ("cards",)
_COLUMNS = (
    "id",
    "kind",
    "name",
    "status",
    "started_at",
    "finished_at",
    "period",
    "params",
    "metrics",
    "checks",
    "n_failed",
    "failed_checks",
    "run_dir",
    "model_sha256",
    "data_fingerprint",
    "error",
    "pid",
    "host",
    "findings",
)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT,
    status TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    period TEXT,
    params TEXT,
    metrics TEXT,
    checks TEXT,
    n_failed INTEGER DEFAULT 0,
    failed_checks TEXT,
    run_dir TEXT,
    model_sha256 TEXT,
    data_fingerprint TEXT,
    error TEXT,
    pid INTEGER,
    host TEXT,
    findings TEXT
);
CREATE INDEX IF NOT EXISTS runs_kind_started ON runs(kind, started_at);
"""
_JSON_FIELDS = ("params", "metrics", "checks", "failed_checks", "findings")


class Ledger:
    """Index of report runs in ``<reports_dir>/ledger.sqlite``."""

    def __init__(self, reports_dir: str | Path):
        self.reports_dir = Path(reports_dir)
        self.path = self.reports_dir / LEDGER_NAME

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A connection to the ledger (created if need be), closed when the block ends.

        Raises
        ------
        LedgerError
            When the file is damaged (the message says how to rebuild it).
        """
        self.reports_dir.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        try:
            try:
                _retry(lambda: _prepare(conn))
            except sqlite3.DatabaseError as exc:
                if _transient(exc):
                    raise
                raise LedgerError(
                    f"the ledger '{self.path}' is damaged ({exc}); `workbench runs --rebuild --reports-dir "
                    f"{self.reports_dir}` rebuilds it from the run folders"
                ) from None
            yield conn
        finally:
            conn.close()

    def upsert(self, row: Mapping[str, Any]) -> None:
        """Insert the run `row` (a dict of ledger columns), or update the row with the same id."""
        data = {k: _encode(k, row.get(k)) for k in _COLUMNS if k in row}
        cols = ", ".join(data)
        marks = ", ".join("?" for _ in data)
        updates = ", ".join(f"{k}=excluded.{k}" for k in data if k != "id")
        sql = f"INSERT INTO runs ({cols}) VALUES ({marks}) ON CONFLICT(id) DO UPDATE SET {updates}"
        with self.connect() as conn:
            _retry(lambda: conn.execute(sql, list(data.values())))

    def runs(
        self,
        *,
        kind: str | None = None,
        status: str | None = None,
        limit: int | None = None,
        reconcile: bool = True,
    ) -> list[dict]:
        """Runs, newest first (stale 'running' rows are reconciled first)."""
        if not self.path.exists():
            if not self.has_run_dirs():
                return []
            try:  # the index was deleted or never written: the run folders are the truth
                self.rebuild()
            except (OSError, sqlite3.Error):  # a read-only folder: list them without writing an index
                rows = [
                    r
                    for r in self.read_run_dirs()[0]
                    if (not kind or r["kind"] == kind) and (not status or r["status"] == status)
                ]
                rows.sort(key=lambda r: (r["started_at"] or "", r["id"]), reverse=True)
                return rows[:limit] if limit else rows
        if reconcile:
            self.reconcile()
        sql, args = "SELECT * FROM runs WHERE 1=1", []
        if kind:
            sql += " AND kind = ?"
            args.append(kind)
        if status:
            sql += " AND status = ?"
            args.append(status)
        sql += " ORDER BY started_at DESC, id DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        with self.connect() as conn:
            return [_decode(dict(r)) for r in conn.execute(sql, args)]

    def get(self, run_id: str) -> dict | None:
        """The run with id `run_id`, or None (also when there is no ledger yet)."""
        if not self.path.exists():
            return None
        with self.connect() as conn:
            r = conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        return _decode(dict(r)) if r else None

    def reconcile(self) -> list[str]:
        """Settle 'running' rows whose process is gone; returns their ids.

        A run whose folder reached its final name wrote its ``summary.json``
        before the rename: it completed, and its row is rewritten from it. Any
        other is a killed run: failed, and its temporary folder removed.
        """
        from workbench.reports.store import hostname, remove_orphan_tmp

        fixed, killed = [], []
        with self.connect() as conn:
            rows = conn.execute(
                "SELECT id, pid, host, run_dir, kind FROM runs WHERE status = 'running'"
            ).fetchall()
        for r in rows:
            if r["host"] != hostname() or _alive(r["pid"]):
                continue  # still working, or another machine's run: not ours to judge
            summary = self._final_summary(r)
            if summary is not None:
                self.upsert({**row_from_summary(summary, Path(r["run_dir"])), "pid": None, "host": r["host"]})
            else:
                with self.connect() as conn:
                    _retry(
                        lambda r=r: conn.execute(
                            "UPDATE runs SET status='failed', error=? WHERE id=? AND status='running'",
                            (
                                "the run was killed before it finished (its process is gone); "
                                "no report was written",
                                r["id"],
                            ),
                        )
                    )
                killed.append(r["id"])
            fixed.append(r["id"])
        for run_id in killed:
            remove_orphan_tmp(self.reports_dir, run_id)
        return fixed

    def _final_summary(self, row: Mapping[str, Any]) -> dict | None:
        candidates = [Path(row["run_dir"])] if row["run_dir"] else []
        candidates.append(self.reports_dir / str(row["kind"]) / str(row["id"]))
        for folder in candidates:
            try:
                data = json.loads((folder / "summary.json").read_text())
            except (OSError, ValueError):
                continue
            if isinstance(data, dict) and data.get("run_id", row["id"]) == row["id"]:
                return data
        return None

    def read_run_dirs(self) -> tuple[list[dict], list[tuple[Path, str]]]:
        """Ledger rows from the run folders' summary.json, and the folders that could not be read (why)."""
        rows: list[dict] = []
        unreadable: list[tuple[Path, str]] = []
        for folder in sorted(p for p in self.reports_dir.glob("*/*") if p.is_dir()):
            if folder.name.startswith(".") or folder.parent.name.startswith("."):
                continue
            if folder.parent.name in NOT_RUNS:
                continue
            try:
                data = json.loads((folder / "summary.json").read_text())
                if not isinstance(data, dict):
                    raise ValueError("not a JSON object")
                rows.append(row_from_summary(data, folder))
            except FileNotFoundError:
                unreadable.append((folder, "it has no summary.json"))
            except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
                unreadable.append((folder, f"its summary.json cannot be read ({type(exc).__name__})"))
        return rows, unreadable

    def has_run_dirs(self) -> bool:
        """True when any run folder under the reports directory holds a ``summary.json``."""
        return any(True for _ in self.reports_dir.glob("*/*/summary.json"))

    def rebuild(self) -> int:
        """Recreate the ledger from the run directories' summary.json files; returns the run count.

        Folders it cannot read are listed in :attr:`unreadable` (never dropped
        silently: the CLI names each one).
        """
        rows, self.unreadable = self.read_run_dirs()
        tmp = self.path.with_name(f".{LEDGER_NAME}.rebuild-{os.getpid()}")
        for suffix in ("", "-wal", "-shm"):
            Path(str(tmp) + suffix).unlink(missing_ok=True)
        fresh = Ledger.__new__(Ledger)
        fresh.reports_dir, fresh.path = self.reports_dir, tmp
        for row in rows:
            fresh.upsert(row)
        with fresh.connect() as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.execute("PRAGMA journal_mode = DELETE")
        os.replace(tmp, self.path)
        for suffix in ("-wal", "-shm"):
            Path(str(self.path) + suffix).unlink(missing_ok=True)
            Path(str(tmp) + suffix).unlink(missing_ok=True)
        return len(rows)


def row_from_summary(summary: Mapping[str, Any], run_dir: Path) -> dict:
    """The ledger row of a finished run, from its ``summary.json`` and its folder."""
    checks = summary.get("checks") or []
    failed = [c["name"] for c in checks if not c.get("passed", True)]
    lineage = summary.get("lineage") or {}
    data_fp = (lineage.get("data") or {}).get("current") or {}
    return {
        "id": summary.get("run_id") or run_dir.name,
        "kind": summary.get("kind", run_dir.parent.name),
        "name": summary.get("name"),
        "status": summary.get("status", "unknown"),
        "started_at": summary.get("started_at", ""),
        "finished_at": summary.get("finished_at"),
        "period": summary.get("period"),
        "params": summary.get("params") or {},
        "metrics": summary.get("metrics") or {},
        "checks": [
            {
                "name": c["name"],
                "passed": c.get("passed", True),
                "value": c.get("value"),
                "threshold": c.get("threshold"),
                "op": c.get("op"),
                "severity": c.get("severity", "error"),
            }
            for c in checks
        ],
        "n_failed": len(failed),
        "failed_checks": failed,
        "run_dir": str(run_dir),
        "model_sha256": (lineage.get("model") or {}).get("sha256"),
        "data_fingerprint": data_fp.get("sha256") if isinstance(data_fp, Mapping) else None,
        "error": summary.get("error"),
        "pid": None,
        "host": None,
        "findings": summary.get("headline") and [summary.get("headline")] or summary.get("findings", [])[:5],
    }


class LedgerError(WorkbenchError, sqlite3.DatabaseError):
    """The ledger file cannot be used (damaged); it can be rebuilt from the run folders."""


def _prepare(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA busy_timeout = 60000")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.executescript(_SCHEMA)
    conn.row_factory = sqlite3.Row


def _transient(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _retry(op, attempts: int = 8):
    """Run `op`, retrying SQLite's transient 'database is locked' (which WAL can raise without waiting).

    Two processes opening a new ledger at once, or one switching it to WAL while
    another reads, get SQLITE_BUSY at once rather than after the busy timeout.
    """
    import random
    import time

    for i in range(attempts):
        try:
            return op()
        except sqlite3.OperationalError as exc:
            if not _transient(exc) or i == attempts - 1:
                raise
            time.sleep(0.05 * (2**i) * (0.5 + random.random()))
    return None


def _alive(pid: Any) -> bool:
    if not pid:
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except (TypeError, ValueError, OSError):
        return False
    # a zombie (killed but not yet reaped) is not alive for our purposes
    try:
        with open(f"/proc/{int(pid)}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _encode(key: str, value: Any) -> Any:
    if key in _JSON_FIELDS and value is not None and not isinstance(value, str):
        return json.dumps(value, default=str)
    return value


def _decode(row: dict) -> dict:
    for k in _JSON_FIELDS:
        if isinstance(row.get(k), str):
            try:
                row[k] = json.loads(row[k])
            except ValueError:
                pass
    return row
