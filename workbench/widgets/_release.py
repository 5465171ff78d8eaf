"""ReleasePanel: register the current model, compare it with the champion, promote or roll back.

Every button calls the same API the CLI calls (``register_model``,
``describe_model``, ``compare_models``, ``promote``, ``rollback``): the panel
gathers inputs and renders what comes back, so a promotion from here passes
exactly the gate ``workbench promote`` applies and leaves the same audit record.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w

from workbench.errors import DataError, ParameterError, WorkbenchError
from workbench.widgets._base import ChartSlot, Panel
from workbench.widgets._monitor import _safe
from workbench.widgets._state import AppState

CHART_WIDTH, CHART_HEIGHT = 430, 360  # pixels of each comparison chart (two side by side in a panel)


class ReleasePanel(Panel):
    """The release loop for ``state.model`` on a registry (MLflow's Model Registry).

    "Register" stores the current model as a new version of the named model;
    "Show versions" lists its versions, aliases and latest alias moves;
    "Compare with champion" scores ``models:/NAME@champion`` and the current
    model on ``state.validation`` (:func:`workbench.releases.compare_models`);
    "Promote" sends the chosen version through the release gate
    (:func:`workbench.releases.promote`, the gate of ``workbench promote``: the
    "Fairness by" columns are its ``--sensitive``, by default the spec's
    sensitive columns, the checks file its ``--checks``; "Force" needs a reason
    and is recorded as forced); "Roll back" moves ``champion`` back one
    step (:func:`workbench.registry.rollback`). The registry is the default one
    (``WORKBENCH_REGISTRY``, ``MLFLOW_TRACKING_URI``, else
    ``workbench-work/registry``) unless the Registry box names a folder or URI.
    """

    title = "Release"

    def __init__(self, state: AppState | None = None, **kwargs: Any):
        super().__init__(state, **kwargs)
        self.registry = w.Text(
            value="",
            placeholder="default: workbench-work/registry (or WORKBENCH_REGISTRY)",
            description="Registry",
            layout=w.Layout(width="520px"),
        )
        self.name = w.Text(value="", placeholder="e.g. credit", description="Model name")
        self.register_button = self._button("Register current model", self.register, style="primary")
        self.show_button = self._button("Show versions", self.show_versions)
        self.compare_button = self._button("Compare with champion", self.compare)
        self.checks = w.Text(value="", placeholder="optional TOML/YAML/JSON file", description="Checks file")
        self.sensitive = w.SelectMultiple(options=[], description="Fairness by", rows=4)
        self.version = w.Dropdown(options=[], description="Version")
        self.force = w.Checkbox(value=False, description="Force past failed gates")
        self.reason = w.Text(value="", placeholder="why (recorded in the history)", description="Reason")
        self.promote_button = self._button("Promote", self.promote, style="warning")
        self.rollback_button = self._button("Roll back champion", self.rollback, style="danger")
        self.versions = w.HTML()
        self.decision = w.HTML()
        self.card = w.HTML()
        self.charts = w.Box(layout=w.Layout(flex_flow="row wrap", overflow="visible"))
        self.description = None  # the last ModelDescription shown
        self.comparison = None  # the last ComparisonResult shown
        self.promotion = None  # the last PromotionResult
        self._compose(
            self.registry,
            w.HBox([self.name, self.register_button, self.show_button]),
            self.versions,
            w.HBox([self.sensitive, self.checks, self.compare_button]),
            w.HBox([self.version, self.force, self.reason]),
            w.HBox([self.promote_button, self.rollback_button]),
            self.decision,
            self.card,
            self.charts,
            intro="Register the current model, compare it with the champion on the held-out rows, "
            "promote it through the release gate or roll the champion back.",
        )
        self.name.observe(self._guarded(self._on_name), "value")
        self.registry.observe(self._guarded(self._on_name), "value")
        self.state.observe(self._guarded(self._on_model), ["model", "validation"])
        self.state.observe(self._guarded(self._on_spec), "spec")
        self._on_spec({"new": self.state.spec})

    # -- what the inputs say ----------------------------------------------------------------------
    def where(self) -> str | None:
        """The registry the Registry box names (None: the default), checked before any work."""
        from workbench.registry.location import registry_location

        text = self.registry.value.strip() or None
        registry_location(text)  # a malformed location is one sentence now, not inside the work
        return text

    def model_name(self) -> str:
        """The registered model's name, checked (one sentence when empty or malformed)."""
        from workbench.registry.versions import check_name

        if not self.name.value.strip():
            raise ParameterError("type the registered model's name (e.g. credit) first")
        return check_name(self.name.value.strip())

    def window(self):
        """The labelled rows a comparison is measured on: the held-out rows."""
        st = self.state
        if st.validation is None or st.spec is None:
            raise DataError("a comparison needs held-out rows: load a dataset in the Data panel first")
        return st.validation

    # -- actions ---------------------------------------------------------------------------------
    def register(self) -> None:
        """Register the current model as a new version of the named model (the "Register" button)."""
        import tempfile
        from pathlib import Path

        from workbench.modeling.artifact import save_model
        from workbench.registry.catalog import describe_model
        from workbench.registry.versions import register_model

        st = self.state
        if st.model is None:
            raise WorkbenchError("train or load a model first: there is nothing to register")
        name, registry = self.model_name(), self.where()
        model, path = st.model, st.model_path

        def work():
            if path:
                info = register_model(path, name, registry=registry)
            else:  # never saved: registered from a temporary file (the registry keeps its own copy)
                with tempfile.TemporaryDirectory(prefix="workbench-register-") as tmp:
                    saved = save_model(model, Path(tmp) / f"{_safe(model.name)}.wbm")
                    info = register_model(saved, name, registry=registry)
            return info, describe_model(name, registry=registry)

        def done(out) -> None:
            info, description = out
            self._show_description(description, select=info.version)
            self.banner.info(f"Registered {getattr(model, 'name', 'the model')} as {info.uri}.")

        self.run(f"Registering the model as '{name}'", work, done)

    def show_versions(self) -> None:
        """List the named model's versions, aliases and latest moves (the "Show versions" button)."""
        from workbench.registry.catalog import describe_model

        name, registry = self.model_name(), self.where()
        self.run(
            f"Reading the versions of '{name}'",
            lambda: describe_model(name, registry=registry),
            self._show_description,
        )

    def compare(self) -> None:
        """Compare the current model with the named model's champion on the held-out rows."""
        from workbench.releases.compare import compare_models

        st = self.state
        if st.model is None:
            raise WorkbenchError("train or load a model first: there is nothing to compare")
        name, registry, data, config = self.model_name(), self.where(), self.window(), self.config()
        model, sensitive = st.model, list(self.sensitive.value)

        def work():
            return compare_models(
                f"models:/{name}@champion", model, data, sensitive=sensitive, registry=registry
            )

        def done(result) -> None:
            self._show_comparison(result, config)
            self.banner.info(result.verdict(config).sentence)

        self.run(f"Comparing the current model with '{name}'@champion on {len(data):,} rows", work, done)

    def promote(self) -> None:
        """Send the chosen version through the release gate (the "Promote" button).

        The gate of ``workbench promote``: the comparison with the champion on
        the held-out rows, the ``release.*`` checks, ``champion`` moved only when
        they pass, or with "Force" and a reason.
        """
        from workbench.registry.catalog import describe_model
        from workbench.releases.promote import REFUSED, promote

        name, registry, data = self.model_name(), self.where(), self.window()
        if self.version.value is None:
            raise ParameterError(f"choose the version of '{name}' to promote (Show versions lists them)")
        version, force = int(self.version.value), bool(self.force.value)
        reason = self.reason.value.strip() or None
        if force and reason is None:
            raise ParameterError("forcing a promotion needs a reason: say why the gate is overridden")
        checks = self.checks.value.strip() or None
        sensitive = list(self.sensitive.value)

        def work():
            result = promote(
                name,
                version,
                data,
                sensitive=sensitive,
                checks=checks,
                force=force,
                reason=reason,
                registry=registry,
            )
            return result, describe_model(name, registry=registry)

        def done(out) -> None:
            result, description = out
            self.promotion = result
            self._show_description(description, select=version)
            self.decision.value = _decision_html(result)
            (self.banner.error if result.decision == REFUSED else self.banner.info)(result.sentence)

        self.run(f"Promoting version {version} of '{name}' through the release gate", work, done)

    def rollback(self) -> None:
        """Move ``champion`` back to the previous champion (the "Roll back" button)."""
        from workbench.registry.audit import rollback
        from workbench.registry.catalog import describe_model

        name, registry = self.model_name(), self.where()
        reason = self.reason.value.strip() or None

        def work():
            move = rollback(name, reason=reason, registry=registry)
            return move, describe_model(name, registry=registry)

        def done(out) -> None:
            move, description = out
            self._show_description(description, select=move.to_version)
            self.banner.info(
                f"'{name}'@champion rolled back from version {move.from_version} to version "
                f"{move.to_version}."
            )

        self.run(f"Rolling back the champion of '{name}'", work, done)

    def config(self) -> dict:
        """The check thresholds of the Checks file box (``{}``: the default gates)."""
        from workbench.checks import load_checks_file

        path = self.checks.value.strip()
        return load_checks_file(path) if path else {}

    # -- showing ---------------------------------------------------------------------------------
    def _show_description(self, description, select: int | None = None) -> None:
        self.description = description
        self.versions.value = description._repr_html_()
        numbers = [int(v.version) for v in description.versions]
        self.version.options = [(f"v{n}" + _aliases(description, n), n) for n in numbers]
        if numbers:
            self.version.value = select if select in numbers else numbers[-1]

    def _show_comparison(self, result, config: dict) -> None:
        self.comparison = result
        self.card.value = result._repr_html_(config)
        slots = []
        for fig in result.figures().values():
            slot = ChartSlot(width=CHART_WIDTH, height=CHART_HEIGHT, margin=dict(l=70, r=20, t=60, b=60))
            slot.show(fig)
            slots.append(slot)
        self.charts.children = tuple(slots)

    def _clear_comparison(self) -> None:
        self.comparison = None
        self.card.value = ""
        self.charts.children = ()

    # -- reacting --------------------------------------------------------------------------------
    def _on_name(self, change: dict) -> None:
        self.description = self.promotion = None
        self.versions.value = self.decision.value = ""
        self.version.options = []
        self._clear_comparison()

    def _on_model(self, change: dict) -> None:
        self._clear_comparison()

    def _on_spec(self, change: dict) -> None:
        spec = change["new"]
        columns = [] if spec is None else list(dict.fromkeys([*spec.sensitive, *spec.features]))
        self.sensitive.options = columns
        self.sensitive.value = tuple(spec.sensitive) if spec is not None else ()


def _aliases(description, version: int) -> str:
    names = sorted(a for a, v in description.aliases.items() if int(v) == version)
    return "".join(f" @{a}" for a in names)


def _decision_html(result) -> str:
    colour = {"promoted": "#1a7f37", "pending": "#9a6700", "refused": "#cf222e"}.get(
        result.decision, "#57606a"
    )
    failed = (
        "<div>Failed release checks: "
        + ", ".join(f"<code>{html.escape(n)}</code>" for n in result.failed)
        + "</div>"
        if result.failed
        else ""
    )
    return (
        f"<div style='border-left:4px solid {colour};padding:4px 10px;margin:4px 0'>"
        f"<b style='color:{colour}'>{html.escape(result.decision.capitalize())}</b>"
        + (" (forced)" if result.forced else "")
        + f": {html.escape(result.sentence)}{failed}</div>"
    )
