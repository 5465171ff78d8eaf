"""Shared fixtures: real data (UCI Adult, scikit-learn's bundled sets) and small trained models."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


# One OpenMP/BLAS thread per test process (and the kernels and commands the tests start): with two
# pytest-xdist workers on two cores, each library's idle threads spin against the other worker's and make
# scikit-learn's HistGradientBoosting predict ~3x slower. Tests check behaviour, not speed
# (benchmarks/ measure speed). Set before scikit-learn is imported; a value already set is kept.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")


#: test files that take minutes (see the `--durations` list of a CI log): pytest-xdist hands them out
#: first, so that no worker is left running one of them alone at the end
HEAVIEST_FIRST = (
    "test_browser.py",
    "test_demo.py",
    "test_reports.py",
    "test_model_files_hostile.py",
    "test_fault_matrix.py",
    "test_workbench_notebooks.py",
    "test_widgets.py",
)


def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist, the heaviest files first; with CI=true a skipped browser or notebook test is a
    failure, not a pass.

    `make test` distributes whole files (``--dist loadfile --no-loadscope-reorder``: a module's fixtures
    are set up once) in the order collected here, the same in every worker; a serial run keeps file order.
    """
    if os.environ.get("PYTEST_XDIST_WORKER"):
        rank = {name: i for i, name in enumerate(HEAVIEST_FIRST)}
        items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the rest in file order
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


def shared_once(tmp_path_factory, name: str, make: Callable[[Path], None]) -> Path:
    """The folder `name`, made once per test run by `make(folder)` and shared by every pytest-xdist worker.

    Each worker has its own basetemp (``pytest-N/popen-gwK``); their parent belongs to this run alone, so
    the folder goes there, built by the first worker to ask while the others wait on a file lock (the
    recipe in pytest-xdist's docs). A serial run keeps it in its own basetemp. `make` must leave a
    complete folder or raise: a marker file written after it returns tells the next caller it is done.
    """
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder, done = root / name, root / f"{name}.complete"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not done.is_file():
            if folder.exists():  # a worker that failed half-way: start again
                import shutil

                shutil.rmtree(folder)
            folder.mkdir()
            make(folder)
            done.write_text("ok")
    return folder


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


@pytest.fixture(scope="session")
def adult_reference(adult, adult_small):
    """8,000 labelled training rows the fixture models never saw: a reference period."""
    return adult.train.drop(adult_small[0].index).sample(8000, random_state=3)


def loans_table(*, sex_bias: bool = False):
    """A table the team never saw: loan applications built from scikit-learn's breast-cancer measurements.

    Binary text target `approved` (yes/no, ~37% yes), a sensitive column, hyphenated names, missing values.
    The first 400 rows are its training part, the other 169 its holdout. `applicant-sex` is drawn at
    random, so its disparities are noise; ``sex_bias=True`` injects a historical bias instead: 75% of the
    approved applicants are M and 35% of the others.
    """
    import numpy as np
    from sklearn.datasets import load_breast_cancer

    rng = np.random.default_rng(7)
    bunch = load_breast_cancer(as_frame=True)
    X = bunch.data.iloc[:, :8].copy()
    X.columns = [f"score-{i}" if i % 2 else f"ratio {i}" for i in range(8)]
    X["applicant-sex"] = rng.choice(["F", "M"], size=len(X))
    X["region"] = rng.choice(["north", "south", "east", "west"], size=len(X))
    X.loc[rng.random(len(X)) < 0.05, "region"] = np.nan
    X["approved"] = np.where(bunch.target == 0, "yes", "no")
    if sex_bias:
        yes = (X["approved"] == "yes").to_numpy()
        X["applicant-sex"] = np.where(
            np.random.default_rng(11).random(len(X)) < np.where(yes, 0.75, 0.35), "M", "F"
        )
    return X


@pytest.fixture(scope="module")
def loans(tmp_path_factory):
    """:func:`loans_table` as files: ``train.csv`` (400 rows) and ``holdout.parquet`` (169 rows)."""
    table = loans_table()
    folder = tmp_path_factory.mktemp("loans")
    table.iloc[:400].to_csv(folder / "train.csv", index=False)
    table.iloc[400:].to_parquet(folder / "holdout.parquet", index=False)
    return folder


@pytest.fixture(scope="module")
def one_thread_per_library():
    """On a busy 2-core machine, idle OpenMP and OpenBLAS threads spinning between calls make
    scikit-learn's HistGradientBoosting take ~0.5 s per single-row predict instead of ~2 ms.
    Tests that check behaviour, not speed, use one thread (benchmarks/compression.py measures speed)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


def imported_after(code: str, modules) -> list[str]:
    """Which of `modules` a fresh interpreter has loaded after running `code` (imports, usually)."""
    probe = (
        f"import json, sys\n{code}\nprint(json.dumps([m for m in {tuple(modules)!r} if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def quick_model(rows, spec, **options):
    """A quick logistic regression fitted on `rows` (the real model most tests need, in about a second)."""
    from workbench.modeling.train import train

    return train(rows, spec, recipes=["logistic_regression"], quick=True, progress=False, **options).champion


def adult_model(adult, n_rows: int, n_validation: int, seed: int):
    """:func:`quick_model` on `n_rows` of Adult's training split (drawn with `seed`), its leaderboard on
    `n_validation` rows of the test split (drawn with `seed` + 1)."""
    return quick_model(
        adult.train.sample(n_rows, random_state=seed),
        adult.spec,
        validation=adult.test.sample(n_validation, random_state=seed + 1),
    )


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

    data = adult.train.sample(rows, random_state=seed)
    if shuffle:  # a model that learned nothing: labels shuffled
        data = data.assign(
            **{adult.spec.target: np.random.default_rng(seed).permutation(data[adult.spec.target])}
        )
    return quick_model(data, adult.spec)


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
