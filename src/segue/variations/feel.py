"""The tempo-and-meter-feel axis: the same line felt at another speed or in another meter.

* **tempo** — faster or slower (the notes do not change, so the melodic similarity does not);
* **swing** — off-beat eighths delayed to the last triplet eighth;
* **half-time / double-time** — every length doubled or halved against the same beat;
* **compound feel** — 4/4 → 12/8, 2/4 → 6/8, 3/4 → 9/8: each beat's first half becomes a
  quarter and its second half an eighth (and back again from compound to simple);
* **triple / duple** — 4/4 bars squeezed into 3/4 (a waltz feel) or 3/4 bars stretched to 4/4.
"""

from __future__ import annotations

import numpy as np

from segue.compose.random import pick
from segue.music import Meter
from segue.variations.draft import Context, Draft
from segue.variations.lines import dedupe, ordered, retime, scale_time, snap
from segue.variations.motif import GRID, Line

_FEELS = ("tempo", "swing", "halftime", "doubletime", "compound", "simple", "triple", "duple")
_REACH = {"tempo": 0.05, "swing": 0.3, "halftime": 0.55, "doubletime": 0.55, "compound": 0.45, "simple": 0.45,
          "triple": 0.7, "duple": 0.7}
"""How far each feel tends to move the rhythm (0 not at all … 1 a lot), to match it to the strength."""


def possible_feels(line: Line, meter: Meter) -> list[str]:
    tpb = meter.ticks_per_beat
    out = ["tempo", "halftime"]
    if not meter.compound and any(n.onset % tpb == tpb // 2 for n in line):
        out.append("swing")
    if all(n.onset % (2 * GRID) == 0 and n.duration % (2 * GRID) == 0 for n in line):
        out.append("doubletime")
    if not meter.compound and meter.numerator in (2, 3, 4) and meter.denominator == 4:
        out.append("compound")
    if meter.compound:
        out.append("simple")
    if meter.numerator == 4 and meter.denominator == 4:
        out.append("triple")
    if meter.numerator == 3 and meter.denominator == 4:
        out.append("duple")
    return out


def vary_feel(draft: Draft, ctx: Context, rng: np.random.Generator, strength: float) -> Draft:
    feels = possible_feels(draft.line, draft.meter)
    w = np.array([np.exp(-((_REACH[f] - strength) / 0.3) ** 2) for f in feels])
    feel = feels[pick(rng, w)]
    meter, line, bpm = draft.meter, ordered(draft.line), draft.bpm
    if feel == "tempo":
        factor = float(rng.choice([0.75, 0.85, 1.2, 1.33]))
        bpm = round(bpm * factor, 1)
        text = f"tempo: {draft.bpm:g} → {bpm:g} bpm"
    elif feel == "swing":
        line = swing(line, meter)
        text = "feel: swung eighths"
    elif feel == "halftime":
        line = scale_time(line, 2.0, 0)
        text = "feel: half-time (every length doubled)"
    elif feel == "doubletime":
        line = scale_time(line, 0.5, 0)
        text = "feel: double-time (every length halved)"
    elif feel == "compound":
        line, meter = to_compound(line, meter)
        text = f"meter: {draft.meter} → {meter} (compound feel)"
    elif feel == "simple":
        line, meter = to_simple(line, meter)
        text = f"meter: {draft.meter} → {meter} (straight feel)"
    elif feel == "triple":
        line, meter = rebar(line, meter, Meter(3, 4))
        text = f"meter: {draft.meter} → 3/4 (waltz feel)"
    else:
        line, meter = rebar(line, meter, Meter(4, 4))
        text = f"meter: {draft.meter} → 4/4"
    return draft.but(line=line, meter=meter, bpm=bpm).noting(text)


def swing(line: Line, meter: Meter) -> Line:
    """Off-beat eighths move to the last third of the beat."""
    tpb = meter.ticks_per_beat
    onsets = [n.onset + (tpb // 6 if n.onset % tpb == tpb // 2 else 0) for n in line]
    return retime(line, onsets)


def _warp(frac: int, tpb_from: int, tpb_to: int, to_compound: bool) -> int:
    """Where a position inside a beat goes when the beat changes between simple and compound.

    Simple → compound: the first half of the beat becomes the first two eighths (a quarter),
    the second half the third eighth. Compound → simple is the inverse map.
    """
    if to_compound:
        half, long = tpb_from // 2, 2 * tpb_to // 3
        return frac * long // half if frac <= half else long + (frac - half) * (tpb_to - long) // (tpb_from - half)
    long, half = 2 * tpb_from // 3, tpb_to // 2
    return frac * half // long if frac <= long else half + (frac - long) * (tpb_to - half) // (tpb_from - long)


def _remap(line: Line, meter: Meter, new: Meter, to_compound: bool) -> Line:
    a, b = meter.ticks_per_beat, new.ticks_per_beat
    onsets = [snap((n.onset // a) * b + _warp(n.onset % a, a, b, to_compound)) for n in line]
    ends = [snap((e // a) * b + _warp(e % a, a, b, to_compound)) for e in (n.onset + n.duration for n in line)]
    out = [type(n)(on, max(GRID, end - on), n.degree) for n, on, end in zip(line, onsets, ends)]
    return dedupe(out)


def to_compound(line: Line, meter: Meter) -> tuple[Line, Meter]:
    new = Meter(3 * meter.beats_per_bar, 8)
    return _remap(line, meter, new, True), new


def to_simple(line: Line, meter: Meter) -> tuple[Line, Meter]:
    new = Meter(meter.beats_per_bar, 4)
    return _remap(line, meter, new, False), new


def rebar(line: Line, meter: Meter, new: Meter) -> tuple[Line, Meter]:
    """Each bar squeezed or stretched into the new bar length, onsets snapped to sixteenths."""
    old_bar, new_bar = meter.ticks_per_bar, new.ticks_per_bar
    six = new.ticks_per_beat // 4

    def place(t: int) -> int:
        bar, inside = divmod(t, old_bar)
        return bar * new_bar + int(round(inside * new_bar / old_bar / six)) * six

    out = []
    for n in line:
        on = place(n.onset)
        end = place(n.onset + n.duration)
        out.append(type(n)(on, max(six, end - on), n.degree))
    return dedupe(out), new
