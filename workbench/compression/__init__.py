"""Compression: smaller, faster variants of a model within an accuracy budget.

:func:`compress` runs the study (:mod:`workbench.compression._study`; the
techniques in ``_techniques``, measuring in ``_measure``, the runner in
``_runner``, the result in ``_study_result`` and ``_variants``, the output
folder in ``_output``); :func:`compress_from_files` runs it on files, as
``workbench compress`` does. :func:`to_onnx` and :func:`quantize_weights`
export one model to ONNX (``_onnx_export``). The ONNX model they make is the
artifact's other form, :class:`workbench.modeling.onnx_model.OnnxModel`,
loaded by :func:`workbench.modeling.artifact.load_model` without this
package. Names are imported on first use.
"""

from workbench._lazy import lazy_exports

_EXPORTS = {
    "compress": "workbench.compression._study",
    "compress_from_files": "workbench.compression._study",
    "check_study_destination": "workbench.compression._output",
    "CompressionResult": "workbench.compression._study_result",
    "TechniqueOutcome": "workbench.compression._variants",
    "Variant": "workbench.compression._variants",
    "TECHNIQUES": "workbench.compression._techniques",
    "METRICS": "workbench.compression._measure",
    "NotConvertible": "workbench.compression._onnx_export",
    "quantize_weights": "workbench.compression._onnx_export",
    "to_onnx": "workbench.compression._onnx_export",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
