"""What a loaded model holds, checked before anything predicts with it.

Trusted classes still carry data that scikit-learn's compiled code uses
without bounds checks: every decision tree (single trees, forests, gradient
boosting) and every histogram-gradient-boosting predictor is walked and its
node arrays checked (child indices in range and always pointing forward, so no
cycles; feature indices within the model's input width; shapes consistent).
Parameters that would make later fitting write files (``memory``) or start
absurd numbers of workers (``n_jobs``) are refused too. A ``model.onnx`` is
parsed without loading external data, and refused when any tensor refers to
external data (workbench writes self-contained files).

numpy, scikit-learn and onnx are imported inside the functions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from workbench.errors import ModelFileError

_MAX_N_JOBS = 256


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
        raise ModelFileError(
            f"'{path}' does not hold a scikit-learn model (it holds a {type(estimator).__name__})"
        )
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
        raise ModelFileError(
            f"'{path}' is refused: its {type(est).__name__} would cache to "
            f"{str(state['memory'])[:80]!r} (a model file may not name places to write)"
        )
    n_jobs = state.get("n_jobs")
    if n_jobs is not None and (
        not isinstance(n_jobs, int) or isinstance(n_jobs, bool) or not -_MAX_N_JOBS <= n_jobs <= _MAX_N_JOBS
    ):
        raise ModelFileError(
            f"'{path}' is refused: its {type(est).__name__} asks for n_jobs={str(n_jobs)[:20]}"
        )


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
        items = (
            subs.ravel().tolist()
            if isinstance(subs, np.ndarray)
            else list(subs)
            if isinstance(subs, list | tuple)
            else []
        )
        for sub in items:
            sub_tree = getattr(sub, "tree_", None)
            if isinstance(sub_tree, Tree):
                _check_tree(sub_tree, width, path, done)
    if (
        "_raw_predict_init" in dir(type(est)) and hasattr(est, "init_") and subs is not None
    ):  # GradientBoosting
        k = getattr(est, "n_trees_per_iteration_", None)
        if (
            not isinstance(subs, np.ndarray)
            or subs.ndim != 2
            or not isinstance(k, int | np.integer)
            or subs.shape[1] != k
        ):
            raise ModelFileError(
                f"'{path}' is corrupted: its {name} has stages that do not match its outputs"
            )
        for sub in subs.ravel().tolist():
            t = getattr(sub, "tree_", None)
            if not isinstance(t, Tree) or t.n_outputs != 1 or t.max_n_classes != 1:
                raise ModelFileError(
                    f"'{path}' is corrupted: its {name} has a stage that is not a regression tree"
                )
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
    if np.any(
        (left[split] <= idx[split]) | (left[split] >= n) | (right[split] <= idx[split]) | (right[split] >= n)
    ):
        raise bad("has a child index out of range or pointing backwards (a cycle)")
    if np.any((feature[split] < 0) | (feature[split] >= n_features)) or np.any(feature[leaf] != -2):
        raise bad(f"splits on a feature outside the {n_features} the model has")
    if np.any(np.isnan(threshold[split]) | (threshold[split] == -np.inf)):
        raise bad(
            "has a split without a threshold"
        )  # +inf is what scikit-learn writes for missing-only splits
    n_classes = np.asarray(tree.n_classes)
    if (
        n_classes.shape != (tree.n_outputs,)
        or np.any(n_classes < 1)
        or np.any(n_classes > tree.max_n_classes)
    ):
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
        raise ModelFileError(
            f"'{path}' is corrupted: its {name} has categorical flags for the wrong features"
        )
    for stage in predictors:
        if not isinstance(stage, list) or len(stage) != per_iter:
            raise ModelFileError(
                f"'{path}' is corrupted: its {name} has a stage with the wrong number of trees"
            )
        for pred in stage:
            if not isinstance(pred, TreePredictor):
                raise ModelFileError(f"'{path}' is corrupted: its {name} holds something that is not a tree")
            nodes = pred.nodes
            if (
                not isinstance(nodes, np.ndarray)
                or nodes.dtype != PREDICTOR_RECORD_DTYPE
                or nodes.ndim != 1
                or len(nodes) < 1
            ):
                raise bad("has a node array of the wrong type")
            n = len(nodes)
            idx = np.arange(n)
            leaf = nodes["is_leaf"]
            if np.any(leaf > 1):
                raise bad("has an invalid leaf flag")
            split = leaf == 0
            left = nodes["left"].astype(np.int64)
            right = nodes["right"].astype(np.int64)
            if np.any(
                (left[split] <= idx[split])
                | (left[split] >= n)
                | (right[split] <= idx[split])
                | (right[split] >= n)
            ):
                raise bad("has a child index out of range or pointing backwards (a cycle)")
            f = nodes["feature_idx"].astype(np.int64)
            if np.any((f[split] < 0) | (f[split] >= width)):
                raise bad(f"splits on a feature outside the {width} the model has")
            cat_split = split & (nodes["is_categorical"] != 0)
            if np.any(cat_split):
                bitsets = getattr(pred, "raw_left_cat_bitsets", None)
                if (
                    not isinstance(bitsets, np.ndarray)
                    or bitsets.ndim != 2
                    or bitsets.shape[1] != 8
                    or bitsets.dtype != np.uint32
                ):
                    raise bad("has categorical splits without category sets")
                b = nodes["bitset_idx"].astype(np.int64)
                if np.any((b[cat_split] < 0) | (b[cat_split] >= bitsets.shape[0])) or not np.all(
                    cat[f[cat_split]]
                ):
                    raise bad("has a categorical split on a feature or category set it does not have")


# -- ONNX ---------------------------------------------------------------------------------------
def check_onnx(blob: bytes, path: Path) -> None:
    """Refuse an ONNX graph that refers to data outside the file (or cannot be parsed)."""
    import onnx

    try:
        proto = onnx.load_model_from_string(blob)
    except Exception as exc:
        raise ModelFileError(
            f"'{path}' is corrupted: its model.onnx cannot be loaded (not a valid ONNX graph: "
            f"{type(exc).__name__})"
        ) from None
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
                raise ModelFileError(
                    f"'{path}' is refused: its model.onnx refers to data outside the file "
                    "(workbench writes self-contained ONNX files)"
                )
