"""The model artifact: one versioned format for every model and variant.

An artifact is either a single zip file or a folder holding:

- ``meta.json``: format version, spec (roles, task, classes, positive class),
  decision threshold, training-data fingerprint, metrics, library versions
  and lineage (the parent model for compressed variants);
- ``model.skops`` (scikit-learn pipelines, loaded with trusted types only) or
  ``model.onnx`` (compressed variants).

Never a plain pickle: a pickle runs arbitrary code when loaded. Model files
are read as hostile input (size caps, no path tricks, a closed allow-list of
classes, no functions unless the caller names them, tree structures checked
before anything predicts): see :mod:`workbench.modeling._model_container`.

Saving never deletes by accident: ``overwrite=True`` replaces an existing
*workbench model* at the path and nothing else (see :func:`check_model_destination`).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import io
import json
import os
import platform
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench._json import json_default_strict
from workbench.data._spec import DatasetSpec, prepare_frame
from workbench.errors import DataError, ModelFileError
from workbench.modeling._forest_fast import small_batch_proba

FORMAT = "workbench-model"
FORMAT_VERSION = 1


class Model:
    """A trained predictor and its spec: `predict`/`predict_proba` on raw DataFrames.

    Inputs are DataFrames with the original column names (extra columns, the
    target among them, are ignored). Internally the estimator sees safe
    column names (see :attr:`DatasetSpec.model_names`).

    Parameters
    ----------
    estimator : a fitted scikit-learn estimator (usually a Pipeline) trained on
        ``prepare_frame(X, spec)`` with columns renamed to ``spec.model_names``.
    spec : DatasetSpec
    threshold : decision threshold on the positive-class probability (binary).
    meta : extra metadata (metrics, lineage, ...) stored in ``meta.json``.
    """

    kind = "sklearn"
    #: the registered version it was loaded from (a :class:`~workbench.registry.ResolvedModel`), else None
    registered_as = None

    def __init__(
        self,
        estimator: Any,
        spec: DatasetSpec,
        *,
        threshold: float | None = None,
        meta: dict | None = None,
        name: str | None = None,
    ):
        self.estimator = estimator
        self.spec = spec
        self.meta = dict(meta or {})
        self.name = name or self.meta.get("name") or "model"
        if spec.task == "binary":
            self.threshold = 0.5 if threshold is None else float(threshold)
        else:
            self.threshold = None
        self._rename = spec.model_names

    # -- the prediction interface ------------------------------------------
    @property
    def task(self) -> str:
        """The learning task: ``"binary"``, ``"multiclass"`` or ``"regression"``."""
        return self.spec.task

    @property
    def classes_(self) -> np.ndarray:
        """The class labels, in the order of :meth:`predict_proba`'s columns."""
        return np.asarray(self.estimator.classes_)

    @property
    def positive_index(self) -> int:
        """Column of the positive class in :meth:`predict_proba` (binary)."""
        return list(self.classes_).index(self.spec.positive_label)

    def prepare(self, data: pd.DataFrame, *, where: str = "the data") -> pd.DataFrame:
        """The model's input frame: typed features under their safe names."""
        if not isinstance(data, pd.DataFrame):
            raise DataError("predictions need a pandas DataFrame with the original column names")
        fairness = self.meta.get("fairness") or {}
        for column in fairness.get("sensitive_at_prediction") or ():
            if column not in data.columns:  # a mitigated model that decides by group (workbench.fairness)
                raise DataError(
                    f"'{self.name}' was mitigated with {fairness.get('method')} and needs the sensitive "
                    f"column '{column}' at prediction time, but {where} has no such column; add it"
                )
        return prepare_frame(data, self.spec, where=where).rename(columns=self._rename)

    def predict_proba(self, data: pd.DataFrame) -> np.ndarray:
        """Class probabilities, columns in the order of :attr:`classes_`."""
        if not self.spec.is_classification:
            raise ModelFileError(f"'{self.name}' is a regression model: use predict()")
        frame = self.prepare(data)
        fast = small_batch_proba(self.estimator, frame)  # a forest on a few rows: see _forest_fast
        return fast if fast is not None else self.estimator.predict_proba(frame)

    def predict_score(self, data: pd.DataFrame) -> np.ndarray:
        """Positive-class probability (binary), or the prediction (regression)."""
        if self.task == "binary":
            return self.predict_proba(data)[:, self.positive_index]
        if self.task == "regression":
            return self.predict(data)
        raise ModelFileError("a single score per row only exists for binary and regression models")

    def predict(self, data: pd.DataFrame) -> np.ndarray:
        """Labels (binary: positive when its probability >= :attr:`threshold`)."""
        if self.task == "regression":
            return np.asarray(self.estimator.predict(self.prepare(data)), dtype=float)
        proba = self.predict_proba(data)
        return self.labels_from_proba(proba)

    def labels_from_proba(self, proba: np.ndarray, threshold: float | None = None) -> np.ndarray:
        """Labels from probabilities already computed.

        Binary: the positive class where its probability >= `threshold` (default :attr:`threshold`);
        multiclass: the most probable class.
        """
        classes = self.classes_
        if self.task == "binary":
            t = self.threshold if threshold is None else threshold
            pos = self.positive_index
            return np.where(proba[:, pos] >= t, classes[pos], classes[1 - pos])
        return classes[np.argmax(proba, axis=1)]

    def __repr__(self) -> str:
        thr = f", threshold={self.threshold:.3g}" if self.threshold is not None else ""
        return f"<workbench.Model '{self.name}' {self.task} on {len(self.spec.features)} features{thr}>"


# -- saving and loading ----------------------------------------------------------
def save_model(model: Model, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write `model` as a workbench artifact and return its path.

    A path with a suffix (``champion.wbm``, ``model.zip``) becomes a single
    compressed zip file; a path without one becomes a folder with
    ``meta.json`` and ``model.skops``. The write is atomic (temporary name
    beside it, then rename): a crash never leaves a half-written model. An
    existing model is only replaced when ``overwrite=True``, and only when it
    is a workbench model of the same layout: a folder holding other files, a
    file that is not a model or a link is refused with a
    :class:`ModelFileError` and left untouched.

    Parameters
    ----------
    model : Model
        The model to save (an ONNX variant is saved as ``model.onnx``).
    path : str or Path
        A file with a suffix (zip) or a folder without one.
    overwrite : bool
        Replace a workbench model already at `path`.

    Returns
    -------
    Path
        Where the model was written; ``model.meta`` is the ``meta.json`` written.

    Raises
    ------
    ModelFileError
        When `path` may not be written (see :func:`check_model_destination`).

    Examples
    --------
    Shared set-up: ``demo = load_demo("adult")``; ``model``, a quick logistic regression trained on it.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = save_model(model, f"{tmp}/champion.wbm")
    ...     print(path.name, path.is_file(), model.meta["format"])
    champion.wbm True workbench-model
    """
    import skops.io as sio

    path = check_model_destination(path, overwrite=overwrite)
    payload = getattr(model, "artifact_payload", None)
    if payload is not None:  # variants with their own file (e.g. ONNX)
        model_file, blob = payload()
    else:
        model_file, blob = "model.skops", sio.dumps(model.estimator)
    meta = build_meta(model, model_file, blob)
    path.parent.mkdir(parents=True, exist_ok=True)
    as_folder = path.suffix == ""
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        if as_folder:
            target = tmp / "artifact"
            target.mkdir()
            (target / model_file).write_bytes(blob)
            (target / "meta.json").write_text(json.dumps(meta, indent=2, default=json_default_strict))
        else:
            target = tmp / "artifact.zip"
            with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
                zf.writestr("meta.json", json.dumps(meta, indent=2, default=json_default_strict))
                zf.writestr(model_file, blob)
        check_model_destination(path, overwrite=overwrite)  # again: the path may have changed meanwhile
        _replace(target, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    model.meta = meta
    return path


@dataclass(frozen=True)
class ModelInfo:
    """What a model file says about itself, checked, without rebuilding the estimator."""

    meta: dict
    spec: DatasetSpec
    model_file: str
    blob: bytes

    @property
    def task(self) -> str | None:
        """The learning task the file records."""
        return self.meta.get("task") or self.spec.task


def read_model_info(path: str | Path, *, registry: str | None = None) -> ModelInfo:
    """Read and check a model file's container, ``meta.json``, checksum and spec (no skops, no scikit-learn).

    The same refusals as :func:`load_model` up to rebuilding the estimator:
    size caps, pickles, traversal, format version, checksum, spec. `path` may
    be a model URI, as for :func:`load_model`.
    """

    from workbench.modeling._model_container import read_artifact

    path = _resolve(path, registry).path
    meta, model_file, blob = read_artifact(path)
    version = meta.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelFileError(f"'{path}' is corrupted: its meta.json has no valid format_version")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"'{path}' was written by a newer workbench (format version {version}); "
            "upgrade workbench to load it"
        )
    if meta.get("model_sha256") and meta["model_sha256"] != hashlib.sha256(blob).hexdigest():
        raise ModelFileError(f"'{path}' is corrupted: {model_file} does not match its checksum")
    try:
        spec = DatasetSpec.from_dict(meta["spec"])
    except (KeyError, TypeError) as exc:
        raise ModelFileError(f"'{path}' is corrupted: its meta.json has no valid spec ({exc})") from None
    return ModelInfo(meta, spec, model_file, blob)


def load_model(path: str | Path, *, trusted: list[str] | None = None, registry: str | None = None) -> Model:
    """Load a workbench artifact (zip file or folder), or a registered one by its model URI.

    ``models:/NAME/VERSION`` and ``models:/NAME@ALIAS`` are looked up in the
    registry (`registry`, else ``WORKBENCH_REGISTRY``/``MLFLOW_TRACKING_URI``,
    else the embedded default: see :mod:`workbench.registry`) and their file
    hash checked; the model's :attr:`Model.registered_as` then names the version.

    scikit-learn models are read with skops, trusting only the classes
    workbench's recipes and compression produce
    (:data:`~workbench.modeling._skops_trust.TRUSTED_TYPES`); any other type,
    and any function or method, is refused with a :class:`ModelFileError`
    unless the caller names it in `trusted` (do so only for files whose origin
    you trust). Trees are checked before anything predicts with them; sizes
    are capped (``WORKBENCH_MAX_MODEL_BYTES``, default 2 GiB, for the model).

    Parameters
    ----------
    path : str or Path
        An artifact (zip file or folder) or a model URI.
    trusted : list of str, optional
        Further types to trust (full names, as skops reports them), for files you trust.
    registry : str, optional
        The registry to look model URIs up in.

    Returns
    -------
    Model
        A :class:`Model`, or an :class:`~workbench.modeling.onnx_model.OnnxModel` for ``model.onnx``.

    Raises
    ------
    ModelFileError
        For a file that is not a valid workbench model or holds an untrusted type.

    Examples
    --------
    Shared set-up: ``demo = load_demo("adult")``; ``model``, a quick logistic regression trained on it.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     loaded = load_model(save_model(model, f"{tmp}/champion.wbm"))
    >>> loaded
    <workbench.Model 'logistic_regression' binary on 14 features, threshold=...>
    >>> loaded.predict(demo.test.head(3)).shape
    (3,)
    """
    from workbench.modeling._skops_trust import load_skops

    resolved = _resolve(path, registry)
    path = resolved.path
    info = read_model_info(path)
    meta, model_file, blob, spec = info.meta, info.model_file, info.blob, info.spec
    if model_file.endswith(".onnx"):
        from workbench.modeling import onnx_model  # noqa: PLC0415 (optional dependency path)
        from workbench.modeling._model_structure import check_onnx

        check_onnx(blob, path)
        model = onnx_model.from_artifact(blob, spec, meta)
    else:
        estimator = load_skops(blob, path, trusted)
        model = Model(estimator, spec, threshold=meta.get("threshold"), meta=meta, name=meta.get("name"))
    model.registered_as = resolved if resolved.name is not None else None
    return model


def check_model_destination(path: str | Path, overwrite: bool = False) -> Path:
    """`path` as a :class:`Path` if a model may be saved there; else a :class:`ModelFileError` sentence.

    Call it before any long work (training, a compression study) so that a
    bad destination is refused up-front; :func:`save_model` calls it too.
    Refused: a path inside a regular file (``notes.txt/model.wbm``); an
    existing path without `overwrite`; and with `overwrite`, anything but a
    workbench model of the same layout (a zip artifact for a path with a
    suffix, an artifact folder for one without) or an empty folder: a folder
    holding other files, a file that is not a model, a link. Nothing is
    touched.
    """
    from workbench.modeling._model_container import is_artifact

    path = Path(path)
    if path.name in ("", ".", ".."):
        raise ModelFileError(f"'{path}' is not a name to save a model under; give a file or folder name")
    for ancestor in (path.parent, *path.parent.parents):
        if os.path.lexists(ancestor):
            if not ancestor.is_dir():
                raise ModelFileError(f"cannot save a model to '{path}': '{ancestor}' is a file, not a folder")
            break
    if not os.path.lexists(path):
        return path
    if not overwrite:
        raise ModelFileError(f"'{path}' already exists; choose another path or allow overwriting")
    if path.is_symlink():
        raise ModelFileError(
            f"'{path}' is a link; workbench only replaces a model it saved itself: "
            "remove the link first or choose another path"
        )
    as_folder = path.suffix == ""
    if path.is_dir() != as_folder:
        raise ModelFileError(
            f"'{path}' exists and is a {'folder' if path.is_dir() else 'file'}; remove it first"
        )
    if as_folder:
        with os.scandir(path) as entries:
            if next(entries, None) is None:
                return path  # an empty folder: nothing to lose
    if not is_artifact(path):
        what = (
            "a folder holding files that are not a workbench model"
            if as_folder
            else "a file that is not a workbench model"
        )
        raise ModelFileError(
            f"'{path}' is {what}; workbench only replaces a model it saved itself: "
            "remove it first or choose another path"
        )
    return path


def artifact_size(path: str | Path) -> int:
    """Bytes on disk of an artifact (file or folder)."""
    path = Path(path)
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def serialized_size(model: Model) -> int:
    """Bytes the model would take as a compressed artifact (without writing it)."""
    import skops.io as sio

    payload = getattr(model, "artifact_payload", None)  # variants with their own file (e.g. ONNX)
    model_file, blob = payload() if payload is not None else ("model.skops", sio.dumps(model.estimator))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        zf.writestr(model_file, blob)
    return buf.tell()


def build_meta(model: Model, model_file: str, blob: bytes) -> dict:
    """The ``meta.json`` for `model` stored as `model_file` holding `blob`.

    The model's own meta plus the format, checksum, spec, threshold, time and
    library versions; the lineage defaults to a trained model.
    """
    meta = dict(model.meta)
    meta.update(
        format=FORMAT,
        format_version=FORMAT_VERSION,
        model_file=model_file,
        model_sha256=hashlib.sha256(blob).hexdigest(),
        name=model.name,
        kind=model.kind,
        task=model.task,
        spec=model.spec.to_dict(),
        model_names=model.spec.model_names,
        threshold=model.threshold,
        saved_at=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        versions=library_versions(),
    )
    meta.setdefault("lineage", {"parent": None, "technique": "trained"})
    return meta


def library_versions() -> dict:
    """Python's version and those of the installed libraries a model file depends on."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("workbench", "scikit-learn", "numpy", "pandas", "skops", "skl2onnx", "onnxruntime"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


# -- helpers ----------------------------------------------------------------------
def _resolve(path, registry):
    """A model URI as its verified local artifact (:mod:`workbench.registry`); a path as it is."""
    from workbench.registry.uris import resolve_model_uri

    return resolve_model_uri(path, registry=registry)


def _replace(src: Path, dst: Path) -> None:
    """Move `src` to `dst` atomically; a replaced folder is removed only afterwards."""
    if dst.is_dir() and src.is_dir():
        old = dst.with_name(f".{dst.name}.old-{os.getpid()}")
        os.replace(dst, old)
        try:
            os.replace(src, dst)
        except BaseException:
            os.replace(old, dst)  # put the previous model back
            raise
        shutil.rmtree(old, ignore_errors=True)
    elif dst.is_dir() != src.is_dir() and dst.exists():
        raise ModelFileError(
            f"'{dst}' exists and is a {'folder' if dst.is_dir() else 'file'}; remove it first"
        )
    else:
        os.replace(src, dst)
