"""MusicXML export through music21 (imported lazily: it takes seconds to load).

We go through the MIDI we already write rather than building notation by hand: music21's
MIDI import quantises, splits voices and ties notes across bar lines, which is the hard,
non-product part of notation export, and the result opens in MuseScore, Sibelius and Dorico.
"""

from __future__ import annotations

import io
from pathlib import Path

from segue.engine.performance import Performance
from segue.export.midi import build_midi
from segue.music import PPQ
from segue.music.spelling import spell


def write_musicxml(perf: Performance, path: str | Path) -> Path:
    """Write ``perf`` as MusicXML (one part per layer, instrument names from the layers)."""
    from music21 import converter, instrument, metadata

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    build_midi(perf).save(file=buf)
    score = converter.parse(buf.getvalue(), format="midi", quantizePost=True, quarterLengthDivisors=(4, 3))
    score.metadata = metadata.Metadata()
    score.metadata.title = perf.name
    score.metadata.composer = "Segue"
    parts = list(score.parts)
    # music21 may drop empty tracks; name the parts we got after their layers
    names = [p.name for p in perf.parts if perf.notes(p.name)]
    drums = {p.name for p in perf.parts if p.is_drums}
    for part, name in zip(parts, names):
        if name not in drums:
            _spell_part(part, perf)
        else:
            _one_kit(part)
        part.partName = name
        inst = part.getInstrument(returnDefault=False)
        if inst is None:
            inst = instrument.Instrument()
            part.insert(0, inst)
        inst.partName = name
    score.write("musicxml", fp=str(path))
    return path


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
