"""Network control of a live session: OSC over UDP and JSON over WebSocket.

Both servers are thin translators. They turn what arrives on the wire into the control dicts of
:func:`segue.engine.controls.parse_control`, hand good controls to a
:class:`~segue.engine.live.LiveSession` (which applies them at the start of the next block), and
turn the session's events back into wire messages. Neither ever touches the audio path directly,
and neither may ever raise in its own thread: a game that sends garbage gets a reason back and
the music keeps playing. The protocol is documented in ``docs/protocol.md``.

Shared here: :class:`ServerError` (the one user-facing error of this package) and
:class:`ControlGate`, the single place where a control is judged, so both protocols accept and
reject exactly the same things and every rejection is counted by the engine.
"""

from __future__ import annotations

import logging
from typing import Any

from segue.engine.controls import Control, parse_control

log = logging.getLogger("segue.server")

#: Every kind of event the engine emits (see :class:`segue.engine.engine.Event`).
EVENT_KINDS: tuple[str, ...] = ("beat", "bar", "phrase", "state_entered", "transition_started", "stinger",
                                "marker", "rejected", "underrun", "feedback", "signal", "met", "recall", "personal")


class ServerError(Exception):
    """A server could not start (port in use, bad address, bad limits); ``str(err)`` is printable as is."""


def check_port(port: object, what: str = "port") -> int:
    """A TCP/UDP port number (0 = let the system choose), or :class:`ServerError`."""
    if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
        raise ServerError(f"{what} must be an integer between 0 and 65535, got {port!r}")
    return port


class ControlGate:
    """Judges controls for a live session and reports every rejection to its engine.

    Why a gate in front of ``session.control``: the session applies a control one block later, so
    a misspelt parameter would otherwise be acknowledged and only fail afterwards. The spec cannot
    change while a session runs, so the names it defines are read once here and checked at once,
    and the client hears about its typo in the reply to the message that contained it.

    Every rejection — a malformed dict, an unknown name, or a protocol error the server found
    (unknown OSC address, non-JSON text) — goes to the engine's rejection log, so
    ``session.engine.rejected`` counts everything refused and subscribers see it as a
    ``rejected`` event.
    """

    def __init__(self, session: Any) -> None:
        self.session = session
        conductor = session.conductor
        self.parameters: frozenset[str] = frozenset(getattr(conductor, "params", {}) or {})
        self.states: frozenset[str] = frozenset(s.name for s in (getattr(session.spec, "states", None) or []))
        self.stingers: frozenset[str] = frozenset(getattr(session.engine, "stinger_specs", {}) or {})
        remember = getattr(session.spec, "remember", None)
        self.things: frozenset[str] = frozenset(t.name for t in remember.things) if remember is not None else frozenset()

    def check(self, data: Any) -> Control | str:
        """The control ``data`` describes, or the reason it cannot be played live."""
        if isinstance(data, dict) and ("time" in data or "sample" in data):
            return ("'time' and 'sample' belong in trace files; a live control takes effect at the next "
                    "audio block, so leave them out")
        c = parse_control(data)
        if isinstance(c, str):
            return c
        known = {"param": ("parameter", self.parameters), "state": ("state", self.states),
                 "stinger": ("stinger", self.stingers), "meet": ("thing to remember", self.things)}.get(c.kind)
        if known is not None and c.name not in known[1]:
            word, names = known
            listed = ", ".join(sorted(names)) if names else "none"
            return f"unknown {word} {c.name!r} (this score has: {listed})"
        return c

    def submit(self, data: Any, at: float | None = None) -> str | None:
        """Queue the control on the session (``at``: wall-clock time it should be heard, see
        ``LiveSession.control``); None if accepted, else the (already reported) reason."""
        c = self.check(data)
        if isinstance(c, str):
            self.reject(c)
            return c
        return self.session.control(c) if at is None else self.session.control(c, at=at)

    def reject(self, reason: str) -> None:
        """Count and log ``reason`` as a rejected control in the engine (it becomes a ``rejected`` event)."""
        session = self.session
        public = getattr(session, "reject", None)
        if callable(public):
            public(reason)
            return
        # LiveSession has no public way (yet) to log a rejection that did not come from a control dict;
        # its inbox takes exactly this marker and hands it to the engine's rejection log on its next block.
        inbox = getattr(session, "_inbox", None)
        if inbox is not None:
            inbox.put({"__rejected__": reason})
        else:  # pragma: no cover - a session-like object without an inbox: at least log it
            log.warning("control rejected: %s", reason)


def __getattr__(name: str) -> Any:
    # Imported lazily so `import segue.server` costs nothing until a server is wanted, and so the
    # protocol modules can import the helpers above without a cycle.
    if name in ("start_osc", "OscServer"):
        from segue.server import osc

        return getattr(osc, name)
    if name in ("start_ws", "WsServer"):
        from segue.server import ws

        return getattr(ws, name)
    raise AttributeError(f"module 'segue.server' has no attribute {name!r}")


__all__ = ["ServerError", "ControlGate", "EVENT_KINDS", "start_osc", "OscServer", "start_ws", "WsServer"]
