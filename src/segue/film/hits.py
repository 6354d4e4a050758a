"""Hit points: choosing tempi and bar placement so every hit lands on a downbeat (or strong beat).

This is the film composer's click-track problem. A cue starts on a downbeat at its timecode; from
there, the span up to the next hit gets a whole number of bars at a tempo chosen inside the
palette's range — close to the tempo the mood asks for and close to the previous span's tempo, so
the click drifts instead of jumping. The hit is then the downbeat that opens the next span.
When a hit comes too soon after the last one for even one bar at the fastest tempo, it may fall on
a strong beat inside the bar (beat 3 in 4/4); when even that is impossible, the cue is *split*:
a new section of the cue starts exactly at the hit (a new state in the engine, which starts on a
downbeat by construction).

Times are exact fractions; tempi are rounded to 0.001 bpm (the engine's resolution) and each
span is measured from where the previous one *really* ended, so rounding never accumulates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

from segue.music import PPQ, Meter

SAME_TIME = 0.002
"""Hits within 2 ms of a section start are on its first downbeat already."""


@dataclass(slots=True)
class PlannedHit:
    """Where a hit falls in the plan: section, bar and beat (0-based), and the planned error."""

    time: float
    label: str
    source: str
    section: int
    bar: int
    beat: int
    error_ms: float


@dataclass(slots=True)
class Section:
    """A stretch of a cue played by one engine state: starts on a downbeat at ``start``."""

    start: float
    end: float
    bar_tempos: list[float] = field(default_factory=list)
    """Tempo of each bar from the start that a hit constrains; later bars play at ``tail_tempo``."""
    tail_tempo: float = 100.0

    def tempo_of_bar(self, k: int) -> float:
        return self.bar_tempos[k] if k < len(self.bar_tempos) else self.tail_tempo


def _r(t: float) -> float:
    return round(t, 3)


def _seconds(quarters: Fraction, bpm: float) -> Fraction:
    return quarters * 60 / Fraction(bpm).limit_denominator(1_000_000)


def plan_sections(start: float, end: float, hits: list[tuple[float, str, str]], preferred: float,
                  tempo_range: tuple[float, float], meter: Meter) -> tuple[list[Section], list[PlannedHit]]:
    """Sections and per-bar tempi for a cue from ``start`` to ``end`` that land ``hits`` (time, label, source)."""
    lo, hi = tempo_range
    pref = min(max(preferred, lo), hi)
    qpb = Fraction(meter.ticks_per_bar, PPQ)  # quarter notes per bar
    qpbeat = Fraction(meter.ticks_per_beat, PPQ)
    strong = [b for b in meter.strong_beats if b > 0]
    sections = [Section(start, end, [], _r(pref))]
    planned: list[PlannedHit] = []
    anchor = Fraction(start).limit_denominator(10**9)
    anchor_bar = 0
    prev = pref
    for h, label, source in sorted(hits):
        sec = sections[-1]
        hf = Fraction(h).limit_denominator(10**9)
        if abs(h - sec.start) <= SAME_TIME:
            planned.append(PlannedHit(h, label, source, len(sections) - 1, 0, 0, 0.0))
            continue
        d = hf - anchor
        best: tuple[float, float, int, int] | None = None  # (score, tempo, bars, beat)
        if d > 0:
            options: list[tuple[int, int, float]] = []
            n_lo = max(1, math.floor(float(d) * lo / 60 / float(qpb)))
            n_hi = math.ceil(float(d) * hi / 60 / float(qpb))
            for n in range(n_lo, n_hi + 1):
                options.append((n, 0, 0.0))
            for n in range(0, n_hi + 1):
                for s in strong:
                    options.append((n, s, 0.12))  # a strong beat inside a bar: a little worse than a downbeat
            for n, s, penalty in options:
                quarters = n * qpb + s * qpbeat
                if quarters <= 0:
                    continue
                t = _r(float(quarters * 60 / d))
                if not lo <= t <= hi:
                    continue
                score = abs(math.log(t / pref)) + 0.5 * abs(math.log(t / prev)) + penalty
                if best is None or score < best[0]:
                    best = (score, t, n, s)
        if best is None:
            # too close to the last hit for any bar or beat at the palette's tempi: a new section at the hit
            sec.end = h
            sections.append(Section(h, end, [], _r(prev)))
            anchor, anchor_bar = hf, 0
            planned.append(PlannedHit(h, label, source, len(sections) - 1, 0, 0, 0.0))
            continue
        _, t, n, s = best
        real = anchor + _seconds(n * qpb + s * qpbeat, t)
        planned.append(PlannedHit(h, label, source, len(sections) - 1, anchor_bar + n, s,
                                  float(real - hf) * 1000.0))
        sec.bar_tempos.extend([t] * (n + (1 if s else 0)))
        anchor_bar += n + (1 if s else 0)
        anchor = real + (_seconds((meter.beats_per_bar - s) * qpbeat, t) if s else 0)
        prev = t
        sec.tail_tempo = t
    for k, sec in enumerate(sections):
        if not sec.bar_tempos:
            sec.tail_tempo = _r(pref) if k == 0 else sec.tail_tempo
    return sections, planned


def bar_starts(section: Section, meter: Meter, until: float) -> list[float]:
    """Predicted start times of the section's bars up to ``until`` (for scheduling controls)."""
    qpb = Fraction(meter.ticks_per_bar, PPQ)
    t = Fraction(section.start).limit_denominator(10**9)
    out = []
    k = 0
    while float(t) < until and k < 100_000:
        out.append(float(t))
        t += _seconds(qpb, section.tempo_of_bar(k))
        k += 1
    return out
