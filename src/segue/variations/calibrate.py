"""Numbers that say whether the metric and the explorer can be trusted (``python -m segue.variations.calibrate``).

1. **What the metric says about unrelated music.** Ten-note windows of the held-out tunes
   (real melodies the style never saw), each against a window of *another* tune: how often
   would chance alone call them close, and how often far?
2. **Whether the explorer meets its requests.** For motifs cut from held-out tunes (their first
   eight notes), every band with several axis combinations: how many variations come back,
   the hit rate of generate-and-select, whether every returned variation is in its band by
   the metric, whether close/medium keep the contour, the largest pairwise similarity in the
   batch, and the time taken.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence

import numpy as np

from segue.music import PPQ, Note
from segue.style import load_heldout
from segue.variations.errors import VariationError
from segue.variations.explore import check_variation, vary
from segue.variations.reading import motif_from_notes
from segue.variations.similarity import CLOSE, FAR, similarity

COMBOS: tuple[tuple[str, str], ...] = (
    ("close", "rhythm"), ("close", "melody"), ("close", "rhythm,harmony"), ("close", "mode"),
    ("medium", "rhythm"), ("medium", "melody"), ("medium", "rhythm,harmony"), ("medium", "rhythm,melody"),
    ("medium", "development"), ("medium", "elaboration"),
    ("far", "development"), ("far", "elaboration"), ("far", "melody,rhythm,development"),
)


def _window(melody: Sequence[tuple[int, float, float]], start: int, size: int) -> list[Note]:
    seg = melody[start:start + size]
    t0 = seg[0][1]
    return [Note(int(round((on - t0) * PPQ)), int(p), max(1, int(round(d * PPQ)))) for p, on, d in seg]


def unrelated_pairs(pairs: int = 2000, size: int = 10, seed: int = 7) -> dict[str, float]:
    """Similarity of windows of different held-out tunes (what chance alone scores)."""
    rng = np.random.default_rng(seed)
    mels = [m for m in load_heldout() if len(m) >= size]
    wins = [_window(m, int(rng.integers(0, len(m) - size + 1)), size) for m in mels]
    values, corr = [], []
    for a, b in itertools.islice(itertools.combinations(range(len(wins)), 2), pairs):
        s = similarity(wins[a], wins[b])
        values.append(s.overall)
        corr.append(s.contour_correlation)
    v = np.array(values)
    return {"pairs": float(len(v)), "median": float(np.median(v)), "p95": float(np.percentile(v, 95)),
            "share_close": float(np.mean(v >= CLOSE)), "share_far": float(np.mean(v <= FAR)),
            "share_contour_kept": float(np.mean(np.array(corr) >= 0.6))}


def explorer_rates(motifs: int = 6, n: int = 8, combos: Sequence[tuple[str, str]] = COMBOS) -> list[dict[str, object]]:
    """Band hit rates, diversity and timings of :func:`vary` on motifs cut from held-out tunes."""
    mels = [m for m in load_heldout() if len(m) >= 12][:motifs]
    sources = [motif_from_notes(_window(m, 0, 8), name=f"heldout{i}") for i, m in enumerate(mels)]
    rows = []
    for band, axes in combos:
        got = wanted = generated = in_band = off_band = lost = broken = diverse = 0
        worst_pair = 0.0
        seconds = 0.0
        failures = 0
        for src in sources:
            t = time.perf_counter()
            try:
                batch = vary(src, n, axes, band, seed=1)
            except VariationError:
                failures += 1
                continue
            seconds += time.perf_counter() - t
            wanted += n
            got += len(batch.variations)
            generated += batch.generated
            in_band += batch.in_band
            diverse += int(batch.diverse)
            worst_pair = max(worst_pair, batch.max_pairwise)
            for v in batch.variations:
                s = similarity(src, v.motif)
                off_band += int(s.band != band)
                lost += int(band != "far" and s.contour_correlation < 0.6)
                broken += int(bool(check_variation(v, batch.low, batch.high)))
        rows.append({"band": band, "axes": axes, "returned": f"{got}/{wanted}",
                     "hit_rate": round(in_band / generated, 3) if generated else 0.0,
                     "off_band": off_band, "contour_lost": lost, "constraint_breaks": broken,
                     "diverse_batches": f"{diverse}/{len(sources) - failures}", "max_pairwise": round(worst_pair, 3),
                     "impossible": failures, "seconds_per_batch": round(seconds / max(len(sources) - failures, 1), 3)})
    return rows


def main() -> None:
    u = unrelated_pairs()
    print("unrelated held-out windows (10 notes):",
          ", ".join(f"{k} {v:.3f}" if k != "pairs" else f"{k} {int(v)}" for k, v in u.items()))
    print(f"{'band':7} {'axes':28} {'returned':>9} {'hit':>6} {'off':>4} {'lost':>5} {'broken':>6} "
          f"{'diverse':>8} {'maxpair':>8} {'imposs':>6} {'s/batch':>8}")
    for r in explorer_rates():
        print(f"{r['band']:7} {r['axes']:28} {r['returned']:>9} {r['hit_rate']:>6} {r['off_band']:>4} "
              f"{r['contour_lost']:>5} {r['constraint_breaks']:>6} {r['diverse_batches']:>8} "
              f"{r['max_pairwise']:>8} {r['impossible']:>6} {r['seconds_per_batch']:>8}")


if __name__ == "__main__":
    main()
