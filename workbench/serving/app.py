"""The HTTP API of ``workbench serve``: FastAPI over a :class:`~workbench.serving.service.ServingService`.

Endpoints:

- ``POST /predict``: one record (a JSON object) or a list of them. The answer
  is always ``{"request_id", "answered", "rejected", "failed", "results"}``
  with one result per record, in order, each with its own ``status``: 200
  (answered: ``prediction``, ``probability`` or ``probabilities`` or
  ``value``, the ``model`` name, version and role that answered, ``fallback``
  and ``fallback_reason``, ``flags``), 422 (the guard refused it: ``errors``
  naming each column and reason) or 503 (the model failed and no fallback
  answered). The HTTP status is 200 when at least one record was answered (a
  multi-status answer: read each result's status), else 422 when every record
  was refused, else 503. A body that is not JSON is 400; not a record or a
  list, or an empty list, 422; more than ``max_records`` records or a body
  over the size limit, 413; not sent as JSON, 415; without the token a
  server requires, 401. Every error is JSON (``{"detail": ...}``), never a bare 500.
- ``GET /health``: ``live``, ``ready``, ``status`` ``ok`` or ``degraded`` with the ``reasons``.
- ``GET /model``: names, versions, aliases followed, columns and types, threshold, policy, strategy.
- ``GET /metrics``: Prometheus text (prometheus_client, a registry per app).
- ``POST /reload``: re-read the followed aliases now.
- ``/docs`` and ``/openapi.json``: the request schema is generated from the model's spec.
"""

import asyncio
import json
import time
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from workbench.serving._http import EdgeMiddleware, json_body, send_bytes
from workbench.serving._openapi import predict_openapi
from workbench.serving.scoring import OK, REJECTED, UNAVAILABLE

#: the most records one request may hold
MAX_RECORDS = 10_000
#: the largest request body (bytes)
MAX_BODY_BYTES = 16 * 2**20


class ServingAPI(FastAPI):
    """FastAPI, with ``POST /predict`` answered ahead of its router by :attr:`fast_predict`.

    Routing, the request object and the middleware layers were a large share of a one-record request's
    cost; the ``/predict`` route (:func:`build_app`) still documents the endpoint and answers the same way.
    """

    fast_predict: Any = None  # build_app's bare ASGI handler

    async def __call__(self, scope, receive, send):
        """``POST /predict`` to :attr:`fast_predict`; everything else through FastAPI."""
        if (
            self.fast_predict is not None
            and scope["type"] == "http"
            and scope["path"] == "/predict"
            and scope["method"] == "POST"
        ):
            return await self.fast_predict(scope, receive, send)
        return await super().__call__(scope, receive, send)


def build_app(
    service: Any,
    *,
    token: str = "",
    max_body_bytes: int = MAX_BODY_BYTES,
    max_records: int = MAX_RECORDS,
    close_on_shutdown: bool = True,
):
    """The FastAPI app serving `service`.

    Parameters
    ----------
    service : ServingService
        The models, guard, fallback, log and metrics.
    token : str
        The token every request but ``GET /health`` must carry ('' for none).
    max_body_bytes : int
        The largest request body.
    max_records : int
        The most records one request may hold.
    close_on_shutdown : bool
        Close the service (flush the log) when the server shuts down.

    Returns
    -------
    fastapi.FastAPI
    """
    from fastapi import Request
    from fastapi.responses import JSONResponse, Response
    from prometheus_client import CONTENT_TYPE_LATEST

    metrics = service.metrics
    served = service.champion.served

    @asynccontextmanager
    async def lifespan(app):
        yield
        if close_on_shutdown:
            await asyncio.to_thread(service.close)

    edge = EdgeMiddleware(None, token=token, max_body_bytes=max_body_bytes)

    app = ServingAPI(
        title=f"workbench serve: {served.name}",
        version=str(served.version),
        description="Guarded predictions: each record is checked against the model's training profile; "
        "see GET /model for the columns and the policy.",
        lifespan=lifespan,
    )
    counters = {}
    latency = {}

    def observe(endpoint: str, status: int, started: float) -> None:
        key = (endpoint, status)
        if key not in counters:
            counters[key] = metrics.requests.labels(endpoint, str(status))
        if endpoint not in latency:
            latency[endpoint] = metrics.latency.labels(endpoint)
        counters[key].inc()
        latency[endpoint].observe(time.perf_counter() - started)

    def reply(endpoint: str, status: int, payload: dict, started: float) -> Response:
        observe(endpoint, status, started)
        return Response(json.dumps(payload, separators=(",", ":")), status, media_type="application/json")

    @app.post(
        "/predict",
        openapi_extra=predict_openapi(service.champion.deployment.guard),
        summary="Predict one record or a list of records",
        responses={
            200: {"description": "at least one record answered (each result has its own status)"},
            413: {"description": "too many records or too large a body"},
            422: {"description": "every record was refused (each result names the columns and reasons)"},
        },
    )
    async def predict(request: Request):
        started = time.perf_counter()
        status, out = await predict_body(await request.body())
        return reply("predict", status, out, started)

    async def predict_body(body: bytes) -> tuple[int, dict]:
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError) as exc:
            return 400, {"detail": f"the body is not valid JSON ({_first_line(exc)})"}
        if isinstance(payload, dict):
            records = [payload]
        elif isinstance(payload, list):
            records = payload
        else:
            return 422, {"detail": "send one record (a JSON object) or a list of records"}
        if not records:
            return 422, {"detail": "the list of records is empty"}
        if len(records) > max_records:
            detail = f"{len(records):,} records in one request; send at most {max_records:,} per request"
            return 413, {"detail": detail}
        request_id, answers = await service.answer(records)
        statuses = [a["status"] for a in answers]
        n_ok, n_rejected = statuses.count(OK), statuses.count(REJECTED)
        n_failed = len(statuses) - n_ok - n_rejected
        status = OK if n_ok else (UNAVAILABLE if n_failed else REJECTED)
        out = {
            "request_id": request_id,
            "answered": n_ok,
            "rejected": n_rejected,
            "failed": n_failed,
            "results": answers,
        }
        return status, out

    async def predict_asgi(scope, receive, send) -> None:
        """``POST /predict`` as a bare ASGI app: the edge checks, the body, one answer (as the route)."""
        refused = edge.refusal(scope)
        if refused is not None:
            return await send_bytes(send, *json_body(*refused))
        started = time.perf_counter()
        body = await edge.read_body(receive)
        if body is None:  # over the limit (or the client left: then nobody reads this)
            return await send_bytes(send, *json_body(413, edge.too_large()))
        try:
            status, out = await predict_body(body)
        except Exception as exc:  # never a 500 without a JSON reason
            detail = f"the server failed on this request ({type(exc).__name__}: {_first_line(exc)})"
            return await send_bytes(send, *json_body(500, {"detail": detail}))
        observe("predict", status, started)
        await send_bytes(send, *json_body(status, out))

    @app.get("/health", summary="Live, ready, and degraded with the reasons")
    async def health():
        started = time.perf_counter()
        state = service.health()
        return reply("health", 200 if state["ready"] else 503, state, started)

    @app.get("/model", summary="The models served, their columns and types, the policy and the strategy")
    async def model():
        return reply("model", 200, service.describe(), time.perf_counter())

    @app.get("/metrics", summary="Prometheus metrics (text format)")
    async def prometheus():
        started = time.perf_counter()
        service.update_gauges()
        observe("metrics", 200, started)
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    @app.post("/reload", summary="Re-read the followed registry aliases now (swap moved models)")
    async def reload():
        started = time.perf_counter()
        try:
            changed = await asyncio.to_thread(service.follower.refresh)
        except Exception as exc:
            detail = f"the registry could not be read ({type(exc).__name__}: {_first_line(exc)})"
            return reply("reload", 503, {"detail": detail}, started)
        return reply("reload", 200, {"changed": changed, "models": service.health()["models"]}, started)

    @app.exception_handler(Exception)
    async def _internal(request, exc):  # never a 500 without a JSON reason
        detail = f"the server failed on this request ({type(exc).__name__}: {_first_line(exc)})"
        return JSONResponse({"detail": detail}, status_code=500)

    app.add_middleware(EdgeMiddleware, token=token, max_body_bytes=max_body_bytes)
    app.fast_predict = predict_asgi
    return app


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else "no message"
