"""Evaluation: metrics agree with scikit-learn, threshold moves, cost, slices, latency, faces."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn import metrics as skm

from workbench.data import load_demo
from workbench.errors import DataError, WorkbenchError
from workbench.modeling.evaluate import evaluate
from workbench.modeling.train import train


@pytest.fixture(scope="module")
def champion_eval(adult_models, adult_small):
    _, test_df = adult_small
    return adult_models.champion, test_df, evaluate(adult_models.champion, test_df, cost={"fn": 10, "fp": 1})


def test_binary_metrics_match_scikit_learn(champion_eval):
    model, test_df, res = champion_eval
    y = (test_df["income"] == ">50K").to_numpy()
    score = model.predict_score(test_df)
    pred = score >= model.threshold
    m = res.metrics
    assert m["roc_auc"] == pytest.approx(skm.roc_auc_score(y, score))
    assert m["pr_auc"] == pytest.approx(skm.average_precision_score(y, score))
    assert m["log_loss"] == pytest.approx(skm.log_loss(y, score))
    assert m["brier"] == pytest.approx(skm.brier_score_loss(y, score))
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert m["precision"] == pytest.approx(skm.precision_score(y, pred))
    assert m["recall"] == pytest.approx(skm.recall_score(y, pred))
    assert m["f1"] == pytest.approx(skm.f1_score(y, pred))
    tn, fp, fn, tp = skm.confusion_matrix(y, pred).ravel()
    assert res.confusion == [[tn, fp], [fn, tp]]
    assert res.labels == ["<=50K", ">50K"]
    assert m["cost"] == 10 * fn + fp


def test_moving_the_threshold_matches_a_full_recount(champion_eval):
    model, test_df, res = champion_eval
    y = (test_df["income"] == ">50K").to_numpy()
    score = model.predict_score(test_df)
    for t in (0.05, 0.2, 0.37, 0.5, 0.81, 0.99):
        got = res.at_threshold(t)
        pred = score >= t
        assert got["tp"] == int(np.sum(pred & y)) and got["fp"] == int(np.sum(pred & ~y))
        assert got["fn"] == int(np.sum(~pred & y)) and got["tn"] == int(np.sum(~pred & ~y))
        assert got["cost"] == 10 * got["fn"] + got["fp"]
    # the cost curve's best threshold is where at_threshold is cheapest on that grid
    best = res.metrics["best_threshold_for_cost"]
    costs = {round(t, 2): res.at_threshold(t)["cost"] for t in np.linspace(0, 1, 101)}
    assert costs[round(best, 2)] == min(costs.values())


def test_calibration_and_curves(champion_eval):
    _, test_df, res = champion_eval
    cal = res.curves["calibration"]
    assert sum(cal["count"]) == len(test_df)
    assert all(0 <= v <= 1 for v in cal["fraction_positive"])
    assert len(res.curves["roc"]["fpr"]) <= 200 and res.curves["roc"]["tpr"][-1] == 1.0


def test_slices_worst_first_and_small_ones_not_ranked(champion_eval):
    model, test_df, res = champion_eval
    judged = [s for s in res.slices if not s["too_small"] and s["roc_auc"] is not None]
    aucs = [s["roc_auc"] for s in judged]
    assert aucs == sorted(aucs)
    assert {s["column"] for s in res.slices} >= {"sex", "race", "age", "education"}
    women = next(s for s in res.slices if s["column"] == "sex" and s["value"] == "Female")
    mask = (test_df["sex"] == "Female").to_numpy()
    y = (test_df["income"] == ">50K").to_numpy()
    assert women["count"] == mask.sum()
    assert women["roc_auc"] == pytest.approx(skm.roc_auc_score(y[mask], model.predict_score(test_df)[mask]))
    small = [s for s in res.slices if s["too_small"]]
    assert small and all(s["count"] < 100 for s in small)
    assert res.slices.index(small[0]) > res.slices.index(judged[-1])
    ages = [s for s in res.slices if s["column"] == "age"]
    assert 2 <= len(ages) <= 5 and sum(s["count"] for s in ages) == len(test_df)


def test_latency_and_size(champion_eval):
    _, _, res = champion_eval
    lat = res.latency
    assert 0 < lat["p50_us"] <= lat["p95_us"]
    assert lat["throughput_rows_s"] > 1000
    assert res.size_bytes > 1000


def test_faces(champion_eval):
    _, _, res = champion_eval
    d = res.to_dict()
    text = json.dumps(d)
    assert d["metrics"]["roc_auc"] == res.metrics["roc_auc"]
    assert len(text) < 100_000  # curves are thinned and binned: no per-row data is stored
    figs = res.figures()
    assert set(figs) >= {"roc", "pr", "calibration", "confusion", "cost", "slices"}
    assert len(figs["roc"].data[0].x) > 10
    assert np.asarray(figs["confusion"].data[0].z).sum() == res.n_rows
    html = res._repr_html_()
    assert "Weakest slices" in html and "roc_auc" in html


def test_multiclass_and_regression():
    wine = load_demo("wine")
    m = train(wine.train, wine.spec, recipes=["logistic_regression"], progress=False).champion
    res = evaluate(m, wine.test, latency=False)
    y_hat = m.predict(wine.test)
    assert res.metrics["accuracy"] == pytest.approx(skm.accuracy_score(wine.test["target"], y_hat))
    assert res.metrics["f1_macro"] == pytest.approx(skm.f1_score(wine.test["target"], y_hat, average="macro"))
    assert np.asarray(res.confusion).sum() == len(wine.test) and len(res.confusion) == 3
    assert "confusion" in res.figures()

    dia = load_demo("diabetes")
    r = train(dia.train, dia.spec, recipes=["ridge"], progress=False).champion
    res = evaluate(r, dia.test, latency=False)
    pred = r.predict(dia.test)
    assert res.metrics["rmse"] == pytest.approx(skm.root_mean_squared_error(dia.test["target"], pred))
    assert res.metrics["r2"] == pytest.approx(skm.r2_score(dia.test["target"], pred))
    assert res.metrics["mae"] == pytest.approx(skm.mean_absolute_error(dia.test["target"], pred))
    assert sum(res.curves["binned"]["count"]) == len(dia.test)
    assert "predicted_vs_actual" in res.figures()
    with pytest.raises(WorkbenchError, match="binary"):
        res.at_threshold(0.5)


def test_bad_evaluation_input(champion_eval):
    model, test_df, _ = champion_eval
    with pytest.raises(DataError, match="target column 'income' is missing"):
        evaluate(model, test_df.drop(columns="income"), latency=False)
    with pytest.raises(DataError, match="'hours-per-week'"):
        evaluate(model, test_df.drop(columns="hours-per-week"), latency=False)
    with pytest.raises(WorkbenchError, match="threshold"):
        evaluate(model, test_df, threshold=1.5, latency=False)
    odd = test_df.copy()
    odd.loc[odd.index[0], "income"] = "maybe"
    with pytest.raises(DataError, match="never saw"):
        evaluate(model, odd, latency=False)
