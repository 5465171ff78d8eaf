"""The request schema of ``POST /predict``, generated from the model's spec at start-up.

A pydantic model with one optional field per feature under its original
name (numbers for numeric features, text for categorical ones, the training
range and the known categories in each description) and the record's ``id``.
It documents the API (``/docs``, ``/openapi.json``); the records themselves are
checked by the guard, which gives per-record, per-column reasons instead of
failing a whole request.
"""

from __future__ import annotations

from typing import Any


def record_model(guard: Any, name: str = "Record"):
    """A pydantic model of one record for the model `guard` checks against."""
    from pydantic import ConfigDict, Field, create_model

    fields: dict[str, Any] = {
        "record_id": (
            str | int | None,
            Field(None, alias="id", description="the record's id (canary routing, labels)"),
        )
    }
    for i, column in enumerate(guard.describe()):
        kind = float if column["type"] == "number" else str
        notes = []
        if "accepted_range" in column:
            lo, hi = column["accepted_range"]
            notes.append(f"accepted from {lo:g} to {hi:g}")
        if "categories" in column:
            cats = column["categories"]
            notes.append("one of " + ", ".join(map(str, cats[:30])) + (" ..." if len(cats) > 30 else ""))
        if column["nullable"]:
            notes.append("may be null")
        fields[f"f{i}"] = (
            kind | None,
            Field(None, alias=column["name"], description="; ".join(notes) or None),
        )
    return create_model(name, __config__=ConfigDict(populate_by_name=True, extra="allow"), **fields)


def predict_openapi(guard: Any) -> dict:
    """The ``openapi_extra`` of ``POST /predict``: one record or a list of them."""
    schema = record_model(guard).model_json_schema(by_alias=True)
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"anyOf": [schema, {"type": "array", "items": schema, "minItems": 1}]},
                }
            },
        }
    }
