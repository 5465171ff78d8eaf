"""Shared fixtures: real data (UCI Adult, scikit-learn's bundled sets) and small trained models."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_collection_modifyitems(config, items):
    """With CI=true a skipped browser or notebook test is a failure, not a pass."""
    if not IN_CI:
        return
    for item in items:
        if item.get_closest_marker("browser") or item.get_closest_marker("notebook"):
            item.user_properties.append(("must_run", True))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and ("must_run", True) in item.user_properties:
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which counts as a failure: {report.longrepr}"


@pytest.fixture(scope="session")
def adult():
    from workbench.data import load_demo

    return load_demo("adult")


@pytest.fixture(scope="session")
def adult_small(adult):
    """4,000 training and 3,000 test rows of Adult: real data, quick to fit."""
    return adult.train.sample(4000, random_state=1), adult.test.sample(3000, random_state=2)


@pytest.fixture(scope="session")
def adult_models(adult, adult_small):
    """Quick candidates of all three recipes trained on a sample of Adult."""
    from workbench.modeling.train import train

    train_df, test_df = adult_small
    return train(train_df, adult.spec, validation=test_df, quick=True, progress=False)


@pytest.fixture()
def state(adult, adult_small):
    """An AppState on the Adult sample (4,000 training, 3,000 held-out rows) whose work runs synchronously."""
    from workbench.widgets import AppState

    train_rows, test_rows = adult_small
    return AppState(
        data=train_rows, validation=test_rows, spec=adult.spec, dataset="adult", run_in_thread=False
    )


def _train_lr(adult, rows, seed, shuffle=False):
    import numpy as np

    from workbench.modeling.train import train

    data = adult.train.sample(rows, random_state=seed)
    if shuffle:  # a model that learned nothing: labels shuffled
        data = data.assign(
            **{adult.spec.target: np.random.default_rng(seed).permutation(data[adult.spec.target])}
        )
    return train(data, adult.spec, recipes=["logistic_regression"], quick=True, progress=False).champion


@pytest.fixture(scope="session")
def release_models(adult, tmp_path_factory):
    """Saved model files: a champion, a comparable challenger (same recipe, other rows), a worse one.

    The worse one learned from shuffled labels, so a release gate refuses it.
    """
    from workbench.modeling.artifact import save_model

    folder = tmp_path_factory.mktemp("release-models")
    return {
        "champion": save_model(_train_lr(adult, 3000, 1), folder / "champion.wbm"),
        "comparable": save_model(_train_lr(adult, 3000, 2), folder / "comparable.wbm"),
        "worse": save_model(_train_lr(adult, 3000, 3, shuffle=True), folder / "worse.wbm"),
    }


def run_cli(*args: str, cwd: Path | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run the real `workbench` command in a subprocess."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run(
        [sys.executable, "-m", "workbench", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        env=env,
    )
