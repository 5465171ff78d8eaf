"""Behaviour of the dataset spec: task and role inference, validation, typing for models."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from workbench.data._spec import (
    MISSING,
    DatasetSpec,
    infer_spec,
    prepare_frame,
    safe_names,
    target_values,
)
from workbench.data.datasets import load_demo
from workbench.errors import DataError, ParameterError, SpecError

N = 60


@pytest.fixture(scope="module")
def adult_sample() -> pd.DataFrame:
    return load_demo("adult").train.sample(400, random_state=0).reset_index(drop=True)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    """A small table of every common dtype, reproducible."""
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "x": rng.normal(size=N),
            "k": rng.integers(0, 5, N),
            "colour": rng.choice(["red", "green", "blue"], N),
            "sex": rng.choice(["F", "M"], N),
            "y01": np.r_[np.zeros(40, int), np.ones(20, int)],
            "ybool": np.r_[np.zeros(45, bool), np.ones(15, bool)],
            "yfloat": rng.normal(size=N),
            "y3": np.tile([0, 1, 2], N // 3),
            "y20": np.arange(N) % 20,
            "y10": np.arange(N) % 10,
            "yyes": np.r_[["yes"] * 45, ["no"] * 15],
            "ywords": np.r_[["cat"] * 40, ["dog"] * 20],
            "yfloat01": np.r_[np.zeros(30), np.ones(30)],
        }
    )


def spec_for(table: pd.DataFrame, target: str, **kw) -> DatasetSpec:
    return infer_spec(table[["x", "k", "colour", "sex", target]], target, **kw)


# -- task inference ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("target", "task", "classes"),
    [
        ("y01", "binary", [0, 1]),
        ("ybool", "binary", [False, True]),
        ("yyes", "binary", ["no", "yes"]),
        ("y3", "multiclass", [0, 1, 2]),
        ("y10", "multiclass", list(range(10))),  # integers with up to 10 values are classes
        ("y20", "regression", None),  # ... more than 10 values are a quantity
        ("yfloat", "regression", None),
        ("yfloat01", "binary", [0.0, 1.0]),  # integer-valued floats are labels
    ],
)
def test_task_is_inferred_from_dtype_and_integer_values(table, target, task, classes):
    spec = spec_for(table, target)
    assert spec.task == task
    assert spec.classes == classes
    assert spec.is_classification == (task != "regression")
    if task != "binary":
        assert spec.positive_label is None


def test_explicit_task_overrides_inference(table):
    assert spec_for(table, "y20", task="multiclass").task == "multiclass"
    with pytest.raises(SpecError, match="binary.*two classes"):
        spec_for(table, "y3", task="binary")
    with pytest.raises(SpecError, match="not numeric"):
        spec_for(table, "yyes", task="regression")
    with pytest.raises(ParameterError, match="unknown task 'ranking'"):
        spec_for(table, "y01", task="ranking")


def test_string_target_with_many_values_is_refused_as_classes():
    df = pd.DataFrame({"x": np.arange(200.0), "y": [f"v{i % 60}" for i in range(200)]})
    with pytest.raises(SpecError, match="60 distinct values.*task='regression'"):
        infer_spec(df, "y")


# -- positive class ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("target", "positive"),
    [
        ("y01", 1),  # 1 is positive although it is the minority here
        ("ybool", True),
        ("yyes", "yes"),  # "yes" wins although it is the majority
        ("ywords", "dog"),  # no positive-like word: the minority class
        ("yfloat01", 1),
    ],
)
def test_positive_label_rules(table, target, positive):
    spec = spec_for(table, target)
    assert spec.positive_label == positive
    assert spec.positive_label in spec.classes


def test_minority_class_is_positive_when_no_word_matches():
    df = pd.DataFrame({"x": np.arange(30.0), "y": ["b"] * 10 + ["a"] * 20})
    assert infer_spec(df, "y").positive_label == "b"
    df["y"] = ["b"] * 20 + ["a"] * 10
    assert infer_spec(df, "y").positive_label == "a"


def test_explicit_positive_matches_by_value_or_by_text(table):
    spec = spec_for(table, "y01", positive="1")
    assert spec.positive_label == 1 and isinstance(spec.positive_label, int)
    assert spec_for(table, "y01", positive=0).positive_label == 0
    assert spec_for(table, "yyes", positive="no").positive_label == "no"


def test_unknown_positive_is_a_spec_error_listing_the_values(table):
    with pytest.raises(SpecError, match=r"positive class '7'.*'y01'.*'0', '1'"):
        spec_for(table, "y01", positive="7")
    with pytest.raises(SpecError, match="only applies to binary"):
        spec_for(table, "y3", positive=1)


def test_adult_positive_label_is_the_high_income_class(adult_sample):
    spec = infer_spec(adult_sample, "income")
    assert spec.task == "binary"
    assert spec.positive_label == ">50K"


# -- roles ------------------------------------------------------------------------
def test_sensitive_columns_stay_features_by_default(table):
    spec = spec_for(table, "y01", sensitive=["sex"])
    assert spec.sensitive == ["sex"]
    assert "sex" in spec.features and "sex" in spec.categorical


def test_sensitive_columns_can_be_kept_out_of_the_features(table):
    spec = spec_for(table, "y01", sensitive=["sex"], sensitive_as_features=False)
    assert spec.sensitive == ["sex"]
    assert "sex" not in spec.features and "sex" not in spec.categorical
    assert spec.features == ["x", "k", "colour"]


def test_numeric_and_categorical_features_and_reserved_roles(table):
    df = table[["x", "k", "colour", "y01"]].assign(
        when=pd.date_range("2024-01-01", periods=N, freq="D"),
        row_id=np.arange(N),
        score=np.linspace(0, 1, N),
    )
    spec = infer_spec(df, "y01", id="row_id", prediction="score", categorical=["k"])
    assert spec.time == "when"  # the only datetime column is taken as the time column
    assert spec.features == ["x", "k", "colour"]
    assert spec.numeric == ["x"] and spec.categorical == ["k", "colour"]
    assert spec.target == "y01" and spec.id == "row_id" and spec.prediction == "score"


def test_unusable_columns_are_excluded_with_reasons(table):
    df = table[["x", "colour", "y01"]].assign(
        empty=np.nan, const="same", customer=[f"C{i:04d}" for i in range(N)]
    )
    spec = infer_spec(df, "y01")
    assert spec.features == ["x", "colour"]
    assert set(spec.excluded) == {"empty", "const", "customer"}
    assert "missing" in spec.excluded["empty"]
    assert "single value" in spec.excluded["const"]
    assert "identifier" in spec.excluded["customer"]


def test_single_valued_columns_of_every_dtype_are_excluded_and_only_those(table):
    """The constant check (no hashing of every row) agrees with ``nunique() <= 1`` across dtypes."""
    n = len(table)
    gaps = np.where(np.arange(n) % 3 == 0, np.nan, 7.0)
    cols = {
        "float_gaps": gaps,
        "int_const": np.full(n, 4),
        "cat_const": pd.Categorical(["a"] * n),
        "bool_const": np.ones(n, dtype=bool),
        "nullable_int": pd.array([5] * (n - 1) + [None], dtype="Int64"),
        "inf_const": np.full(n, np.inf),
        "text_gaps": np.where(np.arange(n) % 2 == 0, None, "z"),
        "float_two": np.where(np.arange(n) % 2 == 0, 1.0, 2.0),
        "cat_two": pd.Categorical(["a", "b"] * (n // 2)),
        "inf_and_one": np.where(np.arange(n) % 2 == 0, np.inf, 1.0),
        "bool_two": np.arange(n) % 2 == 0,
    }
    df = table[["x", "y01"]].assign(**cols)
    spec = infer_spec(df, "y01")
    expected = {c for c in cols if df[c].nunique(dropna=True) <= 1}
    assert expected == {
        "float_gaps",
        "int_const",
        "cat_const",
        "bool_const",
        "nullable_int",
        "inf_const",
        "text_gaps",
    }
    assert {c for c, why in spec.excluded.items() if "single value" in why} == expected
    assert set(spec.features) == {"x"} | (set(cols) - expected)


def test_listed_features_are_kept_even_if_they_look_unusable(table):
    df = table[["x", "y01"]].assign(const=1.0)
    spec = infer_spec(df, "y01", features=["x", "const"])
    assert spec.features == ["x", "const"] and spec.excluded == {}


def test_explicitly_listed_all_missing_feature_is_a_data_error(table):
    df = table[["x", "y01"]].assign(empty=np.nan)
    with pytest.raises(DataError, match="'empty' has no values"):
        infer_spec(df, "y01", features=["x", "empty"])


def test_feature_that_is_also_the_target_is_a_spec_error(table):
    with pytest.raises(SpecError, match="'y01'"):
        infer_spec(table[["x", "y01"]], "y01", features=["x", "y01"])


def test_no_usable_feature_is_a_spec_error():
    df = pd.DataFrame({"const": [1] * 30, "y": [0, 1] * 15})
    with pytest.raises(SpecError, match="no usable feature"):
        infer_spec(df, "y")


def test_mostly_numeric_text_column_with_a_stray_value_names_column_row_and_value(table):
    amounts = [str(10 * (i % 7)) for i in range(N)]  # repeated values: categorical-looking
    amounts[17] = "n/a"
    with pytest.raises(DataError) as err:
        infer_spec(table[["x", "y01"]].assign(amount=amounts), "y01")
    msg = str(err.value)
    assert "'amount'" in msg and "row 17" in msg and "'n/a'" in msg


def test_stray_value_in_unique_numbers_is_an_error_not_an_identifier(table):
    # distinct amounts with one stray value look unique per row; they must
    # not be dropped silently as an identifier
    amounts = [f"{1000 + 3.5 * i:.2f}" for i in range(N)]
    amounts[42] = "unknown"
    with pytest.raises(DataError, match=r"'amount'.*row 42.*'unknown'"):
        infer_spec(table[["x", "y01"]].assign(amount=amounts), "y01")


def test_mostly_numeric_column_declared_categorical_is_accepted(table):
    codes = [str(i % 7) for i in range(N)]
    codes[3] = "X"
    spec = infer_spec(table[["x", "y01"]].assign(code=codes), "y01", categorical=["code"])
    assert spec.categorical == ["code"]


def test_single_class_target_is_a_data_error(table):
    with pytest.raises(DataError, match=r"'y01' has a single class \(1\)"):
        infer_spec(table[["x", "y01"]].assign(y01=1), "y01")
    with pytest.raises(DataError, match="'yfloat' has a single value"):
        infer_spec(table[["x", "yfloat"]].assign(yfloat=2.5), "yfloat", task="regression")


def test_empty_target_is_a_data_error(table):
    with pytest.raises(DataError, match="'label' has no values"):
        infer_spec(table[["x"]].assign(label=np.nan), "label")


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"target": "salary"}, "salary"),
        ({"target": "y01", "sensitive": ["gender"]}, "gender"),
        ({"target": "y01", "id": "customer_id"}, "customer_id"),
        ({"target": "y01", "features": ["x", "height"]}, "height"),
    ],
)
def test_missing_role_column_is_a_data_error_naming_it(table, kwargs, name):
    with pytest.raises(DataError, match=f"'{name}'"):
        infer_spec(table[["x", "sex", "y01"]], **kwargs)


def test_bad_inputs_are_data_errors(table):
    with pytest.raises(DataError, match="DataFrame"):
        infer_spec(table.to_numpy(), "y01")
    with pytest.raises(DataError, match="empty"):
        infer_spec(table.iloc[:0], "y01")
    dup = pd.concat([table[["x"]], table[["x", "y01"]]], axis=1)
    with pytest.raises(DataError, match="duplicate column names: 'x'"):
        infer_spec(dup, "y01")


# -- persistence ------------------------------------------------------------------
@pytest.mark.parametrize("target", ["y01", "ybool", "yyes", "y3", "yfloat"])
def test_to_dict_from_dict_round_trips_through_json(table, target):
    df = table[["x", "k", "colour", "sex", target]].assign(empty=np.nan)
    spec = infer_spec(df, target, sensitive=["sex"])
    text = json.dumps(spec.to_dict())
    back = DatasetSpec.from_dict(json.loads(text))
    assert back == spec
    assert back.excluded == {"empty": "every value is missing"}
    assert back.model_names == spec.model_names


def test_to_dict_turns_numpy_labels_into_python_values():
    spec = DatasetSpec(
        target="y",
        task="binary",
        features=["x"],
        numeric=["x"],
        categorical=[],
        positive_label=np.int64(1),
        classes=[np.int64(0), np.int64(1)],
    )
    d = spec.to_dict()
    assert type(d["positive_label"]) is int and [type(c) for c in d["classes"]] == [int, int]
    json.dumps(d)


def test_from_dict_ignores_unknown_keys(table):
    spec = spec_for(table, "y01")
    d = spec.to_dict() | {"added_in_a_later_version": 1}
    assert DatasetSpec.from_dict(d) == spec


def test_replace_returns_a_changed_copy(table):
    spec = spec_for(table, "y01")
    other = spec.replace(sensitive=["sex"])
    assert other.sensitive == ["sex"] and spec.sensitive == []


# -- prepare_frame ----------------------------------------------------------------
def test_prepare_frame_types_features_for_models(table):
    df = table[["x", "k", "colour", "y01"]].copy()
    df.loc[3, "colour"] = np.nan
    df.loc[4, "colour"] = None
    df.loc[5, "x"] = np.nan
    spec = infer_spec(df, "y01")
    out = prepare_frame(df, spec)
    assert out.columns.tolist() == ["x", "k", "colour"]  # target dropped
    assert out["x"].dtype == np.float64 and out["k"].dtype == np.float64
    assert np.isnan(out.loc[5, "x"])
    assert out.loc[3, "colour"] == MISSING == out.loc[4, "colour"]
    assert all(isinstance(v, str) for v in out["colour"])
    assert out.index.equals(df.index)


def test_prepare_frame_on_adult_keeps_missing_as_a_category(adult_sample):
    spec = infer_spec(adult_sample, "income")
    out = prepare_frame(adult_sample, spec)
    assert (out["workclass"] == MISSING).sum() == adult_sample["workclass"].isna().sum() > 0
    assert set(out.select_dtypes("float64").columns) == set(spec.numeric)


def test_prepare_frame_parses_numeric_text_and_reorders_columns(table):
    spec = spec_for(table, "y01")
    batch = table[["colour", "sex", "k", "x"]].head(5).astype({"x": str, "k": object})
    out = prepare_frame(batch, spec)
    assert out.columns.tolist() == spec.features
    np.testing.assert_allclose(out["x"].to_numpy(), table["x"].head(5).to_numpy())
    assert out["k"].dtype == np.float64


def test_prepare_frame_categorical_numbers_become_text(table):
    spec = spec_for(table, "y01", categorical=["k"])
    out = prepare_frame(table, spec)
    assert set(out["k"]) == {"0", "1", "2", "3", "4"}


def test_non_numeric_value_at_predict_time_names_column_row_and_value(table):
    spec = spec_for(table, "y01")
    batch = table.head(10).astype({"x": object})
    batch.loc[7, "x"] = "twelve"
    with pytest.raises(DataError) as err:
        prepare_frame(batch, spec, where="batch-3.csv")
    msg = str(err.value)
    assert "'x'" in msg and "batch-3.csv" in msg and "row 7" in msg and "'twelve'" in msg


def test_missing_feature_at_predict_time_names_it(table):
    spec = spec_for(table, "y01")
    with pytest.raises(DataError, match="'colour' is missing from current.csv"):
        prepare_frame(table.drop(columns="colour"), spec, where="current.csv")
    with pytest.raises(DataError, match="'k', 'colour' are missing"):
        prepare_frame(table.drop(columns=["k", "colour"]), spec)


def test_prepare_frame_handles_zero_rows(table):
    spec = spec_for(table, "y01")
    out = prepare_frame(table.iloc[:0], spec)
    assert out.shape == (0, len(spec.features))


# -- target_values ----------------------------------------------------------------
def test_target_values_align_text_labels_to_the_classes(table):
    spec = spec_for(table, "y01")
    read_back = table[["y01"]].astype(str)  # e.g. a CSV read with dtype=str
    y = target_values(read_back, spec)
    assert y.tolist() == table["y01"].tolist()


def test_target_values_report_unseen_labels_and_missing_target(table):
    spec = spec_for(table, "yyes")
    bad = table[["yyes"]].copy()
    bad.loc[0, "yyes"] = "maybe"
    with pytest.raises(DataError, match="never saw: 'maybe'"):
        target_values(bad, spec, where="labels.csv")
    with pytest.raises(DataError, match="'yyes' is missing from labels.csv"):
        target_values(table[["x"]], spec, where="labels.csv")


def test_regression_target_values_are_floats(table):
    spec = spec_for(table, "yfloat")
    y = target_values(table.astype({"yfloat": str}), spec)
    assert y.dtype == np.float64
    np.testing.assert_allclose(y.to_numpy(), table["yfloat"].to_numpy(), rtol=1e-12)


# -- safe names -------------------------------------------------------------------
def test_safe_names_for_adult_columns(adult_sample):
    names = safe_names(adult_sample.columns)
    assert names["education-num"] == "education_num"
    assert names["hours-per-week"] == "hours_per_week"
    assert names["age"] == "age"
    assert all(v.isidentifier() for v in names.values())


def test_safe_names_are_unique_and_stable():
    cols = ["education-num", "education_num", "education num", "1st", "", "a.b", "ä"]
    names = safe_names(cols)
    assert len(set(names.values())) == len(cols)
    assert names["education-num"] == "education_num"
    assert names["education_num"] == "education_num_2"
    assert names["1st"] == "c_1st"
    assert all(v.isidentifier() for v in names.values())
    assert safe_names(cols) == names  # the same input always maps the same way


def test_model_names_cover_every_feature(adult_sample):
    spec = infer_spec(adult_sample, "income")
    assert list(spec.model_names) == spec.features


# -- describe ---------------------------------------------------------------------
def test_describe_lists_every_role(table):
    df = table[["x", "colour", "sex", "y01"]].assign(empty=np.nan, row_id=np.arange(N))
    spec = infer_spec(df, "y01", sensitive=["sex"], id="row_id", sensitive_as_features=False)
    d = spec.describe()
    assert d.columns.tolist() == ["column", "role", "type", "sensitive"]
    rows = d.set_index("column")
    assert rows.loc["x", "role"] == "feature" and rows.loc["x", "type"] == "numeric"
    assert rows.loc["colour", "type"] == "categorical"
    assert rows.loc["y01", "role"] == "target"
    assert rows.loc["row_id", "role"] == "id"
    assert rows.loc["sex", "role"] == "sensitive only" and bool(rows.loc["sex", "sensitive"])
    assert rows.loc["empty", "role"] == "excluded: every value is missing"
    assert len(d) == 6


def test_describe_marks_sensitive_features(table):
    spec = spec_for(table, "y01", sensitive=["sex"])
    rows = spec.describe().set_index("column")
    assert rows.loc["sex", "role"] == "feature" and bool(rows.loc["sex", "sensitive"])
    assert not rows.loc["colour", "sensitive"]
