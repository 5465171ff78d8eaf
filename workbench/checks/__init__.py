"""Checks: named pass/fail decisions that make a report run actionable, shared by every analysis.

A result turns its figures into :class:`Check` objects (:func:`make_check`);
thresholds are overridden by name or pattern (:func:`threshold_for`,
:func:`load_checks_file`); ``--fail-on`` picks the failures that gate
(:func:`failed_checks`); :func:`checks_table_html` shows them; every name a
report can produce is known before it runs (:func:`validate_patterns`).
Light: nothing here imports pandas, scikit-learn or the analyses.
"""

from workbench._lazy import lazy_exports

_EXPORTS = {
    "Check": "workbench.checks._check",
    "FAIL": "workbench.checks._check",
    "PASS": "workbench.checks._check",
    "WARN": "workbench.checks._check",
    "failed_checks": "workbench.checks._check",
    "format_number": "workbench.checks._check",
    "format_pair": "workbench.checks._check",
    "make_check": "workbench.checks._check",
    "ChecksConfig": "workbench.checks._config",
    "load_checks_file": "workbench.checks._config",
    "threshold_for": "workbench.checks._config",
    "FOLD_PASSES_OVER": "workbench.checks._display",
    "check_counts": "workbench.checks._display",
    "checks_shown_above": "workbench.checks._display",
    "checks_table_html": "workbench.checks._display",
    "counts_text": "workbench.checks._display",
    "status_html": "workbench.checks._display",
    "FAMILIES": "workbench.checks._names",
    "GATE_WORDS": "workbench.checks._names",
    "known_names": "workbench.checks._names",
    "threshold_range": "workbench.checks._names",
    "validate_config_keys": "workbench.checks._names",
    "validate_patterns": "workbench.checks._names",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
