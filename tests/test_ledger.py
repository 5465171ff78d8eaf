"""The ledger never misreports.

A renamed-but-unindexed run, unreadable folders, a missing or damaged ledger.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.reports.ledger import Ledger, LedgerError
from workbench.reports.store import RunStore, hostname

WORKBENCH = str(Path(sys.executable).parent / "workbench")


def _finished_run(
    store: RunStore, kind: str = "drift", *, index: bool = True, status: str = "passed"
) -> Path:
    run = store.start(kind, name="n", params={"current": "c.parquet"}, period="2026-11-01")
    (run.work_dir / "report.html").write_text("<html></html>")
    summary = {
        "status": status,
        "checks": [
            {
                "name": "drift.share",
                "passed": True,
                "value": 0.1,
                "threshold": 0.3,
                "op": "<=",
                "severity": "error",
            }
        ],
        "headline": "fine",
        "metrics": {"drift.share": 0.1},
    }
    if index:
        return run.finish(summary)
    # what a process killed between the rename and the ledger write leaves behind
    full = {
        **summary,
        "run_id": run.id,
        "kind": kind,
        "name": "n",
        "started_at": run.started_at,
        "finished_at": run.started_at,
        "period": "2026-11-01",
        "params": {},
        "run_dir": str(run.final_dir),
    }
    (run.work_dir / "summary.json").write_text(json.dumps(full))
    os.replace(run.work_dir, run.final_dir)
    return run.final_dir


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_run_renamed_into_place_but_not_indexed_is_reconciled_as_completed(tmp_path):
    store = RunStore(tmp_path / "reports")
    folder = _finished_run(store, index=False)
    ledger = Ledger(tmp_path / "reports")
    ledger.upsert(
        {
            "id": folder.name,
            "kind": "drift",
            "status": "running",
            "started_at": "x",
            "run_dir": str(folder),
            "pid": _dead_pid(),
            "host": hostname(),
        }
    )
    (row,) = ledger.runs()
    assert row["status"] == "passed" and row["error"] is None
    assert folder.is_dir() and (folder / "summary.json").is_file()


def test_a_killed_run_is_failed_and_its_temporary_folder_removed(tmp_path):
    store = RunStore(tmp_path / "reports")
    run = store.start("drift", name="killed", params={})
    Ledger(tmp_path / "reports").upsert(
        {"id": run.id, "pid": _dead_pid(), "kind": "drift", "status": "running", "started_at": run.started_at}
    )
    (row,) = Ledger(tmp_path / "reports").runs()
    assert row["status"] == "failed" and "killed" in row["error"]
    assert not run.work_dir.exists()


def test_a_missing_ledger_is_rebuilt_on_first_use(tmp_path):
    store = RunStore(tmp_path / "reports")
    folders = [_finished_run(store) for _ in range(3)]
    for suffix in ("", "-wal", "-shm"):
        Path(str(store.ledger.path) + suffix).unlink(missing_ok=True)
    rows = Ledger(tmp_path / "reports").runs()
    assert sorted(r["id"] for r in rows) == sorted(f.name for f in folders)
    r = subprocess.run(
        [WORKBENCH, "runs", "--reports-dir", str(tmp_path / "reports")], capture_output=True, text=True
    )
    assert r.returncode == 0 and "no runs yet" not in r.stdout and folders[0].name in r.stdout


def test_rebuild_names_every_folder_it_could_not_read(tmp_path):
    store = RunStore(tmp_path / "reports")
    good = _finished_run(store)
    broken = _finished_run(store)
    (broken / "summary.json").write_text("{not json")
    empty = tmp_path / "reports" / "drift" / "20261101T000000-lost-abcdef"
    empty.mkdir()
    r = subprocess.run(
        [WORKBENCH, "runs", "--rebuild", "--reports-dir", str(tmp_path / "reports")],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    assert broken.name in r.stderr and "cannot be read" in r.stderr
    assert empty.name in r.stderr and "no summary.json" in r.stderr
    assert "2 could not be read" in r.stdout and good.name in r.stdout


def test_a_damaged_ledger_says_how_to_repair_it(tmp_path):
    store = RunStore(tmp_path / "reports")
    _finished_run(store)
    for suffix in ("-wal", "-shm"):
        Path(str(store.ledger.path) + suffix).unlink(missing_ok=True)
    store.ledger.path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(LedgerError, match="--rebuild"):
        Ledger(tmp_path / "reports").runs()
    r = subprocess.run(
        [WORKBENCH, "runs", "--reports-dir", str(tmp_path / "reports")], capture_output=True, text=True
    )
    assert r.returncode == 2 and "runs --rebuild" in r.stderr and "Traceback" not in r.stderr
    r = subprocess.run(
        [WORKBENCH, "runs", "--rebuild", "--reports-dir", str(tmp_path / "reports")],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0 and "rebuilt from 1 run" in r.stdout


def test_a_failed_run_shows_its_reason_in_the_listing(tmp_path):
    store = RunStore(tmp_path / "reports")
    run = store.start("bias", name="b", params={})
    run.finish({"status": "failed", "error": "KernelDied: the kernel died", "checks": []})
    r = subprocess.run(
        [WORKBENCH, "runs", "--reports-dir", str(tmp_path / "reports")], capture_output=True, text=True
    )
    assert r.returncode == 0 and "error: KernelDied: the kernel died" in r.stdout


def test_runs_into_a_closed_pipe_prints_no_traceback(tmp_path):
    store = RunStore(tmp_path / "reports")
    for _ in range(30):
        _finished_run(store)
    r = subprocess.run(
        f"'{WORKBENCH}' runs --reports-dir '{tmp_path / 'reports'}' | head -n 1",
        shell=True,
        capture_output=True,
        text=True,
    )
    assert r.stdout.startswith("run") and "Traceback" not in r.stderr and "BrokenPipe" not in r.stderr


def test_a_ledger_write_that_meets_a_lock_is_retried(tmp_path, monkeypatch):
    """SQLite may answer 'database is locked' at once: retried, not fatal.

    As it does on WAL set-up, with two new connections.
    """
    import sqlite3

    from workbench.reports import ledger as ledger_mod

    calls = {"n": 0}
    real = ledger_mod._prepare

    def flaky(conn):
        calls["n"] += 1
        if calls["n"] <= 2:
            raise sqlite3.OperationalError("database is locked")
        return real(conn)

    monkeypatch.setattr(ledger_mod, "_prepare", flaky)
    store = RunStore(tmp_path / "reports")
    run = store.start("drift", params={})
    assert calls["n"] >= 3 and Ledger(tmp_path / "reports").get(run.id)["status"] == "running"


def test_a_run_whose_ledger_row_cannot_be_written_leaves_no_folder(tmp_path, monkeypatch):
    from workbench.reports import ledger as ledger_mod

    def broken(self, row):
        raise LedgerError("the ledger is damaged")

    monkeypatch.setattr(ledger_mod.Ledger, "upsert", broken)
    store = RunStore(tmp_path / "reports")
    with pytest.raises(LedgerError):
        store.start("drift", params={})
    assert not list((tmp_path / "reports").glob("drift/*")) and not list(
        (tmp_path / "reports").glob("drift/.*")
    )


@pytest.mark.parametrize("exc", [KeyboardInterrupt, RuntimeError])
def test_a_run_that_starts_is_always_recorded(tmp_path, monkeypatch, exc):
    """Interrupted (Ctrl-C, a cancelled task) or broken inside the runner: a failed run with its reason."""
    from workbench.reports import runner

    def boom(*args, **kwargs):
        raise exc("stopped")

    monkeypatch.setattr(runner, "_execute", boom)
    reports = tmp_path / "reports"
    if exc is KeyboardInterrupt:
        with pytest.raises(KeyboardInterrupt):
            runner.run_report("drift", {}, reports_dir=reports, validate=False, progress=False)
    else:
        out = runner.run_report("drift", {}, reports_dir=reports, validate=False, progress=False)
        assert out.exit_code == 3
    (row,) = Ledger(reports).runs()
    assert row["status"] == "failed" and exc.__name__ in row["error"]
    assert Path(row["run_dir"]).is_dir() and not list(reports.glob("drift/.tmp-*"))
