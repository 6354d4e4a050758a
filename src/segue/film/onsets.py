"""Where the hit accents really sound: onsets measured in the rendered audio, not in the plan.

The MIDI file says where a hit's beat is written; a listener hears the audio. While the film
renders, the engine's hit accents (the stingers: timpani, chime, cymbal) are kept for a short
window around every hit point, apart from the rest of the music, and the accent's onset is found
there: the sudden rise of level nearest the hit. That is an audio
measurement of the same claim — the hit lands within ±10 ms — made without trusting the
tempo map that produced both the MIDI and the audio.
"""

from __future__ import annotations

import numpy as np

WINDOW = 0.25
"""Seconds kept either side of a hit (a miss larger than this is reported as no onset found)."""
RISE = 0.1
"""An onset is a rise of the level by this fraction of the window's peak within 5–10 ms."""


class HitWindows:
    """Collects the audio of the hit accents around each hit time while the film streams past."""

    def __init__(self, times: list[float], sample_rate: int) -> None:
        self.sr = sample_rate
        self.times = sorted(set(round(t, 6) for t in times))
        w = int(WINDOW * sample_rate)
        self.spans = [(max(0, int(round(t * sample_rate)) - w), int(round(t * sample_rate)) + w) for t in self.times]
        self.audio = [np.zeros(b - a, np.float32) for a, b in self.spans]

    def add(self, pos: int, block: np.ndarray) -> None:
        """Add a mono or stereo block that starts at film sample ``pos``."""
        n = block.shape[0]
        mono = block.mean(axis=1) if block.ndim == 2 else block
        for (a, b), buf in zip(self.spans, self.audio):
            lo, hi = max(a, pos), min(b, pos + n)
            if lo < hi:
                buf[lo - a:hi - a] += mono[lo - pos:hi - pos]

    def onset_ms(self, t: float) -> float | None:
        """The accent's onset relative to hit time ``t`` in ms (None: no accent sounded in the window)."""
        i = self.times.index(round(t, 6))
        return onset_offset_ms(self.audio[i], self.sr, (int(round(t * self.sr)) - self.spans[i][0]))


def onset_offset_ms(audio: np.ndarray, sample_rate: int, at: int) -> float | None:
    """The accent onset nearest sample ``at`` in ``audio``, in ms from ``at`` (None when nothing starts there).

    An onset is a sudden rise: the level (peak of half-millisecond frames) exceeds what it was 5–10 ms
    earlier by a tenth of the window's peak — so an attack that takes a few milliseconds to build, or
    starts while an earlier accent still rings, is found too. The onset itself is the first frame of
    that rise above the earlier level (plus 2 % of the peak).
    """
    x = np.abs(audio.astype(np.float64))
    peak = float(x.max()) if x.size else 0.0
    if peak < 1e-4:
        return None
    hop = max(1, sample_rate // 2000)
    frames = x[: x.size // hop * hop].reshape(-1, hop).max(axis=1)
    near, far = 10, 20  # 5 and 10 ms in frames
    onsets: list[int] = []
    last_rise = -far
    for i in range(1, frames.size):
        pre = frames[max(0, i - far):max(1, i - near)].max()
        if frames[i] - pre < RISE * peak:
            continue
        if i - last_rise > far:  # a new rise: walk back to where it left the earlier level
            j = max(0, i - near)
            while j < i and frames[j] <= pre + 0.02 * peak:
                j += 1
            onsets.append(j)
        last_rise = i
    if not onsets:
        return None
    j = min(onsets, key=lambda k: abs(k * hop - at))
    return (j * hop - at) * 1000.0 / sample_rate
