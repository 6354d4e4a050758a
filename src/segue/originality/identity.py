"""How much identity each step of a line carries: a repeated note or a scale run is nobody's tune.

A drone of repeated notes, a timpani part that swings between two pitches, a run up the scale or
a broken triad occur in thousands of works; sharing one proves nothing. So before alignment each
step of the *checked* line gets a weight, and a matched step scores in proportion to it:

* a repeated note (interval 0), and any step inside a stretch of six notes with at most two
  distinct pitches (drones, pedal alternations, trills): :data:`NONE`;
* a step inside a scale run (five or more steps of one or two semitones in one direction) or
  inside five notes that all belong to one major or minor triad (an arpeggio): :data:`LOW`;
* anything else: :data:`FULL`.

The weights are dyadic fractions, so alignment scores stay exact in floating point and the
traceback can compare them with ``==``. Matched steps have the same intervals on both sides, so
weighing the checked line's steps weighs the shared passage.
"""

from __future__ import annotations

import numpy as np

FULL = 1.0
LOW = 0.5
NONE = 0.0

FEW_PITCHES_WINDOW = 6
"""Notes in the window that is judged by its count of distinct pitches."""

SCALE_RUN = 5
"""Steps of one or two semitones in one direction that make a scale run."""

ARPEGGIO_WINDOW = 5
"""Notes that must all belong to one triad to count as a broken chord."""

_TRIADS = np.array([(1 << r) | (1 << (r + third) % 12) | (1 << (r + 7) % 12)
                    for r in range(12) for third in (3, 4)], dtype=np.int64)


def _windows(n_notes: int, width: int) -> np.ndarray:
    """Start indices of every full window of ``width`` notes."""
    return np.arange(max(0, n_notes - width + 1))


def _mark(weights: np.ndarray, starts: np.ndarray, width: int, value: float) -> None:
    """Lower to ``value`` the steps inside windows of ``width`` notes starting at ``starts``."""
    if starts.size == 0:
        return
    cover = np.zeros(weights.size + 1, dtype=np.int64)
    np.add.at(cover, starts, 1)
    np.add.at(cover, np.minimum(starts + width - 1, weights.size), -1)
    inside = np.cumsum(cover)[:-1] > 0
    np.minimum(weights, value, out=weights, where=inside)


def step_weights(pitches: np.ndarray) -> np.ndarray:
    """One weight per step (``len(pitches) - 1``) of a monophonic line: how much it proves."""
    p = np.asarray(pitches, dtype=np.int64)
    n = p.size
    if n < 2:
        return np.zeros(0, np.float64)
    iv = np.diff(p)
    w = np.full(n - 1, FULL)
    # scale runs
    step = (np.abs(iv) >= 1) & (np.abs(iv) <= 2)
    direction = np.sign(iv) * step
    if n - 1 >= SCALE_RUN:
        win = np.lib.stride_tricks.sliding_window_view(direction, SCALE_RUN)
        run = (np.abs(win.sum(axis=1)) == SCALE_RUN)
        _mark(w, np.flatnonzero(run), SCALE_RUN + 1, LOW)
    # broken triads
    if n >= ARPEGGIO_WINDOW:
        bits = np.left_shift(np.int64(1), p % 12)
        win = np.lib.stride_tricks.sliding_window_view(bits, ARPEGGIO_WINDOW)
        mask = np.bitwise_or.reduce(win, axis=1)
        in_triad = ((mask[:, None] & ~_TRIADS[None, :]) == 0).any(axis=1)
        moving = np.lib.stride_tricks.sliding_window_view(iv != 0, ARPEGGIO_WINDOW - 1).sum(axis=1) >= 2
        _mark(w, np.flatnonzero(in_triad & moving), ARPEGGIO_WINDOW, LOW)
    # drones, pedals, trills: few distinct pitches
    if n >= FEW_PITCHES_WINDOW:
        win = np.sort(np.lib.stride_tricks.sliding_window_view(p, FEW_PITCHES_WINDOW), axis=1)
        distinct = 1 + (np.diff(win, axis=1) != 0).sum(axis=1)
        _mark(w, np.flatnonzero(distinct <= 2), FEW_PITCHES_WINDOW, NONE)
    elif np.unique(p).size <= 2:
        w[:] = NONE
    w[iv == 0] = NONE
    return w
