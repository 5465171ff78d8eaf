"""The batch simulator injects exactly what its manifest says, on real Adult data."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from workbench.data import load_demo
from workbench.data.simulate import (
    KINDS,
    Batch,
    Scenario,
    default_scenarios,
    simulate_batches,
    write_batches,
)
from workbench.errors import DataError, ParameterError, SpecError, WorkbenchError

POS = ">50K"  # the `adult` fixture (conftest.py) is load_demo("adult"): its test split is the holdout


@pytest.fixture(scope="module")
def default_batches(adult):
    holdout, spec = adult.test, adult.spec
    return simulate_batches(holdout, spec, random_state=0)


def one(adult, change: dict, *, seed: int = 1, size: int = 2000) -> Batch:
    holdout, spec = adult.test, adult.spec
    return simulate_batches(holdout, spec, [change], batch_size=size, random_state=seed)[0]


def rate(df: pd.DataFrame) -> float:
    return float((df["income"] == POS).mean())


def ks_p(a: pd.Series, b: pd.Series) -> float:
    return float(stats.ks_2samp(a.dropna(), b.dropna()).pvalue)


def chi2_p(reference: pd.Series, current: pd.Series) -> float:
    """Chi-square of category counts, rare categories (<1 %) pooled so every cell is big enough."""
    ref, cur = reference.fillna("NA").astype(str), current.fillna("NA").astype(str)
    share = ref.value_counts(normalize=True)
    common = set(share.index[share >= 0.01])
    ref, cur = ref.where(ref.isin(common), "other"), cur.where(cur.isin(common), "other")
    table = pd.concat([ref.value_counts(), cur.value_counts()], axis=1).fillna(0)
    return float(stats.chi2_contingency(table.to_numpy().T)[1])


def column_p(reference: pd.DataFrame, current: pd.DataFrame, col: str, spec) -> float:
    if col in spec.numeric:
        return ks_p(reference[col], current[col])
    return chi2_p(reference[col], current[col])


# -- the sequence -------------------------------------------------------------------
def test_default_sequence_covers_every_kind_on_consecutive_days(default_batches):
    kinds = {c.kind for b in default_batches for c in b.changes}
    assert kinds == set(KINDS)
    assert not default_batches[0].changes and not default_batches[1].changes
    assert not default_batches[-1].changes
    assert [b.period for b in default_batches[:3]] == ["2026-11-01", "2026-11-02", "2026-11-03"]
    assert default_batches[2].name == "batch-03-covariate_shift"
    assert all(len(b.data) == 2000 for b in default_batches)
    assert len({b.seed for b in default_batches}) == len(default_batches)
    modes = [c.params["mode"] for b in default_batches for c in b.changes if c.kind == "bias_shift"]
    assert sorted(modes) == ["features", "labels"]
    # the default bias shift targets the first sensitive column's worst-off sizeable group
    assert {c.params["group"] for b in default_batches for c in b.changes if c.kind == "bias_shift"} == {
        "Female"
    }


def test_resolved_default_scenarios_spell_out_every_parameter_and_give_the_same_batches(
    adult, default_batches
):
    holdout, spec = adult.test, adult.spec
    scenarios = default_scenarios(spec, holdout)
    shifted = [s for s in scenarios if s.changes]
    assert all(set(s.changes[0]) - {"kind"} for s in shifted)  # parameters resolved
    again = simulate_batches(holdout, spec, scenarios, random_state=0)
    for a, b in zip(again, default_batches, strict=True):
        pd.testing.assert_frame_equal(a.data, b.data)
        assert a.manifest == b.manifest


def test_same_seed_same_batches_and_another_seed_other_batches(adult):
    holdout, spec = adult.test, adult.spec
    scen = ["clean", "covariate_shift", "prior_shift", "missing_values"]
    a = simulate_batches(holdout, spec, scen, random_state=7)
    b = simulate_batches(holdout, spec, scen, random_state=7)
    c = simulate_batches(holdout, spec, scen, random_state=8)
    for x, y, z in zip(a, b, c, strict=True):
        pd.testing.assert_frame_equal(x.data, y.data)
        assert x.manifest == y.manifest
        assert not x.data.equals(z.data)
        assert x.seed != z.seed


def test_n_clean_sets_the_clean_baseline_that_opens_the_sequence(adult):
    holdout, spec = adult.test, adult.spec
    batches = simulate_batches(holdout, spec, ["clean", "prior_shift"], n_clean=3, batch_size=200)
    assert [b.manifest["clean"] for b in batches] == [True, True, True, False]
    assert batches[-1].name == "batch-04-prior_shift"


def test_the_batch_keeps_the_holdout_columns_and_dtypes(default_batches, adult):
    holdout = adult.test
    for b in default_batches:
        assert list(b.data.columns) == list(holdout.columns)
        changed = {c.params.get("column") for c in b.changes if c.kind in ("missing_values", "scale_change")}
        for col in holdout.columns:
            if col not in changed:
                assert b.data[col].dtype == holdout[col].dtype, (b.name, col)


# -- clean batches ------------------------------------------------------------------
def test_clean_batches_are_indistinguishable_from_the_holdout(adult):
    holdout, spec = adult.test, adult.spec
    batches = simulate_batches(holdout, spec, [], n_clean=5, random_state=3)
    pvalues = [column_p(holdout, b.data, col, spec) for b in batches for col in [*spec.features, "income"]]
    # 75 tests at the 1 % level: a handful of chance alarms at most
    assert sum(p < 0.01 for p in pvalues) <= 3, sorted(pvalues)[:5]
    for b in batches:
        m = b.manifest
        assert m["clean"] and not m["replace"] and m["changes"] == [] and m["drifted_columns"] == []
        assert not any(m["expected"].values())
        assert abs(m["positive_rate"] - m["holdout_positive_rate"]) < 0.04


# -- drift ----------------------------------------------------------------------------
@pytest.mark.parametrize("direction", ["up", "down"])
def test_numeric_covariate_shift_moves_the_column_and_keeps_p_y_given_x(adult, direction):
    holdout = adult.test
    b = one(adult, {"kind": "covariate_shift", "column": "age", "direction": direction, "strength": 0.5})
    assert ks_p(holdout["age"], b.data["age"]) < 1e-6
    moved = b.data["age"].mean() - holdout["age"].mean()
    assert (moved > 3) if direction == "up" else (moved < -3)
    m = b.manifest
    assert m["drifted_columns"] == ["age"] and m["expected"]["drift"]
    # drawn without replacement (the pool is large for this shift): no duplicate rows beyond the holdout's own
    assert not m["replace"] and b.data.duplicated().mean() <= holdout.duplicated().mean() + 0.002
    assert not m["expected"]["concept_drift"] and not m["expected"]["prior_shift"]
    # whole rows are resampled, so the outcome given age is unchanged
    bins = [0, 25, 35, 45, 55, 100]
    ref = holdout.groupby(pd.cut(holdout["age"], bins), observed=True)["income"].apply(
        lambda s: (s == POS).mean()
    )
    cur = b.data.groupby(pd.cut(b.data["age"], bins), observed=True)["income"].agg(
        lambda s: ((s == POS).mean(), len(s))
    )
    for interval, (r, n) in cur.items():
        if n >= 150:
            assert abs(r - ref[interval]) < 0.08, interval


def test_categorical_covariate_shift_boosts_the_chosen_categories(adult):
    holdout = adult.test
    b = one(
        adult, {"kind": "covariate_shift", "column": "education", "categories": ["Bachelors"], "factor": 3}
    )
    assert chi2_p(holdout["education"], b.data["education"]) < 1e-6
    before, after = (holdout["education"] == "Bachelors").mean(), (b.data["education"] == "Bachelors").mean()
    assert after > before * 1.8
    eff = b.changes[0].effects
    assert eff["share_after"] == pytest.approx(after) and eff["share_before"] == pytest.approx(before)
    assert b.manifest["drifted_columns"] == ["education"]


@pytest.mark.parametrize("target_rate", [0.1, 0.5, 0.8])
def test_prior_shift_reaches_the_requested_positive_rate_and_keeps_p_x_given_y(adult, target_rate):
    holdout = adult.test
    b = one(adult, {"kind": "prior_shift", "rate": target_rate})
    assert abs(rate(b.data) - target_rate) <= 0.02
    assert b.manifest["positive_rate"] == pytest.approx(rate(b.data))
    assert b.manifest["expected"]["prior_shift"] and b.manifest["drifted_columns"] == []
    for label in ("<=50K", POS):
        ref, cur = holdout[holdout["income"] == label], b.data[b.data["income"] == label]
        assert ks_p(ref["education-num"], cur["education-num"]) > 0.001
        assert chi2_p(ref["relationship"], cur["relationship"]) > 0.001


def test_concept_drift_changes_labels_inside_the_segment_only(adult):
    holdout = adult.test
    change = {"kind": "concept_drift", "column": "relationship", "values": ["Own-child"], "fraction": 0.5}
    b = one(adult, change)
    inside, outside = b.data["relationship"] == "Own-child", b.data["relationship"] != "Own-child"
    ref_in = rate(holdout[holdout["relationship"] == "Own-child"])
    ref_out = rate(holdout[holdout["relationship"] != "Own-child"])
    assert rate(b.data[inside]) > ref_in + 0.3
    assert abs(rate(b.data[outside]) - ref_out) < 0.03
    for col in ("age", "education-num", "hours-per-week"):  # features untouched
        assert ks_p(holdout[col], b.data[col]) > 0.01
    m = b.manifest
    assert m["expected"]["concept_drift"] and not m["expected"]["drift"] and m["drifted_columns"] == []
    assert m["changes"][0]["effects"]["rate_after"] == pytest.approx(rate(b.data[inside]), abs=1e-6)


def test_concept_drift_on_a_numeric_range_can_push_outcomes_one_way(adult):
    holdout = adult.test
    b = one(
        adult,
        {"kind": "concept_drift", "column": "age", "range": [20, 29], "mode": "to_positive", "fraction": 0.4},
    )
    seg = b.data["age"].between(20, 29)
    assert rate(b.data[seg]) > rate(holdout[holdout["age"].between(20, 29)]) + 0.25
    assert abs(rate(b.data[~seg]) - rate(holdout[~holdout["age"].between(20, 29)])) < 0.03


# -- quality faults -----------------------------------------------------------------
def test_missing_values_match_the_requested_rate(adult):
    holdout = adult.test
    b = one(adult, {"kind": "missing_values", "column": "age", "rate": 0.3})
    assert b.data["age"].isna().mean() == pytest.approx(0.3, abs=0.01)
    assert b.data["age"].dtype == "float64"
    assert abs(b.data["workclass"].isna().mean() - holdout["workclass"].isna().mean()) < 0.02
    assert ks_p(holdout["age"], b.data["age"]) > 0.01  # what is left is the same distribution
    m = b.manifest
    assert m["expected"]["quality"] and not m["expected"]["drift"] and m["quality_columns"] == ["age"]


def test_unseen_categories_are_new_and_at_the_requested_rate(adult):
    holdout = adult.test
    b = one(adult, {"kind": "unseen_categories", "column": "workclass", "rate": 0.2})
    new = set(b.data["workclass"].dropna()) - set(holdout["workclass"].dropna())
    assert new and new == set(b.changes[0].params["values"])
    assert b.data["workclass"].isin(new).mean() == pytest.approx(0.2, abs=0.01)
    assert b.manifest["quality_columns"] == ["workclass"] and b.manifest["drifted_columns"] == ["workclass"]


@pytest.mark.parametrize(("factor", "dtype"), [(1000, "int64"), (0.01, "float64")])
def test_scale_change_shows_in_the_median(adult, factor, dtype):
    holdout = adult.test
    b = one(adult, {"kind": "scale_change", "column": "hours-per-week", "factor": factor})
    ratio = b.data["hours-per-week"].median() / holdout["hours-per-week"].median()
    assert ratio == pytest.approx(factor, rel=0.05)
    assert b.data["hours-per-week"].dtype == dtype
    assert b.manifest["expected"]["quality"] and b.manifest["drifted_columns"] == ["hours-per-week"]


# -- bias shifts --------------------------------------------------------------------
def test_bias_shift_labels_lowers_the_positive_rate_of_one_group_only(adult):
    holdout = adult.test
    b = one(
        adult,
        {"kind": "bias_shift", "sensitive": "sex", "group": "Female", "mode": "labels", "fraction": 0.8},
    )
    f, m = b.data["sex"] == "Female", b.data["sex"] == "Male"
    ref_f, ref_m = rate(holdout[holdout["sex"] == "Female"]), rate(holdout[holdout["sex"] == "Male"])
    assert rate(b.data[f]) < ref_f * 0.4
    assert abs(rate(b.data[m]) - ref_m) < 0.04
    assert abs(f.mean() - (holdout["sex"] == "Female").mean()) < 0.04  # group share unchanged
    man = b.manifest
    assert man["expected"]["bias"] and not man["expected"]["drift"]
    assert man["positive_rate_by_group"]["sex"]["Female"] == pytest.approx(rate(b.data[f]), abs=1e-6)
    assert man["changes"][0]["params"] == {
        "sensitive": "sex",
        "group": "Female",
        "mode": "labels",
        "fraction": 0.8,
    }


def test_bias_shift_features_lowers_one_groups_profiles_and_selection_rate(adult):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    holdout, spec, train = adult.test, adult.spec, adult.train
    b = one(adult, {"kind": "bias_shift", "sensitive": "sex", "group": "Female", "mode": "features"})
    cols = b.changes[0].params["columns"]
    assert cols and set(cols) <= set(spec.numeric) and "education-num" in cols
    hf, bf = holdout[holdout["sex"] == "Female"], b.data[b.data["sex"] == "Female"]
    hm, bm = holdout[holdout["sex"] == "Male"], b.data[b.data["sex"] == "Male"]
    for col in cols:
        assert bf[col].mean() < hf[col].mean() - 0.3 * hf[col].std()
    for col in spec.numeric:  # the other group is a plain sample
        assert ks_p(hm[col], bm[col]) > 0.01
    assert abs(len(bf) / len(b.data) - len(hf) / len(holdout)) < 0.04
    assert b.manifest["drifted_columns"] == cols and b.manifest["expected"]["bias"]

    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    model.fit(train[spec.numeric], train["income"] == POS)
    sel = lambda df: model.predict(df[spec.numeric]).mean()  # noqa: E731
    assert sel(bf) < sel(hf) * 0.6
    assert abs(sel(bm) - sel(hm)) < 0.04


# -- files and manifests -----------------------------------------------------------
def test_manifests_are_strict_json_and_files_round_trip(default_batches, tmp_path):
    for b in default_batches:
        m = json.loads(json.dumps(b.manifest, allow_nan=False))
        assert m["rows"] == len(b.data) and m["name"] == b.name and m["seed"] == b.seed
        assert set(m["expected"]) == {"drift", "quality", "prior_shift", "concept_drift", "bias"}
    summary = write_batches(default_batches, tmp_path / "batches")
    folder = tmp_path / "batches"
    assert list(summary["name"]) == [b.name for b in default_batches]
    assert summary.loc[2, "changes"] == "covariate_shift" and summary.loc[0, "changes"] == "clean"
    index = json.loads((folder / "batches.json").read_text())["batches"]
    assert [e["name"] for e in index] == [b.name for b in default_batches]
    for b, entry in zip(default_batches, index, strict=True):
        back = pd.read_parquet(folder / entry["data"])
        for col in back.select_dtypes(include="object").columns:  # parquet reads NaN text as None
            back[col] = back[col].mask(back[col].isna(), np.nan)
        pd.testing.assert_frame_equal(back, b.data)
        assert json.loads((folder / entry["manifest"]).read_text()) == b.manifest
    assert not list(folder.glob(".*tmp"))
    assert b.write(tmp_path / "one") == tmp_path / "one" / f"{b.name}.parquet"


def test_a_strong_shift_falls_back_to_replacement_and_says_so(adult):
    holdout = adult.test
    kw = {"kind": "covariate_shift", "column": "age", "direction": "up"}
    mild, strong = simulate_batches(
        holdout,
        adult.spec,
        [
            {"name": "mild", "changes": [{**kw, "strength": 0.5}]},
            {"name": "strong", "changes": [{**kw, "strength": 2.0}]},
        ],
        batch_size=2000,
        random_state=5,
    )
    assert not mild.manifest["replace"] and strong.manifest["replace"]
    # with replacement the strong shift keeps all of its strength (and repeats rows); without, the mild one is
    # still most of what a with-replacement draw would give (0.5 strength: ~+7 years on Adult)
    assert strong.data["age"].mean() - holdout["age"].mean() > 25
    assert strong.data.duplicated().mean() > 0.1
    assert 5.5 < mild.data["age"].mean() - holdout["age"].mean() < 8.5
    again = simulate_batches(
        holdout,
        adult.spec,
        [{"name": "mild", "changes": [{**kw, "strength": 0.5}]}],
        batch_size=2000,
        random_state=5,
    )[0]
    pd.testing.assert_frame_equal(again.data, mild.data)  # seeded: the same rows in the same order


def test_a_small_holdout_is_sampled_with_replacement_and_says_so(adult):
    holdout, spec = adult.test, adult.spec
    batches = simulate_batches(holdout.head(300), spec, ["clean", "missing_values"], batch_size=1000)
    assert all(len(b.data) == 1000 and b.manifest["replace"] for b in batches)


# -- other data and bad input -------------------------------------------------------
def test_defaults_skip_what_does_not_apply(adult):
    holdout, spec = adult.test, adult.spec
    kinds = {c["kind"] for s in default_scenarios(spec.replace(sensitive=[]), holdout) for c in s.changes}
    assert "bias_shift" not in kinds and "prior_shift" in kinds
    demo = load_demo("diabetes")  # regression, numeric features only
    batches = simulate_batches(demo.test, demo.spec, batch_size=300, random_state=0)
    kinds = {c.kind for b in batches for c in b.changes}
    assert kinds == {"covariate_shift", "missing_values", "scale_change"}
    assert all(b.manifest["replace"] for b in batches)  # 111 rows for batches of 300


def test_multiclass_prior_shift_targets_one_class(adult):
    demo = load_demo("wine")
    b = simulate_batches(
        demo.train, demo.spec, [{"kind": "prior_shift", "label": "class_2", "rate": 0.6}], batch_size=500
    )[0]
    assert (b.data["target"] == "class_2").mean() == pytest.approx(0.6, abs=0.02)
    assert b.manifest["class_rates"]["class_2"] == pytest.approx(0.6, abs=0.02)


@pytest.mark.parametrize(
    ("scenario", "error", "words"),
    [
        ("teleport", ParameterError, "teleport"),
        ({"kind": "teleport"}, ParameterError, "teleport"),
        ({"kind": "covariate_shift", "column": "salary"}, DataError, "salary"),
        ({"kind": "covariate_shift", "column": "age", "colour": "red"}, ParameterError, "colour"),
        ({"kind": "covariate_shift", "column": "age", "categories": ["x"]}, ParameterError, "age"),
        ({"kind": "covariate_shift", "column": "education", "categories": ["PhD"]}, DataError, "PhD"),
        ({"kind": "unseen_categories", "column": "age"}, SpecError, "age"),
        ({"kind": "unseen_categories", "column": "sex", "values": ["Male"]}, DataError, "sex"),
        ({"kind": "scale_change", "column": "sex"}, SpecError, "sex"),
        ({"kind": "missing_values", "column": "income"}, SpecError, "income"),
        ({"kind": "prior_shift", "rate": 1.5}, ParameterError, "rate"),
        ({"kind": "missing_values", "column": "age", "rate": "lots"}, ParameterError, "rate"),
        ({"kind": "bias_shift", "sensitive": "sex", "group": "Martian"}, DataError, "Martian"),
        ({"kind": "concept_drift", "column": "age", "range": [200, 300]}, DataError, "age"),
        (42, ParameterError, "scenario"),
    ],
)
def test_bad_input_raises_one_clear_sentence(adult, scenario, error, words):
    holdout, spec = adult.test, adult.spec
    with pytest.raises(error, match=words) as info:
        simulate_batches(holdout, spec, [scenario])
    assert isinstance(info.value, WorkbenchError) and "\n" not in str(info.value)
    assert isinstance(info.value, ValueError)  # every one reports a bad value


def test_bad_arguments_are_refused(adult):
    holdout, spec = adult.test, adult.spec
    with pytest.raises(DataError, match="DataFrame"):
        simulate_batches(holdout.to_dict(), spec)
    with pytest.raises(DataError, match="age"):
        simulate_batches(holdout.drop(columns="age"), spec)
    with pytest.raises(ParameterError, match="start"):
        simulate_batches(holdout, spec, ["clean"], start="next tuesday")
    with pytest.raises(ParameterError, match="batch_size"):
        simulate_batches(holdout, spec, ["clean"], batch_size=0)
    with pytest.raises(SpecError, match="classification"):
        demo = load_demo("diabetes")
        simulate_batches(demo.test, demo.spec, ["prior_shift"])
    with pytest.raises(SpecError, match="sensitive"):
        simulate_batches(holdout, spec.replace(sensitive=[]), ["bias_shift"])


def test_ten_batches_take_well_under_a_second(adult):
    holdout, spec = adult.test, adult.spec
    scen = [
        Scenario("clean"),
        "covariate_shift",
        "prior_shift",
        "concept_drift",
        "missing_values",
        "unseen_categories",
        "scale_change",
        "bias_shift",
        {"kind": "bias_shift", "mode": "features"},
        "clean",
    ]
    simulate_batches(holdout, spec, scen[:2])  # warm caches
    t0 = time.perf_counter()
    batches = simulate_batches(holdout, spec, scen, random_state=5)
    assert time.perf_counter() - t0 < 1.0
    assert len(batches) == 10 and all(len(b.data) == 2000 for b in batches)
