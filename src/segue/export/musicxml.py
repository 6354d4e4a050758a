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
    for part, name in zip(parts, names):
        part.partName = name
        inst = part.getInstrument(returnDefault=False)
        if inst is None:
            inst = instrument.Instrument()
            part.insert(0, inst)
        inst.partName = name
    score.write("musicxml", fp=str(path))
    return path
