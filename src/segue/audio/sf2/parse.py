"""Reading an SF2 file: the RIFF chunks, the "hydra" of preset/instrument tables and the samples.

Why our own reader: the built-in synthesizer (:mod:`segue.audio.sf2`) must work where the
TinySoundFont wheel cannot be installed (it requires PyAudio, which has no Linux wheel), and
parsing SF2 is a few tables of fixed-size records — no library is worth a dependency for it.

Only what a player needs is kept: presets, instruments, their zones' generators (modulators are
read past: the built-in player applies the SoundFont 2.01 default modulators in code), sample
headers and the 16-bit sample data as float32. Compressed SF3 fonts are refused with a clear
message (they need an Ogg decoder; TinySoundFont reads them).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np

MAX_FONT_BYTES = 1 << 31
"""Refuse anything over 2 GiB before parsing: SF2 sizes are 32-bit and a font that large is not a font."""

# generator operators the player reads (SoundFont 2.04 §8.1.2)
START_OFFSET, END_OFFSET, LOOP_START_OFFSET, LOOP_END_OFFSET, START_COARSE = 0, 1, 2, 3, 4
FILTER_FC, FILTER_Q = 8, 9
MOD_ENV_TO_FILTER = 11
END_COARSE = 12
PAN = 17
DELAY_MOD, ATTACK_MOD, HOLD_MOD, DECAY_MOD, SUSTAIN_MOD, RELEASE_MOD = 25, 26, 27, 28, 29, 30
KEY_TO_MOD_HOLD, KEY_TO_MOD_DECAY = 31, 32
DELAY_VOL, ATTACK_VOL, HOLD_VOL, DECAY_VOL, SUSTAIN_VOL, RELEASE_VOL = 33, 34, 35, 36, 37, 38
KEY_TO_HOLD, KEY_TO_DECAY = 39, 40
INSTRUMENT = 41
KEY_RANGE, VEL_RANGE = 43, 44
LOOP_START_COARSE = 45
KEYNUM, VELOCITY = 46, 47
ATTENUATION = 48
LOOP_END_COARSE = 50
COARSE_TUNE, FINE_TUNE = 51, 52
SAMPLE_ID, SAMPLE_MODES = 53, 54
SCALE_TUNING, EXCLUSIVE_CLASS, ROOT_KEY = 56, 57, 58

RANGES = (KEY_RANGE, VEL_RANGE)
UNSIGNED = (INSTRUMENT, SAMPLE_ID, SAMPLE_MODES, EXCLUSIVE_CLASS)


@dataclass(frozen=True)
class SampleHeader:
    """One sample's header: positions are indices into the font's sample data."""

    name: str
    start: int
    end: int
    loop_start: int
    loop_end: int
    rate: int
    root: int
    correction: int
    kind: int


@dataclass
class Zone:
    """A zone's generators: operator → amount (ranges as ``(lo, hi)``)."""

    gens: dict[int, int | tuple[int, int]] = field(default_factory=dict)


@dataclass
class Preset:
    name: str
    program: int
    bank: int
    global_zone: Zone
    zones: list[Zone]


@dataclass
class Instrument:
    name: str
    global_zone: Zone
    zones: list[Zone]


@dataclass
class FontData:
    """Everything a player needs from one SF2 file."""

    presets: list[Preset]
    instruments: list[Instrument]
    samples: list[SampleHeader]
    pcm: np.ndarray
    """All sample data, float32 in [-1, 1), with a few zeros appended so interpolation may read past an end."""


def _chunks(data: bytes, start: int, end: int) -> dict[str, tuple[int, int]]:
    """Sub-chunks of a RIFF list: id → (data offset, size). LIST chunks are keyed by their list type."""
    found: dict[str, tuple[int, int]] = {}
    pos = start
    while pos + 8 <= end:
        cid = data[pos:pos + 4].decode("latin-1")
        (size,) = struct.unpack_from("<I", data, pos + 4)
        body = pos + 8
        if body + size > end:
            raise ValueError(f"SF2 chunk {cid!r} runs past the end of its list")
        if cid == "LIST" and size >= 4:
            found[data[body:body + 4].decode("latin-1")] = (body + 4, size - 4)
        else:
            found[cid] = (body, size)
        pos = body + size + (size & 1)
    return found


def _records(data: bytes, chunk: tuple[int, int], fmt: str, name: str) -> list[tuple]:
    offset, size = chunk
    width = struct.calcsize(fmt)
    if size % width or size < width:
        raise ValueError(f"SF2 table {name!r} has a size that is not a whole number of records")
    return list(struct.iter_unpack(fmt, data[offset:offset + size]))


def _text(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("latin-1").strip()


def _zones(bags: list[tuple], gens: list[tuple], first: int, last: int, terminal: int) -> tuple[Zone, list[Zone]]:
    """The zones of one preset or instrument: bags ``first..last-1``. The first zone is global when it
    lacks the terminal generator (instrument for presets, sample for instruments)."""
    zones: list[Zone] = []
    for b in range(first, min(last, len(bags) - 1)):
        g0, g1 = bags[b][0], bags[b + 1][0]
        zone = Zone()
        for oper, raw in gens[g0:min(g1, len(gens))]:
            lo, hi = raw & 0xFF, raw >> 8
            if oper in RANGES:
                zone.gens[oper] = (lo, hi)
            elif oper in UNSIGNED:
                zone.gens[oper] = raw
            else:
                zone.gens[oper] = raw - 0x10000 if raw & 0x8000 else raw
        zones.append(zone)
    global_zone = Zone()
    if zones and terminal not in zones[0].gens:
        global_zone = zones.pop(0)
    return global_zone, [z for z in zones if terminal in z.gens]


def parse(data: bytes) -> FontData:
    """Parse an SF2 file's bytes; ``ValueError`` with a reason when it is not one we can play."""
    if len(data) > MAX_FONT_BYTES:
        raise ValueError("soundfont larger than 2 GiB")
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"sfbk":
        raise ValueError("not a RIFF sfbk (SoundFont 2) file")
    top = _chunks(data, 12, min(len(data), 8 + struct.unpack_from("<I", data, 4)[0]))
    for need in ("INFO", "sdta", "pdta"):
        if need not in top:
            raise ValueError(f"SF2 file has no {need!r} list")
    info = _chunks(data, top["INFO"][0], sum(top["INFO"]))
    if "ifil" in info:
        (major, _minor) = struct.unpack_from("<HH", data, info["ifil"][0])
        if major >= 3:
            raise ValueError("compressed SF3 soundfonts need the TinySoundFont synthesizer "
                             "(pip install 'segue[tinysoundfont]'); the built-in one plays SF2")
    sdta = _chunks(data, top["sdta"][0], sum(top["sdta"]))
    if "smpl" not in sdta:
        raise ValueError("SF2 file has no sample data")
    off, size = sdta["smpl"]
    pcm16 = np.frombuffer(data, dtype="<i2", count=size // 2, offset=off)
    pcm = np.zeros(len(pcm16) + 8, dtype=np.float32)
    pcm[:len(pcm16)] = pcm16.astype(np.float32) * (1.0 / 32768.0)

    pd = _chunks(data, top["pdta"][0], sum(top["pdta"]))
    for need in ("phdr", "pbag", "pgen", "inst", "ibag", "igen", "shdr"):
        if need not in pd:
            raise ValueError(f"SF2 file has no {need!r} table")
    phdr = _records(data, pd["phdr"], "<20sHHHIII", "phdr")
    pbag = _records(data, pd["pbag"], "<HH", "pbag")
    pgen = _records(data, pd["pgen"], "<HH", "pgen")
    inst = _records(data, pd["inst"], "<20sH", "inst")
    ibag = _records(data, pd["ibag"], "<HH", "ibag")
    igen = _records(data, pd["igen"], "<HH", "igen")
    shdr = _records(data, pd["shdr"], "<20sIIIIIBbHH", "shdr")

    n = len(pcm16)
    samples = [SampleHeader(_text(r[0]), min(r[1], n), min(r[2], n), min(r[3], n), min(r[4], n),
                            max(1, r[5]), r[6], r[7], r[9]) for r in shdr[:-1]]
    instruments = []
    for i in range(len(inst) - 1):
        g, zones = _zones(ibag, igen, inst[i][1], inst[i + 1][1], SAMPLE_ID)
        zones = [z for z in zones if int(z.gens[SAMPLE_ID]) < len(samples)]
        instruments.append(Instrument(_text(inst[i][0]), g, zones))
    presets = []
    for i in range(len(phdr) - 1):
        g, zones = _zones(pbag, pgen, phdr[i][3], phdr[i + 1][3], INSTRUMENT)
        zones = [z for z in zones if int(z.gens[INSTRUMENT]) < len(instruments)]
        presets.append(Preset(_text(phdr[i][0]), phdr[i][1], phdr[i][2], g, zones))
    if not presets:
        raise ValueError("SF2 file has no presets")
    return FontData(presets, instruments, samples, pcm)
