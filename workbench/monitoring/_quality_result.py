"""The result of :func:`workbench.monitoring.quality.check_quality`: a :class:`QualityResult`.

Light on purpose (plotly inside ``figures()``): stored results re-render
without Evidently, scikit-learn or scipy.

Private: import the public names from :mod:`workbench.monitoring.quality`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from workbench import _html
from workbench._json import json_safe
from workbench._records import FieldRecord
from workbench.checks import Check, ChecksConfig, checks_table_html, make_check
from workbench.errors import UnknownNameError
from workbench.monitoring._drift_stats import ID_HIDDEN, _short
from workbench.monitoring._quality_text import DEFAULTS, _column_problems, _count_check, _issues
from workbench.results import name_list


@dataclass(frozen=True)
class ColumnQuality(FieldRecord):
    """The quality of one column in current, measured against the reference.

    ``unseen``: rows holding categories the reference never had (count,
    share of all rows, number of new values, the 5 most frequent as examples,
    ``expected``: the share expected by chance). ``out_of_range``: numeric
    values outside the reference's [min, max] (below, above, share of the
    non-missing values, ``expected`` by chance). ``type_mismatch``: the
    values are of another kind than in the reference (see the dtypes).
    ``constant``: a single distinct value in current where the reference had more.
    ``identifier_like``: the column identifies rows; no value of it is kept.

    Attributes
    ----------
    name, type, role : str
        The column, its type in the spec (``numeric``/``categorical``) and its
        role (``feature`` or ``target``).
    reference_dtype, current_dtype : str or None
        The kind of its values in each table (None: absent from current).
    reference_missing_share, current_missing_share : float or None
        Share of missing values in each table.
    unseen, out_of_range : dict or None
        The counts described above (None: not applicable to the column).
    type_mismatch, constant : bool
        Values of another kind; a single value where the reference had more.
    constant_value : str or None
        That single value (hidden for an identifier-like column).
    examples : list
        The most frequent values of another kind (empty when hidden).
    identifier_like : bool
        The column identifies rows: its values are never kept.
    """

    name: str
    type: str
    role: str = "feature"
    reference_dtype: str | None = None
    current_dtype: str | None = None
    reference_missing_share: float | None = None
    current_missing_share: float | None = None
    unseen: dict | None = None
    out_of_range: dict | None = None
    type_mismatch: bool = False
    constant: bool = False
    constant_value: str | None = None
    examples: list = field(default_factory=list)
    identifier_like: bool = False

    @property
    def missing_increase(self) -> float | None:
        """The rise of the missing share since the reference (None when either is unknown)."""
        if self.current_missing_share is None or self.reference_missing_share is None:
            return None
        return self.current_missing_share - self.reference_missing_share

    def to_dict(self) -> dict:
        """The column's fields as JSON-safe data (:meth:`from_dict` reads it back)."""
        return json_safe(super().to_dict())


@dataclass(frozen=True)
class QualityResult:
    """Data quality of a current table against the reference.

    Ask it things: ``result.column("age").current_missing_share``,
    ``result.issues()`` (one row per problem), ``result.checks()``,
    ``result.findings()``, ``result.figures()``.

    Returned by :func:`~workbench.monitoring.quality.check_quality`; stored as
    the ``quality`` result kind.

    Attributes
    ----------
    columns : list of ColumnQuality
        The spec's features and target found in the reference.
    n_reference, n_current : int
        Rows of each table.
    missing_columns : list of str
        Feature columns of the reference missing from current.
    extra_columns : list of str
        Columns of current the reference does not have (ignored).
    missing_target : bool
        Current has no target column (no labels yet).
    duplicate_share, reference_duplicate_share : float or None
        Share of rows that duplicate another row, in each table.
    """

    columns: list[ColumnQuality]
    n_reference: int
    n_current: int
    missing_columns: list[str] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)
    missing_target: bool = False
    duplicate_share: float | None = None
    reference_duplicate_share: float | None = None

    kind: ClassVar[str] = "quality"
    SCHEMA: ClassVar[int] = 1

    def column(self, name: str) -> ColumnQuality:
        """One column's result.

        Raises
        ------
        UnknownNameError
            No checked column has that name (the message lists them).
        """
        for c in self.columns:
            if c.name == name:
                return c
        raise UnknownNameError(
            f"no quality result for column '{name}'; the checked columns are "
            f"{name_list([c.name for c in self.columns])}"
        )

    def issues(self) -> list[dict]:
        """Every problem found under the default thresholds, most serious kind first.

        Returns
        -------
        list of dict
            ``column``, ``issue``, ``detail``, ``finding`` (a sentence) and
            ``flag`` (False for what is reported but breaks no threshold).
        """
        return _issues(self)

    def to_dict(self) -> dict:
        """The result as JSON-safe data, with ``n_issues`` and ``key_metrics`` for reports."""
        return {
            "kind": self.kind,
            "n_reference": self.n_reference,
            "n_current": self.n_current,
            "columns": [c.to_dict() for c in self.columns],
            "missing_columns": list(self.missing_columns),
            "extra_columns": list(self.extra_columns),
            "missing_target": self.missing_target,
            "duplicate_share": json_safe(self.duplicate_share),
            "reference_duplicate_share": json_safe(self.reference_duplicate_share),
            "n_issues": len(self.issues()),
            "key_metrics": self.key_metrics(),
        }

    def key_metrics(self) -> dict:
        """Flat figures for the ledger and the trend charts.

        Returns
        -------
        dict
            ``quality.issues`` (flagged problems), ``quality.max_missing_rise``
            and ``quality.duplicate_share``.
        """
        rises = [c.missing_increase for c in self.columns if c.missing_increase is not None]
        return {
            "quality.issues": sum(i["flag"] for i in self.issues()),
            "quality.max_missing_rise": max(rises, default=0.0),
            "quality.duplicate_share": self.duplicate_share,
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> QualityResult:
        """The result from its :meth:`to_dict` (a run's ``results.json`` holds it)."""
        return cls(
            columns=[ColumnQuality.from_dict(c) for c in d["columns"]],
            n_reference=d["n_reference"],
            n_current=d["n_current"],
            missing_columns=list(d.get("missing_columns", [])),
            extra_columns=list(d.get("extra_columns", [])),
            missing_target=d.get("missing_target", False),
            duplicate_share=d.get("duplicate_share"),
            reference_duplicate_share=d.get("reference_duplicate_share"),
        )

    def figures(self) -> dict:
        """The result's charts: ``missing`` (missing shares per column) and ``issues``.

        Returns
        -------
        dict of str to plotly.graph_objects.Figure
        """
        from workbench.viz import monitoring as vm

        rows = []
        for c in self.columns:
            d = c.to_dict()
            d["missing_flag"] = (c.missing_increase or 0) > DEFAULTS["missing"]
            rows.append(d)
        return {"missing": vm.missing_figure(rows), "issues": vm.quality_issues_figure(self.issues())}

    def figure(self):
        """The issues chart."""
        return self.figures()["issues"]

    def findings(self, config: ChecksConfig | None = None) -> list[str]:
        """One sentence per problem found under the default thresholds.

        Parameters
        ----------
        config : ChecksConfig, optional
            Accepted for the result protocol; the check table applies it, the
            sentences do not change with it.

        Returns
        -------
        list of str
        """
        found = [i["finding"] for i in self.issues()]
        if not any(i["flag"] for i in self.issues()):
            found.insert(
                0,
                "No data-quality problem found: missing values, categories, value ranges, types and "
                "columns are in line with the reference.",
            )
        return found

    def checks(self, config: ChecksConfig | None = None) -> list[Check]:
        """The data-quality checks (names and defaults in :mod:`workbench.monitoring.quality`).

        Parameters
        ----------
        config : ChecksConfig, optional
            Thresholds by check name or glob pattern; a check set to ``False``
            is left out.

        Returns
        -------
        list of Check
        """
        out = [
            make_check(
                "quality.columns",
                float(len(self.missing_columns)),
                "<=",
                0,
                "{value:.0f} feature column(s) of the reference missing from the current data",
                config,
            )
        ]
        for c in self.columns:
            n = c.name.replace("{", "{{").replace("}", "}}")
            if c.current_dtype is None:
                continue
            out.append(
                make_check(
                    f"quality.type.{c.name}",
                    float(c.type_mismatch),
                    "<=",
                    0,
                    f"'{n}' holds {c.current_dtype} values (reference: {c.reference_dtype})"
                    if c.type_mismatch
                    else f"'{n}' holds the same kind of values as the reference",
                    config,
                )
            )
            out.append(
                make_check(
                    f"quality.missing.{c.name}",
                    c.missing_increase,
                    "<=",
                    DEFAULTS["missing"],
                    f"'{n}' missing rate {c.current_missing_share:.1%} vs {c.reference_missing_share:.1%} "
                    "in the reference (rise {value:.1%}, allowed {threshold:.1%})",
                    config,
                )
            )
            if c.unseen is not None:
                out.append(
                    _count_check(
                        f"quality.unseen.{c.name}",
                        "unseen",
                        c.unseen,
                        self.n_reference,
                        n,
                        "rows",
                        "hold categories never seen in the reference",
                        config,
                    )
                )
            if c.out_of_range is not None:
                o = c.out_of_range
                bounds = (
                    f"({ID_HIDDEN})"
                    if c.identifier_like
                    else f"[{_short(o['reference_min'])} – {_short(o['reference_max'])}]"
                )
                out.append(
                    _count_check(
                        f"quality.range.{c.name}",
                        "range",
                        o,
                        self.n_reference,
                        n,
                        "values",
                        f"lie outside the reference's range {bounds}",
                        config,
                    )
                )
            if c.constant:
                out.append(
                    make_check(
                        f"quality.constant.{c.name}",
                        1.0,
                        ">=",
                        2,
                        f"'{n}' holds a single value in the current data",
                        config,
                    )
                )
        if self.duplicate_share is not None:
            rise = self.duplicate_share - (self.reference_duplicate_share or 0.0)
            out.append(
                make_check(
                    "quality.duplicates",
                    rise,
                    "<=",
                    DEFAULTS["duplicates"],
                    f"{self.duplicate_share:.1%} of rows are duplicates "
                    f"({(self.reference_duplicate_share or 0):.1%} in the reference; "
                    "rise {value:.1%}, allowed {threshold:.1%})",
                    config,
                )
            )
        return [c for c in out if c is not None]

    def _repr_html_(self, config: ChecksConfig | None = None) -> str:
        """The result's card: findings, a row per column, the checks.

        Its checks are under `config` (a report passes its run's check settings).
        """
        body = "<ul>" + "".join(f"<li>{_html.esc(f)}</li>" for f in self.findings()) + "</ul>"
        checks = self.checks(config)
        problems = _column_problems(checks)
        rows = [
            {
                "column": c.name,
                "missing (ref)": c.reference_missing_share,
                "missing (current)": c.current_missing_share,
                "unseen rows": (c.unseen or {}).get("rows"),
                "out of range": (c.out_of_range or {}).get("rows"),
                "type": c.current_dtype,
                "problem": ", ".join(problems.get(c.name, [])) or False,
            }
            for c in self.columns
        ]
        body += _html.table(rows, highlight="problem")
        body += checks_table_html(checks)
        return _html.card(
            "Data quality",
            body,
            f"{self.n_current:,} current rows against {self.n_reference:,} reference rows",
        )
