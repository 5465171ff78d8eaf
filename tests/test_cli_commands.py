"""Each command maps its options onto one Python API call.

The API is patched with a recorder, nothing heavy runs: in process and fast
(papermill's CLI test style); tests/test_cli.py runs the real work through subprocesses.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from workbench.cli import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, main
from workbench.errors import DataError, ParameterError, WorkbenchError


class Recorder:
    """Stands in for an API function: remembers every call, returns `result`."""

    def __init__(self, result=None):
        self.result, self.calls = result, []

    def __call__(self, *args, **kwargs):
        self.calls.append((args, kwargs))
        return self.result

    @property
    def args(self):
        return self.calls[-1][0]

    @property
    def kwargs(self):
        return self.calls[-1][1]


#: where each API function the commands call is defined (the commands import it from there when they run)
_DEFINED_IN = {
    "load_table": "workbench.data.io",
    "infer_spec": "workbench.data._spec",
    "train": "workbench.modeling.train",
    "evaluate": "workbench.modeling.evaluate",
    "save_model": "workbench.modeling.artifact",
    "load_model": "workbench.modeling.artifact",
    "compress": "workbench.compression._study",
}


def _patch_api(monkeypatch, name: str, result=None) -> Recorder:
    """Patch the API function `name` in its defining module with a recorder."""
    rec = Recorder(result)
    monkeypatch.setattr(f"{_DEFINED_IN[name]}.{name}", rec)
    return rec


def _patch_file_api(monkeypatch, name: str) -> tuple[Recorder, Recorder, Recorder]:
    """Recorders for what a ``*_from_files`` function calls: load_model (returns "MODEL"), load_table
    ("DATA") and the API function `name` ("RESULT")."""
    return (
        _patch_api(monkeypatch, "load_model", "MODEL"),
        _patch_api(monkeypatch, "load_table", "DATA"),
        _patch_api(monkeypatch, name, "RESULT"),
    )


class _Frame:
    def to_dict(self):
        return {"kind": "fake"}


# -- train ------------------------------------------------------------------------------------
class _Training(_Frame):
    notes = ["a note"]
    champion = "the-champion"
    champion_name = "random_forest"
    spec = SimpleNamespace(sensitive=["sex"], features=["x", "sex"])

    def leaderboard_text(self):
        return "LEADERBOARD"


@pytest.fixture
def train_api(monkeypatch, tmp_path):
    rec = Recorder((_Training(), tmp_path / "m.wbm"))
    monkeypatch.setattr("workbench.modeling.train.train_from_files", rec)
    return rec


_TRAIN_DEFAULTS = {
    "validation": None,
    "sensitive": [],
    "sensitive_as_features": True,
    "task": None,
    "positive": None,
    "drop": [],
    "recipes": None,
    "imbalance": "none",
    "cost": None,
    "search": False,
    "n_iter": 8,
    "quick": False,
    "random_state": 0,
    "overwrite": False,
}


def test_train(train_api, tmp_path, capsys):
    out = str(tmp_path / "m.wbm")
    code = main(
        [
            "train",
            "--data",
            "d.csv",
            "--target",
            "y",
            "--sensitive",
            "sex",
            "--model",
            "ridge",
            "--model",
            "random_forest",
            "--imbalance",
            "threshold",
            "--cost-fn",
            "5",
            "--search",
            "--n-iter",
            "3",
            "--validation",
            "v.csv",
            "--quick",
            "--seed",
            "7",
            "--drop",
            "drop-me",
            "--task",
            "binary",
            "--positive",
            "1",
            "--sensitive-not-feature",
            "--out",
            out,
        ]
    )
    assert code == EXIT_OK
    assert train_api.args == ("d.csv", "y")
    assert train_api.kwargs == {
        "out": out,
        "validation": "v.csv",
        "sensitive": ["sex"],
        "sensitive_as_features": False,
        "task": "binary",
        "positive": "1",
        "drop": ["drop-me"],
        "recipes": ["ridge", "random_forest"],
        "imbalance": "threshold",
        "cost": {"fn": 5.0, "fp": 1.0},
        "search": True,
        "n_iter": 3,
        "quick": True,
        "random_state": 7,
        "overwrite": False,
        "progress": True,
    }
    out = capsys.readouterr().out
    assert "note: a note" in out and "LEADERBOARD" in out and "champion: random_forest -> saved to" in out
    assert "the sensitive column(s) sex are also model features" in out


def test_train_defaults_and_json(train_api, tmp_path, capsys):
    out = str(tmp_path / "m")
    assert main(["train", "--data", "d.csv", "--target", "y", "--out", out, "--json"]) == EXIT_OK
    assert train_api.kwargs == {"out": out, **_TRAIN_DEFAULTS, "progress": False}
    assert json.loads(capsys.readouterr().out) == {"kind": "fake", "model_path": str(tmp_path / "m.wbm")}
    assert main(["train", "--data", "d.csv", "--target", "y", "--out", out, "--force"]) == EXIT_OK
    assert train_api.kwargs["overwrite"] is True


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--seed", "-1"], "--seed"),
        (["--seed", str(2**32)], "--seed"),
        (["--n-iter", "0"], "--n-iter"),
        (["--cost-fn", "-1"], "--cost-fn"),
        (["--cost-fp", "nan"], "--cost-fp"),
        (["--cost-fn", "0", "--cost-fp", "0"], "cannot both be 0"),
    ],
)
def test_train_refuses_bad_options_before_any_work(train_api, tmp_path, capsys, argv, message):
    assert (
        main(["train", "--data", "d.csv", "--target", "y", "--out", str(tmp_path / "m"), *argv])
        == EXIT_BAD_INPUT
    )
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and not train_api.calls


def test_train_refuses_an_existing_out_without_force(train_api, tmp_path, capsys):
    (tmp_path / "m.wbm").write_text("mine")
    assert (
        main(["train", "--data", "d.csv", "--target", "y", "--out", str(tmp_path / "m.wbm")])
        == EXIT_BAD_INPUT
    )
    err = capsys.readouterr().err
    assert "already exists" in err and "--force" in err and not train_api.calls


def test_train_from_files_loads_infers_trains_and_saves(monkeypatch, tmp_path):
    """The API function the command calls: one call that does what the command used to do step by step."""
    from workbench.modeling.train import train_from_files

    data = pd.DataFrame({"x": [1, 2], "drop-me": [0, 0], "y": [0, 1]})
    load = Recorder(data)
    monkeypatch.setattr("workbench.data.io.load_table", load)
    infer = Recorder("SPEC")
    monkeypatch.setattr("workbench.data._spec.infer_spec", infer)
    train = Recorder(_Training())
    monkeypatch.setattr("workbench.modeling.train.train", train)
    save = Recorder(tmp_path / "m.wbm")
    monkeypatch.setattr("workbench.modeling.artifact.save_model", save)
    destination = Recorder(tmp_path / "m.wbm")
    monkeypatch.setattr("workbench.modeling.artifact.check_model_destination", destination)
    result, path = train_from_files(
        "d.csv",
        "y",
        out=tmp_path / "m.wbm",
        validation="v.csv",
        sensitive=["sex"],
        sensitive_as_features=False,
        task="binary",
        positive="1",
        drop=["drop-me"],
        recipes=["ridge"],
        imbalance="threshold",
        cost={"fn": 5.0, "fp": 1.0},
        search=True,
        n_iter=3,
        quick=True,
        random_state=7,
        overwrite=True,
        progress=False,
    )
    assert result is train.result and path == tmp_path / "m.wbm"
    assert destination.args == (tmp_path / "m.wbm",) and destination.kwargs == {"overwrite": True}
    assert [c[0][0] for c in load.calls] == ["d.csv", "v.csv"]
    assert list(infer.args[0].columns) == ["x", "y"]
    assert infer.kwargs == {
        "target": "y",
        "sensitive": ["sex"],
        "task": "binary",
        "positive": "1",
        "sensitive_as_features": False,
    }
    assert train.args == (load.result, "SPEC")
    assert train.kwargs.pop("validation") is load.result  # the table loaded from v.csv
    assert train.kwargs == {
        "recipes": ["ridge"],
        "imbalance": "threshold",
        "cost": {"fn": 5.0, "fp": 1.0},
        "search": True,
        "n_iter": 3,
        "quick": True,
        "random_state": 7,
        "progress": False,
    }
    assert save.args == ("the-champion", tmp_path / "m.wbm") and save.kwargs == {"overwrite": True}
    with pytest.raises(DataError, match="the column to drop 'nope' is missing from the training data"):
        train_from_files("d.csv", "y", out=tmp_path / "m.wbm", drop=["nope"])
    with pytest.raises(ParameterError, match="n_iter"):
        train_from_files("d.csv", "y", out=tmp_path / "m.wbm", n_iter=0)
    assert len(train.calls) == 1


# -- evaluate ---------------------------------------------------------------------------------
class _Evaluation(_Frame):
    model_name, task, n_rows, threshold, metrics, latency, slices, slice_metric = (
        "m",
        "binary",
        10,
        0.3,
        {"roc_auc": 0.9},
        None,
        [],
        "roc_auc",
    )


def test_evaluate(monkeypatch, capsys):
    evaluate = Recorder(_Evaluation())
    monkeypatch.setattr("workbench.modeling.evaluate.evaluate_from_files", evaluate)
    code = main(
        [
            "evaluate",
            "--model",
            "m.wbm",
            "--data",
            "h.csv",
            "--threshold",
            "0.3",
            "--slice",
            "sex",
            "--cost-fp",
            "2",
            "--no-latency",
            "--trust",
            "a.B",
            "--json",
        ]
    )
    assert code == EXIT_OK
    assert evaluate.args == ("m.wbm", "h.csv")
    assert evaluate.kwargs == {
        "threshold": 0.3,
        "cost": {"fn": 1.0, "fp": 2.0},
        "slices": ["sex"],
        "latency": False,
        "trusted": ["a.B"],
        "registry": None,
    }
    assert json.loads(capsys.readouterr().out) == {"kind": "fake"}
    assert main(["evaluate", "--model", "m.wbm", "--data", "h.csv"]) == EXIT_OK
    assert evaluate.kwargs == {
        "threshold": None,
        "cost": None,
        "slices": None,
        "latency": True,
        "trusted": [],
        "registry": None,
    }
    out = capsys.readouterr().out
    assert "m (binary) on 10 rows, threshold 0.3" in out and "roc_auc" in out


def test_evaluate_from_files_loads_then_evaluates(monkeypatch):
    from workbench.modeling.evaluate import evaluate_from_files

    load_model, load_table, evaluate = _patch_file_api(monkeypatch, "evaluate")
    assert (
        evaluate_from_files(
            "m.wbm", "h.csv", threshold=0.3, cost={"fn": 2}, slices=["sex"], latency=False, trusted=("a.B",)
        )
        == "RESULT"
    )
    assert load_model.args == ("m.wbm",) and load_model.kwargs == {"trusted": ["a.B"], "registry": None}
    assert load_table.args == ("h.csv",) and load_table.kwargs == {"what": "evaluation data"}
    assert evaluate.args == ("MODEL", "DATA")
    assert evaluate.kwargs == {"threshold": 0.3, "cost": {"fn": 2}, "slices": ["sex"], "latency": False}
    with pytest.raises(ParameterError, match="threshold"):
        evaluate_from_files("m.wbm", "h.csv", threshold=1.5)
    assert len(load_model.calls) == 1  # refused before the model is read


# -- report -----------------------------------------------------------------------------------
@pytest.fixture
def run_report(monkeypatch, tmp_path):
    outcome = SimpleNamespace(
        summary={"status": "passed", "headline": "HEADLINE", "findings": ["f1"], "checks": []},
        run_dir=tmp_path / "run",
        exit_code=EXIT_OK,
        failed=[],
    )
    rec = Recorder(outcome)
    monkeypatch.setattr("workbench.reports.runner.run_report", rec)
    return rec


_REPORT_COMMON = {
    "reports_dir": "reports",
    "name": None,
    "checks": None,
    "fail_on": [],
    "junit": None,
    "progress": True,
}


def test_report_drift(run_report, capsys):
    code = main(
        [
            "report",
            "drift",
            "--reference",
            "r.csv",
            "--current",
            "c.csv",
            "--model",
            "m.wbm",
            "--target",
            "y",
            "--period",
            "2026-11-28",
            "--name",
            "nightly",
            "--reports-dir",
            "out",
            "--checks",
            "checks.toml",
            "--fail-on",
            "drift.*",
            "--fail-on",
            "all",
            "--junit",
            "j.xml",
        ]
    )
    assert code == EXIT_OK
    assert run_report.args == (
        "drift",
        {"reference": "r.csv", "current": "c.csv", "model": "m.wbm", "target": "y", "period": "2026-11-28"},
    )
    assert run_report.kwargs == {
        **_REPORT_COMMON,
        "reports_dir": "out",
        "name": "nightly",
        "checks": "checks.toml",
        "fail_on": ["drift.*", "all"],
        "junit": "j.xml",
    }
    out = capsys.readouterr().out
    assert "HEADLINE" in out and "  - f1" in out and "report.html" in out


def test_report_bias(run_report, capsys):
    assert (
        main(
            [
                "report",
                "bias",
                "--data",
                "b.csv",
                "--model",
                "m.wbm",
                "--sensitive",
                "sex",
                "--sensitive",
                "race",
                "--reference",
                "r.csv",
                "--json",
            ]
        )
        == EXIT_OK
    )
    assert run_report.args == (
        "bias",
        {
            "data": "b.csv",
            "model": "m.wbm",
            "sensitive": ["sex", "race"],
            "reference": "r.csv",
            "period": None,
        },
    )
    assert run_report.kwargs == {**_REPORT_COMMON, "progress": False}
    assert json.loads(capsys.readouterr().out)["headline"] == "HEADLINE"


def test_report_performance_and_its_exit_codes(run_report, capsys):
    assert main(["report", "performance", "--data", "p.csv", "--model", "m.wbm"]) == EXIT_OK
    assert run_report.args == (
        "performance",
        {"data": "p.csv", "model": "m.wbm", "reference": None, "period": None},
    )
    assert run_report.kwargs == _REPORT_COMMON
    capsys.readouterr()
    run_report.result.exit_code, run_report.result.failed = 1, ["drift.target"]
    assert main(["report", "performance", "--data", "p.csv", "--model", "m.wbm"]) == 1
    assert "1 check(s) failed: drift.target" in capsys.readouterr().err
    run_report.result.exit_code = EXIT_FAILED
    run_report.result.summary.update(status="failed", error="KernelDied")
    assert main(["report", "performance", "--data", "p.csv", "--model", "m.wbm"]) == EXIT_FAILED
    assert "the performance report run failed: KernelDied" in capsys.readouterr().err


def test_report_canary(run_report):
    argv = [
        "report",
        "canary",
        "--log",
        "logs",
        "--since",
        "24h",
        "--min-rows",
        "50",
        "--fail-on",
        "canary.score",
    ]
    assert main(argv) == EXIT_OK
    assert run_report.args == (
        "canary",
        {"log": "logs", "since": "24h", "until": None, "min_rows": 50, "period": None},
    )
    assert run_report.kwargs == {**_REPORT_COMMON, "fail_on": ["canary.score"]}


def test_labels_join(monkeypatch, capsys):
    from workbench.serving.labels import LabelJoin

    result = LabelJoin("logs", "l.csv", "case", "income", 10, 8, 2, 0, 20, 12, 0, "logs/labels/x.parquet")
    rec = Recorder(result)
    monkeypatch.setattr("workbench.serving.labels.join_labels", rec)
    assert main(["labels", "join", "--log", "logs", "--labels", "l.csv", "--id", "case"]) == EXIT_OK
    assert rec.args == ("logs", "l.csv") and rec.kwargs == {"id_column": "case", "target": None, "out": None}
    out = capsys.readouterr().out
    assert out.startswith("8 of 10 labels matched") and "2 ids are not in the log" in out
    assert main(["labels", "join", "--log", "d", "--labels", "l", "--id", "i", "--out", "o", "--json"]) == 0
    assert rec.kwargs["out"] == "o" and json.loads(capsys.readouterr().out)["n_matched"] == 8
    assert main(["labels"]) == EXIT_BAD_INPUT and "name an action: join" in capsys.readouterr().err


def test_report_without_a_kind(capsys):
    assert main(["report"]) == EXIT_BAD_INPUT
    assert "name a report kind" in capsys.readouterr().err


# -- runs -------------------------------------------------------------------------------------
def test_runs(monkeypatch, tmp_path, capsys):
    calls = {}

    class FakeLedger:
        unreadable = []

        def __init__(self, root):
            calls["root"] = root

        def rebuild(self):
            calls["rebuild"] = True
            return 0

        def runs(self, **kwargs):
            calls["runs"] = kwargs
            return [{"id": "r1", "kind": "drift", "status": "passed", "checks": []}]

    monkeypatch.setattr("workbench.reports.ledger.Ledger", FakeLedger)
    assert (
        main(
            ["runs", "--reports-dir", str(tmp_path), "--kind", "bias", "--limit", "5", "--rebuild", "--json"]
        )
        == EXIT_OK
    )
    assert calls == {"root": tmp_path, "rebuild": True, "runs": {"kind": "bias", "limit": 5}}
    assert json.loads(capsys.readouterr().out)[0]["id"] == "r1"
    assert main(["runs", "--reports-dir", str(tmp_path / "nope")]) == EXIT_BAD_INPUT
    assert main(["runs", "--reports-dir", str(tmp_path), "--limit", "0"]) == EXIT_BAD_INPUT


# -- compress ---------------------------------------------------------------------------------
def test_compress(monkeypatch, capsys):
    compress = Recorder(_Frame())
    monkeypatch.setattr("workbench.compression._study.compress_from_files", compress)
    code = main(
        [
            "compress",
            "--model",
            "m.wbm",
            "--data",
            "d.csv",
            "--validation",
            "v.csv",
            "--max-loss",
            "0.01",
            "--metric",
            "r2",
            "--technique",
            "onnx",
            "--technique",
            "capacity",
            "--batch-threads",
            "2",
            "--quick",
            "--seed",
            "3",
            "--trust",
            "a.B",
            "--out",
            "out",
            "--json",
        ]
    )
    assert code == EXIT_OK
    assert compress.args == ("m.wbm", "d.csv")
    assert compress.kwargs == {
        "out": "out",
        "validation": "v.csv",
        "max_loss": 0.01,
        "metric": "r2",
        "techniques": ["onnx", "capacity"],
        "batch_threads": 2,
        "quick": True,
        "random_state": 3,
        "trusted": ["a.B"],
        "registry": None,
        "progress": False,
    }
    assert json.loads(capsys.readouterr().out) == {"kind": "fake"}
    main(["compress", "--model", "m.wbm", "--data", "d.csv", "--out", "out", "--json"])
    assert compress.kwargs["max_loss"] == 0.005 and compress.kwargs["validation"] is None
    assert (
        main(["compress", "--model", "m.wbm", "--data", "d.csv", "--out", "o", "--max-auc-loss", "-1"]) == 2
    )
    assert len(compress.calls) == 2


def test_compress_from_files_loads_then_compresses(monkeypatch):
    from workbench.compression._study import compress_from_files

    load_model, load_table, compress = _patch_file_api(monkeypatch, "compress")
    assert (
        compress_from_files(
            "m.wbm",
            "d.csv",
            out="out",
            validation="v.csv",
            max_loss=0.01,
            metric="r2",
            techniques=["onnx"],
            batch_threads=2,
            quick=True,
            random_state=3,
            trusted=["a.B"],
            progress=False,
        )
        == "RESULT"
    )
    assert load_model.args == ("m.wbm",) and load_model.kwargs == {"trusted": ["a.B"], "registry": None}
    assert [c[0][0] for c in load_table.calls] == ["d.csv", "v.csv"]
    assert compress.args == ("MODEL", "DATA")
    assert compress.kwargs == {
        "max_loss": 0.01,
        "metric": "r2",
        "validation": "DATA",
        "techniques": ["onnx"],
        "out": "out",
        "batch_threads": 2,
        "quick": True,
        "random_state": 3,
        "progress": False,
    }
    compress_from_files("m.wbm", "d.csv", out="out")
    assert compress.kwargs["validation"] is None and compress.kwargs["max_loss"] == 0.005


# -- dashboard --------------------------------------------------------------------------------
def test_dashboard(monkeypatch):
    serve = Recorder(0)
    monkeypatch.setattr("workbench.dashboards.server.serve", serve)
    code = main(
        [
            "dashboard",
            "--reports-dir",
            "r",
            "--port",
            "8899",
            "--host",
            "0.0.0.0",
            "--allow-host",
            "dash.example.org",
            "--no-browser",
            "--token",
            "t",
            "--max-kernels",
            "3",
            "--cull-closed",
            "5",
            "--cull-idle",
            "0",
            "--preheat",
            "1",
            "--spare-kernels",
            "2",
            "--registry",
            "reg",
        ]
    )
    assert code == EXIT_OK
    assert serve.args == ("r",)
    assert serve.kwargs == {
        "host": "0.0.0.0",
        "port": 8899,
        "token": "t",
        "no_token": False,
        "open_browser": False,
        "cull_idle": 0,
        "cull_closed": 5,
        "max_kernels": 3,
        "allow_hosts": ["dash.example.org"],
        "preheat": 1,
        "spare_kernels": 2,
        "registry": "reg",
    }
    assert main(["dashboard", "--port", "70000"]) == EXIT_BAD_INPUT
    assert len(serve.calls) == 1


# -- retrain ----------------------------------------------------------------------------------
def test_retrain(monkeypatch, capsys):
    from workbench.releases.retrain import RetrainResult

    done = RetrainResult(
        "loans", 4, 1, "logistic_regression", "retrained on 0123456789ab (169 rows)", {"rows": 169},
        "30% of the window held out from training (51 rows)", "keep", "Keep the champion.",
        comparison_run="run-1", comparison_path="reports/compare/run-1",
    )  # fmt: skip
    retrain = Recorder(done)
    # by the module object: once the package's lazy export ran, `workbench.releases.retrain` is the function
    monkeypatch.setattr(sys.modules["workbench.releases.retrain"], "retrain", retrain)
    argv = ["retrain", "loans", "--data", "w.csv", "--validation", "v.csv", "--sensitive", "sex"]
    argv += ["--quick", "--registry", "reg", "--reports-dir", "r", "--checks", "c.json", "--by", "ann"]
    assert main([*argv, "--n-bootstrap", "200", "--json"]) == EXIT_OK
    assert RetrainResult.from_dict(json.loads(capsys.readouterr().out)) == done
    assert retrain.args == ("loans", "w.csv")
    assert retrain.kwargs == {
        "validation": "v.csv",
        "sensitive": ["sex"],
        "registry": "reg",
        "reports_dir": "r",
        "checks": "c.json",
        "quick": True,
        "by": "ann",
        "n_bootstrap": 200,
    }
    assert main(["retrain", "loans", "--data", "w.csv"]) == EXIT_OK
    assert retrain.kwargs["reports_dir"] == "reports" and retrain.kwargs["validation"] is None
    text = capsys.readouterr().out
    assert "models:/loans/4 registered as @challenger" in text
    assert "comparison run: reports/compare/run-1" in text
    assert main(["retrain", "loans", "--data", "w.csv", "--n-bootstrap", "3"]) == EXIT_BAD_INPUT
    assert len(retrain.calls) == 2


# -- demo -------------------------------------------------------------------------------------
def test_demo(monkeypatch, tmp_path, capsys):
    registry = tmp_path / "registry"
    run_demo = Recorder(
        SimpleNamespace(
            out=tmp_path, failed_runs=[], failed_release=None, failed_serving=None, registry=registry
        )
    )
    serve = Recorder(0)
    monkeypatch.setattr("workbench.demo.run_demo", run_demo)
    monkeypatch.setattr("workbench.dashboards.server.serve", serve)
    assert main(["demo", "--out", "o", "--quick", "--no-compress", "--no-serve"]) == EXIT_OK
    assert run_demo.args == ("o",) and run_demo.kwargs == {
        "quick": True,
        "compress": False,
        "monitoring": True,
        "release": True,
        "serving": True,
    }
    assert not serve.calls
    assert main(["demo"]) == EXIT_OK
    assert run_demo.args == ("workbench-demo",)
    assert run_demo.kwargs == {
        "quick": False,
        "compress": True,
        "monitoring": True,
        "release": True,
        "serving": True,
    }
    assert serve.args == (tmp_path / "reports",) and serve.kwargs == {"registry": registry}
    assert main(["demo", "--no-release", "--no-serve"]) == EXIT_OK
    assert run_demo.kwargs["release"] is False
    assert main(["demo", "--no-replay", "--no-serve"]) == EXIT_OK
    assert run_demo.kwargs["serving"] is False
    assert main(["demo", "--no-monitoring"]) == EXIT_OK  # nothing to serve
    assert run_demo.kwargs["monitoring"] is False and len(serve.calls) == 1
    capsys.readouterr()
    run_demo.result.failed_runs = ["bias report on b1: KernelDied"]
    assert main(["demo"]) == EXIT_FAILED
    assert "1 report run(s) of the demo failed: bias report on b1: KernelDied" in capsys.readouterr().err
    assert len(serve.calls) == 1
    run_demo.result.failed_runs = []
    run_demo.result.failed_release = "promoting the challenger: the registry did not answer"
    assert main(["demo"]) == EXIT_FAILED
    err = capsys.readouterr().err
    assert "release step failed while promoting the challenger: the registry did not answer" in err
    assert len(serve.calls) == 1
    run_demo.result.failed_release = None
    run_demo.result.failed_serving = "replaying the production batches: connection refused"
    assert main(["demo"]) == EXIT_FAILED
    err = capsys.readouterr().err
    assert "serving step failed while replaying the production batches: connection refused" in err
    assert len(serve.calls) == 1


# -- main's error handling --------------------------------------------------------------------
def test_errors_are_one_line_or_logged(monkeypatch, capsys):
    def refuse(*a, **k):
        raise WorkbenchError("no such thing")

    def crash(*a, **k):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr("workbench.dashboards.server.serve", refuse)
    assert main(["dashboard"]) == EXIT_BAD_INPUT
    assert capsys.readouterr().err == "workbench: error: no such thing\n"
    monkeypatch.setattr("workbench.dashboards.server.serve", crash)
    assert main(["dashboard"]) == EXIT_FAILED
    err = capsys.readouterr().err
    assert "the dashboard failed: RuntimeError: boom (details in " in err and "second line" not in err
    assert "Traceback" in Path(err.split("details in ")[1].rstrip(")\n")).read_text()
    assert main([]) == EXIT_BAD_INPUT


def test_exit_codes_are_defined_once():
    from workbench import exit_codes
    from workbench.reports import runner

    assert (
        (runner.EXIT_OK, runner.EXIT_CHECK_FAILED, runner.EXIT_FAILED)
        == (exit_codes.EXIT_OK, exit_codes.EXIT_CHECK_FAILED, exit_codes.EXIT_FAILED)
        == (0, 1, 3)
    )
