"""Harmony plans: a chord progression for one phrase, with a cadence at its end.

Two layers of decision, because they are two kinds of knowledge:

* **The diatonic skeleton is learned.** The harmony model proposes chord-to-chord moves by scale
  degree (chorales and folk tunes); the musical state tilts them (tension favours dominant
  function, calm favours tonic and subdominant), and the *mode* tilts them towards its own
  colour — dorian's major IV, lydian's major II, phrygian's ♭II, mixolydian's ♭VII — so a modal
  score sounds modal instead of being a major/minor chain renamed.
* **Chromatic colour is the composer's craft, kept as rules** that a spec can switch off
  (``palette.chromatic: none``): secondary dominants that tonicise the next chord, chords
  borrowed from the parallel minor (iv, ♭VI, ♭VII, ♭III), the major dominant at minor-key
  cadences, sevenths, first inversions, and — for dark, tense music — diminished sevenths,
  the Neapolitan ♭II and chromatic mediants. How much colour, and which, follows tension and
  valence: tense negative music is measurably more chromatic and dissonant than joyful music at
  the same arousal (Gabrielsson & Lindström 2010: dissonance and chromaticism carry negative
  valence; Huron 2006 on the expectancy of ♭VI and diminished sonorities).

The phrase's last two chord slots come from the learned cadence table (or the mode's own
cadence), so every phrase closes: half cadences (ending on V) and authentic cadences (ending on
I). Where a theme is stated, chords are chosen to fit the theme's strong-beat notes, and no
colour chord may alter a letter the theme sings in that slot.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from segue.compose.random import pick
from segue.music import Chord, Key, Meter

# relative pull of each scale degree's chord under tension (I ii iii IV V vi vii)
_TENSION_TILT = np.array([-1.0, 0.4, 0.0, 0.1, 1.0, 0.2, 0.8])

MODE_COLOUR: dict[str, dict[int, float]] = {
    # the chord that carries each mode's characteristic degree, and how much the mode leans on it
    "dorian": {3: 2.6, 6: 1.5, 4: 0.6},  # IV major (♮6), ♭VII; the minor v is weak
    "lydian": {1: 2.8, 6: 0.5},  # II major (♯4); vii is the unstable fourth-chord
    "phrygian": {1: 2.8, 6: 1.6, 4: 0.2},  # ♭II, ♭vii; v° is avoided
    "mixolydian": {6: 2.6, 4: 0.5},  # ♭VII major (♭7)
    "locrian": {1: 2.0, 4: 1.5, 0: 0.8},
}
CHARACTERISTIC_DEGREE: dict[str, int] = {
    "dorian": 5, "lydian": 3, "phrygian": 1, "mixolydian": 6, "locrian": 4,
    "major": 6, "ionian": 6, "minor": 5, "aeolian": 5, "natural_minor": 5, "harmonic_minor": 6, "melodic_minor": 5,
}
"""The scale degree whose colour names the mode (dorian's ♮6, lydian's ♯4, …): it must be heard."""

MODAL_CADENCE: dict[str, tuple[int, ...]] = {
    # penultimate chords of an authentic cadence in modes without a leading tone
    "dorian": (3, 6), "phrygian": (1, 6), "lydian": (1, 4), "mixolydian": (6, 3), "locrian": (1,),
}
POLICIES = ("none", "harmonic", "free")


@dataclass(frozen=True, slots=True)
class ChordSlot:
    """One chord of a plan: which bar of the phrase, where in the bar (ticks), and the chord."""

    bar: int
    offset: int
    chord: Chord
    seventh: bool = False


@dataclass(frozen=True, slots=True)
class Colour:
    """How much chromatic colour a phrase gets, per device (probability per eligible slot)."""

    secondary: float
    borrowed: float
    diminished: float
    dark: float  # Neapolitan, chromatic mediants, augmented
    seventh: float
    inversion: float
    bright: float = 0.0  # positive valence: how much the colour avoids grinding sonorities

    @classmethod
    def for_state(cls, policy: str, tension: float, valence: float) -> "Colour":
        """Colour from the policy and the affect: darkness (negative valence × tension) buys dissonance."""
        if policy == "none":
            return cls(0.0, 0.0, 0.0, 0.0, 0.15 + 0.4 * tension, 0.2, max(0.0, valence))
        dark = max(0.0, -valence) * (0.3 + 0.7 * tension)
        bright = max(0.0, valence)
        free = 1.4 if policy == "free" else 1.0
        return cls(
            secondary=min(0.6, free * (0.1 + 0.04 * bright + 0.08 * tension)),
            borrowed=min(0.6, free * (0.18 + 0.35 * dark)),  # game music borrows a lot (♭VI, ♭VII, iv)
            diminished=min(0.6, free * (0.03 + 0.45 * dark * tension)),
            dark=min(0.5, free * (0.02 + 0.4 * dark * tension)),
            seventh=0.2 + 0.45 * tension,
            inversion=0.22,
            bright=bright,
        )


@dataclass(frozen=True, slots=True)
class Idiom:
    """Where colour goes, learned (see :mod:`segue.style.colour`): per scale degree, a weight with mean 1
    over degrees ii–vii for an applied dominant before it, an applied leading-tone chord before it, and
    a seventh on it. The affect decides how much colour; these decide which chords take it."""

    applied_dominant: tuple[float, ...]
    applied_leading: tuple[float, ...]
    seventh: tuple[float, ...]

    @classmethod
    def learned(cls, family: str) -> "Idiom":
        return _idiom(family)


def _relative(rates: tuple[float, ...]) -> tuple[float, ...]:
    mean = sum(rates[1:]) / 6.0
    return tuple(min(r / mean, 3.0) if mean > 0 else 1.0 for r in rates)


@lru_cache(maxsize=2)
def _idiom(family: str) -> Idiom:
    from segue.style.colour import load_colour

    r = load_colour()[family]
    return Idiom(_relative(r["applied_dominant"]), _relative(r["applied_leading"]), _relative(r["seventh"]))


def slot_offsets(meter: Meter, per_bar: int) -> list[int]:
    return [i * meter.ticks_per_bar // per_bar for i in range(per_bar)]


SLOW_TEMPO = 80.0
"""Below this tempo (quarter-note bpm) a 4/4 phrase's penultimate bar may change chord on every beat."""


def harmonic_rhythm(rng: np.random.Generator, meter: Meter, bars: int,
                    tempo: float | None = None) -> tuple[list[list[int]], list[float]]:
    """Chord-change offsets for each bar of a phrase, and the density at which each bar's second chord sounds.

    Every bar of a meter that splits in two is planned with two chords; the second one is heard
    only when the bar's density reaches that bar's threshold (stratified over the phrase), and the
    cadence bar always splits — the classical acceleration of harmonic rhythm into a cadence.
    Decided at play time, so a build quickens the harmony bar by bar, never all at once.
    """
    if meter.beats_per_bar == 3:
        # a waltz changes chord on the downbeat, and on beat 3 when the music is busy (long–short)
        second = 2 * meter.ticks_per_beat
        levels = 0.25 + 0.4 * (np.arange(max(bars - 1, 0)) + rng.random()) / max(bars - 1, 1)
        return [[0, second] for _ in range(bars)], [float(x) for x in sorted(levels, reverse=True)] + [-1.0]
    if meter.beats_per_bar not in (2, 4, 6):
        return [slot_offsets(meter, 1) for _ in range(bars)], [-1.0] * bars
    # thresholds fall towards the cadence: as density rises, the harmony quickens from the end
    # of the phrase backwards (the classical acceleration into a cadence); most bars change twice
    levels = 0.12 + 0.4 * (np.arange(max(bars - 1, 0)) + rng.random()) / max(bars - 1, 1)
    thresholds = [float(x) for x in sorted(levels, reverse=True)] + [-1.0]
    offsets = [slot_offsets(meter, 2) for _ in range(bars)]
    if tempo is not None and tempo < SLOW_TEMPO and meter.beats_per_bar == 4 and bars >= 2:
        # slow music quickens its harmony into the cadence: a chord on every beat of the bar before it
        offsets[bars - 2] = slot_offsets(meter, 4)
    return offsets, thresholds[-bars:]


def _mode_tilt(key: Key) -> np.ndarray:
    w = np.ones(7)
    for d, x in MODE_COLOUR.get(key.mode, {}).items():
        w[d] = x
    return w


def plan_degrees(
    rng: np.random.Generator,
    harmony: object,
    key: Key,
    positions: list[tuple[int, int]],
    *,
    tension: float,
    cadence: str,
    prev_degree: int | None,
    theme_strong_pcs: dict[tuple[int, int], set[int]] | None = None,
    modal: bool = False,
) -> list[int]:
    """The diatonic skeleton: one scale degree per chord position, closing on the cadence's chord."""
    family = key.family
    n = len(positions)
    tilt = np.exp(_TENSION_TILT * (tension - 0.4) * 2.0)
    mode_tilt = _mode_tilt(key) if modal else np.ones(7)
    degrees: list[int] = []
    for i in range(max(n - 2, 0)):
        if i == 0 and prev_degree is None:
            p = np.array(harmony.first_probs(family), dtype=float)
            p = p * np.array([4.0, 0.5, 0.3, 0.8, 0.6, 0.6, 0.1])  # open a piece at home
        else:
            p = np.array(harmony.next_probs(family, degrees[-1] if degrees else prev_degree), dtype=float)
            p = p * tilt * mode_tilt
        p = p * _theme_fit(key, positions[i], theme_strong_pcs)
        if degrees:
            p[degrees[-1]] *= 0.3  # the same chord again is a non-move; let the music breathe
        degrees.append(pick(rng, p))
    final = 4 if cadence == "half" else 0
    if n >= 2:
        modal_pen = MODAL_CADENCE.get(key.mode) if modal and cadence != "half" else None
        if modal_pen:
            pen_w = np.zeros(7)
            for k, d in enumerate(modal_pen):
                pen_w[d] = 1.0 / (k + 1)
        else:
            cad = np.array(harmony.cadence_probs(family), dtype=float)
            pen_w = cad[:, final].copy()
            pen_w[final] = 0.0
            if degrees:
                pen_w = pen_w * (np.array(harmony.next_probs(family, degrees[-1]), dtype=float) + 1e-3)
        pen_w = pen_w * _theme_fit(key, positions[n - 2], theme_strong_pcs)
        degrees.append(pick(rng, pen_w))
    degrees.append(final)
    return degrees[-n:] if n else []


def plan_phrase(
    rng: np.random.Generator,
    harmony: object,
    key: Key,
    meter: Meter,
    bars: int,
    *,
    offsets: list[list[int]],
    tension: float,
    cadence: str,
    prev_degree: int | None,
    theme_strong_pcs: dict[tuple[int, int], set[int]] | None = None,
    policy: str = "none",
    valence: float = 0.0,
    protected: dict[tuple[int, int], set[int]] | None = None,
) -> list[ChordSlot]:
    """Chord slots for a phrase of ``bars`` bars.

    ``harmony`` is a learned :class:`segue.style.HarmonyModel`; ``cadence`` is ``"half"`` or
    ``"authentic"``; ``theme_strong_pcs`` maps a slot (bar, offset) → the pitch classes the
    theme sounds on strong beats during that slot, which the chosen chords should contain;
    ``protected`` maps a slot → scale degrees (0..6) a verbatim theme sings there, which no
    colour chord may alter. ``policy`` is the spec's ``chromatic`` policy.
    """
    positions = [(b, o) for b in range(bars) for o in offsets[b]]
    modal = key.mode in MODE_COLOUR
    degrees = plan_degrees(rng, harmony, key, positions, tension=tension, cadence=cadence, prev_degree=prev_degree,
                           theme_strong_pcs=theme_strong_pcs, modal=modal)
    colour = Colour.for_state(policy, tension, valence)
    chords = colour_progression(rng, key, degrees, colour, policy=policy, cadence=cadence,
                                protected=[(protected or {}).get(pos, set()) for pos in positions],
                                strong=[(theme_strong_pcs or {}).get(pos, set()) for pos in positions])
    return [ChordSlot(bar=b, offset=o, chord=ch, seventh=len(ch.tones) > 3)
            for (b, o), ch in zip(positions, chords)]


def colour_progression(
    rng: np.random.Generator,
    key: Key,
    degrees: list[int],
    colour: Colour,
    *,
    policy: str,
    cadence: str,
    protected: list[set[int]],
    strong: list[set[int]],
) -> list[Chord]:
    """Turn a diatonic skeleton into chords: sevenths, inversions and (policy allowing) chromatic colour.

    Each slot is considered once, left to right, and replaced by at most one device; the
    final chord is only ever made a seventh-less tonic or dominant (a cadence must be heard as
    one), and the first chord of a phrase stays diatonic so the key is established before it is
    coloured. A device is kept only if it leaves alone the letters a verbatim theme sings there
    and still holds the theme's strong-beat pitch classes.
    """
    n = len(degrees)
    minorish = key.family == "minor"
    idiom = Idiom.learned(key.family)
    chords = [key.chord(d) for d in degrees]
    chromatic = policy != "none"

    def fits(i: int, ch: Chord) -> bool:
        alt = ch.alterations(key)
        if protected[i] and set(alt) & protected[i]:
            return False
        return not strong[i] or strong[i] <= ch.pcs or len(strong[i] & ch.pcs) >= len(strong[i] & chords[i].pcs)

    # the cadence: a major dominant in minor-family keys (the leading tone), where the policy allows
    last = n - 1
    if chromatic and n >= 2 and minorish and key.mode != "phrygian":
        dom_at = last if cadence == "half" else last - 1 if degrees[last - 1] == 4 else None
        if dom_at is not None:
            want_dom = key.mode in ("minor", "aeolian", "natural_minor", "harmonic_minor", "melodic_minor") \
                or rng.random() < 0.55
            if want_dom:
                dom = key.chromatic_chord(4, "dom7" if dom_at != last and rng.random() < colour.seventh + 0.2 else "maj",
                                          label="V")
                if fits(dom_at, dom):
                    chords[dom_at] = dom
    for i in range(1, n):
        if i == last:
            break
        d, nxt = degrees[i], degrees[i + 1]
        base = chords[i]
        if base.is_chromatic(key):
            continue
        options: list[tuple[float, Chord]] = []
        if chromatic:
            target = key.chord(nxt)
            if nxt != 0 and target.quality in ("maj", "min") and nxt != d:
                # V/x (or V7/x): the chord a fifth above the next one, made major
                sec = _applied(key, nxt, "dom7" if rng.random() < 0.5 else "maj")
                if sec.is_chromatic(key):
                    options.append((colour.secondary * idiom.applied_dominant[nxt], sec))
                dim = _applied(key, nxt, "dim7")
                if dim.is_chromatic(key):
                    options.append((colour.diminished * idiom.applied_leading[nxt], dim))
            if not minorish:
                borrow = {3: (3, 0, "min", "iv"), 5: (5, -1, "maj", "bVI"), 4: (6, -1, "maj", "bVII"),
                          2: (2, -1, "maj", "bIII"), 1: (1, 0, "hdim7", "iiø7")}.get(d)
                if borrow is not None:
                    deg, shift, q, label = borrow
                    options.append((colour.borrowed, key.chromatic_chord(deg, q, shift, label)))
            else:
                if d == 3 and key.mode != "dorian":
                    options.append((0.5 * colour.secondary, key.chromatic_chord(3, "maj", 0, "IV")))  # dorian IV
            if nxt in (4, 0) and d in (1, 3):
                # the Neapolitan: the major chord on the lowered second degree, in first inversion
                neap = key.chromatic_chord(1, "maj", 1 - key.steps[1], "bII6").inverted(1)
                if neap.is_chromatic(key) or key.mode == "phrygian":
                    options.append((colour.dark, neap))
            if d in (2, 5):
                # chromatic mediants: the major chord a third away, with one tone outside the key
                med = key.chromatic_chord(d, "maj" if key.chord(d).quality == "min" else "min", 0,
                                          ("III" if d == 2 else "VI") if key.chord(d).quality == "min" else ("iii" if d == 2 else "vi"))
                if med.is_chromatic(key):
                    options.append((colour.dark * 0.8, med))
            if minorish and d in (2,):
                options.append((colour.dark * 0.7, key.chromatic_chord(2, "aug", 0, "III+")))
            if colour.dark > 0.12 and base.quality == "min" and key.chord(d, seventh=True).tones[3] != (base.root + 11) % 12:
                # the minor chord with a major seventh: a semitone grinding inside a dark chord (noir, horror)
                options.append((colour.dark * 0.8, key.chromatic_chord(d, "minmaj7", 0, base.roman() + "(maj7)")))
        # the diatonic devices: bright music keeps its sevenths soft (minor sevenths, the dominant's),
        # leaving the semitone of a major seventh to darker colours
        seventh = key.chord(d, seventh=True)
        soft = colour.bright < 0.2 or (seventh.tones[3] - seventh.root) % 12 != 11
        if (base.quality != "dim" or d == 6) and soft:
            options.append((colour.seventh * idiom.seventh[d], seventh))
        pick_at = rng.random()
        acc = 0.0
        chosen: Chord | None = None
        for p, ch in options:
            acc += p
            if pick_at < acc:
                chosen = ch
                break
        if chosen is not None and fits(i, chosen):
            chords[i] = chosen
        if chords[i].bass is None and len(chords[i].tones) == 3 and chords[i].quality != "aug" \
                and rng.random() < colour.inversion and degrees[i - 1] != degrees[i]:
            chords[i] = chords[i].inverted(1)  # first inversion: a smoother bass line, a lighter chord
    return chords


def _applied(key: Key, target_degree: int, quality: str) -> Chord:
    """V/x or vii°7/x: an applied chord that leans into scale degree ``target_degree``'s chord."""
    t_pc = key.scale_pc(target_degree)
    if quality == "dim7":
        letter = (target_degree + 6) % 7  # the leading tone's letter
        shift = (t_pc - 1 - key.scale_pc(letter)) % 12
        shift = shift - 12 if shift > 6 else shift
        label = "viio7/" + _roman(key, target_degree)
    else:
        letter = (target_degree + 4) % 7  # a fifth above
        shift = (t_pc + 7 - key.scale_pc(letter)) % 12
        shift = shift - 12 if shift > 6 else shift
        label = ("V7/" if quality == "dom7" else "V/") + _roman(key, target_degree)
    return key.chromatic_chord(letter, quality, shift, label)


def _roman(key: Key, degree: int) -> str:
    return key.chord(degree).roman()


def _theme_fit(key: Key, position: tuple[int, int], theme_strong_pcs: dict | None) -> np.ndarray:
    """Weights over the 7 degrees: how many theme strong-beat pitch classes each triad contains."""
    if not theme_strong_pcs:
        return np.ones(7)
    pcs = theme_strong_pcs.get(position)
    if not pcs:
        return np.ones(7)
    w = np.empty(7)
    for d in range(7):
        ch = key.chord(d)
        hits = len(pcs & ch.pcs)
        w[d] = 0.15 + hits**2
    return w


def allowed_pitch_classes(key: Key, chord: Chord, policy: str) -> frozenset[int] | None:
    """What the tonal policy allows while ``chord`` sounds in ``key`` (None: anything, policy ``free``)."""
    if policy == "free":
        return None
    if policy == "none":
        return key.pitch_classes
    return key.pitch_classes | chord.pcs


def plan_bridge(key: Key, from_key: Key, meter: Meter, bars: int) -> list[ChordSlot]:
    """A bridge into ``key``: a pivot chord that belongs to both keys, then the new key's dominant.

    The pivot is the classical common-chord modulation: a predominant (ii, IV) or vi of the new
    key whose notes all lie in the old key, so the ear hears it as "still home" and then as the
    door to the new key when the dominant follows.
    """
    per_bar = 2 if meter.beats_per_bar in (2, 4, 6) else 1
    offsets = slot_offsets(meter, per_bar)
    positions = [(b, o) for b in range(bars) for o in offsets]
    pivot = next((d for d in (1, 3, 5, 0) if key.chord(d).pcs <= from_key.pitch_classes), 1)
    degrees = [pivot] * (len(positions) - 1) + [4]
    return [ChordSlot(bar=b, offset=o, chord=key.chord(d)) for (b, o), d in zip(positions, degrees)]
