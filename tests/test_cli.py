"""The `workbench` command through a real subprocess: train/evaluate on unseen tables, exit codes."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pandas as pd

from tests.conftest import run_cli


def test_help_everywhere():
    for args in ([], ["train"], ["evaluate"], ["demo"]):
        r = run_cli(*args, "--help")
        assert r.returncode == 0, r.stderr
        assert "usage: workbench" in r.stdout
    r = run_cli("train", "--help")
    assert "--sensitive" in r.stdout and "--imbalance" in r.stdout


def test_train_then_evaluate_on_an_unseen_table(loans):
    out = loans / "champion.wbm"
    r = run_cli(
        "train",
        "--data",
        str(loans / "train.csv"),
        "--target",
        "approved",
        "--sensitive",
        "applicant-sex",
        "--model",
        "logistic_regression",
        "--model",
        "random_forest",
        "--quick",
        "--out",
        str(out),
    )
    assert r.returncode == 0, r.stderr
    assert "champion:" in r.stdout and "roc_auc" in r.stdout and out.is_file()
    assert "Traceback" not in r.stderr

    r = run_cli("evaluate", "--model", str(out), "--data", str(loans / "holdout.parquet"), "--json")
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert res["metrics"]["roc_auc"] > 0.9
    assert res["labels"] == ["no", "yes"]  # positive class 'yes' recognised
    assert {s["column"] for s in res["slices"]} >= {"applicant-sex", "region"}

    r = run_cli("evaluate", "--model", str(out), "--data", str(loans / "holdout.parquet"), "--no-latency")
    assert r.returncode == 0 and "roc_auc" in r.stdout and "weakest slices" in r.stdout

    # an existing model is never replaced silently
    r = run_cli(
        "train",
        "--data",
        str(loans / "train.csv"),
        "--target",
        "approved",
        "--model",
        "ridge",
        "--out",
        str(out),
    )
    assert r.returncode == 2
    r = run_cli(
        "train",
        "--data",
        str(loans / "train.csv"),
        "--target",
        "approved",
        "--quick",
        "--model",
        "logistic_regression",
        "--out",
        str(out),
    )
    assert r.returncode == 2 and "already exists" in r.stderr and "--force" in r.stderr


def test_train_json_and_python_dash_m(loans, tmp_path):
    r = run_cli(
        "train",
        "--data",
        str(loans / "train.csv"),
        "--target",
        "approved",
        "--model",
        "hgb",
        "--quick",
        "--imbalance",
        "threshold",
        "--cost-fn",
        "5",
        "--cost-fp",
        "1",
        "--out",
        str(tmp_path / "m"),
        "--json",
    )
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert res["champion"] == "hist_gradient_boosting" and res["select_by"] == "cost"
    assert (tmp_path / "m" / "meta.json").is_file()  # a path without suffix is a folder artifact
    meta = json.loads((tmp_path / "m" / "meta.json").read_text())
    assert meta["threshold"] == res["candidates"][0]["threshold"] and meta["threshold"] != 0.5


def _bad(*args):
    r = run_cli(*args)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    lines = [ln for ln in r.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    return lines[0]


def test_bad_input_gets_one_sentence_and_exit_2(loans, tmp_path):
    train_csv = str(loans / "train.csv")
    out = str(tmp_path / "x.wbm")
    assert "does not exist" in _bad(
        "train", "--data", str(tmp_path / "nope.csv"), "--target", "y", "--out", out
    )
    (tmp_path / "t.xlsx").write_bytes(b"PK\x03\x04junk")
    assert "unknown format" in _bad(
        "train", "--data", str(tmp_path / "t.xlsx"), "--target", "y", "--out", out
    )
    (tmp_path / "bad.parquet").write_bytes(b"not parquet at all")
    assert "cannot be read" in _bad(
        "train", "--data", str(tmp_path / "bad.parquet"), "--target", "y", "--out", out
    )
    assert "'income'" in _bad("train", "--data", train_csv, "--target", "income", "--out", out)
    assert "unknown recipe 'xgboost'" in _bad(
        "train", "--data", train_csv, "--target", "approved", "--model", "xgboost", "--out", out
    )

    df = pd.read_csv(train_csv)
    df.assign(approved="yes").to_csv(tmp_path / "one.csv", index=False)
    assert "single class" in _bad(
        "train", "--data", str(tmp_path / "one.csv"), "--target", "approved", "--out", out
    )
    df2 = df.copy()
    df2["score-1"] = df2["score-1"].astype(object)
    df2.loc[3, "score-1"] = "n/a?"
    df2.to_csv(tmp_path / "text.csv", index=False)
    msg = _bad("train", "--data", str(tmp_path / "text.csv"), "--target", "approved", "--out", out)
    assert "'score-1'" in msg and "n/a?" in msg
    assert "--target" in _bad("train", "--data", train_csv, "--out", out)  # argparse: missing option

    # evaluate: corrupted, pickled and untrusted models; missing features
    (tmp_path / "corrupt.wbm").write_bytes(b"PK\x03\x04" + b"\x00" * 50)
    assert "corrupted" in _bad("evaluate", "--model", str(tmp_path / "corrupt.wbm"), "--data", train_csv)
    (tmp_path / "model.pkl").write_bytes(pickle.dumps({"a": 1}))
    assert "pickle" in _bad("evaluate", "--model", str(tmp_path / "model.pkl"), "--data", train_csv)


def test_features_missing_at_evaluate_time(loans, tmp_path):
    out = tmp_path / "m.wbm"
    r = run_cli(
        "train",
        "--data",
        str(loans / "train.csv"),
        "--target",
        "approved",
        "--model",
        "logistic_regression",
        "--out",
        str(out),
    )
    assert r.returncode == 0, r.stderr
    df = pd.read_parquet(loans / "holdout.parquet").drop(columns=["region"])
    df.to_csv(tmp_path / "h.csv", index=False)
    msg = _bad("evaluate", "--model", str(out), "--data", str(tmp_path / "h.csv"))
    assert "'region'" in msg and "missing" in msg
    df2 = pd.read_parquet(loans / "holdout.parquet")
    df2["ratio 0"] = np.nan
    df2.to_csv(tmp_path / "nan.csv", index=False)
    r = run_cli(
        "evaluate", "--model", str(out), "--data", str(tmp_path / "nan.csv"), "--json", "--no-latency"
    )
    assert r.returncode == 0, r.stderr  # an all-missing column is imputed, not a crash
    assert 0.5 < json.loads(r.stdout)["metrics"]["roc_auc"] <= 1.0


def test_work_failure_exits_3_with_the_error_recorded(loans, tmp_path, monkeypatch):
    """A failure inside the work (not bad input) exits 3 and writes the traceback to a log it names."""
    script = tmp_path / "boom.py"
    script.write_text(
        "import sys, workbench.modeling.train as t\n"
        "def boom(*a, **k): raise MemoryError('simulated out of memory')\n"
        "t.train = boom\n"
        "import workbench; workbench.train = boom\n"
        "from workbench.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    import subprocess
    import sys

    r = subprocess.run(
        [
            sys.executable,
            str(script),
            "train",
            "--data",
            str(loans / "train.csv"),
            "--target",
            "approved",
            "--out",
            str(tmp_path / "m.wbm"),
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 3
    assert "MemoryError: simulated out of memory" in r.stderr and "Traceback" not in r.stderr
    log = r.stderr.split("details in ")[1].rstrip(")\n")
    assert "Traceback" in open(log).read()
    assert not (tmp_path / "m.wbm").exists()
