"""Running the server: uvicorn over :func:`~workbench.serving.app.build_app`, on loopback by default.

Safe defaults: it binds 127.0.0.1; any other address needs a token (clients
send ``Authorization: Bearer TOKEN``). SIGTERM and Ctrl-C stop it gracefully:
uvicorn stops accepting connections, requests in flight are answered, then
the batch threads finish what they hold and the prediction log is flushed.
With ``workers`` > 1 each worker process loads the models and keeps its own
metrics and log segments (the log's file names never collide).
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from workbench.errors import ParameterError
from workbench.serving.app import MAX_BODY_BYTES, MAX_RECORDS, build_app
from workbench.serving.guard import GuardPolicy
from workbench.validation import check_number

_ENV = "WORKBENCH_SERVE_OPTIONS"


def serve(
    model: Any,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    challenger: Any = None,
    mode: str | None = None,
    canary_percent: float = 10.0,
    fallback: Any = "prior",
    log_dir: str | Path | None = None,
    log_exclude: Iterable[str] = (),
    workers: int = 1,
    token: str | None = None,
    registry: str | None = None,
    reload_seconds: float = 5.0,
    timeout: float = 1.0,
    max_body_bytes: int = MAX_BODY_BYTES,
    max_records: int = MAX_RECORDS,
    policy: GuardPolicy | None = None,
    reference: str | Path | None = None,
) -> None:
    """Serve `model` over HTTP until stopped (SIGTERM, Ctrl-C).

    Parameters
    ----------
    model : str or Path
        A model file or a ``models:/`` URI (``models:/NAME@champion`` is followed as the alias moves).
    host, port : str, int
        Where to listen (port 0: any free port; the address is printed).
    challenger, mode, canary_percent, fallback, log_dir, log_exclude, registry, reload_seconds, policy
        As for :class:`~workbench.serving.service.ServingService` .
    timeout : float
        Seconds a request waits for its model before the fallback answers.
    workers : int
        uvicorn worker processes.
    token : str, optional
        Required for any address but loopback.
    max_body_bytes, max_records : int
        Request limits (413 beyond).
    reference : str or Path, optional
        A training table, for models saved without a training profile.
    """
    port = int(check_number(port, "--port", low=0, high=65535, integer=True))
    workers = int(check_number(workers, "--workers", low=1, high=64, integer=True))
    if token is not None and not token.strip():
        raise ParameterError("--token must not be empty")
    if not _is_loopback(host) and not token:
        raise ParameterError(
            f"--host {host} lets other machines connect: give --token TOKEN "
            "(clients send 'Authorization: Bearer TOKEN'), or serve on 127.0.0.1"
        )
    policy = policy or GuardPolicy()
    options = {
        "model": str(model),
        "challenger": None if challenger is None else str(challenger),
        "mode": mode,
        "canary_percent": canary_percent,
        "fallback": fallback if fallback in (None, "prior", "none") else str(fallback),
        "log_dir": None if log_dir is None else str(log_dir),
        "log_exclude": list(log_exclude),
        "registry": registry,
        "reload_seconds": reload_seconds,
        "timeout": timeout,
        "policy": {
            "impute": sorted(policy.impute),
            "tolerance": policy.tolerance,
            "reject_extra": policy.reject_extra,
        },
        "profile": _reference_profile(model, reference, registry),
        "app": {"token": token or "", "max_body_bytes": max_body_bytes, "max_records": max_records},
    }
    import uvicorn

    common = dict(log_level="warning", access_log=False, timeout_graceful_shutdown=30, server_header=False)
    if workers > 1:
        os.environ[_ENV] = json.dumps(options)
        print(f"serving {model} on http://{_shown(host)}:{port} with {workers} workers", flush=True)
        uvicorn.run(
            "workbench.serving.server:app_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            **common,
        )
        return
    app = app_from_options(options)
    sock = bind(host, port)
    actual = sock.getsockname()[1]
    served = app.state.service.champion.served
    print(
        f"serving {served.name} version {served.version} on http://{_shown(host)}:{actual} "
        f"(API docs at /docs; Ctrl-C stops)",
        flush=True,
    )
    server = _server_class()(uvicorn.Config(app, **common))
    server.run(sockets=[sock])


def app_from_options(options: dict):
    """The app for `options` (the JSON-safe settings :func:`serve` passes to each worker)."""
    from workbench.serving.service import ServingService

    service = ServingService(
        options["model"],
        challenger=options["challenger"],
        mode=options["mode"],
        canary_percent=options["canary_percent"],
        fallback=options["fallback"],
        log_dir=options["log_dir"],
        log_exclude=tuple(options["log_exclude"]),
        policy=GuardPolicy(**options["policy"]),
        timeout=options["timeout"],
        reload_seconds=options["reload_seconds"],
        registry=options["registry"],
        profile=options["profile"],
    )
    app = build_app(service, **options["app"])
    app.state.service = service
    return app


def app_from_environment():
    """The app of a uvicorn worker process (its settings in the environment, from :func:`serve`)."""
    return app_from_options(json.loads(os.environ[_ENV]))


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on `host`:`port` (0: a free port), or one sentence saying why not."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ParameterError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}); choose another --port (0: any free one)"
        ) from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _reference_profile(model: Any, reference: Any, registry: str | None) -> dict | None:
    if reference is None:
        return None
    from workbench.data._profile import feature_profile
    from workbench.data.io import load_table
    from workbench.modeling.artifact import read_model_info

    spec = read_model_info(model, registry=registry).spec
    return feature_profile(load_table(reference), spec)


def _server_class():
    """uvicorn's server, ending with exit 0 on SIGTERM/SIGINT (uvicorn re-raises the signal)."""
    import uvicorn

    class GracefulServer(uvicorn.Server):
        def handle_exit(self, sig, frame) -> None:
            super().handle_exit(sig, frame)
            # a requested stop is this command's normal end: not re-raised as a death by signal
            getattr(self, "_captured_signals", []).clear()

    return GracefulServer


def _is_loopback(host: str) -> bool:
    """Only this machine can connect (localhost, 127.0.0.0/8, ::1)."""
    import ipaddress

    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _shown(host: str) -> str:
    return f"[{host}]" if ":" in host else host
