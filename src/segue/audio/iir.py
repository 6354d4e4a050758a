"""Second-order-section IIR filtering (the K-weighting of loudness and voicing) without importing
``scipy.signal``.

Why: importing ``scipy.signal`` costs ~2 CPU seconds (it pulls in most of SciPy), which was most of the
start-up of ``segue render`` — more than rendering a minute of music. The filter itself is SciPy's own
compiled ``_sosfilt`` kernel, loaded on its own (~0.03 s); the numbers are SciPy's, bit for bit
(``tests/test_streaming_render.py``). If that private module cannot be loaded (another SciPy layout),
``scipy.signal.sosfilt`` is used instead.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Callable

import numpy as np

_kernel: Callable | None = None
_lock = threading.Lock()


def _load_kernel() -> Callable | None:
    try:
        import scipy

        folder = Path(scipy.__file__).parent / "signal"
        path = next(folder.glob("_sosfilt.*"))
        spec = importlib.util.spec_from_file_location("scipy.signal._sosfilt", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module._sosfilt
    except Exception:  # noqa: BLE001 — any layout we do not know: the public function will do
        return None


def sosfilt(sos: np.ndarray, x: np.ndarray, zi: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Filter ``(n, channels)`` float64 ``x`` along axis 0 through ``sos``; ``zi`` of shape
    ``(sections, 2, channels)`` is the state carried in (zeros if None). Returns (filtered, final state),
    as ``scipy.signal.sosfilt(sos, x, axis=0, zi=zi)`` does."""
    global _kernel
    x = np.asarray(x, dtype=np.float64)
    sections, channels = sos.shape[0], x.shape[1]
    if zi is None:
        zi = np.zeros((sections, 2, channels))
    with _lock:
        if _kernel is None:
            _kernel = _load_kernel() or _public
    if _kernel is _public:
        return _public(sos, x, zi)
    signal = np.array(x.T, dtype=np.float64, order="C")  # (channels, n): a copy filtered in place
    state = np.ascontiguousarray(np.moveaxis(np.asarray(zi, dtype=np.float64), (0, 1), (-2, -1)))
    _kernel(np.asarray(sos, dtype=np.float64), signal, state)
    return signal.T, np.moveaxis(state, (-2, -1), (0, 1))


def biquad(sos: np.ndarray, x: np.ndarray, state: np.ndarray) -> np.ndarray:
    """One second-order section ``sos`` (shape ``(1, 6)``, ``a0`` = 1) over 1-D float64 ``x``, the
    direct-form-II-transposed ``state`` (shape ``(1, 1, 2)``) updated in place. Returns the output.

    Why: the built-in synth filters every voice in 128-sample steps (the cutoff follows the modulation
    envelope); ``scipy.signal.lfilter`` costs ~30 µs a call in argument handling, and importing
    ``scipy.signal`` ~0.8 CPU s. This is the same kernel the loudness filter uses, called directly."""
    global _kernel
    with _lock:
        if _kernel is None:
            _kernel = _load_kernel() or _public
    signal = np.array(x, dtype=np.float64, ndmin=2)  # (1, n): a copy filtered in place
    if _kernel is _public:
        out, zf = _public(sos, signal.T, np.moveaxis(state, (-2, -1), (0, 1)))
        state[...] = np.moveaxis(zf, (0, 1), (-2, -1))
        return out[:, 0]
    _kernel(sos, signal, state)
    return signal[0]


def _public(sos: np.ndarray, x: np.ndarray, zi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from scipy.signal import sosfilt as scipy_sosfilt

    return scipy_sosfilt(sos, x, axis=0, zi=zi)
