"""Promotion through the release gate: compare with the champion, then move ``champion`` only if it passes.

:func:`promote` is what ``workbench promote`` (and a CI/CD stage) calls. It
compares the candidate version with the current champion on one labelled
window (:func:`~workbench.releases.compare.compare_models`), files the
comparison as a ``compare`` run in the run store (its report, summary and
ledger row, like any report run; the alias move records the run's id): when
the run store already holds a comparison of the same two versions on the same
window with the same options (``retrain`` files one), the gate judges that run
and says so, rather than computing it again. Then:

- every gating ``release.*`` check passed: the alias moves (or, with
  ``require_approval``, the release is left pending for
  ``workbench approve``);
- a gate failed: nothing moves, the failed checks are returned (the CLI
  exits 1 with their names);
- ``force`` with a ``reason``: the alias moves anyway, recorded as forced.

A model without a champion yet gets its first champion without a comparison
(there is nothing to compare with); the record says so.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from workbench.errors import ModelNotFoundError, ParameterError
from workbench.releases._comparison_run import DEFAULT_REPORTS_DIR
from workbench.validation import check_text

#: the decisions a promotion ends with
PROMOTED, PENDING, REFUSED = "promoted", "pending", "refused"


@dataclass(frozen=True)
class PromotionResult:
    """What :func:`promote` decided: the decision, the failed gates, the audit record, the comparison."""

    name: str
    version: int
    decision: str  # PROMOTED, PENDING or REFUSED
    sentence: str
    failed: list[str] = field(default_factory=list)
    forced: bool = False
    champion_before: int | None = None
    comparison_path: str | None = None  # the comparison run's folder
    verdict: str | None = None
    record: dict | None = None
    comparison_run: str | None = None  # the comparison run's id (what the audit record names)
    reused: bool = False  # the gate judged a comparison run filed earlier (not computed again)

    @property
    def passed(self) -> bool:
        """True when the gate let the release through (promoted or pending approval)."""
        return self.decision != REFUSED

    def to_dict(self) -> dict:
        """JSON-safe: what ``workbench promote --json`` prints."""
        return {
            "name": self.name,
            "version": self.version,
            "decision": self.decision,
            "sentence": self.sentence,
            "failed": list(self.failed),
            "forced": self.forced,
            "champion_before": self.champion_before,
            "comparison": self.comparison_path,
            "comparison_run": self.comparison_run,
            "reused": self.reused,
            "verdict": self.verdict,
            "record": self.record,
        }


def promote(
    name: str,
    version: int | str,
    data: Any,
    *,
    sensitive: Sequence[str] | str = (),
    checks: Mapping[str, Any] | str | os.PathLike | None = None,
    force: bool = False,
    reason: str | None = None,
    require_approval: bool = False,
    by: str | None = None,
    registry: str | os.PathLike | None = None,
    reports_dir: str | os.PathLike = DEFAULT_REPORTS_DIR,
    n_bootstrap: int = 1000,
    random_state: int | None = 0,
) -> PromotionResult:
    """Gate `version` of registered model `name` against its champion, and promote it if the gate passes.

    Parameters
    ----------
    name, version : the registered model and the candidate version.
    data : a labelled window (DataFrame or CSV/Parquet path) with both models' columns.
    sensitive : columns whose groups the fairness gates compare.
    checks : check thresholds (a mapping or a checks file), as the reports take them.
    force, reason : move the alias even when a gate fails; a reason is required and both are recorded.
    require_approval : leave the release pending until ``workbench approve`` (human sign-off).
    by : who decides (default: the OS user).
    registry : the registry (default: ``WORKBENCH_REGISTRY``, ``MLFLOW_TRACKING_URI``, the embedded store).
    reports_dir : the run store the comparison is filed in as a ``compare`` run (default ``./reports``,
        as for ``workbench report``). A run there that already compared these two versions on the same
        window (same fingerprint) with the same sensitive columns, resamples and seed is judged instead.
    n_bootstrap, random_state : the comparison's paired bootstrap.

    Returns
    -------
    PromotionResult
        ``decision`` is ``promoted``, ``pending`` or ``refused`` (with the failed ``release.*`` checks).

    Raises
    ------
    ParameterError
        ``force`` without a reason, or a malformed name or version.
    ModelNotFoundError
        An unknown model or version.
    """
    from workbench.checks import load_checks_file
    from workbench.registry.versions import check_version, list_versions
    from workbench.releases._comparison_run import compare_and_file, find_comparison, judge, load_window
    from workbench.reports.runner import check_writable_dir

    if force:
        why_forced = "--force needs --reason: say why the gate is overridden"
        if reason is None:
            raise ParameterError(why_forced)
        reason = check_text(reason, "the reason", empty=why_forced)
    config = load_checks_file(checks) if isinstance(checks, str | os.PathLike) else dict(checks or {})
    check_writable_dir(reports_dir, "the reports folder")
    version = check_version(version)
    versions = list_versions(name, registry=registry)  # an unknown model: ModelNotFoundError
    if version not in {int(v.version) for v in versions}:
        known = ", ".join(str(v.version) for v in versions)
        raise ModelNotFoundError(f"the model '{name}' has no version {version} (versions: {known})")
    champion = next((int(v.version) for v in versions if "champion" in (v.aliases or ())), None)
    if champion == version:
        raise ParameterError(f"version {version} of '{name}' is already the champion")

    if champion is None:
        why = reason or "first champion: nothing to compare with"
        return _move(name, version, None, [], None, None, why, force, require_approval, by, registry)

    window, source = load_window(data)
    sensitive = [sensitive] if isinstance(sensitive, str) else list(sensitive)
    options = dict(
        sensitive=sensitive,
        registry=registry,
        reports_dir=reports_dir,
        n_bootstrap=n_bootstrap,
        random_state=random_state,
    )
    found = find_comparison(name, (champion, version), window, source, options)
    if found is not None:  # the same comparison was filed already (by retrain): judged, not computed again
        stored, path = found
        failed, verdict = judge(stored, config)
    else:
        _, failed, verdict, path = compare_and_file(
            name, champion, version, window, source, checks=config,
            run_name=f"{name}-v{version}-vs-v{champion}", **options,
        )  # fmt: skip
    if failed and not force:
        sentence = (
            f"version {version} of '{name}' was not promoted: {len(failed)} release check(s) failed "
            f"({', '.join(failed)}); the champion stays version {champion}. {verdict.sentence}"
        )
        result = PromotionResult(
            name, version, REFUSED, sentence, failed, False, champion, str(path), verdict.decision,
            comparison_run=path.name,
        )  # fmt: skip
    else:
        why = reason or verdict.sentence
        result = _move(
            name,
            version,
            champion,
            failed,
            path,
            verdict.decision,
            why,
            force,
            require_approval,
            by,
            registry,
        )
    if found is None:
        return result
    note = f"; gate judged on compare run {path.name} (filed earlier for the same versions and window)"
    return replace(result, sentence=result.sentence.rstrip(".") + note, reused=True)


def _move(name, version, champion, failed, path, verdict, reason, force, require_approval, by, registry):
    from workbench.registry.approvals import request_approval
    from workbench.registry.audit import move_alias

    comparison = path.name if path else None  # the run's id: its folder's name in the run store
    if require_approval:
        record = request_approval(
            name, version, by=by, reason=reason, comparison=comparison, registry=registry
        )
        sentence = (
            f"version {version} of '{name}' passed the release gate and waits for approval "
            f"(workbench approve {name} --version {version} --by PERSON)"
        )
        decision = PENDING
    else:
        forced = bool(force and failed)
        record = move_alias(
            name,
            "champion",
            version,
            action="force" if forced else "promote",
            by=by,
            reason=reason,
            comparison=comparison,
            forced=forced,
            registry=registry,
        )
        before = "no champion" if champion is None else f"version {champion}"
        how = f"forced past {', '.join(failed)}" if forced else "every release check passed"
        if champion is None:
            how = "the first champion"
        sentence = f"version {version} of '{name}' is the champion ({how}; it replaces {before})"
        decision = PROMOTED
    return PromotionResult(
        name,
        version,
        decision,
        sentence,
        list(failed),
        bool(force and failed),
        champion,
        str(path) if path else None,
        verdict,
        record.to_dict(),
        comparison,
    )
