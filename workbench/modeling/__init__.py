"""Modeling: train, evaluate, the model file.

Training is :mod:`~workbench.modeling.train`, evaluation :mod:`~workbench.modeling.evaluate`.
The model artifact (:mod:`~workbench.modeling.artifact`) is read as hostile
input (``_model_container``, ``_skops_trust``, ``_model_structure``) and has an
ONNX form (:mod:`~workbench.modeling.onnx_model`). ``train`` and ``evaluate``
are modules of this package as well as functions, so the functions are
imported from their modules (or ``workbench.train``/``workbench.evaluate``);
the other public names are exported here, on first use.
"""

from workbench._lazy import lazy_exports

_EXPORTS = {
    "Model": "workbench.modeling.artifact",
    "load_model": "workbench.modeling.artifact",
    "read_model_info": "workbench.modeling.artifact",
    "save_model": "workbench.modeling.artifact",
    "CostMatrix": "workbench.modeling.evaluate",
    "EvaluationResult": "workbench.modeling.evaluate",
    "OnnxModel": "workbench.modeling.onnx_model",
    "RECIPES": "workbench.modeling.train",
    "TrainingResult": "workbench.modeling.train",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
