"""``serve``: the studio on uvicorn, loopback by default, token required anywhere else."""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

from segue.studio.errors import StudioError

#: uvicorn refuses WebSocket messages above this (closing with 1009); the app's own, politer limit
#: (an error reply, the socket stays open) is 16 KiB, well below.
WS_HARD_CAP = 1 << 20


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``: addresses only this machine can reach."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """A listening socket, or :class:`StudioError` with the reason (port in use, bad address)."""
    if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
        raise StudioError(f"port must be an integer between 0 and 65535, got {port!r}")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise StudioError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise StudioError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


def make_server(host: str = "127.0.0.1", port: int = 8765, token: str | None = None,
                spec: str | Path | None = None, **app_options: object) -> tuple[object, socket.socket]:
    """A configured (not yet running) uvicorn server and its bound socket; ``serve`` and tests use it."""
    import uvicorn

    from segue.studio.app import create_app

    loopback = is_loopback(host)
    if not loopback and token is None:
        raise StudioError(f"listening on {host} would let other machines drive the studio; give a token "
                          "(segue serve --token …) or listen on 127.0.0.1")
    app = create_app(token, spec=spec, loopback_hosts_only=loopback and token is None, **app_options)  # type: ignore[arg-type]
    sock = bind(host, port)
    config = uvicorn.Config(app, log_level="warning", ws_max_size=WS_HARD_CAP, lifespan="on",
                            ws_ping_interval=20.0, timeout_graceful_shutdown=5)
    return uvicorn.Server(config), sock


def serve(host: str = "127.0.0.1", port: int = 8765, token: str | None = None, spec: str | Path | None = None) -> None:
    """Run the studio until interrupted: http://host:port/ (add ``?token=…`` when a token is set).

    Raises :class:`StudioError` (printable) when the address cannot be bound, or when ``host`` is
    not loopback and no token is given.
    """
    server, sock = make_server(host, port, token, spec)
    try:
        server.run(sockets=[sock])  # type: ignore[attr-defined]
    finally:
        sock.close()
