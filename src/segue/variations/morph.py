"""Morphing: a path of playable phrases from motif A to motif B, by the same metric as the bands.

The two motifs are aligned note against note with the similarity alignment. The path is
made of small *switches*: a matched pair takes B's interval instead of A's, or B's rhythm
instead of A's; a note only A has is dropped; a note only B has is added. Switching them
one at a time in several orders (left to right, right to left, pitch before rhythm, rhythm
before pitch, and a few seeded shuffles) gives a cloud of in-between phrases, each measured
against A and against B. From that cloud we choose ``steps`` phrases whose similarity to A
falls strictly, whose similarity to B rises strictly, and whose progress is as evenly spaced
as possible (dynamic programming over the cloud). Where the two motifs are too alike for
that many strictly different steps, the path is monotone but not strict, and says so.

Each step is a phrase in its own right: in A's key and meter for the first half of the path
and in B's for the second, pitches from the scale degrees of that key, register between the
two motifs' registers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from segue.compose.melody import MotifNote
from segue.compose.random import rng_for
from segue.music import Note
from segue.variations.errors import VariationError
from segue.variations.lines import dedupe, fit_register
from segue.variations.motif import GRID, Motif, degree_in
from segue.variations.reading import motif_from_notes
from segue.variations.similarity import alignment, similarity

SHUFFLES = 10
"""Seeded random switch orders added to the four systematic ones."""


@dataclass(frozen=True)
class Morph:
    """A morph: the in-between phrases (A and B excluded) and their similarity to each end."""

    a: Motif
    b: Motif
    steps: list[Motif]
    to_a: list[float]
    to_b: list[float]
    strict: bool

    def monotone(self) -> bool:
        """Similarity to A never rises and similarity to B never falls along A, steps…, B."""
        sa = [1.0, *self.to_a, similarity(self.b, self.a).overall]
        sb = [similarity(self.a, self.b).overall, *self.to_b, 1.0]
        return all(x >= y - 1e-9 for x, y in zip(sa, sa[1:])) and all(x <= y + 1e-9 for x, y in zip(sb, sb[1:]))


@dataclass(frozen=True, slots=True)
class _Event:
    step: int
    ioi: int
    duration: int
    velocity: int


def _events(m: Motif) -> list[_Event]:
    line = m.line()
    out = []
    for i, (mn, n) in enumerate(zip(line, m.notes)):
        ioi = (m.notes[i + 1].start - n.start) if i + 1 < len(m.notes) else n.duration
        out.append(_Event(mn.degree - line[i - 1].degree if i else 0, ioi, n.duration, n.velocity))
    return out


def _as_motif(x: Motif | Sequence[Note], name: str) -> Motif:
    if isinstance(x, Motif):
        return x
    notes = list(x)
    if not notes:
        raise VariationError(f"morph: motif {name} has no notes")
    return motif_from_notes(notes, name=name)


Unit = tuple[str, int]
"""A switch: ("pitch" | "rhythm" | "drop" | "add", alignment step index)."""


class _Path:
    """Realises an in-between phrase from a set of switched units."""

    def __init__(self, a: Motif, b: Motif) -> None:
        self.a, self.b = a, b
        self.ea, self.eb = _events(a), _events(b)
        self.pairs = alignment(a, b)
        units: list[Unit] = []
        for k, (i, j) in enumerate(self.pairs):
            if i is not None and j is not None:
                if self.ea[i].step != self.eb[j].step:
                    units.append(("pitch", k))
                if (self.ea[i].ioi, self.ea[i].duration) != (self.eb[j].ioi, self.eb[j].duration):
                    units.append(("rhythm", k))
            elif i is not None:
                units.append(("drop", k))
            else:
                units.append(("add", k))
        self.units = units
        lo = min(a.ambitus[0], b.ambitus[0]) - 5
        hi = max(a.ambitus[1], b.ambitus[1]) + 5
        if hi - lo < 12:
            hi = lo + 12
        self.low, self.high = max(0, lo), min(127, hi)

    def realise(self, switched: set[Unit], name: str) -> Motif | None:
        frac = len(switched) / max(len(self.units), 1)
        side = self.a if frac < 0.5 else self.b
        key, meter = side.key, side.meter
        events: list[_Event] = []
        for k, (i, j) in enumerate(self.pairs):
            if i is not None and j is not None:
                ea, eb = self.ea[i], self.eb[j]
                step = eb.step if ("pitch", k) in switched else ea.step
                r = eb if ("rhythm", k) in switched else ea
                events.append(_Event(step, r.ioi, r.duration, r.velocity))
            elif i is not None and ("drop", k) not in switched:
                events.append(self.ea[i])
            elif j is not None and ("add", k) in switched:
                events.append(self.eb[j])
        if not events:
            return None
        start_pitch = round((1 - frac) * self.a.notes[0].pitch + frac * self.b.notes[0].pitch)
        degree = degree_in(key, start_pitch)
        onset = side.notes[0].start % meter.ticks_per_bar
        line: list[MotifNote] = []
        for idx, e in enumerate(events):
            degree += e.step if idx else 0
            dur = e.duration if idx == len(events) - 1 else min(e.duration, e.ioi)
            line.append(MotifNote(onset, max(GRID, dur), degree))
            onset += max(e.ioi, GRID)
        line = fit_register(dedupe(line), key, self.low, self.high)
        return Motif.from_line(line, key, meter, bpm=round((1 - frac) * self.a.bpm + frac * self.b.bpm, 1),
                               name=name, velocities=[e.velocity for e in events])

    def orders(self, seed: int) -> list[list[Unit]]:
        u = self.units
        by_kind = {k: [x for x in u if x[0] == k] for k in ("pitch", "rhythm", "drop", "add")}
        structural = by_kind["drop"] + by_kind["add"]
        orders = [list(u), list(reversed(u)), by_kind["pitch"] + structural + by_kind["rhythm"],
                  by_kind["rhythm"] + structural + by_kind["pitch"]]
        for r in range(SHUFFLES):
            rng = rng_for(seed, "morph", r)
            orders.append([u[int(i)] for i in rng.permutation(len(u))])
        return orders


def morph_path(a: Motif | Sequence[Note], b: Motif | Sequence[Note], steps: int = 6, *, seed: int = 0) -> Morph:
    """``steps`` phrases strictly between A and B, monotone by the similarity metric (see module text)."""
    if steps < 1 or steps > 64:
        raise VariationError(f"morph: ask for 1 to 64 steps, not {steps}")
    ma, mb = _as_motif(a, "A"), _as_motif(b, "B")
    if not ma.notes or not mb.notes:
        raise VariationError("morph: both motifs need notes")
    s_ab = similarity(ma, mb).overall
    path = _Path(ma, mb)
    names = [f"morph {k + 1} of {steps}" for k in range(steps)]
    if not path.units or s_ab >= 1.0 - 1e-12:
        same = [ma.with_(name=nm) for nm in names]
        return Morph(ma, mb, same, [1.0] * steps, [1.0] * steps, strict=False)
    cloud: dict[tuple, Motif] = {}
    for order in path.orders(seed):
        switched: set[Unit] = set()
        for unit in order[:-1]:
            switched.add(unit)
            m = path.realise(set(switched), "step")
            if m is not None:
                cloud.setdefault(tuple((n.start, n.pitch, n.duration) for n in m.notes), m)
    cands = list(cloud.values())
    sa = np.array([similarity(ma, c).overall for c in cands])
    sb = np.array([similarity(mb, c).overall for c in cands])
    keep = (sa < 1.0 - 1e-9) & (sb < 1.0 - 1e-9)
    chosen, strict = _choose(sa, sb, keep, steps, s_ab)
    out = [cands[i].with_(name=nm) for i, nm in zip(chosen, names)]
    return Morph(ma, mb, out, [float(sa[i]) for i in chosen], [float(sb[i]) for i in chosen], strict)


def morph(a: Motif | Sequence[Note], b: Motif | Sequence[Note], steps: int = 6, *, seed: int = 0) -> list[Motif]:
    """The in-between phrases from A to B (A and B themselves excluded): play A, the steps, then B."""
    return morph_path(a, b, steps, seed=seed).steps


def _choose(sa: np.ndarray, sb: np.ndarray, keep: np.ndarray, steps: int, s_ab: float) -> tuple[list[int], bool]:
    """Indices of ``steps`` candidates forming the most evenly spaced monotone chain."""
    span = max(2.0 * (1.0 - s_ab), 1e-9)
    progress = ((1.0 - sa) + (sb - s_ab)) / span
    targets = (np.arange(steps) + 1) / (steps + 1)
    for strict in (True, False):
        eps = 1e-6 if strict else -1e-12
        ok = keep & (sa > s_ab + eps) & (sb > s_ab + eps) if strict else (sa >= s_ab - 1e-9) & (sb >= s_ab - 1e-9)
        idx = np.flatnonzero(ok)
        if len(idx) == 0:
            continue
        a, b, u = sa[idx], sb[idx], progress[idx]
        # can[j, i]: candidate i may follow candidate j
        can = (a[None, :] < a[:, None] - eps) & (b[None, :] > b[:, None] + eps)
        if not strict:
            np.fill_diagonal(can, True)
        cost = (u[None, :] - targets[:, None]) ** 2  # (steps, cands)
        dp = cost[0].copy()
        back = np.full((steps, len(idx)), -1)
        for k in range(1, steps):
            total = np.where(can, dp[:, None], np.inf)  # (prev, next)
            prev = np.argmin(total, axis=0)
            best = total[prev, np.arange(len(idx))]
            dp = best + cost[k]
            back[k] = prev
        end = int(np.argmin(dp))
        if not np.isfinite(dp[end]):
            continue
        chain = [end]
        for k in range(steps - 1, 0, -1):
            chain.append(int(back[k][chain[-1]]))
        chain.reverse()
        return [int(idx[c]) for c in chain], strict
    # nothing monotone at all: the candidate nearest halfway, repeated
    mid = int(np.argmin(np.abs(progress - 0.5)))
    return [mid] * steps, False
