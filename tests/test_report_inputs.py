"""Bad report input is refused before a run starts (exit 2, one sentence, no run directory), cheaply;
identifiers never reach a report's files.

Through the real `workbench` command in subprocesses, with absolute paths and a reports folder in tmp.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.errors import DataError

WORKBENCH = str(Path(sys.executable).parent / "workbench")


def _cli(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [WORKBENCH, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )


@pytest.fixture(scope="module")
def made(tmp_path_factory, adult):
    """A saved logistic regression on Adult, its reference table and a clean batch, all on disk."""
    import workbench as wb

    d = tmp_path_factory.mktemp("inputs")
    ref = adult.train.sample(3000, random_state=0).reset_index(drop=True)
    cur = adult.test.sample(1500, random_state=0).reset_index(drop=True)
    model = wb.train(ref, adult.spec, recipes=["logistic_regression"], quick=True, progress=False).champion
    wb.save_model(model, d / "model.wbm")
    ref.to_parquet(d / "reference.parquet", index=False)
    return {"dir": d, "model": d / "model.wbm", "reference": d / "reference.parquet", "current": cur}


def _refused(args, reports: Path, needle: str) -> str:
    r = _cli(*args, "--reports-dir", reports)
    assert r.returncode == 2, (args, r.returncode, r.stderr[-2000:])
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert needle in r.stderr, r.stderr
    assert not reports.exists() or not any(reports.rglob("*")), list(reports.rglob("*"))  # no run was made
    return r.stderr


def test_values_a_model_cannot_take_are_refused_before_the_run(made, tmp_path):
    d, cur = made["dir"], made["current"]
    model, ref, reports = str(made["model"]), str(made["reference"]), tmp_path / "reports"

    inf = cur.astype({"capital-gain": float})
    inf.loc[[4, 9], "capital-gain"] = np.inf
    inf.to_parquet(d / "inf.parquet", index=False)
    err = _refused(
        ("report", "drift", "--reference", ref, "--current", d / "inf.parquet", "--model", model),
        reports,
        "column 'capital-gain' in the current data has 2 infinite values (first in row 4)",
    )
    assert err.startswith("workbench: error: ")

    labels = cur.astype({"income": object})
    labels.loc[7, "income"] = "unknown"
    labels.to_csv(d / "labels.csv", index=False)
    _refused(
        ("report", "performance", "--data", d / "labels.csv", "--model", model),
        reports,
        "the target column 'income' in the data has labels the model never saw: 'unknown'",
    )
    _refused(
        ("report", "drift", "--reference", ref, "--current", d / "labels.csv", "--model", model),
        reports,
        "labels the model never saw",
    )

    text = cur.astype({"age": object})
    text.loc[12, "age"] = "forty"
    text.to_csv(d / "text.csv", index=False)
    _refused(
        ("report", "drift", "--reference", ref, "--current", d / "text.csv", "--model", model),
        reports,
        "column 'age' in the current data should be numeric but row 12 has the value 'forty'",
    )
    text.astype({"age": str}).to_parquet(d / "text.parquet", index=False)  # a text column in Parquet too
    _refused(("report", "bias", "--data", d / "text.parquet", "--model", model), reports, "'forty'")

    one = cur.assign(sex="Female")
    one.to_parquet(d / "one_group.parquet", index=False)
    _refused(
        ("report", "bias", "--data", d / "one_group.parquet", "--model", model, "--sensitive", "sex"),
        reports,
        "the sensitive column 'sex' has a single group ('Female') in the data",
    )
    _refused(
        (
            "report",
            "bias",
            "--data",
            str(made["reference"]),
            "--model",
            model,
            "--sensitive",
            "sex",
            "--reference",
            d / "one_group.parquet",
        ),
        reports,
        "single group ('Female') in the reference data",
    )

    ids = cur.assign(ssn=[f"{100 + i:03d}-45-{6789 + i:04d}" for i in range(len(cur))])
    ids.to_parquet(d / "ids.parquet", index=False)
    _refused(
        ("report", "bias", "--data", d / "ids.parquet", "--model", model, "--sensitive", "ssn"),
        reports,
        "the sensitive column 'ssn' has a different value in nearly every row of the data",
    )

    # a CSV whose header names a column twice: refused, not renamed 'age.1'
    (d / "dup.csv").write_text("age,sex,age\n30,F,31\n40,M,41\n")
    _refused(
        ("report", "drift", "--reference", ref, "--current", d / "dup.csv"),
        reports,
        "has duplicate column names: 'age'",
    )

    # and `workbench evaluate` refuses infinities too (it used to fail inside scikit-learn, exit 3)
    r = _cli("evaluate", "--model", model, "--data", d / "inf.parquet", "--no-latency")
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert "column 'capital-gain' in the evaluation data has 2 infinite values" in r.stderr


def test_clean_inputs_pass_validation_quickly_on_100k_rows(made, adult, tmp_path):
    from workbench.reports.compute import validate_inputs

    big = pd.concat([adult.train, adult.test]).sample(100_000, replace=True, random_state=0)
    big.to_parquet(tmp_path / "big.parquet", index=False)
    params = {
        "drift": {
            "reference": tmp_path / "big.parquet",
            "current": tmp_path / "big.parquet",
            "model": made["model"],
        },
        "bias": {"data": tmp_path / "big.parquet", "model": made["model"], "reference": made["reference"]},
        "performance": {"data": tmp_path / "big.parquet", "model": made["model"]},
    }
    for kind, p in params.items():
        validate_inputs(kind, p)  # warm: the imports are what a first call pays
        t0 = time.perf_counter()
        validate_inputs(kind, p)
        elapsed = time.perf_counter() - t0
        assert elapsed < 1.0, f"{kind}: {elapsed:.2f} s"  # ~0.1 s on an idle machine
    # the model's estimator is not rebuilt to validate (the kernel loads it): no skops/scikit-learn needed
    code = (
        "import sys; from workbench.reports.compute import validate_inputs; "
        f"validate_inputs('drift', {{'reference': {str(tmp_path / 'big.parquet')!r}, "
        f"'current': {str(tmp_path / 'big.parquet')!r}, 'model': {str(made['model'])!r}}}); "
        "print('skops' in sys.modules, 'sklearn' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.stdout.split() == ["False", "False"], out.stderr


def test_a_corrupted_model_is_still_refused_before_the_run(made, tmp_path):
    import zipfile

    from workbench.errors import ModelFileError
    from workbench.reports.compute import validate_inputs

    bad = tmp_path / "bad.wbm"
    with zipfile.ZipFile(made["model"]) as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            blob = src.read(info)
            dst.writestr(info, blob[:-10] + b"0" * 10 if info.filename.endswith(".skops") else blob)
    with pytest.raises(ModelFileError, match="does not match its checksum"):
        validate_inputs("drift", {"reference": made["reference"], "current": made["reference"], "model": bad})
    with pytest.raises(DataError, match="has no rows|does not exist"):
        validate_inputs("performance", {"data": tmp_path / "none.csv", "model": made["model"]})
    # classes workbench does not trust are refused from the skops schema, as load_model refuses them first
    from sklearn.preprocessing import FunctionTransformer

    import workbench as wb

    spec = wb.load_model(made["model"]).spec
    wb.save_model(wb.Model(FunctionTransformer(func=np.log1p), spec, threshold=0.5), tmp_path / "odd.wbm")
    with pytest.raises(ModelFileError, match="contains types workbench does not trust"):
        validate_inputs(
            "drift",
            {"reference": made["reference"], "current": made["reference"], "model": tmp_path / "odd.wbm"},
        )


@pytest.mark.notebook
def test_identifier_values_never_reach_a_drift_reports_files(adult, tmp_path):
    """SSN-like values appear in no report file.

    They are a feature here: a few gaps keep the spec from dropping the column.
    """
    from tests.test_quality import ssn_values

    ref = adult.train.sample(2000, random_state=5).reset_index(drop=True)
    cur = adult.test.sample(1500, random_state=5).reset_index(drop=True)
    ref["ssn"], cur["ssn"] = ssn_values(2000, 11), ssn_values(1500, 12)
    ref.loc[ref.index[::40], "ssn"] = None
    cur.loc[cur.index[:20], "ssn"] = ref.loc[1:20, "ssn"].to_numpy()  # some ids seen again
    ref.to_parquet(tmp_path / "reference.parquet", index=False)
    cur.to_csv(tmp_path / "current.csv", index=False)
    reports = tmp_path / "reports"
    r = _cli(
        "report",
        "drift",
        "--reference",
        tmp_path / "reference.parquet",
        "--current",
        tmp_path / "current.csv",
        "--reports-dir",
        reports,
        "--json",
    )
    assert r.returncode in (0, 1), r.stderr[-2000:]
    run_dir = Path(json.loads(r.stdout)["run_dir"])
    texts = {name: (run_dir / name).read_text() for name in ("summary.json", "results.json", "report.html")}
    assert "'ssn'" in texts["report.html"] or "ssn" in texts["results.json"]  # the column is there ...
    values = set(ref["ssn"].dropna()) | set(cur["ssn"].dropna())
    for name, text in texts.items():  # ... its values are not
        leaked = [v for v in values if v in text]
        assert not leaked, (name, leaked[:3])
    assert "identifier-like column: values not shown" in texts["results.json"]


def test_evaluation_slices_never_list_an_identifier(adult):
    from tests.test_quality import ssn_values
    from workbench.modeling.evaluate import slice_table

    data = adult.test.sample(500, random_state=1).reset_index(drop=True)
    data["ssn"] = ssn_values(500, 3)
    spec = adult.spec.replace(
        features=[*adult.spec.features, "ssn"], categorical=[*adult.spec.categorical, "ssn"]
    )
    y = data["income"].to_numpy()
    rows = slice_table(data, spec, y, y, np.linspace(0, 1, 500), None, 20)
    assert {r["column"] for r in rows} == set(spec.features) - {"ssn"}  # every other column is sliced
    with pytest.raises(DataError, match="the slice column 'ssn' has a different value in nearly every row"):
        slice_table(data, spec, y, y, np.linspace(0, 1, 500), ["ssn"], 20)


def test_the_python_api_words_infinities_too(made):
    """detect_drift with a model: a note for the current data, an error for the reference (not sklearn's)."""
    import workbench as wb
    from workbench.monitoring.drift import detect_drift

    model = wb.load_model(made["model"])
    ref = pd.read_parquet(made["reference"])
    cur = made["current"].astype({"hours-per-week": float})
    cur.loc[3, "hours-per-week"] = -np.inf
    result = detect_drift(ref, cur, model.spec, model=model)
    assert result.prediction is None
    assert any(
        "column 'hours-per-week' in the data has 1 infinite value (first in row 3)" in n for n in result.notes
    )
    with pytest.raises(DataError, match="a model cannot score infinity"):
        detect_drift(cur, ref, model.spec, model=model)
    with pytest.raises(DataError, match="in the evaluation data has 1 infinite value"):
        wb.evaluate(model, cur, latency=False)


def test_bias_refuses_groups_it_cannot_compare_as_the_analysis_does(made, tmp_path):
    """A single-group column among usable ones is a note in the analysis, so validation lets it through;
    an identifier is never a group: refused alone, left out (values unlisted) beside usable columns."""
    import workbench as wb
    from tests.test_quality import ssn_values
    from workbench.reports.compute import validate_inputs

    cur = made["current"].assign(sex="Male")
    cur["ssn"] = ssn_values(len(cur), 4)
    cur.to_parquet(tmp_path / "batch.parquet", index=False)
    validate_inputs(
        "bias", {"data": tmp_path / "batch.parquet", "model": made["model"], "sensitive": ["sex", "race"]}
    )
    with pytest.raises(DataError, match="single group"):
        validate_inputs(
            "bias", {"data": tmp_path / "batch.parquet", "model": made["model"], "sensitive": ["sex"]}
        )
    with pytest.raises(DataError, match="no sensitive column defines groups to compare in the data"):
        validate_inputs(
            "bias", {"data": tmp_path / "batch.parquet", "model": made["model"], "sensitive": ["sex", "ssn"]}
        )
    model = wb.load_model(made["model"])
    result = wb.assess_bias(cur, model.spec, model=model, sensitive=["race", "ssn"])
    assert any("'ssn' has a different value in nearly every row" in n for n in result.notes)
    text = json.dumps(result.to_dict(), default=str)
    assert not [v for v in cur["ssn"] if v in text]
    with pytest.raises(DataError, match="identifies people rather than grouping them"):
        wb.assess_bias(cur, model.spec, model=model, sensitive=["ssn"])
