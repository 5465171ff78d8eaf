"""Reading model files as hostile input: a model file cannot run code, write files or crash workbench.

A model file may come from anywhere, so nothing in it is believed until checked:

- **Containers.** Only the members the format needs are read (``meta.json`` and
  ``model.skops`` or ``model.onnx``), each under a size cap that is checked
  against the zip's declared sizes *and* enforced while reading (a lying
  header does not help). Member names that are absolute or climb out with
  ``..``, duplicated names, encrypted members, compression methods workbench
  does not write, and links in a folder artifact that point outside it are
  refused. Files that are not regular files (a FIFO, ``/dev/zero``) are never
  read. Pickles and joblib files are recognised and refused; nothing here ever
  calls pickle or joblib.
- **meta.json** is parsed only when at most :data:`MAX_META_BYTES` and nested at
  most :data:`MAX_JSON_DEPTH` levels deep.
- **model.skops** is itself a zip (``schema.json`` plus ``.npy`` arrays); it is
  inspected the same way before skops opens it. Every type its schema names
  must be on :data:`TRUSTED_TYPES`: the classes workbench's recipes, its
  imbalance handling and its compression techniques produce (a test rebuilds
  all of them and checks the list is complete). Functions, methods and other
  callables are never trusted unless the caller names them (``trusted=[...]``,
  CLI ``--trust``); nor are classes off the list.
- **After loading**, trusted classes still carry data that scikit-learn's
  compiled code uses without bounds checks: every decision tree (single trees,
  forests, gradient boosting) and every histogram-gradient-boosting predictor
  is walked and its node arrays checked (child indices in range and always
  pointing forward, so no cycles; feature indices within the model's input
  width; shapes consistent) before anything predicts with it. Parameters that
  would make later fitting write files (``memory``) or start absurd numbers of
  workers (``n_jobs``) are refused too.
- **model.onnx** is parsed without loading external data, and refused when any
  tensor refers to external data (workbench writes self-contained files).

Size caps: ``meta.json`` 1 MiB, ``schema.json`` 64 MiB, the model member
:data:`DEFAULT_MAX_MODEL_BYTES` (2 GiB) unless the environment variable
``WORKBENCH_MAX_MODEL_BYTES`` says otherwise (bytes, or with a K/M/G suffix,
e.g. ``8G``). The same cap bounds the arrays inside a ``.skops`` file.
"""

from __future__ import annotations

import io
import json
import os
import re
import stat
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

from workbench.errors import ModelFileError

MAX_META_BYTES = 1 << 20
MAX_SCHEMA_BYTES = 64 << 20
DEFAULT_MAX_MODEL_BYTES = 2 << 30
MAX_JSON_DEPTH = 64
MAX_MEMBERS = 200_000
MODEL_FILES = ("model.skops", "model.onnx")
_CHUNK = 1 << 20
_ZIP_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)

#: Every class a skops file may hold without the caller naming it: exactly what workbench's
#: recipes (train.py), imbalance handling and compression techniques produce (the test
#: ``test_every_recipe_and_variant_uses_only_the_allow_list`` rebuilds them all and checks).
TRUSTED_TYPES = frozenset({
    # containers and JSON values as skops writes them
    "builtins.dict", "builtins.list", "builtins.tuple", "builtins.str", "builtins.int", "builtins.float",
    "builtins.bool", "builtins.slice",
    # numpy arrays, dtypes, scalars, the random generator HistGradientBoosting keeps
    "numpy.ndarray", "numpy.dtype", "numpy.bool", "numpy.bool_", "numpy.int8", "numpy.int16", "numpy.int32",
    "numpy.int64", "numpy.uint8", "numpy.uint16", "numpy.uint32", "numpy.uint64", "numpy.float16",
    "numpy.float32", "numpy.float64", "numpy.str_", "numpy.random._generator.Generator",
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
    "sklearn._loss.loss.HalfBinomialLoss", "sklearn._loss.loss.HalfMultinomialLoss",
    "sklearn._loss.loss.HalfSquaredError",
    "sklearn._loss._loss.CyHalfBinomialLoss", "sklearn._loss._loss.CyHalfMultinomialLoss",
    "sklearn._loss._loss.CyHalfSquaredError",
    "sklearn._loss.link.IdentityLink", "sklearn._loss.link.LogitLink", "sklearn._loss.link.MultinomialLogit",
    "sklearn._loss.link.Interval",
})
#: Types that may appear *as values* (a dict's key type, an encoder's ``dtype=np.float64``).
TRUSTED_TYPE_VALUES = frozenset({
    "builtins.str", "builtins.int", "builtins.float", "builtins.bool",
    "numpy.bool", "numpy.bool_", "numpy.int8", "numpy.int16", "numpy.int32", "numpy.int64", "numpy.uint8",
    "numpy.uint16", "numpy.uint32", "numpy.uint64", "numpy.float16", "numpy.float32", "numpy.float64",
    "numpy.str_",
})
_BIT_GENERATORS = frozenset({"PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64"})
_CALLABLE_LOADERS = frozenset({"FunctionNode", "MethodNode", "PartialNode", "OperatorFuncNode"})
_MAX_N_JOBS = 256
_PICKLE_MAGIC = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05")
_COMPRESSED_MAGIC = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ", b"\x04\x22\x4d\x18", b"ZF", b"\x78\x01", b"\x78\x5e",
                     b"\x78\x9c", b"\x78\xda")  # gzip, bz2, xz, lz4, joblib's zlib: how joblib compresses
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)


# -- size caps --------------------------------------------------------------------------------
def max_model_bytes() -> int:
    """The cap on a model member (``WORKBENCH_MAX_MODEL_BYTES``, default 2 GiB)."""
    raw = os.environ.get("WORKBENCH_MAX_MODEL_BYTES", "").strip()
    if not raw:
        return DEFAULT_MAX_MODEL_BYTES
    m = re.fullmatch(r"(\d+)\s*([KMG]?)i?B?", raw, re.I)
    if not m:
        raise ModelFileError(f"WORKBENCH_MAX_MODEL_BYTES must be a number of bytes (e.g. 4G), not '{raw}'")
    return int(m.group(1)) << {"": 0, "K": 10, "M": 20, "G": 30}[m.group(2).upper()]


def _mib(n: int) -> str:
    return f"{n / (1 << 20):,.0f} MiB" if n >= 1 << 20 else f"{n:,} bytes"


# -- reading an artifact ----------------------------------------------------------------------
def read_artifact(path: Path) -> tuple[dict, str, bytes]:
    """``(meta, model_file, model_bytes)`` of the artifact at `path` (zip file or folder), checked."""
    if not os.path.lexists(path):
        raise ModelFileError(f"the model file '{path}' does not exist")
    if path.is_dir():
        meta_raw = _read_folder_member(path, "meta.json", MAX_META_BYTES, required=False)
        if meta_raw is None:
            if (path / "schema.json").exists():
                raise ModelFileError(f"'{path}' is a bare skops folder; re-save the model with workbench")
            raise ModelFileError(f"'{path}' is not a workbench model: it has no meta.json")
        meta = parse_meta(meta_raw, path)
        model_file = _model_file(meta, path)
        blob = _read_folder_member(path, model_file, max_model_bytes(), required=True)
        return meta, model_file, blob
    with _open_regular(path, "the model file") as fh:
        head = fh.read(8)
        _refuse_pickles(head, path)
        fh.seek(0)
        try:
            zf = zipfile.ZipFile(fh)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
            raise ModelFileError(f"'{path}' is not a readable workbench model (corrupted or not a zip: "
                                 f"{_first_line(exc)})") from None
        with zf:
            infos = _check_zip_entries(zf, path, "model file")
            if "meta.json" not in infos:
                if "schema.json" in infos:  # what skops.io.dump writes
                    raise ModelFileError(f"'{path}' is a bare skops file; load it with skops or re-save it with "
                                         "workbench")
                raise ModelFileError(f"'{path}' is not a workbench model: it has no meta.json")
            meta = parse_meta(_read_zip_member(zf, infos["meta.json"], MAX_META_BYTES, path), path)
            model_file = _model_file(meta, path)
            if model_file not in infos:
                raise ModelFileError(f"'{path}' is incomplete: it has no {model_file}")
            blob = _read_zip_member(zf, infos[model_file], max_model_bytes(), path)
    return meta, model_file, blob


def parse_meta(raw: bytes, path: Path) -> dict:
    """The meta.json object, parsed only when small and shallow; checks the format tag."""
    from workbench.modeling.artifact import FORMAT

    meta = parse_json(raw, path, "meta.json", MAX_META_BYTES, MAX_JSON_DEPTH)
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(f"'{path}' is not a workbench model (meta.json has no '{FORMAT}' format tag)")
    return meta


def parse_json(raw: bytes, path: Path, what: str, limit: int, max_depth: int | None) -> Any:
    if len(raw) > limit:
        raise ModelFileError(f"'{path}' is refused: its {what} is larger than {_mib(limit)}")
    if max_depth is not None and json_depth(raw) > max_depth:
        raise ModelFileError(f"'{path}' is refused: its {what} is nested more than {max_depth} levels deep")
    try:
        return json.loads(raw)
    except RecursionError:
        raise ModelFileError(f"'{path}' is refused: its {what} is nested too deeply") from None
    except (ValueError, UnicodeDecodeError):
        raise ModelFileError(f"'{path}' is corrupted: its {what} is not valid JSON") from None


def json_depth(raw: bytes) -> int:
    """The deepest nesting of arrays and objects in a JSON text (strings skipped), without parsing it."""
    import numpy as np

    text = _STRING.sub(b'""', raw)
    arr = np.frombuffer(text, dtype=np.uint8)
    steps = np.zeros(arr.shape, dtype=np.int32)
    steps[(arr == 0x5B) | (arr == 0x7B)] = 1
    steps[(arr == 0x5D) | (arr == 0x7D)] = -1
    return int(np.cumsum(steps).max(initial=0))


def is_artifact(path: Path) -> bool:
    """True when `path` is a workbench artifact and nothing else: what ``save_model`` may replace.

    A zip file whose members are exactly ``meta.json`` and one ``model.*`` file,
    or a folder holding exactly those as regular files; meta.json with the
    format tag in both cases. Links are never artifacts.
    """
    try:
        if path.is_symlink():
            return False
        if path.is_dir():
            entries = list(os.scandir(path))
            names = {e.name for e in entries}
            if any(not e.is_file(follow_symlinks=False) for e in entries):
                return False
            if len(names) != 2 or "meta.json" not in names or not names & set(MODEL_FILES):
                return False
            meta = parse_meta(_read_folder_member(path, "meta.json", MAX_META_BYTES, required=True), path)
            return meta.get("model_file", "model.skops") in names
        if not path.is_file():
            return False
        with _open_regular(path, "the file") as fh, zipfile.ZipFile(fh) as zf:
            infos = _check_zip_entries(zf, path, "file")
            if len(infos) != 2 or "meta.json" not in infos or not set(infos) & set(MODEL_FILES):
                return False
            meta = parse_meta(_read_zip_member(zf, infos["meta.json"], MAX_META_BYTES, path), path)
            return meta.get("model_file", "model.skops") in infos
    except (ModelFileError, zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError):
        return False


def _model_file(meta: dict, path: Path) -> str:
    name = meta.get("model_file", "model.skops")
    if name not in MODEL_FILES:
        raise ModelFileError(f"'{path}' is not a workbench model: its meta.json names the model file "
                             f"{str(name)[:80]!r} (expected model.skops or model.onnx)")
    return name


def _refuse_pickles(head: bytes, path: Path) -> None:
    if head[:2] in _PICKLE_MAGIC or head[:1] == b"\x80" or head.startswith(_COMPRESSED_MAGIC):
        raise ModelFileError(
            f"'{path}' is a pickle or joblib file; workbench never loads pickles (they can run arbitrary code): "
            "re-save the model with workbench.save_model"
        )


class _open_regular:
    """Open a regular file for reading without following a swapped-in FIFO or device."""

    def __init__(self, path: Path, what: str):
        self.path, self.what = path, what
        self.fh: Any = None

    def __enter__(self):
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
        target = self.path.resolve() if self.path.is_symlink() else self.path
        try:
            fd = os.open(target, flags)
        except OSError as exc:
            raise ModelFileError(f"{self.what} '{self.path}' cannot be read ({exc.strerror})") from None
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            raise ModelFileError(f"'{self.path}' is not a regular file, so it is not a workbench model")
        limit = max_model_bytes() + MAX_META_BYTES + (1 << 20)
        if st.st_size > limit:
            os.close(fd)
            raise ModelFileError(f"'{self.path}' is larger than the {_mib(limit)} a model file may take "
                                 "(set WORKBENCH_MAX_MODEL_BYTES to allow bigger models)")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        self.fh = os.fdopen(fd, "rb")
        return self.fh

    def __exit__(self, *exc):
        self.fh.close()


def _read_folder_member(folder: Path, name: str, limit: int, *, required: bool) -> bytes | None:
    p = folder / name
    if not os.path.lexists(p):
        if required:
            raise ModelFileError(f"'{folder}' is incomplete: it has no {name}")
        return None
    if p.is_symlink():
        try:
            target = p.resolve(strict=True)
        except (OSError, RuntimeError):
            raise ModelFileError(f"'{folder}' is refused: its {name} is a broken link") from None
        if not target.is_relative_to(folder.resolve()):
            raise ModelFileError(f"'{folder}' is refused: its {name} is a link to a file outside the model folder")
    with _open_regular(p, f"the {name} of") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        what = "model file" if name in MODEL_FILES else name
        raise ModelFileError(f"'{folder}' is refused: its {what} is larger than {_mib(limit)}"
                             + (" (set WORKBENCH_MAX_MODEL_BYTES to allow bigger models)" if what != name else ""))
    return data


def _check_zip_entries(zf: zipfile.ZipFile, path: Path, what: str) -> dict[str, zipfile.ZipInfo]:
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise ModelFileError(f"'{path}' is refused: its {what} has {len(infos):,} members")
    out: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        name = info.filename
        if not safe_member_name(name):
            raise ModelFileError(f"'{path}' is refused: its {what} has a member with an unsafe name "
                                 f"({name[:80]!r}: absolute, or climbing out with '..')")
        if name in out:
            raise ModelFileError(f"'{path}' is refused: its {what} holds '{name[:80]}' twice")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise ModelFileError(f"'{path}' is refused: its {what} holds a link ('{name[:80]}')")
        out[name] = info
    return out


def safe_member_name(name: str) -> bool:
    if not name or "\x00" in name or "\\" in name or name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return False
    return ".." not in PurePosixPath(name).parts


def _read_zip_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, path: Path) -> bytes:
    """A member's bytes, at most `limit` of them: declared sizes checked first, then counted while reading."""
    name = info.filename
    what = "model file" if name in MODEL_FILES else name
    hint = " (set WORKBENCH_MAX_MODEL_BYTES to allow bigger models)" if name in MODEL_FILES else ""
    if info.file_size > limit:
        raise ModelFileError(f"'{path}' is refused: its {what} would unpack to {_mib(info.file_size)}, more "
                             f"than the {_mib(limit)} allowed{hint}")
    if info.compress_type not in _ZIP_METHODS:
        raise ModelFileError(f"'{path}' is refused: its {what} uses a compression method workbench does not write")
    if info.flag_bits & 0x1:
        raise ModelFileError(f"'{path}' is refused: its {what} is encrypted")
    buf = io.BytesIO()
    try:
        with zf.open(info) as member:
            while chunk := member.read(_CHUNK):
                buf.write(chunk)
                if buf.tell() > min(limit, info.file_size):
                    raise ModelFileError(f"'{path}' is refused: its {what} unpacks to more than its declared "
                                         "size")
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError) as exc:
        raise ModelFileError(f"'{path}' is corrupted: its {what} cannot be unpacked ({_first_line(exc)})") from None
    return buf.getvalue()


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
        raise ModelFileError(f"'{path}' is corrupted: its model.skops cannot be read "
                             f"({type(exc).__name__})") from None
    _refuse(sorted(t for t in reported - set(found) if t not in allowed and t not in TRUSTED_TYPES), path)
    skops_trusted = sorted(set(found) | reported | {n.rsplit(".", 1)[0] for n, k in found.items()
                                                    if k == "MethodNode"})
    try:
        estimator = sio.loads(blob, trusted=skops_trusted)
    except RecursionError:
        raise ModelFileError(f"'{path}' is refused: its model is nested too deeply") from None
    except Exception as exc:
        raise ModelFileError(f"'{path}' is corrupted: its model cannot be rebuilt ({type(exc).__name__}: "
                             f"{_first_line(exc)})") from None
    check_estimator(estimator, path)
    return estimator


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
                raise ModelFileError(f"'{path}' is refused: its model.skops holds an unexpected member "
                                     f"({name[:80]!r})")
            if info.compress_type not in _ZIP_METHODS:
                raise ModelFileError(f"'{path}' is refused: its model.skops uses a compression method workbench "
                                     "does not write")
            if info.flag_bits & 0x1:
                raise ModelFileError(f"'{path}' is refused: its model.skops is encrypted")
            total += info.file_size
        if total > limit:
            raise ModelFileError(f"'{path}' is refused: its model.skops would unpack to {_mib(total)}, more than "
                                 f"the {_mib(limit)} allowed (set WORKBENCH_MAX_MODEL_BYTES to allow bigger models)")
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
                raise ModelFileError(f"'{path}' is refused: its model.skops rebuilds a random generator from "
                                     f"{str(gen)[:40]!r}, which is not a numpy bit generator")
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


# -- what a trusted class holds -----------------------------------------------------------------
def check_estimator(estimator: Any, path: Path) -> None:
    """Refuse a loaded model whose trees could send scikit-learn's compiled code out of bounds.

    Walks every object reachable from `estimator` (attributes, lists, dicts,
    object arrays) and checks each ``Tree`` (decision trees, forests,
    ExtraTrees, gradient boosting), each ``TreePredictor`` (histogram gradient
    boosting) and the estimators that own them.
    """
    import numpy as np
    from sklearn.base import BaseEstimator

    if not isinstance(estimator, BaseEstimator) or not callable(getattr(estimator, "predict", None)):
        raise ModelFileError(f"'{path}' does not hold a scikit-learn model (it holds a "
                             f"{type(estimator).__name__})")
    from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor
    from sklearn.tree._tree import Tree

    seen: set[int] = set()
    done: set[tuple[int, int | None]] = set()  # (tree, width) pairs already checked
    stack: list[Any] = [estimator]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or obj is None or isinstance(obj, str | bytes | int | float | bool | np.generic):
            continue
        seen.add(id(obj))
        if isinstance(obj, np.ndarray):
            if obj.dtype == object:
                stack.extend(obj.ravel().tolist())
            continue
        if isinstance(obj, list | tuple | set | frozenset):
            stack.extend(obj)
            continue
        if isinstance(obj, dict):
            stack.extend(obj.values())
            stack.extend(obj.keys())
            continue
        if isinstance(obj, Tree):
            _check_tree(obj, None, path, done)
            continue
        if isinstance(obj, TreePredictor):
            continue  # checked with the estimator that owns it (it knows the input width)
        if isinstance(obj, BaseEstimator):
            _check_params(obj, path)
            _check_owner(obj, path, done)
        state = getattr(obj, "__dict__", None)
        if isinstance(state, dict):
            stack.extend(state.values())


def _check_params(est: Any, path: Path) -> None:
    state = vars(est)
    if state.get("memory") is not None:
        raise ModelFileError(f"'{path}' is refused: its {type(est).__name__} would cache to "
                             f"{str(state['memory'])[:80]!r} (a model file may not name places to write)")
    n_jobs = state.get("n_jobs")
    if n_jobs is not None and (not isinstance(n_jobs, int) or isinstance(n_jobs, bool)
                               or not -_MAX_N_JOBS <= n_jobs <= _MAX_N_JOBS):
        raise ModelFileError(f"'{path}' is refused: its {type(est).__name__} asks for n_jobs={str(n_jobs)[:20]}")


def _width(est: Any) -> int | None:
    """``n_features_in_`` (None when absent, -1 when not a count)."""
    import numpy as np

    n = getattr(est, "n_features_in_", None)
    if n is None:
        return None
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
        return -1
    return int(n)


def _check_owner(est: Any, path: Path, done: set) -> None:
    """Estimators that hand trees to compiled code: their trees must fit their input width."""
    import numpy as np
    from sklearn.tree._tree import Tree

    name = type(est).__name__
    state = vars(est)
    width = _width(est)
    if width == -1:
        raise ModelFileError(f"'{path}' is corrupted: its {name} has an invalid number of input features")
    tree = state.get("tree_")
    if tree is not None:
        if not isinstance(tree, Tree):
            raise ModelFileError(f"'{path}' is corrupted: the tree of its {name} is not a scikit-learn tree")
        _check_tree(tree, width, path, done)
    subs = state.get("estimators_")
    if subs is not None and width is not None:
        items = subs.ravel().tolist() if isinstance(subs, np.ndarray) else list(subs) if isinstance(
            subs, list | tuple) else []
        for sub in items:
            sub_tree = getattr(sub, "tree_", None)
            if isinstance(sub_tree, Tree):
                _check_tree(sub_tree, width, path, done)
    if "_raw_predict_init" in dir(type(est)) and hasattr(est, "init_") and subs is not None:  # GradientBoosting
        k = getattr(est, "n_trees_per_iteration_", None)
        if not isinstance(subs, np.ndarray) or subs.ndim != 2 or not isinstance(k, int | np.integer) \
                or subs.shape[1] != k:
            raise ModelFileError(f"'{path}' is corrupted: its {name} has stages that do not match its outputs")
        for sub in subs.ravel().tolist():
            t = getattr(sub, "tree_", None)
            if not isinstance(t, Tree) or t.n_outputs != 1 or t.max_n_classes != 1:
                raise ModelFileError(f"'{path}' is corrupted: its {name} has a stage that is not a regression tree")
    predictors = state.get("_predictors")
    if predictors is not None:
        _check_hgb(est, predictors, width, path)


def _check_tree(tree: Any, width: int | None, path: Path, done: set) -> None:
    """Node arrays of a scikit-learn ``Tree``: in range, acyclic, shapes consistent."""
    import numpy as np

    if (id(tree), width) in done:
        return
    done.add((id(tree), width))

    def bad(why: str):
        return ModelFileError(f"'{path}' is refused: one of its decision trees {why}")

    n, cap = tree.node_count, tree.capacity
    if not 1 <= n <= cap:  # before touching any array: they are views of `node_count` rows
        raise bad(f"claims {n} nodes in room for {cap}")
    if tree.n_outputs < 1 or tree.max_n_classes < 1 or tree.n_features < 0:
        raise bad("has an invalid layout")
    if width is not None and tree.n_features != width:
        raise bad(f"expects {tree.n_features} input features where its model has {width}")
    n_features = tree.n_features if width is None else min(width, tree.n_features)
    left, right = np.asarray(tree.children_left), np.asarray(tree.children_right)
    feature, threshold = np.asarray(tree.feature), np.asarray(tree.threshold)
    if not (len(left) == len(right) == len(feature) == len(threshold) == n):
        raise bad("has node arrays of different lengths")
    idx = np.arange(n)
    leaf = left == -1
    if np.any(leaf != (right == -1)):
        raise bad("has a node with one child")
    split = ~leaf
    if np.any((left[split] <= idx[split]) | (left[split] >= n) | (right[split] <= idx[split])
              | (right[split] >= n)):
        raise bad("has a child index out of range or pointing backwards (a cycle)")
    if np.any((feature[split] < 0) | (feature[split] >= n_features)) or np.any(feature[leaf] != -2):
        raise bad(f"splits on a feature outside the {n_features} the model has")
    if np.any(np.isnan(threshold[split]) | (threshold[split] == -np.inf)):
        raise bad("has a split without a threshold")  # +inf is what scikit-learn writes for missing-only splits
    n_classes = np.asarray(tree.n_classes)
    if n_classes.shape != (tree.n_outputs,) or np.any(n_classes < 1) or np.any(n_classes > tree.max_n_classes):
        raise bad("has inconsistent class counts")
    if np.asarray(tree.value).shape != (n, tree.n_outputs, tree.max_n_classes):
        raise bad("has values of the wrong shape")


def _check_hgb(est: Any, predictors: Any, width: int | None, path: Path) -> None:
    """The predictors of a HistGradientBoosting model: node arrays in range, categorical splits backed."""
    import numpy as np
    from sklearn.ensemble._hist_gradient_boosting.common import PREDICTOR_RECORD_DTYPE
    from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor

    name = type(est).__name__

    def bad(why: str):
        return ModelFileError(f"'{path}' is refused: one of the trees of its {name} {why}")

    if width is None:
        raise ModelFileError(f"'{path}' is corrupted: its {name} has no number of input features")
    per_iter = getattr(est, "n_trees_per_iteration_", None)
    if not isinstance(predictors, list) or not isinstance(per_iter, int | np.integer):
        raise ModelFileError(f"'{path}' is corrupted: its {name} has no valid list of trees")
    mapper = getattr(est, "_bin_mapper", None)
    is_cat = getattr(mapper, "is_categorical_", None)
    cat = np.zeros(width, dtype=bool) if is_cat is None else np.asarray(is_cat, dtype=bool)
    if cat.shape != (width,):
        raise ModelFileError(f"'{path}' is corrupted: its {name} has categorical flags for the wrong features")
    for stage in predictors:
        if not isinstance(stage, list) or len(stage) != per_iter:
            raise ModelFileError(f"'{path}' is corrupted: its {name} has a stage with the wrong number of trees")
        for pred in stage:
            if not isinstance(pred, TreePredictor):
                raise ModelFileError(f"'{path}' is corrupted: its {name} holds something that is not a tree")
            nodes = pred.nodes
            if not isinstance(nodes, np.ndarray) or nodes.dtype != PREDICTOR_RECORD_DTYPE or nodes.ndim != 1 \
                    or len(nodes) < 1:
                raise bad("has a node array of the wrong type")
            n = len(nodes)
            idx = np.arange(n)
            leaf = nodes["is_leaf"]
            if np.any(leaf > 1):
                raise bad("has an invalid leaf flag")
            split = leaf == 0
            left = nodes["left"].astype(np.int64)
            right = nodes["right"].astype(np.int64)
            if np.any((left[split] <= idx[split]) | (left[split] >= n) | (right[split] <= idx[split])
                      | (right[split] >= n)):
                raise bad("has a child index out of range or pointing backwards (a cycle)")
            f = nodes["feature_idx"].astype(np.int64)
            if np.any((f[split] < 0) | (f[split] >= width)):
                raise bad(f"splits on a feature outside the {width} the model has")
            cat_split = split & (nodes["is_categorical"] != 0)
            if np.any(cat_split):
                bitsets = getattr(pred, "raw_left_cat_bitsets", None)
                if not isinstance(bitsets, np.ndarray) or bitsets.ndim != 2 or bitsets.shape[1] != 8 \
                        or bitsets.dtype != np.uint32:
                    raise bad("has categorical splits without category sets")
                b = nodes["bitset_idx"].astype(np.int64)
                if np.any((b[cat_split] < 0) | (b[cat_split] >= bitsets.shape[0])) or not np.all(cat[f[cat_split]]):
                    raise bad("has a categorical split on a feature or category set it does not have")


# -- ONNX ---------------------------------------------------------------------------------------
def check_onnx(blob: bytes, path: Path) -> None:
    """Refuse an ONNX graph that refers to data outside the file (or cannot be parsed)."""
    import onnx

    try:
        proto = onnx.load_model_from_string(blob)
    except Exception as exc:
        raise ModelFileError(f"'{path}' is corrupted: its model.onnx cannot be loaded (not a valid ONNX graph: "
                             f"{type(exc).__name__})") from None
    graphs = [proto.graph, *[f for f in proto.functions]]
    external = onnx.TensorProto.EXTERNAL
    while graphs:
        g = graphs.pop()
        tensors = list(getattr(g, "initializer", []))
        for sp in getattr(g, "sparse_initializer", []):
            tensors += [sp.values, sp.indices]
        for node in getattr(g, "node", []):
            for attr in node.attribute:
                if attr.HasField("t"):
                    tensors.append(attr.t)
                tensors.extend(attr.tensors)
                if attr.HasField("sparse_tensor"):
                    tensors += [attr.sparse_tensor.values, attr.sparse_tensor.indices]
                for sp in attr.sparse_tensors:
                    tensors += [sp.values, sp.indices]
                if attr.HasField("g"):
                    graphs.append(attr.g)
                graphs.extend(attr.graphs)
        for t in tensors:
            if t.data_location == external or len(t.external_data):
                raise ModelFileError(f"'{path}' is refused: its model.onnx refers to data outside the file "
                                     "(workbench writes self-contained ONNX files)")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__
