"""Reharmonisation under a fixed melody, and the accompaniment layer that plays the chords.

Chords come from the learned harmony model through the composer's phrase planner
(:func:`segue.compose.harmony.plan_phrase`): chord-to-chord moves as the chorales and folk
tunes make them, tilted by tension, closed by a learned cadence, and weighted towards chords
that contain the melody's strong-beat notes — a harmonisation of *this* melody, not a
progression laid beside it. Chords are diatonic to the key (or the varied mode), so the
accompaniment keeps the tonal boundary as the melody does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from segue.compose.harmony import plan_phrase, slot_offsets
from segue.music import Chord, Key, Meter, Note
from segue.variations.motif import Line

PATTERNS = ("block", "pad", "pulse", "arpeggio", "alberti", "broken")
"""Accompaniment figures: held chords, a sustained pad, chords on every beat, arpeggios
(up and down), Alberti bass (low–high–middle–high) and broken chords (up only)."""

PATTERN_PROGRAM = {"block": 0, "pad": 48, "pulse": 0, "arpeggio": 46, "alberti": 0, "broken": 24}
"""Default GM instrument of each figure: piano, strings, piano, harp, piano, nylon guitar."""

ACCOMPANIMENT_RANGE = (45, 69)
BASS_RANGE = (33, 52)


@dataclass(frozen=True, slots=True)
class ChordChange:
    """A chord and the ticks it lasts, ``[start, end)`` from the motif's first bar line."""

    start: int
    end: int
    chord: Chord
    key: Key

    @property
    def symbol(self) -> str:
        return chord_label(self.chord)

    @property
    def roman(self) -> str:
        return self.chord.roman()

    def as_dict(self) -> dict[str, object]:
        return {"start": self.start, "end": self.end, "chord": self.symbol, "roman": self.roman}


_TRIAD_KIND = {(4, 7): ("", "major"), (3, 7): ("m", "minor"), (3, 6): ("dim", "diminished"),
               (4, 8): ("aug", "augmented")}
_SEVENTH_KIND = {(4, 7, 11): ("maj7", "major-seventh"), (4, 7, 10): ("7", "dominant-seventh"),
                 (3, 7, 10): ("m7", "minor-seventh"), (3, 6, 10): ("ø7", "half-diminished-seventh"),
                 (3, 6, 9): ("°7", "diminished-seventh"), (3, 7, 11): ("m(maj7)", "minor-major-seventh"),
                 (4, 8, 11): ("+maj7", "augmented-major-seventh")}


def chord_kind(chord: Chord) -> tuple[str, str]:
    """(symbol suffix, MusicXML kind) from the chord's intervals above its root: ``("maj7", "major-seventh")``."""
    iv = tuple((t - chord.root) % 12 for t in chord.tones[1:])
    table = _SEVENTH_KIND if len(iv) == 3 else _TRIAD_KIND
    return table.get(iv, ("", "major"))


def chord_label(chord: Chord) -> str:
    """A lead-sheet symbol spelled from the intervals (``Cmaj7``, ``G7``, ``Dm7``, ``Bø7``, ``F#m``)."""
    from segue.music.pitch import PITCH_CLASS_NAMES

    return PITCH_CLASS_NAMES[chord.root] + chord_kind(chord)[0]


def strong_pitch_classes(line: Line, key: Key, meter: Meter, per_bar: int) -> dict[tuple[int, int], set[int]]:
    """Pitch classes the melody sounds on strong beats, per chord slot ``(bar, offset)``."""
    bar = meter.ticks_per_bar
    tpb = meter.ticks_per_beat
    strong = [b * tpb for b in meter.strong_beats]
    offsets = slot_offsets(meter, per_bar)
    out: dict[tuple[int, int], set[int]] = {}
    end = max((n.onset + n.duration for n in line), default=0)
    for b in range(max(1, -(-end // bar))):
        for t in strong + [0]:
            when = b * bar + t
            sounding = [n for n in line if n.onset <= when < n.onset + n.duration]
            if not sounding:
                continue
            slot = max(o for o in offsets if o <= t)
            out.setdefault((b, slot), set()).add(key.pitch_of_degree(sounding[-1].degree) % 12)
    return out


def harmonise(line: Line, key: Key, meter: Meter, harmony_model: object, rng: np.random.Generator, *,
              per_bar: int = 1, tension: float = 0.4, cadence: str = "authentic",
              sevenths: bool = False) -> list[ChordChange]:
    """A chord progression under ``line`` from the learned harmony model (see the module text)."""
    bar = meter.ticks_per_bar
    end = max((n.onset + n.duration for n in line), default=bar)
    bars = max(1, -(-end // bar))
    per_bar = per_bar if meter.beats_per_bar in (2, 4, 6) else 1
    offsets = [slot_offsets(meter, per_bar) for _ in range(bars)]
    fit = strong_pitch_classes(line, key, meter, per_bar)
    slots = plan_phrase(rng, harmony_model, key, meter, bars, offsets=offsets, tension=tension, cadence=cadence,
                        prev_degree=None, theme_strong_pcs=fit)
    starts = [s.bar * bar + s.offset for s in slots]
    out = []
    for i, s in enumerate(slots):
        stop = starts[i + 1] if i + 1 < len(slots) else bars * bar
        chord = key.chord(s.chord.degree, seventh=True) if sevenths and s.chord.degree in (1, 4, 6) else s.chord
        out.append(ChordChange(starts[i], stop, chord, key))
    return out


def progression_text(chords: Sequence[ChordChange]) -> str:
    """``"C – Am – F – G"`` with Roman numerals: ``"C – Am – F – G (I vi IV V)"``."""
    if not chords:
        return ""
    return " – ".join(c.symbol for c in chords) + " (" + " ".join(c.roman for c in chords) + ")"


# ------------------------------------------------------------------------------- accompaniment

def voicing(chord: Chord, low: int, high: int, previous: Sequence[int] | None) -> list[int]:
    """Three or four chord tones in ``[low, high]``, moving as little as possible from ``previous``.

    Why: smooth voice leading is what makes a reharmonisation sound like one accompanist
    changing chords rather than a new block dropped on every bar.
    """
    tones = list(chord.tones)
    candidates: list[list[int]] = []
    for inv in range(len(tones)):
        order = tones[inv:] + tones[:inv]
        for base in range(low, low + 12):
            if base % 12 != order[0]:
                continue
            v = [base]
            for pc in order[1:]:
                p = v[-1] + 1
                while p % 12 != pc:
                    p += 1
                v.append(p)
            if v[-1] <= high:
                candidates.append(v)
    if not candidates:
        root = low + (chord.root - low) % 12
        return [root]
    centre = (low + high) / 2
    if not previous:
        return min(candidates, key=lambda v: (abs(sum(v) / len(v) - centre), v))
    prev = sorted(previous)

    def motion(v: list[int]) -> float:
        return sum(min(abs(p - q) for q in prev) for p in v) + 0.1 * abs(sum(v) / len(v) - centre)

    return min(candidates, key=lambda v: (motion(v), v))


def accompany(chords: Sequence[ChordChange], meter: Meter, pattern: str, *, velocity: int = 62,
              low: int = ACCOMPANIMENT_RANGE[0], high: int = ACCOMPANIMENT_RANGE[1]) -> list[Note]:
    """The notes of an accompaniment ``pattern`` (see :data:`PATTERNS`) playing ``chords``."""
    if pattern not in PATTERNS:
        raise ValueError(f"unknown accompaniment pattern {pattern!r}; known: {', '.join(PATTERNS)}")
    tpb = meter.ticks_per_beat
    bar = meter.ticks_per_bar
    sub = tpb // 3 if meter.compound else tpb // 2  # the figure moves in eighths
    notes: list[Note] = []
    prev: list[int] | None = None
    for ch in chords:
        v = voicing(ch.chord, low, high, prev)
        prev = v
        if pattern in ("block", "pad"):
            t = ch.start
            while t < ch.end:
                stop = min(ch.end, (t // bar + 1) * bar) if pattern == "block" else ch.end
                notes += [Note(t, p, stop - t, velocity - (8 if pattern == "pad" else 0)) for p in v]
                t = stop
        elif pattern == "pulse":
            for t in range(ch.start, ch.end, tpb):
                d = min(tpb, ch.end - t)
                notes += [Note(t, p, max(1, int(d * 0.85)), velocity - (0 if t % bar == 0 else 8)) for p in v]
        else:
            figure = {"arpeggio": [0, 1, 2, 3, 2, 1], "alberti": [0, 2, 1, 2], "broken": [0, 1, 2, 3]}[pattern]
            tones = v + [v[0] + 12] if v[0] + 12 <= high + 5 else v + [v[1] + 12 if len(v) > 1 else v[0]]
            for i, t in enumerate(range(ch.start, ch.end, sub)):
                p = tones[min(figure[i % len(figure)], len(tones) - 1)]
                notes.append(Note(t, p, min(sub, ch.end - t), velocity - (0 if t % tpb == 0 else 10)))
    return notes


def bass_line(chords: Sequence[ChordChange], meter: Meter, *, velocity: int = 70,
              low: int = BASS_RANGE[0], high: int = BASS_RANGE[1]) -> list[Note]:
    """Chord roots in the bass, one per chord (re-struck each bar), nearest the previous root."""
    bar = meter.ticks_per_bar
    notes: list[Note] = []
    prev: int | None = None
    for ch in chords:
        options = [p for p in range(low, high + 1) if p % 12 == ch.chord.root]
        p = min(options, key=lambda q: (abs(q - prev) if prev is not None else abs(q - (low + high) // 2), q))
        prev = p
        t = ch.start
        while t < ch.end:
            stop = min(ch.end, (t // bar + 1) * bar)
            notes.append(Note(t, p, stop - t, velocity))
            t = stop
    return notes
