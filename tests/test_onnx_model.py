"""ONNX variants: exact conversion of every recipe, the fast single-row path, the artifact, refusals."""

from __future__ import annotations

import hashlib
import json
import pickle

import numpy as np
import pandas as pd
import pytest

from tests.conftest import imported_after
from workbench.compression import NotConvertible, quantize_weights, to_onnx
from workbench.data._spec import prepare_frame, target_values
from workbench.data.datasets import load_demo
from workbench.errors import DataError, ModelFileError
from workbench.modeling.artifact import Model, load_model, save_model, serialized_size
from workbench.modeling.evaluate import measure_latency
from workbench.modeling.onnx_model import OnnxModel
from workbench.modeling.train import build_pipeline

RECIPES = {
    "binary": ["logistic_regression", "random_forest", "hist_gradient_boosting"],
    "multiclass": ["logistic_regression", "random_forest", "hist_gradient_boosting"],
    "regression": ["ridge", "random_forest", "hist_gradient_boosting"],
}
DEMO = {"binary": "adult", "multiclass": "wine", "regression": "diabetes"}


# On a busy 2-core machine, idle OpenMP threads make single-row predictions ~250x slower: one thread each.
pytestmark = pytest.mark.usefixtures("one_thread_per_library")


def fit_model(recipe: str, train_rows: pd.DataFrame, spec, **params) -> Model:
    pipe = build_pipeline(recipe, spec, quick=True, params=params or None)
    X = prepare_frame(train_rows, spec).rename(columns=spec.model_names)
    pipe.fit(X, target_values(train_rows, spec))
    if "n_jobs" in pipe.named_steps["model"].get_params():
        pipe.named_steps["model"].set_params(n_jobs=1)
    return Model(pipe, spec, name=recipe)


@pytest.fixture(scope="module")
def datasets():
    out = {}
    for task, name in DEMO.items():
        demo = load_demo(name)
        train_rows, test_rows = demo.train, demo.test
        if name == "adult":
            train_rows, test_rows = (
                train_rows.sample(1500, random_state=0),
                test_rows.sample(800, random_state=1),
            )
        out[task] = (train_rows, test_rows, demo.spec)
    return out


@pytest.fixture(scope="module")
def models(datasets):
    out = {}
    for task, recipes in RECIPES.items():
        train_rows, _, spec = datasets[task]
        for r in recipes:
            extra = {"n_estimators": 25} if r == "random_forest" else {}
            extra = {"max_iter": 40} if r == "hist_gradient_boosting" else extra
            out[task, r] = fit_model(r, train_rows, spec, **extra)
    return out


def _outputs(model, rows):
    return model.predict(rows).reshape(-1, 1) if model.task == "regression" else model.predict_proba(rows)


# -- exact conversions ---------------------------------------------------------------------------
@pytest.mark.parametrize("task,recipe", [(t, r) for t, rs in RECIPES.items() for r in rs])
def test_every_recipe_converts_exactly(models, datasets, task, recipe):
    model = models[task, recipe]
    _, test_rows, spec = datasets[task]
    onnx = to_onnx(model)
    assert isinstance(onnx, OnnxModel) and onnx.kind == "onnx"
    expected, got = _outputs(model, test_rows), _outputs(onnx, test_rows)
    tol = 1e-5 * (max(1.0, np.abs(expected).max()) if task == "regression" else 1.0)
    assert np.abs(expected - got).max() <= tol
    # single rows take the fast path and give the same numbers as the batch path
    singles = np.vstack([_outputs(onnx, test_rows.iloc[i : i + 1]) for i in range(25)])
    np.testing.assert_allclose(singles, got[:25], rtol=0, atol=1e-6 * (tol / 1e-5))
    if task != "regression":
        np.testing.assert_array_equal(onnx.predict(test_rows), model.predict(test_rows))
        assert list(onnx.classes_) == list(model.classes_)
    # the graph's inputs are the safe names, fed one (n, 1) tensor per feature
    assert set(onnx.input_names) <= set(spec.model_names.values())


def test_hyphenated_columns_nan_and_unseen_categories(models, datasets):
    _, test_rows, spec = datasets["binary"]
    assert "education-num" in spec.features
    rows = test_rows.iloc[:40].copy()
    rows.loc[rows.index[0:5], "workclass"] = np.nan
    rows.loc[rows.index[5:10], "occupation"] = None
    rows.loc[rows.index[10:15], "native-country"] = "Atlantis"  # never seen in training
    rows.loc[rows.index[15:20], "education-num"] = np.nan  # imputed by the pipeline
    rows.loc[rows.index[20:25], "hours-per-week"] = np.nan
    for recipe in RECIPES["binary"]:
        model = models["binary", recipe]
        onnx = to_onnx(model)
        assert "education_num" in onnx.input_names and "education-num" not in onnx.input_names
        expected = model.predict_proba(rows)
        assert np.abs(onnx.predict_proba(rows) - expected).max() <= 1e-5
        for i in range(0, 25, 3):  # one-row frames through the fast path
            assert np.abs(onnx.predict_proba(rows.iloc[i : i + 1]) - expected[i]).max() <= 1e-5


def test_fast_path_types_values_like_prepare_frame(models, datasets):
    """Odd inputs either give the same tensors as prepare_frame or fall back to it."""
    _, test_rows, spec = datasets["binary"]
    onnx = to_onnx(models["binary", "hist_gradient_boosting"])
    base = test_rows.iloc[:3].copy()
    cases = {
        "extra columns, other order": base[list(reversed(base.columns))].assign(extra=1),
        "ints and floats in a categorical": base.assign(race=[1, 2.5, None]),
        "pd.NA and NaN in a categorical": base.assign(sex=pd.array(["Male", pd.NA, None], dtype=object)),
        "string dtype": base.astype({"workclass": "string"}),
        "category dtype": base.astype({"education": "category"}),
        "numbers as text": base.assign(age=["39", " 50", "38"]),
        "booleans as numbers": base.assign(**{"capital-loss": [True, False, True]}),
        "nullable integers": base.astype({"fnlwgt": "Int64"}).assign(fnlwgt=pd.array([1, None, 3], "Int64")),
    }
    for label, frame in cases.items():
        general = onnx._feed_frame(frame)
        fast = onnx._feed_small(frame)
        if fast is not None:
            assert fast.keys() == general.keys(), label
            for k in general:
                assert fast[k].shape == general[k].shape and fast[k].dtype == general[k].dtype, (label, k)
                if general[k].dtype == object:
                    assert fast[k].tolist() == general[k].tolist(), (label, k)
                else:
                    np.testing.assert_array_equal(fast[k], general[k], err_msg=f"{label}: {k}")
                assert fast[k].flags["C_CONTIGUOUS"]
        np.testing.assert_allclose(
            onnx.predict_proba(frame.iloc[:1]), onnx.predict_proba(frame)[:1], atol=1e-7
        )


def test_bad_frames_give_the_same_errors_as_any_model(models, datasets):
    _, test_rows, _ = datasets["binary"]
    model = models["binary", "logistic_regression"]
    onnx = to_onnx(model)
    for frame in (test_rows.iloc[:1].drop(columns=["age"]), test_rows.iloc[:300].drop(columns=["age"])):
        with pytest.raises(DataError, match="'age'"):
            onnx.predict_proba(frame)
    bad = test_rows.iloc[:2].assign(age=["old", "young"])
    with pytest.raises(DataError) as onnx_err:
        onnx.predict_proba(bad)
    with pytest.raises(DataError) as sk_err:
        model.predict_proba(bad)
    assert str(onnx_err.value) == str(sk_err.value)
    with pytest.raises(DataError, match="DataFrame"):
        onnx.predict_proba(test_rows.to_numpy())
    assert onnx.predict_proba(test_rows.iloc[:0]).shape == (0, 2)


def test_single_row_latency_is_far_below_the_pipeline(models, datasets):
    _, test_rows, _ = datasets["binary"]
    model = models["binary", "logistic_regression"]
    onnx = to_onnx(model)
    sk = measure_latency(model, test_rows, n_single=40, batch_rows=500)
    fast = measure_latency(onnx, test_rows, n_single=200, batch_rows=500)
    # ~100x here on an idle machine; 10x leaves room for a loaded one
    assert fast["p50_us"] * 10 < sk["p50_us"], (fast, sk)


# -- the artifact ------------------------------------------------------------------------------
def test_saved_onnx_variant_loads_and_predicts_identically(models, datasets, tmp_path):
    _, test_rows, _ = datasets["binary"]
    onnx = to_onnx(models["binary", "random_forest"], name="rf+onnx")
    path = save_model(onnx, tmp_path / "rf-onnx.wbm")
    loaded = load_model(path)
    assert isinstance(loaded, OnnxModel) and loaded.name == "rf+onnx"
    assert loaded.meta["model_file"] == "model.onnx"
    assert loaded.meta["lineage"] == {"parent": "random_forest", "technique": "onnx"}
    np.testing.assert_array_equal(loaded.predict_proba(test_rows), onnx.predict_proba(test_rows))
    np.testing.assert_array_equal(loaded.predict(test_rows), onnx.predict(test_rows))
    assert loaded.threshold == onnx.threshold
    # evaluate() and the leaderboard size it the way it is saved
    assert abs(serialized_size(onnx) - path.stat().st_size) < 2000
    clone = pickle.loads(pickle.dumps(loaded))
    np.testing.assert_array_equal(
        clone.predict_proba(test_rows.iloc[:3]), loaded.predict_proba(test_rows.iloc[:3])
    )


def test_regression_variant_round_trips(models, datasets, tmp_path):
    _, test_rows, _ = datasets["regression"]
    onnx = to_onnx(models["regression", "ridge"])
    loaded = load_model(save_model(onnx, tmp_path / "ridge"))
    np.testing.assert_array_equal(loaded.predict(test_rows), onnx.predict(test_rows))
    with pytest.raises(ModelFileError, match="regression"):
        loaded.predict_proba(test_rows)


def test_corrupted_model_onnx_is_refused_in_one_sentence(models, tmp_path):
    onnx = to_onnx(models["binary", "logistic_regression"])
    folder = save_model(onnx, tmp_path / "variant")
    garbage = b"\x08\x07" + b"not an onnx graph" * 20
    (folder / "model.onnx").write_bytes(garbage)
    with pytest.raises(ModelFileError, match="checksum"):
        load_model(folder)
    # a file whose checksum matches (e.g. written by a broken exporter) fails in onnxruntime
    meta = json.loads((folder / "meta.json").read_text())
    meta["model_sha256"] = hashlib.sha256(garbage).hexdigest()
    (folder / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ModelFileError, match=r"model\.onnx.*cannot be loaded") as err:  # onnx or onnxruntime
        load_model(folder)
    assert "\n" not in str(err.value)


def test_unsupported_estimator_is_not_convertible(datasets):
    from sklearn.dummy import DummyClassifier

    train_rows, _, spec = datasets["binary"]
    X = prepare_frame(train_rows, spec).rename(columns=spec.model_names)
    model = Model(DummyClassifier().fit(X, target_values(train_rows, spec)), spec, name="dummy")
    with pytest.raises(NotConvertible, match="not supported: skl2onnx has no converter for DummyClassifier"):
        to_onnx(model)


def test_quantization_applies_to_linear_weights_only(models, datasets):
    import onnx

    _, test_rows, _ = datasets["binary"]
    model = models["binary", "logistic_regression"]
    q = quantize_weights(model)
    graph = onnx.load_from_string(q.onnx_bytes).graph
    assert any(t.data_type == onnx.TensorProto.INT8 for t in graph.initializer)
    diff = np.abs(q.predict_proba(test_rows) - model.predict_proba(test_rows)).max()
    assert 0 < diff < 0.1  # approximate, unlike the exact export
    with pytest.raises(NotConvertible, match="not applicable: .*tree operators.*int8"):
        quantize_weights(models["binary", "hist_gradient_boosting"])


def test_importing_stays_light():
    code = (
        "import workbench.compression, workbench.compression._study, workbench.compression._onnx_export, "
        "workbench.modeling.onnx_model, workbench.cli.compress"
    )
    assert imported_after(code, ("onnxruntime", "skl2onnx", "sklearn", "onnx")) == []
