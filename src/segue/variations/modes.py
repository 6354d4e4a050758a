"""The mode axis: the same scale degrees heard in another mode on the same tonic.

Major ↔ minor is the classic change of colour; the church modes are the gentler ones (one
altered degree: dorian from minor, mixolydian or lydian from major) and phrygian or
harmonic minor the darker, more exotic ones. Because variations are written in scale
degrees, a change of mode is a change of key object: every note lands in the new mode's scale.
"""

from __future__ import annotations

import numpy as np

from segue.compose.random import pick
from segue.music import MODES, Key
from segue.variations.draft import Context, Draft

COLOURS: dict[str, tuple[tuple[str, float], ...]] = {
    # (mode, how far it moves the colour: 0 gentle … 1 strong)
    "major": (("mixolydian", 0.2), ("lydian", 0.25), ("dorian", 0.55), ("minor", 0.7), ("harmonic_minor", 0.8),
              ("phrygian", 1.0)),
    "minor": (("dorian", 0.2), ("harmonic_minor", 0.25), ("phrygian", 0.35), ("melodic_minor", 0.4),
              ("major", 0.7), ("mixolydian", 0.75), ("lydian", 1.0)),
}


def colour_choices(key: Key) -> tuple[tuple[str, float], ...]:
    """Modes a key may turn to, each with how strong a change of colour it is."""
    same = {key.mode, "ionian" if key.mode == "major" else "", "aeolian" if key.mode == "minor" else ""}
    return tuple((m, w) for m, w in COLOURS[key.family] if m not in same and MODES[m] != MODES[key.mode])


def vary_mode(draft: Draft, ctx: Context, rng: np.random.Generator, strength: float) -> Draft:
    if ctx.mode is not None:
        target = ctx.mode
    else:
        # only modes that change at least one note of this line (dorian adds nothing to a tune without a 6th)
        used = {n.degree % 7 for n in draft.line}
        choices = [(m, far) for m, far in colour_choices(draft.key)
                   if any(MODES[m][d] != MODES[draft.key.mode][d] for d in used)]
        if not choices:
            return draft
        w = np.array([np.exp(-((far - strength) / 0.3) ** 2) for _, far in choices])
        target = choices[pick(rng, w)][0]
    if MODES[target] == MODES[draft.key.mode]:
        return draft
    new = Key(draft.key.tonic, target)
    return draft.but(key=new).noting(f"mode: {draft.key.name()} → {new.name()}")
