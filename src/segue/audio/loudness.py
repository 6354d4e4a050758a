"""Loudness: BS.1770 integrated loudness and offline normalisation to a target.

We measure with our own vectorised BS.1770-4 meter (K-weighting + 400 ms gated blocks): it
agrees with ``pyloudnorm`` (checked in the tests) but runs ~10× faster, because pyloudnorm
loops over blocks in Python and a three-minute render would spend longer being measured than
synthesised. Normalisation then limits rather than clips: gain to the target, a look-ahead
limiter holds the peak ceiling, and a second pass makes up the loudness the limiter took.
"""

from __future__ import annotations

import math
from typing import Callable, Iterator

import numpy as np

from segue.audio.iir import sosfilt
from segue.audio.limiter import Limiter

_ABSOLUTE_GATE = -70.0
_RELATIVE_GATE = -10.0


def _k_weighting(sample_rate: int) -> np.ndarray:
    """The two K-weighting biquads (high shelf, then RLB high-pass) for any sample rate.

    Derived from the analogue prototypes behind BS.1770's 48 kHz coefficients (as libebur128
    and pyloudnorm do), so 44.1 kHz and 96 kHz are weighted like 48 kHz.
    """
    f0, gain_db, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = math.tan(math.pi * f0 / sample_rate)
    vh = 10.0 ** (gain_db / 20.0)
    vb = vh ** 0.4996667741545416
    a0 = 1.0 + k / q + k * k
    shelf = [(vh + vb * k / q + k * k) / a0, 2.0 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0,
             1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0]
    f0, q = 38.13547087602444, 0.5003270373238773
    k = math.tan(math.pi * f0 / sample_rate)
    a0 = 1.0 + k / q + k * k
    highpass = [1.0, -2.0, 1.0, 1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0]
    return np.array([shelf, highpass])


def k_weighted(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """``audio`` through the BS.1770 K-weighting filters (float64): what loudness measures hear."""
    x = np.asarray(audio, dtype=np.float64)
    if x.ndim == 1:
        return sosfilt(_k_weighting(sample_rate), x[:, None])[0][:, 0]
    return sosfilt(_k_weighting(sample_rate), x)[0]


class LoudnessMeter:
    """BS.1770 integrated loudness of audio fed in pieces of any length (a stream: memory ~ one piece).

    Keeps the K-weighting filters' state and one energy per 100 ms step; the result equals
    :func:`integrated_loudness` of the whole signal exactly (same sums over the same samples)."""

    def __init__(self, sample_rate: int, channels: int = 2) -> None:
        self.sample_rate = int(sample_rate)
        self.step = int(round(0.1 * sample_rate))
        self._sos = _k_weighting(sample_rate)
        self._state = np.zeros((self._sos.shape[0], 2, channels))
        self._rest = np.zeros(0)  # squares of the last, unfinished step
        self._energies: list[np.ndarray] = []
        self.frames = 0

    def feed(self, piece: np.ndarray) -> None:
        x = np.asarray(piece, dtype=np.float64)
        if x.ndim == 1:
            x = x[:, None]
        if x.shape[0] == 0:
            return
        self.frames += x.shape[0]
        weighted, self._state = sosfilt(self._sos, x, self._state)
        squares = np.einsum("ij,ij->i", weighted, weighted)  # channel weights are 1.0 for L and R
        if self._rest.size:
            squares = np.concatenate([self._rest, squares])
        whole = squares.shape[0] - squares.shape[0] % self.step
        self._energies.append(squares[:whole].reshape(-1, self.step).sum(axis=1))
        self._rest = squares[whole:]

    def lufs(self) -> float:
        """Gated integrated loudness so far, in LUFS (``-inf`` if silent). Audio shorter than one 400 ms
        gating block is measured as if padded with silence."""
        return self.lufs_gained(1.0)

    def lufs_gained(self, gain: float) -> float:
        """The integrated loudness of what was fed, had every sample been multiplied by ``gain``.

        Why: K-weighting is linear, so gain scales each step's energy by ``gain²``; the gates are then
        applied to the scaled blocks (the absolute gate may admit blocks it refused before). Normalising
        without the limiter needs no second metering pass over the piece."""
        block_steps = 4  # 400 ms blocks overlapping by 75 %
        short = block_steps * self.step - self.frames
        if short > 0:
            self.feed(np.zeros((short, self._state.shape[2])))
        steps = np.concatenate(self._energies) if self._energies else np.zeros(0)
        if steps.size < block_steps:
            return -math.inf
        power = np.lib.stride_tricks.sliding_window_view(steps, block_steps).sum(axis=1) / (block_steps * self.step)
        if gain != 1.0:
            power = power * (float(gain) ** 2)
        with np.errstate(divide="ignore"):
            loudness = -0.691 + 10.0 * np.log10(power)
        gated = power[loudness >= _ABSOLUTE_GATE]
        if gated.size == 0:
            return -math.inf
        relative = -0.691 + 10.0 * math.log10(float(gated.mean())) + _RELATIVE_GATE
        gated = power[(loudness >= _ABSOLUTE_GATE) & (loudness > relative)]
        if gated.size == 0:
            return -math.inf
        return -0.691 + 10.0 * math.log10(float(gated.mean()))


class PeakMeter:
    """The sample peak of audio fed in pieces (no ``|x|`` temporary)."""

    def __init__(self) -> None:
        self.peak = 0.0

    def feed(self, piece: np.ndarray) -> None:
        if piece.size:
            self.peak = max(self.peak, float(piece.max()), -float(piece.min()))


def integrated_loudness(audio: np.ndarray, sample_rate: int, *, chunk: int = 1 << 16) -> float:
    """Gated integrated loudness in LUFS of ``(n, channels)`` or ``(n,)`` audio; ``-inf`` if silent.

    Works in chunks (filter state carried across) and keeps only one energy per 100 ms step,
    so measuring a long piece costs little memory.
    """
    x = np.asarray(audio)
    if x.ndim == 1:
        x = x[:, None]
    meter = LoudnessMeter(sample_rate, x.shape[1])
    for start in range(0, x.shape[0], chunk):
        meter.feed(x[start : start + chunk])
    return meter.lufs()


def sample_peak_dbfs(audio: np.ndarray) -> float:
    """Sample peak in dBFS (``-inf`` for silence)."""
    peak = max(float(audio.max()), -float(audio.min())) if audio.size else 0.0  # no |x| temporary
    return 20.0 * math.log10(peak) if peak > 0.0 else -math.inf


Source = Callable[[], Iterator[np.ndarray]]
"""A finished mix that can be read again from the start, piece by piece (an array, or a file on disk)."""


def array_source(audio: np.ndarray, chunk: int = 8192) -> Source:
    return lambda: (audio[start : start + chunk] for start in range(0, audio.shape[0], chunk))


def limited(source: Source, sample_rate: int, ceiling_dbfs: float, *, gain: float = 1.0,
            reduction: list[float] | None = None) -> Iterator[np.ndarray]:
    """``source`` gained and through the look-ahead limiter, latency removed, piece by piece (float32).

    A 256-frame (5.8 ms) look-ahead: offline we can afford a softer attack than on the live bus. The
    deepest gain reduction in dB is appended to ``reduction`` at the end, if given.
    """
    limiter = Limiter(sample_rate, ceiling_dbfs=ceiling_dbfs, lookahead=256, release_ms=120.0)
    skip, frames = limiter.latency, 0
    g = np.float32(gain)
    for piece in source():
        frames += piece.shape[0]
        out = limiter.process(piece * g if gain != 1.0 else piece)
        if skip:
            cut = min(skip, out.shape[0])
            out, skip = out[cut:], skip - cut
        if out.shape[0]:
            yield out
    tail = limiter.flush()[skip:]
    if tail.shape[0]:
        yield tail
    if reduction is not None:
        reduction.append(limiter.max_reduction_db)
    _ = frames


def limit(audio: np.ndarray, sample_rate: int, ceiling_dbfs: float, *, gain: float = 1.0,
          chunk: int = 8192) -> tuple[np.ndarray, float]:
    """Gain a whole ``(n, 2)`` piece and run it through the look-ahead limiter, latency removed.

    Returns the limited audio (same length, float32) and the deepest gain reduction in dB.
    """
    reduction: list[float] = []
    out = np.empty((audio.shape[0], 2), dtype=np.float32)
    done = 0
    for piece in limited(array_source(audio, chunk), sample_rate, ceiling_dbfs, gain=gain, reduction=reduction):
        out[done : done + piece.shape[0]] = piece
        done += piece.shape[0]
    return out, reduction[0]


def plan_loudness(source: Source, sample_rate: int, target_lufs: float = -16.0,
                  peak_dbfs: float = -1.0, *, measured: tuple[LoudnessMeter, PeakMeter] | None = None) -> dict:
    """How to bring ``source`` to ``target_lufs`` with peaks never above ``peak_dbfs``, reading it a few
    times and keeping none of it (memory independent of length). The report has ``lufs_before``,
    ``lufs_after``, ``peak_dbfs``, ``gain_db``, ``limiter_reduction_db`` and ``limited`` (whether
    :func:`normalised` runs the limiter).

    ``measured``: meters that already heard all of ``source`` (a spool measures as it is written), which
    saves the first read. Without the limiter the result is computed, not measured again
    (:meth:`LoudnessMeter.lufs_gained`); only a limited piece is read once per search step."""
    if measured is None:
        meter, peak_meter = LoudnessMeter(sample_rate), PeakMeter()
        for piece in source():
            meter.feed(piece)
            peak_meter.feed(piece)
    else:
        meter, peak_meter = measured
    before, peak = meter.lufs(), peak_meter.peak
    peak_before = 20.0 * math.log10(peak) if peak > 0.0 else -math.inf
    if not math.isfinite(before):
        return {"lufs_before": -math.inf, "lufs_after": -math.inf, "peak_dbfs": peak_before,
                "gain_db": 0.0, "limiter_reduction_db": 0.0, "limited": False}
    gain_db = target_lufs - before
    if peak_before + gain_db <= peak_dbfs - 0.01:  # the gain alone keeps the peak under the ceiling
        return {"lufs_before": before, "lufs_after": meter.lufs_gained(10.0 ** (gain_db / 20.0)),
                "peak_dbfs": peak_before + gain_db, "gain_db": gain_db, "limiter_reduction_db": 0.0,
                "limited": False}
    # Limiting removes loudness — sometimes far less per dB of gain than 1 dB (peaky drums), and
    # through the relative gate not even monotonically — so search: secant steps on
    # loudness(gain), slope clamped to a sane range, keeping the pass that came closest.
    best: dict | None = None
    previous: tuple[float, float] | None = None
    for _ in range(8):
        gain = 10.0 ** (gain_db / 20.0)
        meter, out_peak, reduction = LoudnessMeter(sample_rate), PeakMeter(), [0.0]
        use_limiter = peak_before + gain_db > peak_dbfs - 0.01
        pieces = (limited(source, sample_rate, peak_dbfs, gain=gain, reduction=reduction) if use_limiter
                  else (p * np.float32(gain) for p in source()))
        for piece in pieces:
            meter.feed(piece)
            out_peak.feed(piece)
        after, reduction_db = meter.lufs(), reduction[-1]
        if best is None or abs(after - target_lufs) < abs(best["lufs_after"] - target_lufs):
            best = {"lufs_before": before, "lufs_after": after,
                    "peak_dbfs": 20.0 * math.log10(out_peak.peak) if out_peak.peak > 0.0 else -math.inf,
                    "gain_db": gain_db, "limiter_reduction_db": reduction_db, "limited": use_limiter}
        if abs(after - target_lufs) < 0.05 or reduction_db == 0.0:
            break
        slope = 1.0
        if previous is not None and gain_db != previous[0]:
            slope = min(max((after - previous[1]) / (gain_db - previous[0]), 0.1), 1.0)
        previous = (gain_db, after)
        gain_db += (target_lufs - after) / slope
    assert best is not None
    return best


def normalised(source: Source, sample_rate: int, plan: dict, peak_dbfs: float = -1.0) -> Iterator[np.ndarray]:
    """``source`` as :func:`plan_loudness` planned it, piece by piece."""
    gain = 10.0 ** (plan["gain_db"] / 20.0)
    if plan["limited"]:
        return limited(source, sample_rate, peak_dbfs, gain=gain)
    if plan["gain_db"] == 0.0:
        return (np.asarray(p, dtype=np.float32) for p in source())
    return (p * np.float32(gain) for p in source())


def normalise_loudness(audio: np.ndarray, sample_rate: int, target_lufs: float = -16.0,
                       peak_dbfs: float = -1.0) -> tuple[np.ndarray, dict]:
    """Gain a finished ``(n, 2)`` mix to ``target_lufs`` with peaks never above ``peak_dbfs``.

    Silence comes back unchanged (loudness ``-inf``). Returns ``(audio, report)`` with
    ``lufs_before``, ``lufs_after``, ``peak_dbfs``, ``gain_db`` and ``limiter_reduction_db``.
    """
    x = np.asarray(audio, dtype=np.float32)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"audio must have shape (n, 2), got {x.shape}")
    source = array_source(x)
    plan = plan_loudness(source, sample_rate, target_lufs, peak_dbfs)
    out = np.empty_like(x)
    done = 0
    for piece in normalised(source, sample_rate, plan, peak_dbfs):
        out[done : done + piece.shape[0]] = piece
        done += piece.shape[0]
    plan.pop("limited")
    return out, plan
