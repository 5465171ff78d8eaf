"""Behaviour of the model artifact: predictions on raw frames, saving, loading, refusing."""

from __future__ import annotations

import collections
import copy
import hashlib
import io
import json
import os
import pickle
import zipfile
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sklearn
import skops.io as sio
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from workbench.data._spec import DatasetSpec, prepare_frame, target_values
from workbench.data.datasets import load_demo
from workbench.errors import DataError, ModelFileError
from workbench.modeling import artifact
from workbench.modeling.artifact import FORMAT, FORMAT_VERSION, Model, load_model, save_model
from workbench.modeling.train import build_pipeline, train


# -- fitted models on real data (cheap: small samples, quick recipes) --------------
@pytest.fixture(scope="module")
def adult():
    demo = load_demo("adult")
    return demo.train.sample(2000, random_state=0), demo.test.sample(500, random_state=1), demo.spec


@pytest.fixture(scope="module")
def binary_model(adult) -> Model:
    train_rows, _, spec = adult
    return train(train_rows, spec, recipes=["logistic_regression"], quick=True, progress=False).champion


@pytest.fixture(scope="module")
def multiclass_model():
    demo = load_demo("wine")
    pipe = _fit_pipeline("random_forest", demo.train, demo.spec)
    return Model(pipe, demo.spec, name="wine_forest"), demo.test


@pytest.fixture(scope="module")
def regression_model():
    demo = load_demo("diabetes")
    pipe = _fit_pipeline("random_forest", demo.train, demo.spec)
    return Model(pipe, demo.spec, name="diabetes_forest"), demo.test


def _fit_pipeline(recipe: str, data: pd.DataFrame, spec: DatasetSpec) -> Pipeline:
    X = prepare_frame(data, spec).rename(columns=spec.model_names)
    pipe = build_pipeline(recipe, spec, quick=True).fit(X, target_values(data, spec))
    if hasattr(pipe[-1], "n_jobs"):
        # as train() does: threaded forests sum tree outputs in a varying order,
        # so two predictions of the same model could differ in the last bit
        pipe[-1].set_params(n_jobs=1)
    return pipe


def _models(request, kind):
    if kind == "binary":
        _, test, _ = request.getfixturevalue("adult")
        return request.getfixturevalue("binary_model"), test
    return request.getfixturevalue(f"{kind}_model")


def _zip_entries(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _write_zip(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, blob in entries.items():
            zf.writestr(name, blob)
    return path


def _with_meta(entries: dict[str, bytes], **changes) -> dict[str, bytes]:
    meta = json.loads(entries["meta.json"])
    meta.update(changes)
    return entries | {"meta.json": json.dumps(meta).encode()}


def _leftovers(folder: Path, keep: set[str]) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name not in keep)


# -- round trips ------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["binary", "multiclass", "regression"])
@pytest.mark.parametrize("layout", ["model.wbm", "model"])
def test_round_trip_gives_identical_predictions(request, tmp_path, kind, layout):
    model, test = _models(request, kind)
    path = save_model(model, tmp_path / layout)
    assert path == tmp_path / layout
    assert path.is_file() == (layout == "model.wbm")
    loaded = load_model(path)
    assert loaded.task == kind
    assert loaded.spec == model.spec
    assert loaded.threshold == model.threshold
    assert loaded.name == model.name
    assert np.array_equal(loaded.predict(test), model.predict(test))
    if kind == "regression":
        with pytest.raises(ModelFileError, match="regression"):
            loaded.predict_proba(test)
        assert np.array_equal(loaded.predict_score(test), model.predict_score(test))
    else:
        assert np.array_equal(loaded.predict_proba(test), model.predict_proba(test))
        assert np.array_equal(loaded.classes_, model.classes_)
        assert set(loaded.predict(test)) <= set(model.spec.classes)


def test_binary_model_predicts_adult_labels_with_hyphenated_columns(binary_model, adult):
    _, test, spec = adult
    assert "education-num" in spec.features
    labels = binary_model.predict(test)
    assert set(labels) == {"<=50K", ">50K"}
    assert (labels == test["income"].to_numpy()).mean() > 0.75
    proba = binary_model.predict_proba(test)
    assert proba.shape == (len(test), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert np.array_equal(binary_model.predict_score(test), proba[:, binary_model.positive_index])
    assert binary_model.classes_[binary_model.positive_index] == ">50K"


def test_zip_and_folder_layouts_hold_meta_and_model(binary_model, tmp_path):
    zipped = save_model(binary_model, tmp_path / "champion.zip")
    assert sorted(_zip_entries(zipped)) == ["meta.json", "model.skops"]
    folder = save_model(binary_model, tmp_path / "nested" / "champion")
    assert sorted(p.name for p in folder.iterdir()) == ["meta.json", "model.skops"]
    assert _leftovers(tmp_path, {"champion.zip", "nested"}) == []
    assert _leftovers(tmp_path / "nested", {"champion"}) == []


def test_meta_json_contents(binary_model, adult, tmp_path):
    path = save_model(binary_model, tmp_path / "m.zip")
    entries = _zip_entries(path)
    meta = json.loads(entries["meta.json"])
    assert meta["format"] == FORMAT == "workbench-model"
    assert meta["format_version"] == FORMAT_VERSION == 1
    assert meta["model_file"] == "model.skops"
    assert meta["model_sha256"] == hashlib.sha256(entries["model.skops"]).hexdigest()
    assert meta["task"] == "binary" and meta["kind"] == "sklearn"
    assert meta["threshold"] == 0.5
    assert DatasetSpec.from_dict(meta["spec"]) == adult[2]
    assert meta["spec"]["positive_label"] == ">50K"
    assert meta["model_names"]["education-num"] == "education_num"
    assert meta["versions"]["scikit-learn"] == sklearn.__version__
    assert meta["versions"]["skops"] == version("skops")
    assert meta["versions"]["numpy"] == np.__version__ and meta["versions"]["pandas"] == pd.__version__
    assert {"python", "numpy", "pandas", "skops", "scikit-learn"} <= set(meta["versions"])
    assert meta["lineage"] == {"parent": None, "technique": "trained"}
    assert meta["recipe"] == "logistic_regression"
    assert meta["training_data"]["rows"] == 2000 and len(meta["training_data"]["sha256"]) == 64
    assert 0.5 < meta["metrics"]["roc_auc"] <= 1.0
    assert binary_model.meta["model_sha256"] == meta["model_sha256"]  # the model knows its file


def test_lineage_of_a_variant_is_kept(binary_model, tmp_path):
    lineage = {"parent": "a" * 64, "technique": "pruned"}
    variant = Model(binary_model.estimator, binary_model.spec, meta={"lineage": lineage}, name="pruned")
    loaded = load_model(save_model(variant, tmp_path / "variant"))
    assert loaded.meta["lineage"] == lineage and loaded.name == "pruned"


# -- predictions on raw frames ----------------------------------------------------
def test_target_and_extra_columns_are_ignored(binary_model, adult):
    _, test, spec = adult
    expected = binary_model.predict_proba(test)
    without_target = test.drop(columns="income")
    assert np.array_equal(binary_model.predict_proba(without_target), expected)
    flipped = test.assign(income=np.where(test["income"] == ">50K", "<=50K", ">50K"))
    assert np.array_equal(binary_model.predict_proba(flipped), expected)
    extra = test.assign(batch_id=7, note="from the March batch")
    assert np.array_equal(binary_model.predict_proba(extra), expected)


def test_column_order_does_not_matter(binary_model, adult):
    _, test, _ = adult
    shuffled = test[list(reversed(test.columns))]
    assert np.array_equal(binary_model.predict_proba(shuffled), binary_model.predict_proba(test))


def test_single_row_and_text_numbers_predict_like_the_batch(binary_model, adult):
    _, test, _ = adult
    row = test.iloc[[3]]
    assert np.array_equal(binary_model.predict_proba(row), binary_model.predict_proba(test)[[3]])
    as_text = test.astype({"age": str, "hours-per-week": str})  # e.g. read with dtype=str
    np.testing.assert_allclose(binary_model.predict_proba(as_text), binary_model.predict_proba(test))


def test_missing_feature_at_predict_names_it(binary_model, adult):
    _, test, _ = adult
    with pytest.raises(DataError, match="'education-num' is missing"):
        binary_model.predict(test.drop(columns="education-num"))
    with pytest.raises(DataError, match="DataFrame"):
        binary_model.predict(test.to_numpy())


def test_non_numeric_value_at_predict_names_column_row_and_value(binary_model, adult):
    _, test, _ = adult
    bad = test.head(5).astype({"age": object})
    bad.loc[bad.index[2], "age"] = "forty"
    with pytest.raises(DataError, match=rf"'age'.*row {bad.index[2]}.*'forty'"):
        binary_model.predict(bad)


def test_threshold_is_stored_and_used_by_predict(binary_model, adult, tmp_path):
    _, test, _ = adult
    strict = Model(binary_model.estimator, binary_model.spec, threshold=0.8, name="strict")
    loaded = load_model(save_model(strict, tmp_path / "strict.zip"))
    assert loaded.threshold == 0.8
    assert json.loads(_zip_entries(tmp_path / "strict.zip")["meta.json"])["threshold"] == 0.8
    score = loaded.predict_score(test)
    expected = np.where(score >= 0.8, ">50K", "<=50K")
    assert np.array_equal(loaded.predict(test), expected)
    default = binary_model.predict(test)
    assert (loaded.predict(test) == ">50K").sum() < (default == ">50K").sum()


def test_threshold_only_applies_to_binary(multiclass_model):
    model, _ = multiclass_model
    assert Model(model.estimator, model.spec, threshold=0.9).threshold is None


# -- overwriting and failed saves -------------------------------------------------
@pytest.mark.parametrize("layout", ["m.zip", "m"])
def test_overwrite_is_refused_by_default_and_allowed_on_request(binary_model, tmp_path, layout):
    path = save_model(binary_model, tmp_path / layout)
    other = Model(binary_model.estimator, binary_model.spec, threshold=0.7, name="second")
    with pytest.raises(ModelFileError, match="already exists"):
        save_model(other, path)
    assert load_model(path).name == binary_model.name
    save_model(other, path, overwrite=True)
    loaded = load_model(path)
    assert loaded.name == "second" and loaded.threshold == 0.7
    assert _leftovers(tmp_path, {layout}) == []


def test_a_file_is_not_replaced_by_a_folder(binary_model, tmp_path):
    path = tmp_path / "m"
    path.write_text("not a model")
    with pytest.raises(ModelFileError, match="remove it first"):
        save_model(binary_model, path, overwrite=True)
    assert path.read_text() == "not a model"
    assert _leftovers(tmp_path, {"m"}) == []


@pytest.mark.parametrize("layout", ["m.zip", "m"])
def test_failed_serialisation_leaves_the_saved_model_intact(
    binary_model, adult, tmp_path, monkeypatch, layout
):
    _, test, _ = adult
    path = save_model(binary_model, tmp_path / layout)
    before = load_model(path).predict_proba(test)

    def broken(*args, **kwargs):
        raise RuntimeError("serialisation failed")

    monkeypatch.setattr(sio, "dumps", broken)
    with pytest.raises(RuntimeError, match="serialisation failed"):
        save_model(binary_model, path, overwrite=True)
    monkeypatch.undo()
    assert np.array_equal(load_model(path).predict_proba(test), before)
    assert _leftovers(tmp_path, {layout}) == []


@pytest.mark.parametrize("layout", ["m.zip", "m"])
def test_failed_rename_leaves_the_saved_model_intact(binary_model, adult, tmp_path, monkeypatch, layout):
    _, test, _ = adult
    path = save_model(binary_model, tmp_path / layout)
    before = load_model(path).predict_proba(test)
    real_replace = os.replace

    def disk_full(src, dst):
        if Path(src).name.startswith("artifact"):  # moving the new artifact into place
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", disk_full)
    other = Model(binary_model.estimator, binary_model.spec, threshold=0.9, name="second")
    with pytest.raises(OSError, match="No space left"):
        save_model(other, path, overwrite=True)
    monkeypatch.undo()
    loaded = load_model(path)
    assert loaded.name == binary_model.name
    assert np.array_equal(loaded.predict_proba(test), before)
    assert _leftovers(tmp_path, {layout}) == []


# -- loading refuses what it cannot trust -----------------------------------------
@pytest.fixture(scope="module")
def saved(binary_model, tmp_path_factory) -> dict[str, bytes]:
    """The entries of a valid zip artifact, to break one way at a time."""
    path = save_model(binary_model, tmp_path_factory.mktemp("valid") / "valid.zip")
    return _zip_entries(path)


def _load_error(path: Path, **kw) -> str:
    with pytest.raises(ModelFileError) as err:
        load_model(path, **kw)
    msg = str(err.value)
    assert str(path) in msg and "\n" not in msg
    return msg


def test_missing_path(tmp_path):
    assert "does not exist" in _load_error(tmp_path / "nowhere.wbm")


@pytest.mark.parametrize("protocol", [2, pickle.HIGHEST_PROTOCOL])
def test_a_pickle_is_never_loaded(tmp_path, protocol):
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps({"estimator": "anything", "weights": [1, 2]}, protocol=protocol))
    assert "pickle" in _load_error(path)


def test_random_bytes(tmp_path):
    path = tmp_path / "model.wbm"
    path.write_bytes(np.random.default_rng(3).bytes(2048))
    assert "not a readable workbench model" in _load_error(path)


def test_zip_without_meta(saved, tmp_path):
    path = _write_zip(tmp_path / "m.zip", {"model.skops": saved["model.skops"]})
    assert "no meta.json" in _load_error(path)


def test_folder_without_meta(saved, tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "model.skops").write_bytes(saved["model.skops"])
    assert "no meta.json" in _load_error(folder)


def test_bare_skops_file_is_recognised(saved, tmp_path):
    path = tmp_path / "model.skops"
    path.write_bytes(saved["model.skops"])
    assert "bare skops file" in _load_error(path)


def test_invalid_json_meta(saved, tmp_path):
    path = _write_zip(tmp_path / "m.zip", saved | {"meta.json": b'{"format": "workbench-model",'})
    assert "not valid JSON" in _load_error(path)


@pytest.mark.parametrize("meta", [{"format": "mlflow-model"}, {"format": None}])
def test_wrong_format_tag(saved, tmp_path, meta):
    path = _write_zip(tmp_path / "m.zip", _with_meta(saved, **meta))
    assert "format tag" in _load_error(path)


def test_meta_that_is_not_an_object(saved, tmp_path):
    path = _write_zip(tmp_path / "m.zip", saved | {"meta.json": b"[1, 2, 3]"})
    assert "not a workbench model" in _load_error(path)


def test_newer_format_version(saved, tmp_path):
    path = _write_zip(tmp_path / "m.zip", _with_meta(saved, format_version=FORMAT_VERSION + 1))
    msg = _load_error(path)
    assert "newer workbench" in msg and "upgrade" in msg


def test_model_file_missing(saved, tmp_path):
    path = _write_zip(tmp_path / "m.zip", {"meta.json": saved["meta.json"]})
    assert "incomplete" in _load_error(path)


def test_tampered_model_fails_its_checksum(saved, multiclass_model, tmp_path):
    other = sio.dumps(multiclass_model[0].estimator)
    path = _write_zip(tmp_path / "m.zip", saved | {"model.skops": other})
    assert "does not match its checksum" in _load_error(path)


def test_flipped_byte_in_a_folder_model_fails_its_checksum(binary_model, tmp_path):
    folder = save_model(binary_model, tmp_path / "m")
    blob = bytearray((folder / "model.skops").read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    (folder / "model.skops").write_bytes(bytes(blob))
    assert "checksum" in _load_error(folder)


def test_unreadable_model_with_a_matching_checksum(saved, tmp_path):
    junk = b"not a skops file at all"
    entries = _with_meta(saved, model_sha256=hashlib.sha256(junk).hexdigest()) | {"model.skops": junk}
    assert "corrupted" in _load_error(_write_zip(tmp_path / "m.zip", entries))


def test_meta_without_spec(saved, tmp_path):
    meta = json.loads(saved["meta.json"])
    del meta["spec"]
    path = _write_zip(tmp_path / "m.zip", saved | {"meta.json": json.dumps(meta).encode()})
    assert "no valid spec" in _load_error(path)


def _with_copy_step(pipe: Pipeline) -> Pipeline:
    """A pipeline with a plain-Python function in it (not from scikit-learn or numpy)."""
    pipe = copy.deepcopy(pipe)
    pipe.steps.insert(1, ("passthrough", FunctionTransformer(func=copy.copy)))
    return pipe


def _with_counter(pipe: Pipeline) -> Pipeline:
    pipe = copy.deepcopy(pipe)
    pipe.category_counts_ = collections.Counter({"Private": 3, "State-gov": 1})
    return pipe


_FT = "sklearn.preprocessing._function_transformer.FunctionTransformer"


@pytest.mark.parametrize(
    ("alter", "type_name", "to_trust"),
    [
        (_with_copy_step, "copy.copy", ["copy.copy", _FT]),  # workbench never makes a FunctionTransformer
        (_with_counter, "collections.Counter", ["collections.Counter"]),
    ],
)
def test_untrusted_type_is_refused_unless_trusted(adult, tmp_path, alter, type_name, to_trust):
    train_rows, test, spec = adult
    pipe = alter(_fit_pipeline("logistic_regression", train_rows, spec))
    blob = sio.dumps(pipe)
    assert type_name in sio.get_untrusted_types(data=blob)
    # a valid artifact around it, checksum and all
    meta = artifact.build_meta(Model(pipe, spec), "model.skops", blob)
    path = _write_zip(tmp_path / "m.zip", {"meta.json": json.dumps(meta).encode(), "model.skops": blob})

    msg = _load_error(path)
    assert "does not trust" in msg and type_name in msg and "trusted=" in msg
    msg = _load_error(path, trusted=["builtins.eval"])  # trusting something else does not help
    assert type_name in msg

    if len(to_trust) > 1:  # trusting the function alone is not enough: its class is not on the list
        assert _FT in _load_error(path, trusted=[type_name])
    loaded = load_model(path, trusted=to_trust)
    assert np.array_equal(loaded.predict_proba(test), Model(pipe, spec).predict_proba(test))


def test_saved_pipeline_with_untrusted_step_round_trips_once_trusted(adult, tmp_path):
    train_rows, test, spec = adult
    model = Model(_with_copy_step(_fit_pipeline("logistic_regression", train_rows, spec)), spec)
    path = save_model(model, tmp_path / "custom")
    assert "copy.copy" in _load_error(path)
    loaded = load_model(path, trusted=["copy.copy", _FT])
    assert np.array_equal(loaded.predict(test), model.predict(test))


def test_artifact_bytes_in_memory_match_the_file(binary_model, tmp_path):
    path = save_model(binary_model, tmp_path / "m.zip")
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as zf:
        assert zf.testzip() is None
    assert artifact.artifact_size(path) == path.stat().st_size
    folder = save_model(binary_model, tmp_path / "m")
    assert artifact.artifact_size(folder) == sum(p.stat().st_size for p in folder.iterdir())


# -- nothing deleted by accident ---------------------------------------------------------------------
def _tree(root: Path) -> dict[str, bytes | None]:
    return {
        str(p.relative_to(root)): (None if p.is_dir() else p.read_bytes()) for p in sorted(root.rglob("*"))
    }


def test_overwrite_refuses_a_folder_holding_other_files(binary_model, tmp_path):
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "notes.txt").write_text("months of work")
    (folder / "data").mkdir()
    (folder / "data" / "table.csv").write_text("a,b\n1,2\n")
    before = _tree(tmp_path)
    with pytest.raises(ModelFileError, match="not a workbench model.*remove it first"):
        save_model(binary_model, folder, overwrite=True)
    with pytest.raises(ModelFileError, match="not a workbench model"):
        artifact.check_model_destination(folder, overwrite=True)
    assert _tree(tmp_path) == before


def test_overwrite_refuses_an_artifact_folder_with_an_extra_file(binary_model, tmp_path):
    folder = save_model(binary_model, tmp_path / "m")
    (folder / "README.md").write_text("mine")
    before = _tree(tmp_path)
    with pytest.raises(ModelFileError, match="not a workbench model"):
        save_model(binary_model, folder, overwrite=True)
    assert _tree(tmp_path) == before


@pytest.mark.parametrize("content", [b"just text", b"PK\x05\x06" + bytes(18)])
def test_overwrite_refuses_a_file_that_is_not_a_model(binary_model, tmp_path, content):
    path = tmp_path / "report.wbm"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match="not a workbench model"):
        save_model(binary_model, path, overwrite=True)
    assert path.read_bytes() == content and _leftovers(tmp_path, {"report.wbm"}) == []


def test_overwrite_refuses_a_zip_with_extra_members(binary_model, saved, tmp_path):
    path = _write_zip(tmp_path / "m.zip", saved | {"notes.txt": b"mine"})
    before = path.read_bytes()
    with pytest.raises(ModelFileError, match="not a workbench model"):
        save_model(binary_model, path, overwrite=True)
    assert path.read_bytes() == before


@pytest.mark.parametrize("layout", ["m.zip", "m"])
def test_overwrite_refuses_links(binary_model, tmp_path, layout):
    real = save_model(binary_model, tmp_path / f"real-{layout}")
    link = tmp_path / layout
    link.symlink_to(real)
    before = _tree(tmp_path)
    with pytest.raises(ModelFileError, match="is a link"):
        save_model(binary_model, link, overwrite=True)
    assert _tree(tmp_path) == before and link.is_symlink()


def test_a_path_inside_a_file_is_refused_up_front(binary_model, tmp_path):
    (tmp_path / "somefile.txt").write_text("x")
    for target in ("somefile.txt/model.wbm", "somefile.txt/deeper/model"):
        with pytest.raises(ModelFileError, match="'.*somefile.txt' is a file, not a folder"):
            artifact.check_model_destination(tmp_path / target, overwrite=True)
        with pytest.raises(ModelFileError, match="is a file, not a folder"):
            save_model(binary_model, tmp_path / target)
    assert _leftovers(tmp_path, {"somefile.txt"}) == []


def test_check_model_destination_allows_new_paths_models_and_empty_folders(binary_model, tmp_path):
    assert artifact.check_model_destination(tmp_path / "new" / "m.wbm") == tmp_path / "new" / "m.wbm"
    assert not (tmp_path / "new").exists()  # checking creates nothing
    path = save_model(binary_model, tmp_path / "m.wbm")
    with pytest.raises(ModelFileError, match="already exists"):
        artifact.check_model_destination(path)
    assert artifact.check_model_destination(path, overwrite=True) == path
    (tmp_path / "empty").mkdir()
    save_model(binary_model, tmp_path / "empty", overwrite=True)
    assert load_model(tmp_path / "empty").name == binary_model.name
