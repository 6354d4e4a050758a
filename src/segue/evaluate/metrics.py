"""Per-piece metrics of QUALITY.md §2.

Each metric is one small function with its definition in the docstring, so the number in a
report can be traced to a sentence. :func:`piece_metrics` runs them all. The metrics follow
MusPy / mgeval where those define them, and say so where Segue differs and why.

An empty piece (no notes) measures 0 on everything except ``empty_beat_rate``, which is 1: a
silent output is a degenerate piece and must look like one, not crash the report.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np

from segue.evaluate.errors import PieceError
from segue.evaluate.piece import (
    EPS,
    PieceNotes,
    grid_index,
    grid_steps_per_bar,
    piece_length_beats,
    skyline,
    validate_piece,
)
from segue.music import MODES

METRIC_NAMES: tuple[str, ...] = (
    "pitch_class_entropy",
    "scale_consistency",
    "pitch_range",
    "notes_per_beat",
    "polyphony",
    "empty_beat_rate",
    "groove_consistency",
    "mean_interval",
    "stepwise_share",
    "bar_repetition",
)
"""The metrics of :func:`piece_metrics`, in report order."""

PHRASE_BARS = 4
"""Bars per phrase for :func:`bar_repetition`: the common 4-bar phrase of tonal music."""

CLOSE_REPEAT = 0.75
"""A bar "repeats" an earlier one when at least this share of its notes match (see :func:`bar_similarity`)."""

_SCALES: tuple[frozenset[int], ...] = tuple(
    frozenset((tonic + step) % 12 for step in MODES[mode]) for mode in ("major", "minor") for tonic in range(12)
)


def pitch_class_entropy(notes: PieceNotes) -> float:
    """Shannon entropy, in bits, of the pitch-class histogram (each note counts once, as in MusPy).

    0 for one repeated pitch class; log2(12) ≈ 3.585 when all twelve are equally common. Tonal
    music sits in between (a diatonic melody is at most log2(7) ≈ 2.81).
    """
    if not notes:
        return 0.0
    counts = np.bincount([p % 12 for p, _, _ in notes], minlength=12).astype(float)
    probs = counts[counts > 0] / counts.sum()
    return float(-(probs * np.log2(probs)).sum()) + 0.0


def scale_consistency(notes: PieceNotes, key_pcs: frozenset[int] | None = None) -> float:
    """Share of notes whose pitch class lies in the scale.

    With ``key_pcs`` given (the key the piece was asked for) it is the share inside that set;
    otherwise the best share over the 24 major and natural-minor scales (MusPy's definition), so
    a piece is judged against the key it actually sounds in.
    """
    if not notes:
        return 0.0
    pcs = Counter(p % 12 for p, _, _ in notes)
    scales = (key_pcs,) if key_pcs is not None else _SCALES
    best = max(sum(c for pc, c in pcs.items() if pc in scale) for scale in scales)
    return best / len(notes)


def pitch_range(notes: PieceNotes) -> float:
    """Highest minus lowest pitch, in semitones (0 for a single pitch)."""
    if not notes:
        return 0.0
    pitches = [p for p, _, _ in notes]
    return float(max(pitches) - min(pitches))


def notes_per_beat(notes: PieceNotes, length_beats: float) -> float:
    """Note onsets per beat over the piece's length (whole bars from time 0, see :func:`piece_length_beats`)."""
    return len(notes) / length_beats if length_beats > 0 else 0.0


def polyphony(notes: PieceNotes) -> float:
    """Mean number of notes sounding at each distinct onset time.

    Counted at onsets (not on a time grid) so rests do not dilute it: 1.0 for a melody, about 3
    for block chords, more for a melody over sustained chords. A note that is still held when
    another starts counts at that onset.
    """
    if not notes:
        return 0.0
    starts = np.sort(np.array([o for _, o, _ in notes]))
    ends = np.sort(np.array([o + d for _, o, d in notes]))
    times = np.unique(np.round(starts / EPS)) * EPS + EPS
    # sounding at t = started by t − ended by t (both counted with sorted search: O(n log n))
    sounding = np.searchsorted(starts, times, side="right") - np.searchsorted(ends, times, side="right")
    return float(sounding.mean())


def empty_beat_rate(notes: PieceNotes, length_beats: float) -> float:
    """Share of beats in which nothing sounds at all.

    Unlike MusPy, which counts beats without an *onset*, a beat covered by a held note is not
    empty here: a whole note is one sound lasting four beats, not one sound and three silences.
    """
    n_beats = int(math.ceil(length_beats - EPS)) if length_beats > 0 else 0
    if n_beats == 0:
        return 1.0
    covered = np.zeros(n_beats, dtype=bool)
    for _, onset, duration in notes:
        first = int(math.floor(onset + EPS))
        last = int(math.ceil(onset + duration - EPS))  # exclusive
        covered[first:min(last, n_beats)] = True
    return float(1.0 - covered.mean())


def _bar_count(length_beats: float, beats_per_bar: float) -> int:
    """Bars needed to hold ``length_beats`` (a partial last bar counts as a bar)."""
    return max(1, math.ceil(length_beats / beats_per_bar - EPS))


def _bar_onset_patterns(notes: PieceNotes, length_beats: float, beats_per_bar: float) -> np.ndarray:
    """Boolean matrix bars × sixteenth steps: where notes start."""
    steps = grid_steps_per_bar(beats_per_bar)
    n_bars = _bar_count(length_beats, beats_per_bar)
    grid = np.zeros((n_bars, steps), dtype=bool)
    for _, onset, _ in notes:
        bar, step = divmod(grid_index(onset), steps)
        if bar < n_bars:
            grid[bar, step] = True
    return grid


def groove_consistency(notes: PieceNotes, length_beats: float, beats_per_bar: float = 4) -> float:
    """1 − mean Hamming distance between the onset patterns of neighbouring bars (MusPy).

    Each bar is a vector of sixteenth-note steps marked where a note starts; the Hamming distance
    of two bars is the share of steps where they differ. 1.0 means every bar has the same rhythm
    (also true of a one-bar piece); values near 0 mean every bar's rhythm is the opposite of the last.
    """
    if not notes:
        return 0.0
    grid = _bar_onset_patterns(notes, length_beats, beats_per_bar)
    if len(grid) < 2:
        return 1.0
    distances = (grid[1:] != grid[:-1]).mean(axis=1)
    return float(1.0 - distances.mean())


def melodic_intervals(notes: PieceNotes) -> list[int]:
    """Semitone steps between consecutive notes of the top voice (:func:`~segue.evaluate.piece.skyline`)."""
    line = skyline(notes)
    return [b[0] - a[0] for a, b in zip(line, line[1:])]


def mean_interval(notes: PieceNotes) -> float:
    """Mean absolute interval, in semitones, between consecutive notes of the top voice (0 if < 2 notes)."""
    intervals = melodic_intervals(notes)
    return float(np.mean(np.abs(intervals))) if intervals else 0.0


def stepwise_share(notes: PieceNotes) -> float:
    """Share of top-voice intervals that are steps: 1 or 2 semitones up or down.

    Repeated notes (0) are not steps and leaps (≥ 3) are not steps; 0 if the top voice has < 2 notes.
    """
    intervals = melodic_intervals(notes)
    if not intervals:
        return 0.0
    return sum(1 for i in intervals if 1 <= abs(i) <= 2) / len(intervals)


def bar_similarity(a: frozenset[tuple[int, int]], b: frozenset[tuple[int, int]]) -> float:
    """How far bar ``b`` repeats bar ``a``, transposition-invariant, in 0..1.

    A bar is the set of its notes as ``(sixteenth step within the bar, pitch)``. The similarity is
    the best, over all transpositions of ``b``, of the number of notes that land on the same step
    and pitch as a note of ``a``, divided by the larger bar's note count. 1.0 is an exact
    (possibly transposed) repeat; a sequence a step higher is also 1.0.
    """
    if not a or not b:
        return 0.0
    a_pitches = {p for _, p in a}
    shifts = {pa - pb for pa in a_pitches for _, pb in b}
    best = 0
    for shift in shifts:
        best = max(best, sum(1 for step, p in b if (step, p + shift) in a))
    return best / max(len(a), len(b))


def bar_repetition(notes: PieceNotes, length_beats: float, beats_per_bar: float = 4) -> float:
    """Share of bars that repeat, exactly or closely, an earlier bar of their 4-bar phrase.

    Bars are grouped into phrases of :data:`PHRASE_BARS` bars from the start (bars 1–4, 5–8 …).
    Each bar after the first of its phrase that has notes is a candidate; it counts as a repeat
    when :func:`bar_similarity` with some earlier non-empty bar of the same phrase is at least
    :data:`CLOSE_REPEAT` (three quarters of its notes match in step and transposed pitch). The
    metric is repeats / candidates; 0 when there are no candidates. Motivic repetition within a
    phrase is what makes a melody memorable; random notes almost never do it, one repeated note
    does it always.
    """
    if not notes:
        return 0.0
    steps = grid_steps_per_bar(beats_per_bar)
    n_bars = _bar_count(length_beats, beats_per_bar)
    bars: list[set[tuple[int, int]]] = [set() for _ in range(n_bars)]
    for pitch, onset, _ in notes:
        bar, step = divmod(grid_index(onset), steps)
        bars[min(bar, n_bars - 1)].add((step, pitch))
    frozen = [frozenset(b) for b in bars]
    candidates = repeats = 0
    for index, bar in enumerate(frozen):
        position = index % PHRASE_BARS
        if position == 0 or not bar:
            continue
        candidates += 1
        earlier = (frozen[i] for i in range(index - position, index))
        if any(e and bar_similarity(e, bar) >= CLOSE_REPEAT for e in earlier):
            repeats += 1
    return repeats / candidates if candidates else 0.0


def piece_metrics(
    notes: Sequence[tuple[int, float, float]],
    beats_per_bar: float = 4,
    key_pcs: frozenset[int] | None = None,
    *,
    length_beats: float | None = None,
) -> dict[str, float]:
    """All QUALITY.md §2 metrics of one piece, keyed by :data:`METRIC_NAMES`.

    ``notes`` are ``(pitch, onset, duration)`` in quarters, ``beats_per_bar`` quarters per bar.
    ``key_pcs`` restricts ``scale_consistency`` to the requested key. ``length_beats`` overrides
    the length inferred from the notes (whole bars up to the last note's end) when the caller
    knows the piece is longer, e.g. it ends in silent bars. Raises
    :class:`~segue.evaluate.errors.PieceError` on malformed notes.
    """
    clean = validate_piece(notes, beats_per_bar)
    length = piece_length_beats(clean, beats_per_bar)
    if length_beats is not None:
        if not (math.isfinite(length_beats) and length_beats >= 0):
            raise PieceError(f"length_beats must be a finite number ≥ 0, got {length_beats!r}")
        length = max(length, float(length_beats))
    return {
        "pitch_class_entropy": pitch_class_entropy(clean),
        "scale_consistency": scale_consistency(clean, key_pcs),
        "pitch_range": pitch_range(clean),
        "notes_per_beat": notes_per_beat(clean, length),
        "polyphony": polyphony(clean),
        "empty_beat_rate": empty_beat_rate(clean, length),
        "groove_consistency": groove_consistency(clean, length, beats_per_bar),
        "mean_interval": mean_interval(clean),
        "stepwise_share": stepwise_share(clean),
        "bar_repetition": bar_repetition(clean, length, beats_per_bar),
    }
