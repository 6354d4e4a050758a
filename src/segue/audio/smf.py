"""A Standard MIDI File reader that keeps only what rendering needs: notes, controllers, programs,
pitch bend and tempo, each at its absolute tick, tracks merged.

Why our own: reading a file through ``mido`` builds and checks one Python object per message and
costs ~40 ms for a minute of music (plus ~15 ms to import), a tenth of ``segue render``'s whole
process — longer than FluidSynth takes to start. This reader walks the bytes once. It reads what
``mido.MidiFile(clip=True)`` reads, with the same results (``tests/test_smf.py`` compares them):
running status, data bytes above 127 clipped to 127, system-exclusive and meta events skipped
except tempo, meta events too short for their type (and impossible key signatures) refused as
mido refuses them, tracks merged in time order with ties kept in track order. Where the two differ
it is in what they forgive: chunks of unknown type are skipped, as the SMF specification asks.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

# the events a renderer acts on: (absolute tick, kind, channel, a, b)
NOTE_OFF, NOTE_ON, CONTROL, PROGRAM, BEND, TEMPO = "note_off", "note_on", "control_change", "program_change", \
    "pitchwheel", "set_tempo"

# data bytes after a channel status byte, by its high nibble
_CHANNEL_DATA = {0x80: 2, 0x90: 2, 0xA0: 2, 0xB0: 2, 0xC0: 1, 0xD0: 1, 0xE0: 2}
# data bytes after a system common / real-time status byte (not meant for files, but readable)
_SYSTEM_DATA = {0xF1: 1, 0xF2: 2, 0xF3: 1, 0xF6: 0, 0xF8: 0, 0xFA: 0, 0xFB: 0, 0xFC: 0, 0xFE: 0}
# meta events whose fields are read by position: shorter data is a corrupt file
_META_MIN_LENGTH = {0x20: 1, 0x21: 1, 0x51: 3, 0x54: 5, 0x58: 4, 0x59: 2}


class SMFError(Exception):
    """The bytes are not a readable Standard MIDI File; the message says why."""


class SMFTruncated(SMFError):
    """The file ends in the middle of its data."""


@dataclass(slots=True)
class SMF:
    format: int
    ticks_per_beat: int  # negative: SMPTE time division, as in the header
    events: list[tuple[int, str, int, int, int]]  # (tick, kind, channel, a, b), merged in time order


def _varlen(data: bytes, pos: int, end: int) -> tuple[int, int]:
    """A variable-length quantity at ``pos`` and the position after it (longer than the specification's
    four bytes is read on, as mido does)."""
    value = 0
    while pos < end:
        byte = data[pos]
        pos += 1
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, pos
    raise SMFTruncated("the file ends in the middle of the data")


def _track(data: bytes, pos: int, end: int, number: int) -> list[tuple[int, int, str, int, int, int]]:
    """The events of one track chunk ``data[pos:end]`` as (tick, track, kind, channel, a, b)."""
    events: list[tuple[int, int, str, int, int, int]] = []
    tick = 0
    running: int | None = None
    while pos < end:
        delta, pos = _varlen(data, pos, end)
        tick += delta
        if pos >= end:
            raise SMFTruncated("the file ends in the middle of the data")
        status = data[pos]
        if status < 0x80:  # running status: this byte is the first data byte
            if running is None:
                raise SMFError("running status without a previous status byte")
            status = running
        else:
            pos += 1
        if status == 0xFF:
            if pos >= end:
                raise SMFTruncated("the file ends in the middle of the data")
            kind = data[pos]
            length, pos = _varlen(data, pos + 1, end)
            if pos + length > end:
                raise SMFTruncated("the file ends in the middle of the data")
            body = data[pos : pos + length]
            pos += length
            if length < _META_MIN_LENGTH.get(kind, 0) or (kind == 0x00 and length == 1):
                raise SMFError(f"meta event 0x{kind:02x} has {length} data bytes, too few")
            if kind == 0x59:
                sharps, mode = struct.unpack("bB", body[:2])
                if not -7 <= sharps <= 7 or mode > 1:
                    raise SMFError(f"could not decode key with {abs(sharps)} {'flats' if sharps < 0 else 'sharps'} "
                                   f"and mode {mode}")
            elif kind == 0x51:
                events.append((tick, number, TEMPO, 0, (body[0] << 16) | (body[1] << 8) | body[2], 0))
            continue
        if status in (0xF0, 0xF7):  # system exclusive: skipped; it cancels running status
            running = None
            length, pos = _varlen(data, pos, end)
            if pos + length > end:
                raise SMFTruncated("the file ends in the middle of the data")
            pos += length
            continue
        if status >= 0xF0:
            size = _SYSTEM_DATA.get(status)
            if size is None:
                raise SMFError(f"undefined status byte 0x{status:02x}")
            if pos + size > end:
                raise SMFTruncated("the file ends in the middle of the data")
            pos += size
            continue
        running = status
        high, channel = status & 0xF0, status & 0x0F
        size = _CHANNEL_DATA[high]
        if pos + size > end:
            raise SMFTruncated("the file ends in the middle of the data")
        a = min(data[pos], 127)
        b = min(data[pos + 1], 127) if size == 2 else 0
        pos += size
        if high == 0x90:
            events.append((tick, number, NOTE_ON, channel, a, b))
        elif high == 0x80:
            events.append((tick, number, NOTE_OFF, channel, a, b))
        elif high == 0xB0:
            events.append((tick, number, CONTROL, channel, a, b))
        elif high == 0xC0:
            events.append((tick, number, PROGRAM, channel, a, 0))
        elif high == 0xE0:
            events.append((tick, number, BEND, channel, (a | (b << 7)) - 8192, 0))
        # polyphonic and channel aftertouch: read, not rendered
    return events


def parse_smf(data: bytes) -> SMF:
    """Parse the bytes of a Standard MIDI File; raises :class:`SMFError` (or :class:`SMFTruncated`)."""
    if len(data) < 8 or data[:4] != b"MThd":
        raise SMFError("MThd not found (probably not a MIDI file)")
    size = struct.unpack(">L", data[4:8])[0]
    if size < 6 or 8 + size > len(data):
        raise SMFTruncated("the file ends in the middle of the data")
    fmt, tracks, division = struct.unpack(">hhh", data[8:14])
    pos = 8 + size
    merged: list[tuple[int, int, str, int, int, int]] = []
    found = 0
    while found < tracks:
        if pos + 8 > len(data):
            raise SMFTruncated("the file ends in the middle of the data")
        name, length = data[pos : pos + 4], struct.unpack(">L", data[pos + 4 : pos + 8])[0]
        pos += 8
        if pos + length > len(data):
            raise SMFTruncated("the file ends in the middle of the data")
        if name == b"MTrk":
            merged.extend(_track(data, pos, pos + length, found))
            found += 1
        pos += length  # a chunk of any other type is skipped, as the specification asks
    merged.sort(key=lambda e: e[0])  # time order; at one tick, track order, then file order (a stable sort)
    return SMF(fmt, division, [(tick, kind, ch, a, b) for tick, _, kind, ch, a, b in merged])
