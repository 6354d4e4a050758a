"""The musical state: what the composer is asked to write right now.

The conductor moves this state (from affect, game parameters, cues); the composer reads it
bar by bar. Keeping it a small immutable value makes "what changed between bar 12 and 13"
a comparison, and makes every bar reproducible from (seed, bar, state).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from segue.music import Key, Meter


def clamp(x: float, lo: float = 0.0, hi: float = 1.0) -> float:
    """Clamp to [lo, hi]; NaN becomes ``lo`` so a bad control can never poison the music."""
    if x is None or isinstance(x, bool) or not isinstance(x, (int, float)) or math.isnan(x):
        return lo
    return lo if x < lo else hi if x > hi else float(x)


@dataclass(frozen=True, slots=True)
class MusicalState:
    """Everything the composer needs to write one bar, in musical terms.

    density   0..1  how many notes (rhythmic activity) the layers play
    tension   0..1  harmonic tension: dominant/diminished chords, sevenths, leaps, dissonant cadences
    register -1..1  shift of melodic register down/up within each layer's range
    dynamics  0..1  loudness (MIDI velocity) of the whole arrangement
    intensity 0..1  the vertical-layering control: layers enter when it reaches their ``enter`` threshold
    valence  -1..1  negative ↔ positive: harmonic colour (chromaticism, dissonance) beyond the key
    """

    key: Key
    tempo: float
    meter: Meter = Meter(4, 4)
    density: float = 0.5
    tension: float = 0.3
    register: float = 0.0
    dynamics: float = 0.6
    intensity: float = 0.5
    theme: str | None = None
    layers: frozenset[str] | None = None
    """Layers allowed to play (None = decided by intensity and each layer's ``enter``)."""
    percussion: float = 1.0
    """Scale on percussion activity (0 silences drums without touching the rest)."""
    layer_gain_db: tuple[tuple[str, float], ...] = field(default=())
    valence: float = 0.0
    """-1..1, the affect's valence: colours the harmony (dark chromatic chords for negative valence
    with tension, brighter applied chords for positive), beyond the choice of key."""

    def with_(self, **changes: object) -> "MusicalState":
        return replace(self, **changes)
