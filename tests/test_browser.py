"""The dashboards in a real browser: Playwright drives Debian's Chromium against a real `workbench dashboard`.

Screenshots land in tests/artifacts/ (git-ignored). Without Chromium these tests skip with the
reason; with CI=true a skip counts as a failure (tests/conftest.py).
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from tests.browser_util import (
    ARTIFACTS,
    DashboardServer,
    assert_no_code,
    chart_js,
    chromium_or_skip,
    copy_runs,
    damage_runs,
    launch,
    page_text,
    run_dirs,
    run_parallel,
    sample_runs,
    screenshot,
)

pytestmark = [pytest.mark.browser]
LOAD_TIMEOUT = 180_000  # ms: a 2-core CI machine under load starts kernels slowly


@pytest.fixture(scope="module")
def playwright():
    sync_playwright = chromium_or_skip()
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright):
    b = launch(playwright)
    yield b
    b.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory, browser):
    """A dashboard over a copy of the session's runs, with the kernel probe on. It serves up to 12 pages at
    a time (default 8): the concurrency test opens 10 at once, soon after the pages of the tests before."""
    base = tmp_path_factory.mktemp("served")
    reports = copy_runs(sample_runs(tmp_path_factory), base / "reports")
    with DashboardServer(reports, "--max-kernels", "12", probe_dir=base / "probe") as server:
        yield server


def _open(browser, url: str, *, min_charts: int = 1, width: int = 1300):
    context = browser.new_context(viewport={"width": width, "height": 1000})
    page = context.new_page()
    page.goto(url, timeout=LOAD_TIMEOUT)
    page.wait_for_function(chart_js(min_charts), timeout=LOAD_TIMEOUT)
    return context, page


def _traces(page, scope: str = "") -> list[int]:
    return page.eval_on_selector_all(
        f"{scope} .js-plotly-plot".strip(),
        "els => els.filter(e => e.getClientRects().length > 0).map(e => (e.data || []).length)",
    )


def test_index_shows_runs_trends_and_a_selected_run(served, browser):
    context, page = _open(browser, served.url, min_charts=4)
    try:
        # the first view is static (drawn as the page streams); the widgets come once Voila's app is up
        assert page.locator(".wb-first-paint .js-plotly-plot").count() == 4
        page.wait_for_selector(".wb-run-select select", timeout=LOAD_TIMEOUT)
        assert page.locator(".wb-index").count() == 1
        assert page.locator(".jupyter-widgets").count() > 5 and page.locator(".widget-dropdown").count() >= 4
        rows = page.locator("table.wb-runs tr.wb-row:visible")
        assert rows.count() == 6
        assert (
            page.locator("tr.wb-row-checks_failed .wb-failed-check", has_text="drift.column.age").count() >= 2
        )
        headline = page.locator(".wb-dash-headline").inner_text()
        assert "of the last 6 runs failed a check" in headline and "drift in age" in headline
        traces = _traces(page, ".wb-trends")
        assert len(traces) == 4 and all(n > 0 for n in traces)
        assert_no_code(page)
        screenshot(page, "dashboard-index.png")

        select = page.locator(".wb-run-select select")
        labels = select.locator("option").all_text_contents()
        target = next(i for i, t in enumerate(labels) if "2026-11-04" in t and "drift" in t)
        select.select_option(index=target)
        page.wait_for_function(chart_js(3, ".wb-run-details"), timeout=LOAD_TIMEOUT)
        details = page.locator(".wb-run-details")
        text = details.inner_text()
        assert "for 2026-11-04" in text and "drift.column.age" in text and "hours-per-week" in text
        assert details.locator("table.wb-checks").count() >= 1
        assert details.locator("a.wb-link-html").get_attribute("href").endswith("/report.html")
        assert all(n > 0 for n in _traces(page, ".wb-run-details"))
        assert_no_code(page)
        details.scroll_into_view_if_needed()
        screenshot(page, "dashboard-run-selected.png")
    finally:
        context.close()


def test_filters_narrow_the_list_and_the_charts(served, browser):
    context, page = _open(browser, served.url, min_charts=4)
    try:
        page.locator(".wb-filter-kind select").select_option("bias", timeout=LOAD_TIMEOUT)
        page.wait_for_function(
            "() => Array.from(document.querySelectorAll('table.wb-runs tr.wb-row'))"
            ".filter(e => e.getClientRects().length > 0).length === 2",
            timeout=60_000,
        )
        page.wait_for_function(chart_js(2, ".wb-trends"), timeout=60_000)
        kinds = page.locator("table.wb-runs tr.wb-row:visible td:nth-child(2)").all_text_contents()
        assert kinds == ["bias", "bias"]
        titles = page.locator(".wb-trends .gtitle:visible").all_text_contents()
        assert titles and all("Fairness" in t for t in titles)
    finally:
        context.close()


def test_deep_link_opens_a_run(served, browser):
    run = run_dirs(served.reports_dir, "bias")[-1]
    context, page = _open(browser, served.url + ("&" if "?" in served.url else "?") + f"run={run.name}")
    try:
        page.wait_for_function(chart_js(1, ".wb-run-details"), timeout=LOAD_TIMEOUT)
        assert "Bias run" in page.locator(".wb-run-details").inner_text()
    finally:
        context.close()


@pytest.mark.timeout(900)
def test_ten_concurrent_page_loads_all_render(served, browser):
    # Playwright's sync API belongs to one thread: start all ten loads, then wait for each.
    # Known intermittent problem (TODO.md): now and then one of ten simultaneous loads never receives its
    # page (empty body; seen with and without pre-heating); a reload renders it. Such a page is reloaded
    # once and counted in concurrency.json; every page must still render.
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    contexts, pages = [], []
    started = time.perf_counter()
    deadline = started + 240
    times, reloaded = [], []
    try:
        for _ in range(10):
            context = browser.new_context(viewport={"width": 1200, "height": 900})
            contexts.append(context)
            pages.append(context.new_page())
            pages[-1].goto(served.url, wait_until="commit", timeout=LOAD_TIMEOUT)
        for i, page in enumerate(pages):
            try:
                page.wait_for_function(
                    chart_js(4), timeout=max(1000, (deadline - time.perf_counter()) * 1000)
                )
            except PlaywrightTimeout:
                reloaded.append(i)
                page.reload(wait_until="commit", timeout=LOAD_TIMEOUT)
                page.wait_for_function(chart_js(4), timeout=LOAD_TIMEOUT)
            assert page.locator("table.wb-runs tr.wb-row:visible").count() == 6
            assert_no_code(page)
            times.append(round(time.perf_counter() - started, 1))
    finally:
        for context in contexts:
            context.close()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "concurrency.json").write_text(
        json.dumps({"pages": 10, "all_rendered_s": max(times), "rendered_at_s": times, "reloaded": reloaded})
    )
    assert len(reloaded) <= 2, f"{len(reloaded)} of 10 concurrent loads needed a reload"


@pytest.fixture(scope="module")
def fresh_run(served, tmp_path_factory):
    """A run made while the server is up, by the real CLI, from inputs that are deleted afterwards."""
    sample = sample_runs(tmp_path_factory).parent / "inputs"
    inputs = tmp_path_factory.mktemp("private-inputs")
    for name in ("reference.parquet", "model.wbm"):
        src = sample / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, inputs / name)
    batch = sorted((sample / "batches").glob("*.parquet"))[-1]
    shutil.copy(batch, inputs / "current.parquet")
    before = {p.name for p in run_dirs(served.reports_dir, "drift")}
    run_parallel(
        [
            [
                "report",
                "drift",
                "--reference",
                str(inputs / "reference.parquet"),
                "--current",
                str(inputs / "current.parquet"),
                "--model",
                str(inputs / "model.wbm"),
                "--period",
                "2026-11-05",
                "--name",
                "added-live",
                "--reports-dir",
                str(served.reports_dir),
            ]
        ],
        workers=1,
    )
    new = [p for p in run_dirs(served.reports_dir, "drift") if p.name not in before]
    assert len(new) == 1
    shutil.rmtree(inputs)
    return new[0]


def test_a_run_added_while_serving_appears_on_reload(served, browser, fresh_run):
    context, page = _open(browser, served.url, min_charts=4)
    try:
        assert page.locator("table.wb-runs tr.wb-row:visible").count() == 7
        assert page.locator(f"tr.wb-row[data-run='{fresh_run.name}']").count() == 1
        assert "2026-11-05" in page.locator(".wb-trends:visible").inner_text()
    finally:
        context.close()


def test_run_page_renders_from_stored_results_without_inputs_or_heavy_libraries(served, browser, fresh_run):
    params = json.loads((fresh_run / "summary.json").read_text())["params"]
    assert not Path(params["current"]).exists() and not Path(params["model"]).exists()
    results_before = (fresh_run / "results.json").read_bytes()
    url = f"{served.base}/voila/render/drift/{fresh_run.name}/report.ipynb"
    context, page = _open(browser, url, min_charts=3)
    try:
        text = page_text(page)
        assert "Data drift and quality for 2026-11-05" in text and "drift.column.age" in text
        assert all(n > 0 for n in _traces(page))
        assert_no_code(page)
        screenshot(page, "dashboard-run-page.png")
    finally:
        context.close()
    assert (fresh_run / "results.json").read_bytes() == results_before  # rendered, not recomputed
    probes = [p for p in served.probes() if p["notebook"] == f"drift/{fresh_run.name}/report.ipynb"]
    assert probes, f"no probe from the run page's kernel: {served.probes()}"
    assert probes[-1]["heavy"] == [], f"the run page's kernel imported {probes[-1]['heavy']}"
    # a spare kernel serves it as the kernel Voila would have started: in the run's folder, with the request
    assert Path(probes[-1]["cwd"]).resolve() == fresh_run.resolve()
    assert probes[-1]["script_name"].endswith(f"/voila/render/drift/{fresh_run.name}/report.ipynb")
    assert probes[-1]["spare"], f"not served by a spare kernel: {served.output()}"  # warmed before the visit
    index_probes = [p for p in served.probes() if p["notebook"] == "index.ipynb"]
    assert index_probes and all(p["heavy"] == [] for p in index_probes)


def test_static_report_html_works_offline(served, browser):
    report = run_dirs(served.reports_dir, "drift")[-1] / "report.html"
    context = browser.new_context(viewport={"width": 1200, "height": 1000}, offline=True)
    page = context.new_page()
    try:
        page.goto(report.resolve().as_uri(), timeout=60_000)
        page.wait_for_function(chart_js(3), timeout=60_000)
        assert all(n > 0 for n in _traces(page))
        assert_no_code(page)
        screenshot(page, "report-html-offline.png")
    finally:
        context.close()


@pytest.fixture(scope="module")
def damaged_server(tmp_path_factory):
    """A reports directory with one of each problem: corrupted summary.json, corrupted results.json,
    a missing report.html, a run that failed (its template raised)."""
    base = tmp_path_factory.mktemp("damaged")
    damaged = damage_runs(sample_runs(tmp_path_factory), base / "reports", base)
    reports = damaged["reports"]
    with DashboardServer(reports, probe_dir=base / "probe") as server:
        yield server, damaged


def test_error_cards_render_and_the_rest_of_the_page_too(damaged_server, browser):
    server, names = damaged_server
    context, page = _open(browser, server.url, min_charts=4)
    try:
        cards = page.locator(".wb-problems .wb-card")
        kinds = cards.evaluate_all("els => els.map(e => e.dataset.problem)")
        assert {"corrupt", "missing_artifact", "failed_run"} <= set(kinds)
        assert kinds.count("corrupt") == 2
        assert "the upstream table is garbage" in page.locator(".wb-problems").inner_text()
        assert page.locator("table.wb-runs tr.wb-row:visible").count() == 7
        assert page.locator("tr.wb-row-failed").count() == 1
        assert_no_code(page)
        screenshot(page, "dashboard-error-cards.png")
    finally:
        context.close()
    # The run page of a run whose results are damaged: a card, not a recomputation or a traceback.
    url = f"{server.base}/voila/render/drift/{names['corrupt_results']}/report.ipynb"
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    try:
        page.goto(url, timeout=LOAD_TIMEOUT)
        page.wait_for_selector(".wb-card", timeout=LOAD_TIMEOUT)
        assert "cannot be shown" in page.locator(".wb-card").first.inner_text()
        assert_no_code(page)
        assert page.locator(".js-plotly-plot").count() == 0
    finally:
        context.close()
    probe = [p for p in server.probes() if names["corrupt_results"] in p["notebook"]]
    assert probe and probe[-1]["heavy"] == []
    # The page of the run that failed: what failed, in one sentence.
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{server.base}/voila/render/drift/{names['failed']}/report.ipynb", timeout=LOAD_TIMEOUT)
        page.wait_for_selector(".wb-card[data-problem='failed_run']", timeout=LOAD_TIMEOUT)
        assert "the upstream table is garbage" in page.locator(".wb-card").first.inner_text()
        assert_no_code(page)
    finally:
        context.close()


def test_an_empty_reports_dir_shows_how_to_start(tmp_path, browser):
    with DashboardServer(tmp_path / "nothing-yet") as server:
        context = browser.new_context(viewport={"width": 1200, "height": 700})
        page = context.new_page()
        try:
            page.goto(server.url, timeout=LOAD_TIMEOUT)
            page.wait_for_selector(".wb-card[data-problem='no_runs']", timeout=LOAD_TIMEOUT)
            text = page.locator(".wb-card").inner_text()
            assert "No runs yet" in text and "workbench report drift" in text
            assert_no_code(page)
            screenshot(page, "dashboard-empty.png")
        finally:
            context.close()


def test_binder_layout_voila_as_a_jupyter_server_extension(tmp_path, browser, tmp_path_factory):
    """What Binder serves: Jupyter Server with Voila's extension, the index inside the seeded reports
    directory (binder/postBuild), opened at ?urlpath=voila/render/workbench-demo/reports/index.ipynb."""
    import os
    import signal
    import subprocess
    import sys

    from tests.browser_util import free_port
    from workbench.dashboards.server import install_index

    reports = copy_runs(sample_runs(tmp_path_factory), tmp_path / "workbench-demo" / "reports")
    install_index(reports)
    port, token = free_port(), "binder-like-token"
    env = {**os.environ, "WORKBENCH_REPORTS_DIR": str(reports)}  # binder/start
    env.pop("WORKBENCH_DASHBOARD_SERVER", None)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter",
            "server",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={tmp_path}",
            "--ServerApp.allow_root=True",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/voila/render/workbench-demo/reports/index.ipynb?token={token}"
        context = browser.new_context(viewport={"width": 1300, "height": 1000})
        page = context.new_page()
        deadline = time.time() + 120
        while True:
            try:
                page.goto(url, timeout=LOAD_TIMEOUT)
                break
            except Exception:
                assert time.time() < deadline and proc.poll() is None, "jupyter server did not start"
                time.sleep(1)
        page.wait_for_function(chart_js(4), timeout=LOAD_TIMEOUT)
        assert page.locator("table.wb-runs tr.wb-row:visible").count() == 6
        html_link = page.locator("a.wb-link-html").first.get_attribute("href")
        view_link = page.locator("a.wb-link-view").first.get_attribute("href")
        assert html_link.startswith("/files/workbench-demo/reports/") and html_link.endswith("/report.html")
        assert view_link.startswith("/voila/render/workbench-demo/reports/")
        assert_no_code(page)
        with context.expect_page(timeout=60_000) as opened:  # the link opens the static report in a new tab
            page.locator("a.wb-link-html").first.click()
        report = opened.value
        report.wait_for_function(chart_js(2), timeout=60_000)
        assert report.url.endswith("/report.html")
        context.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


# -- what a page asks for, and what a page costs the server -------------------------------------------
KERNEL_MODEL = (
    "async () => { const c = document.getElementById('jupyter-config-data');"
    " if (!c) return null; const id = JSON.parse(c.textContent).kernelId;"
    " const r = await fetch('/api/kernels/' + id); return r.ok ? await r.json() : null; }"
)


def _kernels(server) -> int:
    """The server's live kernels (its child processes running ipykernel)."""
    import psutil

    n = 0
    for child in psutil.Process(server.proc.pid).children(recursive=True):
        try:
            n += child.status() != psutil.STATUS_ZOMBIE and "ipykernel" in " ".join(child.cmdline())
        except psutil.Error:  # gone meanwhile
            continue
    return n


def _wait_connected(page, timeout: float = 120) -> dict:
    """Until the page's own connection to its kernel is up (Voila's app opens it once the page has loaded)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        model = page.evaluate(KERNEL_MODEL)
        if model and model.get("connections", 0) > 0:
            return model
        time.sleep(0.25)
    raise AssertionError(f"the page never connected to its kernel: {page.evaluate(KERNEL_MODEL)}")


def _settle(server, count: int, timeout: float) -> float:
    """Seconds until the server runs `count` kernels (or fewer), at most `timeout`."""
    start = time.time()
    while _kernels(server) > count and time.time() - start < timeout:
        time.sleep(1)
    return time.time() - start


def test_pages_request_nothing_but_the_server(served, browser):
    """Offline: neither the index nor a run page asks anything of the internet (Voila's template linked
    Font Awesome from a CDN), only the dashboard server."""
    run = run_dirs(served.reports_dir, "drift")[0]
    for url, charts in ((served.url, 4), (f"{served.base}/voila/render/drift/{run.name}/report.ipynb", 3)):
        context = browser.new_context(viewport={"width": 1300, "height": 1000})
        page = context.new_page()
        requests: list[str] = []
        page.on("request", lambda r, seen=requests: seen.append(r.url))
        try:
            page.goto(url, timeout=LOAD_TIMEOUT)
            page.wait_for_function(chart_js(charts), timeout=LOAD_TIMEOUT)
            _wait_connected(page)  # Voila's application is up: it has asked for all it needs
            page.wait_for_load_state("networkidle", timeout=60_000)
        finally:
            context.close()
        elsewhere = sorted(
            {u for u in requests if not u.startswith(served.base + "/") and not u.startswith("data:")}
        )
        assert not elsewhere, f"{url} requested {elsewhere}"
        assert len(requests) > 5 and any("/voila/static/" in u for u in requests)


@pytest.mark.timeout(900)
def test_closed_pages_kernels_are_shut_down_and_open_ones_kept(tmp_path_factory, browser, tmp_path):
    """Every visit used to leave its kernel for 30 minutes (21 visits: 1.7 -> 3.4 GB). A page's kernel now
    goes soon after its page is closed; the kernel of a page still open stays, and its page still works."""
    reports = copy_runs(sample_runs(tmp_path_factory), tmp_path / "reports")
    with DashboardServer(reports) as server:
        baseline = _ready_kernels(server)
        runs = run_dirs(server.reports_dir, "drift") + run_dirs(server.reports_dir, "bias")
        keep = browser.new_context(viewport={"width": 1300, "height": 1000})
        try:
            kept = keep.new_page()
            kept.goto(server.url, timeout=LOAD_TIMEOUT)
            kept.wait_for_function(chart_js(4), timeout=LOAD_TIMEOUT)
            kept_kernel = _wait_connected(kept)["id"]
            # a tab closed as a user closes it: Voila's page posts a shutdown beacon, and its kernel goes at
            # once (the beacon was refused for want of an _xsrf cookie, and the kernel stayed)
            tab = keep.new_page()
            tab.goto(
                f"{server.base}/voila/render/{runs[0].parent.name}/{runs[0].name}/report.ipynb",
                timeout=LOAD_TIMEOUT,
            )
            tab.wait_for_function(chart_js(1), timeout=LOAD_TIMEOUT)
            tab_kernel = _wait_connected(tab)["id"]
            tab.close(run_before_unload=True)
            gone = "async (k) => (await fetch('/api/kernels/' + k)).status === 404"
            kept.wait_for_function(gone, arg=tab_kernel, timeout=10_000, polling=250)  # --cull-closed is 15 s
            for i in range(12):
                url = (
                    server.url
                    if i % 2
                    else f"{server.base}/voila/render/{runs[i // 2].parent.name}/{runs[i // 2].name}"
                    "/report.ipynb"
                )
                context = browser.new_context(viewport={"width": 1200, "height": 900})
                page = context.new_page()
                page.goto(url, timeout=LOAD_TIMEOUT)
                page.wait_for_function(chart_js(1), timeout=LOAD_TIMEOUT)
                _wait_connected(page)
                context.close()  # no beforeunload: the page just goes (a killed browser, a dropped network)
            waited = _settle(server, baseline + 1, timeout=120)
            assert _kernels(server) == baseline + 1, (
                f"{_kernels(server)} kernels {waited:.0f} s after the pages closed: {server.output()}"
            )
            # the open page kept its kernel, through the culler's rounds, and its filters still answer
            time.sleep(8)
            model = kept.evaluate(KERNEL_MODEL)
            assert model and model["id"] == kept_kernel and model["connections"] >= 1
            kept.locator(".wb-filter-kind select").select_option("bias", timeout=LOAD_TIMEOUT)
            kept.wait_for_function(
                "() => Array.from(document.querySelectorAll('table.wb-runs tr.wb-row'))"
                ".filter(e => e.getClientRects().length > 0).length === 2",
                timeout=60_000,
            )
        finally:
            keep.close()
        waited = _settle(server, baseline, timeout=120)
        assert _kernels(server) == baseline, f"the last page's kernel is still there after {waited:.0f} s"
    out = server.output()
    assert "403 POST" not in out and "Traceback" not in out and "WARNING" not in out, out
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "kernels-after-close.json").write_text(
        json.dumps({"baseline": baseline, "pages": 14, "last_settled_s": round(waited, 1)})
    )


def test_beyond_max_kernels_a_page_says_the_dashboard_is_busy(tmp_path_factory, browser, tmp_path):
    reports = copy_runs(sample_runs(tmp_path_factory), tmp_path / "reports")
    with DashboardServer(
        reports, "--max-kernels", "1", "--cull-closed", "2", "--spare-kernels", "0"
    ) as server:
        first = browser.new_context(viewport={"width": 1200, "height": 900})
        second = browser.new_context(viewport={"width": 1200, "height": 900})
        try:
            page = first.new_page()
            page.goto(server.url, timeout=LOAD_TIMEOUT)
            page.wait_for_function(chart_js(4), timeout=LOAD_TIMEOUT)
            _wait_connected(page)
            run = run_dirs(server.reports_dir, "drift")[0]
            other = second.new_page()
            response = other.goto(
                f"{server.base}/voila/render/drift/{run.name}/report.ipynb", timeout=LOAD_TIMEOUT
            )
            assert response.status == 503 and response.headers.get("retry-after")
            card = other.locator(".wb-card[data-problem='busy']")
            assert "The dashboard is busy, retry in a moment" in card.inner_text()
            assert_no_code(other)
            screenshot(other, "dashboard-busy.png")
            first.close()  # its kernel goes, the slot frees: the busy page gets its page on the next try
            deadline = time.time() + 120
            while True:
                response = other.reload(timeout=LOAD_TIMEOUT)
                if response.status == 200 or time.time() > deadline:
                    break
                time.sleep(2)
            assert response.status == 200
            other.wait_for_function(chart_js(3), timeout=LOAD_TIMEOUT)
            assert_no_code(other)
        finally:
            second.close()
    assert "Traceback" not in server.output()


def _ready_kernels(server, timeout: float = 180) -> int:
    """The kernels a started server keeps ready (pre-heated index, spare), once they are all up."""
    deadline, last, stable = time.time() + timeout, -1, 0
    while time.time() < deadline and stable < 5:
        n = _kernels(server)
        stable = stable + 1 if n == last and n > 0 else 0
        last = n
        time.sleep(1)
    return last
