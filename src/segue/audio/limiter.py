"""A look-ahead brickwall limiter that never lets a sample past the ceiling.

Why our own: pedalboard's ``Limiter`` ends in a hard clipper at 0 dBFS (it clips rather than
limits), and pedalboard plugins re-prepare when the block size changes, so a live session
pulling 512-frame blocks would drift from an offline render in 2048-frame blocks.

How it guarantees the ceiling: for every input frame we know the gain ``g`` that would put it
exactly at the ceiling. The signal is delayed by ``lookahead`` frames. The gain computer takes
the minimum of ``g`` over the ``lookahead + 1`` frames the delayed frame can still see, lets the
reduction fall back with an exponential release (instant attack, smooth recovery: a release
well above a bass period avoids distorting low notes), and finally averages it over
``lookahead`` frames. Every term of that average is ≤ the gain the delayed frame needs, so the
mean is too: the ceiling holds exactly, and the gain never jumps (it is an average).

When nothing is over the ceiling the limiter is an exact delay line, so its output is
bit-identical whatever block sizes it is fed in; while it is reducing gain, different block
sizes agree to float rounding.
"""

from __future__ import annotations

import math

import numpy as np

_CHUNK = 2048  # the release is computed in chunks so that r**-k stays far from overflow


class Limiter:
    """Streaming stereo-linked look-ahead limiter; output lags input by :attr:`latency` frames."""

    def __init__(self, sample_rate: int, ceiling_dbfs: float = -1.0, lookahead: int = 64,
                 release_ms: float = 80.0) -> None:
        if lookahead < 2 or lookahead & (lookahead - 1):
            # a power of two makes 1/lookahead exact, so a run of unity gain averages to exactly 1.0
            raise ValueError(f"lookahead must be a power of two ≥ 2, got {lookahead}")
        if release_ms < 1.0:
            raise ValueError(f"release must be at least 1 ms, got {release_ms}")
        # a hair under the ceiling so float32 rounding of the output cannot land above it
        self.ceiling = 10.0 ** (ceiling_dbfs / 20.0) * (1.0 - 1e-6)
        self.latency = int(lookahead)
        release = math.exp(-1.0 / (release_ms * 1e-3 * sample_rate))
        steps = np.arange(_CHUNK, dtype=np.float64)
        self._decay = release ** steps  # r**i
        self._undecay = release ** -steps  # r**-i
        self._release = release
        self._kernel = np.full(lookahead, 1.0 / lookahead)
        self._gain_history = np.ones(lookahead)  # last L per-frame target gains
        self._smooth_history = np.ones(lookahead - 1)  # last L-1 released gains, for the average
        self._reduction = 0.0  # release envelope state (0 = at rest)
        self._audio_history = np.zeros((lookahead, 2), dtype=np.float32)
        self.max_reduction_db = 0.0
        """Deepest gain reduction applied so far (for reports and tests)."""

    def process(self, block: np.ndarray) -> np.ndarray:
        """Limit one ``(n, 2)`` block; returns ``(n, 2)`` float32, delayed by ``latency`` frames."""
        n = block.shape[0]
        if n == 0:
            return np.zeros((0, 2), dtype=np.float32)
        lookahead = self.latency
        peak = np.maximum(np.abs(block[:, 0]), np.abs(block[:, 1]))  # stereo-linked: one gain for both
        need = np.ones(n)
        if peak.max() > self.ceiling:
            over = peak > self.ceiling
            need[over] = self.ceiling / peak[over].astype(np.float64)
        gains = np.concatenate([self._gain_history, need])
        self._gain_history = gains[-lookahead:]

        delayed = np.concatenate([self._audio_history, block.astype(np.float32, copy=False)])
        self._audio_history = delayed[-lookahead:].copy()
        out = delayed[:n]
        if gains.min() == 1.0 and self._reduction == 0.0 and self._smooth_history.min() == 1.0:
            return np.ascontiguousarray(out)  # at rest: an exact delay line

        # the window [i - L, i] in block coordinates is centred on i + L/2 of ``gains``
        from scipy.ndimage import minimum_filter1d  # scipy costs ~1 s to import: only when limiting

        held = minimum_filter1d(gains, size=lookahead + 1, mode="nearest")[lookahead // 2 : lookahead // 2 + n]
        released = 1.0 - self._release_envelope(1.0 - held)
        extended = np.concatenate([self._smooth_history, released])
        self._smooth_history = extended[-(lookahead - 1):]
        smooth = np.convolve(extended, self._kernel, mode="valid")
        self.max_reduction_db = min(self.max_reduction_db, 20.0 * math.log10(max(float(smooth.min()), 1e-12)))
        return (out * smooth[:, None]).astype(np.float32)

    def _release_envelope(self, reduction: np.ndarray) -> np.ndarray:
        """``e[i] = max(d[i], r * e[i-1])`` — instant attack, exponential release — vectorised.

        Unrolled, ``e[i] = r**i * max(r * e[-1], max_{k<=i} d[k] * r**-k)``: a running maximum.
        """
        envelope = np.empty_like(reduction)
        state = self._reduction
        for start in range(0, reduction.shape[0], _CHUNK):
            chunk = reduction[start : start + _CHUNK]
            m = chunk.shape[0]
            scaled = chunk * self._undecay[:m]
            scaled[0] = max(scaled[0], state * self._release)
            env = np.maximum(self._decay[:m] * np.maximum.accumulate(scaled), chunk)
            envelope[start : start + m] = env
            state = float(env[-1])
        # below 1e-17 the gain 1 - e rounds to exactly 1.0: come to rest so the fast path returns
        self._reduction = state if state >= 1e-17 else 0.0
        return envelope

    def flush(self) -> np.ndarray:
        """The last ``latency`` frames still inside the limiter (feeds it silence)."""
        return self.process(np.zeros((self.latency, 2), dtype=np.float32))
