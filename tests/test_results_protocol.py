"""Every registered result kind satisfies the written result protocol (workbench/results.py), and runs stored
before results carried a schema version still load and render the same."""

from __future__ import annotations

import inspect
import json
import math
from dataclasses import fields, is_dataclass
from html import escape as html_escape
from pathlib import Path

import pytest

from workbench.checks import Check
from workbench.errors import UnknownNameError, WorkbenchError
from workbench.results import (
    RESULT_KINDS,
    RESULT_MODULES,
    STORE_SCHEMA,
    AnalysisResult,
    result_class,
    result_from_entry,
    result_to_entry,
)

FIXTURES = Path(__file__).parent / "fixtures" / "runs_before_schema"


# -- one real instance of every kind, on small samples of the bundled Adult data ---------------------------
@pytest.fixture(scope="module")
def model(adult):
    from workbench.modeling.train import train

    sample = adult.train.sample(2000, random_state=5)
    return train(sample, adult.spec, recipes=["logistic_regression"], quick=True, progress=False).champion


@pytest.fixture(scope="module")
def instances(adult, model):
    import workbench.explain as ex
    from tests.predlog_util import canary_traffic
    from workbench.fairness import mitigate
    from workbench.monitoring.bias import assess_bias
    from workbench.monitoring.drift import detect_drift
    from workbench.monitoring.performance import assess_performance
    from workbench.monitoring.quality import check_quality
    from workbench.releases.canary import judge_canary
    from workbench.releases.compare import compare_models

    reference = adult.train.sample(1500, random_state=6)
    current = adult.test.sample(1000, random_state=7)
    rows = list(current.index[:2])
    out = [
        detect_drift(reference, current, adult.spec, model=model),
        check_quality(reference, current, adult.spec),
        assess_performance(current, model, reference=reference, period="2026-11-03"),
        assess_bias(current, adult.spec, model=model, reference=reference, n_bootstrap=50),
        ex.explain_local(model, current, rows=rows, reference=reference, num_samples=500),
        ex.explanation_stability(
            model, current, rows=rows[:1], reference=reference, seeds=2, num_samples=500
        ),
        ex.permutation_importance(model, current, n_repeats=2, max_rows=300),
        ex.partial_dependence(model, current, "age", max_rows=100),
        ex.surrogate_tree(model, current, max_depth=2, max_rows=1000),
        ex.explain_shap(model, current, rows=rows, reference=reference, background=10, nsamples=100),
        ex.shap_summary(model, current, reference=reference, max_rows=10, background=10, nsamples=100),
        compare_models(model, model, current, sensitive=["sex"], n_bootstrap=50, latency=False),
        judge_canary(canary_traffic(model, current)),
        mitigate(
            model,
            current,
            sensitive="sex",
            constraint="demographic_parity",
            methods=["threshold_optimizer"],
            min_group_size=10,
            n_bootstrap=20,
            quick=True,
            progress=False,
        ),
    ]
    by_kind = {r.kind: r for r in out}
    assert set(by_kind) == set(RESULT_KINDS), "a registered kind has no instance in this test"
    return by_kind


#: the name lookups of each kind, called with a name that does not exist
LOOKUPS = {
    "drift": [lambda r: r.column("nope")],
    "quality": [lambda r: r.column("nope")],
    "bias": [
        lambda r: r.attribute("nope"),
        lambda r: r.by_group("nope"),
        lambda r: r.disparity("nope", "sex"),
        lambda r: r.attribute("sex").group("nope"),
        lambda r: r.attribute("sex").disparity("nope"),
        lambda r: r.attribute("sex").groups[0].rate("nope"),
    ],
    "local_explanation": [lambda r: r["nope"]],
    "performance": [],
    "explanation_stability": [],
    "permutation_importance": [],
    "partial_dependence": [],
    "surrogate_tree": [],
    "shap_explanation": [lambda r: r["nope"]],
    "shap_summary": [lambda r: r.column("nope"), lambda r: r.dependence_figure("nope")],
    "mitigation": [lambda r: r["nope"], lambda r: r.original.disparity("nope")],
    "compare": [
        lambda r: r.attribute("nope"),
        lambda r: r.disparity("nope", "sex"),
        lambda r: r.delta("nope"),
    ],
    "canary": [lambda r: r.arm("nope")],
}


# -- the class: kind and SCHEMA are typed class variables, the methods share one signature -----------------
@pytest.mark.parametrize("kind", RESULT_KINDS)
def test_the_class_declares_kind_and_schema_and_the_protocols_signatures(kind):
    cls = result_class(kind)
    assert cls.__name__ == RESULT_MODULES[kind][1]
    assert cls.kind == kind and isinstance(cls.kind, str)
    assert isinstance(cls.SCHEMA, int) and not isinstance(cls.SCHEMA, bool) and cls.SCHEMA >= 1
    for name in ("kind", "SCHEMA"):
        assert "ClassVar" in str(cls.__annotations__.get(name)), f"{cls.__name__}.{name} is not a ClassVar"
    assert is_dataclass(cls) and {"kind", "SCHEMA"}.isdisjoint(f.name for f in fields(cls))
    assert cls.__dataclass_params__.frozen
    assert isinstance(inspect.getattr_static(cls, "from_dict"), classmethod)
    for method in ("checks", "findings", "_repr_html_"):
        params = inspect.signature(getattr(cls, method)).parameters
        assert list(params) == ["self", "config"] and params["config"].default is None, (cls.__name__, method)
    for method in ("to_dict", "key_metrics", "figures"):
        assert list(inspect.signature(getattr(cls, method)).parameters) == ["self"], (cls.__name__, method)
    assert kind in LOOKUPS


# -- a real instance: round trip, answers of the right types, the same error for a missing name -------------
@pytest.mark.parametrize("kind", RESULT_KINDS)
def test_a_real_instance_satisfies_the_protocol(kind, instances):
    import plotly.graph_objects as go

    r = instances[kind]
    assert isinstance(r, AnalysisResult)

    d = r.to_dict()
    text = json.dumps(d, allow_nan=False)  # JSON-safe: no NaN, no numpy types, no objects
    again = type(r).from_dict(json.loads(text))
    assert again.to_dict() == d
    entry = json.loads(json.dumps(result_to_entry(r)))
    assert entry == {"kind": kind, "schema": type(r).SCHEMA, "data": json.loads(text)}
    assert result_from_entry(entry).to_dict() == d

    for config in (None, {}, {"*": False}):
        checks = r.checks(config)
        assert isinstance(checks, list) and all(isinstance(c, Check) for c in checks)
        found = r.findings(config)
        assert isinstance(found, list) and all(isinstance(s, str) and s for s in found)
        card = r._repr_html_(config)
        assert isinstance(card, str) and card.lstrip().startswith("<")
    assert r.checks({"*": False}) == []  # every check goes through the run's settings
    assert r.findings() == r.findings(None) and r._repr_html_() == r._repr_html_(None)

    metrics = r.key_metrics()
    assert isinstance(metrics, dict) and metrics
    for name, value in metrics.items():
        assert isinstance(name, str)
        assert value is None or (
            isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        ), (name, value)

    figs = r.figures()
    assert isinstance(figs, dict) and figs
    assert all(isinstance(k, str) and isinstance(f, go.Figure) for k, f in figs.items())

    for lookup in LOOKUPS[kind]:
        with pytest.raises(UnknownNameError) as caught:
            lookup(r)
        assert isinstance(caught.value, WorkbenchError) and isinstance(caught.value, KeyError)
        assert "nope" in str(caught.value) and not str(caught.value).startswith("'")  # a sentence, not a repr


def test_unknown_kinds_and_newer_schemas_are_refused_in_a_sentence():
    with pytest.raises(UnknownNameError, match="unknown result kind 'nope'; the known kinds are 'drift'"):
        result_class("nope")
    with pytest.raises(WorkbenchError, match="stored by a newer workbench"):
        result_from_entry({"kind": "drift", "schema": 99, "data": {}})

    class Unregistered:
        kind = "nope"

        def to_dict(self):
            return {}

    with pytest.raises(WorkbenchError, match="not a registered analysis result"):
        result_to_entry(Unregistered())


# -- runs stored before the schema version: they load, render and say the same ------------------------------
def _stored(kind: str) -> tuple[dict, dict]:
    folder = FIXTURES / kind
    return json.loads((folder / "results.json").read_text()), json.loads(
        (folder / "expected.json").read_text()
    )


@pytest.mark.parametrize("kind", ["drift", "bias"])
def test_a_run_stored_before_schema_versions_loads_and_says_the_same(kind):
    from workbench.reports.report import Report

    payload, expected = _stored(kind)
    assert "schema" not in payload and all("schema" not in e for e in payload["report"]["results"])
    report = Report.from_dict(payload["report"])
    assert [r.kind for r in report.results] == [e["kind"] for e in payload["report"]["results"]]
    for entry, result in zip(payload["report"]["results"], report.results, strict=True):
        assert json.loads(json.dumps(result.to_dict())) == entry["data"]  # the same shape, read and written
    assert json.loads(json.dumps(report.metrics())) == expected["metrics"]
    assert report.headline() == expected["headline"] and report.findings() == expected["findings"]
    assert [c.name for c in report.checks()] == expected["checks"]
    page = report.to_html()
    assert report.headline().split(":")[0] in page and "wb-figure" in page


@pytest.mark.parametrize("kind", ["drift", "bias"])
def test_a_run_stored_before_schema_versions_renders_in_the_run_view(kind, tmp_path):
    import shutil

    from workbench.dashboards import runview

    payload, expected = _stored(kind)
    run_dir = tmp_path / kind
    shutil.copytree(FIXTURES / kind, run_dir)
    report, reason = runview.load_report(run_dir)
    assert reason is None and report is not None
    run = {
        "id": f"{kind}-run",
        "kind": kind,
        "name": None,
        "status": "passed",
        "period_label": "2026-11-03",
        "started_at": None,
        "model": "model.wbm",
        "path": str(run_dir),
        "artifacts": {},
        "checks": [],
        "findings": [],
        "failed_warnings": [],
    }
    widgets = runview.run_details_widgets(run)
    html = " ".join(w.value for w in widgets if isinstance(getattr(w, "value", None), str))
    assert "data-problem=" not in html and "cannot be shown" not in html  # no error card
    assert html_escape(expected["headline"]) in html
    cards = [w for w in widgets if "wb-result-card" in str(getattr(w, "value", ""))]
    assert len(cards) == len(payload["report"]["results"])
    n_figures = sum(len(r.figures()) for r in report.results)
    assert len(widgets) == 1 + 1 + len(cards) + n_figures  # header, report, a card and the charts per result


def test_results_json_now_carries_its_schema_and_reads_back(tmp_path):
    from workbench.reports.report import Report, load_or_compute, store_results

    payload, _ = _stored("drift")
    report = Report.from_dict(payload["report"])
    store_results(report, tmp_path)
    stored = json.loads((tmp_path / "results.json").read_text())
    assert stored["schema"] == STORE_SCHEMA
    assert [(e["kind"], e["schema"]) for e in stored["report"]["results"]] == [
        (r.kind, type(r).SCHEMA) for r in report.results
    ]
    again = load_or_compute("drift", {}, tmp_path)  # stored results: rendered, never recomputed
    assert again.to_dict() == report.to_dict() and again.metrics() == report.metrics()
