"""The run store: a report run is a directory, written under a temporary name and renamed when complete.

``<reports_dir>/<kind>/<run-id>/`` holds the executed ``report.ipynb``,
``report.html``, ``summary.json`` and ``results.json`` (the result objects'
``to_dict()``, what the notebook re-renders from). While a run works it lives
in ``<kind>/.tmp-<run-id>/``: a crash or a SIGKILL never leaves a half-run that
looks finished, and never touches older runs (ids are unique).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import secrets
import shutil
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench._json import json_default
from workbench.reports.ledger import Ledger, row_from_summary

TMP_PREFIX = ".tmp-"


def hostname() -> str:
    """This machine's host name (recorded with running runs, to reconcile them later)."""
    return socket.gethostname()


def now_iso() -> str:
    """The current UTC time in ISO 8601, to the second."""
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def new_run_id(kind: str, name: str | None = None) -> str:
    """Unique, sortable and readable: ``20261129T101500-nightly-3fa2c1``."""
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%S")
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", name or kind).strip("-.")[:60] or kind
    return f"{stamp}-{slug}-{secrets.token_hex(3)}"


@dataclass
class Run:
    """A run in progress: write into :attr:`work_dir`, then :meth:`finish`."""

    store: RunStore
    kind: str
    id: str
    name: str | None
    params: dict
    period: str | None
    started_at: str = field(default_factory=now_iso)

    @property
    def work_dir(self) -> Path:
        """The temporary folder the run writes into (``.tmp-<id>``: listings skip it)."""
        return self.store.kind_dir(self.kind) / f"{TMP_PREFIX}{self.id}"

    @property
    def final_dir(self) -> Path:
        """The folder the run is renamed to when it finishes."""
        return self.store.kind_dir(self.kind) / self.id

    def finish(self, summary: dict[str, Any]) -> Path:
        """Write summary.json, move the run to its final name, index it; returns the final dir."""
        summary = {
            **summary,
            "run_id": self.id,
            "kind": self.kind,
            "name": self.name,
            "started_at": self.started_at,
            "finished_at": now_iso(),
        }
        summary.setdefault("period", self.period)
        summary.setdefault("params", self.params)
        summary["run_dir"] = str(self.final_dir)
        tmp_summary = self.work_dir / "summary.json.tmp"
        tmp_summary.write_text(json.dumps(summary, indent=2, default=json_default))
        os.replace(tmp_summary, self.work_dir / "summary.json")
        os.replace(self.work_dir, self.final_dir)  # atomic on one filesystem; ids are unique
        self.store.ledger.upsert(
            {**row_from_summary(summary, self.final_dir), "pid": None, "host": hostname()}
        )
        return self.final_dir


class RunStore:
    """Report runs under one reports directory, and their ledger."""

    def __init__(self, reports_dir: str | Path):
        self.root = Path(reports_dir)
        self.ledger = Ledger(self.root)

    def kind_dir(self, kind: str) -> Path:
        """The folder of the runs of report kind `kind`."""
        return self.root / kind

    def start(
        self, kind: str, *, name: str | None = None, params: dict | None = None, period: str | None = None
    ) -> Run:
        """Start a run: create its work folder and index it as 'running'.

        The ledger row is written first; if that fails the folder is removed, so
        no run exists that the ledger does not list.
        """
        run = Run(self, kind, new_run_id(kind, name), name, dict(params or {}), period)
        run.work_dir.mkdir(parents=True, exist_ok=False)
        try:  # the row first, or no run: a folder nobody indexed would vanish from every listing
            self.ledger.upsert(
                {
                    "id": run.id,
                    "kind": kind,
                    "name": name,
                    "status": "running",
                    "started_at": run.started_at,
                    "period": period,
                    "params": run.params,
                    "run_dir": str(run.final_dir),
                    "pid": os.getpid(),
                    "host": hostname(),
                }
            )
        except BaseException:
            shutil.rmtree(run.work_dir, ignore_errors=True)
            raise
        return run

    def run_dirs(self, kind: str | None = None) -> list[Path]:
        """The finished runs' folders (of `kind`, or of every kind), sorted by path."""
        kinds = (
            [self.kind_dir(kind)]
            if kind
            else [p for p in self.root.iterdir() if p.is_dir()]
            if self.root.exists()
            else []
        )
        out = []
        for k in kinds:
            if k.is_dir():
                out += [p for p in k.iterdir() if p.is_dir() and not p.name.startswith(".")]
        return sorted(out)


def remove_orphan_tmp(reports_dir: str | Path, run_id: str) -> None:
    """Remove what a killed run left under its temporary name (never a finished run)."""
    for tmp in Path(reports_dir).glob(f"*/{TMP_PREFIX}{run_id}"):
        shutil.rmtree(tmp, ignore_errors=True)
