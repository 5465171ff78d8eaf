"""The HTTP edge of the server: token, body size limit, JSON everywhere (one ASGI middleware).

Before a request reaches a route: a server with a token refuses requests
without it (401; ``GET /health`` stays open for probes); a body larger than the
limit is refused with 413 whether its size is announced (``Content-Length``)
or only found while reading; ``POST /predict`` bodies must say they are JSON (415),
which also keeps a web page from posting to a loopback server with a plain form.
"""

from __future__ import annotations

import json
import secrets

#: paths answered without the token (liveness probes cannot carry secrets)
OPEN_PATHS = frozenset({"/health"})


def json_body(status: int, payload: dict) -> tuple[int, list, bytes]:
    """Status, headers and bytes of a JSON answer."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    return status, headers, body


class EdgeMiddleware:
    """Token check, body size limit and the JSON content type, for every request of the app.

    Parameters
    ----------
    app : ASGI app
    token : str
        The token requests must carry (``Authorization: Bearer T`` or ``X-Workbench-Token: T``); '' for none.
    max_body_bytes : int
        The largest request body accepted.
    """

    def __init__(self, app, *, token: str = "", max_body_bytes: int = 16 * 2**20):
        self.app, self.token, self.max_body_bytes = app, token, max_body_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        refused = self.refusal(scope)
        if refused is not None:
            return await _send(send, *refused)
        received = 0
        started = False

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise _TooLarge()
            return message

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _send(send, 413, self.too_large())

    def refusal(self, scope) -> tuple[int, dict] | None:
        """The status and JSON reason a request is refused with before its body is read (None: go on)."""
        headers = dict(scope.get("headers") or ())
        if self.token and scope["path"] not in OPEN_PATHS and not self._authorized(headers):
            return 401, {"detail": "this server needs its token: send 'Authorization: Bearer TOKEN'"}
        if scope["method"] == "POST" and scope["path"] == "/predict":
            kind = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
            if kind != b"application/json":
                detail = "send the records as JSON with the header 'Content-Type: application/json'"
                return 415, {"detail": detail}
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
            return 413, self.too_large()
        return None

    async def read_body(self, receive) -> bytes | None:
        """The whole request body, or None when it passes the limit (or the client went away)."""
        chunks, received = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > self.max_body_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def _authorized(self, headers: dict) -> bool:
        given = headers.get(b"x-workbench-token", b"")
        auth = headers.get(b"authorization", b"")
        if auth[:7].lower() == b"bearer ":
            given = auth[7:].strip()
        return secrets.compare_digest(given, self.token.encode())

    def too_large(self) -> dict:
        """The JSON reason of a 413 for a body over the limit."""
        return {
            "detail": f"the request body is larger than the limit of {self.max_body_bytes:,} bytes: "
            "send fewer records per request"
        }


class _TooLarge(Exception):
    """Raised from the body reader when the body passes the limit (turned into a 413 answer)."""


async def _send(send, status: int, payload: dict) -> None:
    await send_bytes(send, *json_body(status, payload))


async def send_bytes(send, status: int, headers: list, body: bytes) -> None:
    """Send a whole answer through the ASGI `send`."""
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
