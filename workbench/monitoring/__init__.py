"""Monitoring analyses: drift, data quality, performance (incl. label-free), bias, and checks.

Each analysis returns a result object with ``to_dict()``/``from_dict()``,
``figures()``, ``findings()``, ``checks(config)`` and an HTML card. Heavy
libraries (Evidently, fairlearn, scikit-learn) are imported inside the
functions that compute, never by the result classes: a dashboard re-renders
stored results without loading them.

The result protocol: frozen dataclasses, JSON-safe fields, no raw rows, checks through
``make_check`` so that thresholds can be overridden by name or pattern.
"""
