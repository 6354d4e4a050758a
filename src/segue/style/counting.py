"""Counting per-piece statistics into model tables.

Pure and order-preserving: the same pieces in the same order give the same integer tables,
which is what makes a trained model's sha256 reproducible.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from segue.style.analysis import N_STEPS, POSITION_CLASSES, Cell, position_class, step_index
from segue.style.features import PieceStats
from segue.style.model import (
    FAMILIES,
    MAX_CELLS,
    HarmonyModel,
    MelodyModel,
    RhythmModel,
    RhythmTable,
)


def count_melody(pieces: Sequence[PieceStats]) -> MelodyModel:
    uni = np.zeros(N_STEPS, dtype=np.int64)
    bi = np.zeros((N_STEPS, N_STEPS), dtype=np.int64)
    tri: dict[tuple[int, int], np.ndarray] = {}
    for piece in pieces:
        idx = [step_index(s) for s in piece.steps]
        for i, s in enumerate(idx):
            uni[s] += 1
            if i >= 1:
                bi[idx[i - 1], s] += 1
            if i >= 2:
                tri.setdefault((idx[i - 2], idx[i - 1]), np.zeros(N_STEPS, dtype=np.int64))[s] += 1
    hits = sum(p.strong_hits for p in pieces)
    total = sum(p.strong_total for p in pieces)
    ambitus = np.zeros(29, dtype=np.int64)
    for piece in pieces:
        if piece.steps:
            walk = np.cumsum([0, *piece.steps])
            ambitus[min(int(walk.max() - walk.min()), 28)] += 1
    return MelodyModel(uni, bi, dict(sorted(tri.items())), hits / total if total else 0.0, ambitus=ambitus)


def count_rhythm_table(pieces: Sequence[PieceStats], compound: bool) -> RhythmTable:
    chains = [p.cells for p in pieces if p.compound is compound]
    freq: Counter[Cell] = Counter(c[1] for chain in chains for c in chain if c is not None)
    for must in ((0,), ()):  # a downbeat onset and a held beat are always available to the composer
        freq.setdefault(must, 0)
    ranked = sorted(freq.items(), key=lambda kv: (-kv[1], len(kv[0]), kv[0]))
    vocab = [c for c, _ in ranked[:MAX_CELLS]]
    if () not in vocab:
        vocab[-1] = ()
    index = {c: i for i, c in enumerate(vocab)}
    v = len(vocab)
    uni = np.zeros(v, dtype=np.int64)
    trans = np.zeros((v, v), dtype=np.int64)
    pos = {k: np.zeros(v, dtype=np.int64) for k in POSITION_CLASSES}
    for chain in chains:
        prev: int | None = None
        for item in chain:
            if item is None:
                prev = None
                continue
            beat, cell = item
            i = index.get(cell)
            if i is not None:
                uni[i] += 1
                pos[position_class(beat, compound)][i] += 1
                if prev is not None:
                    trans[prev, i] += 1
            prev = i
    return RhythmTable(vocab, uni, trans, pos)


def count_rhythm(pieces: Sequence[PieceStats]) -> RhythmModel:
    return RhythmModel(count_rhythm_table(pieces, False), count_rhythm_table(pieces, True))


def count_harmony(pieces: Sequence[PieceStats]) -> HarmonyModel:
    first = {f: np.zeros(7, dtype=np.int64) for f in FAMILIES}
    trans = {f: np.zeros((7, 7), dtype=np.int64) for f in FAMILIES}
    cad = {f: np.zeros((7, 7), dtype=np.int64) for f in FAMILIES}
    rates: list[float] = []
    beats_at = dict.fromkeys(POSITION_CLASSES, 0)
    changes_at = dict.fromkeys(POSITION_CLASSES, 0)
    for p in pieces:
        if p.family is None or not p.chords:
            continue
        fam = p.family
        seq = p.chords
        start = next((c for c in seq if c is not None), None)
        if start is not None:
            first[fam][start] += 1
        prev: int | None = None
        changes = 0
        for i, c in enumerate(seq):
            if c is None:
                prev = None
                continue
            where = position_class((p.chord_beat0 + i) % p.chord_beats_per_bar, p.chord_compound)
            if prev is not None:
                beats_at[where] += 1
                if c != prev:
                    trans[fam][prev, c] += 1
                    changes += 1
                    changes_at[where] += 1
            prev = c
        for a, b in p.cadences:
            cad[fam][a, b] += 1
        if p.bars >= 2:
            rates.append(changes / p.bars)
    r = np.array(rates) if rates else np.zeros(1)
    stats = {"mean": float(r.mean()), "std": float(r.std()), "median": float(np.median(r)),
             "pieces": float(len(rates))}
    for where in POSITION_CLASSES:  # how likely the chord changes on a downbeat, a strong beat, a weak beat
        stats[f"p_change_{where}"] = changes_at[where] / beats_at[where] if beats_at[where] else 0.0
    return HarmonyModel(first, trans, cad, stats)
