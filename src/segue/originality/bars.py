"""Where a note sits in the score: bar and beat numbers, as a musician would point at them.

A matched passage is only useful to a composer as "bars 9-12 of yours against bars 1-4 of
theirs". Files say where bars are in different ways: MIDI by time-signature events from the
start, notation by written measures (with pickups numbered 0 and split bars at repeats). Both
become a short list of *segments*: runs of regular bars that start at a known quarter-note
offset with a known bar number.
"""

from __future__ import annotations

import bisect
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

from segue.music import PPQ, Meter


@dataclass(frozen=True, slots=True)
class Segment:
    """Regular bars of one meter from ``offset`` (quarters) on; the first one numbered ``bar``.

    ``lead_in`` is how far (in quarters) into its bar the segment begins: a pickup bar of one
    beat in 4/4 starts three quarters into bar 0, so its note is on beat 4, not beat 1.
    """

    offset: float
    bar: int
    numerator: int
    denominator: int
    lead_in: float = 0.0

    @property
    def bar_quarters(self) -> float:
        return self.numerator * 4.0 / self.denominator

    @property
    def beat_quarters(self) -> float:
        try:
            meter = Meter(self.numerator, self.denominator)
        except ValueError:  # a meter Segue does not write (e.g. 5/32): count in its own denominator
            return 4.0 / self.denominator
        return meter.ticks_per_beat / PPQ


@dataclass(frozen=True, slots=True)
class BarBeat:
    """A bar number as printed in the score and a 1-based beat (fractional between beats)."""

    bar: int
    beat: float

    def __str__(self) -> str:
        beat = f"{self.beat:.2f}".rstrip("0").rstrip(".")
        return f"bar {self.bar} beat {beat}"

    def to_dict(self) -> dict[str, float | int]:
        return {"bar": self.bar, "beat": round(self.beat, 3)}


@dataclass(frozen=True)
class BarGrid:
    """Bar layout of one work: sorted segments (an empty grid means 4/4 from bar 1)."""

    segments: tuple[Segment, ...] = ()

    @classmethod
    def regular(cls, numerator: int = 4, denominator: int = 4) -> "BarGrid":
        return cls((Segment(0.0, 1, numerator, denominator),))

    @classmethod
    def from_meter_changes(cls, changes: Sequence[tuple[float, int, int]]) -> "BarGrid":
        """From time-signature events ``(offset_quarters, numerator, denominator)``: bars counted from 1."""
        segs = [Segment(0.0, 1, 4, 4)]  # MIDI's default meter until the first signature
        for at, n, d in sorted(changes):
            if n <= 0 or d <= 0:
                continue
            last = segs[-1]
            # a signature placed mid-bar takes effect from the next barline of the old meter
            bars_done = max(0, math.ceil((at - last.offset) / last.bar_quarters - 1e-9))
            if bars_done == 0:
                segs[-1] = Segment(last.offset, last.bar, n, d)
            else:
                segs.append(Segment(last.offset + bars_done * last.bar_quarters, last.bar + bars_done, n, d))
        return cls(tuple(segs))

    @classmethod
    def from_measures(cls, measures: Sequence[tuple[float, float, int]], numerator: int, denominator: int,
                      meters: Sequence[tuple[float, int, int]] = ()) -> "BarGrid":
        """From written measures ``(offset, length, number)``: regular runs merge into one segment."""
        if not measures:
            return cls.from_meter_changes(list(meters) or [(0.0, numerator, denominator)])
        meter_at = sorted(meters) or [(0.0, numerator, denominator)]
        segs: list[Segment] = []
        for i, (off, length, number) in enumerate(measures):
            j = bisect.bisect_right([m[0] for m in meter_at], off + 1e-9) - 1
            n, d = meter_at[max(j, 0)][1:]
            full = n * 4.0 / d
            lead_in = max(0.0, full - length) if i == 0 and length < full - 1e-9 else 0.0
            if segs:
                last = segs[-1]
                k = round((off - last.offset) / last.bar_quarters, 6)
                if (last.lead_in == 0 and (last.numerator, last.denominator) == (n, d) and k == int(k)
                        and number == last.bar + int(k) and abs(length - full) < 1e-9):
                    continue  # this measure is where the previous segment's regular bars put it
            segs.append(Segment(off, number, n, d, lead_in))
        return cls(tuple(segs))

    def at(self, quarters: float) -> BarBeat:
        segs = self.segments or (Segment(0.0, 1, 4, 4),)
        i = max(bisect.bisect_right([s.offset for s in segs], quarters + 1e-9) - 1, 0)
        s = segs[i]
        into = quarters - s.offset + s.lead_in
        bars = int(into // s.bar_quarters) if into >= 0 else 0
        in_bar = into - bars * s.bar_quarters
        return BarBeat(s.bar + bars, 1.0 + in_bar / s.beat_quarters)

    def to_json(self) -> str:
        return json.dumps([[s.offset, s.bar, s.numerator, s.denominator, s.lead_in] for s in self.segments],
                          separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | None) -> "BarGrid":
        if not text:
            return cls()
        return cls(tuple(Segment(float(o), int(b), int(n), int(d), float(li)) for o, b, n, d, li in json.loads(text)))
