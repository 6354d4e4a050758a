"""Deterministic randomness: every choice is seeded by (seed, bar, layer, purpose).

Why: re-rendering bar N must never depend on wall-clock time, on Python's per-process string
hashing, or on how many random numbers another purpose consumed. A fresh generator per
(seed, bar, layer, purpose) makes each choice independently reproducible.
"""

from __future__ import annotations

import zlib

import numpy as np


def _key(part: object) -> int:
    if isinstance(part, bool):
        return int(part)
    if isinstance(part, int):
        return part & 0xFFFFFFFF
    return zlib.crc32(str(part).encode("utf-8"))


def rng_for(seed: int, *purpose: object) -> np.random.Generator:
    """A generator for one (seed, bar, layer, purpose) tuple; stable across processes and platforms."""
    return np.random.Generator(np.random.PCG64([_key(seed), *(_key(p) for p in purpose)]))


def pick(rng: np.random.Generator, weights: np.ndarray | list[float]) -> int:
    """Index drawn in proportion to non-negative ``weights`` (uniform if they are all zero)."""
    w = np.asarray(weights, dtype=float)
    c = np.cumsum(w)
    total = c[-1] if len(c) else 0.0
    if not total > 0.0:
        return int(rng.integers(len(w)))
    return int(min(np.searchsorted(c, rng.random() * total, side="right"), len(w) - 1))
