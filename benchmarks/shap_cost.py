"""SHAP's cost on UCI Adult: exact tree SHAP against the kernel explainer, one row and 1,000 rows per recipe.

For every recipe (logistic regression, random forest, histogram gradient
boosting; trained on Adult's official training split, full-size settings
unless ``--quick``), rows of the test split are explained with:

- ``tree``: exact tree SHAP (``shap.TreeExplainer`` on the pipeline's final
  estimator; the tree recipes only), what ``method="auto"`` picks for them;
- ``kernel``: ``shap.KernelExplainer`` on the original columns with the
  workbench defaults (50 background rows from the training split, 500
  coalitions per row), what ``method="auto"`` picks for the other recipes.

"one row" is :func:`workbench.explain.explain_shap` on a single row (the
explainer is built in the call, as a panel does it), the median of
``--rounds`` different rows; "1,000 rows" is
:func:`workbench.explain.shap_summary` over 1,000 rows (``compare=False``).
The kernel explainer costs ``nsamples x background`` model rows per row, so
its 1,000-row time is measured on ``--kernel-rows`` rows (default 20) and
scaled to 1,000 (marked ``est.``); ``--kernel-rows 1000`` measures it fully.
Wall-clock and this process's CPU time are both shown: on a shared machine
(the 1-minute load average is printed) the wall clock includes waiting for a core.

Usage: .venv/bin/python benchmarks/shap_cost.py [--quick] [--rounds 5] [--kernel-rows 20] [--recipes ...]
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
N_ROWS = 1000


def main() -> int:
    from benchmarks.explain import recipes_parser, trained_on_adult
    from workbench.explain._shap import tree_parts

    ap = recipes_parser(__doc__)
    ap.add_argument("--rounds", type=int, default=5, help="single rows timed (median)")
    ap.add_argument(
        "--kernel-rows", type=int, default=20, help="rows the kernel's 1,000-row time is scaled from"
    )
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    out = []
    for demo, recipe, model in trained_on_adult(args.recipes.split(","), quick=args.quick):
        test = demo.test.sample(N_ROWS, random_state=7)
        row = {"recipe": recipe}
        methods = ["tree", "kernel"] if tree_parts(model) is not None else ["kernel"]
        for method in methods:
            row[method] = _measure(model, demo.train, test, method, args.rounds, args.kernel_rows)
            print(f"  {method}: {row[method]}", flush=True)
        row["load_average"] = os.getloadavg()[0]
        out.append(row)
    _print(out, args.kernel_rows)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))
    return 0


def _measure(model, reference, test, method: str, rounds: int, kernel_rows: int) -> dict:
    from workbench.explain import explain_shap, shap_summary

    one, one_cpu = [], []
    for i in range(rounds):
        w, c = time.perf_counter(), time.process_time()
        explain_shap(model, test, rows=[test.index[i]], reference=reference, method=method)
        one.append(time.perf_counter() - w)
        one_cpu.append(time.process_time() - c)
    n = N_ROWS if method == "tree" else min(kernel_rows, N_ROWS)
    w, c = time.perf_counter(), time.process_time()
    shap_summary(model, test.iloc[:n], reference=reference, method=method, max_rows=n, compare=False)
    wall, cpu = time.perf_counter() - w, time.process_time() - c
    scale = N_ROWS / n
    return {
        "one_row_s": statistics.median(one),
        "one_row_cpu_s": statistics.median(one_cpu),
        "rows_s": wall * scale,
        "rows_cpu_s": cpu * scale,
        "measured_rows": n,
    }


def _print(rows: list[dict], kernel_rows: int) -> None:
    for suffix, what in (("_s", "wall-clock"), ("_cpu_s", "CPU time of this process")):
        print(f"\nSHAP on Adult, {what} (medians of single rows; 1,000 rows in one call)\n")
        head = (
            f"{'recipe':<24}{'tree 1 row':>12}{'kernel 1 row':>14}{'ratio':>8}"
            f"{'tree 1,000':>13}{'kernel 1,000':>16}{'ratio':>8}"
        )
        print(head)
        print("-" * len(head))
        for r in rows:
            t, k = r.get("tree"), r["kernel"]
            est = " est." if k["measured_rows"] < N_ROWS else "     "
            cells = [
                _s(t and t["one_row" + suffix]),
                _s(k["one_row" + suffix], 14),
                _ratio(k["one_row" + suffix], t and t["one_row" + suffix]),
                _s(t and t["rows" + suffix], 13),
                _s(k["rows" + suffix], 11) + est,
                _ratio(k["rows" + suffix], t and t["rows" + suffix]),
            ]
            print(f"{r['recipe']:<24}" + "".join(cells))
    print(
        f"\nkernel: 50 background rows, 500 coalitions per row; 'est.': scaled from {kernel_rows} rows. "
        "1-minute load average during the runs: "
        + ", ".join(f"{r['load_average']:.1f}" for r in rows)
        + f" (on {os.cpu_count()} cores)"
    )


def _s(v, width: int = 12) -> str:
    return f"{'-':>{width}}" if v is None else f"{v:>{width - 1}.3f}s"


def _ratio(kernel, tree) -> str:
    return f"{'-':>8}" if not tree else f"{kernel / tree:>7.0f}x"


if __name__ == "__main__":
    raise SystemExit(main())
