"""Dashboard memory over many page loads: does it return to its idle level once the pages are closed?

`workbench dashboard` gives every page its own kernel (~80-100 MB). This
script starts a real server over a reports directory, then loads pages in
Debian's Chromium (Playwright) one after another, alternating the index and
run pages: each load opens a fresh browser context, waits for the page's
first chart with data and for the page's connection to its kernel, then
closes it. By default the context is just closed (``--close abrupt``: no
``beforeunload``, as when a browser is killed, a laptop sleeps or a network
drops: the server only sees the connection go); ``--close tab`` closes the
page as a user closes a tab (``beforeunload`` runs: Voila's page posts a
shutdown beacon). Meanwhile the RSS of the server plus all its descendants
(the kernels) is sampled every 0.5 s.

Printed, in MB: the idle level (server started, its pre-heated index kernel
and spare kernel ready), the warm level (one visit of each kind of page made,
closed and settled: the server's one-time caches, compiled templates and the
like, are in it, and, with the old behaviour, those two visits' kernels), the
peak during the loads, and the level after settling (when the live kernels
are back to the warm count, or at the end of --settle seconds), with the live
kernel counts and the server process's own share.

Two configurations by default:

- ``before``: the old behaviour, through options: ``--cull-closed 1800
  --max-kernels 0``, i.e. a closed page's kernel lives until 30 minutes of
  inactivity (the old ``--cull-idle`` rule), and no cap;
- ``after``: the defaults (a closed page's kernel is shut down
  ``--cull-closed`` seconds after its page disconnected; at most
  ``--max-kernels`` pages at a time).

Usage: .venv/bin/python benchmarks/dashboard_memory.py --source /tmp/dash-demo/reports [--loads 50]
       [--settle 150] [--only before|after] [--close abrupt|tab] [--json FILE]
(--source: a reports directory with runs, e.g. from `workbench demo --quick --no-serve --out DIR`.)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# the browser tests' Chromium (launched with their flags) and free port
from tests.browser_util import CHROMIUM, DashboardServer, launch  # noqa: E402

FIRST_CHART = (
    "() => !!document.querySelector('.wb-card-busy') || Array.from(document.querySelectorAll("
    "'.js-plotly-plot')).some(e => (e.data || []).some(t => (t.x || t.y || t.z || []).length > 0))"
)
KERNEL_MODEL = (
    "async () => { const c = document.getElementById('jupyter-config-data');"
    " if (!c) return null; const id = JSON.parse(c.textContent).kernelId;"
    " const r = await fetch('/api/kernels/' + id); return r.ok ? await r.json() : null; }"
)
CONFIGS = {"before": ["--cull-closed", "1800", "--max-kernels", "0"], "after": []}
MB = 2**20


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", required=True, help="a reports directory holding report runs")
    ap.add_argument("--loads", type=int, default=50, help="page loads (default 50)")
    ap.add_argument(
        "--settle", type=float, default=150, help="seconds to wait for the level to settle (default 150)"
    )
    ap.add_argument("--only", choices=sorted(CONFIGS), help="measure one configuration only")
    ap.add_argument(
        "--close",
        choices=("abrupt", "tab"),
        default="abrupt",
        help="how a page goes: its browser context closed (default), or closed as a tab",
    )
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args()
    if not Path(CHROMIUM).is_file():
        print(f"Chromium is not installed at {CHROMIUM}", file=sys.stderr)
        return 2
    reports = Path(args.source).resolve()
    runs = sorted(
        p.parent.relative_to(reports).as_posix()
        for p in reports.glob("*/*/results.json")
        if not p.parent.name.startswith(".")
    )
    if not runs:
        print(f"no report runs under {reports}", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    out = {
        "loads": args.loads,
        "close": args.close,
        "cpus": os.cpu_count(),
        "load_avg_start": os.getloadavg()[0],
    }
    with sync_playwright() as p:
        browser = launch(p)
        for name in [args.only] if args.only else list(CONFIGS):
            out[name] = measure(browser, reports, runs, CONFIGS[name], args.loads, args.settle, args.close)
            print_one(name, CONFIGS[name], out[name])
        browser.close()
    out["load_avg_end"] = os.getloadavg()[0]
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))
    if not args.only:
        b, a = out["before"], out["after"]
        print(
            f"\n{'MB':<10}{'idle':>8}{'warm':>8}{'peak':>8}{'settled':>9}   "
            "live kernels idle -> warm -> peak -> settled"
        )
        for name, f in (("before", b), ("after", a)):
            print(
                f"{name:<10}{f['idle_mb']:>8.0f}{f['warm_mb']:>8.0f}{f['peak_mb']:>8.0f}"
                f"{f['settled_mb']:>9.0f}   "
                f"{f['idle_kernels']} -> {f['warm_kernels']} -> {f['peak_kernels']} -> {f['settled_kernels']}"
            )
    return 0


def measure(
    browser,
    reports: Path,
    runs: list[str],
    options: list[str],
    loads: int,
    settle: float,
    close: str = "abrupt",
) -> dict:
    with Server(reports, options) as server:
        sampler = Sampler(server.proc.pid)
        sampler.start()
        try:
            baseline = server.wait_ready()
            idle, idle_server, idle_kernels = sampler.level(5), sampler.server_rss(), sampler.kernels()
            warm = [server.url, f"{server.base}/voila/render/{runs[0]}/report.ipynb"]
            for url in warm:  # one visit of each kind: the server's one-time caches
                load(browser, url, close)
            t = time.perf_counter()
            while time.perf_counter() - t < min(settle, 60) and sampler.kernels() > baseline:
                time.sleep(1)
            baseline = server.wait_ready()
            warm_level, warm_server, warm_kernels = sampler.level(5), sampler.server_rss(), sampler.kernels()
            t0 = time.perf_counter()
            mark = len(sampler.samples)
            times, busy, unconnected = [], 0, 0
            for i in range(loads):
                url = (
                    server.url
                    if i % 2 == 0
                    else f"{server.base}/voila/render/{runs[(i // 2) % len(runs)]}/report.ipynb"
                )
                seconds, state = load(browser, url, close)
                times.append(seconds)
                busy += state == "busy"
                unconnected += state == "unconnected"
            load_s = time.perf_counter() - t0
            during = sampler.samples[mark:]
            peak = max(s[1] for s in during)
            peak_kernels = max(s[2] for s in during)
            t1 = time.perf_counter()
            while time.perf_counter() - t1 < settle and sampler.kernels() > baseline:
                time.sleep(1)
            settle_s = time.perf_counter() - t1
            time.sleep(3)  # the last shutdowns finish
            settled, settled_server = sampler.level(5), sampler.server_rss()
            return {
                "options": options,
                "idle_mb": idle / MB,
                "idle_kernels": idle_kernels,
                "peak_mb": peak / MB,
                "idle_server_mb": idle_server / MB,
                "settled_server_mb": settled_server / MB,
                "warm_mb": warm_level / MB,
                "warm_kernels": warm_kernels,
                "warm_server_mb": warm_server / MB,
                "peak_kernels": peak_kernels,
                "settled_mb": settled / MB,
                "settled_kernels": sampler.kernels(),
                "settled_after_s": round(settle_s, 1),
                "returned": sampler.kernels() <= baseline,
                "loads_s": round(load_s, 1),
                "load_median_s": round(statistics.median(times), 2),
                "busy_cards": busy,
                "never_connected": unconnected,
            }
        finally:
            sampler.stop()


def load(browser, url: str, close: str = "abrupt") -> tuple[float, str]:
    """Open `url` in a fresh context, wait for its first chart and its kernel connection, close it."""
    context = browser.new_context(viewport={"width": 1300, "height": 1000})
    page = context.new_page()
    t0 = time.perf_counter()
    try:
        page.goto(url, wait_until="commit", timeout=300_000)
        page.wait_for_function(FIRST_CHART, timeout=300_000, polling=100)
        if page.locator(".wb-card-busy").count():
            return time.perf_counter() - t0, "busy"
        deadline = time.time() + 60
        while time.time() < deadline:
            model = page.evaluate(KERNEL_MODEL)
            if model and model.get("connections", 0) > 0:
                return time.perf_counter() - t0, "ok"
            time.sleep(0.2)
        return time.perf_counter() - t0, "unconnected"
    finally:
        if close == "tab":
            page.close(run_before_unload=True)
            time.sleep(0.5)  # the beacon is on its way
        context.close()


class Sampler(threading.Thread):
    """RSS of a process and all its descendants, and its live kernels, every 0.5 s."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        import psutil

        self.proc = psutil.Process(pid)
        self.samples: list[tuple[float, int, int]] = []
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            try:
                self.samples.append((time.time(), *self.snapshot()))
            except Exception:
                pass
            self._halt.wait(0.5)

    def snapshot(self) -> tuple[int, int]:
        import psutil

        rss, kernels = self.proc.memory_info().rss, 0
        for child in self.proc.children(recursive=True):
            try:
                rss += child.memory_info().rss
                kernels += "ipykernel" in " ".join(child.cmdline())
            except psutil.Error:
                continue
        return rss, kernels

    def kernels(self) -> int:
        return self.snapshot()[1]

    def server_rss(self) -> int:
        return self.proc.memory_info().rss

    def level(self, seconds: float) -> float:
        """The mean RSS over the next `seconds`."""
        start = len(self.samples)
        time.sleep(seconds)
        values = [s[1] for s in self.samples[start:]] or [self.snapshot()[0]]
        return statistics.mean(values)

    def stop(self) -> None:
        self._halt.set()


class Server(DashboardServer):
    """The browser tests' `workbench dashboard` (a free loopback port, its own session, stopped by its pid),
    which can also wait for its ready kernels."""

    def __init__(self, reports: Path, options: list[str]):
        super().__init__(reports, *options)

    def __enter__(self) -> Server:
        return self.start(timeout=180)

    def wait_ready(self, timeout: float = 120) -> int:
        """Wait until the ready kernels (pre-heated index, spare) are up and quiet; returns their count."""
        import psutil

        proc, deadline, last, stable = psutil.Process(self.proc.pid), time.time() + timeout, -1, 0
        while time.time() < deadline:
            n = sum("ipykernel" in " ".join(c.cmdline()) for c in proc.children(recursive=True))
            cpu = sum(c.cpu_percent(interval=None) for c in proc.children(recursive=True))
            stable = stable + 1 if n == last and n > 0 and cpu < 20 else 0
            last = n
            if stable >= 6:
                return n
            time.sleep(1)
        return max(last, 0)


def print_one(name: str, options: list[str], f: dict) -> None:
    print(
        f"\n{name} ({' '.join(options) or 'defaults'}): {f['loads_s']:.0f} s for the loads "
        f"(median {f['load_median_s']} s each; busy cards: {f['busy_cards']}, never connected: "
        f"{f['never_connected']})"
    )
    print(
        f"  idle     {f['idle_mb']:7.0f} MB   {f['idle_kernels']} kernels "
        f"(server process {f['idle_server_mb']:.0f} MB)"
    )
    print(
        f"  warm     {f['warm_mb']:7.0f} MB   {f['warm_kernels']} kernels "
        f"(server process {f['warm_server_mb']:.0f} MB), "
        "after one visit of each kind of page"
    )
    print(f"  peak     {f['peak_mb']:7.0f} MB   {f['peak_kernels']} kernels")
    back = (
        f"back to {f['settled_kernels']} kernels after {f['settled_after_s']:.0f} s"
        if f["returned"]
        else f"still {f['settled_kernels']} kernels after {f['settled_after_s']:.0f} s"
    )
    print(
        f"  settled  {f['settled_mb']:7.0f} MB   {back} (server process {f['settled_server_mb']:.0f} MB)",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
