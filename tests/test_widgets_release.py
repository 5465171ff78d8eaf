"""The Release panel driven as a user would, on a real SQLite-backed MLflow registry in tmp_path.

Register the current model, show its versions, compare it with the champion, promote it through the
gate ``workbench promote`` applies (refused, forced with a reason, passed with a checks file), roll the
champion back; every bad input is a banner, never a traceback. Work runs synchronously
(``run_in_thread=False``) except where the background thread itself is under test.
"""

from __future__ import annotations

import json

import pytest

from workbench.modeling.artifact import load_model
from workbench.registry import get_alias, history, list_models, register_model
from workbench.widgets import ReleasePanel


@pytest.fixture()
def panel(state, tmp_path, monkeypatch):
    """A Release panel on the Adult sample, naming a fresh registry in tmp_path and the model 'credit'.

    Run from tmp_path: a comparison is filed in the default reports folder, relative to the working
    directory (the repository's own `reports/` otherwise, shared by parallel test workers)."""
    monkeypatch.chdir(tmp_path)
    p = ReleasePanel(state)
    p.registry.value = str(tmp_path / "registry")
    p.name.value = "credit"
    return p


def _use(panel, path, *, saved=True):
    """Make the model file at `path` the state's current model (as the Train panel's Load does)."""
    panel.state.model = load_model(path)
    panel.state.model_path = str(path) if saved else None


def _champion(panel) -> int:
    return get_alias("credit", "champion", registry=panel.registry.value).version


def test_register_promote_refuse_force_and_roll_back_through_the_panel(panel, release_models):
    _use(panel, release_models["champion"])
    panel.register_button.click()
    assert panel.banner.level == "info" and "models:/credit/1" in panel.banner.message, panel.banner.message
    assert panel.version.value == 1 and "versions (1)" in panel.versions.value

    panel.promote_button.click()  # no champion yet: the first one needs no comparison
    assert panel.promotion.decision == "promoted" and _champion(panel) == 1, panel.banner.message
    assert "@champion -&gt; v1" in panel.versions.value and panel.version.options[0] == ("v1 @champion", 1)

    _use(panel, release_models["worse"])
    panel.register_button.click()
    assert panel.version.value == 2
    panel.compare_button.click()
    assert panel.banner.level == "info" and panel.banner.message.startswith("Keep the champion")
    assert "release.auc_loss" in panel.card.value and len(panel.charts.children) >= 4
    assert {a["name"] for a in panel.comparison.fairness} == {"sex", "race"}  # the spec's sensitive columns
    assert panel.comparison.n_labelled == len(panel.state.validation)

    panel.promote_button.click()
    assert panel.banner.level == "error" and "release.auc_loss" in panel.banner.message
    assert "Refused" in panel.decision.value and _champion(panel) == 1

    panel.force.value = True
    panel.promote_button.click()  # forcing without a reason is refused before anything runs
    assert panel.banner.level == "error" and "needs a reason" in panel.banner.message
    panel.reason.value = "the regulator asked for it"
    panel.promote_button.click()
    assert panel.promotion.forced and _champion(panel) == 2, panel.banner.message
    assert "(forced)" in panel.decision.value

    panel.reason.value = ""
    panel.rollback_button.click()
    assert panel.banner.message == "'credit'@champion rolled back from version 2 to version 1."
    assert _champion(panel) == 1 and panel.version.value == 1
    panel.rollback_button.click()  # the first champion on record: nothing before it
    assert panel.banner.level == "error" and "no previous champion" in panel.banner.message
    moves = [
        (m.action, m.from_version, m.to_version, m.forced)
        for m in history("credit", registry=str(panel.registry.value))
    ]
    assert moves == [("promote", None, 1, False), ("force", 1, 2, True), ("rollback", 2, 1, False)]
    assert history("credit", registry=panel.registry.value)[1].reason == "the regulator asked for it"


def test_a_comparable_model_passes_the_gate_with_the_checks_file(panel, release_models, tmp_path):
    register_model(release_models["champion"], "credit", registry=panel.registry.value, aliases=["champion"])
    budgets = tmp_path / "checks.json"
    # same recipe and size: their p95 latencies differ only by the machine's noise (as in test_promote)
    budgets.write_text(json.dumps({"release.latency_p95": 10.0}))
    panel.checks.value = str(budgets)
    panel.sensitive.value = ()  # overall only, as `workbench promote` without --sensitive
    _use(panel, release_models["comparable"], saved=False)  # never saved: registered from a temporary file
    panel.register_button.click()
    assert panel.version.value == 2, panel.banner.message
    panel.compare_button.click()
    assert panel.comparison is not None and panel.banner.message.startswith("Promote"), panel.banner.message
    panel.promote_button.click()
    assert panel.promotion.decision == "promoted" and not panel.promotion.forced, panel.banner.message
    assert panel.promotion.failed == [] and _champion(panel) == 2
    assert "Promoted" in panel.decision.value and panel.banner.level == "info"


def test_bad_input_is_a_banner_and_nothing_is_registered(panel, release_models, tmp_path):
    """Each refusal is one sentence in the red banner; the only model in the registry is the test's own."""

    def says(button, words):
        panel.banner.clear()
        button.click()
        assert panel.banner.level == "error" and words in panel.banner.message, panel.banner.message
        assert "Traceback" not in panel.banner.message and not panel.busy

    says(panel.register_button, "nothing to register")  # no model yet
    says(panel.compare_button, "nothing to compare")
    _use(panel, release_models["champion"])
    panel.name.value = ""
    says(panel.show_button, "model's name")
    panel.name.value = "no spaces allowed"
    says(panel.register_button, "no spaces allowed")
    panel.name.value = "credit"
    says(panel.show_button, "holds no models yet")  # an empty registry
    register_model(release_models["champion"], "other", registry=panel.registry.value)
    says(panel.show_button, "credit")  # not registered
    says(panel.compare_button, "credit")  # no champion to compare with
    says(panel.promote_button, "choose the version")
    says(panel.rollback_button, "credit")
    panel.checks.value = str(tmp_path / "missing.toml")
    says(panel.compare_button, "missing.toml")
    panel.checks.value = ""
    registry = panel.registry.value
    panel.registry.value = "file:///tmp/mlruns"
    says(panel.register_button, "file store")
    panel.registry.value = registry
    panel.state.validation = None
    says(panel.compare_button, "held-out rows")
    assert [m.name for m in list_models(registry=registry)] == ["other"]


def test_work_runs_in_the_background_and_the_buttons_wait(panel, release_models):
    panel.state.run_in_thread = True
    _use(panel, release_models["champion"])
    panel.register_button.click()
    assert panel.busy and panel.promote_button.disabled and "Registering" in panel.status_text()
    panel.register_button.click()  # a second click while busy is told to wait, not run twice
    assert "Still busy" in panel.banner.message
    panel.wait(120)
    assert not panel.busy and not panel.promote_button.disabled and panel.banner.level == "info"
    assert panel.version.options == (("v1", 1),) and "versions (1)" in panel.versions.value
