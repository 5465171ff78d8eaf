"""The runs a dashboard shows: ledger rows, what is wrong with them, and filters.

Pure functions over the ledger and the run directories: no widgets, no
plotly, no analysis library. :func:`load_runs` never raises on a damaged
reports directory: what it cannot read becomes a :class:`Problem` that the
dashboard shows as an error card, and the rest still renders.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from workbench.reports.ledger import LEDGER_NAME, Ledger, row_from_summary

ENV_REPORTS_DIR = "WORKBENCH_REPORTS_DIR"
ARTIFACTS = ("summary.json", "results.json", "report.html", "report.ipynb")
STATUSES = ("passed", "checks_failed", "failed", "running")
NO_MODEL = "(no model)"
# Parsing a summary.json costs ~5-15 ms (it holds the whole result); the newest runs are parsed, older
# ones get a cheap truncation check (a damaged JSON file almost always lost its end).
VALIDATE_NEWEST = 10


@dataclass(frozen=True)
class Problem:
    """Something the dashboard cannot show as it should, in words a reader can act on."""

    kind: str  # no_runs | ledger | failed_run | corrupt | missing_artifact | missing_run | running
    title: str
    detail: str
    run_id: str | None = None
    severity: str = "error"  # error | warning | info


@dataclass
class RunsIndex:
    """The runs of one reports directory (newest first) and the problems found reading them."""

    reports_dir: Path
    runs: list[dict] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def get(self, run_id: str) -> dict | None:
        """The run with id `run_id`, or None."""
        return next((r for r in self.runs if r["id"] == run_id), None)

    def problems_of(self, run_id: str) -> list[Problem]:
        """The problems found for run `run_id`."""
        return [p for p in self.problems if p.run_id == run_id]

    def models(self) -> list[str]:
        """The model names the runs were made for, sorted."""
        return sorted({r["model"] for r in self.runs})

    def kinds(self) -> list[str]:
        """The report kinds among the runs, sorted."""
        return sorted({r["kind"] for r in self.runs})


def resolve_reports_dir(reports_dir: str | os.PathLike | None = None) -> Path:
    """The reports directory to show.

    Explicit argument, else ``$WORKBENCH_REPORTS_DIR`` (set by ``workbench
    dashboard``), else the current folder when it holds a ledger (the index
    notebook copied into a reports directory), else the nearest ``reports/``
    folder with a ledger up from here (the repository's notebooks/dashboards/
    opened in JupyterLab), else ``./reports``.
    """
    if reports_dir:
        return Path(reports_dir).expanduser()
    env = os.environ.get(ENV_REPORTS_DIR)
    if env:
        return Path(env).expanduser()
    here = Path.cwd()
    if (here / LEDGER_NAME).is_file():
        return here
    for parent in (here, *here.parents):
        if (parent / "reports" / LEDGER_NAME).is_file():
            return parent / "reports"
    return Path("reports")


def load_runs(
    reports_dir: str | os.PathLike | None = None, *, validate_newest: int = VALIDATE_NEWEST
) -> RunsIndex:
    """Read the ledger (or, when it is unreadable, the run directories) and check each run's files."""
    root = resolve_reports_dir(reports_dir)
    index = RunsIndex(root)
    if not root.is_dir():
        index.problems.append(_no_runs(root, missing=True))
        return index
    rows = _ledger_rows(root, index.problems)
    index.runs = [_enrich(row, root) for row in rows]
    if not index.runs:
        if not any(p.kind == "ledger" for p in index.problems):
            index.problems.append(_no_runs(root))
        return index
    for i, run in enumerate(index.runs):
        index.problems += _run_problems(run, deep=i < validate_newest)
    return index


def filter_runs(
    runs: Iterable[Mapping], *, kind: str | None = None, model: str | None = None, status: str | None = None
) -> list[dict]:
    """Runs matching every given criterion (None or "all" means any)."""

    def ok(value, wanted):
        return wanted in (None, "", "all") or value == wanted

    return [
        dict(r) for r in runs if ok(r["kind"], kind) and ok(r["model"], model) and ok(r["status"], status)
    ]


def by_period(runs: Iterable[Mapping]) -> list[dict]:
    """Runs in data-period order (oldest first); runs of one period in the order they were started."""
    return sorted(
        (dict(r) for r in runs), key=lambda r: (r["period_label"], r.get("started_at") or "", r["id"])
    )


def latest_per_period(runs: Iterable[Mapping]) -> list[dict]:
    """One run per data period (the last one started), oldest period first: the points of a trend."""
    out: dict[str, dict] = {}
    for r in by_period(runs):
        out[r["period_label"]] = r
    return list(out.values())


def read_summary(run: Mapping) -> dict:
    """A run's summary.json (raises OSError / ValueError when missing or damaged)."""
    return json.loads((Path(run["path"]) / "summary.json").read_text())


def run_label(run: Mapping) -> str:
    """One line naming a run for a selector: period, kind, name, status."""
    warned = len(run.get("failed_warnings") or [])
    passed = f"passed, {warned} warning{'s' if warned > 1 else ''}" if warned else "passed"
    status = {
        "passed": passed,
        "checks_failed": f"{run['n_errors']} check(s) failed",
        "failed": "run failed",
        "running": "running",
    }.get(run["status"], run["status"])
    name = f" · {run['name']}" if run.get("name") else ""
    return f"{run['period_label']} · {run['kind']}{name} · {status}"


# -- helpers ------------------------------------------------------------------------
def _ledger_rows(root: Path, problems: list[Problem]) -> list[dict]:
    ledger = Ledger(root)
    if ledger.path.is_file():
        try:
            try:
                return ledger.runs()
            except sqlite3.OperationalError:  # read-only folder: cannot reconcile stale 'running' rows
                return ledger.runs(reconcile=False)
        except sqlite3.DatabaseError as exc:
            problems.append(
                Problem(
                    "ledger",
                    "The ledger cannot be read",
                    f"{display_name(root)}/{ledger.path.name} is damaged ({exc}); the runs below are read "
                    "from their directories. "
                    f"`workbench runs --rebuild --reports-dir {display_name(root)}` rebuilds it.",
                    severity="warning",
                )
            )
    rows = []
    for summary in root.glob("*/*/summary.json"):
        if summary.parent.name.startswith("."):
            continue
        try:
            rows.append(row_from_summary(json.loads(summary.read_text()), summary.parent))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue  # reported per run below when it is listed; unlisted, it is invisible anyway
    if rows and not ledger.path.is_file():
        problems.append(
            Problem(
                "ledger",
                "No ledger in this reports directory",
                "The runs below are read from their directories; "
                f"`workbench runs --rebuild --reports-dir {display_name(root)}` indexes them.",
                severity="info",
            )
        )
    return sorted(rows, key=lambda r: (r.get("started_at") or "", r["id"]), reverse=True)


def _enrich(row: Mapping, root: Path) -> dict:
    r = dict(row)
    r["period_label"] = str(r.get("period") or (r.get("started_at") or "")[:10] or "—")
    r["model"] = _model_label(r)
    r["rel_dir"] = f"{r['kind']}/{r['id']}"
    # The store's layout, not the recorded absolute path: a reports directory that was moved still works.
    r["path"] = str(root / r["kind"] / r["id"])
    checks = r.get("checks") or []
    r["checks"] = checks if isinstance(checks, list) else []
    r["failed_errors"] = [
        c["name"] for c in r["checks"] if not c.get("passed", True) and c.get("severity", "error") == "error"
    ]
    r["failed_warnings"] = [
        c["name"] for c in r["checks"] if not c.get("passed", True) and c.get("severity", "error") != "error"
    ]
    r["n_errors"] = len(r["failed_errors"])
    r["metrics"] = r.get("metrics") if isinstance(r.get("metrics"), dict) else {}
    r["findings"] = r.get("findings") if isinstance(r.get("findings"), list) else []
    r["artifacts"] = {name: (Path(r["path"]) / name).is_file() for name in ARTIFACTS}
    return r


def _model_label(row: Mapping) -> str:
    params = row.get("params") if isinstance(row.get("params"), Mapping) else {}
    path = params.get("model") or params.get("challenger")  # a compare run is about its challenger
    sha = row.get("model_sha256")
    if not path and not sha:
        return NO_MODEL
    name = Path(str(path)).name if path else "model"
    return f"{name} ({sha[:6]})" if sha else name


def _run_problems(run: Mapping, *, deep: bool) -> list[Problem]:
    rid, where = run["id"], f"{run['kind']} run '{run.get('name') or run['id']}' ({run['period_label']})"
    status = run["status"]
    if status == "running":
        return [
            Problem(
                "running",
                f"A {run['kind']} run is in progress",
                f"{where} started at {run.get('started_at')}; it appears here when it finishes.",
                rid,
                "info",
            )
        ]
    out = []
    if status == "failed":
        error = (run.get("error") or "no error was recorded").strip()
        out.append(Problem("failed_run", f"The {where} failed", error.splitlines()[0][:400], rid))
    path = Path(run["path"])
    if not path.is_dir():
        return out + [
            Problem(
                "missing_run",
                f"The {where} is missing from disk",
                f"Its directory {run['rel_dir']} was deleted or moved; only its ledger entry is left.",
                rid,
            )
        ]
    arts = run["artifacts"]
    needed = ("summary.json", "report.ipynb") if status == "failed" else ARTIFACTS
    missing = [a for a in needed if not arts.get(a)]
    if missing:
        what = {
            "report.html": "the static report link is unavailable",
            "results.json": "its checks and charts cannot be re-rendered",
            "report.ipynb": "its own page is unavailable",
            "summary.json": "a ledger rebuild would lose it",
        }
        out.append(
            Problem(
                "missing_artifact",
                f"The {where} is missing {', '.join(missing)}",
                "; ".join(f"{a}: {what[a]}" for a in missing) + ".",
                rid,
            )
        )
    for name in ("summary.json", "results.json"):
        if arts.get(name) and not _json_ok(path / name, deep=deep):
            consequence = (
                "a ledger rebuild would lose this run"
                if name == "summary.json"
                else "its checks and charts cannot be re-rendered"
            )
            out.append(
                Problem(
                    "corrupt",
                    f"The {where} has a damaged {name}",
                    f"{run['rel_dir']}/{name} is not valid JSON: {consequence}.",
                    rid,
                )
            )
    return out


def _json_ok(path: Path, *, deep: bool) -> bool:
    try:
        if deep:
            json.loads(path.read_bytes())
            return True
        with path.open("rb") as f:
            head = f.read(1)
            f.seek(max(0, path.stat().st_size - 64))
            tail = f.read().rstrip()
        return head == b"{" and tail.endswith(b"}")
    except (OSError, ValueError):
        return False


def display_name(root: Path) -> str:
    """The reports directory as a page names it: its name (a page never shows the server's paths)."""
    return Path(root).resolve().name or str(root)


def _no_runs(root: Path, *, missing: bool = False) -> Problem:
    shown = display_name(root)
    where = (
        f"The reports directory {shown} does not exist yet"
        if missing
        else f"{shown} holds no report runs yet"
    )
    return Problem(
        "no_runs",
        "No runs yet",
        f"{where}. Run `workbench report drift --reference REF --current CUR --reports-dir {shown}` "
        "(or `workbench demo --quick --no-serve`) and reload this page.",
        severity="info",
    )


def metric(run: Mapping, key: str) -> float | None:
    """A numeric key figure of a run, or None."""
    v = (run.get("metrics") or {}).get(key)
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    return float(v) if v == v else None


def check_of(run: Mapping, name: str) -> dict | None:
    """The run's check named `name` (as the ledger stores it), or None."""
    return next((c for c in run.get("checks") or [] if c.get("name") == name), None)


def series_keys(runs: Sequence[Mapping], prefix: str) -> list[str]:
    """Metric keys starting with `prefix` across runs, in first-seen order."""
    seen: dict[str, None] = {}
    for r in runs:
        for k in r.get("metrics") or {}:
            if k.startswith(prefix):
                seen.setdefault(k, None)
    return list(seen)
