"""ONNX models: a workbench model whose whole pipeline runs in onnxruntime.

:class:`OnnxModel` has the same interface as any
:class:`~workbench.modeling.artifact.Model`: ``predict_proba``/``predict`` on
raw DataFrames with the original column names. It is one of the two forms a
model artifact holds (``model.onnx`` beside ``model.skops``), so it lives with
the artifact: :func:`~workbench.modeling.artifact.load_model` rebuilds it with
:func:`from_artifact`. Making one (skl2onnx export, int8 weights) is
compression's: :mod:`workbench.compression._onnx_export`.

Single rows are the case that matters in production, and there the
DataFrame-to-tensor conversion costs more than the model itself: the
scikit-learn path (``prepare_frame`` then a ColumnTransformer) takes
milliseconds per row, onnxruntime tens of microseconds. So small frames take a
fast path (see :meth:`OnnxModel._feed_small`), large ones the ordinary
``prepare_frame`` path, and both give the same tensors (a test holds them to it).

onnxruntime is imported inside functions: ``import workbench`` stays light.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from workbench.data._spec import MISSING, DatasetSpec, prepare_frame
from workbench.errors import DataError, ModelFileError, WorkbenchError
from workbench.modeling.artifact import Model

__all__ = ["OnnxModel", "from_artifact"]

#: Frames up to this many rows take the fast conversion path (one object-array copy).
SMALL_ROWS = 64
#: Frames from this many rows run on the multi-threaded batch session.
BATCH_ROWS = 256
_INPUT_DTYPES = {"tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(string)": object}
_MAX_LAYOUTS = 16


class OnnxModel(Model):
    """A model whose whole pipeline runs in onnxruntime.

    Parameters
    ----------
    onnx_bytes : the serialised ONNX graph (inputs: one ``(n, 1)`` tensor per
        feature under its safe name; strings for categoricals, floats for numerics).
    spec : the dataset spec of the model it was converted from.
    classes : class labels in the order of the probability columns (classifiers).
    threshold, meta, name : as for :class:`Model`.
    batch_threads : onnxruntime intra-op threads for frames of :data:`BATCH_ROWS`
        rows or more (0: one per core). Single rows always run on one thread:
        thread hand-offs cost more than a one-row inference.
    """

    kind = "onnx"

    def __init__(
        self,
        onnx_bytes: bytes,
        spec: DatasetSpec,
        *,
        classes: Any = None,
        threshold: float | None = None,
        meta: dict | None = None,
        name: str | None = None,
        batch_threads: int = 0,
    ):
        super().__init__(None, spec, threshold=threshold, meta=meta, name=name)
        self.onnx_bytes = bytes(onnx_bytes)
        self.batch_threads = int(batch_threads)
        if spec.is_classification:
            if classes is None:
                classes = spec.classes
            if classes is None:
                raise ModelFileError(f"the ONNX model '{self.name}' has no class labels in its metadata")
        self._classes = None if classes is None else np.asarray(classes)
        if self._classes is not None and self._classes.dtype.kind == "U":  # as scikit-learn keeps text labels
            self._classes = self._classes.astype(object)
        self._setup()

    # -- the prediction interface (same as Model) ----------------------------
    @property
    def classes_(self) -> np.ndarray:
        """The class labels, in the order of :meth:`predict_proba`'s columns (regression has none)."""
        if self._classes is None:
            raise ModelFileError(f"'{self.name}' is a regression model: it has no classes")
        return self._classes

    def predict_proba(self, data: pd.DataFrame) -> np.ndarray:
        """Class probabilities, columns in the order of :attr:`classes_`."""
        if not self.spec.is_classification:
            raise ModelFileError(f"'{self.name}' is a regression model: use predict()")
        return self._run(data)

    def predict(self, data: pd.DataFrame) -> np.ndarray:
        """Labels (binary: positive when its probability >= :attr:`threshold`), or values."""
        if self.task == "regression":
            return self._run(data).reshape(-1)
        return self.labels_from_proba(self._run(data))

    def artifact_payload(self) -> tuple[str, bytes]:
        """What :func:`~workbench.modeling.artifact.save_model` writes: ``model.onnx``."""
        self.meta["onnx"] = {
            **(self.meta.get("onnx") or {}),
            "classes": None if self._classes is None else [_native(c) for c in self._classes],
            "inputs": {safe: feature for safe, (feature, _) in self._inputs},
        }
        return "model.onnx", self.onnx_bytes

    @property
    def input_names(self) -> list[str]:
        """The ONNX graph's input names (the features' safe names)."""
        return [name for name, _ in self._inputs]

    def __getstate__(self) -> dict:  # sessions are not picklable: rebuild them on load
        state = self.__dict__.copy()
        for k in ("_session", "_batch_session", "_layouts"):
            state.pop(k, None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._setup()

    # -- internals -------------------------------------------------------------
    def _setup(self) -> None:
        self._session = _session(self.onnx_bytes, threads=1, name=self.name)
        self._batch_session = self._session if self.batch_threads == 1 else None
        self._layouts: dict[tuple, Any] = {}
        inputs = {i.name: i.type for i in self._session.get_inputs()}
        names = self.spec.model_names
        features = {names[c]: c for c in self.spec.features}
        unknown = [n for n in inputs if n not in features]
        if unknown:
            raise ModelFileError(
                f"the ONNX model '{self.name}' expects inputs its spec does not declare: "
                f"{', '.join(unknown[:5])}"
            )
        # (input name, feature, dtype) in spec order; features the graph ignores are skipped
        self._inputs: list[tuple[str, tuple[str, Any]]] = []
        for safe, feature in features.items():
            if safe not in inputs:
                continue
            dtype = _INPUT_DTYPES.get(inputs[safe])
            if dtype is None:
                raise ModelFileError(
                    f"the ONNX model '{self.name}' has an input '{safe}' of unsupported type {inputs[safe]}"
                )
            if (dtype is object) != (feature in self.spec.categorical):
                raise ModelFileError(
                    f"the ONNX model '{self.name}' types input '{safe}' as {inputs[safe]}, "
                    f"but the spec says the feature is {'categorical' if dtype is not object else 'numeric'}"
                )
            self._inputs.append((safe, (feature, dtype)))
        outputs = [o.name for o in self._session.get_outputs()]
        want = "probabilities" if self.spec.is_classification else "variable"
        self._output = [want if want in outputs else outputs[-1]]
        # groups for the fast path: numeric features per dtype, categorical features
        self._num_groups: dict[Any, list[tuple[str, str]]] = {}
        self._cat: list[tuple[str, str]] = []
        for safe, (feature, dtype) in self._inputs:
            if dtype is object:
                self._cat.append((safe, feature))
            else:
                self._num_groups.setdefault(dtype, []).append((safe, feature))

    def _run(self, data: pd.DataFrame) -> np.ndarray:
        if not isinstance(data, pd.DataFrame):
            raise DataError("predictions need a pandas DataFrame with the original column names")
        n = len(data)
        feed = self._feed_small(data) if n <= SMALL_ROWS else None
        if feed is None:
            feed = self._feed_frame(data)
        if n == 0:
            width = len(self._classes) if self._classes is not None else 1
            return np.empty((0, width), dtype=np.float64)
        session = self._session if n < BATCH_ROWS else self._batch()
        out = np.asarray(session.run(self._output, feed)[0], dtype=np.float64)
        if self._classes is not None:  # float32 probabilities sum to 1 +- 1e-7; downstream metrics check
            total = out.sum(axis=1, keepdims=True)
            out /= np.where(total > 0, total, 1.0)
        return out

    def _batch(self):
        if self._batch_session is None:
            self._batch_session = _session(self.onnx_bytes, threads=self.batch_threads, name=self.name)
        return self._batch_session

    def _feed_small(self, data: pd.DataFrame) -> dict | None:
        """Tensors for a few rows without pandas' per-column overhead; None: take the general path.

        Why not ``prepare_frame``: on one row it costs ~2 ms (per-column pandas
        work and a new DataFrame), 50x the inference itself. Here the feature
        positions are looked up once per column layout and cached, the rows are
        copied once into an object array, and each dtype group is cast in one
        numpy call. Anything unusual (a missing or duplicated column, a value
        that is not a plain number) returns None, and the general path gives
        the same result or the same error message as every other model.
        """
        layout = self._layouts.get(key := tuple(data.columns))
        if layout is None:
            layout = self._layout(key)
            if len(self._layouts) >= _MAX_LAYOUTS:
                self._layouts.clear()
            self._layouts[key] = layout
        if layout is False:
            return None
        num_pos, cat_pos = layout
        values = data.to_numpy(dtype=object)
        n = len(values)
        feed = {}
        try:
            for (dtype, cols), pos in zip(self._num_groups.items(), num_pos, strict=True):
                # (features, rows) in C order: each feature's (n, 1) tensor is a contiguous view
                block = values.take(pos, axis=1).T.astype(dtype, order="C")
                feed.update(zip([safe for safe, _ in cols], block.reshape(len(cols), n, 1), strict=True))
        except (TypeError, ValueError):  # text in a numeric column, pd.NA, ...: let prepare_frame judge
            return None
        if self._cat:
            block = values.take(cat_pos, axis=1).T.copy()
            flat = block.reshape(-1)
            if not all(type(v) is str for v in flat):
                flat[:] = [v if type(v) is str else _category(v) for v in flat]
            feed.update(
                zip([safe for safe, _ in self._cat], block.reshape(len(self._cat), n, 1), strict=True)
            )
        return feed

    def _layout(self, columns: tuple) -> Any:
        """Positions of the model's features in a frame's columns (False: not usable as is)."""
        where: dict = {}
        for i, c in enumerate(columns):
            if c in where:
                where[c] = None  # duplicated column name
            else:
                where[c] = i
        num_pos = []
        for cols in self._num_groups.values():
            pos = [where.get(f) for _, f in cols]
            if any(p is None for p in pos):
                return False
            num_pos.append(np.asarray(pos, dtype=np.intp))
        cat_pos = [where.get(f) for _, f in self._cat]
        if any(p is None for p in cat_pos):
            return False
        return num_pos, np.asarray(cat_pos, dtype=np.intp)

    def _feed_frame(self, data: pd.DataFrame) -> dict:
        """Tensors through ``prepare_frame`` (validation and typing shared with every model)."""
        frame = prepare_frame(data, self.spec)
        feed = {}
        for safe, (feature, dtype) in self._inputs:
            arr = frame[feature].to_numpy()
            feed[safe] = (arr.astype(object) if dtype is object else arr.astype(dtype)).reshape(-1, 1)
        return feed


def from_artifact(blob: bytes, spec: DatasetSpec, meta: dict) -> OnnxModel:
    """Rebuild an :class:`OnnxModel` from an artifact's ``model.onnx`` (used by ``load_model``)."""
    info = meta.get("onnx") or {}
    name = meta.get("name") or "model"
    try:
        return OnnxModel(
            blob, spec, classes=info.get("classes"), threshold=meta.get("threshold"), meta=meta, name=name
        )
    except WorkbenchError:
        raise
    except Exception as exc:
        raise ModelFileError(
            f"the model.onnx of '{name}' cannot be loaded by onnxruntime "
            f"({type(exc).__name__}: {_first_line(exc)})"
        ) from None


# -- helpers ------------------------------------------------------------------------
def _session(blob: bytes, *, threads: int, name: str):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3
    if threads != 1:
        # idle pool threads sleep instead of spinning: a notebook or a study holds many sessions,
        # and spinning threads starve everything else on the machine (scikit-learn's OpenMP first)
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(blob, opts, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise ModelFileError(
            f"the model.onnx of '{name}' cannot be loaded by onnxruntime "
            f"({type(exc).__name__}: {_first_line(exc)})"
        ) from None


def _category(v: Any) -> str:
    """A categorical value as ``prepare_frame`` types it: text, missing as ``__missing__``."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return MISSING
    na = pd.isna(v)
    if isinstance(na, bool | np.bool_) and na:
        return MISSING
    return str(v)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else "no message"


def _native(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v
