"""Originality guard benchmarks: indexing speed and check latency at 100,000 melodies.

Run: ``uv run python benchmarks/bench_originality.py [--melodies 100000]``. Prints numbers; asserts
nothing (timings belong to benchmarks, not tests: these machines are shared and noisy).

* **Indexing**: synthetic folk-like melodies (diatonic random walks, 24-64 notes, common rhythm
  cells, so n-gram posting lists are as skewed as in real tunes) are written to a fresh index
  file in batches, each batch one transaction. Reported: melodies per second, end to end
  (fingerprinting, packing notes, SQLite inserts, commits).
* **Checking**: the synthetic index plus the shipped corpus index are loaded into a
  :class:`~segue.originality.Guard`; 16-bar phrases are checked with ``guard_phrase``: new
  synthetic phrases (not in the index, the usual case while composing) and real corpus
  excerpts (found and flagged, which adds the traceback of the matched passage). Reported:
  median, 95th percentile and maximum milliseconds per phrase.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

from segue.music import Note
from segue.originality import Guard, ReferenceIndex
from segue.originality.bars import BarGrid
from segue.originality.calibration import tunes
from segue.originality.locations import corpus_index_path
from segue.originality.melody import Line
from segue.originality.reading import Work

SCALE = np.array([0, 2, 4, 5, 7, 9, 11])
CELLS = [[1.0], [0.5, 0.5], [0.75, 0.25], [1.5, 0.5], [2.0], [0.25, 0.25, 0.5], [1 / 3, 1 / 3, 1 / 3]]


def synthetic_melodies(count: int, seed: int = 1, notes: tuple[int, int] = (24, 64)) -> list[Line]:
    """Diatonic random walks (folded back at two octaves and a half, like a tune's range) in common rhythm cells."""
    rng = np.random.default_rng(seed)
    steps = np.array([-4, -3, -2, -1, 0, 1, 2, 3, 4])
    weights = np.array([0.02, 0.05, 0.13, 0.27, 0.06, 0.27, 0.13, 0.05, 0.02])
    out = []
    for k in range(count):
        n = int(rng.integers(notes[0], notes[1] + 1))
        walk = np.cumsum(rng.choice(steps, size=n, p=weights)) + int(rng.integers(3, 10))
        degrees = np.abs((walk + 17) % 34 - 17)  # reflect at 0 and 17 instead of sticking to a bound
        pitches = 60 + 12 * (degrees // 7) + SCALE[degrees % 7] + int(rng.integers(-5, 6))
        durs: list[float] = []
        while len(durs) < n:
            durs += CELLS[int(rng.choice(len(CELLS), p=[0.3, 0.3, 0.1, 0.1, 0.1, 0.05, 0.05]))]
        d = np.asarray(durs[:n])
        out.append(Line("melody", pitches.astype(np.int16), np.concatenate(([0.0], np.cumsum(d)[:-1])), d))
    return out


def bench_indexing(path: Path, lines: list[Line], batch: int = 5000) -> float:
    works = [Work(f"synthetic/{k}", f"synthetic {k}", "synthetic", "benchmark", [line], BarGrid(), f"{k:064x}")
             for k, line in enumerate(lines)]
    index = ReferenceIndex.open(path, create=True, name="synthetic")
    started = time.perf_counter()
    for i in range(0, len(works), batch):
        index.add_works(works[i:i + batch])
    seconds = time.perf_counter() - started
    index.close()
    return len(works) / seconds


def phrase_notes(line: Line, bars: int = 16) -> list[Note]:
    end = int(np.searchsorted(line.onsets, line.onsets[0] + 4.0 * bars))
    return [Note(int(round((o - line.onsets[0]) * 480)), int(p), max(1, int(round(d * 480))))
            for p, o, d in zip(line.pitches[:end], line.onsets[:end], line.durations[:end])]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--melodies", type=int, default=100_000)
    ap.add_argument("--checks", type=int, default=300)
    args = ap.parse_args()

    print(f"synthesising {args.melodies:,} melodies …")
    lines = synthetic_melodies(args.melodies)
    notes = sum(len(x) for x in lines)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "synthetic.sqlite"
        rate = bench_indexing(path, lines)
        print(f"indexing: {rate:,.0f} melodies/s ({args.melodies:,} melodies, {notes:,} notes, "
              f"{path.stat().st_size / 1e6:.0f} MB file)   [bar: >= 10,000 melodies/s]")

        tracemalloc.start()
        t0 = time.perf_counter()
        guard = Guard([ReferenceIndex.open(path, readonly=True), ReferenceIndex.open(corpus_index_path(), readonly=True)])
        load = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
        print(f"guard load: {load:.1f} s for {guard.melodies:,} melodies (peak traced memory {peak:.0f} MB)")

        with ReferenceIndex.open(corpus_index_path(), readonly=True) as corpus:
            real = [t.line for t in tunes(corpus) if t.line.onsets[-1] >= 64.0]  # at least 16 bars of 4/4
        rng = np.random.default_rng(5)
        fresh = synthetic_melodies(args.checks, seed=99, notes=(64, 96))  # never indexed: like the composer's
        groups = {
            "new phrases (not in the index)": [phrase_notes(x) for x in fresh],
            "copied phrases (corpus excerpts)": [phrase_notes(real[int(k)]) for k in
                                                 rng.choice(len(real), size=args.checks, replace=False)],
        }
        for p in groups["new phrases (not in the index)"][:20]:
            guard.guard_phrase(p)  # warm caches
        for label, phrases in groups.items():
            times, sizes, flagged = [], [], 0
            for p in phrases:
                t0 = time.perf_counter()
                result = guard.guard_phrase(p)
                times.append((time.perf_counter() - t0) * 1000)
                sizes.append(len(p))
                flagged += result.flagged
            times.sort()
            print(f"check a 16-bar phrase against {guard.melodies:,} melodies, {label}: {len(phrases)} phrases of "
                  f"{statistics.median(sizes):.0f} notes (median); median {statistics.median(times):.1f} ms, "
                  f"p95 {times[int(0.95 * len(times))]:.1f} ms, max {times[-1]:.1f} ms; {flagged} flagged   "
                  f"[bar: <= 20 ms median]")
        guard.close()


if __name__ == "__main__":
    main()
