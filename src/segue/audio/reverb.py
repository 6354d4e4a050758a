"""The bus reverb: pedalboard's (Freeverb-style) reverb, made block-size independent.

pedalboard's ``Reverb`` is deterministic and streams exactly with ``reset=False`` — but only
while every call has the same block size; a differently sized call re-prepares it and the
tail changes. The engine pulls whatever block sizes its sink asks for, so we feed the reverb
fixed chunks of ``chunk`` frames from a FIFO and return its output ``chunk`` frames later.
That delay is musically a pre-delay (23 ms at 44.1 kHz), which a reverb wants anyway, and
it only delays the *wet* signal: the dry signal is never held back.

Level: JUCE's reverb scales its wet output by 3 internally; with ``wet_level=0.35`` a wet-only
signal at amount 1.0 is about as loud (LUFS) as the dry mix, so the mixer's default amount
0.25 sits ~12 dB under the dry signal — a room, not a cathedral.
"""

from __future__ import annotations

import numpy as np
from pedalboard import Reverb

WET_LEVEL = 0.35


class BusReverb:
    """Stereo wet-only reverb: ``process(block)`` returns the wet signal, pre-delayed by ``chunk``."""

    def __init__(self, sample_rate: int, *, room_size: float = 0.55, damping: float = 0.5,
                 width: float = 1.0, chunk: int = 1024) -> None:
        self.sample_rate = int(sample_rate)
        self.chunk = int(chunk)
        self._reverb = Reverb(room_size=room_size, damping=damping, wet_level=WET_LEVEL, dry_level=0.0,
                              width=width, freeze_mode=0.0)
        self._pending = np.zeros((2, 0), dtype=np.float32)  # input not yet a whole chunk (channels first)
        self._ready = np.zeros((2, self.chunk), dtype=np.float32)  # wet output not yet returned

    def process(self, block: np.ndarray) -> np.ndarray:
        """Feed ``(n, 2)`` dry frames, get ``(n, 2)`` wet frames (float32)."""
        n = block.shape[0]
        pending = np.concatenate([self._pending, np.asarray(block, dtype=np.float32).T], axis=1)
        whole = pending.shape[1] - pending.shape[1] % self.chunk
        produced = [self._ready]
        for start in range(0, whole, self.chunk):
            piece = np.ascontiguousarray(pending[:, start : start + self.chunk])
            produced.append(self._reverb.process(piece, self.sample_rate, reset=False))
        self._pending = pending[:, whole:]
        ready = np.concatenate(produced, axis=1) if len(produced) > 1 else self._ready
        self._ready = ready[:, n:]
        return np.ascontiguousarray(ready[:, :n].T)
