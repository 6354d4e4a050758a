"""One sounding note: a sample played at a pitch, through its envelope, filter and pan.

Everything a voice outputs is a function of *its own sample clock* (samples since note-on, and
samples since its last pitch change), never of where a render call happens to start. So a block
of 2048 frames and four blocks of 512 give the same samples bit for bit — the property that lets
a live session replay offline to the same audio (``shared/DESIGN.md``), here by construction
rather than by TinySoundFont's 64-sample grid. State changes (release, pitch bend) only happen at
event positions, where the caller splits its render calls anyway.

What is modelled (SF2 2.04 and its default modulators, as a General MIDI player needs them):
linear interpolation, loops (continuous and until-release), the six-stage volume envelope with
key scaling of hold and decay, the resonant low-pass with its cutoff moved by the modulation
envelope (updated every 128 samples of the voice's own clock), attenuation, pan, velocity as
linear gain (as TinySoundFont does), pitch bend, exclusive classes (the caller).
Not modelled: modulation/vibrato LFOs (vibrato, tremolo), the modulation envelope's pitch
amount, chorus/reverb sends (the mixer has its own reverb), non-default modulators.
"""

from __future__ import annotations

import numpy as np

from segue.audio.iir import biquad
from segue.audio.sf2.regions import Region

_SILENT_DB = -96.0
"""Below this a voice has ended (16-bit silence)."""

_DB_TO_LN = np.log(10.0) / 20.0
"""dB to a natural exponent: ``exp(db × this)`` is ``10 ** (db / 20)`` at a third of the cost."""

FILTER_STEP = 128
"""The cutoff follows the modulation envelope in steps of this many samples of the voice's clock."""


def _lowpass(cutoff_hz: float, q_db: float, rate: int) -> np.ndarray:
    """RBJ biquad low-pass coefficients as one second-order section ``(1, 6)`` (the cutoff held below
    Nyquist)."""
    cutoff_hz = min(cutoff_hz, 0.45 * rate)
    q = max(10.0 ** (q_db / 20.0), 0.7071)
    w0 = 2.0 * np.pi * cutoff_hz / rate
    alpha = np.sin(w0) / (2.0 * q)
    cos = np.cos(w0)
    a0 = 1.0 + alpha
    b = np.array([(1.0 - cos) / 2.0, 1.0 - cos, (1.0 - cos) / 2.0]) / a0
    return np.array([[b[0], b[1], b[2], 1.0, -2.0 * cos / a0, (1.0 - alpha) / a0]])


class Voice:
    """A note on one channel, rendered additively into a stereo accumulator."""

    __slots__ = ("region", "channel", "key", "order", "gain", "rate", "t", "base", "elapsed", "ratio",
                 "looping", "released_at", "release_db", "done", "filter", "zi", "_d", "_a", "_h", "_dc",
                 "_rel", "_sustained_from", "_pitch_key", "pcm", "_menv", "mod_at_release")

    def __init__(self, region: Region, pcm: np.ndarray, channel: int, key: int, gain: float, rate: int,
                 bend_cents: float, order: int) -> None:
        self.region = region
        self.pcm = pcm
        self.channel = channel
        self.key = key
        self.order = order
        self.gain = gain
        self.rate = rate
        self.t = 0
        self.base = float(region.start)
        self.elapsed = 0
        self._pitch_key = region.keynum if 0 <= region.keynum <= 127 else key
        self.ratio = self._ratio(bend_cents)
        self.looping = region.loop_mode in (1, 3)
        self.released_at: int | None = None
        self.release_db = 0.0
        self.done = False
        scale_hold = 2.0 ** ((60 - self._pitch_key) * region.key_to_hold / 1200.0)
        scale_decay = 2.0 ** ((60 - self._pitch_key) * region.key_to_decay / 1200.0)
        self._d = region.delay * rate
        self._a = region.attack * rate
        self._h = region.hold * scale_hold * rate
        self._dc = region.decay * scale_decay * rate
        self._rel = region.release * rate
        # from this sample of a held note the envelope sits on its sustain level (one sample later than
        # exact, so that rounding can never put a sample the per-sample formula would still see decaying)
        self._sustained_from = self._d + self._a + self._h + (
            self._dc * region.sustain_db / 100.0 if self._dc > 0 else 0.0) + 1.0
        md, ma, mh, mdc, msus, mrel = region.mod_env
        mh *= 2.0 ** ((60 - self._pitch_key) * region.key_to_mod_hold / 1200.0)
        mdc *= 2.0 ** ((60 - self._pitch_key) * region.key_to_mod_decay / 1200.0)
        self._menv = (md * rate, ma * rate, mh * rate, mdc * rate, msus, mrel * rate)
        self.mod_at_release = 0.0
        filtered = region.filter_cents < 13500 or region.mod_to_filter != 0
        self.filter: np.ndarray | None = None
        if filtered and region.mod_to_filter == 0:
            self.filter = _lowpass(self._cutoff(0.0), region.filter_q_db, rate)
        self.zi = np.zeros((1, 1, 2)) if filtered else None  # the filter's state, (sections, 2) per signal

    def _cutoff(self, mod: float) -> float:
        return 8.176 * 2.0 ** ((self.region.filter_cents + mod * self.region.mod_to_filter) / 1200.0)

    def _mod(self, t: int) -> float:
        """Modulation envelope (0..1) at voice sample ``t``: linear segments, as SF2 defines it."""
        d, a, h, dc, sus, rel = self._menv
        if self.released_at is not None:
            return max(0.0, self.mod_at_release - ((t - self.released_at) / rel if rel > 0 else 1.0))
        x = t - d
        if x < 0:
            return 0.0
        if x < a:
            return x / a
        x -= a + h
        if x < 0:
            return 1.0
        return max(sus, 1.0 - x / dc) if dc > 0 else sus

    # -- pitch ------------------------------------------------------------------------------
    def _ratio(self, bend_cents: float) -> float:
        r = self.region
        cents = (self._pitch_key - r.root) * r.scale + r.tune_cents + bend_cents
        return float(2.0 ** (cents / 1200.0) * r.sample_rate / self.rate)

    def _position_now(self) -> float:
        pos = self.base + self.ratio * self.elapsed
        r = self.region
        if self.looping and pos >= r.loop_end:
            pos = r.loop_start + (pos - r.loop_start) % (r.loop_end - r.loop_start)
        return pos

    def bend(self, cents: float) -> None:
        """New pitch from now on: restart the position line at the current position."""
        self.base = self._position_now()
        self.elapsed = 0
        self.ratio = self._ratio(cents)

    # -- envelope ---------------------------------------------------------------------------
    def _held_db(self, t: np.ndarray) -> np.ndarray:
        """Envelope of a held note in dB (−inf before the delay), at sample times ``t``."""
        x = t - self._d
        if self._a > 0:
            rise = np.clip(x / self._a, 0.0, 1.0)
        else:
            rise = (x >= 0).astype(np.float64)
        y = x - self._a - self._h
        sus = self.region.sustain_db
        if self._dc > 0:
            fall = np.minimum(100.0 * np.maximum(y, 0.0) / self._dc, sus)
        else:
            fall = np.where(y > 0, sus, 0.0)
        with np.errstate(divide="ignore"):
            return 20.0 * np.log10(rise) - fall

    def release(self) -> None:
        """Key up: the envelope falls from where it is now (loop-until-release sample plays out)."""
        if self.released_at is not None:
            return
        level = float(self._held_db(np.array([float(self.t)]))[0])
        self.mod_at_release = self._mod(self.t)
        self.released_at = self.t
        self.release_db = level
        if self.region.loop_mode == 3:
            self.base = self._position_now()
            self.elapsed = 0
            self.looping = False
        if self._rel <= 0 or level <= _SILENT_DB:
            self.done = True

    def kill(self) -> None:
        self.done = True

    def _filter(self, sig: np.ndarray) -> np.ndarray:
        """Low-pass ``sig`` (which starts at voice sample ``self.t``), the cutoff stepped on the voice's clock."""
        if self.filter is not None:
            return biquad(self.filter, sig, self.zi)
        out = np.empty_like(sig)
        i, n, q = 0, len(sig), self.region.filter_q_db
        while i < n:
            t = self.t + i
            j = min(n, i + FILTER_STEP - t % FILTER_STEP)
            step = t - t % FILTER_STEP
            out[i:j] = biquad(_lowpass(self._cutoff(self._mod(step)), q, self.rate), sig[i:j], self.zi)
            i = j
        return out

    # -- rendering --------------------------------------------------------------------------
    def _amp(self, t: np.ndarray, db: np.ndarray, end: float) -> np.ndarray:
        """Linear gain from the envelope in dB; silent from the voice's end on (which ends it)."""
        if self.t + t.shape[0] >= end:
            self.done = True
            db = np.where(t >= end, -np.inf, db)
        return np.exp(db * _DB_TO_LN)

    def render(self, n: int, buses: dict[float, np.ndarray], gain: float, pan: float) -> None:
        """Add the next ``n`` frames into the mono bus of this voice's pan position (``buses``, float64,
        created if missing) and advance the clocks. The caller pans each bus once: one pass per voice
        instead of one per voice and side."""
        if self.done or n <= 0:
            return
        r = self.region
        # the voice ends at a sample fixed on its own clock (where its level reaches -96 dB), never at
        # the end of whichever block noticed it: that keeps any block size bit-identical
        end = np.inf
        if self.released_at is None:
            if r.sustain_db >= -_SILENT_DB and self._dc > 0:
                end = self._d + self._a + self._h + self._dc * (-_SILENT_DB) / 100.0
            if self.t >= self._sustained_from and self.t + n < end:
                # on the sustain plateau the level is one number: the same one every sample would get
                amp: np.ndarray | float = float(np.exp(self._held_db(np.array([float(self.t)]))[0] * _DB_TO_LN))
            else:
                t = self.t + np.arange(n, dtype=np.float64)
                amp = self._amp(t, self._held_db(t), end)
        else:
            t = self.t + np.arange(n, dtype=np.float64)
            end = self.released_at + (self.release_db - _SILENT_DB) * self._rel / 100.0
            amp = self._amp(t, self.release_db - 100.0 * (t - self.released_at) / self._rel, end)

        k = self.elapsed + np.arange(n, dtype=np.float64)
        pos = self.base + self.ratio * k
        count = n
        if self.looping:
            # positions only grow (the ratio is positive) until they wrap, so the last one tells
            if pos[-1] >= r.loop_end:
                pos = np.where(pos >= r.loop_end, r.loop_start + np.mod(pos - r.loop_start, r.loop_end - r.loop_start),
                               pos)
                i = pos.astype(np.int64)
                j = np.where(i + 1 >= r.loop_end, r.loop_start, i + 1)
            else:
                i = pos.astype(np.int64)
                j = i + 1
                if j[-1] >= r.loop_end:
                    j = np.where(j >= r.loop_end, r.loop_start, j)
        else:
            last = r.end - 1
            count = int(np.searchsorted(pos, last, side="left"))
            if count < n:
                self.done = True
            pos = pos[:count]
            i = pos.astype(np.int64)
            j = i + 1
        if count > 0:
            data = self.pcm
            low = data[i]
            sig = low + (data[j] - low) * (pos - i)
            if self.zi is not None:
                sig = self._filter(sig)
            g = self.gain * gain
            if isinstance(amp, float):
                sig *= amp * g
            else:
                sig *= amp[:count]
                sig *= g
            p = min(max(r.pan + pan, -0.5), 0.5)
            bus = buses.get(p)
            if bus is None:
                bus = buses[p] = np.zeros(n)
            bus[:count] += sig
        self.t += n
        self.elapsed += n
