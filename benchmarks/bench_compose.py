"""Composing and rendering speed, and peak memory, measured in one run on one core.

    uv run python benchmarks/bench_compose.py

Prints ratios (seconds of music per CPU second) so the numbers mean the same on a fast or a
slow machine only relative to each other; peak memory is the process's maximum resident set.
Not a test: these machines are shared and noisy, so nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def cpu() -> float:
    return time.process_time()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--bars", type=int, default=64)
    ap.add_argument("--render-bars", type=int, default=32)
    ap.add_argument("--bar-seeds", type=int, default=8, help="pieces timed bar by bar (p99 per bar)")
    ap.add_argument("--style", default=None, help="compose with this style (default/markov, neural or a file)")
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    from segue.compose.affect import Affect
    from segue.pipeline import compose, render
    from segue.spec import load_spec
    from segue.style import load_default, load_style

    from segue.spec import spec_from_dict

    load_default()
    style = load_style(args.style) if args.style else None
    full = load_spec(ROOT / "examples" / "fantasy_game.yaml")
    # the yardstick is six layers: the same score without its horns (melody, counter, strings,
    # bass, harp ostinato, drums), all playing at combat intensity
    data = full.model_dump(mode="json", by_alias=True, exclude_none=True)
    data["layers"] = [layer for layer in data["layers"] if layer["name"] != "horns"]
    for theme in data.get("themes", []):
        if theme.get("layer") == "horns":
            theme.pop("layer")
    for state in data.get("states", []):
        if "layers" in state:
            state["layers"] = [name for name in state["layers"] if name != "horns"]
    six = spec_from_dict(data, base_dir=ROOT / "examples")
    rows = []
    for label, spec, aff in (("calm", full, Affect(0.4, 0.2, 0.2)), ("combat", full, Affect(-0.3, 0.95, 0.95)),
                             ("combat, six layers", six, Affect(-0.3, 0.95, 0.95))):
        layers = len(spec.layers)
        compose(spec, bars=4, affect=aff, style=style)  # warm caches (style model, soundfont)
        t = cpu()
        perf = compose(spec, bars=args.bars, affect=aff, style=style)
        dt = cpu() - t
        active = sum(1 for p in perf.parts if perf.notes(p.name))
        rows.append((f"compose ({label}, {active}/{layers} layers)", perf.seconds, dt))
        render(spec, bars=2, affect=aff, style=style)
        t = cpu()
        r = render(spec, bars=args.render_bars, affect=aff, style=style)
        dt = cpu() - t
        rows.append((f"compose+render ({label}, {active}/{layers} layers)", r.performance.seconds, dt))
    # time to compose one bar of every layer, bar by bar as the engine does (originality guard on)
    from segue.pipeline import make_conductor

    per_bar = []
    for seed in range(args.bar_seeds):
        c = make_conductor(six, seed=seed, affect=Affect(-0.3, 0.95, 0.95), style=style, guard=True)
        c.next_bar()  # the first bar also builds the deck
        for _ in range(args.bars):
            t = cpu()
            c.next_bar()
            per_bar.append(cpu() - t)
    ms = np.array(per_bar) * 1000
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'what':48s} {'music s':>9s} {'cpu s':>8s} {'× real time':>12s}")
    for what, music, dt in rows:
        print(f"{what:48s} {music:9.1f} {dt:8.3f} {music / dt:12.0f}")
    print(f"time to compose one bar (six layers, combat, guard on; {len(ms)} bars, {args.bar_seeds} seeds, CPU time): "
          f"median {np.median(ms):.2f} ms, p99 {np.percentile(ms, 99):.2f} ms, max {ms.max():.2f} ms")
    print(f"peak resident memory: {peak_mb:.0f} MiB")


if __name__ == "__main__":
    main()
