"""Report runs end to end: papermill runs through the real CLI, the run store, the ledger, failures."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli

pytestmark = [pytest.mark.notebook]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, adult):
    """Reference, a clean batch, a drifted batch (age shifted, hours missing), a model; all on disk."""
    from workbench.data.simulate import simulate_batches
    from workbench.modeling.artifact import save_model
    from workbench.modeling.train import train

    d = tmp_path_factory.mktemp("inputs")
    ref = adult.train.sample(6000, random_state=0)
    ref.to_parquet(d / "reference.parquet", index=False)
    clean, drifted = simulate_batches(
        adult.test,
        adult.spec,
        [
            "clean",
            {
                "name": "shifted",
                "changes": [
                    {"kind": "covariate_shift", "column": "age", "direction": "up", "strength": 2.0},
                    {"kind": "missing_values", "column": "hours-per-week", "rate": 0.3},
                ],
            },
        ],
        batch_size=3000,
        random_state=3,
    )
    clean.data.to_parquet(d / "clean.parquet", index=False)
    drifted.data.to_parquet(d / "drifted.parquet", index=False)
    drifted.data.drop(columns="income").to_csv(d / "drifted_unlabelled.csv", index=False)
    model = train(
        adult.train.sample(5000, random_state=1), adult.spec, recipes=["logistic_regression"], progress=False
    ).champion
    save_model(model, d / "model.wbm")
    return d


def _json_run(*args, expect=0):
    r = run_cli(*args, "--json")
    assert r.returncode == expect, (r.returncode, r.stderr[-2000:])
    return json.loads(r.stdout)


def _drift_report(reference, current) -> tuple[str, ...]:
    """The start of ``workbench report drift --reference REFERENCE --current CURRENT``."""
    return ("report", "drift", "--reference", str(reference), "--current", str(current))


def _model_report(kind: str, data, model) -> tuple[str, ...]:
    """The start of ``workbench report KIND --data DATA --model MODEL`` (bias, performance)."""
    return ("report", kind, "--data", str(data), "--model", str(model))


def test_drift_report_finds_the_injected_changes(inputs, tmp_path):
    reports = tmp_path / "reports"
    s = _json_run(
        *_drift_report(inputs / "reference.parquet", inputs / "drifted.parquet"),
        "--model",
        str(inputs / "model.wbm"),
        "--name",
        "nightly",
        "--period",
        "2026-11-03",
        "--reports-dir",
        str(reports),
        "--junit",
        str(tmp_path / "checks.xml"),
    )
    run_dir = Path(s["run_dir"])
    assert run_dir.parent == reports / "drift" and "nightly" in run_dir.name
    for key in ("kind", "status", "dataset_drift", "drift_share", "columns", "checks"):
        assert key in s, key
    assert s["kind"] == "drift" and s["period"] == "2026-11-03"
    cols = {c["name"]: c for c in s["columns"]}
    for c in cols.values():
        assert {"name", "stattest", "score", "threshold", "drifted"} <= set(c)
    assert cols["age"]["drifted"] is True
    failed = {c["name"] for c in s["checks"] if not c["passed"]}
    assert "drift.column.age" in failed
    assert "quality.missing.hours-per-week" in failed
    assert s["status"] == "checks_failed"
    # lineage: model hash, data fingerprints, versions, the kernel's interpreter
    lin = s["lineage"]
    assert lin["model"]["sha256"] and lin["data"]["current"]["sha256"] and lin["versions"]["evidently"]
    assert Path(lin["kernel"]["python"]).resolve() == Path(sys.executable).resolve()
    # the run directory
    for f in ("report.ipynb", "report.html", "summary.json", "results.json"):
        assert (run_dir / f).is_file(), f
    html = (run_dir / "report.html").read_text()
    assert "Plotly.newPlot" in html and "import plotly" not in html and "load_or_compute" not in html
    assert "application/vnd.plotly.v1+json" in (run_dir / "report.ipynb").read_text()
    # no raw rows: the summary holds aggregates only (an fnlwgt value of the data would be a leak)
    text = (run_dir / "summary.json").read_text()
    assert str(int(pd_first(inputs / "drifted.parquet", "fnlwgt"))) not in text
    junit = (tmp_path / "checks.xml").read_text()
    assert "drift.column.age" in junit and "<failure" in junit
    # the ledger indexes it
    runs = json.loads(run_cli("runs", "--reports-dir", str(reports), "--json").stdout)
    assert [r["id"] for r in runs] == [run_dir.name]
    assert runs[0]["status"] == "checks_failed" and "drift.column.age" in runs[0]["failed_checks"]


def pd_first(path, col):
    import pandas as pd

    return pd.read_parquet(path)[col].iloc[0]


def test_fail_on_gates_the_exit_code(inputs, tmp_path):
    reports = str(tmp_path / "r")
    base = ("report", "drift", "--reference", str(inputs / "reference.parquet"), "--reports-dir", reports)
    s = _json_run(*base, "--current", str(inputs / "clean.parquet"), "--fail-on", "all")
    assert s["status"] == "passed", [c for c in s["checks"] if not c["passed"]]
    r = run_cli(*base, "--current", str(inputs / "drifted_unlabelled.csv"), "--fail-on", "drift.column.age")
    assert r.returncode == 1 and "drift.column.age" in r.stderr
    r = run_cli(*base, "--current", str(inputs / "drifted_unlabelled.csv"), "--fail-on", "drift.column.sex")
    assert r.returncode == 0, r.stderr
    checks = tmp_path / "checks.toml"
    checks.write_text(
        '"drift.column.*" = false\n"quality.*" = false\n"drift.share" = 0.9\n"drift.dataset" = false\n'
    )
    s = _json_run(
        *base,
        "--current",
        str(inputs / "drifted_unlabelled.csv"),
        "--checks",
        str(checks),
        "--fail-on",
        "all",
    )
    # the run's settings hold everywhere on its page: the check table and each result's card
    page = (Path(s["run_dir"]) / "report.html").read_text()
    assert "drift.column.age" not in page and "quality.missing" not in page and "drift.share" in page
    assert len(json.loads(run_cli("runs", "--reports-dir", reports, "--json").stdout)) == 4


def test_bias_and_performance_reports(inputs, tmp_path):
    reports = str(tmp_path / "r")
    s = _json_run(
        *_model_report("bias", inputs / "clean.parquet", inputs / "model.wbm"),
        "--sensitive",
        "sex",
        "--sensitive",
        "race",
        "--reference",
        str(inputs / "reference.parquet"),
        "--reports-dir",
        reports,
    )
    assert s["kind"] == "bias" and s["status"] in ("passed", "checks_failed")
    assert "groups" in s and "disparities" in s
    g = {(x["sensitive"], x["group"]): x for x in s["groups"]}
    assert ("sex", "Female") in g and {"count", "selection_rate", "tpr", "fpr"} <= set(g[("sex", "Female")])
    s = _json_run(
        *_model_report("performance", inputs / "drifted.parquet", inputs / "model.wbm"),
        "--reference",
        str(inputs / "reference.parquet"),
        "--reports-dir",
        reports,
    )
    assert s["kind"] == "performance" and s["metrics"]
    runs = json.loads(run_cli("runs", "--reports-dir", reports, "--json").stdout)
    assert {r["kind"] for r in runs} == {"bias", "performance"}


def test_bad_input_exits_2_before_any_run(inputs, tmp_path):
    import pandas as pd

    reports = tmp_path / "r"
    ref = str(inputs / "reference.parquet")
    pd.DataFrame(columns=["age", "sex"]).to_csv(tmp_path / "empty.csv", index=False)
    cases = [
        (("report", "drift", "--reference", ref, "--current", str(tmp_path / "empty.csv")), "no rows"),
        (
            ("report", "drift", "--reference", ref, "--current", str(tmp_path / "missing.csv")),
            "does not exist",
        ),
        (
            (
                *_drift_report(ref, inputs / "clean.parquet"),
                "--model",
                str(inputs / "model.wbm"),
                "--target",
                "nope",
            ),
            "'nope'",
        ),
        (
            (
                *_model_report("bias", inputs / "clean.parquet", inputs / "model.wbm"),
                "--sensitive",
                "religion",
            ),
            "'religion'",
        ),
    ]
    pd.read_parquet(inputs / "clean.parquet").drop(columns=["education-num"]).to_csv(
        tmp_path / "nofeat.csv", index=False
    )
    cases.append(
        (
            ("report", "bias", "--data", str(tmp_path / "nofeat.csv"), "--model", str(inputs / "model.wbm")),
            "'education-num'",
        )
    )
    cases.append(
        (
            (
                *_drift_report(ref, tmp_path / "nofeat.csv"),
                "--model",
                str(inputs / "model.wbm"),
            ),
            "'education-num'",
        )
    )
    for args, needle in cases:
        r = run_cli(*args, "--reports-dir", str(reports))
        assert r.returncode == 2, (args, r.stderr)
        assert needle in r.stderr and "Traceback" not in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not list(reports.glob("*/*")) if reports.exists() else True


def test_columns_differ_and_labels_absent_are_reported_not_crashed(inputs, tmp_path):
    import pandas as pd

    cur = pd.read_parquet(inputs / "drifted.parquet").drop(columns=["income", "fnlwgt"])
    cur["new-column"] = 1.0
    cur["age"] = cur["age"].astype(str) + " years"  # a type change upstream
    cur.to_csv(tmp_path / "odd.csv", index=False)
    s = _json_run(
        *_drift_report(inputs / "reference.parquet", tmp_path / "odd.csv"),
        "--reports-dir",
        str(tmp_path / "r"),
    )
    text = json.dumps(s)
    assert "fnlwgt" in text and "new-column" in text
    failed = {c["name"] for c in s["checks"] if not c["passed"]}
    assert any(n.startswith("quality.") for n in failed)


def test_a_template_that_raises_is_recorded_as_failed(inputs, tmp_path):
    import nbformat

    from workbench.reports.runner import run_report

    reports = tmp_path / "r"
    good = run_report(
        "drift",
        {"reference": str(inputs / "reference.parquet"), "current": str(inputs / "clean.parquet")},
        reports_dir=reports,
        progress=False,
    )
    before = (good.run_dir / "summary.json").read_bytes()
    nb = nbformat.read(ROOT / "notebooks" / "monitoring" / "drift_report.ipynb", as_version=4)
    nb.cells.insert(2, nbformat.v4.new_code_cell("raise RuntimeError('upstream table is garbage')"))
    bad_template = tmp_path / "bad.ipynb"
    nbformat.write(nb, bad_template)
    out = run_report(
        "drift",
        {"reference": str(inputs / "reference.parquet"), "current": str(inputs / "clean.parquet")},
        reports_dir=reports,
        template=bad_template,
        progress=False,
    )
    assert out.exit_code == 3
    assert out.summary["status"] == "failed" and "upstream table is garbage" in out.summary["error"]
    assert (out.run_dir / "summary.json").is_file() and out.run_dir != good.run_dir
    assert (good.run_dir / "summary.json").read_bytes() == before
    from workbench.reports.ledger import Ledger

    rows = {r["id"]: r for r in Ledger(reports).runs()}
    assert rows[out.run_dir.name]["status"] == "failed" and rows[good.run_dir.name]["status"] == "passed"
    assert not list(reports.glob("*/.tmp-*"))


def test_two_runs_at_once_and_a_killed_run(inputs, tmp_path):
    reports = tmp_path / "r"
    args = [
        sys.executable,
        "-m",
        "workbench",
        *_drift_report(inputs / "reference.parquet", inputs / "clean.parquet"),
        "--reports-dir",
        str(reports),
        "--json",
    ]
    procs = [
        subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-500:] for o in outs]
    dirs = {json.loads(o[0])["run_dir"] for o in outs}
    assert len(dirs) == 2
    before = {d: (Path(d) / "summary.json").read_bytes() for d in dirs}

    # a real SIGKILL mid-run (the whole job: CLI and kernel)
    victim = subprocess.Popen(
        args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.time() + 120
    while time.time() < deadline and not list(reports.glob("drift/.tmp-*/report.ipynb")):
        time.sleep(0.2)
    assert list(reports.glob("drift/.tmp-*")), "the run never started"
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait()
    runs = json.loads(run_cli("runs", "--reports-dir", str(reports), "--json").stdout)
    assert len(runs) == 3
    killed = [r for r in runs if r["run_dir"] not in dirs]
    assert killed[0]["status"] == "failed" and "killed" in killed[0]["error"]
    assert not list(reports.glob("drift/.tmp-*")), "a killed run must leave nothing half-written"
    assert len([p for p in (reports / "drift").iterdir()]) == 2
    assert {d: (Path(d) / "summary.json").read_bytes() for d in dirs} == before

    # the ledger can be rebuilt from the run directories
    (reports / "ledger.sqlite").unlink()
    r = run_cli("runs", "--reports-dir", str(reports), "--rebuild", "--json")
    assert sorted(x["run_dir"] for x in json.loads(r.stdout)) == sorted(dirs)


def test_stored_results_render_without_data_or_heavy_libraries(inputs, tmp_path):
    import shutil

    reports = tmp_path / "r"
    data = tmp_path / "data"
    shutil.copytree(inputs, data)
    s = _json_run(
        *_model_report("bias", data / "clean.parquet", data / "model.wbm"),
        "--reports-dir",
        str(reports),
    )
    shutil.rmtree(data)
    code = (
        "import sys, json; from workbench.reports import load_or_compute\n"
        f"r = load_or_compute('bias', {{}}, run_dir={s['run_dir']!r})\n"
        "html = r.to_html(); figs = r.figures()\n"
        "print(json.dumps({'heavy': [m for m in ('evidently', 'fairlearn', 'sklearn', 'scipy', 'lime', "
        "'onnxruntime') if m in sys.modules], 'figs': len(figs), 'checks': len(r.checks())}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["heavy"] == [] and got["figs"] > 0 and got["checks"] == len(s["checks"])


def test_reports_work_on_a_table_the_team_never_saw(tmp_path):
    """Loan applications built from scikit-learn's breast-cancer measurements: other names, other types."""
    import numpy as np
    from sklearn.datasets import load_breast_cancer

    rng = np.random.default_rng(11)
    bunch = load_breast_cancer(as_frame=True)
    df = bunch.data.iloc[:, :6].copy()
    df.columns = ["income-k", "debt ratio", "score-a", "score-b", "tenure", "balance"]
    df["applicant sex"] = rng.choice(["F", "M"], size=len(df))
    df["channel"] = rng.choice(["web", "branch", "phone"], size=len(df))
    df["approved"] = np.where(bunch.target == 1, "yes", "no")
    df.iloc[:350].to_csv(tmp_path / "train.csv", index=False)
    later = df.iloc[350:].copy()
    later["income-k"] = later["income-k"] * 1.6  # incomes reported in another currency upstream
    later.to_csv(tmp_path / "later.csv", index=False)
    r = run_cli(
        "train",
        "--data",
        str(tmp_path / "train.csv"),
        "--target",
        "approved",
        "--sensitive",
        "applicant sex",
        "--model",
        "logistic_regression",
        "--out",
        str(tmp_path / "m.wbm"),
    )
    assert r.returncode == 0, r.stderr
    reports = str(tmp_path / "r")
    s = _json_run(
        *_drift_report(tmp_path / "train.csv", tmp_path / "later.csv"),
        "--model",
        str(tmp_path / "m.wbm"),
        "--reports-dir",
        reports,
    )
    cols = {c["name"]: c for c in s["columns"]}
    assert cols["income-k"]["drifted"] and not cols["channel"]["drifted"]
    s = _json_run(
        *_model_report("bias", tmp_path / "later.csv", tmp_path / "m.wbm"),
        "--reports-dir",
        reports,
    )
    assert {g["group"] for g in s["groups"] if g["sensitive"] == "applicant sex"} == {"F", "M"}
    s = _json_run(
        *_model_report("performance", tmp_path / "later.csv", tmp_path / "m.wbm"),
        "--reports-dir",
        reports,
    )
    assert s["status"] in ("passed", "checks_failed") and s["metrics"]


def test_the_kernel_summarises_and_draws_the_runner_only_files(inputs, tmp_path):
    """One papermill run: the kernel computes, summarises and writes report.html (its figures built once);
    the runner's process files the run without importing the analyses, pandas or plotly."""
    from workbench.reports.report import PROFILE_ENV, Report, summary_of

    reports, prof = tmp_path / "r", tmp_path / "prof"
    params = {"reference": str(inputs / "reference.parquet"), "current": str(inputs / "drifted.parquet")}
    code = (
        "import json, sys\nfrom workbench.reports.runner import run_report\n"
        f"out = run_report('drift', {params!r}, reports_dir={str(reports)!r}, progress=False)\n"
        "print(json.dumps({'run_dir': str(out.run_dir), 'code': out.exit_code, 'loaded': [m for m in "
        "('pandas', 'plotly', 'workbench.monitoring.drift', 'rfc3987_syntax') if m in sys.modules]}))"
    )
    r = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, PROFILE_ENV: str(prof), "PYTHONWARNINGS": "ignore"},
    )
    assert r.returncode == 0, r.stderr[-2000:]
    got = json.loads(r.stdout.strip().splitlines()[-1])
    assert got["loaded"] == [] and got["code"] == 0
    run_dir = Path(got["run_dir"])
    summary = json.loads((run_dir / "summary.json").read_text())
    assert {"quality.missing.hours-per-week", "drift.column.age"} <= {
        c["name"] for c in summary["checks"] if not c["passed"]
    }
    # what the runner would have computed itself from the stored results
    report = Report.from_dict(json.loads((run_dir / "results.json").read_text())["report"])
    expected = summary_of(report)
    assert {k: summary[k] for k in expected} == json.loads(json.dumps(expected))
    html = (run_dir / "report.html").read_text()
    assert html.count("<div class='wb-figure'") == len(report.figures()) and "<title>Drift report — " in html
    nb = json.loads((run_dir / "report.ipynb").read_text())
    assert nb["cells"][0]["metadata"]["tags"] == ["workbench-prelude"]
    assert sum("parameters" in c["metadata"].get("tags", []) for c in nb["cells"]) == 1
    (timings,) = prof.glob("*-timings.json")  # the kernel's phases, for finding where a run's time goes
    phases = json.loads(timings.read_text())
    assert phases["compute"] > 0 and phases["html"] > 0 and phases["kernel_age_at_start_s"] > 0
    assert {p.name.split("-", 1)[1] for p in prof.glob("*.prof")} == {"compute.prof", "html.prof"}


@pytest.mark.slow
def test_concurrent_runs_never_vanish(inputs, tmp_path):
    """Eight report runs two at a time, three times over: every run is in the ledger with its folder.

    (As ``workbench demo`` runs them: worker processes sharing one reports
    directory and its SQLite ledger.) A run that starts is always recorded.
    """
    from concurrent.futures import ProcessPoolExecutor

    from workbench.demo import _run_one
    from workbench.reports.ledger import Ledger

    reports = tmp_path / "reports"
    jobs = []
    for i in range(4):
        current = str(inputs / ("clean.parquet" if i % 2 else "drifted.parquet"))
        jobs.append(
            (
                "drift",
                {
                    "reference": str(inputs / "reference.parquet"),
                    "current": current,
                    "model": str(inputs / "model.wbm"),
                },
                f"d{i}",
            )
        )
        jobs.append(
            ("bias", {"data": current, "model": str(inputs / "model.wbm"), "sensitive": ["sex"]}, f"b{i}")
        )
    for round_ in range(3):
        with ProcessPoolExecutor(max_workers=2) as pool:
            outcomes = list(
                pool.map(
                    _run_one, *zip(*[(k, p, str(reports), f"{n}-{round_}") for k, p, n in jobs], strict=True)
                )
            )
        assert [error for error, _, _ in outcomes] == [None] * len(jobs)
        assert all(folder and Path(folder).is_dir() for _, _, folder in outcomes)
        rows = Ledger(reports).runs()
        folders = sorted(p for p in reports.glob("*/*") if p.is_dir())
        assert len(rows) == len(folders) == len(jobs) * (round_ + 1), (len(rows), [f.name for f in folders])
        assert not list(reports.glob("*/.tmp-*"))
        assert {r["status"] for r in rows} <= {"passed", "checks_failed"}
        assert {Path(r["run_dir"]).name for r in rows} == {f.name for f in folders}


def test_relative_paths_resolve_before_the_kernel_starts(inputs, tmp_path):
    """The kernel starts in its run's folder: relative inputs are resolved by the runner, for every caller."""
    import shutil

    from workbench.reports.runner import run_report

    work = tmp_path / "work"
    (work / "data").mkdir(parents=True)
    for name in ("reference.parquet", "clean.parquet", "model.wbm"):
        shutil.copy(inputs / name, work / "data" / name)
    cwd = os.getcwd()
    os.chdir(work)
    try:
        out = run_report(
            "drift",
            {
                "reference": "data/reference.parquet",
                "current": "data/clean.parquet",
                "model": "data/model.wbm",
            },
            reports_dir="reports",
            progress=False,
        )
    finally:
        os.chdir(cwd)
    assert out.summary["status"] in ("passed", "checks_failed"), out.summary.get("error")
    assert out.summary["params"]["model"] == str(work / "data" / "model.wbm")
