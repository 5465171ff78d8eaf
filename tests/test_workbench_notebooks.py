"""The interactive notebooks 01-05 run headless under papermill (quick=True) and write their artifacts.

01 trains and saves the champion; 03 and 04 take that champion; 02 runs on its own
(its model file is missing, so it trains one first). Each shows its panel at the end.
"""

from __future__ import annotations

import json

import nbformat
import pytest

from tests.conftest import ROOT

pytestmark = [pytest.mark.notebook, pytest.mark.slow]

WIDGET = "application/vnd.jupyter.widget-view+json"
PLOTLY = "application/vnd.plotly.v1+json"


def _run(name: str, folder, **parameters) -> list[dict]:
    """Execute notebooks/`name` in `folder` (the python3 kernel: this environment's); return its outputs."""
    import papermill as pm

    out = folder / f"{name}.out.ipynb"
    pm.execute_notebook(
        str(ROOT / "notebooks" / f"{name}.ipynb"),
        str(out),
        parameters={"quick": True, **parameters},
        kernel_name="python3",
        progress_bar=False,
        cwd=str(folder),
    )
    nb = json.loads(out.read_text())
    return [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]


def _mimes(outputs: list[dict]) -> set[str]:
    return {m for o in outputs for m in o.get("data", {})}


def _assert_rendered(outputs: list[dict]) -> None:
    """No cell failed, and the notebook showed a widget, a plotly figure and HTML."""
    assert not [o for o in outputs if o["output_type"] == "error"]
    assert {WIDGET, PLOTLY, "text/html"} <= _mimes(outputs)


def _run_on_champion(name: str, trained, folder, **parameters) -> None:
    """Run notebooks/`name` in `folder` on the champion 01_train saved; check that it rendered."""
    _assert_rendered(_run(name, folder, model_path=str(trained[0] / "champion.wbm"), **parameters))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("train")
    outputs = _run(
        "01_train", folder, out=str(folder / "champion.wbm"), leaderboard_out=str(folder / "leaderboard.json")
    )
    return folder, outputs


def test_the_templates_have_one_parameters_cell_a_renderer_and_no_outputs():
    for name in ("01_train", "02_compress", "03_explain", "04_evaluate", "05_fairness"):
        nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1 and "quick = False" in tagged[0].source
        first_code = next(c for c in nb.cells if c.cell_type == "code")
        assert 'pio.renderers.default = "plotly_mimetype"' in first_code.source
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
        assert nb.cells[0].cell_type == "markdown" and len(nb.cells[0].source) < 400
        assert "Panel(state)" in nb.cells[-1].source


def test_01_train_saves_the_champion_and_the_leaderboard(trained):
    import workbench as wb

    folder, outputs = trained
    _assert_rendered(outputs)
    board = json.loads((folder / "leaderboard.json").read_text())
    model = wb.load_model(folder / "champion.wbm")
    assert board["kind"] == "training" and board["champion"] == model.name
    assert {c["name"] for c in board["candidates"]} == {
        "logistic_regression",
        "random_forest",
        "hist_gradient_boosting",
    }
    champion = next(c for c in board["candidates"] if c["name"] == board["champion"])
    assert (
        champion["roc_auc"] == pytest.approx(model.meta["metrics"]["roc_auc"]) and champion["roc_auc"] > 0.88
    )


def test_02_compress_runs_alone_and_saves_the_variants_and_the_study(tmp_path):
    import workbench as wb

    outputs = _run(
        "02_compress", tmp_path, model_path=str(tmp_path / "model.wbm"), out_dir=str(tmp_path / "out")
    )
    _assert_rendered(outputs)
    assert (tmp_path / "model.wbm").is_file()  # trained first, since it was missing
    study = json.loads((tmp_path / "out" / "compression.json").read_text())
    assert study["kind"] == "compression" and study["model"] == "hist_gradient_boosting"
    saved = [v for v in study["variants"] if v["path"]]
    assert len(saved) == len(study["variants"]) and all((tmp_path / "out" / "variants").glob("*.wbm"))
    chosen = wb.load_model(study["chosen"]["path"])
    assert chosen.spec.target == "income"
    assert next(v for v in study["variants"] if v["name"] == study["chosen"]["name"])["accepted"]


def test_03_explain_writes_explanations_json_and_html(trained, tmp_path):
    _run_on_champion(
        "03_explain", trained, tmp_path, out=str(tmp_path / "ex.json"), html_out=str(tmp_path / "ex.html")
    )
    ex = json.loads((tmp_path / "ex.json").read_text())
    assert set(ex) == {"local", "importance", "partial_dependence", "surrogate", "shap_local", "shap"}
    local = ex["local"]
    assert local["selection"]["method"] == "worst_errors" and len(local["explanations"]) == 5
    assert all(e["error"] == "false negative" for e in local["explanations"])
    assert ex["partial_dependence"]["feature"] == ex["importance"]["features"][0]["feature"]
    assert ex["surrogate"]["rules"] and 0.5 < ex["surrogate"]["fidelity"] <= 1
    shap_local, features = ex["shap_local"], set(ex["shap"]["points"])
    assert [e["row_id"] for e in shap_local["explanations"]] == [e["row_id"] for e in local["explanations"]]
    for e in shap_local["explanations"]:  # SHAP in the original columns, adding up to the model's output
        assert {c["feature"] for c in e["contributions"]} == features
        total = shap_local["base_value"] + sum(c["shap"] for c in e["contributions"])
        assert total == pytest.approx(e["output"], abs=1e-6)
    assert [a["method"] for a in ex["shap"]["agreement"]] == ["permutation importance", "LIME"]
    page = (tmp_path / "ex.html").read_text()
    assert page.count("* plotly.js v") == 1 and "Surrogate decision tree" in page  # plotly.js inlined once
    assert "SHAP summary of" in page and "SHAP explanation of" in page


def test_04_evaluate_writes_the_evaluation(trained, tmp_path):
    _run_on_champion(
        "04_evaluate", trained, tmp_path, out=str(tmp_path / "ev.json"), cost_fn=10.0, cost_fp=1.0
    )
    ev = json.loads((tmp_path / "ev.json").read_text())
    assert ev["kind"] == "evaluation" and ev["metrics"]["roc_auc"] > 0.88 and ev["rows"] == 5000
    assert ev["cost"] == {"fn": 10.0, "fp": 1.0, "tp": 0.0, "tn": 0.0} and ev["metrics"]["cost"] > 0
    tn, fp = ev["confusion_matrix"][0]
    fn, tp = ev["confusion_matrix"][1]
    assert ev["metrics"]["cost"] == 10 * fn + fp and tn + fp + fn + tp == ev["rows"]
    judged = [s for s in ev["slices"] if not s["too_small"] and s["roc_auc"] is not None]
    assert judged and judged[0]["roc_auc"] <= judged[-1]["roc_auc"]  # worst first


def test_05_fairness_runs_alone_and_saves_the_chosen_model_and_the_frontier(tmp_path):
    import workbench as wb

    outputs = _run(
        "05_fairness",
        tmp_path,
        model_path=str(tmp_path / "model.wbm"),
        constraint="demographic_parity",
        out=str(tmp_path / "fair.wbm"),
        result_out=str(tmp_path / "mitigation.json"),
    )
    assert not [o for o in outputs if o["output_type"] == "error"]
    assert {WIDGET, PLOTLY, "text/html"} <= _mimes(outputs)
    result = json.loads((tmp_path / "mitigation.json").read_text())
    assert result["constraint"] == "demographic_parity" and result["candidates"][0]["name"] == "original"
    assert result["chosen"] not in (None, "original") and result["saved_path"] == str(tmp_path / "fair.wbm")
    fair = wb.load_model(tmp_path / "fair.wbm")
    assert fair.meta["lineage"]["technique"].startswith("mitigation:")
