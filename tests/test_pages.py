"""Pages that read true and look finished.

Check outcomes, warnings, folded check tables, empty charts, trends.

Pure rendering: no report is run, no browser is started (the check table's screenshots are made by hand,
see tests/artifacts/check-table-*.png).
"""

from __future__ import annotations

import inspect
import math
import random
import re

import pytest

from workbench.checks import (
    FAIL,
    PASS,
    WARN,
    Check,
    checks_shown_above,
    checks_table_html,
    format_pair,
    make_check,
)

_HOLDS = {
    "<": lambda a, b: a < b,
    "≤": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    "≥": lambda a, b: a >= b,
    "=": lambda a, b: a == b,
    "≠": lambda a, b: a != b,
}
_ROW = "<tr class='wb-check-row "
_OUTCOME = re.compile(r"^(\S+) ([<>=≤≥≠]) (\S+)(?: \(must be ([<>=≤≥]) (\S+)\))?$")


def _num(text: str) -> float:
    return {"∞": math.inf, "-∞": -math.inf}.get(text) or float(text.replace(",", ""))


def _cases(n: int = 4000, seed: int = 7):
    """(value, op, threshold) triples: equal, barely apart, far apart; tiny, huge, negative."""
    rnd = random.Random(seed)
    thresholds = [0.0, 0.05, 0.1, 0.3, 0.8, 1.0, 2.5, 1000.0, 12345.6, 1e6, -0.3, 1e-9, 0.02]
    deltas = [0.0, 1e-15, 1e-12, 1e-9, 1e-6, 1e-5, 1e-4, 4e-4, 5e-5, 0.001, 0.01, 0.3, 7.0, 1e4]
    for _ in range(n):
        t = rnd.choice(thresholds)
        scale = rnd.choice(deltas)
        v = t + rnd.choice((-1, 1)) * scale * rnd.choice((1.0, rnd.random()))
        if rnd.random() < 0.1:
            v = rnd.uniform(-2, 2)
        yield v, rnd.choice(("<=", "<", ">=", ">", "==")), t


# -- 1. checks read true -------------------------------------------------------------------------------------
def test_a_failed_check_never_states_a_false_relation():
    """Property over many values and operators: the printed relation holds.

    It holds for the true and for the printed numbers.
    """
    seen = {"failed": 0, "passed": 0}
    for value, op, threshold in _cases():
        c = make_check("x.y", value, op, threshold, "m", severity=random.choice(("error", "warning")))
        text = c.outcome_text()
        m = _OUTCOME.match(text)
        assert m, text
        v, sym, t, must_sym, must_t = m.groups()
        assert _HOLDS[sym](value, threshold), f"{text} is false for {value!r} {op} {threshold!r}"
        assert _HOLDS[sym](_num(v), _num(t)), f"{text}: the printed numbers contradict the printed relation"
        if c.passed:
            assert must_sym is None
            seen["passed"] += 1
        else:
            # what is required does not hold (it failed), and is written with the same threshold
            assert must_sym is not None and not _HOLDS[must_sym](value, threshold) and must_t == t, text
            seen["failed"] += 1
    assert seen["failed"] > 1000 and seen["passed"] > 1000


def test_the_issue_example_reads_what_happened():
    c = make_check("drift.column.age", 0.006612, ">", 0.05, "p-value {value:.4f}")
    assert not c.passed and c.status == FAIL
    assert c.outcome_text() == "0.006612 < 0.05 (must be > 0.05)"
    assert c.relation() == "0.006612 < 0.05" and c.requirement() == "must be > 0.05"
    assert "0.006612 &gt; 0.05" not in checks_table_html([c])
    assert "0.006612 &lt; 0.05 (must be &gt; 0.05)" in checks_table_html([c])
    # numbers that round alike get the digits that tell them apart
    assert format_pair(0.050001, 0.05) == ("0.050001", "0.05")
    assert make_check("a", 0.30004, "<=", 0.3, "m").outcome_text() == "0.30004 > 0.3 (must be ≤ 0.3)"
    assert make_check("a", 0.3, "<=", 0.3, "m").outcome_text() == "0.3 = 0.3"
    assert make_check("a", float("nan"), "<=", 0.3, "m").outcome_text() == "no value (nothing to judge)"


def test_every_failed_row_of_a_table_shows_its_outcome():
    checks = [
        make_check(f"c{i}", v, op, t, "m", severity="warning" if i % 3 == 0 else "error")
        for i, (v, op, t) in enumerate(_cases(300, seed=11))
    ]
    html = checks_table_html(checks)
    for c in checks:
        if not c.passed:
            row = re.search(
                rf"<tr class='wb-check-row[^']*'[^>]*>(?:(?!</tr>).)*>{re.escape(c.name)}</td>(.*?)</tr>",
                html,
            )
            assert row, c.name
            assert _esc(c.outcome_text()) in row.group(1)


def test_dicts_without_operator_still_read_true():
    """The ledger keeps value, threshold and severity: the relation is still the true one.

    Just without 'must be'.
    """
    from workbench.dashboards import cards

    html = cards.ledger_checks_html(
        {
            "checks": [
                {
                    "name": "bias.demographic_parity_ratio.sex",
                    "passed": False,
                    "value": 0.364,
                    "threshold": 0.8,
                    "severity": "warning",
                },
                {"name": "drift.share", "passed": False, "value": 0.5, "threshold": 0.3, "severity": "error"},
            ]
        }
    )
    assert "0.364 &lt; 0.8" in html and "0.5 &gt; 0.3" in html
    assert html.count("wb-check-row-warn") == 1 and html.count("wb-check-row-fail") == 1


# -- 2. warnings are warnings --------------------------------------------------------------------------------
def test_three_states_and_warnings_are_never_failures():
    err = Check("drift.share", False, 0.5, 0.3, "<=", "m")
    warn = Check("bias.demographic_parity_ratio.sex", False, 0.6, 0.8, ">=", "m", severity="warning")
    ok = Check("quality.duplicates", True, 0.0, 0.05, "<=", "m")
    assert (err.status, warn.status, ok.status) == (FAIL, WARN, PASS)
    html = checks_table_html([ok, warn, err])
    assert (
        html.index("drift.share")
        < html.index("bias.demographic_parity_ratio.sex")
        < html.index("quality.dup")
    )
    assert "1 failed, 1 warning, 1 passed" in html
    warn_row = re.search(r"<tr class='wb-check-row wb-check-row-warn'.*?</tr>", html).group(0)
    assert ">warn<" in warn_row and "FAIL" not in warn_row and "bias.demographic_parity_ratio.sex" in warn_row


def _run(
    i: int,
    *,
    period: str = "2026-11-01",
    status: str = "passed",
    name: str | None = None,
    failed: tuple = (),
    warned: tuple = (),
    share: float | None = None,
    kind: str = "drift",
    model: str = "model.wbm (abc123)",
    metrics: dict | None = None,
) -> dict:
    checks = [
        {"name": n, "passed": False, "value": 0.5, "threshold": 0.3, "severity": "error"} for n in failed
    ]
    checks += [
        {"name": n, "passed": False, "value": 0.6, "threshold": 0.8, "severity": "warning"} for n in warned
    ]
    m = dict(metrics or {})
    if share is not None:
        m["drift.share"] = share
        checks.append(
            {
                "name": "drift.share",
                "passed": "drift.share" not in failed,
                "value": share,
                "threshold": 0.3,
                "severity": "error",
            }
        )
    return {
        "id": f"run{i:02d}",
        "kind": kind,
        "name": name,
        "status": status,
        "period_label": period,
        "started_at": f"2026-12-01T00:{i:02d}:00",
        "model": model,
        "metrics": m,
        "checks": checks,
        "failed_errors": list(failed),
        "failed_warnings": list(warned),
        "n_errors": len(failed),
        "artifacts": {},
        "path": f"/nowhere/{kind}/run{i:02d}",
        "findings": [],
    }


def test_runs_table_and_run_header_show_warnings_as_warnings():
    from workbench.dashboards import cards
    from workbench.dashboards.runs import run_label

    warned = _run(
        1, kind="bias", warned=("bias.demographic_parity_ratio.sex", "bias.demographic_parity_ratio.race")
    )
    failed = _run(
        2, status="checks_failed", failed=("drift.column.a-very-long-column-name-that-would-spill",) * 5
    )
    html = cards.runs_table_html([warned, failed])
    row = re.search(r"<tr class='wb-row wb-row-passed'.*?</tr>", html).group(0)
    assert "wb-failed-check" not in row and row.count("class='wb-warned-check'") == 2
    assert "passed, 2 warnings" in row and "wb-status-warned" in row
    assert "<th>checks</th>" in html and "failed checks</th>" not in html
    frow = re.search(r"<tr class='wb-row wb-row-checks_failed'.*?</tr>", html).group(0)
    assert frow.count("class='wb-failed-check'") == 3 and "+2 more failed checks" in frow
    assert "title='drift.column.a-very-long-column-name-that-would-spill (failed)'" in frow
    assert "passed, 2 warnings" in cards.run_header_html(warned) and "passed, 2 warnings" in run_label(warned)


def test_runs_table_has_fixed_column_widths_and_chips_that_cannot_spill():
    from workbench.dashboards import cards

    html = cards.runs_table_html([_run(1)])
    assert "<colgroup>" in html and "<col style='width:92px'>" in html
    style = cards.STYLE
    assert "table-layout:fixed" in style
    chip = re.search(r"\.wb-failed-check,\.wb-warned-check\{([^}]*)\}", style).group(1)
    for rule in ("max-width:100%", "overflow:hidden", "text-overflow:ellipsis", "white-space:nowrap"):
        assert rule in chip


# -- 3. long check tables fold, and a run page shows them once -----------------------------------------------
def test_long_check_tables_fold_the_passes_behind_a_count():
    passes = [Check(f"quality.missing.c{i:03d}", True, 0.0, 0.05, "<=", "m") for i in range(128)]
    bad = [Check(f"drift.column.c{i}", False, 0.2, 0.1, "<", "m") for i in range(5)]
    bad += [Check(f"bias.x.{i}", False, 0.6, 0.8, ">=", "m", severity="warning") for i in range(2)]
    html = checks_table_html(passes + bad)
    head, folded = html.split("<details", 1)
    assert "<summary style='cursor:pointer;color:#0969da'>128 checks passed</summary>" in folded
    assert head.count(_ROW) == 7 and folded.count("wb-check-row-pass") == 128
    assert "135 checks: 5 failed, 2 warnings, 128 passed." in head
    # a short table is not folded; an all-passing long one says so
    short = checks_table_html(passes[:3] + bad[:1])
    assert "<details" not in short and short.count(_ROW) == 4
    assert (
        "<summary style='cursor:pointer;color:#0969da'>All 128 checks passed</summary>"
        in checks_table_html(passes)
    )
    assert checks_table_html([]) == ""


def test_result_cards_leave_out_the_checks_a_page_already_shows():
    checks = [Check("a", False, 0.2, 0.1, "<", "m"), Check("b", True, 0.0, 0.1, "<", "m")]
    with checks_shown_above():
        ref = checks_table_html(checks)
    assert "wb-check-row" not in ref and "are in the check table above" in ref and "1 failed, 1 passed" in ref
    assert "wb-check-row" in checks_table_html(checks)  # outside the block: the table again


class _FakeResult:
    """A result as a report holds it (the result protocol): checks, findings, a card with its own check table,
    figures."""

    kind = "drift"
    SCHEMA = 1

    def __init__(self, checks):
        self._checks = checks

    def checks(self, config=None):
        return list(self._checks)

    def findings(self, config=None):
        return ["something drifted"]

    def key_metrics(self):
        return {}

    def _repr_html_(self, config=None):
        return "<div class='card'>" + checks_table_html(self.checks(config)) + "</div>"

    def figures(self):
        from workbench.viz.monitoring import missing_figure

        return {
            "missing": missing_figure(
                [{"name": "age", "reference_missing_share": 0.0, "current_missing_share": 0.0}]
            )
        }

    def to_dict(self):
        return {}


def test_a_run_page_shows_each_check_once_and_an_empty_chart_as_a_sentence(tmp_path, monkeypatch):
    import workbench.dashboards.runview as runview
    from workbench.reports.report import Report

    checks = [Check(f"quality.missing.c{i:02d}", True, 0.0, 0.05, "<=", "m") for i in range(40)]
    checks += [
        Check("drift.column.age", False, 0.2, 0.1, "<", "m"),
        Check("bias.x.sex", False, 0.6, 0.8, ">=", "m", severity="warning"),
    ]
    report = Report("drift", [_FakeResult(checks)], period="2026-11-01")
    monkeypatch.setattr(runview, "load_report", lambda path: (report, None))
    run = _run(1, status="checks_failed", failed=("drift.column.age",), warned=("bias.x.sex",))
    widgets = runview.run_details_widgets(run)
    html = " ".join(w.value for w in widgets if isinstance(getattr(w, "value", None), str))
    assert html.count(_ROW) == len(checks)  # every check once: not in the card again
    assert html.count("<details class='wb-checks-passed'") == 1 and "40 checks passed" in html
    assert "are in the check table above" in html
    assert not any(type(w).__name__ == "FigureWidget" for w in widgets)
    assert "No missing values" in html and "wb-no-data" in html


# -- 4. empty charts are sentences; ratios and differences apart; the headline says more of what -------------
def _empty_inputs():
    from workbench.viz import compression, explain, fairness, figures, monitoring, performance, releases

    attr = {"name": "sex", "columns": ["sex"], "groups": []}
    return {
        monitoring.drift_scores_figure: ([],),
        monitoring.distributions_figure: ([],),
        monitoring.psi_table_figure: ([],),
        monitoring.missing_figure: ([],),
        monitoring.quality_issues_figure: ([],),
        fairness.selection_rate_figure: (attr,),
        fairness.error_rates_figure: (attr,),
        fairness.disparity_figure: ([],),
        fairness.comparison_figure: ([],),
        fairness.intersection_heatmap: ({"name": "sex+race", "columns": ["sex", "race"], "groups": []},),
        performance.performance_metrics_figure: (None, None, None, ["accuracy"]),
        performance.expected_confusion_figure: ([], []),
        performance.calibration_map_figure: ({},),
        performance.performance_trend_figure: ([],),
        figures.leaderboard_figure: ([], "roc_auc"),
        figures.roc_figure: ({"fpr": [], "tpr": []},),
        figures.pr_figure: ({"recall": [], "precision": []},),
        figures.calibration_figure: ({"mean_predicted": [], "fraction_positive": []},),
        figures.confusion_figure: ([], []),
        figures.cost_curve_figure: ({"threshold": [], "cost": []},),
        figures.slices_figure: ([], "accuracy"),
        figures.regression_figure: ({"mean_predicted": [], "mean_actual": []},),
        explain.lime_figure: ({"row_id": 3, "features": []},),
        explain.stability_figure: ([], 5, 3),
        explain.importance_figure: ([], "accuracy"),
        explain.partial_dependence_figure: ({"feature": "age", "grid": []},),
        explain.surrogate_fidelity_figure: ([], 2),
        explain.surrogate_rules_figure: ([],),
        explain.empty_figure: ("No row to explain", "no row matched the selection"),
        compression.frontier_figure: ([], "accuracy"),
        compression.size_figure: ([], "accuracy"),
        releases.delta_figure: (None, 0.95, 0.01),
        releases.group_deltas_figure: (attr, 0.95),
        releases.calibration_figure: (None,),
        releases.operations_figure: (None,),
        releases.disagreement_figure: ({},),
    }


def test_every_figure_builder_says_a_sentence_when_it_has_nothing_to_draw():
    from workbench import viz
    from workbench.viz import compression, explain, fairness, figures, monitoring, performance, releases
    from workbench.viz._empty import no_data_html, no_data_sentence

    cases = _empty_inputs()
    builders = {
        f
        for mod in (compression, explain, fairness, figures, monitoring, performance, releases)
        for name, f in vars(mod).items()
        if inspect.isfunction(f)
        and not name.startswith("_")
        and f.__module__ == mod.__name__
        and (name.endswith("_figure") or name.endswith("_heatmap"))
    }
    assert builders - set(cases) == set(), "a figure builder without an empty-input case here"
    assert set(viz.__all__) <= {f.__name__ for f in cases}
    for build, args in cases.items():
        fig = build(*args)
        sentence = no_data_sentence(fig)
        assert sentence and sentence[0].isupper() and sentence.endswith("."), (build.__name__, sentence)
        assert len(fig.data) == 0 and fig.layout.xaxis.visible is False, build.__name__
        assert no_data_sentence(fig.to_plotly_json()) == sentence  # survives a trip through JSON
        assert _esc(sentence) in no_data_html(fig)


def test_missing_values_without_missing_values_is_a_sentence_not_an_axis():
    from workbench.viz._empty import no_data_sentence
    from workbench.viz.monitoring import missing_figure

    cols = [{"name": c, "reference_missing_share": 0.0, "current_missing_share": 0.0} for c in ("age", "sex")]
    assert "No missing values" in no_data_sentence(missing_figure(cols))
    cols[0]["current_missing_share"] = 0.3
    fig = missing_figure(cols)
    assert no_data_sentence(fig) is None and len(fig.data) == 2 and fig.layout.yaxis.rangemode == "tozero"


def test_display_figure_shows_the_sentence(monkeypatch):
    import IPython.display

    from workbench.viz._display import display_figure
    from workbench.viz.monitoring import missing_figure

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, **kw: shown.append(obj))
    display_figure(missing_figure([]))
    assert len(shown) == 1 and "wb-no-data" in shown[0].data


def test_ratios_and_differences_are_drawn_on_separate_axes():
    from workbench.viz.fairness import comparison_figure, disparity_figure

    rows = [
        {
            "attribute": "sex",
            "metric": "demographic_parity_ratio",
            "value": 0.7,
            "ci": [0.6, 0.8],
            "op": ">=",
            "threshold": 0.8,
        },
        {
            "attribute": "sex",
            "metric": "demographic_parity_difference",
            "value": 0.12,
            "ci": None,
            "op": "<=",
            "threshold": 0.1,
        },
        {
            "attribute": "race",
            "metric": "equalized_odds_difference",
            "value": 0.05,
            "ci": None,
            "op": "<=",
            "threshold": 0.1,
        },
    ]
    fig = disparity_figure(rows)
    axis_of = {}
    for t in fig.data:
        for label in t.y:
            axis_of.setdefault(t.xaxis or "x", set()).add(label.split(" · ")[1])
    assert len(axis_of) == 2
    assert all(("ratio" in m) == ("ratio" in next(iter(ms))) for ms in axis_of.values() for m in ms)
    comp = comparison_figure(
        [{**r, "worsening": 0.02, "reference": 0.7, "current": 0.68, "significant": False} for r in rows]
    )
    assert len({t.xaxis for t in comp.data}) == 2


def test_headline_says_what_the_more_are():
    from workbench.dashboards.headline import headline

    runs = [
        _run(
            i,
            period="2026-11-02",
            status="checks_failed",
            failed=(f"quality.range.col{i}", f"quality.type.x{i}"),
        )
        for i in range(5)
    ]
    runs = [{**r, "model": f"m{i}"} for i, r in enumerate(runs)]  # five series: five latest runs
    assert headline(runs, max_phrases=2).endswith(" and 8 more failed checks in 5 runs.")
    single = [{**r, "checks": r["checks"][:1], "failed_errors": r["failed_errors"][:1]} for r in runs]
    assert headline(single, max_phrases=2).endswith(" and 3 more failed checks in 3 other runs.")
    assert headline(
        single[:1] * 1 + [{**single[0], "id": "again", "period_label": "2026-11-03"}], max_phrases=0
    ).endswith(" and 1 more failed check in 1 other run.")


def test_headline_names_a_failing_segment_beside_a_later_passing_one():
    from workbench.dashboards.headline import headline

    col = "drift.column.age"
    runs = [
        _run(1, period="2026-11-01", name="north", status="checks_failed", failed=(col,)),
        _run(2, period="2026-11-02", name="north", status="checks_failed", failed=(col,)),
        _run(3, period="2026-11-02", name="south"),  # started after the failing segment, passing
    ]
    assert "drift in age since 2026-11-01" in headline(runs)
    # a re-run of the same segment and period that passes replaces the failing run: nothing fails now
    rerun = _run(4, period="2026-11-02", name="north")
    assert "drift in age" not in headline([*runs, rerun])
    assert "drift in age on 2026-11-01" not in headline([*runs, rerun])


def test_headline_numbers_never_read_equal_when_they_are_not():
    from workbench.dashboards.headline import headline

    run = _run(1, status="checks_failed", share=0.3004)
    run["failed_errors"], run["checks"][0]["passed"] = ["drift.share"], False
    text = headline([run])
    assert "drift share 30.04% (above the limit of 30%)" in text, text
    bias = _run(2, kind="bias", status="checks_failed", failed=("bias.demographic_parity_ratio.sex",))
    bias["checks"] = [
        {
            "name": "bias.demographic_parity_ratio.sex",
            "passed": False,
            "value": 0.7996,
            "threshold": 0.8,
            "severity": "error",
        }
    ]
    assert "selection-rate ratio for sex 0.7996 (below 0.8)" in headline([bias]), headline([bias])


# -- 5. trends show every run --------------------------------------------------------------------------------
def test_trends_draw_one_point_per_run_even_several_in_one_period():
    from workbench.dashboards.trends import accuracy_figure, drift_share_figure

    runs = [
        _run(0, period="2026-11-01", name="batch-a", share=0.10),
        _run(1, period="2026-11-01", name="batch-b", share=0.12),
        _run(2, period="2026-11-01", name="batch-c", share=0.11),
        _run(3, period="2026-11-02", name="batch-d", share=0.10),
        _run(
            4,
            period="2026-11-02",
            name="batch-e",
            share=0.60,
            status="checks_failed",
            failed=("drift.share",),
        ),
        _run(5, period="2026-11-02", name="batch-f", share=0.09),
    ]
    for r in runs:
        r["metrics"]["estimated_accuracy"] = 0.85 - r["metrics"]["drift.share"] / 10
    fig = drift_share_figure(runs)
    points = [t for t in fig.data if t.name.startswith("drift share")]
    assert sum(len(t.y) for t in points) == len(runs)
    xs = [x for t in points for x in t.x]
    assert len(set(xs)) == len(runs), "two runs drawn on top of each other"
    assert list(fig.layout.xaxis.ticktext) == ["2026-11-01", "2026-11-02"]
    hovers = [c[1] for t in points for c in t.customdata]
    assert all(any(f"batch-{x}" in h for h in hovers) for x in "abcdef")
    i = list(points[0].y).index(0.60)
    assert points[0].marker.color[i] == "#d62728"  # the failed run is there, and red
    # control limits from every in-control run (five of them), not the last one per period
    vals = [0.10, 0.12, 0.11, 0.10, 0.09]
    mean = sum(vals) / 5
    centre = next(t for t in fig.data if t.name == "centre line")
    assert centre.y[0] == pytest.approx(mean)
    acc = accuracy_figure(runs)
    est = [t for t in acc.data if t.name.startswith("estimated")]
    assert sum(len(t.y) for t in est) == len(runs)


def test_trends_draw_recurring_names_as_their_own_series():
    from workbench.dashboards.trends import drift_share_figure

    runs = [
        _run(i, period=p, name=seg, share=0.1 + i / 100)
        for i, (p, seg) in enumerate(
            (p, s) for p in ("2026-11-01", "2026-11-02", "2026-11-03") for s in ("EU", "US")
        )
    ]
    fig = drift_share_figure(runs)
    series = {t.name: len(t.y) for t in fig.data if t.name.startswith("drift share")}
    assert series == {"drift share · EU": 3, "drift share · US": 3}


def test_fairness_trend_draws_every_bias_run():
    from workbench.dashboards.trends import fairness_figures

    runs = [
        _run(
            i,
            kind="bias",
            period="2026-11-01" if i < 3 else "2026-11-02",
            name=f"b{i}",
            metrics={"bias.impact_ratio.sex.Male": 1.0, "bias.impact_ratio.sex.Female": 0.7 + i / 50},
        )
        for i in range(5)
    ]
    fig = fairness_figures(runs)["sex"]
    female = next(t for t in fig.data if t.name == "Female")
    assert len(female.y) == 5 and len(set(female.x)) == 5


def _esc(text: str) -> str:
    import html

    return html.escape(text)
