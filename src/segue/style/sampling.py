"""Sampling a learned model's next step under the composer's hard rules.

Why a module of its own: a neural model gives a calibrated distribution, and the composer must
not distort it with the Markov chain's hand weights (those were written for a model that sees
only two steps). What it may do is (1) forbid what the spec forbids — the key policy (no tone the
sounding chord alters), the layer's range and a cadence's goal — by masking the logits *before*
the draw, so a forbidden note is never sampled and never filtered out afterwards, and (2) let the
musical state choose how adventurous the draw is: temperature and top-p follow tension and
density, as a player takes more risks when the music is tense or busy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NEG = -1e9
"""A masked logit: exp(NEG) is exactly 0.0 in float64."""


@dataclass(frozen=True, slots=True)
class Heat:
    """How the state sets the draw: temperature = ``base`` × (1 + ``tension`` × (t − ½) + ``density`` × (d − ½));
    top-p = ``top_p`` + ``top_p_tension`` × (t − ½), clipped to (0, 1]."""

    base: float = 1.0
    tension: float = 0.0
    density: float = 0.0
    top_p: float = 1.0
    top_p_tension: float = 0.0

    def temperature(self, tension: float, density: float) -> float:
        t = self.base * (1.0 + self.tension * (tension - 0.5) + self.density * (density - 0.5))
        return float(max(t, 0.05))

    def nucleus(self, tension: float) -> float:
        return float(min(max(self.top_p + self.top_p_tension * (tension - 0.5), 0.05), 1.0))


def masked_distribution(logits: np.ndarray, allowed: np.ndarray, temperature: float, top_p: float,
                        bias: np.ndarray | None = None) -> np.ndarray:
    """Probabilities to draw from: logits / temperature (+ ``bias``), disallowed entries masked, then top-p.

    ``allowed`` is the hard rule: a masked entry gets probability exactly 0 whatever the model says.
    Top-p keeps the smallest set of allowed entries whose probability reaches ``top_p`` (always at
    least the most likely one) and renormalises. Returns all zeros when nothing is allowed (the
    caller's constraint rescue decides then).
    """
    z = np.asarray(logits, dtype=np.float64) / temperature
    if bias is not None:
        z = z + bias
    z = np.where(allowed, z, NEG)
    if not allowed.any():
        return np.zeros_like(z)
    z = z - z.max()
    p = np.where(allowed, np.exp(z), 0.0)
    p /= p.sum()
    if top_p < 1.0:
        order = np.argsort(-p, kind="stable")
        cum = np.cumsum(p[order])
        keep = int(np.searchsorted(cum, top_p, side="left")) + 1
        cut = np.zeros_like(p)
        cut[order[:keep]] = p[order[:keep]]
        p = cut / cut.sum()
    return p


def heat_from(compose: dict) -> Heat:
    """The draw's settings as a model file stores them (``meta["compose"]``).

    Files written before temperature and top-p were stored give ``sharpness`` s (probabilities
    raised to s): the same draw as temperature 1/s with no nucleus and no dependence on the state.
    """
    if "temperature" in compose:
        return Heat(float(compose["temperature"]), float(compose.get("temperature_tension", 0.0)),
                    float(compose.get("temperature_density", 0.0)), float(compose.get("top_p", 1.0)),
                    float(compose.get("top_p_tension", 0.0)))
    return Heat(base=1.0 / float(compose.get("sharpness", 0.7)))
