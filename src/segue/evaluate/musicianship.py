"""QUALITY.md §7 "musicianship": what separates composed music from generated notes.

Pure functions over :class:`Score`, a small piece representation (named tracks of
``(pitch, start_tick, duration_ticks)`` notes, a meter, key changes and a home key), so nothing
here imports the composer: generated pieces are judged from their *written MIDI file*
(:func:`read_midi_score`) and the reference corpus goes through the same measures.
:func:`measure_score` returns every measure of one piece; :func:`summarise` averages many.

Every measure is defined in its function's docstring and in ``docs/musicianship.md``. In short,
time is cut into bars and beats by the meter (compound meters such as 6/8 beat in dotted
quarters); a chord is fitted to every beat from all pitched (non-drum) tracks; the key at a
moment is the last key change at or before it; "melody" is the first track whose role is
``"melody"``, else the pitched track with the highest mean pitch. A share that has nothing to
count (no strong-beat melody notes, no bars with three layers …) is NaN, never a silent 0.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import NamedTuple

import mido
import numpy as np

from segue.evaluate.control import spearman
from segue.evaluate.errors import EvaluationError
from segue.evaluate.midi import DRUM_CHANNEL, _open

# --- keys -------------------------------------------------------------------------------------------

MODE_STEPS: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "harmonic_minor": (0, 2, 3, 5, 7, 8, 11),
    "melodic_minor": (0, 2, 3, 5, 7, 9, 11),
    "locrian": (0, 1, 3, 5, 6, 8, 10),
}
"""Seven-note modes as semitones above the tonic (the modes Segue's key markers name).

Kept here on purpose rather than imported from the composer's theory module: a measurement that
shares the composer's scale table could not notice a wrong entry in it."""

MODE_ALIASES = {"ionian": "major", "aeolian": "minor", "natural_minor": "minor"}
"""Names that denote the same mode: ``C ionian`` and ``C major`` are the same key."""

CHARACTERISTIC_DEGREE: dict[str, int] = {
    "major": 11, "minor": 8, "dorian": 9, "phrygian": 1, "lydian": 6, "mixolydian": 10, "locrian": 6,
    "harmonic_minor": 11, "melodic_minor": 9,
}
"""Semitones above the tonic of the degree that tells a mode from its neighbours: dorian ♮6, lydian ♯4,
phrygian ♭2, mixolydian ♭7, locrian ♭5, major 7, minor ♭6, harmonic minor 7, melodic minor ♮6."""

_LETTERS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_PC_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


def _tonic(text: str) -> int:
    m = re.fullmatch(r"([A-Ga-g])([#b♯♭s]*)", text)
    if not m:
        raise EvaluationError(f"not a tonic: {text!r}")
    return (_LETTERS[m.group(1).upper()] + sum(1 if c in "#♯s" else -1 for c in m.group(2))) % 12


@dataclass(frozen=True, slots=True)
class KeySig:
    """A tonic (pitch class, 0 = C) and a mode from :data:`MODE_STEPS` (aliases folded in)."""

    tonic: int
    mode: str = "major"

    def __post_init__(self) -> None:
        mode = self.mode.strip().lower().replace(" ", "_")
        mode = MODE_ALIASES.get(mode, mode)
        if mode not in MODE_STEPS:
            raise EvaluationError(f"unknown mode {self.mode!r}; known: {', '.join(sorted(MODE_STEPS))}")
        object.__setattr__(self, "mode", mode)
        object.__setattr__(self, "tonic", int(self.tonic) % 12)

    @classmethod
    def parse(cls, text: str) -> KeySig:
        """``"D dorian"``, ``"C harmonic_minor"``, ``"A minor"``, ``"Bb"`` (major), ``"F#m"`` (minor)."""
        parts = text.replace("_", " ").split()
        if not parts:
            raise EvaluationError("empty key name")
        if len(parts) == 1 and len(parts[0]) >= 2 and parts[0].endswith("m"):
            return cls(_tonic(parts[0][:-1]), "minor")
        return cls(_tonic(parts[0]), "_".join(parts[1:]) or "major")

    @property
    def pitch_classes(self) -> frozenset[int]:
        return frozenset((self.tonic + s) % 12 for s in MODE_STEPS[self.mode])

    @property
    def family(self) -> str:
        """``"major"`` when the third above the tonic is major (major, lydian, mixolydian), else ``"minor"``."""
        return "major" if MODE_STEPS[self.mode][2] == 4 else "minor"

    def name(self) -> str:
        return f"{_PC_NAMES[self.tonic]} {self.mode}"


# --- chords -----------------------------------------------------------------------------------------

CHORD_QUALITIES: dict[str, tuple[int, ...]] = {
    "maj": (0, 4, 7), "min": (0, 3, 7), "dim": (0, 3, 6), "aug": (0, 4, 8),
    "dom7": (0, 4, 7, 10), "maj7": (0, 4, 7, 11), "min7": (0, 3, 7, 10), "hdim7": (0, 3, 6, 10), "dim7": (0, 3, 6, 9),
}
"""Chord templates fitted to every beat: 12 roots × these 9 qualities (earlier wins a tie)."""

MISSING_TONE_PENALTY = 0.1
"""Score lost per template tone that does not sound at all (so a triad beats its seventh chord
when the seventh is absent)."""


class Chord(NamedTuple):
    root: int
    quality: str

    @property
    def pcs(self) -> frozenset[int]:
        return frozenset((self.root + i) % 12 for i in CHORD_QUALITIES[self.quality])

    def name(self) -> str:
        return f"{_PC_NAMES[self.root]}{self.quality}"


_TEMPLATES = [Chord(r, q) for q in CHORD_QUALITIES for r in range(12)]
_TEMPLATE_MASK = np.array([[pc in c.pcs for pc in range(12)] for c in _TEMPLATES], dtype=float)
_TEMPLATE_ROOT = np.array([c.root for c in _TEMPLATES])
_TEMPLATE_RANK = np.array([-list(CHORD_QUALITIES).index(c.quality) for c in _TEMPLATES])


def fit_chord(weights: Sequence[float], bass_pc: int | None = None) -> Chord | None:
    """The chord template that best explains a pitch-class weight vector (12 durations), or None if silent.

    With ``f`` the weights normalised to sum 1, a template ``T`` scores
    ``Σ_{pc∈T} f − Σ_{pc∉T} f − 0.1 × (tones of T with f = 0)``. Ties go to the template whose
    root sounds, then whose root is ``bass_pc`` (the lowest sounding pitch class), then to the
    earlier quality in :data:`CHORD_QUALITIES`, then to the lower root.
    """
    w = np.asarray(weights, dtype=float)
    total = float(w.sum())
    if w.shape != (12,) or total <= 0:
        return None
    f = w / total
    inside = _TEMPLATE_MASK @ f
    missing = _TEMPLATE_MASK @ (f <= 0)
    score = np.round(2 * inside - 1 - MISSING_TONE_PENALTY * missing, 9)
    root_sounds = f[_TEMPLATE_ROOT] > 0
    root_is_bass = _TEMPLATE_ROOT == (bass_pc if bass_pc is not None else -1)
    best = np.lexsort((-_TEMPLATE_ROOT, _TEMPLATE_RANK, root_is_bass, root_sounds, score))[-1]
    return _TEMPLATES[int(best)]


# --- the piece --------------------------------------------------------------------------------------

Note = tuple[int, int, int]
"""``(MIDI pitch, start tick, duration in ticks)``."""


@dataclass
class Track:
    """One layer: its notes, its role in the spec (``"melody"``, ``"bass"`` … or None) and whether it is drums."""

    name: str
    notes: list[Note]
    role: str | None = None
    is_drums: bool = False


@dataclass
class Score:
    """A piece as the musicianship measures see it.

    ``keys`` are ``(tick, KeySig)`` key changes (the first one also applies before its tick);
    ``home`` is the key the piece is *meant* to be in (default: the first key change);
    ``length_ticks`` the written length (default: the end of the last note); ``tempos`` are
    ``(tick, bpm)`` changes.
    """

    tracks: list[Track]
    ticks_per_quarter: int = 480
    numerator: int = 4
    denominator: int = 4
    keys: list[tuple[int, KeySig]] = field(default_factory=list)
    home: KeySig | None = None
    length_ticks: int | None = None
    tempos: list[tuple[int, float]] = field(default_factory=list)

    @property
    def bar_ticks(self) -> int:
        return self.ticks_per_quarter * 4 * self.numerator // self.denominator

    @property
    def beats_per_bar(self) -> int:
        compound = self.denominator >= 8 and self.numerator % 3 == 0 and self.numerator > 3
        return self.numerator // 3 if compound else self.numerator

    @property
    def beat_ticks(self) -> int:
        return self.bar_ticks // self.beats_per_bar

    @property
    def strong_beats(self) -> tuple[int, ...]:
        """Beats (0-based) with metric accent: 1 and 3 of four, 1 and 4 of six, else the downbeat."""
        return {4: (0, 2), 6: (0, 3)}.get(self.beats_per_bar, (0,))

    @property
    def end_tick(self) -> int:
        last = max((s + d for t in self.tracks for _, s, d in t.notes), default=0)
        return max(last, self.length_ticks or 0)

    @property
    def n_bars(self) -> int:
        return math.ceil(self.end_tick / self.bar_ticks)

    @property
    def home_key(self) -> KeySig | None:
        return self.home if self.home is not None else (min(self.keys, key=lambda k: k[0])[1] if self.keys else None)

    def key_at(self, tick: int) -> KeySig | None:
        """The key sounding at ``tick``: the last change at or before it (the first change before any)."""
        if not self.keys:
            return None
        ordered = sorted(self.keys, key=lambda k: k[0])
        current = ordered[0][1]
        for t, k in ordered:
            if t > tick:
                break
            current = k
        return current

    def pitched(self) -> list[Track]:
        return [t for t in self.tracks if not t.is_drums and t.notes]

    def melody(self) -> Track | None:
        """The first track whose role is ``"melody"``, else the pitched track with the highest mean pitch."""
        for t in self.tracks:
            if t.role == "melody" and not t.is_drums:
                return t
        pitched = self.pitched()
        return max(pitched, key=lambda t: float(np.mean([p for p, _, _ in t.notes])), default=None)


class _Notes:
    """Pitched notes as parallel arrays, for "what sounds at tick t" questions."""

    def __init__(self, notes: Sequence[Note]):
        arr = np.array(notes, dtype=np.int64).reshape(-1, 3)
        self.pitch, self.start = arr[:, 0], arr[:, 1]
        self.end = arr[:, 1] + arr[:, 2]

    def sounding(self, ticks: np.ndarray) -> np.ndarray:
        """Boolean matrix: [i, j] is True when note j sounds at ``ticks[i]``."""
        t = np.asarray(ticks, dtype=np.int64)[:, None]
        return (self.start[None, :] <= t) & (self.end[None, :] > t)


def _nan_share(num: float, den: float) -> float:
    return num / den if den else math.nan


# --- harmony ----------------------------------------------------------------------------------------


def beat_chords(score: Score) -> list[Chord | None]:
    """One fitted chord per beat (see :func:`fit_chord`) from all pitched tracks.

    A beat's weights are, per pitch class, the ticks its notes sound inside the beat; its bass is
    the lowest pitch sounding in it. A beat where nothing pitched sounds carries the previous
    beat's chord (None until the first sound).
    """
    bt = score.beat_ticks
    n = score.n_bars * score.beats_per_bar
    weights = np.zeros((n, 12))
    low = np.full(n, 128)
    for track in score.pitched():
        for p, s, d in track.notes:
            e = s + d
            for b in range(s // bt, min(n, (e - 1) // bt + 1)):
                weights[b, p % 12] += min(e, (b + 1) * bt) - max(s, b * bt)
                low[b] = min(low[b], p)
    chords: list[Chord | None] = []
    prev: Chord | None = None
    for b in range(n):
        fitted = fit_chord(weights[b], int(low[b]) % 12 if low[b] < 128 else None)
        prev = fitted if fitted is not None else prev
        chords.append(prev)
    return chords


def _chromatic(chord: Chord, key: KeySig | None) -> bool:
    return key is not None and not chord.pcs <= key.pitch_classes


BORROWED: frozenset[tuple[int, str]] = frozenset({
    (5, "min"), (5, "min7"),  # iv
    (8, "maj"), (8, "maj7"),  # bVI
    (10, "maj"), (10, "dom7"),  # bVII
    (3, "maj"), (3, "maj7"),  # bIII
    (2, "dim"), (2, "hdim7"),  # ii°, iiø
    (7, "min"), (7, "min7"),  # v
})
"""Chords of the parallel minor, as (semitones above the tonic, quality), that count as borrowed in a
major-family key."""


def harmony_measures(score: Score, chords: Sequence[Chord | None] | None = None) -> dict[str, float]:
    """Chord vocabulary, harmonic rhythm and chromaticism from the per-beat chords.

    * ``distinct_chords_per_16_bars``: distinct (root, quality) chords in each full 16-bar window
      (bars 0–15, 16–31 …), averaged; a piece under 16 bars counts its distinct chords × 16 / bars.
    * ``chord_changes_per_bar``: beats whose chord differs from the previous beat's, per bar.
    * ``chromatic_beats``: share of beats with a chord whose template has a tone outside the key
      sounding at that beat.
    * ``notes_outside_key``: share of pitched notes whose pitch class is outside the key at their onset.
    * ``secondary_dominants_per_100_changes``: chords X (major triad or dom7, chromatic in the key at
      X) followed by a different chord Y whose root is a fifth below X's root, where X is not the
      key's own V; per 100 chord changes.
    * ``borrowed_chords``: of the chord changes that land in a major-family key, the share landing on
      a chromatic chord of the parallel minor (:data:`BORROWED`: iv, bVI, bVII, bIII, ii°/iiø, v).
    * ``has_secondary_or_borrowed``: 1.0 when the piece has at least one of either, else 0.0.
    """
    chords = beat_chords(score) if chords is None else list(chords)
    bars = score.n_bars
    bpb, bt = score.beats_per_bar, score.beat_ticks
    out: dict[str, float] = {}
    if bars >= 16:
        windows = [{c for c in chords[w * 16 * bpb:(w + 1) * 16 * bpb] if c is not None} for w in range(bars // 16)]
        out["distinct_chords_per_16_bars"] = float(np.mean([len(w) for w in windows]))
    else:
        out["distinct_chords_per_16_bars"] = len({c for c in chords if c is not None}) * 16 / bars if bars else math.nan
    runs = [(b, c) for b, c in enumerate(chords) if c is not None and (b == 0 or c != chords[b - 1])]
    changes = max(len(runs) - 1, 0)
    out["chord_changes_per_bar"] = changes / bars if bars else math.nan
    with_chord = [(b, c) for b, c in enumerate(chords) if c is not None]
    chromatic = sum(_chromatic(c, score.key_at(b * bt)) for b, c in with_chord)
    out["chromatic_beats"] = _nan_share(chromatic, len(with_chord))
    pitched = [n for t in score.pitched() for n in t.notes]
    outside = 0
    for p, s, _ in pitched:
        k = score.key_at(s)
        outside += k is not None and p % 12 not in k.pitch_classes
    out["notes_outside_key"] = _nan_share(outside, len(pitched))
    secondary = borrowed = landings_major = 0
    for (b, x), (b2, y) in pairwise(runs):
        key = score.key_at(b * bt)
        if (key is not None and x.quality in ("maj", "dom7") and _chromatic(x, key)
                and x.root == (y.root + 7) % 12 and x.root != (key.tonic + 7) % 12):
            secondary += 1
        landing = score.key_at(b2 * bt)
        if landing is not None and landing.family == "major":
            landings_major += 1
            borrowed += ((y.root - landing.tonic) % 12, y.quality) in BORROWED and _chromatic(y, landing)
    out["secondary_dominants_per_100_changes"] = 100 * secondary / changes if changes else 0.0
    out["borrowed_chords"] = _nan_share(borrowed, landings_major)
    out["has_secondary_or_borrowed"] = float(secondary + borrowed > 0)
    if not score.keys:
        for name in ("chromatic_beats", "secondary_dominants_per_100_changes", "has_secondary_or_borrowed"):
            out[name] = math.nan
    return out


# --- repetition -------------------------------------------------------------------------------------


def bar_contents(score: Score) -> list[tuple | None]:
    """Per bar, the sorted (track, pitch, onset within the bar, duration) of every note starting in it
    (all tracks, drums included); None for a bar where no note starts (it equals nothing)."""
    bt = score.bar_ticks
    bars: list[list[tuple[int, int, int, int]]] = [[] for _ in range(score.n_bars)]
    for i, track in enumerate(score.tracks):
        for p, s, d in track.notes:
            bars[s // bt].append((i, p, s % bt, d))
    return [tuple(sorted(b)) if b else None for b in bars]


def repetition_measures(score: Score) -> dict[str, float]:
    """Literal repetition of bars and phrases (pitch and rhythm of all tracks, relative to the bar).

    * ``bars_repeating``: share of non-empty bars identical to some earlier bar.
    * ``phrases_returning``: of the aligned 4-bar spans (bars 0–3, 4–7, … ; full spans with a note),
      the share whose four bars equal, bar for bar, those of an earlier aligned span.
    * ``longest_repeat_bars``: the longest run of consecutive bars equal to an earlier run of
      consecutive bars (runs start anywhere and may overlap); 0 when no bar repeats.
    """
    bars = bar_contents(score)
    n = len(bars)
    seen: set = set()
    repeats = filled = 0
    for b in bars:
        if b is not None:
            filled += 1
            repeats += b in seen
            seen.add(b)
    spans = [tuple(bars[i:i + 4]) for i in range(0, n - 3, 4)]
    spans = [s if any(b is not None for b in s) else None for s in spans]
    returning = 0
    for i, s in enumerate(spans):
        returning += s is not None and None not in s and s in spans[:i]
    longest = 0
    run = [0] * n  # run[j] for the previous i: length of equal runs ending at bars i-1 and j-1
    for i in range(n):
        new = [0] * n
        for j in range(i + 1, n):
            if bars[i] is not None and bars[i] == bars[j]:
                new[j] = (run[j - 1] if j > 0 else 0) + 1
                longest = max(longest, new[j])
        run = new
    return {
        "bars_repeating": _nan_share(repeats, filled),
        "phrases_returning": _nan_share(returning, sum(s is not None for s in spans)),
        "longest_repeat_bars": float(longest),
    }


# --- melody, voicing and texture --------------------------------------------------------------------


def melody_measures(score: Score, chords: Sequence[Chord | None] | None = None) -> dict[str, float]:
    """The melody against the beat, the chords and the other voices.

    * ``melody_syncopation``: share of melody notes with an off-beat onset and no melody onset on
      the next beat (notes whose next beat is at or past the end are not counted).
    * ``strong_beat_outside_chord``: share of melody notes starting on a strong beat whose pitch
      class is not in that beat's fitted chord; ``resolved_by_step``: the share of those whose next
      melody note (the highest at the next later onset) is 1–2 semitones away.
    * ``parallels_per_100_moves``: sampled at every pitched onset where the melody (its highest
      sounding note) and a lower voice of another track (the lowest sounding note) both sound; a
      move is a change of that (melody, bass) pair between consecutive samples; a parallel is a
      move where both voices move in the same direction and the interval is a fifth or an octave
      (mod 12) before and after. Per 100 moves.
    * ``melody_below_top``: share of melody notes lower than the highest note another pitched track
      sounds at that note's onset.
    """
    nan = math.nan
    out = {"melody_syncopation": nan, "strong_beat_outside_chord": nan, "resolved_by_step": nan,
           "parallels_per_100_moves": nan, "melody_below_top": nan}
    mel = score.melody()
    if mel is None or not mel.notes:
        return out
    chords = beat_chords(score) if chords is None else list(chords)
    bt, end = score.beat_ticks, score.end_tick
    notes = sorted(mel.notes, key=lambda n: (n[1], -n[0]))
    onsets = {s for _, s, _ in notes}
    counted = synco = 0
    for _, s, _ in notes:
        nxt = (s // bt + 1) * bt
        if nxt >= end:
            continue
        counted += 1
        synco += s % bt != 0 and nxt not in onsets
    out["melody_syncopation"] = _nan_share(synco, counted)
    strong = {b * bt for b in score.strong_beats}
    top_at = {}
    for p, s, _ in notes:
        top_at.setdefault(s, p)
    later = sorted(top_at)
    position = {s: i for i, s in enumerate(later)}
    outside = resolved = on_strong = 0
    for p, s, _ in notes:
        if s % score.bar_ticks not in strong or s // bt >= len(chords) or chords[s // bt] is None:
            continue
        on_strong += 1
        if p % 12 not in chords[s // bt].pcs:
            outside += 1
            i = position[s] + 1
            resolved += i < len(later) and 1 <= abs(top_at[later[i]] - p) <= 2
    out["strong_beat_outside_chord"] = _nan_share(outside, on_strong)
    out["resolved_by_step"] = _nan_share(resolved, outside)
    others = [n for t in score.pitched() if t is not mel for n in t.notes]
    if not others:
        return out
    oth, mine = _Notes(others), _Notes(mel.notes)
    mel_starts = np.array([s for _, s, _ in mel.notes])
    above = np.where(oth.sounding(mel_starts), oth.pitch[None, :], -1).max(axis=1)
    out["melody_below_top"] = float(np.mean(np.array([p for p, _, _ in mel.notes]) < above))
    ticks = np.unique(np.concatenate([oth.start, mine.start]))
    mel_top = np.where(mine.sounding(ticks), mine.pitch[None, :], -1).max(axis=1)
    bass = np.where(oth.sounding(ticks), oth.pitch[None, :], 999).min(axis=1)
    pairs = [(int(m), int(b)) for m, b in zip(mel_top, bass) if m >= 0 and b < m]
    moves = parallels = 0
    for (m1, b1), (m2, b2) in pairwise(pairs):
        if (m1, b1) == (m2, b2):
            continue
        moves += 1
        same_way = m1 != m2 and b1 != b2 and (m2 > m1) == (b2 > b1)
        parallels += same_way and (m1 - b1) % 12 in (0, 7) and (m2 - b2) % 12 == (m1 - b1) % 12
    out["parallels_per_100_moves"] = 100 * parallels / moves if moves else nan
    return out


LOW_NOTE = 52
"""A bar "has a bass" when some pitched note at or below E3 sounds in it."""


def texture_measures(score: Score) -> dict[str, float]:
    """How the texture moves, whether it stands on a bass, and whether a section builds.

    * ``onsets_cv``: coefficient of variation (population std / mean) of note onsets per bar, all
      tracks (drums included), over every bar of the piece.
    * ``bass_bars``: of the bars where at least 3 pitched tracks sound, the share with a pitched note
      ≤ MIDI 52 sounding; ``has_bass``: 1.0 when that share is ≥ 0.9 or there are no such bars.
    * ``section_arc``: Spearman ρ between bar index and onsets per bar over the first 8 bars of each
      full 16-bar window, averaged (NaN under 16 bars).
    """
    bars, bt = score.n_bars, score.bar_ticks
    counts = np.zeros(bars)
    for t in score.tracks:
        for _, s, _ in t.notes:
            counts[s // bt] += 1
    mean = counts.mean() if bars else 0.0
    out = {"onsets_cv": float(counts.std() / mean) if mean > 0 else math.nan}
    layers = np.zeros(bars, dtype=int)
    low = np.zeros(bars, dtype=bool)
    for t in score.pitched():
        playing = np.zeros(bars, dtype=bool)
        for p, s, d in t.notes:
            span = slice(s // bt, (s + d - 1) // bt + 1)
            playing[span] = True
            if p <= LOW_NOTE:
                low[span] = True
        layers += playing
    full = layers >= 3
    out["bass_bars"] = _nan_share(int((low & full).sum()), int(full.sum()))
    out["has_bass"] = float(not full.any() or out["bass_bars"] >= 0.9)
    arcs = [spearman(range(8), counts[w * 16:w * 16 + 8]) for w in range(bars // 16)]
    out["section_arc"] = float(np.mean(arcs)) if arcs else math.nan
    return out


# --- key, dissonance and the rest -------------------------------------------------------------------


def key_measures(score: Score) -> dict[str, float]:
    """Is the home key heard?

    * ``home_key_held``: share of bars whose key (at the bar's first tick) is the home key, same
      tonic and mode.
    * ``characteristic_degree_heard``: 1.0 when some pitched note has the home mode's
      characteristic pitch class (:data:`CHARACTERISTIC_DEGREE`), else 0.0.
    """
    home = score.home_key
    if home is None or not score.n_bars:
        return {"home_key_held": math.nan, "characteristic_degree_heard": math.nan}
    held = sum(score.key_at(b * score.bar_ticks) == home for b in range(score.n_bars))
    char = (home.tonic + CHARACTERISTIC_DEGREE[home.mode]) % 12
    heard = any(p % 12 == char for t in score.pitched() for p, _, _ in t.notes)
    return {"home_key_held": held / score.n_bars, "characteristic_degree_heard": float(heard)}


def dissonance(score: Score) -> float:
    """Mean over beats of the share of sharply dissonant pitch-class pairs.

    At every beat start and every pitched onset, take the distinct pitch classes sounding (pitched
    tracks); with k ≥ 2 of them, the share of the k(k−1)/2 pairs that are interval class 1 (minor
    second / major seventh) or 6 (tritone). A beat's value is the mean of its instants; beats
    without two sounding pitch classes are skipped (NaN if all are).
    """
    notes = [n for t in score.pitched() for n in t.notes]
    if not notes:
        return math.nan
    arr, bt = _Notes(notes), score.beat_ticks
    ticks = np.unique(np.concatenate([arr.start, np.arange(0, score.end_tick, bt)]))
    onehot = np.eye(12)[arr.pitch % 12]
    present = (arr.sounding(ticks).astype(float) @ onehot) > 0
    k = present.sum(axis=1)
    semitone = present & np.roll(present, -1, axis=1)
    tritone = present & np.roll(present, -6, axis=1)  # each tritone pair is found from both ends
    harsh = semitone.sum(axis=1) + tritone.sum(axis=1) / 2
    ok = k >= 2
    per_beat: dict[int, list[float]] = defaultdict(list)
    for t, h, kk in zip(ticks[ok], harsh[ok], k[ok]):
        per_beat[int(t) // bt].append(h / (kk * (kk - 1) / 2))
    return float(np.mean([np.mean(v) for v in per_beat.values()])) if per_beat else math.nan


def mean_tempo(score: Score) -> float:
    """Tempo in BPM averaged over the piece's ticks (NaN without tempo events)."""
    if not score.tempos:
        return math.nan
    ordered = sorted(score.tempos)
    end = max(score.end_tick, ordered[-1][0] + 1)
    spans = [(max(t, 0), nxt, bpm) for (t, bpm), (nxt, _) in zip(ordered, ordered[1:] + [(end, 0.0)])]
    total = sum(n - t for t, n, _ in spans if n > t)
    return sum((n - t) * bpm for t, n, bpm in spans if n > t) / total if total else ordered[0][1]


MEASURES = (
    "distinct_chords_per_16_bars", "chord_changes_per_bar", "chromatic_beats", "notes_outside_key",
    "borrowed_chords", "secondary_dominants_per_100_changes", "has_secondary_or_borrowed",
    "bars_repeating", "phrases_returning", "longest_repeat_bars",
    "melody_syncopation", "onsets_cv", "strong_beat_outside_chord", "resolved_by_step",
    "parallels_per_100_moves", "melody_below_top", "bass_bars", "has_bass",
    "home_key_held", "characteristic_degree_heard", "dissonance", "section_arc", "mean_pitch", "tempo",
)
"""Every key :func:`measure_score` returns, in report order."""


def measure_score(score: Score) -> dict[str, float]:
    """All musicianship measures of one piece (keys: :data:`MEASURES`; NaN where undefined)."""
    chords = beat_chords(score)
    pitched = [p for t in score.pitched() for p, _, _ in t.notes]
    out: dict[str, float] = {}
    out.update(harmony_measures(score, chords))
    out.update(repetition_measures(score))
    out.update(melody_measures(score, chords))
    out.update(texture_measures(score))
    out.update(key_measures(score))
    out["dissonance"] = dissonance(score)
    out["mean_pitch"] = float(np.mean(pitched)) if pitched else math.nan
    out["tempo"] = mean_tempo(score)
    return {k: float(out[k]) for k in MEASURES}


PIECE_SHARES = {
    "pieces_with_secondary_or_borrowed": "has_secondary_or_borrowed",
    "pieces_with_bass": "has_bass",
    "pieces_hearing_characteristic_degree": "characteristic_degree_heard",
}
"""Shares of pieces computed by :func:`summarise`, from per-piece flags."""


def summarise(measures: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """Mean per piece of every measure (NaN pieces left out), plus :data:`PIECE_SHARES`.

    ``pieces_with_secondary_or_borrowed`` counts pieces with a key; ``pieces_with_bass`` pieces
    with a bar where ≥ 3 pitched tracks sound; ``pieces_hearing_characteristic_degree`` pieces with
    a home key. ``pieces`` is how many were summarised.
    """
    out: dict[str, float] = {"pieces": float(len(measures))}
    for name in MEASURES:
        vals = [m[name] for m in measures if m.get(name) is not None and not math.isnan(m[name])]
        out[name] = float(np.mean(vals)) if vals else math.nan
    with_key = [m for m in measures if not math.isnan(m["chromatic_beats"])]
    out["pieces_with_secondary_or_borrowed"] = _nan_share(sum(m["has_secondary_or_borrowed"] for m in with_key),
                                                          len(with_key))
    with_layers = [m for m in measures if not math.isnan(m["bass_bars"])]
    out["pieces_with_bass"] = _nan_share(sum(m["has_bass"] for m in with_layers), len(with_layers))
    heard = [m["characteristic_degree_heard"] for m in measures if not math.isnan(m["characteristic_degree_heard"])]
    out["pieces_hearing_characteristic_degree"] = _nan_share(sum(heard), len(heard))
    return out


# --- reading a MIDI file ----------------------------------------------------------------------------


def _midi_key(name: str) -> KeySig:
    """A MIDI key-signature name (``"C"``, ``"F#m"``, ``"Bbm"``) as a major or minor key."""
    return KeySig(_tonic(name[:-1]), "minor") if name.endswith("m") else KeySig(_tonic(name), "major")


def read_midi_score(path: str | Path, roles: Mapping[str, str] | None = None,
                    home: KeySig | str | None = None) -> Score:
    """A MIDI file (type 0 or 1) as a :class:`Score`.

    Each track's notes on each channel become one :class:`Track` named by the track's name
    (suffixed ``" (ch N)"`` when a track uses several channels); channel 10 is drums; ``roles`` maps
    track names to roles. Keys come from ``marker`` events ``"key: D dorian"`` (as Segue writes
    them), else from key signatures (major/minor only). The meter is the first time signature; the
    length is the last track's end. Note-on with velocity 0 ends a note; overlapping notes of one
    pitch end first-in, first-out. Raises :class:`~segue.evaluate.errors.MidiReadError`.
    """
    midi = _open(path)
    roles = roles or {}
    tracks: list[Track] = []
    markers: list[tuple[int, KeySig]] = []
    signatures: list[tuple[int, KeySig]] = []
    tempos: list[tuple[int, float]] = []
    meter: tuple[int, int, int] | None = None
    length = 0
    for i, track in enumerate(midi.tracks):
        now = 0
        name = f"track {i}"
        held: dict[tuple[int, int], deque[int]] = defaultdict(deque)
        by_channel: dict[int, list[Note]] = defaultdict(list)
        for msg in track:
            now += msg.time
            if msg.type == "track_name" and name == f"track {i}":
                name = msg.name
            elif msg.type == "marker" and msg.text.startswith("key: "):
                markers.append((now, KeySig.parse(msg.text[5:])))
            elif msg.type == "key_signature":
                signatures.append((now, _midi_key(msg.key)))
            elif msg.type == "set_tempo":
                tempos.append((now, mido.tempo2bpm(msg.tempo)))
            elif msg.type == "time_signature" and (meter is None or now < meter[0]):
                meter = (now, msg.numerator, msg.denominator)
            elif msg.type == "note_on" and msg.velocity > 0:
                held[(msg.channel, msg.note)].append(now)
            elif msg.type in ("note_on", "note_off") and held[(msg.channel, msg.note)]:
                start = held[(msg.channel, msg.note)].popleft()
                if now > start:
                    by_channel[msg.channel].append((msg.note, start, now - start))
        for (ch, pitch), starts in held.items():
            by_channel[ch].extend((pitch, s, now - s) for s in starts if now > s)
        length = max(length, now)
        for ch, notes in sorted(by_channel.items()):
            label = name if len(by_channel) == 1 else f"{name} (ch {ch + 1})"
            tracks.append(Track(label, sorted(notes, key=lambda n: (n[1], n[0])), roles.get(name),
                                ch == DRUM_CHANNEL))
    home_key = KeySig.parse(home) if isinstance(home, str) else home
    num, den = (meter[1], meter[2]) if meter else (4, 4)
    return Score(tracks, midi.ticks_per_beat, num, den, sorted(markers or signatures, key=lambda k: k[0]),
                 home_key, length, sorted(tempos))
