"""The piece as the evaluation library sees it, and the shared geometry of bars and beats.

A piece is a plain list of ``(pitch, onset_quarters, duration_quarters)`` tuples — the same
format as the held-back corpus pieces — so the measurements need nothing from the composer and
can be checked on hand-made examples. Time is in quarter notes; ``beats_per_bar`` counts quarter
notes per bar (4 for 4/4, 3 for 3/4 *and* for 6/8), because that is the unit the onsets are in.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from segue.evaluate.errors import PieceError
from segue.music import PPQ, Note

PieceNotes = list[tuple[int, float, float]]
"""One piece: ``(MIDI pitch, onset in quarters, duration in quarters)`` per note; overlaps allowed."""

GRID_PER_BEAT = 4
"""Sixteenth-note grid (four steps per quarter) used for rhythm patterns, as in MusPy."""

EPS = 1e-6
"""Tolerance in quarters: float onsets that differ by less than this are the same moment."""


def validate_piece(notes: Sequence[tuple[int, float, float]], beats_per_bar: float = 4) -> PieceNotes:
    """Return ``notes`` as a clean, time-sorted :data:`PieceNotes`, or raise :class:`PieceError`.

    Checking once here means every metric can trust its input instead of producing a quiet NaN.
    """
    if not (isinstance(beats_per_bar, (int, float)) and math.isfinite(beats_per_bar) and beats_per_bar > 0):
        raise PieceError(f"beats_per_bar must be a positive number, got {beats_per_bar!r}")
    clean: PieceNotes = []
    for i, item in enumerate(notes):
        try:
            pitch, onset, duration = item
            pitch_i, onset_f, duration_f = int(pitch), float(onset), float(duration)
        except (TypeError, ValueError) as exc:
            raise PieceError(f"note {i}: expected (pitch, onset, duration), got {item!r}") from exc
        if pitch_i != pitch or not 0 <= pitch_i <= 127:
            raise PieceError(f"note {i}: pitch must be an integer in 0..127, got {pitch!r}")
        if not (math.isfinite(onset_f) and onset_f >= 0):
            raise PieceError(f"note {i}: onset must be a finite number ≥ 0, got {onset!r}")
        if not (math.isfinite(duration_f) and duration_f > 0):
            raise PieceError(f"note {i}: duration must be a finite number > 0, got {duration!r}")
        clean.append((pitch_i, onset_f, duration_f))
    clean.sort(key=lambda n: (n[1], n[0], n[2]))
    return clean


def piece_length_beats(notes: Sequence[tuple[int, float, float]], beats_per_bar: float = 4) -> float:
    """Length of the piece in beats: from time 0 to the end of the bar in which the last note ends.

    Whole bars, because a piece is written in bars: a melody whose last note ends on beat 3 of
    bar 4 is a four-bar piece, and its final rest is part of it. An empty piece has length 0.
    """
    if not notes:
        return 0.0
    last_end = max(onset + duration for _, onset, duration in notes)
    bars = max(1, math.ceil(last_end / beats_per_bar - EPS))
    return bars * beats_per_bar


def grid_steps_per_bar(beats_per_bar: float) -> int:
    """Sixteenth-note steps in one bar (16 in 4/4, 12 in 3/4)."""
    return max(1, round(beats_per_bar * GRID_PER_BEAT))


def grid_index(onset: float) -> int:
    """The sixteenth-note step nearest to ``onset`` (in quarters) — quantisation for rhythm patterns."""
    return int(math.floor(onset * GRID_PER_BEAT + 0.5))


def skyline(notes: PieceNotes) -> list[tuple[int, float, float]]:
    """The top voice of a texture: the melody a listener follows.

    At every onset keep the highest note starting there, unless a higher note that is still
    sounding was already kept (the classic skyline rule): a held high note is the melody, the
    moving voice below it is accompaniment. ``notes`` must be sorted by onset.
    """
    by_onset: dict[int, tuple[int, float, float]] = {}
    for note in notes:
        key = round(note[1] / EPS)
        best = by_onset.get(key)
        if best is None or note[0] > best[0]:
            by_onset[key] = note
    line: list[tuple[int, float, float]] = []
    sounding: list[tuple[int, float]] = []  # (pitch, end) of kept notes that may still ring
    for key in sorted(by_onset):
        pitch, onset, duration = by_onset[key]
        sounding = [(p, end) for p, end in sounding if end > onset + EPS]
        if not any(p > pitch for p, _ in sounding):
            line.append((pitch, onset, duration))
            sounding.append((pitch, onset + duration))
    return line


def notes_to_piece(notes: Iterable[Note], ppq: int = PPQ) -> PieceNotes:
    """Convert Segue :class:`~segue.music.Note` values (ticks) into :data:`PieceNotes` (quarters)."""
    return [(n.pitch, n.start / ppq, n.duration / ppq) for n in sorted(notes)]
