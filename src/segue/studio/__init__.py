"""The studio (apps floor): a browser page for composers and an HTTP/WebSocket server for engines.

``serve()`` runs it on uvicorn; ``create_app()`` gives the ASGI app (for tests, or to mount in
another server). One engine per session; see ``docs/studio.md``.
"""

from segue.studio.errors import StudioError


def create_app(token: str | None = None, **options: object) -> object:
    """The studio as an ASGI app (see :func:`segue.studio.app.create_app` for the options)."""
    from segue.studio.app import create_app as _create_app

    return _create_app(token, **options)  # type: ignore[arg-type]


def serve(host: str = "127.0.0.1", port: int = 8765, token: str | None = None, spec: object = None) -> None:
    """Run the studio on ``host:port`` until interrupted (see :func:`segue.studio.server.serve`)."""
    from segue.studio.server import serve as _serve

    _serve(host, port, token, spec)  # type: ignore[arg-type]


__all__ = ["StudioError", "create_app", "serve"]
