"""FairnessPanel driven as a user would: pick the column and constraint, click, read, use a model."""

from __future__ import annotations

import pytest

from workbench.widgets import AppState, FairnessPanel


@pytest.fixture(scope="module")
def state(adult, adult_small):
    from workbench.modeling.train import train

    train_rows, test_rows = adult_small
    st = AppState(
        data=train_rows, validation=test_rows, spec=adult.spec, dataset="adult", run_in_thread=False
    )
    st.model = train(
        train_rows, adult.spec, recipes=["logistic_regression"], quick=True, progress=False
    ).champion
    return st


def test_errors_are_banners():
    panel = FairnessPanel(AppState(run_in_thread=False))
    panel.run_button.click()
    assert panel.banner.level == "error" and "train or load a model first" in panel.banner.message
    panel.use_button.click()
    assert "run a mitigation first" in panel.banner.message


def test_mitigate_then_use_a_model(state, tmp_path):
    panel = FairnessPanel(state)
    assert panel.sensitive.options == ("sex", "race") and panel.sensitive.value == "sex"
    panel.constraint.value = "demographic_parity"
    panel.quick.value = True
    panel.out.value = str(tmp_path / "fair.wbm")
    original = state.model
    panel.run_button.click()
    panel.wait()
    assert panel.banner.level == "info", panel.banner.message
    result = panel.result
    assert result is not None and result.constraint == "demographic_parity"
    assert panel.chart.figure is not None and "<table" in panel.table.value
    assert result.chosen not in (None, "original") and panel.choice.value == result.chosen
    panel.use_button.click()
    assert state.model is result.model(result.chosen) and state.model is not original
    assert state.model_path == str(tmp_path / "fair.wbm")
    # a column the data lacks is a banner, not a traceback
    panel.sensitive.options = ["nope"]
    panel.run_button.click()
    assert panel.banner.level == "error" and "'nope'" in panel.banner.message
