"""Personal soundtracks: what a listener's taste model and a player's memory cost (one run).

    uv run python benchmarks/bench_personal.py [--seconds 60]

1. **Engine cost.** The example trace (``examples/personal_game_trace.json`` on
   ``examples/personal_game.yaml``) rendered offline three ways, in one process, one after the other:
   the plain score with the personal controls left out, the same with a taste model choosing every
   personalised phrase (``play_personal`` without a profile), and the control log of that replayed
   without the model. Printed as CPU seconds and ratios to the plain render (after an untimed warm-up).
2. **One choice.** Mean CPU time of ``TasteModel.choose`` (a posterior draw and the grid search) after
   0 and 200 observations — it runs on the thread that composes, once per personalised phrase.
3. **Profile writes.** Mean time of one feedback transaction (WAL, synchronous=FULL) on this disk.

A benchmark, not a test: timings are noisy and nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from segue import pipeline  # noqa: E402
from segue.engine.controls import Timeline  # noqa: E402
from segue.listener.personaliser import model_for  # noqa: E402
from segue.listener.profile import open_profile  # noqa: E402
from segue.listener.session import play_personal  # noqa: E402
from segue.spec import load_spec  # noqa: E402


def cpu(fn):
    t = time.process_time()
    out = fn()
    return out, time.process_time() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    args = ap.parse_args()
    spec = load_spec(ROOT / "examples" / "personal_game.yaml")
    full = Timeline.load(ROOT / "examples" / "personal_game_trace.json")
    keep = [c for c in full.controls if (c.time or 0.0) < args.seconds]
    trace = Timeline(controls=keep, duration=args.seconds)
    plain = Timeline(controls=[c for c in keep if c.kind not in ("feedback", "signal", "meet")], duration=args.seconds)
    pipeline.play(spec, Timeline(controls=[], duration=8.0))  # loading the font, the style, the guard: not timed
    _, t_plain = cpu(lambda: pipeline.play(spec, plain))
    played, t_personal = cpu(lambda: play_personal(spec, trace, None))
    replay, t_replay = cpu(lambda: pipeline.play(spec, played.control_log))
    same = np.array_equal(played.mix, replay.mix)
    print(f"engine, {args.seconds:g} s of music (CPU s): plain {t_plain:.2f}, personal {t_personal:.2f} "
          f"(× {t_personal / t_plain:.2f}), replay of its log {t_replay:.2f} (× {t_replay / t_plain:.2f}); "
          f"replay bit-identical: {same}")
    model = model_for(spec)
    rng = np.random.default_rng(0)
    for observations in (0, 200):
        while model.count < observations:
            model.update(model.choose(rng, "explore"), float(rng.choice([1.0, -1.0, -0.5])), "explore")
        _, t = cpu(lambda: [model.choose(rng, "explore") for _ in range(200)])
        print(f"one choice after {observations} observations: {t / 200 * 1e3:.2f} ms CPU")
    with tempfile.TemporaryDirectory() as folder, open_profile("bench", Path(folder)) as prof:
        row = {"spec": "s", "state": "explore", "name": "like", "reward": 1.0, "settings": {"tempo": 3.0}}
        t0 = time.perf_counter()
        for _ in range(100):
            prof.add_feedback([row])
        print(f"one feedback transaction: {(time.perf_counter() - t0) / 100 * 1e3:.2f} ms wall")


if __name__ == "__main__":
    main()
