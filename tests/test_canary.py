"""The canary judge: on the traffic each served, canary vs champion; the canary report end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import run_cli
from tests.predlog_util import canary_traffic, write_log
from workbench.releases.canary import judge_canary
from workbench.releases.canary_result import CanaryResult


@pytest.fixture(scope="module")
def models(adult):
    from workbench.modeling.train import train

    sample = adult.train.sample(4000, random_state=1)
    good = train(sample, adult.spec, recipes=["logistic_regression"], progress=False).champion
    # a poor canary: trained on a few hundred rows of two features
    few = sample.iloc[:300][["age", "hours-per-week", "income"]]
    spec = adult.spec.__class__.from_dict(
        {
            **adult.spec.to_dict(),
            "features": ["age", "hours-per-week"],
            "numeric": ["age", "hours-per-week"],
            "categorical": [],
            "sensitive": [],
        }
    )
    poor = train(few, spec, recipes=["logistic_regression"], quick=True, progress=False).champion
    return good, poor


@pytest.fixture(scope="module")
def rows(adult):
    return adult.test.sample(4000, random_state=11).reset_index(drop=True)


def _labelled(frame: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    out = frame.assign(income=rows["income"].to_numpy())
    out.attrs["label_columns"] = ["income"]
    return out


def test_a_healthy_canary_is_promoted(models, rows):
    good, _ = models
    result = judge_canary(_labelled(canary_traffic(good, rows, seed=1), rows))
    v = result.verdict()
    assert v["decision"] == "promote" and result.score() == 100, v
    assert v["sentence"].startswith("Promote the canary")
    assert 600 < result.canary["rows"] < 1000 and result.champion["rows"] + result.canary["rows"] == 4000
    assert result.accuracy["p_value"] > 0.01 and result.prediction["drifted"] is False
    assert {c.name for c in result.checks()} == {
        "canary.prediction_drift", "canary.latency", "canary.validation_failures", "canary.fallbacks",
        "canary.accuracy", "canary.score",
    }  # fmt: skip
    assert all(c.passed for c in result.checks())
    assert CanaryResult.from_dict(json.loads(json.dumps(result.to_dict()))).to_dict() == result.to_dict()


def test_a_slow_failing_less_accurate_canary_is_rolled_back(models, rows):
    good, poor = models
    # a log from before fallback rows kept their routed role: their arm is found from their ids
    frame = canary_traffic(
        good, rows, canary=poor, slowdown=1.6, fallback_rate=0.1, seed=2, fallback_role="fallback"
    )
    result = judge_canary(_labelled(frame, rows))
    failed = {c.name for c in result.checks() if not c.passed}
    assert {"canary.latency", "canary.fallbacks", "canary.accuracy", "canary.score"} <= failed
    assert result.score() == 0 and result.verdict()["decision"] == "roll back"
    assert "critical check failed" in result.verdict()["sentence"]
    assert result.fallbacks["canary"] == pytest.approx(result.canary["fallbacks"] / result.canary["rows"])
    # fallback rows find their arm through the caller's other requests; the few with none are set apart
    assert result.fallbacks["champion"] == 0 and 0 < result.unattributed < result.canary["fallbacks"] / 4
    assert result.latency["median_ratio"] == pytest.approx(1.6, rel=0.1)
    # slower only (no labels, no fallbacks): one test of four fails -> continue, not promote
    slow = judge_canary(canary_traffic(good, rows, slowdown=1.5, seed=3))
    assert [c.name for c in slow.checks() if not c.passed] == ["canary.latency"]
    assert slow.score() == 75 and slow.verdict()["decision"] == "continue"
    assert any("No labels were joined" in f for f in slow.findings())


def test_fallback_rows_count_in_the_arm_they_were_routed_to(models, rows):
    good, poor = models
    frame = canary_traffic(good, rows, canary=poor, fallback_rate=0.1, seed=2)
    assert not (frame["_role"] == "fallback").any() and frame["_fallback"].any()
    result = judge_canary(_labelled(frame, rows))
    expected = int((frame["_fallback"] & (frame["_role"] == "canary")).sum())
    assert result.canary["fallbacks"] == expected > 0 and result.champion["fallbacks"] == 0
    assert result.unattributed == 0 and result.canary["rows"] == int((frame["_role"] == "canary").sum())
    assert result.fallbacks["canary"] == pytest.approx(expected / result.canary["rows"])
    assert "canary.fallbacks" in {c.name for c in result.checks() if not c.passed}
    # the arm names its own model, not the fallback that answered some of its records
    assert result.canary["versions"] == ["2"] and result.canary["model"] == "credit-canary"
    assert result.canary["answered"] == result.canary["rows"] - expected


def test_too_little_canary_traffic_means_continue(models, rows):
    good, _ = models
    result = judge_canary(canary_traffic(good, rows.iloc[:400], share=0.05, seed=4), min_rows=100)
    assert result.canary["answered"] < 100 and result.score() is None
    assert result.verdict()["decision"] == "continue" and "needs 100 in each" in result.verdict()["sentence"]
    assert [c for c in result.checks() if c.name == "canary.score"][0].passed


@pytest.mark.notebook
def test_the_canary_report_runs_on_a_log_and_gates(models, rows, tmp_path):
    good, poor = models
    log = tmp_path / "log"
    write_log(log, canary_traffic(good, rows, canary=poor, slowdown=1.6, fallback_rate=0.1, seed=5))
    reports = tmp_path / "reports"
    r = run_cli("report", "canary", "--log", str(log), "--reports-dir", str(reports), "--fail-on",
                "canary.score", "--json")  # fmt: skip
    assert r.returncode == 1, r.stderr[-2000:]
    s = json.loads(r.stdout)
    run_dir = Path(s["run_dir"])
    assert run_dir.parent == reports / "canary" and s["status"] == "checks_failed"
    assert s["verdict"]["decision"] == "roll back" and "canary.score" in {
        c["name"] for c in s["checks"] if not c["passed"]
    }
    assert s["lineage"]["model"]["versions"] == ["2"] and s["period"] == "2026-11-03"
    for f in ("report.ipynb", "report.html", "summary.json", "results.json"):
        assert (run_dir / f).is_file(), f
    assert "Canary vs champion" in (run_dir / "report.html").read_text()
    runs = json.loads(run_cli("runs", "--reports-dir", str(reports), "--kind", "canary", "--json").stdout)
    assert [x["id"] for x in runs] == [run_dir.name] and "canary.score" in runs[0]["failed_checks"]
    # the window: traffic before the canary existed has no canary rows -> bad input, no run
    r = run_cli("report", "canary", "--log", str(log), "--until", "2026-11-03T08:00:00",
                "--reports-dir", str(reports))  # fmt: skip
    assert r.returncode == 2 and "traffic in the window asked for" in r.stderr, r.stderr
    for args, message in (
        (("--log", str(tmp_path / "nope")), "is not a prediction log"),
        (("--log", str(log), "--since", "tomorrow"), "--since must be an ISO time"),
        (("--log", str(log), "--min-rows", "0"), "--min-rows must be"),
    ):
        r = run_cli("report", "canary", *args, "--reports-dir", str(reports))
        assert r.returncode == 2 and message in r.stderr, (args, r.stderr)
    assert len(list((reports / "canary").iterdir())) == 1
