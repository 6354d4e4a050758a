"""Floor 1 — pure musical values: time, pitch, notes. No I/O, no randomness, no globals."""

from segue.music.note import Note, Phrase
from segue.music.pitch import MODES, Chord, Key, parse_pitch, pitch_class, pitch_name
from segue.music.time import PPQ, Meter, Position, TempoMap, TempoPoint

__all__ = [
    "PPQ", "Meter", "Position", "TempoMap", "TempoPoint", "Note", "Phrase",
    "MODES", "Chord", "Key", "parse_pitch", "pitch_class", "pitch_name",
]
