"""Hit points: choosing tempi and bar placement so every hit lands on a downbeat (or strong beat).

This is the film composer's click-track problem. A cue starts on a downbeat at its timecode; from
there, the span up to the next hit gets a whole number of bars at a tempo chosen inside the
palette's range — close to the tempo the mood asks for and close to the previous span's tempo, so
the click drifts instead of jumping. The hit is then the downbeat that opens the next span.
When a hit comes too soon after the last one for even one bar at the fastest tempo, it may fall on
a strong beat inside the bar (beat 3 in 4/4); when even that is impossible, the cue is *split*:
a new section of the cue starts exactly at the hit (a new state in the engine, which starts on a
downbeat by construction).

Every span between two hits is solved, not only the first: a change of tempo makes the engine
glide across one bar (an accelerando in half-beat steps), and the planner models that glide
exactly, so a span's bar count and tempo (inside the palette's range) put its hit on the line.
Tempi are rounded to 0.001 bpm (the engine's resolution) and each span is measured from where the
previous one *really* ended, so rounding never accumulates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

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


def ramp_steps(meter: Meter) -> list[int]:
    """The engine's staircase for a tempo change: the bar glides in steps of half a beat (ticks each)."""
    step = max(meter.ticks_per_beat // 2, 1)
    count = max(1, -(-meter.ticks_per_bar // step))
    return [min(step, meter.ticks_per_bar - i * step) for i in range(count)]


def span_seconds(prev: float | None, tempo: float, ticks: int, meter: Meter) -> float:
    """Seconds that ``ticks`` last from a bar line where the click moves from ``prev`` to ``tempo``.

    Why a model of the engine: when a parameter changes the tempo, the engine does not jump at the
    bar line but glides across the bar (:meth:`TempoMap.ramp`, an accelerando in half-beat steps).
    Planning with a step change instead misses every hit after the first tempo change by the
    difference (hundreds of milliseconds). ``prev`` is None (or equal) when there is no glide: a
    section's first bar starts at its own tempo.
    """
    if ticks <= 0:
        return 0.0
    if prev is None or prev == tempo:
        return ticks / PPQ * 60.0 / tempo
    steps = ramp_steps(meter)
    count = len(steps)
    total, left = 0.0, ticks
    for i, n in enumerate(steps):
        take = min(n, left)
        total += take / PPQ * 60.0 / (prev + (tempo - prev) * (i + 1) / count)
        left -= take
        if left <= 0:
            return total
    return total + left / PPQ * 60.0 / tempo


def _solve_tempo(prev: float | None, ticks: int, seconds: float, lo: float, hi: float, meter: Meter) -> float | None:
    """The tempo (to 0.001 bpm, inside lo..hi) at which ``ticks`` last ``seconds`` after a glide from ``prev``."""
    if seconds <= 0 or span_seconds(prev, lo, ticks, meter) < seconds - 1e-9 or \
            span_seconds(prev, hi, ticks, meter) > seconds + 1e-9:
        return None
    a, b = lo, hi  # the span shrinks as the tempo grows: bisect
    for _ in range(60):
        m = (a + b) / 2
        if span_seconds(prev, m, ticks, meter) > seconds:
            a = m
        else:
            b = m
    t = _r((a + b) / 2)
    return t if lo <= t <= hi else None


def plan_sections(start: float, end: float, hits: list[tuple[float, str, str]], preferred: float,
                  tempo_range: tuple[float, float], meter: Meter) -> tuple[list[Section], list[PlannedHit]]:
    """Sections and per-bar tempi for a cue from ``start`` to ``end`` that land ``hits`` (time, label, source).

    Every span between hits is solved in turn, from where the previous span *really* ended (the
    engine's glide included), so each hit — not only the first — lands on its bar line or strong beat.
    """
    lo, hi = tempo_range
    pref = min(max(preferred, lo), hi)
    tpb, tpbeat = meter.ticks_per_bar, meter.ticks_per_beat
    strong = [b for b in meter.strong_beats if b > 0]
    sections = [Section(start, end, [], _r(pref))]
    planned: list[PlannedHit] = []
    anchor = float(start)
    anchor_bar = 0
    prev: float | None = None  # the click at the anchor (None: a section's first bar, no glide)
    last = pref
    for h, label, source in sorted(hits):
        sec = sections[-1]
        if abs(h - sec.start) <= SAME_TIME:
            planned.append(PlannedHit(h, label, source, len(sections) - 1, 0, 0, 0.0))
            continue
        d = h - anchor
        best: tuple[float, float, int, int] | None = None  # (score, tempo, bars, beat)
        if d > 0:
            options: list[tuple[int, int, float]] = []
            n_lo = max(1, math.floor(d * lo / 60 / (tpb / PPQ)) - 1)
            n_hi = math.ceil(d * hi / 60 / (tpb / PPQ)) + 1
            options += [(n, 0, 0.0) for n in range(n_lo, n_hi + 1)]
            options += [(n, s, 0.12) for n in range(0, n_hi + 1) for s in strong]  # a strong beat: a little worse
            for n, s, penalty in options:
                ticks = n * tpb + s * tpbeat
                if ticks <= 0:
                    continue
                t = _solve_tempo(prev, ticks, d, lo, hi, meter)
                if t is None:
                    continue
                score = abs(math.log(t / pref)) + 0.5 * abs(math.log(t / last)) + penalty
                if best is None or score < best[0]:
                    best = (score, t, n, s)
        if best is None:
            # too close to the last hit for any bar or beat at the palette's tempi: a new section at the hit
            sec.end = h
            sections.append(Section(h, end, [], _r(last)))
            anchor, anchor_bar, prev = float(h), 0, None
            planned.append(PlannedHit(h, label, source, len(sections) - 1, 0, 0, 0.0))
            continue
        _, t, n, s = best
        real = anchor + span_seconds(prev, t, n * tpb + s * tpbeat, meter)
        planned.append(PlannedHit(h, label, source, len(sections) - 1, anchor_bar + n, s, (real - h) * 1000.0))
        bars = n + (1 if s else 0)
        sec.bar_tempos.extend([t] * bars)
        anchor += span_seconds(prev, t, bars * tpb, meter)
        anchor_bar += bars
        prev = last = t
        sec.tail_tempo = t
    for k, sec in enumerate(sections):
        if not sec.bar_tempos:
            sec.tail_tempo = _r(pref) if k == 0 else sec.tail_tempo
    return sections, planned


def bar_starts(section: Section, meter: Meter, until: float) -> list[float]:
    """Predicted start times of the section's bars up to ``until`` (for scheduling controls), glides included."""
    t = float(section.start)
    out = []
    k = 0
    prev: float | None = None
    while t < until and k < 100_000:
        out.append(t)
        tempo = section.tempo_of_bar(k)
        t += span_seconds(prev, tempo, meter.ticks_per_bar, meter)
        prev = tempo
        k += 1
    return out
