"""Model files are hostile input: crafted files are refused before anything runs, writes or crashes.

Every crafted file is refused through the real CLI (``workbench evaluate`` in a
subprocess, cwd a fresh folder): exit 2, one line on stderr without a
traceback, nothing written, and a small peak memory (the runs go in parallel
in one fixture, then each case is checked on its own). The Python API refuses
the same files with :class:`ModelFileError`. Positive side: every model
workbench's recipes, imbalance handling and compression produce loads with the
default allow-list, which holds nothing they do not produce.
"""

from __future__ import annotations

import copy
import io
import json
import os
import pickle
import struct
import subprocess
import sys
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.preprocessing import FunctionTransformer

from workbench.data._spec import infer_spec, prepare_frame, target_values
from workbench.errors import ModelFileError
from workbench.modeling import _model_container as container
from workbench.modeling import _skops_trust as trust
from workbench.modeling import artifact
from workbench.modeling.artifact import Model, load_model, save_model
from workbench.modeling.train import build_pipeline

N_ROWS = 60
MAX_PEAK_MB = 400
WORKBENCH = Path(sys.executable).with_name("workbench")


class Sneaky(BaseEstimator, TransformerMixin):
    """A custom class: never trusted unless named (loading it would import this module)."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return X


@pytest.fixture(scope="module", autouse=True)
def one_thread_per_library():
    """On a busy machine, idle OpenMP threads spinning between calls make HistGradientBoosting crawl."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


# -- small real models to break -------------------------------------------------------------------
@pytest.fixture(scope="module")
def table() -> tuple[pd.DataFrame, object]:
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "age": rng.integers(18, 80, N_ROWS).astype(float),
            "hours": rng.normal(40, 8, N_ROWS),
            "score": rng.normal(0, 1, N_ROWS),
        }
    )
    df["label"] = np.where(df["score"] + 0.02 * df["age"] > 1.0, "yes", "no")
    return df, infer_spec(df, target="label")


def _fit(recipe: str, table, **params):
    df, spec = table
    pipe = build_pipeline(recipe, spec, quick=True, params=params or None)
    pipe.fit(prepare_frame(df, spec).rename(columns=spec.model_names), target_values(df, spec))
    if "n_jobs" in pipe[-1].get_params():
        pipe[-1].set_params(n_jobs=1)
    return pipe


@pytest.fixture(scope="module")
def fitted(table) -> dict:
    return {
        "linear": _fit("logistic_regression", table),
        "forest": _fit("random_forest", table, n_estimators=3),
        "hgb": _fit("hist_gradient_boosting", table, max_iter=3),
    }


def _entries(pipe, spec, blob: bytes | None = None) -> dict[str, bytes]:
    """meta.json and model.skops of a valid artifact around `pipe` (or around a given skops blob)."""
    blob = sio.dumps(pipe) if blob is None else blob
    meta = artifact.build_meta(Model(pipe, spec, name="crafted"), "model.skops", blob)
    return {"meta.json": json.dumps(meta).encode(), "model.skops": blob}


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _raw_zip(members: list[tuple[str, bytes, int, int]]) -> bytes:
    """A zip written by hand: (name, deflated bytes, declared size, crc) per member; sizes may lie."""
    out, central = io.BytesIO(), []
    for name, data, size, crc in members:
        offset = out.tell()
        raw = name.encode()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(data), size, len(raw), 0))
        out.write(raw + data)
        central.append(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0,
                8,
                0,
                0,
                crc,
                len(data),
                size,
                len(raw),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + raw
        )
    start = out.tell()
    for c in central:
        out.write(c)
    out.write(
        struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), out.tell() - start, start, 0)
    )
    return out.getvalue()


def _deflated(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def _zeros_deflated(n_mib: int, byte: bytes = b"\0") -> bytes:
    """A raw deflate stream of `n_mib` MiB of one byte, built in milliseconds (one block, repeated)."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(byte * (1 << 20)) + c.flush(zlib.Z_FULL_FLUSH)
    return block * n_mib + c.flush()


def _skops_edit(blob: bytes, edit) -> bytes:
    """A skops blob with its schema.json changed by `edit(schema)`."""
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    schema = json.loads(files["schema.json"])
    edit(schema)
    files["schema.json"] = json.dumps(schema).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for n, d in files.items():
            zf.writestr(n, d)
    return out.getvalue()


def _hidden_bit_generator(schema):
    """numpy's Generator is rebuilt from a class name stored as a plain string: make it another callable."""
    for node in _nodes(schema, "RandomGeneratorNode"):
        name = node["content"]["bit_generator"]["content"]["bit_generator"]
        name["content"], name["__id__"] = json.dumps("set_bit_generator"), 1  # a fresh id: skops reuses by id


def _nodes(schema, loader):
    stack = [schema]
    while stack:
        o = stack.pop()
        if isinstance(o, dict):
            if o.get("__loader__") == loader:
                yield o
            stack.extend(o.values())
        elif isinstance(o, list):
            stack.extend(o)


def _first_tree(pipe):
    model = pipe[-1]
    return model.estimators_[0].tree_ if hasattr(model, "estimators_") else model.tree_


def _tree_variant(pipe, change):
    """A deep copy of a forest pipeline whose first tree's node array went through `change(nodes)`."""
    pipe = copy.deepcopy(pipe)
    tree = _first_tree(pipe)
    state = tree.__getstate__()
    nodes = state["nodes"].copy()
    change(nodes)
    tree.__setstate__({**state, "nodes": nodes})
    return pipe


def _hgb_variant(pipe, field, value):
    pipe = copy.deepcopy(pipe)
    pred = pipe[-1]._predictors[0][0]
    nodes = pred.nodes.copy()
    nodes[field][0] = value
    pred.nodes = nodes
    return pipe


def _with_step(pipe, step):
    pipe = copy.deepcopy(pipe)
    pipe.steps.insert(1, ("step", step))
    return pipe


# -- the crafted files ------------------------------------------------------------------------------
def _cases(fitted, spec, target: Path) -> dict[str, tuple[str, bytes | None, str]]:
    """name -> (file name, file bytes or None for a folder built in place, expected words in the message)."""
    lin, forest, hgb = fitted["linear"], fitted["forest"], fitted["hgb"]
    target = str(target)
    svm = FunctionTransformer(
        func=__import__("sklearn.datasets", fromlist=["x"]).dump_svmlight_file,
        kw_args={"y": np.zeros(N_ROWS), "f": target},
    )
    from sklearn.utils import check_array

    valid = _entries(lin, spec)
    cases = {
        "sklearn_dump_svmlight_file": _with_step(lin, svm),
        "sklearn_utils_function": _with_step(lin, FunctionTransformer(func=check_array)),
        "os_system": _with_step(lin, FunctionTransformer(func=os.system, kw_args={})),
        "builtins_eval": _with_step(lin, FunctionTransformer(func=eval)),
        "builtins_exec": _with_step(lin, FunctionTransformer(func=exec)),
        "custom_class": _with_step(lin, Sneaky()),
        "tree_child_out_of_range": _tree_variant(forest, lambda n: n["left_child"].__setitem__(0, 10**6)),
        "tree_negative_child": _tree_variant(forest, lambda n: n["left_child"].__setitem__(0, -7)),
        "tree_feature_out_of_range": _tree_variant(forest, lambda n: n["feature"].__setitem__(0, 10**6)),
        "tree_cycle": _tree_variant(forest, lambda n: n["left_child"].__setitem__(0, 0)),
        "hgb_child_out_of_range": _hgb_variant(hgb, "left", 10**6),
        "hgb_feature_out_of_range": _hgb_variant(hgb, "feature_idx", 10**6),
    }
    out: dict[str, tuple[str, bytes | None, str]] = {}
    for name, pipe in cases.items():
        words = "does not trust" if not name.startswith(("tree", "hgb")) else "trees"
        out[name] = ("bad.wbm", _zip(_entries(pipe, spec)), words)
    out["numpy_random_hidden_callable"] = (
        "bad.wbm",
        _zip(_entries(hgb, spec, _skops_edit(sio.dumps(hgb), _hidden_bit_generator))),
        "random generator",
    )
    out["pickle_renamed"] = ("bad.wbm", pickle.dumps({"estimator": lin}), "pickle")
    import joblib

    for compress in (0, 3):
        buf = io.BytesIO()
        joblib.dump(lin, buf, compress=compress)
        out[f"joblib_compress{compress}"] = ("bad.wbm", buf.getvalue(), "pickle")
    out["zip_path_traversal"] = ("bad.wbm", _zip({**valid, "../evil": b"x"}), "unsafe name")
    out["zip_absolute_name"] = ("bad.wbm", _zip({**valid, "/tmp/evil": b"x"}), "unsafe name")
    crc = zlib.crc32(valid["meta.json"])
    meta_member = ("meta.json", _deflated(valid["meta.json"]), len(valid["meta.json"]), crc)
    bomb = _zeros_deflated(3500)  # 3.5 GiB of zeros in ~3.5 MB
    out["zip_bomb_declared"] = (
        "bad.wbm",
        _raw_zip([meta_member, ("model.skops", bomb, 3500 << 20, 0)]),
        "would unpack",
    )
    out["zip_bomb_lying_header"] = (
        "bad.wbm",
        _raw_zip([meta_member, ("model.skops", bomb, 1000, 0)]),
        "model file",
    )
    spaces = _zeros_deflated(300, b" ")  # a meta.json of 300 MiB of blanks in ~300 KB
    out["meta_json_huge"] = (
        "bad.wbm",
        _raw_zip(
            [
                ("meta.json", spaces, 300 << 20, 0),
                (
                    "model.skops",
                    _deflated(valid["model.skops"]),
                    len(valid["model.skops"]),
                    zlib.crc32(valid["model.skops"]),
                ),
            ]
        ),
        "meta.json",
    )
    nested = b'{"format": "workbench-model", "x": ' + b"[" * 150_000 + b"]" * 150_000 + b"}"
    out["meta_json_nested"] = ("bad.wbm", _zip({**valid, "meta.json": nested}), "nested")

    inner = io.BytesIO()  # a skops file whose array member declares 3.5 GiB
    with zipfile.ZipFile(io.BytesIO(valid["model.skops"])) as zf:
        schema = zf.read("schema.json")
    inner.write(
        _raw_zip(
            [
                ("schema.json", _deflated(schema), len(schema), zlib.crc32(schema)),
                ("0.npy", bomb, 3500 << 20, 0),
            ]
        )
    )
    out["skops_inner_bomb"] = ("bad.wbm", _zip(_entries(lin, spec, inner.getvalue())), "would unpack")
    out["folder_symlink_outside"] = ("bad_folder", None, "outside")
    return out


def _make(case: tuple[str, bytes | None, str], workdir: Path, fitted, spec) -> Path:
    name, data, _ = case
    path = workdir / name
    if data is not None:
        path.write_bytes(data)
        return path
    folder = save_model(Model(fitted["linear"], spec, name="linked"), path)
    secret = workdir.parent / f"{workdir.name}-outside.skops"
    secret.write_bytes((folder / "model.skops").read_bytes())
    (folder / "model.skops").unlink()
    (folder / "model.skops").symlink_to(secret)
    return folder


def _snapshot(*roots: Path) -> dict:
    snap = {}
    for root in roots:
        for p in [root, *root.rglob("*")]:
            st = p.lstat()
            snap[str(p)] = (st.st_size, st.st_mtime_ns, st.st_mode)
    return snap


_PEAK = (
    "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(r.returncode)"
)


@pytest.fixture(scope="module")
def outside(tmp_path_factory) -> Path:
    """A folder no case may touch; the svmlight case's target file would be written here."""
    return tmp_path_factory.mktemp("outside")


@pytest.fixture(scope="module")
def crafted(fitted, table, outside) -> dict:
    return _cases(fitted, table[1], outside / "written.svm")


@pytest.fixture(scope="module")
def refused(crafted, fitted, table, outside, tmp_path_factory) -> dict[str, dict]:
    """Each crafted file, run through ``workbench evaluate`` in its own fresh folder (in parallel)."""
    df, spec = table
    root = tmp_path_factory.mktemp("hostile")
    jobs = {}
    for name, case in crafted.items():
        work = root / name
        work.mkdir()
        model = _make(case, work, fitted, spec)
        df.to_csv(work / "data.csv", index=False)
        jobs[name] = (work, model, case[2])

    def run(name):
        work, model, words = jobs[name]
        before = _snapshot(work, outside)
        env = {**os.environ, "PYTHONWARNINGS": "ignore"}
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                _PEAK,
                str(WORKBENCH),
                "evaluate",
                "--model",
                str(model),
                "--data",
                "data.csv",
                "--no-latency",
            ],
            cwd=work,
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
        )
        out = proc.stdout.strip().splitlines()
        return {
            "rc": proc.returncode,
            "stderr": proc.stderr,
            "words": words,
            "peak_mb": int(out[-1]) / 1024 if out else None,
            "unchanged": before == _snapshot(work, outside),
            "work": work,
        }

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(jobs, pool.map(run, jobs), strict=True))


CASES = [
    "sklearn_dump_svmlight_file",
    "sklearn_utils_function",
    "os_system",
    "builtins_eval",
    "builtins_exec",
    "custom_class",
    "tree_child_out_of_range",
    "tree_negative_child",
    "tree_feature_out_of_range",
    "tree_cycle",
    "hgb_child_out_of_range",
    "hgb_feature_out_of_range",
    "numpy_random_hidden_callable",
    "pickle_renamed",
    "joblib_compress0",
    "joblib_compress3",
    "zip_path_traversal",
    "zip_absolute_name",
    "zip_bomb_declared",
    "zip_bomb_lying_header",
    "meta_json_huge",
    "meta_json_nested",
    "skops_inner_bomb",
    "folder_symlink_outside",
]


def test_the_case_list_is_complete(refused):
    assert sorted(refused) == sorted(CASES)


@pytest.mark.parametrize("case", CASES)
def test_cli_refuses_crafted_file(refused, case):
    r = refused[case]
    assert r["rc"] == 2, (r["rc"], r["stderr"][-2000:])
    lines = r["stderr"].strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("workbench: error: "), r["stderr"][-2000:]
    assert "Traceback" not in r["stderr"]
    assert r["words"] in lines[0], lines[0]
    assert r["unchanged"], "the refused run changed files"
    assert r["peak_mb"] is not None and r["peak_mb"] < MAX_PEAK_MB, r["peak_mb"]


@pytest.mark.parametrize("case", CASES)
def test_api_refuses_crafted_file(case, crafted, fitted, table, outside, tmp_path):
    path = _make(crafted[case], tmp_path, fitted, table[1])
    before = _snapshot(tmp_path, outside)
    with pytest.raises(ModelFileError) as err:
        load_model(path)
    msg = str(err.value)
    assert "\n" not in msg and str(path) in msg and crafted[case][2] in msg
    assert _snapshot(tmp_path, outside) == before


def test_a_callable_loads_only_when_named(fitted, table, tmp_path):
    df, spec = table
    pipe = _with_step(fitted["linear"], FunctionTransformer(func=np.abs))  # even numpy's functions
    path = tmp_path / "m.wbm"
    path.write_bytes(_zip(_entries(pipe, spec)))
    ft = "sklearn.preprocessing._function_transformer.FunctionTransformer"
    with pytest.raises(ModelFileError, match="numpy.absolute"):
        load_model(path)
    with pytest.raises(ModelFileError, match="numpy.absolute"):
        load_model(path, trusted=[ft])  # the class alone does not bring its function in
    loaded = load_model(path, trusted=[ft, "numpy.absolute"])
    assert np.array_equal(loaded.predict_proba(df), Model(pipe, spec).predict_proba(df))


def test_tree_checks_accept_every_real_tree(fitted, table, tmp_path):
    df, spec = table
    for key in ("forest", "hgb"):
        model = Model(fitted[key], spec, name=key)
        loaded = load_model(save_model(model, tmp_path / f"{key}.wbm"))
        assert np.array_equal(loaded.predict_proba(df), model.predict_proba(df))


def test_trees_of_trusted_extra_estimators_are_checked_too(table, tmp_path):
    """GradientBoosting and ExtraTrees are not on the list; once trusted, their trees are still checked."""
    from sklearn.ensemble import ExtraTreesClassifier, GradientBoostingClassifier

    df, spec = table
    X = prepare_frame(df, spec).rename(columns=spec.model_names)
    y = target_values(df, spec)
    for est in (
        GradientBoostingClassifier(n_estimators=3, max_depth=2),
        ExtraTreesClassifier(n_estimators=2),
    ):
        est.fit(X, y)
        names = [t for t in sio.get_untrusted_types(data=sio.dumps(est))] + [
            f"{type(est).__module__}.{type(est).__name__}",
            "sklearn.tree._classes.DecisionTreeRegressor",
            "sklearn.tree._classes.ExtraTreeClassifier",
            "sklearn.dummy.DummyClassifier",
            "sklearn._loss.loss.HalfBinomialLoss",
            "sklearn._loss.link.LogitLink",
            "sklearn._loss.link.Interval",
            "sklearn._loss._loss.CyHalfBinomialLoss",
            "numpy.random.mtrand.RandomState",
        ]
        path = tmp_path / f"{type(est).__name__}.wbm"
        path.write_bytes(_zip(_entries(est, spec)))
        assert np.array_equal(load_model(path, trusted=names).predict_proba(df), est.predict_proba(X))
        broken = copy.deepcopy(est)
        first = (
            broken.estimators_.ravel()[0]
            if isinstance(broken.estimators_, np.ndarray)
            else broken.estimators_[0]
        )
        state = first.tree_.__getstate__()
        nodes = state["nodes"].copy()
        nodes["feature"][0] = 999
        first.tree_.__setstate__({**state, "nodes": nodes})
        path.write_bytes(_zip(_entries(broken, spec)))
        with pytest.raises(ModelFileError, match="feature outside"):
            load_model(path, trusted=names)


def test_onnx_with_external_data_is_refused(fitted, table, tmp_path):
    import onnx

    from workbench.compression import to_onnx

    _, spec = table
    variant = to_onnx(Model(fitted["linear"], spec, name="lin"))
    good = load_model(save_model(variant, tmp_path / "good.wbm"))
    assert good.kind == "onnx"
    proto = onnx.load_model_from_string(variant.onnx_bytes)
    init = onnx.TensorProto(name="leak", data_type=onnx.TensorProto.UINT8, dims=[1 << 20])
    init.data_location = onnx.TensorProto.EXTERNAL
    entry = init.external_data.add()
    entry.key, entry.value = "location", "../../../../etc/passwd"
    proto.graph.initializer.append(init)
    blob = proto.SerializeToString()
    meta = json.loads(json.dumps(artifact.build_meta(variant, "model.onnx", blob), default=str))
    meta["onnx"] = {"classes": ["no", "yes"], "inputs": {}}
    path = tmp_path / "ext.wbm"
    path.write_bytes(_zip({"meta.json": json.dumps(meta).encode(), "model.onnx": blob}))
    with pytest.raises(ModelFileError, match="outside the file"):
        load_model(path)


def test_size_cap_follows_the_environment(fitted, table, tmp_path, monkeypatch):
    _, spec = table
    path = save_model(Model(fitted["forest"], spec), tmp_path / "m.wbm")
    monkeypatch.setenv("WORKBENCH_MAX_MODEL_BYTES", "1K")
    with pytest.raises(ModelFileError, match="WORKBENCH_MAX_MODEL_BYTES"):
        load_model(path)
    monkeypatch.setenv("WORKBENCH_MAX_MODEL_BYTES", "lots")
    with pytest.raises(ModelFileError, match="must be a number"):
        load_model(path)
    monkeypatch.setenv("WORKBENCH_MAX_MODEL_BYTES", "64M")
    assert load_model(path).name == "model"


def test_fifo_and_devices_are_not_read(tmp_path):
    fifo = tmp_path / "model.wbm"
    os.mkfifo(fifo)
    with pytest.raises(ModelFileError, match="not a regular file"):
        load_model(fifo)
    with pytest.raises(ModelFileError, match="not a regular file"):
        load_model("/dev/zero")


def test_json_depth_skips_strings():
    assert container.json_depth(b'{"a": "[[[[{{{", "b": [1, [2]]}') == 3
    assert container.json_depth(b'"\\"[["') == 0


# -- every model workbench makes loads with the default allow-list -----------------------------------
def _produced_models():
    """Every recipe x task x imbalance strategy through the real training code, then the sklearn
    variants of every compression technique (small sizes: the classes are what matters)."""
    from workbench.compression import _techniques as tech
    from workbench.data.datasets import load_demo
    from workbench.modeling import train as tr

    small = {"random_forest": {"n_estimators": 4}, "hist_gradient_boosting": {"max_iter": 4}}
    for demo_name in ("adult", "wine", "diabetes"):
        demo = load_demo(demo_name)
        spec = demo.spec
        rows = demo.train.sample(min(240, len(demo.train)), random_state=0)
        hold = demo.test.sample(min(120, len(demo.test)), random_state=1)
        X, y, _ = tr._xy(rows, spec, "rows")
        rows = rows.loc[X.index]
        imbalances = {
            "binary": tr.IMBALANCE,
            "multiclass": ("none", "class_weight", "smote"),
            "regression": ("none",),
        }[spec.task]
        for recipe in tr.resolve_recipes(None, spec.task):
            for imbalance in imbalances:
                pipe, threshold = tr._fit(recipe, spec, imbalance, None, X, y, small.get(recipe, {}), True, 0)
                model = Model(pipe, spec, threshold=threshold, name=f"{demo_name}:{recipe}:{imbalance}")
                yield model, hold
                if imbalance != "none" or recipe not in small:
                    continue
                ctx = tech.Context(
                    model,
                    rows,
                    target_values(rows, spec),
                    hold,
                    target_values(hold, spec).to_numpy(),
                    score=lambda m, r, t: 0.0,
                    higher_is_better=True,
                    quick=True,
                )
                for technique in (tech.drop_trees, tech.capacity, tech.feature_pruning, tech.distillation):
                    try:
                        for cand in technique(ctx):
                            yield cand.model, hold
                    except tech.NotApplicable:
                        pass
    yield from _mitigated_models()


def _mitigated_models():
    """Every fairness mitigation once (workbench.fairness), around a small forest, on Adult by sex."""
    from workbench.data.datasets import load_demo
    from workbench.fairness import mitigate
    from workbench.modeling.train import train

    demo = load_demo("adult")
    original = train(
        demo.train.sample(600, random_state=0), demo.spec, recipes=["rf"], quick=True, progress=False
    ).champion
    result = mitigate(
        original,
        demo.test.sample(1200, random_state=1),
        sensitive="sex",
        constraint="demographic_parity",
        quick=True,
        n_bootstrap=10,
        progress=False,
    )
    hold = demo.test.sample(120, random_state=2)
    for c in result.candidates:
        if c.name != "original" and c.params.get("grid_point", 0) == 0:
            yield result.model(c.name), hold


def test_every_recipe_and_variant_uses_only_the_allow_list(tmp_path):
    produced: set[str] = set()
    reported: set[str] = set()
    for i, (model, hold) in enumerate(_produced_models()):
        path = save_model(model, tmp_path / f"m{i}.wbm")
        blob = container.read_artifact(path)[2]
        found = trust.schema_types(trust._skops_schema(blob, path), path)
        produced |= set(found)
        reported |= set(sio.get_untrusted_types(data=blob))
        loaded = load_model(path)  # the default allow-list, nothing named
        if model.task == "regression":
            assert np.array_equal(loaded.predict(hold), model.predict(hold))
        else:
            assert np.array_equal(loaded.predict_proba(hold), model.predict_proba(hold))
    allowed = trust.TRUSTED_TYPES | trust.TRUSTED_TYPE_VALUES
    assert produced <= allowed and reported <= allowed
    # closed: nothing on the list that workbench does not make, beyond plain numpy scalar types
    scalars = {
        t
        for t in allowed
        if t.startswith("numpy.")
        and "." not in t[len("numpy.") :]
        and t not in ("numpy.ndarray", "numpy.dtype")
    } | {"builtins.int", "builtins.float", "builtins.bool"}
    assert trust.TRUSTED_TYPES - produced <= scalars, sorted(trust.TRUSTED_TYPES - produced - scalars)
    assert not any(k in trust._CALLABLE_LOADERS for k in found.values())
