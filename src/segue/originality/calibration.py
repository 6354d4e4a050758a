"""Calibration: how similar different real works are, and how similar altered copies stay.

The threshold is read off two kinds of evidence, both drawn from the shipped corpus with a
fixed seed, so anyone can re-run them (``python -m segue.originality.calibrate``) and the test
suite re-measures them on every run:

* **Planted copies** — an 8-bar excerpt of a real tune, then altered the way someone hiding a
  copy would alter it: transposed (and note values halved or doubled), with small rhythm
  changes, with a few notes altered, or embedded under/inside an accompaniment in a MIDI file.
  Each must be flagged.
* **Different works** — an 8-bar excerpt of one tune against the whole of another tune (the
  "pairs" figure), and against the entire corpus except itself (the "nearest other work",
  how much composers of one tradition borrow from each other). These should not be flagged.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from segue.originality.bars import BarGrid
from segue.originality.figures import full_pair_scores
from segue.originality.melody import Line
from segue.originality.search import Guard
from segue.originality.store import ReferenceIndex

EXCERPT_BARS = 8
MIN_EXCERPT_NOTES = 16
KINDS = ("transposed", "rhythm", "notes", "embedded")


@dataclass(frozen=True)
class CorpusTune:
    """A work of the index with the line that carries its tune."""

    work: int  # work id in the index
    ident: str
    title: str
    line: Line
    lines: tuple[Line, ...]
    bars: BarGrid


def tunes(index: ReferenceIndex, min_notes: int = 24) -> list[CorpusTune]:
    """Every work whose tune line has at least ``min_notes`` notes (the soprano / the single melody)."""
    ids, works, lines = index.melody_rows()
    rows = index.works()
    by_work: dict[int, list[Line]] = {}
    for w, line in zip(works.tolist(), lines):
        by_work.setdefault(w, []).append(line)
    out = []
    for w, ls in sorted(by_work.items()):
        main = next((x for x in ls if x.name.lower() in ("melody", "soprano")), None) or next(
            (x for x in ls if x.name.startswith("skyline")), ls[0])
        if len(main) >= min_notes:
            r = rows[w]
            out.append(CorpusTune(w, r.ident, r.title, main, tuple(ls), r.bars))
    return out


# ---------------------------------------------------------------- alterations


def excerpt(tune: CorpusTune, rng: np.random.Generator, bars: int = EXCERPT_BARS) -> Line:
    """About ``bars`` bars of the tune from a random note on, at least MIN_EXCERPT_NOTES notes, starting at 0."""
    line = tune.line
    seg = tune.bars.segments[-1] if tune.bars.segments else None
    bar_q = seg.bar_quarters if seg else 4.0
    n = len(line)
    last_start = max(0, n - MIN_EXCERPT_NOTES)
    start = int(rng.integers(0, max(1, last_start // 2 + 1)))
    end = int(np.searchsorted(line.onsets, line.onsets[start] + bars * bar_q))
    end = min(n, max(end, start + MIN_EXCERPT_NOTES))
    sl = slice(start, end)
    return Line("excerpt", line.pitches[sl].copy(), line.onsets[sl] - line.onsets[start], line.durations[sl].copy())


def transpose(line: Line, rng: np.random.Generator) -> Line:
    """Another key (±1..7 semitones) and, one time in three each, halved or doubled note values."""
    shift = int(rng.choice([-7, -6, -5, -4, -3, -2, -1, 1, 2, 3, 4, 5, 6, 7]))
    scale = float(rng.choice([0.5, 1.0, 2.0]))
    return Line(line.name, (line.pitches + shift).astype(np.int16), line.onsets * scale, line.durations * scale)


def change_rhythm(line: Line, rng: np.random.Generator) -> Line:
    """Small rhythm changes on about one note in eight (at least two): re-divide a pair of notes
    (even ↔ dotted), or split a note into two repeated notes. Everything else keeps its place."""
    pitches = line.pitches.tolist()
    onsets = line.onsets.tolist()
    durs = line.durations.tolist()
    edits = max(2, len(pitches) // 8)
    for _ in range(edits):
        i = int(rng.integers(0, len(pitches) - 1))
        if rng.random() < 0.6:  # re-divide notes i and i+1 inside their joint span
            span = onsets[i + 1] - onsets[i] + (onsets[i + 2] - onsets[i + 1] if i + 2 < len(onsets) else durs[i + 1])
            first = onsets[i + 1] - onsets[i]
            share = 0.75 if abs(first - span / 2) < 1e-9 else 0.5  # even → dotted, dotted/other → even
            new = span * share
            onsets[i + 1] = onsets[i] + new
            durs[i] = new
            durs[i + 1] = span - new
        else:  # split note i into two repeated notes
            half = (onsets[i + 1] - onsets[i]) / 2 if i + 1 < len(onsets) else durs[i] / 2
            pitches.insert(i + 1, pitches[i])
            onsets.insert(i + 1, onsets[i] + half)
            durs[i] = half
            durs.insert(i + 1, half)
    return Line(line.name, np.asarray(pitches, np.int16), np.asarray(onsets), np.maximum(np.asarray(durs), 1e-3))


def alter_notes(line: Line, rng: np.random.Generator) -> Line:
    """A few notes altered: about one in ten (at least two) moved by one or two semitones."""
    pitches = line.pitches.copy()
    count = max(2, len(pitches) // 10)
    for i in rng.choice(len(pitches), size=count, replace=False):
        pitches[i] += int(rng.choice([-2, -1, 1, 2]))
    return Line(line.name, pitches, line.onsets, line.durations)


def embed_midi(line: Line, path: Path, rng: np.random.Generator) -> Path:
    """The melody inside an accompaniment, written as MIDI: block chords or broken chords under the
    tune *in the same track and channel* (a piano part), plus a bass line in a second track."""
    import mido

    tpb = 480
    low = int(line.pitches.min())
    end = float(line.onsets[-1] + line.durations[-1])
    beat = 1.0
    events: list[tuple[int, int, int]] = []  # (tick, pitch, +1 on / -1 off) for the piano track
    for p, o, d in zip(line.pitches, line.onsets, line.durations):
        events += [(round(o * tpb), int(p), 1), (round((o + d) * tpb), int(p), -1)]
    broken = rng.random() < 0.5
    t = 0.0
    bass: list[tuple[int, int, int]] = []
    while t < end:
        # the melody note sounding on this beat gives the chord's colour; voiced below the tune
        k = max(0, int(np.searchsorted(line.onsets, t + 1e-9)) - 1)
        root = int(line.pitches[k]) - 12
        while root + 7 >= low:
            root -= 12
        chord = [root, root + 4 if rng.random() < 0.5 else root + 3, root + 7]
        if broken:
            for j, p in enumerate(chord[:2] + [chord[1]] if rng.random() < 0.5 else chord + [chord[1]]):
                on = t + j * beat / 4
                events += [(round(on * tpb), p, 1), (round((on + beat / 4) * tpb), p, -1)]
        else:
            for p in chord:
                events += [(round(t * tpb), p, 1), (round((t + beat * 0.9) * tpb), p, -1)]
        if int(t) % 4 == 0:
            bass += [(round(t * tpb), root - 12, 1), (round((t + 3.5) * tpb), root - 12, -1)]
        t += beat
    mid = mido.MidiFile(ticks_per_beat=tpb)
    for evs, program in ((events, 0), (bass, 32)):
        track = mido.MidiTrack()
        track.append(mido.Message("program_change", program=program, channel=0 if program == 0 else 1, time=0))
        now = 0
        for tick, p, kind in sorted(evs, key=lambda e: (e[0], e[2])):  # note-offs before note-ons at one tick
            ch = 0 if program == 0 else 1
            msg = "note_on" if kind > 0 else "note_off"
            track.append(mido.Message(msg, note=max(0, min(127, p)), velocity=80 if kind > 0 else 0, channel=ch,
                                      time=tick - now))
            now = tick
        mid.tracks.append(track)
    mid.save(str(path))
    return path


# ---------------------------------------------------------------- measuring


@dataclass(frozen=True)
class PlantedCase:
    kind: str
    ident: str
    score: float  # highest similarity found in the index
    source_found: bool  # the planted tune itself (or an identical copy of it) is among the hits ≥ the threshold


def planted_cases(guard: Guard, corpus_tunes: Sequence[CorpusTune], per_kind: int, seed: int = 7,
                  kinds: Sequence[str] = KINDS, index_no: int = 0) -> list[PlantedCase]:
    """``per_kind`` planted copies of each kind, each checked against everything the guard holds."""
    from segue.originality.check import check_file

    rng = np.random.default_rng(seed)
    threshold = guard.thresholds.similar
    alter: dict[str, Callable[[Line, np.random.Generator], Line]] = {
        "transposed": transpose,
        "rhythm": lambda x, r: change_rhythm(transpose(x, r), r),
        "notes": lambda x, r: alter_notes(transpose(x, r), r),
    }
    out: list[PlantedCase] = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in kinds:
            for k in rng.choice(len(corpus_tunes), size=per_kind, replace=len(corpus_tunes) < per_kind):
                tune = corpus_tunes[int(k)]
                piece = excerpt(tune, rng)
                if kind == "embedded":
                    path = embed_midi(transpose(piece, rng), Path(tmp) / f"planted{len(out)}.mid", rng)
                    report = check_file(path, guard)
                    found = any(m.ident == tune.ident and m.score >= threshold for m in report.matches)
                    out.append(PlantedCase(kind, tune.ident, report.score, found))
                    continue
                hits = guard.search(alter[kind](piece, rng))
                found = any(h.index == index_no and h.work == tune.work and h.score >= threshold for h in hits)
                out.append(PlantedCase(kind, tune.ident, hits[0].score if hits else 0.0, found))
    return out


def different_pairs(corpus_tunes: Sequence[CorpusTune], count: int, seed: int = 11) -> list[float]:
    """Similarity of an 8-bar excerpt of one tune to every line of another tune, for ``count`` random pairs."""
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < count:
        a, b = (int(x) for x in rng.choice(len(corpus_tunes), size=2, replace=False))
        ta, tb = corpus_tunes[a], corpus_tunes[b]
        if ta.ident == tb.ident:
            continue
        out.append(float(full_pair_scores(excerpt(ta, rng), tb.lines).max()))
    return out


def nearest_other_work(guard: Guard, corpus_tunes: Sequence[CorpusTune], count: int, seed: int = 13,
                       index_no: int = 0) -> list[float]:
    """Similarity of an 8-bar excerpt of a tune to the nearest *other* work in the whole index."""
    rng = np.random.default_rng(seed)
    out = []
    for k in rng.choice(len(corpus_tunes), size=count, replace=len(corpus_tunes) < count):
        tune = corpus_tunes[int(k)]
        hits = [h for h in guard.search(excerpt(tune, rng)) if not (h.index == index_no and h.work == tune.work)]
        out.append(hits[0].score if hits else 0.0)
    return out
