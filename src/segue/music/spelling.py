"""Spelling: which letter a pitch is written on, in a key and under a chord.

MIDI knows 12 pitch classes; notation knows 7 letters and accidentals. A♭ and G♯ sound alike but
mean different things: the ♭VI of C major is A♭–C–E♭, the V/vi is E–G♯–B. Segue's chords are
stacked on letters (:meth:`segue.music.Chord.letters`), so the composer already knows the right
spelling; this module turns it into (letter, alteration, octave) for notation export.
"""

from __future__ import annotations

from segue.music.pitch import Chord, Key

LETTERS = "CDEFGAB"
NATURAL_PC = (0, 2, 4, 5, 7, 9, 11)

PARENT_MAJOR_NAMES = {0: "C", 7: "G", 2: "D", 9: "A", 4: "E", 11: "B", 6: "F#", 1: "Db", 5: "F", 10: "Bb", 3: "Eb", 8: "Ab"}
"""The conventional name of each major key (the one with the fewer accidentals in its signature)."""
MODE_OFFSET = {"major": 0, "ionian": 0, "dorian": 2, "phrygian": 4, "lydian": 5, "mixolydian": 7,
               "minor": 9, "aeolian": 9, "natural_minor": 9, "harmonic_minor": 9, "melodic_minor": 9, "locrian": 11}
"""Semitones from a mode's parent major tonic to the mode's own tonic."""
MODE_DEGREE = {"major": 0, "ionian": 0, "dorian": 1, "phrygian": 2, "lydian": 3, "mixolydian": 4,
               "minor": 5, "aeolian": 5, "natural_minor": 5, "harmonic_minor": 5, "melodic_minor": 5, "locrian": 6}
"""Scale degree of the parent major on which each mode starts."""


def parent_major_name(key: Key) -> str:
    """The major key whose signature spells ``key`` (D dorian → C, F lydian → C, C phrygian → Ab)."""
    return PARENT_MAJOR_NAMES[(key.tonic - MODE_OFFSET[key.mode]) % 12]


def tonic_letter(key: Key) -> int:
    """Index into :data:`LETTERS` of the key's tonic letter, as its conventional signature spells it."""
    parent = LETTERS.index(parent_major_name(key)[0])
    return (parent + MODE_DEGREE[key.mode]) % 7


def spell(pitch: int, key: Key, chord: Chord | None = None) -> tuple[str, int, int]:
    """(letter, alteration in semitones, octave) for MIDI ``pitch`` in ``key`` under ``chord``.

    A tone of the sounding chord takes the chord's letter (A♭ in ♭VI, G♯ in V/vi); a scale tone
    takes the key's letter; anything else is spelled as the key signature leans (flats in flat keys).
    """
    pc = pitch % 12
    degrees = {d: key.scale_pc(d) for d in range(7)}
    if chord is not None:
        degrees.update(chord.letters())
    base = tonic_letter(key)
    degree = next((d for d, dpc in degrees.items() if dpc == pc), None)
    if degree is not None:
        letter = (base + degree) % 7
    else:
        flats = "b" in parent_major_name(key) or parent_major_name(key) == "F"
        letter = next(i for i, n in enumerate(NATURAL_PC) if n == pc or (n == (pc + 1) % 12 if flats else n == (pc - 1) % 12))
    alter = (pc - NATURAL_PC[letter] + 6) % 12 - 6
    octave = (pitch - alter) // 12 - 1
    return LETTERS[letter], alter, octave
