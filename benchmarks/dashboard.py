"""Dashboard speed: time to first chart in Chromium, stored results against re-execution.

Measured in Debian's Chromium (Playwright), from the navigation to the first
plotly chart holding data, each load in a fresh browser context:

(a) the index (`workbench dashboard`, one pre-heated kernel by default) with N
    runs in the ledger (default 200), and (a') the same without pre-heating;
    also, for transparency, until its filters (widgets) can be used: the first
    view is static, drawn by the page as it streams, the widgets come after;
(b) one run's own page (`/voila/render/drift/<id>/report.ipynb`) served by
    `workbench dashboard`: the papermill output notebook rendered from its
    stored results.json, by a spare kernel (loads spaced as two visitors'
    would be), and (b') without spare kernels (`--spare-kernels 0`);
(c) the baseline: plain Voila executing the same papermill output notebook
    with its results.json removed, i.e. re-computing the report from its
    inputs (Evidently, the model) as the template does without stored results;
(c') for transparency, plain Voila on the notebook with its results (no
    workbench start-up tweaks), so (b)/(c') shows what the server adds;
(d) calibration: the run's static report.html opened from disk (no server,
    plotly.js inline): what this browser on this machine needs for a chart;
(e) (b) and (c) again for a run over a production-sized batch (--large-batch
    rows, default 100,000, resampled from Adult; one real `workbench report
    drift` run, cached): re-executing grows with the data, the stored view
    does not, so the demo's 2,000-row batches are the least favourable case.

The N runs are clones of real runs (a `workbench demo --quick --no-serve`
output, made here once and cached, or --source): each clone gets a new id,
data period and start time in its summary.json and results.json, shares the
big report.html/report.ipynb by hard link, and the ledger is rebuilt from the
run directories (`Ledger.rebuild()`), the path the ledger supports. Papermill
would take ~10 s per run.

Goals (issue 4): (a) <= 3 s with 200 runs; (b) >= 5x faster than (c). The
plotly.js bundle the dashboard serves first is printed: plotly.js's partial
"cartesian" bundle when `make install` could fetch it, else the full one.
Machines here are 2-core and shared: the load average is printed with the
figures, and medians are quoted.

Usage: .venv/bin/python benchmarks/dashboard.py [--runs 200] [--repeats 5] [--source DIR] [--json FILE]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# the browser tests' Chromium (launched with their flags) and free port
from tests.browser_util import CHROMIUM, free_port, launch, stop_server  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "dashboard"
FIRST_CHART = (
    "() => Array.from(document.querySelectorAll('.js-plotly-plot'))"
    ".some(e => (e.data || []).some(t => (t.x || t.y || t.z || []).length > 0))"
)
CONTROLS = "() => !!document.querySelector('.wb-filter-kind select')"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200, help="runs in the ledger for the index (default 200)")
    ap.add_argument("--repeats", type=int, default=5, help="page loads per measurement (median reported)")
    ap.add_argument("--recompute-repeats", type=int, default=3, help="loads of the re-executing baseline")
    ap.add_argument("--source", help="a reports directory of real runs to clone (default: a cached demo)")
    ap.add_argument(
        "--large-batch",
        type=int,
        default=100_000,
        metavar="ROWS",
        help="also compare (b) with (c) for a run over a batch of this many rows (default 100000; "
        "0 skips it): re-execution grows with the data, the stored view does not",
    )
    ap.add_argument("--json", help="also write the figures to this file")
    ap.add_argument(
        "--no-preheat-comparison",
        dest="preheat",
        action="store_false",
        help="skip measuring the index without its pre-heated kernel (--preheat 0)",
    )
    args = ap.parse_args()
    if not Path(CHROMIUM).is_file():
        print(f"Chromium is not installed at {CHROMIUM}", file=sys.stderr)
        return 2
    source = Path(args.source) if args.source else _demo_runs()
    reports = RESULTS / f"reports-{args.runs}"
    t0 = time.perf_counter()
    n = seed(source, reports, args.runs)
    print(f"seeded {n} runs into {reports} in {time.perf_counter() - t0:.1f} s (clones of {source})")
    run = _a_drift_run(reports)
    figures: dict = {"runs": n, "load_avg_start": os.getloadavg()[0]}

    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch(p)
        # calibration: this browser on this machine, no server at all (report.html, plotly.js inline)
        figures["static_html_s"] = [
            _load(browser, (run / "report.html").resolve().as_uri(), settle=0.2) for _ in range(args.repeats)
        ]
        figures["plotly_bundle"] = _bundle_name()
        with _server(_dashboard(reports)) as url:
            base = url.split("/voila/")[0]
            time.sleep(10)  # the pre-heated index kernel starts with the server
            _load(browser, url, settle=6)  # warm the server's caches once (templates, static files)
            # a pause between loads lets the pool refill, as between two visitors
            figures["index_s"] = [_load(browser, url, settle=6) for _ in range(args.repeats)]
            # for transparency: when the filters (widgets, drawn by Voila's app once its kernel connection
            # is up) can be used; the first view before them is static
            figures["index_controls_s"] = [
                _load(browser, url, settle=6, until=CONTROLS) for _ in range(args.repeats)
            ]
            view = f"{base}/voila/render/drift/{run.name}/report.ipynb"
            # a pause between loads lets a spare kernel be replaced, as between two visitors
            figures["run_view_s"] = [_load(browser, view, settle=6) for _ in range(args.repeats)]
        if args.preheat:
            with _server(_dashboard(reports, "--preheat", "0", "--spare-kernels", "0")) as url:
                _load(browser, url)
                figures["index_no_preheat_s"] = [_load(browser, url) for _ in range(args.repeats)]
                view = f"{url.split('/voila/')[0]}/voila/render/drift/{run.name}/report.ipynb"
                figures["run_view_no_spare_s"] = [_load(browser, view) for _ in range(args.repeats)]

        recompute = _recompute_dir(run, "recompute")
        stored = RESULTS / "stored"
        shutil.rmtree(stored, ignore_errors=True)
        shutil.copytree(run, stored, ignore=shutil.ignore_patterns("report.html"))
        voila = [
            sys.executable,
            "-m",
            "voila",
            "--no-browser",
            "--Voila.ip=127.0.0.1",
            "--Voila.port_retries=0",
            "--VoilaConfiguration.show_tracebacks=False",
        ]
        with _server([*voila, str(recompute / "report.ipynb")], voila=True) as url:
            _load(browser, url, reset=recompute)
            figures["recompute_s"] = [
                _load(browser, url, reset=recompute) for _ in range(args.recompute_repeats)
            ]
        with _server([*voila, str(stored / "report.ipynb")], voila=True) as url:
            _load(browser, url)
            figures["plain_voila_stored_s"] = [_load(browser, url) for _ in range(args.repeats)]
        if args.large_batch:
            big = _large_run(_demo_runs().parent, args.large_batch)
            figures["large_batch_rows"] = args.large_batch
            with _server(_dashboard(big.parent.parent)) as url:
                view = f"{url.split('/voila/')[0]}/voila/render/drift/{big.name}/report.ipynb"
                time.sleep(8)  # the spare kernel starts with the server
                _load(browser, view, settle=6)
                figures["large_run_view_s"] = [_load(browser, view, settle=6) for _ in range(args.repeats)]
            recompute = _recompute_dir(big, "recompute-large")
            with _server([*voila, str(recompute / "report.ipynb")], voila=True) as url:
                figures["large_recompute_s"] = [
                    _load(browser, url, reset=recompute) for _ in range(args.recompute_repeats)
                ]
        browser.close()
    figures["load_avg_end"] = os.getloadavg()[0]
    _report(figures)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0


# -- seeding -----------------------------------------------------------------------------------
def seed(source: Path, reports: Path, n: int) -> int:
    """`n` runs cloned round-robin from the finished runs under `source`; returns the ledger's count."""
    from workbench.reports.ledger import Ledger

    originals = sorted(p.parent for p in source.glob("*/*/summary.json") if not p.parent.name.startswith("."))
    originals = [p for p in originals if (p / "results.json").is_file()]
    if not originals:
        raise SystemExit(f"no finished runs under {source}")
    if reports.exists():
        shutil.rmtree(reports)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    kinds = sorted({p.parent.name for p in originals})
    for i in range(n):
        src = originals[i % len(originals)]
        day = start + dt.timedelta(days=i // len(kinds))
        stamp = (start + dt.timedelta(minutes=i)).strftime("%Y%m%dT%H%M%S")
        period = day.strftime("%Y-%m-%d")
        summary = json.loads((src / "summary.json").read_text())
        run_id = f"{stamp}-bench-{i:04d}"
        dst = reports / src.parent.name / run_id
        dst.mkdir(parents=True)
        started = (start + dt.timedelta(minutes=i)).isoformat(timespec="seconds")
        summary.update(
            run_id=run_id, period=period, started_at=started, finished_at=started, run_dir=str(dst)
        )
        (dst / "summary.json").write_text(json.dumps(summary))
        results = json.loads((src / "results.json").read_text())
        results["report"]["period"] = period
        (dst / "results.json").write_text(json.dumps(results))
        for name in ("report.html", "report.ipynb"):
            try:
                os.link(src / name, dst / name)
            except OSError:
                shutil.copy(src / name, dst / name)
    return Ledger(reports).rebuild()


def _demo_runs() -> Path:
    demo = RESULTS / "demo"
    if not list((demo / "reports").glob("*/*/results.json")):
        print("making real runs once: workbench demo --quick --no-serve (a few minutes)")
        subprocess.run(
            [sys.executable, "-m", "workbench", "demo", "--quick", "--no-serve", "--out", str(demo)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return demo / "reports"


def _large_run(demo: Path, rows: int) -> Path:
    """A real drift run (the CLI) of the demo's champion over `rows` resampled Adult rows.

    Made once, then cached.
    """
    reports = RESULTS / f"large-{rows}" / "reports"
    done = sorted(p.parent for p in reports.glob("drift/*/results.json"))
    if done:
        return done[-1]
    from workbench.data import load_demo

    data = reports.parent / "data"
    data.mkdir(parents=True, exist_ok=True)
    adult = load_demo("adult")
    adult.test.sample(rows, replace=True, random_state=0).to_parquet(data / "reference.parquet", index=False)
    adult.train.sample(rows, replace=True, random_state=1).to_parquet(data / "current.parquet", index=False)
    print(f"making a real drift run over {rows:,} rows once (workbench report drift)")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "workbench",
            "report",
            "drift",
            "--reference",
            str(data / "reference.parquet"),
            "--current",
            str(data / "current.parquet"),
            "--model",
            str(demo / "models" / "champion.wbm"),
            "--period",
            "2026-01-01",
            "--name",
            "large",
            "--reports-dir",
            str(reports),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return sorted(p.parent for p in reports.glob("drift/*/results.json"))[-1]


def _recompute_dir(run: Path, name: str) -> Path:
    """A folder holding only the run's executed notebook: opened in Voila, it recomputes from its inputs."""
    folder = RESULTS / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    shutil.copy(run / "report.ipynb", folder / "report.ipynb")
    return folder


def _bundle_name() -> str:
    from workbench.dashboards.assets import dashboard_bundle

    return dashboard_bundle().name


def _a_drift_run(reports: Path) -> Path:
    runs = sorted(p for p in (reports / "drift").iterdir() if (p / "results.json").is_file())
    return runs[-1]


# -- measuring -----------------------------------------------------------------------------------
def _load(
    browser, url: str, reset: Path | None = None, settle: float = 1.0, until: str = FIRST_CHART
) -> float:
    """Seconds from navigation to the first chart with data (or `until`), in a fresh context."""
    if reset is not None:
        (reset / "results.json").unlink(missing_ok=True)  # the template stores what it computed
    context = browser.new_context(viewport={"width": 1300, "height": 1000})
    page = context.new_page()
    t0 = time.perf_counter()
    page.goto(url, wait_until="commit", timeout=300_000)
    page.wait_for_function(until, timeout=300_000, polling=50)
    elapsed = time.perf_counter() - t0
    context.close()
    time.sleep(settle)  # let the closed page's kernel shut down (and a pre-heated pool refill)
    return round(elapsed, 2)


def _dashboard(reports: Path, *options: str) -> list[str]:
    """The command serving the dashboards over `reports` (for :class:`_server`, which adds the port)."""
    return [
        sys.executable,
        "-m",
        "workbench",
        "dashboard",
        "--reports-dir",
        str(reports),
        "--no-browser",
        *options,
    ]


class _server:
    """A server subprocess on a free loopback port; yields the URL to open; stopped by its pid."""

    def __init__(self, cmd: list[str], voila: bool = False):
        self.cmd, self.voila = cmd, voila

    def __enter__(self) -> str:
        port = free_port()
        cmd = [*self.cmd, f"--port={port}"] if self.voila else [*self.cmd, "--port", str(port)]
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
        )
        url = f"http://127.0.0.1:{port}/"
        deadline = time.time() + 180
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"server exited: {self.proc.stdout.read()[-2000:]}")
            if not self.voila:
                line = self.proc.stdout.readline()
                if "open http" in line:
                    return line.split("open ", 1)[1].strip()
                continue
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return url
            except OSError:
                time.sleep(0.3)
        raise SystemExit("server did not start")

    def __exit__(self, *exc) -> None:
        stop_server(self.proc)


def _report(f: dict) -> None:
    med = {k: statistics.median(v) for k, v in f.items() if isinstance(v, list) and v}
    f["median"] = med
    f["goal_index_ok"] = med["index_s"] <= 3.0
    f["speedup"] = round(med["recompute_s"] / med["run_view_s"], 1)
    if "run_view_no_spare_s" in med:
        f["speedup_no_spare"] = round(med["recompute_s"] / med["run_view_no_spare_s"], 1)
    f["goal_speedup_ok"] = f["speedup"] >= 5
    print(
        f"\nload average {f['load_avg_start']:.1f} -> {f['load_avg_end']:.1f} (2 cores); "
        f"plotly.js served first: {f.get('plotly_bundle')}"
    )
    print(f"{'time to first chart (s)':<52} {'median':>7}  all")
    for key, label in (
        ("index_s", f"(a) index, {f['runs']} runs in the ledger"),
        ("index_no_preheat_s", "(a') index, no pre-heated kernel (--preheat 0)"),
        ("index_controls_s", "    (index: until its filters can be used)"),
        ("run_view_s", "(b) run page, stored results (workbench dashboard)"),
        ("run_view_no_spare_s", "(b') run page, no spare kernel (--spare-kernels 0)"),
        ("plain_voila_stored_s", "(c') run page, stored results (plain Voila)"),
        ("recompute_s", "(c) run page re-executed from its inputs (plain Voila)"),
        ("static_html_s", "(d) calibration: report.html from disk, no server"),
    ):
        if key in med:
            print(f"{label:<52} {med[key]:>7.2f}  {f[key]}")
    if "large_run_view_s" in med:
        rows = f"{f['large_batch_rows']:,}"
        f["large_speedup"] = round(med["large_recompute_s"] / med["large_run_view_s"], 1)
        print(
            f"{'(b) run page, a ' + rows + '-row batch (stored results)':<52} "
            f"{med['large_run_view_s']:>7.2f}  "
            f"{f['large_run_view_s']}"
        )
        print(
            f"{'(c) the same re-executed from its inputs':<52} {med['large_recompute_s']:>7.2f}  "
            f"{f['large_recompute_s']}"
        )
    print(f"\ngoal (a) <= 3 s: {'met' if f['goal_index_ok'] else 'NOT met'} ({med['index_s']:.2f} s)")
    print(
        f"goal (b) >= 5x faster than (c): {'met' if f['goal_speedup_ok'] else 'NOT met'} ({f['speedup']}x "
        "on the demo's 2,000-row batches)"
    )
    if "speedup_no_spare" in f:
        print(f"   without a spare kernel: {f['speedup_no_spare']}x")
    if "large_speedup" in f:
        print(
            f"   with a {f['large_batch_rows']:,}-row batch: {f['large_speedup']}x "
            f"({'met' if f['large_speedup'] >= 5 else 'NOT met'})"
        )


if __name__ == "__main__":
    sys.exit(main())
