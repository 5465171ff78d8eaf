"""Checks: thresholds, overrides by name and pattern, checks files, what `--fail-on` gates on."""

from __future__ import annotations

import pytest

from workbench.checks import (
    Check,
    failed_checks,
    load_checks_file,
    make_check,
    threshold_for,
)
from workbench.errors import WorkbenchError


def test_make_check_compares_against_the_default_or_the_override():
    c = make_check("drift.share", 0.35, "<=", 0.3, "{value:.0%} of columns drifted (allowed {threshold:.0%})")
    assert not c.passed and c.message == "35% of columns drifted (allowed 30%)"
    c = make_check("drift.share", 0.35, "<=", 0.3, "x", {"drift.share": 0.4})
    assert c.passed and c.threshold == 0.4
    assert make_check("drift.share", 0.35, "<=", 0.3, "x", {"drift.*": False}) is None
    nothing = make_check("performance.roc_auc_drop", float("nan"), "<=", 0.02, "x")
    assert nothing.passed and nothing.value is None


def test_the_most_specific_pattern_wins():
    cfg = {"drift.column.*": 0.2, "drift.column.age": 0.5, "drift.*": False, "bias.*.sex": {"threshold": 0.7}}
    assert threshold_for("drift.column.age", 0.1, cfg) == 0.5
    assert threshold_for("drift.column.race", 0.1, cfg) == 0.2
    assert threshold_for("drift.share", 0.3, cfg) is None
    assert threshold_for("bias.demographic_parity_ratio.sex", 0.8, cfg) == 0.7
    assert threshold_for("bias.demographic_parity_ratio.race", 0.8, cfg) == 0.8
    assert threshold_for("quality.duplicates", 0.05, {"quality.duplicates": {"enabled": False}}) is None


def test_checks_files_toml_yaml_json(tmp_path):
    (tmp_path / "c.toml").write_text('"drift.share" = 0.2\n[quality]\nduplicates = false\n')
    assert load_checks_file(tmp_path / "c.toml") == {"drift.share": 0.2, "quality.duplicates": False}
    (tmp_path / "c.yaml").write_text(
        "drift.column.*: 0.15\nbias.demographic_parity_ratio.sex: {threshold: 0.75}\n"
    )
    cfg = load_checks_file(tmp_path / "c.yaml")
    assert threshold_for("drift.column.age", 0.1, cfg) == 0.15
    assert threshold_for("bias.demographic_parity_ratio.sex", 0.8, cfg) == 0.75
    (tmp_path / "c.json").write_text('{"drift.share": 0.1}')
    assert load_checks_file(tmp_path / "c.json") == {"drift.share": 0.1}
    (tmp_path / "bad.toml").write_text('"drift.share" = "high"\n')
    with pytest.raises(WorkbenchError, match="drift.share"):
        load_checks_file(tmp_path / "bad.toml")
    (tmp_path / "broken.yaml").write_text("a: [1, 2\n")
    with pytest.raises(WorkbenchError, match="cannot be parsed"):
        load_checks_file(tmp_path / "broken.yaml")
    with pytest.raises(WorkbenchError, match="does not exist"):
        load_checks_file(tmp_path / "nope.toml")
    (tmp_path / "c.ini").write_text("x")
    with pytest.raises(WorkbenchError, match="TOML, YAML or JSON"):
        load_checks_file(tmp_path / "c.ini")


def test_fail_on_all_gates_errors_and_named_warnings():
    checks = [
        Check("drift.column.age", False, 0.5, 0.1, ">=", "m"),
        Check("drift.share", True, 0.1, 0.3, "<=", "m"),
        Check("bias.demographic_parity_ratio.sex", False, 0.3, 0.8, ">=", "m", severity="warning"),
    ]
    assert [c.name for c in failed_checks(checks, "all")] == ["drift.column.age"]
    assert [c.name for c in failed_checks(checks, ["bias.*"])] == ["bias.demographic_parity_ratio.sex"]
    assert [c.name for c in failed_checks(checks, "drift.share,drift.column.age")] == ["drift.column.age"]
    assert failed_checks(checks, None) == [] and failed_checks(checks, ["drift.share"]) == []
    assert Check.from_dict(checks[2].to_dict()) == checks[2]


def test_a_check_says_what_happened_and_its_state():
    failed = make_check("drift.column.age", 0.006612, ">", 0.05, "p = {value:.4f}")
    assert (failed.status, failed.outcome_text()) == ("FAIL", "0.006612 < 0.05 (must be > 0.05)")
    warned = make_check("bias.demographic_parity_ratio.sex", 0.74, ">=", 0.8, "m", severity="warning")
    assert (warned.status, warned.outcome_text()) == ("warn", "0.74 < 0.8 (must be ≥ 0.8)")
    passed = make_check("drift.share", 0.1, "<=", 0.3, "m")
    assert (passed.status, passed.outcome_text()) == ("pass", "0.1 < 0.3")
    # the ledger keeps no operator or message: the relation is still the true one
    row = Check.from_dict({"name": "drift.share", "passed": False, "value": 0.5, "threshold": 0.3})
    assert row.status == "FAIL" and row.outcome_text() == "0.5 > 0.3"
