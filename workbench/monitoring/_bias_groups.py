"""One table's groups and rates for :func:`workbench.monitoring.bias.assess_bias`.

MetricFrame point estimates, bootstrap intervals.
Private: import the public names from :mod:`workbench.monitoring.bias`.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Mapping, Sequence

import numpy as np

from workbench._json import finite as _num
from workbench._lazy import lazy
from workbench.data._spec import target_values
from workbench.errors import DataError, ParameterError
from workbench.monitoring._bias_definitions import (
    _MAX_DRAWS,
    _MISSING,
    _SEP,
    CELLS,
    DISPARITIES,
    RATES,
)
from workbench.monitoring._bias_inputs import (
    _as_positive,
    _group_codes,
    _group_order,
    _unravel,
)
from workbench.monitoring._bias_numbers import _ci
from workbench.monitoring._bias_records import AttributeResult

pd = lazy("pandas")


# -- one table: predictions, labels, groups -------------------------------------------
class _Table:
    """Decisions (`pred`), labels (`label`: 0, 1, or 2 unknown) and sensitive values of one table."""

    def __init__(self, pred, label, score, sensitive, model_name, threshold):
        self.pred, self.label, self.score = pred, label, score
        self.sensitive, self.model_name, self.threshold = sensitive, model_name, threshold
        self.n = len(pred)
        self.n_labelled = int(np.sum(label < 2))

    @classmethod
    def build(cls, data, spec, model, predictions, sens, where) -> _Table:
        if not isinstance(data, pd.DataFrame):
            raise DataError(f"{where} must be a pandas DataFrame")
        if data.empty:
            raise DataError(f"{where} has no rows")
        for c in sens:
            if c not in data.columns:
                raise DataError(f"the sensitive column '{c}' is missing from {where}")
        positive = spec.positive_label
        score = None
        if model is not None:
            score = np.asarray(model.predict_score(data), dtype=float)
            threshold = float(model.threshold)
            pred = score >= threshold
            name = getattr(model, "name", "model")
        else:
            if predictions is None:
                predictions = spec.prediction if spec.prediction and spec.prediction in data.columns else None
                if predictions is None:
                    raise ParameterError("bias analysis needs predictions: pass model= or predictions=")
            if isinstance(predictions, str):
                if predictions not in data.columns:
                    raise DataError(f"the prediction column '{predictions}' is missing from {where}")
                predictions = data[predictions]
            pred = _as_positive(predictions, spec, where)
            if len(pred) != len(data):
                raise DataError(f"there are {len(pred):,} predictions for the {len(data):,} rows of {where}")
            threshold, name = None, "given predictions"
        label = np.full(len(data), 2, dtype=np.int64)
        if spec.target is not None and spec.target in data.columns:
            y = target_values(data, spec, where=where)
            known = y.notna().to_numpy()
            label[known] = (y[known] == positive).to_numpy().astype(np.int64)
        sensitive = {c: _group_codes(data[c]) for c in sens}
        return cls(pred.astype(bool), label, score, sensitive, name, threshold)

    def groups(self, cols: Sequence[str]) -> tuple[np.ndarray, list[str], dict[str, dict]]:
        """Group codes of the rows (into a sorted vocabulary), the vocabulary, and each group's values."""
        code, names = self.sensitive[cols[0]]
        parts = [names]
        for c in cols[1:]:
            ci, ni = self.sensitive[c]
            code, parts = code * len(ni) + ci, [*parts, ni]
        present, code = np.unique(code, return_inverse=True)
        rows = [
            [p[int(k)] for p, k in zip(parts, _unravel(int(v), [len(p) for p in parts]), strict=True)]
            for v in present
        ]
        labels = [_SEP.join(r) for r in rows]
        order = sorted(range(len(labels)), key=lambda i: _group_order(labels[i]))
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        vocab = [labels[i] for i in order]
        values = {labels[i]: dict(zip(cols, rows[i], strict=True)) for i in range(len(labels))}
        return rank[code.ravel()], vocab, values

    def cell_counts(self, codes: np.ndarray, n_groups: int) -> np.ndarray:
        """(groups, 6) counts of the confusion cells (see CELLS) per group."""
        cell = codes * 6 + self.label * 2 + self.pred
        return np.bincount(cell, minlength=6 * n_groups).reshape(n_groups, 6)

    def overall(self) -> dict:
        c = np.bincount(self.label * 2 + self.pred, minlength=6).reshape(1, 6)
        r = {k: _num(v[0]) for k, v in _rates(c).items()}
        r.update(count=self.n, n_labelled=self.n_labelled, roc_auc=None)
        lab = self.label < 2
        if self.score is not None and 0 < self.label[lab].sum() < lab.sum():
            r["roc_auc"] = _auc(self.label[lab], self.score[lab])
        return r


def _attributes(
    table: _Table, sens: list[str], intersections: bool, notes: list[str], where: str
) -> list[tuple]:
    usable = []
    for c in sens:
        codes, values = table.sensitive[c]
        if len(values) >= 20 and len(values) >= 0.9 * len(
            codes
        ):  # one group per row: an identifier (SSN-like)
            what = (
                f"the sensitive column '{c}' has a different value in nearly every row of {where}: it "
                "identifies people rather than grouping them"
            )
            if len(sens) == 1:
                raise DataError(what + " (its values are not listed)")
            notes.append(what[0].upper() + what[1:] + ", so it was not compared (its values are not listed).")
            continue
        if len(values) < 2:
            if len(sens) == 1:
                raise DataError(
                    f"the sensitive column '{c}' has a single group ('{values[0]}') in {where}; "
                    "a bias analysis needs at least two groups to compare"
                )
            notes.append(
                f"The sensitive column '{c}' has a single group ('{values[0]}') in {where}, so it "
                "was not compared."
            )
            continue
        usable.append(c)
    if not usable:
        raise DataError(f"every sensitive column has a single group in {where}; there is nothing to compare")
    attrs = [(c, [c]) for c in usable]
    if intersections:
        attrs += [(f"{a}+{b}", [a, b]) for a, b in itertools.combinations(usable, 2)]
    return attrs


# -- per attribute: MetricFrame point estimates, bootstrap intervals -------------------
def _assess_attribute(name, cols, vocab, values, counts, table, codes, min_size, n_boot, confidence, rng):
    by_group = _metric_frame(counts, vocab)
    judged = _judged(counts, min_size)
    point = {m: np.array([by_group.get(g, {}).get(m, np.nan) for g in vocab], dtype=float) for m in RATES}
    point["impact_ratio"] = _impact(point["selection_rate"], judged["selection_rate"])
    reps = _bootstrap_rates(counts, n_boot, rng) if n_boot else None
    if reps is not None:
        reps["impact_ratio"] = _impact(reps["selection_rate"], judged["selection_rate"])
    # the comparison with a reference redraws from the counts, so nothing else needs keeping
    lo_q, hi_q = (1 - confidence) / 2, 1 - (1 - confidence) / 2
    auc = _group_auc(table, codes, vocab, counts, min_size)
    groups = []
    for k, g in enumerate(vocab):
        c = counts[k]
        rec = {
            "group": g,
            "values": values[g],
            "count": int(c.sum()),
            "n_labelled": int(c[:4].sum()),
            "n_positive": int(c[2] + c[3]),
            "n_predicted_positive": int(c[1] + c[3] + c[5]),
            "too_small": bool(c.sum() < min_size),
            "confusion": {cell: int(v) for cell, v in zip(CELLS, c, strict=True)},
            "unjudged": [m for m in RATES if not judged[m][k]],
        }
        for m in (*RATES, "impact_ratio"):
            rec[m] = _num(point[m][k])
            if reps is not None:
                ok = judged["selection_rate" if m == "impact_ratio" else m][k]
                rec[f"{m}_ci"] = _ci(reps[m][:, k], lo_q, hi_q) if ok and rec[m] is not None else None
        rec["roc_auc"] = auc.get(g)
        groups.append(rec)
    disp = {}
    for m in DISPARITIES:
        value, n_groups = _disparity(point, judged, m)
        d = {"value": _num(value[()]) if value is not None else None, "groups": n_groups}
        ci = (
            _ci(_disparity(reps, judged, m)[0], lo_q, hi_q)
            if reps is not None and value is not None
            else None
        )
        if ci is not None:
            d["ci"] = ci
        disp[m] = d
    favoured = None
    if judged["selection_rate"].any():
        sr = np.where(judged["selection_rate"], point["selection_rate"], -np.inf)
        favoured = vocab[int(np.argmax(sr))]
    order = np.argsort(-counts.sum(axis=1), kind="stable")
    rec = {
        "name": name,
        "columns": list(cols),
        "most_favoured": favoured,
        "groups": [groups[i] for i in order if groups[i]["group"] != _MISSING]
        + [g for g in groups if g["group"] == _MISSING],
        "disparities": disp,
    }
    return AttributeResult.from_dict(rec), {"vocab": vocab, "counts": counts}


def _metric_frame(counts: np.ndarray, vocab: list[str]) -> dict[str, dict]:
    """Per-group metrics from fairlearn's MetricFrame, run on the confusion cells weighted by their counts.

    Every metric here is a (weighted) mean over rows, so one row per cell
    weighted by its count gives exactly the per-row numbers, and MetricFrame's
    per-row overhead (seconds on a few thousand rows) does not grow with the data.
    """
    from fairlearn.metrics import MetricFrame, selection_rate

    k_idx, cell_idx = np.nonzero(counts)
    w = counts[k_idx, cell_idx].astype(float)
    groups = np.asarray(vocab, dtype=object)[k_idx]
    y_pred = (cell_idx % 2).astype(int)
    y_true = np.where(cell_idx < 4, cell_idx // 2, 0).astype(int)
    labelled = cell_idx < 4
    out: dict[str, dict] = {g: {} for g in vocab}
    frames = []
    everything = {"count": _weighted_count, "selection_rate": selection_rate}
    by_label = {
        "base_rate": _base_rate,
        "tpr": _tpr,
        "fpr": _fpr,
        "precision": _precision,
        "accuracy": _accuracy,
    }
    if labelled.all():  # one frame when every row is labelled (or none is)
        frames.append(({**everything, **by_label}, slice(None)))
    else:
        frames.append((everything, slice(None)))
        if labelled.any():
            frames.append((by_label, labelled))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for metrics, rows in frames:
            mf = MetricFrame(
                metrics=metrics,
                y_true=y_true[rows] if metrics is not everything else y_pred,
                y_pred=y_pred[rows],
                sensitive_features=groups[rows],
                sample_params={m: {"sample_weight": w[rows]} for m in metrics},
            )
            for g, row in mf.by_group.iterrows():
                out[str(g)].update({m: float(v) for m, v in row.items()})
    # a rate whose denominator is empty is undefined, whatever a library returns for it
    for k, g in enumerate(vocab):
        c = counts[k]
        for m, den in (("tpr", c[2] + c[3]), ("fpr", c[0] + c[1]), ("precision", c[1] + c[3])):
            if den == 0:
                out[g][m] = np.nan
    return out


def _weighted_count(y_true, y_pred, sample_weight):
    return float(np.sum(sample_weight))


def _base_rate(y_true, y_pred, sample_weight):
    return float(np.average(y_true, weights=sample_weight))


# fairlearn's true/false positive rates and scikit-learn's precision and accuracy give the
# same numbers (the tests check); their input validation, once per group and metric, was
# most of the analysis time.
def _tpr(y_true, y_pred, sample_weight):
    return _share(y_pred, sample_weight, y_true == 1)


def _fpr(y_true, y_pred, sample_weight):
    return _share(y_pred, sample_weight, y_true == 0)


def _precision(y_true, y_pred, sample_weight):
    return _share(y_true, sample_weight, y_pred == 1)


def _share(x, w, where):
    return float(np.average(x[where], weights=w[where])) if w[where].sum() > 0 else np.nan


def _accuracy(y_true, y_pred, sample_weight):
    return float(np.average(y_true == y_pred, weights=sample_weight))


def _judged(counts: np.ndarray, min_size: int) -> dict[str, np.ndarray]:
    """Which groups' rates are judged: a group needs min_size rows, each rate that many in its denominator."""
    n = counts.sum(axis=1)
    big = n >= min_size
    lab = counts[:, :4].sum(axis=1)
    return {
        "selection_rate": big,
        "base_rate": big & (lab >= min_size),
        "accuracy": big & (lab >= min_size),
        "tpr": big & (counts[:, 2] + counts[:, 3] >= min_size),
        "fpr": big & (counts[:, 0] + counts[:, 1] >= min_size),
        "precision": big & (counts[:, 1] + counts[:, 3] >= min_size),
    }


def _rates(c: np.ndarray) -> dict[str, np.ndarray]:
    """Per-group rates from cell counts of shape (..., groups, 6); NaN where a denominator is 0."""
    c = c.astype(float)
    tn, fp, fn, tp, un, up = (c[..., i] for i in range(6))
    n, lab, pos, neg = c.sum(-1), tn + fp + fn + tp, fn + tp, tn + fp
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "selection_rate": (fp + tp + up) / n,
            "base_rate": pos / lab,
            "tpr": tp / pos,
            "fpr": fp / neg,
            "precision": tp / (fp + tp),
            "accuracy": (tn + tp) / lab,
        }


def _bootstrap_rates(counts: np.ndarray, n_boot: int, rng, *, prior: float = 0.0) -> dict[str, np.ndarray]:
    """Per-group rates for `n_boot` resamples of the rows, drawn as multinomial cell counts.

    Resampling n rows with replacement only changes how many rows fall in
    each (group, label, prediction) cell: a multinomial draw of n over the
    cells with the observed shares. Chunks keep at most _MAX_DRAWS counts in memory.

    With ``prior > 0`` the draw is a Bayesian bootstrap instead (cell shares
    from a Dirichlet with `prior` added to each count of a group's observed label
    states): a group with no or few events then keeps an honest spread, where the
    plain bootstrap would make its rate look certain (0 of 30 resamples to 0).
    """
    flat = counts.ravel().astype(float)
    n = int(flat.sum())
    if prior > 0:
        shape = counts.shape
        states = np.array([counts[..., :4].sum() > 0] * 4 + [counts[..., 4:].sum() > 0] * 2)
        alpha = (counts + prior * (states[None, :] & (counts.sum(axis=1) > 0)[:, None])).ravel()
    chunk = max(1, _MAX_DRAWS // max(len(flat), 1))
    parts = []
    for start in range(0, n_boot, chunk):
        size = min(chunk, n_boot - start)
        if prior > 0:
            draws = rng.standard_gamma(alpha, size=(size, len(alpha))).reshape(size, *shape)
        else:
            draws = rng.multinomial(n, flat / n, size=size).reshape(size, *counts.shape)
        parts.append(_rates(draws))
    return {m: np.concatenate([r[m] for r in parts]) for m in parts[0]}


def _impact(sr: np.ndarray, judged: np.ndarray) -> np.ndarray:
    """Each judged group's selection rate over the highest judged one (NaN for the others)."""
    out = np.full(sr.shape, np.nan)
    if judged.any():
        with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            best = np.nanmax(sr[..., judged], axis=-1, keepdims=True)
            out[..., judged] = sr[..., judged] / best
    return out


def _disparity(rates: Mapping[str, np.ndarray], judged: Mapping[str, np.ndarray], metric: str):
    """(value(s), judged groups) of a disparity over the judged groups; (None, n) under two groups.

    Works on point estimates (shape (groups,)) and on bootstrap replicates
    (shape (n_boot, groups)) alike.
    """
    rate, kind, _ = DISPARITIES[metric]
    if rate == "tpr+fpr":
        a, na = _disparity(rates, judged, "equal_opportunity_difference")
        b, nb = _disparity(rates, judged, "false_positive_rate_difference")
        if a is None and b is None:
            return None, min(na, nb)
        if a is None or b is None:
            return (a if b is None else b), max(na, nb)
        return np.fmax(a, b), max(na, nb)
    mask = judged[rate]
    if mask.sum() < 2:
        return None, int(mask.sum())
    x = rates[rate][..., mask]
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        hi, lo = np.nanmax(x, axis=-1), np.nanmin(x, axis=-1)
        value = lo / hi if kind == "ratio" else hi - lo
    return np.asarray(value, dtype=float), int(mask.sum())


def _group_auc(table: _Table, codes, vocab, counts, min_size) -> dict[str, float | None]:
    if table.score is None or table.n_labelled == 0:
        return {}
    out = {}
    lab = table.label < 2
    for k, g in enumerate(vocab):
        c = counts[k]
        if c[2] + c[3] > 0 and c[0] + c[1] > 0 and c.sum() >= min_size:
            m = (codes == k) & lab
            out[g] = _auc(table.label[m], table.score[m])
    return out


def _auc(y: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC from ranks (the Mann-Whitney statistic; ties count half), as scikit-learn computes it."""
    ranks = pd.Series(score).rank(method="average").to_numpy()
    pos = y == 1
    n1, n0 = int(pos.sum()), int((~pos).sum())
    return float((ranks[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))
