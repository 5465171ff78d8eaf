"""LIME explanation time per row on UCI Adult: workbench's explainer against naive LIME glue.

For every recipe (logistic regression, random forest, histogram gradient
boosting; trained on Adult's official training split, full-size settings
unless ``--quick``), the same rows of the test split are explained at 5,000
LIME samples each (the issue's goal: <= 0.2 s per row), with the training
split as LIME's reference, in interleaved rounds; the table shows medians of
the per-row time:

- ``workbench``: :func:`workbench.explain._api.explain_local` (the explainer
  is built once and reused; categorical codes decoded with one fancy-index per
  column; the model's OpenMP/BLAS pools limited to one thread while LIME
  queries it);
- ``wb 1 row/call``: the same, one ``explain_local`` call per row (how a panel
  explains the row a user picks: includes fingerprinting the reference to
  find the cached explainer, and no batching of model calls across rows);
- ``wb threads``: as ``workbench``, leaving the model's thread pools as they are
  (``threads=None``), to show what the limit buys on shared cores;
- ``naive glue``: LIME in the original columns as a user would first write it:
  the same explainer, and a predict function that decodes LIME's samples row
  by row into dicts (``pd.DataFrame([{...} for row in samples])``);
- ``encoded LIME``: LIME on the pipeline's own encoded matrix (what the
  estimator sees: one-hot columns for logistic regression, ordinal codes for
  the tree models) with the final estimator's ``predict_proba``: the baseline a
  user gets without glue. It is not in the original columns (explanations
  read "relationship_Husband <= 0.00" or "occupation <= 6.00"), so it is a
  speed reference, not an equivalent result.

Also shown: the model's ``predict_proba`` on one 5,000-row DataFrame (the hot
path; one thread), the columns LIME perturbs, and an example condition.

Each figure is given twice: wall-clock time, and this process's CPU time. On
a machine shared with other jobs (the 1-minute load average is printed) the
wall clock includes waiting for a core; with the model on one thread, the CPU
time is what a row costs on an idle core.

Usage: .venv/bin/python benchmarks/explain.py [--rows 8] [--rounds 3] [--quick] [--recipes random_forest]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RECIPES = ("logistic_regression", "random_forest", "hist_gradient_boosting")
SAMPLES = 5000
GOAL_S = 0.2


def main() -> int:
    ap = recipes_parser(__doc__)
    ap.add_argument("--rows", type=int, default=8, help="test rows explained per round")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median of all per-row times)")
    args = ap.parse_args()
    warnings.simplefilter("ignore")

    out = []
    for demo, recipe, model in trained_on_adult(args.recipes.split(","), quick=args.quick):
        rows = demo.test.sample(args.rows, random_state=7)
        out.append(_bench(recipe, model, demo.train, rows, args.rounds))
    _print(out)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))
    return 0


def recipes_parser(doc: str) -> argparse.ArgumentParser:
    """The options of a per-recipe benchmark on Adult: --recipes, --quick, --json (also shap_cost.py's)."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--recipes", default=",".join(RECIPES))
    ap.add_argument("--quick", action="store_true", help="quick (smaller) models, as in the tests")
    ap.add_argument("--json", help="also write the figures to this JSON file")
    return ap


def trained_on_adult(recipes, *, quick: bool):
    """(demo, recipe, model) per recipe, trained on Adult's official training split (also shap_cost.py's)."""
    from workbench.data import load_demo
    from workbench.modeling.train import train

    demo = load_demo("adult")
    for recipe in recipes:
        t0 = time.perf_counter()
        model = train(
            demo.train, demo.spec, recipes=[recipe], validation=demo.test, quick=quick, progress=False
        ).champion
        print(f"{recipe}: trained in {time.perf_counter() - t0:.0f} s", flush=True)
        yield demo, recipe, model


def _bench(recipe: str, model, reference: pd.DataFrame, rows: pd.DataFrame, rounds: int) -> dict:
    from threadpoolctl import threadpool_limits

    from workbench.explain import explain_local, local_explainer

    t0 = time.perf_counter()
    explainer = local_explainer(model, reference)
    build_s = time.perf_counter() - t0
    glue = _naive_glue(explainer)
    encoded, enc_rows, enc_cols, enc_example = _encoded_lime(model, reference, rows)
    big = reference.sample(SAMPLES, random_state=0)
    methods = {
        "workbench": lambda: explain_local(model, rows, reference=reference, num_samples=SAMPLES),
        "one_row": lambda: [
            explain_local(model, rows, rows=i, reference=reference, num_samples=SAMPLES) for i in rows.index
        ],
        "wb_threads": lambda: explain_local(
            model, rows, reference=reference, num_samples=SAMPLES, threads=None
        ),
        "naive_glue": lambda: glue(rows),
        "encoded": lambda: encoded(enc_rows),
    }
    wall: dict[str, list[float]] = {k: [] for k in [*methods, "predict"]}
    cpu: dict[str, list[float]] = {k: [] for k in [*methods, "predict"]}
    example = explain_local(model, rows, rows=rows.index[0], reference=reference).explanations[0].features[0]
    for _ in range(rounds):
        for name, run in methods.items():
            w, c = time.perf_counter(), time.process_time()
            run()
            wall[name].append((time.perf_counter() - w) / len(rows))
            cpu[name].append((time.process_time() - c) / len(rows))
        with threadpool_limits(1):
            for _ in range(3):
                w, c = time.perf_counter(), time.process_time()
                model.predict_proba(big)
                wall["predict"].append(time.perf_counter() - w)
                cpu["predict"].append(time.process_time() - c)
    out = {
        "recipe": recipe,
        "rows": len(rows),
        "rounds": rounds,
        "num_samples": SAMPLES,
        "explainer_build_s": build_s,
        "lime_columns": len(model.spec.features),
        "encoded_columns": enc_cols,
        "example": example["condition"],
        "encoded_example": enc_example,
        "load_average": os.getloadavg()[0],
    }
    for name in wall:
        out[f"{name}_s"] = statistics.median(wall[name])
        out[f"{name}_cpu_s"] = statistics.median(cpu[name])
    return out


def _naive_glue(explainer):
    """Same explainer, predict function decoding LIME's samples row by row (default thread pools)."""
    model, feats = explainer.model, explainer.features
    cats = {j: explainer.categories[j] for j in explainer.categorical}

    def predict(a: np.ndarray) -> np.ndarray:
        records = [{feats[j]: (cats[j][int(v)] if j in cats else v) for j, v in enumerate(r)} for r in a]
        return model.predict_proba(pd.DataFrame(records))

    def run(rows: pd.DataFrame) -> None:
        from workbench.data._spec import prepare_frame

        prepared = prepare_frame(rows, model.spec)
        label = model.positive_index
        for i in range(len(prepared)):
            x, _, _ = explainer._encode_row(prepared.iloc[i])
            explainer._seed(0)
            explainer.lime.explain_instance(x, predict, labels=(label,), num_features=10, num_samples=SAMPLES)

    return run


def _encoded_lime(model, reference: pd.DataFrame, rows: pd.DataFrame):
    """LIME on the pipeline's encoded matrix with the final estimator (what a user gets without glue)."""
    from lime.lime_tabular import LimeTabularExplainer

    pipe = model.estimator
    prep, est = pipe[:-1], pipe[-1]
    ref = prep.transform(model.prepare(reference.sample(min(len(reference), 10_000), random_state=0)))
    names = list(prep.get_feature_names_out())
    lime = LimeTabularExplainer(
        np.asarray(ref, dtype=float),
        mode="classification",
        feature_names=names,
        discretize_continuous=True,
        random_state=0,
    )
    enc_rows = np.asarray(prep.transform(model.prepare(rows)), dtype=float)
    label = model.positive_index
    first = lime.explain_instance(
        enc_rows[0], est.predict_proba, labels=(label,), num_features=10, num_samples=SAMPLES
    )
    example = first.as_list(label)[0][0]

    def run(x: np.ndarray) -> None:
        for row in x:
            lime.explain_instance(
                row, est.predict_proba, labels=(label,), num_features=10, num_samples=SAMPLES
            )

    return run, enc_rows, len(names), example


def _print(rows: list[dict]) -> None:
    cols = [
        ("workbench", "workbench"),
        ("one_row", "wb 1 row/call"),
        ("wb_threads", "wb threads"),
        ("naive_glue", "naive glue"),
        ("encoded", "encoded LIME"),
        ("predict", "predict 5k"),
    ]
    for suffix, what in (("_s", "wall-clock time"), ("_cpu_s", "CPU time of this process")):
        print(f"\nLIME time per row at {SAMPLES:,} samples, {what} (median; goal <= {GOAL_S} s per row)\n")
        head = f"{'recipe':<24}" + "".join(f"{label:>15}" for _, label in cols) + f"{'glue/wb':>9}"
        print(head)
        print("-" * len(head))
        for r in rows:
            cells = "".join(f"{r[key + suffix]:>14.3f}s" for key, _ in cols)
            print(f"{r['recipe']:<24}{cells}{r['naive_glue' + suffix] / r['workbench' + suffix]:>8.1f}x")
    print("\ncolumns LIME perturbs and an example condition (workbench vs encoded LIME):")
    for r in rows:
        print(
            f"  {r['recipe']:<24} {r['lime_columns']:>3} {r['example']!r:<28} vs {r['encoded_columns']:>3} "
            f"{r['encoded_example']!r}"
        )
    print(
        f"\nexplainer built once per (model, reference) in {min(r['explainer_build_s'] for r in rows):.2f}-"
        f"{max(r['explainer_build_s'] for r in rows):.2f} s; 1-minute load average during the runs: "
        + ", ".join(f"{r['load_average']:.1f}" for r in rows)
        + f" (on {os.cpu_count()} cores)"
    )
    for unit, suffix in (("wall-clock", "_s"), ("CPU", "_cpu_s")):
        slow = [r["recipe"] for r in rows if r["workbench" + suffix] > GOAL_S]
        print(
            f"goal <= {GOAL_S} s per row ({unit}): "
            + ("met for every recipe" if not slow else "NOT met for " + ", ".join(slow))
        )


if __name__ == "__main__":
    raise SystemExit(main())
