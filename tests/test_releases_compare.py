"""Champion vs challenger (workbench.releases): real models on the bundled Adult data, statistics checked
against an independent computation, verdicts, group harm, bad input, the protocol and the compare report."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from workbench.errors import DataError, ParameterError, WorkbenchError
from workbench.releases import ComparisonResult, compare_models


# -- real models: a logistic regression, a boosted model, a model that learned nothing -----------------------
@pytest.fixture(scope="module")
def models(adult):
    from workbench.modeling.train import train

    sample = adult.train.sample(2000, random_state=3)
    fit = lambda recipe, data: train(data, adult.spec, recipes=[recipe], quick=True, progress=False).champion  # noqa: E731
    shuffled = sample.copy()
    shuffled[adult.spec.target] = shuffled[adult.spec.target].sample(frac=1, random_state=4).to_numpy()
    return {
        "lr": fit("logistic_regression", sample),
        "hgb": fit("hist_gradient_boosting", sample),
        "noise": fit("logistic_regression", shuffled),  # trained on shuffled labels: no better than chance
    }


@pytest.fixture(scope="module")
def window(adult):
    return adult.test.sample(2000, random_state=5)


@pytest.fixture(scope="module")
def lr_vs_hgb(models, window):
    from workbench.modeling.evaluate import CostMatrix

    return compare_models(
        models["lr"], models["hgb"], window, cost=CostMatrix(fn=5, fp=1), n_bootstrap=300, latency=False
    )


def _labels_and_scores(models, window, adult):
    y = (window[adult.spec.target] == adult.spec.positive_label).to_numpy().astype(int)
    sa, sb = models["lr"].predict_score(window), models["hgb"].predict_score(window)
    return y, sa, sb, sa >= models["lr"].threshold, sb >= models["hgb"].threshold


# -- 1. the statistics agree with an independent computation on the same predictions -------------------------
def test_delta_auc_mcnemar_cost_and_calibration_match_an_independent_computation(
    lr_vs_hgb, models, window, adult
):
    from scipy.stats import binomtest, chi2
    from sklearn.metrics import roc_auc_score

    r = lr_vs_hgb
    y, sa, sb, pa, pb = _labels_and_scores(models, window, adult)
    auc = r.delta("roc_auc")
    assert auc["champion"] == pytest.approx(roc_auc_score(y, sa), abs=1e-12)
    assert auc["challenger"] == pytest.approx(roc_auc_score(y, sb), abs=1e-12)
    assert auc["delta"] == pytest.approx(roc_auc_score(y, sb) - roc_auc_score(y, sa), abs=1e-12)

    b, c = int(np.sum((pa != y) & (pb == y))), int(np.sum((pa == y) & (pb != y)))
    mc = r.paired["mcnemar"]
    assert (mc["b"], mc["c"]) == (b, c)
    if b + c < 25:
        assert mc["method"] == "exact" and mc["p_value"] == pytest.approx(binomtest(b, b + c, 0.5).pvalue)
    else:
        stat = (abs(b - c) - 1) ** 2 / (b + c)
        assert mc["method"] == "chi-square" and mc["p_value"] == pytest.approx(chi2.sf(stat, 1), rel=1e-12)
        # the exact binomial test says nearly the same at this many discordant rows
        assert abs(mc["p_value"] - binomtest(b, b + c, 0.5).pvalue) < 0.05

    def cost(p):  # fn = 5, fp = 1, per row
        return np.mean(5 * ((y == 1) & ~p) + 1 * ((y == 0) & p))

    assert r.delta("cost")["delta"] == pytest.approx(cost(pb) - cost(pa), abs=1e-12)
    assert r.delta("accuracy")["delta"] == pytest.approx(np.mean(pb == y) - np.mean(pa == y), abs=1e-12)
    assert r.calibration["champion"]["brier"] == pytest.approx(np.mean((sa - y) ** 2), abs=1e-12)
    bins = np.clip((sb * 10).astype(int), 0, 9)
    ece = sum(
        np.mean(bins == k) * abs(sb[bins == k].mean() - y[bins == k].mean())
        for k in range(10)
        if (bins == k).any()
    )
    assert r.calibration["challenger"]["ece"] == pytest.approx(ece, abs=1e-12)


def test_the_paired_bootstrap_interval_is_a_seeded_resampling_of_both_models_on_the_same_rows(
    lr_vs_hgb, models, window, adult
):
    """Recomputed here with scikit-learn's weighted AUC on the same multinomial draws (seed 0, 300 draws)."""
    from sklearn.metrics import roc_auc_score

    r = lr_vs_hgb
    y, sa, sb, _, _ = _labels_and_scores(models, window, adult)
    rng = np.random.default_rng(np.random.SeedSequence(0).spawn(2)[0])
    n = len(y)
    reps = []
    for _ in range(300):
        w = rng.multinomial(n, np.full(n, 1 / n))
        reps.append(roc_auc_score(y, sb, sample_weight=w) - roc_auc_score(y, sa, sample_weight=w))
    lo, hi = np.quantile(reps, [0.025, 0.975])
    auc = r.delta("roc_auc")
    assert auc["ci"] == pytest.approx([lo, hi], abs=1e-9)
    assert auc["se"] == pytest.approx(np.std(reps, ddof=1), rel=1e-9)
    assert auc["ci"][0] <= auc["delta"] <= auc["ci"][1]
    for key in ("accuracy", "cost", "brier"):
        d = r.delta(key)
        assert d["ci"][0] <= d["delta"] <= d["ci"][1], key
    # DeLong's analytic standard error is a cross-check of the bootstrap's
    assert 0.7 < auc["delong"]["se"] / auc["se"] < 1.4
    again = compare_models(models["lr"], models["hgb"], window, n_bootstrap=300, latency=False)
    assert again.delta("roc_auc")["ci"] == auc["ci"]  # seeded: the same draws, the same interval


# -- 2. verdicts -------------------------------------------------------------------------------------------
def test_a_clearly_worse_challenger_is_refused(models, window):
    r = compare_models(models["hgb"], models["noise"], window, n_bootstrap=200, latency=False)
    v = r.verdict()
    assert v.decision == "keep" and v.sentence.startswith("Keep the champion")
    check = next(c for c in r.checks() if c.name == "release.auc_loss")
    assert not check.passed and check.severity == "error" and check.value > 0.1
    assert r.key_metrics()["release.decision"] == -1.0
    assert r.findings()[0] == v.sentence


def test_a_model_against_itself_differs_by_nothing(models, window):
    r = compare_models(models["lr"], models["lr"], window, n_bootstrap=100, latency=False)
    auc = r.delta("roc_auc")
    assert auc["delta"] == 0 and auc["ci"] == [0.0, 0.0]
    assert r.agreement["rate"] == 1.0 and r.paired["mcnemar"]["p_value"] == 1.0
    # the rule: an interval of [0, 0] lies within the non-inferiority margin (0.01), so it may be promoted ...
    assert r.verdict().decision == "promote" and "not worse than the champion" in r.verdict().sentence
    assert any("same decision as the champion on every row" in f for f in r.findings())
    # ... and without a margin nothing tells the two apart: inconclusive, no number of rows would help
    strict = compare_models(models["lr"], models["lr"], window, n_bootstrap=100, latency=False, margin=0)
    v = strict.verdict()
    assert v.decision == "inconclusive" and v.rows_needed is None and "no number of rows" in v.sentence


def test_a_tiny_window_is_inconclusive_and_says_how_many_rows_a_decision_needs(models, adult):
    from workbench.releases.verdict import z_value

    tiny = adult.test.sample(60, random_state=8)
    r = compare_models(models["lr"], models["hgb"], tiny, n_bootstrap=500, latency=False)
    v = r.verdict()
    assert v.decision == "inconclusive" and v.rows_needed and v.rows_needed > 0
    assert f"about {v.rows_needed:,} more labelled rows needed" in v.sentence
    # the formula: N = n·(z·se/g)², g the distance from δ to the boundary it lies away from
    auc, n, m = r.delta("roc_auc"), r.n_labelled, r.margin
    gap = max([auc["delta"] + m] * (auc["delta"] > -m) + [-auc["delta"]] * (auc["delta"] < 0))
    expected = math.ceil(n * (z_value(0.95) * auc["se"] / gap) ** 2 - n)
    assert v.rows_needed == max(expected, 1)
    assert r.key_metrics()["release.rows_needed"] == v.rows_needed


# -- 3. a challenger better overall but worse for one group is named --------------------------------------
def test_a_challenger_better_overall_but_worse_for_women_is_named(models, adult):
    from workbench.modeling.artifact import Model
    from workbench.modeling.train import train

    class LowersWomensScores(Model):  # the boosted model, with women's scores cut: fewer of them pass
        def predict_proba(self, data):
            p = super().predict_proba(data).copy()
            women, pos = (data["sex"] == "Female").to_numpy(), self.positive_index
            p[women, pos] *= 0.4
            p[women, 1 - pos] = 1 - p[women, pos]
            return p

    hgb = models["hgb"]
    challenger = LowersWomensScores(hgb.estimator, hgb.spec, threshold=hgb.threshold, name="lowered")
    weak = train(
        adult.train.sample(150, random_state=9), adult.spec, recipes=["logistic_regression"], progress=False
    ).champion
    window = adult.test.sample(3000, random_state=1)
    r = compare_models(weak, challenger, window, sensitive=["sex"], n_bootstrap=300, latency=False)
    assert r.delta("roc_auc")["delta"] > 0  # better overall ...
    women = next(g for g in r.attribute("sex")["groups"] if g["group"] == "Female")
    assert women["rates"]["tpr"]["worse_by_at_least"] > 0  # ... worse for women, beyond chance
    named = [f for f in r.findings() if "better overall" in f]
    assert "sex = Female" in named[0] and "true positive rate" in named[0]  # the largest harm, first
    failed = {c.name for c in r.checks() if not c.passed}
    assert "release.fairness.equal_opportunity_difference.sex" in failed
    assert r.verdict().decision == "keep"
    # each model's disparities are the bias report's own numbers
    from workbench.monitoring.bias import assess_bias

    own = assess_bias(window, adult.spec, model=weak, sensitive=["sex"], intersections=False, n_bootstrap=300)
    d = r.disparity("equal_opportunity_difference", "sex")
    assert d["champion"] == own.disparity("equal_opportunity_difference", "sex")


# -- 4. bad input: one sentence each ------------------------------------------------------------------------
def test_models_of_different_tasks_are_refused(models, window, adult):
    from workbench.data import infer_spec
    from workbench.modeling.train import train

    hours = infer_spec(adult.train, target="hours-per-week")
    regression = train(
        adult.train.sample(500, random_state=1), hours, recipes=["ridge"], progress=False
    ).champion
    with pytest.raises(ParameterError) as e:
        compare_models(models["lr"], regression, window, latency=False)
    assert "only models of the same task can be compared" in str(e.value) and "\n" not in str(e.value)


def test_a_window_missing_a_feature_column_is_refused(models, window):
    with pytest.raises(DataError) as e:
        compare_models(models["lr"], models["hgb"], window.drop(columns=["age"]), latency=False)
    assert str(e.value) == "the champion's feature column 'age' is missing from the window"


def test_an_unknown_sensitive_column_and_a_non_model_are_refused(models, window):
    with pytest.raises(DataError) as e:
        compare_models(models["lr"], models["hgb"], window, sensitive=["gender"], latency=False)
    assert str(e.value) == "the sensitive column 'gender' is missing from the window"
    with pytest.raises(ParameterError, match="must be a workbench Model, a model path or a models:/ URI"):
        compare_models(42, models["hgb"], window, latency=False)
    with pytest.raises(ParameterError, match="n_bootstrap"):
        compare_models(models["lr"], models["hgb"], window, n_bootstrap=-1, latency=False)


def test_a_window_without_labels_compares_what_it_can_and_needs_labels(models, window, adult):
    unlabelled = window.drop(columns=[adult.spec.target])
    reference = adult.train.sample(1500, random_state=6)
    r = compare_models(models["lr"], models["hgb"], unlabelled, reference=reference, latency=False)
    assert r.paired is None and r.calibration is None and r.n_labelled == 0
    assert 0.5 < r.agreement["rate"] < 1 and r.agreement["segments"]
    assert all(s["count"] >= 30 for s in r.agreement["segments"])
    for role in ("champion", "challenger"):
        assert 0.5 < r.estimates[role]["estimated"]["accuracy"] <= 1
    v = r.verdict()
    assert v.decision == "inconclusive" and "needs labels" in v.sentence and v.rows_needed is None
    assert all(c.passed for c in r.checks())  # nothing to judge is not a failure
    no_reference = compare_models(models["lr"], models["hgb"], unlabelled, latency=False)
    assert no_reference.estimates is None and any("skipped" in n for n in no_reference.notes)


# -- 5. operations, the protocol, the checks' names ---------------------------------------------------------
def test_serving_figures_and_the_cost_per_million(models, window):
    from workbench.releases.operations import DEFAULT_PRICE

    r = compare_models(models["lr"], models["hgb"], window.head(300), n_bootstrap=50, price_per_core_hour=1.0)
    for role in ("champion", "challenger"):
        o = r.operations[role]
        assert 0 < o["p50_us"] <= o["p95_us"] and o["throughput_rows_s"] > 0 and o["size_bytes"] > 0
        assert o["cost_per_million"] == pytest.approx(o["cpu_seconds_per_row"] * 1e6 / 3600 * 1.0)
    ratio = r.operations["challenger"]["p95_us"] / r.operations["champion"]["p95_us"]
    latency = next(c for c in r.checks() if c.name == "release.latency_p95")
    assert latency.value == pytest.approx(ratio) and latency.threshold == 1.5
    assert DEFAULT_PRICE == 0.05


def test_the_result_satisfies_the_protocol_and_round_trips(lr_vs_hgb):
    import plotly.graph_objects as go

    from workbench.results import AnalysisResult, result_class, result_from_entry, result_to_entry

    r = lr_vs_hgb
    assert result_class("compare") is ComparisonResult and isinstance(r, AnalysisResult)
    d = r.to_dict()
    text = json.dumps(d, allow_nan=False)
    assert ComparisonResult.from_dict(json.loads(text)).to_dict() == d
    assert result_from_entry(json.loads(json.dumps(result_to_entry(r)))).to_dict() == d
    assert d["verdict"]["decision"] in ("promote", "keep", "inconclusive")
    assert r.checks({"*": False}) == [] and r.findings() and r._repr_html_().startswith("<")
    assert all(v is None or math.isfinite(v) for v in r.key_metrics().values())
    figs = r.figures()
    assert {"delta_roc_auc", "calibration", "latency", "disagreement"} <= set(figs)
    assert all(isinstance(f, go.Figure) for f in figs.values())
    with pytest.raises(WorkbenchError):
        ComparisonResult.from_dict({"kind": "bias"})
    with pytest.raises(KeyError):
        r.attribute("sex")


def test_release_checks_are_known_names_with_thresholds_from_the_checks_config(lr_vs_hgb):
    from workbench.checks import known_names, validate_config_keys, validate_patterns

    names = known_names("compare", attributes=["sex"])
    assert {"release.auc_loss", "release.cost_increase", "release.latency_p95", "release.size"} <= set(names)
    assert "release.fairness.equal_opportunity_difference.sex" in names
    validate_patterns(["release.fairness.*", "release.auc_loss"], kind="compare", attributes=["sex"])
    with pytest.raises(ParameterError):
        validate_config_keys({"release.auc_los": 0.0}, kind="compare")
    loose = lr_vs_hgb.checks({"release.auc_loss": 0.5})
    assert next(c for c in loose if c.name == "release.auc_loss").threshold == 0.5
    assert not any(
        c.name == "release.cost_increase" for c in lr_vs_hgb.checks({"release.cost_increase": False})
    )


def test_registered_models_are_compared_by_uri(models, window, tmp_path):
    from workbench.modeling.artifact import save_model
    from workbench.registry import register_model

    store = tmp_path / "registry"
    for key in ("lr", "hgb"):
        register_model(save_model(models[key], tmp_path / f"{key}.wbm"), "credit", registry=store)
    r = compare_models(
        "models:/credit/1", "models:/credit/2", window, registry=store, n_bootstrap=50, latency=False
    )
    assert r.champion["source"] == "models:/credit/1"
    assert r.challenger["registered"]["name"] == "credit" and r.challenger["registered"]["version"] == 2


# -- 6. the compare report: papermill, the run store, the ledger, the dashboard ------------------------------
@pytest.mark.notebook
def test_the_compare_report_runs_end_to_end_and_renders(models, window, tmp_path):
    from tests.conftest import run_cli
    from workbench.modeling.artifact import save_model

    champion = save_model(models["lr"], tmp_path / "champion.wbm")
    challenger = save_model(models["hgb"], tmp_path / "challenger.wbm")
    window.head(1500).to_parquet(tmp_path / "window.parquet", index=False)
    reports = tmp_path / "reports"
    args = ["report", "compare", "--champion", str(champion), "--challenger", str(challenger)]
    args += [
        "--current",
        str(tmp_path / "window.parquet"),
        "--sensitive",
        "sex",
        "--reports-dir",
        str(reports),
    ]
    r = run_cli(*args, "--json")
    assert r.returncode == 0, r.stderr[-2000:]
    s = json.loads(r.stdout)
    assert s["kind"] == "compare" and s["status"] in ("passed", "checks_failed")
    assert s["verdict"]["decision"] in ("promote", "keep", "inconclusive")
    assert s["headline"].startswith("Champion vs challenger")
    assert s["findings"][0] == s["verdict"]["sentence"]
    assert {c["name"] for c in s["checks"]} >= {"release.auc_loss", "release.latency_p95", "release.size"}
    lineage = s["lineage"]
    assert lineage["champion"]["path"] == str(champion) and lineage["challenger"]["path"] == str(challenger)
    assert lineage["model"] == lineage["challenger"] and len(lineage["challenger"]["sha256"]) == 64
    runs = json.loads(run_cli("runs", "--reports-dir", str(reports), "--json").stdout)
    assert [x["kind"] for x in runs] == ["compare"]

    # the dashboards render the stored run through the protocol: no error card, the charts drawn
    from workbench.dashboards.index import IndexDashboard
    from workbench.dashboards.runview import run_details_widgets

    d = IndexDashboard(str(reports), links=True)
    assert d.table.value.count("<tr class='wb-row") == 1 and "ΔAUC" in d.table.value
    run = d.index.runs[0]
    assert run["model"].startswith("challenger.wbm")
    widgets = run_details_widgets(run)
    html = " ".join(w.value for w in widgets if isinstance(getattr(w, "value", None), str))
    assert "cannot be shown" not in html and "wb-card-error" not in html
    assert "release.auc_loss" in html and "Champion vs challenger" in html
    assert any(type(w).__name__ == "FigureWidget" for w in widgets)
    assert (reports / "compare" / run["id"] / "report.html").is_file()


def test_a_stored_comparison_renders_without_the_analysis_libraries(lr_vs_hgb, tmp_path):
    import subprocess
    import sys

    path = tmp_path / "compare.json"
    path.write_text(json.dumps(lr_vs_hgb.to_dict()))
    code = (
        "import sys, json; from workbench.results import result_class\n"
        f"r = result_class('compare').from_dict(json.load(open({str(path)!r})))\n"
        "r.figures(); r._repr_html_(); r.findings(); r.checks(); r.key_metrics()\n"
        "heavy = ('pandas', 'sklearn', 'scipy', 'fairlearn', 'evidently')\n"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_compare_report_refuses_bad_input_before_any_run(models, window, tmp_path):
    from tests.conftest import run_cli
    from workbench.modeling.artifact import save_model

    champion = save_model(models["lr"], tmp_path / "champion.wbm")
    window.drop(columns=["age"]).head(200).to_csv(tmp_path / "no_age.csv", index=False)
    reports = tmp_path / "reports"
    args = ["report", "compare", "--champion", str(champion), "--challenger", str(champion)]
    r = run_cli(*args, "--current", str(tmp_path / "no_age.csv"), "--reports-dir", str(reports))
    assert r.returncode == 2 and "'age' is missing from the current data" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and not reports.exists()
    window.head(200).to_csv(tmp_path / "window.csv", index=False)
    r = run_cli(*args, "--current", str(tmp_path / "window.csv"), "--fail-on", "release.auc_los")
    assert r.returncode == 2 and "matches no check of a compare report" in r.stderr
