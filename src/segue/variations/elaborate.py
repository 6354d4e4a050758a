"""Model elaboration: the learned style model continues a motif, or fills between fixed notes.

Rhythm comes from the learned beat cells (via the composer's :func:`rhythm_bar` for whole
new bars, and cell by cell inside a gap); pitches from the learned step model *conditioned
exactly* on landing where the composer wants: between two fixed notes, every path of steps
that reaches the second note is weighed by its probability under the model (a backward pass
over (scale degree, last step) states, then forward sampling). So a fill never jumps at the
end to make its target, and never leaves the range — the rules are constraints on sampling,
not repairs afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from segue.compose.melody import MotifNote, degree_bounds, target_onsets_per_beat
from segue.compose.random import pick, rng_for
from segue.music import Meter
from segue.style import StyleModel, load_style
from segue.style.analysis import SLOTS_PER_BEAT
from segue.variations.draft import Context, Draft
from segue.variations.errors import VariationError
from segue.variations.lines import dedupe, ordered, snap
from segue.variations.rhythm import singable
from segue.variations.motif import GRID, Line, Motif

STEPS = np.arange(-7, 8)


SHARPNESS = 1.6
"""Sampling temperature 1/1.6: rare steps (octave leaps and back) get rarer, common ones commoner.

Why: conditioned on landing on a fixed note, the exact posterior gives odd round trips (down a
seventh, up a seventh) more weight than a listener would; sharpening keeps fills singable."""


def _bigram(melody: object) -> np.ndarray:
    """P(next step | previous step) as a 15×15 table (rows: previous step −7..7), sharpened."""
    t = np.array([np.asarray(melody.step_probs([s]), dtype=float) for s in STEPS]) ** SHARPNESS  # type: ignore
    return t / t.sum(axis=1, keepdims=True)


def bridge(rng: np.random.Generator, melody: object, start: int, end: int | None, count: int,
           prev_step: int, bounds: tuple[int, int], *, end_choices: Sequence[int] | None = None) -> list[int]:
    """``count`` scale degrees after ``start`` that lead (one more step) to ``end``.

    Exact sampling from the learned bigram step model conditioned on reaching ``end`` (or one of
    ``end_choices``, returned as the last element then) with every degree inside ``bounds``.
    With ``end`` given the result has ``count`` notes; with ``end_choices`` it has ``count + 1``.
    """
    lo, hi = bounds
    size = hi - lo + 1
    table = _bigram(melody)
    goal = np.zeros((size, 15))
    targets = [end] if end is not None else list(end_choices or range(lo, hi + 1))
    for t in targets:
        if lo <= t <= hi:
            goal[t - lo, :] = 1.0
    # beta[t][d, s]: probability that from degree d, having just moved by step s, the remaining
    # (steps - t) moves reach the goal; steps = count + 1 moves in all.
    moves = count + 1
    betas = [goal]
    for _ in range(moves):
        nxt = betas[-1]
        cur = np.zeros((size, 15))
        for k, s in enumerate(STEPS):
            shifted = np.zeros((size, 15))
            if s >= 0:
                shifted[: size - s] = nxt[s:] if s else nxt
            else:
                shifted[-s:] = nxt[: size + s]
            # from (d, prev) moving by s lands on d + s with last step s
            cur += table[:, k][None, :] * shifted[:, k][:, None]
        betas.append(cur)
    betas.reverse()  # betas[t] = after t moves
    d, s = start, int(np.clip(prev_step, -7, 7))
    if not lo <= d <= hi or betas[0][d - lo, s + 7] <= 0:
        return _straight(start, end if end is not None else targets[len(targets) // 2], count, end is None)
    out: list[int] = []
    for t in range(moves):
        w = np.zeros(15)
        for k, step in enumerate(STEPS):
            nd = d + step
            if lo <= nd <= hi:
                w[k] = table[s + 7, k] * betas[t + 1][nd - lo, k]
        k = pick(rng, w)
        d, s = d + int(STEPS[k]), int(STEPS[k])
        out.append(d)
    return out[:count] if end is not None else out


def _straight(start: int, end: int, count: int, include_end: bool) -> list[int]:
    """Fallback when no path exists (a target more than a step per note away): even steps."""
    pts = [int(round(start + (end - start) * (i + 1) / (count + 1))) for i in range(count)]
    return pts + [end] if include_end else pts


def _density(line: Line, meter: Meter) -> float:
    """The learned-rhythm density (0..1) that gives the line's own notes per beat."""
    end = max(n.onset + n.duration for n in line)
    per_beat = len(line) / max(end / meter.ticks_per_beat, 1.0)
    return float(np.clip((per_beat - 0.45) / 2.4, 0.05, 0.95))


def _cadence_degrees(start: int, bounds: tuple[int, int]) -> list[int]:
    """Tonic-triad degrees in range, near the last note: where a continuation comes to rest."""
    lo, hi = bounds
    return [d for d in range(lo, hi + 1) if d % 7 in (0, 2, 4) and abs(d - start) <= 5] or \
        [d for d in range(lo, hi + 1) if d % 7 == 0]


def continuation(line: Line, meter: Meter, style: StyleModel, rng: np.random.Generator, bars: int,
                 bounds: tuple[int, int], density: float | None = None) -> Line:
    """``bars`` new bars after the line's last bar, ending on a long tonic-triad note."""
    line = ordered(line)
    bar = meter.ticks_per_bar
    end = max(n.onset + n.duration for n in line)
    begin = -(-end // bar) * bar
    dens = _density(line, meter) if density is None else density
    # learned cells up to the arrival: a held note on the last bar's strong beat closes the phrase
    beats = meter.beats_per_bar
    arrival = begin + (bars - 1) * bar + (beats - 2 if beats >= 4 else 0 if beats == 3 else beats - 1) * \
        meter.ticks_per_beat
    onsets = [begin] + _gap_onsets(rng, style, meter, begin, arrival, dens) + [arrival]
    stop = begin + bars * bar
    rhythm = [(on, (onsets[i + 1] if i + 1 < len(onsets) else stop) - on) for i, on in enumerate(onsets)]
    last = line[-1].degree
    prev = line[-1].degree - line[-2].degree if len(line) > 1 else 0
    degrees = bridge(rng, style.melody, last, None, len(rhythm) - 1, prev, bounds,
                     end_choices=_cadence_degrees(last, bounds))
    return dedupe(line + [MotifNote(on, d, deg) for (on, d), deg in zip(rhythm, degrees)])


def _gap_onsets(rng: np.random.Generator, style: StyleModel, meter: Meter, start: int, stop: int,
                density: float) -> list[int]:
    """Onsets strictly inside ``(start, stop)`` from learned cells, tilted to ``density``."""
    tpb = meter.ticks_per_beat
    compound = meter.compound
    cells = style.rhythm.cells(compound)
    counts = np.array([len(c) for c in cells], dtype=float)
    target = target_onsets_per_beat(density)
    tilt = np.exp(-1.1 * np.abs(counts - target))
    ok = np.array([singable(c, tpb) for c in cells], dtype=float)
    onsets: list[int] = []
    prev = None
    for b in range(start // tpb, -(-stop // tpb)):
        p = np.asarray(style.rhythm.cell_probs(compound, prev, b % meter.beats_per_bar), dtype=float) * tilt * ok
        cell = cells[pick(rng, p)]
        prev = cell
        onsets += [snap(b * tpb + s * tpb // SLOTS_PER_BEAT) for s in cell]
    return sorted({o for o in onsets if start < o < stop and o - start >= GRID and stop - o >= GRID})


def refill(line: Line, keep: Sequence[int], meter: Meter, style: StyleModel, rng: np.random.Generator,
           bounds: tuple[int, int], density: float | None = None) -> Line:
    """Keep the notes at indices ``keep``; re-write everything between them with the model."""
    line = ordered(line)
    keep = sorted(set(int(i) for i in keep if 0 <= i < len(line)))
    if not keep:
        raise VariationError("fill: give at least one fixed note")
    dens = _density(line, meter) if density is None else density
    out: Line = list(line[: keep[0]])
    for a, b in zip(keep, keep[1:]):
        na, nb = line[a], line[b]
        onsets = _gap_onsets(rng, style, meter, na.onset, nb.onset, dens)
        prev = na.degree - out[-1].degree if out else 0
        degs = bridge(rng, style.melody, na.degree, nb.degree, len(onsets), prev, bounds)
        times = [na.onset] + onsets + [nb.onset]
        out.append(MotifNote(na.onset, times[1] - na.onset, na.degree))
        out += [MotifNote(t, times[i + 2] - t, d) for i, (t, d) in enumerate(zip(onsets, degs))]
    tail = line[keep[-1]]
    end = max(n.onset + n.duration for n in line)
    if keep[-1] < len(line) - 1:
        onsets = _gap_onsets(rng, style, meter, tail.onset, end, dens)
        prev = tail.degree - out[-1].degree if out else 0
        if onsets:
            degs = bridge(rng, style.melody, tail.degree, None, len(onsets) - 1, prev, bounds,
                          end_choices=_cadence_degrees(tail.degree, bounds))
            times = [tail.onset] + onsets + [end]
            out.append(MotifNote(tail.onset, times[1] - tail.onset, tail.degree))
            out += [MotifNote(t, times[i + 2] - t, d) for i, (t, d) in enumerate(zip(onsets, degs))]
        else:
            out.append(MotifNote(tail.onset, end - tail.onset, tail.degree))
    else:
        out.append(tail)
    return dedupe(out)


def strong_beat_notes(line: Line, meter: Meter) -> list[int]:
    """Indices of notes on strong beats (and the first and last note): a motif's skeleton."""
    tpb, bar = meter.ticks_per_beat, meter.ticks_per_bar
    strong = {b * tpb for b in meter.strong_beats}
    idx = {i for i, n in enumerate(line) if n.onset % bar in strong}
    return sorted(idx | {0, len(line) - 1})


# ------------------------------------------------------------------------------- public API

def continue_motif(motif: Motif, bars: int = 1, *, seed: int = 0, style: StyleModel | None = None,
                   low: int | None = None, high: int | None = None) -> Motif:
    """The motif followed by ``bars`` bars the learned model writes after it (ending on a rest point)."""
    if not motif.notes:
        raise VariationError("continue: the motif has no notes")
    if bars < 1:
        raise VariationError(f"continue: bars must be at least 1, got {bars}")
    style = style or load_style(None)
    lo_p, hi_p = _range(motif, low, high)
    bounds = degree_bounds(motif.key, lo_p, hi_p)
    line = continuation(motif.line(), motif.meter, style, rng_for(seed, "continue"), bars, bounds)
    return Motif.from_line(line, motif.key, motif.meter, bpm=motif.bpm, name=f"{motif.name} continued")


def fill_between(motif: Motif, fixed: Sequence[int] | None = None, *, density: float | None = None, seed: int = 0,
                 style: StyleModel | None = None, low: int | None = None, high: int | None = None) -> Motif:
    """Keep the notes at indices ``fixed`` (default: all — the motif is a skeleton) and let the model
    write the notes between them; ``density`` 0..1 sets how busy the fill is (default: a little
    busier than the motif itself when every note is fixed, else the motif's own)."""
    if not motif.notes:
        raise VariationError("fill: the motif has no notes")
    style = style or load_style(None)
    line = motif.line()
    keep = list(range(len(line))) if fixed is None else list(fixed)
    bad = [i for i in keep if not 0 <= i < len(line)]
    if bad:
        raise VariationError(f"fill: fixed note indices {bad} are outside 0..{len(line) - 1}")
    if density is None:
        density = min(0.95, _density(line, motif.meter) + (0.35 if fixed is None else 0.0))
    lo_p, hi_p = _range(motif, low, high)
    bounds = degree_bounds(motif.key, lo_p, hi_p)
    out = refill(line, keep, motif.meter, style, rng_for(seed, "fill"), bounds, density)
    return Motif.from_line(out, motif.key, motif.meter, bpm=motif.bpm, name=f"{motif.name} filled")


def _range(motif: Motif, low: int | None, high: int | None) -> tuple[int, int]:
    lo, hi = motif.ambitus
    return (low if low is not None else max(0, lo - 7), high if high is not None else min(127, hi + 7))


# ------------------------------------------------------------------------------- the axis

def vary_elaboration(draft: Draft, ctx: Context, rng: np.random.Generator, strength: float) -> Draft:
    """Continue the motif (more strength: longer) or re-fill between its strong-beat notes."""
    line = ordered(draft.line)
    if len(line) < 2:
        return draft
    bounds = degree_bounds(draft.key, ctx.low, ctx.high)
    bar = draft.meter.ticks_per_bar
    bars_now = max(1, -(-max(n.onset + n.duration for n in line) // bar))
    if rng.random() < 0.5:
        bars = max(1, int(round(strength * bars_now * 1.2)))
        new = continuation(line, draft.meter, ctx.style, rng, bars, bounds)
        return draft.but(line=new).noting(f"model: continued by {bars} bar{'s' * (bars != 1)}")
    skeleton = strong_beat_notes(line, draft.meter)
    loose = [i for i in range(len(line)) if i not in skeleton]
    drop = int(round((1 - strength) * len(loose)))
    keep = sorted(skeleton + [int(i) for i in rng.permutation(loose)[:drop]]) if loose else skeleton
    density = float(np.clip(_density(line, draft.meter) + rng.uniform(-0.15, 0.35) * strength, 0.05, 0.95))
    new = refill(line, keep, draft.meter, ctx.style, rng, bounds, density)
    return draft.but(line=new).noting(f"model: kept {len(keep)} of {len(line)} notes, filled between them")
