"""Reading a theme from a MIDI file: the composer's motif as written in a DAW or notation program.

A theme is one melodic line, so we take the *first melodic track*: the first track holding notes on
a channel other than 10 (the GM drum channel), and within it the channel of its first such note.
Times are rescaled from the file's resolution to Segue's PPQ.
"""

from __future__ import annotations

from pathlib import Path

from segue.limits import MAX_MIDI_BYTES, MAX_PATH_CHARS, MAX_THEME_BEATS, MAX_THEME_NOTES, clip_text
from segue.music import PPQ, Note

DRUM_CHANNEL = 9
"""MIDI channel 10 (0-based 9) carries GM percussion, never a melody."""


class ThemeFileError(ValueError):
    """A theme's MIDI file is missing, unreadable or holds no melodic notes."""


def read_theme_midi(path: Path, shown: str | None = None) -> list[Note]:
    """Notes of the first melodic track of ``path``, start/duration in ticks at PPQ 480.

    ``shown`` is how messages name the file (the path as the composer wrote it)."""
    import mido  # imported lazily: only specs with MIDI themes pay for it

    name = f"'{clip_text(shown, 80)}'" if shown is not None and shown != str(path) else f"'{clip_text(str(path), 80)}'"
    if len(str(path)) > MAX_PATH_CHARS:
        raise ThemeFileError(f"MIDI file path too long ({len(str(path))} characters; at most {MAX_PATH_CHARS})")
    try:
        found = path.is_file()
        size = path.stat().st_size if found else 0
    except OSError as exc:  # a name too long for the file system, a permission problem …
        raise ThemeFileError(f"MIDI file {name} cannot be read ({exc.strerror or exc})") from None
    if not found:
        where = f" (looked for {clip_text(str(path), 80)})" if shown is not None and shown != str(path) else ""
        raise ThemeFileError(f"MIDI file {name} not found{where}")
    if size > MAX_MIDI_BYTES:
        raise ThemeFileError(f"MIDI file {name} is larger than {MAX_MIDI_BYTES // (1024 * 1024)} MiB")
    try:
        midi = mido.MidiFile(str(path))
    except Exception as exc:  # noqa: BLE001 — a corrupt file can fail in many ways inside mido
        raise ThemeFileError(f"MIDI file {name} is not a readable MIDI file ({exc})") from None
    resolution = midi.ticks_per_beat
    if not resolution or resolution <= 0:
        raise ThemeFileError(f"MIDI file {name} has no usable resolution (ticks per beat = {resolution})")
    for track in midi.tracks:
        notes = _track_notes(track, resolution)
        if notes:
            if len(notes) > MAX_THEME_NOTES:
                raise ThemeFileError(f"MIDI file {name} holds {len(notes)} notes; a theme may have at most "
                                     f"{MAX_THEME_NOTES}")
            beats = max(n.start + n.duration for n in notes) / PPQ
            if beats > MAX_THEME_BEATS:
                raise ThemeFileError(f"MIDI file {name} is {beats:.0f} beats long; a theme may last at most "
                                     f"{MAX_THEME_BEATS} beats")
            return notes
    raise ThemeFileError(f"MIDI file {name} holds no melodic notes (only drums, or empty)")


def _track_notes(track: list, resolution: int) -> list[Note]:
    """Notes of the first non-drum channel used in ``track`` (empty if none)."""
    now = 0
    channel: int | None = None
    sounding: dict[int, list[tuple[int, int]]] = {}
    notes: list[Note] = []

    def to_ticks(t: int) -> int:
        return round(t * PPQ / resolution)

    for msg in track:
        now += msg.time
        if msg.type not in ("note_on", "note_off") or msg.channel == DRUM_CHANNEL:
            continue
        if channel is None:
            if msg.type == "note_on" and msg.velocity > 0:
                channel = msg.channel
            else:
                continue
        if msg.channel != channel:
            continue
        if msg.type == "note_on" and msg.velocity > 0:
            sounding.setdefault(msg.note, []).append((now, msg.velocity))
        elif sounding.get(msg.note):
            start, velocity = sounding[msg.note].pop(0)
            begin = to_ticks(start)
            notes.append(Note(begin, msg.note, max(1, to_ticks(now) - begin), max(1, min(127, velocity))))
    return sorted(notes)
