"""The melody axis: new pitches that keep the contour (every up stays up, every down stays down).

Three techniques:

* **re-pitch** — a share of the notes move to another scale degree that keeps the direction
  of the intervals on both sides; candidates are weighted by the learned step model, so the
  new line moves the way melodies in the style move;
* **widen / narrow** — every interval scaled (steps become thirds, leaps become steps), the
  direction of each kept: the same gesture, bolder or more intimate;
* **passing tones** — leaps filled with a passing note (the leap's first note gives up half its
  length), a classical way to elaborate a line without hiding it.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from segue.compose.melody import MotifNote
from segue.compose.random import pick
from segue.variations.draft import Context, Draft
from segue.variations.lines import ordered
from segue.variations.motif import GRID, Line


def _sign(x: int) -> int:
    return (x > 0) - (x < 0)


def vary_melody(draft: Draft, ctx: Context, rng: np.random.Generator, strength: float) -> Draft:
    line = ordered(draft.line)
    if len(line) < 2:
        return draft
    techniques = ["repitch", "scale", "passing"]
    weights = np.array([1.0, 0.25 + 0.5 * strength, 0.4])
    first = techniques[pick(rng, weights)]
    plan = [first]
    if strength > 0.6 and rng.random() < strength:
        plan.append(techniques[pick(rng, weights * (np.array(techniques) != first))])
    for tech in plan:
        before = line
        if tech == "repitch":
            line, n = repitch(line, ctx.style.melody, rng, strength)
            text = f"melody: {n} note{'s' * (n != 1)} re-pitched along the contour"
        elif tech == "scale":
            factor = float(rng.choice([0.5, 1.5, 2.0] if strength > 0.5 else [0.5, 1.5]))
            line = scale_intervals(line, factor)
            text = f"melody: intervals {'widened' if factor > 1 else 'narrowed'} ×{factor:g}, contour kept"
        else:
            line, n = passing_tones(line, rng, strength)
            text = f"melody: {n} note{'s' * (n != 1)} embellished (passing or neighbour tones)"
        if line != before:
            draft.noting(text)
    return draft.but(line=line)


def repitch(line: Line, melody: object, rng: np.random.Generator, strength: float) -> tuple[Line, int]:
    """Move a share (≈ strength) of the notes after the first, keeping both neighbouring directions."""
    out = list(line)
    n = len(out)
    k = max(1, int(round(strength * 0.8 * (n - 1))))
    order = [int(i) for i in rng.permutation(np.arange(1, n))][:k]
    reach = 1 + int(round(3 * strength))
    changed = 0
    for i in order:
        d = out[i].degree
        prev = out[i - 1].degree
        up = _sign(d - prev)
        down = _sign(out[i + 1].degree - d) if i + 1 < n else None
        steps_before = [out[j].degree - out[j - 1].degree for j in range(max(1, i - 2), i)]
        probs = np.asarray(melody.step_probs(steps_before), dtype=float)  # type: ignore[attr-defined]
        cands, w = [], []
        for c in range(d - reach, d + reach + 1):
            if c == d or _sign(c - prev) != up:
                continue
            if down is not None and _sign(out[i + 1].degree - c) != down:
                continue
            step = c - prev
            if abs(step) > 7:
                continue
            cands.append(c)
            w.append(probs[step + 7] * np.exp(-0.4 * abs(c - d)))
        if not cands:
            continue
        out[i] = replace(out[i], degree=cands[pick(rng, np.array(w))])
        changed += 1
    return out, changed


def scale_intervals(line: Line, factor: float) -> Line:
    """Every interval × ``factor`` (rounded, never to zero, never changing direction)."""
    out = [line[0]]
    for a, b in zip(line, line[1:]):
        step = b.degree - a.degree
        new = _sign(step) * max(1, int(round(abs(step) * factor))) if step else 0
        out.append(replace(b, degree=out[-1].degree + new))
    return out


def passing_tones(line: Line, rng: np.random.Generator, strength: float) -> tuple[Line, int]:
    """Embellish a share of the notes in their second half: a passing note into a leap (a third or
    more), otherwise a neighbour note (the step away from where the line goes next)."""
    room = [i for i in range(len(line) - 1) if line[i].duration >= 4 * GRID and (line[i].duration // 2) % GRID == 0]
    if not room:
        return line, 0
    leaps = [i for i in room if abs(line[i + 1].degree - line[i].degree) >= 2]
    pool = leaps if leaps and rng.random() < 0.6 else room
    k = max(1, int(round(strength * len(pool))))
    chosen = set(int(i) for i in rng.choice(pool, size=min(k, len(pool)), replace=False))
    out: Line = []
    for i, n in enumerate(line):
        if i in chosen:
            half = n.duration // 2
            toward = _sign(line[i + 1].degree - n.degree)
            leap = abs(line[i + 1].degree - n.degree) >= 2
            step = toward if leap else (-toward if toward else int(rng.choice([-1, 1])))
            out.append(replace(n, duration=half))
            out.append(MotifNote(n.onset + half, n.duration - half, n.degree + step))
        else:
            out.append(n)
    return out, len(chosen)
