"""Pitches, scales, modes, keys and chords.

Everything is in MIDI note numbers and pitch classes (0 = C). Scales are described by
their semitone steps from the tonic, so a mode is data, not code, and constraint checks
(“is this pitch in the key?”) are one set look-up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

PITCH_CLASS_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_LETTER = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}

MODES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "ionian": (0, 2, 4, 5, 7, 9, 11),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "aeolian": (0, 2, 3, 5, 7, 8, 10),
    "natural_minor": (0, 2, 3, 5, 7, 8, 10),
    "harmonic_minor": (0, 2, 3, 5, 7, 8, 11),
    "melodic_minor": (0, 2, 3, 5, 7, 9, 11),
    "locrian": (0, 1, 3, 5, 6, 8, 10),
}
"""Seven-note modes by semitone offsets from the tonic."""

MODE_BRIGHTNESS: dict[str, int] = {
    "lydian": 3, "major": 2, "ionian": 2, "mixolydian": 1, "melodic_minor": 0, "dorian": 0,
    "minor": -1, "aeolian": -1, "natural_minor": -1, "harmonic_minor": -1, "phrygian": -2, "locrian": -3,
}
"""Brightness of each mode (count of raised degrees relative to aeolian, roughly): valence moves along it."""


def pitch_class(name: str) -> int:
    """Pitch class of a name like ``"F#"``, ``"Bb"`` or ``"c"``."""
    m = re.fullmatch(r"\s*([A-Ga-g])([#sb♯♭]*)\s*", name)
    if not m:
        raise ValueError(f"not a pitch name: {name!r}")
    pc = _LETTER[m.group(1).upper()]
    for ch in m.group(2):
        pc += 1 if ch in "#s♯" else -1
    return pc % 12


def parse_pitch(text: str) -> int:
    """MIDI number of a note name with octave (``"C4"`` = 60, ``"Bb2"``, ``"F#5"``) or a plain integer."""
    t = text.strip()
    if re.fullmatch(r"-?\d+", t):
        n = int(t)
    else:
        m = re.fullmatch(r"([A-Ga-g][#b♯♭s]*)(-?\d+)", t)
        if not m:
            raise ValueError(f"not a note: {text!r} (expected like C4, F#3, Bb5 or a MIDI number)")
        n = (int(m.group(2)) + 1) * 12 + pitch_class(m.group(1))
        # B#3 is C4, Cb4 is B3: letter+accidental may cross the octave
        letter_pc = _LETTER[m.group(1)[0].upper()]
        acc = pitch_class(m.group(1)) - letter_pc
        if acc > 6:
            n -= 12
        elif acc < -6:
            n += 12
    if not 0 <= n <= 127:
        raise ValueError(f"note {text!r} is outside MIDI range 0..127")
    return n


def pitch_name(pitch: int) -> str:
    return f"{PITCH_CLASS_NAMES[pitch % 12]}{pitch // 12 - 1}"


@dataclass(frozen=True, slots=True)
class Key:
    """A tonic and a seven-note mode: the tonal boundary that every pitched note respects."""

    tonic: int
    mode: str = "major"

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown mode {self.mode!r}; known: {', '.join(sorted(MODES))}")
        object.__setattr__(self, "tonic", self.tonic % 12)

    @classmethod
    def parse(cls, text: str) -> "Key":
        """Parse ``"D dorian"``, ``"A minor"``, ``"Eb"`` (major), ``"f#m"`` (minor)."""
        parts = text.replace("_", " ").split()
        if not parts:
            raise ValueError("empty key")
        tonic = parts[0]
        if len(parts) == 1 and len(tonic) >= 2 and tonic.endswith("m") and tonic[:-1]:
            return cls(pitch_class(tonic[:-1]), "minor")
        mode = "_".join(parts[1:]).lower() if len(parts) > 1 else "major"
        return cls(pitch_class(tonic), mode)

    @property
    def steps(self) -> tuple[int, ...]:
        return MODES[self.mode]

    @property
    def pitch_classes(self) -> frozenset[int]:
        return frozenset((self.tonic + s) % 12 for s in self.steps)

    @property
    def family(self) -> str:
        """``"major"`` if the third is major, else ``"minor"``: which learned harmony table applies."""
        return "major" if self.steps[2] == 4 else "minor"

    @property
    def brightness(self) -> int:
        return MODE_BRIGHTNESS[self.mode]

    def contains(self, pitch: int) -> bool:
        return (pitch % 12) in self.pitch_classes

    def degree_pitch(self, degree: int, octave_base: int = 60) -> int:
        """MIDI pitch of scale degree ``degree`` (0-based, may be negative or ≥7) above the tonic nearest below ``octave_base``."""
        base = octave_base - ((octave_base - self.tonic) % 12)
        o, d = divmod(degree, 7)
        return base + 12 * o + self.steps[d]

    def degree_of(self, pitch: int) -> int | None:
        """Absolute diatonic index of ``pitch`` (tonic of MIDI octave 0 = 0), or None if not in the key."""
        rel = (pitch - self.tonic) % 12
        if rel not in self.steps:
            return None
        octave = (pitch - self.tonic) // 12
        return octave * 7 + self.steps.index(rel)

    def pitch_of_degree(self, index: int) -> int:
        """Inverse of :meth:`degree_of`."""
        o, d = divmod(index, 7)
        return self.tonic + 12 * o + self.steps[d]

    def pitches_in_range(self, low: int, high: int) -> list[int]:
        return [p for p in range(max(low, 0), min(high, 127) + 1) if self.contains(p)]

    def chord(self, degree: int, seventh: bool = False) -> "Chord":
        """The diatonic triad (or seventh chord) on scale degree ``degree`` (0-based)."""
        d = degree % 7
        tones = [self.pitch_of_degree(d + k) % 12 for k in ((0, 2, 4, 6) if seventh else (0, 2, 4))]
        return Chord(root=tones[0], tones=tuple(tones), degree=d)

    def chromatic_chord(self, degree: int, quality: str, shift: int = 0, label: str = "") -> "Chord":
        """A chord whose root is scale degree ``degree`` moved by ``shift`` semitones, of any quality.

        Why spell it by degree and not by pitch class: the chord's tones keep their letters (the
        ♭VI of C major is A♭–C–E♭, not G♯–B♯–D♯), so a melody written in scale degrees knows
        which of its degrees the chord alters (see :meth:`Chord.alterations`).
        """
        d = degree % 7
        root = (self.pitch_of_degree(d) + shift) % 12
        tones = tuple((root + i) % 12 for i in QUALITIES[quality])
        return Chord(root=root, tones=tones, degree=d, label=label)

    def scale_pc(self, degree: int) -> int:
        """Pitch class of scale degree ``degree`` (any integer; only ``degree % 7`` matters)."""
        return (self.tonic + self.steps[degree % 7]) % 12

    def name(self) -> str:
        return f"{PITCH_CLASS_NAMES[self.tonic]} {self.mode}"

    def __str__(self) -> str:
        return self.name()


ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII")


QUALITIES: dict[str, tuple[int, ...]] = {
    "maj": (0, 4, 7), "min": (0, 3, 7), "dim": (0, 3, 6), "aug": (0, 4, 8),
    "dom7": (0, 4, 7, 10), "maj7": (0, 4, 7, 11), "min7": (0, 3, 7, 10), "hdim7": (0, 3, 6, 10),
    "dim7": (0, 3, 6, 9), "minmaj7": (0, 3, 7, 11),
}
"""Chord qualities as semitones above the root, stacked in thirds (tone k sits on letter root + 2k)."""


@dataclass(frozen=True, slots=True)
class Chord:
    """A chord as pitch classes (root first, stacked in thirds) plus the scale degree its root's letter stands on.

    ``label`` names a chord that is not the key's own triad in the musician's words (``"V/V"``,
    ``"bVI"``, ``"V7"``, ``"viio7/V"``); ``bass`` is the pitch class in the bass when the chord is
    inverted (``None``: root position).
    """

    root: int
    tones: tuple[int, ...]
    degree: int = 0
    label: str = ""
    bass: int | None = None

    @property
    def pcs(self) -> frozenset[int]:
        return frozenset(self.tones)

    @property
    def bass_pc(self) -> int:
        return self.root if self.bass is None else self.bass

    @property
    def quality(self) -> str:
        third = (self.tones[1] - self.root) % 12
        fifth = (self.tones[2] - self.root) % 12 if len(self.tones) > 2 else 7
        if third == 4:
            return "aug" if fifth == 8 else "maj"
        return "dim" if fifth == 6 else "min"

    def letters(self) -> dict[int, int]:
        """Scale degree (0..6) of each tone's letter → that tone's pitch class."""
        return {(self.degree + 2 * k) % 7: pc for k, pc in enumerate(self.tones)}

    def alterations(self, key: "Key") -> dict[int, int]:
        """The scale degrees this chord alters in ``key`` (degree → the chord's pitch class for it).

        Empty for a diatonic chord. While an applied or borrowed chord sounds, every line that
        moves by scale degree takes these pitches, so a melody's F becomes F♯ under V/V instead
        of grinding against it (the local scale of the chord, as a player would hear it).
        """
        return {d: pc for d, pc in self.letters().items() if key.scale_pc(d) != pc}

    def is_chromatic(self, key: "Key") -> bool:
        return not self.pcs <= key.pitch_classes

    def inverted(self, bass_tone: int) -> "Chord":
        """The same chord with its tone number ``bass_tone`` (0 root, 1 third, 2 fifth) in the bass."""
        return replace(self, bass=None if bass_tone == 0 else self.tones[bass_tone % len(self.tones)])

    def roman(self) -> str:
        if self.label:
            return self.label
        r = ROMAN[self.degree]
        q = self.quality
        if q in ("min", "dim"):
            r = r.lower()
        return r + ("°" if q == "dim" else "+" if q == "aug" else "") + ("7" if len(self.tones) > 3 else "")

    def name(self) -> str:
        suffix = {"maj": "", "min": "m", "dim": "dim", "aug": "aug"}[self.quality]
        if len(self.tones) > 3:
            seventh = (self.tones[3] - self.root) % 12
            suffix = {"maj": {10: "7", 11: "maj7"}, "min": {10: "m7", 11: "m(maj7)"}, "dim": {10: "m7b5", 9: "dim7"}}.get(
                self.quality, {}).get(seventh, suffix + "7")
        text = PITCH_CLASS_NAMES[self.root] + suffix
        return text if self.bass is None else f"{text}/{PITCH_CLASS_NAMES[self.bass]}"

    def __str__(self) -> str:
        return self.name()
