"""Games: the adaptive engine — determinism, live == offline, exact transitions, ramps, robustness."""

from __future__ import annotations

import time

import numpy as np
import pytest

from segue.builds import measure_build
from segue.engine.controls import Timeline
from segue.engine.live import HeadlessClock, HeadlessSink, LiveSession, ProducerPool
from segue.evaluation_run import examples_dir
from segue.pipeline import play
from segue.spec import load_spec

SR = 44100


@pytest.fixture(scope="module")
def game():
    return load_spec(examples_dir() / "fantasy_game.yaml")


def _trace(controls, duration):
    return Timeline.from_data({"duration": duration, "controls": controls})


SHORT = [
    {"time": 0.5, "type": "param", "name": "intensity", "value": 0.5},
    {"time": 2.0, "type": "stinger", "name": "discovery"},
    {"time": 4.1, "type": "state", "name": "combat"},
    {"time": 7.3, "type": "stinger", "name": "hit"},
    {"time": 9.0, "type": "param", "name": "intensity", "value": float("nan")},
    {"time": 9.5, "type": "param", "name": "nothing", "value": 1},
    {"time": 10.2, "type": "state", "name": "tension"},
    {"time": 11.0, "type": "state", "name": "victory"},
]


def test_same_trace_twice_gives_identical_samples(game) -> None:
    a = play(game, _trace(SHORT, 16.0))
    b = play(game, _trace(SHORT, 16.0))
    assert a.mix.shape == (16 * SR, 2)
    assert np.array_equal(a.mix, b.mix)
    assert float(np.max(np.abs(a.mix))) > 0.05
    assert a.rejected == b.rejected >= 2  # NaN and the unknown parameter


def test_transitions_and_stingers_land_exactly_on_their_grid(game) -> None:
    played = play(game, _trace(SHORT, 16.0))
    tm = played.performance.tempo_map
    meter = played.performance.meter
    bar, beat = meter.ticks_per_bar, meter.ticks_per_beat
    deck_start = 0
    transitions = [e for e in played.events if e.kind == "transition_started"]
    assert [e.data["to"] for e in transitions] == ["combat", "victory"] or [e.data["to"] for e in transitions][:1] == ["combat"]
    for ev in transitions:
        b = ev.data["boundary_tick"]
        assert ev.sample == tm.sample(b)  # zero-sample error against the tempo map
        requested_tick = tm.tick_at_sample(ev.data["requested"])
        grid = {"bar": bar, "beat": beat}.get(ev.data["quantize"])
        if grid:
            assert (b - deck_start) % grid == 0
            assert requested_tick <= b < requested_tick + grid + 1
        elif ev.data["quantize"] == "phrase":
            assert (b - deck_start) % bar == 0 and b >= requested_tick
        # the new state's music starts exactly there: notes at the boundary tick
        starts = {n.start for layer in played.performance.parts for n in played.performance.notes(layer.name)}
        assert b in starts
        deck_start = b
    stingers = [e for e in played.events if e.kind == "stinger"]
    assert len(stingers) >= 2
    for ev in stingers:
        assert ev.sample == tm.sample(ev.data["tick"])
        first_note = min(t for t, _ in ev.data["notes"])
        assert first_note == ev.data["tick"]
    # on the beat grid of the deck that was playing when each stinger fired
    starts = [0] + [e.data["boundary_tick"] for e in transitions]
    for ev in stingers:
        origin = max(s for s in starts if s <= ev.data["tick"])
        assert (ev.data["tick"] - origin) % beat == 0


def test_live_session_log_replays_to_identical_notes_and_samples(game) -> None:
    """Drive the live engine in real time through its public API; its log renders offline to the same output."""
    session = LiveSession(game, record=True, block=512)
    session.start()
    sink = HeadlessSink(session).start()
    t0 = time.perf_counter()
    script = [(0.3, lambda: session.set_parameter("intensity", 0.7)), (1.0, lambda: session.stinger("discovery")),
              (1.6, lambda: session.set_state("combat")), (2.4, lambda: session.marker("door")),
              (2.6, lambda: session.set_parameter("danger", float("inf"))), (3.2, lambda: session.stinger("hit"))]
    for at, action in script:
        time.sleep(max(0.0, at - (time.perf_counter() - t0)))
        action()
    time.sleep(max(0.0, 4.5 - (time.perf_counter() - t0)))
    sink.stop()
    session.stop()
    live = session.recorded_audio()
    log = session.control_log()
    kinds = [c.kind for c in log.controls]
    assert kinds.count("param") == 1 and "state" in kinds and "stinger" in kinds and "marker" in kinds
    latency = session.engine.mixer.latency
    total = live.shape[0] - latency
    log.duration = total / SR
    replay = play(game, log)
    assert np.array_equal(replay.mix, live[latency:latency + total])
    live_notes = [(b.start, b.notes) for b in session.conductor.bars]
    replay_notes = [(b.start, b.notes) for b in replay.performance.bars[: len(live_notes)]]
    assert live_notes == replay_notes


def test_sessions_sharing_one_producer_and_one_clock_play_what_their_logs_replay(game) -> None:
    """A ProducerPool (one render thread for many sessions) and a HeadlessClock (one timer): each session
    still plays exactly what its own control log renders to offline, without underruns."""
    pool = ProducerPool()
    sessions = [LiveSession(game, seed=s, record=True, block=512, pool=pool).start() for s in (3, 4, 5)]
    clock = HeadlessClock(sessions).start()
    try:
        time.sleep(0.8)
        sessions[0].set_state("combat")
        sessions[1].set_parameter("intensity", 0.9)
        sessions[2].stinger("discovery")
        time.sleep(2.2)
    finally:
        clock.stop()
        for s in sessions:
            s.stop()
        pool.close()
    assert not pool._sessions and pool._thread is None
    for s in sessions:
        assert s.blocks_played > 200  # (underruns are not asserted: they depend on how busy the machine is)
        live = s.recorded_audio()
        latency = s.engine.mixer.latency
        log = s.control_log()
        total = live.shape[0] - latency
        log.duration = total / SR
        assert np.array_equal(play(game, log).mix, live[latency:latency + total])
    assert len({s.recorded_audio()[:SR].tobytes() for s in sessions}) == 3  # three different pieces


def test_slow_intensity_ramp_grows_the_music_bar_by_bar(game) -> None:
    m = measure_build(game)  # the spec's own seed: what a user who runs the example hears
    assert len(m.notes) == 16
    assert m.notes_rho >= 0.9, m.notes
    assert m.loudness_rho >= 0.9, np.round(m.loudness_db, 2)
    # continuity: no bar-to-bar step larger than 2x the median step, for notes and for loudness
    assert m.notes_step_ratio <= 2.0, m.notes
    assert m.loudness_step_ratio <= 2.0, np.round(m.loudness_db, 2)
    assert m.rise_db >= 12.0  # a real build, not a flat line with tiny steps
    assert m.meets_brief


def test_the_build_is_continuous_for_other_seeds_too(game) -> None:
    results = [measure_build(game, seed=s) for s in (1, 2)]
    for m in results:
        assert m.meets_brief, (m.seed, m.notes, np.round(m.loudness_db, 2))


def test_bad_controls_never_stop_the_music(game) -> None:
    bad = [{"time": 0.2 * i, "type": t, "name": n, "value": v} for i, (t, n, v) in enumerate([
        ("param", "intensity", float("nan")), ("param", "intensity", 1e9), ("param", "ghost", 0.5),
        ("state", "nowhere", None), ("stinger", "nope", None), ("stinger", "hit", None), ("stinger", "hit", None),
    ])]
    bad.append({"time": 1.7, "type": "bogus"})
    bad.append("not even a dict")
    played = play(game, Timeline.from_data({"duration": 6.0, "controls": bad}))
    assert played.rejected >= 5
    bar = int(SR * 4 * 60 / 90)
    rms = [float(np.sqrt(np.mean(played.mix[i:i + bar] ** 2))) for i in range(0, len(played.mix) - bar, bar // 2)]
    assert min(rms) > 1e-3


def test_a_replaced_request_leaves_nothing_in_the_performance(game) -> None:
    """explore → combat is asked, then tension before the bar line: combat's first bar was composed
    ahead but never sounds, so it must not reach the MIDI export either."""
    trace = _trace([{"time": 1.0, "type": "state", "name": "combat"},
                    {"time": 1.2, "type": "state", "name": "tension"}], 10.0)
    played = play(game, trace)
    perf = played.performance
    states = [e.data.get("to") for e in played.events if e.kind == "transition_started"]
    assert states == ["tension"]
    sounding = perf.sounding_bars()
    for a, b in zip(sounding, sounding[1:]):  # one bar at a time: nothing doubled at the boundary
        assert b.start >= min(a.end, a.cut if a.cut is not None else a.end)


def test_a_parameter_moves_the_tempo_as_a_glide_not_a_jump(game) -> None:
    """Tempo changes driven by a parameter are ramps (eighth-note steps across the bar), so the build
    accelerates smoothly; the MIDI export carries the same staircase."""
    from segue.builds import ramp_spec

    played = play(ramp_spec(game), _trace([{"time": 0.0, "type": "param", "name": "intensity", "value": 1.0}], 40.0))
    bpms = [p.bpm for p in played.performance.tempo_map.points]
    steps = np.diff(bpms)
    assert bpms[-1] - bpms[0] > 5.0  # the build really speeds up …
    assert len(bpms) > 40 and np.all(steps >= 0)  # … in many small steps, never backwards
    assert steps.max() < 0.25 * (bpms[-1] - bpms[0]) / 8


def test_a_live_session_keeps_a_bounded_control_log_unless_it_records(game) -> None:
    """Hours of 60 Hz parameter updates must not grow the process: the log keeps the newest entries."""
    session = LiveSession(game, block=512, log_limit=40)
    for i in range(300):
        session.set_parameter("intensity", (i % 10) / 10)
        session.produce_block()
        session.next_block()
    log = session.engine.control_log
    assert 40 <= len(log) <= 45 and log[-1].value == 0.9 and all(a.sample <= b.sample for a, b in zip(log, log[1:]))
    full = LiveSession(game, block=512, log_limit=40, record=True)
    for i in range(100):
        full.set_parameter("intensity", (i % 10) / 10)
        full.produce_block()
    assert len(full.engine.control_log) == 100


def test_starting_a_session_freezes_the_warm_heap_so_collections_stay_short(game) -> None:
    """A full collection over the loaded models took ~45 ms (most of a live queue); once a session has started,
    those objects are frozen and a collection walks only what playing made since."""
    import gc

    session = LiveSession(game, block=512).start()
    try:
        assert gc.get_freeze_count() > 10_000
        for _ in range(100):  # play ~1 s (the session's own producer renders; this loop is the sink)
            session.next_block()
            time.sleep(0.01)
        assert len(gc.get_objects()) < gc.get_freeze_count() // 10
    finally:
        session.stop()
