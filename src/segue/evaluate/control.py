"""QUALITY.md §3: does each control move what it says it moves?

A control is swept (e.g. arousal 0 → 1) and for each setting the output is re-measured (notes per
beat, tempo, loudness, register, brightness …). Spearman's ρ between setting and measurement says
whether the knob moves the attribute monotonically, without assuming a linear response.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from scipy.stats import spearmanr

EXPECTED_DIRECTIONS: dict[str, dict[str, int]] = {
    "arousal": {"tempo": 1, "notes_per_beat": 1, "loudness": 1},
    "intensity": {"notes_per_beat": 1, "loudness": 1},
    "density": {"notes_per_beat": 1},
    "valence": {"brightness": 1, "register": 1},
    "tension": {"dissonance": 1},
}
"""Directions music psychology predicts (Gabrielsson & Lindström; Juslin & Laukka): +1 rises with the control."""


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rank correlation of ``x`` and ``y``, in −1..1.

    Pairs where either value is not finite are dropped. Fewer than two pairs, or a constant
    input, give 0.0 instead of NaN: a knob that changes nothing has no direction.
    """
    xa = np.asarray(x, dtype=float).ravel()
    ya = np.asarray(y, dtype=float).ravel()
    if xa.shape != ya.shape:
        raise ValueError(f"spearman needs equal lengths, got {xa.size} and {ya.size}")
    keep = np.isfinite(xa) & np.isfinite(ya)
    xa, ya = xa[keep], ya[keep]
    if xa.size < 2 or np.ptp(xa) == 0 or np.ptp(ya) == 0:
        return 0.0
    rho = float(spearmanr(xa, ya).statistic)
    return rho if math.isfinite(rho) else 0.0


def control_table(sweeps: Mapping[str, Sequence[tuple[float, Mapping[str, float]]]]) -> dict[str, dict[str, float]]:
    """ρ for every (control, measured attribute) pair.

    ``sweeps[control]`` is a list of ``(control value, {attribute: measured value})``; an attribute
    missing from some points is correlated over the points that have it.
    """
    table: dict[str, dict[str, float]] = {}
    for control, points in sweeps.items():
        attributes: list[str] = []
        for _, measured in points:
            attributes.extend(a for a in measured if a not in attributes)
        row: dict[str, float] = {}
        for attribute in attributes:
            pairs = [(value, measured[attribute]) for value, measured in points if attribute in measured]
            row[attribute] = spearman([p[0] for p in pairs], [p[1] for p in pairs])
        table[control] = row
    return table


def control_verdicts(
    table: Mapping[str, Mapping[str, float]],
    expected: Mapping[str, Mapping[str, int]] = EXPECTED_DIRECTIONS,
    min_abs_rho: float = 0.5,
) -> dict[str, dict[str, bool]]:
    """For each expected (control, attribute) present in ``table``: does ρ point the predicted way
    with at least ``min_abs_rho`` strength?"""
    verdicts: dict[str, dict[str, bool]] = {}
    for control, row in table.items():
        for attribute, direction in expected.get(control, {}).items():
            if attribute in row:
                verdicts.setdefault(control, {})[attribute] = row[attribute] * direction >= min_abs_rho
    return verdicts
