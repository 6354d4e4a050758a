"""OSC over UDP: the control surface game engines, Max/MSP, TouchOSC and SuperCollider speak natively.

Incoming datagrams are parsed and judged on one server thread, in arrival order (a plain
``OSCUDPServer``, not the threading one: a ``param`` followed by a ``marker`` must reach the
engine in that order). Events go out on a second thread fed by a bounded queue, so the session's
producer thread only ever appends to a deque — it never waits on a socket. Everything that can
go wrong with a datagram is caught, logged with the sender's address and answered with
``/segue/event/rejected``; nothing raises in either thread.

Replies (``/segue/status`` and rejections) go to the sender's IP at ``reply_port`` when the server
has one, otherwise to the datagram's source port. A rejection is sent as a direct reply only to
clients that are not subscribed to that destination: subscribers already receive every rejection
the engine logs as an event, and hearing it twice would read as two mistakes. Bundle time tags
are ignored: a live control takes effect at the next audio block.
"""

from __future__ import annotations

import collections
import json
import logging
import threading
import time
from typing import Any

from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_packet import OscPacket
from pythonosc.osc_server import OSCUDPServer

from segue.engine.engine import Event
from segue.limits import SUBSCRIPTION_TTL_S
from segue.server import ControlGate, ServerError, check_port
from segue.server.access import AccessError, check_listener, same_token

log = logging.getLogger("segue.server.osc")

PREFIX = "/segue"
MAX_SUBSCRIBERS = 32
AUTH_TTL_S = 600.0  # a sender that said hello with the token stays authorised this long after its last datagram
EVENT_QUEUE = 2048  # events waiting for the sender thread; the oldest are dropped beyond this

Address = tuple[str, int]

# address → (argument count, OSC type tags for the documentation and the arity message)
_CONTROLS: dict[str, tuple[int, str]] = {
    "/segue/state": (1, "s"), "/segue/stinger": (1, "s"), "/segue/marker": (1, "s"), "/segue/affect": (3, "fff"),
    "/segue/feedback": (1, "s"), "/segue/meet": (1, "s"),
}


class _Socket(OSCUDPServer):
    """python-osc's UDP server with every datagram handed to :class:`OscServer`, valid or not.

    The stock server silently drops datagrams that do not look like OSC and messages whose packet
    fails to parse; a game programmer debugging a wrong type tag deserves a reason instead.
    """

    def __init__(self, address: Address, owner: "OscServer") -> None:
        self.owner = owner
        super().__init__(address, Dispatcher())

    def verify_request(self, request: Any, client_address: Any) -> bool:  # noqa: D102 - see class docstring
        return True

    def finish_request(self, request: Any, client_address: Any) -> None:
        self.owner._on_datagram(request[0], client_address)  # noqa: SLF001 - the owner is this server's brain

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.exception("OSC server: unexpected error for a datagram from %s", client_address)


class OscServer:
    """A running OSC control server for one :class:`~segue.engine.live.LiveSession`."""

    def __init__(self, session: Any, host: str = "127.0.0.1", port: int = 9000, reply_port: int | None = None,
                 token: str | None = None, subscription_ttl_s: float = SUBSCRIPTION_TTL_S) -> None:
        check_port(port)
        try:
            check_listener(host, token, "for OSC ")
        except AccessError as exc:
            raise ServerError(str(exc)) from None
        self.token = token
        self.subscription_ttl_s = float(subscription_ttl_s)
        self.unauthorised = 0  # datagrams dropped because their sender had not said hello with the token
        self._authorised: dict[Address, float] = {}  # sender → when its authorisation lapses (monotonic)
        self._last_unauth_log = 0.0
        if reply_port is not None:
            check_port(reply_port, "reply_port")
            if reply_port == 0:
                raise ServerError("reply_port must be a real port (1–65535) or None for the sender's own port")
        self.session = session
        self.gate = ControlGate(session)
        self.reply_port = reply_port
        self.received = 0  # OSC messages handled (a bundle counts each of its messages)
        self.accepted = 0
        self.rejected = 0
        self.events_dropped = 0
        self._subscribers: dict[Address, float] = {}  # destination → when the subscription lapses (monotonic)
        self._lock = threading.Lock()
        self._events: collections.deque[Event] = collections.deque()
        self._wake = threading.Event()
        self._closing = threading.Event()
        try:
            self._server = _Socket((host, port), self)
        except OSError as exc:
            raise ServerError(f"cannot listen for OSC on udp://{host}:{port}: {exc.strerror or exc}") from None
        self.host, self.port = self._server.server_address[:2]
        self._unsubscribe = session.subscribe(self._on_event)
        self._serve_thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                              name="segue-osc-server", daemon=True)
        self._send_thread = threading.Thread(target=self._send_events, name="segue-osc-events", daemon=True)
        self._serve_thread.start()
        self._send_thread.start()

    # ------------------------------------------------------------------ lifecycle
    @property
    def subscribers(self) -> list[Address]:
        with self._lock:
            self._expire(time.monotonic())
            return sorted(self._subscribers)

    def _expire(self, now: float) -> None:
        """Forget lapsed subscriptions (caller holds the lock): a 24-byte subscribe from a spoofed
        source once started an endless stream; now it lasts :data:`SUBSCRIPTION_TTL_S` unless renewed."""
        for dest, until in list(self._subscribers.items()):
            if until <= now:
                del self._subscribers[dest]
                log.info("OSC: subscription of %s:%d lapsed (renew with /segue/subscribe)", *dest)

    def close(self) -> None:
        """Stop listening and sending; the session keeps playing. Safe to call twice."""
        if self._closing.is_set():
            return
        self._closing.set()
        self._unsubscribe()
        self._wake.set()
        self._server.shutdown()
        self._server.server_close()
        self._serve_thread.join(timeout=5)
        self._send_thread.join(timeout=5)

    def __enter__(self) -> "OscServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ incoming (server thread)
    def _on_datagram(self, data: bytes, sender: Address) -> None:
        sender = (sender[0], sender[1])
        self._request_size = len(data)
        try:
            packet = OscPacket(data)
        except Exception as exc:  # ParseError, and anything a hostile datagram may provoke in the parser
            self.received += 1
            if self._may_answer(sender):
                self._refuse(sender, f"not an OSC message or bundle ({len(data)} bytes): {exc}")
            return
        now = time.time()
        for timed in packet.messages:
            self.received += 1
            if self.token is not None and timed.message.address == PREFIX + "/hello":
                self._hello(list(timed.message.params), sender)
                continue
            if not self._may_answer(sender):
                return
            # python-osc stamps plain messages and late or "immediately" bundles with the time of parsing;
            # only a bundle tagged for the future carries a later time: play it when that time is heard
            at = timed.time if timed.time > now else None
            try:
                self._on_message(timed.message.address, list(timed.message.params), sender, at)
            except Exception as exc:  # a bug here must cost one message, never the server
                log.exception("OSC server: error while handling %s", timed.message.address)
                self._refuse(sender, f"internal error while handling {timed.message.address}: {exc!r}")

    def _may_answer(self, sender: Address) -> bool:
        """With a token, only senders that said hello with it are heard; the rest are dropped without
        a reply (a reply would go to a source address anyone can forge)."""
        if self.token is None:
            return True
        now = time.monotonic()
        until = self._authorised.get(sender)
        if until is not None and until > now:
            self._authorised[sender] = now + AUTH_TTL_S
            return True
        self.unauthorised += 1
        if now - self._last_unauth_log > 1.0:
            self._last_unauth_log = now
            log.warning("OSC: dropped a datagram from %s:%d: send /segue/hello <token> first (%d dropped so far)",
                        sender[0], sender[1], self.unauthorised)
        return False

    def _hello(self, args: list[Any], sender: Address) -> None:
        if len(args) == 1 and self.token is not None and same_token(args[0], self.token):
            if len(self._authorised) > 4 * MAX_SUBSCRIBERS:  # forget lapsed senders now and then
                now = time.monotonic()
                self._authorised = {k: v for k, v in self._authorised.items() if v > now}
            self._authorised[sender] = time.monotonic() + AUTH_TTL_S
            self._send(_message("/segue/ack", []), [self._reply_to(sender)])
            return
        self.unauthorised += 1
        log.warning("OSC: %s:%d sent /segue/hello with a wrong token", sender[0], sender[1])

    def _authenticated(self, sender: Address) -> bool:
        return self.token is not None and sender in self._authorised

    def _fit(self, dgram: bytes, sender: Address) -> bool:
        """No reply larger than its request to an unauthenticated source (UDP sources are forgeable:
        1 byte in, 136 out made the server an amplifier)."""
        return self._authenticated(sender) or len(dgram) <= getattr(self, "_request_size", 0)

    def _on_message(self, address: str, args: list[Any], sender: Address, at: float | None = None) -> None:
        if address.startswith(PREFIX + "/param/"):
            name = address[len(PREFIX + "/param/"):]
            if not name or "/" in name:
                self._refuse(sender, f"{address!r}: the parameter name is the last part of /segue/param/<name>")
            elif len(args) != 1:
                self._refuse(sender, f"{address} takes 1 argument (f: the value), got {len(args)}")
            else:
                self._control(sender, {"type": "param", "name": name, "value": args[0]}, at)
        elif address.startswith(PREFIX + "/signal/"):
            name = address[len(PREFIX + "/signal/"):]
            if len(args) != 1:
                self._refuse(sender, f"{address} takes 1 argument (f: the value), got {len(args)}")
            else:
                self._control(sender, {"type": "signal", "name": name, "value": args[0]}, at)
        elif address in _CONTROLS:
            count, tags = _CONTROLS[address]
            if len(args) != count:
                self._refuse(sender, f"{address} takes {count} argument{'s' if count > 1 else ''} ({tags}), got {len(args)}")
            elif address == "/segue/affect":
                self._control(sender, {"type": "affect", "valence": args[0], "arousal": args[1], "intensity": args[2]},
                              at)
            else:
                self._control(sender, {"type": address.rsplit("/", 1)[1], "name": args[0]}, at)
        elif address == PREFIX + "/status":
            if len(args) > 1 or (args and not isinstance(args[0], (str, bytes))):
                self._refuse(sender, f"/segue/status takes no arguments (or one string or blob of padding), "
                                     f"got {len(args)}")
            else:
                bundle = self._status_bundle()
                if self._fit(bundle, sender):
                    self._send(bundle, [self._reply_to(sender)])
                else:
                    self._refuse(sender, f"status is {len(bundle)} bytes: pad /segue/status with a string "
                                         f"argument to at least that size, or use a token")
        elif address in (PREFIX + "/subscribe", PREFIX + "/unsubscribe"):
            self._subscription(address, args, sender)
        else:
            self._refuse(sender, f"unknown address {address!r} (see docs/protocol.md for the /segue/... address space)")

    def _control(self, sender: Address, data: dict[str, Any], at: float | None = None) -> None:
        control = self.gate.check(data)
        if isinstance(control, str):
            self._refuse(sender, control)
            return
        refused = self.session.control(control, at=at) if at is not None else self.session.control(control)
        if refused:
            self._refuse(sender, refused, logged=True)
            return
        self.accepted += 1

    def _subscription(self, address: str, args: list[Any], sender: Address) -> None:
        if len(args) > 1:
            self._refuse(sender, f"{address} takes at most 1 argument (i: the port to send events to), got {len(args)}")
            return
        if args:
            port = args[0]
            if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
                self._refuse(sender, f"{address}: the port must be an integer between 1 and 65535, got {port!r}")
                return
            dest = (sender[0], port)
        else:
            dest = sender
        with self._lock:
            if address.endswith("/unsubscribe"):
                self._subscribers.pop(dest, None)
                return
            now = time.monotonic()
            self._expire(now)
            if dest not in self._subscribers and len(self._subscribers) >= MAX_SUBSCRIBERS:
                full = True
            else:
                self._subscribers[dest] = now + self.subscription_ttl_s
                full = False
        if full:
            self._refuse(sender, f"too many subscribers (at most {MAX_SUBSCRIBERS}); unsubscribe one first")
        else:
            log.info("OSC: %s:%d subscribed to events", *dest)

    def _refuse(self, sender: Address, reason: str, *, logged: bool = False) -> None:
        """Log, count in the engine (unless the session ``logged`` it already), and tell the sender —
        unless it will hear it as a subscriber."""
        self.rejected += 1
        log.info("OSC from %s:%d rejected: %s", sender[0], sender[1], reason)
        if not logged:
            self.gate.reject(reason)
        dest = self._reply_to(sender)
        with self._lock:
            subscribed = dest in self._subscribers
        if subscribed:
            return
        dgram = _message("/segue/event/rejected", [(reason, "s")])
        if not self._fit(dgram, sender):  # cut the reason to fit the request (or say nothing)
            room = getattr(self, "_request_size", 0) - len(_message("/segue/event/rejected", [("", "s")]))
            if room < 8:
                return
            dgram = _message("/segue/event/rejected", [(reason.encode()[:room - 4].decode("utf-8", "ignore"), "s")])
            if len(dgram) > self._request_size:
                return
        self._send(dgram, [dest])

    def _reply_to(self, sender: Address) -> Address:
        return (sender[0], self.reply_port) if self.reply_port else sender

    def _status_bundle(self) -> bytes:
        st = self.session.status()
        bundle = OscBundleBuilder(IMMEDIATELY)
        parts: list[tuple[str, list[tuple[Any, str]]]] = [
            ("/segue/status/state", [(_text(st.get("state")), "s"), (_text(st.get("pending")), "s")]),
            ("/segue/status/position", [(_int32(st.get("bar")), "i"), (_int32(st.get("beat")), "i"),
                                        (float(st.get("seconds", 0.0)), "f")]),
            ("/segue/status/harmony", [(_text(st.get("key")), "s"), (_text(st.get("chord")), "s")]),
            ("/segue/status/tempo", [(float(st.get("tempo") or 0.0), "f")]),
            ("/segue/status/layers", [(str(name), "s") for name in st.get("active_layers", [])]),
            ("/segue/status/health", [(_int32(st.get("blocks_played")), "i"), (_int32(st.get("underruns")), "i"),
                                      (_int32(st.get("rejected")), "i")]),
        ]
        parts += [("/segue/status/param", [(str(name), "s"), (float(value), "f")])
                  for name, value in (st.get("parameters") or {}).items()]
        for address, args in parts:
            builder = OscMessageBuilder(address)
            for value, tag in args:
                builder.add_arg(value, tag)
            bundle.add_content(builder.build())
        return bundle.build().dgram

    # ------------------------------------------------------------------ outgoing
    def _on_event(self, ev: Event) -> None:
        """Runs on the session's producer thread: append and return, whatever happens."""
        if not self._subscribers:
            return
        if len(self._events) >= EVENT_QUEUE:
            self._events.popleft()
            self.events_dropped += 1
        self._events.append(ev)
        self._wake.set()

    def _send_events(self) -> None:
        while not self._closing.is_set():
            self._wake.wait(timeout=0.25)
            self._wake.clear()
            while self._events and not self._closing.is_set():
                ev = self._events.popleft()
                try:
                    dgram = event_message(ev)
                except Exception:  # an event with data we cannot encode: skip it, keep the stream going
                    log.exception("OSC: cannot encode event %s", ev.kind)
                    continue
                with self._lock:
                    self._expire(time.monotonic())
                    dests = list(self._subscribers)
                self._send(dgram, dests)

    def _send(self, dgram: bytes, dests: list[Address]) -> None:
        for dest in dests:
            try:
                self._server.socket.sendto(dgram, dest)
            except OSError as exc:  # unreachable host, closed socket: the game's problem, not the music's
                log.debug("OSC: cannot send to %s:%d: %s", dest[0], dest[1], exc)


def _text(x: object) -> str:
    return "" if x is None else str(x)


def _int32(x: object) -> int:
    v = int(x or 0)
    return max(-(2**31), min(2**31 - 1, v))


def _message(address: str, args: list[tuple[Any, str]]) -> bytes:
    builder = OscMessageBuilder(address)
    for value, tag in args:
        builder.add_arg(value, tag)
    return builder.build().dgram


def event_message(ev: Event) -> bytes:
    """The OSC datagram for an engine event (the table in docs/protocol.md)."""
    d = ev.data
    k = ev.kind
    if k == "beat":
        return _message("/segue/event/beat", [(_int32(d.get("bar")), "i"), (_int32(d.get("beat")), "i")])
    if k == "bar":
        return _message("/segue/event/bar", [(_int32(d.get("bar")), "i"), (_text(d.get("state")), "s"),
                                             (_text(d.get("key")), "s"), (float(d.get("tempo") or 0.0), "f")])
    if k == "phrase":
        return _message("/segue/event/phrase", [(_int32(d.get("phrase")), "i"), (_text(d.get("kind")), "s"),
                                                (_text(d.get("state")), "s")])
    if k == "state_entered":
        return _message("/segue/event/state", [(_text(d.get("name")), "s")])
    if k == "transition_started":
        return _message("/segue/event/transition", [(_text(d.get("from")), "s"), (_text(d.get("to")), "s")])
    if k in ("stinger", "marker"):
        return _message(f"/segue/event/{k}", [(_text(d.get("name")), "s")])
    if k == "rejected":
        return _message("/segue/event/rejected", [(_text(d.get("reason")), "s")])
    if k == "feedback":
        return _message("/segue/event/feedback", [(_text(d.get("name")), "s"), (_text(d.get("state")), "s")])
    if k == "signal":
        return _message("/segue/event/signal", [(_text(d.get("name")), "s"), (float(d.get("value") or 0.0), "f")])
    if k == "met":
        return _message("/segue/event/met", [(_text(d.get("name")), "s"), (_text(d.get("theme")), "s")])
    if k == "recall":
        return _message("/segue/event/recall", [(_text(d.get("thing")), "s"), (_text(d.get("theme")), "s")])
    if k == "personal":
        return _message("/segue/event/personal", [(_text(d.get("state")), "s"),
                                                  (json.dumps(d.get("settings") or {}, sort_keys=True), "s")])
    safe = "".join(ch for ch in k if ch.isalnum() or ch == "_") or "unknown"
    return _message(f"/segue/event/{safe}", [])


def start_osc(session: Any, host: str = "127.0.0.1", port: int = 9000, reply_port: int | None = None,
              token: str | None = None, subscription_ttl_s: float = SUBSCRIPTION_TTL_S) -> OscServer:
    """Listen for OSC controls for ``session`` on ``udp://host:port`` (0 = any free port; read ``.port``).

    Raises :class:`~segue.server.ServerError` if the address cannot be bound.
    """
    return OscServer(session, host=host, port=port, reply_port=reply_port, token=token,
                     subscription_ttl_s=subscription_ttl_s)


__all__ = ["OscServer", "start_osc", "event_message"]
