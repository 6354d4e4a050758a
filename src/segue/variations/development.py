"""The classical-development axis: what a composer does to a motif in a development section.

Sequence (the motif again, a step or two higher or lower), inversion (the contour mirrored
around the first note, diatonically), retrograde (pitches and rhythm backwards), retrograde
inversion, augmentation and diminution (lengths doubled or halved), fragmentation (the head
of the motif, stated and sequenced). The inversion and the sequence are the composer
module's own motif operations (:mod:`segue.compose.melody`), so the engine and the explorer
develop a motif the same way.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from segue.compose.melody import invert, sequence
from segue.compose.random import pick
from segue.variations.draft import Context, Draft
from segue.variations.lines import iois, ordered, scale_time
from segue.variations.motif import GRID, Line

OPERATIONS = ("transposition", "sequence", "augmentation", "diminution", "fragmentation", "liquidation",
              "inverted answer", "retrograde", "inversion", "retrograde inversion")
_REACH = {"transposition": 0.05, "sequence": 0.45, "augmentation": 0.3, "diminution": 0.3, "fragmentation": 0.55,
          "liquidation": 0.65, "inverted answer": 0.6, "retrograde": 0.85, "inversion": 0.85,
          "retrograde inversion": 0.95}
"""How far each operation tends to take the motif (0 … 1), to match it to the requested strength."""


def vary_development(draft: Draft, ctx: Context, rng: np.random.Generator, strength: float) -> Draft:
    line = ordered(draft.line)
    if len(line) < 2:
        return draft
    bar = draft.meter.ticks_per_bar
    ops = [op for op in OPERATIONS if op != "diminution" or _halvable(line)]
    w = np.array([np.exp(-((_REACH[op] - strength) / 0.25) ** 2) for op in ops])
    op = ops[pick(rng, w)]
    plan = [op]
    if strength > 0.3 and rng.random() < 0.2 + 0.5 * strength:
        second = [o for o in ("augmentation", "diminution", "sequence", "fragmentation", "inversion") if o != op
                  and (o != "diminution" or _halvable(line)) and not (op in ("augmentation", "diminution") and o in (
                      "augmentation", "diminution"))]
        plan.append(second[int(rng.integers(len(second)))])
    for op in plan:
        line, text = develop(line, op, rng, bar)
        draft.noting(f"development: {text}")
    return draft.but(line=line)


def _halvable(line: Line) -> bool:
    return all(n.onset % (2 * GRID) == 0 and n.duration % (2 * GRID) == 0 for n in line)


def develop(line: Line, op: str, rng: np.random.Generator, bar: int) -> tuple[Line, str]:
    """Apply one named development operation; returns the new line and a description."""
    if op == "transposition":
        step = int(rng.choice([-3, -2, -1, 1, 2, 3]))
        return sequence(line, step), f"moved {_steps(step)}"
    if op == "sequence":
        step = int(rng.choice([-2, -1, 1, 2]))
        span = _span(line, bar)
        return line + [replace(n, onset=n.onset + span) for n in sequence(line, step)], \
            f"sequence (stated, then {_steps(step)})"
    if op == "augmentation":
        return scale_time(line, 2.0, 0), "augmentation (lengths doubled)"
    if op == "diminution":
        return scale_time(line, 0.5, 0), "diminution (lengths halved)"
    if op == "fragmentation":
        return fragmentation(line, rng, bar)
    if op == "liquidation":
        return liquidation(line, rng, bar)
    if op == "inverted answer":
        span = _span(line, bar)
        return line + [replace(n, onset=n.onset + span) for n in invert(line)], \
            "statement, then its inversion as the answer"
    if op == "inversion":
        return invert(line), "inversion (contour mirrored about the first note)"
    if op == "retrograde":
        return retrograde(line), "retrograde (backwards)"
    if op == "retrograde inversion":
        return retrograde(invert(line)), "retrograde inversion"
    raise ValueError(f"unknown development operation {op!r}")


def _steps(step: int) -> str:
    return f"{abs(step)} step{'s' * (abs(step) != 1)} {'up' if step > 0 else 'down'}"


def _span(line: Line, bar: int) -> int:
    """The motif's length in whole bars (where a restatement starts)."""
    end = max(n.onset + n.duration for n in line)
    return max(bar, -(-end // bar) * bar)


def retrograde(line: Line) -> Line:
    """Pitches and inter-onset times backwards, starting where the original started."""
    gaps = iois(line)
    rev = list(reversed(line))
    rgaps = list(reversed(gaps))
    out: Line = []
    t = line[0].onset
    for n, gap in zip(rev, rgaps):
        share = n.duration / gap if gap else 1.0
        out.append(replace(n, onset=t, duration=max(GRID, min(gap, int(round(gap * min(share, 1.0) / GRID)) * GRID))))
        t += gap
    return out


def fragmentation(line: Line, rng: np.random.Generator, bar: int) -> tuple[Line, str]:
    """The head of the motif (its first half), stated twice, the second time moved by a step."""
    span = _span(line, bar)
    half = span // 2
    head = [n for n in line if n.onset < half]
    if len(head) < 2:
        head = line[:2]
        half = max(head[-1].onset + head[-1].duration - head[0].onset, GRID)
    head = [replace(n, duration=min(n.duration, half - (n.onset - head[0].onset))) for n in head]
    step = int(rng.choice([-1, 1, 2, 0]))
    second = [replace(n, onset=n.onset + half, degree=n.degree + step) for n in head]
    text = "fragmentation (the head twice" + (f", then {_steps(step)})" if step else ")")
    return head + second, text


def liquidation(line: Line, rng: np.random.Generator, bar: int) -> tuple[Line, str]:
    """The motif's head stated three times, each a step lower (or higher), the last note held:
    the motif dissolving into its first gesture, as at the end of a classical development."""
    half = _span(line, bar) // 2
    head = [n for n in line if n.onset < half] or line[:2]
    if len(head) > 4:
        head = head[:3]
    start = head[0].onset
    length = max(n.onset + n.duration for n in head) - start
    length = -(-length // (2 * GRID)) * (2 * GRID)
    step = -1 if rng.random() < 0.7 else 1
    out: Line = []
    for k in range(3):
        out += [replace(n, onset=n.onset + k * length, degree=n.degree + k * step) for n in head]
    last = out[-1]
    out[-1] = replace(last, duration=max(last.duration, length))
    return out, f"liquidation (the head three times, each a step {'down' if step < 0 else 'up'})"
