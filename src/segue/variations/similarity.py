"""How far a variation is from its source: one documented number in 0..1, and its parts.

The two melodies are aligned note against note (global alignment, Needleman–Wunsch), so
an added passing note, a dropped note or a fragment costs what it is — one note — instead of
shifting everything after it. Each note is described by three features:

* **interval** — semitones from the previous note (transposition does not matter);
* **rhythm** — its inter-onset interval (the time to the next note; the last note: its length);
* **contour** — the direction of the interval: up, down or repeated.

Matching note *i* of A with note *j* of B costs a weighted sum of three parts, each in 0..1::

    interval  min(|Δsemitones| / 3, 1)         a minor-third difference is a full miss
    rhythm    min(|log2(ioi_a / ioi_b)|, 1)    twice as long or half as long is a full miss
    contour   |sign_a − sign_b| / 2            same direction 0, one repeated 0.5, opposite 1

with weights interval 0.4, rhythm 0.3, contour 0.3; leaving a note unmatched (a gap) costs 1.
Among all alignments we take the cheapest (ties: the shortest), and::

    similarity = 1 − total cost / alignment length
    component  = 1 − (that component's cost + gaps) / alignment length

so ``similarity`` is exactly the weighted sum of the three components, 1 for the same melody
(in any transposition), and symmetric. Bands: ``close`` ≥ 0.7, ``far`` ≤ 0.4, ``medium`` between.

**Contour correlation** (whether the motif stays recognisable) is the Pearson correlation of
the pitches of the matched note pairs of that same alignment: 1 when the line rises and falls
with the source, −1 for an inversion.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from segue.music import Note

WEIGHTS = {"interval": 0.4, "rhythm": 0.3, "contour": 0.3}
"""Weights of the three components (they sum to 1)."""

INTERVAL_SPAN = 3.0
"""Semitones of interval difference that count as a full miss."""

RHYTHM_SPAN = 1.0
"""Octaves of duration ratio (log2) that count as a full miss: a doubling."""

GAP = 1.0
"""Cost of a note left unmatched, in every component."""

CLOSE = 0.7
"""Similarity at or above which a variation is ``close``."""

FAR = 0.4
"""Similarity at or below which a variation is ``far``."""

BANDS = ("close", "medium", "far")


def band_of(value: float) -> str:
    """``close`` (≥ 0.7), ``far`` (≤ 0.4) or ``medium`` (strictly between)."""
    if value >= CLOSE:
        return "close"
    if value <= FAR:
        return "far"
    return "medium"


def in_band(value: float, band: str) -> bool:
    return band_of(value) == band


@dataclass(frozen=True, slots=True)
class Features:
    """Per-note features of a line: pitches, intervals (semitones), inter-onset intervals (ticks)."""

    pitches: np.ndarray
    intervals: np.ndarray
    iois: np.ndarray

    @property
    def contour(self) -> np.ndarray:
        return np.sign(self.intervals)

    def __len__(self) -> int:
        return len(self.pitches)


def features(notes: Sequence[Note]) -> Features:
    """Features of a single line (notes sorted by onset; the first note's interval is 0)."""
    ns = sorted(notes, key=lambda n: (n.start, -n.pitch))
    p = np.array([n.pitch for n in ns], dtype=float)
    iv = np.diff(p, prepend=p[:1]) if len(p) else p
    starts = [n.start for n in ns]
    ioi = [max(b - a, 1) for a, b in zip(starts, starts[1:])] + ([max(ns[-1].duration, 1)] if ns else [])
    return Features(p, iv, np.array(ioi, dtype=float))


@dataclass(frozen=True, slots=True)
class Similarity:
    """Similarity of a variation to a reference (see the module text for the exact definition)."""

    overall: float
    interval: float
    rhythm: float
    contour: float
    contour_correlation: float
    matched: int
    steps: int

    @property
    def band(self) -> str:
        return band_of(self.overall)

    @property
    def recognisable(self) -> bool:
        """Keeps the source's contour (correlation ≥ 0.6): what ``close`` and ``medium`` promise."""
        return self.contour_correlation >= 0.6

    def as_dict(self) -> dict[str, float | int | str]:
        return {"similarity": round(self.overall, 4), "interval": round(self.interval, 4),
                "rhythm": round(self.rhythm, 4), "contour": round(self.contour, 4),
                "contour_correlation": round(self.contour_correlation, 4), "band": self.band,
                "matched_notes": self.matched, "alignment_length": self.steps}

    def __str__(self) -> str:
        return (f"{self.overall:.2f} ({self.band}; interval {self.interval:.2f}, rhythm {self.rhythm:.2f}, "
                f"contour {self.contour:.2f}, contour r {self.contour_correlation:+.2f})")


Pair = tuple[int | None, int | None]
"""One alignment step: (index in A, index in B); None on one side is a gap."""


def _cost_tables(a: Features, b: Features) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ci = np.minimum(np.abs(a.intervals[:, None] - b.intervals[None, :]) / INTERVAL_SPAN, 1.0)
    cr = np.minimum(np.abs(np.log2(a.iois[:, None] / b.iois[None, :])) / RHYTHM_SPAN, 1.0)
    cc = np.abs(a.contour[:, None] - b.contour[None, :]) / 2.0
    return ci, cr, cc


def align(a: Features, b: Features) -> tuple[list[Pair], np.ndarray, np.ndarray, np.ndarray]:
    """The cheapest alignment (ties: shortest, then diagonal first) and the component cost tables."""
    m, n = len(a), len(b)
    ci, cr, cc = _cost_tables(a, b)
    cost = (WEIGHTS["interval"] * ci + WEIGHTS["rhythm"] * cr + WEIGHTS["contour"] * cc).tolist()
    inf = math.inf
    dist = [[inf] * (n + 1) for _ in range(m + 1)]
    size = [[0] * (n + 1) for _ in range(m + 1)]
    move = [[0] * (n + 1) for _ in range(m + 1)]  # 0 diagonal, 1 gap in B (A advances), 2 gap in A
    for i in range(m + 1):
        dist[i][0], size[i][0], move[i][0] = i * GAP, i, 1
    for j in range(n + 1):
        dist[0][j], size[0][j], move[0][j] = j * GAP, j, 2
    eps = 1e-9
    for i in range(1, m + 1):
        row, prev, crow = dist[i], dist[i - 1], cost[i - 1]
        srow, sprev, mrow = size[i], size[i - 1], move[i]
        for j in range(1, n + 1):
            best, bl, bm = prev[j - 1] + crow[j - 1], sprev[j - 1] + 1, 0
            d, s = prev[j] + GAP, sprev[j] + 1
            if d < best - eps or (abs(d - best) <= eps and s < bl):
                best, bl, bm = d, s, 1
            d, s = row[j - 1] + GAP, srow[j - 1] + 1
            if d < best - eps or (abs(d - best) <= eps and s < bl):
                best, bl, bm = d, s, 2
            row[j], srow[j], mrow[j] = best, bl, bm
    pairs: list[Pair] = []
    i, j = m, n
    while i > 0 or j > 0:
        mv = move[i][j] if i > 0 and j > 0 else (1 if i > 0 else 2)
        if mv == 0:
            i, j = i - 1, j - 1
            pairs.append((i, j))
        elif mv == 1:
            i -= 1
            pairs.append((i, None))
        else:
            j -= 1
            pairs.append((None, j))
    pairs.reverse()
    return pairs, ci, cr, cc


def _pearson(x: list[float], y: list[float]) -> float:
    if len(x) < 2:
        return 1.0
    xa, ya = np.asarray(x), np.asarray(y)
    sx, sy = float(xa.std()), float(ya.std())
    if sx < 1e-9 or sy < 1e-9:
        return 1.0 if sx < 1e-9 and sy < 1e-9 else 0.0
    return float(np.clip(np.mean((xa - xa.mean()) * (ya - ya.mean())) / (sx * sy), -1.0, 1.0))


def similarity(a: Sequence[Note] | object, b: Sequence[Note] | object) -> Similarity:
    """Similarity of two single lines (Motifs or note lists) in 0..1, with its components."""
    fa, fb = features(_notes(a)), features(_notes(b))
    if len(fa) == 0 or len(fb) == 0:
        same = len(fa) == len(fb)
        v = 1.0 if same else 0.0
        return Similarity(v, v, v, v, v, 0, 0)
    pairs, ci, cr, cc = align(fa, fb)
    steps = len(pairs)
    gaps = sum(1 for i, j in pairs if i is None or j is None)
    matched = [(i, j) for i, j in pairs if i is not None and j is not None]
    comp = {}
    for name, table in (("interval", ci), ("rhythm", cr), ("contour", cc)):
        miss = sum(float(table[i, j]) for i, j in matched) + gaps * GAP
        comp[name] = max(0.0, 1.0 - miss / steps)
    overall = sum(WEIGHTS[k] * v for k, v in comp.items())
    corr = _pearson([float(fa.pitches[i]) for i, _ in matched], [float(fb.pitches[j]) for _, j in matched])
    return Similarity(float(overall), comp["interval"], comp["rhythm"], comp["contour"], corr, len(matched), steps)


def contour_correlation(a: Sequence[Note] | object, b: Sequence[Note] | object) -> float:
    """Pearson correlation of matched pitches under the similarity alignment (see module text)."""
    return similarity(a, b).contour_correlation


def alignment(a: Sequence[Note] | object, b: Sequence[Note] | object) -> list[Pair]:
    """The note pairs of the similarity alignment (indices into the onset-sorted notes)."""
    return align(features(_notes(a)), features(_notes(b)))[0]


def _notes(x: Sequence[Note] | object) -> Sequence[Note]:
    notes = getattr(x, "notes", x)
    return list(notes)  # type: ignore[arg-type]
