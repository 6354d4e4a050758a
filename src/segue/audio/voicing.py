"""Voicing: every key of a preset equally loud at the same velocity.

Why: a General MIDI SoundFont's key zones are recorded and trimmed unevenly — the shipped
font's flute is 11 dB quieter at C2 than at C6, its trumpet 7 dB. A composer's dynamics then
stop meaning loudness: a melody that dips into a weak zone during a crescendo sounds like a
diminuendo, and a slow build jumps up and down bar by bar with the register. Sample players
solve this by *voicing* the instrument (per-key trims); we do the same, measured rather than
hand-tuned: each preset is played once per key, its K-weighted level measured, and every key
trimmed towards the preset's median level. The trim is applied to the note's velocity, which
in a SoundFont is a linear gain (and also picks the velocity layer, as a player playing a weak
note harder would). Keys that are too weak to reach the median even at full velocity are raised
as far as velocity allows; keys louder than the median are attenuated.

The measurement is deterministic (same font, same numbers), so a live session and its offline
replay voice every note identically. Results are cached per font, bank and program for the life
of the process; a preset costs about 0.1 s to measure.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
from segue.audio.loudness import k_weighted
from segue.audio.soundfont import default_soundfont, has_preset, open_voice_set, synth_name

_RATE = 22050
_NOTE_S = 0.25
_TAIL_S = 0.05
_VELOCITY = 100
_RANGE = (36, 96)
"""Keys whose median sets the preset's reference level (where melodies and accompaniments live)."""
MAX_CUT_DB = 18.0
MAX_BOOST_DB = 12.0
STRENGTH = 1.0
"""How much of the measured imbalance is corrected (1 = all of it)."""

_cache: dict[tuple[str, str, int, int, int, int, bool], np.ndarray] = {}
_lock = threading.Lock()


def _key_levels(soundfont: Path | None, bank: int, program: int, is_drums: bool) -> np.ndarray:
    """K-weighted RMS level (dB) of one short note per key; -inf where the preset is silent (or missing)."""
    font = open_voice_set(soundfont, _RATE, 0.0, 8)
    levels = np.full(128, -np.inf)
    if not has_preset(font, bank, program, is_drums):
        return levels
    font.channel_set_bank(0, bank)
    font.channel_set_preset_number(0, program, is_drums)
    on = int(_NOTE_S * _RATE)
    buf = np.zeros((on + int(_TAIL_S * _RATE), 2), dtype=np.float32)
    for key in range(128):
        font.channel_sounds_off(0)
        font.channel_note_on(0, key, _VELOCITY / 127.0)
        font.render(buf[:on])
        font.channel_note_off(0, key)
        font.render(buf[on:])
        weighted = k_weighted(buf, _RATE)
        power = float(np.mean(weighted ** 2))
        if power > 1e-14:
            levels[key] = 10.0 * np.log10(power)
    return levels


def key_trims(soundfont: Path | None, bank: int, program: int, is_drums: bool) -> np.ndarray:
    """Velocity multipliers per key (128 floats) that voice the preset evenly; ones for drum kits.

    Drum kits are left alone: each key is a different instrument whose level is part of the kit's
    own balance (a hi-hat is meant to be quieter than a crash).
    """
    path = Path(soundfont).expanduser().resolve() if soundfont is not None else default_soundfont()
    try:
        stat = path.stat()
        stamp = (stat.st_size, stat.st_mtime_ns)  # an edited .sf2 is measured again, as it is parsed again
    except OSError:
        stamp = (0, 0)  # opening it will report the problem
    cache_key = (synth_name(), str(path), *stamp, int(bank), int(program), bool(is_drums))
    with _lock:
        trims = _cache.get(cache_key)
    if trims is not None:
        return trims
    trims = np.ones(128)
    if not is_drums:
        levels = _key_levels(soundfont, bank, program, is_drums)
        lo, hi = _RANGE
        usable = levels[lo:hi + 1]
        usable = usable[np.isfinite(usable)]
        if usable.size:
            reference = float(np.median(usable))
            sounding = np.isfinite(levels)
            correction = np.zeros(128)
            correction[sounding] = np.clip(STRENGTH * (reference - levels[sounding]), -MAX_CUT_DB, MAX_BOOST_DB)
            trims = 10.0 ** (correction / 20.0)
    trims.setflags(write=False)
    with _lock:
        _cache[cache_key] = trims
    return trims


def voiced_velocity(velocity: int, trim: float) -> float:
    """The SoundFont velocity (0..1] for a MIDI velocity and a key's trim, kept within velocity's range."""
    return min(max(velocity * trim, 1.0), 127.0) / 127.0
