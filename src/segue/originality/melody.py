"""Melodic lines as numbers, and the fingerprint that survives transposition and tempo.

A copy is still a copy in another key, at another tempo, or written in halved note values.
So a line is described by what stays put under those changes: the **interval** from each note
to the next (semitones, so transposition disappears) and the **duration ratio** of each note's
span to the previous one's (so tempo and note-value scaling disappear). One step of a line is
one *token* ``(interval, ratio)``; ``n`` consecutive tokens packed into one integer are an
n-gram *fingerprint*, the key of the inverted index.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from segue.music import PPQ, Note

NGRAM = 4
"""Intervals per retrieval key: four steps (five notes) are rare enough to point at a tune, short enough
that an altered or added note leaves most of a copied passage's keys intact."""

RATIO_STEPS = 2
"""Duration ratios are quantised to half-octaves of log2 (1:1, 3:2, 2:1, 3:1, 4:1 are all distinct)."""

MAX_RATIO = 6
"""Ratios beyond 8:1 are clamped: a note eight times longer than the last is simply "much longer"."""

MAX_INTERVAL = 30
"""Leaps beyond two and a half octaves are clamped; they are not melodic steps in any tune."""

WINNOW = 6
"""The index *file* keeps one key per window of this many (the smallest hash: "winnowing", as in
MOSS): about 2/(WINNOW+1) of all keys, so that writing a catalogue stays fast, yet any passage of
WINNOW + NGRAM - 1 moving steps (ten notes) shared with a query is still found by an SQL look-up.
The in-memory :class:`~segue.originality.search.Guard` recomputes *every* key from the stored
notes (faster than reading the table back), so its diagonal voting sees every shared key."""

KEY_BITS = 7
_MIX = np.int64(-7046029254386353131)  # 0x9E3779B97F4A7C15 as int64: an odd multiplier, so mixing is one-to-one
METHOD = f"segue-melody-fp/3 keys=moving-intervals n={NGRAM} winnow={WINNOW}"
"""Written into every index: an index built with other parameters must be rebuilt, not mixed."""

MIN_NOTES = 8
"""A line shorter than this cannot be told apart from chance, so it is neither indexed nor checked."""

_END_TOLERANCE = 0.0625
"""Quarters: a note that ends this soon after a new onset (and within the last eighth of its own
length) is treated as already released: players overlap notes a little when they play legato."""

Triple = tuple[int, float, float]
"""``(midi_pitch, onset, duration)``, times in quarter notes."""


@dataclass(frozen=True, eq=False)
class Line:
    """One monophonic melodic line: pitches and times in quarter notes, sorted by onset.

    ``name`` says where it came from ("Soprano", "track 2, channel 1", "skyline") so that a
    report can point at the voice that matched.
    """

    name: str
    pitches: np.ndarray  # int16
    onsets: np.ndarray  # float64, quarters, strictly increasing
    durations: np.ndarray  # float64, quarters, > 0

    def __len__(self) -> int:
        return int(self.pitches.size)

    def triples(self) -> list[Triple]:
        return [(int(p), float(o), float(d)) for p, o, d in zip(self.pitches, self.onsets, self.durations)]

    def same_notes(self, other: "Line") -> bool:
        return (len(self) == len(other) and bool(np.array_equal(self.pitches, other.pitches))
                and bool(np.allclose(self.onsets, other.onsets)) and bool(np.allclose(self.durations, other.durations)))


def skyline(name: str, notes: Iterable[Triple]) -> Line:
    """The top line of any set of notes: at each onset the highest new note, unless a higher one is held.

    This is how a listener hears the tune in a piano texture: an accompaniment note that starts
    under a held melody note does not interrupt it. Each kept note is cut where the next one
    starts, so the result is strictly monophonic. Zero-length notes (grace notes) are left out.
    """
    by_onset: dict[float, tuple[int, float]] = {}
    for pitch, onset, dur in notes:
        if dur <= 0:
            continue
        t = round(float(onset), 6)
        best = by_onset.get(t)
        if best is None or (pitch, dur) > best:
            by_onset[t] = (int(pitch), float(dur))
    held: list[tuple[float, float, int]] = []  # (end, duration, pitch) of kept notes still sounding
    pitches: list[int] = []
    onsets: list[float] = []
    ends: list[float] = []
    for t in sorted(by_onset):
        pitch, dur = by_onset[t]
        held = [(e, d, p) for e, d, p in held if e - t > min(_END_TOLERANCE, 0.125 * d)]
        if held and max(p for _, _, p in held) > pitch:
            continue  # a higher note is still sounding: this one is accompaniment
        pitches.append(pitch)
        onsets.append(t)
        ends.append(t + dur)
        held.append((t + dur, dur, pitch))
    on = np.asarray(onsets, dtype=np.float64)
    end = np.asarray(ends, dtype=np.float64)
    if on.size:
        end[:-1] = np.minimum(end[:-1], on[1:])
    return Line(name, np.asarray(pitches, dtype=np.int16), on, end - on)


def line_from_notes(notes: Sequence[Note], ppq: int = PPQ, name: str = "phrase") -> Line:
    """A phrase of :class:`segue.music.Note` (ticks at ``ppq``) as a line; chords collapse to their top."""
    if ppq <= 0:
        raise ValueError(f"ppq must be positive, got {ppq}")
    return skyline(name, ((n.pitch, n.start / ppq, n.duration / ppq) for n in notes))


def tokens(line: Line) -> tuple[np.ndarray, np.ndarray]:
    """``(intervals, ratios)`` of a line: one token per note after the first.

    The ratio compares each note's span (onset to next onset, which includes a following rest;
    the last note's own length) with the previous note's span, in half-octaves of log2.
    """
    n = len(line)
    if n < 2:
        return np.zeros(0, np.int16), np.zeros(0, np.int8)
    span = np.empty(n)
    span[:-1] = np.diff(line.onsets)
    span[-1] = line.durations[-1]
    span = np.maximum(span, 1e-6)
    intervals = np.clip(np.diff(line.pitches.astype(np.int16)), -MAX_INTERVAL, MAX_INTERVAL).astype(np.int16)
    ratios = np.clip(np.rint(RATIO_STEPS * np.log2(span[1:] / span[:-1])), -MAX_RATIO, MAX_RATIO).astype(np.int8)
    return intervals, ratios


def key_grams(intervals: np.ndarray, bounds: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Retrieval keys: every n-gram of *moving* intervals (repeated notes left out), as one int64 each.

    Why these keys: they carry no rhythm and no key, so a copy in equal notes, in another rhythm,
    at another tempo or pitch keeps every one of them; dropping repeated notes means that a note
    split into two (or two tied into one) does not break them either, and a drone has none at all.
    ``intervals`` may hold many lines back to back, ``bounds`` being each line's start plus the
    total (``[0, len(a), len(a)+len(b), …]``); a key never crosses a line boundary. Packing n 7-bit
    intervals into one integer and multiplying by an odd constant (mod 2**64) is a perfect hash.
    Returns ``(hashes, starts)``, ``starts`` indexing the key's first interval in ``intervals``.
    """
    iv = np.asarray(intervals, dtype=np.int64)
    moving = np.flatnonzero(iv != 0)
    if moving.size < NGRAM:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    codes = iv[moving] + MAX_INTERVAL + 1
    width = moving.size - NGRAM + 1
    h = np.zeros(width, dtype=np.int64)
    for k in range(NGRAM):
        h = (h << KEY_BITS) | codes[k:k + width]
    h *= _MIX  # wraps modulo 2**64 (numpy array arithmetic), a bijection
    starts = moving[:width]
    if bounds is None:
        return h, starts
    line = np.searchsorted(bounds, moving, side="right") - 1
    ok = line[:width] == line[NGRAM - 1:]  # first and last interval of the key in the same line
    return h[ok], starts[ok]


def key_steps(intervals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The keys of one line with the steps they are made of: ``(hashes, steps)``, ``steps`` being
    ``(keys, NGRAM)`` — the index of each of the key's moving intervals among the line's steps."""
    h, _ = key_grams(intervals)
    moving = np.flatnonzero(np.asarray(intervals) != 0)
    at = np.arange(h.size)[:, None] + np.arange(NGRAM)[None, :]
    return h, moving[at].astype(np.int64)


def ornaments_removed(line: Line) -> np.ndarray:
    """Indices of the notes left when likely ornaments are taken out: a short neighbour note that
    returns to the note before it, or a short grace note a step away from the longer note after it.

    A copy disguised with ornaments loses the retrieval keys around each one; the query looks up
    the keys of this reduced line too (a work's own ornaments stay found by the unreduced keys).
    """
    p = line.pitches.astype(np.int64)
    d = np.diff(line.onsets, append=line.onsets[-1] + line.durations[-1]) if len(line) else line.durations
    keep = np.ones(p.size, dtype=bool)
    for k in range(1, p.size - 1):
        step = abs(int(p[k] - p[k - 1]))
        neighbour = p[k + 1] == p[k - 1] and 1 <= step <= 2 and d[k] <= d[k - 1]
        grace = 1 <= abs(int(p[k + 1] - p[k])) <= 2 and d[k] <= 0.5 * d[k + 1] and d[k] <= 0.25
        if keep[k - 1] and (neighbour or grace):
            keep[k] = False
    return np.flatnonzero(keep)


def line_fingerprints(line: Line) -> np.ndarray:
    """The distinct retrieval keys of one line (what a query looks up)."""
    iv, _ = tokens(line)
    h, _ = key_grams(iv)
    return np.unique(h)


def transposed(line: Line, semitones: int) -> Line:
    return Line(line.name, (line.pitches + semitones).astype(np.int16), line.onsets, line.durations)


def pack_lines(lines: Sequence[Line]) -> list[bytes]:
    """Lines as bytes for the index: pitch, onset delta and duration in ticks at PPQ 480 (exact for
    notation), zlib-compressed. Done for a whole batch at once: indexing speed depends on it."""
    import zlib

    if not lines:
        return []
    lengths = np.fromiter((len(x) for x in lines), dtype=np.int64, count=len(lines))
    bounds = np.concatenate(([0], np.cumsum(lengths)))
    on = np.rint(np.concatenate([x.onsets for x in lines]) * PPQ).astype(np.int64)
    delta = np.diff(on, prepend=0)
    delta[bounds[:-1][lengths > 0]] = on[bounds[:-1][lengths > 0]]  # each line counts from its own zero
    pitches = np.concatenate([x.pitches for x in lines]).astype(np.uint8).tobytes()
    deltas = delta.astype(np.int32).tobytes()
    durs = np.maximum(np.rint(np.concatenate([x.durations for x in lines]) * PPQ), 1).astype(np.int32).tobytes()
    out = []
    for n, a, b in zip(lengths.tolist(), bounds[:-1].tolist(), bounds[1:].tolist()):
        raw = n.to_bytes(4, "little") + pitches[a:b] + deltas[4 * a:4 * b] + durs[4 * a:4 * b]
        out.append(zlib.compress(raw, 1))
    return out


def unpack_notes(name: str, blob: bytes) -> Line:
    import zlib

    raw = zlib.decompress(blob)
    n = int.from_bytes(raw[:4], "little")
    pitches = np.frombuffer(raw[4:4 + n], np.uint8).astype(np.int16)
    delta = np.frombuffer(raw[4 + n:4 + 5 * n], np.int32)
    dur = np.frombuffer(raw[4 + 5 * n:4 + 9 * n], np.int32)
    return Line(name, pitches, np.cumsum(delta, dtype=np.int64) / PPQ, dur.astype(np.float64) / PPQ)


@dataclass(frozen=True, eq=False)
class Tokenised:
    """Many lines' tokens back to back: what the index stores and what the aligner reads.

    ``bounds[i]:bounds[i+1]`` are the tokens of line ``i`` (one fewer than its notes).
    """

    intervals: np.ndarray
    ratios: np.ndarray
    bounds: np.ndarray  # int64, len(lines) + 1

    def postings(self, winnow: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(hash, line_index, position)`` of the keys the index keeps (all of them if not ``winnow``)."""
        h, start = key_grams(self.intervals, self.bounds)
        line = np.searchsorted(self.bounds, start, side="right") - 1
        if winnow:
            keep = winnowed(h, line)
            h, start, line = h[keep], start[keep], line[keep]
        return h, line, start - self.bounds[line]


def winnowed(hashes: np.ndarray, line: np.ndarray, window: int = WINNOW) -> np.ndarray:
    """Indices of the n-grams winnowing keeps: the smallest hash of every window of ``window``
    consecutive n-grams of one line (all n-grams of a line shorter than one window)."""
    n = hashes.size
    if n == 0:
        return np.zeros(0, np.int64)
    short = np.bincount(line)[line] < window
    picked = [np.flatnonzero(short)]
    if n >= window:
        windows = np.lib.stride_tricks.sliding_window_view(hashes, window)
        first = np.arange(windows.shape[0])
        inside = line[first] == line[first + window - 1]
        picked.append((first + np.argmin(windows, axis=1))[inside])
    return np.unique(np.concatenate(picked))


def tokenise(lines: Sequence[Line]) -> Tokenised:
    """Tokens of many lines at once (vectorised: indexing speed is spent here)."""
    lengths = np.fromiter((len(x) for x in lines), dtype=np.int64, count=len(lines))
    if lengths.size == 0 or int(lengths.sum()) == 0:
        return Tokenised(np.zeros(0, np.int16), np.zeros(0, np.int8), np.zeros(lengths.size + 1, np.int64))
    if (lengths < 1).any():
        raise ValueError("every line needs at least one note")
    note_bounds = np.concatenate(([0], np.cumsum(lengths)))
    pitches = np.concatenate([x.pitches for x in lines]).astype(np.int16)
    onsets = np.concatenate([x.onsets for x in lines])
    durations = np.concatenate([x.durations for x in lines])
    last = note_bounds[1:] - 1
    span = np.empty(onsets.size)
    span[:-1] = np.diff(onsets)
    span[last] = durations[last]
    span = np.maximum(span, 1e-6)
    intervals = np.clip(np.diff(pitches), -MAX_INTERVAL, MAX_INTERVAL).astype(np.int16)
    ratios = np.clip(np.rint(RATIO_STEPS * np.log2(span[1:] / span[:-1])), -MAX_RATIO, MAX_RATIO).astype(np.int8)
    keep = np.ones(intervals.size, dtype=bool)
    keep[note_bounds[1:-1] - 1] = False  # the step from one line's last note into the next line's first
    token_bounds = note_bounds - np.arange(lengths.size + 1)
    return Tokenised(intervals[keep], ratios[keep], token_bounds)
