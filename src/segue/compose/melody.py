"""Melody: learned rhythm and interval models, shaped into motifs that develop.

A melody here is built from *motif bars*: a bar of (onset, duration, scale-degree) notes.
Fresh material comes from the learned style model (rhythm cells per beat, diatonic steps
with order-2 context), sampled under hard constraints (the layer's range and the key: every
candidate is a scale degree, and degrees outside the range get zero weight). Development
comes from classical operations on motifs — sequence, inversion, rhythmic variation,
fragmentation, ornament — so phrases repeat and vary at the 2/4/8-bar level instead of
wandering like a random walk.

Degrees are *absolute diatonic indices* of a key (see :meth:`segue.music.Key.degree_of`), so
moving a motif to another key or mode keeps its shape and stays in that key by construction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from segue.compose.random import pick
from segue.music import PPQ, Chord, Key, Meter

STEPS = np.arange(-7, 8)


@dataclass(frozen=True, slots=True)
class MotifNote:
    """A note of a motif bar: onset and duration in ticks from the bar start, absolute diatonic degree."""

    onset: int
    duration: int
    degree: int


Motif = list[MotifNote]


def degree_bounds(key: Key, low: int, high: int) -> tuple[int, int]:
    """Lowest and highest diatonic index of ``key`` whose pitch lies in [low, high]."""
    lo = next(key.degree_of(p) for p in range(low, high + 1) if key.contains(p))
    hi = next(key.degree_of(p) for p in range(high, low - 1, -1) if key.contains(p))
    return lo, hi


def chord_degrees(chord: Chord) -> frozenset[int]:
    """Scale degrees (0..6) of a diatonic chord's tones."""
    return frozenset((chord.degree + k) % 7 for k in range(0, 2 * len(chord.tones), 2))


def target_onsets_per_beat(density: float) -> float:
    return 0.45 + 2.4 * density


def rhythm_bar(
    rng: np.random.Generator,
    rhythm: object,
    meter: Meter,
    density: float,
    *,
    articulation: float = 0.92,
    end_long: bool = False,
) -> list[tuple[int, int]]:
    """Onsets and durations for one bar, drawn from the learned beat-cell model.

    The learned cell probabilities are tilted towards cells with more or fewer onsets by
    ``density``: the model keeps its idiom (which rhythms are natural), the control sets how
    busy it is. ``end_long`` asks for a held note at the end of the bar (a cadence).
    """
    compound = meter.compound
    cells = rhythm.cells(compound)
    counts = np.array([len(c) for c in cells], dtype=float)
    target = target_onsets_per_beat(density)
    tilt = np.exp(-1.1 * np.abs(counts - target)) * np.exp(0.9 * (density - 0.5) * counts)
    tpb = meter.ticks_per_beat
    onsets: list[int] = []
    prev: tuple[int, ...] | None = None
    beats = meter.beats_per_bar
    # a cadence arrives on a strong beat (beat 3 in 4/4, the downbeat in 3/4, beat 2 in 6/8) and holds
    arrival = (beats - 2 if beats >= 4 else 0 if beats == 3 else beats - 1) if end_long else beats
    for beat in range(arrival):
        p = np.asarray(rhythm.cell_probs(compound, prev, beat), dtype=float) * tilt
        if beat == 0:
            # a bar of melody starts with a note on the downbeat more often than not
            p = p * np.array([3.0 if (c and c[0] == 0) else 0.4 for c in cells])
        cell = cells[pick(rng, p)]
        onsets.extend(beat * tpb + slot * tpb // 12 for slot in cell)
        prev = cell
    if end_long:
        onsets.append(arrival * tpb)
    if not onsets:
        onsets = [0]
    bar = meter.ticks_per_bar
    out: list[tuple[int, int]] = []
    for i, on in enumerate(onsets):
        nxt = onsets[i + 1] if i + 1 < len(onsets) else bar
        gap = nxt - on
        dur = gap if (end_long and i + 1 == len(onsets)) else max(int(gap * articulation), 30)
        out.append((on, dur))
    return out


def syncopate(rng: np.random.Generator, rhythm: list[tuple[int, int]], meter: Meter, amount: float) -> list[tuple[int, int]]:
    """Anticipations: a note due on a beat arrives half a beat early and is held through the beat.

    Why: syncopation is what makes a line groove rather than march (real game melodies syncopate
    about one note in ten, chorales almost never); ``amount`` is the chance per eligible note, so
    style and arousal decide how much. The bar's downbeat is never moved (the metre must stay clear).
    """
    tpb = meter.ticks_per_beat
    early = tpb // 3 if meter.compound else tpb // 2
    out = list(rhythm)
    for i in range(1, len(out)):
        on, dur = out[i]
        prev_on, prev_dur = out[i - 1]
        new_on = on - early
        if on % tpb or new_on <= prev_on or rng.random() >= amount:
            continue
        out[i - 1] = (prev_on, max(min(prev_dur, new_on - prev_on), 30))
        out[i] = (new_on, dur + early)
    return out


def syncopate_motif(rng: np.random.Generator, motif: Motif, meter: Meter, amount: float) -> Motif:
    """:func:`syncopate` for a motif bar (developed material anticipates its beats as fresh material does)."""
    ordered = sorted(motif, key=lambda n: n.onset)
    rhythm = syncopate(rng, [(n.onset, n.duration) for n in ordered], meter, amount)
    return [replace(n, onset=on, duration=dur) for n, (on, dur) in zip(ordered, rhythm)]


def pitch_line(
    rng: np.random.Generator,
    melody: object,
    key: Key,
    meter: Meter,
    rhythm: list[tuple[int, int]],
    chord_at: "ChordLookup",
    *,
    start: int,
    prev_steps: list[int],
    bounds: tuple[int, int],
    center: int,
    tension: float,
    final_degrees: frozenset[int] | None = None,
    spread: int = 3,
    history: list[tuple[int, float, float]] | None = None,
    density: float = 0.5,
) -> Motif:
    """Scale degrees for a rhythm, sampled from the learned step model under hard constraints.

    Weights: learned P(step | two previous steps) × zero outside the range × a gentle pull
    towards the register centre × chord-tone preference on strong beats (strength learned) ×
    a tension-dependent appetite for leaps. ``spread`` (scale steps) is how far the line may roam
    from the centre before the pull starts: the piece's ambitus. ``final_degrees`` forces the
    last note onto one of those scale degrees (a cadence).

    ``history`` (the line's earlier notes as (degree, onset in quarters from its bar start,
    duration in quarters)) is for a style whose melody model has ``note_probs`` (the neural
    style): it then sees the earlier notes, this note's place in the bar and its length, the
    bar's density, the chord and the key family. Without it (or for the Markov model) the
    learned step model gets the previous two steps, as always. The neural model is drawn under
    masks, with temperature and top-p set by ``tension`` and ``density`` (:func:`_neural_weights`).
    """
    rich = history is not None and hasattr(melody, "note_probs")
    if rich:
        hist = list(history) if history else [(start, 0.0, float(meter.ticks_per_beat) / PPQ)]
        hist = hist[-16:]
        if hist[-1][0] != start:
            hist.append((start, 0.0, float(meter.ticks_per_beat) / PPQ))
    lo, hi = bounds
    ct_pref = float(getattr(melody, "chord_tone_on_strong_beat", 0.7))
    ct_boost = 1.0 + 8.0 * ct_pref
    leap = np.exp(0.12 * (tension - 0.35) * np.abs(STEPS))
    tpb = meter.ticks_per_beat
    strong = {b * tpb for b in meter.strong_beats}
    cur = start
    steps = list(prev_steps[-2:])
    out: Motif = []
    spans = written_lengths([on for on, _ in rhythm], meter.ticks_per_bar)
    for i, (on, dur) in enumerate(rhythm):
        cand = cur + STEPS
        chord = chord_at(on)
        cds = chord_degrees(chord)
        is_ct = np.array([(c % 7) in cds for c in cand])
        altered = chord.alterations(key)
        is_altered = np.array([(c % 7) in altered for c in cand], dtype=bool)
        in_range = (cand >= lo) & (cand <= hi)
        dist = np.abs(cand - center)
        accented = on in strong or on % tpb == 0 and dur >= tpb
        is_final = final_degrees is not None and i == len(rhythm) - 1
        if rich:
            p = _neural_weights(melody, hist, key, meter, chord, on, spans[i], len(rhythm), tension, density, cand,
                                in_range & ~is_altered, dist, spread, is_ct, accented, ct_boost,
                                final_degrees if is_final else None)
        else:
            p = np.asarray(melody.step_probs(steps), dtype=float) * leap
            p = p * in_range
            p = p * np.exp(-0.35 * np.maximum(dist - spread, 0))
            if altered:
                # over an applied or borrowed chord the tune leans on the tones it shares with the key and
                # leaves the chromatic colour to the harmony (a tune stays singable, and stays in its key)
                p = p * np.where(is_altered, 0.05, 1.0)
            if accented:
                p = p * np.where(is_ct & ~is_altered, ct_boost, 1.0)
            if is_final:
                p = p * np.array([(c % 7) in final_degrees for c in cand])
                p = p * np.exp(-0.5 * np.abs(STEPS))  # approach the goal by step
        if not p.sum() > 0:
            # constraint rescue: nearest in-range chord tone (always exists: bounds hold ≥ 5 degrees)
            options = [d for d in range(lo, hi + 1) if final_degrees is None or d % 7 in final_degrees] or list(range(lo, hi + 1))
            nxt = min(options, key=lambda d: (abs(d - cur), d))
        else:
            nxt = int(cand[pick(rng, p)])
        steps = (steps + [nxt - cur])[-2:]
        if rich:
            hist = (hist + [(nxt, on / PPQ, spans[i] / PPQ)])[-16:]
        cur = nxt
        out.append(MotifNote(on, dur, nxt))
    return out


def written_lengths(onsets: list[int], bar_ticks: int) -> list[int]:
    """Each note's written length: the time to the next onset (the last note: to the bar line).

    Why: the neural model learned from scores, where an eighth note is an eighth long; the composer's
    sounding durations are shortened by articulation, and feeding those would make every note look
    shorter (and so more stepwise) than it is written.
    """
    nxt = list(onsets[1:]) + [bar_ticks]
    return [max(b - a, 1) for a, b in zip(onsets, nxt)]


def _neural_weights(melody: object, hist: list, key: Key, meter: Meter, chord: Chord, on: int, dur: int,
                    onsets_in_bar: int, tension: float, density: float, cand: np.ndarray, allowed: np.ndarray,
                    dist: np.ndarray, spread: int, is_ct: np.ndarray, accented: bool, ct_boost: float,
                    final_degrees: frozenset[int] | None) -> np.ndarray:
    """The neural model's next-step distribution under the composer's hard rules (see :mod:`segue.style.sampling`).

    Hard masks, applied to the logits before the draw: the range, the key (no tone the sounding chord
    alters: the harmony carries the colour, the tune stays in its key) and a cadence's goal degrees.
    Soft biases the model cannot know: the pull towards the register centre, and — only when the
    model is not given the chord — the learned chord-tone preference on accented notes. Temperature
    and top-p follow tension and density (``melody.heat``); no other hand weights (the Markov path's
    leap appetite is the temperature's job here).
    """
    from segue.style.neural import NoteContext
    from segue.style.sampling import masked_distribution

    given = bool(getattr(melody, "conditions_on_chords", False))
    note_ctx = NoteContext(hist, on / PPQ, dur / PPQ, onsets_in_bar, chord.degree if given else None, key.family,
                           meter.numerator, meter.denominator)
    logp = np.log(np.maximum(np.asarray(melody.note_probs(note_ctx), dtype=float), 1e-300))
    bias = -0.35 * np.maximum(dist - spread, 0)
    if accented and not given:
        bias = bias + np.where(is_ct, math.log(ct_boost), 0.0)
    if final_degrees is not None:
        allowed = allowed & np.array([(c % 7) in final_degrees for c in cand])
        bias = bias - 0.5 * np.abs(STEPS)  # approach the goal by step
    heat = melody.heat
    return masked_distribution(logp, allowed, heat.temperature(tension, density), heat.nucleus(tension), bias)


class ChordLookup:
    """Which chord sounds at a tick offset within the current bar."""

    def __init__(self, slots: list[tuple[int, Chord]]) -> None:
        self._slots = sorted(slots, key=lambda s: s[0])

    def __call__(self, offset: int) -> Chord:
        current = self._slots[0][1]
        for off, ch in self._slots:
            if off <= offset:
                current = ch
        return current


# ---------------------------------------------------------------- development of motifs

def clamp_to_bounds(motif: Motif, bounds: tuple[int, int]) -> Motif:
    """Move a motif by octaves (7 degrees) until it fits the range, keeping its shape; fold stragglers."""
    lo, hi = bounds
    if not motif:
        return motif
    mn = min(n.degree for n in motif)
    mx = max(n.degree for n in motif)
    shift = 0
    while mn + shift < lo and mx + shift + 7 <= hi + 3:
        shift += 7
    while mx + shift > hi and mn + shift - 7 >= lo - 3:
        shift -= 7
    out = []
    for n in motif:
        d = n.degree + shift
        while d < lo:
            d += 7
        while d > hi:
            d -= 7
        d = min(max(d, lo), hi)
        out.append(replace(n, degree=d))
    return out


def sequence(motif: Motif, steps: int) -> Motif:
    """Transpose a motif diatonically (a melodic sequence)."""
    return [replace(n, degree=n.degree + steps) for n in motif]


def invert(motif: Motif) -> Motif:
    """Mirror the contour around the first note (melodic inversion)."""
    if not motif:
        return motif
    axis = motif[0].degree
    return [replace(n, degree=2 * axis - n.degree) for n in motif]


def fragment(motif: Motif, bar_ticks: int) -> Motif:
    """Repeat the first half of a motif twice (fragmentation)."""
    half = bar_ticks // 2
    first = [n for n in motif if n.onset < half]
    if not first:
        return motif
    out = [replace(n, duration=min(n.duration, half - n.onset)) for n in first]
    out += [replace(n, onset=n.onset + half, duration=min(n.duration, half - n.onset)) for n in first]
    return out


def ornament(rng: np.random.Generator, motif: Motif, meter: Meter) -> Motif:
    """Replace one weak-beat note by a neighbour tone (a small, recognisable variation)."""
    weak = [i for i, n in enumerate(motif) if n.onset % meter.ticks_per_beat != 0]
    if not weak:
        weak = [i for i in range(1, len(motif))]
    if not weak:
        return motif
    i = weak[int(rng.integers(len(weak)))]
    out = list(motif)
    out[i] = replace(out[i], degree=out[i].degree + (1 if rng.random() < 0.5 else -1))
    return out


def fit_density(rng: np.random.Generator, motif: Motif, meter: Meter, density: float,
                infill: "ModelInfill | None" = None) -> Motif:
    """Split or merge notes so a recalled motif matches the current density.

    Why: a theme remembered from a calm bar must get busier as intensity rises (diminution
    with passing tones) and calmer as it falls, or a slow ramp would not move the melody.
    With ``infill`` (a neural style) the learned model writes each added note between its
    neighbours (model elaboration); without it, a passing tone towards the next note.
    """
    target = target_onsets_per_beat(density) * meter.beats_per_bar
    out = sorted(motif, key=lambda n: n.onset)
    min_dur = meter.ticks_per_beat // 4 if not meter.compound else meter.ticks_per_beat // 3
    guard = 0
    while len(out) < target * 0.8 and guard < 16:
        guard += 1
        i = max(range(len(out)), key=lambda k: (out[k].duration, -k))
        n = out[i]
        if n.duration < 2 * min_dur:
            break
        half = (n.duration // 2) // min_dur * min_dur or n.duration // 2
        nxt = out[i + 1].degree if i + 1 < len(out) else n.degree
        # the coin is drawn whatever the pitches are, so the bar's later random choices (its rhythm: syncopation)
        # never depend on which pitches were drawn before (nor on the style that drew them)
        coin = rng.random() < 0.5
        up = nxt > n.degree if nxt != n.degree else coin
        passing = infill(out, i, half) if infill is not None else n.degree + (1 if up else -1)
        out[i : i + 1] = [replace(n, duration=half), MotifNote(n.onset + half, n.duration - half, passing)]
    while len(out) > max(target * 1.35, 1) and len(out) > 1:
        i = min(range(len(out) - 1), key=lambda k: (out[k].duration, k))
        a, b = out[i], out[i + 1]
        out[i : i + 2] = [replace(a, duration=b.onset + b.duration - a.onset)]
    return out



@dataclass
class ModelInfill:
    """Infilling with a left-to-right neural melody model: a note between two known notes.

    The added note x is drawn from P(x | the line before) × P(next note | the line before, x): the
    model's own continuation, weighed by how well it leads on to the note that must follow. Both
    factors come from one batched call (one context per candidate). The range is a hard mask and
    the state's temperature applies, as for fresh notes; so does the key policy (no tone the sounding
    chord alters, when ``chord_at`` is given). ``rng`` is the infill's own stream (its
    own purpose), so the bar's other random choices do not depend on how many notes were added.
    """

    rng: np.random.Generator
    melody: object
    key: Key
    meter: Meter
    history: list[tuple[int, float, float]]
    bounds: tuple[int, int]
    tension: float
    density: float
    chord_at: "ChordLookup | None" = None
    reach: int = 3

    def __call__(self, notes: Motif, i: int, half: int) -> int:
        from segue.style.neural import NoteContext
        from segue.style.sampling import masked_distribution

        bar = self.meter.ticks_per_bar
        n = notes[i]
        onsets = [m.onset for m in notes[:i]] + [n.onset, n.onset + half] + [m.onset for m in notes[i + 1:]]
        spans = written_lengths(onsets, bar)
        before = list(self.history) + [(m.degree, m.onset / PPQ, spans[k] / PPQ) for k, m in enumerate(notes[:i])]
        before.append((n.degree, n.onset / PPQ, spans[i] / PPQ))
        on_x, len_x = (n.onset + half) / PPQ, spans[i + 1] / PPQ
        count = len(onsets)
        family, num, den = self.key.family, self.meter.numerator, self.meter.denominator
        first = NoteContext(before[-16:], on_x, len_x, count, None, family, num, den)
        offsets = np.arange(-self.reach, self.reach + 1)
        cands = n.degree + offsets
        ctxs = [first]
        after = notes[i + 1] if i + 1 < len(notes) else None
        if after is not None:
            for x in cands:
                ctxs.append(NoteContext((before + [(int(x), on_x, len_x)])[-16:], after.onset / PPQ,
                                        spans[i + 2] / PPQ, count, None, family, num, den))
        probs = self.melody.note_probs_batch(ctxs)
        logp = np.log(np.maximum(probs[0][offsets + 7], 1e-300))
        if after is not None:
            lead_on = after.degree - cands
            ok = np.abs(lead_on) <= 7
            logp = logp + np.log(np.maximum(probs[1:][np.arange(len(cands)), np.clip(lead_on, -7, 7) + 7], 1e-300))
            logp = np.where(ok, logp, -1e9)
        lo, hi = self.bounds
        allowed = (cands >= lo) & (cands <= hi)
        if self.chord_at is not None:  # the key policy: no tone the sounding chord alters
            altered = self.chord_at(n.onset + half).alterations(self.key)
            allowed &= np.array([(int(c) % 7) not in altered for c in cands], dtype=bool)
        heat = self.melody.heat
        p = masked_distribution(logp, allowed, heat.temperature(self.tension, self.density), heat.nucleus(self.tension))
        if not p.sum() > 0:
            return int(min(max(n.degree, lo), hi))
        return int(cands[pick(self.rng, p)])


def snap_to_chords(motif: Motif, chord_at: ChordLookup, meter: Meter, bounds: tuple[int, int],
                   key: Key | None = None) -> Motif:
    """Move strong-beat notes to the nearest chord tone so recalled material fits new harmony."""
    tpb = meter.ticks_per_beat
    strong = {b * tpb for b in meter.strong_beats}
    lo, hi = bounds
    out = []
    for n in motif:
        if n.onset in strong:
            chord = chord_at(n.onset)
            cds = chord_degrees(chord)
            if n.degree % 7 not in cds:
                options = [d for d in range(n.degree - 3, n.degree + 4) if d % 7 in cds and lo <= d <= hi]
                if key is not None:
                    # prefer the chord tones the key shares (the chromatic one is the harmony's to sound)
                    altered = chord.alterations(key)
                    options = [d for d in options if d % 7 not in altered] or options
                if options:
                    n = replace(n, degree=min(options, key=lambda d: (abs(d - n.degree), d)))
        out.append(n)
    return out


def contour_of(motif: Motif) -> list[int]:
    return [int(math.copysign(1, b.degree - a.degree)) if b.degree != a.degree else 0 for a, b in zip(motif, motif[1:])]
