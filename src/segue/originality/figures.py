"""Shared figures: which steps of a checked line lie in a five-note figure a reference line also has.

A copy shares *figures* with its source — runs of :data:`~segue.originality.melody.NGRAM`
moving intervals in the same order, the retrieval keys. Two unrelated tunes share single
intervals, and pairs and triples of them, everywhere: a rising second, a falling third. An
alignment that strings such fragments together, each broken off after three or four notes, is
what any two tunes of one tradition give, not a copied passage.

So the aligner counts a matched step of the checked line as evidence only where the step lies
inside one of its keys (or a key of the line without its likely ornaments) that the reference
line also has, anywhere in it (:func:`pair_mask`); a matched step anywhere else scores 0, like a
repeated note. Everything else about the alignment is unchanged.

That is the floor that makes the candidate search sound: a reference line that shares no key
with the checked line — one the index cannot propose — scores exactly 0 however many fragments
the two share, so the gate cannot lose it. (The first edition's gate lost two such pairs of the
labelled benchmark: stock fragments strung along a diagonal, aligner 0.135 and 0.52.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from segue.originality.align import best_scores, concat, similarity
from segue.originality.identity import step_weights
from segue.originality.melody import Line, key_grams, key_steps, ornaments_removed, tokens


@dataclass(frozen=True, slots=True)
class QueryKeys:
    """Every key a checked line looks up, with the steps of the line each one spans (inclusive)."""

    hashes: np.ndarray  # int64
    first: np.ndarray  # int64: the key's first step
    last: np.ndarray  # int64: the key's last step
    count: int  # the line's steps (notes − 1)


def query_keys(line: Line) -> QueryKeys:
    """The line's keys, plus those of the line without its likely ornaments.

    An ornamented copy loses the keys around each ornament; the keys of the reduced line
    (:func:`~segue.originality.melody.ornaments_removed`) restore them. Their spans are mapped
    back to the line's own steps, the ornaments' steps included.
    """
    iv, _ = tokens(line)
    h, steps = key_steps(iv)
    first, last = steps[:, 0], steps[:, -1]
    kept = ornaments_removed(line) if len(line) > 2 else np.zeros(0, np.int64)
    if 0 < kept.size < len(line):  # reduced step r runs from note kept[r] to note kept[r + 1]
        rh, rsteps = key_steps(np.diff(line.pitches[kept].astype(np.int64)))
        h = np.concatenate([h, rh])
        first = np.concatenate([first, kept[rsteps[:, 0]]])
        last = np.concatenate([last, kept[rsteps[:, -1] + 1] - 1])
    return QueryKeys(h.astype(np.int64), first.astype(np.int64), last.astype(np.int64), int(iv.size))


def shared_keys(keys: QueryKeys, intervals: np.ndarray, bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(line, key)`` pairs: which of the query's keys each target line has, anywhere in it. The
    targets are given as their intervals back to back (``bounds``: each line's first step, plus
    the total)."""
    h, start = key_grams(intervals, bounds)
    line = np.searchsorted(bounds, start, side="right") - 1
    order = np.argsort(keys.hashes, kind="stable")
    ordered = keys.hashes[order]
    lo, hi = np.searchsorted(ordered, h, "left"), np.searchsorted(ordered, h, "right")
    n = hi - lo
    idx = np.repeat(lo - np.cumsum(n) + n, n) + np.arange(int(n.sum()))
    return np.repeat(line, n).astype(np.int64), order[idx].astype(np.int64)


def covered(keys: QueryKeys, line: np.ndarray, key_no: np.ndarray, lines: int) -> np.ndarray:
    """``(query steps, lines)`` booleans: the query steps inside a key each line shares."""
    width = keys.count + 1
    starts = np.bincount(line * width + keys.first[key_no], minlength=lines * width)
    ends = np.bincount(line * width + keys.last[key_no] + 1, minlength=lines * width)
    return (np.cumsum((starts - ends).reshape(lines, width)[:, :-1], axis=1) > 0).T


def pair_mask(line: Line, t_iv: np.ndarray, bounds: np.ndarray, keys: QueryKeys | None = None) -> np.ndarray:
    """The evidence mask of the query against target lines laid back to back (their intervals and
    ``bounds``): ``(query steps, target steps)``, True where a matched step counts."""
    keys = query_keys(line) if keys is None else keys
    lines = bounds.size - 1
    cover = covered(keys, *shared_keys(keys, t_iv, bounds), lines)
    return cover[:, np.repeat(np.arange(lines), np.diff(bounds))]


def full_pair_scores(line: Line, targets: Sequence[Line]) -> np.ndarray:
    """The aligner alone, no index and no gate: the line's similarity to each target line."""
    if not targets or len(line) < 2:
        return np.zeros(len(targets))
    q_iv, q_r = tokens(line)
    t_iv, t_r, bounds = concat([tokens(t) for t in targets])
    raw = best_scores(q_iv, q_r, t_iv, t_r, bounds, step_weights(line.pitches), pair_mask(line, t_iv, bounds))
    return similarity(raw, q_iv.size, np.diff(bounds))
