"""What the models learn from one piece: melodic steps, beat cells, chords per beat, cadences.

A :class:`RawPiece` (plain notes) goes in, a :class:`PieceStats` (plain sequences) comes out.
The counting into tables happens later, over all pieces, in :mod:`segue.style.counting`; keeping
the per-piece part separate lets the trainer run it in worker processes and hold pieces out.
"""

from __future__ import annotations

from collections.abc import Iterable

import bisect
import math
from dataclasses import dataclass, field

import numpy as np

from segue.music import Key
from segue.style.analysis import (
    Cell,
    RhythmGrid,
    TriadFit,
    beat_cells,
    diatonic_index,
    find_key,
    fit_triad,
    rhythm_grid,
)
from segue.style.reading import RawPiece

EPS = 1e-6
POLYPHONY_SHARE = 0.5
"""A piece teaches harmony only if at least half its notes sound together with another pitch class."""


@dataclass(slots=True)
class PieceStats:
    """Everything the trainer counts from one piece, as plain data."""

    ident: str
    collection: str
    meter: str
    notes: list[tuple[int, float, float]]  # melody (pitch, onset, duration); onset 0 = downbeat of the first bar
    steps: list[int]  # diatonic steps between consecutive melody notes, not yet clipped
    compound: bool | None = None  # None: the meter has no rhythm table (5/8, 7/8, changing meters)
    cells: list[tuple[int, Cell] | None] = field(default_factory=list)  # (beat in bar, cell); None breaks the chain
    family: str | None = None  # key family when the piece taught harmony
    key: str | None = None  # the key found for the piece, e.g. "G major"
    chords: list[int | None] = field(default_factory=list)  # triad degree per beat; None = silence
    cadences: list[tuple[int, int]] = field(default_factory=list)  # (penultimate, final) at phrase ends
    strong_hits: int = 0  # melody notes on strong beats that are chord tones …
    strong_total: int = 0  # … out of all melody notes on strong beats
    bars: float = 0.0  # bars that carry chords (for harmonic rhythm)
    chord_beat0: int = 0  # beat in bar of chords[0]
    chord_beats_per_bar: int = 4
    chord_compound: bool = False


def melody_fingerprint(piece: PieceStats) -> tuple:
    """What makes two tunes "the same tune": first pitch class and the first 24 diatonic steps.

    Collections repeat themselves (O'Neill's book ships tunes 1556-1624 both whole and in two
    halves, some tunes in two transcriptions) and Bach set one chorale melody many times. The
    fingerprint finds such copies so they neither count twice nor leak into the held-out set.
    """
    first = piece.notes[0][0] % 12 if piece.notes else -1
    return (first, tuple(piece.steps[:24]))


class _MetricMap:
    """Written time (quarters from the file start) → metric time (bar-aligned quarters).

    Folk tunes often split a bar around a repeat sign ("…| A2 :|: B |…") and open with a
    pickup. Each written measure is placed in the bar it belongs to, so beat 0 of every bar
    is a real downbeat even when the written measures are incomplete.
    """

    def __init__(self, measures: list[tuple[float, float]], bar: float, end: float) -> None:
        if not measures:
            measures = [(k * bar, bar) for k in range(max(1, math.ceil(end / bar - EPS)))]
        self.offsets: list[float] = []
        self.starts: list[float] = []
        self.lengths: list[float] = []
        bar_start, pos = 0.0, None
        for i, (off, length) in enumerate(measures):
            if length <= EPS:
                continue
            if i == 0 and length < bar - EPS:
                start = bar - length  # pickup: it ends on the first downbeat
            elif pos is not None and pos < bar - EPS and pos + length <= bar + EPS:
                start = pos  # the rest of a bar that a repeat sign split in two
            else:
                if pos is not None:
                    bar_start += max(bar, math.ceil(pos / bar - EPS) * bar)
                start = 0.0
            self.offsets.append(off)
            self.starts.append(bar_start + start)
            self.lengths.append(length)
            pos = start + length
        self.pickup = bar - measures[0][1] if measures and measures[0][1] < bar - EPS else 0.0

    def __call__(self, t: float) -> float:
        i = max(bisect.bisect_right(self.offsets, t + EPS) - 1, 0)
        return self.starts[i] + (t - self.offsets[i])

    def spans(self) -> list[tuple[float, float]]:
        return [(s, s + n) for s, n in zip(self.starts, self.lengths)]


@dataclass(frozen=True, slots=True)
class Frame:
    """How a piece is counted: its rhythm grid (None if the meter has no table), the grid its
    chords are read on, bar-aligned metric time, and its key."""

    rhythm: RhythmGrid | None
    harmony: RhythmGrid
    metric: _MetricMap
    key: Key


def frame(raw: RawPiece) -> Frame:
    grid = rhythm_grid(raw.numerator, raw.denominator)
    harmony_grid = grid or RhythmGrid(False, 1.0, max(1, round(raw.numerator * 4 / max(raw.denominator, 1))))
    end = max((o + d for part in raw.parts for _, o, d in part), default=0.0)
    end = max(end, max((n.onset + n.duration for n in raw.melody), default=0.0))
    metric = _MetricMap(raw.measures, harmony_grid.bar, end)
    all_notes = [n for part in raw.parts for n in part]
    key = _piece_key(all_notes or [(n.pitch, n.onset, n.duration) for n in raw.melody], raw.sharps)
    return Frame(None if raw.meter_changes else grid, harmony_grid, metric, key)


def beat_triads(raw: RawPiece, fr: Frame) -> dict[int, TriadFit | None]:
    """The fitted triad of every beat that sounds (beat index on ``fr.harmony``, bar 0 = beats 0…)."""
    weights, at_start = _beat_weights(raw.parts, fr.metric, fr.harmony)
    return {b: fit_triad(weights[b], at_start.get(b, np.zeros(12)), fr.key) for b in sorted(weights)}


def piece_stats(raw: RawPiece) -> PieceStats:
    """Learnable sequences of one piece (see :class:`PieceStats`)."""
    fr = frame(raw)
    stats = PieceStats(
        ident=raw.ident,
        collection=raw.collection,
        meter=f"{raw.numerator}/{raw.denominator}",
        notes=[(n.pitch, round(n.onset + fr.metric.pickup, 6), round(n.duration, 6)) for n in raw.melody],
        steps=_steps(raw.melody, fr.key),
        key=fr.key.name(),
    )
    if fr.rhythm is not None:
        stats.compound = fr.rhythm.compound
        stats.cells = _cells(raw.melody, fr.metric, fr.rhythm)
    if _is_polyphonic(raw.parts):
        _harmony(stats, raw, fr)
    return stats


def _piece_key(notes: list[tuple[int, float, float]], sharps: int | None) -> Key:
    weights = np.zeros(12)
    for pitch, _, dur in notes:
        weights[pitch % 12] += dur
    last_onset = max(o for _, o, _ in notes)
    final_bass = min(p for p, o, d in notes if o + d >= last_onset - EPS)
    return find_key(weights, final_bass % 12, sharps)


def _steps(melody: list, key: Key) -> list[int]:
    """Scale-degree steps; spelled notes (notation) count letter names, unspelled (MIDI) use the key."""
    spelled = all(n.diatonic is not None for n in melody)
    idx = [n.diatonic if spelled else diatonic_index(n.pitch, key) for n in melody]
    return [b - a for a, b in zip(idx, idx[1:])]


def _cells(melody: list, metric: _MetricMap, grid: RhythmGrid) -> list[tuple[int, Cell] | None]:
    """One cell per fully written beat, in order; a gap in the beats breaks the Markov chain."""
    covered: dict[int, float] = {}
    for a, b in metric.spans():
        first, last = math.floor(a / grid.beat + EPS), math.ceil(b / grid.beat - EPS)
        for beat in range(first, last):
            overlap = min(b, (beat + 1) * grid.beat) - max(a, beat * grid.beat)
            covered[beat] = covered.get(beat, 0.0) + max(overlap, 0.0)
    beats = sorted(b for b, c in covered.items() if c >= grid.beat - EPS)
    cells = beat_cells((metric(n.onset) for n in melody), grid, beats)
    out: list[tuple[int, Cell] | None] = []
    prev = None
    for b in beats:
        if prev is not None and b != prev + 1:
            out.append(None)
        out.append((b % grid.beats_per_bar, cells[b]))
        prev = b
    return out


def _beat_weights(parts: list[list[tuple[int, float, float]]], metric: _MetricMap,
                  grid: RhythmGrid) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
    """Per beat: how long each pitch class sounds in it, and which pitch classes sound at its start."""
    return span_weights(((pitch, metric(onset), dur) for part in parts for pitch, onset, dur in part), grid.beat)


def span_weights(notes: Iterable[tuple[int, float, float]],
                 span: float) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
    """Per span of ``span`` beats (index k covers [k·span, (k+1)·span)): how long each pitch class
    sounds in it, and which pitch classes start at its start — what a chord fit reads."""
    weights: dict[int, np.ndarray] = {}
    at_start: dict[int, np.ndarray] = {}
    for pitch, a, dur in notes:
        b = a + dur
        for k in range(math.floor(a / span + EPS), math.ceil(b / span - EPS)):
            lo, hi = k * span, (k + 1) * span
            overlap = min(b, hi) - max(a, lo)
            if overlap <= EPS:
                continue
            weights.setdefault(k, np.zeros(12))[pitch % 12] += overlap
            if a <= lo + EPS:
                at_start.setdefault(k, np.zeros(12))[pitch % 12] += 1
    return weights, at_start


def _is_polyphonic(parts: list[list[tuple[int, float, float]]]) -> bool:
    """Whether most notes sound together with another pitch (chorale, piano), not one after another (a tune).

    Small overlaps (legato in a played MIDI melody) do not count: the other note must share at
    least half of the shorter note, or a quarter note.
    """
    notes = sorted((o, o + d, p) for part in parts for p, o, d in part)
    if len(notes) < 2:
        return False
    together = [False] * len(notes)
    for i, (a, b, p) in enumerate(notes):
        for j in range(i + 1, len(notes)):
            c, d, q = notes[j]
            if c >= b - EPS:
                break
            if q % 12 != p % 12 and min(b, d) - c >= min(0.25, 0.5 * min(b - a, d - c)) - EPS:
                together[i] = together[j] = True
    return sum(together) / len(notes) >= POLYPHONY_SHARE


def _degree(fit: TriadFit | None) -> int | None:
    return None if fit is None else fit.degree


def _harmony(stats: PieceStats, raw: RawPiece, fr: Frame) -> None:
    """Chords per beat, phrase-end cadences and strong-beat chord tones of a polyphonic piece."""
    grid, metric, key = fr.harmony, fr.metric, fr.key
    fits = beat_triads(raw, fr)
    first, last = min(fits), max(fits)
    chords = [_degree(fits.get(b)) for b in range(first, last + 1)]
    stats.family = key.family
    stats.chords = chords
    stats.bars = sum(1 for c in chords if c is not None) / grid.beats_per_bar
    stats.chord_beat0 = first % grid.beats_per_bar
    stats.chord_beats_per_bar = grid.beats_per_bar
    stats.chord_compound = grid.compound

    # phrase ends: every fermata in the melody, and the end of the piece
    ends = {math.floor(metric(n.onset) / grid.beat + EPS) for n in raw.melody if n.fermata}
    ends.add(last)
    seen_runs: set[int] = set()
    for beat in sorted(ends):
        i = beat - first
        if not 0 <= i < len(chords) or chords[i] is None:
            continue
        final = chords[i]
        run = i
        while run > 0 and chords[run - 1] in (final, None):
            run -= 1
        if run in seen_runs:  # a held final chord after the last fermata is the same cadence
            continue
        seen_runs.add(run)
        penult = next((c for c in reversed(chords[:run]) if c is not None and c != final), None)
        if penult is not None:
            stats.cadences.append((penult, final))  # type: ignore[arg-type]

    strong = set(grid.strong_beats)
    for n in raw.melody:
        t = metric(n.onset) / grid.beat
        beat = round(t)
        if abs(t - beat) > EPS or beat % grid.beats_per_bar not in strong or fits.get(beat) is None:
            continue
        stats.strong_total += 1
        stats.strong_hits += int(n.pitch % 12 in fits[beat].tones)  # type: ignore[union-attr]
