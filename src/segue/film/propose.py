"""From an analysed script to a proposed cue sheet: where music starts and stops, and what it does.

Scenes that feel alike in a row become one cue (a composer would not restart the music between
two calm scenes); a scene shorter than a few seconds joins the neighbour it is closest to; a cue
never grows past ``max_cue`` seconds. Each cue's affect is the duration-weighted mean of its
scenes; a rise of intensity through the cue (read from the paragraph-level arc) becomes a build.
Key, tempo and instruments come from the palette; hits are the script's and scene list's hit
points inside the cue; the transition into the next cue is a crossfade, a cut into sudden
violence, or a fade-out before a gap. Every choice is written into the cue sheet for the
composer to change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from segue.compose.affect import MOOD_WORDS
from segue.film.analysis import SceneAffect, intensity_of
from segue.film.cuesheet import Cue, CueHit, CueSheet
from segue.film.direction import parse_direction
from segue.film.palette import FilmPalette, archetype, choose_instruments, choose_key, preferred_tempo
from segue.film.script import SPOKEN, Script
from segue.film.timecode import FrameRate, frame_rate, frames_at

REEL_SECONDS = 20 * 60.0


@dataclass(frozen=True, slots=True)
class ProposeOptions:
    """How cues are cut from scenes."""

    merge_distance: float = 0.35
    min_cue: float = 8.0
    max_cue: float = 240.0
    build_threshold: float = 0.18
    spot_dry: bool = True
    """Leave quiet dialogue scenes without music (``music: false`` spans in the cue sheet)."""


def _dist(a: SceneAffect | dict, b: SceneAffect | dict) -> float:
    def g(x: object, k: str) -> float:
        return float(x[k] if isinstance(x, dict) else getattr(x, k))
    return math.sqrt(sum((g(a, k) - g(b, k)) ** 2 for k in ("valence", "arousal", "tension")))


ARCHETYPE_WORDS = {
    "calm": ["peaceful", "calm", "serene", "gentle", "tender", "warm", "dreamy"],
    "hope": ["hopeful", "warm", "tender", "romantic", "wonder", "majestic"],
    "joy": ["happy", "joyful", "playful", "cheerful", "light"],
    "triumph": ["triumphant", "heroic", "victory", "epic", "majestic"],
    "suspense": ["suspenseful", "tense", "mysterious", "anxious", "eerie", "ominous"],
    "dread": ["ominous", "dread", "dark", "eerie", "somber"],
    "violence": ["violent", "aggressive", "angry", "urgent", "fear", "horror"],
    "grief": ["mournful", "grief", "melancholy", "sad", "somber", "lonely"],
    "neutral": ["mysterious", "nostalgic", "quiet", "light"],
    "romance": ["romantic", "tender", "warm", "dreamy"],
    "comedy": ["playful", "whimsical", "light", "cheerful"],
    "wonder": ["wonder", "majestic", "dreamy", "mysterious"],
}


SCORED_KINDS = frozenset({"violence", "suspense", "triumph", "dread"})
"""Archetypes whose scenes always get music, however much is said in them."""


def quiet_dialogue(scene: Any, sa: SceneAffect, min_seconds: float = 15.0) -> bool:
    """A scene to spot dry: mostly talk, calm and settled, long enough to notice, with no hit to accent.

    Why: wall-to-wall music flattens a film; quiet conversation is where a supervisor first takes
    music out, so the words carry the scene and the next cue means more.
    """
    spoken = sum(len(e.text.split()) for e in scene.elements if e.kind in SPOKEN)
    total = sum(len(e.text.split()) for e in scene.elements if e.kind in SPOKEN + ("action", "description"))
    return (total > 0 and spoken / total >= 0.5 and sa.arousal < 0.45 and sa.tension < 0.45
            and scene_kind(sa) not in SCORED_KINDS and scene.duration >= min_seconds and not scene.hits
            and not scene.mood)


def scene_kind(sa: SceneAffect) -> str:
    """A scene's archetype: the learned reader's when it named one, else the nearest to its affect."""
    return sa.archetype if sa.archetype in ARCHETYPE_WORDS and not sa.direction else \
        archetype(sa.valence, sa.arousal, sa.tension)


def mood_words(valence: float, arousal: float, intensity: float, tension: float, n: int = 2,
               kind: str | None = None) -> list[str]:
    """Mood words for an affect: the nearest words (Segue's circumplex vocabulary) of its archetype."""
    def d(w: str) -> float:
        v, a, i = MOOD_WORDS[w]
        return (v - valence) ** 2 + (a - arousal) ** 2 + 0.5 * (i - intensity) ** 2
    kind = kind if kind in ARCHETYPE_WORDS else archetype(valence, arousal, tension)
    words = sorted((w for w in ARCHETYPE_WORDS[kind] if w in MOOD_WORDS), key=d)[:n]
    return words + ([kind] if kind not in words and kind != "neutral" else [])


def _snap(t: float, rate: FrameRate) -> float:
    return frames_at(t, rate) / float(rate.fps)


def propose_cues(script: Script, affects: list[SceneAffect], palette: FilmPalette, *,
                 fps: FrameRate | None = None, start_tc: float = 0.0, seed: int | None = None,
                 options: ProposeOptions | None = None, analysis: str = "lexicon") -> CueSheet:
    """A cue sheet for ``script`` from its scene affects (one list entry per scene, in order)."""
    opt = options or ProposeOptions()
    rate = fps or frame_rate(None)
    scenes = script.scenes
    groups: list[list[int]] = []
    dry = [opt.spot_dry and quiet_dialogue(sc, sa) for sc, sa in zip(scenes, affects)]
    for k, sc in enumerate(scenes):
        if groups:
            last = groups[-1]
            prev = scenes[last[-1]]
            contiguous = abs(sc.start - prev.end) < 1.0 / float(rate.fps)
            span = sc.end - scenes[last[0]].start
            mean = _group_affect(last, scenes, affects)
            same_kind = _group_kind(last, scenes, affects) == scene_kind(affects[k])
            if contiguous and span <= opt.max_cue and same_kind and dry[k] == dry[last[-1]] and \
                    _dist(mean, affects[k]) < opt.merge_distance:
                last.append(k)
                continue
        groups.append([k])
    groups = _absorb_short(groups, scenes, affects, opt, rate)
    cues: list[Cue] = []
    per_reel: dict[int, int] = {}
    hits_all = script.all_hits()
    prev_key, prev_kind = None, None
    direction_notes: list[str] = []
    for gi, g in enumerate(groups):
        start = _snap(scenes[g[0]].start, rate)
        end = _snap(scenes[g[-1]].end, rate)
        m = _group_affect(g, scenes, affects)
        v, a, t = m["valence"], m["arousal"], m["tension"]
        directions = [scenes[k].mood for k in g if scenes[k].mood]
        direction = parse_direction("; ".join(directions), strict=False) if directions else None
        inten = intensity_of(a, t)
        if direction is not None and direction.density is not None:
            inten = 0.6 * inten + 0.4 * direction.density
        inten_end = _build(g, scenes, affects, opt)
        if direction is not None and direction.intensity_end is not None:
            inten_end = direction.intensity_end
        if inten_end is not None and abs(inten_end - inten) < 0.05:
            inten_end = None
        kind = _group_kind(g, scenes, affects) if direction is None else archetype(v, a, t)
        instruments, notes = choose_instruments(palette, v, a, t, max(inten, inten_end or 0.0), direction, kind)
        reel = 1 + int(start // REEL_SECONDS)
        per_reel[reel] = per_reel.get(reel, 0) + 1
        cue_hits = [CueHit(_snap(h.time, rate), h.label, h.source) for h in hits_all
                    if start - 1e-6 <= _snap(h.time, rate) < end - 1e-6]
        why = [f"scene {scenes[k].number or k + 1} ({scenes[k].heading}): " + "; ".join(affects[k].explain(4))
               for k in g]
        why += notes
        direction_notes += [f"cue {reel}M{per_reel[reel]}: {n}" for n in notes]
        music = not all(dry[k] for k in g)
        if not music:
            why.insert(0, "spotted dry: quiet dialogue, so the words carry the scene (set music: true to score it)")
        cues.append(Cue(
            id=f"{reel}M{per_reel[reel]}", start=start, end=end,
            scenes=[str(scenes[k].number or k + 1) for k in g],
            mood=mood_words(v, a, inten, t, kind=kind),
            valence=round(v, 3), arousal=round(a, 3), tension=round(t, 3), intensity=round(inten, 3),
            intensity_end=None if inten_end is None else round(inten_end, 3),
            density=None if direction is None else direction.density,
            key=(key := choose_key(palette, v, a, t, direction, previous=prev_key, same_kind=kind == prev_kind)),
            tempo=preferred_tempo(palette, a, direction),
            instruments=instruments, hits=cue_hits,
            direction="; ".join(directions), direction_applied="; ".join(directions), why=why,
            music=music, archetype=kind,
        ))
        if music:
            prev_key, prev_kind = key, kind
    _transitions(cues)
    warnings = list(script.warnings) + direction_notes
    for h in hits_all:
        t = _snap(h.time, rate)
        if not any(c.start - 1e-6 <= t < c.end - 1e-6 for c in cues):
            warnings.append(f"{h.source}: hit '{h.label}' at {t:.3f} s falls where no cue plays; it was left out")
    arc = [{"scene": str(sc.number or k + 1), "heading": sc.heading, "start": round(sc.start, 3),
            "end": round(sc.end, 3), "valence": round(sa.valence, 3), "arousal": round(sa.arousal, 3),
            "tension": round(sa.tension, 3), "source": sa.source, "archetype": scene_kind(sa),
            "beats": [[round(b.time, 2), round(b.valence, 3), round(b.arousal, 3), round(b.tension, 3)]
                      for b in sa.beats if b.weight > 0]}
           for k, (sc, sa) in enumerate(zip(scenes, affects))]
    return CueSheet(title=script.title, cues=cues, length=_snap(script.length, rate), fps=rate, start_tc=start_tc,
                    seed=palette.spec.seed if seed is None else int(seed), script=script.source, analysis=analysis,
                    arc=arc, warnings=warnings)


def _group_kind(g: list[int], scenes: list, affects: list[SceneAffect]) -> str:
    """The archetype that holds most of a group's screen time."""
    time: dict[str, float] = {}
    for k in g:
        kind = scene_kind(affects[k])
        time[kind] = time.get(kind, 0.0) + max(scenes[k].duration, 1e-3)
    return max(time, key=lambda kind: (time[kind], kind))


def _group_affect(g: list[int], scenes: list, affects: list[SceneAffect]) -> dict[str, float]:
    w = [max(scenes[k].duration, 1e-3) for k in g]
    tot = sum(w)
    return {key: sum(getattr(affects[k], key) * wk for k, wk in zip(g, w)) / tot
            for key in ("valence", "arousal", "tension")}


def _absorb_short(groups: list[list[int]], scenes: list, affects: list[SceneAffect], opt: ProposeOptions,
                  rate: FrameRate) -> list[list[int]]:
    """Merge cues shorter than ``min_cue`` into the contiguous neighbour whose mood is closest."""
    changed = True
    while changed and len(groups) > 1:
        changed = False
        for i, g in enumerate(groups):
            length = scenes[g[-1]].end - scenes[g[0]].start
            if length >= opt.min_cue:
                continue
            mine = _group_affect(g, scenes, affects)
            options = []
            for j in (i - 1, i + 1):
                if 0 <= j < len(groups):
                    a, b = (groups[j], g) if j < i else (g, groups[j])
                    if abs(scenes[b[0]].start - scenes[a[-1]].end) < 1.0 / float(rate.fps):
                        options.append((_dist(mine, _group_affect(groups[j], scenes, affects)), j))
            if not options:
                continue
            _, j = min(options)
            if j < i:
                groups[j] = groups[j] + g
            else:
                groups[j] = g + groups[j]
            del groups[i]
            changed = True
            break
    return groups


def _build(g: list[int], scenes: list, affects: list[SceneAffect], opt: ProposeOptions) -> float | None:
    """Intensity at the end of the cue when it clearly rises or falls through it (None if steady)."""
    beats = [(b.time, intensity_of(b.arousal, b.tension), b.weight) for k in g for b in affects[k].beats if b.weight > 0]
    if len(beats) < 4:
        return None
    beats.sort()
    third = max(1, len(beats) // 3)
    def mean(xs: list[tuple[float, float, float]]) -> float:
        w = sum(x[2] for x in xs)
        return sum(x[1] * x[2] for x in xs) / w if w else 0.0
    first, last = mean(beats[:third]), mean(beats[-third:])
    if abs(last - first) < opt.build_threshold:
        return None
    mean_affect = _group_affect(g, scenes, affects)
    base = intensity_of(mean_affect["arousal"], mean_affect["tension"])
    return max(0.0, min(1.0, base + (last - first) / 2))


def _transitions(cues: list[Cue]) -> None:
    """A crossfade between neighbours, a cut into a sudden rise of energy, a fade before silence."""
    for c, nxt in zip(cues, cues[1:] + [None]):
        if nxt is None or nxt.start > c.end + 1e-6:
            c.transition, c.fade_beats = "crossfade", 2.0
        elif nxt.arousal - c.arousal > 0.3:
            c.transition, c.fade_beats = "cut", 0.0
        elif c.arousal < 0.35 and nxt.arousal < 0.35:
            c.transition, c.fade_beats = "crossfade", 2.0
        else:
            c.transition, c.fade_beats = "crossfade", 1.0
