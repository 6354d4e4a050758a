"""One layer's synthesizer: a SoundFont voice set driven by sample-stamped events.

The same object serves offline rendering and live playback: the sequencer *schedules*
events at absolute sample positions, the audio side *pulls* blocks with :meth:`render`.
Rendering a whole piece is pulling blocks until the end — there is no second code path.

Sample accuracy: a block is split at every event position, so an event scheduled for
sample ``s`` takes effect at exactly ``s``. Block-size invariance: TinySoundFont updates
envelopes and LFOs every 64 samples counted from the start of each render call, so we
start render calls only on an absolute 64-sample grid or at an event. Consequently any
block size that is a multiple of 64 (a live callback of 512, an offline block of 2048)
produces bit-identical audio — what lets a live session replay offline to the same samples.
"""

from __future__ import annotations

import heapq
import itertools
from pathlib import Path
from typing import Literal

import numpy as np

from segue.audio.errors import AudioError
from segue.audio.soundfont import has_preset, open_voice_set, preset_name
from segue.audio.voicing import key_trims, voiced_velocity

GRID = 64
"""TinySoundFont's internal control block (TSF_RENDER_EFFECTSAMPLEBLOCK)."""

DEFAULT_GAIN_DB = -6.0
"""Synth output trim: GM fonts at 0 dB put a dense 6-layer arrangement well above full scale;
-6 dB keeps the bus limiter a safety net rather than an effect."""

_CHANNEL = 0
_SUSTAIN = 64

# Event kinds, and their order among events at the same sample: controls (program, CC,
# pitch bend) first so a note at the same sample already hears them, then note-offs, then
# note-ons — so a repeated note (off and on at one sample) re-strikes instead of being cut.
_PROGRAM, _CONTROL, _BEND, _OFF, _ON = range(5)
_PRIORITY = {_PROGRAM: 0, _CONTROL: 0, _BEND: 0, _OFF: 1, _ON: 2}


class LayerSynth:
    """One synth voice set for one layer (its own TinySoundFont voices and channel).

    ``schedule`` events at absolute sample positions, ``render(n)`` the next ``n`` frames.
    Events already in the past when rendering reaches them are applied at once.
    """

    def __init__(
        self,
        *,
        program: int,
        is_drums: bool = False,
        bank: int = 0,
        sample_rate: int = 44100,
        soundfont: Path | None = None,
        gain_db: float = DEFAULT_GAIN_DB,
        max_voices: int = 128,
        voicing: bool = True,
    ) -> None:
        if not 0 <= program <= 127:
            raise AudioError(f"program must be 0..127 (General MIDI numbers from 0), got {program}")
        if not 0 <= bank <= 127:
            raise AudioError(f"bank must be 0..127, got {bank}")
        self.sample_rate = int(sample_rate)
        self.is_drums = bool(is_drums)
        self.bank = int(bank)
        self._soundfont = soundfont
        self.voicing = bool(voicing)
        self._trims = np.ones(128)
        self._font = open_voice_set(soundfont, self.sample_rate, gain_db, max_voices)
        self._font.channel_set_bank(_CHANNEL, self.bank)
        self._select(program)
        self._position = 0
        self._queue: list[tuple[int, int, int, int, int, int]] = []
        self._order = itertools.count()
        self._sustain = False
        self._held: set[int] = set()
        self._sustained: set[int] = set()

    # -- scheduling ---------------------------------------------------------------------
    def schedule(self, sample: int, kind: Literal["on", "off"], pitch: int, velocity: int = 0) -> None:
        """Note on/off at absolute ``sample``. A note-on with velocity 0 is a note-off (MIDI rule)."""
        if kind not in ("on", "off"):
            raise ValueError(f"kind must be 'on' or 'off', got {kind!r}")
        if not 0 <= pitch <= 127:
            raise ValueError(f"pitch out of MIDI range: {pitch}")
        if not 0 <= velocity <= 127:
            raise ValueError(f"velocity out of range 0..127: {velocity}")
        code = _ON if kind == "on" and velocity > 0 else _OFF
        self._push(sample, code, pitch, velocity)

    def schedule_control(self, sample: int, controller: int, value: int) -> None:
        """MIDI control change (volume 7, pan 10, expression 11, sustain 64, RPNs …) at ``sample``."""
        if not (0 <= controller <= 127 and 0 <= value <= 127):
            raise ValueError(f"control change out of range: {controller}={value}")
        self._push(sample, _CONTROL, controller, value)

    def schedule_program(self, sample: int, program: int) -> None:
        """Change instrument at ``sample``; sounding notes keep their old instrument (as in MIDI)."""
        if not 0 <= program <= 127:
            raise ValueError(f"program must be 0..127, got {program}")
        self._push(sample, _PROGRAM, program, 0)

    def schedule_pitch_bend(self, sample: int, value: int) -> None:
        """Pitch wheel at ``sample``: -8192..8191, 0 = centre (mido's convention)."""
        if not -8192 <= value <= 8191:
            raise ValueError(f"pitch bend out of range -8192..8191: {value}")
        self._push(sample, _BEND, value + 8192, 0)

    def _push(self, sample: int, code: int, a: int, b: int) -> None:
        heapq.heappush(self._queue, (int(sample), _PRIORITY[code], next(self._order), code, a, b))

    # -- rendering ----------------------------------------------------------------------
    @property
    def position(self) -> int:
        """Samples rendered so far: the absolute sample the next ``render`` starts at."""
        return self._position

    @property
    def pending(self) -> int:
        """Number of scheduled events not yet applied."""
        return len(self._queue)

    @property
    def next_event(self) -> int | None:
        """Sample position of the earliest pending event, or None."""
        return self._queue[0][0] if self._queue else None

    @property
    def preset_name(self) -> str:
        """The SoundFont preset this layer currently plays (after bank/kit fallbacks)."""
        return preset_name(self._font, _CHANNEL)

    def render(self, n: int) -> np.ndarray:
        """The next ``n`` frames as a C-contiguous ``(n, 2)`` float32 array.

        Events at or before a frame are applied before that frame is rendered; events at the
        block's end are applied too (nothing sounds between here and the next block's start).
        """
        if n < 0:
            raise ValueError(f"cannot render a negative number of frames: {n}")
        out = np.empty((n, 2), dtype=np.float32)
        start = self._position
        end = start + n
        cursor = start
        queue = self._queue
        while True:
            while queue and queue[0][0] <= cursor:
                _, _, _, code, a, b = heapq.heappop(queue)
                self._apply(code, a, b)
            if cursor >= end:
                break
            # stop at the next event, at the grid line after an off-grid start, or at the block end
            stop = min(end, queue[0][0]) if queue else end
            if cursor % GRID:
                stop = min(stop, cursor - cursor % GRID + GRID)
            self._font.render(out[cursor - start : stop - start])
            cursor = stop
        self._position = end
        return out

    def advance(self, n: int) -> None:
        """Move the clock ``n`` frames without rendering, for a synth known to be silent (all its notes
        released long ago, nothing scheduled): what a render would return is zeros, computed for nothing.
        With events due in the range it renders (and discards) instead, so nothing is skipped."""
        if self._queue and self._queue[0][0] < self._position + n:
            self.render(n)
            return
        self._position += int(n)

    def start_at(self, sample: int) -> None:
        """Start a fresh synth's clock at ``sample`` (it has played nothing, so there is no silence to render).

        Why: a layer or stinger that first sounds an hour into a session must not allocate an hour of
        silence to catch up. Only allowed before the first render and with no events queued earlier.
        """
        if self._position != 0 or (self._queue and self._queue[0][0] < sample):
            raise ValueError("start_at is only for a synth that has not played yet")
        self._position = int(sample)

    def all_notes_off(self) -> None:
        """Release every sounding note now (they fade with their natural release) and drop
        all pending events — the 'panic' a transition or a stop needs."""
        self._queue.clear()
        self._sustain = False
        self._held.clear()
        self._sustained.clear()
        self._font.channel_midi_control(_CHANNEL, 123, 0)

    def sounds_off(self) -> None:
        """Silence everything at once, releases included (hard stop), and drop pending events."""
        self.all_notes_off()
        self._font.channel_sounds_off(_CHANNEL)

    # -- event application --------------------------------------------------------------
    def _select(self, program: int) -> None:
        if not has_preset(self._font, self.bank, program, self.is_drums):
            what = "drum kit" if self.is_drums else "program"
            raise AudioError(f"the soundfont has no {what} {program} (bank {self.bank}) nor a General MIDI fallback")
        self._font.channel_set_preset_number(_CHANNEL, program, self.is_drums)
        self.program = program
        self._voice()

    def _voice(self) -> None:
        """Per-key velocity trims for the current preset (see :mod:`segue.audio.voicing`)."""
        if self.voicing:
            self._trims = key_trims(self._soundfont, self.bank, self.program, self.is_drums)

    def _apply(self, code: int, a: int, b: int) -> None:
        font = self._font
        if code == _ON:
            self._held.add(a)
            self._sustained.discard(a)
            font.channel_note_on(_CHANNEL, a, voiced_velocity(b, self._trims[a]))
        elif code == _OFF:
            self._held.discard(a)
            if self._sustain:
                self._sustained.add(a)
            else:
                font.channel_note_off(_CHANNEL, a)
        elif code == _CONTROL:
            self._control(a, b)
        elif code == _BEND:
            font.channel_set_pitch_wheel(_CHANNEL, a)
        elif code == _PROGRAM:
            if has_preset(font, self.bank, a, self.is_drums):
                font.channel_set_preset_number(_CHANNEL, a, self.is_drums)
                self.program = a
                self._voice()

    def _control(self, controller: int, value: int) -> None:
        # TinySoundFont has no sustain pedal; we hold note-offs while it is down.
        if controller == _SUSTAIN:
            down = value >= 64
            if self._sustain and not down:
                for key in sorted(self._sustained - self._held):
                    self._font.channel_note_off(_CHANNEL, key)
                self._sustained.clear()
            self._sustain = down
            return
        if controller in (120, 121, 123):
            self._sustain = False
            self._sustained.clear()
        if controller == 0:  # bank select: keep the drum flag's bank semantics intact
            self.bank = value
        self._font.channel_midi_control(_CHANNEL, controller, value)
