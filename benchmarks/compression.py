"""Compression on UCI Adult: each recipe's original pipeline against the study's chosen variant.

For every recipe (logistic regression, random forest, histogram gradient
boosting; full-size settings, trained on Adult's official training split),
``compress(model, train, validation=test)`` runs the whole study with the
default budget (0.005 ROC AUC). Then, in one process and in interleaved
rounds, the original and the chosen variant are timed the way users call them
(``predict_proba`` on a one-row DataFrame; batches of 10,000 rows), and the
table shows medians:

- single-row p50 latency, original and chosen, and the ratio. The original is
  timed twice: as it comes (scikit-learn's default threads) and with its
  OpenMP/BLAS pools limited to one thread, which is its best single-row
  setting on a busy machine (HistGradientBoosting's OpenMP barriers cost tens
  of milliseconds per call when cores are shared). The ratio is against the
  faster of the two, so it is never flattered by a thread pool;
- artifact size on disk (the saved, compressed ``.wbm`` files) and the ratio;
- batch throughput and the ratio; ROC AUC of both on the test split and the change.

A second table proves the hand-written DataFrame-to-tensor path of
``OnnxModel``: one-row ``predict_proba`` through the fast path against the
same model fed through ``prepare_frame`` (the general path), and the
conversion alone.

Goals (issue 5), at <= 0.005 AUC loss: >= 50x lower single-row p50 latency for
every recipe; >= 5x smaller artifacts for the tree ensembles (the linear
model's size is reported, not chased).

Usage: .venv/bin/python benchmarks/compression.py [--recipes random_forest] [--rounds 5] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RECIPES = ("logistic_regression", "random_forest", "hist_gradient_boosting")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--recipes", default=",".join(RECIPES), help="comma-separated recipes (default: all three)"
    )
    ap.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds (median reported)")
    ap.add_argument("--out", help="keep the studies' outputs here (default: a temporary folder)")
    ap.add_argument("--json", help="also write the figures to this JSON file")
    args = ap.parse_args()
    warnings.simplefilter("ignore")

    from workbench.data import load_demo

    demo = load_demo("adult")
    out_root = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="wb-compression-bench-"))
    rows, conversions = [], []
    for recipe in args.recipes.split(","):
        t0 = time.perf_counter()
        model = _fit(recipe, demo)
        fit_s = time.perf_counter() - t0
        from workbench.compression import compress

        t0 = time.perf_counter()
        result = compress(model, demo.train, validation=demo.test, out=out_root / recipe, progress=True)
        study_s = time.perf_counter() - t0
        print(
            f"\n{recipe}: fitted in {fit_s:.0f} s, study in {study_s:.0f} s; chosen {result.chosen}",
            flush=True,
        )
        for v in result.variants:
            print(
                f"  {'*' if v.name == result.chosen else ' '} {v.name:<52} auc {_f(v.score)}  "
                f"{v.size_bytes or 0:>11,} B  p50 {v.latency_p50_us or 0:>10,.0f} µs  {v.reason}"
            )
        rows.append(_side_by_side(recipe, result, demo.test, args.rounds))
        if result.chosen_variant.kind == "onnx":
            conversions.append(_conversion(recipe, result.chosen_model, demo.test, args.rounds))
    _print(rows, conversions)
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "conversions": conversions}, indent=2))
    print(f"\nstudies written to {out_root}")
    return 0


def _fit(recipe: str, demo):
    """The recipe's full-size pipeline, as train() fits it (parallel fit, single-threaded predict)."""
    from workbench.data import prepare_frame
    from workbench.data._spec import target_values
    from workbench.modeling.artifact import Model
    from workbench.modeling.train import build_pipeline

    spec = demo.spec
    pipe = build_pipeline(recipe, spec, quick=False, random_state=0)
    pipe.fit(
        prepare_frame(demo.train, spec).rename(columns=spec.model_names), target_values(demo.train, spec)
    )
    est = pipe.named_steps["model"]
    if "n_jobs" in est.get_params():
        est.set_params(n_jobs=1)
    return Model(pipe, spec, meta={"recipe": recipe}, name=recipe)


def _side_by_side(recipe: str, result, test, rounds: int) -> dict:
    """Original (default threads and one thread) and chosen variant, timed in the same rounds."""
    from threadpoolctl import threadpool_limits

    from workbench.compression._measure import time_variants

    original, chosen = result.model("original"), result.chosen_model
    p50 = {"original": [], "original_1thread": [], "chosen": []}
    thr = {"original": [], "chosen": []}
    for _ in range(rounds):
        lat = time_variants({"original": original, "chosen": chosen}, test, seconds=2.0, rounds=1)
        with threadpool_limits(1):
            one = time_variants({"original": original}, test, seconds=1.0, rounds=1, batch_rows=1000)
        for k in ("original", "chosen"):
            p50[k].append(lat[k]["p50_us"])
            thr[k].append(lat[k]["throughput_rows_s"])
        p50["original_1thread"].append(one["original"]["p50_us"])
    med = {k: statistics.median(v) for k, v in p50.items()}
    best_original = min(med["original"], med["original_1thread"])
    o, c = result.original, result.chosen_variant
    from sklearn.metrics import roc_auc_score

    from workbench.data._spec import target_values

    y = (target_values(test, original.spec) == original.spec.positive_label).to_numpy()
    auc_o = roc_auc_score(y, original.predict_score(test))
    auc_c = roc_auc_score(y, chosen.predict_score(test))
    return {
        "recipe": recipe,
        "chosen": result.chosen,
        "p50_original_us": med["original"],
        "p50_original_1thread_us": med["original_1thread"],
        "p50_chosen_us": med["chosen"],
        "latency_ratio": best_original / med["chosen"],
        "size_original": o.size_bytes,
        "size_chosen": c.size_bytes,
        "size_ratio": o.size_bytes / c.size_bytes,
        "throughput_original": statistics.median(thr["original"]),
        "throughput_chosen": statistics.median(thr["chosen"]),
        "throughput_ratio": statistics.median(thr["chosen"]) / statistics.median(thr["original"]),
        "auc_original": auc_o,
        "auc_chosen": auc_c,
        "auc_change": auc_c - auc_o,
    }


def _conversion(recipe: str, onnx_model, test, rounds: int) -> dict:
    """The fast DataFrame-to-tensor path against the general one, on the same ONNX model."""
    row = test.iloc[:1]
    session = onnx_model._session

    def timed(fn, n=300):
        fn()
        out = []
        for _ in range(n):
            t0 = time.perf_counter_ns()
            fn()
            out.append(time.perf_counter_ns() - t0)
        return statistics.median(out) / 1e3

    def general():  # what predict_proba would cost through prepare_frame
        return session.run(onnx_model._output, onnx_model._feed_frame(row))

    figures = {
        "fast_predict_us": [],
        "general_predict_us": [],
        "fast_feed_us": [],
        "general_feed_us": [],
        "run_only_us": [],
    }
    feed = onnx_model._feed_small(row)
    for _ in range(rounds):
        figures["fast_predict_us"].append(timed(lambda: onnx_model.predict_proba(row)))
        figures["general_predict_us"].append(timed(general))
        figures["fast_feed_us"].append(timed(lambda: onnx_model._feed_small(row)))
        figures["general_feed_us"].append(timed(lambda: onnx_model._feed_frame(row)))
        figures["run_only_us"].append(timed(lambda: session.run(onnx_model._output, feed)))
    return {"recipe": recipe, **{k: statistics.median(v) for k, v in figures.items()}}


def _print(rows: list[dict], conversions: list[dict]) -> None:
    print(
        "\nOriginal pipeline vs chosen variant on UCI Adult "
        "(test split, 16,281 rows; medians of interleaved rounds)"
    )
    head = (
        f"{'recipe':<24} {'p50 orig µs':>11} {'(1 thread)':>10} {'p50 chosen':>10} {'ratio':>7} "
        f"{'size orig':>11} {'size chosen':>11} {'ratio':>6} {'rows/s orig':>11} {'chosen':>9} {'ratio':>6} "
        f"{'AUC orig':>8} {'chosen':>7} {'Δ AUC':>8}  chosen variant"
    )
    print(head)
    for r in rows:
        print(
            f"{r['recipe']:<24} {r['p50_original_us']:>11,.0f} {r['p50_original_1thread_us']:>10,.0f} "
            f"{r['p50_chosen_us']:>10,.0f} {r['latency_ratio']:>6,.0f}x "
            f"{r['size_original']:>11,} {r['size_chosen']:>11,} {r['size_ratio']:>5.1f}x "
            f"{r['throughput_original']:>11,.0f} {r['throughput_chosen']:>9,.0f} "
            f"{r['throughput_ratio']:>5.1f}x "
            f"{r['auc_original']:>8.4f} {r['auc_chosen']:>7.4f} {r['auc_change']:>+8.4f}  {r['chosen']}"
        )
    goals = [r for r in rows if r["latency_ratio"] >= 50 and r["auc_change"] >= -0.005]
    trees = [r for r in rows if r["recipe"] != "logistic_regression"]
    print(
        f"\nlatency goal (>= 50x at <= 0.005 AUC loss): {len(goals)}/{len(rows)} recipes; "
        f"size goal (>= 5x, tree ensembles): {sum(r['size_ratio'] >= 5 for r in trees)}/{len(trees)}"
    )
    if conversions:
        print("\nDataFrame-to-tensor conversion of a one-row frame (µs, medians): fast path vs prepare_frame")
        print(
            f"{'recipe':<24} {'predict fast':>12} {'via prepare_frame':>17} {'feed fast':>9} "
            f"{'feed prepare_frame':>18} {'onnxruntime run':>15}"
        )
        for c in conversions:
            print(
                f"{c['recipe']:<24} {c['fast_predict_us']:>12,.0f} {c['general_predict_us']:>17,.0f} "
                f"{c['fast_feed_us']:>9,.0f} {c['general_feed_us']:>18,.0f} {c['run_only_us']:>15,.0f}"
            )


def _f(v) -> str:
    return "   —  " if v is None else f"{v:.4f}"


if __name__ == "__main__":
    raise SystemExit(main())
