"""Figures for training and evaluation results."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import plotly.graph_objects as go

from workbench.viz._empty import no_data
from workbench.viz._layout import diagonal, layout, reliability, text_heatmap

_LAYOUT = layout()


def leaderboard_figure(rows: Sequence[Mapping], metric: str, champion: str | None = None) -> go.Figure:
    """Candidates' main metric against single-row latency (bubble = model size)."""
    if not rows:
        return no_data("No candidate model to compare.", "Candidates")
    names = [r["name"] for r in rows]
    fig = go.Figure(
        go.Scatter(
            x=[r.get("latency_p50_us") for r in rows],
            y=[r.get(metric) for r in rows],
            text=names,
            mode="markers+text",
            textposition="top center",
            marker=dict(
                size=[max(10.0, min(60.0, (r.get("size_bytes") or 0) ** 0.5 / 40)) for r in rows],
                color=["#d62728" if n == champion else "#1f77b4" for n in names],
                opacity=0.8,
            ),
            customdata=[[r.get("size_bytes"), r.get("fit_time_s")] for r in rows],
            hovertemplate="%{text}<br>" + metric + " %{y:.4f}<br>latency %{x:.0f} µs"
            "<br>size %{customdata[0]:,} B<br>fit %{customdata[1]:.1f} s<extra></extra>",
        )
    )
    fig.update_layout(
        title=f"Candidates: {metric} vs single-row latency (champion in red)",
        xaxis_title="single-row latency p50 (µs, log)",
        yaxis_title=metric,
        xaxis_type="log",
        **_LAYOUT,
    )
    ys = [float(r[metric]) for r in rows if isinstance(r.get(metric), int | float)]
    if ys:  # plotly pads one point (or close ones) to a range from 0: frame the candidates instead
        pad = max(0.01, (max(ys) - min(ys)) * 0.25)
        fig.update_yaxes(range=[min(ys) - pad, max(ys) + pad])
    return fig


def roc_figure(curve: Mapping, auc: float | None = None) -> go.Figure:
    """The ROC curve from ``{"fpr", "tpr"}`` (a figure saying why when it is empty), AUC in the title."""
    if not _has(curve, "fpr", "tpr"):
        return no_data("No ROC curve: it needs labels of both classes.", "ROC curve")
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=curve["fpr"], y=curve["tpr"], mode="lines", name="model"))
    fig.add_trace(diagonal("chance"))
    title = "ROC curve" + (f" (AUC {auc:.4f})" if auc is not None else "")
    fig.update_layout(
        title=title, xaxis_title="false positive rate", yaxis_title="true positive rate", **_LAYOUT
    )
    return fig


def pr_figure(curve: Mapping, ap: float | None = None, base_rate: float | None = None) -> go.Figure:
    """The precision-recall curve from ``{"recall", "precision"}``, with the base rate as a line."""
    if not _has(curve, "recall", "precision"):
        return no_data(
            "No precision-recall curve: it needs labels of both classes.", "Precision-recall curve"
        )
    fig = go.Figure(go.Scatter(x=curve["recall"], y=curve["precision"], mode="lines", name="model"))
    if base_rate is not None:
        fig.add_hline(y=base_rate, line_dash="dash", line_color="gray", annotation_text="base rate")
    title = "Precision-recall curve" + (f" (AP {ap:.4f})" if ap is not None else "")
    fig.update_layout(title=title, xaxis_title="recall", yaxis_title="precision", **_LAYOUT)
    return fig


def calibration_figure(curve: Mapping) -> go.Figure:
    """Observed positive rate against mean predicted probability per bin, beside the diagonal."""
    if not _has(curve, "mean_predicted", "fraction_positive"):
        return no_data("No calibration curve: no predicted probabilities to bin.", "Calibration")
    fig = go.Figure()
    fig.add_trace(reliability(curve, "model", mode="lines+markers", x_label="predicted"))
    fig.add_trace(diagonal("perfect"))
    fig.update_layout(
        title="Calibration",
        xaxis_title="mean predicted probability",
        yaxis_title="observed positive rate",
        **_LAYOUT,
    )
    return fig


def confusion_figure(
    matrix: Sequence[Sequence[int]], labels: Sequence, title: str = "Confusion matrix"
) -> go.Figure:
    """The confusion matrix as a heatmap (rows actual, columns predicted), counts and shares."""
    return _matrix_figure(matrix, labels, title, empty="No confusion matrix: no labelled rows.", count="{:,}")


def _matrix_figure(
    matrix: Sequence[Sequence[float]],
    labels: Sequence,
    title: str,
    *,
    empty: str,
    count: str,
    yaxis_title: str = "actual",
    **heatmap,
) -> go.Figure:
    """A confusion matrix (rows actual, columns predicted) as a heatmap, each cell its count written with
    the format `count` and its share (the sentence `empty` when it has no cell); `heatmap` adds to the
    trace (a hover template)."""
    if not matrix or not any(len(r) for r in matrix):
        return no_data(empty, title)
    labels = [str(x) for x in labels]
    total = sum(sum(r) for r in matrix) or 1
    text = [[f"{count.format(v)}<br>({v / total:.1%})" for v in row] for row in matrix]
    fig = go.Figure(text_heatmap(matrix, labels, labels, text, showscale=False, **heatmap))
    fig.update_layout(
        title=title, xaxis_title="predicted", yaxis_title=yaxis_title, yaxis_autorange="reversed", **_LAYOUT
    )
    return fig


def cost_curve_figure(curve: Mapping, threshold: float | None = None) -> go.Figure:
    """Business cost by decision threshold from ``{"threshold", "cost"}``, the threshold marked."""
    if not _has(curve, "threshold", "cost"):
        return no_data(
            "No cost curve: no costs were given for the decisions.", "Business cost by decision threshold"
        )
    fig = go.Figure(go.Scatter(x=curve["threshold"], y=curve["cost"], mode="lines", name="cost"))
    if threshold is not None:
        fig.add_vline(x=threshold, line_dash="dash", line_color="#d62728", annotation_text="threshold")
    fig.update_layout(
        title="Business cost by decision threshold",
        xaxis_title="threshold",
        yaxis_title="total cost",
        **_LAYOUT,
    )
    return fig


def slices_figure(
    slices: Sequence[Mapping], metric: str, overall: float | None = None, top: int = 15
) -> go.Figure:
    """The `top` weakest slices by `metric` as bars, the overall value as a line."""
    rows = [s for s in slices if s.get(metric) is not None][:top]
    if not rows:
        return no_data(f"No slice has enough rows to judge its {metric}.", f"Weakest slices by {metric}")
    labels = [f"{s['column']} = {s['value']}" for s in rows][::-1]
    values = [s[metric] for s in rows][::-1]
    fig = go.Figure(
        go.Bar(
            x=values,
            y=labels,
            orientation="h",
            customdata=[s["count"] for s in rows][::-1],
            hovertemplate="%{y}<br>" + metric + " %{x:.4f}<br>rows %{customdata}<extra></extra>",
        )
    )
    if overall is not None:
        fig.add_vline(x=overall, line_dash="dash", line_color="gray", annotation_text="overall")
    fig.update_layout(
        title=f"Weakest slices by {metric}",
        xaxis_title=metric,
        **layout(left=220, height=max(300, 24 * len(rows) + 120)),
    )
    return fig


def regression_figure(curve: Mapping) -> go.Figure:
    """Mean actual value per bin of predicted value (binned: no raw rows)."""
    if not _has(curve, "mean_predicted", "mean_actual"):
        return no_data("No predictions to compare with actual values.", "Predicted vs actual (binned)")
    fig = go.Figure(
        go.Scatter(
            x=curve["mean_predicted"],
            y=curve["mean_actual"],
            mode="lines+markers",
            name="model",
            customdata=curve.get("count"),
            hovertemplate="predicted %{x:.4g}<br>actual %{y:.4g}<br>rows %{customdata}<extra></extra>",
        )
    )
    lo = min(curve["mean_predicted"] + curve["mean_actual"])
    hi = max(curve["mean_predicted"] + curve["mean_actual"])
    fig.add_trace(
        go.Scatter(x=[lo, hi], y=[lo, hi], mode="lines", line=dict(dash="dash", color="gray"), name="ideal")
    )
    fig.update_layout(
        title="Predicted vs actual (binned)",
        xaxis_title="mean predicted",
        yaxis_title="mean actual",
        **_LAYOUT,
    )
    return fig


def _has(curve: Mapping | None, *keys: str) -> bool:
    """Whether `curve` holds a point to draw under each of `keys`."""
    return bool(curve) and all(len(curve.get(k) or []) > 0 for k in keys)
