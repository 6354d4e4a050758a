"""Affect → musical state, grounded in music-psychology findings.

Why these directions (Gabrielsson & Lindström 2010, "The role of structure in the musical
expression of emotions"; Juslin & Laukka 2003, "Communication of emotions in vocal expression
and music performance"; Eerola, Friberg & Bresin 2013, "Emotional expression in music"):

* **Arousal** (calm ↔ excited) is carried mainly by *tempo*, *note density* (rhythmic
  activity), *loudness* and articulation: fast, dense, loud music is heard as high-arousal.
* **Valence** (negative ↔ positive) is carried mainly by *mode* (major/bright modes positive,
  minor/dark modes negative), *consonance* and *register/brightness* (higher, brighter is
  more positive; low and dark is more negative).
* **Intensity** (a game/film control, "how much is happening") adds layers (vertical
  layering), loudness and density, and raises harmonic *tension* together with low valence.

Each mapping is monotone in its inputs, so sweeping a control moves its targets in one
direction (measured by `segue eval` as Spearman ρ).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from segue.compose.state import MusicalState, clamp
from segue.music import Key, Meter


@dataclass(frozen=True, slots=True)
class Affect:
    valence: float = 0.0  # -1..1
    arousal: float = 0.5  # 0..1
    intensity: float = 0.5  # 0..1

    def clamped(self) -> "Affect":
        return Affect(clamp(self.valence, -1.0, 1.0), clamp(self.arousal), clamp(self.intensity))


HOME_ZONE = 0.3
"""How far valence may move from the spec's own mood before the key leaves home."""


def choose_key(valence: float, home: Key, allowed: list[Key], home_valence: float | None = None) -> Key:
    """Pick the allowed key whose mode brightness best matches valence.

    Only keys the spec allows (home + modulation targets) are candidates — the palette is a
    hard rule. With ``home_valence`` (the spec's own mood) the home key owns the valence around
    it: the music stays at home until valence moves more than :data:`HOME_ZONE` away, then
    departs towards brighter or darker keys in proportion — so the spec's mode is what a
    listener hears at its own mood, and a modulation is a departure that returns. Without it,
    valence maps onto the brightness range of the candidates (ties prefer home).
    """
    candidates = [home] + [k for k in allowed if k != home]
    lo = min(k.brightness for k in candidates)
    hi = max(k.brightness for k in candidates)
    if hi == lo:
        return home
    if home_valence is not None:
        delta = valence - home_valence
        if abs(delta) <= HOME_ZONE:
            return home
        side = [k for k in candidates if (k.brightness > home.brightness if delta > 0 else k.brightness < home.brightness)]
        if not side:
            return home
        reach = (1.0 - home_valence) if delta > 0 else (1.0 + home_valence)
        x = min((abs(delta) - HOME_ZONE) / max(reach - HOME_ZONE, 1e-6), 1.0)
        edge = max(k.brightness for k in side) if delta > 0 else min(k.brightness for k in side)
        target = home.brightness + x * (edge - home.brightness)
        return min(side, key=lambda k: (abs(k.brightness - target), abs(k.brightness - home.brightness)))
    target = lo + (valence + 1.0) / 2.0 * (hi - lo)
    return min(candidates, key=lambda k: (abs(k.brightness - target), k != home))


def affect_to_state(
    affect: Affect,
    *,
    home: Key,
    allowed: list[Key] | None = None,
    tempo_range: tuple[float, float] = (60.0, 140.0),
    tempo_default: float | None = None,
    meter: Meter = Meter(4, 4),
    theme: str | None = None,
    home_valence: float | None = None,
) -> MusicalState:
    """Map (valence, arousal, intensity) to a :class:`MusicalState` inside the spec's palette.

    ``home_valence`` is the spec's own mood: near it the home key holds (see :func:`choose_key`).
    """
    a = affect.clamped()
    v01 = (a.valence + 1.0) / 2.0
    tmin, tmax = tempo_range
    tdef = (tmin + tmax) / 2.0 if tempo_default is None else min(max(tempo_default, tmin), tmax)
    # arousal drives tempo most strongly, intensity a little (Gabrielsson & Lindström: tempo is the
    # strongest arousal cue); a middling affect plays at the composer's default tempo
    x = clamp(0.8 * a.arousal + 0.2 * a.intensity)
    tempo = tmin + (tdef - tmin) * (x / 0.5) if x < 0.5 else tdef + (tmax - tdef) * ((x - 0.5) / 0.5)
    density = clamp(0.08 + 0.92 * (0.55 * a.arousal + 0.45 * a.intensity))
    dynamics = clamp(0.25 + 0.7 * (0.45 * a.arousal + 0.55 * a.intensity))
    tension = clamp(0.55 * a.intensity + 0.45 * (1.0 - v01) * (0.4 + 0.6 * a.arousal))
    register = clamp(0.8 * (v01 - 0.5) + 0.5 * (a.arousal - 0.5), -1.0, 1.0)
    key = choose_key(a.valence, home, allowed or [], home_valence)
    return MusicalState(
        key=key, tempo=round(tempo, 2), meter=meter, density=density, tension=tension,
        register=register, dynamics=dynamics, intensity=a.intensity, theme=theme, valence=a.valence,
    )


MOOD_WORDS: dict[str, tuple[float, float, float]] = {
    # word: (valence -1..1, arousal 0..1, intensity 0..1) — circumplex placements (Russell 1980)
    "calm": (0.4, 0.15, 0.15), "peaceful": (0.6, 0.1, 0.1), "serene": (0.6, 0.1, 0.1),
    "tranquil": (0.5, 0.1, 0.1), "gentle": (0.5, 0.2, 0.15), "relaxed": (0.5, 0.15, 0.1),
    "happy": (0.8, 0.6, 0.5), "joyful": (0.9, 0.7, 0.6), "playful": (0.7, 0.65, 0.4),
    "cheerful": (0.8, 0.6, 0.45), "light": (0.6, 0.45, 0.3), "whimsical": (0.6, 0.55, 0.35),
    "triumphant": (0.9, 0.85, 0.9), "heroic": (0.7, 0.8, 0.85), "epic": (0.5, 0.85, 0.95),
    "hopeful": (0.6, 0.4, 0.4), "warm": (0.6, 0.3, 0.3), "tender": (0.5, 0.2, 0.2),
    "romantic": (0.6, 0.35, 0.35), "nostalgic": (0.1, 0.25, 0.3), "wonder": (0.6, 0.4, 0.4),
    "mysterious": (-0.2, 0.35, 0.35), "eerie": (-0.5, 0.35, 0.45), "dark": (-0.7, 0.4, 0.5),
    "ominous": (-0.7, 0.45, 0.6), "tense": (-0.5, 0.7, 0.7), "suspense": (-0.5, 0.6, 0.65),
    "suspenseful": (-0.5, 0.6, 0.65), "anxious": (-0.6, 0.7, 0.6), "fear": (-0.8, 0.75, 0.7),
    "scary": (-0.8, 0.75, 0.75), "horror": (-0.9, 0.7, 0.8), "dread": (-0.8, 0.5, 0.6),
    "sad": (-0.7, 0.2, 0.3), "melancholy": (-0.6, 0.2, 0.3), "melancholic": (-0.6, 0.2, 0.3),
    "grief": (-0.85, 0.25, 0.45), "mournful": (-0.8, 0.2, 0.4), "lonely": (-0.6, 0.15, 0.2),
    "somber": (-0.6, 0.2, 0.35), "angry": (-0.8, 0.9, 0.9), "aggressive": (-0.6, 0.9, 0.95),
    "combat": (-0.3, 0.9, 0.95), "battle": (-0.3, 0.9, 0.95), "action": (0.0, 0.9, 0.85),
    "chase": (-0.2, 0.95, 0.85), "urgent": (-0.3, 0.85, 0.8), "violent": (-0.8, 0.95, 1.0),
    "exciting": (0.5, 0.85, 0.8), "energetic": (0.5, 0.85, 0.75), "majestic": (0.6, 0.55, 0.8),
    "ambient": (0.0, 0.1, 0.15), "sparse": (0.0, 0.15, 0.1), "dreamy": (0.4, 0.15, 0.2),
    "exploration": (0.3, 0.35, 0.3), "adventurous": (0.6, 0.65, 0.6), "victory": (0.9, 0.75, 0.8),
    "building": (0.0, 0.6, 0.6), "climax": (0.4, 0.95, 1.0), "quiet": (0.2, 0.1, 0.1),
}
_INTENSIFIERS = {"very": 1.3, "extremely": 1.5, "slightly": 0.6, "somewhat": 0.7, "a bit": 0.6}


class MoodError(ValueError):
    """A mood description with no word Segue understands."""


def mood_to_affect(text: str) -> Affect:
    """Turn a mood in words ("tense suspense building to a climax") into an affect.

    Averages the circumplex positions of every known mood word, with "very"/"slightly" scaling
    the word after them away from / towards neutral.
    """
    words = re.findall(r"[a-z]+", text.lower())
    found: list[tuple[float, float, float, float]] = []
    scale = 1.0
    for w in words:
        if w in _INTENSIFIERS:
            scale = _INTENSIFIERS[w]
            continue
        stem = w if w in MOOD_WORDS else w.rstrip("s") if w.rstrip("s") in MOOD_WORDS else None
        if stem is not None:
            v, a, i = MOOD_WORDS[stem]
            found.append((v * scale, 0.5 + (a - 0.5) * scale, 0.5 + (i - 0.5) * scale, 1.0))
        scale = 1.0
    if not found:
        known = ", ".join(sorted(MOOD_WORDS)[:12])
        raise MoodError(f"no mood word recognised in {text!r}; try words like: {known}, …")
    n = len(found)
    return Affect(
        sum(f[0] for f in found) / n, sum(f[1] for f in found) / n, sum(f[2] for f in found) / n
    ).clamped()
