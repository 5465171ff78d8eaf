"""The canary judgment: a frozen record of both arms' numbers and tests, its score and its verdict.

Light on purpose (no pandas, numpy or scipy): a dashboard kernel rebuilds it
from ``results.json`` and renders it without recomputing anything.

Checks (stable names; severity error):

==============================  ========  ==================================================================
name                            default   value
==============================  ========  ==================================================================
``canary.prediction_drift``     < 1       the drift score of the canary's answers against the champion's,
                                          relative to its test's threshold (1: the drift line)
``canary.latency``              >= 0.01   Mann-Whitney U p-value that the canary is slower than the champion
                                          by more than the latency margin
``canary.validation_failures``  >= 0.01   two-proportion p-value that the canary's records are rejected more
``canary.fallbacks``            >= 0.01   two-proportion p-value that the canary falls back more
``canary.accuracy``             >= 0.01   two-proportion p-value that the canary answers correctly less
                                          often (labels joined; without labels the check has no value)
``canary.score``                >= 75     the score: the share of the checks above that pass, in percent;
                                          0 when a critical one fails (fallbacks, accuracy)
==============================  ========  ==================================================================

The verdict (as Kayenta's judge reads its score): fewer than ``min_rows``
answered rows in either arm -> **continue** (keep the canary running, it has
not served enough); a score of 95 or more -> **promote**; below the
``canary.score`` threshold (75) -> **roll back**; in between -> **continue**.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any, ClassVar

from workbench._json import json_safe
from workbench.checks import Check, ChecksConfig, make_check
from workbench.errors import UnknownNameError, WorkbenchError
from workbench.results import name_list

ARMS = ("champion", "canary")
PROMOTE, CONTINUE, ROLL_BACK = "promote", "continue", "roll back"
#: the decisions as key_metrics writes them (a number for the ledger's trends)
DECISION_CODES = {PROMOTE: 1.0, CONTINUE: 0.0, ROLL_BACK: -1.0}
#: the tests judged by a p-value: they fail below ALPHA (a gap that chance explains badly)
P_VALUE_CHECKS = ("canary.latency", "canary.validation_failures", "canary.fallbacks", "canary.accuracy")
ALPHA = 0.01
#: check name -> (op, default threshold)
CANARY_CHECKS: dict[str, tuple[str, float]] = {
    "canary.prediction_drift": ("<", 1.0),
    **dict.fromkeys(P_VALUE_CHECKS, (">=", ALPHA)),
    "canary.score": (">=", 75.0),
}
#: a failure of one of these sets the score to 0 (the canary hurts callers)
CRITICAL = ("canary.fallbacks", "canary.accuracy")
#: the score at which the canary is promoted
PASS_SCORE = 95.0


@dataclass(frozen=True)
class CanaryResult:
    """Canary vs champion on the traffic each served; ask it ``verdict()``, ``score()``, ``arm("canary")``."""

    kind: ClassVar[str] = "canary"
    SCHEMA: ClassVar[int] = 1

    champion: (
        dict  # model, versions, rows, answered, rejected, errors, fallbacks, latency_ms, labelled, correct
    )
    canary: dict
    period: str
    since: str | None
    until: str | None
    min_rows: int
    latency_margin: float
    unattributed: int = 0
    label: str | None = None
    prediction: dict | None = None  # ColumnDrift.to_dict() of the answers (champion = reference)
    latency: dict | None = None  # p_value, u, median_ratio
    validation_failures: dict = field(default_factory=dict)  # champion, canary, difference, p_value
    fallbacks: dict = field(default_factory=dict)
    accuracy: dict | None = None
    notes: list = field(default_factory=list)

    # -- the result protocol --------------------------------------------------
    def to_dict(self) -> dict:
        """JSON-safe fields, plus the verdict and key metrics under the default checks (for summary.json)."""

        derived = {"score": self.score(), "verdict": self.verdict(), "key_metrics": self.key_metrics()}
        return json_safe({"kind": self.kind, **asdict(self), **derived})

    @classmethod
    def from_dict(cls, d: Mapping) -> CanaryResult:
        """Rebuild a judgment from :meth:`to_dict`'s output (a stored run), without recomputing."""
        names = {f.name: f for f in fields(cls)}
        absent = [
            n
            for n, f in names.items()
            if f.default is MISSING and f.default_factory is MISSING and n not in d
        ]
        if d.get("kind", cls.kind) != cls.kind or absent:
            raise WorkbenchError(
                f"the stored result is not a complete canary result (kind '{d.get('kind')}'"
                + (f", without {', '.join(absent)})" if absent else ")")
            )
        return cls(**{k: v for k, v in d.items() if k in names})

    def checks(self, config: ChecksConfig | None = None) -> list[Check]:
        """The canary gates (see the module docstring); a test without numbers passes, saying so."""
        out = self._metric_checks(config)
        op, default = CANARY_CHECKS["canary.score"]
        score = self.score(config)
        out.append(
            make_check(
                "canary.score",
                score,
                op,
                default,
                "canary score {value:.0f} of 100 (the share of passing checks; roll back below {threshold:g})"
                if score is not None
                else f"no score yet: each arm needs {self.min_rows:,} answered rows "
                f"(champion {self.champion['answered']:,}, canary {self.canary['answered']:,})",
                config,
            )
        )
        return [c for c in out if c is not None]

    def findings(self, config: ChecksConfig | None = None) -> list[str]:
        """Plain-language sentences, the verdict first, then each failed check."""
        v = self.verdict(config)
        out = [v["sentence"]]
        out += [c.message for c in self._metric_checks(config) if c is not None and not c.passed]
        a, b = self.champion, self.canary
        if a["latency_ms"] and b["latency_ms"]:
            lat_a, lat_b = a["latency_ms"], b["latency_ms"]
            out.append(
                f"Median latency: canary {lat_b['p50']:.3g} ms, champion {lat_a['p50']:.3g} ms; "
                f"p95 {lat_b['p95']:.3g} ms vs {lat_a['p95']:.3g} ms."
            )
        return out + [str(n) for n in self.notes]

    def key_metrics(self) -> dict[str, float | None]:
        """Flat figures for the ledger: score, decision (1 promote, 0 continue, -1 roll back), both arms."""
        from workbench._json import finite

        out: dict[str, Any] = {"canary.score": self.score(), "canary.decision": None}
        out["canary.decision"] = DECISION_CODES[self.verdict()["decision"]]
        for name in ARMS:
            a = self.arm(name)
            out[f"canary.rows.{name}"] = a["rows"]
            out[f"canary.latency_p50.{name}"] = (a["latency_ms"] or {}).get("p50")
            out[f"canary.latency_p95.{name}"] = (a["latency_ms"] or {}).get("p95")
            out[f"canary.fallback_rate.{name}"] = self.fallbacks.get(name)
            out[f"canary.validation_failure_rate.{name}"] = self.validation_failures.get(name)
            out[f"canary.accuracy.{name}"] = (self.accuracy or {}).get(name)
        out["canary.prediction_drift"] = (self.prediction or {}).get("normalized_score")
        return {k: finite(v) for k, v in out.items()}

    def figures(self) -> dict:
        """Plotly figures: both arms' answers, latency quantiles, failure and fallback rates."""
        from workbench.viz import canary as fig

        return {
            "predictions": fig.predictions_figure(self.prediction),
            "latency": fig.latency_figure(self.champion, self.canary),
            "rates": fig.rates_figure(self.validation_failures, self.fallbacks, self.accuracy),
        }

    def _repr_html_(self, config: ChecksConfig | None = None) -> str:
        from workbench import _html
        from workbench.checks import checks_table_html

        v = self.verdict(config)
        rows = [
            {
                "arm": name,
                "model": self.arm(name)["model"] or "—",
                "versions": ", ".join(self.arm(name)["versions"]) or "—",
                "rows": f"{self.arm(name)['rows']:,}",
                "p50 ms": (self.arm(name)["latency_ms"] or {}).get("p50"),
                "rejected": _pct(self.validation_failures.get(name)),
                "fallbacks": _pct(self.fallbacks.get(name)),
                "accuracy": _pct((self.accuracy or {}).get(name)),
            }
            for name in ARMS
        ]
        body = f"<p><b>{_html.esc(v['decision'].capitalize())}.</b> {_html.esc(v['sentence'])}</p>"
        body += _html.table(rows)
        body += checks_table_html(self.checks(config))
        return _html.card("Canary vs champion", body, f"traffic of {self.period}")

    # -- asking it things ----------------------------------------------------------
    def arm(self, name: str) -> dict:
        """One arm's counts and latency quantiles (``champion`` or ``canary``)."""
        if name not in ARMS:
            raise UnknownNameError(f"no arm '{name}'; use one of {name_list(ARMS)}")
        return dict(getattr(self, name))

    def enough_traffic(self) -> bool:
        """Whether each arm answered at least ``min_rows`` rows (else the verdict is "continue")."""
        return min(self.champion["answered"], self.canary["answered"]) >= self.min_rows

    def score(self, config: ChecksConfig | None = None) -> float | None:
        """0-100: the share of judged checks that pass; 0 when a critical one fails; None without traffic."""
        if not self.enough_traffic():
            return None
        judged = [c for c in self._metric_checks(config) if c is not None and c.value is not None]
        if not judged:
            return None
        if any(not c.passed and c.name in CRITICAL for c in judged):
            return 0.0
        return 100.0 * sum(c.passed for c in judged) / len(judged)

    def verdict(self, config: ChecksConfig | None = None) -> dict:
        """``{"decision": promote | continue | roll back, "sentence": ..., "score": ...}``."""
        score = self.score(config)
        a, b = self.champion["answered"], self.canary["answered"]
        op, line = CANARY_CHECKS["canary.score"]
        line = float((config or {}).get("canary.score", line) or line)
        failed = [c.name for c in self._metric_checks(config) if c is not None and not c.passed]
        if score is None:
            decision = CONTINUE
            sentence = (
                f"Continue the canary: it answered {b:,} records and the champion {a:,}; a judgment needs "
                f"{self.min_rows:,} in each."
            )
        elif score >= PASS_SCORE:
            decision = PROMOTE
            sentence = (
                f"Promote the canary: it scored {score:.0f} of 100 on {b:,} records, as good as the champion "
                "on every test."
            )
        elif score < line:
            decision = ROLL_BACK
            critical = [n for n in failed if n in CRITICAL]
            why = (
                f"a critical check failed ({', '.join(critical)})"
                if critical
                else f"{', '.join(failed)} failed"
            )
            sentence = f"Roll back the canary: it scored {score:.0f} of 100 on {b:,} records; {why}."
        else:
            decision = CONTINUE
            sentence = (
                f"Continue the canary and watch it: it scored {score:.0f} of 100 on {b:,} records "
                f"({', '.join(failed)} failed); promote at {PASS_SCORE:.0f}, roll back below {line:g}."
            )
        return {"decision": decision, "sentence": sentence, "score": score, "failed": failed}

    def _metric_checks(self, config: ChecksConfig | None) -> list[Check | None]:
        margin = f"{self.latency_margin:.0%}"
        tests = [
            (
                "canary.prediction_drift",
                (self.prediction or {}).get("normalized_score"),
                "the canary's answers against the champion's: "
                + (
                    f"{self.prediction.get('stattest')} {_g(self.prediction.get('score'))}, "
                    if self.prediction
                    else ""
                )
                + "{value:.3g} of the drift line (drifted at {threshold:g})",
            ),
            (
                "canary.latency",
                (self.latency or {}).get("p_value"),
                f"latency: the canary's median is {_g((self.latency or {}).get('median_ratio'))}x the "
                f"champion's; Mann-Whitney U p = {{value:.3g}} that it is more than {margin} slower "
                "by chance (slower below {threshold:g})",
            ),
            ("canary.validation_failures", self.validation_failures.get("p_value"), self._rates("rejected")),
            ("canary.fallbacks", self.fallbacks.get("p_value"), self._rates("fallbacks")),
            ("canary.accuracy", (self.accuracy or {}).get("p_value"), self._rates("accuracy")),
        ]
        out = []
        for name, value, message in tests:
            op, default = CANARY_CHECKS[name]
            out.append(make_check(name, value, op, default, message, config))
        return out

    def _rates(self, what: str) -> str:
        test = {"rejected": self.validation_failures, "fallbacks": self.fallbacks}.get(
            what, self.accuracy
        ) or {}
        label = {"rejected": "records rejected", "fallbacks": "answered by the fallback"}.get(
            what, "answered correctly"
        )
        direction = "less often" if what == "accuracy" else "more often"
        if what == "accuracy" and not test:
            return "accuracy: no labels joined for both arms, not compared"
        return (
            f"{label}: canary {_pct(test.get('canary'))}, champion {_pct(test.get('champion'))}; "
            f"p = {{value:.3g}} that the canary's {direction} is chance (fails below {{threshold:g}})"
        )


def _pct(v: Any) -> str:
    return "—" if v is None else f"{100 * v:.2f}%"


def _g(v: Any) -> str:
    return "—" if v is None else f"{v:.3g}"
