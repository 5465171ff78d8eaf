"""The dashboards without a browser: the index logic on real runs, error cards, the server's rules.

The runs are made once per session by the real CLI (see tests/browser_util.py): four drift runs
(two clean periods, then age shifted up, then also 30% of hours-per-week missing) and two bias runs.
"""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.browser_util import HEAVY, DashboardServer, copy_runs, damage_runs, run_dirs, sample_runs
from tests.conftest import ROOT, run_cli


@pytest.fixture(scope="session")
def runs_dir(tmp_path_factory) -> Path:
    return sample_runs(tmp_path_factory)


@pytest.fixture()
def damaged(runs_dir, tmp_path) -> dict:
    """A copy of the runs with one of each problem: corrupted summary.json and results.json,
    a missing report.html, and a real failed run (a template that raises mid-run)."""
    damaged = damage_runs(runs_dir, tmp_path / "reports", tmp_path)
    assert damaged["exit_code"] == 3
    return damaged


# -- the runs, the headline, the trends ---------------------------------------------------------
def test_runs_are_read_from_the_ledger_newest_first(runs_dir):
    from workbench.dashboards.runs import load_runs

    index = load_runs(runs_dir)
    assert [r["kind"] for r in index.runs].count("drift") == 4 and len(index.runs) == 6
    assert index.problems == []
    started = [r["started_at"] for r in index.runs]
    assert started == sorted(started, reverse=True)
    periods = {r["period_label"] for r in index.runs if r["kind"] == "drift"}
    assert periods == {"2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04"}
    for r in index.runs:
        assert r["model"].startswith("model.wbm (") and all(r["artifacts"].values())
        assert Path(r["path"]).parent.parent == runs_dir
    shifted = [r for r in index.runs if r["kind"] == "drift" and r["period_label"] == "2026-11-03"][0]
    assert "drift.column.age" in shifted["failed_errors"] and shifted["status"] == "checks_failed"


def test_headline_says_what_fails_and_since_when(runs_dir):
    from workbench.dashboards.headline import headline
    from workbench.dashboards.runs import filter_runs, load_runs

    runs = load_runs(runs_dir).runs
    text = headline(runs)
    n_failed = sum(r["status"] == "checks_failed" for r in runs)
    assert text.startswith(f"{n_failed} of the last 6 runs failed a check")
    assert "drift in age since 2026-11-03" in text  # failing in both shifted periods
    assert "more missing values in hours-per-week on 2026-11-04" in headline(runs, max_phrases=20)
    clean = [r for r in runs if r["period_label"] <= "2026-11-02" and r["kind"] == "drift"]
    assert headline(clean).startswith("All of the last 2 runs passed their checks")
    assert headline(filter_runs(runs, kind="performance")) == "No report runs yet."


def test_trend_charts_by_period_with_control_limits(runs_dir):
    from workbench.dashboards.runs import load_runs
    from workbench.dashboards.trends import trend_figures

    figs = dict(trend_figures(load_runs(runs_dir).runs))
    assert set(figs) == {"drift_share", "accuracy", "fairness.sex", "fairness.race"}
    share = {t.name: t for t in figs["drift_share"].data}
    periods = ["2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04"]
    assert list(figs["drift_share"].layout.xaxis.ticktext) == periods
    assert [
        c[0] for c in share["drift share"].customdata
    ] == periods  # one point per run: one run a period here
    assert list(share["drift share"].x) == [0, 1, 2, 3]
    assert share["drift share"].y[3] > share["drift share"].y[0]
    # two clean periods are too few for control limits (a sliver that paints ordinary runs red):
    # none drawn, the title says how many are needed, and the check's own limit decides the colour
    assert not {"centre line", "lower control limit", "upper control limit"} & set(share)
    assert "once 5 runs are in control; 2 so far" in figs["drift_share"].layout.title.text
    colors = share["drift share"].marker.color
    assert colors[0] != "#d62728" and colors[3] == "#d62728"
    acc = {t.name for t in figs["accuracy"].data}
    assert {"estimated (no labels)", "actual"} <= acc
    groups = {t.name for t in figs["fairness.sex"].data}
    assert {"Male", "Female"} <= groups and any((n or "").startswith("limit") for n in groups)


def test_control_limits_from_five_in_control_runs(runs_dir):
    import copy

    from workbench.dashboards.runs import load_runs
    from workbench.dashboards.trends import MIN_CONTROL_RUNS, drift_share_figure

    runs = [r for r in load_runs(runs_dir).runs if r["kind"] == "drift"]
    clean = [r for r in runs if r["status"] == "passed"]
    shifted = max(runs, key=lambda r: r["period_label"])
    # more in-control periods shaped like the ledger's own rows: copies of the clean runs, later periods
    extra = []
    for i in range(MIN_CONTROL_RUNS - len(clean)):
        r = copy.deepcopy(clean[i % len(clean)])
        r["id"], r["name"], r["period_label"] = f"{r['id']}-{i}", None, f"2026-10-{20 + i:02d}"
        extra.append(r)
    fig = drift_share_figure([*extra, *runs])
    share = {t.name: t for t in fig.data}
    assert {"centre line", "lower control limit", "upper control limit"} <= set(share)
    assert "(control limits from in-control runs)" in fig.layout.title.text
    upper = share["upper control limit"].y[0]
    points = share["drift share"]
    by_period = dict(zip((c[0] for c in points.customdata), points.y, strict=True))
    assert by_period[shifted["period_label"]] > upper  # the shifted period is out of control
    colors = dict(zip((c[0] for c in points.customdata), points.marker.color, strict=True))
    assert colors[shifted["period_label"]] == "#d62728"
    assert all(colors[r["period_label"]] != "#d62728" for r in extra)


def test_index_dashboard_filters_and_shows_a_run_without_heavy_libraries(runs_dir):
    code = f"""
import json, sys
from workbench.dashboards.index import IndexDashboard
d = IndexDashboard({str(runs_dir)!r}, links=True)
out = {{"rows": d.table.value.count("<tr class='wb-row"), "charts": len(d.trends.children),
       "options": len(d.run.options), "headline": d.headline.value}}
d.kind.value = "bias"
out["bias_rows"] = d.table.value.count("<tr class='wb-row"); out["bias_charts"] = len(d.trends.children)
out["bias_only"] = "<td>drift</td>" not in d.table.value
d.kind.value = "all"
drift = [r for r in d.index.runs if r["kind"] == "drift" and r["period_label"] == "2026-11-04"][0]
d.select(drift["id"])
out["n_checks"] = len(drift["checks"])
kids = d.details.children
out["detail_types"] = [type(k).__name__ for k in kids]
out["detail_html"] = " ".join(k.value for k in kids if hasattr(k, "value") and isinstance(k.value, str))
out["traces"] = [len(k.data) for k in kids if type(k).__name__ == "FigureWidget"]
out["heavy"] = sorted({{m.split(".")[0] for m in sys.modules}} & set({HEAVY!r}))
out["nbformat"] = "nbformat" in sys.modules
print(json.dumps(out))
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["rows"] == 6 and out["options"] == 7 and out["charts"] == 4
    assert out["bias_rows"] == 2 and out["bias_only"] and out["bias_charts"] == 2
    assert "wb-failed-check" not in out["headline"] and "failed a check" in out["headline"]
    assert out["traces"] and all(n > 0 for n in out["traces"])
    html = out["detail_html"]
    assert "drift.column.age" in html and "hours-per-week" in html and "report.html" in html
    assert "wb-checks" in html and "own page" in html
    # every check once on the run page: the result cards point to the table instead of repeating it
    assert html.count("<tr class='wb-check-row ") == out["n_checks"] > 0
    assert "are in the check table above" in html and "checks passed</summary>" in html
    assert out["heavy"] == [], f"the dashboard imported {out['heavy']}"
    assert not out["nbformat"], "nbformat/jsonschema cost seconds of start-up and are not needed"


def test_runs_table_highlights_failed_checks_and_links_each_run(runs_dir):
    from workbench.dashboards import cards
    from workbench.dashboards.links import Links
    from workbench.dashboards.runs import load_runs

    runs = load_runs(runs_dir).runs
    html = cards.runs_table_html(runs, Links.for_server(runs_dir))
    assert html.count("wb-row-checks_failed") == sum(r["status"] == "checks_failed" for r in runs)
    assert "<span class='wb-failed-check' title='drift.column.age (failed)'>drift.column.age</span>" in html
    for r in runs:  # warnings are never listed as failed checks
        for name in r["failed_warnings"]:
            assert f"<span class='wb-failed-check' title='{name} (failed)'>" not in html
    for r in runs:
        assert f"href='/voila/files/{r['kind']}/{r['id']}/report.html'" in html
        assert (
            f"href='/voila/render/{r['kind']}/{r['id']}/report.ipynb'" in html
            and f"href='?run={r['id']}'" in html
        )
    # no raw data rows: figures and check names only (an Adult row would show e.g. its fnlwgt)
    assert "fnlwgt" not in html and "Never-married" not in html


# -- error cards -----------------------------------------------------------------------------
def test_damaged_runs_become_cards_and_the_rest_renders(damaged):
    from workbench.dashboards.index import IndexDashboard
    from workbench.dashboards.runs import load_runs

    index = load_runs(damaged["reports"])
    by_run = {(p.run_id, p.kind) for p in index.problems}
    assert (damaged["corrupt_summary"], "corrupt") in by_run
    assert (damaged["corrupt_results"], "corrupt") in by_run
    assert (damaged["no_html"], "missing_artifact") in by_run
    assert (damaged["failed"], "failed_run") in by_run
    failed_card = [p for p in index.problems if p.kind == "failed_run"][0]
    assert "the upstream table is garbage" in failed_card.detail and "Traceback" not in failed_card.detail
    d = IndexDashboard(damaged["reports"], links=True)
    assert d.table.value.count("<tr class='wb-row") == 7 and len(d.trends.children) == 4
    assert d.problems.value.count("class='wb-card wb-card-error'") == 4
    assert "missing report.html" in d.problems.value and "not valid JSON" in d.problems.value
    # the run whose results are damaged: an error card, then the ledger's findings and checks
    d.select(damaged["corrupt_results"])
    html = " ".join(k.value for k in d.details.children if isinstance(getattr(k, "value", None), str))
    assert "damaged results.json" in html and "wb-checks" in html and "drift.column.age" in html
    assert not [k for k in d.details.children if type(k).__name__ == "FigureWidget"]
    d.select(damaged["failed"])
    html = " ".join(k.value for k in d.details.children if isinstance(getattr(k, "value", None), str))
    assert "the upstream table is garbage" in html


def test_an_empty_or_missing_reports_dir_says_how_to_make_runs(tmp_path):
    from workbench.dashboards.index import IndexDashboard

    for reports in (tmp_path / "missing", tmp_path / "empty"):
        if reports.name == "empty":
            reports.mkdir()
        d = IndexDashboard(reports)
        # header and the card: no filters, charts or tables
        assert d.bottom is None and [type(c).__name__ for c in d.widget.children] == ["VBox"]
        assert [c for c in d.top.children if getattr(c, "value", "")] == [d.header, d.problems]
        assert "No runs yet" in d.problems.value and "workbench report drift" in d.problems.value


def test_first_paint_is_static_until_a_filter_changes(runs_dir):
    """Served by `workbench dashboard`, the index first shows static outputs (drawn by the server as the
    page streams); its widgets stay empty until the first change, which hides the static copies."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    from workbench.dashboards.index import FIRST_PAINT, IndexDashboard
    from workbench.viz._display import FIGURES_MIMETYPE

    InteractiveShell.instance()
    try:
        d = IndexDashboard(runs_dir, links=True, first_paint=True)
        with capture_output() as captured:
            d.show()
    finally:
        InteractiveShell.clear_instance()  # other tests run without a shell
    outputs = [o.data for o in captured.outputs]
    html = " ".join(o.get("text/html", "") for o in outputs)
    figures = [o[FIGURES_MIMETYPE] for o in outputs if FIGURES_MIMETYPE in o]
    widgets = [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o]
    assert html.count(f"class='{FIRST_PAINT}'") == 2 and html.count("<tr class='wb-row") == 6
    assert "of the last 6 runs failed a check" in html and "Model monitoring" in html
    assert len(figures) == 1 and FIRST_PAINT in figures[0]["class"] and len(figures[0]["figures"]) == 4
    assert all(f["data"] and f["layout"] for f in figures[0]["figures"])
    assert len(widgets) == 3  # filters, live trends, runs selector and details
    assert (
        d.trends.children == () and d.table.value == "" and d.headline.value == "" and d.takeover.value == ""
    )

    d.kind.value = "bias"  # the widgets take over: the static copies are hidden by a style
    assert f".{FIRST_PAINT}{{display:none" in d.takeover.value
    assert len(d.trends.children) == 2 and d.table.value.count("<tr class='wb-row") == 2
    assert "Model monitoring" in d.header.value and d.headline.value


def test_a_damaged_ledger_falls_back_to_the_run_directories(runs_dir, tmp_path):
    from workbench.dashboards.runs import load_runs

    reports = copy_runs(runs_dir, tmp_path / "reports")
    for p in reports.glob("ledger.sqlite*"):
        p.unlink()
    (reports / "ledger.sqlite").write_bytes(b"this is not a database" * 100)
    index = load_runs(reports)
    assert len(index.runs) == 6
    assert [p.kind for p in index.problems] == ["ledger"] and "workbench runs --rebuild" in index.problems[
        0
    ].detail


# -- the notebook and the server ------------------------------------------------------------
def test_index_notebook_is_a_thin_template_without_outputs():
    nb = json.loads((ROOT / "notebooks" / "dashboards" / "index.ipynb").read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert "parameters" in code[0]["metadata"].get("tags", [])
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)
    assert "workbench.dashboards" in "".join(code[1]["source"]) and len(code) == 2


@pytest.mark.notebook
def test_index_notebook_runs_as_an_ordinary_notebook(runs_dir, tmp_path):
    import papermill as pm

    out = tmp_path / "index.ipynb"
    pm.execute_notebook(
        str(ROOT / "notebooks" / "dashboards" / "index.ipynb"),
        str(out),
        parameters={"reports_dir": str(runs_dir), "kind": "drift"},
        kernel_name="python3",
        progress_bar=False,
        cwd=str(tmp_path),
    )
    nb = json.loads(out.read_text())
    outputs = [o for c in nb["cells"] for o in c.get("outputs", [])]
    assert not [o for o in outputs if o["output_type"] == "error"]
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)


def test_run_notebooks_without_readable_results_are_served_as_a_card(runs_dir, tmp_path, monkeypatch):
    import nbformat

    from workbench.dashboards.pages import prepare_notebook

    reports = copy_runs(runs_dir, tmp_path / "reports")
    run = run_dirs(reports, "drift")[0]
    path = f"drift/{run.name}/report.ipynb"
    monkeypatch.delenv("WORKBENCH_DASHBOARD_PROBE", raising=False)
    nb = prepare_notebook(nbformat.read(run / "report.ipynb", as_version=4), reports, path)
    sources = ["".join(c.source) for c in nb.cells]
    assert f"prepare({str(run)!r})" in sources[0]  # the first cell: fast start, in the run's folder
    assert any("load_or_compute" in s for s in sources)  # results intact: as is
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")  # Voila executes it again
    (run / "results.json").unlink()
    monkeypatch.setenv("WORKBENCH_DASHBOARD_PROBE", str(tmp_path / "probe"))
    nb = prepare_notebook(nbformat.read(run / "report.ipynb", as_version=4), reports, path)
    sources = ["".join(c.source) for c in nb.cells]
    assert len(sources) == 3 and "show_unavailable" in sources[1] and "probe(" in sources[2]
    assert not any("load_or_compute" in s for s in sources)  # never recomputed on a dashboard


def test_tokens_are_required_off_loopback():
    from workbench.dashboards.access import decide_token
    from workbench.errors import WorkbenchError

    assert decide_token("127.0.0.1", None, False) == "" and decide_token("localhost", None, False) == ""
    generated = decide_token("0.0.0.0", None, False)
    assert len(generated) >= 24 and generated != decide_token("0.0.0.0", None, False)
    assert decide_token("0.0.0.0", None, True) == ""
    assert decide_token("127.0.0.1", "s3cret", False) == "s3cret"
    with pytest.raises(WorkbenchError):
        decide_token("0.0.0.0", "x", True)


def test_cli_rejects_bad_options_with_exit_2(tmp_path):
    r = run_cli("dashboard", "--reports-dir", str(tmp_path), "--port", "70000", "--no-browser")
    assert r.returncode == 2 and "--port" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("dashboard", "--token", "a", "--no-token")
    assert r.returncode == 2
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        r = run_cli(
            "dashboard", "--reports-dir", str(tmp_path), "--port", str(s.getsockname()[1]), "--no-browser"
        )
    assert r.returncode == 2 and "in use" in r.stderr
    # a --host that is no name or address: said in one sentence (it used to say the port was in use)
    r = run_cli(
        "dashboard",
        "--reports-dir",
        str(tmp_path / "never"),
        "--host",
        "no-such-host.invalid",
        "--no-browser",
    )
    assert r.returncode == 2 and "Traceback" not in r.stderr and "in use" not in r.stderr
    assert "'no-such-host.invalid' is neither an IP address nor a name" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and not (tmp_path / "never").exists()
    r = run_cli(
        "dashboard", "--reports-dir", str(tmp_path), "--host", "192.0.2.1", "--no-browser"
    )  # TEST-NET-1
    assert r.returncode == 2 and "not an address of this machine" in r.stderr and "in use" not in r.stderr
    for bad in (["--max-kernels", "-1"], ["--cull-closed", "0"], ["--allow-host", "http://x/"]):
        r = run_cli("dashboard", "--reports-dir", str(tmp_path), "--no-browser", *bad)
        assert r.returncode == 2 and bad[0] in r.stderr and "Traceback" not in r.stderr


def test_host_header_check_allows_the_servers_own_names_only():
    """DNS rebinding: a page on another site reaches a loopback server through a name it controls, which
    the browser sends as Host. Only the server's own address and the names the user allowed are served."""
    from workbench.dashboards.access import HostCheck

    loop = HostCheck.for_server("127.0.0.1", 8866)
    for ok in ("127.0.0.1:8866", "localhost:8866", "[::1]:8866", "LOCALHOST:8866"):
        assert loop.allows(ok), ok
    for refused in (
        "evil.example:8866",
        "evil.example",
        "127.0.0.1:8867",
        "localhost",
        "",
        None,
        "10.0.0.5:8866",
        "127.0.0.1.nip.io:8866",
        "[::1]:80",
        "localhost:8866@evil",
    ):
        assert not loop.allows(refused), refused
    proxied = HostCheck.for_server("127.0.0.1", 8866, ["dash.example.org", "Other.Example:8443"])
    assert proxied.allows("dash.example.org") and proxied.allows("dash.example.org:443")
    assert proxied.allows("other.example:8443") and not proxied.allows("evil.example:8866")
    lan = HostCheck.for_server("192.168.1.20", 9000)
    assert lan.allows("192.168.1.20:9000") and lan.allows("127.0.0.1:9000")
    assert not lan.allows("192.168.1.21:9000") and not lan.allows("printer.lan:9000")
    every = HostCheck.for_server("0.0.0.0", 9000)
    assert every.allows("192.168.1.21:9000") and every.allows(f"{socket.gethostname()}:9000")
    assert not every.allows("evil.example:9000") and not every.allows("192.168.1.21:9001")


def test_server_configuration_bounds_kernels_and_uses_local_sockets(tmp_path):
    from workbench.dashboards.server import CULL_CLOSED, MAX_KERNELS, voila_config

    c = voila_config(tmp_path, host="127.0.0.1", port=8866, token="")
    km = c.SpareKernelManager
    assert km.max_kernels == MAX_KERNELS == 8 and km.cull_closed == CULL_CLOSED <= 30
    assert km.cull_unconnected >= 60  # a page still loading its scripts is not closed
    assert km.cull_open == 1800 and km.cull_every <= 5
    assert c.MappingKernelManager.cull_idle_timeout == 0  # Jupyter's rule is replaced, not doubled
    if sys.platform != "win32":
        assert c.KernelManager.transport == "ipc" and len(c.Voila.connection_dir_root) <= 40
    assert (
        voila_config(
            tmp_path, host="127.0.0.1", port=1, token="", max_kernels=0
        ).SpareKernelManager.max_kernels
        == 0
    )


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect (e.g. to the login page) is an answer in itself


def _get(url: str, host: str | None = None) -> tuple[int, str]:
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    try:
        with opener.open(request, timeout=120) as resp:
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def _kernel_pids(pid: int) -> list[int]:
    import psutil

    pids = []
    for child in psutil.Process(pid).children(recursive=True):
        try:
            if "ipykernel" in " ".join(child.cmdline()):
                pids.append(child.pid)
        except psutil.Error:  # gone meanwhile
            continue
    return pids


def _alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _non_loopback_ip() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))  # no packet is sent: only picks the outgoing interface
            ip = s.getsockname()[0]
        except OSError:
            return None
    return None if ip.startswith("127.") else ip


def test_server_listens_on_loopback_only_and_serves_only_report_html(runs_dir, tmp_path):
    reports = copy_runs(runs_dir, tmp_path / "reports")
    run = run_dirs(reports, "drift")[0]
    with DashboardServer(reports) as server:
        assert server.url.startswith("http://127.0.0.1:") and "token" not in server.url
        port = int(server.url.split(":")[2].split("/")[0])
        status, page = _get(server.url)
        assert status == 200 and "load_or_compute" not in page and "show_index" not in page
        # the first view is in the page itself: static copies and charts, drawn as the page streams
        assert "wb-first-paint" in page and page.count("wbPlot(document.currentScript)") == 4
        assert (reports / "index.ipynb").is_file()
        status, js = _get(f"{server.base}/workbench/static/plotly.js")
        assert status == 200 and "plotly.js" in js[:300]
        status, view = _get(f"{server.base}/voila/render/drift/{run.name}/report.ipynb")
        assert (
            status == 200
            and view.count("wbPlot(document.currentScript)") >= 3
            and "load_or_compute" not in view
        )
        assert _get(f"{server.base}/voila/files/drift/{run.name}/report.html")[0] == 200
        for forbidden in ("results.json", "summary.json", "report.ipynb"):
            assert _get(f"{server.base}/voila/files/drift/{run.name}/{forbidden}")[0] == 403
        assert _get(f"{server.base}/voila/files/ledger.sqlite")[0] == 403
        # no folder listing: Voila's tree redirects to the index, its contents API is not there
        for listing in ("/voila/tree", "/voila/tree/drift"):
            assert _get(f"{server.base}{listing}")[0] in (301, 302), listing
        status, body = _get(f"{server.base}/voila/api/contents/drift")
        assert status == 404 and run.name not in body
        ip = _non_loopback_ip()
        if ip:
            with socket.socket() as s:
                s.settimeout(3)
                assert s.connect_ex((ip, port)) != 0, "the dashboard must not listen beyond loopback"
        # the page names the reports directory, never the server's paths
        assert str(reports.parent) not in page and f"in {reports.name}" in page
        # DNS rebinding: any Host but the server's own is refused, on every route, with a short plain reason
        for host, code in (
            (f"localhost:{port}", 200),
            (f"[::1]:{port}", 200),
            (f"evil.example:{port}", 403),
            ("evil.example", 403),
            (f"127.0.0.1:{port + 1}", 403),
        ):
            for path in (
                "/voila/render/index.ipynb",
                "/workbench/static/plotly.js",
                "/",
                f"/voila/files/drift/{run.name}/report.html",
            ):
                status, body = _get(f"{server.base}{path}", host=host)
                expected = (301, 302) if path == "/" and code == 200 else (code,)  # / redirects to the index
                assert status in expected, (host, path, status)
                if status == 403 and "evil" in host:
                    assert body.startswith("Forbidden: this dashboard does not answer to the host name")
                    assert len(body) < 200 and "<" not in body
        # Ctrl-C with the pre-heated index kernel waiting for its visit (it used to print a ZMQError
        # traceback) and page kernels alive: a clean stop, every kernel gone
        kernels = _kernel_pids(server.proc.pid)
        assert len(kernels) >= 3  # pre-heated index, spare, and the pages above
        server.proc.send_signal(signal.SIGINT)
        assert server.proc.wait(timeout=60) == 0
    time.sleep(1)
    out = server.output()
    assert out.rstrip().endswith("workbench dashboard: stopped"), out
    assert out.count("refused a request for host") == 3  # once per name: --allow-host is the fix
    for noise in ("Traceback", "ZMQError", "without encryption", "websocket_ping", "ERROR", "Culling"):
        assert noise not in out, f"{noise!r} in the server's output: {out}"
    assert not [p for p in kernels if _alive(p)], "kernels left running after the server stopped"


def test_a_token_protects_the_pages_and_the_report_files(runs_dir, tmp_path):
    reports = copy_runs(runs_dir, tmp_path / "reports")
    run = run_dirs(reports, "bias")[0]
    with DashboardServer(reports, "--token", "s3cret-token") as server:
        assert server.url.endswith("?token=s3cret-token")
        base = server.base
        assert _get(f"{base}/voila/render/index.ipynb")[0] in (302, 403)  # to the login page
        assert _get(f"{base}/voila/files/bias/{run.name}/report.html")[0] in (302, 403)
        assert _get(f"{base}/voila/files/bias/{run.name}/report.html?token=s3cret-token")[0] == 200
        status, page = _get(server.url)
        assert status == 200 and "show_index" not in page
    shutil.rmtree(reports, ignore_errors=True)


def test_beyond_max_kernels_a_page_is_a_busy_card(runs_dir, tmp_path):
    reports = copy_runs(runs_dir, tmp_path / "reports")
    run = run_dirs(reports, "drift")[0]
    with DashboardServer(reports, "--max-kernels", "1", "--preheat", "0", "--spare-kernels", "0") as server:
        status, page = _get(server.url)  # its kernel stays: the page never connects (no browser here)
        assert status == 200 and "wbPlot(document.currentScript)" in page
        request = urllib.request.Request(f"{server.base}/voila/render/drift/{run.name}/report.ipynb")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=120)
        assert refused.value.code == 503 and refused.value.headers["Retry-After"]
        body = refused.value.read().decode()
        assert "The dashboard is busy, retry in a moment" in body and "data-problem='busy'" not in body
        assert 'data-problem="busy"' in body and "Traceback" not in body and str(tmp_path) not in body
    assert "Traceback" not in server.output()


def test_links_follow_the_page_path_under_a_proxy(tmp_path, monkeypatch):
    from workbench.dashboards.links import SERVER_ENV, page_links

    reports = tmp_path / "workbench-demo" / "reports"
    reports.mkdir(parents=True)
    monkeypatch.chdir(reports)  # Voila starts a kernel in its notebook's folder
    monkeypatch.delenv(SERVER_ENV, raising=False)
    monkeypatch.setenv("SCRIPT_NAME", "/user/sam/voila/render/workbench-demo/reports/index.ipynb")  # Binder
    links = page_links()
    run = reports / "drift" / "20261120T000000-nightly-abc123"
    assert (
        links.run_page(run)
        == "/user/sam/voila/render/workbench-demo/reports/drift/20261120T000000-nightly-abc123/report.ipynb"
    )
    assert (
        links.report_html(run)
        == "/user/sam/files/workbench-demo/reports/drift/20261120T000000-nightly-abc123/report.html"
    )
    assert links.run_page(tmp_path.parent / "elsewhere") is None  # not served: no link
    monkeypatch.setenv(SERVER_ENV, "1")  # `workbench dashboard`: the reports directory is the root
    monkeypatch.setenv("SCRIPT_NAME", "/voila/render/index.ipynb")
    links = page_links()
    assert links.report_html(run) == f"/voila/files/drift/{run.name}/report.html"
    monkeypatch.delenv("SCRIPT_NAME")
    assert page_links() is None


def test_dashboard_kernels_skip_what_costs_seconds_and_draw_the_same():
    code = """
import json, sys, time
from workbench.dashboards.kernel import prepare
prepare()
import plotly.io as pio
t = time.perf_counter()
pio.renderers.default = "plotly_mimetype"  # a user's cell may: pulls nbformat and jsonschema
import plotly.graph_objects as go
from workbench.viz._template import slim_template
fig = go.Figure(go.Bar(x=["a"], y=[1]))
fig.update_layout(template=slim_template())
print(json.dumps({"renderers_s": time.perf_counter() - t, "rfc3987": "rfc3987_syntax" in sys.modules
                  and sys.modules["rfc3987_syntax"] is not None,
                  "slim_types": sorted(slim_template().data.to_plotly_json()),
                  "registered_types": sorted(pio.templates["plotly_white"].data.to_plotly_json()),
                  "bar_styled": bool(fig.layout.template.data.bar),
                  "bg": fig.layout.template.layout.plot_bgcolor}))
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert not out["rfc3987"]
    assert set(out["slim_types"]) <= {"bar", "scatter", "heatmap", "table", "histogram"}
    assert "scatter3d" in out["registered_types"]  # plotly's own templates are left as they are
    assert out["bar_styled"] and out["bg"] == "white"
