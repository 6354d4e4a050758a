"""The studio's door: token, host and origin checks for every request and socket.

Why an ASGI middleware and not a check per route: the page, its scripts, the REST API and the
sockets must *all* be refused without the token when the studio listens beyond loopback, and a
route that forgot the check would be a hole. The token may come as ``?token=…`` (the link a
composer opens), an ``Authorization: Bearer`` or ``X-Segue-Token`` header (tools), or the
``segue_token`` cookie the page receives when it was opened with a valid ``?token=`` (so its
scripts and sockets carry it without putting it in every URL). Tokens are compared in constant
time.

Without a token the studio only listens on loopback, where two browser attacks remain: DNS
rebinding (a site whose name resolves to 127.0.0.1) and cross-site WebSocket hijacking (any page
may open a socket to 127.0.0.1). So requests must name a loopback host, and sockets opened from
a page must come from the studio's own origin.
"""

from __future__ import annotations

import json
from http.cookies import SimpleCookie
from typing import Any, Awaitable, Callable
from urllib.parse import parse_qs, urlsplit

from segue.server.access import same_token

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

COOKIE = "segue_token"
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
POLICY_VIOLATION = 1008


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def _host_name(host: str) -> str:
    if host.startswith("["):
        return host[: host.find("]") + 1]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SIMPLE_CONTENT_TYPES = frozenset({"text/plain", "application/x-www-form-urlencoded", "multipart/form-data", ""})
"""What a cross-site form or ``fetch(…, {mode: "no-cors"})`` may send without a CORS preflight."""


def _csrf_refusal(scope: Scope, headers: dict[str, str], host: str) -> tuple[int, str] | None:
    """Why a state-changing request is refused, or None. A foreign Origin is refused outright; the body
    must be JSON (uploads: anything but the content types a cross-site form can send), which a
    cross-site page cannot send without a preflight the studio never grants. A 'text/plain' POST from
    any web page used to create sessions, send controls and run the YAML bomb."""
    origin = headers.get("origin")
    if origin is not None and urlsplit(origin).netloc.lower() != host.lower():
        return 403, f"cross-site request from {origin!r} refused"
    if scope.get("method") == "DELETE":
        return None
    ctype = headers.get("content-type", "").split(";")[0].strip().lower()
    if scope.get("path", "").startswith("/api/files/"):
        if ctype in SIMPLE_CONTENT_TYPES:
            return 415, "upload with Content-Type: application/octet-stream (or the file's own type)"
        return None
    if ctype != "application/json":
        return 415, "send the body as JSON with Content-Type: application/json"
    return None


class Guard:
    """ASGI middleware: refuse what lacks the token, a loopback host (when asked) or a same-origin socket."""

    def __init__(self, app: Any, token: str | None = None, loopback_hosts_only: bool = False) -> None:
        self.app = app
        self.token = token
        self.loopback_hosts_only = loopback_hosts_only

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        host = headers.get("host", "")
        if self.loopback_hosts_only and _host_name(host) not in LOOPBACK_NAMES:
            await self._refuse(scope, receive, send, 403, f"host {host!r} refused: the studio answers only "
                                                          "to 127.0.0.1 and localhost")
            return
        origin = headers.get("origin")
        if scope["type"] == "websocket" and origin and urlsplit(origin).netloc != host:
            await self._refuse(scope, receive, send, 403, f"cross-origin socket from {origin!r} refused")
            return
        if scope["type"] == "http" and scope.get("method", "GET") not in SAFE_METHODS:
            refused = _csrf_refusal(scope, headers, host)
            if refused is not None:
                await self._refuse(scope, receive, send, *refused)
                return
        if self.token is None:
            await self.app(scope, receive, send)
            return
        given, from_query = self._given(scope, headers)
        if given is None or not same_token(given, self.token):
            reason = "invalid token" if given is not None else \
                "authentication required: open the studio with ?token=… or send 'Authorization: Bearer …'"
            await self._refuse(scope, receive, send, 401, reason)
            return
        if from_query and scope["type"] == "http":
            send = self._with_cookie(send)
        await self.app(scope, receive, send)

    @staticmethod
    def _given(scope: Scope, headers: dict[str, str]) -> tuple[str | None, bool]:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if query.get("token"):
            return query["token"][0], True
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip(), False
        if "x-segue-token" in headers:
            return headers["x-segue-token"], False
        if "cookie" in headers:
            cookie = SimpleCookie()
            try:
                cookie.load(headers["cookie"])
            except Exception:  # a malformed cookie header is simply no token
                return None, False
            if COOKIE in cookie:
                return cookie[COOKIE].value, False
        return None, False

    def _with_cookie(self, send: Send) -> Send:
        value = f"{COOKIE}={self.token}; HttpOnly; SameSite=Strict; Path=/".encode("latin-1")

        async def wrapped(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", value)]}
            await send(message)

        return wrapped

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, reason: str) -> None:
        if scope["type"] == "websocket":
            # Accept, then close with a policy-violation code and the reason, so a client can tell why.
            message = await receive()
            if message.get("type") != "websocket.connect":
                return
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": POLICY_VIOLATION, "reason": reason[:120]})
            return
        body = json.dumps({"error": reason}).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                *([(b"www-authenticate", b"Bearer")] if status == 401 else [])]})
        await send({"type": "http.response.body", "body": body})
