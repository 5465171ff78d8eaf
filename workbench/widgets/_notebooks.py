"""What the templated notebooks call: a model that exists (trained when missing), results written as files."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from workbench._json import json_default
from workbench.errors import DataError
from workbench.widgets._state import AppState


def ensure_model(
    state: AppState, model_path: str | Path, *, recipe: str = "hist_gradient_boosting", quick: bool = False
) -> Any:
    """Load the model at `model_path` into `state`.

    When the file is missing, train one quickly and save it there.
    So that each notebook also runs on its own: 02/03/04 take the champion of
    01 when it exists. The loaded model must fit ``state.data``.
    """
    from workbench.modeling.artifact import load_model, save_model
    from workbench.modeling.train import train
    from workbench.registry.uris import is_model_uri

    path = Path(model_path)
    if is_model_uri(model_path) or path.exists():  # a models:/ URI is loaded, never trained in its place
        model = load_model(model_path if is_model_uri(model_path) else path)
        if model.registered_as is not None:  # pinned to the version loaded
            path = model.registered_as.uri
        if state.data is not None:
            model.spec.check_columns(state.data, where=f"the data ({state.dataset or 'loaded table'})")
    else:
        if state.data is None or state.spec is None:
            raise DataError("load data before training a model")
        result = train(
            state.data,
            state.spec,
            validation=state.validation,
            recipes=[recipe],
            quick=quick,
            random_state=state.random_state,
            progress=False,
        )
        model = result.champion
        save_model(model, path)
        state.train_result = result
    with state.hold_trait_notifications():
        state.model_path = str(path)
        state.model = model
    return model


def save_json(result: Any, path: str | Path) -> Path:
    """Write a result's ``to_dict()`` (or a mapping of results) as JSON; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = _as_dict(result)
    path.write_text(json.dumps(payload, indent=2, default=json_default))
    return path


def save_explanations(
    results: Mapping[str, Any],
    json_path: str | Path,
    html_path: str | Path | None = None,
    *,
    title: str = "Explanations",
) -> tuple[Path, Path | None]:
    """Write explanation results as one JSON file and, optionally, one static HTML page (cards and charts).

    The HTML page inlines plotly.js once, so it works offline and as an attachment.
    """
    json_out = save_json(results, json_path)
    if html_path is None:
        return json_out, None
    import html

    parts, first = [], True
    for result in results.values():
        parts.append(result._repr_html_())
        for fig in result.figures().values():
            parts.append(fig.to_html(full_html=False, include_plotlyjs=first))
            first = False
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
        f"<body style='font-family:system-ui,sans-serif'><h1>{html.escape(title)}</h1>"
        f"{''.join(parts)}</body></html>"
    )
    html_out = Path(html_path)
    html_out.parent.mkdir(parents=True, exist_ok=True)
    html_out.write_text(page)
    return json_out, html_out


def _as_dict(result: Any) -> Any:
    if hasattr(result, "to_dict"):
        return result.to_dict()
    if isinstance(result, Mapping):
        return {k: _as_dict(v) for k, v in result.items()}
    return result
