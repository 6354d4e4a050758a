"""Files for the composer's other tools: Standard MIDI (type 1), MusicXML and WAV.

MIDI: a conductor track (tempo, meter, key signature, the key and every chord as markers,
the recipe as text) and one named track per layer — melody, accompaniment, bass, doubling.
MusicXML is built note by note in music21 (not through MIDI), so the chord progression
travels as real chord symbols above the melody and notation programs show the harmony.
WAV goes through the audio floor's offline renderer, the same synth and bus as the engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from segue.music import PPQ, Key, Meter, TempoMap
from segue.variations.draft import Layer
from segue.variations.errors import VariationError
from segue.variations.explore import Variation
from segue.variations.harmony import ChordChange, chord_kind
from segue.variations.motif import Motif

LAYER_GAIN_DB = {"melody": 0.0, "accompaniment": -5.0, "bass": -3.0, "doubling": -7.0}


@dataclass(frozen=True)
class Piece:
    """What every exporter needs: name, key, meter, tempo, layers and (optionally) chords."""

    name: str
    key: Key
    meter: Meter
    bpm: float
    layers: tuple[Layer, ...]
    chords: tuple[ChordChange, ...] = ()
    text: str = ""

    @classmethod
    def of(cls, x: "Variation | Motif | Piece", program: int = 0) -> "Piece":
        if isinstance(x, Piece):
            return x
        if isinstance(x, Variation):
            return cls(x.motif.name, x.motif.key, x.motif.meter, x.motif.bpm, x.all_layers, x.chords,
                       "; ".join(x.recipe))
        if isinstance(x, Motif):
            return cls(x.name, x.key, x.meter, x.bpm, (Layer("melody", program, x.notes),))
        raise TypeError(f"cannot export {type(x).__name__}")

    @property
    def end(self) -> int:
        """Last tick, rounded up to a whole bar."""
        last = max([n.end for ly in self.layers for n in ly.notes] + [c.end for c in self.chords] + [1])
        bar = self.meter.ticks_per_bar
        return -(-last // bar) * bar


def _channels(layers: Sequence[Layer]) -> list[int]:
    free = [c for c in range(16) if c != 9]
    out, i = [], 0
    for ly in layers:
        if ly.is_drums:
            out.append(9)
        else:
            out.append(free[i % len(free)])
            i += 1
    return out


def build_midi(x: "Variation | Motif | Piece"):  # -> mido.MidiFile
    import mido

    from segue.export import midi_key_name

    piece = Piece.of(x)
    end = piece.end
    mid = mido.MidiFile(type=1, ticks_per_beat=PPQ, charset="utf-8")  # names in UTF-8, not latin-1

    def track(events: list[tuple[int, int, object]]) -> mido.MidiTrack:
        t = mido.MidiTrack()
        now = 0
        for tick, _order, msg in sorted(events, key=lambda e: (e[0], e[1])):
            t.append(msg.copy(time=tick - now))  # type: ignore[attr-defined]
            now = tick
        t.append(mido.MetaMessage("end_of_track", time=max(end - now, 0)))
        return t

    cond: list[tuple[int, int, object]] = [
        (0, 0, mido.MetaMessage("track_name", name=_latin1(piece.name)[:120])),
        (0, 1, mido.MetaMessage("time_signature", numerator=piece.meter.numerator,
                                denominator=piece.meter.denominator)),
        (0, 2, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(piece.bpm))),
        (0, 3, mido.MetaMessage("key_signature", key=midi_key_name(piece.key))),
        (0, 4, mido.MetaMessage("marker", text=_latin1(f"key: {piece.key.name()}"))),
    ]
    if piece.text:
        cond.append((0, 5, mido.MetaMessage("text", text=_latin1("segue variation: " + piece.text)[:500])))
    for c in piece.chords:
        cond.append((c.start, 6, mido.MetaMessage("marker", text=_latin1(f"chord: {c.symbol}"))))
    mid.tracks.append(track(cond))
    for ly, ch in zip(piece.layers, _channels(piece.layers)):
        ev: list[tuple[int, int, object]] = [(0, 0, mido.MetaMessage("track_name", name=_latin1(ly.name)))]
        if not ly.is_drums:
            ev.append((0, 1, mido.Message("program_change", channel=ch, program=ly.program)))
        for n in ly.notes:
            ev.append((n.start, 10, mido.Message("note_on", channel=ch, note=n.pitch, velocity=n.velocity)))
            ev.append((min(n.end, end), 5, mido.Message("note_off", channel=ch, note=n.pitch, velocity=0)))
        mid.tracks.append(track(ev))
    return mid


def _latin1(text: str) -> str:
    """MIDI text events are Latin-1: spell dashes and arrows in ASCII, replace anything else."""
    for a, b in (("–", "-"), ("—", "-"), ("→", "->"), ("♭", "b"), ("♯", "#"), ("’", "'")):
        text = text.replace(a, b)
    return text.encode("latin-1", "replace").decode("latin-1")


def write_midi(x: "Variation | Motif | Piece", path: str | Path) -> Path:
    """A type-1 Standard MIDI file at PPQ 480."""
    path = _writable(path)
    build_midi(x).save(str(path))
    return path


def _m21_key(key: Key):  # -> music21.key.Key
    from music21 import key as m21key

    mode = {"natural_minor": "minor", "aeolian": "minor", "harmonic_minor": "minor", "melodic_minor": "minor",
            "ionian": "major"}.get(key.mode, key.mode)
    from segue.music.pitch import PITCH_CLASS_NAMES

    return m21key.Key(PITCH_CLASS_NAMES[key.tonic].replace("b", "-"), mode)


def build_score(x: "Variation | Motif | Piece"):  # -> music21.stream.Score
    from music21 import chord as m21chord, harmony, instrument, metadata, meter, note, stream, tempo

    piece = Piece.of(x)
    score = stream.Score()
    score.metadata = metadata.Metadata()
    score.metadata.title = piece.name
    score.metadata.composer = "Segue variations"
    for idx, ly in enumerate(piece.layers):
        part = stream.Part()
        part.partName = ly.name
        try:
            inst = instrument.instrumentFromMidiProgram(ly.program)
        except Exception:  # noqa: BLE001 - music21 lacks a class for a few GM programs
            inst = instrument.Instrument()
        inst.partName = ly.name
        inst.midiProgram = ly.program
        part.insert(0, inst)
        part.insert(0, meter.TimeSignature(f"{piece.meter.numerator}/{piece.meter.denominator}"))
        part.insert(0, _m21_key(piece.key))
        if idx == 0:
            part.insert(0, tempo.MetronomeMark(number=piece.bpm))
            for c in piece.chords:
                from segue.music.pitch import PITCH_CLASS_NAMES

                cs = harmony.ChordSymbol(root=PITCH_CLASS_NAMES[c.chord.root].replace("b", "-"),
                                         kind=chord_kind(c.chord)[1])
                cs.writeAsChord = False
                part.insert(Fraction(c.start, PPQ), cs)
        groups: dict[tuple[int, int], list[int]] = {}
        for n in ly.notes:
            groups.setdefault((n.start, n.duration), []).append(n.pitch)
        for (start, dur), pitches in sorted(groups.items()):
            ql = Fraction(dur, PPQ)
            el = note.Note(pitches[0], quarterLength=ql) if len(pitches) == 1 else \
                m21chord.Chord(sorted(pitches), quarterLength=ql)
            part.insert(Fraction(start, PPQ), el)
        score.insert(0, part)
    return score


def write_musicxml(x: "Variation | Motif | Piece", path: str | Path) -> Path:
    """MusicXML with one part per layer and the chord progression as chord symbols."""
    path = _writable(path)
    score = build_score(x)
    try:
        score.write("musicxml", fp=str(path))
    except Exception as exc:  # noqa: BLE001 - music21 notation errors
        raise VariationError(f"could not write MusicXML {path}: {type(exc).__name__}: {exc}") from None
    return path


def write_wav(x: "Variation | Motif | Piece", path: str | Path, *, sample_rate: int = 44100,
              tail_seconds: float = 1.5) -> Path:
    """Render every layer through the audio floor (SoundFont synth, bus, −16 LUFS) to a WAV file."""
    from segue.audio import LayerAudio, render_notes, write_audio

    path = _writable(path)
    piece = Piece.of(x)
    tm = TempoMap.constant(piece.bpm, sample_rate)
    layers = [LayerAudio.from_notes(ly.name, ly.notes, tm, program=ly.program, is_drums=ly.is_drums,
                                    gain_db=LAYER_GAIN_DB.get(ly.name, -4.0)) for ly in piece.layers if ly.notes]
    mix, _ = render_notes(layers, sample_rate, tail_seconds=tail_seconds, keep_stems=False)
    write_audio(path, mix, sample_rate)
    return path


def _writable(path: str | Path) -> Path:
    p = Path(path)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise VariationError(f"cannot write {p}: {exc.strerror or exc}") from None
    return p
