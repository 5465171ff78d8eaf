"""Data quality: injected faults found on the right column, clean batches pass, schema and type issues."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from workbench.data.simulate import simulate_batches
from workbench.errors import DataError
from workbench.monitoring.drift import compute_reference_stats, detect_drift
from workbench.monitoring.quality import QualityResult, check_quality


@pytest.fixture(scope="module")
def ref_stats(adult):
    return compute_reference_stats(adult.train, adult.spec, duplicates=True)


@pytest.fixture(scope="module")
def clean(adult):
    return simulate_batches(adult.test, adult.spec, ["clean"] * 10, random_state=21)


def _failed(result: QualityResult, config=None) -> set[str]:
    return {c.name for c in result.checks(config) if not c.passed}


@pytest.mark.parametrize("fault, check", [
    ({"kind": "missing_values", "column": "hours-per-week", "rate": 0.3}, "quality.missing.hours-per-week"),
    ({"kind": "missing_values", "column": "workclass", "rate": 0.2}, "quality.missing.workclass"),
    ({"kind": "unseen_categories", "column": "occupation", "rate": 0.2}, "quality.unseen.occupation"),
    ({"kind": "unseen_categories", "column": "native-country", "rate": 0.05}, "quality.unseen.native-country"),
    ({"kind": "scale_change", "column": "fnlwgt", "factor": 100}, "quality.range.fnlwgt"),
    ({"kind": "scale_change", "column": "age", "factor": 0.01}, "quality.range.age"),
])
def test_injected_faults_found_on_the_right_column(adult, ref_stats, fault, check):
    batch = simulate_batches(adult.test, adult.spec, [fault], random_state=4)[0]
    result = check_quality(None, batch.data, adult.spec, reference_stats=ref_stats)
    assert _failed(result) == {check}
    col = result.column(fault["column"])
    top = result.findings()[0]
    assert f"'{fault['column']}'" in top
    if fault["kind"] == "missing_values":
        assert col.current_missing_share == pytest.approx(batch.manifest["changes"][0]["effects"]["missing_share"],
                                                          abs=1e-6)
        assert top.startswith(f"{col.current_missing_share:.0%} of '{fault['column']}' is missing")
    elif fault["kind"] == "unseen_categories":
        value = batch.manifest["changes"][0]["params"]["values"][0]
        rows = batch.manifest["changes"][0]["effects"]["injected"]
        assert col.unseen["examples"][0] == {"value": value, "rows": rows}
        assert f"a category never seen before: '{value}' ({rows:,} rows)" in top
    else:
        assert col.out_of_range["share"] > 0.9
        assert "outside the reference's range" in top


def test_covariate_shift_batches_raise_no_quality_alarm(adult, ref_stats):
    """A shift is drift, not a data fault: the simulator adds no duplicated rows nobody injected."""
    batches = simulate_batches(adult.test, adult.spec, [
        {"kind": "covariate_shift", "column": "age", "direction": "up"},
        {"kind": "covariate_shift", "column": "education", "categories": ["Some-college"], "factor": 3}],
        random_state=7)
    for b in batches:
        result = check_quality(None, b.data, adult.spec, reference_stats=ref_stats)
        assert _failed(result) == set(), (b.name, _failed(result))
        assert result.duplicate_share < 0.01


def test_clean_batches_raise_no_quality_alarm(adult, ref_stats, clean):
    for b in clean:
        result = check_quality(None, b.data, adult.spec, reference_stats=ref_stats)
        assert _failed(result) == set(), b.name
        assert result.findings()[0].startswith("No data-quality problem found")


def test_type_schema_constant_and_duplicate_problems(adult, ref_stats, clean):
    current = clean[0].data.copy()
    current["age"] = current["age"].astype(str) + " years"  # numbers became text upstream
    current = current.drop(columns=["education"]).rename(columns={"hours-per-week": "hours_per_week"})
    current["race"] = "White"
    current = pd.concat([current, current.iloc[:300]], ignore_index=True)  # 13% duplicated rows
    result = check_quality(None, current, adult.spec, reference_stats=ref_stats)
    failed = _failed(result)
    assert {"quality.columns", "quality.type.age", "quality.constant.race", "quality.duplicates"} <= failed
    assert result.missing_columns == ["education", "hours-per-week"]
    assert result.extra_columns == ["hours_per_week"]
    age = result.column("age")
    assert age.type_mismatch and (age.reference_dtype, age.current_dtype) == ("numeric", "text")
    assert age.examples[0].endswith(" years")
    text = " ".join(result.findings())
    assert "lacks 2 feature column(s) of the reference: 'education', 'hours-per-week'" in text
    assert "'age' holds text values in the current data where the reference had numeric values" in text
    assert "'race' holds a single value in the current data ('White')" in text
    assert result.duplicate_share == pytest.approx(300 / len(current), abs=0.01)
    # the drift report states the same problems instead of crashing on them
    drift = detect_drift(adult.train, current, adult.spec)
    assert {m["column"]: m["issue"] for m in drift.mismatches} == {
        "age": "type", "education": "missing_in_current", "hours-per-week": "missing_in_current",
        "hours_per_week": "only_in_current"}


def test_labels_absent_and_thresholds_overridable(adult, ref_stats):
    batch = simulate_batches(adult.test, adult.spec, [{"kind": "missing_values", "column": "age", "rate": 0.04}],
                             random_state=5)[0]
    unlabeled = batch.data.drop(columns=["income"])
    result = check_quality(None, unlabeled, adult.spec, reference_stats=ref_stats)
    assert result.missing_target and not result.missing_columns
    assert _failed(result) == set()  # a 4-point rise is under the default 5 points
    assert _failed(result, {"quality.missing.*": 0.02}) == {"quality.missing.age"}
    assert any("no target column" in f for f in result.findings())


def test_round_trip_shared_stats_and_errors(adult, ref_stats, clean):
    fault = simulate_batches(adult.test, adult.spec, ["unseen_categories"], random_state=6)[0]
    direct = check_quality(adult.train, fault.data, adult.spec)
    cur_stats = compute_reference_stats(fault.data, adult.spec, duplicates=True, where="the current data")
    shared = check_quality(None, None, adult.spec, reference_stats=ref_stats, current_stats=cur_stats)
    assert shared.to_dict() == direct.to_dict()
    stored = json.loads(json.dumps(direct.to_dict(), allow_nan=False))
    again = QualityResult.from_dict(stored)
    assert again.to_dict() == direct.to_dict() and again.findings() == direct.findings()
    assert [c.to_dict() for c in again.checks()] == [c.to_dict() for c in direct.checks()]
    assert set(again.figures()) == {"missing", "issues"} and "occupation" in again._repr_html_()
    # the same current statistics serve the drift analysis too
    assert detect_drift(None, None, adult.spec, reference_stats=ref_stats, current_stats=cur_stats).to_dict() == \
        detect_drift(adult.train, fault.data, adult.spec).to_dict()
    with pytest.raises(DataError, match="the current data has no rows"):
        check_quality(adult.train, adult.test.iloc[:0], adult.spec)
    infinite = clean[1].data.copy()
    infinite["capital-gain"] = infinite["capital-gain"].astype(float)
    infinite.loc[infinite.index[:100], "capital-gain"] = np.inf
    res = check_quality(None, infinite, adult.spec, reference_stats=ref_stats)
    assert res.column("capital-gain").out_of_range["infinite"] == 100
    assert "quality.range.capital-gain" in _failed(res)


def test_the_card_marks_a_problem_on_every_column_whose_check_failed(adult, ref_stats):
    """The card's "problem" column agrees with the checks (it once said "no" beside a failed missing check)."""
    import re

    faults = [{"kind": "missing_values", "column": "hours-per-week", "rate": 0.3},
              {"kind": "unseen_categories", "column": "occupation", "rate": 0.2}]
    batch = simulate_batches(adult.test, adult.spec, [{"name": "faulty", "changes": faults}], random_state=4)[0]
    result = check_quality(None, batch.data, adult.spec, reference_stats=ref_stats)
    assert _failed(result) == {"quality.missing.hours-per-week", "quality.unseen.occupation"}
    card = result._repr_html_()
    rows = {}
    for tr in re.findall(r"<tr(?: style='([^']*)')?>(.*?)</tr>", card):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", tr[1])
        if len(cells) == 7:  # the per-column table: column ... problem
            rows[cells[0]] = (cells[-1], bool(tr[0]))
    assert rows["hours-per-week"] == ("missing values", True)
    assert rows["occupation"] == ("unseen categories", True)
    assert rows["age"] == ("no", False)
