"""A render spooled to disk: memory that does not grow with the length of the piece.

Why: loudness normalisation needs the whole piece before the first sample can be written, and a
2-hour render held in memory (float32 plus a float64 copy for the meter) is ~8 GB. Instead the
mix goes block by block into a temporary raw float32 file, measured as it is written (one energy per
100 ms is all the meter keeps); :func:`plan_loudness` reads it back only if the limiter must be
tried, and the final pass streams it, gained and limited, into the .wav/.flac. The result is the
same, sample for sample, as normalising in memory.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Iterator

import numpy as np

from segue.audio.loudness import LoudnessMeter, PeakMeter, normalised, plan_loudness
from segue.audio.sinks import FileSink

READ_FRAMES = 1 << 16


class Spool:
    """A temporary file of ``(n, channels)`` float32 frames, written once and read as often as needed.

    Given a ``sample_rate`` it also meters loudness and peak of what is written (:attr:`measured`), so
    normalisation does not read the whole piece back just to measure it."""

    def __init__(self, channels: int = 2, directory: Path | None = None, *, sample_rate: int | None = None) -> None:
        self.channels = channels
        self._file = tempfile.TemporaryFile(prefix="segue-spool-", dir=directory)
        self.frames = 0
        self.measured: tuple[LoudnessMeter, PeakMeter] | None = (
            None if sample_rate is None else (LoudnessMeter(sample_rate, channels), PeakMeter()))

    def write(self, block: np.ndarray) -> None:
        data = np.ascontiguousarray(block, dtype=np.float32)
        self._file.write(data.tobytes())
        self.frames += data.shape[0]
        if self.measured is not None:
            for meter in self.measured:
                meter.feed(data)

    def read(self) -> Iterator[np.ndarray]:
        """The frames from the start, ``READ_FRAMES`` at a time."""
        self._file.flush()
        self._file.seek(0)
        while True:
            piece = np.fromfile(self._file, dtype=np.float32, count=READ_FRAMES * self.channels)
            if piece.size == 0:
                return
            yield piece.reshape(-1, self.channels)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "Spool":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def write_normalised(spool: Spool, path: Path, sample_rate: int, *, target_lufs: float = -16.0,
                     peak_dbfs: float = -1.0) -> dict:
    """Normalise what ``spool`` holds (see :func:`segue.audio.loudness.plan_loudness`) into ``path``;
    returns the loudness report."""
    measured = spool.measured if spool.measured is not None and spool.measured[0].sample_rate == sample_rate else None
    plan = plan_loudness(spool.read, sample_rate, target_lufs, peak_dbfs, measured=measured)
    with FileSink(Path(path), sample_rate, spool.channels) as sink:
        for piece in normalised(spool.read, sample_rate, plan, peak_dbfs):
            sink.write(piece)
    plan.pop("limited")
    return plan
