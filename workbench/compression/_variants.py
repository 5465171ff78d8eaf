"""A compression study's records: each variant's figures and verdict, and what each technique did.

Private: import the public names from :mod:`workbench.compression`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from workbench._records import FieldRecord


@dataclass(frozen=True)
class Variant(FieldRecord):
    """One variant's figures: metric, size, latency, parity, and the verdict with its reason.

    Attributes
    ----------
    name : str
        The variant's name, e.g. ``capacity[max_depth=12]+onnx``.
    technique : str
        What made it: ``original``, ``onnx``, ``quantization``, ``drop_trees``,
        ``capacity``, ``feature_pruning`` or ``distillation``.
    parent : str or None
        The variant it was made from.
    kind : str
        ``sklearn`` or ``onnx``.
    exact : bool
        An exact conversion of `parent` (judged by parity first).
    score : float or None
        The study's metric on the held-out rows.
    loss : float or None
        How much worse than the original (negative: better).
    size_bytes : int or None
        Size of its saved artifact.
    latency_p50_us, latency_p95_us : float or None
        Microseconds to predict one row.
    throughput_rows_s : float or None
        Rows per second in batches.
    parity_max_abs_diff : float or None
        Largest difference from its parent's predictions.
    accepted : bool
        Within the budget (and, for an exact conversion, the parity tolerance).
    reason : str
        Why it was accepted or rejected.
    on_frontier : bool
        On the Pareto frontier of latency and the metric.
    params : dict
        The technique's settings.
    path : str or None
        Where it was saved (with ``out=``).
    parity_tolerance : float or None
        The largest difference an exact conversion may have.
    """

    name: str
    technique: str  # original, onnx, quantization, drop_trees, capacity, feature_pruning, distillation
    parent: str | None
    kind: str  # sklearn | onnx
    exact: bool  # an exact conversion of `parent` (judged by parity first)
    score: float | None
    loss: float | None  # how much worse than the original (negative: better)
    size_bytes: int | None
    latency_p50_us: float | None
    latency_p95_us: float | None
    throughput_rows_s: float | None
    parity_max_abs_diff: float | None
    accepted: bool
    reason: str
    on_frontier: bool = False
    params: dict = field(default_factory=dict)
    path: str | None = None
    parity_tolerance: float | None = None

    STORED_NAME: ClassVar[str] = "compression variant"

    @property
    def parity_failed(self) -> bool:
        """An exact conversion whose predictions differ from its parent's (not a usable model)."""
        return bool(
            self.exact
            and self.parity_max_abs_diff is not None
            and self.parity_tolerance is not None
            and not self.parity_max_abs_diff <= self.parity_tolerance
        )

    def to_dict(self, metric: str | None = None) -> dict:
        """The fields as JSON-safe data, plus ``auc`` (the score when `metric` is ``roc_auc``)."""
        return {**super().to_dict(), "auc": self.score if metric == "roc_auc" else None}


@dataclass(frozen=True)
class TechniqueOutcome(FieldRecord):
    """What a technique did: the variants it produced, or why it does not apply.

    Attributes
    ----------
    technique : str
        The technique's name (a key of :data:`~workbench.compression.TECHNIQUES`).
    status : str
        ``applied``, ``not applicable``, ``not supported`` or ``failed``.
    reason : str
        Notes on what it did, why it does not apply, or what failed.
    variants : list of str
        The names of the variants it produced.
    """

    technique: str
    status: str  # applied | not applicable | not supported | failed
    reason: str = ""
    variants: list = field(default_factory=list)

    STORED_NAME: ClassVar[str] = "technique outcome"
