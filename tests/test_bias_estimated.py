"""Fairness before labels arrive: per-group confusion matrices expected from calibrated probabilities.

Validated on simulated Adult batches (the model: the quick champion of the shared fixture; the
reference: 8,000 labelled training rows it never saw). Half the batches are clean, half carry a
bias shift (women's rows redrawn towards lower-scoring profiles: who comes changes, P(y|x) does
not, which is what a label-free estimate can follow). Each batch is scored twice: without its
labels (the estimate and its 90% interval) and with them (the truth).

The coverage floor: the interval is nominally 90% and covers the calibration maps' noise and the
labels' own randomness, but not the calibration's bias where a group's mix changes (calibration on
the score alone need not transfer to a new mix of profiles with the same score). Measured on these
40 seeded batches it covers the true equalized-odds difference in 72.5% of them and the
equal-opportunity difference in 70% (with a 6,000-row reference: 77.5% and 80%); the floor of 65%
sits below that (room for numerical changes across library versions) and fails if the intervals
lose their calibration part or the estimate drifts off.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from workbench.monitoring.bias import BiasResult, assess_bias

N_BATCHES, BATCH, LEVEL_FLOOR = 40, 2000, 0.65
GAPS = ("equalized_odds_difference", "equal_opportunity_difference")
SHIFT = {"name": "bias", "kind": "bias_shift", "sensitive": "sex", "mode": "features", "strength": 0.5}


@pytest.fixture(scope="module")
def model(adult_models):
    return adult_models.champion


def _truth(model, data, spec) -> dict:
    """Measured TPR/FPR per sex and the two gaps, straight from the labels."""
    y = (data[spec.target] == spec.positive_label).to_numpy()
    pred = model.predict_score(data) >= model.threshold
    rates = {}
    for g in ("Female", "Male"):
        m = (data["sex"] == g).to_numpy()
        rates[g] = (pred[m & y].mean(), pred[m & ~y].mean())
    tpr_gap = abs(rates["Female"][0] - rates["Male"][0])
    fpr_gap = abs(rates["Female"][1] - rates["Male"][1])
    return {"equal_opportunity_difference": tpr_gap, "equalized_odds_difference": max(tpr_gap, fpr_gap)}


@pytest.fixture(scope="module")
def validation(adult, model, adult_reference):
    from workbench.data.simulate import simulate_batches

    scenarios = ["clean" if i % 2 == 0 else SHIFT for i in range(N_BATCHES)]
    batches = simulate_batches(adult.test, adult.spec, scenarios, batch_size=BATCH, random_state=11)
    rows = []
    for b in batches:
        result = assess_bias(
            b.data.drop(columns=adult.spec.target),
            adult.spec,
            model=model,
            sensitive=["sex"],
            intersections=False,
            reference=adult_reference,
            n_bootstrap=0,
        )
        est = result.estimated
        rows.append(
            {
                "shifted": bool(b.changes),
                "replace": b.replace,
                "truth": _truth(model, b.data, adult.spec),
                "estimate": {m: est.disparity(m, "sex") for m in GAPS},
            }
        )
    coverage = {
        m: float(
            np.mean([r["estimate"][m]["ci"][0] <= r["truth"][m] <= r["estimate"][m]["ci"][1] for r in rows])
        )
        for m in GAPS
    }
    print(f"coverage of the 90% interval over {N_BATCHES} batches: {coverage}")
    return rows, coverage


def test_the_interval_covers_the_truth_in_most_batches(validation):
    rows, coverage = validation
    assert not any(r["replace"] for r in rows), "a batch drew rows twice: its truth is not independent rows"
    for m in GAPS:
        assert coverage[m] >= LEVEL_FLOOR, f"{m}: the 90% interval covered the truth in {coverage[m]:.0%}"


def test_the_estimate_moves_with_the_truth(validation):
    rows, _ = validation
    for m in GAPS:
        truth = np.array([r["truth"][m] for r in rows])
        est = np.array([r["estimate"][m]["value"] for r in rows])
        assert np.corrcoef(truth, est)[0, 1] > 0.3, m  # batch to batch, the estimate follows the truth
        assert abs(np.mean(est - truth)) < 0.06, m  # and is not far off on average


def test_an_unlabelled_batch_gets_the_estimate_its_checks_and_its_figures(adult, model, adult_reference):
    current = adult.test.sample(2000, random_state=4).drop(columns=adult.spec.target)
    result = assess_bias(current, adult.spec, model=model, reference=adult_reference, n_bootstrap=20)
    est = result.estimated
    assert est is not None and est.available
    sex = est.attribute("sex")
    assert {g["group"] for g in sex["groups"]} == {"Female", "Male"}
    for g in sex["groups"]:
        assert g["calibration"] == "group"  # each sex is large enough for its own calibration map
        for r in ("tpr", "fpr", "precision", "accuracy"):
            low, high = g[f"{r}_ci"]
            assert 0 <= low <= g[r] <= high <= 1
    d = est.disparity("equalized_odds_difference", "sex")
    assert d["reference"] == result.reference.disparity("equalized_odds_difference", "sex")
    assert d["change"] == pytest.approx(d["value"] - d["reference"])
    names = {c.name for c in result.checks()}
    assert {f"bias.estimated.{m}.sex.worsened" for m in GAPS} <= names
    assert {f"bias.estimated.{m}.sex+race.worsened" for m in GAPS} <= names
    metrics = result.key_metrics()
    assert metrics["bias.estimated.equalized_odds_difference.sex"] == d["value"]
    assert metrics["bias.estimated.equalized_odds_difference.sex.low"] == d["ci"][0]
    assert "estimated_error_rates.sex" in result.figures()
    assert any("estimated from the model's probabilities" in f for f in result.findings())
    assert "Estimated without labels" in result._repr_html_()
    again = BiasResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert again.to_dict() == result.to_dict() and again.checks() == result.checks()


def test_the_check_names_are_known_to_the_gate():
    from workbench.checks._names import validate_patterns

    names = ["bias.estimated.equalized_odds_difference.sex.worsened", "bias.estimated.*"]
    assert validate_patterns(names, kind="bias", attributes=["sex"]) == names


def test_labelled_batches_are_measured_not_estimated(adult, model, adult_reference):
    result = assess_bias(
        adult.test.sample(1000, random_state=5), adult.spec, model=model, reference=adult_reference
    )
    assert result.estimated is None and "estimated" not in result.to_dict()
    assert not any(c.name.startswith("bias.estimated.") for c in result.checks())


@pytest.mark.parametrize(
    "case", ["predictions only", "no reference", "stored reference", "unlabelled reference"]
)
def test_without_calibrated_probabilities_it_says_so_and_does_not_guess(case, adult, model, adult_reference):
    current = adult.test.sample(1000, random_state=6).drop(columns=adult.spec.target)
    if case == "predictions only":
        preds = model.predict(current)
        ref_preds = model.predict(adult_reference)
        result = assess_bias(
            current, adult.spec, predictions=preds, reference=adult_reference, reference_predictions=ref_preds
        )
        why = "without the model's probabilities"
    elif case == "no reference":
        result = assess_bias(current, adult.spec, model=model)
        why = "no labelled reference table"
    elif case == "stored reference":
        stored = assess_bias(adult_reference, adult.spec, model=model, n_bootstrap=0).to_dict()
        result = assess_bias(current, adult.spec, model=model, reference=stored)
        why = "no labelled reference table"
    else:
        result = assess_bias(
            current, adult.spec, model=model, reference=adult_reference.drop(columns="income")
        )
        why = "no labelled reference table"
    assert result.estimated is not None and not result.estimated.available
    assert why in result.estimated.reason
    assert result.estimated.attributes == [] and not any(
        k.startswith("bias.estimated") for k in result.key_metrics()
    )
    assert any(f.startswith("Fairness could not be estimated") and why in f for f in result.findings())
    assert not any(c.name.startswith("bias.estimated.") for c in result.checks())


def test_the_fairness_trend_shows_estimated_gaps_beside_measured(adult, model, adult_reference):
    from workbench.dashboards.trends import fairness_gap_figures, trend_figures

    runs = []
    for i, labelled in enumerate([False, True]):
        data = adult.test.sample(2000, random_state=10 + i)
        if not labelled:
            data = data.drop(columns=adult.spec.target)
        result = assess_bias(data, adult.spec, model=model, reference=adult_reference, n_bootstrap=20)
        checks = [c.to_dict() for c in result.checks()]
        runs.append(
            {
                "id": f"run-{i}",
                "kind": "bias",
                "name": None,
                "status": "passed",
                "period_label": f"2026-11-0{i + 1}",
                "started_at": None,
                "model": "model.wbm",
                "metrics": result.key_metrics(),
                "checks": checks,
                "failed_errors": [c["name"] for c in checks if not c["passed"] and c["severity"] == "error"],
            }
        )
    fig = fairness_gap_figures(runs)["sex"]
    names = [t.name for t in fig.data]
    assert "equalized-odds difference: estimated (no labels)" in names
    assert "equalized-odds difference: measured" in names
    est = next(t for t in fig.data if t.name == "equalized-odds difference: estimated (no labels)")
    assert est.error_y.array is not None  # the interval
    assert any(name == "fairness_gaps.sex" for name, _ in trend_figures(runs))
