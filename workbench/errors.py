"""Exceptions of workbench: every one carries a sentence a user can act on."""

from __future__ import annotations


class WorkbenchError(Exception):
    """Base class: bad input or a refused operation, explained in one sentence.

    The CLI turns it into one line on stderr and exit code 2; a widget shows it
    as a banner; a dashboard as an error card.
    """


class DataError(WorkbenchError):
    """The data cannot be used as given (missing file, column, wrong values)."""


class SpecError(WorkbenchError):
    """Column roles or the task are inconsistent with the data."""


class ModelFileError(WorkbenchError):
    """A model artifact is missing, corrupted, untrusted or incompatible."""


class RecipeError(WorkbenchError):
    """An unknown recipe or option was asked for."""


class ParameterError(WorkbenchError, ValueError):
    """An argument has the wrong type or value (also a ``ValueError``, as scikit-learn's are)."""


class RegistryError(WorkbenchError):
    """The model registry refused or failed an operation (unknown model, altered artifact, no answer)."""


class RegistryValueError(RegistryError, ParameterError):
    """A registry argument is malformed: a model URI, a name, an alias, a version, a registry location."""


class ModelNotFoundError(RegistryError, LookupError):
    """No such registered model, version or alias."""
