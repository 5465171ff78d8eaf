"""What a compression study returns: :class:`CompressionResult`, the variants side by side.

Private: import the public names from :mod:`workbench.compression`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from workbench import _html
from workbench._lazy import lazy
from workbench.compression._measure import PARITY_TOLERANCE
from workbench.compression._variants import TechniqueOutcome, Variant
from workbench.errors import WorkbenchError
from workbench.metrics import METRIC_LABELS
from workbench.results import find_named

pd = lazy("pandas")

_TABLE_COLUMNS = [
    "name",
    "technique",
    "score",
    "loss",
    "size_bytes",
    "latency_p50_us",
    "latency_p95_us",
    "throughput_rows_s",
    "parity_max_abs_diff",
    "accepted",
    "reason",
]


@dataclass(frozen=True)
class CompressionResult:
    """Variants side by side, the Pareto frontier and the chosen variant.

    Ask it things: ``result["onnx"]`` (a :class:`Variant`), ``result.table()``,
    ``result.frontier``, ``result.chosen_model`` (the model itself, while the
    result is in memory; otherwise load ``result.chosen_path``), ``result.figures()``.

    Returned by :func:`~workbench.compression.compress`.

    Attributes
    ----------
    model_name, task : str
        The compressed model and its task.
    metric : str
        The metric the budget is on; `higher_is_better` says which way.
    max_loss : float
        The budget: how much `metric` may lose against the original.
    original_score : float
        The original's `metric` on the held-out rows.
    variants : list of Variant
        Every variant, the original first, in the order they were built.
    techniques : list of TechniqueOutcome
        What each technique did.
    chosen, chosen_path, reason
        The chosen variant's name, where it was saved (with ``out=``) and why.
    holdout : dict
        The held-out rows: ``rows`` and ``source``.
    latency_tolerance : float
        Variants within this fraction of the fastest count as equally fast.
    parity_tolerance : float
        The largest difference an exact conversion may have.
    elapsed_s : float or None
        The study's duration.
    """

    kind: ClassVar[str] = "compression"

    model_name: str
    task: str
    metric: str
    higher_is_better: bool
    max_loss: float
    original_score: float
    variants: list[Variant]
    techniques: list[TechniqueOutcome]
    chosen: str
    chosen_path: str | None
    reason: str
    holdout: dict
    latency_tolerance: float = 0.1
    parity_tolerance: float = PARITY_TOLERANCE
    elapsed_s: float | None = None
    _models: dict = field(default_factory=dict, repr=False, compare=False)

    # -- asking -------------------------------------------------------------------
    def __getitem__(self, name: str) -> Variant:
        """The variant called `name`.

        Raises
        ------
        UnknownNameError
            No variant has that name (the message lists them).
        """
        return find_named(self.variants, name, "variant")

    @property
    def original(self) -> Variant:
        """The original model's variant."""
        return self["original"]

    @property
    def chosen_variant(self) -> Variant:
        """The chosen variant."""
        return self[self.chosen]

    @property
    def frontier(self) -> list[str]:
        """Names on the Pareto frontier of single-row latency and the metric, fastest first."""
        on = [v for v in self.variants if v.on_frontier]
        return [v.name for v in sorted(on, key=lambda v: v.latency_p50_us or math.inf)]

    @property
    def chosen_model(self) -> Any:
        """The chosen variant's model (see :meth:`model`)."""
        return self.model(self.chosen)

    def model(self, name: str) -> Any:
        """A variant's model: in memory after the study, else loaded from its saved path.

        Raises
        ------
        WorkbenchError
            The variant is not in memory and was not saved.
        """
        if name in self._models:
            return self._models[name]
        path = self[name].path or (self.chosen_path if name == self.chosen else None)
        if path:
            from workbench.modeling.artifact import load_model

            return load_model(path)
        raise WorkbenchError(
            f"the variant '{name}' was not saved; run compress(..., out=DIR) to keep variants"
        )

    def speedup(self, name: str | None = None) -> float | None:
        """How many times lower the variant's single-row p50 is than the original's.

        Parameters
        ----------
        name : str, optional
            The variant (default: the chosen one).

        Returns
        -------
        float or None
            None when a latency is unknown.
        """
        return self._times_lower("latency_p50_us", name)

    def size_ratio(self, name: str | None = None) -> float | None:
        """How many times smaller the variant's artifact is than the original's (as :meth:`speedup`, for the
        size on disk; None when a size is unknown)."""
        return self._times_lower("size_bytes", name)

    def _times_lower(self, figure: str, name: str | None) -> float | None:
        """The original's `figure` (a variant attribute) over the variant's; None when either is unknown."""
        variant, original = getattr(self[name or self.chosen], figure), getattr(self.original, figure)
        return original / variant if variant and original else None

    def table_text(self) -> str:
        """The variants as a fixed-width text table.

        What ``workbench compress`` and ``workbench demo`` print.
        """
        width = max(
            [len("variant"), *(len(v.name) for v in self.variants)]
        )  # never cut: names share prefixes
        head = (
            f"{'':2}{'variant':<{width}} {self.metric:>8} {'loss':>8} {'size':>10} {'p50 µs':>9} "
            f"{'p95 µs':>9} {'rows/s':>10} {'parity':>8}  verdict"
        )
        lines = [head]
        for v in self.variants:
            mark = "*" if v.name == self.chosen else ""
            verdict = "accepted" if v.accepted else "rejected"
            lines.append(
                f"{mark:<2}{v.name:<{width}} {_fmt(v.score, '.4f'):>8} {_fmt(v.loss, '+.4f'):>8} "
                f"{_size(v.size_bytes):>10} {_fmt(v.latency_p50_us, ',.0f'):>9} "
                f"{_fmt(v.latency_p95_us, ',.0f'):>9} "
                f"{_fmt(v.throughput_rows_s, ',.0f'):>10} {_fmt(v.parity_max_abs_diff, '.0e'):>8}  {verdict}"
            )
        return "\n".join(lines)

    def table(self) -> pd.DataFrame:
        """One row per variant (the chosen one marked), in the order they were built.

        Returns
        -------
        pandas.DataFrame
            Indexed by name; the metric's column is named after it.
        """
        rows = [
            {
                **{c: getattr(v, c) for c in _TABLE_COLUMNS},
                "chosen": v.name == self.chosen,
                "on_frontier": v.on_frontier,
            }
            for v in self.variants
        ]
        return pd.DataFrame(rows).rename(columns={"score": self.metric}).set_index("name")

    # -- the three faces ------------------------------------------------------------
    def to_dict(self) -> dict:
        """The result as JSON-safe data: what ``compression.json`` holds."""
        return {
            "kind": self.kind,
            "model": self.model_name,
            "task": self.task,
            "metric": self.metric,
            "higher_is_better": self.higher_is_better,
            "max_loss": self.max_loss,
            "original_score": self.original_score,
            "holdout": dict(self.holdout),
            "chosen": {"name": self.chosen, "path": self.chosen_path, "reason": self.reason},
            "variants": [v.to_dict(self.metric) for v in self.variants],
            "techniques": [t.to_dict() for t in self.techniques],
            "latency_tolerance": self.latency_tolerance,
            "parity_tolerance": self.parity_tolerance,
            "elapsed_s": self.elapsed_s,
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> CompressionResult:
        """The result from its :meth:`to_dict` (a study's ``compression.json``); no models in memory.

        Raises
        ------
        WorkbenchError
            A field is missing.
        """
        try:
            chosen = d["chosen"]
            return cls(
                model_name=d["model"],
                task=d["task"],
                metric=d["metric"],
                higher_is_better=d["higher_is_better"],
                max_loss=d["max_loss"],
                original_score=d["original_score"],
                variants=[Variant.from_dict(v) for v in d["variants"]],
                techniques=[TechniqueOutcome.from_dict(t) for t in d.get("techniques", [])],
                chosen=chosen["name"],
                chosen_path=chosen.get("path"),
                reason=chosen.get("reason", ""),
                holdout=dict(d.get("holdout") or {}),
                latency_tolerance=d.get("latency_tolerance", 0.1),
                parity_tolerance=d.get("parity_tolerance", PARITY_TOLERANCE),
                elapsed_s=d.get("elapsed_s"),
            )
        except (KeyError, TypeError) as exc:
            raise WorkbenchError(f"the stored compression result is incomplete (missing {exc})") from None

    def figures(self) -> dict:
        """The result's charts: ``frontier`` (metric against latency) and ``size``.

        Returns
        -------
        dict of str to plotly.graph_objects.Figure
        """
        from workbench.viz.compression import frontier_figure, size_figure

        rows = [v.to_dict(self.metric) for v in self.variants]
        return {
            "frontier": frontier_figure(
                rows,
                self.metric,
                self.chosen,
                max_loss=self.max_loss,
                original_score=self.original_score,
                higher_is_better=self.higher_is_better,
            ),
            "size": size_figure(rows, self.metric, self.chosen),
        }

    def figure(self):
        """The frontier chart."""
        return self.figures()["frontier"]

    def findings(self) -> list[str]:
        """Plain-language sentences, most important first."""
        out = []
        o, c = self.original, self.chosen_variant
        if self.chosen == "original":
            out.append(f"The original model is kept: {self.reason}.")
        else:
            speed, size = self.speedup(), self.size_ratio()
            out.append(
                f"Chosen: '{c.name}', which answers a single row in {_us(c.latency_p50_us)} instead of "
                f"{_us(o.latency_p50_us)} ({_x(speed)} faster), is {_x(size)} smaller on disk "
                f"({_html.size_text(c.size_bytes)} instead of {_html.size_text(o.size_bytes)}), and scores "
                f"{_metric(self.metric)} {c.score:.4f} against the original's {o.score:.4f} "
                f"(allowed loss: {self.max_loss:g})."
            )
        same = [
            v for v in self.variants if v.exact and v.parity_max_abs_diff is not None and not v.parity_failed
        ]
        if same:
            worst = max(v.parity_max_abs_diff for v in same)
            out.append(
                f"{len(same)} exact conversion{'s' if len(same) > 1 else ''} to ONNX gave the same "
                f"predictions as the scikit-learn model{'s' if len(same) > 1 else ''} they came from "
                f"(largest difference {worst:.1e})."
            )
        rejected = [v for v in self.variants if not v.accepted]
        if rejected:
            names = {v.name for v in rejected}
            # an exact conversion of a rejected variant shares its parent's reason: name the parent once
            distinct = [v for v in rejected if not (v.exact and v.parent in names and not v.parity_failed)]
            shown = "; ".join(
                f"{v.name}{' (and its ONNX export)' if f'{v.name}+onnx' in names else ''}: "
                f"{v.reason.removeprefix('rejected: ')}"
                for v in distinct[:3]
            )
            more = f"; and {len(distinct) - 3} more" if len(distinct) > 3 else ""
            out.append(
                f"{len(rejected)} variant{'s were' if len(rejected) > 1 else ' was'} rejected: {shown}{more}."
            )
        for t in self.techniques:
            if t.status != "applied":
                out.append(f"{t.technique.replace('_', ' ').capitalize()}: {t.reason}.")
        return out

    def _repr_html_(self) -> str:
        """The result's card: findings, then a row per variant (the chosen one highlighted)."""
        findings = "".join(f"<li>{_html.esc(s)}</li>" for s in self.findings())
        rows = []
        for v in self.variants:
            rows.append(
                {
                    "variant": v.name,
                    self.metric: v.score,
                    "loss": v.loss,
                    "size (bytes)": v.size_bytes,
                    "p50 (µs)": v.latency_p50_us,
                    "p95 (µs)": v.latency_p95_us,
                    "rows/s": v.throughput_rows_s,
                    "parity |Δ|": v.parity_max_abs_diff,
                    "accepted": v.accepted,
                    "reason": v.reason,
                    "chosen": v.name == self.chosen,
                }
            )
        body = f"<ul style='margin:4px 0 8px 18px;padding:0'>{findings}</ul>"
        body += _html.table(rows, [c for c in rows[0] if c != "chosen"], highlight="chosen")
        sub = (
            f"{self.task}; {_metric(self.metric)} on {self.holdout.get('rows', 0):,} held-out rows "
            f"({self.holdout.get('source', '')}); budget: {self.max_loss:g}; chosen: {self.chosen}"
        )
        return _html.card(f"Compression of {self.model_name}", body, sub)


# -- words and numbers ------------------------------------------------------------------
def _us(v: float | None) -> str:
    return "—" if v is None else f"{v:,.0f} µs"


def _x(v: float | None) -> str:
    return "—" if v is None else (f"{v:,.0f}x" if v >= 10 else f"{v:.1f}x")


def _fmt(v, fmt: str) -> str:
    return "—" if v is None else format(v, fmt)


def _size(v: int | None) -> str:
    """Bytes in a 10-character table cell (sentences say 'bytes': :func:`workbench._html.size_text`)."""
    return _html.size_text(v).replace(" bytes", " B")


def _metric(metric: str) -> str:
    return METRIC_LABELS.get(metric, metric)
