"""The small text notations a composer types into a spec: notes, note text, keys, meters.

Inline note text is a line of ``NAME[:BEATS]`` tokens (``"D4:1 E4:0.5 F4:0.5 A4:2 r:1 G4"``):
NAME is a note with octave (C4 = middle C = MIDI 60), a MIDI number, or ``r`` for a rest;
BEATS is a length in quarter notes, as a decimal or a fraction (``1/3`` for a triplet eighth),
default 1. Lengths must land on whole ticks (PPQ 480) so that themes stay exactly on the grid.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from fractions import Fraction

from segue.music import MODES, PPQ, Key, Meter, Note, parse_pitch, pitch_class

DEFAULT_VELOCITY = 80
"""Velocity of notes written as text (text carries no dynamics; the composer shapes them later)."""

_REST_WORDS = frozenset({"r", "rest"})
_TOKEN = re.compile(r"[^\s,]+")


class NoteTextError(ValueError):
    """A bad token in note text. ``position`` is the 1-based token number (as in the message),
    ``token`` its text and ``offset`` its 0-based character offset in the whole text."""

    def __init__(self, message: str, position: int, token: str, offset: int):
        super().__init__(message)
        self.position = position
        self.token = token
        self.offset = offset


@dataclass(frozen=True, slots=True)
class NoteToken:
    """One parsed token of note text: ``note`` is None for a rest; ``start``/``duration`` in ticks."""

    position: int
    text: str
    offset: int
    start: int
    duration: int
    note: Note | None


def parse_beats(text: str) -> Fraction:
    """A positive length in quarter notes from ``"1"``, ``"0.5"``, ``"3/2"``; ValueError otherwise."""
    try:
        beats = Fraction(text.strip())
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"{text!r} is not a length in beats (expected like 1, 0.5 or 1/3)") from None
    if beats <= 0:
        raise ValueError(f"length {text!r} must be more than 0 beats")
    ticks = beats * PPQ
    if ticks.denominator != 1:
        raise ValueError(
            f"length {text!r} beats is not a whole number of ticks at PPQ {PPQ} "
            f"(write tuplets as fractions, e.g. 1/3)")
    return beats


def tokenize_note_text(text: str) -> list[NoteToken]:
    """Parse note text into tokens with their positions; raises :class:`NoteTextError`."""
    tokens: list[NoteToken] = []
    now = 0
    for position, match in enumerate(_TOKEN.finditer(text), start=1):
        token = match.group(0)

        def fail(why: str) -> NoteTextError:
            return NoteTextError(f"token {position} {token!r}: {why}", position, token, match.start())

        name, sep, length = token.partition(":")
        if sep and not length:
            raise fail("missing length after ':' (e.g. D4:1)")
        try:
            beats = parse_beats(length) if sep else Fraction(1)
        except ValueError as exc:
            raise fail(str(exc)) from None
        ticks = int(beats * PPQ)
        if name.lower() in _REST_WORDS:
            tokens.append(NoteToken(position, token, match.start(), now, ticks, None))
        else:
            try:
                pitch = parse_pitch(name)
            except ValueError:
                raise fail(f"{name!r} is not a note (expected like D4, F#3, Bb5, a MIDI number, or r for a rest)") \
                    from None
            note = Note(start=now, pitch=pitch, duration=ticks, velocity=DEFAULT_VELOCITY)
            tokens.append(NoteToken(position, token, match.start(), now, ticks, note))
        now += ticks
    return tokens


def parse_note_text(text: str) -> list[Note]:
    """The notes of inline note text (rests advance time but yield no note), start/duration in ticks.

    Raises :class:`NoteTextError` (a ValueError) naming the bad token and its position."""
    return [t.note for t in tokenize_note_text(text) if t.note is not None]


def parse_note(value: object) -> int:
    """MIDI pitch of a note name (``"C4"``) or number (``60``); ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"expected a note name like C4 or a MIDI number, got {value!r}")
    if isinstance(value, int):
        if not 0 <= value <= 127:
            raise ValueError(f"MIDI note {value} is outside 0..127")
        return value
    try:
        return parse_pitch(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a note (expected like C4, F#3, Bb5 or a MIDI number)") from None


def parse_key(text: str) -> Key:
    """A key from ``"D dorian"``, ``"Bb minor"``, ``"F# harmonic minor"``, ``"Eb"`` (major) or ``"f#m"``.

    Unlike :meth:`Key.parse` the errors name the bad part and suggest the nearest mode."""
    words = text.replace("_", " ").split()
    if not words:
        raise ValueError("empty key (expected a tonic and a mode, like 'D dorian')")
    try:
        tonic = words[0][:-1] if len(words) == 1 and len(words[0]) >= 2 and words[0].endswith("m") else words[0]
        pitch_class(tonic)
    except ValueError:
        raise ValueError(f"{words[0]!r} is not a tonic in key {text!r} (expected like C, F#, Bb)") from None
    if len(words) > 1:
        mode = "_".join(words[1:]).lower()
        if mode not in MODES:
            close = difflib.get_close_matches(mode, list(MODES), n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"unknown mode {mode!r} in key {text!r}{hint} (modes: {', '.join(MODES)})")
    return Key.parse(text)


def parse_meter(text: object) -> Meter:
    """A meter from ``"4/4"``; ValueError otherwise."""
    if not isinstance(text, str):
        raise ValueError(f"expected a meter like '4/4' or '6/8', got {text!r}")
    return Meter.parse(text)

