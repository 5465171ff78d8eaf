"""MLflow's entry point for a registered workbench model ("models from code": nothing is pickled).

:func:`workbench.registry.register_model` logs this file as the model's code;
``mlflow.pyfunc.load_model("models:/NAME@champion")`` runs it (workbench must
be installed where it is loaded). ``load_context`` checks the artifact's file
hash against the one registered with it and loads the artifact with
workbench's own safe loader (skops allow-list, ONNX checks), never a pickle.

``predict`` returns what :meth:`workbench.Model.predict` returns: labels (at
the model's threshold) for a classifier, values for a regressor.
"""

from __future__ import annotations

import mlflow
import pandas as pd
from mlflow.pyfunc import PythonModel

ARTIFACT_KEY = "workbench_model"


class WorkbenchModel(PythonModel):
    """A workbench artifact behind MLflow's pyfunc interface."""

    def load_context(self, context) -> None:
        """Check the artifact's file hash against the registered one, then load it with workbench's loader.

        Raises
        ------
        RegistryError
            When the artifact's hash differs from the registered one (it was altered after registering).
        """
        from workbench.modeling.artifact import load_model
        from workbench.registry.integrity import verify_artifact

        path = context.artifacts[ARTIFACT_KEY]
        config = context.model_config or {}
        verify_artifact(
            path, config.get("sha256"), f"the MLflow model '{config.get('name', 'workbench model')}'"
        )
        self.model = load_model(path)

    def predict(self, context, model_input: pd.DataFrame, params: dict | None = None):
        """What :meth:`workbench.Model.predict` returns for `model_input` (made a DataFrame if need be)."""
        if not isinstance(model_input, pd.DataFrame):
            model_input = pd.DataFrame(model_input)
        return self.model.predict(model_input)


mlflow.models.set_model(WorkbenchModel())
