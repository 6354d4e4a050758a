"""Issue 15: after a state change, events and status count the bars a listener hears (0, 1, 2 …),
not the transition deck's seed grid (100000, 100001 …); the seed grid, and so the notes, are unchanged."""

from __future__ import annotations

import numpy as np
import pytest

from segue.engine.controls import Timeline
from segue.engine.engine import Engine
from segue.evaluation_run import examples_dir
from segue.pipeline import make_conductor, play
from segue.spec import load_spec

CONTROLS = [
    {"time": 0.5, "type": "param", "name": "intensity", "value": 0.5},
    {"time": 4.1, "type": "state", "name": "combat"},
    {"time": 10.2, "type": "state", "name": "tension"},
    {"time": 11.0, "type": "state", "name": "victory"},
]


@pytest.fixture(scope="module")
def game():
    return load_spec(examples_dir() / "fantasy_game.yaml")


@pytest.fixture(scope="module")
def played(game):
    return play(game, Timeline.from_data({"duration": 16.0, "controls": CONTROLS}))


def test_bar_events_count_heard_bars_across_transitions(played) -> None:
    assert [e for e in played.events if e.kind == "transition_started"], "the trace must change state"
    bars = sorted({(e.sample, e.data["bar"]) for e in played.events if e.kind == "bar"})
    # (the playing deck may have composed the bar at the boundary before the request came; it is cut at its
    # start, never heard, and its event carries the same number as the new state's first bar)
    starts = [s for s, _ in bars]
    assert len(set(starts)) == len(starts), "two numbers for one bar line"
    numbers = [b for _, b in bars]
    # numbered 0, 1, 2 … in the order they sound
    assert numbers == list(range(len(numbers)))
    assert len(numbers) == len(played.performance.sounding_bars())
    # beat events carry the number of their bar (as sent with that deck's bar event)
    bar_events = {(e.data["bar"], e.data["state"]): e.sample for e in played.events if e.kind == "bar"}
    for e in played.events:
        if e.kind == "beat":
            assert bar_events[(e.data["bar"], e.data["state"])] <= e.sample


def test_the_seed_grid_is_kept_so_the_notes_do_not_change(played) -> None:
    # the composers still count from 100_000 × n: the decks' material is seeded per transition
    assert max(b.index for b in played.performance.bars) >= 100_000


def test_status_reports_the_heard_bar_after_a_transition(game) -> None:
    timeline = Timeline.from_data({"duration": 9.0, "controls": CONTROLS[:2]})
    cond = make_conductor(game, sample_rate=timeline.sample_rate, keep_bars=True)
    engine = Engine(cond)
    for ctl in timeline.sorted():
        engine.submit(ctl, sample=ctl.at_sample(timeline.sample_rate))
    seen = []
    while engine.position < timeline.end_sample():
        engine.pull(2048)
        st = engine.status()
        seen.append((st["state"], st["bar"]))
    assert any(state == "combat" for state, _ in seen)
    heard = [b for _, b in seen]
    assert max(heard) < 100
    assert heard == sorted(heard)  # never jumps back or up to the seed grid
    assert np.all(np.diff(heard) <= 1)
