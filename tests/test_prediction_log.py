"""The prediction log as a table: read_log, every report reading a log folder, labels joined later.

Logs are written with pyarrow per the contract (tests/predlog_util.py), as the server writes them.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

from tests.conftest import run_cli
from tests.predlog_util import write_log
from tests.serving_util import records_of, running
from workbench.data.io import load_table
from workbench.errors import DataError, ParameterError
from workbench.serving.labels import join_labels
from workbench.serving.log_table import is_prediction_log, log_dates, parse_time, read_log
from workbench.serving.service import ServingService


@pytest.fixture(scope="module")
def model(adult):
    from workbench.modeling.train import train

    return train(
        adult.train.sample(4000, random_state=1), adult.spec, recipes=["logistic_regression"], progress=False
    ).champion


def served(model, rows: pd.DataFrame, **meta) -> pd.DataFrame:
    """`rows` as the server logs them: features, the answer, the record id."""
    features = rows[model.spec.features].reset_index(drop=True)
    out = features.assign(
        _proba=model.predict_score(features), _prediction=[str(p) for p in model.predict(features)]
    )
    for k, v in meta.items():
        out[k] = v
    return out


@pytest.fixture(scope="module")
def log(tmp_path_factory, adult, model):
    """Two days of champion traffic (ids r0..), a shadow row per record, a segment being written."""
    d = tmp_path_factory.mktemp("log") / "predictions"
    rows = adult.test.sample(1200, random_state=5)
    answered = served(model, rows, _id=[f"r{i}" for i in range(len(rows))])
    shadow = answered.iloc[:300].assign(_role="shadow", _model_version="2")
    both = pd.concat([answered, shadow], ignore_index=True)
    write_log(d, both, start="2026-11-02T20:00:00+00:00", step_seconds=60)  # 1,500 min: two dates
    (d / "date=2026-11-03" / ".part-20261103T000000000000-deadbeef.parquet.tmp").write_bytes(b"half")
    (d / "date=2026-11-03" / "notes.txt").write_text("not a segment")
    return d, rows.reset_index(drop=True)


# -- reading --------------------------------------------------------------------------------------
def test_a_log_folder_a_date_folder_and_a_segment_read_as_tables(log, adult):
    d, rows = log
    assert is_prediction_log(d) and log_dates(d) == ["2026-11-02", "2026-11-03"]
    full = read_log(d)
    assert len(full) == 1200  # shadow rows were never returned to callers: left out by default
    assert not [c for c in full.columns if c.startswith("_")]
    assert list(full.columns) == list(adult.spec.features)
    assert full["age"].tolist() == rows["age"].tolist()  # in time order, values as sent
    assert str(full["workclass"].dtype) == "category"  # text as load_table reads Parquet
    meta = read_log(d, with_meta=True, roles=("champion", "shadow"))
    assert len(meta) == 1500 and set(meta["_role"]) == {"champion", "shadow"}
    assert meta["_time"].is_monotonic_increasing and str(meta["_time"].dt.tz) == "UTC"
    day = read_log(d / "date=2026-11-02")
    assert 0 < len(day) < 1200
    segment = sorted((d / "date=2026-11-03").glob("part-*.parquet"))[0]
    assert is_prediction_log(segment) and 0 < len(read_log(segment)) < 1200
    # the time window: since inclusive, until exclusive, naive times are UTC
    window = read_log(d, since="2026-11-02T22:00", until=pd.Timestamp("2026-11-03T01:00"), with_meta=True)
    assert len(window) == 180 and window["_time"].min() == pd.Timestamp("2026-11-02T22:00", tz="UTC")
    with pytest.raises(DataError, match="no segment in the period"):  # back from now: nothing that recent
        read_log(d, since="1h")
    back = pd.Timestamp.now(tz="UTC") - pd.Timestamp(parse_time("90m"))
    assert pd.Timedelta("89min") < back < pd.Timedelta("91min")


def test_every_table_reader_accepts_a_log(log, adult):
    d, rows = log
    for path in (d, d / "date=2026-11-03"):
        table = load_table(path, what="current data")
        assert "_proba" not in table.columns and set(adult.spec.features) <= set(table.columns)
    assert list(load_table(d, columns=["age", "sex"]).columns) == ["age", "sex"]
    with pytest.raises(DataError, match="has no column 'income'"):
        load_table(d, what="current data", columns=["income"])
    from workbench.reports.compute import peek_table

    segment = sorted((d / "date=2026-11-02").glob("part-*.parquet"))[0]
    cols, n = peek_table(segment, "current data")
    assert "_role" not in cols and n == len(read_log(segment))


def test_bad_logs_are_one_sentence(tmp_path, log):
    d, _ = log
    with pytest.raises(DataError, match="does not exist"):
        read_log(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="is not a prediction log"):
        read_log(tmp_path / "empty")
    with pytest.raises(DataError, match="is a folder, not a file"):
        load_table(tmp_path / "empty")  # a plain folder is still not a table
    pd.DataFrame({"a": [1]}).to_parquet(tmp_path / "plain.parquet")
    assert not is_prediction_log(tmp_path / "plain.parquet")
    assert list(load_table(tmp_path / "plain.parquet").columns) == ["a"]
    with pytest.raises(ParameterError, match="unknown role .champions.; use one of champion"):
        read_log(d, roles=["champions"])
    with pytest.raises(ParameterError, match="ISO time"):
        read_log(d, since="yesterday")
    with pytest.raises(DataError, match="no segment in the period"):
        read_log(d, since="2030-01-01")


def test_segments_whose_types_widen_are_read_together(tmp_path):
    write_log(tmp_path / "l", pd.DataFrame({"x": [1, 2], "c": [None, None]}), start="2026-01-01T00:00Z")
    write_log(tmp_path / "l", pd.DataFrame({"x": [1.5, 2.5], "c": ["a", "b"]}), start="2026-01-02T00:00Z")
    df = read_log(tmp_path / "l")
    assert df["x"].tolist() == [1.0, 2.0, 1.5, 2.5] and df["c"].astype(object).tolist()[2:] == ["a", "b"]


# -- labels ------------------------------------------------------------------------------------------
def _digest(folder: Path) -> dict:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in folder.rglob("*")
        if p.is_file()
    }


def test_labels_join_by_id_without_touching_the_segments(tmp_path, log, adult):
    import shutil

    d = tmp_path / "log"
    shutil.copytree(log[0], d)
    rows = log[1]
    before = _digest(d)
    labels = pd.DataFrame({"case": [f"r{i}" for i in range(1000)], "income": rows["income"].iloc[:1000]})
    labels = pd.concat([labels, pd.DataFrame({"case": ["x1", "x2"], "income": ["<=50K", ">50K"]})])
    labels.to_csv(tmp_path / "labels.csv", index=False)
    result = join_labels(d, tmp_path / "labels.csv", id_column="case")
    assert (result.n_labels, result.n_matched, result.n_unmatched) == (1002, 1000, 2)
    assert (result.n_log_ids, result.n_log_unlabelled, result.target) == (1200, 200, "income")
    assert (
        "1,000 of 1,002 labels matched" in result.summary() and "200 of 1,200 logged ids" in result.summary()
    )
    after = _digest(d)
    assert {k: v for k, v in after.items() if not k.startswith("labels/")} == before
    assert [k for k in after if k.startswith("labels/")] == [f"labels/{Path(result.written).name}"]
    table = read_log(d)
    assert table["income"].notna().sum() == 1000
    assert table["income"].iloc[:1000].tolist() == rows["income"].iloc[:1000].tolist()
    # a later join corrects a label; a labelled copy bakes the labels in and leaves the log alone
    pd.DataFrame(
        {"case": ["r0"], "income": [">50K" if rows["income"][0] == "<=50K" else "<=50K"]}
    ).to_parquet(tmp_path / "fix.parquet")
    join_labels(d, tmp_path / "fix.parquet", id_column="case")
    assert read_log(d)["income"][0] != rows["income"][0]
    copy = join_labels(d, tmp_path / "fix.parquet", id_column="case", out=tmp_path / "labelled")
    assert Path(copy.written) == tmp_path / "labelled" and not list(tmp_path.glob(".labelled.tmp-*"))
    again = read_log(tmp_path / "labelled")
    assert again.attrs["label_columns"] == ["income"] and again["income"].notna().sum() == 1000
    assert again["income"].tolist() == read_log(d)["income"].tolist()


def test_labels_join_refuses_bad_input_in_one_sentence(tmp_path, log):
    d, rows = log
    pd.DataFrame({"case": ["r1", "r1", "r2"], "income": ["<=50K"] * 3}).to_csv(
        tmp_path / "dup.csv", index=False
    )
    pd.DataFrame({"case": ["zz"], "income": ["<=50K"]}).to_csv(tmp_path / "none.csv", index=False)
    pd.DataFrame({"case": ["r1"], "a": [1], "b": [2]}).to_csv(tmp_path / "two.csv", index=False)
    cases = [
        (("--labels", str(tmp_path / "dup.csv"), "--id", "case"), "ids appear more than once"),
        (("--labels", str(tmp_path / "dup.csv"), "--id", "nope"), "id column 'nope' is missing"),
        (("--labels", str(tmp_path / "none.csv"), "--id", "case"), "none of the 1 ids"),
        (("--labels", str(tmp_path / "two.csv"), "--id", "case"), "name the label column with --target"),
        (("--labels", str(tmp_path / "missing.csv"), "--id", "case"), "does not exist"),
    ]
    before = _digest(d)
    for args, message in cases:
        r = run_cli("labels", "join", "--log", str(d), *args)
        assert r.returncode == 2, (args, r.stderr)
        assert message in r.stderr and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert _digest(d) == before
    r = run_cli(
        "labels",
        "join",
        "--log",
        str(tmp_path / "nolog"),
        "--labels",
        str(tmp_path / "none.csv"),
        "--id",
        "case",
    )
    assert r.returncode == 2 and "does not exist" in r.stderr


# -- reports on the log ----------------------------------------------------------------------------
@pytest.mark.notebook
def test_reports_run_on_a_log_and_find_a_shift_sent_through_the_server(tmp_path, adult, model):
    from workbench.modeling.artifact import save_model

    save_model(model, tmp_path / "model.wbm")
    reference = adult.train.sample(5000, random_state=0)
    reference.to_parquet(tmp_path / "reference.parquet", index=False)
    rows = adult.test.sample(2000, random_state=9).reset_index(drop=True)
    shifted = rows.assign(age=(rows["age"] * 1.6).round().clip(17, 90))
    # the shifted records go through a real server (uvicorn on loopback), which writes the log
    service = ServingService(str(tmp_path / "model.wbm"), log_dir=tmp_path / "log", timeout=30)
    service.log.flush_seconds = 0.05
    records = records_of(shifted, model.spec)
    with running(service) as url, httpx.Client(timeout=120) as client:
        for start in range(0, len(records), 500):
            batch = [{**r, "id": f"c{i}"} for i, r in enumerate(records[start : start + 500], start)]
            answer = client.post(
                url + "/predict", content=json.dumps(batch), headers={"content-type": "application/json"}
            )
            assert answer.status_code == 200, answer.text[:500]
        service.log.flush()
    (day,) = (tmp_path / "log").glob("date=*")
    assert len(read_log(day)) == len(rows)
    reports = tmp_path / "reports"
    r = run_cli(
        "report", "drift", "--reference", str(tmp_path / "reference.parquet"),
        "--current", str(day), "--model", str(tmp_path / "model.wbm"),
        "--reports-dir", str(reports), "--json",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    s = json.loads(r.stdout)
    assert {c["name"]: c for c in s["columns"]}["age"]["drifted"] is True
    assert "drift.column.age" in {c["name"] for c in s["checks"] if not c["passed"]}
    assert not [c["name"] for c in s["columns"] if c["name"].startswith("_")]
    # labels arrive: performance is measured on the log, no longer only estimated
    pd.DataFrame({"case": [f"c{i}" for i in range(1500)], "income": rows["income"].iloc[:1500]}).to_csv(
        tmp_path / "labels.csv", index=False
    )
    r = run_cli(
        "labels",
        "join",
        "--log",
        str(tmp_path / "log"),
        "--labels",
        str(tmp_path / "labels.csv"),
        "--id",
        "case",
    )
    assert r.returncode == 0 and "1,500 of 1,500 labels matched" in r.stdout, r.stderr
    r = run_cli(
        "report", "performance", "--data", str(tmp_path / "log"), "--model", str(tmp_path / "model.wbm"),
        "--reports-dir", str(reports), "--json",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    perf = json.loads(r.stdout)
    result = perf["results"][0]["data"]
    assert result["actual"] is not None and result["labelled_rows"] == 1500 and result["rows"] == 2000
    measured = result["actual"]["accuracy"]
    truth = np.mean(model.predict(shifted.iloc[:1500]) == shifted["income"].iloc[:1500].to_numpy())
    assert measured == pytest.approx(truth)
    # compare uses the joined labels too: its paired statistics need them
    from workbench.releases.compare import compare_models

    window = load_table(tmp_path / "log")
    cmp = compare_models(model, model, window, n_bootstrap=50, sensitive=[], latency=False)
    assert cmp.n_labelled == 1500 and cmp.delta("roc_auc").get("delta") is not None


def test_rows_given_as_columns_and_as_dicts_make_one_table_split_by_date(tmp_path):
    import datetime as dt

    from workbench.serving.log import PredictionLog

    log = PredictionLog(
        tmp_path, features={"age": "number", "city": "string", "ssn": "string"}, exclude=["ssn"]
    )
    day1 = dt.datetime(2026, 11, 2, 23, 59, tzinfo=dt.UTC)
    day2 = dt.datetime(2026, 11, 3, 0, 1, tzinfo=dt.UTC)
    meta = {"_request_id": "a", "_time": day1, "_status": ["ok", "rejected"], "_proba": [0.25, None]}
    log.append_columns(meta, [[41.0, "Oslo", "x"], [float("nan"), None, "y"]])
    log.append([{"_request_id": "b", "_time": day2, "_status": "ok", "age": 7, "city": 3, "note": "n"}])
    log.append_columns({"_request_id": "c", "_time": day2, "_status": ["ok"]}, [[5.0, "Bergen", "z"]])
    assert log.buffered == 4
    log.close()
    assert log.rows_written == 4 and log.buffered == 0 and log.healthy
    import pyarrow.parquet as pq

    segments = sorted(tmp_path.glob("date=*/part-*.parquet"))
    assert [s.parent.name for s in segments] == ["date=2026-11-02", "date=2026-11-03"]
    first, second = (pq.read_table(s).to_pandas() for s in segments)
    assert list(first["_request_id"]) == ["a", "a"] and list(first["_status"]) == ["ok", "rejected"]
    assert first["age"].iloc[0] == 41.0 and pd.isna(first["age"].iloc[1])  # NaN is logged as missing
    assert first["_proba"].iloc[0] == 0.25 and pd.isna(first["_proba"].iloc[1])
    assert "ssn" not in first.columns and list(first["city"]) == ["Oslo", None]
    # dict rows are typed as before (a number as a float, text as text); a column only they have is kept
    assert list(second["_request_id"]) == ["b", "c"] and list(second["age"]) == [7.0, 5.0]
    assert list(second["city"]) == ["3", "Bergen"] and list(second["note"]) == ["n", None]
    assert str(second["_time"].dtype) == "datetime64[us, UTC]"


def test_an_unwritable_folder_keeps_the_newest_rows_within_the_cap(tmp_path, monkeypatch):
    import datetime as dt

    import pyarrow.parquet as pq

    from workbench.serving import log as log_module

    monkeypatch.setattr(log_module, "MAX_BUFFERED_ROWS", 3)
    folder = tmp_path / "log"
    folder.write_text("a file where the folder should be")
    log = log_module.PredictionLog(folder, features={"age": "number"}, flush_seconds=3600)
    now = dt.datetime(2026, 11, 3, 12, tzinfo=dt.UTC)
    log.append_columns({"_request_id": "a", "_time": now, "_id": ["a0", "a1"]}, [[1.0], [2.0]])
    log.append([{"_request_id": "b", "_id": f"b{i}", "_time": now, "age": 3.0 + i} for i in range(2)])
    log.flush()
    assert not log.healthy and log.rows_dropped == 1 and log.buffered == 3
    folder.unlink()
    log.flush()
    assert log.healthy and log.rows_written == 3
    log.close()
    table = pq.read_table(next(folder.glob("date=*/part-*.parquet"))).to_pandas()
    assert list(table["_id"]) == ["a1", "b0", "b1"] and list(table["age"]) == [2.0, 3.0, 4.0]
