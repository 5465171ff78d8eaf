"""``workbench mitigate``: options passed to the API, a real run on a table the team never saw, bad input."""

from __future__ import annotations

import json

import pytest

from tests.conftest import loans_table, run_cli
from workbench.cli import EXIT_BAD_INPUT, EXIT_OK, main


class _Result:
    chosen = "threshold_optimizer:equalized_odds"
    saved_path = "fair.wbm"

    def text(self):
        return "FRONTIER"

    def to_dict(self):
        return {"kind": "fake"}


def test_the_options_reach_the_api(monkeypatch, capsys):
    calls = []

    def fake(*args, **kwargs):
        calls.append((args, kwargs))
        return _Result()

    monkeypatch.setattr("workbench.fairness._mitigate.mitigate_from_files", fake)
    argv = ["mitigate", "--model", "models:/m@champion", "--data", "d.csv", "--sensitive", "sex"]
    code = main([*argv, "--constraint", "demographic_parity", "--max-disparity", "0.1", "--out", "o.wbm"])
    assert code == EXIT_OK and "FRONTIER" in capsys.readouterr().out
    (args, kwargs) = calls[-1]
    assert args == ("models:/m@champion", "d.csv")
    assert kwargs["constraint"] == "demographic_parity" and kwargs["max_disparity"] == 0.1
    assert kwargs["sensitive"] == "sex" and kwargs["out"] == "o.wbm" and kwargs["methods"] is None
    assert main([*argv, "--out", "o.wbm", "--json"]) == EXIT_OK
    assert json.loads(capsys.readouterr().out) == {"kind": "fake"}
    with pytest.raises(SystemExit) as caught:  # argparse's usage error: one line, exit 2
        main([*argv, "--out", "o", "--constraint", "parity"])
    assert caught.value.code == EXIT_BAD_INPUT
    assert "invalid choice: 'parity'" in capsys.readouterr().err
    assert main([*argv, "--out", "o", "--max-disparity", "2"]) == EXIT_BAD_INPUT
    assert "--max-disparity must be" in capsys.readouterr().err


def test_the_cli_lists_the_apis_constraints_and_methods():
    from workbench.cli import mitigate as cli
    from workbench.fairness import CONSTRAINTS, METHODS

    assert set(cli.CONSTRAINTS) == set(CONSTRAINTS) and cli.METHODS == tuple(METHODS)


@pytest.fixture(scope="module")
def biased_loans(tmp_path_factory):
    folder = tmp_path_factory.mktemp("biased-loans")
    table = loans_table(sex_bias=True)
    table.iloc[:400].to_csv(folder / "train.csv", index=False)
    table.iloc[400:].to_parquet(folder / "holdout.parquet", index=False)
    r = run_cli(
        "train", "--data", str(folder / "train.csv"), "--target", "approved", "--positive", "yes",
        "--sensitive", "applicant-sex", "--model", "logistic_regression", "--quick",
        "--out", str(folder / "champion.wbm"),
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    return folder


def test_mitigate_on_an_unseen_table_saves_a_model_that_evaluates(biased_loans):
    folder = biased_loans
    out = folder / "fair.wbm"
    r = run_cli(
        "mitigate", "--model", str(folder / "champion.wbm"), "--data", str(folder / "train.csv"),
        "--validation", str(folder / "holdout.parquet"), "--sensitive", "applicant-sex",
        "--constraint", "demographic_parity", "--max-disparity", "0.05", "--min-group-size", "15",
        "--quick", "--out", str(out), "--json",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["chosen"] not in (None, "original") and result["saved_path"] == str(out)
    r = run_cli("evaluate", "--model", str(out), "--data", str(folder / "holdout.parquet"), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["metrics"]["accuracy"] > 0.6


def test_bad_input_is_one_sentence_and_exit_2(biased_loans, tmp_path):
    folder = biased_loans
    base = ["mitigate", "--model", str(folder / "champion.wbm"), "--data", str(folder / "train.csv")]
    r = run_cli(*base, "--sensitive", "nope", "--out", str(tmp_path / "o.wbm"))
    assert r.returncode == 2 and "the sensitive column 'nope' is not in the table" in r.stderr
    assert r.stderr.count("\n") == 1
