"""``python -m segue.originality.calibrate``: re-measure the operating point on the shipped corpus.

Prints the distributions that ``docs/originality.md`` quotes: planted copies per kind of
alteration, random pairs of different works, and each work's nearest *other* work in the
corpus, then recall and false-positive rates at a range of thresholds.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from segue.originality.calibration import KINDS, different_pairs, nearest_other_work, planted_cases, tunes
from segue.originality.locations import corpus_index_path
from segue.originality.search import Guard
from segue.originality.store import ReferenceIndex
from segue.originality.verdict import DEFAULT_THRESHOLDS

PCTS = (1, 5, 10, 25, 50, 75, 90, 95, 99)


def _row(name: str, xs: np.ndarray) -> str:
    return f"| {name:<28} | {xs.size:>5} | " + " | ".join(f"{v:.2f}" for v in np.percentile(xs, PCTS)) + " |"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-kind", type=int, default=500)
    ap.add_argument("--pairs", type=int, default=2000)
    ap.add_argument("--nearest", type=int, default=1000)
    args = ap.parse_args(argv)
    started = time.perf_counter()
    index = ReferenceIndex.open(corpus_index_path(), readonly=True)
    guard = Guard([index])
    pool = tunes(index)
    cases = planted_cases(guard, pool, args.per_kind)
    pairs = np.asarray(different_pairs(pool, args.pairs))
    near = np.asarray(nearest_other_work(guard, pool, args.nearest))
    print(f"corpus: {guard.infos[0].works} works, {guard.melodies} lines; {len(pool)} tunes of ≥ 24 notes\n")
    print("| distribution                 |     n | " + " | ".join(f"p{p}" for p in PCTS) + " |")
    print("|---|---|" + "---|" * len(PCTS))
    for kind in KINDS:
        print(_row(f"planted: {kind}", np.asarray([c.score for c in cases if c.kind == kind])))
    planted = np.asarray([c.score for c in cases])
    print(_row("planted: all", planted))
    print(_row("different works (pairs)", pairs))
    print(_row("nearest other work (corpus)", near))
    hist, edges = np.histogram(near, bins=np.linspace(0, 1, 21))
    print("\nnearest other work, histogram (bins of 0.05):")
    print(" ".join(f"{e:.2f}:{h}" for e, h in zip(edges, hist)))
    print("\n| threshold | planted flagged | different pairs flagged | nearest other work flagged |")
    print("|---|---|---|---|")
    for t in (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95):
        print(f"| {t:.2f} | {np.mean(planted >= t):.1%} | {np.mean(pairs >= t):.1%} | {np.mean(near >= t):.1%} |")
    th = DEFAULT_THRESHOLDS.similar
    found = np.mean([c.source_found for c in cases])
    per_kind = ", ".join(f"{k} {np.mean([c.score >= th for c in cases if c.kind == k]):.1%}" for k in KINDS)
    print(f"\nat {th}: planted recall by kind: {per_kind}; largest different-pair similarity {pairs.max():.2f}")
    print(f"\noperating point {th}: planted recall {np.mean(planted >= th):.1%} (source work itself found in "
          f"{found:.1%}), different pairs flagged {np.mean(pairs >= th):.2%}, nearest other work flagged "
          f"{np.mean(near >= th):.1%}; {time.perf_counter() - started:.0f} s")
    guard.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
