"""Local alignment (Smith–Waterman) of two lines' tokens: how long a passage they share, and where.

Shared keys only say that two tunes use some of the same figures; a copy shares a *long run* of
steps in the same order, with perhaps a changed note, an added ornament or another rhythm here
and there. Local alignment finds the best such run anywhere in both lines and tolerates exactly
those edits.

Scoring, per step of the checked line with identity weight ``w``
(:func:`segue.originality.identity.step_weights`: 1 for a step with identity, less for repeated
notes, drones, scale runs and broken chords):

* same interval and same duration ratio: ``+2w`` — the same step;
* same interval, other ratio: ``+1.75w`` — a copy in other note values is still the tune
  (courts compare pitch sequences first; "all notes equal" must not hide a copy);
* another interval: ``-2``; a note of the work left out: ``-2``; a note added in the checked line
  (an ornament, a passing note, a note split in two): ``-1`` — adding notes is how a copy is
  most often disguised, and it leaves the tune's own notes in place.

A matched step counts only where the checked line's step lies inside a five-note figure (a
retrieval key) that the other line also has: elsewhere it scores 0, like a repeated note (the
``mask`` of :func:`best_scores`, made by :func:`segue.originality.figures.pair_mask`). Stock
fragments of two or three intervals strung together are what any two tunes of one tradition
share; and a line with no key in common — one the index cannot propose — scores exactly 0.

One altered note changes two intervals (into and out of it), so it costs a copy about 8 points,
four notes' worth; a different tune drifts away within a few notes.

The raw score becomes a similarity in two steps. First it is divided by what a perfect copy of
:data:`WINDOW` steps would score (when a line is shorter than the window its own length counts,
but never less than :data:`MIN_WINDOW`, so a short formula cannot score 1): the *coverage* ``x``.
Then ``x`` is calibrated on the labelled benchmark (``benchmarks/bench_originality_labelled.py``)
by a piecewise-linear map with two knots: :data:`FLOOR` — what unrelated tunes reach by chance
(stock figures; the different-work pairs' 99th percentile) — maps to 0, and :data:`EVIDENCE` —
above every different-work pair, below 95% of every kind of disguised copy — maps to 0.5, the
``similar`` threshold; a copy of WINDOW steps, outright, is 1. So 0 means "nothing beyond what
any two tunes share", 0.5 "as close as a disguised copy", 1 "copied note for note".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

MATCH = 2.0
RHYTHM_CHANGED = 1.75
MISMATCH = -2.0
GAP = 2.0  # subtracted: a note of the work that the checked line leaves out
ADDED = 1.0  # subtracted: a note the checked line adds (an ornament, a split note: the usual disguise)

WINDOW = 24
"""Steps (≈ 25 notes, 3-6 bars of a tune) that a copied passage must span to score 1.0."""

MIN_WINDOW = 20
"""The normaliser never drops below this, so a short phrase must match in full to score ≥ 16/WINDOW of it."""

FLOOR = 0.45
"""Coverage that unrelated tunes reach by chance (stock figures): similarity 0 at and below it."""

EVIDENCE = 0.5
"""Coverage above every different-work pair of the benchmark and below 95% of each kind of
disguised copy: similarity 0.5 (the ``similar`` threshold) here."""


def calibrated(x: float | np.ndarray) -> np.ndarray:
    """Coverage (share of a perfect window) → graded similarity: 0 at FLOOR, 0.5 at EVIDENCE, 1 at 1."""
    return np.interp(np.asarray(x, dtype=np.float64), [FLOOR, EVIDENCE, 1.0], [0.0, 0.5, 1.0])


def similarity(raw: float | np.ndarray, n_query: int, n_ref: int | np.ndarray) -> np.ndarray:
    """Raw alignment score → graded similarity 0..1, given both lines' token counts."""
    window = np.clip(np.minimum(n_query, n_ref), MIN_WINDOW, WINDOW)
    return calibrated(np.asarray(raw, dtype=np.float64) / (MATCH * window))


def _substitution(q_iv: int, q_r: int, q_w: float, t_iv: np.ndarray, t_r: np.ndarray,
                  counts: np.ndarray | None = None) -> np.ndarray:
    """One query step against many target steps; with ``counts`` (the evidence mask's row), a step
    that matches where no shared figure vouches for it scores 0, like a repeated note."""
    gain = np.where(t_r == q_r, MATCH * q_w, RHYTHM_CHANGED * q_w)
    if counts is not None and q_w != 0:
        gain *= counts
    return np.where(t_iv == q_iv, gain, MISMATCH)


def _weights(q_iv: np.ndarray, q_w: np.ndarray | None) -> np.ndarray:
    return np.ones(q_iv.size) if q_w is None else np.asarray(q_w, dtype=np.float64)


def best_scores(q_iv: np.ndarray, q_r: np.ndarray, t_iv: np.ndarray, t_r: np.ndarray,
                bounds: np.ndarray, q_w: np.ndarray | None = None, mask: np.ndarray | None = None) -> np.ndarray:
    """Best local-alignment score of the query against each of many targets laid back to back.

    ``bounds`` are the targets' start indices plus the total length; ``q_w`` the query's step
    weights (all 1 if not given); ``mask`` (query steps × target steps, optional) which matched
    steps count at all — the shared figures of :mod:`~segue.originality.figures`; a matched step
    outside them scores 0, like a repeated note. All targets are aligned in one pass over the query (one numpy
    row per query token), which is what makes checking a phrase against dozens of candidates
    take a few milliseconds. Horizontal gaps use the running-maximum form of the recurrence; a
    large per-target offset stops a gap path from running from one target into the next.
    """
    n = t_iv.size
    k = bounds.size - 1
    if n == 0 or q_iv.size == 0 or k <= 0:
        return np.zeros(max(k, 0), dtype=np.float64)
    w = _weights(q_iv, q_w)
    if 2 * int(np.diff(bounds).max()) < q_iv.size:  # a whole layer against short lines: loop over them instead
        return _best_scores_by_column(q_iv, q_r, w, t_iv, t_r, bounds, mask)
    seg = np.repeat(np.arange(k, dtype=np.int64), np.diff(bounds))
    starts = bounds[:-1][np.diff(bounds) > 0]
    col = np.arange(n, dtype=np.float64)
    big = (GAP + MATCH) * (n + q_iv.size + 4)
    offset = GAP * col + seg * big  # strictly separates targets in the running maximum
    prev = np.zeros(n, dtype=np.float64)
    best = np.zeros(n, dtype=np.float64)
    diag = np.zeros(n, dtype=np.float64)
    for i in range(q_iv.size):
        s = _substitution(int(q_iv[i]), int(q_r[i]), float(w[i]), t_iv, t_r, None if mask is None else mask[i])
        diag[1:] = prev[:-1]
        diag[starts] = 0
        a = np.maximum(np.maximum(diag + s, prev - ADDED), 0)
        prev = np.maximum.accumulate(a + offset) - offset
        np.maximum(best, prev, out=best)
    out = np.zeros(k, dtype=np.float64)
    nonempty = np.diff(bounds) > 0
    out[nonempty] = np.maximum.reduceat(best, starts)
    return out


def _best_scores_by_column(q_iv: np.ndarray, q_r: np.ndarray, w: np.ndarray, t_iv: np.ndarray, t_r: np.ndarray,
                           bounds: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """The same scores as :func:`best_scores`, looping over the targets' steps instead of the query's.

    Checking a finished layer (hundreds of steps) against candidate lines of a few dozen steps
    would take one numpy pass per query step; here it takes one per target step, all targets
    and all query steps at once (targets padded with steps that never match: padding can only
    lower a score, so the maxima are exactly those of the row-wise pass).
    """
    k, m = bounds.size - 1, q_iv.size
    lengths = np.diff(bounds)
    width = int(lengths.max())
    pad_iv = np.full((k, width), np.iinfo(np.int16).min, dtype=np.int64)
    pad_r = np.zeros((k, width), dtype=np.int64)
    row = np.repeat(np.arange(k), lengths)
    col = np.arange(t_iv.size) - np.repeat(bounds[:-1], lengths)
    pad_iv[row, col] = t_iv
    pad_r[row, col] = t_r
    counts = None  # (targets, their steps, query steps): which matched steps count (padding: none)
    if mask is not None:
        counts = np.zeros((k, width, m), dtype=bool)
        counts[row, col] = mask.T
    qi = q_iv.astype(np.int64)[None, :]
    qr = q_r.astype(np.int64)[None, :]
    full, changed = (MATCH * w)[None, :], (RHYTHM_CHANGED * w)[None, :]
    up = ADDED * np.arange(m, dtype=np.float64)[None, :]
    prev = np.zeros((k, m))
    best = np.zeros(k)
    diag = np.zeros((k, m))
    for j in range(width):
        tj, rj = pad_iv[:, j:j + 1], pad_r[:, j:j + 1]
        f, c = (full, changed) if counts is None else (full * counts[:, j], changed * counts[:, j])
        s = np.where(qi == tj, np.where(qr == rj, f, c), MISMATCH)
        diag[:, 1:] = prev[:, :-1]
        diag[:, 0] = 0.0
        a = np.maximum(np.maximum(diag + s, prev - GAP), 0.0)
        prev = np.maximum.accumulate(a + up, axis=1) - up
        np.maximum(best, prev.max(axis=1), out=best)
    return best


@dataclass(frozen=True, slots=True)
class Alignment:
    """The best shared passage: token ranges ``[q_from, q_to]`` and ``[t_from, t_to]`` (inclusive)."""

    raw: float
    q_from: int
    q_to: int
    t_from: int
    t_to: int
    matches: int  # steps with the same interval

    @property
    def steps(self) -> int:
        return max(self.q_to - self.q_from, self.t_to - self.t_from) + 1


def align(q_iv: np.ndarray, q_r: np.ndarray, t_iv: np.ndarray, t_r: np.ndarray,
          q_w: np.ndarray | None = None, mask: np.ndarray | None = None) -> Alignment | None:
    """Best local alignment of two token sequences, with where it lies (traceback); None if nothing matches.

    The same scores as :func:`best_scores` (``mask``: query steps × target steps, optional)."""
    m, n = q_iv.size, t_iv.size
    if m == 0 or n == 0:
        return None
    w = _weights(q_iv, q_w)
    h = np.zeros((m + 1, n + 1), dtype=np.float64)
    subst = np.zeros((m + 1, n + 1), dtype=np.float64)
    col = np.arange(n + 1, dtype=np.float64)
    for i in range(1, m + 1):
        subst[i, 1:] = _substitution(int(q_iv[i - 1]), int(q_r[i - 1]), float(w[i - 1]), t_iv, t_r,
                                     None if mask is None else mask[i - 1])
        a = np.zeros(n + 1, dtype=np.float64)
        a[1:] = np.maximum(np.maximum(h[i - 1, :-1] + subst[i, 1:], h[i - 1, 1:] - ADDED), 0)
        h[i] = np.maximum.accumulate(a + GAP * col) - GAP * col
    i, j = np.unravel_index(int(np.argmax(h)), h.shape)
    raw = float(h[i, j])
    if raw <= 0:
        return None
    q_to, t_to = i - 1, j - 1
    matches = 0
    while i > 0 and j > 0 and h[i, j] > 0:
        s = subst[i, j]
        if h[i, j] == h[i - 1, j - 1] + s:
            matches += bool(q_iv[i - 1] == t_iv[j - 1])
            i, j = i - 1, j - 1
            if h[i, j] == 0:
                break
        elif h[i, j] == h[i - 1, j] - ADDED:
            i -= 1
        else:
            j -= 1
    return Alignment(raw, int(i), int(q_to), int(j), int(t_to), matches)


def concat(parts: Sequence[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Targets ``[(intervals, ratios), …]`` back to back, with their bounds, for :func:`best_scores`."""
    lengths = np.fromiter((p[0].size for p in parts), dtype=np.int64, count=len(parts))
    bounds = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    if not parts:
        return np.zeros(0, np.int16), np.zeros(0, np.int8), bounds
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]), bounds
