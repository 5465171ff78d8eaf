"""Bias (fairness): numbers equal an independent count and fairlearn, bootstrap intervals, injected bias.

The model is a logistic regression fitted on the `adult_small` training rows:
the reference period is 10,000 *other* rows of Adult's training split, and
production batches are simulated from its test split.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from workbench.data import infer_spec
from workbench.data.simulate import simulate_batches
from workbench.errors import DataError, WorkbenchError
from workbench.monitoring.bias import ABSOLUTE_CHECKS, WORSENED_CHECKS, BiasResult, assess_bias

POS = ">50K"
RATES = ("selection_rate", "base_rate", "tpr", "fpr", "precision", "accuracy")


@pytest.fixture(scope="module")
def model(adult, adult_small):
    """A workbench Model around a plain logistic regression (quicker to fit than `train`'s recipes)."""
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from workbench.data import prepare_frame
    from workbench.modeling.artifact import Model

    spec, train_df = adult.spec, adult_small[0]
    names = spec.model_names
    pipe = make_pipeline(
        make_column_transformer(
            (StandardScaler(), [names[c] for c in spec.numeric]),
            (OneHotEncoder(handle_unknown="ignore"), [names[c] for c in spec.categorical]),
        ),
        LogisticRegression(max_iter=2000),
    )
    pipe.fit(prepare_frame(train_df, spec).rename(columns=names), train_df["income"])
    return Model(pipe, spec, threshold=0.5, name="logistic")


@pytest.fixture(scope="module")
def reference(adult, adult_small):
    """10,000 labelled rows the model never trained on: the approved period."""
    unseen = adult.train.drop(index=adult_small[0].index)
    return unseen.sample(10_000, random_state=5)


@pytest.fixture(scope="module")
def adult_result(adult, model):
    return assess_bias(adult.test, adult.spec, model=model)


@pytest.fixture(scope="module")
def reference_result(adult, model, reference):
    return assess_bias(reference, adult.spec, model=model)


# -- the numbers ----------------------------------------------------------------------
def independent(
    df: pd.DataFrame, pred: np.ndarray, cols: list[str], min_size: int
) -> tuple[pd.DataFrame, dict]:
    """Per-group rates and disparities by plain pandas groupby on the predictions (no fairlearn)."""
    key = df[cols].astype(str).agg(" & ".join, axis=1) if len(cols) > 1 else df[cols[0]].astype(str)
    f = pd.DataFrame({"g": key.to_numpy(), "y": (df["income"] == POS).to_numpy(), "p": pred})
    g = f.groupby("g")
    t = pd.DataFrame(
        {
            "count": g.size(),
            "selection_rate": g["p"].mean(),
            "base_rate": g["y"].mean(),
            "tpr": f[f.y].groupby("g")["p"].mean(),
            "fpr": f[~f.y].groupby("g")["p"].mean(),
            "precision": f[f.p].groupby("g")["y"].mean(),
            "accuracy": (f.y == f.p).groupby(f.g).mean(),
            "n_pos": g["y"].sum(),
            "n_neg": g.size() - g["y"].sum(),
            "n_pp": g["p"].sum(),
        }
    )
    big = t["count"] >= min_size
    judged = {
        "selection_rate": big,
        "base_rate": big,
        "accuracy": big,
        "tpr": big & (t.n_pos >= min_size),
        "fpr": big & (t.n_neg >= min_size),
        "precision": big & (t.n_pp >= min_size),
    }
    t["impact_ratio"] = t["selection_rate"] / t.loc[big, "selection_rate"].max()
    t.loc[~big, "impact_ratio"] = np.nan

    def spread(rate):
        v = t.loc[judged[rate], rate]
        return (v.max() - v.min()) if len(v) >= 2 else None

    sr = t.loc[big, "selection_rate"]
    d = {
        "demographic_parity_ratio": sr.min() / sr.max(),
        "demographic_parity_difference": spread("selection_rate"),
        "equal_opportunity_difference": spread("tpr"),
        "false_positive_rate_difference": spread("fpr"),
        "predictive_parity_difference": spread("precision"),
        "accuracy_difference": spread("accuracy"),
        "base_rate_difference": spread("base_rate"),
    }
    d["equalized_odds_difference"] = max(
        d["equal_opportunity_difference"], d["false_positive_rate_difference"]
    )
    return t, d


def test_group_metrics_and_disparities_equal_an_independent_count(adult, model, adult_result):
    from sklearn.metrics import roc_auc_score

    df = adult.test
    score = model.predict_score(df)
    pred = score >= model.threshold
    assert adult_result.n_rows == len(df) and adult_result.n_labelled == len(df)
    assert adult_result.overall["selection_rate"] == pytest.approx(pred.mean())
    assert adult_result.overall["roc_auc"] == pytest.approx(roc_auc_score(df["income"] == POS, score))
    assert {a.name for a in adult_result.attributes} == {"sex", "race", "sex+race"}
    for a in adult_result.attributes:
        expected, disp = independent(df, pred, a.columns, adult_result.min_group_size)
        got = adult_result.by_group(a.name)
        assert set(got.index) == set(expected.index)
        key = df[a.columns].astype(str).agg(" & ".join, axis=1).to_numpy()
        for group, row in got.iterrows():
            exp = expected.loc[group]
            assert row["count"] == exp["count"]
            for m in (*RATES, "impact_ratio"):
                if pd.isna(exp[m]):
                    assert row[m] is None or pd.isna(row[m]), (a.name, group, m)
                else:
                    assert row[m] == pytest.approx(exp[m], abs=1e-12), (a.name, group, m)
            if row["roc_auc"] is not None and not pd.isna(row["roc_auc"]):
                y_g, s_g = (df["income"] == POS).to_numpy()[key == group], score[key == group]
                assert row["roc_auc"] == pytest.approx(roc_auc_score(y_g, s_g))
        for m, v in disp.items():
            assert adult_result.disparity(m, a.name) == pytest.approx(v, abs=1e-12), (a.name, m)


def test_group_rates_and_disparities_equal_fairlearn(adult, model, adult_small):
    from fairlearn import metrics as flm

    df = adult_small[1]
    res = assess_bias(df, adult.spec, model=model, n_bootstrap=0)
    pred = model.predict(df) == POS
    y = (df["income"] == POS).to_numpy()
    for name, cols in (("sex", ["sex"]), ("race", ["race"]), ("sex+race", ["sex", "race"])):
        a = res.attribute(name)
        judged = {m: {g.group for g in a.groups if m not in g.unjudged} for m in RATES}
        key = df[cols].astype(str).agg(" & ".join, axis=1).to_numpy()
        sf = df[cols] if len(cols) > 1 else df[cols[0]]  # fairlearn's own intersections for sex+race

        def rows(m, key=key, judged=judged):
            return np.isin(key, list(judged[m]))

        r = rows("selection_rate")
        assert a.disparities["demographic_parity_difference"].value == pytest.approx(
            flm.demographic_parity_difference(y[r], pred[r], sensitive_features=sf[r])
        )
        assert a.disparities["demographic_parity_ratio"].value == pytest.approx(
            flm.demographic_parity_ratio(y[r], pred[r], sensitive_features=sf[r])
        )
        assert a.disparities["accuracy_difference"].value == pytest.approx(
            flm.accuracy_score_difference(y[r], pred[r], sensitive_features=sf[r])
        )
        for rate, metric, fn in (
            ("tpr", "equal_opportunity_difference", flm.equal_opportunity_difference),
            ("fpr", "false_positive_rate_difference", flm.false_positive_rate_difference),
        ):
            r = rows(rate)
            if len(judged[rate]) < 2:  # nothing to compare: None, where fairlearn says 0
                assert a.disparities[metric].value is None
            else:
                assert a.disparities[metric].value == pytest.approx(
                    fn(y[r], pred[r], sensitive_features=sf[r])
                )
        if (
            judged["tpr"] == judged["fpr"] and len(judged["tpr"]) >= 2
        ):  # the same groups judged for both: fairlearn's own function
            assert a.disparities["equalized_odds_difference"].value == pytest.approx(
                flm.equalized_odds_difference(y[r], pred[r], sensitive_features=sf[r])
            )
    mf = flm.MetricFrame(
        metrics={
            "tpr": flm.true_positive_rate,
            "fpr": flm.false_positive_rate,
            "selection_rate": flm.selection_rate,
        },
        y_true=y,
        y_pred=pred,
        sensitive_features=df["race"],
    )
    got = res.by_group("race")
    for group, row in mf.by_group.iterrows():
        for m in ("tpr", "fpr", "selection_rate"):
            assert got.loc[group, m] == pytest.approx(row[m]), (group, m)
    assert res.attribute("sex").most_favoured == "Male"


def test_bootstrap_is_vectorised_and_matches_a_row_resampling_loop(adult, model, adult_small):
    """The multinomial draw of cell counts gives the same intervals as resampling rows one by one.

    On 3,000 rows: 4,000 vectorised resamples take about 20 ms; the loop
    below needs about a second for 400 (pandas groupby per resample).
    """
    df = adult_small[1].reset_index(drop=True)
    pred = model.predict(df) == POS
    t0 = time.perf_counter()
    res = assess_bias(
        df,
        adult.spec,
        model=model,
        sensitive=["sex", "race"],
        intersections=False,
        n_bootstrap=4000,
        random_state=1,
    )
    fast = time.perf_counter() - t0

    rng = np.random.default_rng(7)
    y = (df["income"] == POS).to_numpy()
    sex, race = df["sex"].to_numpy(), df["race"].to_numpy()
    judged_race = [g.group for g in res.attribute("race").groups if not g.too_small]
    samples: dict[str, list] = {"sr_f": [], "tpr_m": [], "fpr_f": [], "dpd_race": [], "dpr_sex": []}
    t0 = time.perf_counter()
    for _ in range(400):
        i = rng.integers(0, len(df), len(df))
        f = pd.DataFrame({"sex": sex[i], "race": race[i], "y": y[i], "p": pred[i]})
        sr = f.groupby("sex")["p"].mean()
        samples["sr_f"].append(sr["Female"])
        samples["dpr_sex"].append(sr.min() / sr.max())
        samples["tpr_m"].append(f[f.y & (f.sex == "Male")]["p"].mean())
        samples["fpr_f"].append(f[~f.y & (f.sex == "Female")]["p"].mean())
        r = f[f.race.isin(judged_race)].groupby("race")["p"].mean()
        samples["dpd_race"].append(r.max() - r.min())
    slow = time.perf_counter() - t0
    q = [0.025, 0.975]
    sex_groups = {g.group: g for g in res.attribute("sex").groups}
    pairs = {
        "sr_f": sex_groups["Female"].interval("selection_rate"),
        "tpr_m": sex_groups["Male"].interval("tpr"),
        "fpr_f": sex_groups["Female"].interval("fpr"),
        "dpd_race": res.attribute("race").disparities["demographic_parity_difference"].ci,
        "dpr_sex": res.attribute("sex").disparities["demographic_parity_ratio"].ci,
    }
    for k, ci in pairs.items():
        loop = np.quantile(samples[k], q)
        width = loop[1] - loop[0]
        assert width > 0
        assert abs(ci[0] - loop[0]) < 0.15 * width and abs(ci[1] - loop[1]) < 0.15 * width, (k, ci, loop)
    assert fast < slow


def test_small_groups_are_listed_but_not_judged(adult, model, adult_small):
    df = adult_small[1]
    res = assess_bias(df, adult.spec, model=model, min_group_size=200, n_bootstrap=200)
    race = res.attribute("race")
    counts = df["race"].value_counts()
    small = set(counts[counts < 200].index)
    assert small and {g.group for g in race.groups if g.too_small} == small
    for g in race.groups:
        if g.too_small:
            assert (
                g.impact_ratio is None
                and g.intervals["impact_ratio"] is None
                and g.intervals["selection_rate"] is None
            )
            assert g.selection_rate is not None  # listed, with its raw rate
    assert race.disparities["demographic_parity_difference"].groups == len(counts) - len(small)
    big = [g for g in race.groups if not g.too_small]
    rates = [g.selection_rate for g in big]
    assert race.disparities["demographic_parity_difference"].value == pytest.approx(max(rates) - min(rates))
    # a rate needs min_group_size rows in its own denominator: women have too few actual '>50K' cases here
    female = next(g for g in res.attribute("sex").groups if g.group == "Female")
    assert female.n_positive < 200 and "tpr" in female.unjudged and "selection_rate" not in female.unjudged
    assert res.disparity("equal_opportunity_difference", "sex") is None
    eo = next(c for c in res.checks() if c.name == "bias.equal_opportunity_difference.sex")
    assert eo.passed and eo.value is None and "nothing to judge" in eo.message
    assert any("Too small to judge (fewer than 200 rows)" in f and "race = " in f for f in res.findings())
    four_fifths = [f for f in res.findings() if f.startswith("For race,") and "four-fifths" in f]
    assert four_fifths and not any(g in four_fifths[0] for g in small)  # listed, not ranked


def test_intersections(adult, model, adult_small):
    df = adult_small[1]
    res = assess_bias(df, adult.spec, model=model, n_bootstrap=100)
    inter = res.attribute("sex+race")
    assert inter.columns == ["sex", "race"]
    assert sum(g.count for g in inter.groups) == len(df)
    by_values = {(g.values["sex"], g.values["race"]): g.count for g in inter.groups}
    assert by_values == df.groupby(["sex", "race"]).size().to_dict()
    assert "intersection.sex+race" in res.figures()
    z = np.asarray(res.figures()["intersection.sex+race"].data[0].z, dtype=float)
    assert z.shape == (2, df["race"].nunique()) and np.isfinite(z).any()
    assert {
        a.name
        for a in assess_bias(df, adult.spec, model=model, intersections=False, n_bootstrap=0).attributes
    } == {"sex", "race"}
    assert [
        a.name for a in assess_bias(df, adult.spec, model=model, sensitive="race", n_bootstrap=0).attributes
    ] == ["race"]


def test_label_free_and_partly_labelled(adult, model, adult_small):
    df = adult_small[1]
    full = assess_bias(df, adult.spec, model=model, n_bootstrap=100)
    free = assess_bias(df.drop(columns="income"), adult.spec, model=model, n_bootstrap=100)
    assert free.n_labelled == 0 and not free.has_labels
    assert free.by_group("sex")["selection_rate"].to_dict() == pytest.approx(
        full.by_group("sex")["selection_rate"].to_dict()
    )
    for g in free.attribute("race").groups:
        assert all(g.rate(m) is None for m in ("tpr", "fpr", "precision", "accuracy", "base_rate"))
    assert free.disparity("equalized_odds_difference", "sex") is None
    assert free.disparity("demographic_parity_ratio", "sex") == pytest.approx(
        full.disparity("demographic_parity_ratio", "sex")
    )
    checks = {c.name: c for c in free.checks()}
    assert (
        checks["bias.equalized_odds_difference.sex"].passed
        and checks["bias.equalized_odds_difference.sex"].value is None
    )
    assert not checks["bias.demographic_parity_ratio.sex"].passed
    assert any("no outcome labels" in f for f in free.findings())
    assert "error_rates.sex" not in free.figures()

    part = df.copy()
    hidden = part.sample(frac=0.3, random_state=3).index
    part.loc[hidden, "income"] = np.nan
    res = assess_bias(part, adult.spec, model=model, n_bootstrap=100)
    assert res.n_labelled == len(df) - len(hidden)
    pred = model.predict(part) == POS
    expected, _ = independent(df.loc[~df.index.isin(hidden)], pred[~df.index.isin(hidden)], ["sex"], 30)
    got = res.by_group("sex")
    for group in ("Male", "Female"):
        assert got.loc[group, "selection_rate"] == pytest.approx(
            pred[(part["sex"] == group).to_numpy()].mean()
        )
        assert got.loc[group, "tpr"] == pytest.approx(expected.loc[group, "tpr"])
        assert got.loc[group, "count"] == (part["sex"] == group).sum()


def test_predictions_instead_of_a_model(adult, model, adult_small):
    df = adult_small[1]
    by_model = assess_bias(df, adult.spec, model=model, n_bootstrap=0)
    labels = model.predict(df)
    for preds in (labels, pd.Series(labels == POS).astype(int).to_numpy(), labels == POS):
        res = assess_bias(df, adult.spec, predictions=preds, n_bootstrap=0)
        assert res.to_dict()["disparities"] == by_model.to_dict()["disparities"]
        assert res.model_name == "given predictions" and res.attribute("sex").groups[0].roc_auc is None
    res = assess_bias(df.assign(decision=labels), adult.spec, predictions="decision", n_bootstrap=0)
    assert res.disparity("demographic_parity_ratio", "sex") == by_model.disparity(
        "demographic_parity_ratio", "sex"
    )
    with pytest.raises(DataError, match="must be class labels"):
        assess_bias(df, adult.spec, predictions=np.full(len(df), "maybe"))
    with pytest.raises(DataError, match="predictions for the"):
        assess_bias(df, adult.spec, predictions=labels[:10])
    with pytest.raises(WorkbenchError, match="pass model= or predictions="):
        assess_bias(df, adult.spec)
    with pytest.raises(WorkbenchError, match="reference table needs predictions"):
        assess_bias(df, adult.spec, predictions=labels, reference=df)
    with pytest.raises(WorkbenchError, match="not both"):
        assess_bias(df, adult.spec, model=model, predictions=labels)
    res = assess_bias(
        df, adult.spec, predictions=labels, reference=df, reference_predictions=labels, n_bootstrap=50
    )
    assert all(not c.significant and c.worsening in (0, None) for c in res.comparison.disparities)


def test_bad_input(adult, model, adult_small):
    df = adult_small[1]
    with pytest.raises(DataError, match="the sensitive column 'sex' is missing from the current data"):
        assess_bias(df.drop(columns="sex"), adult.spec, predictions=model.predict(df))
    with pytest.raises(DataError, match="'religion' is missing from the reference data"):
        assess_bias(
            df.assign(religion="x"), adult.spec, model=model, sensitive=["religion", "sex"], reference=df
        )
    with pytest.raises(WorkbenchError, match="sensitive columns"):
        assess_bias(df, adult.spec.replace(sensitive=[]), model=model)
    with pytest.raises(WorkbenchError, match="min_group_size"):
        assess_bias(df, adult.spec, model=model, min_group_size=0)
    with pytest.raises(WorkbenchError, match="confidence"):
        assess_bias(df, adult.spec, model=model, confidence=95)

    men = df[df["sex"] == "Male"]
    with pytest.raises(DataError, match="'sex' has a single group \\('Male'\\)"):
        assess_bias(men, adult.spec, model=model, sensitive=["sex"])
    res = assess_bias(men, adult.spec, model=model, n_bootstrap=0)
    assert [a.name for a in res.attributes] == ["race"]
    assert any("'sex' has a single group" in f for f in res.findings())

    holes = df.copy()
    holes.loc[holes.sample(50, random_state=1).index, "race"] = np.nan
    res = assess_bias(holes, adult.spec, model=model, n_bootstrap=0)
    missing = next(g for g in res.attribute("race").groups if g.group == "missing")
    assert missing.count == 50 and res.attribute("race").groups[-1].group == "missing"


def test_multiclass_and_regression_get_a_pointer():
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "x": rng.normal(size=200),
            "sex": rng.choice(["F", "M"], 200),
            "grade": rng.choice(["a", "b", "c"], 200),
            "amount": rng.normal(size=200),
        }
    )
    multi = infer_spec(df.drop(columns="amount"), target="grade", sensitive=["sex"])
    with pytest.raises(WorkbenchError, match="needs a binary classifier; for multiclass.*slices"):
        assess_bias(df, multi, predictions=df["grade"])
    reg = infer_spec(df.drop(columns="grade"), target="amount", sensitive=["sex"])
    with pytest.raises(WorkbenchError, match="needs a binary classifier; for a regression model.*slices"):
        assess_bias(df, reg, predictions=df["amount"])


# -- the result object ------------------------------------------------------------------
def test_checks_names_severity_and_config(adult_result):
    names = {c.name for c in adult_result.checks()}
    assert names == {f"bias.{m}.{a}" for m in ABSOLUTE_CHECKS for a in ("sex", "race", "sex+race")}
    assert all(c.severity == "warning" for c in adult_result.checks())
    dpr = next(c for c in adult_result.checks() if c.name == "bias.demographic_parity_ratio.sex")
    assert not dpr.passed and dpr.threshold == 0.8 and dpr.op == ">="
    assert dpr.value == pytest.approx(adult_result.disparity("demographic_parity_ratio", "sex"))
    cfg = {"bias.demographic_parity_ratio.*": {"threshold": 0.05}, "bias.equal*": False}
    got = {c.name: c for c in adult_result.checks(cfg)}
    assert (
        got["bias.demographic_parity_ratio.sex"].passed
        and got["bias.demographic_parity_ratio.sex"].threshold == 0.05
    )
    assert not any(n.startswith("bias.equal") for n in got)


def test_findings_are_plain_and_worst_first(adult_result):
    f = adult_result.findings()
    sex = next(s for s in f if s.startswith("For sex,"))
    assert "Female's share predicted '>50K' is" in sex and "of Male's" in sex and "four-fifths" in sex
    ratio = adult_result.disparity("demographic_parity_ratio", "sex")
    assert f"{ratio:.2f}" in sex
    assert f.index(sex) < 3  # the real, large disparities come before the notes


def test_round_trip_figures_and_light_imports(adult, model, adult_small, reference_result, tmp_path):
    df = adult_small[1]
    res = assess_bias(df, adult.spec, model=model, reference=reference_result)
    d = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    back = BiasResult.from_dict(d)
    assert back.to_dict() == res.to_dict()
    assert back.findings() == res.findings() and back.checks() == res.checks()
    assert {"groups", "disparities", "key_metrics"} <= set(d)
    assert {"sensitive", "group", "count", "selection_rate", "tpr", "fpr"} <= set(d["groups"][0])
    assert d["key_metrics"]["bias.impact_ratio.sex.Male"] == pytest.approx(1.0)
    with pytest.raises(WorkbenchError, match="bias result"):
        BiasResult.from_dict({**d, "kind": "drift"})

    figs = res.figures()
    assert {
        "selection_rate.sex",
        "error_rates.race",
        "intersection.sex+race",
        "disparities",
        "comparison",
    } <= set(figs)
    bar = figs["selection_rate.sex"].data[0]
    by = {g.group: g for g in res.attribute("sex").groups}
    assert dict(zip(bar.x, bar.y, strict=True)) == pytest.approx({k: v.selection_rate for k, v in by.items()})
    assert max(bar.error_y.array) > 0
    line = figs["selection_rate.sex"].layout.shapes[0]
    assert line.y0 == pytest.approx(0.8 * max(v.selection_rate for v in by.values()))
    shown = [d for d in d["disparities"] if d["metric"] in ABSOLUTE_CHECKS and d["value"] is not None]
    bars = [t for t in figs["disparities"].data if t.type == "bar"]  # a panel for ratios, one for differences
    assert sum(len(t.x) for t in bars) == len(shown) >= 8 and len(figs["comparison"].data[0].x) > 0
    assert len(figs["error_rates.sex"].data) == 2
    html = res._repr_html_()
    assert "four-fifths" in html and "bias.demographic_parity_ratio.sex" in html

    path = tmp_path / "bias.json"
    path.write_text(json.dumps(d))
    code = (
        "import json, sys\n"
        "from workbench.monitoring.bias import BiasResult\n"
        f"r = BiasResult.from_dict(json.load(open({str(path)!r})))\n"
        "figs = r.figures(); r.findings(); r.checks(); r._repr_html_(); r.by_group('sex'); r.disparities()\n"
        "assert figs['selection_rate.sex'].data\n"
        "print(json.dumps(sorted(m for m in ('fairlearn', 'sklearn', 'scipy') if m in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


# -- the reference comparison on simulated production batches -------------------------------
def test_reference_as_table_or_stored_result_gives_the_same_comparison(
    adult, model, adult_small, reference, reference_result
):
    df = adult_small[1]
    as_table = assess_bias(df, adult.spec, model=model, reference=reference)
    stored = BiasResult.from_dict(json.loads(json.dumps(reference_result.to_dict())))
    as_result = assess_bias(df, adult.spec, model=model, reference=stored)
    assert as_table.comparison == as_result.comparison
    assert as_table.reference.n_rows == len(reference)
    names = {c.name for c in as_table.checks() if c.severity == "error"}
    assert names == {f"bias.{m}.{a}.worsened" for m in WORSENED_CHECKS for a in ("sex", "race", "sex+race")}
    # a reference without the intersection: the rest is still compared, and the finding says what was not
    plain = assess_bias(
        reference.sample(3000, random_state=1), adult.spec, model=model, intersections=False, n_bootstrap=0
    )
    res = assess_bias(df, adult.spec, model=model, reference=plain, n_bootstrap=100)
    assert res.comparison.not_in_reference == ["sex+race"]
    assert not any(".sex+race." in c.name for c in res.checks() if c.severity == "error")
    assert any("no sex × race groups to compare" in f for f in res.findings())


@pytest.mark.parametrize("mode", ["labels", "features"])
def test_injected_bias_is_flagged_on_the_right_column_and_group(adult, model, reference_result, mode):
    batch = simulate_batches(
        adult.test,
        adult.spec,
        [{"kind": "bias_shift", "sensitive": "sex", "mode": mode}],
        batch_size=4000,
        random_state=11,
    )[0]
    change = batch.manifest["changes"][0]["params"]
    assert change["sensitive"] == "sex" and change["group"] == "Female"
    res = assess_bias(batch.data, adult.spec, model=model, reference=reference_result)
    failed = [c for c in res.checks() if not c.passed and c.severity == "error"]
    assert failed and all(c.name.endswith(".sex.worsened") or ".sex+race." in c.name for c in failed), failed
    assert any(c.name.endswith(".sex.worsened") for c in failed)
    for c in failed:
        assert "Female" in c.message
    drivers = {c.driver.group for c in res.comparison.disparities if c.significant}
    assert drivers and all("Female" in d for d in drivers)
    changes = {(r.group, r.measure): r for r in res.comparison.groups if r.attribute == "sex"}
    if mode == "labels":  # half the women's '>50K' outcomes turned negative: their base rate falls
        assert changes[("Female", "base_rate")].ci[1] < 0
        assert abs(changes[("Male", "base_rate")].change) < 0.02
    else:  # women redrawn towards lower-scoring profiles: their selection rate falls
        assert changes[("Female", "selection_rate")].ci[1] < 0
        assert changes[("Female", "impact_ratio")].ci[1] < 0
    assert res.findings()[0].startswith("Against the reference period") and "Female" in res.findings()[0]


def test_clean_batches_raise_few_false_alarms(adult, model, reference_result):
    batches = simulate_batches(adult.test, adult.spec, ["clean"] * 20, batch_size=4000, random_state=21)
    alarms = []
    for b in batches:
        res = assess_bias(b.data, adult.spec, model=model, reference=reference_result)
        alarms.append([c.name for c in res.checks() if not c.passed and c.name.endswith(".worsened")])
    assert sum(bool(a) for a in alarms) <= 2, alarms  # at most 10% of clean batches
