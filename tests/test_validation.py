"""One way to validate: the checkers of workbench.validation, and every stage function refusing a bad argument
with a ParameterError that is also a ValueError."""

from __future__ import annotations

import importlib
import math
import pkgutil

import numpy as np
import pandas as pd
import pytest

import workbench
from workbench.errors import (
    DataError,
    ModelFileError,
    ParameterError,
    RecipeError,
    SpecError,
    WorkbenchError,
)
from workbench.validation import (
    check_choice,
    check_columns,
    check_fraction,
    check_keys,
    check_number,
    check_path,
    check_text,
)


# -- check_number -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "bad", [True, False, "3", None, [1], math.nan, math.inf, -math.inf, np.nan, np.float64("inf")]
)
def test_check_number_refuses_bools_text_nan_and_infinity(bad):
    with pytest.raises(ParameterError) as info:
        check_number(bad, "the drift threshold")
    assert str(info.value) == f"the drift threshold must be a finite number, not {bad!r}"


def test_check_number_returns_floats_and_ints():
    assert check_number(3, "x") == 3.0 and type(check_number(3, "x")) is float
    assert type(check_number(np.float32(0.5), "x")) is float
    assert (
        check_number(np.int64(7), "n", integer=True) == 7
        and type(check_number(np.int64(7), "n", integer=True)) is int
    )


def test_check_number_integer():
    for bad in (3.5, 3.0, "3", True, np.float64(4)):
        with pytest.raises(ParameterError, match="^n_bootstrap must be an integer"):
            check_number(bad, "n_bootstrap", low=10, high=100_000, integer=True)
    with pytest.raises(ParameterError) as info:
        check_number(3.5, "n_bootstrap", low=10, high=100_000, integer=True)
    assert str(info.value) == "n_bootstrap must be an integer between 10 and 100,000, not 3.5"


@pytest.mark.parametrize(
    "kwargs, ok, bad, rule",
    [
        ({"low": 0, "high": 1}, [0, 0.5, 1], [-0.01, 1.01], "a number between 0 and 1"),
        ({"low": 0, "high": 1, "low_open": True}, [0.01, 1], [0, 1.5], "a number above 0 and at most 1"),
        ({"low": 0, "high": 1, "high_open": True}, [0, 0.99], [1, -1], "a number of at least 0 and below 1"),
        (
            {"low": 0, "high": 1, "low_open": True, "high_open": True},
            [0.5],
            [0, 1],
            "a number above 0 and below 1",
        ),
        ({"low": 0}, [0, 1e300], [-1e-9], "a finite number of 0 or more"),
        ({"low": 0, "low_open": True}, [1e-9], [0], "a finite number above 0"),
        ({"high": 2.5}, [2.5, -7], [2.51], "a finite number of 2.5 or less"),
        ({"high": 2.5, "high_open": True}, [2.4], [2.5], "a finite number below 2.5"),
    ],
)
def test_check_number_bounds_open_and_closed(kwargs, ok, bad, rule):
    for x in ok:
        assert check_number(x, "x", **kwargs) == x
    for x in bad:
        with pytest.raises(ParameterError) as info:
            check_number(x, "x", **kwargs)
        assert str(info.value) == f"x must be {rule}, not {x!r}"


def test_check_number_hint_and_fraction():
    with pytest.raises(ParameterError) as info:
        check_number(1.5, "confidence", low=0, high=1, low_open=True, high_open=True, hint="e.g. 0.95")
    assert str(info.value) == "confidence must be a number above 0 and below 1 (e.g. 0.95), not 1.5"
    assert check_fraction(0, "rate") == 0.0 and check_fraction(1, "rate") == 1.0
    with pytest.raises(ParameterError, match="rate must be a number above 0 and at most 1, not 0"):
        check_fraction(0, "rate", low_open=True)


# -- choices, keys ----------------------------------------------------------------------------
def test_check_choice():
    assert check_choice("up", "covariate_shift direction", ("up", "down")) == "up"
    assert check_choice("ks", "drift test", {"ks": 1, "psi": 2}) == "ks"  # a mapping's keys
    with pytest.raises(ParameterError) as info:
        check_choice("left", "covariate_shift direction", ("up", "down"))
    assert str(info.value) == "unknown covariate_shift direction 'left'; use one of up, down"
    with pytest.raises(ParameterError):
        check_choice(True, "flag", (1, 0))  # True == 1 in Python, but is not the choice 1
    with pytest.raises(ParameterError):
        check_choice(["up"], "direction", ("up",))


def test_check_keys():
    check_keys({"column": "age"}, ("column", "rate"), "to missing_values")
    with pytest.raises(ParameterError) as info:
        check_keys(
            {"column": "age", "colour": "red"},
            ("column", "rate"),
            "to missing_values, which takes column, rate",
        )
    assert (
        str(info.value) == "the parameter 'colour' does not apply to missing_values, which takes column, rate"
    )


# -- columns ----------------------------------------------------------------------------------
def test_check_columns_names_the_missing_column_and_the_table():
    frame = pd.DataFrame({"age": [1], "sex": ["F"]})
    assert check_columns(frame, ["age"], where="the current data") == ["age"]
    assert check_columns(["age", "sex"], ("sex",), where="x") == ["sex"]
    with pytest.raises(DataError) as info:
        check_columns(frame, ["age", "income"], where="the current data")
    assert str(info.value) == "column 'income' is missing from the current data"
    assert isinstance(info.value, ValueError)
    with pytest.raises(DataError) as info:
        check_columns(frame, ["a", "age", "b"], where="current.csv", what="feature column")
    assert str(info.value) == "feature columns 'a', 'b' are missing from current.csv"
    with pytest.raises(DataError, match=r"'c7' and 2 more are missing from the holdout$"):
        check_columns([], [f"c{i}" for i in range(10)], where="the holdout")


# -- paths and text boxes ---------------------------------------------------------------------
def test_check_path_kinds(tmp_path):
    f = tmp_path / "model.wbm"
    f.write_text("x")
    assert check_path(str(f), "the model file") == f
    assert check_path(tmp_path, "the reports folder", kind="dir") == tmp_path
    assert check_path(f, "anything", kind="any") == f
    assert check_path(tmp_path / "new", "the output folder", must_exist=False, kind="dir") == tmp_path / "new"
    cases = [
        (
            (tmp_path / "nope.wbm", "the model file"),
            {},
            f"the model file '{tmp_path / 'nope.wbm'}' does not exist",
        ),
        ((tmp_path, "the model file"), {}, f"the model file '{tmp_path}' is a folder, not a file"),
        ((f, "the reports folder"), {"kind": "dir"}, f"the reports folder '{f}' is a file, not a folder"),
        (
            (f, "the output folder"),
            {"must_exist": False, "kind": "dir"},
            f"the output folder '{f}' is a file, not a folder",
        ),
        (("", "the model file"), {}, "the model file is empty: give a path"),
        (("  ", "the model file"), {}, "the model file is empty: give a path"),
        ((3, "the model file"), {}, "the model file must be a path (text), not 3"),
        ((None, "the model file"), {}, "the model file must be a path (text), not None"),
    ]
    for args, kwargs, message in cases:
        with pytest.raises(ParameterError) as info:
            check_path(*args, **kwargs)
        assert str(info.value) == message
    with pytest.raises(ParameterError, match="unknown path kind 'folder'"):
        check_path(f, "x", kind="folder")


def test_check_text():
    assert check_text("  champion.wbm ", "the model path") == "champion.wbm"
    with pytest.raises(ParameterError, match="^the model path is empty$"):
        check_text(" \t", "the model path")
    with pytest.raises(ParameterError, match="^type the path of a saved model first$"):
        check_text("", "the model path", empty="type the path of a saved model first")
    with pytest.raises(ParameterError, match="the model path must be text, not None"):
        check_text(None, "the model path")


# -- the kinds of error -----------------------------------------------------------------------
#: every WorkbenchError subclass, and whether it reports a bad value (then it is also a ValueError)
REPORTS_A_VALUE = {
    "ParameterError": True,  # an argument
    "DataError": True,  # the data's values or columns
    "SpecError": True,  # column roles or the task against the data
    "RecipeError": True,  # an unknown recipe, or one that does not do the task
    # a model file's state: missing, corrupted, untrusted (as OSError is not a ValueError)
    "ModelFileError": False,
    "LedgerError": False,  # the run ledger's database (an sqlite3.DatabaseError)
    "NotApplicable": False,  # a compression technique that does not apply: a verdict recorded in the study
    "NotConvertible": False,  # skl2onnx has no converter for a step: a verdict, not a bad value
    "UnknownNameError": False,  # a lookup by name found nothing: a KeyError, as a missing key in a mapping is
    "RegistryError": False,  # the registry refused or failed an operation
    "RegistryValueError": True,  # a malformed model URI, name, alias, version or registry location
    "ModelNotFoundError": False,  # no such registered model, version or alias: an UnknownNameError
    "ReleaseStateError": False,  # the registry's state refuses an alias move, rollback or approval
}


def _all_subclasses(cls) -> set[type]:
    out = set()
    for sub in cls.__subclasses__():
        out |= {sub, *_all_subclasses(sub)}
    return out


def test_every_error_that_reports_a_bad_value_is_a_value_error():
    # import every module, so that subclasses defined anywhere are seen (wherever a module moves to)
    for info in pkgutil.walk_packages(workbench.__path__, "workbench."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)
    found = {c.__name__: c for c in _all_subclasses(WorkbenchError) if c.__module__.startswith("workbench.")}
    assert set(found) == set(REPORTS_A_VALUE), "classify each new WorkbenchError subclass in REPORTS_A_VALUE"
    for name, value in REPORTS_A_VALUE.items():
        assert issubclass(found[name], ValueError) is value, name
    assert not issubclass(WorkbenchError, ValueError)  # the base also covers refused operations
    assert workbench.ParameterError is ParameterError


# -- each stage function refuses its bad arguments with a ParameterError --------------------------
@pytest.fixture(scope="module")
def small(adult):
    from workbench.modeling.train import train

    data = adult.train.sample(600, random_state=0)
    model = train(data, adult.spec, recipes=["logistic_regression"], quick=True, progress=False).champion
    return data, adult.spec, model


def _stage_calls(data, spec, model):
    from workbench import explain
    from workbench.compression import compress
    from workbench.compression._onnx_export import to_onnx
    from workbench.data import infer_spec
    from workbench.data.simulate import simulate_batches
    from workbench.modeling.evaluate import evaluate
    from workbench.modeling.train import train
    from workbench.monitoring.bias import assess_bias
    from workbench.monitoring.drift import detect_drift
    from workbench.monitoring.performance import assess_performance
    from workbench.reports.compute import compute_report

    return {
        "train imbalance": (lambda: train(data, spec, imbalance="oversample", progress=False), "imbalance"),
        "train n_iter": (lambda: train(data, spec, n_iter=0, progress=False), "n_iter"),
        "train validation_size": (
            lambda: train(data, spec, validation_size=1.5, progress=False),
            "validation_size",
        ),
        "train random_state": (lambda: train(data, spec, random_state=-1, progress=False), "random_state"),
        "evaluate threshold": (lambda: evaluate(model, data, threshold=1.5, latency=False), "threshold"),
        "evaluate cost": (
            lambda: evaluate(model, data, cost={"fn": math.nan}, latency=False),
            "cost matrix entry 'fn'",
        ),
        "evaluate cost entries": (
            lambda: evaluate(model, data, cost={"fx": 1}, latency=False),
            "unknown cost matrix",
        ),
        "compress max_loss": (lambda: compress(model, data, max_loss=-1, progress=False), "budget"),
        "compress technique": (
            lambda: compress(model, data, techniques=["pruning"], progress=False),
            "pruning",
        ),
        "compress batch_threads": (
            lambda: compress(model, data, batch_threads=-1, progress=False),
            "batch_threads",
        ),
        "compress holdout_size": (
            lambda: compress(model, data, holdout_size=1.5, progress=False),
            "held-out share",
        ),
        "compress metric": (lambda: compress(model, data, metric="f2", progress=False), "budget metric 'f2'"),
        "drift share": (
            lambda: detect_drift(data, data, spec, drift_share_threshold=math.nan),
            "drift_share_threshold",
        ),
        "drift threshold": (lambda: detect_drift(data, data, spec, threshold=True), "drift threshold"),
        "drift test": (lambda: detect_drift(data, data, spec, stattest="anderson"), "anderson"),
        "drift spec": (lambda: detect_drift(data, data, "a spec"), "DatasetSpec"),
        "bias min_group_size": (
            lambda: assess_bias(data, spec, model=model, min_group_size=0),
            "min_group_size",
        ),
        "bias n_bootstrap": (lambda: assess_bias(data, spec, model=model, n_bootstrap=2.5), "n_bootstrap"),
        "bias confidence": (lambda: assess_bias(data, spec, model=model, confidence=1.0), "confidence"),
        "bias model and predictions": (
            lambda: assess_bias(data, spec, model=model, predictions="p"),
            "not both",
        ),
        "performance calibration": (
            lambda: assess_performance(model, data, reference=data, calibration="platt"),
            "calibration 'platt'",
        ),
        "simulate batch_size": (lambda: simulate_batches(data, spec, ["clean"], batch_size=0), "batch_size"),
        "simulate n_clean": (lambda: simulate_batches(data, spec, ["clean"], n_clean=-1), "n_clean"),
        "simulate random_state": (
            lambda: simulate_batches(data, spec, ["clean"], random_state=1.5),
            "random_state",
        ),
        "simulate scenario": (lambda: simulate_batches(data, spec, ["teleport"]), "teleport"),
        "simulate rate": (lambda: simulate_batches(data, spec, [{"kind": "prior_shift", "rate": 2}]), "rate"),
        "spec task": (lambda: infer_spec(data, "income", task="ranking"), "ranking"),
        "explain n": (lambda: explain.explain_worst_errors(model, data, n=0), "n must be"),
        "explain num_samples": (
            lambda: explain.explain_local(model, data, [data.index[0]], num_samples=5),
            "num_samples",
        ),
        "explain top_k": (lambda: explain.explanation_stability(model, data, top_k=0), "top_k"),
        "explain n_repeats": (lambda: explain.permutation_importance(model, data, n_repeats=0), "n_repeats"),
        "explain grid": (
            lambda: explain.partial_dependence(model, data, "age", grid_resolution=1),
            "grid_resolution",
        ),
        "explain percentiles": (
            lambda: explain.partial_dependence(model, data, "age", percentiles=(0.9, 0.1)),
            "percentiles",
        ),
        "explain max_depth": (lambda: explain.surrogate_tree(model, data, max_depth=0), "max_depth"),
        "explain holdout": (lambda: explain.surrogate_tree(model, data, holdout=0.9), "holdout"),
        "onnx precision": (lambda: to_onnx(model, precision="float16"), "precision 'float16'"),
        "report kind": (lambda: compute_report("fairness", {}), "report kind 'fairness'"),
    }


def test_stage_functions_refuse_bad_arguments_with_a_value_error(small):
    for name, (call, words) in _stage_calls(*small).items():
        with pytest.raises(ParameterError, match=words) as info:
            call()
        assert isinstance(info.value, ValueError), name
        assert "\n" not in str(info.value), name


def test_data_and_spec_errors_are_value_errors_too(small):
    from workbench.modeling.train import resolve_recipes

    data, spec, model = small
    with pytest.raises(ValueError, match="is missing from"):
        model.spec.check_columns(data.drop(columns="age"), where="the data")
    with pytest.raises(ValueError, match="unknown recipe"):
        resolve_recipes(["xgboost"], "binary")
    for cls in (DataError, SpecError, RecipeError):
        assert issubclass(cls, ValueError)
    assert not issubclass(ModelFileError, ValueError)


def test_empty_text_boxes_are_parameter_errors(small):
    """An empty box is a missing argument, not a model-file or data problem."""
    from workbench.widgets import AppState, DataPanel, ExplainPanel, TrainPanel

    data, spec, model = small
    state = AppState(data=data, spec=spec, dataset="adult", run_in_thread=False)
    state.model = model
    train, explain, panel = TrainPanel(state), ExplainPanel(state), DataPanel(state)
    train.path.value = panel.path.value = ""
    cases = [
        (train.load, "type the path of a saved model first"),
        (train.save, r"type the path to save the model to \(e.g. champion.wbm\)"),
        (panel._load_path, "type the path of a CSV or Parquet file first"),
        (lambda: explain.row_label("  "), "type the index label of a row to explain"),
    ]
    for call, message in cases:
        with pytest.raises(ParameterError, match=f"^{message}$") as info:
            call()
        assert isinstance(info.value, ValueError) and not isinstance(info.value, ModelFileError)
    train.path.value = "  "
    with pytest.raises(ParameterError, match="type the path of a saved model first"):
        train.load()
