"""The release loop on a table the team never saw, through the `workbench` command, on a real SQLite MLflow
registry: two challengers registered, the worse one refused with its failed checks named (exit 1), the better
one promoted, rolled back, `registry history` shows the three moves, `evaluate` takes the champion's URI,
and `retrain` registers a challenger with lineage and files its comparison as a compare run. Then: is
retraining due?
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.cli import EXIT_BAD_INPUT, EXIT_CHECK_FAILED, EXIT_OK, main
from workbench.reports.ledger import Ledger

#: same recipe and size: their single-row p95 latencies differ only by the (loaded) machine's noise
BUDGETS = {"release.latency_p95": 10.0}


def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def flow(loans, tmp_path_factory):
    """Three loan models (weak champion, worse, better), a registry, a run store, a window, a checks file."""
    from workbench.data import infer_spec
    from workbench.modeling.artifact import save_model
    from workbench.modeling.train import train

    folder = tmp_path_factory.mktemp("flow")
    data = pd.read_csv(loans / "train.csv")
    spec = infer_spec(data, target="approved", sensitive=["applicant-sex"])

    def fit(rows: pd.DataFrame, path: str):
        model = train(rows, spec, recipes=["logistic_regression"], quick=True, progress=False).champion
        return str(save_model(model, folder / path))

    shuffled = data.assign(approved=np.random.default_rng(3).permutation(data["approved"]))
    checks = folder / "checks.json"
    checks.write_text(json.dumps(BUDGETS))
    return {
        "champion": fit(data.sample(80, random_state=1), "champion.wbm"),
        "worse": fit(shuffled, "worse.wbm"),
        "better": fit(data, "better.wbm"),
        "registry": str(folder / "registry"),
        "reports": str(folder / "reports"),
        "window": str(loans / "holdout.parquet"),
        "checks": str(checks),
        "folder": folder,
    }


def test_refuse_promote_rollback_history_evaluate_retrain(flow, capsys):
    reg, reports, window = (
        ["--registry", flow["registry"]],
        ["--reports-dir", flow["reports"]],
        flow["window"],
    )
    for path, extra in (
        (flow["champion"], ["--alias", "champion"]),
        (flow["worse"], []),
        (flow["better"], []),
    ):
        code, out, err = _cli(capsys, "registry", "register", path, "--name", "loans", *extra, *reg, "--json")
        assert code == EXIT_OK, err

    # the worse challenger: refused, the failed checks named, exit 1
    code, out, err = _cli(capsys, "promote", "loans", "--version", "2", "--data", window, *reg, *reports)
    assert code == EXIT_CHECK_FAILED, err
    assert "was not promoted" in out and "release.auc_loss" in out and "champion stays version 1" in out

    # the better one: promoted; its comparison is a compare run in the ledger
    code, out, err = _cli(
        capsys, "promote", "loans", "--version", "3", "--data", window, "--checks", flow["checks"],
        *reg, *reports, "--json",
    )  # fmt: skip
    promoted = json.loads(out)
    assert code == EXIT_OK and promoted["decision"] == "promoted", err

    code, out, err = _cli(capsys, "rollback", "loans", "--reason", "back to the known one", *reg)
    assert code == EXIT_OK and "version 3 -> version 1" in out, err

    code, out, err = _cli(capsys, "registry", "history", "loans", *reg)
    assert code == EXIT_OK, err
    moves = re.findall(r"(register|promote|rollback)\s+@champion\s+(none|v\d) -> (v\d)", out)
    assert moves == [("register", "none", "v1"), ("promote", "v1", "v3"), ("rollback", "v3", "v1")]
    assert f"[comparison {promoted['comparison_run']}]" in out

    code, out, err = _cli(
        capsys,
        "evaluate",
        "--model",
        "models:/loans@champion",
        "--data",
        window,
        *reg,
        "--no-latency",
        "--json",
    )
    assert code == EXIT_OK, err
    assert 0.5 < json.loads(out)["metrics"]["roc_auc"] <= 1

    # retrain the champion (v1) on the new window: v4 @challenger, parent v1, its comparison filed as a run
    code, out, err = _cli(
        capsys,
        "retrain",
        "loans",
        "--data",
        window,
        "--quick",
        "--n-bootstrap",
        "200",
        *reg,
        *reports,
        "--json",
    )
    assert code == EXIT_OK, err
    retrained = json.loads(out)
    assert (retrained["version"], retrained["parent"], retrained["recipe"]) == (4, 1, "logistic_regression")
    assert (
        retrained["reason"].startswith("retrained on ")
        and "held out from training" in retrained["validation"]
    )
    assert retrained["verdict"] in ("promote", "keep", "inconclusive")

    from workbench.registry import get_alias, history

    challenger = get_alias("loans", "challenger", registry=flow["registry"])
    assert challenger.version == 4 and challenger.parent == "models:/loans/1"
    assert json.loads(challenger.tags["workbench.lineage"])["technique"] == "retrained"
    last = history("loans", registry=flow["registry"])[-1]
    assert (last.alias, last.to_version, last.comparison) == ("challenger", 4, retrained["comparison_run"])

    runs = {r["id"]: r for r in Ledger(flow["reports"]).runs(kind="compare")}
    assert {promoted["comparison_run"], retrained["comparison_run"]} <= set(runs)
    summary = json.loads((Path(retrained["comparison_path"]) / "summary.json").read_text())
    assert summary["status"] in ("passed", "checks_failed")
    assert summary["lineage"]["challenger"]["registered"]["version"] == 4
    assert summary["lineage"]["champion"]["registered"]["version"] == 1


def test_models_page_links_each_move_to_its_comparison_run(flow):
    from workbench.dashboards.links import Links
    from workbench.dashboards.models import load_models, models_page_html

    index = load_models(flow["registry"])
    page = models_page_html(index, flow["reports"], Links.for_server(flow["reports"]))
    timeline = page.split("data-model='loans'")[1].split("Release timeline")[1]
    promote_row = next(r for r in timeline.split("<tr") if "wb-move-promote" in r)
    run = re.search(r"href='/voila/files/compare/([^/']+)/report.html'", promote_row)
    assert run is not None and (Path(flow["reports"]) / "compare" / run.group(1) / "report.html").is_file()


def test_retrain_bad_input_is_one_sentence(flow, loans, tmp_path, capsys):
    from workbench.registry import register_model

    register_model(flow["champion"], "no-champion", registry=flow["registry"])
    holdout = pd.read_parquet(loans / "holdout.parquet")
    unlabelled, partial = tmp_path / "unlabelled.csv", tmp_path / "partial.csv"
    holdout.drop(columns=["approved"]).to_csv(unlabelled, index=False)
    holdout.drop(columns=["score-1"]).to_csv(partial, index=False)
    reg, reports = ["--registry", flow["registry"]], ["--reports-dir", str(tmp_path / "reports")]
    for name, data, words in (
        ("nobody", flow["window"], "no model named 'nobody'"),
        ("no-champion", flow["window"], "has no champion"),
        ("loans", str(unlabelled), "no 'approved' column"),
        ("loans", str(partial), "score-1"),
    ):
        code, out, err = _cli(capsys, "retrain", name, "--data", data, "--quick", *reg, *reports)
        assert code == EXIT_BAD_INPUT, (name, data, err)
        assert words in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "reports").exists()  # refused before anything was filed


def test_recommend_reads_the_champions_monitoring_runs(flow, loans, tmp_path, capsys, monkeypatch):
    """A drift report on a shifted window of the champion: its drift makes retraining due."""
    from workbench.releases import recommend

    reports = tmp_path / "reports"
    shifted = pd.read_parquet(loans / "holdout.parquet")
    for col in ("ratio 0", "score-1", "ratio 2"):
        shifted[col] = shifted[col] * 3 + shifted[col].std()
    shifted.to_parquet(tmp_path / "shifted.parquet", index=False)
    before = recommend(reports, name="loans", registry=flow["registry"])
    assert not before.due and before.sentence.startswith("No monitoring run of loans (champion v1)")
    code, out, err = _cli(
        capsys, "report", "drift", "--reference", str(loans / "train.csv"),
        "--current", str(tmp_path / "shifted.parquet"), "--model", "models:/loans@champion",
        "--registry", flow["registry"], "--reports-dir", str(reports),
    )  # fmt: skip
    assert code == EXIT_OK, err
    advice = recommend(reports, name="loans", registry=flow["registry"], min_drift_runs=1)
    assert advice.due and advice.version == 1 and len(advice.runs) == 1
    assert "drift in 1 of the only drift run" in advice.sentence
    assert type(advice).from_dict(advice.to_dict()) == advice
    strict = recommend(reports, name="loans", registry=flow["registry"])  # the default asks for 2 drift runs
    assert not strict.due and "not due" in strict.sentence

    from workbench.dashboards.index import IndexDashboard
    from workbench.dashboards.models import (
        ENV_REGISTRY,
        advice_sentences,
        load_models,
        models_page_html,
        retraining_advice,
    )

    rows = Ledger(reports).runs()
    assert [a.sentence for a in advice_sentences(rows, flow["registry"])] == [strict.sentence]
    monkeypatch.setenv(ENV_REGISTRY, flow["registry"])  # as `workbench dashboard --registry` hands it over
    page = IndexDashboard(reports, links=False)
    assert html.escape(strict.sentence) in page.headline.value  # the headline says it too
    models = load_models(flow["registry"])
    models.advice = retraining_advice(models, rows)  # what show_models adds from the ledger
    assert "wb-retrain-not-due'>" + html.escape(strict.sentence) in models_page_html(models, reports)
