"""General MIDI program names, so a composer can write ``program: flute`` instead of ``73``.

Names are matched case-insensitively and ignoring punctuation and spaces ("Honky-tonk piano",
"honky tonk piano" and "HONKYTONKPIANO" are the same), plus a few everyday aliases
("harp", "strings", "horn") that musicians use for the obvious GM program.
"""

from __future__ import annotations

import difflib
import re

GM_PROGRAMS: tuple[str, ...] = (
    # 0-7 piano
    "Acoustic Grand Piano", "Bright Acoustic Piano", "Electric Grand Piano", "Honky-tonk Piano",
    "Electric Piano 1", "Electric Piano 2", "Harpsichord", "Clavinet",
    # 8-15 chromatic percussion
    "Celesta", "Glockenspiel", "Music Box", "Vibraphone", "Marimba", "Xylophone", "Tubular Bells", "Dulcimer",
    # 16-23 organ
    "Drawbar Organ", "Percussive Organ", "Rock Organ", "Church Organ", "Reed Organ", "Accordion",
    "Harmonica", "Tango Accordion",
    # 24-31 guitar
    "Acoustic Guitar (nylon)", "Acoustic Guitar (steel)", "Electric Guitar (jazz)", "Electric Guitar (clean)",
    "Electric Guitar (muted)", "Overdriven Guitar", "Distortion Guitar", "Guitar Harmonics",
    # 32-39 bass
    "Acoustic Bass", "Electric Bass (finger)", "Electric Bass (pick)", "Fretless Bass", "Slap Bass 1",
    "Slap Bass 2", "Synth Bass 1", "Synth Bass 2",
    # 40-47 strings
    "Violin", "Viola", "Cello", "Contrabass", "Tremolo Strings", "Pizzicato Strings", "Orchestral Harp",
    "Timpani",
    # 48-55 ensemble
    "String Ensemble 1", "String Ensemble 2", "Synth Strings 1", "Synth Strings 2", "Choir Aahs",
    "Voice Oohs", "Synth Choir", "Orchestra Hit",
    # 56-63 brass
    "Trumpet", "Trombone", "Tuba", "Muted Trumpet", "French Horn", "Brass Section", "Synth Brass 1",
    "Synth Brass 2",
    # 64-71 reed
    "Soprano Sax", "Alto Sax", "Tenor Sax", "Baritone Sax", "Oboe", "English Horn", "Bassoon", "Clarinet",
    # 72-79 pipe
    "Piccolo", "Flute", "Recorder", "Pan Flute", "Blown Bottle", "Shakuhachi", "Whistle", "Ocarina",
    # 80-87 synth lead
    "Lead 1 (square)", "Lead 2 (sawtooth)", "Lead 3 (calliope)", "Lead 4 (chiff)", "Lead 5 (charang)",
    "Lead 6 (voice)", "Lead 7 (fifths)", "Lead 8 (bass + lead)",
    # 88-95 synth pad
    "Pad 1 (new age)", "Pad 2 (warm)", "Pad 3 (polysynth)", "Pad 4 (choir)", "Pad 5 (bowed)",
    "Pad 6 (metallic)", "Pad 7 (halo)", "Pad 8 (sweep)",
    # 96-103 synth effects
    "FX 1 (rain)", "FX 2 (soundtrack)", "FX 3 (crystal)", "FX 4 (atmosphere)", "FX 5 (brightness)",
    "FX 6 (goblins)", "FX 7 (echoes)", "FX 8 (sci-fi)",
    # 104-111 ethnic
    "Sitar", "Banjo", "Shamisen", "Koto", "Kalimba", "Bagpipe", "Fiddle", "Shanai",
    # 112-119 percussive
    "Tinkle Bell", "Agogo", "Steel Drums", "Woodblock", "Taiko Drum", "Melodic Tom", "Synth Drum",
    "Reverse Cymbal",
    # 120-127 sound effects
    "Guitar Fret Noise", "Breath Noise", "Seashore", "Bird Tweet", "Telephone Ring", "Helicopter",
    "Applause", "Gunshot",
)
"""The 128 General MIDI Level 1 melodic programs, index = program number."""

GM_ALIASES: dict[str, int] = {
    "piano": 0, "grand piano": 0, "electric piano": 4, "rhodes": 4, "clavi": 7, "glock": 9, "bells": 14,
    "organ": 19, "pipe organ": 19, "guitar": 24, "nylon guitar": 24, "steel guitar": 25,
    "bass": 32, "upright bass": 32, "electric bass": 33, "double bass": 43, "string bass": 43,
    "tremolo": 44, "pizzicato": 45, "pizz": 45, "harp": 46, "strings": 48, "string ensemble": 48,
    "choir": 52, "voices": 52, "horn": 60, "horns": 60, "brass": 61, "sax": 65, "saxophone": 65,
    "cor anglais": 69, "warm pad": 89, "pad": 89, "synth pad": 89, "bowed pad": 92, "bag pipe": 109,
    "shehnai": 111, "taiko": 116, "drums": 0, "drum kit": 0, "standard kit": 0,
}
"""Everyday names for the obvious GM program (``drums``/``drum kit`` = kit 0 for percussion layers)."""


def _squash(name: str) -> str:
    """Lower-case letters and digits only: the form in which names are compared."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


_BY_NAME: dict[str, int] = {_squash(n): i for i, n in enumerate(GM_PROGRAMS)}
_BY_NAME.update({_squash(alias): i for alias, i in GM_ALIASES.items()})
_DISPLAY: dict[str, str] = {_squash(n): n.lower() for n in GM_PROGRAMS} | {_squash(a): a for a in GM_ALIASES}


def program_number(name: str) -> int:
    """GM program number for an instrument name; ValueError (with the nearest names) if unknown."""
    key = _squash(name)
    if key in _BY_NAME:
        return _BY_NAME[key]
    close = difflib.get_close_matches(key, list(_BY_NAME), n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(repr(_DISPLAY[c]) for c in close)}?" if close else ""
    raise ValueError(f"unknown General MIDI instrument {name!r}{hint} (or give the program number 0..127)")


def program_name(program: int) -> str:
    """The GM name of ``program`` (0..127)."""
    return GM_PROGRAMS[program]
