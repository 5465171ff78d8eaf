"""Helpers for the dashboard tests: real report runs (made once per session), a real server, Chromium.

The runs are made by the real CLI (`workbench train`, `workbench report drift|bias`) on UCI Adult
batches from the simulator, with known injected changes: periods 2026-11-01 and -02 clean,
-03 age shifted up, -04 age shifted and 30% of hours-per-week missing; bias runs on -01 and -04.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli, shared_once

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "tests" / "artifacts"
HEAVY = ("evidently", "fairlearn", "sklearn", "scipy", "lime", "onnxruntime")
# Text that must never reach a stakeholder's page.
CODE_OR_TRACEBACK = (
    "Traceback",
    "show_index(",
    "load_or_compute(",
    "import plotly",
    "from workbench",
    "Error at server",
    "There was an error when executing cell",
    "ipykernel_",
)
DRIFT_SCENARIOS = [
    "clean",
    "clean",
    {
        "name": "age-up",
        "changes": [{"kind": "covariate_shift", "column": "age", "direction": "up", "strength": 0.5}],
    },
    {
        "name": "age-up-hours-missing",
        "changes": [
            {"kind": "covariate_shift", "column": "age", "direction": "up", "strength": 0.5},
            {"kind": "missing_values", "column": "hours-per-week", "rate": 0.3},
        ],
    },
]


def chart_js(min_charts: int = 1, scope: str = "") -> str:
    """A JS predicate: at least `min_charts` visible plotly charts (under `scope`) hold data traces.

    Visible: the index's static first view stays in the page, hidden, once its widgets take over."""
    return (
        "() => Array.from(document.querySelectorAll("
        + json.dumps(f"{scope} .js-plotly-plot".strip())
        + ")).filter(e => e.getClientRects().length > 0)"
        ".filter(e => (e.data || []).some(t => (t.x || t.y || t.z || t.cells || []).length > 0))"
        f".length >= {min_charts}"
    )


# -- runs ------------------------------------------------------------------------------------
def sample_runs(tmp_path_factory) -> Path:
    """The test run's sample reports directory (made on first use, by one pytest-xdist worker; later calls
    and the other workers reuse it).

    ``WORKBENCH_SAMPLE_RUNS=DIR`` reuses a folder made earlier (a developer's shortcut: tests only
    read it, or copy it before changing anything).
    """
    given = os.environ.get("WORKBENCH_SAMPLE_RUNS")
    if not given:
        return shared_once(tmp_path_factory, "dashboard-sample-runs", _make_sample_runs) / "reports"
    root = Path(given)
    if not (root / ".complete").is_file():
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        _make_sample_runs(root)
        (root / ".complete").write_text("ok")
    return root / "reports"


def _make_sample_runs(root: Path) -> None:
    """Train on Adult, then run the drift and bias reports on the simulated batches, into `root`/reports."""
    reports = root / "reports"
    inputs = root / "inputs"
    inputs.mkdir(parents=True)
    from workbench.data import load_demo
    from workbench.data.simulate import simulate_batches

    demo = load_demo("adult")
    demo.train.sample(5000, random_state=1).to_parquet(inputs / "train.parquet", index=False)
    reference = demo.test.sample(4000, random_state=0)
    reference.to_parquet(inputs / "reference.parquet", index=False)
    batches = simulate_batches(
        demo.test.drop(reference.index), demo.spec, DRIFT_SCENARIOS, batch_size=2000, random_state=3
    )
    paths = [str(b.write(inputs / "batches")) for b in batches]
    r = run_cli(
        "train",
        "--data",
        str(inputs / "train.parquet"),
        "--target",
        "income",
        "--model",
        "logistic_regression",
        "--sensitive",
        "sex",
        "--sensitive",
        "race",
        "--quick",
        "--out",
        str(inputs / "model.wbm"),
    )
    assert r.returncode == 0, r.stderr[-2000:]
    model = str(inputs / "model.wbm")
    jobs = [
        [
            "report",
            "drift",
            "--reference",
            str(inputs / "reference.parquet"),
            "--current",
            p,
            "--model",
            model,
            "--period",
            b.period,
            "--name",
            b.name,
        ]
        for b, p in zip(batches, paths, strict=True)
    ]
    jobs += [
        [
            "report",
            "bias",
            "--data",
            paths[i],
            "--model",
            model,
            "--reference",
            str(inputs / "reference.parquet"),
            "--period",
            batches[i].period,
            "--name",
            batches[i].name,
        ]
        for i in (0, 3)
    ]
    run_parallel([[*j, "--reports-dir", str(reports)] for j in jobs])


def run_parallel(jobs: list[list[str]], workers: int = 2, timeout: float = 900) -> None:
    """Run `workbench` commands, `workers` at a time; each must exit 0 or 1 (checks failed)."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    pending, running = list(jobs), []
    deadline = time.time() + timeout
    while pending or running:
        while pending and len(running) < workers:
            args = pending.pop(0)
            running.append(
                (
                    args,
                    subprocess.Popen(
                        [sys.executable, "-m", "workbench", *args],
                        env=env,
                        stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE,
                        text=True,
                    ),
                )
            )
        for item in list(running):
            args, proc = item
            if proc.poll() is not None:
                out, err = proc.communicate()
                assert proc.returncode in (0, 1), (args, proc.returncode, err[-2000:])
                running.remove(item)
        assert time.time() < deadline, "report runs took too long"
        time.sleep(0.2)


def copy_runs(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def run_dirs(reports: Path, kind: str) -> list[Path]:
    return sorted(p for p in (reports / kind).iterdir() if p.is_dir() and not p.name.startswith("."))


# -- the server ------------------------------------------------------------------------------
def damage_runs(runs: Path, reports: Path, work: Path) -> dict:
    """Copy `runs` to `reports` with one of each problem: corrupted summary.json and results.json, a
    missing report.html, and a real failed run (a template that raises mid-run, run by the runner)."""
    import nbformat

    from workbench.reports.runner import run_report

    copy_runs(runs, reports)
    drift = run_dirs(reports, "drift")
    (drift[0] / "summary.json").write_text('{"run_id": "truncated", "checks": [')
    (drift[1] / "results.json").write_text('{"report": {"kind": "drift", "results": [')
    (drift[2] / "report.html").unlink()
    nb = nbformat.read(ROOT / "notebooks" / "monitoring" / "drift_report.ipynb", as_version=4)
    nb.cells.insert(2, nbformat.v4.new_code_cell("raise RuntimeError('the upstream table is garbage')"))
    bad = work / "bad_template.ipynb"
    nbformat.write(nb, bad)
    summary = json.loads((drift[3] / "summary.json").read_text())
    failed = run_report(
        "drift", summary["params"], reports_dir=reports, name="broken", template=bad, progress=False
    )
    return {
        "reports": reports,
        "exit_code": failed.exit_code,
        "corrupt_summary": drift[0].name,
        "corrupt_results": drift[1].name,
        "no_html": drift[2].name,
        "failed": failed.run_dir.name,
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_server(proc: subprocess.Popen) -> None:
    """Stop a server started in its own session: SIGTERM (Voila shuts its kernels down), then SIGKILL to
    that session only if it has not exited within 30 s."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # our own session only
        proc.wait(timeout=10)


class DashboardServer:
    """A real `workbench dashboard` in a subprocess (its own session, stopped by its pid)."""

    def __init__(self, reports_dir: Path, *args: str, probe_dir: Path | None = None):
        self.reports_dir, self.args, self.probe_dir = Path(reports_dir), list(args), probe_dir
        self.proc: subprocess.Popen | None = None
        self.lines: list[str] = []
        self.url = ""

    def __enter__(self) -> DashboardServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def base(self) -> str:
        return self.url.split("/voila/")[0]

    def start(self, timeout: float = 120) -> DashboardServer:
        env = {**os.environ, "PYTHONWARNINGS": "ignore"}
        if self.probe_dir is not None:
            self.probe_dir.mkdir(parents=True, exist_ok=True)
            env["WORKBENCH_DASHBOARD_PROBE"] = str(self.probe_dir)
        args = self.args if "--port" in self.args else [*self.args, "--port", str(free_port())]
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "workbench",
                "dashboard",
                "--reports-dir",
                str(self.reports_dir),
                "--no-browser",
                *args,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            start_new_session=True,
        )
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.time() + timeout
        while time.time() < deadline and not self.url:
            if self.proc.poll() is not None:
                time.sleep(0.2)
                raise AssertionError(f"the dashboard exited with {self.proc.returncode}: {self.output()}")
            time.sleep(0.1)
        assert self.url, f"the dashboard printed no URL within {timeout} s: {self.output()}"
        return self

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)
            if "open http" in line and not self.url:
                self.url = line.split("open ", 1)[1].strip()

    def output(self) -> str:
        return "".join(self.lines)[-4000:]

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            stop_server(self.proc)

    def probes(self) -> list[dict]:
        if self.probe_dir is None:
            return []
        out = []
        for p in sorted(self.probe_dir.glob("*.json")):
            try:
                out.append(json.loads(p.read_text()))
            except ValueError:
                continue
        return out


# -- Chromium --------------------------------------------------------------------------------
def chromium_or_skip():
    """Playwright's sync API, or a skip with the reason (with CI=true the skip counts as a failure)."""
    if not Path(CHROMIUM).is_file():
        pytest.skip(
            f"Chromium is not installed at {CHROMIUM} (`make test` installs Debian's chromium with apt)"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright package is not installed (it is in the [test] extra)")
    return sync_playwright


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def page_text(page) -> str:
    return page.evaluate("() => document.body.innerText")


def assert_no_code(page) -> None:
    text = page_text(page)
    shown = [s for s in CODE_OR_TRACEBACK if s in text]
    assert not shown, f"code or traceback text on the page: {shown}"


def screenshot(page, name: str) -> Path:
    """A screenshot of the whole page (Voila scrolls inside its own element, so grow the viewport first)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    height = page.evaluate(
        "() => { const cells = Array.from(document.querySelectorAll('.jp-Cell, .jp-OutputArea-output'));"
        " return cells.length ? Math.max(...cells.map(e => e.getBoundingClientRect().bottom))"
        " : document.documentElement.scrollHeight; }"
    )
    width = page.viewport_size["width"] if page.viewport_size else 1300
    page.set_viewport_size({"width": width, "height": int(min(max(height, 800) + 40, 9000))})
    page.wait_for_timeout(800)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path
