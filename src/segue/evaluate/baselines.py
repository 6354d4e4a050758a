"""The three degenerate baselines of QUALITY.md §2: what "plausible" must beat.

One baseline piece per reference piece, with the reference's length in bars, its note count
(hence its notes per beat) and its note durations, so a baseline differs from real music only
in the musical choices — which pitches, and where in the bars the notes start:

* ``uniform_chromatic`` — every pitch uniform over the reference's range (widened to at least an
  octave, so all twelve pitch classes are possible);
* ``random_diatonic`` — every pitch uniform over the notes of one random major scale in that range
  (the baseline that scores 0.875-style "scale consistency" and must still be beaten);
* ``repeated_note`` — one pitch, drawn from the reference's own pitches, for every note.

Onsets are drawn uniformly on the sixteenth grid inside the piece (one note always starts in the
last bar, so the length is kept exactly); durations are the reference's, shuffled, and cut at the
end of the piece. Every random choice comes from a generator seeded by (seed, piece index,
baseline kind), so a baseline set is reproducible and one kind never shifts another.
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np

from segue.evaluate.errors import EvaluationError
from segue.evaluate.piece import GRID_PER_BEAT, PieceNotes, piece_length_beats, validate_piece
from segue.music import Key

BaselineKind = Literal["uniform_chromatic", "random_diatonic", "repeated_note"]
BASELINE_KINDS: tuple[str, ...] = get_args(BaselineKind)

_MIN_SPAN = 12
"""Baseline pitch ranges are at least an octave wide, so a chromatic or diatonic choice is a real choice."""


def _pitch_span(pitches: list[int]) -> tuple[int, int]:
    """The reference's lowest and highest pitch, widened symmetrically to at least an octave (inside 0..127)."""
    low, high = min(pitches), max(pitches)
    missing = _MIN_SPAN - (high - low)
    if missing > 0:
        low -= missing // 2
        high += missing - missing // 2
        if low < 0:
            low, high = 0, high - low
        if high > 127:
            low, high = low - (high - 127), 127
    return low, high


def _rhythm(reference: PieceNotes, beats_per_bar: float, rng: np.random.Generator) -> list[tuple[float, float]]:
    """(onset, duration) pairs: the reference's durations, shuffled, at uniform random sixteenth onsets."""
    length = piece_length_beats(reference, beats_per_bar)
    slots = int(round(length * GRID_PER_BEAT))
    last_bar_start = int(round((length - beats_per_bar) * GRID_PER_BEAT))
    durations = rng.permutation(np.array([d for _, _, d in reference], dtype=float))
    onset_slots = rng.integers(0, slots, size=len(reference))
    # One note starts in the final bar so the baseline is exactly as long as the reference.
    onset_slots[rng.integers(len(reference))] = rng.integers(last_bar_start, slots)
    rhythm = []
    for slot, duration in zip(onset_slots, durations):
        onset = slot / GRID_PER_BEAT
        rhythm.append((onset, float(min(duration, length - onset))))
    return rhythm


def _pitches(kind: str, reference: PieceNotes, rng: np.random.Generator) -> np.ndarray:
    ref_pitches = [p for p, _, _ in reference]
    low, high = _pitch_span(ref_pitches)
    n = len(reference)
    if kind == "uniform_chromatic":
        return rng.integers(low, high + 1, size=n)
    if kind == "random_diatonic":
        scale = Key(int(rng.integers(12)), "major").pitches_in_range(low, high)
        return rng.choice(np.array(scale), size=n)
    return np.full(n, int(rng.choice(np.array(ref_pitches))))


def baseline_piece(kind: BaselineKind, reference: PieceNotes, seed: int, index: int = 0, beats_per_bar: float = 4) -> PieceNotes:
    """One baseline piece of ``kind`` shaped like ``reference`` (see the module docstring)."""
    if kind not in BASELINE_KINDS:
        raise EvaluationError(f"unknown baseline {kind!r}; known: {', '.join(BASELINE_KINDS)}")
    ref = validate_piece(reference, beats_per_bar)
    if not ref:
        return []
    rng = np.random.default_rng([int(seed) % 2**64, index, BASELINE_KINDS.index(kind)])
    rhythm = _rhythm(ref, beats_per_bar, rng)
    pitches = _pitches(kind, ref, rng)
    piece = [(int(p), onset, duration) for p, (onset, duration) in zip(pitches, rhythm)]
    piece.sort(key=lambda n: (n[1], n[0]))
    return piece


def baseline_pieces(kind: BaselineKind, reference: list[PieceNotes], seed: int, beats_per_bar: float = 4) -> list[PieceNotes]:
    """One ``kind`` baseline per reference piece, deterministic for a given ``seed``."""
    return [baseline_piece(kind, piece, seed, index, beats_per_bar) for index, piece in enumerate(reference)]
