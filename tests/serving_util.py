"""Real servers for the serving tests: uvicorn on 127.0.0.1, a free port, in a thread, stopped after."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager

import pandas as pd


@contextmanager
def running(service, **app_options):
    """Serve `service` (a ServingService) with uvicorn on a free loopback port; yield the base URL."""
    import uvicorn

    from workbench.serving.app import build_app
    from workbench.serving.server import bind

    app = build_app(service, **app_options)
    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(60)
        sock.close()


def records_of(frame: pd.DataFrame, spec) -> list[dict]:
    """The rows of `frame` as JSON records (features only; missing values as null)."""
    features = frame[spec.features].astype(object)
    features = features.where(features.notna(), None)
    return features.to_dict(orient="records")


def train_loans(folder, recipe: str, name: str, rows: slice = slice(None)):
    """A quick `recipe` model on the loans table (tests/conftest.py), saved as `name` in `folder`."""
    from workbench.data import infer_spec
    from workbench.modeling.artifact import save_model
    from workbench.modeling.train import train

    df = pd.read_csv(folder / "train.csv").iloc[rows]
    spec = infer_spec(df, target="approved", sensitive=["applicant-sex"])
    trained = train(df, spec, recipes=[recipe], quick=True, progress=False)
    return save_model(trained.champion, folder / name, overwrite=True)
