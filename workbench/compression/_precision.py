"""Double-precision ONNX graphs for HistGradientBoosting pipelines.

scikit-learn's HistGradientBoosting compares features with its split
thresholds in float64, while skl2onnx stores tree thresholds as float32
attributes: a value within float32 rounding of a threshold then goes down the
other branch, and the probabilities differ (measured here: up to 1.09 on a
diabetes regression, 5e-3 on wine). The fix keeps skl2onnx's graph and:

- feeds numeric inputs as float64 (``DoubleTensorType``);
- replaces each ``ai.onnx.ml.Imputer`` (onnxruntime has no float64 kernel for
  it) by ``Where(IsNaN(x), statistics, x)`` with the imputer's float64
  statistics;
- gives each tree node its exact float64 thresholds as
  ``nodes_values_as_tensor`` (ai.onnx.ml opset 3), read from the fitted
  predictors and checked against skl2onnx's float32 values node by node;
- casts the tree operator's float32 output back to float64 for the rest of
  the graph (onnxruntime's tree operators always output float32: an error of
  ~1e-7 in a probability, far inside the parity tolerance).

Anything unexpected raises :class:`NotConvertible`; ``to_onnx`` then falls
back to the float32 graph, and the parity gate judges whichever is used.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench.compression._onnx_export import NotConvertible

_TREES = ("TreeEnsembleRegressor", "TreeEnsembleClassifier")


def to_double(onx: Any, estimator: Any) -> Any:
    """Patch a skl2onnx graph converted with float64 numeric inputs (see the module docstring)."""
    from onnx import TensorProto, helper, numpy_helper

    hgb = _final(estimator)
    predictors = getattr(hgb, "_predictors", None)
    imputers = _imputers(estimator)
    graph = onx.graph
    nodes = []
    for node in graph.node:
        if node.domain == "ai.onnx.ml" and node.op_type == "Imputer":
            values = _imputer_values(node, imputers)
            fill = node.output[0] + "_fill64"
            isnan = node.output[0] + "_isnan"
            graph.initializer.append(numpy_helper.from_array(values.reshape(1, -1), fill))
            nodes.append(helper.make_node("IsNaN", [node.input[0]], [isnan], name=isnan))
            nodes.append(
                helper.make_node(
                    "Where", [isnan, fill, node.input[0]], [node.output[0]], name=node.output[0] + "_where"
                )
            )
            continue
        nodes.append(node)
        if node.domain == "ai.onnx.ml" and node.op_type in _TREES:
            if predictors is None:
                raise NotConvertible(
                    f"float64 trees are only built for HistGradientBoosting, not {type(hgb).__name__}"
                )
            _exact_thresholds(node, predictors, helper, numpy_helper)
            k = 0 if node.op_type == "TreeEnsembleRegressor" else 1
            out = node.output[k]
            node.output[k] = out + "_float32"
            nodes.append(
                helper.make_node(
                    "Cast", [out + "_float32"], [out], to=TensorProto.DOUBLE, name=out + "_to_double"
                )
            )
    del graph.node[:]
    graph.node.extend(nodes)
    for imp in onx.opset_import:
        if imp.domain == "ai.onnx.ml":
            imp.version = max(imp.version, 3)  # tensor-valued thresholds need ai.onnx.ml opset 3
    return onx


def _exact_thresholds(node: Any, predictors: list, helper: Any, numpy_helper: Any) -> None:
    attrs = {a.name: a for a in node.attribute}
    if "nodes_values" not in attrs:
        raise NotConvertible("the tree operator has no thresholds to replace")
    tree_ids, node_ids = attrs["nodes_treeids"].ints, attrs["nodes_nodeids"].ints
    float32 = np.asarray(attrs["nodes_values"].floats, dtype=np.float32)
    per_iteration = len(predictors[0])
    exact = np.empty(len(tree_ids), dtype=np.float64)
    for p, (tree, j) in enumerate(zip(tree_ids, node_ids, strict=True)):
        iteration, k = divmod(tree, per_iteration)  # skl2onnx numbers trees iteration * outputs + output
        table = predictors[iteration][k].nodes
        exact[p] = 0.0 if table["is_leaf"][j] else table["num_threshold"][j]
    if not np.array_equal(exact.astype(np.float32), float32):
        raise NotConvertible("the tree layout is not the one expected from skl2onnx")
    kept = [a for a in node.attribute if a.name != "nodes_values"]
    del node.attribute[:]
    node.attribute.extend(kept)
    node.attribute.append(
        helper.make_attribute(
            "nodes_values_as_tensor", numpy_helper.from_array(exact, "nodes_values_as_tensor")
        )
    )


def _imputer_values(node: Any, imputers: list) -> np.ndarray:
    attrs = {a.name: a for a in node.attribute}
    replaced = attrs["replaced_value_float"].f if "replaced_value_float" in attrs else float("nan")
    if not np.isnan(replaced):
        raise NotConvertible("only imputers of NaN are rebuilt in float64")
    values = np.asarray(attrs["imputed_value_floats"].floats, dtype=np.float32)
    for imp in imputers:  # the fitted imputer whose float32 statistics these are
        stats = np.asarray(imp.statistics_, dtype=np.float64)
        if stats.shape == values.shape and np.array_equal(stats.astype(np.float32), values):
            return stats
    raise NotConvertible("an imputer's statistics could not be matched")


def _imputers(est: Any) -> list:
    from sklearn.impute import SimpleImputer

    found, stack = [], [est]
    while stack:
        obj = stack.pop()
        if isinstance(obj, SimpleImputer):
            found.append(obj)
        for _, step in getattr(obj, "steps", []) or []:
            stack.append(step)
        for item in getattr(obj, "transformers_", []) or []:
            stack.append(item[1])
    return found


def _final(est: Any) -> Any:
    steps = getattr(est, "steps", None)
    return steps[-1][1] if steps else est
