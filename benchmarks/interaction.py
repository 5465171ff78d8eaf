"""Panel interactions: the threshold slider on 100k rows, and explaining a picked row with LIME.

(1) Threshold slider (EvaluatePanel): the time from a slider value change to
    the updated confusion matrix and cost (the observer updates the drawn
    ``FigureWidget`` heatmap in place and the figures beside it), in-process,
    on 100,000 evaluated rows (UCI Adult's test split resampled), against
    what a user would otherwise write on each move:
    - ``sklearn on cached scores``: ``confusion_matrix(y, proba >= t)`` plus the
      cost over every row (the scores kept from one ``predict_proba``);
    - ``re-predict``: ``model.predict_proba(data)`` then the same (a callback
      that scores again on every move).
    Goal: <= 100 ms per move.
(2) LIME (ExplainPanel): the time from "Explain row" (a chosen row, 5,000
    LIME samples) to the drawn explanation chart, per row, against calling
    ``explain_local`` directly (the panel's overhead) and against the goal of
    0.2 s per row. ``benchmarks/explain.py`` compares the explainer itself with
    naive LIME glue per recipe.

Medians over interleaved repeats; the 1-minute load average is printed (2 shared cores).

Usage: .venv/bin/python benchmarks/interaction.py [--rows 100000] [--moves 60] [--lime-rows 6]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--rows", type=int, default=100_000, help="evaluated rows behind the slider (default 100000)"
    )
    ap.add_argument("--moves", type=int, default=60, help="slider moves timed (default 60)")
    ap.add_argument("--lime-rows", type=int, default=6, help="rows explained through the panel (default 6)")
    ap.add_argument(
        "--recipe", default="hist_gradient_boosting", help="model recipe (default hist_gradient_boosting)"
    )
    args = ap.parse_args()
    if args.rows < 1000 or args.moves < 5 or args.lime_rows < 1:
        ap.error("--rows >= 1000, --moves >= 5 and --lime-rows >= 1")

    from sklearn.metrics import confusion_matrix

    import workbench as wb
    from workbench.explain import explain_local
    from workbench.widgets import AppState, EvaluatePanel, ExplainPanel

    print(f"load average (1 min): {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    demo = wb.load_demo("adult")
    result = wb.train(demo.train, demo.spec, recipes=[args.recipe], validation=demo.test, quick=True)
    model = result.champion
    data = demo.test.sample(args.rows, replace=True, random_state=0).reset_index(drop=True)
    cost = {"fn": 10.0, "fp": 1.0}
    t0 = time.perf_counter()
    ev = wb.evaluate(model, data, cost=cost, latency=False)
    print(
        f"{args.recipe}: evaluated {len(data):,} rows in {time.perf_counter() - t0:.1f} s (once, before the "
        "slider moves)"
    )

    # -- (1) the slider ---------------------------------------------------------------------------
    state = AppState(run_in_thread=False)
    panel = EvaluatePanel(state)
    state.evaluation = ev
    y = (data[demo.spec.target] == demo.spec.positive_label).to_numpy()
    scores = model.predict_proba(data)[:, 1]
    rng = np.random.default_rng(0)
    thresholds = rng.uniform(0.05, 0.95, args.moves)
    timings: dict[str, list[float]] = {"panel slider": [], "sklearn on cached scores": [], "re-predict": []}
    checked = 0
    for i, t in enumerate(thresholds):
        start = time.perf_counter()
        panel.threshold.value = float(t)
        timings["panel slider"].append(time.perf_counter() - start)
        start = time.perf_counter()
        tn, fp, fn, tp = confusion_matrix(y, scores >= t, labels=[False, True]).ravel()
        _ = cost["fn"] * fn + cost["fp"] * fp
        timings["sklearn on cached scores"].append(time.perf_counter() - start)
        if i % max(1, args.moves // 10) == 0:  # re-predicting is slow: time it on every tenth move
            start = time.perf_counter()
            s = model.predict_proba(data)[:, 1]
            confusion_matrix(y, s >= t, labels=[False, True])
            timings["re-predict"].append(time.perf_counter() - start)
        shown = panel.confusion.figure.data[0].z
        assert [list(r) for r in shown] == [[tn, fp], [fn, tp]], "the panel shows another matrix than sklearn"
        checked += 1
    base = statistics.median(timings["panel slider"])
    print(
        f"\n(1) threshold slider on {len(data):,} rows ({args.moves} moves; the panel's matrix equalled "
        f"sklearn's on all {checked}):"
    )
    print(f"{'':<28}{'median ms':>10}{'p95 ms':>9}{'x panel':>9}")
    for name, xs in timings.items():
        med, p95 = statistics.median(xs), float(np.percentile(xs, 95))
        print(f"{name:<28}{med * 1e3:>10.2f}{p95 * 1e3:>9.2f}{med / base:>9.1f}")
    print(f"goal <= 100 ms per move: {'met' if base <= 0.1 else 'NOT met'}")

    # -- (2) LIME through the panel ------------------------------------------------------------------
    state = AppState(run_in_thread=False)
    state.data, state.validation, state.spec, state.model = demo.train, demo.test, demo.spec, model
    explain = ExplainPanel(state)
    explain.samples.value = 5000
    rows = demo.test.sample(args.lime_rows, random_state=1).index
    explain.row.value = str(rows[0])  # warm-up: builds the explainer once, as the first click does
    explain.explain_button.click()
    lime_panel, lime_direct = [], []
    for label in rows:
        explain.row.value = str(label)
        cpu, start = time.process_time(), time.perf_counter()
        explain.explain_button.click()
        lime_panel.append((time.perf_counter() - start, time.process_time() - cpu))
        assert not explain.banner.value, explain.banner.value
        cpu, start = time.process_time(), time.perf_counter()
        explain_local(model, demo.test.loc[[label]], reference=demo.train, num_samples=5000, random_state=0)
        lime_direct.append((time.perf_counter() - start, time.process_time() - cpu))
    pw, pc = (statistics.median(x[i] for x in lime_panel) for i in (0, 1))
    dw, dc = (statistics.median(x[i] for x in lime_direct) for i in (0, 1))
    print(f"\n(2) LIME, one picked row at 5,000 samples ({args.recipe}; {len(rows)} rows; medians):")
    print(f"{'':<28}{'wall s':>9}{'cpu s':>9}")
    print(f"{'panel: click -> chart':<28}{pw:>9.3f}{pc:>9.3f}")
    print(f"{'explain_local directly':<28}{dw:>9.3f}{dc:>9.3f}")
    print(
        f"panel overhead: {pw / dw:.2f}x; goal <= 0.2 s per row: "
        f"{'met' if pw <= 0.2 else ('met in CPU time' if pc <= 0.2 else 'NOT met')}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
