"""Composing ahead (issue 16): bars written on the composer thread sound exactly as bars written on the
audio path, and state requests that replace each other before their music is due cost nothing."""

from __future__ import annotations

import numpy as np
import pytest

from segue.engine.engine import Engine
from segue.evaluation_run import examples_dir
from segue.pipeline import make_conductor
from segue.spec import load_spec

SR = 44100
STATES = ["combat", "explore", "tension", "victory"]


@pytest.fixture(scope="module")
def game():
    return load_spec(examples_dir() / "fantasy_game.yaml")


def _render(spec, controls, seconds: float, *, ahead: bool, block: int) -> tuple[np.ndarray, Engine]:
    eng = Engine(make_conductor(spec, seed=5), compose_ahead=ahead)
    for at, c in controls:
        assert eng.submit(c, sample=at) is None
    out = []
    while eng.position < int(seconds * SR):
        out.append(eng.pull(block)[0])
    return np.concatenate(out)[: int(seconds * SR)], eng


def _flood(start: float, seconds: float, rate: float) -> list[tuple[int, dict]]:
    n = int(seconds * rate)
    return [(int(SR * (start + i / rate)), {"type": "state", "name": STATES[i % 4]}) for i in range(n)]


def test_composer_thread_plays_what_the_audio_path_plays(game) -> None:
    """A flood of state requests, stingers and parameter moves: 512-frame blocks with the composer thread
    give the samples of 2048-frame blocks without it (``segue play``'s path), transitions included."""
    rng = np.random.default_rng(1)
    controls = _flood(3.0, 4.0, 190.0)
    controls += [(int(SR * t), {"type": "stinger", "name": "discovery"}) for t in (1.3, 6.1, 9.7)]
    controls += [(int(SR * float(t)), {"type": "param", "name": "intensity", "value": float(v)})
                 for t, v in zip(rng.uniform(0.5, 11.5, 12), rng.uniform(0, 1, 12))]
    controls.sort(key=lambda e: e[0])
    live, eng_live = _render(game, controls, 12.0, ahead=True, block=512)
    offline, eng_off = _render(game, controls, 12.0, ahead=False, block=2048)
    assert eng_live.conductor.transitions >= 1 and eng_live.conductor.transitions == eng_off.conductor.transitions
    assert np.array_equal(live, offline)
    assert eng_off.bars_late == 0  # only counted where a thread could have written the bar


def test_requests_replaced_before_their_music_is_due_leave_no_trace(game) -> None:
    """Requests that a newer one replaces before its first bar is decided (0.1 s before the boundary) compose
    nothing: the piece is the one that only the last request makes, sample for sample and bar for bar."""
    bar = int(SR * 4 * 60 / 90)  # explore: 4/4 at 90 bpm; the first bar line is at `bar`
    flood = [(at, c) for at, c in _flood(0.2, 2.0, 190.0) if at < bar - SR // 5]
    flood.append((flood[-1][0] + 200, {"type": "state", "name": "tension"}))
    flooded, eng_a = _render(game, flood, 6.0, ahead=False, block=512)
    # the same block splits (every control splits a block; markers are inaudible), only the last request
    markers = [(at, {"type": "marker", "name": "m"}) for at, _ in flood[:-1]]
    single, eng_b = _render(game, markers + flood[-1:], 6.0, ahead=False, block=512)
    assert eng_a.conductor.state_name == "tension" and eng_a.conductor.transitions == 1
    assert eng_a.conductor.bars_composed == eng_b.conductor.bars_composed
    assert np.array_equal(flooded, single)


def test_a_pending_state_makes_its_composer_only_when_due(game) -> None:
    eng = Engine(make_conductor(game, seed=5))
    eng.pull(512)
    eng.submit({"type": "state", "name": "combat"})
    eng.pull(512)
    pending = eng.conductor.pending
    assert pending is not None and pending.made is None  # nothing made yet: replacing it is free
    boundary = eng.conductor.tempo_map.sample(pending.boundary_tick)
    while eng.position < boundary - eng.compose_lead + 512:
        eng.pull(512)
    assert pending.made is not None and eng.conductor.pending is pending  # decided, not yet heard
    while eng.position <= boundary:
        eng.pull(512)
    assert eng.conductor.state_name == "combat" and eng.conductor.deck is pending.made
