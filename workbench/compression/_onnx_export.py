"""ONNX export of workbench models: the whole pipeline converted by skl2onnx, optionally with int8 weights.

:func:`to_onnx` converts a fitted scikit-learn pipeline (ColumnTransformer with
imputers, scalers, one-hot/ordinal encoders, then the estimator) with skl2onnx
and wraps it as an :class:`~workbench.modeling.onnx_model.OnnxModel`;
:func:`quantize_weights` does the same with the linear layers' weights in int8.
Both are compression techniques; the model they make is the artifact's ONNX
form, which :mod:`workbench.modeling` loads without this module.

skl2onnx, onnx and onnxruntime are imported inside functions: ``import workbench``
stays light.
"""

from __future__ import annotations

import logging
import tempfile
import warnings
from pathlib import Path
from typing import Any

from workbench.errors import WorkbenchError
from workbench.modeling.artifact import Model
from workbench.modeling.onnx_model import OnnxModel
from workbench.validation import check_choice

__all__ = ["NotConvertible", "quantize_weights", "to_onnx"]


class NotConvertible(WorkbenchError):
    """The model cannot be converted to ONNX (no converter, or an unsupported step)."""


def to_onnx(
    model: Model,
    *,
    name: str | None = None,
    precision: str = "auto",
    batch_threads: int = 0,
    lineage: dict | None = None,
) -> OnnxModel:
    """Convert `model`'s whole pipeline to ONNX (skl2onnx) and wrap it as an :class:`OnnxModel`.

    `precision` is the numeric input type: ``"float32"``, ``"float64"`` or
    ``"auto"``: float64 for HistGradientBoosting, which compares its splits in
    float64 (see :mod:`workbench.compression._precision`), float32
    otherwise (scikit-learn's other trees compare in float32 themselves, and
    linear models lose ~1e-7 in a probability). Raises :class:`NotConvertible`
    when skl2onnx has no converter for a step. The conversion is not checked
    here: compare predictions on held-out rows (:func:`~workbench.compression._study.compress`
    does, and rejects variants that differ).
    """
    check_choice(precision, "precision", ("auto", "float32", "float64"))
    wanted = precision
    if precision == "auto":
        wanted = (
            "float64"
            if type(_final(getattr(model, "estimator", None))).__name__.startswith("HistGradientBoosting")
            else "float32"
        )
    try:
        onx = _convert(model, precision=wanted)
    except NotConvertible:
        if precision != "auto" or wanted == "float32":
            raise
        wanted = "float32"
        onx = _convert(model, precision=wanted)
    variant = _wrap(
        model,
        onx.SerializeToString(),
        name=name or f"{model.name}+onnx",
        batch_threads=batch_threads,
        lineage=lineage or {"parent": model.name, "technique": "onnx"},
    )
    variant.meta["onnx"] = {"precision": wanted}
    return variant


def quantize_weights(
    model: Model, *, name: str | None = None, batch_threads: int = 0, lineage: dict | None = None
) -> OnnxModel:
    """ONNX export with the linear layers' weights in int8 (onnxruntime dynamic quantization).

    Applies to models whose graph does its arithmetic in matrix products:
    linear models and multi-layer perceptrons. Raises :class:`NotConvertible`
    with the reason otherwise (tree ensembles: ONNX's tree operators have no
    int8 form).
    """
    onx = _convert(model, black_op={"LinearClassifier", "LinearRegressor"})
    weights = [
        n
        for n in onx.graph.node
        if n.op_type in ("MatMul", "Gemm")
        and any(i in {t.name for t in onx.graph.initializer} for i in n.input)
    ]
    if not weights:
        ops = sorted({n.op_type for n in onx.graph.node if n.domain == "ai.onnx.ml" and "Tree" in n.op_type})
        why = (
            (
                f"not applicable: {type(_final(model.estimator)).__name__} runs in ONNX's tree operators "
                f"({', '.join(ops)}), which have no int8 form"
            )
            if ops
            else "not applicable: the model has no weight matrices to quantize"
        )
        raise NotConvertible(why)
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory(prefix="wb-quant-") as tmp:
        src, dst = Path(tmp) / "model.onnx", Path(tmp) / "model.int8.onnx"
        src.write_bytes(onx.SerializeToString())
        root = logging.getLogger()
        level = root.level
        root.setLevel(logging.ERROR)  # the quantizer logs "consider pre-processing" on the root logger
        try:
            # the MatMul's input comes from ai.onnx.ml operators (scaler, one-hot encoder), which
            # ONNX shape inference cannot type: tell the quantizer it is float
            quantize_dynamic(
                src,
                dst,
                weight_type=QuantType.QInt8,
                per_channel=False,
                op_types_to_quantize=["MatMul", "Gemm"],
                extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
            )
        except Exception as exc:
            raise NotConvertible(
                f"onnxruntime could not quantize the model ({type(exc).__name__}: {_first_line(exc)})"
            ) from None
        finally:
            root.setLevel(level)
        blob = dst.read_bytes()
    return _wrap(
        model,
        blob,
        name=name or f"{model.name}+int8",
        batch_threads=batch_threads,
        lineage=lineage or {"parent": model.name, "technique": "quantization"},
    )


def _convert(model: Model, black_op: set | None = None, precision: str = "float32"):
    if not isinstance(model, Model) or isinstance(model, OnnxModel) or model.estimator is None:
        raise NotConvertible("not supported: only scikit-learn models can be converted to ONNX")
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType, StringTensorType
    from sklearn.base import is_classifier

    spec = model.spec
    names = spec.model_names
    est = model.estimator
    number = DoubleTensorType if precision == "float64" else FloatTensorType
    initial = [
        (names[c], StringTensorType([None, 1]) if c in spec.categorical else number([None, 1]))
        for c in spec.features
    ]
    final = _final(est)
    options = {id(final): {"zipmap": False}} if is_classifier(final) else None
    try:
        with warnings.catch_warnings():  # skl2onnx 1.20 trips onnx's deprecation of bools in int attributes
            warnings.simplefilter("ignore", DeprecationWarning)
            onx = convert_sklearn(
                est,
                initial_types=initial,
                options=options,
                black_op=black_op,
                target_opset={"": 17, "ai.onnx.ml": 3},
            )
    except Exception as exc:  # skl2onnx raises bare RuntimeErrors, MissingShapeCalculator, ...
        text = _first_line(exc)
        if (
            "shape calculator" in text.lower()
            or "converter" in text.lower()
            or "unable to find" in text.lower()
        ):
            raise NotConvertible(
                f"not supported: skl2onnx has no converter for {_unsupported_step(est, text)}"
            ) from None
        raise NotConvertible(
            f"skl2onnx could not convert the pipeline ({type(exc).__name__}: {text})"
        ) from None
    if precision == "float64":
        from workbench.compression._precision import to_double

        onx = to_double(onx, est)
    return onx


def _wrap(model: Model, blob: bytes, *, name: str, batch_threads: int, lineage: dict) -> OnnxModel:
    meta = {
        k: v
        for k, v in model.meta.items()
        if k
        not in (
            "format",
            "format_version",
            "model_file",
            "model_sha256",
            "saved_at",
            "versions",
            "lineage",
            "name",
            "kind",
        )
    }
    meta["lineage"] = lineage
    classes = model.classes_ if model.spec.is_classification else None
    return OnnxModel(
        blob,
        model.spec,
        classes=classes,
        threshold=model.threshold,
        meta=meta,
        name=name,
        batch_threads=batch_threads,
    )


def _final(est: Any) -> Any:
    steps = getattr(est, "steps", None)
    return steps[-1][1] if steps else est


def _unsupported_step(est: Any, text: str) -> str:
    for step in [s for _, s in getattr(est, "steps", [])] or [est]:
        if type(step).__name__ in text:
            return type(step).__name__
    return type(_final(est)).__name__


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else "no message"
