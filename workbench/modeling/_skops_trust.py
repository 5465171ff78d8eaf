"""The closed allow-list of classes a ``model.skops`` may hold, and loading one.

``model.skops`` is itself a zip (``schema.json`` plus ``.npy`` arrays); it is
inspected like the artifact (:mod:`workbench.modeling._model_container`)
before skops opens it. Every type its schema names must be on
:data:`TRUSTED_TYPES`: the classes workbench's recipes, its imbalance handling,
its compression techniques and its fairness mitigations produce (a test rebuilds all of them and checks
the list is complete). Functions, methods and other callables are never
trusted unless the caller names them (``trusted=[...]``, CLI ``--trust``); nor
are classes off the list. Once rebuilt, what the trusted classes hold is
checked too (:func:`workbench.modeling._model_structure.check_estimator`).
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

from workbench.errors import ModelFileError
from workbench.modeling._model_container import (
    MAX_SCHEMA_BYTES,
    _check_packing,
    _check_zip_entries,
    _first_line,
    _mib,
    _read_zip_member,
    max_model_bytes,
    parse_json,
)
from workbench.modeling._model_structure import check_estimator

#: Types that may appear *as values* (a dict's key type, an encoder's ``dtype=np.float64``).
TRUSTED_TYPE_VALUES = frozenset(
    {
        "builtins.str",
        "builtins.int",
        "builtins.float",
        "builtins.bool",
        "numpy.bool",
        "numpy.bool_",
        "numpy.int8",
        "numpy.int16",
        "numpy.int32",
        "numpy.int64",
        "numpy.uint8",
        "numpy.uint16",
        "numpy.uint32",
        "numpy.uint64",
        "numpy.float16",
        "numpy.float32",
        "numpy.float64",
        "numpy.str_",
    }
)
#: Every class a skops file may hold without the caller naming it: exactly what workbench's
#: recipes (train.py), imbalance handling and compression techniques produce (the test
#: ``test_every_recipe_and_variant_uses_only_the_allow_list`` rebuilds them all and checks).
TRUSTED_TYPES = TRUSTED_TYPE_VALUES | frozenset(
    {
        # containers and JSON values as skops writes them
        "builtins.dict",
        "builtins.list",
        "builtins.tuple",
        "builtins.slice",
        # numpy arrays and dtypes (scalars: above), the random generator HistGradientBoosting keeps
        "numpy.ndarray",
        "numpy.dtype",
        "numpy.random._generator.Generator",
        # pipelines and preprocessing
        "sklearn.pipeline.Pipeline",
        "sklearn.compose._column_transformer.ColumnTransformer",
        "sklearn.impute._base.SimpleImputer",
        "sklearn.preprocessing._data.StandardScaler",
        "sklearn.preprocessing._encoders.OneHotEncoder",
        "sklearn.preprocessing._encoders.OrdinalEncoder",
        "sklearn.preprocessing._label.LabelEncoder",
        # estimators of the recipes and of the distillation students
        "sklearn.linear_model._logistic.LogisticRegression",
        "sklearn.linear_model._ridge.Ridge",
        "sklearn.ensemble._forest.RandomForestClassifier",
        "sklearn.ensemble._forest.RandomForestRegressor",
        "sklearn.tree._classes.DecisionTreeClassifier",
        "sklearn.tree._classes.DecisionTreeRegressor",
        "sklearn.tree._tree.Tree",  # node arrays checked after loading (check_estimator)
        "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
        "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingRegressor",
        "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",  # nodes checked after loading
        "sklearn._loss.loss.HalfBinomialLoss",
        "sklearn._loss.loss.HalfMultinomialLoss",
        "sklearn._loss.loss.HalfSquaredError",
        "sklearn._loss._loss.CyHalfBinomialLoss",
        "sklearn._loss._loss.CyHalfMultinomialLoss",
        "sklearn._loss._loss.CyHalfSquaredError",
        "sklearn._loss.link.IdentityLink",
        "sklearn._loss.link.LogitLink",
        "sklearn._loss.link.MultinomialLogit",
        "sklearn._loss.link.Interval",
        # mitigated models (workbench.fairness), class by class: fairlearn's fitted CorrelationRemover (a
        # projection matrix and means); ThresholdOptimizer's fitted thresholds (InterpolatedThresholder: the
        # original model and, per group, a Bunch of mixing weights and two ThresholdOperations, each a '>'
        # or '<' and a number); and workbench's two wrappers around what fairlearn fitted
        "fairlearn.preprocessing._correlation_remover.CorrelationRemover",
        "fairlearn.postprocessing._interpolated_thresholder.InterpolatedThresholder",
        "fairlearn.postprocessing._threshold_operation.ThresholdOperation",
        "sklearn.utils._bunch.Bunch",
        "workbench.fairness._estimators.RandomizedMixture",
        "workbench.fairness._estimators.GroupThresholdClassifier",
    }
)
_BIT_GENERATORS = frozenset({"PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64"})
_CALLABLE_LOADERS = frozenset({"FunctionNode", "MethodNode", "PartialNode", "OperatorFuncNode"})


# -- the skops file ---------------------------------------------------------------------------
def load_skops(blob: bytes, path: Path, trusted: list[str] | None) -> Any:
    """The estimator in a ``model.skops`` blob: container, types and tree structures checked."""
    schema = _skops_schema(blob, path)
    found = schema_types(schema, path)
    allowed = set(trusted or [])
    _refuse(sorted(name for name, kind in found.items() if not _allowed(name, kind, allowed)), path)
    import skops.io as sio  # only now: a refused file costs no scikit-learn import

    try:
        reported = set(sio.get_untrusted_types(data=blob))  # skops's own view, as a second opinion
    except Exception as exc:
        raise ModelFileError(
            f"'{path}' is corrupted: its model.skops cannot be read ({type(exc).__name__})"
        ) from None
    _refuse(sorted(t for t in reported - set(found) if t not in allowed and t not in TRUSTED_TYPES), path)
    skops_trusted = sorted(
        set(found) | reported | {n.rsplit(".", 1)[0] for n, k in found.items() if k == "MethodNode"}
    )
    try:
        estimator = sio.loads(blob, trusted=skops_trusted)
    except RecursionError:
        raise ModelFileError(f"'{path}' is refused: its model is nested too deeply") from None
    except Exception as exc:
        raise ModelFileError(
            f"'{path}' is corrupted: its model cannot be rebuilt ({type(exc).__name__}: {_first_line(exc)})"
        ) from None
    check_estimator(estimator, path)
    return estimator


def refuse_untrusted_types(blob: bytes, path: Path) -> None:
    """Refuse a ``model.skops`` naming a type off the allow-list, from its schema alone (no skops import).

    What :func:`load_skops` checks first when the caller trusts nothing more;
    the reports' pre-run check uses it to refuse a model before starting a kernel.
    """
    found = schema_types(_skops_schema(blob, path), path)
    _refuse(sorted(name for name, kind in found.items() if not _allowed(name, kind, set())), path)


def _refuse(names: list[str], path: Path) -> None:
    if names:
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        raise ModelFileError(
            f"'{path}' contains types workbench does not trust ({shown}); "
            "load it with trusted=[...] (CLI: --trust TYPE) only if you trust where the file came from"
        )


def _allowed(name: str, kind: str, trusted: set[str]) -> bool:
    if name in trusted:
        return True
    if kind in _CALLABLE_LOADERS:
        return False  # a function or method runs only when the caller names it
    if kind == "TypeNode":
        return name in TRUSTED_TYPE_VALUES
    if kind == "CachedNode":
        return True  # a reference to an object checked where it first appears
    return name in TRUSTED_TYPES


def _skops_schema(blob: bytes, path: Path) -> dict:
    """The parsed schema.json of a skops zip, after checking its members like the artifact's."""
    limit = max_model_bytes()
    try:
        zf = zipfile.ZipFile(io.BytesIO(blob))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError):
        raise ModelFileError(f"'{path}' is corrupted: its model.skops cannot be read (not a zip)") from None
    with zf:
        infos = _check_zip_entries(zf, path, "model.skops")
        total = 0
        for name, info in infos.items():
            if name != "schema.json" and not re.fullmatch(r"[A-Za-z0-9_.-]+\.(npy|npz)", name):
                raise ModelFileError(
                    f"'{path}' is refused: its model.skops holds an unexpected member ({name[:80]!r})"
                )
            _check_packing(info, path, "model.skops")
            total += info.file_size
        if total > limit:
            raise ModelFileError(
                f"'{path}' is refused: its model.skops would unpack to {_mib(total)}, more than "
                f"the {_mib(limit)} allowed (set WORKBENCH_MAX_MODEL_BYTES to allow bigger models)"
            )
        if "schema.json" not in infos:
            raise ModelFileError(f"'{path}' is corrupted: its model.skops has no schema.json")
        raw = _read_zip_member(zf, infos["schema.json"], MAX_SCHEMA_BYTES, path)
    schema = parse_json(raw, path, "model.skops schema", MAX_SCHEMA_BYTES, None)
    if not isinstance(schema, dict):
        raise ModelFileError(f"'{path}' is corrupted: its model.skops schema is not an object")
    return schema


def schema_types(schema: Any, path: Path) -> dict[str, str]:
    """Every type a skops schema names, with the loader that would build it (``{name: loader}``).

    Walks the whole JSON (every dict and list, not only the places skops is
    expected to look), so nothing is left out. Functions are named
    ``module.function``, bound methods ``module.Class.method``; the bit
    generator a numpy Generator is rebuilt with (stored as a plain string) is
    named ``numpy.random.<name>``.
    """
    found: dict[str, str] = {}
    stack = [schema]
    while stack:
        obj = stack.pop()
        if isinstance(obj, list):
            stack.extend(obj)
            continue
        if not isinstance(obj, dict):
            continue
        stack.extend(obj.values())
        loader = obj.get("__loader__")
        if loader is None:
            continue
        module, cls = obj.get("__module__"), obj.get("__class__")
        if loader == "CachedNode":
            found.setdefault("<cached>", "CachedNode")
            continue
        if not isinstance(module, str) or not isinstance(cls, str) or not isinstance(loader, str):
            raise ModelFileError(f"'{path}' is corrupted: its model.skops schema has a malformed entry")
        name = f"{module}.{cls}"
        if loader == "MethodNode":
            func = (obj.get("content") or {}).get("func") if isinstance(obj.get("content"), dict) else None
            name = f"{name}.{func}"
        if loader == "RandomGeneratorNode":
            gen = _bit_generator_name(obj)
            if gen not in _BIT_GENERATORS:
                raise ModelFileError(
                    f"'{path}' is refused: its model.skops rebuilds a random generator from "
                    f"{str(gen)[:40]!r}, which is not a numpy bit generator"
                )
        if found.get(name) not in _CALLABLE_LOADERS:  # a name seen as a callable stays one
            found[name] = loader
    found.pop("<cached>", None)
    return found


def _bit_generator_name(node: dict) -> Any:
    try:
        state = node["content"]["bit_generator"]["content"]["bit_generator"]
        return json.loads(state["content"])
    except (KeyError, TypeError, ValueError):
        return None
