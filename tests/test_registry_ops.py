"""Release operations on a real SQLite-backed MLflow registry: audit records, rollback, approvals, races, CLI.

One store for the module (creating one runs MLflow's migrations, several seconds); each test uses its own
model name, so the tests do not depend on each other's moves.
"""

from __future__ import annotations

import json
import multiprocessing
import shutil
import socket
import time

import pytest

from tests.conftest import adult_model
from workbench.cli import EXIT_BAD_INPUT, EXIT_OK, main
from workbench.errors import ModelNotFoundError, RegistryError, RegistryValueError, ReleaseStateError
from workbench.modeling.artifact import save_model
from workbench.registry import (
    AliasMove,
    approve,
    describe_model,
    get_alias,
    history,
    list_models,
    move_alias,
    pending,
    register_model,
    registry_location,
    request_approval,
    rollback,
    set_alias,
)


@pytest.fixture(scope="module")
def model_file(adult, tmp_path_factory):
    """A quick logistic regression on 1,500 Adult rows, saved as a workbench artifact."""
    model = adult_model(adult, 1500, 400, seed=3)
    return save_model(model, tmp_path_factory.mktemp("models") / "credit.wbm")


@pytest.fixture(scope="module")
def store(model_file, tmp_path_factory):
    """The module's registry folder (MLflow's embedded SQLite store), created by a first registration."""
    folder = tmp_path_factory.mktemp("registry")
    register_model(model_file, "seed", registry=folder)
    return folder


def _versions(model_file, store, name: str, n: int, **kw) -> list[int]:
    return [register_model(model_file, name, registry=store, **kw).version for _ in range(n)]


def _one_sentence(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text and text.strip() and "Traceback" not in text
    return text


# -- audit records ---------------------------------------------------------------------------------
def test_every_alias_move_is_a_record_oldest_first(model_file, store, tmp_path):
    v1 = register_model(model_file, "credit", registry=store, aliases=["champion"], by="ann")
    assert v1.aliases == ("champion",)
    (v2,) = _versions(model_file, store, "credit", 1)
    comparison = tmp_path / "compare-run"
    comparison.mkdir()
    moved = move_alias(
        "credit",
        "champion",
        v2,
        action="promote",
        by="bob",
        reason="better AUC",
        comparison=comparison,
        registry=store,
    )
    assert (moved.from_version, moved.to_version, moved.observed_version) == (1, 2, 2)
    assert moved.by == "bob" and moved.reason == "better AUC" and not moved.forced
    assert moved.comparison == str(comparison.resolve())
    assert get_alias("credit", "champion", registry=store).version == 2

    records = history("credit", registry=store)
    assert [(r.action, r.from_version, r.to_version, r.by) for r in records] == [
        ("register", None, 1, "ann"),
        ("promote", 1, 2, "bob"),
    ]
    assert records[1] == moved and records[0].when < records[1].when
    assert all(r.key.startswith("workbench.audit.") for r in records)
    assert AliasMove.from_dict(json.loads(json.dumps(moved.to_dict()))) == moved
    assert "promote" in moved.text() and "v1 -> v2" in moved.text() and "better AUC" in moved._repr_html_()

    from mlflow import MlflowClient  # the records are the registered model's own tags in MLflow

    tags = MlflowClient(tracking_uri=registry_location(store).uri).get_registered_model("credit").tags
    assert json.loads(tags[moved.key])["to_version"] == 2

    forced = move_alias("credit", "champion", 1, action="force", reason="incident 42", registry=store)
    assert forced.forced and forced.action == "force" and forced.by  # the OS user when no `by`
    with pytest.raises(RegistryValueError, match="forced move needs a reason"):
        move_alias("credit", "champion", 2, action="promote", forced=True, registry=store)
    with pytest.raises(ReleaseStateError, match="version 1 of 'credit' is already @champion") as err:
        move_alias("credit", "champion", 1, action="promote", registry=store)
    _one_sentence(err.value)
    with pytest.raises(ModelNotFoundError, match="has no version 9 .versions: 1, 2"):
        move_alias("credit", "champion", 9, action="promote", registry=store)
    with pytest.raises(RegistryValueError, match="not an alias move"):
        move_alias("credit", "champion", 2, action="request", registry=store)
    assert len(history("credit", registry=store)) == 3  # refusals leave no record


def test_rollback_moves_back_to_the_previous_champion_and_is_recorded(model_file, store):
    v1, v2, v3 = _versions(model_file, store, "loans", 3)
    with pytest.raises(ReleaseStateError, match="no move of @champion through workbench is left to undo"):
        rollback("loans", registry=store)
    move_alias("loans", "champion", v1, action="promote", by="ann", registry=store)
    with pytest.raises(
        ReleaseStateError, match="no previous champion of 'loans'.*version 1 is the first"
    ) as e:
        rollback("loans", registry=store)
    _one_sentence(e.value)
    move_alias("loans", "champion", v2, action="promote", registry=store)
    move_alias("loans", "champion", v3, action="promote", registry=store)
    back = rollback("loans", by="carol", reason="latency regression", registry=store)
    assert (back.action, back.from_version, back.to_version, back.by) == ("rollback", 3, 2, "carol")
    assert get_alias("loans", "champion", registry=store).version == 2
    assert [r.action for r in history("loans", registry=store)] == ["promote"] * 3 + ["rollback"]
    # a second rollback goes one more move back: it never brings back the version just rolled back from
    again = rollback("loans", registry=store)
    assert (again.from_version, again.to_version) == (2, 1)
    with pytest.raises(ReleaseStateError, match="version 1 is the first @champion on record"):
        rollback("loans", registry=store)
    move_alias("loans", "champion", v3, action="promote", registry=store)  # a new move stands again
    assert rollback("loans", registry=store).to_version == 1

    set_alias("loans", "champion", v2, registry=store)  # moved outside workbench: the history is out of step
    with pytest.raises(ReleaseStateError, match="points at version 2, not version 1.*outside workbench"):
        rollback("loans", registry=store)
    with pytest.raises(ModelNotFoundError, match="no model named 'nope'"):
        rollback("nope", registry=store)


def test_a_release_waits_for_approval_and_only_a_pending_one_is_approved(model_file, store, tmp_path):
    v1, v2, v3 = _versions(model_file, store, "scoring", 3)
    move_alias("scoring", "champion", v1, action="register", registry=store)
    request = request_approval(
        "scoring", v2, by="dev", reason="gate passed", comparison="run-123", registry=store
    )
    assert (request.action, request.from_version, request.to_version) == ("request", 1, 2)
    assert not request.moves_alias and get_alias("scoring", "champion", registry=store).version == 1
    assert pending("scoring", registry=store) == [request]
    with pytest.raises(ReleaseStateError, match="already pending approval .requested by dev"):
        request_approval("scoring", v2, registry=store)
    with pytest.raises(ReleaseStateError, match="already @champion: there is nothing to approve"):
        request_approval("scoring", v1, registry=store)

    with pytest.raises(
        ReleaseStateError, match="version 3 of 'scoring' is not pending approval.*pending: 2"
    ) as e:
        approve("scoring", v3, by="lead", registry=store)
    _one_sentence(e.value)
    with pytest.raises(RegistryValueError, match="needs the name of who approves"):
        approve("scoring", v2, by="  ", registry=store)
    approved = approve("scoring", v2, by="lead", registry=store)
    assert (approved.action, approved.from_version, approved.to_version) == ("approve", 1, 2)
    assert approved.by == "lead" and approved.requested_by == "dev"
    assert approved.reason == "gate passed" and approved.comparison == "run-123"
    assert get_alias("scoring", "champion", registry=store).version == 2
    assert pending("scoring", registry=store) == []
    with pytest.raises(ReleaseStateError, match="not pending approval.*pending: none"):
        approve("scoring", v2, by="lead", registry=store)
    assert [r.action for r in history("scoring", registry=store)] == ["register", "request", "approve"]

    request_approval("scoring", v3, by="dev", registry=store)  # the champion moves before it is approved
    rollback("scoring", registry=store)
    with pytest.raises(ReleaseStateError, match="moved since the approval was requested"):
        approve("scoring", v3, by="lead", registry=store)


def _promote_in_another_process(store, name, version, barrier, results):
    from workbench.registry import history, move_alias

    history(name, registry=store)  # MLflow imported and the store opened before the race starts
    barrier.wait(timeout=120)
    try:
        move = move_alias(name, "champion", version, action="promote", by=f"proc-{version}", registry=store)
        results.put((version, move.to_dict()))
    except Exception as exc:  # noqa: BLE001  (reported to the test)
        results.put((version, f"{type(exc).__name__}: {exc}"))


def test_two_promotions_at_once_one_wins_both_are_recorded_no_alias_is_lost(model_file, store):
    v1, v2, v3 = _versions(model_file, store, "race", 3)
    move_alias("race", "champion", v1, action="register", registry=store)
    ctx = multiprocessing.get_context("spawn")  # fresh interpreters: no SQLite connection shared by fork
    barrier, results = ctx.Barrier(2), ctx.Queue()
    procs = [
        ctx.Process(target=_promote_in_another_process, args=(str(store), "race", v, barrier, results))
        for v in (v2, v3)
    ]
    for p in procs:
        p.start()
    outcomes = dict(results.get(timeout=240) for _ in procs)
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert all(isinstance(o, dict) for o in outcomes.values()), outcomes

    final = get_alias("race", "champion", registry=store).version
    records = history("race", registry=store)
    assert [r.action for r in records] == ["register", "promote", "promote"]
    assert {r.to_version for r in records[1:]} == {v2, v3}  # both recorded
    assert records[1].from_version == v1  # a chain: each move starts where the one before left the alias
    assert records[2].from_version == records[1].to_version
    assert final == records[2].to_version  # the later move wins, and the history says which
    assert all(r.observed_version == r.to_version for r in records[1:])


# -- bad input ---------------------------------------------------------------------------------------
def test_unknown_names_versions_and_aliases(store):
    with pytest.raises(ModelNotFoundError, match="no model named 'ghost'.*registered: "):
        history("ghost", registry=store)
    with pytest.raises(ModelNotFoundError, match="no model named 'ghost'"):
        move_alias("ghost", "champion", 1, action="promote", registry=store)
    with pytest.raises(ModelNotFoundError, match="has no version 5"):
        request_approval("seed", 5, registry=store)
    with pytest.raises(ModelNotFoundError, match="has no version 5"):
        approve("seed", 5, by="x", registry=store)
    with pytest.raises(ModelNotFoundError, match="no alias 'retired'"):
        get_alias("seed", "retired", registry=store)
    with pytest.raises(RegistryValueError, match="is not an alias"):
        rollback("seed", alias="latest", registry=store)
    with pytest.raises(RegistryValueError, match="whole number"):
        move_alias("seed", "champion", "two", action="promote", registry=store)


def test_an_artifact_deleted_or_altered_on_disk_is_refused(model_file, store, tmp_path):
    from workbench.registry import resolve_model_uri

    copy = tmp_path / "fragile.wbm"
    shutil.copy(model_file, copy)
    (v1,) = _versions(copy, store, "fragile", 1)
    stored = resolve_model_uri(f"models:/fragile/{v1}", registry=store).path
    stored.write_bytes(stored.read_bytes() + b"\0")
    for call in (
        lambda: move_alias("fragile", "champion", v1, action="promote", registry=store),
        lambda: request_approval("fragile", v1, registry=store),
    ):
        with pytest.raises(RegistryError, match="altered after registration") as err:
            call()
        _one_sentence(err.value)
    stored.unlink()
    with pytest.raises(RegistryError, match="deleted after registration") as err:
        move_alias("fragile", "champion", v1, action="promote", registry=store)
    _one_sentence(err.value)
    assert history("fragile", registry=store) == []  # nothing recorded for a refused move


def test_a_registry_that_does_not_answer_is_one_sentence_within_10_s():
    with socket.socket() as sock:  # a port on this machine that nothing listens on
        sock.bind(("127.0.0.1", 0))
        uri = f"http://127.0.0.1:{sock.getsockname()[1]}"
    for call in (
        lambda: move_alias("credit", "champion", 2, action="promote", registry=uri),
        lambda: history("credit", registry=uri),
        lambda: rollback("credit", registry=uri),
        lambda: approve("credit", 2, by="x", registry=uri),
        lambda: list_models(registry=uri),
    ):
        t0 = time.perf_counter()
        with pytest.raises(RegistryError, match="does not answer") as err:
            call()
        assert time.perf_counter() - t0 < 10
        _one_sentence(err.value)


# -- catalog and CLI -----------------------------------------------------------------------------------
def test_list_and_describe(model_file, store, tmp_path):
    v1, v2 = _versions(model_file, store, "catalog", 2)
    move_alias("catalog", "champion", v1, action="register", registry=store)
    request_approval("catalog", v2, by="dev", registry=store)
    summary = {m.name: m for m in list_models(registry=store)}["catalog"]
    assert (summary.versions, summary.latest, summary.aliases, summary.pending) == (
        2,
        2,
        {"champion": 1},
        (2,),
    )
    described = describe_model("catalog", registry=store)
    assert [v.version for v in described.versions] == [1, 2] and described.aliases == {"champion": 1}
    assert [p.to_version for p in described.pending] == [2] and described.n_records == 2
    assert not any(k.startswith("workbench.audit.") for k in described.tags)
    text = described.text()
    assert "@champion -> v1" in text and "PENDING" in text and "logistic_regression" in text
    assert type(described).from_dict(json.loads(json.dumps(described.to_dict()))) == described
    assert list_models(registry=tmp_path / "empty") == []  # not created by a lookup
    assert not (tmp_path / "empty").exists()


def test_cli_register_list_show_history_rollback_approve(model_file, store, capsys):
    reg = ["--registry", str(store)]
    assert main(["registry", "register", str(model_file), "--name", "cli", "--alias", "champion", *reg]) == 0
    assert "registered models:/cli/1 @champion" in capsys.readouterr().out
    assert main(["registry", "register", str(model_file), "--name", "cli", "--json", *reg]) == EXIT_OK
    assert json.loads(capsys.readouterr().out)["version"] == 2

    assert main(["registry", "list", *reg]) == EXIT_OK
    assert any(
        line.startswith("cli ") and "@champion=v1" in line for line in capsys.readouterr().out.splitlines()
    )
    assert main(["registry", "list", "--json", *reg]) == EXIT_OK
    assert "cli" in {m["name"] for m in json.loads(capsys.readouterr().out)}

    request_approval("cli", 2, by="dev", reason="gate passed", registry=store)
    assert main(["registry", "show", "cli", *reg]) == EXIT_OK
    out = capsys.readouterr().out
    assert "aliases: @champion -> v1" in out and "pending approval:" in out
    assert main(["approve", "cli", "--version", "1", "--by", "lead", *reg]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not pending approval" in err and "pending: 2" in err
    assert main(["approve", "cli", "--version", "2", "--by", "lead", *reg]) == EXIT_OK
    assert "approved: @champion of cli moved from version 1 to version 2" in capsys.readouterr().out

    assert main(["rollback", "cli", "--reason", "too slow", "--by", "ops", "--json", *reg]) == EXIT_OK
    back = json.loads(capsys.readouterr().out)
    assert (back["from_version"], back["to_version"], back["by"], back["reason"]) == (2, 1, "ops", "too slow")
    assert main(["registry", "history", "cli", *reg]) == EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    assert [ln.split()[1] for ln in lines] == ["register", "requested", "approve", "rollback"]
    assert main(["registry", "history", "cli", "--json", *reg]) == EXIT_OK
    assert [r["action"] for r in json.loads(capsys.readouterr().out)][-1] == "rollback"
    assert main(["registry", "show", "cli", "--json", *reg]) == EXIT_OK
    assert json.loads(capsys.readouterr().out)["aliases"] == {"champion": 1}


def test_cli_bad_input_is_one_sentence_and_exit_2(model_file, store, tmp_path, capsys):
    reg = ["--registry", str(store)]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    move_alias("seed", "champion", 1, action="register", registry=store)
    cases = {
        ("registry", "show", "ghost", *reg): "no model named 'ghost'",
        ("registry", "history", "ghost", *reg): "no model named 'ghost'",
        ("rollback", "seed", *reg): "no previous champion of 'seed'",
        ("approve", "seed", "--version", "1", "--by", "x", *reg): "not pending approval",
        ("approve", "seed", "--version", "0", "--by", "x", *reg): "whole number",
        ("registry", "register", str(tmp_path / "none.wbm"), "--name", "seed", *reg): "does not exist",
        ("registry", "register", str(model_file), "--name", "a/b", *reg): "not a registered model name",
        ("registry", "register", str(model_file), "--name", "x", "--alias", "v1", *reg): "is not an alias",
        ("registry", "list", "--registry", dead): "does not answer",
        ("rollback", "seed", "--registry", "sqlite://"): "names no database file",
        ("registry",): "name an action",
    }
    for argv, message in cases.items():
        t0 = time.perf_counter()
        assert main(list(argv)) == EXIT_BAD_INPUT, argv
        err = capsys.readouterr().err
        assert message in err and err.count("\n") <= 2 and "Traceback" not in err, (argv, err)
        assert time.perf_counter() - t0 < 10
    with pytest.raises(SystemExit) as usage:  # --by is required: argparse's usage error, exit 2
        main(["approve", "seed", "--version", "1"])
    assert usage.value.code == EXIT_BAD_INPUT
    assert "--by" in capsys.readouterr().err
    assert [r.action for r in history("seed", registry=store)] == ["register"]
    assert [v.version for v in list_models(registry=store) if v.name == "x"] == []


# -- --registry on every command that takes a model: one API call, the option passed through --------------
class _Recorder:
    def __init__(self, result):
        self.result, self.calls = result, []

    def __call__(self, *args, **kwargs):
        self.calls.append((args, kwargs))
        return self.result


def test_the_registry_option_reaches_the_one_api_call(monkeypatch, capsys):
    from types import SimpleNamespace

    class _Result:
        def to_dict(self):
            return {"kind": "fake"}

    evaluate, compress = _Recorder(_Result()), _Recorder(_Result())
    monkeypatch.setattr("workbench.modeling.evaluate.evaluate_from_files", evaluate)
    monkeypatch.setattr("workbench.compression._study.compress_from_files", compress)
    outcome = SimpleNamespace(
        summary={"status": "passed", "checks": []}, run_dir="run", exit_code=0, failed=[]
    )
    report = _Recorder(outcome)
    monkeypatch.setattr("workbench.reports.runner.run_report", report)
    uri, reg = "models:/credit@champion", ["--registry", "team-registry"]
    assert main(["evaluate", "--model", uri, "--data", "d.csv", "--json", *reg]) == EXIT_OK
    assert evaluate.calls[-1][0] == (uri, "d.csv") and evaluate.calls[-1][1]["registry"] == "team-registry"
    assert main(["compress", "--model", uri, "--data", "d.csv", "--out", "o", "--json", *reg]) == EXIT_OK
    assert compress.calls[-1][1]["registry"] == "team-registry"
    for argv in (
        ["drift", "--reference", "r.csv", "--current", "c.csv", "--model", uri],
        ["bias", "--data", "d.csv", "--model", uri],
        ["performance", "--data", "d.csv", "--model", uri],
    ):
        assert main(["report", *argv, "--json", *reg]) == EXIT_OK
        kind, params = report.calls[-1][0]
        assert kind == argv[0] and params["model"] == uri and params["registry"] == "team-registry"
    main(["report", "bias", "--data", "d.csv", "--model", uri, "--json"])
    assert "registry" not in report.calls[-1][0][1]  # not given: the environment, then the default, decide
    capsys.readouterr()
