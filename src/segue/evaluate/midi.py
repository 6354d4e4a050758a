"""Reading a MIDI file as :data:`~segue.evaluate.piece.PieceNotes`.

Evaluation must judge the *output file*, not what the composer believed it wrote, so generated
pieces and corpus pieces both go through this one reader. Drums (channel 10) are left out: the
pitch metrics describe pitched music, and a drum note's number names an instrument, not a pitch.
"""

from __future__ import annotations

from collections import defaultdict, deque
from pathlib import Path

import mido

from segue.evaluate.errors import MidiReadError
from segue.evaluate.piece import PieceNotes

DRUM_CHANNEL = 9
"""MIDI channel 10 (0-based 9), the General MIDI percussion channel."""


def _open(path: str | Path) -> mido.MidiFile:
    path = Path(path)
    if not path.is_file():
        raise MidiReadError(f"{path}: no such MIDI file")
    try:
        midi = mido.MidiFile(path)
    except (OSError, EOFError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise MidiReadError(f"{path}: not a readable MIDI file ({exc})") from exc
    if midi.type == 2:
        raise MidiReadError(f"{path}: MIDI type 2 (independent sequences) is not supported")
    if midi.ticks_per_beat <= 0:
        raise MidiReadError(f"{path}: ticks per beat must be positive (SMPTE timing is not supported)")
    return midi


def midi_to_piece(path: str | Path) -> PieceNotes:
    """All non-drum notes of a MIDI file as ``(pitch, onset, duration)`` in quarter notes.

    Onsets come from the file's ticks per beat, so tempo changes do not bend musical time. A
    note-on with velocity 0 ends a note (running-status files use it); overlapping notes of the
    same pitch and channel end first-in, first-out; a note still held at the end of its track ends
    there; zero-length notes are dropped. Raises :class:`~segue.evaluate.errors.MidiReadError`
    (a ``ValueError``) for a missing or corrupt file.
    """
    midi = _open(path)
    tpb = midi.ticks_per_beat
    notes: PieceNotes = []
    for track in midi.tracks:
        now = 0
        held: dict[tuple[int, int], deque[int]] = defaultdict(deque)
        for msg in track:
            now += msg.time
            if msg.type not in ("note_on", "note_off") or msg.channel == DRUM_CHANNEL:
                continue
            key = (msg.channel, msg.note)
            if msg.type == "note_on" and msg.velocity > 0:
                held[key].append(now)
            elif held[key]:
                start = held[key].popleft()
                if now > start:
                    notes.append((msg.note, start / tpb, (now - start) / tpb))
        for (_, pitch), starts in held.items():
            notes.extend((pitch, s / tpb, (now - s) / tpb) for s in starts if now > s)
    notes.sort(key=lambda n: (n[1], n[0], n[2]))
    return notes


def midi_quarters_per_bar(path: str | Path) -> float:
    """Quarter notes per bar from the file's first time signature (4.0 when it has none).

    This is the ``beats_per_bar`` that :func:`~segue.evaluate.metrics.piece_metrics` expects for
    a piece read with :func:`midi_to_piece`: 3/4 and 6/8 both give 3.0.
    """
    midi = _open(path)
    first: tuple[int, int, int] | None = None  # (tick, numerator, denominator)
    for track in midi.tracks:
        now = 0
        for msg in track:
            now += msg.time
            if msg.type == "time_signature":
                if first is None or now < first[0]:
                    first = (now, msg.numerator, msg.denominator)
                break
    if first is None:
        return 4.0
    return first[1] * 4.0 / first[2]
