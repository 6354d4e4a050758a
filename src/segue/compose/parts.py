"""Accompaniment layers: bass, harmony (pad), counter-melody, ostinato, drone, percussion.

Each writer turns one bar's chords and the musical state into notes for one layer. They
share one idea for density: every *optional* note gets a fixed random priority for the bar
(seeded by seed/bar/layer/purpose) and sounds when the density exceeds it. For a given seed,
raising density therefore only ever *adds* notes — a slow intensity ramp grows the texture
bar by bar instead of jumping between unrelated patterns.
"""

from __future__ import annotations

from dataclasses import dataclass
import numpy as np

from segue.compose.melody import ChordLookup, MotifNote, chord_degrees
from segue.compose.random import rng_for
from segue.compose.state import MusicalState
from segue.music import Chord, Key, Meter, Note


@dataclass(frozen=True, slots=True)
class BarContext:
    """What every layer writer needs to know about the bar being written."""

    seed: int
    index: int  # bar index from the start of the piece
    bar_in_phrase: int
    phrase_bars: int
    start: int  # tick of the bar's downbeat
    meter: Meter
    key: Key
    chords: tuple[tuple[int, Chord], ...]  # (offset in bar, chord)
    state: MusicalState
    material: tuple[object, ...] | None = None
    """Seed of this bar's material (section, bar in it, variant): a recalled bar draws the same
    numbers as its first statement, so a return is note for note. None: seeded by bar index."""
    phrase_material: tuple[object, ...] | None = None
    """Seed shared by the whole phrase (a groove or figure holds for the phrase)."""
    variant: int = 0
    """Orchestration variant of the section (0 = as first composed)."""
    pedal: int | None = None
    """Pitch class the bass holds through this bar (a pedal point), or None."""

    @property
    def length(self) -> int:
        return self.meter.ticks_per_bar

    @property
    def last_in_phrase(self) -> bool:
        return self.bar_in_phrase == self.phrase_bars - 1

    def chord_at(self) -> ChordLookup:
        return ChordLookup(list(self.chords))

    def rng(self, layer: str, purpose: str) -> np.random.Generator:
        if self.material is not None:
            return rng_for(self.seed, "bar", *self.material, layer, purpose)
        return rng_for(self.seed, self.index, layer, purpose)

    def phrase_rng(self, layer: str, purpose: str) -> np.random.Generator:
        """Seeded by the phrase, not the bar: a layer's groove holds for the whole phrase."""
        if self.phrase_material is not None:
            return rng_for(self.seed, "phrase", *self.phrase_material, layer, purpose)
        return rng_for(self.seed, "phrase", self.index - self.bar_in_phrase, layer, purpose)

    def local_pcs(self, offset: int) -> frozenset[int]:
        """The scale as heard at ``offset``: the key with the sounding chord's alterations (F♯ under V/V)."""
        alt = self.chord_at()(offset).alterations(self.key)
        return frozenset(alt.get(d, self.key.scale_pc(d)) for d in range(7))

    def realise(self, degree: int, offset: int, low: int = 0, high: int = 127) -> int:
        """MIDI pitch of absolute scale degree ``degree`` at ``offset``, altered by the sounding chord.

        An alteration that would leave [low, high] (a layer's range) is not made: the diatonic pitch is
        in the key, so the tonal policy still holds, and a range is a harder rule than a colour.
        """
        base = self.key.pitch_of_degree(degree)
        alt = self.chord_at()(offset).alterations(self.key).get(degree % 7)
        if alt is None:
            return base
        altered = base + ((alt - base) % 12 + 6) % 12 - 6
        return altered if low <= altered <= high else base

    def local_pitches(self, low: int, high: int, offset: int) -> list[int]:
        pcs = self.local_pcs(offset)
        return [p for p in range(max(low, 0), min(high, 127) + 1) if p % 12 in pcs]


def velocity(state: MusicalState, accent: float = 0.0, base: float = 0.0) -> int:
    """MIDI velocity from dynamics (0..1) plus a metric accent; kept in 1..127.

    Dark, tense music accents harder (up to 1.6× the metric accent): harsher attacks carry anger and
    fear (Juslin & Laukka 2003), while the level itself stays the dynamics'.
    """
    harsh = 1.0 + 0.6 * max(0.0, -state.valence) * state.tension
    v = 34 + 82 * state.dynamics + base + accent * harsh
    return int(min(max(round(v), 1), 127))


def place_pc(pc: int, low: int, high: int, target: float) -> int:
    """The pitch with pitch class ``pc`` inside [low, high] nearest to ``target``."""
    options = [p for p in range(low, high + 1) if p % 12 == pc]
    if not options:
        raise ValueError(f"pitch class {pc} does not fit in range {low}..{high}")
    return min(options, key=lambda p: (abs(p - target), p))


def _grid(meter: Meter, per_beat: int) -> list[int]:
    tpb = meter.ticks_per_beat
    return [b * tpb + i * tpb // per_beat for b in range(meter.beats_per_bar) for i in range(per_beat)]


def _legato(onsets: list[int], end: int, articulation: float) -> list[tuple[int, int]]:
    out = []
    for i, on in enumerate(onsets):
        nxt = onsets[i + 1] if i + 1 < len(onsets) else end
        out.append((on, max(int((nxt - on) * articulation), 20)))
    return out


def _slot_starts(ctx: BarContext) -> set[int]:
    return {off for off, _ in ctx.chords}


def _priorities(rng: np.random.Generator, onsets: list[int], fixed: set[int], meter: Meter,
                beat_band: tuple[float, float], off_band: tuple[float, float]) -> dict[int, float]:
    """Priority per candidate onset: chord changes always play, beats before off-beats.

    Priorities inside a band are evenly spaced and shuffled (stratified), so *how many* onsets
    sound at a given density is fixed and only *which* ones is random: the texture's note count
    follows the density smoothly from bar to bar instead of jittering.
    """
    tpb = meter.ticks_per_beat
    pr: dict[int, float] = {on: -1.0 for on in onsets if on in fixed}
    for band, group in ((beat_band, [o for o in onsets if o not in fixed and o % tpb == 0]),
                        (off_band, [o for o in onsets if o not in fixed and o % tpb != 0])):
        n = len(group)
        if not n:
            continue
        lo, hi = band
        levels = lo + (hi - lo) * (np.arange(n) + rng.random()) / n
        for on, level in zip(group, rng.permutation(levels)):
            pr[on] = float(level)
    return pr


def write_bass(ctx: BarContext, layer: str, low: int, high: int, density: float) -> list[Note]:
    """Roots on chord changes; fifths, octaves and approach notes fill in as density rises."""
    rng = ctx.rng(layer, "bass")
    d = density
    meter = ctx.meter
    per_beat = 3 if meter.compound else 2
    grid = _grid(meter, per_beat)
    fixed = _slot_starts(ctx)
    pr = _priorities(ctx.phrase_rng(layer, "bass"), grid, fixed, meter, (0.25, 0.6), (0.6, 1.0))
    onsets = [on for on in grid if pr[on] < d]
    chord_at = ctx.chord_at()
    centre = low + (high - low) * (0.3 + 0.15 * ctx.state.register)
    notes = []
    choices = rng.random(len(onsets))
    timed = _legato(onsets, ctx.length, 0.92 if d < 0.6 else 0.8)
    next_root = None
    for i, (on, dur) in enumerate(timed):
        ch = chord_at(on)
        root = place_pc(ch.root, low, high, centre)
        if ctx.pedal is not None:
            # a pedal point: the bass holds one note (tonic or dominant) while the harmony moves above it
            pitch = place_pc(ctx.pedal, low, high, centre)
            if on not in fixed and choices[i] >= 0.7 and pitch - 12 >= low:
                pitch -= 12
        elif on in fixed:
            pitch = place_pc(ch.bass_pc, low, high, centre)  # an inverted chord puts its third in the bass
        else:
            c = choices[i]
            last_before_change = (i + 1 < len(onsets) and onsets[i + 1] in fixed) or i + 1 == len(onsets)
            if last_before_change and d > 0.5 and i + 1 < len(onsets):
                next_root = place_pc(chord_at(onsets[i + 1]).bass_pc, low, high, centre)
                step_pcs = sorted(ctx.local_pitches(next_root - 2, next_root + 2, on), key=lambda p: (abs(p - next_root), p))
                approach = [p for p in step_pcs if p != next_root and low <= p <= high]
                pitch = approach[0] if approach else root
            elif c < 0.45:
                pitch = root
            elif c < 0.8:
                pitch = place_pc(ch.tones[2], low, high, root + 5)
            else:
                pitch = root + 12 if root + 12 <= high else root
        accent = 8 if on == 0 else 3 if on in fixed else 0
        notes.append(Note(ctx.start + on, pitch, dur, velocity(ctx.state, accent, base=-4)))
    return notes


def _voicings(chord: Chord, low: int, high: int, voices: int) -> list[tuple[int, ...]]:
    tones = sorted({p for p in range(low, high + 1) if p % 12 in chord.pcs})
    out = []
    for start in range(len(tones)):
        v = tuple(tones[start : start + voices])
        if len(v) == voices and v[-1] - v[0] <= 19:
            out.append(v)
    return out or [tuple(tones[:voices])] if tones else []


def write_pad(ctx: BarContext, layer: str, low: int, high: int, density: float, memory: dict) -> list[Note]:
    """Voice-led chords: each voicing moves as little as possible from the last one."""
    rng = ctx.rng(layer, "pad")
    d = density
    wide = (high - low) >= 17
    grid = _grid(ctx.meter, 2 if not ctx.meter.compound else 3)
    fixed = _slot_starts(ctx)
    # pads mostly sustain: beats fill in with density, off-beat pulses only near the top
    pr = _priorities(ctx.phrase_rng(layer, "pad"), grid, fixed, ctx.meter, (0.3, 0.8), (0.85, 1.25))
    onsets = [on for on in grid if pr[on] < d]
    chord_at = ctx.chord_at()
    centre = low + (high - low) * (0.45 + 0.3 * ctx.state.register)
    prev: tuple[int, ...] | None = memory.get("voicing")
    notes: list[Note] = []
    for on, dur in _legato(onsets, ctx.length, 0.98 if d < 0.5 else 0.85):
        ch = chord_at(on)
        # a fourth voice joins onset by onset as density rises (not all at once)
        voices = 4 if wide and float(rng.random()) < (d - 0.45) * 2.5 else 3
        options = _voicings(ch, low, high, voices)
        if not options:
            continue

        def cost(v: tuple[int, ...]) -> float:
            c = abs(sum(v) / len(v) - centre) * 0.35
            if prev is not None and len(prev) == len(v):
                c += sum(abs(a - b) for a, b in zip(v, prev))
            return c

        v = min(options, key=lambda v: (cost(v), v))
        prev = v
        accent = 6 if on == 0 else 0
        for p in v:
            notes.append(Note(ctx.start + on, p, dur, velocity(ctx.state, accent, base=-14)))
    memory["voicing"] = prev
    if len(ctx.chords) > 1 and float(rng.random()) < 0.25 + 0.4 * ctx.state.tension:
        notes = _suspend(notes, ctx, ctx.chords[1])
    return notes


def _suspend(notes: list[Note], ctx: BarContext, change: tuple[int, Chord]) -> list[Note]:
    """A 4–3 (or 9–8, 7–6) suspension at a chord change: the voice that falls by step into the new chord
    holds its old note over the change and resolves half a beat to a beat later.

    The held note began under the old chord (so it obeys the tonal policy where it starts), and the
    resolution lands on a tone of the new one: the classic way harmony moves without a block change.
    """
    at = ctx.start + change[0]
    chord = change[1]
    before = [n for n in notes if n.start < at and at - ctx.meter.ticks_per_beat // 2 <= n.end <= at + 20]
    after = [n for n in notes if n.start == at]
    later = [n.start for n in notes if n.start > at]
    span = (min(later) if later else ctx.start + ctx.length) - at
    delay = max(ctx.meter.ticks_per_beat // 2, span // 2)
    for new in sorted(after, key=lambda n: -n.pitch):
        old = next((o for o in before if 1 <= o.pitch - new.pitch <= 2 and o.pitch % 12 not in chord.pcs), None)
        if old is None or new.duration <= delay:
            continue
        held = Note(old.start, old.pitch, at + delay - old.start, old.velocity)
        resolved = Note(at + delay, new.pitch, new.duration - delay, new.velocity)
        return [held if n is old else resolved if n is new else n for n in notes]
    return notes


def write_counter(ctx: BarContext, layer: str, low: int, high: int, density: float,
                  melody: list[Note], memory: dict) -> list[Note]:
    """A slower second line moving against the melody: chord tones on changes, steps between."""
    rng = ctx.rng(layer, "counter")
    d = density * 0.75
    grid = _grid(ctx.meter, 1) + ([] if d < 0.45 else [o for o in _grid(ctx.meter, 2) if o % ctx.meter.ticks_per_beat])
    grid = sorted(set(grid))
    fixed = _slot_starts(ctx)
    pr = _priorities(ctx.phrase_rng(layer, "counter"), grid, fixed, ctx.meter, (0.15, 0.55), (0.55, 1.0))
    onsets = [on for on in grid if pr[on] < d + 0.1]
    chord_at = ctx.chord_at()
    key = ctx.key
    prev = memory.get("pitch")
    centre = low + (high - low) * (0.5 + 0.25 * ctx.state.register)
    mel = sorted(melody)
    notes: list[Note] = []
    for on, dur in _legato(onsets, ctx.length, 0.95):
        ch = chord_at(on)
        cands = ctx.local_pitches(low, high, on)
        if on in fixed or on % ctx.meter.ticks_per_beat == 0:
            cts = [p for p in cands if p % 12 in ch.pcs]
            cands = cts or cands
        # melody direction around this onset: move the other way (contrary motion)
        before = [n.pitch for n in mel if n.start - ctx.start <= on]
        after = [n.pitch for n in mel if n.start - ctx.start > on]
        direction = 0
        if before and after:
            direction = -1 if after[0] > before[-1] else 1 if after[0] < before[-1] else 0
        ref = prev if prev is not None else centre

        def cost(p: int) -> float:
            c = abs(p - ref) * 0.6 + abs(p - centre) * 0.08
            if direction and prev is not None and (p - prev) * direction < 0:
                c += 2.0
            if mel and before and abs(before[-1] - p) % 12 in (1, 2, 6, 10, 11):
                c += 1.5  # avoid seconds/tritones against the melody
            return c + float(rng.random()) * 0.8

        p = min(cands, key=lambda q: (cost(q), q))
        prev = p
        notes.append(Note(ctx.start + on, p, dur, velocity(ctx.state, 2 if on == 0 else 0, base=-10)))
    memory["pitch"] = prev
    return notes


def write_doubling(ctx: BarContext, layer: str, low: int, high: int, melody: list[Note], steps: int = -2) -> list[Note]:
    """The melody doubled a diatonic third (``steps`` = -2) or sixth (-5) below, in the layer's range.

    The orchestrator's way to make a returning theme sound richer without new material: the counter
    voice shadows the tune in parallel thirds or sixths (taking the sounding chord's alterations, as
    every line does), always under it.
    """
    out: list[Note] = []
    for n in melody:
        degree = ctx.key.degree_of(n.pitch)
        if degree is None:  # an altered tone: the letter below it carries the alteration
            degree = ctx.key.degree_of(n.pitch - 1) or ctx.key.degree_of(n.pitch + 1)
        if degree is None:
            continue
        off = n.start - ctx.start
        p = ctx.realise(degree + steps, off, low, high)
        while p > min(high, n.pitch - 1) and p - 12 >= low:
            p -= 12
        while p < low and p + 12 <= min(high, n.pitch - 1):
            p += 12
        if low <= p <= high and p < n.pitch:
            out.append(Note(n.start, p, n.duration, velocity(ctx.state, 0, base=-8)))
    return out


_ARPEGGIOS = ((0, 1, 2, 1), (0, 1, 2, 3), (0, 2, 1, 2), (2, 1, 0, 1), (0, 2, 3, 1), (0, 1, 0, 2))


def write_ostinato(ctx: BarContext, layer: str, low: int, high: int, density: float, pattern: int) -> list[Note]:
    """A repeating arpeggio figure over the chord; the figure is fixed for the phrase."""
    meter = ctx.meter
    per_beat = 3 if meter.compound else 4
    grid = _grid(meter, per_beat)
    tpb = meter.ticks_per_beat
    fixed = {o for o in grid if o % tpb == 0}
    half = {o for o in grid if (o % tpb) * 2 == tpb} if not meter.compound else set(grid) - fixed
    rest = set(grid) - fixed - half
    pr = _priorities(ctx.phrase_rng(layer, "ostinato"), sorted(fixed | half), fixed, meter, (0.15, 0.45), (0.15, 0.45))
    pr.update({o: v for o, v in _priorities(ctx.phrase_rng(layer, "ostinato16"), sorted(rest), set(), meter,
                                            (0.6, 1.0), (0.6, 1.0)).items()})
    onsets = [o for o in grid if pr[o] < density]
    if ctx.last_in_phrase and meter.beats_per_bar >= 3:
        # the cadence arrives and the figure stops with it: one note on the arrival, then it breathes
        arrival = (meter.beats_per_bar - 2 if meter.beats_per_bar >= 4 else 0) * tpb
        onsets = [o for o in onsets if o <= arrival] if arrival else onsets[:1]
    chord_at = ctx.chord_at()
    figure = _ARPEGGIOS[(pattern + 2 * ctx.variant) % len(_ARPEGGIOS)]  # a re-orchestrated return changes the figure
    centre = low + (high - low) * (0.4 + 0.2 * ctx.state.register)
    notes = []
    for i, (on, dur) in enumerate(_legato(onsets, ctx.length, 0.7)):
        ch = chord_at(on)
        tones = sorted(p for p in range(low, high + 1) if p % 12 in ch.pcs)
        if not tones:
            continue
        start = min(range(len(tones)), key=lambda k: (abs(tones[k] - centre), k))
        start = max(0, min(start, len(tones) - 4))
        idx = figure[i % len(figure)]
        p = tones[min(start + idx, len(tones) - 1)]
        accent = 6 if on == 0 else 3 if on % tpb == 0 else 0
        notes.append(Note(ctx.start + on, p, dur, velocity(ctx.state, accent, base=-12)))
    return notes


def write_drone(ctx: BarContext, layer: str, low: int, high: int, density: float) -> list[Note]:
    """The tonic (and its fifth once there is some energy) held under the bar."""
    tonic = place_pc(ctx.key.tonic, low, high, low + 6)
    pitches = [tonic]
    fifth = tonic + 7
    if density > 0.3 and fifth <= high and ctx.key.contains(fifth):
        pitches.append(fifth)
    return [Note(ctx.start, p, ctx.length - 10, velocity(ctx.state, 0, base=-16)) for p in pitches]


# General MIDI percussion keys
KICK, SNARE, RIM, CLAP, HAT, PEDAL_HAT, OPEN_HAT, CRASH, RIDE = 36, 38, 37, 39, 42, 44, 46, 49, 51
LOW_TOM, MID_TOM, HIGH_TOM, TAMBOURINE, SHAKER = 45, 47, 50, 54, 70


def write_percussion(ctx: BarContext, layer: str, activity: float) -> list[Note]:
    """Kick, snare, hats, toms and cymbals whose parts enter one by one as activity rises.

    Every optional hit has a threshold (fixed per bar and seed); the hit plays when activity
    is above it. Fills mark the end of a phrase, a crash marks a new phrase at high energy.
    """
    rng = ctx.phrase_rng(layer, "drums")  # one groove per phrase; hits enter one by one as activity rises
    meter = ctx.meter
    tpb = meter.ticks_per_beat
    beats = meter.beats_per_bar
    sub = 3 if meter.compound else 4
    step = tpb // sub
    a = activity
    hits: list[tuple[int, int, float]] = []  # (offset, key, accent)

    def maybe(offset: int, key: int, lo: float, hi: float, accent: float = 0.0) -> None:
        if a > float(rng.uniform(lo, hi)):
            hits.append((offset, key, accent))

    strong = set(meter.strong_beats)
    backbeats = [b for b in range(beats) if b not in strong] if beats > 1 else []
    for b in range(beats):
        on = b * tpb
        if b == 0:
            hits.append((on, KICK, 10.0))
        elif b in strong:
            maybe(on, KICK, 0.05, 0.3, 6)
        if b in backbeats:
            maybe(on, SNARE if a > 0.55 else RIM, 0.35, 0.55, 6)
        maybe(on, HAT if a > 0.35 else SHAKER, 0.15, 0.35, 2)
        for k in range(1, sub):
            off = on + k * step
            if (k * 2 == sub) or meter.compound:
                maybe(off, HAT if a > 0.35 else SHAKER, 0.45, 0.7, -4)
            else:
                maybe(off, HAT, 0.75, 1.0, -8)
            maybe(off, KICK, 0.78, 1.05, -2)
    if ctx.bar_in_phrase == 0 and ctx.index > 0:
        maybe(0, CRASH, 0.65, 0.8, 8)
    if ctx.last_in_phrase and beats >= 2:
        last = (beats - 1) * tpb
        hits = [h for h in hits if h[0] < last or h[1] == KICK]
        toms = (HIGH_TOM, MID_TOM, LOW_TOM, LOW_TOM)
        for k in range(sub):
            maybe(last + k * step, toms[k % 4], 0.4, 0.75, 4 - k)
        if a > 0.5:
            hits.append((last, SNARE, 6.0))
    notes = []
    seen: set[tuple[int, int]] = set()
    for off, key, accent in sorted(hits):
        if (off, key) in seen:
            continue
        seen.add((off, key))
        dur = step if key not in (CRASH, OPEN_HAT) else tpb
        notes.append(Note(ctx.start + off, key, dur, velocity(ctx.state, accent, base=-6)))
    return notes


def melody_notes(ctx: BarContext, motif: list[MotifNote], key: Key, accent_arch: float = 0.0,
                 low: int = 0, high: int = 127) -> list[Note]:
    """Turn a motif bar (scale degrees) into notes in ``key``, with metric accents and a phrase arch."""
    tpb = ctx.meter.ticks_per_beat
    strong = {b * tpb for b in ctx.meter.strong_beats}
    arch = 6.0 * np.sin(np.pi * (ctx.bar_in_phrase + 0.5) / max(ctx.phrase_bars, 1)) + accent_arch
    out = []
    for n in motif:
        accent = 7 if n.onset == 0 else 4 if n.onset in strong else 0
        dur = min(n.duration, ctx.length - n.onset)
        if dur <= 0:
            continue
        out.append(Note(ctx.start + n.onset, ctx.realise(n.degree, n.onset, low, high), dur, velocity(ctx.state, accent + arch, base=2)))
    return out


__all__ = [
    "BarContext", "write_bass", "write_pad", "write_counter", "write_ostinato", "write_drone",
    "write_percussion", "melody_notes", "velocity", "place_pc", "chord_degrees",
]
