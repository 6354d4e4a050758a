"""Apps floor: personal soundtracks — the spec's personal sections, the engine's personal controls,
leitmotif recall, listener profiles (crash and corruption), the taste model on simulated listeners."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from segue import pipeline
from segue.engine.controls import Control, Timeline, parse_control
from segue.engine.engine import Engine
from segue.listener.personaliser import ListenerModel
from segue.listener.profile import open_profile, player_seed
from segue.listener.report import evaluate_spec, summary
from segue.listener.session import play_personal
from segue.listener.simulate import feedback
from segue.pipeline import make_conductor
from segue.spec import SpecError, load_spec, load_spec_text, spec_from_dict

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "examples" / "personal_game.yaml"
TRACE = ROOT / "examples" / "personal_game_trace.json"


@pytest.fixture(scope="module")
def spec():
    return load_spec(SPEC)


def short_trace(seconds: float = 64.0) -> Timeline:
    t = Timeline.load(TRACE)
    return Timeline(controls=[c for c in t.controls if (c.time or 0.0) < seconds], duration=seconds,
                    sample_rate=t.sample_rate)


# ---------------------------------------------------------------------------------------------- the spec
def test_personal_sections_are_checked_with_clear_errors() -> None:
    base = SPEC.read_text(encoding="utf-8")
    with pytest.raises(SpecError, match="must hold 0"):
        load_spec_text(base.replace("density: [-0.25, 0.2]", "density: [0.1, 0.2]"))
    with pytest.raises(SpecError, match="no theme named 'nemo'"):
        load_spec_text(base.replace("theme: grom}", "theme: nemo}"))
    with pytest.raises(SpecError, match="no layer named 'lute'"):
        load_spec_text(base.replace("    harp: [-9, 3]", "    lute: [-9, 3]"))
    spec = load_spec(SPEC)
    assert spec_from_dict(spec.model_dump(mode="json")).sha256 == spec.sha256
    assert spec_from_dict(spec.model_dump(mode="json", by_alias=True)).sha256 == spec.sha256
    plain = load_spec(ROOT / "examples" / "fantasy_game.yaml")
    assert plain.personalise is None and plain.remember is None
    assert '"personalise"' not in plain.canonical_json()  # a spec without them hashes as before


def test_controls_for_listeners_parse_and_round_trip() -> None:
    c = parse_control({"type": "personal", "name": "explore", "settings": {"tempo": 4, "density": -0.1}})
    assert isinstance(c, Control) and c.settings == (("density", -0.1), ("tempo", 4.0))
    again = parse_control({**c.to_dict(), "time": 1.0})
    assert isinstance(again, Control) and again.settings == c.settings
    assert "unknown feedback" in parse_control({"type": "feedback", "name": "love"})
    assert "unknown signal" in parse_control({"type": "signal", "name": "mood", "value": 1})
    assert "needs 'settings'" in parse_control({"type": "personal", "name": "explore"})
    assert "finite" in parse_control({"type": "personal", "settings": {"tempo": float("nan")}})
    assert "only a personal control" in parse_control({"type": "meet", "name": "mira", "settings": {"a": 1}})


# ---------------------------------------------------------------------------------------------- memory
def test_meeting_two_characters_recalls_their_themes_and_replays_to_the_same_samples(spec, tmp_path) -> None:
    trace = short_trace(58.0)
    with open_profile("ana", tmp_path) as prof:
        first = play_personal(spec, trace, prof)
        second = play_personal(spec, trace, prof)
    met = {e.data["name"]: e.sample for e in first.events if e.kind == "met"}
    assert set(met) == {"mira", "grom"}
    recalls = [e for e in first.events if e.kind == "recall"]
    for thing in ("mira", "grom"):
        later = [e for e in recalls if e.data["thing"] == thing and e.sample > met[thing]]
        assert later, f"{thing}'s theme is never recalled after the meeting"
    # the recalled phrase really states the character's theme, and is heard (not cut by a transition)
    tm = first.performance.tempo_map
    for e in recalls:
        bar = next(b for b in first.performance.bars if tm.sample(b.start) == e.sample and b.bar_in_phrase == 0
                   and b.state.theme == e.data["theme"])
        assert bar.cut is None or bar.cut > bar.start
        assert any(bar.notes.values())
    # the same trace and the same profile: the same samples
    assert np.array_equal(first.mix, second.mix)
    # the control log (personal choices included) replays without the profile, bit for bit
    replay = pipeline.play(spec, first.control_log)
    assert np.array_equal(first.mix, replay.mix)
    assert any(c.kind == "personal" for c in first.control_log.controls)


def test_without_meetings_nothing_is_recalled_and_players_differ(spec, tmp_path) -> None:
    trace = short_trace(40.0)
    quiet = Timeline(controls=[c for c in trace.controls if c.kind != "meet"], duration=trace.duration)
    with open_profile("ben", tmp_path) as ben:
        played = play_personal(spec, quiet, ben, keep_audio=False)
        assert not [e for e in played.events if e.kind == "recall"]
        with open_profile("cai", tmp_path) as cai:
            other = play_personal(spec, quiet, cai, keep_audio=False)
    notes = lambda p: [(n.start, n.pitch) for b in p.performance.bars for ns in b.notes.values() for n in ns]  # noqa: E731
    assert notes(played) != notes(other), "two players hear the same soundtrack"
    assert player_seed("ben") != player_seed("cai")


def test_unknown_things_are_rejected_not_remembered(spec) -> None:
    eng = Engine(make_conductor(spec))
    assert eng.submit({"type": "meet", "name": "nobody"}) is None
    eng.pull(512)
    assert eng.rejected == 1 and not eng.conductor.personal.memory.met


# ---------------------------------------------------------------------------------------------- bounds and rules
def test_personal_settings_are_clamped_latched_at_phrase_starts_and_keep_the_rules(spec) -> None:
    cond = make_conductor(spec)
    eng = Engine(cond)
    eng.submit({"type": "personal", "name": "explore",
                "settings": {"tempo": 999.0, "density": -5, "layer:harp": 40, "theme": 7, "bogus": 1}})
    bounds = spec.personalise.bounds()
    tempo_lo, tempo_hi = float(spec.palette.tempo.min), float(spec.palette.tempo.max)
    seen = []
    sr = cond.sample_rate
    while eng.position < 30 * sr:
        eng.pull(4096)
        for b in cond.deck.bars:
            assert tempo_lo <= b.tempo <= tempo_hi
        seen.append(dict(cond.deck.personal.settings))
    latched = [s for s in seen if s]
    assert latched, "the request is never latched"
    for s in latched:
        assert set(s) <= set(bounds)
        for k, v in s.items():
            assert bounds[k][0] <= v <= bounds[k][1]
    assert latched[0]["tempo"] == bounds["tempo"][1] and latched[0]["theme"] == len(spec.personalise.themes) - 1
    # latched only where a phrase starts: every bar of a phrase was composed with the same settings
    by_phrase: dict[int, set] = {}
    for b in cond.deck.bars:
        by_phrase.setdefault(b.phrase_index, set()).add((b.tempo if b.bar_in_phrase else None, b.state.theme))
    assert all(len({t for _, t in v}) == 1 for v in by_phrase.values())


def test_a_simulated_listener_in_the_engine_never_leaves_the_bounds_or_breaks_a_transition(spec) -> None:
    model = ListenerModel(spec, seed=3)
    trace = short_trace(60.0)
    rng = np.random.default_rng(1)
    controls = [c for c in trace.controls if c.kind != "feedback"]
    # noisy feedback every 3 s, as a simulated listener gives it
    for t in np.arange(2.0, 60.0, 3.0):
        controls.append(Control(kind="feedback", name=feedback(0.7 + 0.2 * rng.standard_normal(), rng), time=float(t)))
    played = pipeline.play(spec, Timeline(controls=controls, duration=60.0), personaliser=model, keep_audio=False)
    bounds = spec.personalise.bounds()
    personal = [e for e in played.events if e.kind == "personal"]
    heard = [e for e in played.events if e.kind == "feedback" and e.data["settings"]]
    assert len(personal) >= 4 and model.model.count == len(heard) >= 5  # only personalised music is judged
    for e in personal:
        assert e.data["state"] in spec.personalise.states  # combat is never personalised
        for k, v in e.data["settings"].items():
            assert bounds[k][0] <= v <= bounds[k][1]
    cond_tm = played.performance.tempo_map
    for e in played.events:
        if e.kind == "transition_started":  # zero-sample error at the boundary, whatever the tempo did
            assert cond_tm.sample(e.data["boundary_tick"]) == e.sample
    states = [c.name for c in trace.sorted() if c.kind == "state"]
    entered = [e.data["name"] for e in played.events if e.kind == "state_entered"]
    assert entered == [s for i, s in enumerate(states) if i and s != states[i - 1]]
    layers = {layer.name: layer for layer in spec.layers}
    for b in played.performance.bars:
        for name, notes in b.notes.items():
            if not layers[name].is_percussion:
                assert all(layers[name].low <= n.pitch <= layers[name].high for n in notes)


# ---------------------------------------------------------------------------------------------- profiles
_WRITER = """
import sys
from pathlib import Path
from segue.listener.profile import open_profile
prof = open_profile("crash", Path(sys.argv[1]))
row = {"spec": "s", "state": "explore", "name": "like", "reward": 1.0, "settings": {"tempo": 3.0}}
first = True
while True:
    prof.add_feedback([row] * 50)
    if first:
        print("ready", flush=True)
        first = False
"""


def test_a_profile_survives_a_crash_mid_write(tmp_path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(0.4)  # many transactions in flight; the kill lands inside one of them
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    with open_profile("crash", tmp_path) as prof:
        assert prof.notice is None
        rows = prof.feedback()
        assert len(rows) >= 50 and len(rows) % 50 == 0, "a half-written batch survived"
        assert prof.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_an_uncommitted_write_is_not_in_the_profile(tmp_path) -> None:
    code = ("import os, sys, json; from pathlib import Path; from segue.listener.profile import open_profile\n"
            "p = open_profile('half', Path(sys.argv[1]))\n"
            "p.add_feedback([{'spec': 's', 'state': None, 'name': 'like', 'reward': 1, 'settings': {}}])\n"
            "p.conn.execute('BEGIN'); p.conn.execute(\"INSERT INTO feedback (spec, state, name, reward, settings, "
            "aggression, at) VALUES ('s', NULL, 'skip', -1, '{}', 0.5, 0)\")\n"
            "os._exit(9)\n")
    assert subprocess.run([sys.executable, "-c", code, str(tmp_path)]).returncode == 9
    with open_profile("half", tmp_path) as prof:
        assert [r["name"] for r in prof.feedback()] == ["like"]


@pytest.mark.parametrize("damage", ["garbage", "foreign", "truncated"])
def test_a_corrupt_profile_gives_a_clear_notice_and_a_fresh_profile(tmp_path, damage) -> None:
    path = tmp_path / "dora.sqlite"
    if damage == "garbage":
        path.write_bytes(b"not a database at all " * 400)
    elif damage == "foreign":
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE feedback (x)")
    else:
        with open_profile("dora", tmp_path) as prof:
            prof.add_feedback([{"spec": "s", "state": None, "name": "like", "reward": 1, "settings": {}}] * 500)
            prof.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        data = path.read_bytes()
        path.write_bytes(data[:100] + b"\xff" * 2000 + data[2100:len(data) // 2])
    with open_profile("dora", tmp_path) as prof:
        assert prof.notice is not None and "moved to dora.sqlite.corrupt-1" in prof.notice
        assert prof.feedback() == []
        prof.add_signal("aggression", 0.7)
        assert prof.signals() == {"aggression": 0.7}
    assert (tmp_path / "dora.sqlite.corrupt-1").exists()  # kept aside, never deleted


def test_profile_cli_show_export_reset(tmp_path) -> None:
    env = dict(os.environ, SEGUE_PROFILE_DIR=str(tmp_path))
    (tmp_path / "eve.sqlite").write_bytes(b"\x00garbage" * 100)

    def segue(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "segue.cli", "profile", *args], capture_output=True, text=True,
                              env=env, cwd=ROOT, timeout=300)

    r = segue("show", "eve")
    assert r.returncode == 0 and "unreadable" in r.stderr and "Traceback" not in r.stderr + r.stdout
    with open_profile("eve", tmp_path) as prof:
        prof.add_meeting("Ashen Vale (personal)", "mira")
    r = segue("export", "eve")
    data = json.loads(r.stdout)
    assert data["format"] == "segue-profile" and data["met"] == {"mira": 1}
    r = segue("show", "bad/name")
    assert r.returncode == 2 and "player name" in r.stderr and "Traceback" not in r.stderr
    assert "deleted" in segue("reset", "eve").stdout
    assert not (tmp_path / "eve.sqlite").exists()


def test_learning_from_a_trace_writes_the_profile_and_changes_the_next_choices(spec, tmp_path) -> None:
    trace = short_trace(40.0)
    with open_profile("finn", tmp_path) as prof:
        before = ListenerModel(spec, seed=1, profile=prof).model.favourite("explore")
        played = play_personal(spec, trace, prof, learn=True, keep_audio=False)
        # feedback is about the music *heard* (composing runs a bar ahead), and only personalised music is judged
        heard = [e for e in played.events if e.kind == "feedback" and e.data["settings"]]
        assert len(heard) >= 2
        rows = prof.feedback()
        assert [(r["name"], r["settings"]) for r in rows] == [(e.data["name"], e.data["settings"]) for e in heard]
        assert set(prof.met()) == {"mira", "grom"} and prof.signals()["aggression"] == 0.8
        after = ListenerModel(spec, seed=1, profile=prof)
        assert after.model.count == len(heard)
        assert after.model.favourite("explore") != before


# ---------------------------------------------------------------------------------------------- the learner
def test_the_learner_beats_random_and_the_defaults_on_simulated_listeners(spec) -> None:
    # a reduced population (the documented numbers come from 200 listeners: `segue profile simulate`)
    s = summary(evaluate_spec(spec, listeners=40, events=50, seed=17))
    assert s["ratio_to_random"] <= 0.5
    assert s["closer_than_default"] >= 0.8
    assert s["out_of_bounds"] == 0 and s["choices_checked"] == 40 * 50 * 3
    assert s["mean_regret_last_10"]["learner"] < s["mean_regret_last_10"]["fixed"]


# ---------------------------------------------------------------------------------------------- live, OSC and WebSocket
def test_feedback_signals_and_meetings_arrive_over_osc_and_websocket_and_reach_the_profile(spec, tmp_path) -> None:
    from pythonosc.udp_client import SimpleUDPClient
    from websockets.sync.client import connect

    from segue.engine.live import HeadlessSink
    from segue.listener.session import PersonalLive
    from segue.server import start_osc, start_ws

    prof = open_profile("gia", tmp_path)
    live = PersonalLive(spec, prof).start()
    sink = HeadlessSink(live.session).start()
    osc = start_osc(live.session, port=0)
    ws = start_ws(live.session, port=0)
    try:
        client = SimpleUDPClient("127.0.0.1", osc.port)
        client.send_message("/segue/meet", "mira")
        client.send_message("/segue/signal/aggression", 0.9)
        client.send_message("/segue/feedback", "like")
        with connect(ws.url) as sock:
            sock.send(json.dumps({"type": "feedback", "name": "skip", "id": 1}))
            assert json.loads(sock.recv(timeout=5))["type"] == "ack"
            sock.send(json.dumps({"type": "meet", "name": "nobody", "id": 2}))
            reply = json.loads(sock.recv(timeout=5))
            assert reply["type"] == "error" and "unknown thing to remember 'nobody'" in reply["reason"]
        deadline = time.monotonic() + 10
        log = live.session.engine.control_log
        while time.monotonic() < deadline and len([c for c in log if c.kind in ("feedback", "meet", "signal")]) < 4:
            time.sleep(0.05)
        kinds = sorted((c.kind, c.name) for c in log if c.kind in ("feedback", "meet", "signal"))
        assert kinds == [("feedback", "like"), ("feedback", "skip"), ("meet", "mira"), ("signal", "aggression")]
        assert live.session.conductor.personal.memory.met.keys() == {"mira"}
    finally:
        osc.close()
        ws.close()
        sink.stop()
        live.stop()
    assert prof.met() == {"mira": 1} and prof.signals() == {"aggression": pytest.approx(0.9, abs=1e-6)}  # OSC f is 32-bit
    prof.close()


def test_implicit_signals_teach_a_little_and_only_about_personalised_music(spec, tmp_path) -> None:
    with open_profile("hal", tmp_path) as prof:
        m = ListenerModel(spec, seed=2, profile=prof)
        heard = {"tempo": 6.0, "density": 0.1}
        m.observe(Control(kind="signal", name="exploring", value=10.0), "explore", heard)   # a short stretch: nothing
        m.observe(Control(kind="signal", name="aggression", value=0.9), "explore", heard)  # context, not reward
        assert m.model.count == 0 and m.aggression == 0.9
        m.observe(Control(kind="signal", name="deaths", value=1.0), "explore", heard)
        m.observe(Control(kind="signal", name="exploring", value=90.0), "explore", heard)
        m.observe(Control(kind="feedback", name="like"), "combat", {})  # music as written: not judged
        assert m.model.count == 2
        assert m.flush() == 6  # four signals and two implicit rewards
        assert [(r["name"], r["reward"]) for r in prof.feedback()] == [("deaths", -0.3), ("exploring", 0.2)]
        assert prof.signals() == {"exploring": 90.0, "aggression": 0.9, "deaths": 1.0}
