"""File sinks: where finished (or streaming) audio goes on disk.

``write_audio`` writes a whole piece; ``FileSink`` writes block by block (a live session
recording itself). Both write 24-bit PCM, chosen by extension (.wav or .flac), and clip to
[-1, 1] first: PCM conversion would otherwise wrap an over-range float around to the opposite
sign, which is far worse than clipping. (The bus limiter means clipping should never happen.)
Files are written to a temporary name and renamed, so a failed render never leaves half a file.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType

import numpy as np
import soundfile as sf

from segue.audio.errors import AudioError

FORMATS = {".wav": "WAV", ".flac": "FLAC"}


def audio_format(path: Path) -> str:
    """The soundfile format name for ``path`` by extension; AudioError for anything else."""
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        raise AudioError(f"cannot write {path.name}: unknown audio format {path.suffix or '(none)'!r}; "
                         f"use {' or '.join(FORMATS)}") from None


def _prepare(audio: np.ndarray) -> np.ndarray:
    x = np.asarray(audio, dtype=np.float32)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] not in (1, 2):
        raise ValueError(f"audio must have shape (n, 2) or (n,), got {np.shape(audio)}")
    return np.clip(np.nan_to_num(x, nan=0.0, posinf=1.0, neginf=-1.0), -1.0, 1.0)


def _temp_name(path: Path) -> Path:
    """A hidden sibling of ``path`` (same directory, so the final rename is atomic)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AudioError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return path.parent / f".{path.name}.{os.getpid()}.partial"


def write_audio(path: Path, audio: np.ndarray, sample_rate: int) -> None:
    """Write ``(n, 2)`` float audio as 24-bit PCM .wav or .flac (by extension)."""
    path = Path(path)
    fmt = audio_format(path)
    data = _prepare(audio)
    temp = _temp_name(path)
    try:
        sf.write(temp, data, int(sample_rate), subtype="PCM_24", format=fmt)
        os.replace(temp, path)
    except (OSError, sf.LibsndfileError, RuntimeError) as exc:
        temp.unlink(missing_ok=True)
        raise AudioError(f"cannot write {path}: {exc}") from exc


class FileSink:
    """Streams blocks into a .wav/.flac file; use as a context manager so the file is finished."""

    def __init__(self, path: Path, sample_rate: int, channels: int = 2) -> None:
        self.path = Path(path)
        fmt = audio_format(self.path)
        self._temp = _temp_name(self.path)
        try:
            self._file = sf.SoundFile(self._temp, "w", samplerate=int(sample_rate), channels=channels,
                                      subtype="PCM_24", format=fmt)
        except (OSError, sf.LibsndfileError, RuntimeError) as exc:
            self._temp.unlink(missing_ok=True)
            raise AudioError(f"cannot write {self.path}: {exc}") from exc
        self.frames = 0

    def write(self, block: np.ndarray) -> None:
        data = _prepare(block)
        self._file.write(data)
        self.frames += data.shape[0]

    def close(self) -> None:
        """Finish the file and move it into place (idempotent)."""
        if self._file.closed:
            return
        self._file.close()
        try:
            os.replace(self._temp, self.path)
        except OSError as exc:
            raise AudioError(f"cannot write {self.path}: {exc.strerror or exc}") from exc

    def abort(self) -> None:
        """Drop the file (a failed or cancelled recording)."""
        if not self._file.closed:
            self._file.close()
        self._temp.unlink(missing_ok=True)

    def __enter__(self) -> "FileSink":
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()
