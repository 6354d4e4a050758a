"""Notes and phrases: the values that the composer writes and the sequencer plays."""

from __future__ import annotations

from dataclasses import dataclass, field, replace


@dataclass(frozen=True, slots=True, order=True)
class Note:
    """One note: onset and length in ticks, MIDI pitch and velocity (1..127)."""

    start: int
    pitch: int
    duration: int
    velocity: int = 80

    def __post_init__(self) -> None:
        if self.duration <= 0:
            raise ValueError(f"note duration must be positive, got {self.duration}")
        if not 0 <= self.pitch <= 127:
            raise ValueError(f"pitch out of MIDI range: {self.pitch}")
        if not 1 <= self.velocity <= 127:
            raise ValueError(f"velocity out of range 1..127: {self.velocity}")

    @property
    def end(self) -> int:
        return self.start + self.duration

    def shifted(self, ticks: int = 0, semitones: int = 0) -> "Note":
        return replace(self, start=self.start + ticks, pitch=self.pitch + semitones)


@dataclass(slots=True)
class Phrase:
    """Notes of one layer over a span of ticks ``[start, end)``; notes are kept sorted."""

    layer: str
    start: int
    end: int
    notes: list[Note] = field(default_factory=list)

    def add(self, note: Note) -> None:
        self.notes.append(note)

    def sorted_notes(self) -> list[Note]:
        return sorted(self.notes)

    def __len__(self) -> int:
        return len(self.notes)
