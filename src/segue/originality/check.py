"""Checking a file, or a list of notes, against the reference indexes: the ``segue check`` command."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from segue.music import PPQ, Meter, Note
from segue.originality.bars import BarGrid
from segue.originality.errors import OriginalityError
from segue.originality.melody import MIN_NOTES, Line, line_from_notes
from segue.originality.reading import read_works
from segue.originality.report import Match, Passage, Report
from segue.originality.search import Guard, shared_guard
from segue.originality.verdict import worst

IndexArg = str | Path | Sequence[str | Path] | Guard | None


def _guard(index: IndexArg, corpus: bool) -> Guard:
    return index if isinstance(index, Guard) else shared_guard(index, corpus)


def check_file(path: str | Path, index: IndexArg = None, *, corpus: bool = True, limit: int = 5) -> Report:
    """Check every melodic line of a MIDI, MusicXML or ABC file against the corpus and ``index``.

    ``index``: an index file (or several, or an open :class:`Guard`); ``None`` means the
    user's default catalogue if there is one. ``corpus=False`` leaves the shipped corpus out.
    Raises :class:`OriginalityError` for files that cannot be checked (missing, empty,
    corrupt, drums only, too short).
    """
    started = time.perf_counter()
    works = read_works(path)
    guard = _guard(index, corpus)
    lines: list[tuple[Line, BarGrid]] = []
    for w in works:
        for line in w.lines:
            named = line if len(works) == 1 else Line(f"{w.title}: {line.name}", line.pitches, line.onsets,
                                                      line.durations)
            lines.append((named, w.bars))
    return _report(guard, str(path), lines, limit, started)


def check_notes(notes: Sequence[Note], ppq: int = PPQ, *, meter: Meter | None = None, index: IndexArg = None,
                corpus: bool = True, limit: int = 5, source: str = "notes") -> Report:
    """Check a phrase or piece given as :class:`segue.music.Note` (ticks at ``ppq``; chords → top line)."""
    started = time.perf_counter()
    line = line_from_notes(notes, ppq, "notes")
    if len(line) < MIN_NOTES:
        raise OriginalityError(f"{source}: too few notes to compare ({len(line)} in the top line); "
                               f"a melody needs at least {MIN_NOTES}")
    grid = BarGrid.regular(meter.numerator, meter.denominator) if meter else BarGrid.regular()
    return _report(_guard(index, corpus), source, [(line, grid)], limit, started)


def _report(guard: Guard, source: str, lines: list[tuple[Line, BarGrid]], limit: int, started: float) -> Report:
    grids = {id(line): grid for line, grid in lines}
    th = guard.thresholds
    matches: list[Match] = []
    for query, hit in guard.nearest_works([line for line, _ in lines], limit):
        row = guard.work(hit)
        passages: tuple[Passage, ...] = ()
        found = guard.passage(query, hit)
        if found is not None:
            al, ref = found
            qgrid = grids[id(query)]
            passages = (Passage(query.name, ref.name, al.q_to - al.q_from + 2, al.matches,
                                qgrid.at(float(query.onsets[al.q_from])), qgrid.at(float(query.onsets[al.q_to + 1])),
                                row.bars.at(float(ref.onsets[al.t_from])), row.bars.at(float(ref.onsets[al.t_to + 1]))),)
        matches.append(Match(row.title, row.ident, row.collection, row.source, guard.infos[hit.index].name,
                             hit.score, th.verdict(hit.score), hit.shared, passages))
    score = max((m.score for m in matches), default=0.0)
    return Report(source, worst([m.verdict for m in matches]), score, th, tuple(line.name for line, _ in lines),
                  tuple(matches), tuple(guard.index_info()), (time.perf_counter() - started) * 1000.0)
