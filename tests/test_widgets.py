"""The ipywidgets panels, driven as a user would: set widget values, click buttons, read what they show.

Real data (a sample of UCI Adult), real training, real widgets; work runs synchronously
(``run_in_thread=False``) except where the background thread itself is under test.
"""

from __future__ import annotations

import datetime
import logging
import time

import numpy as np
import pandas as pd
import pytest

from workbench.widgets import (
    AppState,
    CompressPanel,
    DataPanel,
    EvaluatePanel,
    ExplainPanel,
    MonitorPanel,
    TrainPanel,
    Workbench,
    load_state,
)

LIME_SAMPLES = 500  # LIME samples per row where speed, not precision, matters


@pytest.fixture(scope="module")
def lr_result(adult, adult_small):
    """A quick logistic regression on the Adult sample (the fastest recipe to train and to explain)."""
    import workbench as wb

    train_rows, test_rows = adult_small
    return wb.train(
        train_rows,
        adult.spec,
        validation=test_rows,
        recipes=["logistic_regression"],
        quick=True,
        progress=False,
    )


@pytest.fixture()
def with_model(state, lr_result):
    state.model = lr_result.champion
    return state


# -- state and app ------------------------------------------------------------------------------
def test_work_runs_synchronously_outside_a_kernel_and_the_state_describes_itself(state, lr_result):
    assert AppState().run_in_thread is False  # no live kernel in pytest
    assert "No data loaded" in AppState().describe()
    assert state.describe().startswith("Data: adult (4,000 rows, 3,000 held out; target: income). No model")
    state.model = lr_result.champion
    assert "Model: logistic_regression, not saved" in state.describe()


def test_workbench_loads_adult_by_default_and_runs_nothing_else():
    app = Workbench()
    st = app.state
    assert (len(st.data), len(st.validation), st.spec.target) == (32561, 16281, "income")
    assert [app.tabs.get_title(i) for i in range(len(app.panels))] == [
        "Data",
        "Train",
        "Compress",
        "Explain",
        "Evaluate",
        "Monitor",
        "Fairness",
        "Release",
    ]
    assert st.model is None and st.evaluation is None and st.train_result is None
    assert "adult (32,561 rows, 16,281 held out; target: income)" in app.header.value
    assert all(not p.banner.message for p in app.panels)
    assert app.data.target.value == "income" and set(app.data.sensitive.value) == {"sex", "race"}


def test_load_state_holds_out_a_seeded_stratified_share_of_a_file(tmp_path, adult_small):
    path = tmp_path / "loans.csv"
    adult_small[0].head(1000).to_csv(path, index=False)
    a = load_state(data_path=str(path), target="income", sensitive=["sex"])
    b = load_state(data_path=str(path), target="income", sensitive=["sex"])
    assert (len(a.data), len(a.validation)) == (800, 200)
    assert list(a.validation.index) == list(b.validation.index)  # seeded
    share = adult_small[0].head(1000)["income"].eq(">50K").mean()
    assert abs(a.validation["income"].eq(">50K").mean() - share) < 0.01  # stratified
    assert a.spec.sensitive == ["sex"] and a.dataset == str(path)


# -- DataPanel ------------------------------------------------------------------------------------
def test_data_panel_loads_a_demo_and_applies_edited_roles():
    st = AppState(run_in_thread=False)
    panel = DataPanel(st)
    panel.dataset.value = "breast_cancer"
    panel.load_demo_button.click()
    assert (
        st.dataset == "breast_cancer" and st.spec.target == "target" and st.spec.positive_label == "malignant"
    )
    assert len(st.validation) > 100 and "Loaded breast_cancer" in panel.banner.message

    panel.dataset.value = "adult"
    panel.load_demo_button.click()
    assert (len(st.data), len(st.validation)) == (32561, 16281)
    panel.sensitive.value = ("sex", "age")
    panel.excluded.value = ("fnlwgt",)
    panel.apply_button.click()
    assert panel.banner.level == "info", panel.banner.message
    assert st.spec.sensitive == ["sex", "age"] and "fnlwgt" not in st.spec.features
    assert st.spec.excluded == {"fnlwgt": "excluded by you"} and st.spec.positive_label == ">50K"
    assert (len(st.data), len(st.validation)) == (32561, 16281)  # the official split is kept
    assert "excluded: excluded by you" in panel.roles.value


def test_data_panel_reads_a_path_and_an_upload(tmp_path, adult_small):
    table = adult_small[0].head(600)
    path = tmp_path / "applicants.csv"
    table.to_csv(path, index=False)
    st = AppState(run_in_thread=False)
    panel = DataPanel(st)
    panel.path.value, panel.path_target.value = str(path), "income"
    panel.load_file_button.click()
    assert (len(st.data), len(st.validation)) == (480, 120) and st.spec.target == "income"
    assert panel.target.value == "income" and "age" in panel.target.options

    parquet = tmp_path / "upload.parquet"
    table.rename(columns={"income": "label"}).to_parquet(parquet, index=False)
    panel.path_target.value = ""
    panel.upload.value = (
        {
            "name": "upload.parquet",
            "type": "",
            "size": parquet.stat().st_size,
            "content": memoryview(parquet.read_bytes()),
            "last_modified": datetime.datetime.now(datetime.UTC),
        },
    )
    assert panel.banner.level == "info", panel.banner.message
    assert st.dataset == "upload.parquet" and st.spec.target == "label"  # guessed from its name
    assert len(st.data) + len(st.validation) == 600


@pytest.fixture(params=["plain", "kernel"])
def shell(request):
    """Run a test as a script would, and as in a kernel (an IPython shell exists: ipywidgets' Output then
    prints and swallows exceptions leaving a `with output:` block)."""
    if request.param == "plain":
        yield None
        return
    from IPython.core.interactiveshell import InteractiveShell

    yield InteractiveShell.instance()
    InteractiveShell.clear_instance()


def test_data_panel_shows_bad_input_as_a_banner(tmp_path, adult_small, shell):
    st = AppState(run_in_thread=False)
    panel = DataPanel(st)
    panel.path.value = str(tmp_path / "missing.csv")
    panel.load_file_button.click()
    assert panel.banner.level == "error"
    assert panel.banner.message == f"the data file '{tmp_path / 'missing.csv'}' does not exist"

    path = tmp_path / "no_target.csv"
    adult_small[0].drop(columns="income").head(200).to_csv(path, index=False)
    panel.path.value, panel.path_target.value = str(path), "income"
    panel.load_file_button.click()
    assert (
        panel.banner.level == "error"
        and "the target column 'income' is not in the table" in panel.banner.message
    )
    assert st.data is None  # nothing was half-loaded
    assert "Traceback" not in panel.banner.value


# -- TrainPanel and the flow through the app ---------------------------------------------------------
def test_train_panel_trains_and_the_state_flows_to_evaluate_and_explain(state, tmp_path):
    app = Workbench(state, dataset=None)
    panel = app.train
    assert set(panel.recipes.options) == {"logistic_regression", "random_forest", "hist_gradient_boosting"}
    panel.recipes.value = ("logistic_regression", "random_forest")
    panel.quick.value = True
    panel.train_button.click()
    result = state.train_result
    assert panel.banner.level == "info", panel.banner.message
    assert panel.leaderboard_rows == result.leaderboard().reset_index().to_dict("records")
    assert [r["name"] for r in panel.leaderboard_rows] == list(result.leaderboard().index)
    assert panel.champion.value == result.champion_name and state.model is result.champion
    assert list(panel.chart.figure.data[0].text) == [c.name for c in result.candidates]
    _assert_point_labels_fit(panel.chart.figure)
    # the other panels picked it up
    assert state.evaluation is not None and state.evaluation.model_name == result.champion_name
    assert app.evaluate.confusion.figure is not None
    assert list(app.explain.feature.options) == state.spec.features
    assert result.champion_name in app.header.value and "not saved" in app.header.value

    other = next(n for n in panel.champion.options if n != result.champion_name)
    panel.champion.value = other
    assert state.model is result[other].model and state.evaluation.model_name == other

    panel.path.value = str(tmp_path / "chosen.wbm")
    panel.save_button.click()
    assert state.model_path == str(tmp_path / "chosen.wbm") and (tmp_path / "chosen.wbm").is_file()
    assert f"saved at {tmp_path / 'chosen.wbm'}" in app.header.value
    panel.load_button.click()
    assert state.model is not result[other].model and state.model.name == other
    assert state.evaluation.metrics["roc_auc"] == pytest.approx(result[other].metrics["roc_auc"])


def test_busy_work_runs_in_a_thread_with_the_buttons_disabled(state):
    state.run_in_thread = True
    panel = TrainPanel(state)
    panel.recipes.value = ("logistic_regression",)
    panel.quick.value = True
    panel.train_button.click()
    assert panel.busy and panel.train_button.disabled and "Training 1 candidate" in panel.status_text()
    panel.train_button.click()  # a second click while busy is refused politely
    assert panel.banner.level == "info" and panel.banner.message.startswith("Still busy")
    panel.wait(300)
    assert not panel.busy and not panel.train_button.disabled and panel.status.value == ""
    assert state.model is not None and state.model.name == "logistic_regression"


def test_a_model_that_does_not_fit_the_data_is_refused_with_a_banner(lr_result, tmp_path):
    import workbench as wb

    path = wb.save_model(lr_result.champion, tmp_path / "adult.wbm")
    st = load_state("breast_cancer")
    st.run_in_thread = False
    app = Workbench(st, dataset=None)
    app.train.path.value = str(path)
    app.train.load_button.click()
    assert app.train.banner.level == "error"
    assert "are missing from the data (breast_cancer)" in app.train.banner.message
    assert st.model is None
    st.model = lr_result.champion  # set from code: the evaluation is refused, not crashed
    assert (
        app.evaluate.banner.level == "error"
        and "missing from the held-out data" in app.evaluate.banner.message
    )
    assert st.evaluation is None


def test_an_unexpected_error_shows_its_type_and_is_logged(state, caplog):
    panel = EvaluatePanel(state)
    with caplog.at_level(logging.ERROR, logger="workbench.widgets"):
        state.model = "not a model"
    assert panel.banner.level == "error"
    assert panel.banner.message.startswith("Unexpected error (AttributeError: ")
    assert any("unexpected error" in r.getMessage() for r in caplog.records)


# -- EvaluatePanel ----------------------------------------------------------------------------------
def test_evaluate_panel_threshold_slider_follows_at_threshold(with_model):
    st = with_model
    panel = EvaluatePanel(st)
    assert st.evaluation is None  # nothing heavy at construction
    panel.evaluate_button.click()
    ev = st.evaluation
    assert ev.n_rows == 3000 and panel.threshold.value == pytest.approx(ev.threshold)
    assert panel.threshold.continuous_update
    for t in (0.1, 0.35, 0.8):
        panel.threshold.value = t
        r = ev.at_threshold(t)
        assert panel.current == r
        assert [list(row) for row in panel.confusion.figure.data[0].z] == [
            [r["tn"], r["fp"]],
            [r["fn"], r["tp"]],
        ]
        assert f"{t:.3f}" in panel.confusion.figure.layout.title.text
    calib = panel.calibration.figure.data[0]
    assert list(calib.x) == pytest.approx(ev.curves["calibration"]["mean_predicted"])
    worst = [s for s in ev.slices if not s["too_small"]][0]
    assert panel.slices.value.index(worst["value"]) < panel.slices.value.index("</tbody>")

    panel.cost_fn.value = 10.0
    assert st.evaluation is ev  # costs unused yet: no evaluation again
    panel.use_cost.value = True
    ev2 = st.evaluation
    assert ev2 is not ev and ev2.cost == {"fn": 10.0, "fp": 1.0, "tp": 0.0, "tn": 0.0}
    panel.threshold.value = 0.2
    r = ev2.at_threshold(0.2)
    assert panel.current["cost"] == r["cost"] == 10 * r["fn"] + r["fp"]
    assert f"{r['cost']:,}" in panel.at_threshold.value or f"{r['cost']:,.0f}" in panel.at_threshold.value


@pytest.mark.slow
def test_threshold_slider_is_well_under_100ms_on_100k_rows(adult, lr_result):
    rows = pd.concat([adult.train, adult.test], ignore_index=True).sample(
        100_000, replace=True, random_state=0
    )
    st = AppState(data=rows.iloc[:10], validation=rows, spec=adult.spec, run_in_thread=False)
    panel = EvaluatePanel(st)
    st.model = lr_result.champion
    assert st.evaluation.n_rows == 100_000
    times = []
    for t in np.linspace(0.05, 0.95, 40):
        t0 = time.perf_counter()
        panel.threshold.value = float(t)
        times.append(time.perf_counter() - t0)
    assert panel.current == st.evaluation.at_threshold(0.95)
    assert np.median(times) < 0.1, f"median {np.median(times) * 1e3:.1f} ms per slider move"


# -- ExplainPanel -------------------------------------------------------------------------------------
def test_explain_panel_row_worst_errors_and_global_views(with_model):
    from workbench import explain as ex

    st = with_model
    panel = ExplainPanel(st)
    panel.samples.value = LIME_SAMPLES
    label = st.validation.index[7]
    panel.row.value = str(label)
    panel.explain_button.click()
    assert not panel.banner.message, panel.banner.message
    assert st.selected_row == label
    expected = ex.explain_local(
        st.model, st.validation, rows=[label], reference=st.data, num_samples=LIME_SAMPLES
    )
    e = expected[label]
    bars = panel.lime_chart.figure.data[0]
    assert list(bars.x) == [f["weight"] for f in e.features][::-1]
    assert list(bars.y) == [f["condition"] for f in e.features][::-1]
    assert e.sentence() in panel.sentence.value.replace("&#x27;", "'").replace("&gt;", ">").replace(
        "&lt;", "<"
    )

    other = st.validation.index[11]
    st.selected_row = other  # set by code or another panel: the panel explains that row
    assert panel.row.value == str(other) and panel.explained.options == (str(other),)

    panel.error_kind.value = "false_negative"
    panel.n_errors.value = 3
    panel.errors_button.click()
    assert panel.local.selection["method"] == "worst_errors" and len(panel.explained.options) == 3
    assert all(e.error == "false negative" for e in panel.local)
    panel.explained.value = panel.explained.options[2]
    third = panel.local.explanations[2]
    assert list(panel.lime_chart.figure.data[0].x) == [f["weight"] for f in third.features][::-1]

    panel.importance_button.click()
    ranking = panel.importance.ranking
    assert list(panel.importance_chart.figure.data[0].y) == ranking[::-1]
    assert panel.feature.value == ranking[0]
    panel.dependence_button.click()
    assert panel.dependence.feature == ranking[0]
    assert list(panel.dependence_chart.figure.data[-1].y) == pytest.approx(panel.dependence.average)
    panel.surrogate_button.click()
    assert panel.rules.value == panel.surrogate.rules_text() and panel.rules.value.startswith("IF ")
    assert "fidelity" in panel.surrogate_text.value


def test_explain_panel_shap_rows_worst_errors_summary_and_dependence(state, adult, adult_small):
    """SHAP chosen in the panel: a waterfall per row in original columns, the summary and its dependence."""
    import html

    import workbench as wb
    from workbench import explain as ex

    state.model = wb.train(
        adult_small[0], adult.spec, recipes=["random_forest"], quick=True, progress=False
    ).champion
    panel = ExplainPanel(state)
    panel.method.value = "SHAP"
    label = state.validation.index[7]
    panel.row.value = str(label)
    panel.explain_button.click()
    assert not panel.banner.message, panel.banner.message
    assert panel.local.kind == "shap_explanation" and panel.local.method == "tree"
    expected = ex.explain_shap(state.model, state.validation, rows=[label])[label]
    bars = panel.lime_chart.figure.data[0]
    assert type(bars).__name__ == "Waterfall" and list(bars.x)[::-1][:3] == [
        c["shap"] for c in expected.top(3)
    ]
    assert bars.y[-1].startswith(expected.contributions[0]["feature"] + " = ")
    assert panel.local.sentence(label) in html.unescape(panel.sentence.value)
    assert panel.local.sentence(label).startswith(f"Row {label}: probability of '>50K'")

    panel.n_errors.value = 2
    panel.errors_button.click()
    assert panel.local.kind == "shap_explanation" and len(panel.explained.options) == 2
    assert all(e.error == "false negative" for e in panel.local)

    panel.importance_button.click()
    assert not panel.banner.message, panel.banner.message
    summary = panel.shap
    assert summary.kind == "shap_summary" and [a["method"] for a in summary.agreement] == [
        "permutation importance",
        "LIME",
    ]
    assert panel.feature.value == summary.ranking[0]
    assert panel.importance_chart.figure.layout.yaxis.ticktext[-1] == summary.ranking[0]  # the beeswarm
    panel.feature.value = "age"
    panel.dependence_button.click()
    assert panel.dependence_chart.figure.layout.title.text.startswith("SHAP dependence on 'age'")


def test_explain_panel_bad_rows_are_banners(with_model):
    panel = ExplainPanel(with_model)
    panel.row.value = "abc"
    panel.explain_button.click()
    assert (
        panel.banner.level == "error"
        and panel.banner.message == "rows are numbered: 'abc' is not a row number"
    )
    panel.row.value = "99999999"
    panel.explain_button.click()
    assert panel.banner.message == "row 99999999 is not in the data (rows are named by the data's index)"
    with_model.model = None
    panel.importance_button.click()
    assert panel.banner.message == "train or load a model first"


# -- CompressPanel -----------------------------------------------------------------------------------
def test_compress_panel_runs_a_study_and_a_picked_variant_becomes_the_model(with_model, tmp_path):
    st = with_model
    panel = CompressPanel(st)
    evaluate = EvaluatePanel(st)
    panel.techniques.value = ("onnx",)
    panel.quick.value = True
    panel.out.value = str(tmp_path / "compressed")
    panel.run_button.click()
    study = st.study
    assert panel.banner.level == "info" and panel.banner.message == study.findings()[0]
    assert [r["variant"] for r in panel.table_rows] == [v.name for v in study.variants]
    assert panel.chart.figure is not None and len(panel.chart.figure.data) >= 1
    assert "onnx" in panel.variant.options and panel.variant.value == study.chosen
    panel.variant.value = "onnx"
    panel.use_button.click()
    assert st.model.kind == "onnx" and st.model_path == study["onnx"].path
    assert (tmp_path / "compressed" / "compression.json").is_file()
    assert st.evaluation.model_name == st.model.name  # evaluated again for the variant
    assert not evaluate.banner.message


# -- MonitorPanel ------------------------------------------------------------------------------------
def test_monitor_panel_finds_the_injected_drift_in_a_simulated_batch(with_model):
    st = with_model
    panel = MonitorPanel(st)
    panel.batch_size.value = 1500
    panel.simulate_button.click()
    names = list(panel.batch.options)
    assert len(names) >= 10 and names[0].endswith("clean")
    shifted = next(n for n in names if "covariate_shift" in n)
    panel.batch.value = shifted
    injected = panel.batches[shifted].manifest["drifted_columns"]
    assert injected and injected[0] in panel.manifest.value
    panel.check_button.click()
    assert panel.banner.level == "info", panel.banner.message
    drift = panel.results["drift"]
    assert set(injected) <= set(drift.drifted_columns)
    assert set(panel.results) == {"drift", "quality", "bias"}
    assert "drift" in panel.cards.value.lower() and panel.drift_chart.figure is not None
    assert panel.bias_chart.figure is not None

    panel.path.value = "/nonexistent/batch.parquet"
    panel.check_button.click()
    assert panel.banner.level == "error" and "does not exist" in panel.banner.message


def test_monitor_panel_checks_a_date_of_the_prediction_log(with_model, tmp_path):
    from tests.predlog_util import write_log

    st = with_model
    model = st.model
    rows = st.validation.sample(1200, random_state=3).reset_index(drop=True)
    shifted = rows.assign(age=(rows["age"] * 1.6).round().clip(17, 90))
    features = shifted[model.spec.features]
    logged = features.assign(_proba=model.predict_score(features))
    logged["_time"] = [f"2026-11-0{2 + i // 600}T12:00:00+00:00" for i in range(len(logged))]
    write_log(tmp_path / "log", logged)
    panel = MonitorPanel(st)
    panel.log_dir.value = str(tmp_path / "log")
    assert (
        list(panel.log_date.options) == ["2026-11-03", "2026-11-02"] and panel.log_date.value == "2026-11-03"
    )
    panel.check_button.click()
    assert panel.banner.level == "info" and panel.banner.message.startswith("log-2026-11-03:")
    assert "age" in panel.results["drift"].drifted_columns
    assert panel.results["drift"].n_current == 600  # one date, the log's own columns left out
    panel.log_dir.value = str(tmp_path)
    assert panel.banner.level == "error" and "is not a prediction log folder" in panel.banner.message
    assert list(panel.log_date.options) == []


@pytest.mark.notebook
@pytest.mark.slow
def test_monitor_panel_runs_a_report_in_the_background(with_model, tmp_path):
    st = with_model
    st.run_in_thread = True
    panel = MonitorPanel(st)
    panel.batch_size.value = 800
    panel.simulate_button.click()
    panel.wait(120)
    panel.batch.value = next(n for n in panel.batch.options if "covariate_shift" in n)
    panel.reports_dir.value = str(tmp_path / "reports")
    panel.report_button.click()
    assert panel.busy and panel.check_button.disabled
    panel.wait(600)
    assert not panel.busy and panel.banner.level == "info", panel.banner.message
    outcome = panel.outcome
    assert outcome.exit_code == 0 and (outcome.run_dir / "report.html").is_file()
    assert "report.html" in panel.link.value and outcome.summary["status"] in ("passed", "checks_failed")
    assert any(c["name"].startswith("drift.") for c in outcome.summary["checks"])


# -- panels that fit: charts, labels, defaults (issue 11 item 4) ------------------------------------------
def _widgets(root):
    stack, out = [root], []
    while stack:
        widget = stack.pop()
        out.append(widget)
        stack.extend(getattr(widget, "children", ()) or ())
    return out


def test_evaluate_charts_have_sizes_and_margins_that_fit_the_panel(with_model):
    from workbench.widgets._evaluate import CHART_HEIGHT, CHART_WIDTH

    panel = EvaluatePanel(with_model)
    panel.evaluate_button.click()
    row = next(
        wd for wd in _widgets(panel) if getattr(wd, "children", None) == (panel.confusion, panel.calibration)
    )
    assert row.layout.flex_flow == "row wrap"  # a narrow panel wraps the two charts instead of clipping them
    for slot in (panel.confusion, panel.calibration):
        lay = slot.figure.layout
        assert (lay.width, lay.height, lay.autosize) == (CHART_WIDTH, CHART_HEIGHT, False)
        assert slot.layout.width == f"{CHART_WIDTH + 8}px" and slot.layout.flex == "0 0 auto"
        assert lay.margin.l >= 70 and lay.margin.b >= 70 and lay.margin.t >= 50  # axis titles and ticks fit
        assert lay.width - lay.margin.l - lay.margin.r >= 300  # and the plot keeps most of the room
    assert 2 * (CHART_WIDTH + 8) <= 900
    legend = panel.calibration.figure.layout.legend
    assert legend.orientation == "h" and legend.y < 0  # below the plot, not eating its width
    panel.threshold.value = 0.3  # the slider redraws in place: the size stays
    assert panel.confusion.figure.layout.width == CHART_WIDTH
    assert "0.300" in panel.confusion.figure.layout.title.text


def _assert_point_labels_fit(fig):
    import math

    trace = fig.data[0]
    assert trace.cliponaxis is False and trace.mode == "markers+text"
    logs = [math.log10(x) for x in trace.x]
    lo, hi = fig.layout.xaxis.range  # decades on the log axis
    assert lo <= min(logs) - 0.25 and hi >= max(logs) + 0.25, (lo, hi, logs)
    y_lo, y_hi = fig.layout.yaxis.range
    assert y_hi > max(trace.y) and y_lo < min(trace.y)
    assert fig.layout.margin.r >= 40 and fig.layout.margin.t >= 60


def test_leaderboard_chart_leaves_room_for_its_point_labels(state, lr_result):
    panel = TrainPanel(state)
    state.train_result = lr_result
    assert list(panel.chart.figure.data[0].text) == ["logistic_regression"]
    _assert_point_labels_fit(panel.chart.figure)


def test_explain_tab_says_a_model_is_needed_first(state, lr_result):
    from workbench.widgets._explain import NEEDS_MODEL

    app = Workbench(state, dataset=None)
    panel = app.explain
    assert panel.notice.level == "info" and panel.notice.message == NEEDS_MODEL
    assert panel.notice.layout.display is None and "Train tab" in panel.notice.value
    assert not panel.banner.message  # a notice, not an error
    assert all(
        b.disabled
        for b in (
            panel.explain_button,
            panel.errors_button,
            panel.importance_button,
            panel.dependence_button,
            panel.surrogate_button,
        )
    )
    state.model = lr_result.champion
    assert panel.notice.message == "" and panel.notice.layout.display == "none"
    assert not any(b.disabled for b in panel._buttons)
    state.model = None
    assert panel.notice.message == NEEDS_MODEL and panel.explain_button.disabled


def test_labels_are_never_cut_short(state):
    app = Workbench(state, dataset=None)
    labelled = [wd for wd in _widgets(app) if getattr(wd, "description", "") and not hasattr(wd, "on_click")]
    assert len(labelled) > 30
    for wd in labelled:
        style = getattr(wd, "style", None)
        if style is not None and "description_width" in style.keys:
            assert style.description_width == "initial", (type(wd).__name__, wd.description)
    assert app.explain.samples.description == "LIME samples"
    assert app.explain.samples.style.description_width == "initial"
    checkboxes = [wd for wd in labelled if type(wd).__name__ == "Checkbox"]
    assert checkboxes and all(cb.layout.width == "auto" for cb in checkboxes)


def test_saving_does_not_replace_an_existing_file_unless_asked(with_model, tmp_path):
    panel = TrainPanel(with_model)
    assert panel.overwrite.value is False and panel.overwrite.description == "Replace an existing file"
    panel.path.value = str(tmp_path / "model.wbm")
    panel.save_button.click()
    assert panel.banner.level == "info", panel.banner.message
    before = (tmp_path / "model.wbm").stat().st_mtime_ns
    panel.save_button.click()
    assert panel.banner.level == "error"
    assert panel.banner.message == (
        f"'{tmp_path / 'model.wbm'}' already exists; choose another path, or tick "
        "'Replace an existing file' to overwrite it"
    )
    assert (tmp_path / "model.wbm").stat().st_mtime_ns == before
    panel.overwrite.value = True
    panel.save_button.click()
    assert panel.banner.level == "info" and panel.banner.message.startswith("Saved ")
