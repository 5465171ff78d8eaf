"""Serving operations on real components: following a registry alias through a rollback under load (a real
SQLite MLflow registry, a real uvicorn server), and ``workbench serve`` stopped by SIGTERM under load in a
subprocess (requests in flight are answered, the log is flushed)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import httpx
import pandas as pd
import pytest

from tests.serving_util import records_of, running, train_loans
from workbench.modeling.artifact import load_model


@pytest.fixture(scope="module")
def versions(loans):
    return {
        1: train_loans(loans, "logistic_regression", "v1.wbm"),
        2: train_loans(loans, "random_forest", "v2.wbm"),
    }


@pytest.fixture(scope="module")
def holdout(loans):
    return pd.read_parquet(loans / "holdout.parquet")


def _post(client, url, payload):
    return client.post(
        url + "/predict", content=json.dumps(payload), headers={"content-type": "application/json"}
    )


def test_a_rollback_under_load_fails_no_request_and_each_answer_names_its_version(
    versions, holdout, tmp_path
):
    from workbench.registry import register_model, rollback
    from workbench.serving import ServingService

    store = tmp_path / "registry"
    register_model(versions[1], "loans", registry=store, aliases=["champion"])
    register_model(versions[2], "loans", registry=store, aliases=["champion"])
    models = {v: load_model(p) for v, p in versions.items()}
    records = records_of(holdout.head(8), models[1].spec)
    expected = {
        str(v): list(m.predict_proba(holdout.head(8))[:, m.positive_index]) for v, m in models.items()
    }
    service = ServingService("models:/loans@champion", registry=str(store), reload_seconds=0, timeout=30)
    assert service.champion.served.version == "2"
    answers, errors, stop = [], [], threading.Event()

    def load(client, url):
        while not stop.is_set():
            try:
                r = _post(client, url, records)
                if r.status_code != 200:
                    errors.append(r.text)
                answers.extend(r.json()["results"])
            except Exception as exc:  # a refused or dropped connection is a failed request too
                errors.append(repr(exc))

    with running(service) as url, httpx.Client(timeout=60) as client:
        threads = [threading.Thread(target=load, args=(client, url)) for _ in range(4)]
        for t in threads:
            t.start()
        try:
            time.sleep(1.0)
            rollback("loans", registry=store, reason="test: back to version 1")
            reload = client.post(url + "/reload")
            time.sleep(1.0)
        finally:
            stop.set()
            for t in threads:
                t.join()
        assert reload.status_code == 200 and reload.json()["changed"] == ["champion"], reload.text
        after = _post(client, url, records).json()["results"]
        info = client.get(url + "/model").json()
        metrics = client.get(url + "/metrics").text
    assert not errors, errors[:3]
    seen = {a["model"]["version"] for a in answers}
    assert seen == {"1", "2"}, seen
    for a in answers:  # each answer is what the version it names gives for that record
        assert a["status"] == 200 and a["model"]["name"] == "loans"
        assert a["probability"] == pytest.approx(expected[a["model"]["version"]][a["index"]], abs=1e-12)
    assert {a["model"]["version"] for a in after} == {"1"}
    assert (
        info["version"] == "1" and info["follows"] == "models:/loans@champion" and info["alias"] == "champion"
    )
    assert 'workbench_model_swaps_total{role="champion"} 1.0' in metrics


def test_sigterm_under_load_answers_requests_in_flight_and_flushes_the_log(versions, holdout, tmp_path):
    log_dir = tmp_path / "log"
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "workbench", "serve", "--model", str(versions[1]), "--port", "0"]
    cmd += ["--log-dir", str(log_dir)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    threads, stop = [], threading.Event()
    try:
        line = proc.stdout.readline()
        assert "serving" in line, line + proc.stderr.read()
        url = line.split(" on ")[1].split()[0]
        records = records_of(holdout.head(5), load_model(versions[1]).spec)
        answered, refused, bad = [], [], []

        def load():
            with httpx.Client(timeout=30) as client:
                while not stop.is_set():
                    try:
                        r = _post(client, url, records)
                    except httpx.TransportError:
                        refused.append(1)  # after shutdown began: never accepted, so never in flight
                        time.sleep(0.01)
                        continue
                    if r.status_code != 200:
                        bad.append(r.text)
                    else:
                        answered.append(r.json()["answered"])

        threads += [threading.Thread(target=load) for _ in range(6)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 30
        while sum(answered) < 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
    finally:
        stop.set()
        for t in threads:
            t.join()
        if proc.poll() is None:
            proc.kill()
    assert code == 0, proc.stderr.read()
    assert not bad, bad[:3]
    assert sum(answered) >= 200
    import pyarrow.parquet as pq

    logged = sum(pq.read_metadata(p).num_rows for p in log_dir.glob("date=*/part-*.parquet"))
    assert logged == sum(answered)  # every answered record is in the log: flushed on the way out
    assert not list(log_dir.rglob(".*.tmp"))
