"""The studio's ASGI application: the page, the REST API, and one WebSocket per session.

REST creates, inspects, reloads and ends sessions and validates spec text; the socket of a
session carries controls in (the JSON control protocol of ``docs/protocol.md``) and engine
events, status, upcoming notes and binary audio frames out. See ``docs/studio.md``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from pathlib import Path
from typing import Any, AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from segue.limits import MAX_SESSIONS, MAX_UPLOAD_QUOTA_BYTES, safe_json_loads
from segue.spec import SpecError
from segue.style.errors import StyleError
from segue.studio.guard import Guard
from segue.studio.manager import SessionLimitError, SessionManager
from segue.studio.openapi import openapi_document
from segue.studio.sessions import Listener, StudioSession, controls_of
from segue.studio.specs import MAX_SPEC_BYTES, MAX_UPLOAD_BYTES, SpecLibrary, issue_json, load_user_spec, \
    safe_upload_path

STATIC = Path(__file__).with_name("static")
MAX_MESSAGE_BYTES = 16 * 1024
MAX_RATE_PER_S = 100.0
MAX_JSON_BYTES = MAX_SPEC_BYTES + 4096


class ApiError(Exception):
    """A request the API refuses: an HTTP status and a sentence (plus optional fields, e.g. issues)."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.extra = extra


class RateLimit:
    """At most ``rate`` messages per second on average, with bursts of one second's worth."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.tokens = rate
        self.stamp = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.rate, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused (413) as soon as it passes ``limit`` bytes, whatever the headers claim."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"request body too large ({declared} bytes; the limit is {limit})")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, f"request body too large (over {limit} bytes)")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request) -> dict[str, Any]:
    raw = await read_body(request, MAX_JSON_BYTES)
    try:
        data = safe_json_loads(raw or b"{}")
    except (ValueError, RecursionError) as exc:
        raise ApiError(400, f"the body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ApiError(400, "the body must be a JSON object")
    return data


def _spec_failure(err: SpecError) -> ApiError:
    n = len(err.issues)
    return ApiError(422, f"the spec has {n} problem{'s' if n != 1 else ''}",
                    issues=[issue_json(i) for i in err.issues])


class Studio:
    """The state behind the app: the spec library, the upload folder and the sessions."""

    def __init__(self, library: SpecLibrary, upload_dir: Path, manager: SessionManager) -> None:
        self.library = library
        self.upload_dir = upload_dir
        self.manager = manager

    # ------------------------------------------------------------------ REST
    async def index(self, request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers={"cache-control": "no-store"})

    async def openapi(self, request: Request) -> Response:
        return JSONResponse(openapi_document())

    async def examples(self, request: Request) -> Response:
        return JSONResponse({"default": self.library.default_name, "examples": self.library.listing()})

    async def example(self, request: Request) -> Response:
        named = self.library.get(request.path_params["name"])
        if named is None:
            raise ApiError(404, f"no example called {request.path_params['name']!r} "
                                f"(known: {', '.join(self.library.names())})")
        return JSONResponse({"name": named.name, "title": named.title, "text": named.text})

    async def validate(self, request: Request) -> Response:
        data = await read_json(request)
        text = data.get("text")
        if not isinstance(text, str):
            raise ApiError(400, "give the spec as {\"text\": \"…yaml…\"}")
        try:
            spec = await asyncio.to_thread(load_user_spec, text, self.upload_dir)
        except SpecError as err:
            return JSONResponse({"ok": False, "issues": [issue_json(i) for i in err.issues]})
        return JSONResponse({"ok": True, "issues": [], "controls": controls_of(spec)})

    async def list_sessions(self, request: Request) -> Response:
        await self.manager.reap()
        return JSONResponse({"sessions": [s.status() for s in self.manager.all()]}, )

    async def create_session(self, request: Request) -> Response:
        await self.manager.reap()
        data = await read_json(request)
        unknown = set(data) - {"example", "text", "name", "seed"}
        if unknown:
            raise ApiError(400, f"unknown field(s) {', '.join(sorted(unknown))}; give 'example' or 'text' "
                                "(and optionally 'name', 'seed')")
        seed = data.get("seed")
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**63):
            raise ApiError(400, "'seed' must be a non-negative integer")
        if ("example" in data) == ("text" in data):
            raise ApiError(400, "give exactly one of 'example' (a name from /api/examples) or 'text' (spec YAML)")
        try:
            if "example" in data:
                named = self.library.get(str(data["example"]))
                if named is None:
                    raise ApiError(404, f"no example called {data['example']!r} "
                                        f"(known: {', '.join(self.library.names())})")
                from segue.spec import load_spec_text

                spec = await asyncio.to_thread(load_spec_text, named.text, named.name, named.base_dir)
                text, name, base = named.text, named.name, named.base_dir
            else:
                text = data["text"]
                spec = await asyncio.to_thread(load_user_spec, text, self.upload_dir)
                name = str(data.get("name") or getattr(spec, "name", "editor"))[:100]
                base = self.upload_dir
        except SpecError as err:
            raise _spec_failure(err) from None
        try:
            session = await asyncio.to_thread(self.manager.create, spec, text=text, name=name, base_dir=base,
                                              seed=seed)
        except SessionLimitError as err:
            raise ApiError(503, str(err)) from None
        except StyleError as err:  # e.g. an uploaded "model" that is a gzip bomb: refused at 64 MiB
            raise ApiError(422, str(err)) from None
        return JSONResponse({"id": session.id, "ws": f"/api/sessions/{session.id}/ws",
                             "controls": controls_of(spec), "status": session.status()}, status_code=201)

    def _session(self, request: Request) -> StudioSession:
        session = self.manager.get(request.path_params["id"])
        if session is None:
            raise ApiError(404, f"no session {request.path_params['id']!r} (it may have ended)")
        return session

    async def session_status(self, request: Request) -> Response:
        return JSONResponse(self._session(request).status())

    async def session_spec(self, request: Request) -> Response:
        session = self._session(request)
        return JSONResponse({"id": session.id, "name": session.name, "text": session.text,
                             "generation": session.generation})

    async def delete_session(self, request: Request) -> Response:
        session = self._session(request)
        await self.manager.close(session.id)
        return Response(status_code=204)

    async def reload_spec(self, request: Request) -> Response:
        session = self._session(request)
        data = await read_json(request)
        text = data.get("text")
        if not isinstance(text, str):
            raise ApiError(400, "give the new spec as {\"text\": \"…yaml…\"}")
        folder = session.base_dir if session.base_dir is not None else self.upload_dir
        try:
            spec = await asyncio.to_thread(load_user_spec, text, folder)
        except SpecError as err:
            raise _spec_failure(err) from None
        await asyncio.to_thread(session.replace_spec, spec, text)
        return JSONResponse({"id": session.id, "generation": session.generation, "controls": controls_of(spec)})

    async def control(self, request: Request) -> Response:
        session = self._session(request)
        data = await read_json(request)
        reason = session.submit(data)
        if reason is not None:
            raise ApiError(422, reason)
        return JSONResponse({"type": "ack"})

    async def list_files(self, request: Request) -> Response:
        files = sorted(p.name for p in self.upload_dir.iterdir() if p.is_file())
        return JSONResponse({"files": files})

    async def upload_file(self, request: Request) -> Response:
        name = request.path_params["name"]
        path = safe_upload_path(self.upload_dir, name)
        if path is None:
            raise ApiError(400, f"file name {name!r} refused: use letters, digits, '.', '_' or '-' "
                                "(no folders), at most 100 characters")
        body = await read_body(request, MAX_UPLOAD_BYTES)
        used = sum(p.stat().st_size for p in self.upload_dir.iterdir() if p.is_file() and p != path)
        if used + len(body) > MAX_UPLOAD_QUOTA_BYTES:
            raise ApiError(507, f"the upload folder would pass its quota of "
                                f"{MAX_UPLOAD_QUOTA_BYTES // (1024 * 1024)} MiB (overwrite an uploaded file to reuse its room)")
        await asyncio.to_thread(path.write_bytes, body)
        return JSONResponse({"name": path.name, "bytes": len(body)}, status_code=201)

    # ------------------------------------------------------------------ the session socket
    async def socket(self, ws: WebSocket) -> None:
        await ws.accept()
        session = self.manager.get(ws.path_params["id"])
        if session is None or session.closed:
            await ws.close(4404, "no such session (it may have ended)")
            return
        listener = Listener()
        session.attach(listener)
        listener.push(json.dumps(session.describe(), default=str))
        if session.last_notes is not None:
            listener.push(session.last_notes)
        writer = asyncio.create_task(self._write(ws, session, listener))
        bucket = RateLimit(MAX_RATE_PER_S)
        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                reply = self._on_message(session, listener, message, bucket)
                if reply is not None:
                    listener.push(json.dumps(reply, default=str))
        except WebSocketDisconnect:
            pass
        finally:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await writer
            if session.detach(listener) == 0:
                await self.manager.close(session.id)

    async def _write(self, ws: WebSocket, session: StudioSession, listener: Listener) -> None:
        try:
            while not session.closed:
                await listener.wake.wait()
                listener.wake.clear()
                while listener.outbox:
                    item = listener.outbox.popleft()
                    if isinstance(item, bytes):
                        await ws.send_bytes(item)
                        listener.frames_sent += 1
                    else:
                        await ws.send_text(item)
            await ws.close(1001, "the session has ended")
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass  # the socket went away; the reader notices and cleans up

    def _on_message(self, session: StudioSession, listener: Listener, message: dict[str, Any],
                    bucket: RateLimit) -> dict[str, Any] | None:
        if not bucket.take():
            return {"type": "error", "reason": f"rate limited: more than {MAX_RATE_PER_S:g} messages per second; "
                                               "this message was dropped"}
        text = message.get("text")
        if text is None:
            return self._refuse(session, "binary messages are not understood; send JSON text")
        size = len(text.encode("utf-8"))
        if size > MAX_MESSAGE_BYTES:
            return self._refuse(session, f"message too large ({size} bytes; the limit is {MAX_MESSAGE_BYTES})")
        try:
            msg = safe_json_loads(text)
        except (ValueError, RecursionError) as exc:
            return self._refuse(session, f"not JSON: {exc}")
        if not isinstance(msg, dict):
            return self._refuse(session, f"a message must be a JSON object, got {type(msg).__name__}")
        ident = msg.pop("id", None)
        echo: dict[str, Any] = {}
        if ident is not None:
            if isinstance(ident, bool) or not isinstance(ident, (str, int)) or len(str(ident)) > 200:
                return self._refuse(session, "'id' must be a string or an integer (at most 200 characters)")
            echo = {"id": ident}
        kind = msg.get("type")
        if kind == "status":
            return {**session.status(), **echo, "type": "status"}
        if kind == "audio":
            on = msg.get("on")
            if not isinstance(on, bool) or set(msg) - {"type", "on"}:
                return {**self._refuse(session, "an audio message is {\"type\":\"audio\",\"on\":true|false}"), **echo}
            listener.audio = on
            return {"type": "ack", **echo}
        reason = session.submit(msg)
        if reason is not None:
            return {"type": "error", "reason": reason, **echo}
        return {"type": "ack", **echo}

    @staticmethod
    def _refuse(session: StudioSession, reason: str) -> dict[str, Any]:
        session.gate.reject(reason)  # counted in the engine's rejection log, like every refused control
        return {"type": "error", "reason": reason}


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return JSONResponse({"error": str(exc), **exc.extra}, status_code=exc.status)


def create_app(token: str | None = None, *, spec: str | Path | None = None, upload_dir: str | Path | None = None,
               examples_dir: str | Path | None = None, max_sessions: int = MAX_SESSIONS, loopback_hosts_only: bool = False,
               connect_timeout_s: float = 60.0, sample_rate: int = 44100) -> Any:
    """The studio as an ASGI app. ``token``: required on every request and socket when given;
    ``spec``: a spec file offered first in the page; ``upload_dir``: where uploaded files live and
    where specs typed in the page find their files (a fresh temporary folder if None);
    ``loopback_hosts_only``: refuse requests whose Host is not 127.0.0.1/localhost (DNS rebinding)."""
    import tempfile

    from segue.studio.errors import StudioError

    from segue.server.access import AccessError, check_token

    try:
        check_token(token, "the token")
    except AccessError as exc:
        raise StudioError(str(exc)) from None
    temporary = upload_dir is None
    if upload_dir is None:
        folder = Path(tempfile.mkdtemp(prefix="segue-studio-"))
    else:
        folder = Path(upload_dir)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StudioError(f"cannot use {folder} as the upload folder: {exc.strerror or exc}") from None
    library = SpecLibrary(Path(examples_dir) if examples_dir is not None else None,
                          Path(spec) if spec is not None else None)
    manager = SessionManager(max_sessions=max_sessions, connect_timeout_s=connect_timeout_s,
                             sample_rate=sample_rate)
    studio = Studio(library, folder.resolve(), manager)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await manager.close_all()
            if temporary:  # uploads used to stay in /tmp after the studio stopped
                import shutil

                shutil.rmtree(folder, ignore_errors=True)

    routes = [
        Route("/", studio.index),
        Route("/openapi.json", studio.openapi),
        Route("/api/examples", studio.examples),
        Route("/api/examples/{name}", studio.example),
        Route("/api/validate", studio.validate, methods=["POST"]),
        Route("/api/sessions", studio.list_sessions, methods=["GET"]),
        Route("/api/sessions", studio.create_session, methods=["POST"]),
        Route("/api/sessions/{id}", studio.session_status, methods=["GET"]),
        Route("/api/sessions/{id}", studio.delete_session, methods=["DELETE"]),
        Route("/api/sessions/{id}/spec", studio.session_spec, methods=["GET"]),
        Route("/api/sessions/{id}/spec", studio.reload_spec, methods=["PUT"]),
        Route("/api/sessions/{id}/controls", studio.control, methods=["POST"]),
        Route("/api/files", studio.list_files, methods=["GET"]),
        Route("/api/files/{name}", studio.upload_file, methods=["PUT"]),
        WebSocketRoute("/api/sessions/{id}/ws", studio.socket),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={ApiError: _api_error}, lifespan=lifespan)
    app.state.studio = studio
    guarded = Guard(app, token=token, loopback_hosts_only=loopback_hosts_only)
    guarded.studio = studio  # type: ignore[attr-defined]  # tests and tools reach the sessions here
    return guarded
