"""What bias analysis measures: per-group rates, disparities, confusion cells, the words for each.

Shared by :mod:`workbench.monitoring.bias` and its private modules; import the
public names from :mod:`workbench.monitoring.bias`. The bias checks' names and
defaults (``ABSOLUTE_CHECKS``, ``WORSENED_CHECKS``) are named with every other
check, in :mod:`workbench.checks._names`.
"""

from __future__ import annotations

#: Per-group rates, in display order.
RATES = ("selection_rate", "base_rate", "tpr", "fpr", "precision", "accuracy")
#: disparity -> (per-group rate, kind, the direction that is worse)
DISPARITIES: dict[str, tuple[str, str, str]] = {
    "demographic_parity_ratio": ("selection_rate", "ratio", "lower"),
    "demographic_parity_difference": ("selection_rate", "difference", "higher"),
    "equalized_odds_difference": ("tpr+fpr", "difference", "higher"),
    "equal_opportunity_difference": ("tpr", "difference", "higher"),
    "false_positive_rate_difference": ("fpr", "difference", "higher"),
    "predictive_parity_difference": ("precision", "difference", "higher"),
    "accuracy_difference": ("accuracy", "difference", "higher"),
    "base_rate_difference": ("base_rate", "difference", "higher"),
}

# confusion cells per group: (label, prediction) with label negative / positive / unknown
CELLS = ("tn", "fp", "fn", "tp", "unlabelled_negative", "unlabelled_positive")
_MISSING = "missing"
_SEP = " & "
_MAX_DRAWS = 1 << 22  # multinomial counts held at once (bounds the bootstrap's memory)
_PRIOR = 0.5  # Jeffreys pseudo-count per cell in the comparison's Bayesian bootstrap
_WORDS = {
    "selection_rate": "share predicted {pos}",
    "base_rate": "share actually {pos}",
    "tpr": "share of actual {pos} cases predicted {pos} (true positive rate)",
    "fpr": "share of actual {neg} cases wrongly predicted {pos} (false positive rate)",
    "precision": "share of {pos} predictions that are right (precision)",
    "accuracy": "accuracy",
    "impact_ratio": "selection rate relative to the most-favoured group",
    "demographic_parity_ratio": "ratio of the lowest to the highest share predicted {pos}",
    "demographic_parity_difference": "gap between the highest and lowest share predicted {pos}",
    "equalized_odds_difference": "largest gap in true or false positive rates",
    "equal_opportunity_difference": "gap in true positive rates",
    "false_positive_rate_difference": "gap in false positive rates",
    "predictive_parity_difference": "gap in precision",
    "accuracy_difference": "gap in accuracy",
    "base_rate_difference": "gap in actual {pos} rates",
}
