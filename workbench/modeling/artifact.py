"""The model artifact: one versioned format for every model and variant.

An artifact is either a single zip file or a folder holding:

- ``meta.json``: format version, spec (roles, task, classes, positive class),
  decision threshold, training-data fingerprint, metrics, library versions
  and lineage (the parent model for compressed variants);
- ``model.skops`` (scikit-learn pipelines, loaded with trusted types only) or
  ``model.onnx`` (compressed variants).

Never a plain pickle: a pickle runs arbitrary code when loaded.
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
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench._json import json_default_strict
from workbench.data._spec import DatasetSpec, prepare_frame
from workbench.errors import DataError, ModelFileError

FORMAT = "workbench-model"
FORMAT_VERSION = 1
# skops already trusts plain estimators and arrays; what it leaves out for our
# pipelines are scikit-learn internals (tree structures, predictors) and dtypes.
_TRUSTED_PREFIXES = ("sklearn.",)
_TRUSTED_EXACT = {"numpy.dtype"}
_PICKLE_MAGIC = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05")


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

    def __init__(self, estimator: Any, spec: DatasetSpec, *, threshold: float | None = None,
                 meta: dict | None = None, name: str | None = None):
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
        return self.spec.task

    @property
    def classes_(self) -> np.ndarray:
        return np.asarray(self.estimator.classes_)

    @property
    def positive_index(self) -> int:
        """Column of the positive class in :meth:`predict_proba` (binary)."""
        return list(self.classes_).index(self.spec.positive_label)

    def prepare(self, data: pd.DataFrame, *, where: str = "the data") -> pd.DataFrame:
        """The model's input frame: typed features under their safe names."""
        if not isinstance(data, pd.DataFrame):
            raise DataError("predictions need a pandas DataFrame with the original column names")
        return prepare_frame(data, self.spec, where=where).rename(columns=self._rename)

    def predict_proba(self, data: pd.DataFrame) -> np.ndarray:
        """Class probabilities, columns in the order of :attr:`classes_`."""
        if not self.spec.is_classification:
            raise ModelFileError(f"'{self.name}' is a regression model: use predict()")
        return self.estimator.predict_proba(self.prepare(data))

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
    ``meta.json`` and ``model.skops``. The write is atomic (temporary name,
    then rename): a crash never leaves a half-written model, and an existing
    model is only replaced when ``overwrite=True``.
    """
    import skops.io as sio

    path = Path(path)
    if path.exists() and not overwrite:
        raise ModelFileError(f"'{path}' already exists; choose another path or allow overwriting")
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
        _replace(target, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    model.meta = meta
    return path


def load_model(path: str | Path, *, trusted: list[str] | None = None) -> Model:
    """Load a workbench artifact (zip file or folder).

    scikit-learn models are read with skops and only scikit-learn/numpy types
    are trusted; any other type is refused with a :class:`ModelFileError`
    unless the caller names it in `trusted` (do so only for files whose origin
    you trust).
    """
    path = Path(path)
    meta, files = _read_artifact(path)
    version = meta.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelFileError(f"'{path}' is corrupted: its meta.json has no valid format_version")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"'{path}' was written by a newer workbench (format version {version}); upgrade workbench to load it"
        )
    model_file = meta.get("model_file", "model.skops")
    if model_file not in files:
        raise ModelFileError(f"'{path}' is incomplete: it has no {model_file}")
    blob = files[model_file]
    digest = hashlib.sha256(blob).hexdigest()
    if meta.get("model_sha256") and meta["model_sha256"] != digest:
        raise ModelFileError(f"'{path}' is corrupted: {model_file} does not match its checksum")
    try:
        spec = DatasetSpec.from_dict(meta["spec"])
    except (KeyError, TypeError) as exc:
        raise ModelFileError(f"'{path}' is corrupted: its meta.json has no valid spec ({exc})") from None
    if model_file.endswith(".onnx"):
        from workbench.modeling import onnx_model  # noqa: PLC0415 (optional dependency path)

        return onnx_model.from_artifact(blob, spec, meta)
    estimator = _load_skops(blob, path, trusted)
    return Model(estimator, spec, threshold=meta.get("threshold"), meta=meta, name=meta.get("name"))


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
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("workbench", "scikit-learn", "numpy", "pandas", "skops", "skl2onnx", "onnxruntime"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


# -- helpers ----------------------------------------------------------------------
def _read_artifact(path: Path) -> tuple[dict, dict[str, bytes]]:
    if not path.exists():
        raise ModelFileError(f"the model file '{path}' does not exist")
    files: dict[str, bytes] = {}
    if path.is_dir():
        for p in path.iterdir():
            if p.is_file():
                files[p.name] = p.read_bytes()
    else:
        head = path.read_bytes()[:2]
        if head in _PICKLE_MAGIC:
            raise ModelFileError(
                f"'{path}' is a pickle file; workbench never loads pickles (they can run arbitrary code): "
                "re-save the model with workbench.save_model"
            )
        try:
            with zipfile.ZipFile(path) as zf:
                for info in zf.infolist():
                    files[info.filename] = zf.read(info)
        except (zipfile.BadZipFile, OSError, EOFError, zipfile.LargeZipFile) as exc:
            raise ModelFileError(f"'{path}' is not a readable workbench model (corrupted or not a zip: {exc})") from None
    if "meta.json" not in files:
        if "schema.json" in files:  # what skops.io.dump writes
            raise ModelFileError(f"'{path}' is a bare skops file; load it with skops or re-save it with workbench")
        raise ModelFileError(f"'{path}' is not a workbench model: it has no meta.json")
    try:
        meta = json.loads(files["meta.json"])
    except (ValueError, UnicodeDecodeError):
        raise ModelFileError(f"'{path}' is corrupted: its meta.json is not valid JSON") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(f"'{path}' is not a workbench model (meta.json has no '{FORMAT}' format tag)")
    return meta, files


def _load_skops(blob: bytes, path: Path, trusted: list[str] | None) -> Any:
    import skops.io as sio

    try:
        untrusted = sio.get_untrusted_types(data=blob)
    except Exception as exc:
        raise ModelFileError(f"'{path}' is corrupted: its model.skops cannot be read ({type(exc).__name__})") from None
    allowed = set(trusted or [])
    refused = [t for t in untrusted if t not in allowed and not _is_trusted_type(t)]
    if refused:
        raise ModelFileError(
            f"'{path}' contains types workbench does not trust ({', '.join(refused[:5])}); "
            "load it with trusted=[...] (CLI: --trust TYPE) only if you trust where the file came from"
        )
    try:
        return sio.loads(blob, trusted=untrusted)
    except Exception as exc:
        raise ModelFileError(f"'{path}' is corrupted: its model cannot be rebuilt ({type(exc).__name__}: {exc})") from None


def _is_trusted_type(name: str) -> bool:
    return name in _TRUSTED_EXACT or name.startswith(_TRUSTED_PREFIXES)


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
        raise ModelFileError(f"'{dst}' exists and is a {'folder' if dst.is_dir() else 'file'}; remove it first")
    else:
        os.replace(src, dst)
