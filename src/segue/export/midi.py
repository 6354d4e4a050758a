"""Standard MIDI file (type 1) export: a conductor track plus one named track per layer.

The conductor track carries what a DAW needs to line the file up with picture and other
stems: tempo map, time signature, key signature (with the mode spelled in a marker, since
MIDI only knows major/minor), phrase markers and the provenance as a sequencer-specific event. Every layer
track ends at the same tick, so the file's length is exactly the composed length.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import mido
from mido.midifiles.meta import meta_charset

from segue.engine.performance import Performance
from segue.music import PPQ, Chord, Key
from segue.music.pitch import PITCH_CLASS_NAMES, pitch_class
from segue.music.spelling import parent_major_name

_RELATIVE_MINOR = {"C": "Am", "G": "Em", "D": "Bm", "A": "F#m", "E": "C#m", "B": "G#m", "F#": "D#m", "Db": "Bbm",
                   "Ab": "Fm", "Eb": "Cm", "Bb": "Gm", "F": "Dm"}


def midi_key_name(key: Key) -> str:
    """The MIDI key signature that spells ``key``'s scale (modes use their parent major's signature)."""
    parent = parent_major_name(key)
    return _RELATIVE_MINOR[parent] if key.family == "minor" else parent


def channels_for(parts: list) -> dict[str, int]:
    """Drums on channel 10 (index 9), pitched layers on the other 15 channels in order."""
    free = [c for c in range(16) if c != 9]
    out: dict[str, int] = {}
    i = 0
    for p in parts:
        if p.is_drums:
            out[p.name] = 9
        else:
            out[p.name] = free[i % len(free)]
            i += 1
    return out


def chord_marker(chord: Chord) -> str:
    """``"chord: D7 = D F# A C"``: the chord symbol and its pitch classes (see :func:`parse_chord_marker`)."""
    return f"chord: {chord.name()} = " + " ".join(PITCH_CLASS_NAMES[pc] for pc in chord.tones)


def parse_chord_marker(text: str) -> frozenset[int] | None:
    """Pitch classes of a chord marker written by :func:`chord_marker`, or None for any other text."""
    if not text.startswith("chord: ") or " = " not in text:
        return None
    try:
        return frozenset(pitch_class(name) for name in text.split(" = ", 1)[1].split())
    except ValueError:
        return None


def track_from_events(events: list[tuple[int, int, mido.Message | mido.MetaMessage]], end_tick: int) -> mido.MidiTrack:
    """Absolute-time events → delta-time track; at equal ticks the sort key orders offs before ons."""
    track = mido.MidiTrack()
    now = 0
    for tick, _order, msg in sorted(events, key=lambda e: (e[0], e[1])):
        track.append(msg.copy(time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=max(end_tick - now, 0)))
    return track


PROVENANCE_MANUFACTURER = 0x7D
"""The manufacturer byte of our sequencer-specific event: 0x7D is MIDI's "non-commercial" ID."""
PROVENANCE_PREFIX = b"segue:"


def provenance_event(provenance: dict) -> mido.MetaMessage:
    """The provenance as a *sequencer-specific* meta event (FF 7F): ``7D`` ``segue:{json}`` in UTF-8.

    It used to be a text event (FF 01) at tick 0, which notation programs print as a text item,
    so MuseScore drew bar 1 empty and over-wide. Sequencer-specific events are for the program that
    wrote them; the others ignore them. The same JSON is in the ``*.segue.json`` sidecar.
    """
    blob = PROVENANCE_PREFIX + json.dumps(provenance, sort_keys=True, separators=(",", ":"),
                                          ensure_ascii=False).encode("utf-8")
    return mido.MetaMessage("sequencer_specific", data=(PROVENANCE_MANUFACTURER, *blob))


def read_provenance(mid: mido.MidiFile) -> dict | None:
    """The provenance a Segue MIDI file carries (see :func:`provenance_event`), or None."""
    for track in mid.tracks[:1]:
        for msg in track:
            if msg.type == "sequencer_specific":
                data = bytes(msg.data)
                if data[:1] == bytes([PROVENANCE_MANUFACTURER]) and data[1:].startswith(PROVENANCE_PREFIX):
                    return json.loads(data[1 + len(PROVENANCE_PREFIX):].decode("utf-8"))
    return None


Event = tuple[int, int, "mido.MetaMessage | bytes"]
"""(absolute tick, order among events at that tick, a meta message or a channel message's raw bytes)."""


def midi_events(perf: Performance, *, provenance: bool = True, markers: bool = True) -> list[list[Event]]:
    """The events of each track of ``perf``'s type-1 file: the conductor track, then one per layer.

    Channel messages are raw bytes (status, data …): a long piece has hundreds of thousands of notes,
    and building a checked ``mido.Message`` for each cost most of an export."""
    end = perf.end_tick
    conductor: list[Event] = [
        (0, 0, mido.MetaMessage("track_name", name=perf.name[:120])),
        (0, 1, mido.MetaMessage("time_signature", numerator=perf.meter.numerator, denominator=perf.meter.denominator)),
    ]
    for p in perf.tempo_map.points:
        if p.tick <= end:
            conductor.append((p.tick, 2, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(p.bpm))))
    for tick, key in perf.key_changes():
        conductor.append((tick, 3, mido.MetaMessage("key_signature", key=midi_key_name(key))))
        if markers:
            conductor.append((tick, 4, mido.MetaMessage("marker", text=f"key: {key.name()}")))
    for bar in perf.sounding_bars() if markers else ():
        if bar.bar_in_phrase == 0:
            section = f" ({bar.section})" if bar.section else ""
            conductor.append((bar.start, 5, mido.MetaMessage("marker", text=f"phrase {bar.phrase_index + 1}: {bar.phrase_kind}{section}")))
        for off, chord in bar.chords:
            # the harmony as a chord track (what a DAW shows as chord symbols), and what the tonal policy is
            # checked against when the file is read back: "chord: D7 = D F# A C"
            if bar.start + off < end and (bar.cut is None or bar.start + off < bar.cut):
                conductor.append((bar.start + off, 5, mido.MetaMessage("marker", text=chord_marker(chord))))
    if perf.provenance and provenance:
        conductor.append((0, 6, provenance_event(perf.provenance)))
    tracks = [conductor]
    chans = channels_for(perf.parts)
    for part in perf.parts:
        ch = chans[part.name]
        ev: list[Event] = [(0, 0, mido.MetaMessage("track_name", name=part.name))]
        if not part.is_drums:
            ev.append((0, 1, bytes((0xB0 | ch, 0, part.bank & 127))))
            ev.append((0, 2, _data_bytes(0xC0 | ch, part.program)))
        pan = int(round(64 + 63 * max(-1.0, min(1.0, part.pan))))
        ev.append((0, 3, bytes((0xB0 | ch, 10, min(pan, 127)))))
        on, off = 0x90 | ch, 0x80 | ch
        for n in perf.notes(part.name):
            ev.append((n.start, 10, _data_bytes(on, n.pitch, n.velocity)))
            ev.append((min(n.end, end), 5, _data_bytes(off, n.pitch, 0)))
        tracks.append(ev)
    return tracks


def _data_bytes(status: int, *data: int) -> bytes:
    """A channel message (notes and programs are range-checked where they are made: ``Note``, the spec)."""
    return bytes((status, *data))


def build_midi(perf: Performance, *, provenance: bool = True, markers: bool = True) -> mido.MidiFile:
    """The type-1 MIDI file of ``perf`` as mido objects. ``markers=False`` leaves out the key, phrase and
    chord markers and ``provenance=False`` the provenance event (the notation export reads its own copy)."""
    mid = mido.MidiFile(type=1, ticks_per_beat=PPQ, charset="utf-8")  # names in UTF-8, not latin-1
    for events in midi_events(perf, provenance=provenance, markers=markers):
        as_mido = [(t, o, m if isinstance(m, mido.MetaMessage) else mido.Message.from_bytes(m)) for t, o, m in events]
        mid.tracks.append(track_from_events(as_mido, perf.end_tick))
    return mid


def _varint(value: int) -> bytes:
    """A MIDI variable-length quantity (7 bits a byte, high bit = more follows)."""
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def _track_chunk(events: list[Event], end_tick: int) -> bytes:
    """One MTrk chunk, byte for byte what mido writes: delta times, running status for channel messages
    (a meta event breaks it), and the end-of-track event at ``end_tick``."""
    data = bytearray()
    now = 0
    running = None
    for tick, _order, msg in sorted(events, key=lambda e: (e[0], e[1])):
        data += _varint(tick - now)
        now = tick
        if isinstance(msg, bytes):
            if msg[0] == running:
                data += msg[1:]
            else:
                data += msg
                running = msg[0]
        else:
            data += bytes(msg.bytes())
            running = None
    data += _varint(max(end_tick - now, 0)) + b"\xff\x2f\x00"
    return b"MTrk" + struct.pack(">L", len(data)) + bytes(data)


def midi_bytes(perf: Performance, *, provenance: bool = True, markers: bool = True) -> bytes:
    """The type-1 MIDI file of ``perf``, encoded directly (the bytes ``build_midi(perf).save()`` writes,
    ~20× faster on long pieces)."""
    tracks = midi_events(perf, provenance=provenance, markers=markers)
    with meta_charset("utf-8"):  # names and markers in UTF-8, not latin-1
        chunks = [_track_chunk(events, perf.end_tick) for events in tracks]
    return b"MThd" + struct.pack(">Lhhh", 6, 1, len(chunks), PPQ) + b"".join(chunks)


def write_midi(perf: Performance, path: str | Path) -> Path:
    """Write ``perf`` as a type-1 MIDI file; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(midi_bytes(perf))
    return path
