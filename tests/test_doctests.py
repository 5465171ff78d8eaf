"""The ``Examples`` in the docstrings run, and every main stage function has one.

The examples are documentation first: each runs in seconds on the bundled
Adult data (a sample of it, ``quick=True``, few bootstrap rounds) and writes
only under a temporary folder. The examples that need data and a model share one
set-up, :func:`example_globals` (each says so in one line), rather than repeating it.
A module with examples is listed in
:data:`MODULES` by hand; a stage function whose example is removed, or that
moves to a module not listed, fails :func:`test_stage_function_has_an_example`.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import io

import pytest

from tests.conftest import quick_model

#: Modules whose docstring examples run here.
MODULES = (
    "workbench.checks._check",
    "workbench.compression._study",
    "workbench.data._profile",
    "workbench.data._spec",
    "workbench.data.datasets",
    "workbench.data.simulate",
    "workbench.explain._api",
    "workbench.fairness._mitigate",
    "workbench.explain._global_api",
    "workbench.modeling.artifact",
    "workbench.modeling.evaluate",
    "workbench.modeling.train",
    "workbench.monitoring.bias",
    "workbench.monitoring.drift",
    "workbench.monitoring.performance",
    "workbench.monitoring.quality",
    "workbench.results",
    "workbench.serving.guard",
    "workbench.serving.log",
    "workbench.serving.predictor",
    "workbench.validation",
)

#: The main stage functions, by the module path users import them from.
STAGE_FUNCTIONS = (
    "workbench.data.load_demo",
    "workbench.data.infer_spec",
    "workbench.modeling.train.train",
    "workbench.modeling.evaluate.evaluate",
    "workbench.modeling.save_model",
    "workbench.modeling.load_model",
    "workbench.compression.compress",
    "workbench.explain.explain_local",
    "workbench.explain.permutation_importance",
    "workbench.monitoring.detect_drift",
    "workbench.monitoring.check_quality",
    "workbench.monitoring.assess_performance",
    "workbench.monitoring.assess_bias",
    "workbench.fairness.mitigate",
    "workbench.validation.check_number",
    "workbench.validation.check_choice",
    "workbench.results.result_class",
    "workbench.checks.make_check",
)

#: Stage functions whose example is still to be written: expected to fail, strictly, so that the test
#: fails as soon as one gets its example and the name must leave this list.
PENDING: tuple[str, ...] = ()

OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _resolve(dotted: str):
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


@pytest.fixture(scope="module")
def example_globals(adult):
    """``demo`` and ``model``, the set-up the examples share (as their docstrings write it out)."""
    return {"demo": adult, "model": quick_model(adult.train.sample(2000, random_state=0), adult.spec)}


@pytest.mark.parametrize("module_name", MODULES)
def test_docstring_examples_run(module_name, example_globals, tmp_path, monkeypatch):
    monkeypatch.chdir(
        tmp_path
    )  # an example that wrote to the working folder would write here, not the repo's
    module = importlib.import_module(module_name)
    tests = doctest.DocTestFinder(exclude_empty=True).find(module, module_name, extraglobs=example_globals)
    assert any(t.examples for t in tests), f"{module_name} has no examples: drop it from MODULES"
    out = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=OPTIONS)
    for test in tests:
        runner.run(test, out=out.write)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, out.getvalue()
    assert sorted(p.name for p in tmp_path.iterdir()) == [], "an example wrote into the working folder"


@pytest.mark.parametrize(
    "dotted",
    [
        pytest.param(d, marks=pytest.mark.xfail(strict=True, reason="no example yet")) if d in PENDING else d
        for d in STAGE_FUNCTIONS
    ],
)
def test_stage_function_has_an_example(dotted):
    func = _resolve(dotted)
    doc = inspect.getdoc(func) or ""
    assert "Examples\n--------" in doc, f"{dotted} has no Examples section"
    examples = doctest.DocTestParser().get_examples(doc)
    running = [e for e in examples if not e.options.get(doctest.SKIP)]
    assert running, f"every example of {dotted} is skipped: none of them runs"
    defined_in = inspect.getmodule(func).__name__
    assert defined_in in MODULES, f"{dotted} is defined in {defined_in}: add that module to MODULES"
