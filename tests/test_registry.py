"""The model registry on a real MLflow SQLite store: register, tags, aliases, model URIs, refusals."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import adult_model, imported_after
from workbench.errors import ModelNotFoundError, ParameterError, RegistryError, RegistryValueError
from workbench.modeling.artifact import load_model, read_model_info, save_model
from workbench.registry import (
    get_alias,
    list_versions,
    register_model,
    registry_location,
    resolve_model_uri,
    set_alias,
)


@pytest.fixture(scope="module")
def rows(adult):
    """Real rows the model never saw (the official test split of UCI Adult)."""
    return adult.test.sample(300, random_state=5)


@pytest.fixture(scope="module")
def trained(adult, tmp_path_factory):
    """A quick logistic regression on 2,000 Adult rows, saved as a workbench artifact."""
    model = adult_model(adult, 2000, 500, seed=1)
    return model, save_model(model, tmp_path_factory.mktemp("models") / "champion.wbm")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A registry folder: MLflow's embedded SQLite store (created by the first registration)."""
    return tmp_path_factory.mktemp("registry")


@pytest.fixture(scope="module")
def credit(trained, store):
    """`credit` version 1 registered from the artifact, aliased champion."""
    _, path = trained
    v1 = register_model(path, "credit", registry=store, description="first champion")
    set_alias("credit", "champion", v1.version, registry=store)
    return v1


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_register_stores_the_artifact_unchanged_and_tags_what_workbench_knows(trained, store, credit):
    model, path = trained
    assert credit.name == "credit" and credit.version == 1 and credit.uri == "models:/credit/1"
    assert credit.description == "first champion" and credit.created.endswith("+00:00")
    tags = credit.tags
    assert tags["workbench.sha256"] == _sha256(path) == credit.sha256
    assert tags["workbench.artifact"] == "champion.wbm"
    meta = read_model_info(path).meta
    assert tags["workbench.model_sha256"] == meta["model_sha256"]
    assert tags["workbench.recipe"] == "logistic_regression" and tags["workbench.task"] == "binary"
    assert json.loads(tags["workbench.metrics"]) == pytest.approx(meta["metrics"]) and credit.metrics
    assert json.loads(tags["workbench.data_fingerprint"]) == meta["training_data"]
    assert json.loads(tags["workbench.options"])["threshold"] == model.threshold
    assert json.loads(tags["workbench.lineage"]) == {"parent": None, "technique": "trained"}
    assert "workbench.parent" not in tags

    located = resolve_model_uri("models:/credit/1", registry=store)
    assert located.path.read_bytes() == path.read_bytes()  # stored unchanged
    model_dir = located.path.parent.parent
    assert not list(model_dir.rglob("*.pkl")), "models from code: nothing is pickled"
    mlmodel = (model_dir / "MLmodel").read_text()
    assert "model_code_path" in mlmodel and "pyfunc_model.py" in mlmodel
    assert (model_dir / "pyfunc_model.py").is_file()

    from mlflow import MlflowClient  # the run MLflow's UI shows: metrics and options

    run = MlflowClient(tracking_uri=registry_location(store).uri).get_run(credit.run_id)
    assert run.data.metrics["roc_auc"] == pytest.approx(meta["metrics"]["roc_auc"])
    assert run.data.params["recipe"] == "logistic_regression"
    assert "<b>models:/credit/1</b>" in credit._repr_html_()
    assert repr(credit).startswith("<ModelVersionInfo models:/credit/1 created ")


def test_mlflow_itself_loads_the_champion_without_pickle_and_predicts_as_workbench(
    trained, store, credit, rows, monkeypatch
):
    import mlflow.pyfunc

    model, _ = trained
    monkeypatch.setenv("MLFLOW_TRACKING_URI", registry_location(store).uri)
    loaded = mlflow.pyfunc.load_model("models:/credit@champion")
    predicted = np.asarray(loaded.predict(rows))
    assert predicted.shape == (len(rows),)
    np.testing.assert_array_equal(predicted, model.predict(rows))


def test_workbench_loads_a_model_uri_wherever_it_takes_a_path(trained, store, credit, rows):
    model, path = trained
    by_version = load_model("models:/credit/1", registry=store)
    by_alias = load_model("models:/credit@champion", registry=store)
    for loaded in (by_version, by_alias):
        np.testing.assert_array_equal(loaded.predict_score(rows), model.predict_score(rows))
        assert loaded.registered_as.name == "credit" and loaded.registered_as.version == 1
    assert by_alias.registered_as.alias == "champion" and by_version.registered_as.alias is None
    assert by_alias.registered_as.uri == "models:/credit/1"
    assert load_model(path).registered_as is None  # a plain path passes through
    info = read_model_info("models:/credit@champion", registry=store)
    assert info.meta["model_sha256"] == read_model_info(path).meta["model_sha256"]
    plain = resolve_model_uri(str(path))
    assert plain.path == path and plain.name is None and plain.uri is None


def test_versions_aliases_and_lineage(trained, store, credit):
    _, path = trained
    v2 = register_model(path, "credit", registry=store, parent=1)
    assert v2.version == 2 and v2.parent == "models:/credit/1"
    v3 = register_model(path, "credit", registry=store, parent="models:/credit@champion")
    assert v3.parent == "models:/credit/1"
    set_alias("credit", "challenger", 3, registry=store)
    versions = list_versions("credit", registry=store)
    assert [v.version for v in versions] == [1, 2, 3]
    assert versions[0].aliases == ("champion",) and versions[2].aliases == ("challenger",)
    assert all(v.created and v.sha256 == credit.sha256 for v in versions)
    assert get_alias("credit", "challenger", registry=store).version == 3
    moved = set_alias("credit", "challenger", "2", registry=store)  # an alias moves, it is not copied
    assert moved.version == 2 and "challenger" in moved.aliases
    assert get_alias("credit", "champion", registry=store).version == 1
    with pytest.raises(ModelNotFoundError, match="has no version 9 .versions: 1, 2, 3"):
        register_model(path, "credit", registry=store, parent=9)
    with pytest.raises(ModelNotFoundError, match="no alias 'retired'"):
        get_alias("credit", "retired", registry=store)
    with pytest.raises(ModelNotFoundError, match="has no version 7"):
        set_alias("credit", "champion", 7, registry=store)
    with pytest.raises(ModelNotFoundError, match="no model named 'debit'.*registered: credit"):
        load_model("models:/debit@champion", registry=store)


def test_an_artifact_altered_or_deleted_after_registration_is_refused(
    trained, store, credit, tmp_path, monkeypatch
):
    _, path = trained
    copy = tmp_path / "tampered.wbm"
    shutil.copy(path, copy)
    version = register_model(copy, "tampered", registry=store)
    set_alias("tampered", "champion", version.version, registry=store)
    stored = resolve_model_uri("models:/tampered/1", registry=store).path
    stored.write_bytes(stored.read_bytes() + b"\0")
    with pytest.raises(RegistryError, match="altered after registration") as err:
        load_model("models:/tampered@champion", registry=store)
    assert "\n" not in str(err.value)

    import mlflow.pyfunc  # MLflow's own loader refuses it as well (the check runs in load_context)

    monkeypatch.setenv("MLFLOW_TRACKING_URI", registry_location(store).uri)
    with pytest.raises(Exception, match="altered after registration"):
        mlflow.pyfunc.load_model("models:/tampered@champion")

    stored.unlink()
    with pytest.raises(RegistryError, match="deleted after registration"):
        load_model("models:/tampered/1", registry=store)


@pytest.mark.parametrize(
    "uri",
    [
        "models:/",
        "models:/credit",
        "models:/credit/0",
        "models:/credit/one",
        "models:/cre dit/1",
        "models:/credit@latest",
        "models:/credit@v2",
        "models:/credit@",
        "models:/credit/1/extra",
    ],
)
def test_a_malformed_model_uri_is_one_clear_sentence_and_a_value_error(uri, tmp_path):
    with pytest.raises(RegistryValueError) as err:
        load_model(uri, registry=tmp_path)
    assert isinstance(err.value, ValueError) and isinstance(err.value, ParameterError)
    message = str(err.value)
    assert "\n" not in message and repr(uri) in message and "models:/NAME/VERSION" in message


def test_bad_names_aliases_and_versions(trained, store, credit):
    _, path = trained
    for bad in ("", "a/b", "credit@x", " credit", None):
        with pytest.raises(RegistryValueError, match="not a registered model name"):
            register_model(path, bad, registry=store)
    for bad in ("latest", "v3", "9lives", "has space"):
        with pytest.raises(RegistryValueError, match="is not an alias"):
            set_alias("credit", bad, 1, registry=store)
    for bad in (0, -1, 1.5, True, "x"):
        with pytest.raises(RegistryValueError, match="whole number"):
            set_alias("credit", "champion", bad, registry=store)
    with pytest.raises(Exception, match="does not exist"):
        register_model(path.with_name("missing.wbm"), "credit", registry=store)


def test_where_the_registry_lives_argument_then_env_then_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WORKBENCH_REGISTRY", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    default = registry_location()
    assert default.source == "default"
    assert default.uri == f"sqlite:///{tmp_path.resolve()}/workbench-work/registry/registry.db"
    assert default.artifact_root == (tmp_path.resolve() / "workbench-work/registry/artifacts").as_uri()

    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5999")
    assert registry_location().uri == "http://127.0.0.1:5999"
    assert registry_location().source == "MLFLOW_TRACKING_URI" and registry_location().artifact_root is None
    monkeypatch.setenv("WORKBENCH_REGISTRY", "team-registry")  # a folder, relative: made absolute here
    assert registry_location().uri == f"sqlite:///{tmp_path.resolve()}/team-registry/registry.db"
    assert registry_location().source == "WORKBENCH_REGISTRY"
    assert registry_location("sqlite:///rel/models.db").uri == f"sqlite:///{tmp_path.resolve()}/rel/models.db"
    assert registry_location(tmp_path / "x.db").uri == f"sqlite:///{tmp_path.resolve()}/x.db"
    pg = registry_location("postgresql://ml:secret@db.example/registry")
    assert (
        pg.source == "argument" and "secret" not in pg.display() and "secret" not in json.dumps(pg.to_dict())
    )
    for bad in ("", "   ", "sqlite://", "sqlite:///:memory:", "file:///tmp/mlruns"):
        with pytest.raises(RegistryValueError):
            registry_location(bad)
    monkeypatch.setenv("WORKBENCH_REGISTRY", "")  # empty: the next setting applies
    assert registry_location().source == "MLFLOW_TRACKING_URI"


def test_a_registry_named_by_env_is_used_quietly_and_a_lookup_creates_nothing(
    trained, tmp_path, monkeypatch, capfd
):
    _, path = trained
    monkeypatch.setenv("MLFLOW_TRACKING_URI", str(tmp_path / "ignored"))
    monkeypatch.setenv("WORKBENCH_REGISTRY", str(tmp_path / "team"))
    with pytest.raises(ModelNotFoundError, match="holds no models yet"):
        load_model("models:/credit@champion")
    assert not (tmp_path / "team").exists()
    capfd.readouterr()
    version = register_model(path, "credit")
    out, err = capfd.readouterr()
    assert out == "" and err == "", "MLflow's logging, warnings and progress bars are silenced"
    assert (tmp_path / "team" / "registry.db").is_file() and not (tmp_path / "ignored").exists()
    assert version.source.startswith((tmp_path / "team" / "artifacts").as_uri())
    assert load_model("models:/credit/latest").registered_as.version == 1


def test_a_tracking_server_that_does_not_answer_is_one_sentence_at_once(tmp_path):
    import socket
    import time

    with socket.socket() as sock:  # a port on this machine that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    t0 = time.perf_counter()
    with pytest.raises(RegistryError, match="does not answer") as err:
        load_model("models:/credit@champion", registry=f"http://127.0.0.1:{port}")
    assert time.perf_counter() - t0 < 10 and "\n" not in str(err.value)


def test_import_workbench_does_not_import_mlflow():
    code = "import workbench, workbench.registry, workbench.modeling.artifact"
    assert imported_after(code, ("mlflow", "sqlalchemy", "alembic")) == []


@pytest.mark.notebook
def test_a_report_on_a_model_uri_records_the_registered_version(credit, store, rows, tmp_path, monkeypatch):
    """The report kernel starts in its run's folder: a relative registry is pinned before it starts."""
    from workbench.reports.runner import run_report

    data = tmp_path / "labelled.csv"
    rows.to_csv(data, index=False)
    monkeypatch.chdir(store.parent)
    monkeypatch.delenv("WORKBENCH_REGISTRY", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    out = run_report(
        "performance",
        {"data": str(data), "model": "models:/credit@champion", "registry": store.name},
        reports_dir=tmp_path / "reports",
        progress=False,
    )
    assert out.exit_code == 0, out.summary.get("error")
    assert out.summary["params"]["model"] == "models:/credit@champion"
    assert out.summary["params"]["registry"] == registry_location(store).uri
    assert out.summary["lineage"]["model"]["registered"] == {
        "name": "credit",
        "version": 1,
        "alias": "champion",
        "uri": "models:/credit/1",
    }
