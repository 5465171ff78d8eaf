"""Releases: is the challenger really better than the champion, overall and for every group?

:func:`compare_models` scores both on the same rows of one window and returns
a :class:`ComparisonResult` (paired statistics, fairness deltas, serving
costs, agreement, a verdict in plain language and the ``release.*`` gates);
:func:`promote` moves the ``champion`` alias only through those gates;
:func:`retrain` trains the champion's recipe on a new window as the challenger;
:func:`recommend` reads the champion's monitoring runs and says whether retraining is due;
:func:`write_model_card` writes a model card from stored results only.
"""

from workbench._lazy import lazy_exports

_EXPORTS = {
    "compare_models": "workbench.releases.compare",
    "ComparisonResult": "workbench.releases.result",
    "RELEASE_CHECKS": "workbench.releases.result",
    "DEFAULT_PRICE": "workbench.releases.operations",
    "Verdict": "workbench.releases.verdict",
    "NON_INFERIORITY_MARGIN": "workbench.releases.verdict",
    "PROMOTE": "workbench.releases.verdict",
    "KEEP": "workbench.releases.verdict",
    "INCONCLUSIVE": "workbench.releases.verdict",
    "promote": "workbench.releases.promote",
    "PromotionResult": "workbench.releases.promote",
    "retrain": "workbench.releases.retrain",
    "RetrainResult": "workbench.releases.retrain",
    "recommend": "workbench.releases.recommend",
    "Recommendation": "workbench.releases.recommend",
    "ModelCard": "workbench.releases.card",
    "write_model_card": "workbench.releases.card",
    "card_dir": "workbench.releases.card",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
