"""Model cards and the dashboard's Models page, on a real SQLite-backed MLflow registry and a real report run.

One store for the module (creating one runs MLflow's migrations, ~10 s). `credit` has three versions of a
quick logistic regression on Adult: v1 registered @champion, v2 promoted (deciding on a comparison run),
rolled back to v1, and v3 waiting for approval. One real bias report runs on models:/credit@champion
(papermill, the runner): its lineage names v1. The comparison run stands in for the `compare` report kind
(its own branch): a finished run folder with a summary, a static report and a ledger row, as the run
store writes them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import quick_model
from workbench._html import fmt
from workbench.cli import EXIT_BAD_INPUT, EXIT_OK, main
from workbench.errors import DataError, ModelNotFoundError, ParameterError, RegistryError
from workbench.modeling.artifact import save_model
from workbench.registry import move_alias, register_model, request_approval, rollback
from workbench.releases.card import CARD_HTML, CARD_JSON, CARD_MD, ModelCard, card_dir, write_model_card

COMPARISON = "20261101T090000-compare-v2-abc123"


@pytest.fixture(scope="module")
def files(adult, tmp_path_factory):
    """A quick logistic regression on 2,000 Adult rows, and a labelled window of 800, as files."""
    folder = tmp_path_factory.mktemp("card-inputs")
    window = adult.test.sample(800, random_state=22)
    model = quick_model(adult.train.sample(2000, random_state=21), adult.spec, validation=window)
    window.to_csv(folder / "window.csv", index=False)
    return {"model": save_model(model, folder / "credit.wbm"), "window": folder / "window.csv"}


@pytest.fixture(scope="module")
def store(files, tmp_path_factory):
    """The registry: v1 @champion, v2 promoted on a comparison then rolled back, v3 pending approval."""
    folder = tmp_path_factory.mktemp("card-registry")
    comparisons = tmp_path_factory.mktemp("card-comparisons")
    compare = _comparison_run(comparisons / "reports")
    register_model(files["model"], "credit", registry=folder, aliases=["champion"], by="ann")
    register_model(files["model"], "credit", registry=folder, description="retrained on 2026-10")
    move_alias(
        "credit", "champion", 2, action="promote", by="bob", reason="better AUC", comparison=compare,
        registry=folder,
    )  # fmt: skip
    rollback("credit", by="dan", reason="latency over budget", registry=folder)
    register_model(files["model"], "credit", registry=folder)
    request_approval("credit", 3, by="carol", reason="passes every gate", registry=folder)
    return {"registry": folder, "comparison_reports": comparisons / "reports"}


@pytest.fixture(scope="module")
def reports(files, store):
    """The reports directory of the comparison run, plus one real bias run on models:/credit@champion."""
    root = store["comparison_reports"]
    argv = ["report", "bias", "--data", str(files["window"]), "--model", "models:/credit@champion"]
    argv += ["--registry", str(store["registry"]), "--reports-dir", str(root), "--name", "october"]
    assert main(argv) in (EXIT_OK, 1)
    return root


def _comparison_run(root: Path) -> Path:
    """A finished comparison run as the run store writes one (summary.json, report.html, a ledger row)."""
    from workbench.reports.ledger import Ledger, row_from_summary

    folder = root / "compare" / COMPARISON
    folder.mkdir(parents=True)
    summary = {
        "run_id": COMPARISON,
        "kind": "compare",
        "status": "passed",
        "started_at": "2026-11-01T09:00:00+00:00",
        "headline": "Promote: version 2 is better overall and for every group.",
        "findings": ["Promote: version 2 is better overall and for every group."],
        "checks": [
            {"name": "release.roc_auc_loss", "passed": True, "value": -0.01, "threshold": 0, "op": "<="}
        ],
        "metrics": {"delta_roc_auc": 0.01},
        "lineage": {
            "champion": {"registered": {"name": "credit", "version": 1}},
            "challenger": {"registered": {"name": "credit", "version": 2}},
        },
    }
    (folder / "summary.json").write_text(json.dumps(summary))
    (folder / "report.html").write_text("<html><body>comparison</body></html>")
    Ledger(root).upsert(row_from_summary(summary, folder))
    return folder


def _bias(run_dir: Path) -> dict:
    payload = json.loads((run_dir / "results.json").read_text())
    return next(e["data"] for e in payload["report"]["results"] if e["kind"] == "bias")


def _with_ci(value, ci) -> str:
    return f"{fmt(value, 3)} [{fmt(ci[0], 3)}, {fmt(ci[1], 3)}]"


# -- the card -------------------------------------------------------------------------------------
@pytest.mark.notebook
def test_the_card_names_the_version_aliases_history_checks_and_fairness(store, reports):
    card = write_model_card("models:/credit@champion", reports_dir=reports, registry=store["registry"])
    out = card_dir(reports, "credit", 1)
    assert out == reports / "cards" / "credit" / "1"  # where the dashboard finds it
    md, page = (out / CARD_MD).read_text(), (out / CARD_HTML).read_text()
    assert card.title == "Model card: credit version 1" and md.startswith("# Model card: credit version 1")
    # the registry: this version, the aliases, every alias move with who and why, the pending approval
    assert "models:/credit/1 (@champion)" in md and "@champion → v1" in md
    history = md.split("### Release history")[1].split("###")[0]
    rows = [r for r in history.splitlines() if r.startswith("| 20")]
    assert [r.split(" | ")[1] for r in rows] == ["register", "promote", "rollback", "requested"]
    assert "| bob | better AUC | " + COMPARISON + " (passed) |" in rows[1]
    assert "v2 → v1" in rows[2] and "dan" in rows[2] and "latency over budget" in rows[2]
    assert "| v3 | @champion | carol |" in md.split("### Pending approvals")[1]
    assert "retrained on 2026-10" not in md.split("### Versions")[0]  # v2's description is v2's
    # the bias run: its id, each of its checks, and the fairness numbers with their intervals
    (run,) = [r for r in card.monitoring if r["kind"] == "bias"]
    run_dir = reports / "bias" / run["id"]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert run["id"] in md and summary["checks"]
    for check in summary["checks"]:
        assert f"| {check['name']} |" in md
    bias = _bias(run_dir)
    sex = next(a for a in bias["attributes"] if a["name"] == "sex")
    for group in sex["groups"]:
        cell = _with_ci(group["selection_rate"], group["selection_rate_ci"])
        assert f"| {group['group']} | {fmt(group['count'])} | {cell} |" in md
        assert cell in page
    ratio = sex["disparities"]["demographic_parity_ratio"]
    assert f"| demographic_parity_ratio | {_with_ci(ratio['value'], ratio['ci'])} |" in md
    # what is not on record is said, and the parts only people can write are marked placeholders
    for absent in (
        "No drift and data quality run recorded for this model yet.",
        "No performance run recorded for this model yet.",
        "No global explanation (permutation importance, surrogate rules) is stored for this model.",
        "No leaderboard of the candidates was stored with the model.",
    ):
        assert absent in md and absent in page
    assert "Not stated yet: fill intended_use.primary_uses in model_card_info.yaml." in md
    assert "TODO:" in (out / "model_card_info.yaml").read_text()
    assert card.files["info_template"] == str(out / "model_card_info.yaml")
    # the comparison run names v1 as champion: it belongs to this card too
    assert [c["id"] for c in card.comparisons] == [COMPARISON]
    # self-contained: nothing fetched, no script; and the stored JSON reads back the same card
    assert "<script" not in page and "http://" not in page and "https://" not in page
    stored = json.loads((out / CARD_JSON).read_text())
    assert ModelCard.from_dict(stored).to_dict() == stored == card.to_dict()


@pytest.mark.notebook
def test_another_version_and_a_plain_file_say_what_they_lack(files, store, reports, tmp_path):
    v2 = write_model_card("models:/credit/2", reports_dir=reports, registry=store["registry"])
    md = Path(v2.files["md"]).read_text()
    assert "v2 (this card)" in md and "retrained on 2026-10" in md
    assert (
        "Fairness by group is not known: no bias run recorded for this model yet." in md
    )  # the run was v1's
    assert "No bias (fairness) run recorded for this model yet." in md
    assert [c["id"] for c in v2.comparisons] == [COMPARISON]  # the challenger of that comparison
    # a model file: matched to the bias run by its model hash; no registry part, and it says so
    by_file = write_model_card(files["model"], tmp_path / "file-card", reports_dir=reports)
    text = Path(by_file.files["md"]).read_text()
    assert by_file.registry is None and by_file.fairness is not None
    assert "Not read from the registry: the card was written for a model file, not a models:/ URI." in text
    assert any("given as a file, not a models:/ URI" in m for m in by_file.missing)


def test_filled_info_replaces_the_placeholders(store, tmp_path):
    out = tmp_path / "card"
    first = write_model_card("models:/credit/1", out, registry=store["registry"])
    assert len(first.unstated) == 11
    assert "no reports directory was read" in " ".join(first.missing)
    template = out / "model_card_info.yaml"
    text = template.read_text().replace(
        '"TODO: the decisions this model supports, and how its output is used in them"',
        '"Pre-screening loan applications; a person decides."',
    )
    template.write_text(text.replace('"TODO: known limits', '"Trained on 1994 census data only. TODO-free'))
    again = write_model_card(
        "models:/credit/1", out, registry=store["registry"]
    )  # read from next to the card
    md = Path(again.files["md"]).read_text()
    assert "Pre-screening loan applications; a person decides." in md
    assert "Trained on 1994 census data only." in md
    assert "intended_use.primary_uses" not in again.unstated and len(again.unstated) == 9
    assert "info_template" not in again.files and again.info_file == str(template)
    elsewhere = tmp_path / "info.yaml"
    elsewhere.write_text("intended_use:\n  out_of_scope:\n    - employment decisions\n    - credit limits\n")
    named = write_model_card(
        "models:/credit/1", tmp_path / "named", registry=store["registry"], card_info=elsewhere
    )
    assert "employment decisions\ncredit limits" in named.info["intended_use"]["out_of_scope"]
    assert not (tmp_path / "named" / "model_card_info.yaml").exists()  # a named file: no template


def test_stored_global_explanations_are_in_the_card(adult, files, store, tmp_path):
    """A run holding explanations of this model, stored as the run store does (results.json, a summary)."""
    from workbench.explain import permutation_importance, surrogate_tree
    from workbench.modeling.artifact import load_model
    from workbench.reports.store import RunStore
    from workbench.results import STORE_SCHEMA, result_to_entry

    model = load_model("models:/credit/1", registry=store["registry"])
    rows = adult.test.sample(400, random_state=23)
    importance = permutation_importance(model, rows, n_repeats=2, max_rows=400)
    surrogate = surrogate_tree(model, rows)
    lineage = {"model": {"sha256": model.meta["model_sha256"], "recipe": model.meta["recipe"],
                         "registered": model.registered_as.to_dict()}}  # fmt: skip
    run = RunStore(tmp_path).start("explain", name="global")
    entries = [result_to_entry(importance), result_to_entry(surrogate)]
    payload = {"schema": STORE_SCHEMA, "report": {"kind": "explain", "results": entries, "lineage": lineage}}
    (run.work_dir / "results.json").write_text(json.dumps(payload))
    run.finish({"status": "passed", "lineage": lineage, "checks": [], "findings": importance.findings()})
    card = write_model_card("models:/credit/1", reports_dir=tmp_path, registry=store["registry"])
    md = Path(card.files["md"]).read_text()
    top = importance.features[0]
    assert f"| {top['feature']} | {fmt(top['importance_mean'])} |" in md
    assert f"Surrogate rules (depth {surrogate.max_depth}" in md and surrogate.rules[0]["text"] in md
    assert not any("global explanation" in m for m in card.missing)
    other = write_model_card("models:/credit/2", reports_dir=tmp_path, registry=store["registry"])
    assert other.explanations == []  # the run explained version 1


def test_bad_input_is_one_sentence(store, files, tmp_path):
    reg = store["registry"]
    with pytest.raises(ModelNotFoundError, match="no model named 'nope'"):
        write_model_card("models:/nope/1", tmp_path / "a", registry=reg)
    with pytest.raises(ModelNotFoundError, match="no alias 'retired'"):
        write_model_card("models:/credit@retired", tmp_path / "a", registry=reg)
    with pytest.raises(ModelNotFoundError, match="has no version 9"):
        write_model_card("models:/credit/9", tmp_path / "a", registry=reg)
    garbage = tmp_path / "broken"
    garbage.mkdir()
    (garbage / "registry.db").write_text("not a database " * 50)
    with pytest.raises(RegistryError):
        write_model_card("models:/credit/1", tmp_path / "a", registry=garbage)
    with pytest.raises(ParameterError, match="say where to write the card"):
        write_model_card(files["model"], reports_dir=tmp_path)
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(ParameterError, match="is a file"):
        write_model_card("models:/credit/1", tmp_path / "a-file", registry=reg)
    bad = tmp_path / "bad.yaml"
    for text, words in (("intended_use: [\n", "not valid YAML"), ("- a list\n", "must hold sections"),
                        ("intended_use: text\n", "must hold fields")):  # fmt: skip
        bad.write_text(text)
        with pytest.raises(DataError, match=words):
            write_model_card("models:/credit/1", tmp_path / "b", registry=reg, card_info=bad)
    with pytest.raises(DataError, match="does not exist"):
        write_model_card("models:/credit/1", tmp_path / "b", registry=reg, card_info=tmp_path / "none.yaml")
    assert not (tmp_path / "b").exists()  # refused before anything was written


def test_cli_writes_the_card_and_refuses_bad_input_with_exit_2(store, files, tmp_path, capsys):
    reg = ["--registry", str(store["registry"])]
    assert (
        main(["card", "models:/credit@champion", *reg, "--reports-dir", str(tmp_path), "--json"]) == EXIT_OK
    )
    printed = json.loads(capsys.readouterr().out)
    assert printed["title"] == "Model card: credit version 1"
    assert Path(printed["files"]["html"]) == tmp_path / "cards" / "credit" / "1" / CARD_HTML
    assert main(["card", str(files["model"]), "--out", str(tmp_path / "f")]) == EXIT_OK
    assert "not on record:" in capsys.readouterr().out
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "registry.db").write_text("not a database " * 50)
    for argv in (
        ["card", "models:/nope@champion", *reg],
        ["card", "models:/credit/1", "--registry", str(broken), "--out", str(tmp_path / "x")],
        ["card", str(files["window"]), "--out", str(tmp_path / "x")],
        ["card", str(files["model"])],
    ):
        assert main(argv) == EXIT_BAD_INPUT, argv
        err = capsys.readouterr().err
        assert err.startswith("workbench: error: ") and err.count("\n") == 1 and "Traceback" not in err


def test_the_ledger_skips_the_cards_folder(store, tmp_path):
    from workbench.releases.card import CARDS_DIR
    from workbench.reports.ledger import NOT_RUNS, Ledger

    assert CARDS_DIR in NOT_RUNS
    write_model_card("models:/credit/1", reports_dir=tmp_path, registry=store["registry"])
    _comparison_run(tmp_path)
    ledger = Ledger(tmp_path)
    assert ledger.rebuild() == 1 and ledger.unreadable == []


# -- the Models page ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def served_reports(store, tmp_path_factory):
    """A reports directory holding the comparison run and the card of v1 (none for v2, v3)."""
    root = tmp_path_factory.mktemp("page") / "reports"
    _comparison_run(root)
    write_model_card("models:/credit/1", reports_dir=root, registry=store["registry"])
    return root


def test_models_page_shows_versions_aliases_timeline_pending_and_cards(store, served_reports):
    from workbench.dashboards.links import Links
    from workbench.dashboards.models import load_models, models_page_html

    index = load_models(str(store["registry"]))
    assert index.problems == [] and [m["name"] for m in index.models] == ["credit"]
    page = models_page_html(index, served_reports, Links.for_server(served_reports))
    model = page.split("data-model='credit'")[1]
    assert re.findall(r"data-version='(\d+)'", model) == ["3", "2", "1"]
    assert "<span class='wb-alias wb-alias-champion' data-alias='champion'>@champion → v1</span>" in model
    timeline = model.split("Release timeline")[1]
    assert re.findall(r"wb-move wb-move-(\w+)", timeline) == ["request", "rollback", "promote", "register"]
    assert "latency over budget" in timeline and "better AUC" in timeline and "carol" in timeline
    assert f"href='/voila/files/compare/{COMPARISON}/report.html'" in timeline  # the comparison it names
    assert "Version 3 waits for approval to become @champion" in model
    assert model.count("href='/voila/files/cards/credit/1/model_card.html'") == 1
    assert model.count("none written") == 2  # v2 and v3 have no card yet
    assert "href='/voila/render/index.ipynb'" in page  # back to the runs
    assert "wb-card wb-card-error" not in page and "Traceback" not in page


def test_models_page_error_cards_when_the_registry_cannot_be_read(tmp_path):
    from workbench.dashboards.models import load_models, models_page_html

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "registry.db").write_text("not a database " * 50)
    index = load_models(str(broken))
    assert [p.kind for p in index.problems] == ["registry"] and index.models == []
    detail = index.problems[0].detail
    assert detail.startswith("the registry at broken/registry.db cannot be read") and "\n" not in detail
    assert str(tmp_path) not in detail  # a page never shows the server's paths
    page = models_page_html(index, tmp_path)
    assert page.count("wb-card wb-card-error") == 1 and "data-model" not in page
    empty = load_models(str(tmp_path / "nothing-yet"))
    assert [p.kind for p in empty.problems] == ["no_models"]


def test_the_index_links_to_the_models_page_and_cards_are_served(served_reports):
    from workbench.dashboards.index import IndexDashboard
    from workbench.dashboards.pages import FILE_ALLOWLIST, FILE_DENYLIST

    dash = IndexDashboard(served_reports, links=True)
    assert "href='/voila/render/models.ipynb'" in dash._header_html

    def served(path: str) -> bool:
        return any(re.fullmatch(p, path) for p in FILE_ALLOWLIST) and not any(
            re.fullmatch(p, path) for p in FILE_DENYLIST
        )

    assert served("cards/credit/1/model_card.html") and served("drift/run-1/report.html")
    for refused in (
        "cards/credit/1/model_card.json",
        "cards/credit/1/model_card_info.yaml",
        "cards/credit/1/model_card.md",
        "cards/.hidden/1/model_card.html",
        "cards/credit/../1/model_card.html",
    ):
        assert not served(refused), refused


# -- in Chromium ----------------------------------------------------------------------------------
@pytest.mark.browser
def test_models_page_in_chromium(store, served_reports):
    from tests.browser_util import DashboardServer, assert_no_code, chromium_or_skip, launch, screenshot

    sync_playwright = chromium_or_skip()
    with (
        sync_playwright() as p,
        DashboardServer(served_reports, "--registry", str(store["registry"])) as server,
    ):
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 1000})
            page.goto(f"{server.base}/voila/render/models.ipynb", timeout=180_000)
            page.wait_for_selector(".wb-model[data-model='credit']", timeout=180_000)
            model = page.locator(".wb-model[data-model='credit']")
            versions = model.locator("tr.wb-version").evaluate_all("els => els.map(e => e.dataset.version)")
            assert versions == ["3", "2", "1"]
            assert model.locator(".wb-alias-champion").inner_text() == "@champion → v1"
            moves = model.locator("tr.wb-move").evaluate_all("els => els.map(e => e.className)")
            assert len(moves) == 4 and "wb-move-rollback" in moves[1]
            assert "latency over budget" in model.inner_text()
            assert page.locator(".wb-card-error").count() == 0
            assert_no_code(page)
            screenshot(page, "dashboard-models.png")
            card_url = model.locator("a.wb-card-link").get_attribute("href")
            page.goto(server.base + card_url, timeout=60_000)
            assert "Model card: credit version 1" in page.locator("h1").inner_text()
        finally:
            browser.close()
