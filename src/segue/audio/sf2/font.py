"""The built-in player's font object: the same calls Segue makes of TinySoundFont's low-level ``SoundFont``.

A parsed font is shared by every clone (``SoundFont(template)``) — each layer gets fresh channels
and voices over the same sample data, as with TinySoundFont. Only the calls Segue uses exist;
only stereo interleaved output is supported (what the mixer takes).
"""

from __future__ import annotations

import enum

import numpy as np

from segue.audio.sf2.parse import FontData, parse
from segue.audio.sf2.regions import Region, preset_regions
from segue.audio.sf2.voice import Voice

DRUM_BANK = 128


class OutputMode(enum.IntEnum):
    StereoInterleaved = 0
    StereoUnweaved = 1
    Mono = 2


class _Channel:
    __slots__ = ("preset", "bank", "volume", "expression", "pan", "wheel", "bend_range", "rpn")

    def __init__(self) -> None:
        self.preset = -1
        self.bank = 0
        self.volume = 1.0
        self.expression = 1.0
        self.pan = 0.0
        self.wheel = 8192
        self.bend_range = 2.0
        self.rpn: tuple[int, int] = (127, 127)

    def bend_cents(self) -> float:
        return (self.wheel - 8192) / 8192.0 * self.bend_range * 100.0


class _Shared:
    """What clones share: the parsed font, its (bank, program) index and resolved regions per preset."""

    def __init__(self, data: FontData) -> None:
        self.data = data
        self.index: dict[tuple[int, int], int] = {}
        for i, preset in enumerate(data.presets):
            self.index.setdefault((preset.bank, preset.program), i)
        self.regions: dict[int, list[Region]] = {}

    def regions_of(self, preset: int) -> list[Region]:
        found = self.regions.get(preset)
        if found is None:
            found = self.regions[preset] = preset_regions(self.data, preset)
        return found


class SoundFont:
    """A voice set over a parsed SF2: ``SoundFont(bytes)`` parses, ``SoundFont(other)`` clones."""

    def __init__(self, source: "bytes | SoundFont") -> None:
        if isinstance(source, SoundFont):
            self._shared = source._shared
        else:
            self._shared = _Shared(parse(bytes(source)))
        self._rate = 44100
        self._gain_db = 0.0
        self._max_voices = 64
        self._channels: dict[int, _Channel] = {}
        self._voices: list[Voice] = []
        self._order = 0

    # -- the font -------------------------------------------------------------------------
    def get_preset_count(self) -> int:
        return len(self._shared.data.presets)

    def get_preset_index(self, bank: int, program: int) -> int:
        return self._shared.index.get((int(bank), int(program)), -1)

    def get_preset_name(self, index: int) -> str:
        return self._shared.data.presets[index].name

    # -- output ---------------------------------------------------------------------------
    def set_output(self, mode: OutputMode, sample_rate: int, gain_db: float) -> None:
        if int(mode) != OutputMode.StereoInterleaved:
            raise ValueError("the built-in synthesizer renders stereo interleaved only")
        self._rate = int(sample_rate)
        self._gain_db = float(gain_db)

    def set_max_voices(self, count: int) -> None:
        self._max_voices = max(1, int(count))

    # -- channels -------------------------------------------------------------------------
    def _channel(self, ch: int) -> _Channel:
        c = self._channels.get(ch)
        if c is None:
            c = self._channels[ch] = _Channel()
        return c

    def channel_set_bank(self, ch: int, bank: int) -> None:
        self._channel(ch).bank = int(bank)

    def channel_set_preset_number(self, ch: int, program: int, drums: bool = False) -> None:
        c = self._channel(ch)
        if drums:
            tries = [(DRUM_BANK | c.bank, program), (DRUM_BANK, program), (DRUM_BANK, 0), (c.bank, program)]
        else:
            tries = [(c.bank, program)]
        tries.append((0, program))
        for bank, prog in tries:
            index = self.get_preset_index(bank, prog)
            if index >= 0:
                c.preset = index
                return

    def channel_get_preset_index(self, ch: int) -> int:
        return self._channel(ch).preset

    def channel_note_on(self, ch: int, key: int, velocity: float) -> None:
        c = self._channel(ch)
        if velocity <= 0:
            self.channel_note_off(ch, key)
            return
        if c.preset < 0:
            return
        vel = min(127, max(1, int(round(velocity * 127.0))))
        base_db = self._gain_db
        regions = [r for r in self._shared.regions_of(c.preset) if r.matches(key, vel)]
        for r in regions:
            if r.exclusive:
                for v in self._voices:
                    if v.channel == ch and v.region.exclusive == r.exclusive:
                        v.kill()
        for r in regions:
            if len(self._voices) >= self._max_voices:
                self._steal()
            gain = 10.0 ** ((base_db - r.attenuation_db) / 20.0) * min(float(velocity), 1.0)
            self._voices.append(Voice(r, self._shared.data.pcm, ch, key, gain, self._rate, c.bend_cents(),
                                      self._order))
            self._order += 1

    def _steal(self) -> None:
        """Drop one voice: the oldest released one, else the oldest (deterministic)."""
        live = [v for v in self._voices if not v.done]
        released = [v for v in live if v.released_at is not None]
        victim = min(released or live, key=lambda v: v.order, default=None)
        if victim is not None:
            victim.kill()
        self._voices = [v for v in self._voices if not v.done]

    def channel_note_off(self, ch: int, key: int) -> None:
        for v in self._voices:
            if v.channel == ch and v.key == key:
                v.release()

    def channel_note_off_all(self, ch: int) -> None:
        for v in self._voices:
            if v.channel == ch:
                v.release()

    def channel_sounds_off(self, ch: int) -> None:
        for v in self._voices:
            if v.channel == ch:
                v.kill()
        self._voices = [v for v in self._voices if not v.done]

    def channel_set_pitch_wheel(self, ch: int, value: int) -> None:
        c = self._channel(ch)
        c.wheel = min(max(int(value), 0), 16383)
        cents = c.bend_cents()
        for v in self._voices:
            if v.channel == ch:
                v.bend(cents)

    def channel_midi_control(self, ch: int, controller: int, value: int) -> None:
        c = self._channel(ch)
        if controller == 7:
            c.volume = value / 127.0
        elif controller == 11:
            c.expression = value / 127.0
        elif controller == 10:
            c.pan = (value - 64) / 128.0
        elif controller == 0:
            c.bank = int(value)
        elif controller in (100, 101):
            c.rpn = (value, c.rpn[1]) if controller == 101 else (c.rpn[0], value)
        elif controller == 6 and c.rpn == (0, 0):
            c.bend_range = float(value) + (c.bend_range % 1.0)
        elif controller == 38 and c.rpn == (0, 0):
            c.bend_range = float(int(c.bend_range)) + value / 100.0
        elif controller == 120:
            self.channel_sounds_off(ch)
        elif controller == 121:
            c.expression, c.pan, c.rpn = 1.0, 0.0, (127, 127)
            self.channel_set_pitch_wheel(ch, 8192)
        elif controller == 123:
            self.channel_note_off_all(ch)

    # -- audio ----------------------------------------------------------------------------
    def render(self, buffer: np.ndarray) -> None:
        """Fill ``buffer`` (``(n, 2)`` float32, written in place) with the next ``n`` frames."""
        n = len(buffer)
        if not self._voices:
            buffer[:] = 0.0
            return
        buses: dict[float, np.ndarray] = {}  # pan position → the mono sum of the voices there
        for v in self._voices:
            c = self._channel(v.channel)
            v.render(n, buses, c.volume * c.expression, c.pan)
        self._voices = [v for v in self._voices if not v.done]
        left = np.zeros(n)
        right = np.zeros(n)
        for p, bus in buses.items():  # equal-power pan, as TinySoundFont pans
            left += bus * np.sqrt(0.5 - p)
            right += bus * np.sqrt(0.5 + p)
        buffer[:, 0] = left
        buffer[:, 1] = right
