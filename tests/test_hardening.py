"""Issue 15: every reproduction of the fuzzing campaign (copied into tests/data/repro/) gives one clear
line and exit status 2, or correct behaviour — no traceback, no hang, no huge allocation; and the
access model (Origin, CSRF, tokens, OSC amplification, subscription expiry). Limits: segue/limits.py."""

from __future__ import annotations

import gzip
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from segue import limits

REPRO = Path(__file__).parent / "data" / "repro"
ROOT = Path(__file__).parent.parent
FANTASY = ROOT / "examples" / "fantasy_game.yaml"


def run_segue(args: list[str], tmp_path: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    """The installed command, with a 1.5 GB address-space cap: a bomb fails here instead of the machine."""
    code = ("import resource,sys; resource.setrlimit(resource.RLIMIT_AS, (1_500_000_000, 1_500_000_000)); "
            "sys.argv=['segue', *sys.argv[1:]]; from segue.cli import main; main()")
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=timeout,
                          cwd=tmp_path)


SPEC_CASES = [
    ("curve_bigint.yaml", "number too large"),
    ("role_list.yaml", "is not allowed"),
    ("deep_nesting_3000.yaml", "nests more than"),
    ("theme_path_too_long.yaml", "path too long"),
    ("markup_field.yaml", "[/bold]"),
    ("markup_name.yaml", "'melodyy' is not allowed"),
    ("bomb_dupkey_d6.yaml", "expands to more than"),
    ("bomb_dupkey_d7.yaml", "expands to more than"),
    ("bomb_dupkey_d8.yaml", "expands to more than"),
    ("yaml_dupkey_bomb.yaml", "expands to more than"),
    ("bomb_nodup_d6.yaml", "expands to more than"),
    ("bomb_nodup_d7.yaml", "expands to more than"),
    ("bomb_nodup_d8.yaml", "expands to more than"),
    ("style_not_a_model.yaml", "is not a Segue style model"),
    ("silent_all_enter_1.yaml", "would be silent"),
    ("theme_319h.yaml", "a theme may last at most"),
    ("bank128_pitched.yaml", "holds drum kits"),
]


def one_line_error(r: subprocess.CompletedProcess, expected: str) -> None:
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    assert "Traceback" not in r.stderr
    assert r.stderr.startswith("error: ") and expected in r.stderr, r.stderr[-2000:]


@pytest.mark.parametrize("name,expected", SPEC_CASES)
def test_spec_reproductions_give_one_clear_line(name: str, expected: str, tmp_path: Path) -> None:
    t0 = time.monotonic()
    out = "x.wav" if name == "bank128_pitched.yaml" else "x.mid"
    r = run_segue(["compose", "--spec", str(REPRO / name), "--out", out], tmp_path)
    one_line_error(r, expected)
    assert time.monotonic() - t0 < 20
    assert not (tmp_path / out).exists()  # nothing half-written


def test_markup_in_a_message_is_printed_as_text(tmp_path: Path) -> None:
    r = run_segue(["compose", "--spec", str(REPRO / "markup_field.yaml"), "--out", "x.mid"], tmp_path)
    assert "unknown field '[/bold]'" in r.stderr


@pytest.mark.parametrize("name,expected", [
    ("midi_37_bytes_77_hours.mid", "lasts more than 3 hours"),
    ("midi_ppq1_9.8_hours.mid", "lasts more than 3 hours"),
    ("midi_render_KeySignatureError.mid", "not a readable MIDI file"),
])
def test_render_reproductions(name: str, expected: str, tmp_path: Path) -> None:
    one_line_error(run_segue(["render", str(REPRO / name), "--out", "r.wav"], tmp_path), expected)


@pytest.mark.parametrize("name,expected", [
    ("midi_vary_ValueError.mid", "lasts more than 4096 beats"),
    ("midi_vary_hang_319h.mid", "lasts more than 4096 beats"),
])
def test_vary_reproductions_refused_quickly(name: str, expected: str, tmp_path: Path) -> None:
    t0 = time.monotonic()
    one_line_error(run_segue(["vary", str(REPRO / name), "-n", "2", "--out", "v", "--no-audio"], tmp_path), expected)
    assert time.monotonic() - t0 < 20


def test_vary_with_tempo_zero_works(tmp_path: Path) -> None:
    r = run_segue(["vary", str(REPRO / "midi_vary_ZeroDivisionError.mid"), "-n", "2", "--out", "v", "--no-audio"],
                  tmp_path, timeout=120)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr[-2000:]


def test_trace_with_a_huge_integer_is_a_rejected_control(tmp_path: Path) -> None:
    r = run_segue(["play", "--spec", str(FANTASY), "--trace", str(REPRO / "trace_bigint.json"), "--out", "p.mid"],
                  tmp_path, timeout=120)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr[-2000:]
    assert "1 rejected controls" in r.stdout


def test_numbers_beyond_a_float_never_raise() -> None:
    from segue.engine.controls import parse_control

    assert isinstance(parse_control({"type": "param", "name": "x", "value": 10 ** 400}), str)
    assert not limits.check_number(10 ** 400) and limits.check_number(0.5)
    with pytest.raises(ValueError):
        limits.safe_json_loads('{"v": 1' + "0" * 400 + "}")


def test_alias_bomb_is_counted_before_expansion() -> None:
    from segue.spec import SpecError, load_spec_text

    t0 = time.monotonic()
    with pytest.raises(SpecError, match="expands to more than"):
        load_spec_text((REPRO / "bomb_dupkey_d8.yaml").read_text())
    assert time.monotonic() - t0 < 5


def test_gzip_bomb_style_is_refused(tmp_path: Path) -> None:
    from segue.style.errors import StyleError
    from segue.style.model import StyleModel

    bomb = tmp_path / "b.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as fh:
        block = b" " * (1 << 20)
        for _ in range(limits.MAX_STYLE_BYTES // len(block) + 8):
            fh.write(block)
    with pytest.raises(StyleError, match="expands to more than"):
        StyleModel.load(bomb)


# ---------------------------------------------------------------- servers

@pytest.fixture(scope="module")
def session():
    from segue.engine.live import HeadlessSink, LiveSession
    from segue.spec import load_spec

    s = LiveSession(load_spec(FANTASY), seed=1)
    s.start()
    sink = HeadlessSink(s).start()
    yield s
    sink.stop()
    s.stop()


def test_live_websocket_refuses_a_foreign_origin_and_survives_a_huge_integer(session) -> None:
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    from segue.server import start_ws

    server = start_ws(session, port=0)
    try:
        with pytest.raises(InvalidStatus):  # cswsh_live.py
            connect(server.url, origin="http://evil.example", open_timeout=5)
        with connect(server.url, origin=f"http://127.0.0.1:{server.port}") as ws:  # a local page is fine
            ws.send('{"type":"status"}')
            assert json.loads(ws.recv(timeout=5))["type"] == "status"
        with connect(server.url) as ws:  # ws_bigint.py: an error, and the connection stays open
            ws.send('{"type":"param","name":"intensity","value":1' + "0" * 400 + "}")
            reply = json.loads(ws.recv(timeout=5))
            assert reply["type"] == "error" and "too large" in reply["reason"]
            ws.send('{"type":"status"}')
            assert json.loads(ws.recv(timeout=5))["type"] == "status"
    finally:
        server.close()


def test_short_tokens_are_refused(session) -> None:
    from segue.server import ServerError, start_osc, start_ws

    with pytest.raises(ServerError, match="at least 16"):
        start_ws(session, port=0, token="x")
    with pytest.raises(ServerError, match="at least 16"):
        start_osc(session, port=0, token="x")


def _osc(address: str, *args: str) -> bytes:
    def s(x: str) -> bytes:
        b = x.encode() + b"\0"
        return b + b"\0" * (-len(b) % 4)
    return s(address) + s("," + "s" * len(args)) + b"".join(s(a) for a in args)


def test_osc_needs_the_token_and_never_amplifies(session) -> None:
    from segue.server import start_osc

    token = "an-osc-token-of-length"
    server = start_osc(session, port=0, token=token)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(0.7)
    try:  # osc_no_auth.py: without hello, a control and a status request are dropped, unanswered
        log_before = len(session.engine.control_log)
        u.sendto(_osc("/segue/marker", "sneaky"), ("127.0.0.1", server.port))
        u.sendto(_osc("/segue/status"), ("127.0.0.1", server.port))
        with pytest.raises(socket.timeout):
            u.recvfrom(65536)
        assert server.unauthorised == 2
        assert all(c.name != "sneaky" for c in session.engine.control_log[log_before:])
        u.sendto(_osc("/segue/hello", token), ("127.0.0.1", server.port))
        assert u.recvfrom(65536)[0].startswith(b"/segue/ack")
        u.sendto(_osc("/segue/status"), ("127.0.0.1", server.port))
        assert b"/segue/status/state" in u.recvfrom(65536)[0]
    finally:
        server.close()
    # without a token (loopback): no reply is larger than its request
    server = start_osc(session, port=0)
    try:
        request = _osc("/segue/status")  # 20 bytes: the status (~380) does not fit, nor does a useful reason
        u.sendto(request, ("127.0.0.1", server.port))
        try:
            assert len(u.recvfrom(65536)[0]) <= len(request)
        except socket.timeout:
            pass
        padded = _osc("/segue/status", "x" * 2000)
        u.sendto(padded, ("127.0.0.1", server.port))
        assert b"/segue/status/state" in u.recvfrom(65536)[0]
        u.sendto(b"\x00", ("127.0.0.1", server.port))  # 1 byte in: nothing (or 1 byte) out
        try:
            assert len(u.recvfrom(65536)[0]) <= 1
        except socket.timeout:
            pass
    finally:
        server.close()
        u.close()


def test_osc_subscriptions_expire(session) -> None:
    from segue.server import start_osc

    server = start_osc(session, port=0, subscription_ttl_s=0.5)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.sendto(_osc("/segue/subscribe"), ("127.0.0.1", server.port))
        deadline = time.monotonic() + 2
        while not server.subscribers and time.monotonic() < deadline:
            time.sleep(0.02)
        assert server.subscribers
        time.sleep(0.7)
        assert server.subscribers == []
    finally:
        server.close()
        u.close()


@pytest.fixture()
def studio_client(tmp_path: Path):
    from starlette.testclient import TestClient

    from segue.studio.app import create_app

    with TestClient(create_app(upload_dir=tmp_path / "up", max_sessions=3)) as client:
        yield client


def test_studio_refuses_cross_site_requests(studio_client) -> None:
    c = studio_client
    # studio_csrf.sh: a cross-site text/plain POST
    r = c.post("/api/sessions", content='{"example":"fantasy_game"}',
               headers={"origin": "http://evil.example", "content-type": "text/plain"})
    assert r.status_code == 403
    r = c.post("/api/sessions", content='{"example":"fantasy_game"}', headers={"content-type": "text/plain"})
    assert r.status_code == 415
    # studio_yaml_bomb.sh through the JSON door: a clear refusal
    r = c.post("/api/validate", json={"text": (REPRO / "bomb_dupkey_d7.yaml").read_text()})
    assert r.status_code == 200 and "expands to more than" in r.json()["issues"][0]["message"]
    assert c.get("/api/sessions").json()["sessions"] == []


def test_studio_gzip_bomb_upload_is_refused_and_the_session_limit_holds(studio_client) -> None:
    import io

    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9) as fh:
        block = b" " * (1 << 20)
        for _ in range(limits.MAX_STYLE_BYTES // len(block) + 8):
            fh.write(block)
    c = studio_client
    assert c.put("/api/files/b.gz", content=buf.getvalue(),
                 headers={"content-type": "application/octet-stream"}).status_code == 201
    r = c.post("/api/sessions", json={"text": "name: x\nstyle: b.gz\nlayers: [{name: a, role: melody}]"})
    assert r.status_code in (422,) and "MiB" in r.text, r.text
    # studio_bigint_kills_session.py (REST half): a clear 400, not a 500
    sid = c.post("/api/sessions", json={"example": "fantasy_game"}).json()["id"]
    r = c.post(f"/api/sessions/{sid}/controls", content='{"type":"param","name":"intensity","value":1' + "0" * 400 + "}",
               headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert c.get(f"/api/sessions/{sid}").status_code == 200


def test_session_limit_holds_under_concurrent_creates(tmp_path: Path) -> None:
    """studio_session_race.py: the check and the reservation happen under one lock."""
    import threading

    from segue.studio.manager import SessionLimitError, SessionManager
    from segue.spec import load_spec

    spec = load_spec(ROOT / "examples" / "dark_ambient.yaml")
    manager = SessionManager(max_sessions=2)
    made, refused = [], []

    def create() -> None:
        try:
            made.append(manager.create(spec, text="", name="x", base_dir=None))
        except SessionLimitError:
            refused.append(1)

    threads = [threading.Thread(target=create) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert len(made) == 2 and len(refused) == 4
    finally:
        for s in made:
            s.cancel_pacer()
            s.stop_engine()
        manager.pool.stop() if hasattr(manager.pool, "stop") else None


def test_sigterm_writes_the_record_log(tmp_path: Path) -> None:
    log = tmp_path / "L.json"
    p = subprocess.Popen([sys.executable, "-m", "segue.cli", "live", "--spec", str(FANTASY), "--no-audio",
                          "--osc-port", "-1", "--ws-port", "-1", "--record", str(log)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 60
        line = ""
        while "playing" not in line and time.monotonic() < deadline:
            line = p.stdout.readline()
        time.sleep(0.5)
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
    assert log.exists(), p.stderr.read()[-2000:]
    assert "controls" in json.loads(log.read_text())
