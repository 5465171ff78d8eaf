"""The guard in front of a served model: each record checked against what the model was trained on.

A record is a JSON object with the model's original column names. The guard
checks, per feature: that it is there, that its value has the right type
(numbers for numeric features, text for categorical ones), that a number is
finite and inside the training range (with a tolerance), that a category was
seen in training. What it checks against comes from the model's spec and the
training profile in its ``meta.json`` (:func:`workbench.data._profile.feature_profile`;
a model saved before profiles existed gets the type checks only, unless a
reference table is given).

Each problem has a policy: ``reject`` the record (with the column and the
reason, and the other records of the request are still answered) or
``impute`` it (the training median or most frequent category; a range clipped
to its bound) and flag the record. Plain Python per record: this runs on the
request path, so no pandas.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from workbench.data._spec import DatasetSpec
from workbench.validation import check_choice, check_number

#: the problems a record can have, each with a policy (reject or impute)
PROBLEMS = ("missing", "type", "nonfinite", "range", "category")
#: names a record's own identifier may go by (besides the spec's id column)
ID_FIELDS = ("id",)


@dataclass(frozen=True)
class GuardPolicy:
    """What the guard does about each problem a record can have.

    Parameters
    ----------
    impute : iterable of str
        The problems (of :data:`PROBLEMS`) answered anyway with an imputed value
        (the training median or most frequent category; an out-of-range number
        clipped to the tolerated bound) and flagged; every other problem rejects
        the record with the column and the reason.
    tolerance : float
        How far beyond the training range a number may go, as a share of the range's width.
    reject_extra : bool
        Reject records with fields that are not features of the model (default:
        ignore them and flag the record).
    """

    impute: frozenset = field(default_factory=frozenset)
    tolerance: float = 0.1
    reject_extra: bool = False

    def __post_init__(self):
        impute = frozenset([self.impute] if isinstance(self.impute, str) else self.impute or ())
        for problem in impute:
            check_choice(problem, "a problem to impute", PROBLEMS)
        object.__setattr__(self, "impute", impute)
        object.__setattr__(self, "tolerance", check_number(self.tolerance, "tolerance", low=0, high=100))

    def to_dict(self) -> dict:
        """JSON-safe form (what ``GET /model`` shows)."""
        return {
            "impute": sorted(self.impute),
            "reject": [p for p in PROBLEMS if p not in self.impute],
            "tolerance": self.tolerance,
            "extra_fields": "reject" if self.reject_extra else "ignore",
        }


@dataclass(frozen=True)
class CheckedRecord:
    """One record after the guard: the model's row, or why it was refused.

    ``row`` holds the features in spec order (floats, NaN for a missing
    number; text, None for a missing category) and is None for a rejected
    record; ``errors`` are ``(column, reason, problem)`` triples (problem one of
    :data:`PROBLEMS`, ``"extra"`` or ``"record"``); ``flags`` are triples too (imputed
    problems and ignored extra fields).
    """

    row: list | None
    id: str | None
    errors: tuple = ()
    flags: tuple = ()

    @property
    def ok(self) -> bool:
        """True when the record can be scored."""
        return self.row is not None


class Guard:
    """Checks records against a model's spec and training profile.

    Parameters
    ----------
    spec : DatasetSpec
        The model's spec (feature names and types).
    profile : dict, optional
        The training profile (``meta["profile"]``); without it only presence and types are checked.
    policy : GuardPolicy, optional
        Reject or impute, per problem (default: reject every problem, ignore extra fields).

    Examples
    --------
    >>> import pandas as pd
    >>> from workbench.data import infer_spec
    >>> from workbench.data._profile import feature_profile
    >>> df = pd.DataFrame({"age": [25, 40, 31, 58], "sex": ["F", "M", "F", "M"], "ok": [0, 1, 0, 1]})
    >>> spec = infer_spec(df, target="ok")
    >>> guard = Guard(spec, feature_profile(df, spec))
    >>> guard.check({"age": 33, "sex": "F"}).row
    [33.0, 'F']
    >>> for column, reason, problem in guard.check({"age": "old", "sex": "X"}).errors:
    ...     print(column, problem, reason)
    age type expected a number, got the text 'old'
    sex category unseen category 'X' (training saw 'F', 'M')
    """

    def __init__(self, spec: DatasetSpec, profile: Mapping | None = None, policy: GuardPolicy | None = None):
        self.spec = spec
        self.profile = dict(profile) if profile else None
        self.policy = policy or GuardPolicy()
        numeric = (self.profile or {}).get("numeric") or {}
        categorical = (self.profile or {}).get("categorical") or {}
        tol = self.policy.tolerance
        self._checks = []
        for c in spec.features:
            if c in spec.numeric:
                p = numeric.get(c) or {}
                lo, hi = p.get("min"), p.get("max")
                if lo is not None and hi is not None:
                    width = (hi - lo) or max(abs(hi), 1.0)
                    lo, hi = lo - tol * width, hi + tol * width
                self._checks.append((c, True, lo, hi, p.get("median"), _nulls_seen(p), None))
            else:
                p = categorical.get(c) or {}
                values = p.get("values")
                known = frozenset(values) if values is not None else None
                self._checks.append((c, False, None, None, p.get("mode"), _nulls_seen(p), known))
        self._features = frozenset(spec.features)
        self._id_fields = tuple(dict.fromkeys([*ID_FIELDS, *([spec.id] if spec.id else [])]))
        self._ignored = frozenset(self._id_fields) | {c for c in (spec.target, spec.prediction) if c}

    # -- the check --------------------------------------------------------------------------
    def check(self, record: Any) -> CheckedRecord:
        """Check one record (a mapping from column to value); never raises for bad content."""
        if not isinstance(record, Mapping):
            what = "a list" if isinstance(record, list) else type(record).__name__
            return CheckedRecord(
                None, None, ((None, f"a record must be a JSON object, not {what}", "record"),)
            )
        errors: list = []
        flags: list = []
        rid = self._record_id(record, errors)
        impute = self.policy.impute
        row = []
        for column, is_num, lo, hi, usual, nulls_seen, known in self._checks:
            if column not in record:
                problem, reason, value = "missing", "required column is missing", None
            else:
                value = record[column]
                problem, reason, value = (
                    _check_number(value, lo, hi) if is_num else _check_category(value, known)
                )
                if problem is None and value is None and not nulls_seen:
                    problem, reason = "missing", "missing value (training had none in this column)"
            if problem is not None:
                if problem not in impute:
                    errors.append((column, reason, problem))
                    row.append(None)
                    continue
                value = _imputed(problem, value, is_num, lo, hi, usual)
                flags.append((column, f"imputed ({reason})", problem))
            if is_num:
                row.append(math.nan if value is None else value)
            else:
                row.append(value)
        unknown = record.keys() - self._features  # one set operation in C: this runs for every record
        if unknown:
            for key in record:
                if key in unknown and key not in self._ignored:
                    if self.policy.reject_extra:
                        errors.append((str(key), "not a column of the model", "extra"))
                    else:
                        flags.append((str(key), "not a column of the model: ignored", "extra"))
        if errors:
            return CheckedRecord(None, rid, tuple(errors), tuple(flags))
        return CheckedRecord(row, rid, (), tuple(flags))

    def check_all(self, records: Iterable[Any]) -> list[CheckedRecord]:
        """:meth:`check` on each record."""
        return [self.check(r) for r in records]

    def describe(self) -> list[dict]:
        """Each feature with its type and what is checked (what ``GET /model`` lists)."""
        out = []
        for column, is_num, lo, hi, _usual, nulls_seen, known in self._checks:
            entry: dict[str, Any] = {"name": column, "type": "number" if is_num else "string"}
            if is_num and lo is not None:
                entry["accepted_range"] = [lo, hi]
            if known is not None:
                entry["categories"] = sorted(known)
            entry["nullable"] = nulls_seen
            out.append(entry)
        return out

    def typical_row(self) -> list:
        """A row of training medians and most frequent categories (to warm a model up before traffic)."""
        return [
            (usual if usual is not None else 0.0) if is_num else (usual if usual is not None else "")
            for _column, is_num, _lo, _hi, usual, _nulls, _known in self._checks
        ]

    # -- helpers ----------------------------------------------------------------------------
    def _record_id(self, record: Mapping, errors: list) -> str | None:
        for key in self._id_fields:
            if key in record and record[key] is not None:
                value = record[key]
                if isinstance(value, bool) or not isinstance(value, str | int):
                    errors.append((key, "the record id must be text or an integer", "type"))
                    return None
                return str(value)
        return None


def _nulls_seen(column_profile: Mapping) -> bool:
    """A missing value is accepted where training had some (or where there is no profile to say)."""
    share = column_profile.get("missing")
    return share is None or share > 0


def _check_number(value: Any, lo: float | None, hi: float | None) -> tuple:
    """(problem or None, reason, the value as a float or None)."""
    if value is None:
        return None, "", None
    if isinstance(value, bool):
        return "type", f"expected a number, got {str(value).lower()}", None
    if isinstance(value, int | float):
        x = float(value)
    elif isinstance(value, str):
        try:
            x = float(value.strip())
        except ValueError:
            return "type", f"expected a number, got the text {_short(value)}", None
    else:
        return "type", f"expected a number, got {_json_kind(value)}", None
    if not math.isfinite(x):
        shown = "NaN" if math.isnan(x) else ("infinity" if x > 0 else "-infinity")
        return "nonfinite", f"{shown} is not a value a model can score (send null for a missing value)", None
    if lo is not None and not lo <= x <= hi:
        return "range", f"{x:g} is outside the range accepted from training ({lo:g} to {hi:g})", x
    return None, "", x


def _check_category(value: Any, known: frozenset | None) -> tuple:
    if value is None:
        return None, "", None
    if isinstance(value, str):
        text = value
    elif isinstance(value, float) and not math.isfinite(value):
        return "nonfinite", f"{_json_kind(value)} is not a category (send null for a missing value)", None
    elif isinstance(value, bool | int | float):
        text = str(value)  # as prepare_frame types a category read from a file
    else:
        return "type", f"expected text, got {_json_kind(value)}", None
    if known is not None and text not in known:
        seen = ", ".join(f"'{v}'" for v in sorted(known)[:8]) + (" ..." if len(known) > 8 else "")
        return "category", f"unseen category {_short(text)} (training saw {seen})", None
    return None, "", text


def _imputed(problem: str, value: Any, is_num: bool, lo: float | None, hi: float | None, usual: Any):
    if problem == "range" and value is not None:
        return min(max(value, lo), hi)
    return usual  # the training median or most frequent category (None: the model's own imputation)


def _json_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, float):
        return "NaN" if math.isnan(value) else "infinity"
    return type(value).__name__


def _short(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")
