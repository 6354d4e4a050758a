"""Small operations on lines of scale degrees that every axis needs: timing, register, checks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from segue.compose.melody import MotifNote, clamp_to_bounds, degree_bounds
from segue.music import Key
from segue.variations.motif import GRID, Line


def ordered(line: Sequence[MotifNote]) -> Line:
    return sorted(line, key=lambda n: (n.onset, n.degree))


def iois(line: Sequence[MotifNote]) -> list[int]:
    """Time from each onset to the next; the last note: its own length."""
    ln = ordered(line)
    return [b.onset - a.onset for a, b in zip(ln, ln[1:])] + ([ln[-1].duration] if ln else [])


def line_end(line: Sequence[MotifNote]) -> int:
    return max((n.onset + n.duration for n in line), default=0)


def snap(ticks: float) -> int:
    """Nearest grid point (1/12 beat)."""
    return int(round(ticks / GRID)) * GRID


def retime(line: Sequence[MotifNote], onsets: Sequence[int], last_duration: int | None = None) -> Line:
    """Give the line's notes (in order) new onsets; each note keeps its share of articulation.

    A note that was held to the next one stays legato; one followed by a rest keeps the same
    proportion of sound to silence. Why: rhythm variations should change *when* notes start,
    not turn a detached line into a slur or the other way round.
    """
    ln = ordered(line)
    old = iois(ln)
    out: Line = []
    for i, (n, on) in enumerate(zip(ln, onsets)):
        if i + 1 < len(onsets):
            gap = onsets[i + 1] - on
            share = min(n.duration / old[i], 1.0) if old[i] > 0 else 1.0
            dur = gap if share >= 0.9 else max(GRID, min(gap, snap(gap * share)))
        else:
            dur = last_duration if last_duration is not None else n.duration
        out.append(MotifNote(int(on), max(int(dur), GRID), n.degree))
    return dedupe(out)


def dedupe(line: Sequence[MotifNote]) -> Line:
    """One note per onset (the later-listed wins), durations cut at the next onset."""
    by_onset: dict[int, MotifNote] = {}
    for n in line:
        by_onset[n.onset] = n
    ln = [by_onset[t] for t in sorted(by_onset)]
    out: Line = []
    for i, n in enumerate(ln):
        if i + 1 < len(ln) and n.onset + n.duration > ln[i + 1].onset:
            n = replace(n, duration=ln[i + 1].onset - n.onset)
        out.append(n)
    return [n for n in out if n.duration > 0 and n.onset >= 0]


def scale_time(line: Sequence[MotifNote], factor: float, origin: int = 0) -> Line:
    """Augmentation (factor 2) or diminution (0.5) about ``origin``, snapped to the grid."""
    return dedupe([MotifNote(origin + snap((n.onset - origin) * factor), max(GRID, snap(n.duration * factor)),
                             n.degree) for n in line])


def fit_register(line: Sequence[MotifNote], key: Key, low: int, high: int) -> Line:
    """Move by octaves (then fold stragglers) so every pitch lies in ``[low, high]``."""
    if not line:
        return []
    return clamp_to_bounds(list(line), degree_bounds(key, low, high))


def shift_to_start(line: Sequence[MotifNote], bar: int) -> Line:
    """Move a line by whole bars so its first note lies in the first bar."""
    if not line:
        return []
    first = min(n.onset for n in line)
    shift = first // bar * bar if first >= 0 else -((-first + bar - 1) // bar) * bar
    return [replace(n, onset=n.onset - shift) for n in line]
