"""Reading a motif: a MIDI file, MusicXML, ABC (or anything music21 reads), or inline note text.

Everything that can go wrong with a composer's file is a :class:`VariationError` with a
sentence to act on: a missing, empty or corrupt file, a file of drums only, chords where a
line was expected (ask for the skyline), a single note. A long file is not an error: a motif
is a few bars, so we take a window and say which in the motif's ``remarks``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from segue.limits import MAX_MIDI_BYTES, MAX_MOTIF_BEATS, MAX_MOTIF_NOTES
from segue.music import PPQ, Key, Meter, Note
from segue.spec import NoteTextError, parse_note_text
from segue.spec.notation import parse_key
from segue.variations.detect import detect_key, detect_meter
from segue.variations.errors import VariationError
from segue.variations.motif import DEFAULT_BPM, GRID, Motif, chromatic_notes, monophonic, quantize

MIDI_SUFFIXES = (".mid", ".midi", ".smf", ".kar")
SCORE_SUFFIXES = (".xml", ".musicxml", ".mxl", ".abc", ".krn", ".mei")
DRUM_CHANNEL = 9

MAX_NOTES = 64
"""More notes than this is a piece, not a motif: we take a window."""
WINDOW_NOTES = 32
"""A window taken from a long file holds whole bars and at most this many notes…"""
WINDOW_BARS = 4
"""… and at most this many bars (a phrase)."""

_SHARPS = {"C": 0, "G": 1, "D": 2, "A": 3, "E": 4, "B": 5, "F#": 6, "C#": 7, "F": -1, "Bb": -2, "Eb": -3,
           "Ab": -4, "Db": -5, "Gb": -6, "Cb": -7}
_SHARPS.update({"Am": 0, "Em": 1, "Bm": 2, "F#m": 3, "C#m": 4, "G#m": 5, "D#m": 6, "A#m": 7, "Dm": -1, "Gm": -2,
                "Cm": -3, "Fm": -4, "Bbm": -5, "Ebm": -6, "Abm": -7})


@dataclass
class _Voice:
    """The notes of one track/channel (MIDI) or part (notation) before a line is chosen."""

    label: str
    notes: list[Note] = field(default_factory=list)

    @property
    def polyphony(self) -> int:
        """Most notes struck at one onset or overlapping by more than a grid step."""
        events = sorted((n.start, n.end) for n in self.notes)
        most, active = 1 if events else 0, []
        for s, e in events:
            active = [x for x in active if x > s + GRID]
            active.append(e)
            most = max(most, len(active))
        return most


@dataclass
class _Raw:
    """What a file holds: pitched voices, how many drum notes, and what it says about meter/key/tempo."""

    voices: list[_Voice]
    drum_notes: int = 0
    meter: Meter | None = None
    sharps: int | None = None
    bpm: float | None = None
    remarks: list[str] = field(default_factory=list)


def read_motif(source: str | Path, *, key: Key | str | None = None, meter: Meter | str | None = None,
               bpm: float | None = None, skyline: bool = False, track: int | None = None,
               bars: tuple[int, int] | None = None, name: str | None = None) -> Motif:
    """A motif from a file path (MIDI, MusicXML, ABC…) or inline note text (``"C4:1 E4:0.5 G4"``).

    ``key``/``meter``/``bpm`` override what is detected or written in the file. ``skyline``
    reduces chords and several parts to the top line; without it, chordal input is an error
    that says so. ``track`` (0-based, MIDI track or score part) picks one line of a multi-part
    file. ``bars=(first, count)`` (first bar is 1) picks the window of a long file.
    """
    raw, label, stem = _read_source(source)
    return _motif_from_raw(raw, label, key=key, meter=meter, bpm=bpm, skyline=skyline, track=track, bars=bars,
                           name=name or stem)


def motif_from_notes(notes: Sequence[Note], *, key: Key | str | None = None, meter: Meter | str | None = None,
                     bpm: float | None = None, name: str = "motif", skyline: bool = True) -> Motif:
    """A motif from notes already in memory (a spec theme, a phrase), detecting what is not given."""
    raw = _Raw([_Voice(name, list(notes))])
    return _motif_from_raw(raw, f"'{name}'", key=key, meter=meter, bpm=bpm, skyline=skyline, track=None,
                           bars=None, name=name)


# ------------------------------------------------------------------------------- sources

def _read_source(source: str | Path) -> tuple[_Raw, str, str]:
    """What the source holds, how messages name it, and the motif's default name."""
    if isinstance(source, Path) or _looks_like_path(str(source)):
        path = Path(source).expanduser()
        shown = str(source)
        if not path.is_file():
            raise VariationError(f"motif file '{shown}' not found")
        if path.stat().st_size == 0:
            raise VariationError(f"motif file '{shown}' is empty (0 bytes)")
        suffix = path.suffix.lower()
        if suffix in MIDI_SUFFIXES:
            return _read_midi(path, shown), f"'{shown}'", path.stem
        if suffix in SCORE_SUFFIXES:
            return _read_score(path, shown), f"'{shown}'", path.stem
        raise VariationError(f"motif file '{shown}' has an unknown type {suffix or '(no extension)'!r}; "
                             f"use MIDI ({', '.join(MIDI_SUFFIXES)}), MusicXML or ABC, or write the notes inline")
    text = str(source)
    try:
        notes = parse_note_text(text)
    except NoteTextError as exc:
        raise VariationError(f"motif note text: {exc}") from None
    return _Raw([_Voice("note text", notes)]), "the note text", "motif"


def _looks_like_path(text: str) -> bool:
    if os.path.exists(text):
        return True
    suffix = os.path.splitext(text.strip())[1].lower()
    return suffix in MIDI_SUFFIXES + SCORE_SUFFIXES or os.sep in text and " " not in text.strip()


def _read_midi(path: Path, shown: str) -> _Raw:
    import mido

    if path.stat().st_size > MAX_MIDI_BYTES:
        raise VariationError(f"motif file '{shown}' is larger than {MAX_MIDI_BYTES // (1024 * 1024)} MiB")
    try:
        midi = mido.MidiFile(str(path))
    except Exception as exc:  # noqa: BLE001 - a corrupt file fails in many ways inside mido
        raise VariationError(f"motif file '{shown}' is not a readable MIDI file ({exc})") from None
    res = midi.ticks_per_beat
    if not res or res <= 0:
        raise VariationError(f"motif file '{shown}' has no usable resolution (ticks per beat = {res})")
    raw = _Raw([])
    voices: dict[tuple[int, int], _Voice] = {}
    notes_read = 0
    for ti, track in enumerate(midi.tracks):
        now = 0
        sounding: dict[tuple[int, int], list[tuple[int, int]]] = {}
        tname = ""
        for msg in track:
            now += msg.time
            if now > MAX_MOTIF_BEATS * res:
                # every later step works on the whole span: a file lasting 319 hours ran vary for 8–19 min
                raise VariationError(f"motif file '{shown}' lasts more than {MAX_MOTIF_BEATS} beats (an event at "
                                     f"beat {now // res}); Segue reads motif files up to that length")
            if msg.type == "track_name" and not tname:
                tname = msg.name.strip()
            elif msg.type == "time_signature" and raw.meter is None:
                try:
                    raw.meter = Meter(msg.numerator, msg.denominator)
                except ValueError:
                    pass
            elif msg.type == "key_signature" and raw.sharps is None:
                raw.sharps = _SHARPS.get(msg.key)
            elif msg.type == "set_tempo" and raw.bpm is None and msg.tempo > 0:  # tempo 0 divided by zero
                raw.bpm = round(float(mido.tempo2bpm(msg.tempo)), 2)
            elif msg.type in ("note_on", "note_off"):
                if msg.channel == DRUM_CHANNEL:
                    raw.drum_notes += int(msg.type == "note_on" and msg.velocity > 0)
                    continue
                k = (msg.channel, msg.note)
                if msg.type == "note_on" and msg.velocity > 0:
                    sounding.setdefault(k, []).append((now, msg.velocity))
                elif sounding.get(k):
                    start, vel = sounding[k].pop(0)
                    on, off = round(start * PPQ / res), round(now * PPQ / res)
                    if off > on:
                        v = voices.setdefault((ti, msg.channel), _Voice(f"track {ti} '{tname}'" if tname else f"track {ti}"))
                        v.notes.append(Note(on, msg.note, off - on, max(1, min(127, vel))))
                        notes_read += 1
                        if notes_read > MAX_MOTIF_NOTES:
                            raise VariationError(f"motif file '{shown}' holds more than {MAX_MOTIF_NOTES} notes; "
                                                 f"Segue reads motif files up to that many")
    raw.voices = [voices[k] for k in sorted(voices)]
    return raw


def _read_score(path: Path, shown: str) -> _Raw:
    from music21 import chord, converter, meter as m21meter, note, stream, tempo
    from music21 import key as m21key

    try:
        parsed = converter.parse(str(path))
    except Exception as exc:  # noqa: BLE001 - music21 raises many types for bad files
        raise VariationError(f"motif file '{shown}' could not be read as notation ({type(exc).__name__}: "
                             f"{str(exc)[:160]})") from None
    raw = _Raw([])
    if isinstance(parsed, stream.Opus):
        scores = list(parsed.scores)
        if not scores:
            raise VariationError(f"motif file '{shown}' holds no tunes")
        if len(scores) > 1:
            raw.remarks.append(f"the file holds {len(scores)} tunes; the first was taken")
        parsed = scores[0]
    ts = next(iter(parsed.recurse().getElementsByClass(m21meter.TimeSignature)), None)
    if ts is not None:
        try:
            raw.meter = Meter(int(ts.numerator), int(ts.denominator))
        except ValueError:
            pass
    ks = next(iter(parsed.recurse().getElementsByClass(m21key.KeySignature)), None)
    if ks is not None:
        raw.sharps = int(ks.sharps)
    mm = next(iter(parsed.recurse().getElementsByClass(tempo.MetronomeMark)), None)
    if mm is not None and mm.number:
        raw.bpm = float(mm.getQuarterBPM() or mm.number)
    parts = list(parsed.parts) if hasattr(parsed, "parts") and len(parsed.parts) else [parsed]
    for pi, part in enumerate(parts):
        pad = _pickup_pad(part)
        voice = _Voice(f"part {pi} '{part.partName}'" if part.partName else f"part {pi}")
        for el in part.stripTies().flatten().notes:
            ql = float(el.quarterLength)
            if ql <= 0:
                continue  # grace notes carry no time of their own
            on = round((float(el.offset) + pad) * PPQ)
            dur = max(1, round(ql * PPQ))
            if isinstance(el, note.Unpitched) or type(el).__name__ == "PercussionChord":
                raw.drum_notes += 1
            elif isinstance(el, chord.Chord):
                for p in el.pitches:
                    voice.notes.append(Note(on, int(p.midi), dur, _velocity(el)))
            elif isinstance(el, note.Note):
                voice.notes.append(Note(on, int(el.pitch.midi), dur, _velocity(el)))
        if voice.notes:
            raw.voices.append(voice)
    return raw


def _velocity(el: object) -> int:
    v = getattr(getattr(el, "volume", None), "velocity", None)
    return int(v) if v else 80


def _pickup_pad(part: object) -> float:
    """Quarter notes of silence before a pickup bar, so the first full bar starts on a bar line."""
    from music21 import stream

    measures = list(part.getElementsByClass(stream.Measure))  # type: ignore[attr-defined]
    if len(measures) < 2:
        return 0.0
    first = measures[0]
    ts = first.timeSignature or first.getContextByClass("TimeSignature")
    if ts is None:
        return 0.0
    full = float(ts.barDuration.quarterLength)
    have = float(measures[1].offset - first.offset)
    return full - have if 0 < have < full else 0.0


# ------------------------------------------------------------------------------- choosing the line

def _motif_from_raw(raw: _Raw, label: str, *, key: Key | str | None, meter: Meter | str | None,
                    bpm: float | None, skyline: bool, track: int | None, bars: tuple[int, int] | None,
                    name: str | None) -> Motif:
    remarks = list(raw.remarks)
    if not any(v.notes for v in raw.voices):
        if raw.drum_notes:
            raise VariationError(f"{label} holds only drums ({raw.drum_notes} notes on the percussion channel); "
                                 "a motif needs pitched notes")
        raise VariationError(f"{label} holds no notes")
    notes = _choose_line(raw, label, skyline, track, remarks)
    notes = [Note(quantize(n.start), n.pitch, max(GRID, quantize(n.duration)), n.velocity) for n in notes]
    notes = monophonic(notes)
    m = _meter(meter, raw, notes)
    bar = m.ticks_per_bar
    shift = min(n.start for n in notes) // bar * bar
    notes = [n.shifted(-shift) for n in notes]
    notes = _window(notes, m, bars, remarks)
    k = _key(key, raw, notes)
    motif = Motif(tuple(notes), k, m, float(bpm or raw.bpm or DEFAULT_BPM), name or "motif")
    odd = chromatic_notes(motif)
    if odd:
        remarks.append(f"{len(odd)} note{'s' * (len(odd) != 1)} outside {k.name()} "
                       f"({', '.join(sorted({_pname(n.pitch) for n in odd}))}); variations keep to the scale, "
                       "give another key or mode to keep them")
    return replace(motif, remarks=tuple(remarks))


def _pname(pitch: int) -> str:
    from segue.music import pitch_name

    return pitch_name(pitch)


def _choose_line(raw: _Raw, label: str, skyline: bool, track: int | None, remarks: list[str]) -> list[Note]:
    voices = [v for v in raw.voices if v.notes]
    if track is not None:
        if not 0 <= track < len(voices):
            raise VariationError(f"{label} has {len(voices)} pitched track(s)/part(s) (0..{len(voices) - 1}); "
                                 f"track {track} does not exist")
        voices = [voices[track]]
    if skyline:
        notes = [n for v in voices for n in v.notes]
        poly = _Voice("all", notes).polyphony
        if poly > 1 or len(voices) > 1:
            remarks.append(f"reduced {len(voices)} part(s) with up to {poly} simultaneous notes to the top line "
                           "(skyline)")
        return _skyline(notes)
    lines = [v for v in voices if v.polyphony == 1]
    if lines:
        if len(voices) > 1:
            remarks.append(f"took {lines[0].label}, the first single-line part of {len(voices)}; "
                           "give track=… to choose another, or skyline to take the top line of all")
        return list(lines[0].notes)
    worst = max(voices, key=lambda v: v.polyphony)
    raise VariationError(f"{label} has chords (up to {worst.polyphony} notes at once in {worst.label}); "
                         "a motif is one line: ask for the skyline (--skyline) to take the top line")


def _skyline(notes: list[Note]) -> list[Note]:
    """The top line: the highest note at each onset, dropping notes struck under a higher held note."""
    tops: list[Note] = []
    by_onset: dict[int, Note] = {}
    for n in notes:
        if n.start not in by_onset or n.pitch > by_onset[n.start].pitch:
            by_onset[n.start] = n
    held: Note | None = None
    for t in sorted(by_onset):
        n = by_onset[t]
        if held is not None and held.end > t + GRID and held.pitch > n.pitch:
            continue  # an inner voice moving under the melody's held note
        tops.append(n)
        held = n
    return monophonic(tops)


def _meter(meter: Meter | str | None, raw: _Raw, notes: list[Note]) -> Meter:
    if isinstance(meter, Meter):
        return meter
    if isinstance(meter, str):
        try:
            return Meter.parse(meter)
        except ValueError as exc:
            raise VariationError(str(exc)) from None
    return raw.meter or detect_meter(notes)


def _key(key: Key | str | None, raw: _Raw, notes: list[Note]) -> Key:
    if isinstance(key, Key):
        return key
    if isinstance(key, str):
        try:
            return parse_key(key)
        except ValueError as exc:
            raise VariationError(str(exc)) from None
    return detect_key(notes, raw.sharps)


def _window(notes: list[Note], meter: Meter, bars: tuple[int, int] | None, remarks: list[str]) -> list[Note]:
    """A few whole bars of a long line (or the bars asked for), saying so."""
    bar = meter.ticks_per_bar
    total = len(notes)
    if bars is not None:
        first, count = bars
        if first < 1 or count < 1:
            raise VariationError(f"bars must be (first bar ≥ 1, count ≥ 1), got {bars}")
        lo, hi = (first - 1) * bar, (first - 1 + count) * bar
        out = [n.shifted(-lo) for n in notes if lo <= n.start < hi]
        if not out:
            raise VariationError(f"bars {first}–{first + count - 1} hold no notes (the line has "
                                 f"{-(-max(n.end for n in notes) // bar)} bars)")
        out = [replace(n, duration=min(n.duration, hi - lo - n.start)) for n in out]
        if len(out) < total:
            remarks.append(f"took bars {first}–{first + count - 1} ({len(out)} of {total} notes)")
        return out
    if total <= MAX_NOTES:
        return notes
    count = 1
    while count < WINDOW_BARS and sum(1 for n in notes if n.start < (count + 1) * bar) <= WINDOW_NOTES:
        count += 1
    out = [n for n in notes if n.start < count * bar][:MAX_NOTES]
    out = [replace(n, duration=min(n.duration, count * bar - n.start)) for n in out]
    remarks.append(f"the line has {total} notes, more than a motif ({MAX_NOTES} at most): took bars 1–{count} "
                   f"({len(out)} notes); give bars=(first, count) to choose another window")
    return out
