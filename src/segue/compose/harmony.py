"""Harmony plans: a chord progression for one phrase, with a cadence at its end.

The learned harmony model proposes chord-to-chord moves; the musical state tilts them
(tension favours dominant-function and diminished chords, calm favours tonic and
subdominant), and the phrase's last two chord slots are drawn from the learned cadence table
so every phrase closes: half cadences (ending on V) and authentic cadences (ending on I)
alternate like antecedent and consequent. Where a theme is stated, chords are chosen to fit
the theme's strong-beat notes — harmonising the composer's melody rather than fighting it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from segue.compose.random import pick
from segue.music import Chord, Key, Meter

# relative pull of each scale degree's chord under tension (I ii iii IV V vi vii)
_TENSION_TILT = np.array([-1.0, 0.4, 0.0, 0.1, 1.0, 0.2, 0.8])


@dataclass(frozen=True, slots=True)
class ChordSlot:
    """One chord of a plan: which bar of the phrase, where in the bar (ticks), and the chord."""

    bar: int
    offset: int
    chord: Chord
    seventh: bool = False


def slot_offsets(meter: Meter, per_bar: int) -> list[int]:
    return [i * meter.ticks_per_bar // per_bar for i in range(per_bar)]


def harmonic_rhythm(rng: np.random.Generator, meter: Meter, bars: int) -> tuple[list[list[int]], list[float]]:
    """Chord-change offsets for each bar of a phrase, and the density at which each bar's second chord sounds.

    Every bar of a meter that splits in two is planned with two chords; the second one is heard
    only when the bar's density reaches that bar's threshold (stratified over the phrase), and the
    cadence bar always splits — the classical acceleration of harmonic rhythm into a cadence.
    Decided at play time, so a build quickens the harmony bar by bar, never all at once.
    """
    if meter.beats_per_bar not in (2, 4, 6):
        return [slot_offsets(meter, 1) for _ in range(bars)], [-1.0] * bars
    # thresholds fall towards the cadence: as density rises, the harmony quickens from the end
    # of the phrase backwards (the classical acceleration into a cadence)
    levels = 0.45 + 0.4 * (np.arange(max(bars - 1, 0)) + rng.random()) / max(bars - 1, 1)
    thresholds = [float(x) for x in sorted(levels, reverse=True)] + [-1.0]
    return [slot_offsets(meter, 2) for _ in range(bars)], thresholds[-bars:]


def plan_phrase(
    rng: np.random.Generator,
    harmony: object,
    key: Key,
    meter: Meter,
    bars: int,
    *,
    offsets: list[list[int]],
    tension: float,
    cadence: str,
    prev_degree: int | None,
    theme_strong_pcs: dict[tuple[int, int], set[int]] | None = None,
) -> list[ChordSlot]:
    """Chord slots for a phrase of ``bars`` bars.

    ``harmony`` is a learned :class:`segue.style.HarmonyModel`; ``cadence`` is ``"half"`` or
    ``"authentic"``; ``theme_strong_pcs`` maps a slot (bar, offset) → the pitch classes the
    theme sounds on strong beats during that slot, which the chosen chords should contain.
    """
    family = key.family
    positions = [(b, o) for b in range(bars) for o in offsets[b]]
    n = len(positions)
    tilt = np.exp(_TENSION_TILT * (tension - 0.4) * 2.0)
    degrees: list[int] = []
    for i in range(max(n - 2, 0)):
        if i == 0 and prev_degree is None:
            p = np.array(harmony.first_probs(family), dtype=float)
            p = p * np.array([4.0, 0.5, 0.3, 0.8, 0.6, 0.6, 0.1])  # open a piece at home
        else:
            p = np.array(harmony.next_probs(family, degrees[-1] if degrees else prev_degree), dtype=float)
            p = p * tilt
        p = p * _theme_fit(key, positions[i], theme_strong_pcs)
        if degrees and len(degrees) >= 1:
            p[degrees[-1]] *= 0.35  # the same chord again is a non-move; let the music breathe
        degrees.append(pick(rng, p))
    # cadence: last two slots from the learned cadence table, final chord fixed by cadence type
    final = 4 if cadence == "half" else 0
    cad = np.array(harmony.cadence_probs(family), dtype=float)
    pen_w = cad[:, final].copy()
    pen_w[final] = 0.0
    if degrees:
        pen_w = pen_w * (np.array(harmony.next_probs(family, degrees[-1]), dtype=float) + 1e-3)
    if n >= 2:
        pen_w = pen_w * _theme_fit(key, positions[n - 2], theme_strong_pcs)
        degrees.append(pick(rng, pen_w))
    degrees.append(final)
    slots = []
    for (bar, off), d in zip(positions, degrees):
        seventh = d == 4 and tension > 0.55 or d == 1 and tension > 0.75
        slots.append(ChordSlot(bar=bar, offset=off, chord=key.chord(d, seventh=seventh), seventh=seventh))
    return slots


def _theme_fit(key: Key, position: tuple[int, int], theme_strong_pcs: dict | None) -> np.ndarray:
    """Weights over the 7 degrees: how many theme strong-beat pitch classes each triad contains."""
    if not theme_strong_pcs:
        return np.ones(7)
    pcs = theme_strong_pcs.get(position)
    if not pcs:
        return np.ones(7)
    w = np.empty(7)
    for d in range(7):
        ch = key.chord(d)
        hits = len(pcs & ch.pcs)
        w[d] = 0.15 + hits**2
    return w


def plan_bridge(key: Key, from_key: Key, meter: Meter, bars: int) -> list[ChordSlot]:
    """A bridge into ``key``: a pivot chord that belongs to both keys, then the new key's dominant.

    The pivot is the classical common-chord modulation: a predominant (ii, IV) or vi of the new
    key whose notes all lie in the old key, so the ear hears it as "still home" and then as the
    door to the new key when the dominant follows.
    """
    per_bar = 2 if meter.beats_per_bar in (2, 4, 6) else 1
    offsets = slot_offsets(meter, per_bar)
    positions = [(b, o) for b in range(bars) for o in offsets]
    pivot = next((d for d in (1, 3, 5, 0) if key.chord(d).pcs <= from_key.pitch_classes), 1)
    degrees = [pivot] * (len(positions) - 1) + [4]
    return [ChordSlot(bar=b, offset=o, chord=key.chord(d)) for (b, o), d in zip(positions, degrees)]
