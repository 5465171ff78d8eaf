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

LEDGER_NAME = "ledger.sqlite"
_COLUMNS = ("id", "kind", "name", "status", "started_at", "finished_at", "period", "params", "metrics", "checks",
            "n_failed", "failed_checks", "run_dir", "model_sha256", "data_fingerprint", "error", "pid", "host",
            "findings")
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
        self.reports_dir.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        try:
            conn.execute("PRAGMA busy_timeout = 60000")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.executescript(_SCHEMA)
            conn.row_factory = sqlite3.Row
            yield conn
        finally:
            conn.close()

    def upsert(self, row: Mapping[str, Any]) -> None:
        data = {k: _encode(k, row.get(k)) for k in _COLUMNS if k in row}
        cols = ", ".join(data)
        marks = ", ".join("?" for _ in data)
        updates = ", ".join(f"{k}=excluded.{k}" for k in data if k != "id")
        with self.connect() as conn:
            conn.execute(f"INSERT INTO runs ({cols}) VALUES ({marks}) ON CONFLICT(id) DO UPDATE SET {updates}",
                         list(data.values()))

    def runs(self, *, kind: str | None = None, status: str | None = None, limit: int | None = None,
             reconcile: bool = True) -> list[dict]:
        """Runs, newest first (stale 'running' rows are reconciled first)."""
        if not self.path.exists():
            return []
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
        if not self.path.exists():
            return None
        with self.connect() as conn:
            r = conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        return _decode(dict(r)) if r else None

    def reconcile(self) -> list[str]:
        """Mark 'running' rows whose process is gone as failed (a killed run); returns their ids."""
        from workbench.reports.store import hostname, remove_orphan_tmp

        fixed = []
        with self.connect() as conn:
            rows = conn.execute("SELECT id, pid, host, run_dir, kind FROM runs WHERE status = 'running'").fetchall()
            for r in rows:
                if r["host"] == hostname() and _alive(r["pid"]):
                    continue
                if r["host"] != hostname():
                    continue  # another machine's run: not ours to judge
                conn.execute(
                    "UPDATE runs SET status='failed', error=? WHERE id=? AND status='running'",
                    ("the run was killed before it finished (its process is gone); no report was written", r["id"]),
                )
                fixed.append(r["id"])
        for run_id in fixed:
            remove_orphan_tmp(self.reports_dir, run_id)
        return fixed

    def rebuild(self) -> int:
        """Recreate the ledger from the run directories' summary.json files; returns the run count."""
        rows = []
        for summary in sorted(self.reports_dir.glob("*/*/summary.json")):
            if summary.parent.name.startswith("."):
                continue
            try:
                data = json.loads(summary.read_text())
            except (OSError, ValueError):
                continue
            rows.append(row_from_summary(data, summary.parent))
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
        "checks": [{"name": c["name"], "passed": c.get("passed", True), "value": c.get("value"),
                    "threshold": c.get("threshold"), "severity": c.get("severity", "error")} for c in checks],
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
