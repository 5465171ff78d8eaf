"""The templated notebooks run headless under papermill with their defaults on the bundled data."""

from __future__ import annotations

import json

import pytest

from tests.conftest import ROOT

pytestmark = [pytest.mark.notebook, pytest.mark.slow]


def test_train_notebook_runs_headless(tmp_path):
    import papermill as pm

    out_model = tmp_path / "champion.wbm"
    out_nb = tmp_path / "01_train.out.ipynb"
    pm.execute_notebook(
        str(ROOT / "notebooks" / "01_train.ipynb"), str(out_nb),
        parameters={"quick": True, "out": str(out_model), "recipes": ["logistic_regression", "hist_gradient_boosting"]},
        kernel_name="python3", progress_bar=False, cwd=str(tmp_path),
    )
    nb = json.loads(out_nb.read_text())
    outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o["output_type"] == "error"]
    mimes = {m for o in outputs for m in o.get("data", {})}
    assert "application/vnd.plotly.v1+json" in mimes and "text/html" in mimes
    assert out_model.is_file()
    import workbench as wb

    model = wb.load_model(out_model)
    assert model.name in ("logistic_regression", "hist_gradient_boosting")
    assert model.meta["metrics"]["roc_auc"] > 0.88
