"""The labelled benchmark: planted copies and pairs of different works, all from public-domain music.

Every case is built from the shipped corpus (music21's public-domain collections: Bach chorales,
Ryan's Mammoth Collection, O'Neill's 1850, Aird's Airs), so anyone can rebuild it with a seed:

* **planted copies** — an 8-bar excerpt of a tune, disguised one way (:data:`DISTORTIONS`), then
  checked against the index that holds the tune;
* **different works** — an excerpt of one tune, disguised the same way, paired with another work
  (another title, another source file).

For each pair it records two scores: what the *pipeline* gives (the guard's search — keys, candidate
gate, alignment — over the whole index, the score it reports for that work, 0 if the work is not
found) and what the *aligner* alone gives on the full pair (every line of the query against every
line of the work, no gate). They must be equal: the gate may only save time, never lose a pair.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from segue.originality.calibration import CorpusTune, change_rhythm, embed_midi, excerpt
from segue.originality.figures import full_pair_scores
from segue.originality.melody import Line
from segue.originality.reading import read_works
from segue.originality.search import Guard

DISTORTIONS = ("transposed", "rhythm", "equal_lengths", "ornaments", "two_notes", "embedded", "tempo_doubled")


def _shift(line: Line, rng: np.random.Generator) -> Line:
    shift = int(rng.choice([-7, -6, -5, -4, -3, -2, -1, 1, 2, 3, 4, 5, 6, 7]))
    return Line(line.name, (line.pitches + shift).astype(np.int16), line.onsets, line.durations)


def equal_lengths(line: Line, rng: np.random.Generator) -> Line:
    """Every note an eighth: the rhythm is gone, only the pitch sequence is left."""
    n = len(line)
    return Line(line.name, line.pitches.copy(), 0.5 * np.arange(n, dtype=np.float64), np.full(n, 0.5))


def add_ornaments(line: Line, rng: np.random.Generator) -> Line:
    """About one note in six (at least two) ornamented: a turn-like upper neighbour or a grace note
    before it, squeezed into the note's own span (the other notes keep their places)."""
    n = len(line)
    chosen = set(rng.choice(n - 1, size=max(2, n // 6), replace=False).tolist())
    pitches: list[int] = []
    onsets: list[float] = []
    durs: list[float] = []
    for i, (p, o, d) in enumerate(zip(line.pitches.tolist(), line.onsets.tolist(), line.durations.tolist())):
        if i not in chosen:
            pitches.append(p)
            onsets.append(o)
            durs.append(d)
            continue
        step = int(rng.choice([1, 2]))
        if rng.random() < 0.5:  # neighbour: note, upper neighbour, note
            third = d / 3
            pitches += [p, p + step, p]
            onsets += [o, o + third, o + 2 * third]
            durs += [third, third, third]
        else:  # grace note a step above, then the note
            grace = min(0.125, d / 4)
            pitches += [p + step, p]
            onsets += [o, o + grace]
            durs += [grace, d - grace]
    return Line(line.name, np.asarray(pitches, np.int16), np.asarray(onsets), np.asarray(durs))


def two_notes_changed(line: Line, rng: np.random.Generator) -> Line:
    """Exactly two notes moved by one or two semitones."""
    pitches = line.pitches.copy()
    for i in rng.choice(len(pitches), size=2, replace=False):
        pitches[i] += int(rng.choice([-2, -1, 1, 2]))
    return Line(line.name, pitches, line.onsets, line.durations)


def tempo_doubled(line: Line, rng: np.random.Generator) -> Line:
    """Twice as fast: every onset and duration halved."""
    return Line(line.name, line.pitches.copy(), line.onsets * 0.5, line.durations * 0.5)


_ALTER: dict[str, Callable[[Line, np.random.Generator], Line]] = {
    "transposed": lambda x, r: x,
    "rhythm": change_rhythm,
    "equal_lengths": equal_lengths,
    "ornaments": add_ornaments,
    "two_notes": two_notes_changed,
    "embedded": lambda x, r: x,  # the accompaniment is added when the MIDI file is written
    "tempo_doubled": tempo_doubled,
}


def disguise(kind: str, piece: Line, rng: np.random.Generator) -> Line:
    """The excerpt in another key, then altered one way (``embedded`` is finished by :func:`query_lines`)."""
    return _ALTER[kind](_shift(piece, rng), rng)


@dataclass(frozen=True)
class Pair:
    """One labelled pair: a disguised excerpt and a work, with the pipeline's and the aligner's scores."""

    kind: str
    copy: bool  # True: the excerpt comes from this work
    query_ident: str
    work_ident: str
    pipeline: float
    aligner: float


def aligner_score(queries: Sequence[Line], work_lines: Sequence[Line]) -> float:
    """The aligner alone on a full pair: every query line against every line of the work, no gate."""
    return max((float(full_pair_scores(q, work_lines).max(initial=0.0)) for q in queries), default=0.0)


def pipeline_score(guard: Guard, queries: Sequence[Line], work: int, index_no: int = 0) -> float:
    """What the guard's search reports for one work: its best hit over the query lines, 0 if not found."""
    return max((h.score for q in queries for h in guard.search(q) if h.index == index_no and h.work == work),
               default=0.0)


def query_lines(kind: str, line: Line, rng: np.random.Generator, tmp: Path, n: int) -> list[Line]:
    """The lines the pipeline checks: the line itself, or for ``embedded`` every line read back from
    a MIDI file that puts it inside an accompaniment (tracks, channels and the skyline)."""
    if kind != "embedded":
        return [line]
    path = embed_midi(line, tmp / f"case{n}.mid", rng)
    return [x for w in read_works(path) for x in w.lines]


def labelled_pairs(guard: Guard, pool: Sequence[CorpusTune], per_kind: int, seed: int = 2026,
                   kinds: Sequence[str] = DISTORTIONS, index_no: int = 0) -> list[Pair]:
    """``per_kind`` planted copies and ``per_kind`` different-work pairs for every distortion."""
    rng = np.random.default_rng(seed)
    out: list[Pair] = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in kinds:
            for copy in (True, False):
                made = 0
                while made < per_kind:
                    a = pool[int(rng.integers(len(pool)))]
                    b = a if copy else pool[int(rng.integers(len(pool)))]
                    if not copy and (b.title == a.title or b.work == a.work):
                        continue
                    queries = query_lines(kind, disguise(kind, excerpt(a, rng), rng), rng, Path(tmp), len(out))
                    out.append(Pair(kind, copy, a.ident, b.ident, pipeline_score(guard, queries, b.work, index_no),
                                    aligner_score(queries, b.lines)))
                    made += 1
    return out


def auc(positives: Sequence[float], negatives: Sequence[float]) -> float:
    """ROC AUC: the chance that a planted copy scores above a different-work pair (ties count half)."""
    p = np.asarray(positives, dtype=np.float64)
    q = np.asarray(negatives, dtype=np.float64)
    if p.size == 0 or q.size == 0:
        return float("nan")
    greater = (p[:, None] > q[None, :]).sum()
    ties = (p[:, None] == q[None, :]).sum()
    return float((greater + 0.5 * ties) / (p.size * q.size))


@dataclass(frozen=True)
class Audit:
    """The gate checked line by line: how many (query, index line) pairs the aligner scores above 0,
    how many of them the guard's search did not report with that score, how many of those the
    aligner alone would have flagged (at or above the similar threshold), and the best score lost."""

    queries: int
    scored: int
    missed: int
    missed_flagged: int
    worst: float


def gate_audit(guard: Guard, lines: Sequence[Line], pool: Sequence[CorpusTune], count: int, seed: int = 31,
               kinds: Sequence[str] = DISTORTIONS) -> Audit:
    """Disguised excerpts (``embedded`` excepted: it needs files) searched through the guard and
    aligned alone against *every* line of its index (``lines``, in the guard's order)."""
    rng = np.random.default_rng(seed)
    kinds = [k for k in kinds if k != "embedded"]
    scored = missed = missed_flagged = 0
    worst = 0.0
    for n in range(count):
        q = disguise(kinds[n % len(kinds)], excerpt(pool[int(rng.integers(len(pool)))], rng), rng)
        full = full_pair_scores(q, lines)
        found = {h.melody: h.score for h in guard.search(q)}
        for i in np.flatnonzero(full > 0):
            scored += 1
            if abs(found.get(int(guard.melody_id(int(i))), 0.0) - float(full[i])) > 1e-9:
                missed += 1
                missed_flagged += float(full[i]) >= guard.thresholds.similar
                worst = max(worst, float(full[i]))
    return Audit(count, scored, missed, missed_flagged, worst)
