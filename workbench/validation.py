"""One way to check arguments: each checker returns the value it accepts or raises one sentence.

Stage functions check their plain options at the top with these (as
scikit-learn checks every parameter with one helper) and keep only the checks
that depend on the data in their bodies. A bad argument raises
:class:`~workbench.errors.ParameterError`, which is also a ``ValueError``; a
table that lacks a column raises :class:`~workbench.errors.DataError` (also a
``ValueError``). Standard library only: ``import workbench`` stays light.

Examples
--------
>>> check_number(200, "n_bootstrap", low=0, integer=True)
200
>>> check_number(3.5, "n_bootstrap", low=10, high=100_000, integer=True)
Traceback (most recent call last):
...
workbench.errors.ParameterError: n_bootstrap must be an integer between 10 and 100,000, not 3.5
>>> check_choice("up", "covariate_shift direction", ("up", "down"))
'up'
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import Any

from workbench.errors import DataError, ParameterError

__all__ = [
    "check_choice",
    "check_columns",
    "check_fraction",
    "check_keys",
    "check_number",
    "check_path",
    "check_text",
]


def check_number(
    x: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    integer: bool = False,
    hint: str | None = None,
) -> float | int:
    """`x` as a float (an int with ``integer=True``) if it is a finite real number within the bounds.

    Parameters
    ----------
    x : the value to check; bools, text, NaN and infinities are refused.
    name : what the value is, as the user knows it (``"n_bootstrap"``, ``"--seed"``).
    low, high : inclusive bounds (``None``: unbounded), exclusive with
        `low_open` / `high_open`.
    integer : accept integers only (Python or NumPy ints, not ``3.0``).
    hint : a few words put in brackets after the rule, e.g. ``"e.g. 0.95"``.

    Returns
    -------
    float or int

    Raises
    ------
    ParameterError
        One sentence naming `name`, the rule and the value, e.g. "confidence must
        be a number above 0 and below 1 (e.g. 0.95), not 1.5".

    Examples
    --------
    >>> check_number(0.95, "confidence", low=0, high=1, low_open=True, high_open=True)
    0.95
    >>> check_number(True, "min_group_size", low=1, integer=True)
    Traceback (most recent call last):
    ...
    workbench.errors.ParameterError: min_group_size must be an integer of 1 or more, not True
    """
    kind = numbers.Integral if integer else numbers.Real
    ok = not isinstance(x, bool) and isinstance(x, kind)
    if ok and not integer:
        ok = math.isfinite(x)
    if ok:
        ok = not (
            (low is not None and (x <= low if low_open else x < low))
            or (high is not None and (x >= high if high_open else x > high))
        )
    if not ok:
        rule = _rule(low, high, low_open, high_open, integer)
        raise ParameterError(f"{name} must be {rule}{f' ({hint})' if hint else ''}, not {x!r}")
    return int(x) if integer else float(x)


def check_fraction(
    x: Any, name: str, *, low_open: bool = False, high_open: bool = False, hint: str | None = None
) -> float:
    """`x` as a float if it is a number from 0 to 1 (ends excluded with `low_open` / `high_open`).

    >>> check_fraction(0.3, "concept_drift fraction")
    0.3
    """
    return check_number(x, name, low=0, high=1, low_open=low_open, high_open=high_open, hint=hint)


def check_choice(x: Any, name: str, choices: Iterable[Any]) -> Any:
    """`x` if it is one of `choices`; else "unknown NAME 'x'; use one of a, b, c".

    Parameters
    ----------
    x : the value to check (a bool matches only ``True``/``False`` themselves, never 1 or 0).
    name : what the value is, as the user knows it (``"imbalance strategy"``).
    choices : the accepted values, in the order the message lists them.

    Returns
    -------
    The value, unchanged.

    Raises
    ------
    ParameterError
        For a value that is not one of `choices` (a ``ValueError`` too).

    Examples
    --------
    >>> check_choice("flip", "the mode", ("flip", "to_positive"))
    'flip'
    >>> check_choice("up", "direction", ("down", "flat"))
    Traceback (most recent call last):
    ...
    workbench.errors.ParameterError: unknown direction 'up'; use one of down, flat
    """
    choices = tuple(choices)
    # True == 1 in Python: a bool is only ever the choice True/False itself
    if not any(isinstance(x, bool) == isinstance(c, bool) and x == c for c in choices):
        shown = ", ".join(str(c) for c in choices)
        raise ParameterError(f"unknown {name} {x!r}; use one of {shown}")
    return x


def check_keys(given: Mapping[str, Any], allowed: Collection[str], where: str) -> None:
    """Refuse a key of `given` that is not in `allowed`: "the parameter 'k' does not apply WHERE".

    `where` finishes the sentence, e.g. ``"to scale_change, which takes column, factor"``.
    """
    extra = [k for k in given if k not in allowed]
    if extra:
        raise ParameterError(f"the parameter '{extra[0]}' does not apply {where}")


def check_columns(
    frame_or_columns: Any, names: Iterable[str], *, where: str, what: str = "column"
) -> list[str]:
    """`names` as a list if each is a column of the table.

    Else one sentence naming those missing and the table.

    Parameters
    ----------
    frame_or_columns : a DataFrame (its ``columns`` are read) or the column names.
    names : the columns that must be there.
    where : the table, as the user knows it (``"the current data"``).
    what : what the columns are (``"feature column"``, ``"sensitive column"``).

    Raises
    ------
    DataError
        The table lacks a column, e.g. "feature column 'age' is missing from the
        current data" (data, not an argument: a ``ValueError`` too).

    Examples
    --------
    >>> check_columns(["age", "sex"], ["age", "income"], where="the current data")
    Traceback (most recent call last):
    ...
    workbench.errors.DataError: column 'income' is missing from the current data
    """
    names = list(names)
    present = set(getattr(frame_or_columns, "columns", frame_or_columns))
    missing = [c for c in names if c not in present]
    if missing:
        listed = ", ".join(f"'{c}'" for c in missing[:8]) + (
            f" and {len(missing) - 8} more" if len(missing) > 8 else ""
        )
        verb = "is" if len(missing) == 1 else "are"
        raise DataError(f"{what}{'' if len(missing) == 1 else 's'} {listed} {verb} missing from {where}")
    return names


def check_path(path: Any, name: str, *, must_exist: bool = True, kind: str = "file") -> Path:
    """`path` as a :class:`~pathlib.Path` if it is a non-empty path (of an existing `kind` with `must_exist`).

    Parameters
    ----------
    path : text or a path-like object.
    name : what the path is for (``"the reports folder"``).
    must_exist : refuse a path that does not exist.
    kind : ``"file"``, ``"dir"`` or ``"any"``: what an existing path must be
        (checked whenever the path exists, also without `must_exist`).

    Examples
    --------
    >>> check_path("", "the model file")
    Traceback (most recent call last):
    ...
    workbench.errors.ParameterError: the model file is empty: give a path
    """
    check_choice(kind, "path kind", ("file", "dir", "any"))
    if isinstance(path, str | os.PathLike):
        text = os.fspath(path)
    else:
        raise ParameterError(f"{name} must be a path (text), not {path!r}")
    if not isinstance(text, str) or not text.strip():
        raise ParameterError(f"{name} is empty: give a path")
    p = Path(text)
    if not os.path.lexists(p):
        if must_exist:
            raise ParameterError(f"{name} '{p}' does not exist")
        return p
    if kind == "file" and p.is_dir():
        raise ParameterError(f"{name} '{p}' is a folder, not a file")
    if kind == "dir" and not p.is_dir():
        raise ParameterError(f"{name} '{p}' is a file, not a folder")
    return p


def check_text(x: Any, name: str, *, empty: str | None = None) -> str:
    """`x` stripped if it is non-empty text (a text box's value); `empty` is the sentence for a blank one.

    >>> check_text("  champion.wbm ", "the model path")
    'champion.wbm'
    >>> check_text(" ", "the model path", empty="type the path of a saved model first")
    Traceback (most recent call last):
    ...
    workbench.errors.ParameterError: type the path of a saved model first
    """
    if not isinstance(x, str):
        raise ParameterError(f"{name} must be text, not {x!r}")
    text = x.strip()
    if not text:
        raise ParameterError(empty or f"{name} is empty")
    return text


# -- helpers --------------------------------------------------------------------------------
def _rule(low, high, low_open: bool, high_open: bool, integer: bool) -> str:
    """The accepted values in words: "an integer between 10 and 100,000", "a number above 0"."""
    # "finite" only where it tells something: a bound on one side only would not exclude infinity
    what = (
        "an integer" if integer else "a number" if low is not None and high is not None else "a finite number"
    )
    lo, hi = _fmt(low), _fmt(high)
    if low is not None and high is not None:
        if not low_open and not high_open:
            return f"{what} between {lo} and {hi}"
        return (
            f"{what} {'above' if low_open else 'of at least'} {lo} "
            f"and {'below' if high_open else 'at most'} {hi}"
        )
    if low is not None:
        return f"{what} above {lo}" if low_open else f"{what} of {lo} or more"
    if high is not None:
        return f"{what} below {hi}" if high_open else f"{what} of {hi} or less"
    return what


def _fmt(v: float | None) -> str:
    if v is None:
        return ""
    if isinstance(v, numbers.Integral) or float(v).is_integer():
        return f"{int(v):,}"
    return f"{v:g}"
