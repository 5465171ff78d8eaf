"""Exceptions of workbench: every one carries a sentence a user can act on.

Those that report a bad value (an argument, the data, the column roles, an
unknown recipe) are also ``ValueError``s, as scikit-learn's
``InvalidParameterError`` is: a caller can catch the built-in kind. Those about
a file's or a store's state (:class:`ModelFileError`, the ledger's) are not,
as ``OSError`` and ``pickle.UnpicklingError`` are not.
"""

from __future__ import annotations


class WorkbenchError(Exception):
    """Base class: bad input or a refused operation, explained in one sentence.

    The CLI turns it into one line on stderr and exit code 2; a widget shows it
    as a banner; a dashboard as an error card.
    """


class DataError(WorkbenchError, ValueError):
    """The data cannot be used as given (missing file, column, wrong values)."""


class SpecError(WorkbenchError, ValueError):
    """Column roles or the task are inconsistent with the data."""


class ModelFileError(WorkbenchError):
    """A model artifact is missing, corrupted, untrusted or incompatible.

    Its file is at fault, not a value: no ``ValueError``.
    """


class RecipeError(WorkbenchError, ValueError):
    """An unknown recipe was asked for, or one that does not do the task."""


class ParameterError(WorkbenchError, ValueError):
    """An argument has the wrong type or value (also a ``ValueError``, as scikit-learn's are).

    Raised by the checkers of :mod:`workbench.validation`.
    """


class UnknownNameError(WorkbenchError, KeyError):
    """A lookup by name found nothing (a column, attribute, row, candidate or result kind).

    Also a ``KeyError``, as a missing key in a mapping is; the message names what exists.
    """

    __str__ = Exception.__str__  # the sentence as written (KeyError's own str() would quote it)


class RegistryError(WorkbenchError):
    """The model registry refused or failed an operation (unknown model, altered artifact, no answer)."""


class RegistryValueError(RegistryError, ParameterError):
    """A registry argument is malformed: a model URI, a name, an alias, a version, a registry location."""


class ModelNotFoundError(RegistryError, UnknownNameError):
    """No such registered model, version or alias (an :class:`UnknownNameError`, so also a ``KeyError``)."""


class ReleaseStateError(RegistryError):
    """The registry's state refuses a release step: the version already holds the alias, no previous version
    to roll back to, a release that is not pending approval (a state, not a bad value: no ``ValueError``)."""
