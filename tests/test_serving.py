"""``workbench serve`` on a real uvicorn server (127.0.0.1, a free port), with a model trained on a table
the team never saw (the loan applications of tests/conftest.py): answers equal ``predict_proba``, bad records
are refused one by one with the column named, Prometheus metrics, canary routing, fallbacks, the log."""

from __future__ import annotations

import json
import math
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pandas as pd
import pytest

from tests.serving_util import records_of, running, train_loans
from workbench.errors import ParameterError
from workbench.modeling.artifact import load_model
from workbench.serving import GuardedPredictor, GuardPolicy, ServingService
from workbench.serving.traffic import canary_bucket


@pytest.fixture(scope="module")
def models(loans):
    return {
        "forest": train_loans(loans, "random_forest", "forest.wbm"),
        "logistic": train_loans(loans, "logistic_regression", "logistic.wbm"),
    }


@pytest.fixture(scope="module")
def holdout(loans):
    return pd.read_parquet(loans / "holdout.parquet")


#: the per-request timeout of servers whose test is not about timeouts: a loaded CI machine (two test
#: workers, kernels) can take over the 1 s default for a large request, and a timeout answers by fallback
LOADED = 30.0


def _post(client, url, payload, headers=None):
    headers = {"content-type": "application/json", **(headers or {})}
    return client.post(url + "/predict", content=json.dumps(payload), headers=headers)


def test_answers_equal_predict_proba_and_the_api_describes_the_model(models, holdout, tmp_path):
    model = load_model(models["forest"])
    records = records_of(holdout, model.spec)
    expected = model.predict_proba(holdout)[:, model.positive_index]
    labels = model.predict(holdout)
    # a wide range tolerance: the holdout holds a few values beyond the 400 training rows' ranges
    service = ServingService(
        models["forest"], timeout=LOADED, log_dir=tmp_path / "log", policy=GuardPolicy(tolerance=10)
    )
    with running(service) as url, httpx.Client(timeout=30) as client:
        one = _post(client, url, records[0])  # one record, not a list
        assert one.status_code == 200, one.text
        assert one.json()["results"][0]["probability"] == pytest.approx(expected[0], abs=1e-12)
        r = _post(client, url, [{**rec, "id": f"loan-{i}"} for i, rec in enumerate(records)])
        assert r.status_code == 200
        body = r.json()
        assert body["answered"] == len(records) and body["rejected"] == body["failed"] == 0
        got = np.array([a["probability"] for a in body["results"]])
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
        assert [a["prediction"] for a in body["results"]] == list(labels)
        first = body["results"][0]
        assert first["model"]["name"] == model.name and first["model"]["version"].startswith("sha-")
        assert first["fallback"] is False and first["id"] == "loan-0"
        # GET /model: columns and types, threshold, policy
        info = client.get(url + "/model").json()
        assert info["threshold"] == pytest.approx(model.threshold)
        columns = {c["name"]: c for c in info["columns"]}
        assert columns["region"]["type"] == "string" and "north" in columns["region"]["categories"]
        assert columns["score-1"]["type"] == "number" and len(columns["score-1"]["accepted_range"]) == 2
        # OpenAPI: the request schema is generated from the spec (original names, types)
        schema = client.get(url + "/openapi.json").json()
        body_schema = schema["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"][
            "schema"
        ]
        record = body_schema["anyOf"][0]
        assert set(model.spec.features) <= set(record["properties"])
        assert {"type": "number"} in record["properties"]["ratio 0"]["anyOf"]
        assert {"type": "string"} in record["properties"]["region"]["anyOf"]
        assert client.get(url + "/health").json()["status"] == "ok"


def test_a_bad_record_is_refused_with_its_column_while_the_good_ones_are_answered(models, holdout):
    model = load_model(models["forest"])
    good = records_of(holdout.head(3), model.spec)
    base = good[0]
    bad = {
        "wrong type": ({**base, "score-1": "high"}, "score-1", "type"),
        "missing": ({k: v for k, v in base.items() if k != "ratio 0"}, "ratio 0", "missing"),
        "unseen category": ({**base, "region": "mars"}, "region", "category"),
        "far out of range": ({**base, "ratio 2": 1e9}, "ratio 2", "range"),
        "a boolean": ({**base, "ratio 4": True}, "ratio 4", "type"),
        "an object": ({**base, "applicant-sex": {"a": 1}}, "applicant-sex", "type"),
    }
    service = ServingService(models["forest"], timeout=LOADED)
    with running(service) as url, httpx.Client(timeout=30) as client:
        payload = [good[1], *(rec for rec, _, _ in bad.values()), good[2], [1, 2], {**good[1], "extra": 1}]
        r = _post(client, url, payload)
        assert r.status_code == 200  # multi-status: each result has its own
        results = r.json()["results"]
        assert [a["status"] for a in results] == [200, *[422] * len(bad), 200, 422, 200]
        for (name, (_, column, problem)), a in zip(bad.items(), results[1:], strict=False):
            assert a["errors"][0]["column"] == column, name
            assert a["errors"][0]["problem"] == problem, name
        assert results[-2]["errors"][0]["reason"].startswith("a record must be a JSON object")
        assert results[-1]["flags"] == [
            {"column": "extra", "reason": "not a column of the model: ignored", "problem": "extra"}
        ]
        # NaN and infinity (json.loads accepts them; the guard refuses them in numeric and text columns)
        text = json.dumps([base]).replace('"ratio 0": ' + json.dumps(base["ratio 0"]), '"ratio 0": NaN')
        for token in ("NaN", "Infinity", "-Infinity"):
            r = client.post(
                url + "/predict",
                content=text.replace("NaN", token),
                headers={"content-type": "application/json"},
            )
            assert r.status_code == 422 and r.json()["results"][0]["errors"][0]["problem"] == "nonfinite"
        r = _post(client, url, [rec for rec, _, _ in bad.values()])
        assert r.status_code == 422 and r.json()["answered"] == 0  # every record refused
        # metrics: validation failures by column
        from prometheus_client.parser import text_string_to_metric_families

        families = {f.name: f for f in text_string_to_metric_families(client.get(url + "/metrics").text)}
        failures = {
            (s.labels["column"], s.labels["problem"]): s.value
            for s in families["workbench_validation_failures"].samples
            if s.name.endswith("_total")
        }
        assert failures[("region", "category")] == 2 and failures[("ratio 0", "nonfinite")] == 3
        records = {
            (s.labels["role"], s.labels["status"]): s.value
            for s in families["workbench_records"].samples
            if s.name.endswith("_total")
        }
        assert records[("champion", "ok")] == 3 and records[("champion", "rejected")] == 2 * len(bad) + 4
        latency = families["workbench_request_latency_seconds"]
        assert any(s.name.endswith("_count") and s.value >= 4 for s in latency.samples)
        info = [s for s in families["workbench_model_info"].samples]
        assert info[0].labels["role"] == "champion"


def test_malformed_bodies_limits_and_tokens(models, holdout):
    model = load_model(models["forest"])
    records = records_of(holdout, model.spec)
    big = (records * 60)[:10_000]
    service = ServingService(models["forest"], timeout=LOADED, policy=GuardPolicy(tolerance=10))
    with (
        running(service, max_body_bytes=4 * 2**20, max_records=10_000) as url,
        httpx.Client(timeout=120) as client,
    ):
        json_header = {"content-type": "application/json"}
        r = client.post(url + "/predict", content=b'{"ratio 0": 1,', headers=json_header)
        assert r.status_code == 400 and "not valid JSON" in r.json()["detail"]
        for body, status in ((b'"text"', 422), (b"[]", 422), (b"42", 422)):
            r = client.post(url + "/predict", content=body, headers=json_header)
            assert r.status_code == status and r.json()["detail"]
        r = client.post(
            url + "/predict", content=json.dumps(records[0]), headers={"content-type": "text/plain"}
        )
        assert r.status_code == 415 and "application/json" in r.json()["detail"]
        # 10,000 records in one request: all answered
        r = _post(client, url, big)
        assert r.status_code == 200 and r.json()["answered"] == 10_000
        # over the limits: 413 with a JSON reason (announced size, and a streamed body without a length)
        r = _post(client, url, big + big[:1])
        assert r.status_code == 413 and "at most 10,000" in r.json()["detail"]
        huge = json.dumps(big * 3).encode()
        r = client.post(url + "/predict", content=huge, headers=json_header)
        assert r.status_code == 413 and "larger than the limit" in r.json()["detail"]
        r = client.post(
            url + "/predict",
            content=iter([huge[i : i + 65536] for i in range(0, len(huge), 65536)]),
            headers=json_header,
        )
        assert r.status_code == 413 and r.json()["detail"]
        assert client.get(url + "/nope").json()["detail"]  # even a 404 is JSON
    with running(ServingService(models["forest"]), token="s3cret") as url, httpx.Client(timeout=30) as client:
        assert client.get(url + "/model").status_code == 401
        assert _post(client, url, records[0]).status_code == 401
        assert client.get(url + "/health").status_code == 200  # probes need no secret
        ok = _post(client, url, records[0], headers={"authorization": "Bearer s3cret"})
        assert ok.status_code == 200
    from workbench.serving.server import serve

    with pytest.raises(ParameterError, match="--token"):
        serve(models["forest"], host="0.0.0.0", port=0)


def test_canary_serves_its_share_of_ids_sticky(models, holdout):
    model = load_model(models["forest"])
    record = records_of(holdout.head(1), model.spec)[0]
    service = ServingService(
        models["forest"], timeout=LOADED, challenger=models["logistic"], mode="canary", canary_percent=20
    )
    ids = [f"customer-{i}" for i in range(2000)]
    with running(service) as url, httpx.Client(timeout=60) as client:
        first = _post(client, url, [{**record, "id": i} for i in ids]).json()["results"]
        again = _post(client, url, [{**record, "id": i} for i in reversed(ids)]).json()["results"][::-1]
        roles = [a["model"]["role"] for a in first]
        share = roles.count("canary") / len(ids)
        assert 0.17 <= share <= 0.23, share
        assert [a["model"]["version"] for a in first] == [a["model"]["version"] for a in again]  # sticky
        assert {a["model"]["name"] for a in first if a["model"]["role"] == "canary"} == {
            "logistic_regression"
        }
        # one id at a time meets the same model as in the batch
        for i in (0, 1, 2, 3, 5, 8):
            single = _post(client, url, {**record, "id": ids[i]}).json()["results"][0]
            assert single["model"]["role"] == roles[i]
        assert (canary_bucket(ids[0]) < 20) == (roles[0] == "canary")


def test_a_model_that_raises_or_hangs_is_answered_by_the_fallback(models, holdout, monkeypatch):
    import time

    model = load_model(models["forest"])
    records = records_of(holdout.head(4), model.spec)
    service = ServingService(models["forest"], fallback=models["logistic"], timeout=0.5)
    broken = service.champion.served.model
    calls = {"n": 0}

    def raising(frame):
        calls["n"] += 1
        raise RuntimeError("the estimator broke")

    with running(service) as url, httpx.Client(timeout=30) as client:
        monkeypatch.setattr(broken, "predict_proba", raising)
        body = _post(client, url, records).json()
        assert body["answered"] == 4
        for a in body["results"]:
            assert a["fallback"] is True and a["fallback_reason"].startswith("model error: RuntimeError")
            assert a["model"] == {
                "name": "logistic_regression",
                "version": a["model"]["version"],
                "role": "fallback",
            }
        fallback = load_model(models["logistic"])
        expected = fallback.predict_proba(holdout.head(4))[:, fallback.positive_index]
        np.testing.assert_allclose([a["probability"] for a in body["results"]], expected, atol=1e-12)
        monkeypatch.setattr(broken, "predict_proba", lambda frame: time.sleep(2))  # hangs past the timeout
        a = _post(client, url, records[0]).json()["results"][0]
        assert a["fallback"] is True and a["fallback_reason"] == "timeout"
        text = client.get(url + "/metrics").text
        assert 'workbench_fallbacks_total{reason="timeout"} 1.0' in text
    # the class prior, and no fallback at all
    prior = ServingService(models["forest"], fallback="prior")
    with running(prior) as url, httpx.Client(timeout=30) as client:
        monkeypatch.setattr(prior.champion.served.model, "predict_proba", raising)
        a = _post(client, url, records[0]).json()["results"][0]
        share = dict(model.meta["profile"]["target"]["classes"])[model.spec.positive_label]
        assert a["probability"] == pytest.approx(share) and a["model"]["name"] == "prior"
    none = ServingService(models["forest"], fallback="none")
    with running(none) as url, httpx.Client(timeout=30) as client:
        monkeypatch.setattr(none.champion.served.model, "predict_proba", raising)
        r = _post(client, url, records[:2])
        assert r.status_code == 503 and r.json()["failed"] == 2
        assert "no fallback" in r.json()["results"][0]["errors"][0]["reason"]


def test_one_record_the_model_cannot_score_does_not_fail_the_others(models, holdout, monkeypatch):
    model = load_model(models["forest"])
    records = records_of(holdout.head(5), model.spec)
    service = ServingService(models["forest"], fallback="none")
    served = service.champion.served.model
    original = type(served).predict_proba

    def picky(frame):  # fails on any frame holding the third record's value
        if (frame["ratio 0"] == records[2]["ratio 0"]).any():
            raise ValueError("cannot score this one")
        return original(served, frame)

    monkeypatch.setattr(served, "predict_proba", picky)
    with running(service) as url, httpx.Client(timeout=30) as client:
        results = _post(client, url, records).json()["results"]
    assert [a["status"] for a in results] == [200, 200, 503, 200, 200]


def test_the_log_follows_the_contract_and_an_unwritable_folder_degrades_health(models, holdout, tmp_path):
    import time

    import pyarrow.parquet as pq

    model = load_model(models["forest"])
    records = records_of(holdout.head(20), model.spec)
    log_dir = tmp_path / "log"
    service = ServingService(
        models["forest"],
        timeout=LOADED,
        challenger=models["logistic"],
        mode="shadow",
        log_dir=log_dir,
        log_exclude=("applicant-sex",),
    )
    service.log.flush_seconds = 0.05
    with running(service) as url, httpx.Client(timeout=30) as client:
        body = _post(
            client, url, [{**r, "id": f"r{i}"} for i, r in enumerate(records)] + [{"ratio 0": "x"}]
        ).json()
        assert {a["model"]["role"] for a in body["results"] if a["status"] == 200} == {
            "champion"
        }  # shadow hidden
        service.log.flush()
        # the folder becomes unwritable: serving goes on, health says degraded, then recovers
        moved = tmp_path / "moved"
        log_dir.rename(moved)
        log_dir.write_text("not a folder")
        r = _post(client, url, records[:3])
        assert r.status_code == 200 and r.json()["answered"] == 3
        deadline, sent = time.monotonic() + 10, 3
        while service.log.healthy and time.monotonic() < deadline:
            _post(client, url, records[:1])
            sent += 1
        health = client.get(url + "/health").json()
        assert health["status"] == "degraded" and "log folder cannot be written" in health["reasons"][0]
        assert "workbench_prediction_log_healthy 0.0" in client.get(url + "/metrics").text
        log_dir.unlink()
        moved.rename(log_dir)
        service.log.flush()
        assert client.get(url + "/health").json()["status"] == "ok"
    segments = sorted(log_dir.glob("date=*/part-*.parquet"))
    assert segments and not list(log_dir.rglob(".*.tmp"))
    for seg in segments:
        assert seg.parent.name.startswith("date=") and len(seg.stem.split("-")[-1]) == 8
    frame = pd.concat([pq.read_table(s).to_pandas() for s in segments], ignore_index=True)
    meta = ["_request_id", "_id", "_time", "_model_name", "_model_version", "_role", "_fallback"]
    assert list(frame.columns[: len(meta)]) == meta
    assert "applicant-sex" not in frame.columns and "region" in frame.columns
    assert str(frame["_time"].dtype) == "datetime64[us, UTC]"
    champion = frame[frame["_role"] == "champion"]
    shadow = frame[frame["_role"] == "shadow"]
    assert len(champion[champion["_status"] == "ok"]) == 20 + sent  # nothing lost while the folder was away
    assert set(shadow["_id"].dropna()) == {f"r{i}" for i in range(20)}
    assert set(shadow["_model_name"]) == {"logistic_regression"}
    rejected = frame[frame["_status"] == "rejected"]
    assert len(rejected) == 1 and json.loads(rejected["_errors"].iloc[0])[0]["column"] == "ratio 0"
    answered = champion[champion["_id"] == "r0"].iloc[0]
    assert answered["_proba"] == pytest.approx(body["results"][0]["probability"])
    assert answered["ratio 0"] == pytest.approx(records[0]["ratio 0"])


def test_guarded_prediction_without_a_server(models, holdout):
    model = load_model(models["forest"])
    records = records_of(holdout.head(3), model.spec)
    predictor = GuardedPredictor(models["forest"], policy=GuardPolicy(impute={"category", "range"}))
    out = predictor.predict(
        [records[0], {**records[1], "region": "mars"}, {**records[2], "ratio 2": 1e9}, {"x": 1}]
    )
    assert (out.answered, out.rejected, out.failed) == (3, 1, 0)
    assert out[1]["flags"][0]["column"] == "region" and out[1]["flags"][0]["problem"] == "category"
    assert out[2]["flags"][0]["problem"] == "range"
    assert out[0]["probability"] == pytest.approx(
        model.predict_proba(holdout.head(1))[0, model.positive_index]
    )
    assert out.to_dict()["results"][3]["status"] == 422
    assert "422" in out._repr_html_()
    with pytest.raises(ParameterError):
        GuardPolicy(impute={"everything"})


def test_concurrent_single_records_are_batched_and_each_gets_its_own_answer(models, holdout):
    model = load_model(models["forest"])
    records = records_of(holdout.head(64), model.spec)
    expected = model.predict_proba(holdout.head(64))[:, model.positive_index]
    service = ServingService(models["forest"], timeout=LOADED)
    with running(service) as url, httpx.Client(timeout=30) as client:
        with ThreadPoolExecutor(16) as pool:
            got = list(pool.map(lambda r: _post(client, url, r).json()["results"][0]["probability"], records))
        text = client.get(url + "/metrics").text
    np.testing.assert_allclose(got, expected, atol=1e-12)
    assert not any(math.isnan(g) for g in got)
    assert 'workbench_model_batch_records_count{role="champion"}' in text


def test_the_serve_command_passes_its_flags_to_one_call(monkeypatch, capsys):
    from workbench.cli import main

    seen = {}
    monkeypatch.setattr("workbench.serving.server.serve", lambda model, **kw: seen.update(model=model, **kw))
    argv = ["serve", "--model", "models:/loans@champion", "--challenger", "c.wbm", "--mode", "canary"]
    argv += ["--canary-percent", "20", "--impute", "category", "--log-dir", "LOG", "--log-exclude", "ssn"]
    argv += ["--timeout-ms", "250", "--max-body-mb", "1"]
    assert main(argv) == 0
    assert seen["model"] == "models:/loans@champion" and seen["challenger"] == "c.wbm"
    assert seen["mode"] == "canary" and seen["canary_percent"] == 20 and seen["log_exclude"] == ["ssn"]
    assert seen["timeout"] == 0.25 and seen["max_body_bytes"] == 2**20 and seen["host"] == "127.0.0.1"
    assert seen["policy"].impute == frozenset({"category"})
    assert main(["serve", "--model", "m.wbm", "--canary-percent", "150"]) == 2
    assert "--canary-percent" in capsys.readouterr().err


def test_a_fallback_answer_is_logged_under_the_role_its_record_was_routed_to(
    models, holdout, tmp_path, monkeypatch
):
    from workbench.serving.log_table import read_log

    model = load_model(models["forest"])
    records = records_of(holdout.head(6), model.spec)
    service = ServingService(
        models["forest"],
        timeout=LOADED,
        challenger=models["logistic"],
        mode="canary",
        canary_percent=50,
        fallback="prior",
        log_dir=tmp_path / "log",
    )

    def raising(frame):
        raise RuntimeError("the canary broke")

    monkeypatch.setattr(service.challenger.served.model, "predict_proba", raising)
    ids = [f"c{i}" for i in range(40)]
    routed = {i: "canary" if canary_bucket(i) < 50 else "champion" for i in ids}
    with running(service) as url, httpx.Client(timeout=30) as client:
        body = _post(client, url, [{**records[k % 6], "id": i} for k, i in enumerate(ids)]).json()
    assert body["answered"] == 40 and "canary" in routed.values() and "champion" in routed.values()
    for a in body["results"]:  # the answer names the fallback that answered, as before
        assert a["fallback"] is (routed[a["id"]] == "canary")
        assert a["model"]["role"] == ("fallback" if a["fallback"] else "champion")
    frame = read_log(tmp_path / "log", with_meta=True).set_index("_id")
    assert set(frame["_role"]) == {"champion", "canary"} and len(frame) == 40
    for i, role in routed.items():
        row = frame.loc[i]
        assert row["_role"] == role and bool(row["_fallback"]) is (role == "canary")
        if role == "canary":
            assert row["_model_name"] == "prior" and row["_fallback_reason"].startswith("model error")
        else:
            assert row["_model_name"] == model.name and row["_fallback_reason"] is None


def test_the_documented_route_answers_as_the_fast_path(models, holdout):
    import asyncio

    from fastapi import FastAPI

    from workbench.serving.app import build_app

    model = load_model(models["forest"])
    records = records_of(holdout.head(3), model.spec)
    app = build_app(ServingService(models["forest"]), close_on_shutdown=False)
    payload = json.dumps([records[0], {**records[1], "region": "mars"}, records[2]])

    async def post(asgi) -> tuple[int, dict]:
        transport = httpx.ASGITransport(app=asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            r = await client.post("/predict", content=payload, headers={"content-type": "application/json"})
            return r.status_code, r.json()

    async def through_fastapi(scope, receive, send):  # FastAPI's stack and route, as /docs describes it
        await FastAPI.__call__(app, scope, receive, send)

    fast, routed = asyncio.run(post(app)), asyncio.run(post(through_fastapi))
    for status, body in (fast, routed):
        assert status == 200 and [a["status"] for a in body["results"]] == [200, 422, 200]
    assert fast[1]["results"] == routed[1]["results"] and fast[1]["request_id"] != routed[1]["request_id"]
    assert fast[1]["results"][1]["errors"][0]["column"] == "region"


def test_a_forest_on_a_few_rows_skips_joblib_and_answers_the_same(models, holdout):
    from workbench.modeling._forest_fast import SMALL, small_batch_proba

    model = load_model(models["forest"])
    frame = model.prepare(holdout)
    for rows in (frame.head(1), frame.head(37), frame):
        fast = small_batch_proba(model.estimator, rows)
        assert fast is not None, len(rows)
        np.testing.assert_allclose(fast, model.estimator.predict_proba(rows), rtol=0, atol=1e-12)
    big = pd.concat([frame] * (SMALL // len(frame) + 1), ignore_index=True)
    assert small_batch_proba(model.estimator, big) is None  # joblib's threads pay off on large tables
    logistic = load_model(models["logistic"])
    assert small_batch_proba(logistic.estimator, logistic.prepare(holdout)) is None
