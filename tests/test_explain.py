"""Explanations: LIME in original columns, worst errors, stability, importance, PDP/ICE, surrogate tree."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from workbench import explain as ex
from workbench.data import infer_spec
from workbench.data._spec import MISSING
from workbench.errors import DataError, WorkbenchError

FAST = 1000  # LIME samples where speed, not precision, matters


def _fit(data: pd.DataFrame, spec, recipe: str):
    """A quick model of `recipe`, fitted the way train() fits its candidates (no leaderboard timing)."""
    from workbench.data._spec import prepare_frame, target_values
    from workbench.modeling.artifact import Model
    from workbench.modeling.train import build_pipeline

    pipe = build_pipeline(recipe, spec, quick=True, random_state=0)
    pipe.fit(prepare_frame(data, spec).rename(columns=spec.model_names), target_values(data, spec))
    if getattr(pipe[-1], "n_jobs", None) not in (None, 1):
        pipe[-1].set_params(n_jobs=1)
    return Model(pipe, spec, name=recipe)


@pytest.fixture(scope="module")
def rows(adult):
    """Training and test samples of Adult (real data)."""
    return adult.train.sample(3000, random_state=11), adult.test.sample(2000, random_state=12)


@pytest.fixture(scope="module")
def forest(adult, rows):
    return _fit(rows[0], adult.spec, "random_forest")


@pytest.fixture(scope="module")
def synthetic(adult):
    """Adult's columns plus `signal`, which alone decides the label (others are noise)."""
    rng = np.random.RandomState(3)
    df = adult.train.sample(2500, random_state=4).drop(columns=["income"]).reset_index(drop=True)
    df["signal"] = rng.normal(size=len(df))
    df["label"] = np.where(df["signal"] + 0.2 * rng.normal(size=len(df)) > 0, "yes", "no")
    spec = infer_spec(df, target="label")
    return df, spec, _fit(df, spec, "logistic_regression")


@pytest.fixture(scope="module")
def local(forest, rows):
    train_rows, test_rows = rows
    return ex.explain_local(forest, test_rows, rows=list(test_rows.index[:3]), reference=train_rows)


# -- LIME in the original columns -------------------------------------------------------
def test_lime_speaks_in_original_columns(local, forest, rows, adult):
    features = set(adult.spec.features)
    safe = {v for k, v in adult.spec.model_names.items() if v != k}  # e.g. education_num
    test_rows = rows[1]
    assert [e.row_id for e in local] == list(test_rows.index[:3])
    proba = forest.predict_score(test_rows.loc[test_rows.index[:3]])
    labels = forest.predict(test_rows.loc[test_rows.index[:3]])
    for e, p, lab in zip(local, proba, labels, strict=True):
        assert len(e.features) == 10
        assert {f["feature"] for f in e.features} <= features
        assert len({f["feature"] for f in e.features}) == 10  # one condition per original column
        for f in e.features:
            assert f["condition"].count(f["feature"]) == 1
            assert not any(re.search(rf"\b{re.escape(s)}\b", f["condition"]) for s in safe)
            assert not re.search(
                r"_(Husband|Male|Female|White|Private)\b", f["condition"]
            )  # no one-hot fragments
        assert e.explained_class == ">50K" and e.probability == pytest.approx(p)
        assert e.predicted == lab and e.actual in (">50K", "<=50K")
        assert np.isfinite(e.intercept) and e.r2 <= 1.0
        weights = [abs(f["weight"]) for f in e.features]
        assert weights == sorted(weights, reverse=True)
    hyphenated = [f["feature"] for e in local for f in e.features if "-" in f["feature"]]
    assert hyphenated  # education-num, hours-per-week, marital-status ... appear intact


def test_conditions_are_categories_and_bins_of_the_data(local, rows, adult):
    train_rows, test_rows = rows
    for e in local:
        row = test_rows.loc[e.row_id]
        for f in e.features:
            col = f["feature"]
            if col in adult.spec.categorical:
                cat = f["category"]
                assert cat in set(train_rows[col].dropna().astype(str)) | {MISSING}
                assert cat == (MISSING if pd.isna(row[col]) else str(row[col]))  # the row's own category
                assert f["condition"] in (f"{col} = {cat}", f"{col} is missing")
            else:
                lo, hi = f["lower"], f["upper"]
                assert lo is not None or hi is not None
                assert (lo is None or row[col] > lo) and (hi is None or row[col] <= hi)


def test_explainer_is_reused_and_results_do_not_depend_on_row_order(forest, rows):
    train_rows, test_rows = rows
    assert ex.local_explainer(forest, train_rows) is ex.local_explainer(forest, train_rows)
    a, b = test_rows.index[5], test_rows.index[6]
    both = ex.explain_local(forest, test_rows, rows=[a, b], reference=train_rows, num_samples=FAST)
    alone = ex.explain_local(forest, test_rows, rows=b, reference=train_rows, num_samples=FAST)
    assert both[b].features == alone[b].features
    other_seed = ex.explain_local(
        forest, test_rows, rows=b, reference=train_rows, num_samples=FAST, random_state=9
    )
    assert other_seed[b].features != alone[b].features


def test_batched_sampling_equals_lime_explain_instance(forest, rows):
    from workbench.data._spec import prepare_frame

    train_rows, test_rows = rows
    explainer = ex.local_explainer(forest, train_rows)
    chosen = test_rows.iloc[:2]
    batched = explainer.explain(chosen, num_features=6, num_samples=FAST, random_state=5)
    prepared = prepare_frame(chosen, forest.spec)
    public = [explainer._explain_one(prepared.iloc[i], 6, FAST, 5) for i in range(2)]
    proba = forest.predict_proba(chosen)
    for got, want, p in zip(batched, public, proba, strict=True):
        assert [f["condition"] for f in got["features"]] == [f["condition"] for f in want["features"]]
        assert np.allclose([f["weight"] for f in got["features"]], [f["weight"] for f in want["features"]])
        assert got["r2"] == pytest.approx(want["r2"])
        assert np.allclose(got["output"], p) and np.allclose(
            want["output"], p
        )  # LIME's first sample is the row


def test_missing_numeric_and_unseen_category_in_a_row(forest, rows):
    train_rows, test_rows = rows
    odd = test_rows.iloc[:1].copy()
    odd["age"] = np.nan
    odd["workclass"] = "Astronaut"
    r = ex.explain_local(forest, odd, reference=train_rows, num_samples=FAST)
    e = r.explanations[0]
    assert e.probability == pytest.approx(forest.predict_score(odd)[0])  # the model saw the real row
    assert any("median" in n for n in e.notes) and any("Astronaut" in n for n in e.notes)


def test_an_onnx_variant_gets_the_same_explanations(synthetic):
    pytest.importorskip("onnxruntime")
    from workbench.compression import to_onnx

    df, _, model = synthetic
    variant = to_onnx(model)
    chosen = list(df.index[:2])
    a = ex.explain_local(model, df, rows=chosen, num_samples=FAST)
    b = ex.explain_local(variant, df, rows=chosen, num_samples=FAST)
    for x, y in zip(a, b, strict=True):
        assert x.probability == pytest.approx(y.probability, abs=1e-5)
        assert [f["condition"] for f in x.features] == [f["condition"] for f in y.features]
        assert np.allclose([f["weight"] for f in x.features], [f["weight"] for f in y.features], atol=1e-4)


# -- worst errors ----------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["false_negative", "false_positive"])
def test_worst_errors_are_errors_and_the_most_confident(forest, rows, kind):
    train_rows, test_rows = rows
    r = ex.explain_worst_errors(forest, test_rows, kind=kind, n=3, reference=train_rows, num_samples=FAST)
    score = pd.Series(forest.predict_score(test_rows), index=test_rows.index)
    pred = pd.Series(forest.predict(test_rows), index=test_rows.index)
    pos = test_rows["income"] == ">50K"
    if kind == "false_negative":
        errors = score[pos & (pred != ">50K")].sort_values()
    else:
        errors = score[~pos & (pred == ">50K")].sort_values(ascending=False)
    assert r.selection["n_errors"] == len(errors) > 3
    assert [e.row_id for e in r] == list(errors.index[:3])
    for e in r:
        assert e.error == kind.replace("_", " ")
        assert e.actual != e.predicted
    assert "most confident" in r.findings()[0]


def test_any_error_and_its_checks(forest, rows):
    r = ex.explain_worst_errors(forest, rows[1], n=2, reference=rows[0], num_samples=FAST)
    assert len(r) == 2 and all(e.actual != e.predicted for e in r)
    assert [c.name for c in r.checks()] == ["explanation.local.fit_r2"]
    assert r.checks({"explanation.local.*": False}) == []


# -- stability ----------------------------------------------------------------------------------
def test_stability_identical_seeds_agree_perfectly(forest, rows):
    train_rows, test_rows = rows
    s = ex.explanation_stability(
        forest, test_rows, rows=[test_rows.index[0]], reference=train_rows, seeds=[7, 7, 7], num_samples=FAST
    )
    assert s.mean_kendall_tau == pytest.approx(1.0) and s.mean_top_k_jaccard == pytest.approx(1.0)
    assert s.mean_sign_agreement == 1.0 and s.verdict == "stable" and s.stable
    assert s.summary().startswith("Stable")


def test_stability_drops_with_few_samples(forest, rows):
    train_rows, test_rows = rows
    chosen = list(test_rows.index[:2])
    kw = dict(rows=chosen, reference=train_rows, seeds=4)
    good = ex.explanation_stability(forest, test_rows, num_samples=3000, **kw)
    noisy = ex.explanation_stability(forest, test_rows, num_samples=40, **kw)
    assert noisy.mean_kendall_tau < good.mean_kendall_tau
    assert noisy.mean_top_k_jaccard <= good.mean_top_k_jaccard
    assert good.verdict in ("stable", "fairly stable") and good.mean_top_k_jaccard >= 0.6
    assert [r["row_id"] for r in good.rows] == chosen


# -- global ------------------------------------------------------------------------------
def test_permutation_importance_ranks_the_deciding_column_first(synthetic):
    df, spec, model = synthetic
    imp = ex.permutation_importance(model, df, n_repeats=3, max_rows=1500)
    assert imp.scoring == "roc_auc" and imp.ranking[0] == "signal"
    top = imp.features[0]["importance_mean"]
    assert top > 0.2 and all(f["importance_mean"] < top / 5 for f in imp.features[1:])
    assert set(imp.ranking) == set(spec.features)
    assert "'signal'" in imp.findings()[0]


def test_partial_dependence_is_monotone_on_a_monotone_relation(synthetic):
    df, _, model = synthetic
    pd_ = ex.partial_dependence(model, df, "signal", grid_resolution=15, max_rows=300, ice_lines=20)
    grid = np.asarray(pd_.grid)
    lo, hi = np.quantile(df["signal"], [0.05, 0.95])
    assert len(grid) == 15 and np.all(np.diff(grid) > 0) and grid[0] >= lo - 1e-9 and grid[-1] <= hi + 1e-9
    assert np.all(np.diff(pd_.average) > 0) and pd_.shape == "increasing"
    assert pd_.average[-1] - pd_.average[0] > 0.5
    assert len(pd_.ice) == 20 and all(len(line) == 15 for line in pd_.ice)
    assert np.allclose(np.mean(pd_.ice, axis=0), pd_.average, atol=0.15)


def test_partial_dependence_on_a_category(forest, rows):
    test_rows = rows[1]
    pd_ = ex.partial_dependence(forest, test_rows, "relationship", max_rows=200)
    assert pd_.feature_kind == "categorical"
    assert set(pd_.grid) <= set(test_rows["relationship"].astype(str))
    assert sum(pd_.counts) == len(test_rows) and pd_.counts == sorted(pd_.counts, reverse=True)
    assert pd_.output == "probability of '>50K'" and all(0 <= v <= 1 for v in pd_.average)
    skewed = ex.partial_dependence(forest, test_rows, "capital-gain", max_rows=100)  # 0 for ~92% of rows
    assert len(skewed.grid) >= 3 and skewed.grid[-1] == test_rows["capital-gain"].max() and skewed.notes


def test_surrogate_tree_is_faithful_and_its_rules_read_back(forest, rows, adult):
    test_rows = rows[1]
    s = ex.surrogate_tree(forest, test_rows, max_depth=4)
    assert s.fidelity > 0.85 and s.fidelity > s.baseline and s.fidelity_metric == "agreement"
    assert 2 <= len(s.rules) <= 16 and sum(r["rows"] for r in s.rules) == len(test_rows)
    assert [c["depth"] for c in s.fidelity_by_depth] == list(range(1, 7))
    spec = adult.spec
    pattern = re.compile(r"^IF (.+) THEN (<=50K|>50K) \(p=(\d\.\d\d), ([\d,]+) rows\)$")
    for rule in s.rules:
        m = pattern.match(rule["text"])
        assert m, rule["text"]
        for cond in m.group(1).split(" AND "):
            if c := re.fullmatch(r"(\S+) (=|!=) (.+)", cond):
                assert c.group(1) in spec.categorical
                assert c.group(3) in set(test_rows[c.group(1)].dropna().astype(str))
            elif c := re.fullmatch(r"(\S+) not in \{(.+)\}", cond):
                assert c.group(1) in spec.categorical
                assert set(c.group(2).split(", ")) <= set(test_rows[c.group(1)].dropna().astype(str))
            else:
                c = re.fullmatch(r"(?:[-\d.]+ < )?(\S+) (?:<=|>) [-\d.]+", cond)
                assert c and c.group(1) in spec.numeric, cond
    assert s.rules_text().count("\n") == len(s.rules) - 1
    assert [c.name for c in s.checks()] == ["explanation.surrogate.fidelity"] and s.checks()[0].passed


# -- other tasks ---------------------------------------------------------------------------------
def test_multiclass_explains_the_predicted_class(adult):
    df = adult.train.sample(2000, random_state=5)
    spec = infer_spec(df, target="relationship")
    assert spec.task == "multiclass"
    model = _fit(df, spec, "random_forest")
    r = ex.explain_local(model, df, rows=list(df.index[:2]), num_samples=FAST)
    proba = model.predict_proba(df.loc[df.index[:2]])
    for e, p in zip(r, proba, strict=True):
        assert e.explained_class == e.predicted == model.classes_[np.argmax(p)]
        assert e.probability == pytest.approx(p.max())
    worst = ex.explain_worst_errors(model, df, n=2, num_samples=FAST)
    assert all(e.error == "misclassification" and e.actual != e.predicted for e in worst)
    with pytest.raises(WorkbenchError, match="does not apply to multiclass"):
        ex.explain_worst_errors(model, df, kind="false_negative")
    every = ex.partial_dependence(model, df, "sex", max_rows=100)
    assert set(every.averages) == {str(c) for c in model.classes_} and not every.average
    one = ex.partial_dependence(model, df, "sex", target_class="Wife", max_rows=100)
    assert (
        one.output == "probability of 'Wife'"
        and one.average[one.grid.index("Female")] > one.average[one.grid.index("Male")]
    )
    assert ex.permutation_importance(model, df, n_repeats=2, max_rows=800).scoring == "accuracy"
    s = ex.surrogate_tree(model, df, max_depth=3)
    assert s.fidelity > s.baseline


def test_regression_paths(adult):
    df = adult.train.sample(2000, random_state=6)
    spec = infer_spec(df, target="hours-per-week")
    assert spec.task == "regression"
    model = _fit(df, spec, "ridge")
    r = ex.explain_local(model, df, rows=[df.index[0]], num_samples=FAST)
    e = r.explanations[0]
    assert e.explained_class is None and e.probability is None
    assert e.predicted == pytest.approx(model.predict(df.iloc[:1])[0]) and np.isfinite(e.local_prediction)
    over = ex.explain_worst_errors(model, df, kind="overestimate", n=2, num_samples=FAST)
    assert all(e.predicted > e.actual and e.error == "overestimate" for e in over)
    assert ex.permutation_importance(model, df, n_repeats=2, max_rows=800).scoring == "r2"
    s = ex.surrogate_tree(model, df, max_depth=3)
    assert s.fidelity_metric == "r2" and 0 < s.fidelity <= 1
    assert all(re.search(r"THEN -?[\d.]+ \(sd [\d.]+, [\d,]+ rows\)$", rule["text"]) for rule in s.rules)
    assert ex.partial_dependence(model, df, "age", max_rows=100).output == "predicted hours-per-week"


# -- bad input ---------------------------------------------------------------------------------
def _one_sentence(exc: BaseException) -> str:
    msg = str(exc)
    assert "\n" not in msg and ". " not in msg.rstrip("."), msg
    return msg


def test_bad_input_is_one_clear_sentence(forest, rows):
    train_rows, test_rows = rows
    with pytest.raises(DataError) as e:
        ex.explain_local(forest, test_rows, rows=10**9, reference=train_rows)
    assert "is not in the data" in _one_sentence(e.value)
    with pytest.raises(WorkbenchError) as e:
        ex.partial_dependence(forest, test_rows, "shoe-size")
    assert "'shoe-size' is not a feature" in _one_sentence(e.value)
    with pytest.raises(DataError) as e:
        ex.explain_worst_errors(forest, test_rows.drop(columns=["income"]), reference=train_rows)
    assert "'income'" in _one_sentence(e.value)
    with pytest.raises(WorkbenchError) as e:
        ex.explain_worst_errors(forest, test_rows, kind="worst")
    _one_sentence(e.value)
    with pytest.raises(DataError) as e:
        ex.explain_local(forest, test_rows.iloc[:5], rows=test_rows.index[0])  # too few rows to sample around
    assert "reference" in _one_sentence(e.value)
    with pytest.raises(DataError) as e:
        ex.surrogate_tree(forest, test_rows.drop(columns=["age"]))
    assert "'age'" in _one_sentence(e.value)
    with pytest.raises(WorkbenchError) as e:
        ex.explain_local(object(), test_rows)
    _one_sentence(e.value)


# -- the result protocol ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def results(forest, rows, local):
    train_rows, test_rows = rows
    return [
        local,
        ex.explain_worst_errors(
            forest, test_rows, kind="false_negative", n=2, reference=train_rows, num_samples=FAST
        ),
        ex.explanation_stability(
            forest, test_rows, rows=[test_rows.index[0]], reference=train_rows, seeds=2, num_samples=FAST
        ),
        ex.permutation_importance(forest, test_rows, n_repeats=2, max_rows=500),
        ex.partial_dependence(forest, test_rows, "age", max_rows=100),
        ex.surrogate_tree(forest, test_rows, max_depth=3),
    ]


def test_results_round_trip_and_render(results):
    for r in results:
        d = r.to_dict()
        assert d["kind"] == r.kind
        again = type(r).from_dict(json.loads(json.dumps(d)))
        assert again.to_dict() == d
        figs = again.figures()
        assert figs and again.figure() is not None
        assert again.findings() and all(isinstance(s, str) and s for s in again.findings())
        assert again._repr_html_().startswith("<div")
        assert all(c.name.startswith("explanation.") for c in again.checks())


def test_stored_results_render_without_lime_or_sklearn(results, tmp_path):
    path = tmp_path / "results.json"
    path.write_text(json.dumps([r.to_dict() for r in results]))
    code = f"""
import json, sys
from workbench import explain as ex
classes = {{c.kind: c for c in (ex.LocalExplanationResult, ex.StabilityResult, ex.ImportanceResult,
                               ex.PartialDependenceResult, ex.SurrogateResult)}}
for d in json.load(open({str(path)!r})):
    r = classes[d["kind"]].from_dict(d)
    r.figures(); r.findings(); r._repr_html_(); r.checks()
heavy = sorted(m for m in ("lime", "sklearn", "scipy") if m in sys.modules)
assert not heavy, heavy
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_explanations_are_stored_results_like_the_reports(results):
    from workbench.results import result_from_entry, result_to_entry

    for r in results:
        entry = json.loads(json.dumps(result_to_entry(r)))
        assert entry["kind"] == r.kind
        again = result_from_entry(entry)
        assert type(again) is type(r) and again.to_dict() == r.to_dict()
    import workbench as wb

    assert wb.explain_local is ex.explain_local and wb.surrogate_tree is ex.surrogate_tree
