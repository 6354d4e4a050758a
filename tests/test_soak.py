"""Soak: one hour of game time, random (and bad) controls every 0.5 s, rendered offline by the live engine."""

from __future__ import annotations

import gc
import os

import numpy as np

from segue.engine.controls import Timeline
from segue.evaluation_run import examples_dir
from segue.pipeline import play
from segue.spec import load_spec

SR = 44100


def _rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _random_controls(spec, seconds: float, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    states = [s.name for s in spec.states]
    stingers = [s.name for s in spec.stingers]
    params = [p.name for p in spec.parameters]
    out: list[dict] = []
    t = 0.5
    while t < seconds:
        r = rng.random()
        if r < 0.45:
            out.append({"time": t, "type": "param", "name": str(rng.choice(params)), "value": float(rng.random())})
        elif r < 0.55:
            out.append({"time": t, "type": "state", "name": str(rng.choice(states))})
        elif r < 0.65:
            out.append({"time": t, "type": "stinger", "name": str(rng.choice(stingers))})
        elif r < 0.7:
            out.append({"time": t, "type": "marker", "name": f"m{len(out)}"})
        else:  # bad ones: NaN, out of range, unknown names, wrong types, garbage
            bad = [
                {"time": t, "type": "param", "name": "intensity", "value": float("nan")},
                {"time": t, "type": "param", "name": "intensity", "value": 1e12},
                {"time": t, "type": "param", "name": "no_such_param", "value": 0.5},
                {"time": t, "type": "state", "name": "no_such_state"},
                {"time": t, "type": "stinger", "name": 42},
                {"time": t, "type": "teleport"},
                {"time": t, "type": "param", "name": "danger", "value": "high"},
            ]
            out.append(bad[int(rng.integers(len(bad)))])
        t += 0.5
    return out


def test_one_hour_of_random_controls() -> None:
    spec = load_spec(examples_dir() / "fantasy_game.yaml")
    seconds = 3600.0
    timeline = Timeline.from_data({"duration": seconds, "controls": _random_controls(spec, seconds, 1)})
    window = int(SR * 4 * 60 / 140)  # one bar at the fastest tempo allowed
    state = {"pos": 0, "quiet_run": 0, "longest_quiet": 0, "rss": {}, "peak": 0.0, "tail": np.zeros((0, 2), np.float32)}

    def on_block(block: np.ndarray) -> None:
        buf = np.concatenate([state["tail"], block])
        while buf.shape[0] >= window:
            seg = buf[:window]
            rms = float(np.sqrt(np.mean(seg.astype(np.float64) ** 2)))
            state["quiet_run"] = state["quiet_run"] + window if rms < 1e-4 else 0
            state["longest_quiet"] = max(state["longest_quiet"], state["quiet_run"])
            state["peak"] = max(state["peak"], float(np.max(np.abs(seg))))
            buf = buf[window:]
        state["tail"] = buf
        state["pos"] += block.shape[0]
        minute = state["pos"] // (SR * 60)
        if minute in (10, 59) and minute not in state["rss"]:
            gc.collect()
            state["rss"][minute] = _rss_bytes()

    played = play(spec, timeline, keep_audio=False, keep_bars=False, keep_events=False, on_block=on_block)
    total = int(seconds * SR)
    assert state["pos"] == total + 64  # every sample pulled exactly once (64 = the limiter's look-ahead)
    assert played.rejected > 100  # the bad controls were seen and refused
    assert state["longest_quiet"] <= window  # never silent for longer than a bar
    assert state["peak"] < 1.0  # never clipping
    growth = (state["rss"][59] - state["rss"][10]) / state["rss"][10]
    assert growth < 0.05, state["rss"]
    # zero clock drift: the tempo map's sample for the last bar line is where the engine put that bar
    tm = played.performance.tempo_map
    last = played.performance.bars[-1] if played.performance.bars else None
    assert last is None or tm.sample(last.start) <= total + window
