"""Drift: agreement with Evidently 0.7, injected drift found, false alarms, reuse, mismatches."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

from tests.conftest import adult_model
from workbench.data.simulate import simulate_batches
from workbench.errors import DataError, ParameterError, SpecError
from workbench.monitoring.drift import (
    STATTESTS,
    DriftResult,
    ReferenceStats,
    compute_reference_stats,
    detect_drift,
)

# Reference: Adult's train split (32,561 rows), so Evidently's defaults pick
# distances (Wasserstein, Jensen-Shannon), which do not flag ~5% of columns by
# chance as p-value tests do. Batches of 2,000 rows (the simulator's default):
# at 1,000 rows 'native-country' (41 categories) starts to cross 0.1 by chance,
# at 500 rows it does in most batches.
BATCH = 2000
EVIDENTLY_TOL = 1e-9


@pytest.fixture(scope="module")
def ref_stats(adult):
    return compute_reference_stats(adult.train, adult.spec)


@pytest.fixture(scope="module")
def batches(adult):
    """The simulator's default sequence, by name and by the kind of its (first) change."""
    out = {}
    for b in simulate_batches(adult.test, adult.spec, batch_size=BATCH, random_state=0):
        out[b.name] = b
        if b.changes:
            out.setdefault(b.changes[0].kind, b)
    return out


@pytest.fixture(scope="module")
def model(adult):
    return adult_model(adult, 4000, 1000, seed=1)


# -- agreement with Evidently ----------------------------------------------------------
def _evidently(reference, current, spec) -> tuple[dict, float]:
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    dd = DataDefinition(numerical_columns=spec.numeric, categorical_columns=spec.categorical)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        snap = Report([DataDriftPreset()], include_tests=True).run(
            Dataset.from_pandas(current, data_definition=dd),
            Dataset.from_pandas(reference, data_definition=dd),
        )
    out, share = {}, None
    for m in snap.dict()["metrics"]:
        if m["config"]["type"].endswith("ValueDrift"):
            out[m["config"]["column"]] = {"method": m["config"]["method"], "score": m["value"]}
        elif m["config"]["type"].endswith("DriftedColumnsCount"):
            share = m["value"]["share"]
    for t in snap.dict()["tests"]:
        if t["name"].startswith("Value Drift for column "):
            out[t["name"].removeprefix("Value Drift for column ")]["drifted"] = t["status"] == "FAIL"
    return out, share


@pytest.mark.parametrize("n", [800, 1040, 5000])
def test_decisions_tests_and_scores_equal_evidently(adult, n):
    """800 rows: K-S/chi-square/Z; 5,000: Wasserstein/Jensen-Shannon; 1,040: the switch falls
    inside the table (columns with missing values have fewer than 1,000 reference values)."""
    spec = adult.spec
    reference = adult.train.sample(n, random_state=0)
    drifted = {
        "name": "drifted",
        "changes": [
            {"kind": "covariate_shift", "column": "age", "strength": 0.6},
            {"kind": "covariate_shift", "column": "education"},
            {"kind": "unseen_categories", "column": "occupation", "rate": 0.2},
            {"kind": "scale_change", "column": "fnlwgt", "factor": 100},
        ],
    }
    scenarios = ["clean", drifted] if n != 1040 else ["clean"]
    tests_seen = set()
    for batch in simulate_batches(adult.test, spec, scenarios, batch_size=n, random_state=3):
        theirs, their_share = _evidently(reference, batch.data, spec)
        ours = detect_drift(reference, batch.data, spec)
        assert {c.name for c in ours.columns} == set(theirs)
        for c in ours.columns:
            e = theirs[c.name]
            assert c.stattest_name == e["method"], c.name
            assert c.drifted == e["drifted"], (c.name, c.score, e["score"])
            assert c.score == pytest.approx(e["score"], rel=EVIDENTLY_TOL, abs=1e-300), c.name
            tests_seen.add(c.stattest)
        assert ours.drift_share == pytest.approx(their_share)
        if batch.changes:
            assert {"age", "education", "occupation", "fnlwgt"} <= set(ours.drifted_columns)
    expected = {
        800: {"ks", "chisquare", "z"},
        1040: {"chisquare", "jensenshannon"},
        5000: {"wasserstein", "jensenshannon"},
    }[n]
    assert expected <= tests_seen


def _their_score(name: str, ref: pd.Series, cur: pd.Series, col_type: str) -> float:
    from evidently.legacy.calculations.stattests import get_stattest
    from evidently.legacy.core import ColumnType

    kind = ColumnType.Numerical if col_type == "numeric" else ColumnType.Categorical
    test = get_stattest(ref, cur, kind, name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return test(ref, cur, kind, None).drift_score


def test_every_stattest_equals_evidentlys_function(adult, batches):
    """Each re-implemented statistic against Evidently's own function on the same data."""
    spec = adult.spec
    reference = adult.train.sample(6000, random_state=5)
    current = batches["covariate_shift"].data.copy()
    rng = np.random.default_rng(0)
    # a continuous column and a float column with missing values: both paths of the binning
    for df in (reference, current):
        df["noise"] = rng.normal(size=len(df)) * df["hours-per-week"]
        df.loc[df.index[::7], "noise"] = np.nan
    spec2 = spec.replace(features=[*spec.features, "noise"], numeric=[*spec.numeric, "noise"])
    for name, (_, _, types) in STATTESTS.items():
        overrides = {
            c: name for c in spec2.features if ("numeric" if c in spec2.numeric else "categorical") in types
        }
        ours = detect_drift(reference, current, spec2, stattest=overrides)
        for col in overrides:
            c = ours.column(col)
            theirs = _their_score(name, reference[col].dropna(), current[col].dropna(), c.type)
            assert c.stattest == name
            assert c.score == pytest.approx(theirs, rel=EVIDENTLY_TOL, abs=1e-300), (name, col)


def test_sturges_bins_widen_for_integers_like_numpy(adult):
    """Over 2^19 integer values in a 20-wide range, numpy widens Sturges bins to 1: so do we."""
    spec = adult.spec
    ages = adult.train["age"][adult.train["age"].between(20, 40)]
    older = ages.to_numpy() - 19.0  # weights: older people drawn more often in current
    reference = pd.DataFrame({"age": ages.sample(300_000, replace=True, random_state=0).to_numpy()})
    current = pd.DataFrame(
        {"age": ages.sample(300_000, replace=True, weights=older, random_state=1).to_numpy()}
    )
    one = spec.replace(features=["age"], numeric=["age"], categorical=[], sensitive=[], target=None)
    for name in ("psi", "kl_div", "jensenshannon"):
        c = detect_drift(reference, current, one, stattest=name).column("age")
        theirs = _their_score(name, reference["age"], current["age"], "numeric")
        assert c.score == pytest.approx(theirs, rel=EVIDENTLY_TOL), name


# -- finding what was injected -----------------------------------------------------------
def test_injected_shifts_found_on_the_right_column(adult, ref_stats, batches):
    for kind in ("covariate_shift", "scale_change", "unseen_categories"):
        hits = [
            b
            for name, b in batches.items()
            if name.startswith("batch-") and any(c.kind == kind for c in b.changes)
        ]
        assert hits
        for b in hits:
            result = detect_drift(None, b.data, adult.spec, reference_stats=ref_stats)
            for col in b.manifest["drifted_columns"]:
                assert col in result.drifted_columns, (b.name, col, result.drifted_columns)
                assert any(c.name == f"drift.column.{col}" and not c.passed for c in result.checks())
                assert any(f"'{col}'" in f for f in result.findings())
    numeric_shift = detect_drift(None, batches["covariate_shift"].data, adult.spec, reference_stats=ref_stats)
    assert numeric_shift.columns[0].name == batches["covariate_shift"].manifest["drifted_columns"][0]
    scaled = detect_drift(None, batches["scale_change"].data, adult.spec, reference_stats=ref_stats)
    assert scaled.drifted_columns == ["fnlwgt"] and scaled.column("fnlwgt").psi > 1


def test_false_alarms_on_clean_batches(adult, ref_stats):
    """A false alarm: a clean batch failing drift.share or any drift.column.* check."""
    clean = simulate_batches(adult.test, adult.spec, ["clean"] * 25, batch_size=BATCH, random_state=11)
    alarms = 0
    for b in clean:
        failed = [
            c.name
            for c in detect_drift(None, b.data, adult.spec, reference_stats=ref_stats).checks()
            if not c.passed and (c.name == "drift.share" or c.name.startswith("drift.column."))
        ]
        alarms += bool(failed)
    rate = alarms / len(clean)
    print(f"false-alarm rate on {len(clean)} clean batches of {BATCH} rows: {rate:.0%}")
    assert rate <= 0.10


def test_prediction_and_target_drift_under_prior_shift(adult, model, batches):
    stats = compute_reference_stats(adult.train, adult.spec, model=model)
    shifted = detect_drift(None, batches["prior_shift"].data, adult.spec, reference_stats=stats, model=model)
    clean = detect_drift(None, batches["batch-01-clean"].data, adult.spec, reference_stats=stats, model=model)
    assert shifted.prediction.name == "prediction" and shifted.prediction.type == "numeric"
    assert shifted.prediction.drifted and not clean.prediction.drifted
    assert shifted.target.drifted and not clean.target.drifted
    assert shifted.prediction.current["mean"] > shifted.prediction.reference["mean"]
    failed = {c.name for c in shifted.checks() if not c.passed}
    assert {"drift.prediction", "drift.target"} <= failed
    assert not {"drift.prediction", "drift.target"} & {c.name for c in clean.checks() if not c.passed}
    assert any(f.startswith("The model's scores drifted") for f in shifted.findings())
    assert any("'>50K'" in f and "target" in f for f in shifted.findings())
    # labels not there yet (label-free monitoring): prediction drift still measured, no target drift
    unlabeled = batches["prior_shift"].data.drop(columns=["income"])
    res = detect_drift(None, unlabeled, adult.spec, reference_stats=stats, model=model)
    assert res.target is None and res.prediction.drifted


@pytest.mark.parametrize(
    "demo, recipe, kind, what",
    [
        ("wine", "logistic_regression", "categorical", "predicted classes"),
        ("diabetes", "ridge", "numeric", "predictions"),
    ],
)
def test_prediction_drift_multiclass_and_regression(demo, recipe, kind, what):
    """Small references (under 1,000 rows): Evidently's p-value tests on the model's output."""
    from workbench.data import load_demo
    from workbench.modeling.train import train

    d = load_demo(demo)
    model = train(d.train, d.spec, recipes=[recipe], validation=d.test, quick=True, progress=False).champion
    same = detect_drift(d.train, d.test, d.spec, model=model)
    upper = d.test.sort_values(d.spec.target).iloc[len(d.test) // 2 :]  # the higher half of the outcome
    moved = detect_drift(d.train, upper, d.spec, model=model)
    assert same.prediction.type == kind and same.prediction.stattest in ("chisquare", "ks")
    assert not same.prediction.drifted and moved.prediction.drifted and moved.target.drifted
    assert any(f.startswith(f"The model's {what} drifted") for f in moved.findings())


# -- reuse, mismatches, errors -----------------------------------------------------------
def test_reference_stats_reused_and_saved_give_identical_results(adult, ref_stats, batches, tmp_path, model):
    current = batches["covariate_shift"].data
    direct = detect_drift(adult.train, current, adult.spec).to_dict()
    assert detect_drift(None, current, adult.spec, reference_stats=ref_stats).to_dict() == direct
    path = ref_stats.save(tmp_path / "adult-train")
    assert path.suffix == ".npz"
    loaded = ReferenceStats.load(path)
    assert detect_drift(None, current, adult.spec, reference_stats=loaded).to_dict() == direct
    with_model = compute_reference_stats(adult.train, adult.spec, model=model)
    reloaded = ReferenceStats.load(with_model.save(tmp_path / "with-model.npz"))
    a = detect_drift(None, current, adult.spec, reference_stats=with_model, model=model).to_dict()
    assert detect_drift(None, current, adult.spec, reference_stats=reloaded, model=model).to_dict() == a
    # no pickle inside: numpy refuses object arrays when pickles are disallowed
    with np.load(path, allow_pickle=False) as z:
        assert all(z[k].dtype != object for k in z.files)
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(DataError, match="not a workbench statistics file"):
        ReferenceStats.load(tmp_path / "junk.npz")


def test_mismatched_columns_and_types_are_reported(adult, ref_stats, batches):
    current = batches["batch-01-clean"].data.copy()
    current = current.drop(columns=["education"])
    current["hours-per-week"] = current["hours-per-week"].astype(str) + " h"
    current["capital-loss"] = np.nan  # every value missing
    current["new_field"] = 1
    result = detect_drift(None, current, adult.spec, reference_stats=ref_stats)
    issues = {m["column"]: m["issue"] for m in result.mismatches}
    assert issues == {
        "education": "missing_in_current",
        "hours-per-week": "type",
        "new_field": "only_in_current",
    }
    assert {c.name for c in result.columns} == set(adult.spec.features) - {"education", "hours-per-week"}
    gone = result.column("capital-loss")
    assert gone.drifted and gone.score is None and gone.stattest == "all_missing"
    assert result.columns[0].name == "capital-loss"  # counted as drifted, ranked first
    assert result.drift_share == pytest.approx(1 / 12)
    assert not next(c for c in result.checks() if c.name == "drift.column.capital-loss").passed
    text = " ".join(result.findings())
    assert "'hours-per-week' holds numeric values in the reference but text values in current" in text
    assert "'education' is missing from the current data" in text
    json.dumps(result.to_dict(), allow_nan=False)


def test_bad_input_is_one_clear_sentence(adult, ref_stats):
    for current in (adult.test.iloc[:0], adult.test.iloc[:0, :3]):
        with pytest.raises(DataError) as err:
            detect_drift(adult.train, current, adult.spec)
        assert "no rows" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(DataError, match="reference data or its statistics"):
        detect_drift(None, adult.test, adult.spec)
    with pytest.raises(ParameterError, match="unknown drift test 'anderson'"):
        detect_drift(None, adult.test, adult.spec, reference_stats=ref_stats, stattest="anderson")
    with pytest.raises(SpecError, match="does not apply to the numeric column 'age'"):
        detect_drift(None, adult.test, adult.spec, reference_stats=ref_stats, stattest={"age": "chisquare"})
    with pytest.raises(SpecError, match="not a feature"):
        detect_drift(None, adult.test, adult.spec, reference_stats=ref_stats, columns=["salary"])


def test_overrides_and_checks_config(adult, ref_stats, batches):
    current = batches["covariate_shift"].data
    res = detect_drift(
        None,
        current,
        adult.spec,
        reference_stats=ref_stats,
        stattest="psi",
        threshold={"age": 5.0},
        columns=["age", "sex", "fnlwgt"],
    )
    assert {c.stattest for c in res.columns} == {"psi"}
    assert res.column("age").threshold == 5.0 and not res.column("age").drifted
    only_numeric = detect_drift(None, current, adult.spec, reference_stats=ref_stats, stattest="ks")
    assert {c.stattest for c in only_numeric.columns if c.type == "numeric"} == {"ks"}
    assert {c.stattest for c in only_numeric.columns if c.type == "categorical"} == {"jensenshannon"}
    default = detect_drift(None, current, adult.spec, reference_stats=ref_stats)
    names = {c.name: c for c in default.checks()}
    assert not names["drift.column.age"].passed and names["drift.share"].passed
    relaxed = {c.name: c for c in default.checks({"drift.column.*": False, "drift.share": 0.01})}
    assert not any(n.startswith("drift.column.") for n in relaxed)
    assert not relaxed["drift.share"].passed


def test_round_trip_and_faces(adult, ref_stats, batches):
    result = detect_drift(None, batches["covariate_shift"].data, adult.spec, reference_stats=ref_stats)
    stored = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    again = DriftResult.from_dict(stored)
    assert again.to_dict() == result.to_dict()
    assert [c.to_dict() for c in again.checks()] == [c.to_dict() for c in result.checks()]
    assert again.findings() == result.findings()
    figs = again.figures()
    assert {"scores", "distributions", "psi"} <= set(figs)
    assert "age" in again._repr_html_()
    first = result.findings()[0]
    assert (
        first.startswith(f"{len(result.drifted_columns)} of 14 columns drifted")
        and "50% dataset-drift line" in first
    )
    assert (
        result.drifted_columns
        and list(result.table()["column"])[: len(result.drifted_columns)] == result.drifted_columns
    )  # most drifted first


def test_stored_results_render_without_heavy_libraries(adult, ref_stats, batches, tmp_path):
    from workbench.monitoring.quality import check_quality

    cur = batches["unseen_categories"].data
    (tmp_path / "drift.json").write_text(
        json.dumps(detect_drift(None, cur, adult.spec, reference_stats=ref_stats).to_dict())
    )
    (tmp_path / "quality.json").write_text(json.dumps(check_quality(adult.train, cur, adult.spec).to_dict()))
    code = f"""
import json, sys
from pathlib import Path
from workbench.monitoring.drift import DriftResult
from workbench.monitoring.quality import QualityResult
for cls, name in ((DriftResult, "drift"), (QualityResult, "quality")):
    r = cls.from_dict(json.loads(Path({str(tmp_path)!r}, name + ".json").read_text()))
    r.figures(); r.findings(); r.checks(); r._repr_html_()
heavy = sorted(m for m in ("evidently", "scipy", "sklearn") if m in sys.modules)
print(",".join(heavy))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""
