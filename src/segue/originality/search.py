"""Finding the nearest works to a line: n-gram candidates first, then alignment to confirm.

:class:`Guard` holds one or more indexes in memory as plain arrays (the inverted table as
sorted hashes with offsets into a posting array, every line's tokens back to back), so a
phrase is checked in a few milliseconds with no database round trip:

1. *Candidates.* The phrase's keys (n-grams of moving intervals: no rhythm, no key, no repeated
   notes — see :func:`~segue.originality.melody.key_grams`; and those of the phrase without its
   likely ornaments, :func:`~segue.originality.figures.query_keys`) are looked up (binary
   search); every line that shares one gets a vote per shared key *on one diagonal* (the same
   offset between the two lines: a copied passage shares its keys in order); the
   :data:`CANDIDATES` lines with most votes go on.
2. *Confirmation.* Each candidate is aligned with the phrase (:mod:`~segue.originality.align`),
   all in one vectorised pass; the alignment score, not the vote count, is the similarity.

What the gate can and cannot lose. The aligner counts a matched step only inside a key both
lines have (:mod:`~segue.originality.figures`), so a line that shares no key with the phrase —
one the look-up never sees — scores exactly 0: keys lose nothing. The vote ranking is a
heuristic: a line that shares keys but falls outside the :data:`CANDIDATES` best can be missed.
``benchmarks/bench_originality_labelled.py`` measures both pair by pair (the benchmark's pairs)
and line by line (disguised excerpts against every line of the index, no gate).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from segue.originality.align import Alignment, align, best_scores, similarity
from segue.originality.errors import OriginalityError
from segue.originality.identity import step_weights
from segue.originality.locations import corpus_index_path, default_user_index
from segue.music import PPQ, Note
from segue.originality.figures import QueryKeys, pair_mask, query_keys
from segue.originality.melody import NGRAM, Line, line_from_notes, tokenise, tokens
from segue.originality.results import GuardResult
from segue.originality.store import IndexInfo, ReferenceIndex, WorkRow
from segue.originality.verdict import DEFAULT_THRESHOLDS, Thresholds

CANDIDATES = 64
"""Lines confirmed by alignment per query line: the true source of a planted copy ranks first or
second by weighted shared keys in almost every benchmark case, so 64 leaves a wide margin."""

LONG_LINE = 96
"""Candidates are confirmed in inverse proportion to the query's length (the alignment's cost is
their product): ``CANDIDATES`` for a 96-note line, up to 2 × as many for a short phrase — which
shares few keys with its source and needs the margin — and fewer for a whole layer, which shares
so many that its source ranks first by far."""

LONG_LINE_CANDIDATES = 16
"""The fewest candidates any line is confirmed against."""

DIAGONAL = 16
"""Width (steps) of the diagonal bins votes are counted in: ornaments, split notes and dropped
repeats shift a copy's diagonal by a step or two, never by a bin over a short passage."""

SEEDS = 1000
"""Lines in which common keys are looked up (those sharing most rare keys with the query)."""

BUDGET = 25_000
"""Postings gathered in full per query line (rarest keys first); the rest are looked up in seed lines
only. The corpus index never reaches it; at 100,000 melodies it keeps a check within its 20 ms."""

SEEDS = 128
"""Lines in which the common keys beyond the budget are looked up (those sharing most rarer keys)."""


_TABLE_BITS = 20
_MIX_CELLS = np.int64(-7046029254386353131)  # odd multiplier: (line, diagonal) cells spread over the table


@dataclass(frozen=True, slots=True)
class Hit:
    """One reference line close to a query line: which index, work and line, and how close."""

    index: int  # position of the index in the guard's list
    work: int  # work id inside that index
    melody: int  # melody id inside that index
    shared: float  # weighted distinct keys in common
    raw: float  # alignment score
    score: float  # similarity 0..1


class Guard:
    """Reference indexes opened once and held in memory, for checking many phrases quickly.

    Thread-safe for checking: the arrays are read-only after loading; the few database reads
    that reports need (titles, a matched line's notes) are serialised by a lock.
    """

    def __init__(self, indexes: Sequence[ReferenceIndex], thresholds: Thresholds = DEFAULT_THRESHOLDS,
                 candidates: int = CANDIDATES) -> None:
        if not indexes:
            raise OriginalityError("no reference index to check against")
        self.thresholds = thresholds
        self.candidates = max(1, int(candidates))
        self._indexes = list(indexes)
        self._lock = threading.Lock()
        self.infos: list[IndexInfo] = [ix.info() for ix in self._indexes]
        self._load()

    # ------------------------------------------------------------ opening

    @classmethod
    def open(cls, index: str | Path | Sequence[str | Path] | None = None, *, corpus: bool = True,
             thresholds: Thresholds = DEFAULT_THRESHOLDS) -> "Guard":
        """The shipped corpus index (unless ``corpus=False``) plus ``index`` (one path or several).

        With ``index=None`` the user's default catalogue (``segue index add`` without
        ``--index``) is included when it exists.
        """
        paths: list[tuple[Path, bool]] = [(corpus_index_path(), True)] if corpus else []
        if index is None:
            user = default_user_index()
            if user.is_file():
                paths.append((user, False))
        else:
            for p in [index] if isinstance(index, (str, Path)) else list(index):
                paths.append((Path(p).expanduser(), False))
        if not paths:
            raise OriginalityError("no reference index to check against (give --index or keep the corpus)")
        opened = []
        try:
            for p, shipped in paths:
                opened.append(ReferenceIndex.open(p, readonly=shipped))
        except Exception:
            for ix in opened:
                ix.close()
            raise
        return cls(opened, thresholds)

    def close(self) -> None:
        for ix in self._indexes:
            ix.close()

    def _load(self) -> None:
        ids, works, which, lines = [], [], [], []
        for k, ix in enumerate(self._indexes):
            m_ids, w_ids, m_lines = ix.melody_rows()
            ids.append(m_ids)
            works.append(w_ids)
            which.append(np.full(m_ids.size, k, np.int16))
            lines += m_lines
        self._mel_id = np.concatenate(ids) if ids else np.zeros(0, np.int64)
        self._mel_work = np.concatenate(works) if works else np.zeros(0, np.int64)
        self._mel_index = np.concatenate(which) if which else np.zeros(0, np.int16)
        tok = tokenise(lines)
        self._iv, self._r, self._bounds = tok.intervals, tok.ratios, tok.bounds
        self._lengths = np.diff(self._bounds)
        # the same keys the index file stores (same function), recomputed from the notes: faster
        # than reading millions of rows back, and with their positions for diagonal voting
        h, m, pos = tok.postings(winnow=False)
        order = np.lexsort((pos, m, h))
        h, m, pos = h[order], m[order], pos[order]
        self._keys, first = np.unique(h, return_index=True)
        self._starts = np.append(first, h.size).astype(np.int64)
        self._post = m.astype(np.int64)
        self._pos = pos.astype(np.int64)
        key_no = np.repeat(np.arange(self._keys.size, dtype=np.int64), np.diff(self._starts))
        self._by_key_line = (key_no << 32) | self._post  # sorted: postings are ordered by key, then line

    @property
    def melodies(self) -> int:
        return int(self._mel_id.size)

    def melody_id(self, position: int) -> int:
        """The melody id (inside its index) of the line at ``position`` in the guard's order."""
        return int(self._mel_id[position])

    # ------------------------------------------------------------ searching

    def candidates_for(self, line: Line, keys: QueryKeys | None = None,
                       weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(global line positions, votes)`` of the best candidates, most votes first.

        A vote is a shared key; votes count only along one *diagonal* of a line (reference position − query position, in bins of :data:`DIAGONAL`
        steps, two staggered grids): a copied passage shares its keys in order, at one offset,
        while a tune that merely uses the same figures shares them scattered. This is what ranks
        a disguised copy first among thousands of lines that share a few figures with it.
        """
        empty = np.zeros(0, np.int64), np.zeros(0, np.float64)
        keys = query_keys(line) if keys is None else keys
        weights = step_weights(line.pitches) if weights is None else weights
        qh, qpos = keys.hashes, keys.first
        if qh.size == 0 or self._keys.size == 0:
            return empty
        at = np.searchsorted(self._keys, qh)
        found = at < self._keys.size
        found[found] = self._keys[at[found]] == qh[found]
        at, qpos = at[found], qpos[found]
        if at.size == 0:
            return empty
        # a key's vote is worth the identity of the steps it spans: a trill or a scale run shared on
        # one diagonal is what thousands of tunes share, a distinctive figure is not
        w = np.concatenate(([0.0], np.cumsum(weights)))
        end = np.minimum(qpos + NGRAM, w.size - 1)
        key_weight = (w[end] - w[qpos]) / np.maximum(end - qpos, 1)
        mel, diag, wt = self._hits(at, qpos, key_weight)
        if mel.size == 0:
            return empty
        # votes per (line, diagonal bin), counted in a hashed table (a sort of every hit would cost
        # more than the whole check may take); a collision can only add a candidate, never drop one
        best = np.zeros(mel.size, dtype=np.float64)
        shifted = diag + (1 << 20)
        for stagger in (0, DIAGONAL // 2):
            cell = (mel << 24) | ((shifted + stagger) // DIAGONAL)
            slot = ((cell * _MIX_CELLS) >> np.int64(64 - _TABLE_BITS)) & ((1 << _TABLE_BITS) - 1)
            np.maximum(best, np.bincount(slot, weights=wt, minlength=1 << _TABLE_BITS)[slot], out=best)
        wanted = max(LONG_LINE_CANDIDATES, min(2 * self.candidates, self.candidates * LONG_LINE // max(len(line), 1)))
        m = min(best.size, 16 * wanted)
        sel = np.argpartition(-best, m - 1)[:m] if m < best.size else np.arange(best.size)
        order = np.lexsort((mel[sel], -best[sel]))
        lines, votes = mel[sel][order], best[sel][order]
        _, first = np.unique(lines, return_index=True)
        first = np.sort(first)[:wanted]
        return lines[first], votes[first]

    def _hits(self, at: np.ndarray, qpos: np.ndarray,
              weight: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every posting of the query's keys as ``(line, diagonal, weight)`` — within a time budget.

        Keys are looked up rarest first until :data:`BUDGET` postings are gathered. The rest are
        common keys (scale runs, broken chords: thousands of lines each in a large index); each is
        looked up only in the *seed* lines — the :data:`SEEDS` lines that share most of the rarer
        keys with the query — where it still adds its vote to a copy's diagonal. In an index of a
        few thousand works every key fits the budget and nothing is left out.
        """
        df = self._starts[at + 1] - self._starts[at]
        order = np.argsort(df, kind="stable")
        full = order[np.cumsum(df[order]) - df[order] < BUDGET]  # the key that crosses the budget still counts
        rest = np.setdiff1d(order, full, assume_unique=True)
        mel, diag, wt = self._gather(self._starts[at[full]], self._starts[at[full] + 1], qpos[full], weight[full])
        if rest.size == 0 or mel.size == 0:
            return mel, diag, wt
        counts = np.bincount(mel, minlength=self.melodies)
        seeds = np.flatnonzero(counts)
        if seeds.size > SEEDS:
            seeds = np.sort(seeds[np.argpartition(-counts[seeds], SEEDS - 1)[:SEEDS]])
        rest = rest[np.argsort(at[rest], kind="stable")]  # sorted probes: each search starts where the last ended
        probe = ((at[rest][:, None] << 32) | seeds[None, :]).ravel()  # (key, line), as _by_key_line is sorted
        lo = np.searchsorted(self._by_key_line, probe, "left")
        hi = np.searchsorted(self._by_key_line, probe, "right")
        m2, d2, w2 = self._gather(lo, hi, np.repeat(qpos[rest], seeds.size), np.repeat(weight[rest], seeds.size))
        return np.concatenate([mel, m2]), np.concatenate([diag, d2]), np.concatenate([wt, w2])

    def _gather(self, begin: np.ndarray, end: np.ndarray, qpos: np.ndarray,
                weight: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The postings in ranges ``[begin, end)`` as ``(line, reference − query position, key weight)``."""
        lengths = end - begin
        total = int(lengths.sum())
        if total == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float64)
        idx = np.repeat(begin - np.cumsum(lengths) + lengths, lengths) + np.arange(total, dtype=np.int64)
        return self._post[idx], self._pos[idx] - np.repeat(qpos, lengths), np.repeat(weight, lengths)

    def search(self, line: Line) -> list[Hit]:
        """Every confirmed candidate line, closest first (lines scoring 0 included)."""
        keys, weights = query_keys(line), step_weights(line.pitches)
        cand, shared = self.candidates_for(line, keys, weights)
        if cand.size == 0:
            return []
        q_iv, q_r = tokens(line)
        sel = [np.arange(self._bounds[c], self._bounds[c + 1]) for c in cand]
        where = np.concatenate(sel)
        bounds = np.concatenate(([0], np.cumsum([s.size for s in sel]))).astype(np.int64)
        t_iv = self._iv[where]
        raw = best_scores(q_iv, q_r, t_iv, self._r[where], bounds, weights, pair_mask(line, t_iv, bounds, keys))
        score = similarity(raw, q_iv.size, self._lengths[cand])
        hits = [Hit(int(self._mel_index[c]), int(self._mel_work[c]), int(self._mel_id[c]), float(s), float(r),
                    float(x))
                for c, s, r, x in zip(cand, shared, raw, score)]
        hits.sort(key=lambda h: (-h.score, -h.shared, h.index, h.melody))
        return hits

    def nearest_works(self, lines: Sequence[Line], limit: int = 5) -> list[tuple[Line, Hit]]:
        """The best (query line, hit) per work over all query lines, closest works first."""
        best: dict[tuple[int, int], tuple[Line, Hit]] = {}
        for line in lines:
            for hit in self.search(line):
                if hit.score <= 0:
                    continue  # nothing beyond what unrelated tunes share
                key = (hit.index, hit.work)
                if key not in best or hit.score > best[key][1].score:
                    best[key] = (line, hit)
        ranked = sorted(best.values(), key=lambda lh: (-lh[1].score, -lh[1].shared, lh[1].index, lh[1].work))
        return ranked[:limit]

    def guard_phrase(self, notes: Sequence[Note], ppq: int = PPQ) -> GuardResult:
        """Check one phrase while composing: a verdict, the score and (if flagged) what it resembles.

        Chords collapse to their top note. Never raises for a short or empty phrase: it cannot be
        a copy (its similarity is bounded by the alignment window) and gets an ``original``.
        """
        started = time.perf_counter()
        line = line_from_notes(notes, ppq)
        hits = self.search(line) if len(line) > 1 else []
        best = hits[0] if hits else None
        score = best.score if best else 0.0
        verdict = self.thresholds.verdict(score)
        title = ident = collection = None
        passage = None
        if best is not None and best.score > 0:
            row = self.work(best)
            title, ident, collection = row.title, row.ident, row.collection
            if verdict != "original":
                found = self.passage(line, best)
                if found is not None:
                    al, ref = found
                    passage = {
                        "phrase_ticks": [int(round(line.onsets[al.q_from] * ppq)),
                                         int(round((line.onsets[al.q_to + 1] + line.durations[al.q_to + 1]) * ppq))],
                        "reference_from": row.bars.at(float(ref.onsets[al.t_from])).to_dict(),
                        "reference_to": row.bars.at(float(ref.onsets[al.t_to + 1])).to_dict(),
                        "reference_line": ref.name,
                    }
        return GuardResult(verdict, score, self.thresholds.similar, len(notes),
                           (time.perf_counter() - started) * 1000.0, title, ident, collection, passage,
                           tuple(f"{i.name}@{i.fingerprint}" for i in self.infos))

    # ------------------------------------------------------------ details for reports

    def work(self, hit: Hit) -> WorkRow:
        with self._lock:
            rows = self._indexes[hit.index].works([hit.work])
        if hit.work not in rows:
            raise OriginalityError(f"{self.infos[hit.index].path}: work {hit.work} vanished while checking")
        return rows[hit.work]

    def reference_line(self, hit: Hit) -> Line:
        with self._lock:
            found = self._indexes[hit.index].lines([hit.melody])
        return found[hit.melody][1]

    def passage(self, query: Line, hit: Hit) -> tuple[Alignment, Line] | None:
        """Where the best shared passage lies in both lines (traceback), or None."""
        ref = self.reference_line(hit)
        q_iv, q_r = tokens(query)
        t_iv, t_r = tokens(ref)
        found = align(q_iv, q_r, t_iv, t_r, step_weights(query.pitches),
                      pair_mask(query, t_iv, np.array([0, t_iv.size])))
        return None if found is None else (found, ref)

    def index_info(self) -> list[dict[str, str | int]]:
        return [i.to_dict() for i in self.infos]


_shared: dict[tuple, tuple[tuple, Guard]] = {}
_shared_lock = threading.Lock()


def shared_guard(index: str | Path | Sequence[str | Path] | None = None, corpus: bool = True) -> Guard:
    """One Guard per set of index files per process, reloaded when one of the files changes on disk."""
    paths = [] if index is None else [index] if isinstance(index, (str, Path)) else list(index)
    if index is None and default_user_index().is_file():
        paths = [default_user_index()]
    stamp = []
    for p in paths:
        for suffix in ("", "-wal"):
            f = Path(str(Path(p).expanduser()) + suffix)
            st = f.stat() if f.exists() else None
            stamp.append((st.st_mtime_ns, st.st_size) if st else None)
    key = (corpus, index is None, tuple(str(Path(p).expanduser().resolve()) for p in paths))
    with _shared_lock:
        cached = _shared.get(key)
        if cached is not None and cached[0] == tuple(stamp):
            return cached[1]
        guard = Guard.open(index, corpus=corpus)
        _shared[key] = (tuple(stamp), guard)
        # the replaced guard is not closed: a caller may still be using it; its memory goes with it
        return guard
