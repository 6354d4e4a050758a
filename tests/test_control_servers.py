"""OSC and WebSocket control of a live session: real clients over loopback, a real session, real clocks.

Every test talks to the servers exactly as a game would (python-osc's UDP client, a websockets
client) and checks the result where it matters: in the engine's control log and rejection count,
in the events a subscriber receives, and in the session still producing audio afterwards.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_packet import OscPacket
from pythonosc.osc_server import BlockingOSCUDPServer
from pythonosc.udp_client import SimpleUDPClient
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from segue.engine.engine import Event
from segue.engine.live import HeadlessSink, LiveSession
from segue.server import EVENT_KINDS, ServerError, start_osc, start_ws
from segue.server.osc import event_message
from segue.server.ws import OUTBOX_SIZE, _Client, _TokenBucket
from segue.spec import load_spec

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def session() -> Iterator[LiveSession]:
    s = LiveSession(load_spec(ROOT / "examples" / "fantasy_game.yaml"))
    s.start()
    sink = HeadlessSink(s).start()
    try:
        yield s
    finally:
        sink.stop()
        s.stop()


def wait_for(cond: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Poll ``cond`` until it returns something truthy (returned) or the time runs out (last value)."""
    deadline = time.monotonic() + timeout
    value = cond()
    while not value and time.monotonic() < deadline:
        time.sleep(0.02)
        value = cond()
    return value


def settle(session: LiveSession) -> int:
    """Wait until the session has applied everything queued so far; the engine's rejection count then."""
    name = f"settle-{time.monotonic_ns()}"
    session.marker(name)  # the inbox is first in, first out: once this is logged, all before it were handled
    assert wait_for(lambda: any(c.name == name for c in session.engine.control_log[-50:]))
    return session.engine.rejected


def a_parameter(session: LiveSession) -> str | None:
    return next(iter(session.conductor.params), None)


# ---------------------------------------------------------------------------------------------- OSC
class OscListener:
    """A game's event port: a python-osc dispatcher server on an ephemeral port, in a thread."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[Any]]] = []
        d = Dispatcher()
        d.set_default_handler(lambda address, *args: self.messages.append((address, list(args))))
        self.server = BlockingOSCUDPServer(("127.0.0.1", 0), d)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def of(self, address: str) -> list[list[Any]]:
        return [args for a, args in list(self.messages) if a == address]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def osc_replies(client: SimpleUDPClient, timeout: float = 1.0) -> list[tuple[str, list[Any]]]:
    """Every message (bundles unpacked) that arrives on the client's own socket until it goes quiet."""
    out = []
    while True:
        data = client.receive(timeout)
        if not data:
            return out
        out += [(m.message.address, list(m.message.params)) for m in OscPacket(data).messages]
        timeout = 0.3


def test_osc_applies_good_controls_and_rejects_garbage_without_stopping(session: LiveSession) -> None:
    # with a token: an authenticated sender hears every reason in full (without one, replies are cut
    # to the request's size: see test_hardening.py)
    server = start_osc(session, port=0, token="osc-token-long-enough")
    client = SimpleUDPClient("127.0.0.1", server.port)
    try:
        assert server.port > 0
        client.send_message("/segue/hello", "osc-token-long-enough")
        rejected_before = settle(session)
        log_before = len(session.engine.control_log)
        param = a_parameter(session)
        client.send_message("/segue/marker", "osc-door")
        client.send_message("/segue/affect", [0.25, 0.5, 0.75])
        if param is not None:
            client.send_message(f"/segue/param/{param}", 0.625)  # exact in float32
        garbage: list[tuple[str, Any]] = [
            ("/segue/marker", 3),                      # wrong type
            ("/segue/marker", ["a", "b"]),             # wrong arity
            ("/segue/affect", 0.5),                    # wrong arity
            ("/segue/affect", [0.1, float("nan"), 0.2]),  # NaN
            ("/segue/param/intensity", "loud"),        # wrong type
            ("/segue/param/intensity", float("nan")),  # NaN
            ("/segue/param/no_such_parameter", 0.5),   # unknown name
            ("/segue/state", "no_such_state"),         # unknown state
            ("/segue/launch_missiles", 1),             # unknown address
            ("/segue/subscribe", 70000),               # not a port
        ]
        for address, value in garbage:
            client.send_message(address, value)
        client._sock.sendto(b"definitely not OSC", ("127.0.0.1", server.port))  # noqa: SLF001 - a raw datagram
        expected = len(garbage) + 1

        replies = osc_replies(client)
        reasons = [args[0] for address, args in replies if address == "/segue/event/rejected"]
        assert len(reasons) == expected, reasons
        assert all(isinstance(r, str) and r for r in reasons)
        joined = "\n".join(reasons)
        assert "launch_missiles" in joined and "no_such_parameter" in joined and "not an OSC" in joined

        assert wait_for(lambda: session.engine.rejected - rejected_before >= expected), "rejections not counted"
        assert session.engine.rejected - rejected_before == expected
        assert wait_for(lambda: len(session.engine.control_log) - log_before == (3 if param else 2))
        applied = session.engine.control_log[log_before:]
        assert [c.kind for c in applied] == ["marker", "affect"] + (["param"] if param else [])
        assert applied[0].name == "osc-door"
        assert (applied[1].valence, applied[1].arousal, applied[1].intensity) == (0.25, 0.5, 0.75)
        if param is not None:
            assert applied[2].name == param and applied[2].value == 0.625
        assert server.accepted == (3 if param else 2) and server.rejected == expected
        assert session.control_log().controls[-1] == applied[-1]
    finally:
        client.close()
        server.close()


def test_an_osc_bundle_time_tag_schedules_its_controls_at_the_heard_sample(session: LiveSession) -> None:
    """A bundle tagged 0.6 s ahead: its marker is applied at the sample heard 0.6 s later, not at the next
    block; a bundle tagged an hour ahead is refused with a reason; a late tag applies at once."""
    from pythonosc.osc_bundle_builder import OscBundleBuilder
    from pythonosc.osc_message_builder import OscMessageBuilder

    def bundle(at: float, name: str):
        b = OscBundleBuilder(at)
        m = OscMessageBuilder(address="/segue/marker")
        m.add_arg(name)
        b.add_content(m.build())
        return b.build()

    server = start_osc(session, port=0)
    client = SimpleUDPClient("127.0.0.1", server.port)
    try:
        settle(session)
        sr = session.sample_rate
        tag = time.time() + 0.6
        expected = session.heard_sample(tag)
        name = f"timed-{time.monotonic_ns()}"
        client.send(bundle(tag, name))
        rendered_when_sent = session.engine.position
        logged = wait_for(lambda: next((c for c in session.engine.control_log if c.name == name), None), 3.0)
        assert logged is not None
        # scheduled for the future: far beyond the block the producer was rendering when it arrived …
        assert logged.sample - rendered_when_sent > 0.3 * sr
        # … at the sample heard at the time tag (the projection drifts only by the sink's scheduling jitter)
        assert abs(logged.sample - expected) < 0.05 * sr
        late = f"late-{time.monotonic_ns()}"
        client.send(bundle(time.time() - 5.0, late))
        logged = wait_for(lambda: next((c for c in session.engine.control_log if c.name == late), None), 3.0)
        assert logged is not None and logged.sample <= session.engine.position
        rejected = settle(session)
        client.send(bundle(time.time() + 3600.0, "far"))  # an hour: beyond MAX_AHEAD_S
        assert wait_for(lambda: session.engine.rejected > rejected, 3.0)
        assert all(c.name != "far" for c in session.engine.control_log)
    finally:
        server.close()


def test_osc_subscriber_receives_beats_bars_and_its_marker(session: LiveSession) -> None:
    listener = OscListener()
    server = start_osc(session, port=0)
    client = SimpleUDPClient("127.0.0.1", server.port)
    try:
        client.send_message("/segue/subscribe", listener.port)
        assert wait_for(lambda: server.subscribers, 2.0) == [("127.0.0.1", listener.port)]
        client.send_message("/segue/marker", "osc-echo")
        assert wait_for(lambda: listener.of("/segue/event/marker"), 3.0) == [["osc-echo"]]
        bars = wait_for(lambda: listener.of("/segue/event/bar"), 6.0)
        assert bars, f"no bar event in 6 s; got {sorted({a for a, _ in listener.messages})}"
        bar, state, key, tempo = bars[0]
        assert isinstance(bar, int) and bar >= 1 and isinstance(key, str) and key
        assert state == (session.status()["state"] or "") and 20.0 <= tempo <= 400.0
        beats = listener.of("/segue/event/beat")
        assert beats and all(len(b) == 2 and 0 <= b[1] < 16 for b in beats)
        assert any(b[0] == bar for b in beats) or any(b[0] == bar - 1 for b in beats)
        # a subscribed sender hears its rejections once, through the event stream
        client.send_message("/segue/nowhere", [])
        assert wait_for(lambda: [m for m in listener.of("/segue/event/rejected") if "/segue/nowhere" in m[0]], 3.0)
        client.send_message("/segue/unsubscribe", listener.port)
        assert wait_for(lambda: not server.subscribers, 2.0)
    finally:
        client.close()
        server.close()
        listener.close()


def test_osc_status_bundle_goes_to_the_reply_port(session: LiveSession) -> None:
    listener = OscListener()
    server = start_osc(session, port=0, reply_port=listener.port)
    client = SimpleUDPClient("127.0.0.1", server.port)
    try:
        client.send_message("/segue/status", ["x" * 1024])  # padded: no reply is larger than its request
        assert wait_for(lambda: listener.of("/segue/status/health"), 3.0)
        st = session.status()
        state, pending = listener.of("/segue/status/state")[0]
        assert state == (st["state"] or "")
        bar, beat, seconds = listener.of("/segue/status/position")[0]
        assert 0 <= bar <= st["bar"] and 0 <= beat < 16 and 0.0 < seconds <= st["seconds"] + 1e-3
        params = {name: value for name, value in listener.of("/segue/status/param")}
        assert set(params) == set(session.conductor.params)
        blocks, underruns, rejected = listener.of("/segue/status/health")[0]
        assert 0 < blocks <= session.blocks_played and rejected <= session.engine.rejected
        assert osc_replies(client, 0.2) == []  # replies went to reply_port, not back to the source port
    finally:
        client.close()
        server.close()
        listener.close()


def test_every_engine_event_kind_has_an_osc_message() -> None:
    data = {"beat": {"bar": 3, "beat": 1}, "bar": {"bar": 3, "state": None, "key": "D dorian", "tempo": 90.0},
            "phrase": {"phrase": 1, "kind": "statement", "state": "explore"}, "state_entered": {"name": "combat"},
            "transition_started": {"from": None, "to": "combat"}, "stinger": {"name": "hit"},
            "marker": {"name": "m"}, "rejected": {"reason": "why"}, "underrun": {},
            "feedback": {"name": "like", "state": "explore"}, "signal": {"name": "deaths", "value": 2.0},
            "met": {"name": "mira", "theme": "mira"}, "recall": {"thing": "mira", "theme": "mira"},
            "personal": {"state": "explore", "settings": {"tempo": 4.0}}}
    for kind in EVENT_KINDS:
        packet = OscPacket(event_message(Event(0, kind, data[kind])))
        msg = packet.messages[0].message
        assert msg.address.startswith("/segue/event/")
        if kind == "bar":
            assert list(msg.params) == [3, "", "D dorian", 90.0]
        if kind == "transition_started":
            assert (msg.address, list(msg.params)) == ("/segue/event/transition", ["", "combat"])


# ---------------------------------------------------------------------------------------------- WebSocket
def recv_json(ws: ClientConnection, timeout: float = 3.0, skip_events: bool = True) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        msg = json.loads(ws.recv(timeout=max(0.01, deadline - time.monotonic())))
        if not (skip_events and msg.get("type") == "event"):
            return msg


def test_ws_acks_controls_and_answers_bad_input_with_errors(session: LiveSession) -> None:
    server = start_ws(session, port=0, max_message_bytes=1024)
    try:
        rejected_before = settle(session)
        log_before = len(session.engine.control_log)
        param = a_parameter(session)
        with connect(server.url) as ws:
            ws.send(json.dumps({"type": "marker", "name": "ws-door", "id": "m1"}))
            assert recv_json(ws) == {"type": "ack", "id": "m1"}
            ws.send(json.dumps({"type": "affect", "valence": -0.5, "id": 7}))
            assert recv_json(ws) == {"type": "ack", "id": 7}
            if param is not None:
                ws.send(json.dumps({"type": "param", "name": param, "value": 0.4}))
                assert recv_json(ws) == {"type": "ack"}
            bad = {
                "not json": "{this is not json",
                "not an object": json.dumps([1, 2, 3]),
                "oversized": json.dumps({"type": "marker", "name": "x" * 2000}),
                "unknown type": json.dumps({"type": "explode", "id": "u"}),
                "NaN value": '{"type": "param", "name": "intensity", "value": NaN}',
                "string value": json.dumps({"type": "param", "name": "intensity", "value": "loud"}),
                "unknown parameter": json.dumps({"type": "param", "name": "no_such_parameter", "value": 1}),
                "trace-only time": json.dumps({"type": "marker", "name": "late", "time": 3.0}),
            }
            reasons = {}
            for label, text in bad.items():
                ws.send(text)
                reply = recv_json(ws)
                assert reply["type"] == "error", (label, reply)
                assert isinstance(reply["reason"], str) and reply["reason"], label
                reasons[label] = reply["reason"]
            assert "not JSON" in reasons["not json"] and "too large" in reasons["oversized"]
            assert "explode" in reasons["unknown type"] and "no_such_parameter" in reasons["unknown parameter"]
            # the connection is still open and answers
            ws.send(json.dumps({"type": "status", "id": "s"}))
            status = recv_json(ws)
            assert status["type"] == "status" and status["id"] == "s"
            assert status["blocks_played"] > 0 and set(status["parameters"]) == set(session.conductor.params)
        assert wait_for(lambda: session.engine.rejected - rejected_before >= len(bad))
        assert session.engine.rejected - rejected_before == len(bad)
        n = 3 if param else 2
        assert wait_for(lambda: len(session.engine.control_log) - log_before >= n)
        applied = session.engine.control_log[log_before:]
        assert [c.kind for c in applied] == ["marker", "affect"] + (["param"] if param else [])
        assert applied[0].name == "ws-door" and applied[1].valence == -0.5
        assert server.accepted == n and server.rejected == len(bad)
    finally:
        server.close()


def test_ws_at_schedules_a_control_at_the_heard_sample(session: LiveSession) -> None:
    server = start_ws(session, port=0)
    try:
        settle(session)
        sr = session.sample_rate
        with connect(server.url) as ws:
            tag = time.time() + 0.5
            expected = session.heard_sample(tag)
            name = f"ws-timed-{time.monotonic_ns()}"
            ws.send(json.dumps({"type": "marker", "name": name, "at": tag, "id": 1}))
            assert recv_json(ws) == {"type": "ack", "id": 1}
            rendered_when_acked = session.engine.position
            logged = wait_for(lambda: next((c for c in session.engine.control_log if c.name == name), None), 3.0)
            assert logged is not None
            assert logged.sample - rendered_when_acked > 0.25 * sr and abs(logged.sample - expected) < 0.05 * sr
            ws.send(json.dumps({"type": "marker", "name": "x", "at": "soon", "id": 2}))
            reply = recv_json(ws)
            assert reply["type"] == "error" and "'at'" in reply["reason"] and reply["id"] == 2
    finally:
        server.close()


def test_ws_subscriber_receives_bar_events_but_no_beats_by_default(session: LiveSession) -> None:
    server = start_ws(session, port=0)
    try:
        with connect(server.url) as ws:
            ws.send(json.dumps({"type": "subscribe", "id": 1}))
            ack = recv_json(ws)
            assert ack["type"] == "ack" and ack["id"] == 1 and "beat" not in ack["events"] and "bar" in ack["events"]
            ws.send(json.dumps({"type": "marker", "name": "ws-echo"}))
            seen: list[dict[str, Any]] = []
            deadline = time.monotonic() + 6.0
            while time.monotonic() < deadline and not any(m.get("kind") == "bar" for m in seen):
                seen.append(json.loads(ws.recv(timeout=deadline - time.monotonic())))
            events = [m for m in seen if m["type"] == "event"]
            bars = [m for m in events if m["kind"] == "bar"]
            assert bars, f"no bar event in 6 s: {[m.get('kind', m['type']) for m in seen]}"
            bar = bars[0]
            assert isinstance(bar["sample"], int) and math.isclose(bar["seconds"], bar["sample"] / session.sample_rate,
                                                                   abs_tol=1e-5)
            assert {"bar", "state", "key", "tempo"} <= set(bar["data"]) and bar["data"]["bar"] >= 1
            assert any(m["kind"] == "marker" and m["data"] == {"name": "ws-echo"} for m in events)
            assert not any(m["kind"] == "beat" for m in events)
            ws.send(json.dumps({"type": "subscribe", "events": ["beat"]}))
            deadline = time.monotonic() + 3.0
            got = None
            while time.monotonic() < deadline and got is None:
                m = json.loads(ws.recv(timeout=deadline - time.monotonic()))
                if m["type"] == "event" and m["kind"] == "beat":
                    got = m
            assert got is not None and set(got["data"]) >= {"bar", "beat"}
            ws.send(json.dumps({"type": "subscribe", "events": ["beat", "explosions"]}))
            assert "explosions" in recv_json(ws)["reason"]
    finally:
        server.close()


def test_ws_rate_limit_answers_with_errors_and_recovers(session: LiveSession) -> None:
    server = start_ws(session, port=0, max_rate_per_s=10)
    rejected_before = settle(session)
    try:
        with connect(server.url) as ws:
            for i in range(25):
                ws.send(json.dumps({"type": "status", "id": i}))
            replies = [recv_json(ws) for _ in range(25)]
            limited = [r for r in replies if r["type"] == "error"]
            assert 10 <= 25 - len(limited) <= 12 and all("rate limited" in r["reason"] for r in limited)
            time.sleep(0.3)  # three new tokens
            ws.send(json.dumps({"type": "status", "id": "again"}))
            assert recv_json(ws)["id"] == "again"
        assert settle(session) == rejected_before  # a flood is not amplified into the engine's log
    finally:
        server.close()


def test_ws_token_is_enforced(session: LiveSession) -> None:
    server = start_ws(session, port=0, token="s3cret-long-enough-token")
    try:
        with connect(server.url) as ws:
            ws.send(json.dumps({"type": "marker", "name": "sneaky"}))
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=3)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
            assert "authentication required" in closed.value.rcvd.reason
        with connect(server.url + "?token=wrong") as ws:
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=3)
            assert closed.value.rcvd is not None and closed.value.rcvd.reason == "invalid token"
        with connect(server.url) as ws:
            ws.send(json.dumps({"type": "hello", "token": "s3cret-long-enough-token", "id": "h"}))
            assert recv_json(ws) == {"type": "ack", "id": "h"}
            ws.send(json.dumps({"type": "status"}))
            assert recv_json(ws)["type"] == "status"
        with connect(server.url + "?token=s3cret-long-enough-token") as ws:
            ws.send(json.dumps({"type": "marker", "name": "allowed", "id": 1}))
            assert recv_json(ws) == {"type": "ack", "id": 1}
        assert not any(c.name == "sneaky" for c in session.engine.control_log)
    finally:
        server.close()


def test_a_slow_client_loses_its_oldest_beats_first() -> None:
    client = _Client(ws=None, bucket=_TokenBucket(None))  # type: ignore[arg-type]
    client.push("bar", "bar-0")
    for i in range(OUTBOX_SIZE + 40):
        client.push("beat", f"beat-{i}")
    client.push("marker", "marker-0")
    kinds = [k for k, _ in client.outbox]
    assert len(client.outbox) == OUTBOX_SIZE and client.dropped == 42
    assert kinds[0] == "bar" and kinds[-1] == "marker"
    assert [t for k, t in client.outbox if k == "beat"][0] == "beat-42"  # the oldest beats went first


def test_busy_ports_raise_a_clear_server_error(session: LiveSession) -> None:
    osc = start_osc(session, port=0)
    ws = start_ws(session, port=0)
    try:
        with pytest.raises(ServerError, match="cannot listen for OSC"):
            start_osc(session, port=osc.port)
        with pytest.raises(ServerError, match="cannot listen for WebSocket"):
            start_ws(session, port=ws.port)
        with pytest.raises(ServerError, match="port"):
            start_osc(session, port=70000)
    finally:
        osc.close()
        ws.close()


def test_the_music_keeps_playing_after_all_of_it(session: LiveSession) -> None:
    before = session.status()
    time.sleep(0.5)
    after = session.status()
    assert after["blocks_played"] - before["blocks_played"] >= 20  # ~43 blocks of 512 per second
    assert after["sample"] > before["sample"] and after["seconds"] > 1.0
    assert session._thread is not None and session._thread.is_alive()  # noqa: SLF001 - the producer still runs
