"""Model URIs everywhere: ``models:/NAME@ALIAS`` in evaluate, compress, explain, the panels and the reports.

One real SQLite-backed MLflow store for the module (creating one runs MLflow's migrations); `credit`
version 1 is @champion.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import quick_model
from workbench.cli import EXIT_BAD_INPUT, EXIT_OK, main
from workbench.modeling.artifact import load_model, read_model_info, save_model
from workbench.registry import move_alias, register_model

REGISTERED = {"name": "credit", "version": 1, "alias": "champion", "uri": "models:/credit/1"}


@pytest.fixture(scope="module")
def files(adult, tmp_path_factory):
    """Training rows, a labelled window and a saved quick logistic regression, as files."""
    folder = tmp_path_factory.mktemp("uris")
    train_rows = adult.train.sample(2000, random_state=11)
    window = adult.test.sample(600, random_state=12)
    model = quick_model(train_rows, adult.spec, validation=window)
    paths = {"train": folder / "train.csv", "window": folder / "window.csv"}
    train_rows.to_csv(paths["train"], index=False)
    window.to_csv(paths["window"], index=False)
    paths["model"] = save_model(model, folder / "credit.wbm")
    return paths


@pytest.fixture(scope="module")
def store(files, tmp_path_factory):
    folder = tmp_path_factory.mktemp("registry")
    version = register_model(files["model"], "credit", registry=folder)
    move_alias("credit", "champion", version.version, action="register", by="test", registry=folder)
    return folder


def test_evaluate_takes_a_model_uri_and_the_registry_flag_wins(files, store, tmp_path, monkeypatch, capsys):
    argv = [
        "evaluate",
        "--model",
        str(files["model"]),
        "--data",
        str(files["window"]),
        "--no-latency",
        "--json",
    ]
    assert main(argv) == EXIT_OK
    by_path = json.loads(capsys.readouterr().out)
    monkeypatch.setenv("WORKBENCH_REGISTRY", str(tmp_path / "elsewhere"))  # the flag beats the environment
    argv[2] = "models:/credit@champion"
    assert main([*argv, "--registry", str(store)]) == EXIT_OK
    by_uri = json.loads(capsys.readouterr().out)
    assert by_uri["metrics"] == pytest.approx(by_path["metrics"])
    assert main(argv) == EXIT_BAD_INPUT  # the environment's registry, which holds no models
    assert "holds no models yet" in capsys.readouterr().err
    monkeypatch.setenv("WORKBENCH_REGISTRY", str(store))
    assert main(argv) == EXIT_OK
    assert json.loads(capsys.readouterr().out)["metrics"] == pytest.approx(by_path["metrics"])


def test_a_model_compressed_from_a_uri_names_its_registered_parent(files, store, tmp_path, capsys):
    out = tmp_path / "compressed"
    argv = ["compress", "--model", "models:/credit@champion", "--registry", str(store)]
    argv += ["--data", str(files["train"]), "--validation", str(files["window"]), "--technique", "onnx"]
    assert main([*argv, "--quick", "--out", str(out), "--json"]) == EXIT_OK
    study = json.loads(capsys.readouterr().out)
    onnx = next(v for v in study["variants"] if v["technique"] == "onnx")
    meta = read_model_info(onnx["path"]).meta
    assert meta["lineage"]["registered_parent"] == "models:/credit/1"
    assert meta["lineage"]["technique"] == "onnx"
    child = register_model(onnx["path"], "credit-onnx", registry=store)  # the parent comes from the lineage
    assert child.parent == "models:/credit/1"


def test_explain_functions_take_a_model_loaded_from_a_uri(adult, files, store):
    from workbench.explain import permutation_importance

    rows = adult.test.sample(300, random_state=13)
    by_uri = load_model("models:/credit@champion", registry=store)
    by_path = load_model(files["model"])
    a = permutation_importance(by_uri, rows, n_repeats=2, max_rows=300)
    b = permutation_importance(by_path, rows, n_repeats=2, max_rows=300)
    assert a.ranking == b.ranking
    np.testing.assert_allclose(by_uri.predict_score(rows), by_path.predict_score(rows))


@pytest.mark.notebook
def test_the_panels_load_a_model_uri_typed_in_the_path_box_and_report_on_it(
    adult, adult_small, store, tmp_path, monkeypatch
):
    from workbench.widgets import AppState, ExplainPanel, MonitorPanel, TrainPanel

    monkeypatch.setenv("WORKBENCH_REGISTRY", str(store))
    train_rows, test_rows = adult_small
    st = AppState(
        data=train_rows, validation=test_rows, spec=adult.spec, dataset="adult", run_in_thread=False
    )
    panel = TrainPanel(st)
    panel.path.value = "models:/credit@retired"
    panel.load_button.click()
    assert panel.banner.level == "error" and "no alias 'retired'" in panel.banner.message
    panel.path.value = "  models:/credit@champion "
    panel.load_button.click()
    assert panel.banner.level == "info", panel.banner.message
    assert st.model.registered_as.version == 1 and st.model.registered_as.alias == "champion"
    assert st.model_path == "models:/credit/1"  # pinned: a later report uses this very version

    from workbench.widgets._notebooks import ensure_model  # what the notebooks 02-04 call with model_path

    st.model = None
    assert ensure_model(st, "models:/credit@champion").registered_as.version == 1
    assert st.model_path == "models:/credit/1" and not list(tmp_path.glob("models:*"))

    explain = ExplainPanel(st)
    explain.importance_button.click()
    assert not explain.banner.message and explain.importance.ranking

    monitor = MonitorPanel(st)
    monitor.batch_size.value = 600
    monitor.simulate_button.click()
    monitor.batch.value = monitor.batch.options[0]
    monitor.reports_dir.value = str(tmp_path / "reports")
    monitor.report_button.click()
    assert monitor.banner.level == "info", monitor.banner.message
    stored = json.loads((monitor.outcome.run_dir / "summary.json").read_text())
    assert stored["params"]["model"] == "models:/credit/1"
    assert stored["lineage"]["model"]["registered"] == {**REGISTERED, "alias": None}


@pytest.mark.notebook
@pytest.mark.parametrize("kind", ["drift", "bias"])
def test_a_report_on_a_model_uri_records_the_resolved_version_in_its_stored_run(
    kind, files, store, tmp_path, capsys
):
    data = ["--reference", str(files["train"]), "--current"] if kind == "drift" else ["--data"]
    argv = ["report", kind, *data, str(files["window"]), "--model", "models:/credit@champion"]
    argv += ["--registry", str(store), "--reports-dir", str(tmp_path / "reports"), "--json"]
    assert main(argv) == EXIT_OK
    run_dir = Path(json.loads(capsys.readouterr().out)["run_dir"])
    stored = json.loads((run_dir / "summary.json").read_text())
    assert stored["status"] != "failed", stored.get("error")
    assert stored["lineage"]["model"]["registered"] == REGISTERED
    assert stored["params"]["registry"] == f"sqlite:///{store.resolve()}/registry.db"
