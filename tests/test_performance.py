"""Performance monitoring: measured metrics with labels, the confidence-based estimate without.

The acceptance criteria run on real Adult data: the model is the quick
champion trained on 4,000 training rows; the estimator is calibrated on 8,000
other training rows (the reference period); production batches are drawn from
Adult's test split by the simulator with known, injected shifts.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from workbench.errors import DataError, WorkbenchError
from workbench.monitoring._performance_estimate import _expected_auc
from workbench.monitoring.performance import (
    PerformanceEstimator,
    PerformanceResult,
    assess_performance,
    fit_estimator,
)

BATCH = 3000
# shifts of the inputs only (P(y|x) unchanged): what a confidence-based estimate can follow
COVARIATE_SHIFTS = {
    "husbands x6": {
        "kind": "covariate_shift",
        "column": "relationship",
        "categories": ["Husband"],
        "factor": 6.0,
    },
    "married x5": {
        "kind": "covariate_shift",
        "column": "marital-status",
        "categories": ["Married-civ-spouse"],
        "factor": 5.0,
    },
    "never married x6": {
        "kind": "covariate_shift",
        "column": "marital-status",
        "categories": ["Never-married"],
        "factor": 6.0,
    },
    "younger": {"kind": "covariate_shift", "column": "age", "direction": "down", "strength": 1.5},
}
OTHER = {
    "clean 1": "clean",
    "clean 2": "clean",
    "prior shift to 60% positive": {"kind": "prior_shift", "rate": 0.6},
    "concept drift": {"kind": "concept_drift", "fraction": 0.5},
}


@pytest.fixture(scope="module")
def model(adult_models):
    return adult_models.champion


@pytest.fixture(scope="module")
def reference(adult_reference):
    """Labelled rows of the training split the model never saw: the reference period."""
    return adult_reference


@pytest.fixture(scope="module")
def estimator(reference, model):
    return fit_estimator(reference, model)


@pytest.fixture(scope="module")
def batches(adult):
    from workbench.data.simulate import simulate_batches

    named = {**OTHER, **COVARIATE_SHIFTS}
    scenarios = [{"name": k, **v} if isinstance(v, dict) else v for k, v in named.items()]
    out = simulate_batches(adult.test, adult.spec, scenarios, batch_size=BATCH, random_state=0)
    return dict(zip(named, out, strict=True))


def _true_accuracy(model, data) -> float:
    y = (data[model.spec.target] == model.spec.positive_label).to_numpy()
    return float(np.mean((model.predict_score(data) >= model.threshold) == y))


def _unlabelled(data, spec):
    return data.drop(columns=[spec.target])


# -- the acceptance criteria -------------------------------------------------------------
@pytest.mark.parametrize("shift", list(COVARIATE_SHIFTS))
def test_estimate_follows_covariate_shift_and_beats_naive(shift, batches, model, estimator, adult):
    batch = batches[shift]
    truth = _true_accuracy(model, batch.data)
    ref = estimator.reference["accuracy"]
    assert abs(truth - ref) >= 0.05, f"the shift moved true accuracy by only {truth - ref:+.3f}"

    result = assess_performance(
        _unlabelled(batch.data, adult.spec), model, reference_stats=estimator, period=batch.period
    )
    assert result.actual is None and result.calibrated
    error, naive = abs(result.estimated["accuracy"] - truth), abs(ref - truth)
    assert error <= 0.03, f"{shift}: estimate {result.estimated['accuracy']:.3f} vs true {truth:.3f}"
    assert error < naive
    # the estimate moves the same way as the truth, and the check says so when it drops
    check = {c.name: c for c in result.checks()}["performance.estimated_accuracy_drop"]
    assert check.passed == (ref - result.estimated["accuracy"] <= 0.02)
    assert (result.estimated["accuracy"] < ref) == (truth < ref)


@pytest.mark.parametrize("name", ["clean 1", "clean 2"])
def test_clean_batches_estimate_within_tolerance(name, batches, model, estimator, adult):
    batch = batches[name]
    truth = _true_accuracy(model, batch.data)
    result = assess_performance(_unlabelled(batch.data, adult.spec), model, reference_stats=estimator)
    assert abs(result.estimated["accuracy"] - truth) <= 0.03
    assert all(c.passed for c in result.checks())


def test_prior_shift_estimate_moves_but_only_partly(batches, model, estimator, adult):
    """A higher outcome rate changes P(y|x) itself: the estimate sees the drop, not all of it."""
    batch = batches["prior shift to 60% positive"]
    truth, ref = _true_accuracy(model, batch.data), estimator.reference["accuracy"]
    assert ref - truth >= 0.05
    result = assess_performance(_unlabelled(batch.data, adult.spec), model, reference_stats=estimator)
    est = result.estimated["accuracy"]
    assert abs(est - truth) < abs(ref - truth)
    assert not {c.name: c for c in result.checks()}["performance.estimated_accuracy_drop"].passed
    assert result.estimated["base_rate"] > estimator.reference["base_rate"] + 0.1
    assert any("expects" in f and "'>50K'" in f for f in result.findings())


def test_concept_drift_is_invisible_to_the_estimate(batches, model, estimator, reference, adult):
    """Labels change, features do not: the estimate stays put, the measurement drops."""
    batch = batches["concept drift"]
    ref = estimator.reference["accuracy"]
    truth = _true_accuracy(model, batch.data)
    assert ref - truth >= 0.04

    blind = assess_performance(_unlabelled(batch.data, adult.spec), model, reference_stats=estimator)
    assert abs(blind.estimated["accuracy"] - ref) <= 0.02
    assert all(c.passed for c in blind.checks())
    assert any("concept drift" in f for f in blind.findings())

    measured = assess_performance(batch.data, model, reference=reference)
    assert measured.actual["accuracy"] == pytest.approx(truth)
    assert measured.estimated["accuracy"] == pytest.approx(blind.estimated["accuracy"])
    checks = {c.name: c for c in measured.checks()}
    assert not checks["performance.accuracy_drop"].passed
    assert "performance.estimated_accuracy_drop" not in checks  # the measurement supersedes the estimate
    assert measured.estimate_error()["accuracy"] > 0.03
    first = measured.findings()[0]
    assert first.startswith("actual accuracy") and "above the 0.02 tolerance" in first
    assert any("the estimate was" in f and "concept drift" in f for f in measured.findings())


# -- the labelled path ---------------------------------------------------------------------
def test_labelled_numbers_equal_evaluate(batches, model, reference):
    from workbench.modeling.evaluate import evaluate

    batch = batches["husbands x6"]
    result = assess_performance(batch.data, model, reference=reference)
    ev = evaluate(model, batch.data, latency=False, slices=[])
    assert result.labelled and result.n_labelled == len(batch.data)
    for k, v in result.actual.items():
        assert v == ev.metrics[k], k
    assert result.actual_confusion == ev.confusion
    ev_ref = evaluate(model, reference, latency=False, slices=[])
    for k, v in result.reference.items():
        assert v == ev_ref.metrics[k], k
    assert result.reference_source.startswith("reference data (8,000 rows)")
    assert {c.name for c in result.checks()} == {"performance.accuracy_drop", "performance.roc_auc_drop"}
    assert any(
        f.startswith("actual accuracy") and "measured now that labels arrived; the estimate was" in f
        for f in result.findings()
    )


def test_partly_labelled_batch_measures_labelled_rows(batches, model, estimator, adult):
    data = batches["clean 1"].data.copy()
    data.loc[data.index[:1000], adult.spec.target] = None
    result = assess_performance(data, model, reference_stats=estimator)
    assert result.n_labelled == 2000 and result.n_rows == 3000
    assert result.actual["accuracy"] == pytest.approx(_true_accuracy(model, data.iloc[1000:]))
    assert any("2,000 of 3,000 rows" in f for f in result.findings())


def test_empty_target_column_counts_as_unlabelled(batches, model, estimator, adult):
    data = batches["clean 1"].data.copy()
    data[adult.spec.target] = None
    result = assess_performance(data, model, reference_stats=estimator)
    assert result.actual is None and result.n_labelled == 0
    assert {c.name for c in result.checks()} == {
        "performance.estimated_accuracy_drop",
        "performance.estimated_roc_auc_drop",
        "performance.estimate_reliable",
    }


# -- the estimator ------------------------------------------------------------------------
def test_estimator_round_trip_reproduces_estimates_exactly(estimator, batches, model, adult):
    current = _unlabelled(batches["married x5"].data, adult.spec)
    stored = json.loads(json.dumps(estimator.to_dict()))
    again = PerformanceEstimator.from_dict(stored)
    assert again.to_dict() == estimator.to_dict()
    assert again.estimate(current, model) == estimator.estimate(current, model)
    a = assess_performance(current, model, reference_stats=estimator)
    b = assess_performance(current, model, reference_stats=stored)
    assert a.to_dict() == b.to_dict()
    assert len(estimator.calibrators) == 1 and len(estimator.calibrators[0]["x"]) >= 2


def test_estimator_applies_isotonic_like_scikit_learn(estimator, reference, model):
    from sklearn.isotonic import IsotonicRegression

    score = model.predict_score(reference)
    y = (reference[model.spec.target] == model.spec.positive_label).to_numpy()
    iso = IsotonicRegression(y_min=0, y_max=1, out_of_bounds="clip").fit(score, y)
    probe = np.linspace(-0.1, 1.1, 301)
    proba = (
        np.column_stack([1 - probe, probe])
        if model.positive_index == 1
        else np.column_stack([probe, 1 - probe])
    )
    ours = estimator.calibrate(proba)[:, model.positive_index]
    np.testing.assert_allclose(ours, iso.predict(probe), atol=1e-12)


def test_expected_metrics_are_the_real_ones_when_probabilities_are_certain():
    """With p equal to the true labels the expected confusion matrix is the real one."""
    from sklearn.metrics import roc_auc_score

    from workbench.monitoring._performance_estimate import _estimate

    rng = np.random.default_rng(0)
    score = np.round(rng.random(500), 2)  # ties on purpose
    y = (rng.random(500) < score).astype(float)
    assert _expected_auc(score, y) == pytest.approx(roc_auc_score(y, score))
    # and in general: the AUC of a sample where each row is positive with weight p, negative with 1 - p
    p = rng.random(500)
    weighted = roc_auc_score(
        np.r_[np.ones(500), np.zeros(500)], np.r_[score, score], sample_weight=np.r_[p, 1 - p]
    )
    assert _expected_auc(score, p) == pytest.approx(weighted)
    est = PerformanceEstimator("m", "binary", [0, 1], 1, 0.5, "none")
    out = _estimate(est, np.column_stack([1 - y, y]), 0.5)
    assert out["metrics"]["accuracy"] == 1.0 and out["metrics"]["roc_auc"] == 1.0
    out = _estimate(est, np.column_stack([1 - score, score]), 0.5)
    # uncalibrated: each row's expected correctness is its confidence in the predicted class
    assert out["metrics"]["accuracy"] == pytest.approx(np.mean(np.where(score >= 0.5, score, 1 - score)))
    assert sum(map(sum, out["confusion"])) == pytest.approx(500)


# -- bad input and other tasks ------------------------------------------------------------
def test_missing_features_name_them(batches, model, reference, estimator):
    current = batches["clean 1"].data.drop(columns=["age", "education-num"])
    with pytest.raises(DataError, match=r"'age', 'education-num' are missing from the current data"):
        assess_performance(current, model, reference_stats=estimator)
    with pytest.raises(DataError, match=r"'occupation' is missing from the reference data"):
        fit_estimator(reference.drop(columns=["occupation"]), model)


def test_refusals_are_one_clear_sentence(batches, model, reference, estimator, adult):
    current = _unlabelled(batches["clean 1"].data, adult.spec)
    with pytest.raises(WorkbenchError, match="not both"):
        assess_performance(current, model, reference=reference, reference_stats=estimator)
    with pytest.raises(WorkbenchError, match="unknown calibration 'platt'"):
        assess_performance(current, model, reference=reference, calibration="platt")
    with pytest.raises(DataError, match="has no rows"):
        assess_performance(current.iloc[:0], model, reference_stats=estimator)
    with pytest.raises(DataError, match="target column 'income' is missing from the reference data"):
        fit_estimator(_unlabelled(reference, adult.spec), model)
    other = PerformanceEstimator.from_dict({**estimator.to_dict(), "task": "multiclass"})
    with pytest.raises(WorkbenchError, match="fitted for another model"):
        assess_performance(current, model, reference_stats=other)


def test_without_labelled_reference_the_estimate_is_uncalibrated(batches, model, reference, adult):
    current = _unlabelled(batches["clean 1"].data, adult.spec)
    result = assess_performance(current, model)
    assert result.calibration == "none" and not result.calibrated
    assert result.reference["accuracy"] == model.meta["metrics"]["accuracy"]
    assert result.reference_source == "the model's validation metrics"
    assert result.findings()[0].startswith("the estimate is uncalibrated")
    unlabelled_ref = assess_performance(current, model, reference=_unlabelled(reference, adult.spec))
    assert not unlabelled_ref.calibrated
    assert any("could not calibrate" in f for f in unlabelled_ref.findings())


def test_regression_says_plainly_that_it_needs_labels(adult):
    from workbench.data import infer_spec
    from workbench.modeling.train import train

    df = adult.train.sample(6000, random_state=5).drop(columns=["income"])
    spec = infer_spec(df, target="hours-per-week")
    assert spec.task == "regression"
    fit, ref, cur = df.iloc[:2500], df.iloc[2500:4500], df.iloc[4500:]
    reg = train(fit, spec, recipes=["ridge"], quick=True, progress=False).champion

    blind = assess_performance(cur.drop(columns=["hours-per-week"]), reg, reference=ref)
    assert blind.estimated is None and blind.actual is None
    assert blind.findings()[0].startswith("a label-free performance estimate isn't available for regression")
    (check,) = blind.checks()
    assert check.name == "performance.rmse_increase" and check.passed and check.value is None

    measured = assess_performance(cur, reg, reference=ref)
    from workbench.metrics import regression_metrics

    truth = regression_metrics(cur["hours-per-week"].to_numpy(float), reg.predict(cur))
    assert measured.actual["rmse"] == truth["rmse"]
    (check,) = measured.checks({"performance.rmse_increase": 0.5})
    assert (
        check.value == pytest.approx(truth["rmse"] / measured.reference["rmse"] - 1)
        and check.threshold == 0.5
    )
    assert measured.findings()[0].startswith("actual RMSE")
    d = json.loads(json.dumps(measured.to_dict()))
    assert PerformanceResult.from_dict(d).to_dict() == d
    assert set(measured.figures()) == {"metrics"}


def test_multiclass_estimate_is_close_to_the_truth(adult):
    from workbench.data import infer_spec
    from workbench.modeling.evaluate import evaluate
    from workbench.modeling.train import train

    df = adult.train.sample(9000, random_state=6)
    spec = infer_spec(df, target="relationship")
    assert spec.task == "multiclass"
    clf = train(df.iloc[:3000], spec, recipes=["logistic_regression"], quick=True, progress=False).champion
    ref, cur = df.iloc[3000:6000], df.iloc[6000:]
    result = assess_performance(cur.drop(columns=["relationship"]), clf, reference=ref)
    truth = evaluate(clf, cur, latency=False, slices=[]).metrics
    assert abs(result.estimated["accuracy"] - truth["accuracy"]) <= 0.03
    assert abs(result.estimated["roc_auc"] - truth["roc_auc"]) <= 0.03
    k = len(spec.classes)
    assert len(result.expected_confusion) == k and sum(map(sum, result.expected_confusion)) == pytest.approx(
        len(cur)
    )
    assert len(result.calibration_curve["maps"]) == k
    d = json.loads(json.dumps(result.to_dict()))
    assert PerformanceResult.from_dict(d).to_dict() == d


# -- the result object ---------------------------------------------------------------------
def test_result_round_trip_and_faces(batches, model, reference, adult):
    batch = batches["husbands x6"]
    result = assess_performance(batch.data, model, reference=reference, period="2026-11-03")
    d = result.to_dict()
    text = json.dumps(d, allow_nan=False)
    assert len(text) < 30_000  # aggregates only, no rows
    again = PerformanceResult.from_dict(json.loads(text))
    assert again.to_dict() == d and again.period == "2026-11-03"
    assert d["estimated"]["accuracy"] == result.estimated["accuracy"] and d["actual"]["accuracy"] is not None
    assert d["key_metrics"] == {
        "period": "2026-11-03",
        "estimated_accuracy": result.estimated["accuracy"],
        "accuracy": result.actual["accuracy"],
        "reference_accuracy": result.reference["accuracy"],
        "estimated_roc_auc": result.estimated["roc_auc"],
        "roc_auc": result.actual["roc_auc"],
        "reference_roc_auc": result.reference["roc_auc"],
        "estimated_accuracy_low": result.intervals["accuracy"][0],
        "estimated_accuracy_high": result.intervals["accuracy"][1],
        "estimate_uncovered_share": result.uncovered_share,
        "estimate_reliable": 1.0,
    }
    figs = again.figures()
    assert set(figs) == {"metrics", "expected_confusion", "actual_confusion", "calibration"}
    assert again.figure() is not None
    bars = {t.name: t for t in figs["metrics"].data}
    assert list(bars["estimated (no labels)"].x)[:2] == ["accuracy", "roc_auc"]
    assert np.sum(figs["expected_confusion"].data[0].z) == pytest.approx(len(batch.data))
    html = again._repr_html_()
    assert "performance.accuracy_drop" in html and "Performance of" in html
    assert again.checks() == result.checks() and again.findings() == result.findings()


def test_checks_follow_config(batches, model, estimator, adult):
    result = assess_performance(
        _unlabelled(batches["husbands x6"].data, adult.spec), model, reference_stats=estimator
    )
    default = {c.name: c for c in result.checks()}
    assert not default["performance.estimated_accuracy_drop"].passed
    assert default["performance.estimated_accuracy_drop"].threshold == 0.02
    loose = {c.name: c for c in result.checks({"performance.estimated_accuracy_drop": 0.2})}
    assert loose["performance.estimated_accuracy_drop"].passed
    assert result.checks({"performance.*": False}) == []
    assert any("above the 0.02 tolerance" in f for f in result.findings())
    assert not any("above the" in f for f in result.findings({"performance.*": 0.5}))


def test_trend_figure_and_control_limits(batches, model, estimator, adult):
    from workbench.viz.performance import control_limits, performance_trend_figure

    rows = []
    for name in ["clean 1", "clean 2", "younger", "husbands x6"]:
        b = batches[name]
        data = b.data if name == "clean 1" else _unlabelled(b.data, adult.spec)
        rows.append(assess_performance(data, model, reference_stats=estimator, period=b.period).trend_row())
    tol = control_limits(rows)
    assert tol["center"] == estimator.reference["accuracy"]
    assert tol["lower"] == pytest.approx(tol["center"] - 0.02)
    base = control_limits(rows, baseline=2)
    vals = [rows[0]["accuracy"], rows[1]["estimated_accuracy"]]
    assert base["center"] == pytest.approx(np.mean(vals))
    assert base["upper"] - base["center"] == pytest.approx(3 * np.std(vals, ddof=1))
    fig = performance_trend_figure(rows, tolerance=0.02)
    est = next(t for t in fig.data if t.name == "estimated (no labels)")
    colors = list(est.marker.color)
    assert colors[3] == "#d62728" and colors[0] != "#d62728"  # the dropped batch is flagged
    assert performance_trend_figure([]).layout.annotations  # an empty ledger draws, says so


def test_rendering_stored_results_imports_no_heavy_library(batches, model, reference, tmp_path):
    stored = assess_performance(batches["younger"].data, model, reference=reference, period="2026-11-05")
    path = tmp_path / "summary.json"
    path.write_text(json.dumps(stored.to_dict()))
    code = f"""
import json, sys
from workbench.monitoring.performance import PerformanceResult
from workbench.viz.performance import performance_trend_figure
r = PerformanceResult.from_dict(json.loads(open({str(path)!r}).read()))
r.figures(); r.findings(); r.checks(); r._repr_html_()
performance_trend_figure([r.trend_row()])
print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & {{'sklearn', 'scipy'}})))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


# -- an estimate that knows when not to be trusted ---------------------------------------------------
# shifts into regions the reference barely covers: older people working (or earning) far more
OUTSIDE = {
    "older, long hours": {
        "changes": [
            {"kind": "covariate_shift", "column": "age", "direction": "up", "strength": 2.5},
            {"kind": "covariate_shift", "column": "hours-per-week", "direction": "up", "strength": 2.5},
        ]
    },
    "older, capital gains": {
        "changes": [
            {"kind": "covariate_shift", "column": "age", "direction": "up", "strength": 2.0},
            {"kind": "covariate_shift", "column": "capital-gain", "direction": "up", "strength": 2.0},
        ]
    },
}


@pytest.fixture(scope="module")
def outside(adult):
    from workbench.data.simulate import simulate_batches

    scenarios = [{"name": k, **v} for k, v in OUTSIDE.items()]
    out = simulate_batches(adult.test, adult.spec, scenarios, batch_size=BATCH, random_state=1)
    return dict(zip(OUTSIDE, out, strict=True))


@pytest.mark.parametrize("name", list(OUTSIDE))
def test_a_batch_outside_the_reference_is_marked_unreliable(name, outside, model, estimator, adult):
    batch = outside[name]
    result = assess_performance(_unlabelled(batch.data, adult.spec), model, reference_stats=estimator)
    assert result.uncovered_share > 0.3 and result.reliability["support"]["auc"] > 0.9
    assert result.estimate_reliable() is False
    check = {c.name: c for c in result.checks()}["performance.estimate_reliable"]
    assert not check.passed and check.severity == "error"
    assert "UNRELIABLE" in result.findings()[0] and "UNRELIABLE" in result._repr_html_()
    assert result.key_metrics()["estimate_reliable"] == 0.0
    # a loose enough threshold trusts it again: the threshold is the check's, as configured
    assert result.estimate_reliable({"performance.estimate_reliable": 0.99}) is True


@pytest.mark.parametrize("name", ["clean 1", "clean 2", *COVARIATE_SHIFTS])
def test_in_distribution_and_reweighted_batches_stay_reliable(name, batches, model, estimator, adult):
    """Re-weighting regions the reference covers is what CBPE follows: no alarm there."""
    result = assess_performance(_unlabelled(batches[name].data, adult.spec), model, reference_stats=estimator)
    assert result.uncovered_share <= 0.05
    assert result.estimate_reliable() is True
    assert {c.name: c for c in result.checks()}["performance.estimate_reliable"].passed
    low, high = result.intervals["accuracy"]
    assert low <= result.estimated["accuracy"] <= high and high - low < 0.05


@pytest.mark.parametrize("name", ["clean 1", "clean 2"])
def test_the_interval_holds_the_truth_on_clean_batches(name, batches, model, estimator, adult):
    result = assess_performance(_unlabelled(batches[name].data, adult.spec), model, reference_stats=estimator)
    low, high = result.intervals["accuracy"]
    assert low <= _true_accuracy(model, batches[name].data) <= high


def test_the_training_data_as_reference_is_flagged(batches, model, adult_small, adult):
    training = adult_small[0]  # what the fixture model was trained on (its meta.json fingerprint)
    result = assess_performance(_unlabelled(batches["clean 1"].data, adult.spec), model, reference=training)
    assert result.training_reference is True and result.estimate_reliable() is False
    check = {c.name: c for c in result.checks()}["performance.estimate_reliable"]
    assert not check.passed and "training data" in check.message
    assert "training data" in result.findings()[0]
    fitted = fit_estimator(training, model)
    assert fitted.training_reference is True
    current = _unlabelled(batches["clean 1"].data, adult.spec)
    assert assess_performance(current, model, reference_stats=fitted).estimate_reliable() is False
    # any other table is not the training data
    other = assess_performance(batches["clean 1"].data, model, reference=training.iloc[1:])
    assert other.training_reference is False


def test_unreliable_estimates_are_marked_in_the_trend(outside, batches, model, estimator, adult):
    from workbench.dashboards.trends import accuracy_figure, unreliable_estimate

    runs = []
    for i, batch in enumerate([batches["clean 1"], outside["older, long hours"]]):
        result = assess_performance(_unlabelled(batch.data, adult.spec), model, reference_stats=estimator)
        checks = [c.to_dict() for c in result.checks()]
        runs.append(
            {
                "id": f"run-{i}",
                "kind": "drift",
                "name": None,
                "status": "passed" if all(c["passed"] for c in checks) else "checks_failed",
                "period_label": batch.period,
                "started_at": None,
                "model": "model.wbm",
                "metrics": result.key_metrics(),
                "checks": checks,
                "failed_errors": [c["name"] for c in checks if not c["passed"]],
            }
        )
    assert [unreliable_estimate(r) for r in runs] == [False, True]
    fig = accuracy_figure(runs)
    est = next(t for t in fig.data if t.name == "estimated (no labels)")
    assert list(est.marker.symbol) == ["circle", "x-open"]
    assert est.error_y.array is not None and est.error_y.array[0] > 0  # the interval is drawn
    assert any(t.name.startswith("estimate unreliable") for t in fig.data)


def test_a_result_stored_before_reliability_reads_as_unknown(batches, model, estimator, adult):
    from workbench.results import result_from_entry

    d = assess_performance(_unlabelled(batches["clean 1"].data, adult.spec), model, reference_stats=estimator)
    old = {k: v for k, v in d.to_dict().items() if k not in ("reliability", "intervals")}
    added = {"estimated_accuracy_low", "estimated_accuracy_high"}
    added |= {"estimate_uncovered_share", "estimate_reliable"}
    old["key_metrics"] = {k: v for k, v in old["key_metrics"].items() if k not in added}
    again = result_from_entry({"kind": "performance", "data": old})
    assert again.reliability is None and again.estimate_reliable() is None
    assert "performance.estimate_reliable" not in {c.name for c in again.checks()}
    assert again.to_dict() == old  # the schema-1 shape, read and written
