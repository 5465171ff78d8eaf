"""The compression study: variants, parity and budget gates, the chosen model, the CLI, bad input."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.compression import TECHNIQUES, CompressionResult, compress
from workbench.data._spec import prepare_frame, target_values
from workbench.data.datasets import load_demo
from workbench.errors import DataError, WorkbenchError
from workbench.modeling.artifact import Model, artifact_size, load_model, save_model
from workbench.modeling.train import build_pipeline

# On a busy 2-core machine, idle OpenMP threads make single-row predictions ~250x slower: one thread each.
pytestmark = pytest.mark.usefixtures("one_thread_per_library")

#: what every variant's dict holds (a study's to_dict, the CLI's --json)
VARIANT_KEYS = {
    "name",
    "auc",
    "size_bytes",
    "latency_p50_us",
    "latency_p95_us",
    "throughput_rows_s",
    "parity_max_abs_diff",
    "accepted",
    "reason",
}


def fit_model(recipe: str, rows: pd.DataFrame, spec, name: str | None = None, **params) -> Model:
    pipe = build_pipeline(recipe, spec, quick=True, params=params or None)
    pipe.fit(prepare_frame(rows, spec).rename(columns=spec.model_names), target_values(rows, spec))
    if "n_jobs" in pipe.named_steps["model"].get_params():
        pipe.named_steps["model"].set_params(n_jobs=1)
    return Model(pipe, spec, name=name or recipe)


@pytest.fixture(scope="module")
def rows(adult):
    return adult.train.sample(1500, random_state=3), adult.test.sample(1000, random_state=4), adult.spec


@pytest.fixture(scope="module")
def forest(rows):
    train_rows, _, spec = rows
    return fit_model("random_forest", train_rows, spec, n_estimators=16)


@pytest.fixture(scope="module")
def study(forest, rows, tmp_path_factory):
    train_rows, test_rows, _ = rows
    out = tmp_path_factory.mktemp("compressed")
    return compress(forest, train_rows, validation=test_rows, out=out, quick=True, progress=False)


# -- the study on a forest -----------------------------------------------------------------------
def test_every_technique_is_tried_and_explained(study):
    status = {t.technique: t for t in study.techniques}
    assert set(status) == set(TECHNIQUES)
    assert status["quantization"].status == "not applicable" and "int8" in status["quantization"].reason
    for name in ("onnx", "drop_trees", "capacity", "feature_pruning", "distillation"):
        assert status[name].status == "applied" and status[name].variants, name
    assert not [v for v in study.variants if v.technique == "quantization"]  # never a fake variant
    # chaining: every scikit-learn variant is also exported to ONNX, checked against its parent
    for v in study.variants:
        if v.kind == "sklearn" and v.technique != "original":
            child = study[f"{v.name}+onnx"]
            assert child.exact and child.parent == v.name and child.kind == "onnx"


def test_budget_and_parity_are_respected(study):
    assert study.original.accepted and study.original.loss == 0.0
    for v in study.variants[1:]:
        assert v.reason
        if v.accepted:
            assert v.loss <= study.max_loss + 1e-12, v
            if v.exact:
                assert v.parity_max_abs_diff <= 1e-5, v
        else:
            assert v.reason.startswith("rejected:"), v
            assert v.loss > study.max_loss or (v.exact and v.parity_max_abs_diff > 1e-5), v
    exact = [v for v in study.variants if v.exact]
    assert exact and all(v.parity_max_abs_diff <= 1e-5 for v in exact)  # forests convert exactly
    assert all(v.size_bytes > 0 and v.latency_p50_us > 0 and v.throughput_rows_s > 0 for v in study.variants)


def test_chosen_is_the_fastest_within_budget(study):
    chosen = study.chosen_variant
    accepted = [v for v in study.variants if v.accepted]
    assert chosen.accepted
    assert chosen.latency_p50_us <= min(v.latency_p50_us for v in accepted) * (1 + study.latency_tolerance)
    assert chosen.kind == "onnx"  # a DataFrame pipeline is never the fastest
    assert study.speedup() > 10, study.to_dict()["variants"]
    assert "fastest" in study.reason


def test_chosen_reloads_and_predicts_identically_to_the_study(study, rows):
    _, test_rows, spec = rows
    loaded = load_model(study.chosen_path)
    in_memory = study.chosen_model
    np.testing.assert_array_equal(loaded.predict_proba(test_rows), in_memory.predict_proba(test_rows))
    from sklearn.metrics import roc_auc_score

    y = target_values(test_rows, spec) == spec.positive_label
    auc = roc_auc_score(y, loaded.predict_score(test_rows))
    assert auc == pytest.approx(study.chosen_variant.score, abs=1e-12)
    assert loaded.meta["lineage"]["technique"] == study.chosen_variant.technique
    assert loaded.meta["metrics"]["roc_auc"] == pytest.approx(auc, abs=1e-12)
    # the sizes are those of the saved artifacts
    for v in study.variants:
        assert artifact_size(v.path) == v.size_bytes


def test_frontier_is_the_set_of_undominated_variants(study):
    valid = [v for v in study.variants if not v.parity_failed]

    def dominates(a, b):
        return (
            a.latency_p50_us <= b.latency_p50_us
            and a.score >= b.score
            and (a.latency_p50_us < b.latency_p50_us or a.score > b.score)
        )

    for v in valid:
        beaten = any(dominates(o, v) for o in valid if o is not v)
        assert v.on_frontier == (not beaten), v.name
    assert (
        study.frontier
        and study.frontier[0] == min((v for v in valid if v.on_frontier), key=lambda v: v.latency_p50_us).name
    )


def test_result_round_trips_and_renders(study, rows):
    import plotly.graph_objects as go

    d = study.to_dict()
    text = json.dumps(d)
    again = CompressionResult.from_dict(json.loads(text))
    assert again.to_dict() == d
    assert VARIANT_KEYS <= set(d["variants"][0])
    assert d["chosen"]["name"] == study.chosen and d["chosen"]["path"] == study.chosen_path
    figs = again.figures()
    assert set(figs) == {"frontier", "size"} and all(
        isinstance(f, go.Figure) and f.data for f in figs.values()
    )
    assert study.chosen in again._repr_html_()
    assert again.findings()[0].startswith("Chosen:")
    head = rows[1].iloc[:5]  # a stored result loads its variants from their files
    np.testing.assert_array_equal(
        again.model(study.chosen).predict_proba(head), study.chosen_model.predict_proba(head)
    )
    assert list(study.table().index) == [v.name for v in study.variants]


# -- other models and tasks -----------------------------------------------------------------------
def test_a_model_no_technique_supports_keeps_the_original(rows):
    from sklearn.dummy import DummyClassifier

    train_rows, test_rows, spec = rows
    X = prepare_frame(train_rows, spec).rename(columns=spec.model_names)
    model = Model(DummyClassifier().fit(X, target_values(train_rows, spec)), spec, name="dummy")
    result = compress(model, train_rows, validation=test_rows, quick=True, progress=False)
    assert [v.name for v in result.variants] == ["original"]
    assert result.chosen == "original"
    reasons = {t.technique: t for t in result.techniques}
    assert set(reasons) == set(TECHNIQUES)
    for t in reasons.values():
        assert t.status in ("not supported", "not applicable") and t.reason.startswith(t.status), t
    assert "DummyClassifier" in reasons["onnx"].reason
    assert "nothing to distil" in reasons["distillation"].reason
    assert "no technique produced a variant" in result.reason
    assert "original model is kept" in result.findings()[0]


def test_a_variant_that_cannot_be_exported_is_reported(rows):
    from sklearn.dummy import DummyClassifier
    from sklearn.pipeline import Pipeline

    train_rows, test_rows, spec = rows
    prep = build_pipeline("random_forest", spec).steps[0][1]
    pipe = Pipeline([("prep", prep), ("model", DummyClassifier())])
    pipe.fit(
        prepare_frame(train_rows, spec).rename(columns=spec.model_names), target_values(train_rows, spec)
    )
    result = compress(
        Model(pipe, spec, name="dummy"),
        train_rows,
        validation=test_rows,
        techniques=["onnx", "feature_pruning"],
        quick=True,
        progress=False,
    )
    outcome = {t.technique: t for t in result.techniques}
    assert outcome["onnx"].status == "not supported"
    pruning = outcome["feature_pruning"]
    assert (
        pruning.status == "applied" and pruning.variants and not any("+onnx" in n for n in pruning.variants)
    )
    assert (
        "was not exported to ONNX: not supported: skl2onnx has no converter for DummyClassifier"
        in pruning.reason
    )


def test_a_budget_no_variant_meets_keeps_the_original(forest, rows, tmp_path):
    train_rows, test_rows, _ = rows
    # dropping trees (no retraining, so deterministic) loses AUC on this forest; a zero budget allows none
    result = compress(
        forest,
        train_rows,
        validation=test_rows,
        max_loss=0.0,
        techniques=["drop_trees"],
        out=tmp_path / "out",
        quick=True,
        progress=False,
    )
    assert len(result.variants) > 1 and not any(v.accepted for v in result.variants[1:])
    assert all(v.loss > 0 for v in result.variants[1:])
    assert result.chosen == "original"
    assert "none of the" in result.reason and "budget" in result.reason
    assert "original model is kept" in result.findings()[0]
    kept = load_model(result.chosen_path)
    assert kept.kind == "sklearn"
    np.testing.assert_array_equal(kept.predict_proba(test_rows), forest.predict_proba(test_rows))


def test_a_conversion_that_changes_predictions_is_rejected(rows):
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OrdinalEncoder

    train_rows, test_rows, spec = rows
    names = spec.model_names
    num, cat = [names[c] for c in spec.numeric], [names[c] for c in spec.categorical]
    prep = ColumnTransformer(
        [
            ("num", SimpleImputer(), num),
            ("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan), cat),
        ],
        verbose_feature_names_out=False,
    )
    native = HistGradientBoostingClassifier(
        max_iter=10, random_state=0, categorical_features=list(range(len(num), len(num) + len(cat)))
    )
    pipe = Pipeline([("prep", prep), ("model", native)])
    pipe.fit(prepare_frame(train_rows, spec).rename(columns=names), target_values(train_rows, spec))
    result = compress(
        Model(pipe, spec, name="native"),
        train_rows,
        validation=test_rows.iloc[:400],
        techniques=["onnx"],
        quick=True,
        progress=False,
    )
    onnx = result["onnx"]
    assert not onnx.accepted and onnx.parity_failed and onnx.parity_max_abs_diff > 1e-3
    assert "differ" in onnx.reason and "native categorical" in onnx.reason
    assert result.chosen == "original" and not onnx.on_frontier


def test_multiclass_and_regression(tmp_path):
    wine = load_demo("wine")
    lr = fit_model("logistic_regression", wine.train, wine.spec)
    result = compress(
        lr, wine.train, validation=wine.test, techniques=["onnx", "quantization"], quick=True, progress=False
    )
    assert result.metric == "roc_auc" and result.task == "multiclass"
    assert result["onnx"].accepted and result["onnx"].parity_max_abs_diff <= 1e-5
    assert result["int8"].technique == "quantization" and result["int8"].parity_max_abs_diff is None

    diabetes = load_demo("diabetes")
    forest = fit_model("random_forest", diabetes.train, diabetes.spec, n_estimators=20)
    result = compress(
        forest,
        diabetes.train,
        validation=diabetes.test,
        metric="rmse",
        max_loss=5.0,
        techniques=["onnx", "capacity"],
        quick=True,
        progress=False,
    )
    assert result.metric == "rmse" and not result.higher_is_better
    onnx = result["onnx"]
    assert onnx.accepted and onnx.params["precision"] == "float32"
    for v in result.variants[1:]:
        assert v.loss == pytest.approx(v.score - result.original_score)
        assert v.accepted == (v.loss <= 5.0 and (not v.exact or v.parity_max_abs_diff is not None))
    assert result.chosen_variant.accepted and result.chosen != "original"
    assert result.to_dict()["variants"][0]["auc"] is None


# -- bad input ------------------------------------------------------------------------------------
def test_data_without_the_target_is_refused(forest, rows):
    train_rows, test_rows, _ = rows
    with pytest.raises(DataError, match="target column 'income' is missing from the compression data"):
        compress(forest, train_rows.drop(columns=["income"]), progress=False)
    with pytest.raises(DataError, match="'income' is missing from the validation data"):
        compress(forest, train_rows, validation=test_rows.drop(columns=["income"]), progress=False)
    with pytest.raises(DataError, match="'age'"):
        compress(forest, train_rows.drop(columns=["age"]), progress=False)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"techniques": ["pruning"]}, "unknown compression technique 'pruning'"),
        (
            {"max_loss": -0.1},
            r"budget \(the largest allowed loss of ROC AUC\) must be a finite number of 0 or more",
        ),
        ({"metric": "r2"}, "does not apply to a binary model"),
        ({"holdout_size": 1.5}, "held-out share"),
    ],
)
def test_bad_arguments_are_refused(forest, rows, kwargs, message):
    train_rows, _, _ = rows
    with pytest.raises(WorkbenchError, match=message):
        compress(forest, train_rows, progress=False, **kwargs)


def test_only_workbench_models_are_compressed(forest, rows):
    with pytest.raises(WorkbenchError, match="needs a workbench model"):
        compress(forest.estimator, rows[0], progress=False)


def _files(root):
    return {
        str(p.relative_to(root)): (None if p.is_dir() else p.read_bytes()) for p in sorted(root.rglob("*"))
    }


@pytest.mark.parametrize(
    "layout", ["file", "inside_a_file", "foreign_files", "foreign_model_wbm", "foreign_variant"]
)
def test_study_output_folder_is_checked_before_any_work(forest, rows, tmp_path, monkeypatch, layout):
    """The study replaces its own output (model.wbm, compression.json, variants/) and nothing else."""
    from workbench.compression import _runner, check_study_destination

    out = tmp_path / "out"
    if layout == "file":
        out.write_text("a file")
    elif layout == "inside_a_file":
        (tmp_path / "notes.txt").write_text("x")
        out = tmp_path / "notes.txt" / "out"
    else:
        out.mkdir()
        if layout == "foreign_files":
            (out / "thesis.tex").write_text("months of work")
        elif layout == "foreign_model_wbm":
            (out / "model.wbm").write_text("not a model")
        else:
            (out / "variants").mkdir()
            (out / "variants" / "keep.txt").write_text("mine")
    before = _files(tmp_path)

    def no_study(*args, **kwargs):
        raise AssertionError("the study ran")

    monkeypatch.setattr(_runner, "split_rows", no_study)
    with pytest.raises(WorkbenchError, match="not a folder|not a compression study's|not a workbench model"):
        check_study_destination(out)
    with pytest.raises(WorkbenchError, match="not a folder|not a compression study's|not a workbench model"):
        compress(forest, rows[0], out=out, progress=False)
    assert _files(tmp_path) == before


def test_study_output_of_a_previous_study_is_accepted(study, tmp_path):
    from workbench.compression import check_study_destination

    out = Path(study.chosen_path).parent
    assert check_study_destination(out) == out
    assert check_study_destination(tmp_path / "new" / "folder") == tmp_path / "new" / "folder"
    assert not (tmp_path / "new").exists()


# -- the command --------------------------------------------------------------------------------
def run_compress(argv: list[str], capsys) -> tuple[int, str, str]:
    """The command as `workbench compress` runs it (parser, exit codes)."""
    from workbench import cli
    from workbench.cli import compress as cli_compress

    parser = cli._Parser(prog="workbench")
    cli_compress.add_parser(parser.add_subparsers(dest="command", parser_class=cli._Parser))
    args = parser.parse_args(["compress", *argv])
    try:
        code = args.func(args)
    except WorkbenchError as exc:
        print(f"workbench: error: {exc}", file=sys.stderr)
        code = cli.EXIT_BAD_INPUT
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_compress_json(forest, rows, tmp_path, capsys):
    train_rows, test_rows, _ = rows
    model_path = save_model(forest, tmp_path / "forest.wbm")
    train_rows.to_csv(tmp_path / "train.csv", index=False)
    test_rows.to_csv(tmp_path / "test.csv", index=False)
    code, out, err = run_compress(
        [
            "--model",
            str(model_path),
            "--data",
            str(tmp_path / "train.csv"),
            "--validation",
            str(tmp_path / "test.csv"),
            "--max-auc-loss",
            "0.01",
            "--technique",
            "onnx",
            "--technique",
            "capacity",
            "--quick",
            "--out",
            str(tmp_path / "out"),
            "--json",
        ],
        capsys,
    )
    assert code == 0, err
    d = json.loads(out)
    assert d["variants"] and all(VARIANT_KEYS <= set(v) for v in d["variants"])
    assert d["max_loss"] == 0.01
    assert d["chosen"]["name"] in {v["name"] for v in d["variants"]}
    assert load_model(d["chosen"]["path"]).name.endswith(d["chosen"]["name"])
    assert json.loads((tmp_path / "out" / "compression.json").read_text())["chosen"] == d["chosen"]
    code, out, err = run_compress(
        [
            "--model",
            str(model_path),
            "--data",
            str(tmp_path / "train.csv"),
            "--technique",
            "onnx",
            "--quick",
            "--out",
            str(tmp_path / "out2"),
        ],
        capsys,
    )
    assert code == 0 and "chosen: onnx" in out and "original" in out


def test_cli_compress_bad_input(forest, rows, tmp_path, capsys):
    train_rows, _, _ = rows
    model_path = save_model(forest, tmp_path / "forest.wbm")
    train_rows.drop(columns=["income"]).to_csv(tmp_path / "unlabelled.csv", index=False)
    code, out, err = run_compress(
        [
            "--model",
            str(model_path),
            "--data",
            str(tmp_path / "unlabelled.csv"),
            "--out",
            str(tmp_path / "out"),
        ],
        capsys,
    )
    assert code == 2 and "target column 'income' is missing" in err and err.count("\n") == 1


def test_cli_choices_follow_the_library():
    from workbench.cli import compress as cli_compress
    from workbench.compression._measure import METRICS

    assert tuple(cli_compress.TECHNIQUES) == tuple(TECHNIQUES)
    assert tuple(cli_compress.METRICS) == tuple(METRICS)
    parser = argparse.ArgumentParser()
    cli_compress.add_parser(parser.add_subparsers())
