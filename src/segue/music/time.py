"""Musical time: integer ticks, meters and the tempo map.

Musical time is integer ticks at a fixed PPQ so that bars, beats and transitions are exact;
audio time is integer samples. Only :class:`TempoMap` converts between the two, so every
part of Segue agrees on where a bar starts down to the sample.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from fractions import Fraction

PPQ = 480
"""Ticks per quarter note. 480 divides by 2, 3, 4, 5, 6, 8, 16 and 32: triplets and 32nds stay exact."""


@dataclass(frozen=True, slots=True)
class Meter:
    """A time signature such as 4/4, 3/4 or 6/8.

    ``beats`` are counted the way a musician conducts: compound meters (6/8, 9/8, 12/8)
    beat in dotted quarters, simple meters beat in the denominator's note value.
    """

    numerator: int = 4
    denominator: int = 4

    def __post_init__(self) -> None:
        if self.numerator < 1 or self.numerator > 32:
            raise ValueError(f"meter numerator must be 1..32, got {self.numerator}")
        if self.denominator not in (1, 2, 4, 8, 16):
            raise ValueError(f"meter denominator must be 1, 2, 4, 8 or 16, got {self.denominator}")

    @classmethod
    def parse(cls, text: str) -> "Meter":
        """Parse ``"3/4"``; raises ValueError with the offending text."""
        try:
            num, den = text.strip().split("/")
            return cls(int(num), int(den))
        except (ValueError, AttributeError) as exc:
            raise ValueError(f"not a meter: {text!r} (expected like '4/4' or '6/8')") from exc

    @property
    def compound(self) -> bool:
        return self.denominator >= 8 and self.numerator % 3 == 0 and self.numerator > 3

    @property
    def ticks_per_bar(self) -> int:
        return PPQ * 4 * self.numerator // self.denominator

    @property
    def beats_per_bar(self) -> int:
        return self.numerator // 3 if self.compound else self.numerator

    @property
    def ticks_per_beat(self) -> int:
        return self.ticks_per_bar // self.beats_per_bar

    @property
    def strong_beats(self) -> tuple[int, ...]:
        """Beat indices (0-based) that carry metric accent: the downbeat and, in 4/4-like meters, the middle."""
        n = self.beats_per_bar
        if n == 4:
            return (0, 2)
        if n == 6:
            return (0, 3)
        return (0,)

    def __str__(self) -> str:
        return f"{self.numerator}/{self.denominator}"


@dataclass(frozen=True, slots=True)
class TempoPoint:
    """From ``tick`` on, the tempo is ``bpm`` quarter notes per minute (a step change)."""

    tick: int
    bpm: float


@dataclass
class TempoMap:
    """Piecewise-constant tempo in quarter notes per minute, converting ticks ↔ seconds ↔ samples.

    Sample positions are computed from exact rational arithmetic and rounded once, so a
    boundary at tick ``t`` maps to the same sample however it is reached.

    Each tempo point itself sits on an exact sample (its position is rounded to the sample grid
    when the point is added). Why: with exact sums, every tempo change multiplies the size of
    the fractions, and a session that changes tempo every bar for an hour would make every
    tick → sample conversion slower and the map bigger (thousands of digits after a thousand
    changes). Snapped, the cost of a conversion stays constant for as long as the music plays;
    the rounding (under half a sample per point) is part of the map, so every conversion still
    agrees with every other.
    """

    sample_rate: int = 44100
    points: list[TempoPoint] = field(default_factory=lambda: [TempoPoint(0, 120.0)])

    def __post_init__(self) -> None:
        if not self.points or self.points[0].tick != 0:
            raise ValueError("a tempo map must start with a tempo at tick 0")
        self._rebuild()

    @classmethod
    def constant(cls, bpm: float, sample_rate: int = 44100) -> "TempoMap":
        return cls(sample_rate=sample_rate, points=[TempoPoint(0, float(bpm))])

    def _rebuild(self) -> None:
        self.points.sort(key=lambda p: p.tick)
        for p in self.points:
            if not (1.0 <= p.bpm <= 1000.0):
                raise ValueError(f"tempo must be 1..1000 bpm, got {p.bpm}")
        self._ticks = [p.tick for p in self.points]
        # exact seconds per tick at each tempo point, and exact seconds at each point (Fractions)
        self._sec_per_tick = [60 / (Fraction(p.bpm).limit_denominator(1_000_000) * PPQ) for p in self.points]
        secs: list[Fraction] = [Fraction(0)]
        for i, (a, b) in enumerate(zip(self.points, self.points[1:])):
            secs.append(self._on_sample(secs[-1] + (b.tick - a.tick) * self._sec_per_tick[i]))
        self._secs = secs
        self._sample_cache: dict[int, int] = {}

    def _on_sample(self, seconds: Fraction) -> Fraction:
        """``seconds`` moved to the nearest sample (half up), as an exact fraction of a second."""
        x = seconds * self.sample_rate
        return Fraction(int(x.numerator * 2 + x.denominator) // (2 * x.denominator), self.sample_rate)

    def set_tempo(self, tick: int, bpm: float) -> None:
        """Change tempo from ``tick`` on (replacing any later points: the future is not written yet)."""
        if not (1.0 <= bpm <= 1000.0):
            raise ValueError(f"tempo must be 1..1000 bpm, got {bpm}")
        last = self.points[-1]
        if tick > last.tick:
            # the common case while playing: append, O(1), no rebuild of the past
            self._secs.append(self._on_sample(self._secs[-1] + (tick - last.tick) * self._sec_per_tick[-1]))
            self.points.append(TempoPoint(tick, float(bpm)))
            self._ticks.append(tick)
            self._sec_per_tick.append(60 / (Fraction(bpm).limit_denominator(1_000_000) * PPQ))
            self._sample_cache.clear()
            return
        self.points = [p for p in self.points if p.tick < tick] + [TempoPoint(tick, float(bpm))]
        if self.points[0].tick != 0:
            self.points.insert(0, TempoPoint(0, float(bpm)))
        self._rebuild()

    def ramp(self, start: int, end: int, bpm: float, step: int) -> None:
        """Glide from the tempo at ``start`` to ``bpm`` at ``end`` in steps of ``step`` ticks (an accelerando or
        ritardando written as a staircase, as a MIDI file writes one); the last step plays at ``bpm``."""
        if end <= start or step <= 0:
            self.set_tempo(start, bpm)
            return
        begin = self.bpm_at(start)
        count = max(1, -(-(end - start) // step))
        for i in range(count):
            self.set_tempo(start + i * step, begin + (bpm - begin) * (i + 1) / count)

    def bpm_at(self, tick: int) -> float:
        i = bisect.bisect_right(self._ticks, tick) - 1
        return self.points[max(i, 0)].bpm

    def seconds_exact(self, tick: int) -> Fraction:
        i = max(bisect.bisect_right(self._ticks, tick) - 1, 0)
        return self._secs[i] + (tick - self._ticks[i]) * self._sec_per_tick[i]

    def seconds(self, tick: int) -> float:
        return float(self.seconds_exact(tick))

    def sample(self, tick: int) -> int:
        """The audio sample at which ``tick`` sounds (rounded once, from exact arithmetic).

        Cached: the engine asks for the same few ticks (the next bar line, its notes) over and over,
        and exact fractions are slow; any tempo change clears the cache.
        """
        cached = self._sample_cache.get(tick)
        if cached is not None:
            return cached
        x = self.seconds_exact(tick) * self.sample_rate
        out = int(x.numerator * 2 + x.denominator) // (2 * x.denominator)  # round half up, exactly
        if len(self._sample_cache) > 8192:
            self._sample_cache.clear()
        self._sample_cache[tick] = out
        return out

    def tick_at_seconds(self, seconds: float) -> int:
        """The last tick that starts at or before ``seconds``."""
        s = Fraction(seconds).limit_denominator(10**9)
        i = max(bisect.bisect_right(self._secs, s) - 1, 0)
        return self._ticks[i] + int((s - self._secs[i]) / self._sec_per_tick[i])

    def tick_at_sample(self, sample: int) -> int:
        """The last tick that starts at or before ``sample`` (exact: no float seconds in between)."""
        s = Fraction(int(sample), self.sample_rate)
        i = max(bisect.bisect_right(self._secs, s) - 1, 0)
        return self._ticks[i] + int((s - self._secs[i]) / self._sec_per_tick[i])


@dataclass(frozen=True, slots=True)
class Position:
    """A bar/beat/tick position, 0-based internally (musicians print it 1-based)."""

    bar: int
    beat: int
    tick_in_beat: int

    @classmethod
    def of(cls, tick: int, meter: Meter) -> "Position":
        bar, rest = divmod(tick, meter.ticks_per_bar)
        beat, t = divmod(rest, meter.ticks_per_beat)
        return cls(bar, beat, t)

    def __str__(self) -> str:
        return f"{self.bar + 1}.{self.beat + 1}.{self.tick_in_beat}"
