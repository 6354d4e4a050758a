"""Game parameters: values that seek towards their targets, and mappings onto the music.

A parameter never jumps (unless its seek speed is 0): the game sets a *target* and the value
moves towards it at ``seek`` units per second of audio time. Values are functions of the
sample clock only, so a live session and its offline replay see the same numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from segue.compose.affect import Affect, affect_to_state
from segue.compose.state import MusicalState, clamp
from segue.music import Key, Meter

AFFECT_TARGETS = ("valence", "arousal", "intensity")
STATE_TARGETS = ("density", "tension", "tempo", "register", "dynamics", "brightness", "percussion", "layer_gain")
CONTINUOUS_TARGETS = ("volume", "layer_gain")
"""Targets that follow the parameter sample by sample instead of bar by bar (see engine/volume.py)."""


@dataclass(slots=True)
class ParameterTrack:
    """One parameter's value over sample time: linear seek from (sample, value) towards ``target``."""

    name: str
    low: float
    high: float
    seek: float  # units per second; 0 = jump
    sample_rate: int
    value: float
    target: float
    since: int = 0  # sample at which ``value`` was measured
    jumped_at: int = -1  # the last sample where the value jumped (seek 0, or a preset), for de-zippers

    def at(self, sample: int) -> float:
        if self.seek <= 0 or self.value == self.target:
            return self.target
        dt = max(sample - self.since, 0) / self.sample_rate
        step = self.seek * dt
        if self.target > self.value:
            return min(self.value + step, self.target)
        return max(self.value - step, self.target)

    def values(self, start: int, n: int) -> np.ndarray:
        """``at`` for every sample of ``[start, start + n)`` at once (the same numbers, vectorised)."""
        if self.seek <= 0 or self.value == self.target:
            return np.full(n, self.target)
        dt = np.maximum(np.arange(start, start + n, dtype=np.float64) - self.since, 0.0) / self.sample_rate
        if self.target > self.value:
            return np.minimum(self.value + self.seek * dt, self.target)
        return np.maximum(self.value - self.seek * dt, self.target)

    def settled_from(self) -> int:
        """The first sample from which the value no longer moves (until the next ``set_target``)."""
        if self.seek <= 0 or self.value == self.target:
            return self.since
        return self.since + math.ceil(abs(self.target - self.value) / self.seek * self.sample_rate)

    def set_target(self, sample: int, target: float) -> float:
        """Aim at ``target`` (clamped into range) from ``sample`` on; returns the clamped target."""
        self.value = self.at(sample)
        self.since = sample
        self.target = min(max(float(target), self.low), self.high)
        if self.seek <= 0 and self.target != self.value:
            self.jumped_at = sample
        return self.target

    def jump(self, sample: int, value: float) -> None:
        self.value = self.target = min(max(float(value), self.low), self.high)
        self.since = sample
        self.jumped_at = sample


def tracks_for(spec: object, sample_rate: int) -> dict[str, ParameterTrack]:
    out = {}
    for p in getattr(spec, "parameters", None) or []:
        lo, hi = float(p.range[0]), float(p.range[1])
        d = float(p.default if p.default is not None else lo)
        out[p.name] = ParameterTrack(p.name, lo, hi, float(p.seek), sample_rate, d, d)
    return out


def keys_by_brightness(home: Key, allowed: list[Key]) -> list[Key]:
    keys = [home] + [k for k in allowed if k != home]
    return sorted(keys, key=lambda k: (k.brightness, k != home))


def musical_state(
    *,
    base: Affect,
    values: dict[str, float],
    mappings: list,
    home: Key,
    allowed: list[Key],
    tempo_range: tuple[float, float],
    tempo_default: float,
    meter: Meter,
    state_key: Key | None = None,
    state_tempo: float | None = None,
    theme: str | None = None,
    layers: frozenset[str] | None = None,
    home_valence: float | None = None,
) -> tuple[MusicalState, dict[str, float]]:
    """The musical state for the current parameter values; also returns per-layer gain offsets (dB).

    Affect targets (valence/arousal/intensity) are applied first and go through the documented
    affect mapping; musical targets then override single dimensions. Several mappings onto the
    same target average.
    """
    affect = {"valence": base.valence, "arousal": base.arousal, "intensity": base.intensity}
    direct: dict[str, list[float]] = {}
    layer_gain: dict[str, list[float]] = {}
    for m in mappings:
        x = values.get(m.parameter)
        if x is None or m.target in CONTINUOUS_TARGETS:
            continue
        y = float(m.value_at(x))
        if not math.isfinite(y):
            continue
        if m.target in AFFECT_TARGETS:
            direct.setdefault("affect:" + m.target, []).append(y)
        elif m.target == "layer_gain":
            layer_gain.setdefault(m.layer, []).append(y)
        else:
            direct.setdefault(m.target, []).append(y)
    for t in AFFECT_TARGETS:
        ys = direct.pop("affect:" + t, None)
        if ys:
            affect[t] = sum(ys) / len(ys)
    aff = Affect(**affect).clamped()
    st = affect_to_state(aff, home=home, allowed=allowed, tempo_range=tempo_range, tempo_default=tempo_default,
                         meter=meter, theme=theme, home_valence=home_valence)
    changes: dict[str, object] = {}
    if state_key is not None:
        changes["key"] = state_key
    if state_tempo is not None:
        changes["tempo"] = float(state_tempo)
    for target, ys in direct.items():
        y = sum(ys) / len(ys)
        if target == "tempo":
            changes["tempo"] = y
        elif target == "brightness":
            keys = keys_by_brightness(home, allowed)
            changes["key"] = keys[min(int(clamp(y) * len(keys)), len(keys) - 1)]
        elif target == "register":
            changes["register"] = clamp(y, -1.0, 1.0)
        elif target in ("density", "tension", "dynamics", "percussion"):
            changes[target] = clamp(y)
    lo, hi = tempo_range
    changes["tempo"] = round(min(max(float(changes.get("tempo", st.tempo)), lo), hi), 3)
    if layers is not None:
        changes["layers"] = layers
    st = st.with_(**changes)
    return st, {k: sum(v) / len(v) for k, v in layer_gain.items()}
