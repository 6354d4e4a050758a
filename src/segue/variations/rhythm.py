"""The rhythm axis: same pitches in the same order, new durations.

Three techniques, chosen by chance and by strength:

* **re-cut beats** — a share of the beats get a new onset pattern drawn from the learned
  rhythm cells (the same 12-slot cells the style model learned), usually with the same
  number of notes; at higher strength a beat may gain a note (a repeated or passing tone) or
  lose one;
* **dotted rhythms** — pairs of equal notes become long–short (or a Scotch snap);
* **syncopation** — a note on a beat is anticipated by half a beat.
"""

from __future__ import annotations

import numpy as np

from segue.compose.melody import MotifNote
from segue.compose.random import pick
from segue.music import Meter
from segue.style.analysis import SLOTS_PER_BEAT
from segue.variations.draft import Context, Draft
from segue.variations.lines import iois, ordered, retime
from segue.variations.motif import GRID, Line


def vary_rhythm(draft: Draft, ctx: Context, rng: np.random.Generator, strength: float) -> Draft:
    line = ordered(draft.line)
    if len(line) < 2:
        return draft
    techniques = ["recut", "dotted", "syncopate"]
    weights = np.array([1.0, 0.45, 0.45])
    first = techniques[pick(rng, weights)]
    plan = [first]
    if strength > 0.55 and rng.random() < strength:
        plan.append(techniques[pick(rng, weights * (np.array(techniques) != first))])
    for tech in plan:
        before = line
        if tech == "recut":
            line, n = recut_beats(line, draft.meter, ctx.style.rhythm, rng, strength)
            text = f"rhythm: re-cut {n} beat{'s' * (n != 1)} with learned rhythm cells"
        elif tech == "dotted":
            line, n = dot_pairs(line, rng, strength)
            text = f"rhythm: {n} pair{'s' * (n != 1)} dotted"
        else:
            line, n = syncopate(line, draft.meter, rng, strength)
            text = f"rhythm: {n} note{'s' * (n != 1)} anticipated (syncopation)"
        if line != before:
            draft.noting(text)
    return draft.but(line=line)


MIN_SLOTS = 3
"""Shortest note a rhythm variation writes: 3 of 12 slots (a sixteenth; triplet eighths are 4)."""


def singable(cell: tuple[int, ...], tpb: int) -> bool:
    """A learned cell we are willing to write: on the tick grid, no note shorter than a sixteenth."""
    on_grid = all((s * tpb) % (SLOTS_PER_BEAT * GRID) == 0 for s in cell)
    gaps = [b - a for a, b in zip(cell, cell[1:])] + ([SLOTS_PER_BEAT - cell[-1]] if cell else [])
    return bool(cell) and on_grid and all(g >= MIN_SLOTS for g in gaps)


def _cell_of(onsets: list[int], beat_start: int, tpb: int) -> tuple[int, ...]:
    return tuple(sorted({int(round((o - beat_start) * SLOTS_PER_BEAT / tpb)) for o in onsets}))


def recut_beats(line: Line, meter: Meter, rhythm: object, rng: np.random.Generator,
                strength: float) -> tuple[Line, int]:
    """New onset patterns for a share (≈ strength) of the beats that hold onsets."""
    tpb = meter.ticks_per_beat
    compound = meter.compound
    cells = rhythm.cells(compound)  # type: ignore[attr-defined]
    # the beat of the last note is the motif's arrival: it keeps its rhythm (and its note)
    beats = sorted({n.onset // tpb for n in line} - {line[-1].onset // tpb}) or [line[0].onset // tpb]
    k = max(1, int(round(strength * len(beats))))
    chosen = set(int(b) for b in rng.choice(beats, size=min(k, len(beats)), replace=False))
    notes = list(line)
    changed = 0
    for b in sorted(chosen):
        start = b * tpb
        inside = [n for n in notes if start <= n.onset < start + tpb]
        if not inside:
            continue
        count = len(inside)
        if rng.random() < 0.2 + 0.5 * strength:
            count += int(rng.choice([-1, 1])) if count > 1 else 1
        count = int(min(max(count, 1), 4))
        current = _cell_of([n.onset for n in inside], start, tpb)
        prev_inside = [n for n in notes if start - tpb <= n.onset < start]
        prev_cell = _cell_of([n.onset for n in prev_inside], start - tpb, tpb) if prev_inside else None
        probs = np.asarray(rhythm.cell_probs(compound, prev_cell, b % meter.beats_per_bar), dtype=float)  # type: ignore
        # a note on the downbeat (and usually on a strong beat) stays there: the metre keeps its anchor
        beat_in_bar = b % meter.beats_per_bar
        anchor = bool(current and current[0] == 0 and (beat_in_bar == 0 or (
            beat_in_bar in meter.strong_beats and rng.random() < 0.8)))
        ok = np.array([len(c) == count and tuple(c) != current and singable(c, tpb) and (not anchor or c[0] == 0)
                       for c in cells])
        if not ok.any():
            continue
        cell = cells[pick(rng, probs * ok)]
        onsets = [start + s * tpb // SLOTS_PER_BEAT for s in cell]
        degrees = [n.degree for n in inside]
        nxt = next((n.degree for n in notes if n.onset >= start + tpb), degrees[-1])
        while len(degrees) < count:  # a new note: a passing tone towards what follows, or a repeat
            last = degrees[-1]
            step = int(np.sign(nxt - last)) if nxt != last else int(rng.choice([-1, 0, 1]))
            degrees.append(last + step)
        if len(degrees) > count:  # drop the shortest notes after the first
            keep = [0] + sorted(sorted(range(1, len(inside)), key=lambda i: -inside[i].duration)[:count - 1])
            degrees = [degrees[i] for i in keep]
        new = [MotifNote(o, tpb, d) for o, d in zip(onsets, degrees)]
        notes = [n for n in notes if not start <= n.onset < start + tpb] + new
        notes = ordered(notes)
        changed += 1
    if not changed:
        return line, 0
    end_last = line[-1].onset + line[-1].duration
    notes[-1] = MotifNote(notes[-1].onset, max(GRID, end_last - notes[-1].onset), notes[-1].degree)
    return _articulate_like(notes, line), changed


def _articulate_like(new: Line, old: Line) -> Line:
    """Legato to the next onset, unless the source note at that onset was detached (then its length)."""
    old_at = {n.onset: n for n in old}
    gaps = iois(new)
    out = []
    for i, (n, gap) in enumerate(zip(new, gaps)):
        last = i == len(new) - 1
        dur = n.duration if last else gap
        src = old_at.get(n.onset)
        if src is not None and not last and src.duration < dur:
            dur = max(GRID, src.duration)
        out.append(MotifNote(n.onset, dur, n.degree))
    return out


def dot_pairs(line: Line, rng: np.random.Generator, strength: float) -> tuple[Line, int]:
    """Turn pairs of equal notes into dotted (3:1) or Scotch-snap (1:3) rhythms."""
    gaps = iois(line)
    pairs = []
    i = 0
    while i + 1 < len(line):
        d = gaps[i]
        if gaps[i + 1] == d and d % (4 * GRID // 2) == 0 and d >= 4 * GRID and line[i].onset % (2 * d) == 0:
            pairs.append(i)
            i += 2
        else:
            i += 1
    if not pairs:
        return line, 0
    k = max(1, int(round(strength * len(pairs))))
    chosen = sorted(int(x) for x in rng.choice(pairs, size=min(k, len(pairs)), replace=False))
    onsets = [n.onset for n in line]
    for i in chosen:
        d = gaps[i]
        onsets[i + 1] = line[i].onset + (d // 2 if rng.random() < 0.25 else d + d // 2)
    return retime(line, onsets), len(chosen)


def syncopate(line: Line, meter: Meter, rng: np.random.Generator, strength: float) -> tuple[Line, int]:
    """Anticipate notes that fall on a beat by half a beat (the previous note gets shorter)."""
    tpb = meter.ticks_per_beat
    half = tpb // 3 if meter.compound else tpb // 2
    eligible = [i for i in range(1, len(line) - 1)
                if line[i].onset % tpb == 0 and line[i].onset - half - line[i - 1].onset >= tpb // 4]
    if not eligible:
        return line, 0
    k = max(1, int(round(strength * 0.6 * len(eligible))))
    chosen = set(int(x) for x in rng.choice(eligible, size=min(k, len(eligible)), replace=False))
    onsets = [n.onset - (half if i in chosen else 0) for i, n in enumerate(line)]
    return retime(line, onsets), len(chosen)
