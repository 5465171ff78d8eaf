"""Faces records share: one ``to_dict``/``from_dict`` pair for every record and result whose stored form is
just its fields, and the face of a record read as text (light: the standard library only)."""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import fields
from typing import Any, ClassVar

from workbench.errors import WorkbenchError


class FieldRecord:
    """Mixin for a frozen dataclass whose stored form is its fields (with its ``kind`` first, if it has one).

    ``STORED_NAME`` names it in the error for a stored dict that lacks a required field; ``STORED_KEYS``
    maps a field to its key in the stored dict where the two differ (``{"model_name": "model"}``). A
    subclass whose fields hold other records converts them around ``super()``'s methods.
    """

    STORED_NAME: ClassVar[str] = "record"
    STORED_KEYS: ClassVar[Mapping[str, str]] = {}

    def to_dict(self) -> dict:
        """JSON-safe form, as ``results.json`` stores it (:meth:`from_dict` rebuilds it)."""
        stored = {self.STORED_KEYS.get(f.name, f.name): getattr(self, f.name) for f in fields(self)}
        kind = getattr(type(self), "kind", None)  # a result's ClassVar (a record may have a field so named)
        return stored if kind is None or "kind" in stored else {"kind": kind, **stored}

    @classmethod
    def from_dict(cls, d: Mapping) -> Any:
        """Rebuild from :meth:`to_dict`'s output without recomputing.

        Keys it does not know are ignored; a renamed field (:attr:`STORED_KEYS`) is read under its
        stored key. Raises a :class:`~workbench.errors.WorkbenchError` ("the stored <STORED_NAME> is
        incomplete") when a required field is missing.
        """
        keys = {f.name: cls.STORED_KEYS.get(f.name, f.name) for f in fields(cls)}
        try:
            return cls(**{name: d[key] for name, key in keys.items() if key in d})
        except TypeError as exc:
            raise WorkbenchError(f"the stored {cls.STORED_NAME} is incomplete ({exc})") from None


class TextRecord:
    """Mixin for a record read as its ``text()`` (a registry entry, an audit record): no figures, and a
    notebook shows the text."""

    def figures(self) -> list:
        """No figures: the record is read as text (always ``[]``)."""
        return []

    def _repr_html_(self) -> str:
        return f"<div><code>{html.escape(self.text())}</code></div>"
