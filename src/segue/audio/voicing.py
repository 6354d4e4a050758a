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
of the process; a preset costs about 0.05 s to measure. For the bundled font the tables of every
melodic GM program (bank 0, both synthesizers) ship with the package (``data/voicing.npz``, made by
``uv run python -m segue.audio.voicing``): a one-minute render used to spend a sixth of its CPU
measuring its presets. They are used only when the font's SHA-256 matches the one they were made from.
"""

from __future__ import annotations

import hashlib
import io
import threading
import zipfile
from collections.abc import Iterator, Mapping
from importlib import resources
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


SHIPPED = "voicing.npz"
_shipped: "Mapping[str, np.ndarray] | None" = None
_font_digests: dict[tuple[str, int, int], str] = {}


def _digest(path: Path, stamp: tuple[int, int]) -> str:
    key = (str(path), *stamp)
    found = _font_digests.get(key)
    if found is None:
        found = _font_digests[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


class _ShippedTables(Mapping[str, np.ndarray]):
    """The shipped tables, each read from the archive the first time it is asked for.

    Why lazy: a render needs the tables of its few presets, and reading all 257 cost ~60 ms of every
    ``segue render``'s start-up."""

    def __init__(self, data: bytes) -> None:
        self._npz = np.load(io.BytesIO(data), allow_pickle=False)
        self._names = list(self._npz.files)
        self._read: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def __getitem__(self, key: str) -> np.ndarray:
        with self._lock:
            found = self._read.get(key)
            if found is None:
                if key not in self._npz.files:
                    raise KeyError(key)
                found = self._read[key] = self._npz[key]
            return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def _shipped_tables() -> Mapping[str, np.ndarray]:
    global _shipped
    if _shipped is None:
        try:
            data = resources.files("segue.audio").joinpath("data", SHIPPED).read_bytes()
            _shipped = _ShippedTables(data)
        except (FileNotFoundError, OSError, ValueError, zipfile.BadZipFile):  # a broken install: measure instead
            _shipped = {}
    return _shipped


def _table_key(synth: str, bank: int, program: int) -> str:
    return f"{synth}:{int(bank)}:{int(program)}"


def _from_shipped(path: Path, stamp: tuple[int, int], synth: str, bank: int, program: int) -> np.ndarray | None:
    """The shipped table for the bundled font, or None (another font, an edited one, or not tabled)."""
    tables = _shipped_tables()
    if not tables or path != default_soundfont():
        return None
    made_from = tables.get("font_sha256")
    if made_from is None or str(made_from) != _digest(path, stamp):
        return None
    try:
        table = tables.get(_table_key(synth, bank, program))
    except (OSError, ValueError, zipfile.BadZipFile):  # a damaged table: measure instead
        return None
    return None if table is None else np.array(table, dtype=np.float64)


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
    shipped = None if is_drums else _from_shipped(path, stamp, synth_name(), bank, program)
    trims = shipped if shipped is not None else measure_trims(soundfont, bank, program, is_drums)
    trims.setflags(write=False)
    with _lock:
        _cache[cache_key] = trims
    return trims


def measure_trims(soundfont: Path | None, bank: int, program: int, is_drums: bool) -> np.ndarray:
    """Play the preset key by key and work out the trims (what the shipped tables hold)."""
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
    return trims


def build_shipped(out: Path) -> int:
    """Measure every melodic GM program of the bundled font with each synthesizer and save the tables."""
    import os

    from segue.audio.soundfont import SYNTHS

    font = default_soundfont()
    tables: dict[str, np.ndarray] = {"font_sha256": np.array(hashlib.sha256(font.read_bytes()).hexdigest())}
    previous = os.environ.get("SEGUE_SYNTH")
    try:
        for synth in SYNTHS:
            os.environ["SEGUE_SYNTH"] = synth
            for program in range(128):
                tables[_table_key(synth, 0, program)] = measure_trims(None, 0, program, False)
    finally:
        if previous is None:
            os.environ.pop("SEGUE_SYNTH", None)
        else:
            os.environ["SEGUE_SYNTH"] = previous
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, **tables)
    return len(tables) - 1


if __name__ == "__main__":
    target = Path(__file__).with_name("data") / SHIPPED
    print(f"{build_shipped(target)} tables → {target}")


def voiced_velocity(velocity: int, trim: float) -> float:
    """The SoundFont velocity (0..1] for a MIDI velocity and a key's trim, kept within velocity's range."""
    return min(max(velocity * trim, 1.0), 127.0) / 127.0
