"""The axes that leave the melody alone: harmony (reharmonisation) and texture (orchestration).

Harmony: a new chord progression under the same notes (harmonic rhythm, tension, cadence
and sevenths vary with chance and strength), played by an accompaniment layer.
Texture: another lead instrument, another accompaniment figure, an added bass, a doubling
(an octave below, or a diatonic third below — still in the scale).
"""

from __future__ import annotations

import numpy as np

from segue.spec import program_name
from segue.variations.draft import Context, Draft
from segue.variations.harmony import PATTERN_PROGRAM, PATTERNS, harmonise, progression_text

LEAD_PROGRAMS = (0, 73, 68, 71, 40, 56, 60, 11, 8, 65, 24, 46, 52, 69, 74, 42)
"""Lead instruments a texture variation may hand the melody to (GM numbers)."""

DOUBLINGS = ("octave below", "third below", "octave above")
DOUBLING_PROGRAM = {"octave below": 42, "third below": 71, "octave above": 9}
"""Cello under the line, a clarinet a third below, a glockenspiel an octave above."""


def vary_harmony(draft: Draft, ctx: Context, rng: np.random.Generator, strength: float) -> Draft:
    per_bar = 2 if rng.random() < 0.25 + 0.5 * strength else 1
    tension = float(np.clip(rng.normal(0.35 + 0.5 * strength, 0.2), 0.0, 1.0))
    cadence = "half" if rng.random() < 0.35 else "authentic"
    sevenths = bool(rng.random() < strength)
    chords = harmonise(draft.line, draft.key, draft.meter, ctx.style.harmony, rng, per_bar=per_bar, tension=tension,
                       cadence=cadence, sevenths=sevenths)
    pattern = draft.accompaniment or ("block" if rng.random() < 0.5 else "pad")
    program = draft.accompaniment_program if draft.accompaniment_program is not None else PATTERN_PROGRAM[pattern]
    text = (f"harmony: {progression_text(chords)}; {per_bar} chord{'s' * (per_bar > 1)} a bar, "
            f"{cadence} cadence")
    return draft.but(chords=chords, accompaniment=pattern, accompaniment_program=program).noting(text)


def vary_texture(draft: Draft, ctx: Context, rng: np.random.Generator, strength: float) -> Draft:
    lead = int(rng.choice([p for p in LEAD_PROGRAMS if p != draft.program]))
    pattern = str(rng.choice([p for p in PATTERNS if p != draft.accompaniment]))
    chords = draft.chords
    if chords is None:
        chords = harmonise(draft.line, draft.key, draft.meter, ctx.style.harmony, rng, per_bar=1, tension=0.35,
                           cadence="authentic")
    bass = bool(rng.random() < 0.3 + 0.5 * strength)
    doubling = str(rng.choice(DOUBLINGS)) if rng.random() < 0.2 + 0.6 * strength else None
    parts = [f"melody on {program_name(lead).lower()}", f"{pattern} accompaniment"]
    if bass:
        parts.append("bass line")
    if doubling:
        parts.append(f"doubled a{'n' if doubling.startswith('o') else ''} {doubling}")
    return draft.but(program=lead, chords=chords, accompaniment=pattern, accompaniment_program=PATTERN_PROGRAM[pattern],
                     bass=bass, doubling=doubling).noting("texture: " + ", ".join(parts))
