"""The mix bus: per-layer faders with click-free automation, a gentle reverb and a limiter.

Streaming: ``process`` takes one block of stems and returns one block of mix, keeping all
state (fader ramps, reverb tail, limiter envelope) between calls. Fader values are computed
from *absolute* sample positions, so a ramp sounds the same however the blocks are cut.

Signal flow::

    stem ─► fader ─┐
    stem ─► fader ─┼─► dry sum ─┬────────────────► + ─► limiter (−1 dBFS) ─► out
    stem ─► fader ─┘            └─► reverb × amount ┘

The limiter looks ahead, so the mix comes out :attr:`Mixer.latency` frames late; offline
rendering drops those frames at the start so notes stay on their exact samples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from segue.audio.errors import AudioError
from segue.audio.limiter import Limiter
from segue.audio.reverb import BusReverb

SILENT_DB = -120.0
"""Gains at or below this are true silence (amplitude 0), so a muted layer contributes nothing."""


def db_to_amplitude(gain_db: float) -> float:
    return 0.0 if gain_db <= SILENT_DB else 10.0 ** (gain_db / 20.0)


@dataclass(slots=True)
class _Ramp:
    """A fader move: from ``start`` (absolute sample) go linearly from ``begin`` to ``target``."""

    start: int
    length: int
    target: float
    begin: float | None = None  # filled in when the ramp starts, from wherever the fader is then


class _Fader:
    """One layer's gain with queued ramps; linear in amplitude, evaluated per sample."""

    def __init__(self) -> None:
        self.value = 1.0  # amplitude at the last processed sample
        self.ramps: list[_Ramp] = []  # sorted by start; the first one may be running

    def move(self, ramp: _Ramp) -> None:
        # a new move replaces any move that would start at or after it (the newest intention wins)
        self.ramps = [r for r in self.ramps if r.start < ramp.start] + [ramp]

    def gains(self, position: int, n: int) -> float | np.ndarray:
        """Gain for frames ``[position, position + n)``: a scalar when constant (the cheap case)."""
        end = position + n
        if not self.ramps or self.ramps[0].start >= end:
            return self.value
        out = np.empty(n)
        cursor = position
        while cursor < end:
            ramp = self.ramps[0] if self.ramps else None
            if ramp is None or ramp.start >= end:
                out[cursor - position :] = self.value
                break
            if ramp.start > cursor:
                out[cursor - position : ramp.start - position] = self.value
                cursor = ramp.start
            if ramp.begin is None:
                ramp.begin = self.value
            done = ramp.start + ramp.length
            following = self.ramps[1].start if len(self.ramps) > 1 else done
            stop = min(end, done, following)
            # frame ``start + k`` gets begin + (target - begin) * (k + 1) / length: the target
            # is reached on the ramp's last frame, and the first frame already moves
            k = np.arange(cursor - ramp.start + 1, stop - ramp.start + 1, dtype=np.float64)
            segment = ramp.begin + (ramp.target - ramp.begin) * (k / ramp.length)
            out[cursor - position : stop - position] = segment
            self.value = float(segment[-1]) if segment.size else self.value
            cursor = stop
            if cursor >= done or cursor >= following:
                if cursor >= done:
                    self.value = ramp.target
                self.ramps.pop(0)
        return out


class Mixer:
    """Sums layer stems with per-layer gain and runs the bus: gentle reverb + brickwall limiter."""

    def __init__(self, layer_names: list[str], sample_rate: int = 44100, reverb: float = 0.25, *,
                 ceiling_dbfs: float = -1.0) -> None:
        if len(set(layer_names)) != len(layer_names):
            raise AudioError(f"layer names must be unique, got {layer_names}")
        if not 0.0 <= reverb <= 1.0:
            raise AudioError(f"reverb amount must be 0..1, got {reverb}")
        self.sample_rate = int(sample_rate)
        self.layer_names = list(layer_names)
        self.reverb = float(reverb)
        self._faders = {name: _Fader() for name in layer_names}
        self._reverb = BusReverb(self.sample_rate) if reverb > 0 else None
        self._limiter = Limiter(self.sample_rate, ceiling_dbfs=ceiling_dbfs)
        self._position = 0

    @property
    def latency(self) -> int:
        """Frames by which the output lags the input (the limiter's look-ahead)."""
        return self._limiter.latency

    @property
    def position(self) -> int:
        """Input frames processed so far."""
        return self._position

    @property
    def max_reduction_db(self) -> float:
        """Deepest limiter gain reduction so far (0.0 = the limiter never acted)."""
        return self._limiter.max_reduction_db

    def gain_db(self, layer: str) -> float:
        """The fader's current value in dB (−inf when silent)."""
        value = self._fader(layer).value
        return -math.inf if value <= 0.0 else 20.0 * math.log10(value)

    def set_gain(self, layer: str, gain_db: float, ramp_samples: int = 2048, *, at: int | None = None) -> None:
        """Move a layer's fader to ``gain_db`` over ``ramp_samples`` frames (linear in amplitude).

        The move starts at the next processed frame, or at absolute sample ``at`` (for changes
        that must land on a bar line). ``ramp_samples=0`` jumps — only sensible before playback.
        """
        if ramp_samples < 0:
            raise ValueError(f"ramp length must be ≥ 0, got {ramp_samples}")
        start = self._position if at is None else max(int(at), self._position)
        self._fader(layer).move(_Ramp(start=start, length=max(int(ramp_samples), 1), target=db_to_amplitude(gain_db)))

    def fade(self, stems: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Apply the faders to one block of stems (advances the fader clock); returns float32 stems.

        Missing layers are silent; unknown names are an error (a typo would silently vanish).
        """
        n = self._block_length(stems)
        faded: dict[str, np.ndarray] = {}
        for name, fader in self._faders.items():
            gain = fader.gains(self._position, n)
            stem = stems.get(name)
            if stem is None:
                continue
            # always a float32 × float32 product, so a frame gets the same bits whether its
            # gain came from a ramp array or from the constant fast path
            if isinstance(gain, float):
                faded[name] = stem if gain == 1.0 else stem * np.float32(gain)
            else:
                faded[name] = stem * gain.astype(np.float32)[:, None]
        self._position += n
        return faded

    def bus(self, dry: np.ndarray) -> np.ndarray:
        """Reverb and limiter on an already summed ``(n, 2)`` block."""
        mix = np.asarray(dry, dtype=np.float32)
        if self._reverb is not None:
            mix = mix + self._reverb.process(mix) * np.float32(self.reverb)
        return self._limiter.process(mix)

    def process(self, stems: dict[str, np.ndarray]) -> np.ndarray:
        """One block of stems in, one ``(n, 2)`` float32 block of finished mix out."""
        n = self._block_length(stems)
        return self.bus(sum_stems(self.fade(stems), n))

    def flush(self) -> np.ndarray:
        """The frames still inside the limiter's look-ahead, as if silence followed."""
        return self._limiter.flush()

    def _fader(self, layer: str) -> _Fader:
        try:
            return self._faders[layer]
        except KeyError:
            raise AudioError(f"unknown layer {layer!r}; the mixer has {', '.join(self.layer_names)}") from None

    def _block_length(self, stems: dict[str, np.ndarray]) -> int:
        lengths = set()
        for name, stem in stems.items():
            self._fader(name)
            if stem.ndim != 2 or stem.shape[1] != 2:
                raise ValueError(f"stem {name!r} must have shape (n, 2), got {stem.shape}")
            lengths.add(stem.shape[0])
        if len(lengths) > 1:
            raise ValueError(f"stems in one block must have the same length, got {sorted(lengths)}")
        return lengths.pop() if lengths else 0


def sum_stems(stems: dict[str, np.ndarray], n: int) -> np.ndarray:
    """Sum ``(n, 2)`` stems in a fixed order (float addition is not associative: order = determinism)."""
    total = np.zeros((n, 2), dtype=np.float32)
    for name in sorted(stems):
        total += stems[name]
    return total
