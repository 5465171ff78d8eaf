"""Behaviour of the bundled datasets: the real UCI Adult data and scikit-learn's demos."""

from __future__ import annotations

import gzip
import types

import numpy as np
import pandas as pd
import pytest

import workbench.data.datasets as datasets
from workbench.data.datasets import ADULT_COLUMNS, list_demos, load_demo
from workbench.errors import DataError


@pytest.fixture(scope="module")
def adult():
    return load_demo("adult")


@pytest.fixture
def fresh_adult_cache():
    """Make `_adult` read the bundled files again, and forget a tampered read afterwards."""
    datasets._adult.cache_clear()
    yield
    datasets._adult.cache_clear()


# -- UCI Adult --------------------------------------------------------------------
def test_adult_has_the_official_split(adult):
    assert len(adult.train) == 32_561
    assert len(adult.test) == 16_281
    assert len(adult.train) + len(adult.test) == 48_842
    assert len(adult.frame) == 48_842
    assert adult.frame["split"].value_counts().to_dict() == {"train": 32_561, "test": 16_281}


def test_adult_columns_keep_their_original_names(adult):
    for part in (adult.train, adult.test):
        assert part.columns.tolist() == ADULT_COLUMNS
    assert {"education-num", "marital-status", "hours-per-week", "native-country"} <= set(ADULT_COLUMNS)
    assert adult.train.index.equals(pd.RangeIndex(len(adult.train)))


def test_adult_labels_are_clean(adult):
    assert set(adult.train["income"]) == {"<=50K", ">50K"}
    assert set(adult.test["income"]) == {"<=50K", ">50K"}  # the test file's trailing '.' removed
    assert not adult.test["income"].str.endswith(".").any()


def test_adult_values_are_stripped_and_typed(adult):
    assert set(adult.train["sex"]) == {"Male", "Female"}
    assert adult.train["workclass"].dropna().str.startswith(" ").sum() == 0
    for c in ("age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week"):
        assert adult.train[c].dtype == np.int64 and adult.test[c].dtype == np.int64
    assert adult.train["age"].between(17, 90).all()


def test_adult_missing_values_are_nan_not_question_marks(adult):
    for part in (adult.train, adult.test):
        na = part.isna().sum()
        assert set(na[na > 0].index) == {"workclass", "occupation", "native-country"}
        assert not part.isin(["?"]).any().any()
    # the figures published with the dataset
    assert adult.train["workclass"].isna().sum() == 1_836
    assert adult.train["occupation"].isna().sum() == 1_843
    assert adult.train["native-country"].isna().sum() == 583


def test_adult_spec(adult):
    spec = adult.spec
    assert spec.target == "income" and spec.task == "binary"
    assert spec.positive_label == ">50K"
    assert spec.classes == ["<=50K", ">50K"]
    assert spec.sensitive == ["sex", "race"]
    assert {"sex", "race"} <= set(spec.features)  # sensitive attributes stay features
    assert "income" not in spec.features
    assert set(spec.numeric) == {
        "age",
        "fnlwgt",
        "education-num",
        "capital-gain",
        "capital-loss",
        "hours-per-week",
    }
    assert len(spec.features) == 14 and spec.excluded == {}


def test_adult_base_rates(adult):
    train_rate = (adult.train["income"] == ">50K").mean()
    test_rate = (adult.test["income"] == ">50K").mean()
    assert train_rate == pytest.approx(0.2408, abs=0.001)
    assert test_rate == pytest.approx(0.2362, abs=0.001)
    # and the documented gap between the sexes is there
    by_sex = adult.train.groupby("sex")["income"].apply(lambda s: (s == ">50K").mean())
    assert by_sex["Male"] > 2 * by_sex["Female"]


def test_adult_provenance(adult):
    assert adult.name == "adult"
    assert adult.licence == "CC BY 4.0"
    assert "UCI" in adult.source and "10.24432" in adult.source


def test_demo_unpacks_as_train_test_spec(adult):
    train, test, spec = adult
    assert train is adult.train and test is adult.test and spec is adult.spec
    parts = [x for x in adult]
    assert len(parts) == 3


def test_each_load_returns_independent_frames():
    first = load_demo("adult")
    first.train.loc[0, "age"] = -1
    first.test.drop(columns="income", inplace=True)
    second = load_demo("adult")
    assert second.train.loc[0, "age"] != -1
    assert "income" in second.test.columns


# -- scikit-learn demos -----------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "task", "rows", "positive"),
    [
        ("breast_cancer", "binary", 569, "malignant"),
        ("wine", "multiclass", 178, None),
        ("iris", "multiclass", 150, None),
        ("diabetes", "regression", 442, None),
    ],
)
def test_sklearn_demos(name, task, rows, positive):
    demo = load_demo(name)
    assert demo.spec.task == task
    assert demo.spec.positive_label == positive
    assert len(demo.train) + len(demo.test) == rows
    assert len(demo.test) == pytest.approx(rows * 0.25, abs=1)
    assert demo.spec.target == "target" and "target" not in demo.spec.features
    assert demo.spec.features == demo.spec.numeric
    if task != "regression":
        assert set(demo.test["target"]) <= set(demo.spec.classes)
        # stratified: every class is in both parts
        assert set(demo.train["target"]) == set(demo.test["target"]) == set(demo.spec.classes)


def test_sklearn_demo_split_is_seeded():
    a, b = load_demo("wine"), load_demo("wine")
    pd.testing.assert_frame_equal(a.test, b.test)


def test_list_demos():
    assert list_demos() == ["adult", "breast_cancer", "wine", "iris", "diabetes"]


def test_unknown_demo_lists_the_choices():
    with pytest.raises(DataError) as err:
        load_demo("titanic")
    msg = str(err.value)
    assert "'titanic'" in msg
    for name in list_demos():
        assert name in msg


# -- integrity of the bundled files -----------------------------------------------
def test_checksum_mismatch_is_detected(monkeypatch, fresh_adult_cache):
    monkeypatch.setitem(datasets._ADULT_SHA256, "adult.test", "0" * 64)
    with pytest.raises(DataError, match="adult.test is corrupted"):
        load_demo("adult")


def test_corrupted_content_is_detected(monkeypatch, fresh_adult_cache):
    real = gzip.decompress

    def one_flipped_byte(data: bytes) -> bytes:
        raw = bytearray(real(data))
        raw[len(raw) // 2] ^= 0x01
        return bytes(raw)

    monkeypatch.setattr(datasets, "gzip", types.SimpleNamespace(decompress=one_flipped_byte))
    with pytest.raises(DataError, match="adult.data is corrupted.*reinstall"):
        load_demo("adult")


def test_intact_files_load_after_a_failed_check(monkeypatch, fresh_adult_cache):
    with monkeypatch.context() as m:
        m.setitem(datasets._ADULT_SHA256, "adult.data", "f" * 64)
        with pytest.raises(DataError):
            load_demo("adult")
    assert len(load_demo("adult").train) == 32_561  # a failure is not cached
