"""Guessing a motif's key and meter when the file does not say (always overridable).

Key: the style floor's profile correlation (Aarden–Essen profiles, a head start for the last
note's pitch class, the written key signature when there is one), then the *mode* with that
tonic that covers most of the sounding time — so a tune in D with C naturals reads as D
mixolydian rather than as D major with wrong notes, and an A-minor tune with G♯ as harmonic
minor. Meter: which bar length puts the long notes on downbeats and strong beats.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from segue.music import MODES, Key, Meter, Note
from segue.style.analysis import find_key

_MODE_CHOICES = ("major", "minor", "harmonic_minor", "melodic_minor", "dorian", "mixolydian", "lydian", "phrygian")
"""Modes a detected tonic may take (locrian is never the best explanation of a real tune)."""

MODE_MARGIN = 0.04
"""Share of sounding time a mode must cover *beyond* the profile's major/minor before we switch to it."""


def pc_weights(notes: Sequence[Note]) -> np.ndarray:
    """Sounding time of each pitch class (notes weighted by duration)."""
    w = np.zeros(12)
    for n in notes:
        w[n.pitch % 12] += n.duration
    return w


def detect_key(notes: Sequence[Note], sharps: int | None = None) -> Key:
    """The most likely key of a melody; ``sharps`` is a written key signature (−7..7) if known."""
    if not notes:
        return Key(0, "major")
    w = pc_weights(notes)
    base = find_key(w, final_bass_pc=notes[-1].pitch % 12, sharps=sharps)
    total = float(w.sum()) or 1.0

    def cover(mode: str) -> float:
        pcs = {(base.tonic + s) % 12 for s in MODES[mode]}
        return sum(w[pc] for pc in pcs) / total

    best_mode, best_cover = base.mode, cover(base.mode)
    for mode in _MODE_CHOICES:
        c = cover(mode)
        if c > best_cover + MODE_MARGIN:
            best_mode, best_cover = mode, c
    return Key(base.tonic, best_mode)


_METERS = (Meter(4, 4), Meter(3, 4), Meter(6, 8))
_PRIOR = {"4/4": 0.06, "3/4": 0.0, "6/8": 0.0}
"""A small head start for 4/4: with little evidence (a two-beat motif) it is the likeliest. 2/4 is
not guessed: from notes alone it cannot be told from 4/4 (give ``meter="2/4"``)."""


def metric_weight(offset: int, meter: Meter) -> float:
    """Accent of a position in the bar: downbeat 1, other strong beats 0.6, beats 0.3, off-beats 0."""
    beat, inside = divmod(offset % meter.ticks_per_bar, meter.ticks_per_beat)
    if inside:
        return 0.0
    if beat == 0:
        return 1.0
    return 0.6 if beat in meter.strong_beats else 0.3


def detect_meter(notes: Sequence[Note]) -> Meter:
    """The meter whose accents best match where the long notes start (onsets from the first bar line).

    Each note votes with its length (long notes fall on strong beats in almost all tonal music);
    a motif that fills a whole number of bars gets a small bonus.
    """
    if not notes:
        return Meter(4, 4)
    end = max(n.end for n in notes)
    total = sum(n.duration for n in notes) or 1
    best: tuple[float, Meter] | None = None
    for meter in _METERS:
        score = sum(n.duration * metric_weight(n.start, meter) for n in notes) / total
        span = max(n.start for n in notes) + min(max(notes, key=lambda n: n.start).duration, meter.ticks_per_beat)
        if end % meter.ticks_per_bar == 0 or span % meter.ticks_per_bar == 0:
            score += 0.08
        # a compound meter needs some dotted-quarter motion (an IOI of 3, 9… eighths)
        if meter.compound and not any(i % 720 == 0 and i % 480 for i in _iois(notes)):
            score -= 0.2
        score += _PRIOR[str(meter)]
        if best is None or score > best[0] + 1e-9:
            best = (score, meter)
    assert best is not None
    return best[1]


def _iois(notes: Sequence[Note]) -> list[int]:
    """Inter-onset intervals plus the last note's length."""
    starts = sorted(n.start for n in notes)
    return [b - a for a, b in zip(starts, starts[1:])] + [max(notes, key=lambda n: n.start).duration]
