"""The motif: a short single melodic line with the key, meter and tempo it is heard in.

A variation is judged against its source note by note, so a motif is always *one line*
(monophonic, sorted, no overlaps) on a grid of 1/12 beat: the grid that holds sixteenths
and triplet eighths exactly, the same one the learned rhythm cells use. Variations are
built in scale degrees of the key (:class:`~segue.compose.melody.MotifNote`), so every
transposition, inversion or mode change stays inside the tonal boundary by construction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from segue.compose.melody import MotifNote
from segue.music import PPQ, Key, Meter, Note, pitch_name
from segue.style.analysis import diatonic_index

GRID = PPQ // 12
"""Onset and duration grid in ticks (1/12 of a quarter note): sixteenths and triplets stay exact."""

DEFAULT_BPM = 100.0
DEFAULT_VELOCITY = 80

Line = list[MotifNote]
"""A melody in absolute scale degrees of a key; onsets are ticks from the motif's first bar line."""


def quantize(ticks: int) -> int:
    """Nearest grid point (ties go up), so MIDI recorded by hand lands on readable rhythms."""
    return int((ticks + GRID // 2) // GRID * GRID)


def monophonic(notes: Iterable[Note]) -> list[Note]:
    """Sort and make a single line: one note per onset (the highest), each cut at the next onset.

    Why the highest: when a line is written with an occasional double stop or a grace chord, the
    top note is the one the ear follows.
    """
    by_onset: dict[int, Note] = {}
    for n in notes:
        best = by_onset.get(n.start)
        if best is None or n.pitch > best.pitch:
            by_onset[n.start] = n
    line = [by_onset[t] for t in sorted(by_onset)]
    out: list[Note] = []
    for i, n in enumerate(line):
        if i + 1 < len(line) and n.end > line[i + 1].start:
            n = replace(n, duration=line[i + 1].start - n.start)
        out.append(n)
    return out


@dataclass(frozen=True)
class Motif:
    """A melodic line with its key, meter and tempo (``notes`` sorted, monophonic, ticks at PPQ 480).

    Onsets count from the bar line of the motif's first bar, so a pickup keeps its place in the
    bar. ``remarks`` say what reading had to decide for the composer (a window taken from a long
    file, a reduction to the top line, chromatic notes kept out of the variations' scale).
    """

    notes: tuple[Note, ...]
    key: Key
    meter: Meter = field(default_factory=Meter)
    bpm: float = DEFAULT_BPM
    name: str = "motif"
    remarks: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "notes", tuple(monophonic(self.notes)))

    # -- what it is ---------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.notes)

    @property
    def pitches(self) -> list[int]:
        return [n.pitch for n in self.notes]

    @property
    def end(self) -> int:
        return max((n.end for n in self.notes), default=0)

    @property
    def bars(self) -> int:
        """Whole bars the motif spans (at least one)."""
        bar = self.meter.ticks_per_bar
        return max(1, -(-self.end // bar))

    @property
    def length(self) -> int:
        """Length in ticks, rounded up to whole bars: where the next phrase may start."""
        return self.bars * self.meter.ticks_per_bar

    @property
    def ambitus(self) -> tuple[int, int]:
        p = self.pitches
        return (min(p), max(p)) if p else (60, 60)

    def in_scale(self) -> bool:
        return all(self.key.contains(n.pitch) for n in self.notes)

    def describe(self) -> str:
        """One line for a composer: notes, bars, meter, key, range."""
        if not self.notes:
            return f"{self.name}: no notes"
        lo, hi = self.ambitus
        count = len(self.notes)
        return (f"{self.name}: {count} note{'s' * (count != 1)}, {self.bars} bar{'s' * (self.bars != 1)} of {self.meter}, "
                f"{self.key.name()}, {pitch_name(lo)}–{pitch_name(hi)}, {self.bpm:g} bpm")

    # -- building -----------------------------------------------------------------------------
    def with_(self, **changes: object) -> "Motif":
        return replace(self, **changes)  # type: ignore[arg-type]

    def line(self) -> Line:
        """The motif in absolute scale degrees of its key (chromatic notes → the degree they alter)."""
        return [MotifNote(n.start, n.duration, degree_in(self.key, n.pitch)) for n in self.notes]

    @classmethod
    def from_line(cls, line: Sequence[MotifNote], key: Key, meter: Meter, *, bpm: float = DEFAULT_BPM,
                  name: str = "variation", velocities: Sequence[int] | None = None) -> "Motif":
        """Notes from scale degrees: every pitch is in ``key`` by construction."""
        notes = []
        for i, mn in enumerate(sorted(line, key=lambda m: m.onset)):
            vel = velocities[i] if velocities is not None and i < len(velocities) else DEFAULT_VELOCITY
            notes.append(Note(mn.onset, key.pitch_of_degree(mn.degree), max(mn.duration, 1), vel))
        return cls(tuple(notes), key, meter, bpm, name)


def degree_in(key: Key, pitch: int) -> int:
    """Absolute scale degree of ``pitch`` in ``key``; a chromatic pitch gets the degree it alters."""
    d = key.degree_of(pitch)
    return d if d is not None else diatonic_index(pitch, key)


def chromatic_notes(motif: Motif) -> list[Note]:
    """Notes outside the motif's key: variations replace them by the scale degree they alter."""
    return [n for n in motif.notes if not motif.key.contains(n.pitch)]
