"""Continuity of a slow build over many seeds (a measurement, not a test: it prints, it asserts nothing).

The game brief: an intensity ramp 0 → 1 over 16 bars raises notes per bar and loudness monotonically
(Spearman ≥ 0.9) with no bar-to-bar step larger than 2× the median step. The test suite checks the
example's own seed and two more; this prints every figure for ``--seeds`` seeds so the margin is visible.

    uv run python benchmarks/bench_ramp.py [--seeds 24] [--spec examples/fantasy_game.yaml]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from segue.builds import measure_build
from segue.evaluation_run import examples_dir
from segue.spec import load_spec


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=24)
    ap.add_argument("--spec", type=Path, default=examples_dir() / "fantasy_game.yaml")
    args = ap.parse_args()
    game = load_spec(args.spec)
    t0 = time.process_time()
    rows = [measure_build(game, seed=s) for s in range(args.seeds)]
    cpu = time.process_time() - t0
    print(f"{'seed':>4} {'ρ notes':>8} {'ρ loud':>7} {'max/median notes':>17} {'max/median dB':>14} "
          f"{'rise dB':>8} {'median step dB':>15}  meets")
    for m in rows:
        median = float(np.median(np.abs(np.diff(m.loudness_db))))
        print(f"{m.seed:>4} {m.notes_rho:>8.2f} {m.loudness_rho:>7.2f} {m.notes_step_ratio:>17.2f} "
              f"{m.loudness_step_ratio:>14.2f} {m.rise_db:>8.1f} {median:>15.2f}  {'yes' if m.meets_brief else 'NO'}")
    ok = sum(m.meets_brief for m in rows)
    worst = max(m.loudness_step_ratio for m in rows)
    print(f"\n{ok}/{len(rows)} seeds meet the brief; loudness max/median step: median "
          f"{np.median([m.loudness_step_ratio for m in rows]):.2f}, worst {worst:.2f}; "
          f"notes worst {max(m.notes_step_ratio for m in rows):.2f}; {cpu:.0f} s CPU")


if __name__ == "__main__":
    main()
