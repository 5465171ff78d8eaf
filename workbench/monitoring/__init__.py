"""Monitoring analyses: drift, data quality, performance (incl. label-free), bias, and checks.

Each analysis returns a result object with ``to_dict()``/``from_dict()``,
``figures()``, ``findings()``, ``checks(config)`` and an HTML card. Heavy
libraries (Evidently, fairlearn, scikit-learn) are imported inside the
functions that compute, never by the result classes: a dashboard re-renders
stored results without loading them.

Engineers adding an analysis: read CONVENTIONS.md in this folder first (result
protocol, imports, checks, tests; use /work/main/.venv, never pip install or
touch git).
"""
