"""The studio server: REST, validation at the line, security, the session socket, hot reload, clean-up.

Driven through Starlette's TestClient (the ASGI app in-process); the real-browser test is
tests/test_studio_browser.py.
"""

from __future__ import annotations

import json
import socket
import struct
import time
import warnings
from pathlib import Path
from typing import Any, Callable

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette nudges towards httpx2; httpx works the same here
    from starlette.testclient import TestClient

from starlette.websockets import WebSocketDisconnect

from segue.studio import StudioError, create_app
from segue.studio.server import is_loopback, make_server
from segue.studio.sessions import FRAME_BLOCKS, FRAME_HEADER

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
FANTASY = (EXAMPLES / "fantasy_game.yaml").read_text(encoding="utf-8")
TOKEN = "s3cret-studio-token"
BIN = {"content-type": "application/octet-stream"}


def line_of(text: str, needle: str) -> int:
    """1-based line of the first line containing ``needle``."""
    for n, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return n
    raise AssertionError(f"{needle!r} not in text")


@pytest.fixture()
def client(tmp_path: Path):
    app = create_app(upload_dir=tmp_path / "uploads", examples_dir=EXAMPLES)
    with TestClient(app) as c:
        c.app_studio = app.studio  # type: ignore[attr-defined]
        yield c


def receive_until(ws: Any, want: Callable[[dict], bool], limit: int = 400) -> tuple[dict, list[bytes]]:
    """Read the socket until a JSON message satisfies ``want``; also return the audio frames seen."""
    frames: list[bytes] = []
    for _ in range(limit):
        message = ws.receive()
        if message.get("bytes") is not None:
            frames.append(message["bytes"])
            continue
        if message.get("text") is None:
            raise AssertionError(f"socket closed: {message}")
        data = json.loads(message["text"])
        if want(data):
            return data, frames
    raise AssertionError("the wanted message never came")


def frames_for(ws: Any, n: int) -> list[bytes]:
    frames: list[bytes] = []
    while len(frames) < n:
        message = ws.receive()
        if message.get("bytes") is not None:
            frames.append(message["bytes"])
    return frames


def decode(frame: bytes) -> tuple[float, int, Any]:
    import numpy as np

    first, generation, count = FRAME_HEADER.unpack_from(frame)
    pcm = np.frombuffer(frame, dtype="<i2", offset=FRAME_HEADER.size).reshape(count, 2)
    return first, generation, pcm


def start(client: TestClient, **body: Any) -> dict:
    r = client.post("/api/sessions", json=body or {"example": "fantasy_game"})
    assert r.status_code == 201, r.text
    return r.json()


# ---------------------------------------------------------------- REST and validation
def test_examples_openapi_and_page(client: TestClient) -> None:
    names = [e["name"] for e in client.get("/api/examples").json()["examples"]]
    assert {"default", "fantasy_game", "dark_ambient"} <= set(names)
    doc = client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    assert {"/api/sessions", "/api/validate", "/api/sessions/{id}/spec"} <= set(doc["paths"])
    page = client.get("/")
    assert page.status_code == 200 and 'id="editor"' in page.text and "/static/studio.js" in page.text
    assert "AudioBufferSourceNode" in client.get("/static/studio.js").text or "createBufferSource" in \
        client.get("/static/studio.js").text
    assert client.get("/api/examples/fantasy_game").json()["text"] == FANTASY
    assert client.get("/api/examples/nope").status_code == 404


def test_validate_reports_each_problem_at_its_line(client: TestClient) -> None:
    ok = client.post("/api/validate", json={"text": FANTASY}).json()
    assert ok["ok"] is True and ok["issues"] == []
    assert ok["controls"]["stingers"] == ["discovery", "hit"]
    broken = FANTASY.replace("range: [C4, G6]", "range: [C4, Q9]").replace("cooldown_beats: 2", "cooldown_beats: -5")
    result = client.post("/api/validate", json={"text": broken}).json()
    assert result["ok"] is False
    lines = {i["line"] for i in result["issues"]}
    assert line_of(broken, "range: [C4, Q9]") in lines
    assert line_of(broken, "cooldown_beats: -5") in lines
    syntax = client.post("/api/validate", json={"text": "name: x\nlayers:\n  - name: [unclosed\n"}).json()
    assert syntax["ok"] is False and syntax["issues"][0]["line"] is not None and syntax["issues"][0]["line"] >= 3


def test_session_from_text_example_and_refusals(client: TestClient) -> None:
    broken = FANTASY.replace("tempo: {min: 70, max: 140, default: 96}", "tempo: {min: 70, max: 140, default: 400}")
    r = client.post("/api/sessions", json={"text": broken})
    assert r.status_code == 422
    assert line_of(broken, "default: 400") in {i["line"] for i in r.json()["issues"]}
    assert client.post("/api/sessions", json={"example": "nope"}).status_code == 404
    assert client.post("/api/sessions", json={"example": "default", "text": "x"}).status_code == 400
    assert client.post("/api/sessions", content=b"{not json",
                       headers={"content-type": "application/json"}).status_code == 400
    created = start(client, text=FANTASY, seed=3)
    status = client.get(f"/api/sessions/{created['id']}").json()
    assert status["state"] == "explore" and status["key"] == "D dorian" and status["sockets"] == 0
    assert client.get("/api/sessions/unknown").status_code == 404
    assert client.delete(f"/api/sessions/{created['id']}").status_code == 204
    assert client.get(f"/api/sessions/{created['id']}").status_code == 404


def test_uploads_and_spec_files_never_leave_their_folder(client: TestClient, tmp_path: Path) -> None:
    evil = FANTASY.replace('style: default', 'style: ../../../etc/passwd')
    issues = client.post("/api/validate", json={"text": evil}).json()["issues"]
    assert any(i["path"] == "style" and i["line"] == line_of(evil, "style: ../") and "outside" in i["message"]
               for i in issues)
    stolen = FANTASY.replace("themes:\n", "themes:\n  - {name: t, midi: /etc/hosts}\n", 1)
    issues = client.post("/api/validate", json={"text": stolen}).json()["issues"]
    assert any(i["path"] == "themes[0].midi" and i["line"] == line_of(stolen, "/etc/hosts") and "outside" in i["message"]
               for i in issues)
    for bad in (".hidden", "a%2Fb", "..", "x" * 200):
        # ("..": the client normalises the path to /api/, which wants JSON: 415)
        assert client.put(f"/api/files/{bad}", content=b"x", headers=BIN).status_code in (400, 404, 415), bad
    assert client.put("/api/files/motif.mid", content=b"MThd", headers=BIN).status_code == 201
    assert (tmp_path / "uploads" / "motif.mid").read_bytes() == b"MThd"
    assert client.get("/api/files").json()["files"] == ["motif.mid"]
    big = client.put("/api/files/big.bin", content=b"0" * (4 * 1024 * 1024 + 1), headers=BIN)
    assert big.status_code == 413 and "too large" in big.json()["error"]
    huge = client.post("/api/validate", content=json.dumps({"text": "#" * 300_000}),
                       headers={"content-type": "application/json"})
    assert huge.status_code == 413


# ---------------------------------------------------------------- security
def test_token_is_required_on_every_request_and_socket(tmp_path: Path) -> None:
    app = create_app(TOKEN, upload_dir=tmp_path, examples_dir=EXAMPLES)
    with TestClient(app) as c:
        assert c.get("/").status_code == 401
        assert c.get("/api/examples").status_code == 401
        assert c.get("/static/studio.js").status_code == 401
        assert c.get("/api/examples", headers={"authorization": "Bearer wrong-token"}).json()["error"] == "invalid token"
        assert c.get("/api/examples", headers={"authorization": f"Bearer {TOKEN}"}).status_code == 200
        page = c.get(f"/?token={TOKEN}")
        assert page.status_code == 200 and "segue_token" in page.headers["set-cookie"]
        assert c.get("/static/studio.js").status_code == 200  # the cookie now carries the token
        c.cookies.clear()
        created = c.post("/api/sessions", json={"example": "dark_ambient"}, headers={"x-segue-token": TOKEN})
        assert created.status_code == 201
        with c.websocket_connect(f"/api/sessions/{created.json()['id']}/ws") as ws:
            with pytest.raises(WebSocketDisconnect) as refused:
                ws.receive_text()
        assert refused.value.code == 1008
        with c.websocket_connect(f"/api/sessions/{created.json()['id']}/ws?token={TOKEN}") as ws:
            assert json.loads(ws.receive_text())["type"] == "session"
    with pytest.raises(StudioError, match="token"):
        create_app("short")


def test_loopback_studio_refuses_foreign_hosts_and_origins(tmp_path: Path) -> None:
    app = create_app(upload_dir=tmp_path, examples_dir=EXAMPLES, loopback_hosts_only=True)
    with TestClient(app, base_url="http://127.0.0.1:8765") as c:
        assert c.get("/api/examples").status_code == 200
        assert c.get("/api/examples", headers={"host": "evil.example:8765"}).status_code == 403
        sid = c.post("/api/sessions", json={"example": "dark_ambient"}).json()["id"]
        with c.websocket_connect(f"/api/sessions/{sid}/ws", headers={"origin": "http://evil.example"}) as ws:
            with pytest.raises(WebSocketDisconnect) as refused:
                ws.receive_text()
        assert refused.value.code == 1008


def test_serve_needs_a_token_beyond_loopback_and_reports_busy_ports() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.2")
    with pytest.raises(StudioError, match="token"):
        make_server("0.0.0.0", 0)
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    try:
        with pytest.raises(StudioError, match="cannot listen"):
            make_server("127.0.0.1", busy.getsockname()[1])
    finally:
        busy.close()


# ---------------------------------------------------------------- the session socket
def test_socket_streams_audio_events_and_takes_controls(client: TestClient) -> None:
    created = start(client)
    sid = created["id"]
    with client.websocket_connect(f"/api/sessions/{sid}/ws") as ws:
        hello = json.loads(ws.receive_text())
        assert hello["type"] == "session" and hello["controls"]["parameters"][0]["name"] == "intensity"
        assert hello["audio"] == {"sample_rate": 44100, "channels": 2, "format": "s16le",
                                  "frame_samples": FRAME_BLOCKS * 512, "header_bytes": FRAME_HEADER.size}
        frames = frames_for(ws, 12)
        firsts = [decode(f)[0] for f in frames]
        assert all(f >= 0 for f in firsts)  # no sustained (late) frames
        assert all(b - a == FRAME_BLOCKS * 512 for a, b in zip(firsts, firsts[1:]))  # contiguous audio
        assert max(abs(decode(f)[2]).max() for f in frames) > 100  # music, not silence
        ws.send_text(json.dumps({"type": "param", "name": "intensity", "value": 0.9, "id": "k1"}))
        ack, _ = receive_until(ws, lambda m: m.get("id") == "k1")
        assert ack["type"] == "ack"
        ws.send_text(json.dumps({"type": "param", "name": "loudness", "value": 0.9, "id": 2}))
        err, _ = receive_until(ws, lambda m: m.get("id") == 2)
        assert err["type"] == "error" and "unknown parameter 'loudness'" in err["reason"]
        ws.send_text(json.dumps({"type": "state", "name": "combat"}))
        notes, _ = receive_until(ws, lambda m: m["type"] == "notes")
        assert notes["bars"] and all(0 <= n[0] < 128 and n[2] > 0 for b in notes["bars"] for n in b["notes"])
        status, _ = receive_until(ws, lambda m: m["type"] == "status" and m["parameters"]["intensity"] > 0.5
                                  and (m["state"] == "combat" or m["pending"] == "combat"))
        assert status["sockets"] == 1
        rest = client.get(f"/api/sessions/{sid}").json()
        assert rest["parameters"]["intensity"] > 0.5


def test_oversized_and_malformed_messages_are_refused_and_the_music_plays_on(client: TestClient) -> None:
    sid = start(client)["id"]
    with client.websocket_connect(f"/api/sessions/{sid}/ws") as ws:
        receive_until(ws, lambda m: m["type"] == "session")
        before = client.get(f"/api/sessions/{sid}").json()["blocks_played"]
        cases = [
            ('{"type":"marker","name":"' + "x" * 20_000 + '"}', "message too large"),
            ("{not json", "not JSON"),
            ("[1, 2]", "must be a JSON object"),
            (json.dumps({"type": "param", "name": "intensity", "value": "loud"}), "value"),
            (json.dumps({"type": "param", "name": "intensity", "value": 0.5, "time": 3}), "trace files"),
            (json.dumps({"type": "audio", "on": "yes"}), "audio message"),
        ]
        for text, reason in cases:
            ws.send_text(text)
            reply, _ = receive_until(ws, lambda m: m["type"] in ("error", "ack"))
            assert reply["type"] == "error" and reason in reply["reason"], (text[:40], reply)
        ws.send_bytes(b"\x00\x01")
        reply, _ = receive_until(ws, lambda m: m["type"] in ("error", "ack"))
        assert "binary messages" in reply["reason"]
        frames = frames_for(ws, 8)  # still streaming, contiguous, not sustained
        assert all(decode(f)[0] >= 0 for f in frames)
        after = client.get(f"/api/sessions/{sid}").json()
        assert after["blocks_played"] > before and after["rejected"] >= 7 and after["sockets"] == 1


def test_message_rate_is_limited(client: TestClient) -> None:
    sid = start(client)["id"]
    with client.websocket_connect(f"/api/sessions/{sid}/ws") as ws:
        receive_until(ws, lambda m: m["type"] == "session")
        for i in range(160):
            ws.send_text(json.dumps({"type": "marker", "name": "m", "id": i}))
        replies = [receive_until(ws, lambda m: m.get("id") == i or m["type"] == "error" and "rate" in m["reason"])[0]
                   for i in range(160)]
        limited = [r for r in replies if r["type"] == "error"]
        assert 30 <= len(limited) <= 100 and "rate limited" in limited[0]["reason"]


def test_hot_reload_replaces_the_spec_and_keeps_playing(client: TestClient) -> None:
    sid = start(client)["id"]
    with client.websocket_connect(f"/api/sessions/{sid}/ws") as ws:
        receive_until(ws, lambda m: m["type"] == "session")
        ws.send_text(json.dumps({"type": "param", "name": "intensity", "value": 0.8, "id": 1}))
        receive_until(ws, lambda m: m.get("id") == 1)
        bad = client.put(f"/api/sessions/{sid}/spec", json={"text": FANTASY.replace("meter: 4/4", "meter: 4/0")})
        assert bad.status_code == 422 and bad.json()["issues"][0]["line"] == line_of(FANTASY, "meter: 4/4")
        assert client.get(f"/api/sessions/{sid}").json()["generation"] == 0
        new_text = FANTASY.replace("name: discovery", "name: secret").replace('"Ashen Vale"', '"Ashen Vale II"')
        r = client.put(f"/api/sessions/{sid}/spec", json={"text": new_text})
        assert r.status_code == 200 and r.json()["generation"] == 1
        assert r.json()["controls"]["stingers"] == ["secret", "hit"]
        hello, _ = receive_until(ws, lambda m: m["type"] == "session")
        assert hello["generation"] == 1 and hello["controls"]["stingers"] == ["secret", "hit"]
        assert hello["controls"]["name"] == "Ashen Vale II"
        frames = frames_for(ws, 10)
        assert decode(frames[-1])[1] == 1 and all(decode(f)[0] >= 0 for f in frames[2:])
        status = client.get(f"/api/sessions/{sid}").json()
        assert status["parameters"]["intensity"] > 0.3  # carried over to the new engine
        assert client.get(f"/api/sessions/{sid}/spec").json()["text"] == new_text
        ws.send_text(json.dumps({"type": "stinger", "name": "secret", "id": 5}))
        assert receive_until(ws, lambda m: m.get("id") == 5)[0]["type"] == "ack"


# ---------------------------------------------------------------- clean-up
def test_session_ends_with_its_last_socket_and_on_shutdown(tmp_path: Path) -> None:
    app = create_app(upload_dir=tmp_path, examples_dir=EXAMPLES)
    studio = app.studio  # type: ignore[attr-defined]
    with TestClient(app) as c:
        sid = c.post("/api/sessions", json={"example": "dark_ambient"}).json()["id"]
        live = studio.manager.get(sid).live
        with c.websocket_connect(f"/api/sessions/{sid}/ws") as one, \
                c.websocket_connect(f"/api/sessions/{sid}/ws") as two:
            receive_until(one, lambda m: m["type"] == "session")
            receive_until(two, lambda m: m["type"] == "session")
            assert c.get(f"/api/sessions/{sid}").json()["sockets"] == 2
            two.close()
            deadline = time.monotonic() + 5
            while c.get(f"/api/sessions/{sid}").json()["sockets"] != 1 and time.monotonic() < deadline:
                frames_for(one, 1)
            assert c.get(f"/api/sessions/{sid}").json()["sockets"] == 1
        deadline = time.monotonic() + 5
        while c.get(f"/api/sessions/{sid}").status_code != 404 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert c.get(f"/api/sessions/{sid}").status_code == 404
        deadline = time.monotonic() + 10
        while live._thread is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert live._thread is None  # the producer thread was stopped and joined
        with c.websocket_connect(f"/api/sessions/{sid}/ws") as gone:
            with pytest.raises(WebSocketDisconnect) as ended:
                gone.receive_text()
        assert ended.value.code == 4404
        idle = c.post("/api/sessions", json={"example": "dark_ambient"}).json()["id"]
        idle_live = studio.manager.get(idle).live
    assert len(studio.manager) == 0 and idle_live._thread is None  # shutdown closed the unconnected session


def test_unconnected_sessions_are_reaped(tmp_path: Path) -> None:
    app = create_app(upload_dir=tmp_path, examples_dir=EXAMPLES, connect_timeout_s=0.2, max_sessions=2)
    with TestClient(app) as c:
        c.post("/api/sessions", json={"example": "dark_ambient"})
        c.post("/api/sessions", json={"example": "dark_ambient"})
        full = c.post("/api/sessions", json={"example": "dark_ambient"})
        assert full.status_code == 503 and "at most 2" in full.json()["error"]
        time.sleep(0.3)
        assert c.get("/api/sessions").json()["sessions"] == []
        assert c.post("/api/sessions", json={"example": "dark_ambient"}).status_code == 201
