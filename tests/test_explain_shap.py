"""SHAP explanations: exact tree SHAP adds up to the model's output, in the original columns; the kernel
explainer for the others; worst errors; the global summary and its rank agreement; bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from tests.test_explain import _fit
from workbench import explain as ex
from workbench.data import infer_spec
from workbench.errors import DataError, ParameterError, UnknownNameError, WorkbenchError

KERNEL = dict(background=10, nsamples=100)  # where speed, not precision, matters


@pytest.fixture(scope="module")
def rows(adult):
    return adult.train.sample(3000, random_state=21), adult.test.sample(1500, random_state=22)


@pytest.fixture(scope="module")
def models(adult, rows):
    return {r: _fit(rows[0], adult.spec, r) for r in ("random_forest", "hist_gradient_boosting")}


@pytest.fixture(scope="module")
def linear(adult, rows):
    return _fit(rows[0], adult.spec, "logistic_regression")


def _raw_output(model, data):
    """The model's own output in the units tree SHAP explains (forest: probability; boosting: log-odds)."""
    pipe = model.estimator
    if type(pipe[-1]).__name__.startswith("HistGradientBoosting"):
        z = pipe.decision_function(model.prepare(data))
        return z if model.positive_index == 1 else -z
    return model.predict_proba(data)[:, model.positive_index]


# -- the done-when: tree SHAP adds up to the model's output, in the original columns ----
@pytest.mark.parametrize("recipe", ["random_forest", "hist_gradient_boosting"])
def test_tree_shap_values_add_up_to_the_models_output_in_the_original_columns(recipe, models, rows, adult):
    model, test = models[recipe], rows[1]
    chosen = list(test.index[:20])
    result = ex.explain_shap(model, test, rows=chosen)
    assert result.method == "tree" and len(result) == 20
    expected = _raw_output(model, test.loc[chosen])
    proba = model.predict_proba(test.loc[chosen])[:, model.positive_index]
    for e, out, p in zip(result, expected, proba, strict=True):
        assert [c["feature"] for c in e.contributions] != []
        assert sorted(c["feature"] for c in e.contributions) == sorted(adult.spec.features)  # one per column
        assert result.base_value + e.total() == pytest.approx(out, abs=1e-6)
        assert e.output == pytest.approx(out, abs=1e-9) and e.probability == pytest.approx(p)
        if result.output.startswith("log-odds"):  # boosting: the log-odds turn into the probability
            assert 1 / (1 + np.exp(-(result.base_value + e.total()))) == pytest.approx(p, abs=1e-6)
    assert result.output.startswith("probability" if recipe == "random_forest" else "log-odds")
    assert result.key_metrics()["explanation.shap.additivity_gap"] < 1e-6
    json.dumps(result.to_dict(), allow_nan=False)  # strict JSON: what results.json stores
    assert e.contributions == sorted(e.contributions, key=lambda c: -abs(c["shap"]))


def test_one_hot_parts_are_summed_back_to_their_column(adult, rows):
    """A tree on one-hot columns: TreeExplainer sees the parts, the result shows one value per column."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    from workbench.data._spec import prepare_frame, target_values
    from workbench.explain._shap import encoded_groups
    from workbench.modeling.artifact import Model

    spec = adult.spec
    names = spec.model_names
    prep = ColumnTransformer(
        [
            ("num", "passthrough", [names[c] for c in spec.numeric]),
            (
                "cat",
                OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                [names[c] for c in spec.categorical],
            ),
        ],
        verbose_feature_names_out=False,
    )
    pipe = Pipeline([("prep", prep), ("model", RandomForestClassifier(n_estimators=20, random_state=0))])
    train_rows, test = rows
    pipe.fit(prepare_frame(train_rows, spec).rename(columns=names), target_values(train_rows, spec))
    model = Model(pipe, spec, name="onehot_forest")
    width = len(prep.get_feature_names_out())
    groups = encoded_groups(prep, spec.features, names, width)
    assert width > len(spec.features) and sorted(set(groups)) == list(range(len(spec.features)))
    cats = prep.named_transformers_["cat"].categories_
    for c, k in zip(spec.categorical, cats, strict=True):
        assert (groups == spec.features.index(c)).sum() == len(k)
    result = ex.explain_shap(model, test, rows=list(test.index[:5]))
    expected = model.predict_proba(test.loc[test.index[:5]])[:, model.positive_index]
    for e, out in zip(result, expected, strict=True):
        assert len(e.contributions) == len(spec.features)
        assert result.base_value + e.total() == pytest.approx(out, abs=1e-6)


# -- the model-agnostic explainer ----
def test_the_kernel_explainer_explains_the_other_recipes_in_original_columns(linear, rows, adult):
    train_rows, test = rows
    chosen = list(test.index[:3])
    result = ex.explain_shap(linear, test, rows=chosen, reference=train_rows, **KERNEL)
    assert result.method == "kernel" and result.background_rows == 10 and result.nsamples == 100
    proba = linear.predict_proba(test.loc[chosen])[:, linear.positive_index]
    for e, p in zip(result, proba, strict=True):
        assert sorted(c["feature"] for c in e.contributions) == sorted(adult.spec.features)
        assert result.base_value + e.total() == pytest.approx(p, abs=1e-6)
        cat = next(c for c in e.contributions if c["feature"] == "relationship")
        assert cat["value"] == test.loc[e.row_id, "relationship"]  # the row's own category, not a code
    again = ex.explain_shap(linear, test, rows=chosen, reference=train_rows, **KERNEL)
    assert again.to_dict()["explanations"] == result.to_dict()["explanations"]  # seeded
    assert again.base_value == result.base_value
    tree_as_kernel = ex.explain_shap(
        linear, test, rows=chosen[:1], reference=train_rows, method="kernel", **KERNEL
    )
    assert tree_as_kernel.method == "kernel"


def test_worst_errors_are_the_rows_lime_explains(models, rows):
    model, test = models["hist_gradient_boosting"], rows[1]
    shap_rows = ex.explain_shap_worst_errors(model, test, kind="false_negative", n=4)
    lime_rows = ex.explain_worst_errors(model, test, kind="false_negative", n=4, num_samples=100)
    assert [e.row_id for e in shap_rows] == [e.row_id for e in lime_rows]
    assert all(e.error == "false negative" and e.actual == ">50K" for e in shap_rows)
    assert shap_rows.selection["method"] == "worst_errors" and shap_rows.selection["n_errors"] >= 4
    assert "false negative" in shap_rows.findings()[0]


# -- the global summary ----
def test_the_summary_ranks_columns_and_reports_rank_agreement(models, rows, adult):
    model, test = models["random_forest"], rows[1]
    summary = ex.shap_summary(model, test, reference=rows[0], max_rows=300, random_state=0)
    assert summary.n_rows == 300 and sorted(summary.ranking) == sorted(adult.spec.features)
    scores = [f["mean_abs_shap"] for f in summary.features]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0
    assert summary.ranking[0] in {"relationship", "marital-status", "capital-gain", "education-num", "age"}
    assert [a["method"] for a in summary.agreement] == ["permutation importance", "LIME"]
    for a in summary.agreement:
        assert -1 <= a["spearman"] <= 1 and -1 <= a["kendall"] <= 1 and 0 <= a["top_k_overlap"] <= 1
        assert sorted(a["ranking"]) == sorted(adult.spec.features)
    assert summary.agreement[0]["spearman"] > 0.3  # two views of one model: broadly the same columns matter
    assert any("Spearman" in s for s in summary.findings())
    assert set(summary.figures()) == {"importance", "beeswarm", "dependence"}
    assert summary.dependence_feature == summary.ranking[0]
    age = summary.column("age")
    assert age["kind"] == "numeric" and len(age["values"]) == len(age["shap"]) == 300
    summary.dependence_figure("relationship", color_by="age")
    stored = json.loads(json.dumps(summary.to_dict()))
    assert type(summary).from_dict(stored).to_dict() == summary.to_dict()
    assert list(summary.agreement_table().columns) == [
        "method",
        "spearman",
        "kendall",
        "top_k",
        "top_k_overlap",
    ]


def test_the_summary_uses_given_comparisons_and_skips_importance_without_labels(models, rows, adult):
    model, test = models["hist_gradient_boosting"], rows[1]
    importance = ex.permutation_importance(model, test, n_repeats=2, max_rows=500)
    summary = ex.shap_summary(model, test, max_rows=100, importance=importance, feature="age", compare=True)
    assert summary.dependence_feature == "age" and summary.agreement[0]["method"] == "permutation importance"
    unlabelled = test.drop(columns=[adult.spec.target])
    alone = ex.shap_summary(
        model,
        unlabelled,
        max_rows=100,
        lime=ex.explain_local(model, test, rows=list(test.index[:2]), num_samples=100),
    )
    assert [a["method"] for a in alone.agreement] == ["LIME"]
    assert any("no labels" in s for s in alone.findings())
    bare = ex.shap_summary(model, test, max_rows=50, compare=False)
    assert bare.agreement == [] and bare.n_rows == 50


# -- bad input: one sentence each ----
def test_bad_input_is_refused_with_a_sentence(models, linear, rows, adult):
    model, test = models["random_forest"], rows[1]
    with pytest.raises(DataError, match="row 10000000 is not in the data"):
        ex.explain_shap(model, test, rows=[10_000_000])
    with pytest.raises(UnknownNameError, match="'nope' is not a column of the model; its columns are 'age'"):
        ex.shap_summary(model, test, feature="nope", compare=False)
    summary = ex.shap_summary(model, test, max_rows=20, compare=False)
    with pytest.raises(UnknownNameError, match="no column 'nope' in the SHAP summary"):
        summary.dependence_figure("nope")
    with pytest.raises(UnknownNameError, match="row 'nope' was not explained"):
        ex.explain_shap(model, test, rows=[test.index[0]])["nope"]
    with pytest.raises(ParameterError, match="method='tree' needs a tree model .* not a LogisticRegression"):
        ex.explain_shap(linear, test, rows=[test.index[0]], method="tree")
    with pytest.raises(ParameterError, match="unknown SHAP method 'exact'"):
        ex.explain_shap(model, test, rows=[test.index[0]], method="exact")
    with pytest.raises(DataError, match="lacks|missing"):
        ex.explain_shap(model, test.drop(columns=["age"]), rows=[test.index[0]])
    with pytest.raises(ParameterError, match="false_positive"):
        ex.explain_shap_worst_errors(model, test, kind="overestimate")


@pytest.mark.parametrize("target", ["hours-per-week", "race"])
def test_regression_and_multiclass_models_are_refused_saying_what_is_supported(target, adult):
    data = adult.train.sample(600, random_state=3).drop(columns=["income"])
    spec = infer_spec(data, target=target)
    model = _fit(data, spec, "ridge" if spec.task == "regression" else "logistic_regression")
    for call in (
        lambda: ex.explain_shap(model, data, rows=[data.index[0]]),
        lambda: ex.shap_summary(model, data),
        lambda: ex.explain_shap_worst_errors(model, data),
    ):
        with pytest.raises(ParameterError) as err:
            call()
        assert f"support binary classifiers (the positive class's probability), not {spec.task}" in str(
            err.value
        )
        assert "explain_local (LIME)" in str(err.value)
        assert isinstance(err.value, WorkbenchError | ValueError)


def test_stored_shap_results_render_without_shap_or_scikit_learn(models, rows):
    stored = ex.explain_shap(models["random_forest"], rows[1], rows=[rows[1].index[0]]).to_dict()
    code = (
        "import json, sys\n"
        "from workbench.results import result_class\n"
        f"r = result_class('shap_explanation').from_dict(json.loads({json.dumps(json.dumps(stored))}))\n"
        "r._repr_html_(); r.figures(); r.findings()\n"
        "print(sorted(m for m in ('shap', 'numba', 'sklearn', 'lime') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
