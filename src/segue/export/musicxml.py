"""MusicXML export through music21 (imported lazily: it takes seconds to load).

We go through MIDI rather than building notation by hand: music21's MIDI import quantises, splits
voices and ties notes across bar lines, which is the hard, non-product part of notation export.
What goes in is a *notation* MIDI, not the playback file: no markers or provenance (a notation
program prints text events), integer tempi, and each short note written to the next onset of its
part (a staccato eighth, not a sixteenth and a rest). What comes out is tidied so that MuseScore 3
imports it without errors: one declared instrument per part (music21's import leaves one per
program change and per drum sound, and MuseScore refused notes pointing at undeclared ones), one
integer tempo mark at the top of the first part, tuplets only when the music has them, modes named
in the key (``<mode>phrygian</mode>``), notes spelled by key and chord. The score is written at
concert pitch (every layer's part carries its GM instrument, no transposition).
"""

from __future__ import annotations

import io
from pathlib import Path

from segue.engine.performance import Performance
from segue.export.midi import build_midi
from segue.music import PPQ, Note
from segue.music.spelling import spell

GRID = PPQ // 4
"""The notation grid: a sixteenth. Onsets off this grid are taken as tuplets (triplet divisors)."""
STACCATO = 0.6
"""A note that sounds for at most this share of its written value is marked staccato."""


def notation_notes(notes: list[Note]) -> tuple[list[Note], set[tuple[int, int]]]:
    """Notes as written: a short note lasts to the next onset of its part when that is within a beat
    (``(start, pitch)`` of those that sound for ≤ 60 % of it come back as staccato), any other
    end is rounded up to the grid. Sounding lengths stay in the playback MIDI; this is how they read."""
    onsets = sorted({n.start for n in notes})
    out: list[Note] = []
    staccato: set[tuple[int, int]] = set()
    import bisect

    for n in notes:
        i = bisect.bisect_right(onsets, n.start)
        nxt = onsets[i] if i < len(onsets) else None
        end = -(-n.end // GRID) * GRID
        if nxt is not None and n.end < nxt <= n.start + PPQ:
            end = nxt
            if n.duration <= STACCATO * (nxt - n.start) and nxt - n.start >= 2 * GRID:
                staccato.add((n.start, n.pitch))
        elif nxt is not None and n.end <= nxt < end:
            end = nxt
        out.append(Note(n.start, n.pitch, max(end - n.start, 1), n.velocity))
    return out, staccato


def _notation_performance(perf: Performance) -> tuple[Performance, dict[str, set[tuple[int, int]]]]:
    from dataclasses import replace as dc_replace

    staccato: dict[str, set[tuple[int, int]]] = {}
    written: dict[str, list[Note]] = {}
    for part in perf.parts:
        notes = perf.notes(part.name)
        if part.is_drums:
            written[part.name] = [Note(n.start, n.pitch, max(GRID, n.duration - n.duration % GRID or GRID), n.velocity)
                                  for n in notes]
            staccato[part.name] = set()
        else:
            written[part.name], staccato[part.name] = notation_notes(notes)
    # one pseudo-bar holding every written note: build_midi reads notes through perf.notes()
    bars = [dc_replace(b, notes={}) for b in perf.bars]
    if bars:
        bars[0] = dc_replace(bars[0], notes={k: v for k, v in written.items()}, cut=None)
    notation = dc_replace(perf, bars=bars, provenance={})
    return notation, staccato


def write_musicxml(perf: Performance, path: str | Path) -> Path:
    """Write ``perf`` as MusicXML (one part per layer, instrument names from the layers)."""
    from music21 import converter, metadata

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    notation, staccato = _notation_performance(perf)
    buf = io.BytesIO()
    build_midi(notation, provenance=False, markers=False).save(file=buf)
    on_grid = all(n.start % GRID == 0 for p in perf.parts for n in perf.notes(p.name))
    score = converter.parse(buf.getvalue(), format="midi", quantizePost=True,
                            quarterLengthDivisors=(4,) if on_grid else (4, 3))
    score.metadata = metadata.Metadata()
    score.metadata.title = perf.name
    home = perf.home_key
    if home.mode not in ("major", "minor"):
        score.metadata.movementName = f"in {home.name()}"
    score.metadata.composer = "Segue"
    parts = list(score.parts)
    # music21 may drop empty tracks; name the parts we got after their layers
    layers = [p for p in perf.parts if perf.notes(p.name)]
    for part, layer in zip(parts, layers):
        if layer.is_drums:
            _one_kit(part)
        else:
            _spell_part(part, perf)
            _one_instrument(part, layer)
            _mark_staccato(part, staccato.get(layer.name, set()))
        part.partName = layer.name
        inst = part.getInstrument(returnDefault=False)
        if inst is not None:
            inst.partName = layer.name
    _one_tempo_mark(score, parts, perf)
    _modes(parts, perf)
    score.write("musicxml", fp=str(path))
    return path


def _one_instrument(part, layer) -> None:
    """Exactly one instrument in the part: the layer's General MIDI program, at concert pitch."""
    from music21 import instrument

    for old in list(part.recurse().getElementsByClass(instrument.Instrument)):
        old.activeSite.remove(old)
    try:
        inst = instrument.instrumentFromMidiProgram(layer.program)
    except Exception:  # an unknown program: a generic instrument that still plays it
        inst = instrument.Instrument()
    inst.midiProgram = layer.program
    inst.transposition = None  # the score is at concert pitch, as the MIDI sounds
    inst.partName = layer.name
    inst.instrumentName = inst.instrumentName or layer.name
    for el in part.recurse().notes:
        if hasattr(el, "storedInstrument"):
            el.storedInstrument = None
    part.insert(0, inst)


def _mark_staccato(part, marks: set[tuple[int, int]]) -> None:
    if not marks:
        return
    from music21 import articulations

    for el in part.recurse().notes:
        tick = int(round(float(el.getOffsetInHierarchy(part)) * PPQ))
        if any((tick, int(p.midi)) in marks for p in el.pitches):
            if not any(isinstance(a, articulations.Staccato) for a in el.articulations):
                el.articulations.append(articulations.Staccato())


def _one_tempo_mark(score, parts, perf: Performance) -> None:
    """One integer ♩ = N at the top (and at each real tempo change), in the first part only."""
    from music21 import stream, tempo

    for mm in list(score.recurse().getElementsByClass(tempo.MetronomeMark)):
        mm.activeSite.remove(mm)
    if not parts:
        return
    measures = list(parts[0].getElementsByClass(stream.Measure))
    last = None
    for point in perf.tempo_map.points:
        if point.tick > perf.end_tick:
            break
        bpm = int(round(point.bpm))
        if bpm == last:
            continue
        last = bpm
        ql = point.tick / PPQ
        home = next((m for m in reversed(measures) if float(m.offset) <= ql + 1e-9), None)
        mark = tempo.MetronomeMark(number=bpm)  # the tempo map counts quarter notes per minute
        if home is None:
            parts[0].insert(ql, mark)
        else:
            home.insert(ql - float(home.offset), mark)


def _modes(parts, perf: Performance) -> None:
    """Key signatures without a mode unless it is major or minor (MuseScore 3 refuses ``<mode>dorian</mode>``
    and the MIDI file's key signature can only say the relative major or minor: C phrygian came out as
    "F minor"). The signature's flats and sharps are the key's; its mode is named in the title."""
    from music21 import key as m21key

    changes = perf.key_changes()
    if not changes:
        return
    for part in parts:
        for ks in list(part.recurse().getElementsByClass(m21key.KeySignature)):
            tick = int(round(float(ks.getOffsetInHierarchy(part)) * PPQ))
            k = ([kk for t, kk in changes if t <= tick] or [changes[0][1]])[-1]
            if k.mode in ("major", "minor") or ks.sharps is None:
                continue
            plain = m21key.KeySignature(ks.sharps)
            ks.activeSite.replace(ks, plain)


def _spell_part(part, perf: Performance) -> None:
    """Respell every note by the key and chord sounding at its onset (A♭ in ♭VI, not G♯).

    music21's MIDI import spells each pitch class one fixed way; the composer knows better, because
    its chords are stacked on letters. The sounding pitch never changes, only its name.
    """
    from music21 import pitch as m21pitch

    bars = perf.sounding_bars()
    if not bars:
        return
    starts = [b.start for b in bars]
    for element in part.recurse().notes:
        tick = int(round(float(element.getOffsetInHierarchy(part)) * PPQ))
        i = max(0, min(len(bars) - 1, next((k for k in range(len(starts) - 1, -1, -1) if starts[k] <= tick), 0)))
        bar = bars[i]
        chord = [c for off, c in bar.chords if off <= tick - bar.start][-1] if bar.chords else None
        for p in element.pitches:
            letter, alter, octave = spell(int(p.midi), bar.key, chord)
            named = m21pitch.Pitch(letter + {-2: "--", -1: "-", 0: "", 1: "#", 2: "##"}[alter] + str(octave))
            if named.midi == p.midi:
                p.step, p.accidental, p.octave = named.step, named.accidental, named.octave


def _one_kit(part) -> None:
    """One percussion instrument for the whole drum part.

    music21's MIDI import gives every drum note its own instrument (Hi-Hat Cymbal, Bass Drum …) that
    the part's instrument list does not declare, and its MusicXML writer then refuses the part; a
    drum kit is one instrument on one staff, each sound at its own display position.
    """
    from music21 import instrument

    kit = instrument.Percussion()
    for el in part.recurse().notes:
        if hasattr(el, "storedInstrument"):
            el.storedInstrument = kit
    for old in list(part.recurse().getElementsByClass(instrument.Instrument)):
        old.activeSite.remove(old)
    part.insert(0, kit)
