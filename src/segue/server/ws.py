"""JSON over WebSocket: controls in, acknowledgements and engine events out (browsers, Unity, Godot, web tools).

The server runs an asyncio loop on its own thread. Events cross from the session's producer
thread with ``loop.call_soon_threadsafe`` — the producer only schedules a callback and returns —
and each client has a bounded outbox: when a client reads too slowly the oldest *beat* events
are dropped first (they are the most frequent and the least consequential), then the oldest
events of any kind, so one stalled browser tab can never hold up the music or the other clients.

Replies (``ack``, ``error``, ``status``) are sent in order from the reader, so a client that
never reads its replies stops being read in turn (TCP back-pressure) rather than growing a
queue on the server. A malformed message gets an ``error`` and the connection stays open.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from segue.engine.engine import Event
from segue.limits import check_number, safe_json_loads
from segue.server import EVENT_KINDS, ControlGate, ServerError, check_port
from segue.server.access import AccessError, check_listener, origin_allowed, same_token

log = logging.getLogger("segue.server.ws")

DEFAULT_EVENTS: frozenset[str] = frozenset(k for k in EVENT_KINDS if k != "beat")
OUTBOX_SIZE = 256  # events waiting per client
AUTH_TIMEOUT_S = 10.0  # how long a client may take to send its hello when a token is required
POLICY_VIOLATION = 1008  # WebSocket close code for a refused client


class _TokenBucket:
    """At most ``rate`` messages per second on average, with bursts of up to one second's worth."""

    def __init__(self, rate: float | None) -> None:
        self.rate = rate
        self.tokens = float(rate or 0)
        self.stamp = time.monotonic()

    def take(self) -> bool:
        if self.rate is None:
            return True
        now = time.monotonic()
        self.tokens = min(float(self.rate), self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


@dataclass(eq=False)
class _Client:
    """One connection's subscriptions and outbox."""

    ws: ServerConnection
    bucket: _TokenBucket
    kinds: frozenset[str] = frozenset()  # nothing until the client subscribes
    outbox: collections.deque[tuple[str, str]] = field(default_factory=collections.deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    dropped: int = 0
    rate_limited: int = 0
    last_rate_log: float = 0.0

    @property
    def peer(self) -> str:
        addr = self.ws.remote_address
        return f"{addr[0]}:{addr[1]}" if addr else "?"

    def push(self, kind: str, text: str) -> None:
        if len(self.outbox) >= OUTBOX_SIZE:
            for i, (k, _) in enumerate(self.outbox):
                if k == "beat":
                    del self.outbox[i]
                    break
            else:
                self.outbox.popleft()
            self.dropped += 1
        self.outbox.append((kind, text))
        self.wake.set()


class WsServer:
    """A running WebSocket control server for one :class:`~segue.engine.live.LiveSession`."""

    def __init__(self, session: Any, host: str = "127.0.0.1", port: int = 9001, token: str | None = None,
                 max_message_bytes: int = 16384, max_rate_per_s: float | None = 200,
                 allowed_origins: frozenset[str] | set[str] | tuple[str, ...] = ()) -> None:
        check_port(port)
        try:
            check_listener(host, token, "")
        except AccessError as exc:
            raise ServerError(str(exc)) from None
        self.allowed_origins = frozenset(allowed_origins)
        if not isinstance(max_message_bytes, int) or max_message_bytes < 64:
            raise ServerError(f"max_message_bytes must be an integer ≥ 64, got {max_message_bytes!r}")
        if max_rate_per_s is not None and not (isinstance(max_rate_per_s, (int, float)) and max_rate_per_s > 0):
            raise ServerError(f"max_rate_per_s must be a number > 0 (or None for no limit), got {max_rate_per_s!r}")
        self.session = session
        self.gate = ControlGate(session)
        self.token = token
        self.max_message_bytes = max_message_bytes
        self.max_rate_per_s = max_rate_per_s
        self.sample_rate = int(getattr(session, "sample_rate", 44100))
        self.accepted = 0
        self.rejected = 0
        self._clients: set[_Client] = set()
        self._closed = False
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="segue-ws-server", daemon=True)
        self._thread.start()
        self._server: Server | None = None
        try:
            fut = asyncio.run_coroutine_threadsafe(self._listen(host, port), self._loop)
            self._server = fut.result(timeout=10)
        except OSError as exc:
            self._stop_loop()
            raise ServerError(f"cannot listen for WebSocket on ws://{host}:{port}: {exc.strerror or exc}") from None
        sock = self._server.sockets[0]
        self.host, self.port = sock.getsockname()[:2]
        self._unsubscribe = session.subscribe(self._on_event)

    async def _listen(self, host: str, port: int) -> Server:
        # websockets closes the connection (1009) above max_size; keep that hard cap well above our own
        # limit so an oversized-but-sane message gets a polite error instead of a dropped connection.
        hard_cap = max(1 << 20, 4 * self.max_message_bytes)
        return await serve(self._handle, host, port, max_size=hard_cap, process_request=self._check_origin)

    def _check_origin(self, connection: ServerConnection, request: Any) -> Any:
        """Refuse (403) a handshake from a foreign web page: without this any site the player visits
        could subscribe, change the state and read the status through the browser."""
        origin = request.headers.get("Origin")
        if origin_allowed(origin, request.headers.get("Host"), self.allowed_origins):
            return None
        log.warning("WebSocket: refused a handshake from origin %r", origin)
        return connection.respond(HTTPStatus.FORBIDDEN, f"origin {origin!r} is not allowed\n")

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    @property
    def clients(self) -> int:
        return len(self._clients)

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        """Close every connection (1001 going away) and stop the loop; the session keeps playing."""
        if self._closed:
            return
        self._closed = True
        self._unsubscribe()
        if self._server is not None:
            try:
                asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout=5)
            except Exception:  # a stuck client must not keep the caller waiting forever
                log.warning("WebSocket server: clients did not close in time")
        self._stop_loop()

    async def _shutdown(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()
        # connection handlers still in their handshake (or a burst's half-open sockets) must end here, on the
        # loop, not be garbage-collected after it stopped ("no running event loop" at exit)
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self._loop.close()

    def __enter__(self) -> "WsServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ events (producer thread → loop)
    def _on_event(self, ev: Event) -> None:
        """Runs on the session's producer thread: schedule and return, never wait."""
        if not self._clients:
            return
        try:
            self._loop.call_soon_threadsafe(self._fan_out, ev)
        except RuntimeError:  # the loop is closing
            pass

    def _fan_out(self, ev: Event) -> None:
        text: str | None = None
        for client in list(self._clients):
            if ev.kind not in client.kinds:
                continue
            if text is None:
                text = json.dumps({"type": "event", "kind": ev.kind, "sample": ev.sample,
                                   "seconds": round(ev.sample / self.sample_rate, 6), "data": ev.data},
                                  default=str)
            client.push(ev.kind, text)

    async def _write_events(self, client: _Client) -> None:
        while True:
            await client.wake.wait()
            client.wake.clear()
            while client.outbox:
                _, text = client.outbox.popleft()
                await client.ws.send(text)

    # ------------------------------------------------------------------ one connection
    async def _handle(self, ws: ServerConnection) -> None:
        client = _Client(ws=ws, bucket=_TokenBucket(self.max_rate_per_s))
        writer: asyncio.Task[None] | None = None
        try:
            if self.token is not None and not await self._authenticate(client):
                return
            self._clients.add(client)
            writer = asyncio.create_task(self._write_events(client))
            while True:
                raw = await ws.recv()
                await self._on_message(client, raw)
        except ConnectionClosed:
            pass
        except Exception:  # a bug must cost this connection at most, never the server or the music
            log.exception("WebSocket server: error on the connection from %s", client.peer)
            try:
                await ws.close(1011, "internal error")
            except Exception:  # already broken: nothing more to say to it
                pass
        finally:
            self._clients.discard(client)
            if writer is not None:
                writer.cancel()
            if client.dropped:
                log.info("WebSocket %s: %d events dropped (client read too slowly)", client.peer, client.dropped)

    async def _authenticate(self, client: _Client) -> bool:
        ws = client.ws
        path = ws.request.path if ws.request is not None else ""
        given = parse_qs(urlsplit(path).query).get("token")
        if given:
            if same_token(given[0], self.token):  # type: ignore[arg-type]
                return True
            await self._refuse_client(client, "invalid token")
            return False
        try:
            raw = await asyncio.wait_for(ws.recv(), AUTH_TIMEOUT_S)
        except TimeoutError:
            await self._refuse_client(client, "authentication required: connect with ?token=… or send "
                                              '{"type":"hello","token":…} first')
            return False
        try:
            msg = safe_json_loads(raw) if len(raw) <= self.max_message_bytes else None
        except (ValueError, TypeError, RecursionError):
            msg = None
        if not isinstance(msg, dict) or msg.get("type") != "hello" or not isinstance(msg.get("token"), str):
            await self._refuse_client(client, "authentication required: the first message must be "
                                              '{"type":"hello","token":…} (or connect with ?token=…)')
            return False
        if not same_token(msg["token"], self.token):  # type: ignore[arg-type]
            await self._refuse_client(client, "invalid token")
            return False
        await self._reply(client, {"type": "ack", **_echo_id(msg)})
        return True

    async def _refuse_client(self, client: _Client, reason: str) -> None:
        log.warning("WebSocket %s refused: %s", client.peer, reason)
        await client.ws.close(POLICY_VIOLATION, reason)

    async def _reply(self, client: _Client, message: dict[str, Any]) -> None:
        await client.ws.send(json.dumps(message, default=str))

    async def _error(self, client: _Client, reason: str, msg_id: dict[str, Any] | None = None,
                     report: bool = True) -> None:
        """Tell the client; count the rejection in the engine unless it is a flood we must not amplify."""
        self.rejected += 1
        if report:
            log.info("WebSocket %s rejected: %s", client.peer, reason)
            self.gate.reject(reason)
        await self._reply(client, {"type": "error", "reason": reason, **(msg_id or {})})

    async def _on_message(self, client: _Client, raw: str | bytes) -> None:
        if not client.bucket.take():
            client.rate_limited += 1
            now = time.monotonic()
            if now - client.last_rate_log > 1.0:  # one log line per second of flooding, not one per message
                client.last_rate_log = now
                log.warning("WebSocket %s is over %s messages/s; dropping (%d so far)", client.peer,
                            self.max_rate_per_s, client.rate_limited)
            await self._error(client, f"rate limited: more than {self.max_rate_per_s:g} messages per second; "
                                      "this message was dropped", report=False)
            return
        if isinstance(raw, bytes):
            await self._error(client, "binary messages are not understood; send JSON text")
            return
        size = len(raw.encode("utf-8")) if len(raw) * 4 > self.max_message_bytes else len(raw)
        if size > self.max_message_bytes:
            await self._error(client, f"message too large ({size} bytes; the limit is {self.max_message_bytes})")
            return
        try:
            msg = safe_json_loads(raw)
        except (ValueError, RecursionError) as exc:
            await self._error(client, f"not JSON: {exc}")
            return
        if not isinstance(msg, dict):
            await self._error(client, f"a message must be a JSON object, got {type(msg).__name__}")
            return
        msg_id = _echo_id(msg)
        if "id" in msg:
            ident = msg.pop("id")
            if ident is not None and not (isinstance(ident, (str, int)) and not isinstance(ident, bool)
                                          and len(str(ident)) <= 200):
                await self._error(client, "'id' must be a string or an integer (at most 200 characters)")
                return
        kind = msg.get("type")
        if kind == "status":
            if set(msg) - {"type"}:
                await self._error(client, "a status request has no fields besides 'type' and 'id'", msg_id)
                return
            await self._reply(client, {**self.session.status(), **msg_id, "type": "status"})
        elif kind == "subscribe":
            await self._subscribe(client, msg, msg_id)
        elif kind == "hello":
            if self.token is not None and not same_token(msg.get("token"), self.token):
                await self._error(client, "invalid token in hello", msg_id, report=False)
                return
            await self._reply(client, {"type": "ack", **msg_id})
        else:
            at = msg.pop("at", None)
            if at is not None and not check_number(at):
                await self._error(client, "'at' must be a time in seconds since the epoch (as time.time() gives)",
                                  msg_id)
                return
            reason = self.gate.submit(msg, at=None if at is None or at <= time.time() else float(at))
            if reason is not None:
                self.rejected += 1
                log.info("WebSocket %s rejected: %s", client.peer, reason)
                await self._reply(client, {"type": "error", "reason": reason, **msg_id})
                return
            self.accepted += 1
            await self._reply(client, {"type": "ack", **msg_id})

    async def _subscribe(self, client: _Client, msg: dict[str, Any], msg_id: dict[str, Any]) -> None:
        extra = set(msg) - {"type", "events"}
        if extra:
            await self._error(client, f"unknown field(s) {', '.join(sorted(extra))} in a subscribe message", msg_id)
            return
        events = msg.get("events")
        if events is None:
            kinds = DEFAULT_EVENTS
        elif isinstance(events, list) and all(isinstance(e, str) for e in events):
            unknown = sorted(set(events) - set(EVENT_KINDS))
            if unknown:
                await self._error(client, f"unknown event kind(s) {', '.join(map(repr, unknown))} "
                                          f"(known: {', '.join(EVENT_KINDS)})", msg_id)
                return
            kinds = frozenset(events)
        else:
            await self._error(client, "'events' must be a list of event kinds", msg_id)
            return
        client.kinds = kinds
        await self._reply(client, {"type": "ack", **msg_id, "events": sorted(kinds)})


def _echo_id(msg: dict[str, Any]) -> dict[str, Any]:
    """``{"id": …}`` if the client tagged its message with a usable id, else nothing."""
    ident = msg.get("id")
    if ident is None or isinstance(ident, bool) or not isinstance(ident, (str, int)) or len(str(ident)) > 200:
        return {}
    return {"id": ident}


def start_ws(session: Any, host: str = "127.0.0.1", port: int = 9001, token: str | None = None,
             max_message_bytes: int = 16384, max_rate_per_s: float | None = 200,
             allowed_origins: frozenset[str] | set[str] | tuple[str, ...] = ()) -> WsServer:
    """Serve the JSON control protocol for ``session`` on ``ws://host:port`` (0 = any free port; read ``.port``).

    Raises :class:`~segue.server.ServerError` if the address cannot be bound or a limit is invalid.
    """
    return WsServer(session, host=host, port=port, token=token, max_message_bytes=max_message_bytes,
                    max_rate_per_s=max_rate_per_s, allowed_origins=allowed_origins)


__all__ = ["WsServer", "start_ws", "DEFAULT_EVENTS"]
