"""Reading music files into plain note lists (:class:`RawPiece`), one reader per kind of file.

Notated files (MusicXML, ABC, Humdrum) go through music21; MIDI files are read directly with
mido, which is much faster than music21's MIDI import and keeps drum channels out. Everything
after this module works on plain tuples, so the learning code never touches music21 objects
and the worker processes send back small, picklable results.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MIDI_SUFFIXES = (".mid", ".midi")
NOTATION_SUFFIXES = (".musicxml", ".xml", ".mxl", ".abc", ".krn")
MUSIC_SUFFIXES = MIDI_SUFFIXES + NOTATION_SUFFIXES
DRUM_CHANNEL = 9  # MIDI channel 10, counted from 0


@dataclass(slots=True)
class MelodyNote:
    """One note of the melody: ties already merged, chords reduced to their top note."""

    pitch: int
    onset: float  # quarter notes from the start of the file
    duration: float
    diatonic: int | None  # letter-name step number when the file spells its notes, else None
    fermata: bool = False


@dataclass(slots=True)
class RawPiece:
    """One piece as plain numbers: the melody, every pitched note, the meter and the bar layout."""

    ident: str
    collection: str
    numerator: int
    denominator: int
    meter_changes: bool
    measures: list[tuple[float, float]]  # (offset, length) of each written bar; empty = regular bars
    melody: list[MelodyNote]
    parts: list[list[tuple[int, float, float]]] = field(default_factory=list)  # (pitch, onset, duration)
    sharps: int | None = None  # written key signature (−7..7), when the file has one


class UnreadableFile(Exception):
    """A file that cannot be read as music: counted and skipped, never fatal."""


def read_file(path: Path, ident: str, collection: str) -> list[RawPiece]:
    """Every piece in one file (an ABC "opus" holds many tunes); raises UnreadableFile."""
    suffix = path.suffix.lower()
    try:
        if suffix in MIDI_SUFFIXES:
            return [read_midi(path, ident, collection)]
        if suffix in NOTATION_SUFFIXES:
            return read_notation(path, ident, collection)
    except UnreadableFile:
        raise
    except Exception as exc:  # music21 and mido raise many kinds of errors on bad files
        raise UnreadableFile(f"{ident}: {type(exc).__name__}: {exc}") from exc
    raise UnreadableFile(f"{ident}: not a music file")


# ---------------------------------------------------------------- MIDI (mido)


def read_midi(path: Path, ident: str, collection: str) -> RawPiece:
    """A MIDI file as parts (one per track and channel, drums left out) and a skyline melody.

    The melody is the part with the highest average pitch (the tune usually sits on top), and
    inside it the highest note at each onset, cut off where the next one starts.
    """
    import mido

    mid = mido.MidiFile(str(path))
    tpb = mid.ticks_per_beat or 480
    meters: list[tuple[int, int, int]] = []
    parts: dict[tuple[int, int], list[tuple[int, float, float]]] = {}
    for ti, track in enumerate(mid.tracks):
        tick = 0
        sounding: dict[tuple[int, int], list[int]] = {}
        for msg in track:
            tick += msg.time
            if msg.type == "time_signature":
                meters.append((tick, msg.numerator, msg.denominator))
            elif msg.type in ("note_on", "note_off") and msg.channel != DRUM_CHANNEL:
                k = (msg.channel, msg.note)
                if msg.type == "note_on" and msg.velocity > 0:
                    sounding.setdefault(k, []).append(tick)
                elif sounding.get(k):
                    start = sounding[k].pop(0)
                    if tick > start:
                        parts.setdefault((ti, msg.channel), []).append((msg.note, start / tpb, (tick - start) / tpb))
    notes_by_part = [sorted(v, key=lambda n: (n[1], n[0])) for _, v in sorted(parts.items()) if v]
    if not notes_by_part:
        raise UnreadableFile(f"{ident}: no pitched notes")
    meters.sort()
    num, den = (meters[0][1], meters[0][2]) if meters else (4, 4)
    changes = len({(n, d) for _, n, d in meters}) > 1
    candidates = [p for p in notes_by_part if len(p) >= 8] or notes_by_part
    top = max(candidates, key=lambda p: sum(n[0] for n in p) / len(p))
    return RawPiece(ident, collection, num, den, changes, [], _skyline(top), notes_by_part)


def _skyline(notes: list[tuple[int, float, float]]) -> list[MelodyNote]:
    by_onset: dict[float, int] = {}
    ends: dict[float, float] = {}
    for pitch, onset, dur in notes:
        key = round(onset, 4)
        if pitch >= by_onset.get(key, -1):
            by_onset[key] = pitch
            ends[key] = onset + dur
    onsets = sorted(by_onset)
    out = []
    for i, t in enumerate(onsets):
        end = ends[t] if i + 1 == len(onsets) else min(ends[t], onsets[i + 1])
        if end > t:
            out.append(MelodyNote(by_onset[t], t, end - t, None))
    return out


# ---------------------------------------------------------------- notation (music21)


def read_notation(path: Path, ident: str, collection: str) -> list[RawPiece]:
    """Every score in a MusicXML/ABC/Humdrum file; an ABC opus gives one piece per tune."""
    from music21 import converter, stream

    # forceSource: never read or write music21's pickle cache, so training is the same on every machine
    parsed = converter.parse(str(path), forceSource=True)
    if isinstance(parsed, stream.Opus):
        scores = list(parsed.scores)
        many = len(scores) > 1
        pieces = []
        for i, score in enumerate(scores, start=1):
            try:
                pieces.append(_score_piece(score, f"{ident}#{i}" if many else ident, collection))
            except UnreadableFile:
                continue
        if not pieces:
            raise UnreadableFile(f"{ident}: no readable tune")
        return pieces
    return [_score_piece(parsed, ident, collection)]


def _governing_meter(placed: list[tuple[float, int, int]], end: float) -> tuple[int, int, bool]:
    """The time signature that governs most of the piece, and whether another one governs much of it.

    music21 writes a short-lived signature (1/16, 3/8…) for every incomplete bar at a repeat
    sign of an ABC tune; those are not meter changes, so only signatures that last at least a
    tenth of the piece count as a change.
    """
    if not placed:
        return 4, 4, False
    placed.sort()
    span: dict[tuple[int, int], float] = {}
    for i, (off, n, d) in enumerate(placed):
        until = placed[i + 1][0] if i + 1 < len(placed) else max(end, off)
        span[(n, d)] = span.get((n, d), 0.0) + max(until - off, 0.0)
    num, den = max(span, key=lambda k: span[k])  # dicts keep first-appearance order: ties go to the earlier one
    total = sum(span.values()) or 1.0
    changes = any(v > 0.1 * total for k, v in span.items() if k != (num, den))
    return num, den, changes


def _score_piece(score: Any, ident: str, collection: str) -> RawPiece:
    """One music21 Score as a RawPiece: the soprano (or highest) part is the melody."""
    from music21 import chord, expressions, harmony, key, meter, note, percussion, stream

    parts = list(score.parts) or [score]
    flat_parts = []
    for part in parts:
        # pitched notes and chords that sound: no chord symbols, drum notes or grace notes
        notes = [n for n in part.flatten().notes
                 if isinstance(n, (note.Note, chord.Chord)) and n.pitches
                 and not isinstance(n, (harmony.ChordSymbol, percussion.PercussionChord))
                 and n.duration.quarterLength > 0]
        if notes:
            flat_parts.append((part, notes))
    if not flat_parts:
        raise UnreadableFile(f"{ident}: no notes")

    def mean_pitch(item: tuple[Any, list[Any]]) -> float:
        ps = [p.midi for n in item[1] for p in n.pitches]
        return sum(ps) / len(ps)

    named = [fp for fp in flat_parts if "soprano" in (fp[0].partName or "").lower()]
    melody_part, melody_notes = named[0] if named else max(flat_parts, key=mean_pitch)

    end = max(float(n.offset + n.duration.quarterLength) for n in melody_notes)
    placed = [(float(ts.getOffsetInHierarchy(melody_part)), ts.numerator, ts.denominator)
              for ts in melody_part.recurse().getElementsByClass(meter.TimeSignature)]
    num, den, changes = _governing_meter(placed, end)
    measures = [(float(m.offset), float(m.duration.quarterLength))
                for m in melody_part.getElementsByClass(stream.Measure)]

    melody: list[MelodyNote] = []
    for n in melody_notes:
        top = max(n.pitches, key=lambda p: p.midi)
        onset, dur = float(n.offset), float(n.duration.quarterLength)
        fermata = any(isinstance(e, expressions.Fermata) for e in n.expressions)
        tie = n.tie.type if n.tie is not None else None
        prev = melody[-1] if melody else None
        if (tie in ("stop", "continue") and prev is not None and prev.pitch == top.midi
                and math.isclose(prev.onset + prev.duration, onset, abs_tol=1e-6)):
            prev.duration += dur
            prev.fermata = prev.fermata or fermata
            continue
        if prev is not None and math.isclose(prev.onset, onset, abs_tol=1e-6):
            if top.midi > prev.pitch:  # two voices in one staff: keep the upper line
                melody[-1] = MelodyNote(top.midi, onset, dur, top.diatonicNoteNum, fermata)
            continue
        melody.append(MelodyNote(top.midi, onset, dur, top.diatonicNoteNum, fermata))

    signature = next(iter(melody_part.recurse().getElementsByClass(key.KeySignature)), None)
    all_parts = [[(p.midi, float(n.offset), float(n.duration.quarterLength)) for n in notes for p in n.pitches]
                 for _, notes in flat_parts]
    return RawPiece(ident, collection, num, den, changes, measures, melody, all_parts,
                    None if signature is None else int(signature.sharps))
