"""Faders that follow game parameters sample by sample: the master volume and each layer's gain.

Why a continuous target: everything else a parameter drives (density, dynamics, layers) can
only change where the composer writes a new bar, so a slow build rises in bar-sized steps whose
size depends on what the melody happens to do in each bar. A game mixer's answer — and what an
FMOD or Wwise designer wires an intensity parameter to first — is a bus volume that follows the
parameter continuously. ``volume`` mappings do that: the parameter's seek-smoothed value goes
through the mapping's curve (dB) at every sample; several volume mappings add, like faders in
series (an "intensity" swell and a "menu open" duck). ``layer_gain`` mappings are the same thing
on one layer (vertical layering: the drums come up as danger rises, now, not a bar or two later);
several on one layer average.

Click-free by construction: a parameter with a seek speed moves linearly, and a jump (seek 0, a
new state's preset value) is smoothed by a one-pole filter (``SMOOTH_S``) on the dB curve. The
gain is a function of the sample clock and of controls applied at exact samples, and the
filter's state is carried between blocks, so a live session and its offline replay get the same
samples whatever their block sizes.
"""

from __future__ import annotations

import math

import numpy as np

from segue.engine.params import ParameterTrack

SMOOTH_S = 0.03
"""Time constant of the de-zipper: a 10 dB jump settles (to 0.1 dB) in about 140 ms."""

SETTLE_TIME_CONSTANTS = 12
"""How long the de-zipper runs after a jump: 12 time constants (360 ms; what is left of a 60 dB jump is
4e-4 dB). Outside that window the gain is the exact curve value — a parameter that seeks moves continuously
and needs no smoothing — and once every parameter has stopped it is a constant, so a settled fader costs
nothing. All of it is decided per sample, so every block size gives the same samples."""


def _amplitude(db: float) -> float:
    """dB → amplitude through the same numpy routine as the per-sample path (bit-identical either way)."""
    return float(np.power(10.0, np.array([db]) / 20.0)[0])


class VolumeAutomation:
    """A gain (amplitude, per sample) from the spec's ``volume`` mappings, or one layer's ``layer_gain``."""

    def __init__(self, mappings: list, params: dict[str, ParameterTrack], sample_rate: int, *,
                 target: str = "volume", layer: str | None = None) -> None:
        self._curves: list[tuple[ParameterTrack, np.ndarray, np.ndarray, float]] = []
        self._mean = target != "volume"
        for m in mappings:
            if m.target != target or m.parameter not in params or (layer is not None and m.layer != layer):
                continue
            xs = np.array([p[0] for p in m.points], dtype=np.float64)
            ys = np.array([p[1] for p in m.points], dtype=np.float64)
            fallback = float(m.value_at(float("nan")))
            self._curves.append((params[m.parameter], xs, ys, fallback))
        a = 1.0 - math.exp(-1.0 / (SMOOTH_S * sample_rate))
        self._b = np.array([a])
        self._a = np.array([1.0, a - 1.0])
        self._state = np.zeros(1)
        self._window_of: int | None = None  # the jump the de-zipper is smoothing
        self._last_db: float | None = None  # the last sample's gain (dB), where a new glide starts
        self._settle_samples = int(SETTLE_TIME_CONSTANTS * SMOOTH_S * sample_rate)
        self.bypassed = False
        self._bypass_seen = False
        self._bypass_changed = -1
        self.resting = not self._curves  # whether the last block was at rest (every parameter arrived)

    @property
    def active(self) -> bool:
        """Whether any volume mapping exists (no mapping: unity gain, no work)."""
        return bool(self._curves)

    def target_db(self, start: int, n: int) -> np.ndarray:
        """The un-smoothed curve value (dB) at each sample of ``[start, start + n)``."""
        total = np.zeros(n)
        if self.bypassed:
            return total
        for track, xs, ys, fallback in self._curves:
            x = track.values(start, n)
            y = np.interp(x, xs, ys)
            total += np.where(np.isfinite(y), y, fallback)
        return total / len(self._curves) if self._mean else total

    def _resting_db(self) -> float:
        """The curve value once every parameter has arrived at its target."""
        if self.bypassed:
            return 0.0
        total = 0.0
        for track, xs, ys, fallback in self._curves:
            y = float(np.interp(track.target, xs, ys))
            total += y if math.isfinite(y) else fallback
        return total / len(self._curves) if self._mean else total

    def gains(self, start: int, n: int) -> float | np.ndarray:
        """Amplitude gain for frames ``[start, start + n)``; must be called once per frame, in order."""
        if not self._curves or n <= 0:
            return 1.0
        if self.bypassed != self._bypass_seen:
            self._bypass_seen = self.bypassed
            self._bypass_changed = start
        jump = max([self._bypass_changed] + [t.jumped_at for t, _, _, _ in self._curves])
        glide_end = jump + self._settle_samples if jump >= 0 else -1
        rest_from = max([glide_end] + [t.settled_from() for t, _, _, _ in self._curves])
        if self._last_db is not None and start >= rest_from:
            self._last_db = self._resting_db()
            self.resting = True
            return _amplitude(self._last_db)
        self.resting = False
        out = self.target_db(start, n)
        if start < glide_end:  # a jump not long ago: glide from where the gain was (no click)
            if self._window_of != jump:
                self._window_of = jump
                begin = self._last_db if self._last_db is not None else float(out[0])
                self._state = np.array([begin * (1.0 - self._b[0])])
            k = min(glide_end - start, n)
            from scipy.signal import lfilter  # scipy.signal costs ~1 s to import: only once a fader glides

            out[:k], self._state = lfilter(self._b, self._a, out[:k], zi=self._state)
        self._last_db = float(out[-1])
        gains = np.power(10.0, out / 20.0)
        if start + n > rest_from >= start:
            # from the resting sample on, exactly the numbers the at-rest path gives, however blocks are cut
            self._last_db = self._resting_db()
            gains[rest_from - start:] = _amplitude(self._last_db)
        return gains

    def level_db(self) -> float:
        """The gain reached at the last processed frame, in dB (for status)."""
        return 0.0 if self._last_db is None else self._last_db
