"""Browser smoke test of the data scientist's side: JupyterLab in Chromium runs ``01_train.ipynb``.

A real JupyterLab server (``--allow-root``, no token, loopback only) serves a copy of the shipped
template with ``quick=True`` injected by papermill (without executing it); Chromium, driven by
Playwright, opens it, runs every cell through JupyterLab's own "run all" command, and the test
asserts the training panel's widgets and a plotly chart with data render and no cell errored.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.browser_util import ARTIFACTS, chromium_or_skip, free_port, launch, stop_server
from workbench.templates import template

pytestmark = [pytest.mark.browser, pytest.mark.notebook, pytest.mark.slow]


@pytest.fixture
def lab(tmp_path):
    """A JupyterLab server over `tmp_path` (its own config, data and runtime dirs); yields its base URL."""
    import papermill as pm

    root = tmp_path / "work"
    root.mkdir()
    pm.execute_notebook(
        str(template("01_train.ipynb")),
        str(root / "01_train.ipynb"),
        prepare_only=True,
        parameters={"quick": True, "recipes": ["logistic_regression"]},
        kernel_name="python3",
        progress_bar=False,
    )
    port = free_port()
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "ws"),
        "PYTHONWARNINGS": "ignore",
    }
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--allow-root",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--IdentityProvider.token=",
        "--ServerApp.password=",
        f"--ServerApp.root_dir={root}",
        "--LabApp.expose_app_in_browser=True",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    log = open(tmp_path / "lab.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while True:
            assert proc.poll() is None, (tmp_path / "lab.log").read_text()[-3000:]
            try:
                with urllib.request.urlopen(f"{base}/api/status", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert time.time() < deadline, "JupyterLab did not start within 120 s"
            time.sleep(0.3)
        yield base, root
    finally:
        stop_server(proc)
        log.close()


def test_jupyterlab_runs_the_train_notebook_and_renders_the_panel(lab):
    sync_playwright = chromium_or_skip()
    base, root = lab
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{base}/lab/tree/01_train.ipynb?reset", timeout=120_000)
        page.wait_for_function(
            "() => window.jupyterapp && document.querySelector('.jp-Notebook .jp-Cell')", timeout=120_000
        )
        # The kernel must be up before "run all" (otherwise JupyterLab queues a kernel picker dialog).
        page.wait_for_function(
            "() => { const w = window.jupyterapp.shell.currentWidget;"
            " return w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel"
            " && w.sessionContext.session.kernel.connectionStatus === 'connected'"
            " && w.sessionContext.session.kernel.status === 'idle'; }",
            timeout=180_000,
        )
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        # Done when every code cell has an execution count and the kernel is idle again.
        page.wait_for_function(
            "() => { const w = window.jupyterapp.shell.currentWidget;"
            " const cells = w.content.widgets.filter(c => c.model.type === 'code');"
            " return cells.every(c => c.model.executionCount)"
            " && w.sessionContext.session.kernel.status === 'idle'; }",
            timeout=600_000,
            polling=1000,
        )
        outputs = page.evaluate(
            "() => window.jupyterapp.shell.currentWidget.content.widgets"
            ".filter(c => c.model.type === 'code').map(c => c.model.outputs.toJSON())"
        )
        failed = [o for cell in outputs for o in cell if o.get("output_type") == "error"]
        assert not failed, f"a cell raised: {failed[0].get('ename')}: {failed[0].get('evalue')}"
        # The panel (ipywidgets views) and a chart with data are on the page.
        page.wait_for_selector(
            ".jp-OutputArea .widget-button, .jp-OutputArea .jupyter-widgets", timeout=60_000
        )
        page.wait_for_function(
            "() => Array.from(document.querySelectorAll('.jp-OutputArea .js-plotly-plot'))"
            ".some(e => (e.data || []).some(t => (t.x || t.y || []).length > 0))",
            timeout=60_000,
        )
        assert page.locator(".jp-OutputArea .widget-button").count() >= 1, (
            "the panel's buttons did not render"
        )
        assert not page.locator(".jp-OutputArea .jupyter-widgets :text('Error displaying widget')").count()
        shot = screenshot_lab(page)
        browser.close()
    assert shot.stat().st_size > 10_000
    assert (root / "workbench-work" / "champion.wbm").exists(), "the notebook did not save the champion"
    # its default outputs go to the git-ignored work folder, never beside the templates
    assert not (root / "champion.wbm").exists() and not (root / "leaderboard.json").exists()
    assert not [e for e in errors if "plotly" in e.lower() or "widget" in e.lower()], errors


def screenshot_lab(page) -> Path:
    """JupyterLab scrolls inside the notebook panel: scroll to the panel at the end, then shoot."""
    page.evaluate(
        "() => { const b = Array.from(document.querySelectorAll('.jp-OutputArea .widget-button'));"
        " if (b.length) b[b.length - 1].scrollIntoView({block: 'end'}); }"
    )
    news = page.locator(".jp-toast-button:has-text('No')")  # JupyterLab's "notified about news?" toast
    if news.count():
        news.first.click()
    page.wait_for_timeout(800)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / "jupyterlab-01_train.png"
    page.screenshot(path=str(path))
    return path
