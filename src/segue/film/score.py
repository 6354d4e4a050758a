"""A cue sheet as the engine's input: a score spec with one state per cue section, and a timeline.

Every cue (or each section of a cue that had to be split for its hits) becomes a *state* of the
film's score spec: its mood, key, layers. Between cues and before the first one the music is in
the silent ``tacet`` state. Each state is entered by a ``state`` control at the cue's exact sample
with ``quantize: immediate``, so its first bar — a downbeat — starts on that sample (to within one
tick). Tempo, intensity, density and tension are game *parameters* mapped one-to-one onto the
music; the timeline sets them bar by bar, which is how a cue gets its click track (a tempo per
bar, chosen by :mod:`segue.film.hits`) and its builds. Hits fire quantized stingers on the beat.

The engine seeds a state's music by the transition's ordinal, so a cue's notes depend only on its
own settings and its position in the chain of states — edit one cue and the others keep theirs.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from segue.engine.controls import Control
from segue.film.cuesheet import Cue, CueSheet
from segue.film.errors import FilmError
from segue.film.hits import PlannedHit, Section, bar_starts, plan_sections
from segue.film.palette import TACET_LAYER, FilmPalette
from segue.music import Key

TACET = "tacet"
EARLY_START = 0.25
"""A hit this close after a cue's start moves the start onto the hit (a downbeat there is the point)."""
STINGER_LEAD = 0.02
"""A beat-quantized hit stinger is fired this many seconds before its beat, so it lands on that beat."""


@dataclass(slots=True)
class ChainState:
    """One state in the order the film plays them: tacet or a section of a cue."""

    name: str
    start: float
    end: float
    ordinal: int
    cue: Cue | None = None
    section: Section | None = None
    section_index: int = 0


@dataclass(slots=True)
class FilmPlan:
    """What the engine is asked to play, and what we expect to hear."""

    spec_data: dict[str, Any]
    controls: list[Control]
    chain: list[ChainState]
    hits: dict[str, list[PlannedHit]]
    cue_starts: dict[str, float]
    bridge_in: dict[str, bool] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def states_of(self, cue_id: str) -> list[ChainState]:
        return [s for s in self.chain if s.cue is not None and s.cue.id == cue_id]


def lock_context(sheet: CueSheet, palette: FilmPalette, ordinal: int, bridge_in: bool) -> dict[str, Any]:
    """Everything outside a cue that its notes depend on."""
    return {"palette": palette.sha256, "seed": sheet.seed, "ordinal": ordinal, "bridge_in": bridge_in}


def _stingers(palette: FilmPalette) -> list[dict[str, Any]]:
    tonic = palette.home_key.tonic
    out = []
    for q, suffix in (("beat", "beat"), ("immediate", "now")):
        out.append({"name": f"timpani_{suffix}", "notes": f"{36 + tonic}:1", "program": 47, "quantize": q,
                    "cooldown_beats": 0, "gain_db": 2.0})
        out.append({"name": f"chime_{suffix}", "notes": f"{72 + tonic}:2", "program": 14, "quantize": q,
                    "cooldown_beats": 0, "gain_db": -4.0})
        if palette.percussion:
            out.append({"name": f"crash_{suffix}", "notes": "49:2", "layer": palette.percussion, "quantize": q,
                        "cooldown_beats": 0, "gain_db": -3.0})
    return out


def hit_stingers(cue: Cue, palette: FilmPalette) -> list[str]:
    """Which accents a hit gets: a chime in quiet music, timpani (and a cymbal) in loud music."""
    if cue.arousal < 0.45 and cue.intensity < 0.55:
        return ["chime"]
    return ["timpani", "crash"] if palette.percussion else ["timpani"]


def plan_film(sheet: CueSheet, palette: FilmPalette) -> FilmPlan:
    """Turn a (validated) cue sheet into a score spec and a timeline of controls (``music: false`` cues: silence)."""
    sheet.validate()
    dry_hits = [f"hit '{h.label}' at {sheet.tc(h.time)} is in {c.id}, spotted dry (music: false): it gets no accent"
                for c in sheet.dry_spans() for h in c.hits]
    sheet = sheet.playing()
    lo, hi = palette.tempo_range
    meter = palette.meter
    layer_names = {x.name for x in palette.layers}
    chain: list[ChainState] = [ChainState(TACET, 0.0, 0.0, 0)]
    hits: dict[str, list[PlannedHit]] = {}
    cue_starts: dict[str, float] = {}
    notes: list[str] = list(dry_hits)
    bridge_in: dict[str, bool] = {}
    for k, cue in enumerate(sheet.cues):
        for name in cue.instruments:
            if name not in layer_names:
                import difflib

                close = difflib.get_close_matches(name, sorted(layer_names), n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                raise FilmError(f"cue {cue.id}: no instrument (layer) called {name!r} in the palette{hint} "
                                f"(the palette has: {', '.join(sorted(layer_names))})")
        if not cue.instruments:
            raise FilmError(f"cue {cue.id}: give at least one instrument")
        if not lo <= cue.tempo <= hi:
            raise FilmError(f"cue {cue.id}: tempo {cue.tempo:g} is outside the palette's range {lo:g}–{hi:g} bpm")
        start = cue.start
        if cue.hits and 0 < cue.hits[0].time - start <= EARLY_START:
            notes.append(f"cue {cue.id} starts at its first hit ({sheet.tc(cue.hits[0].time)}), "
                         f"{(cue.hits[0].time - start) * 1000:.0f} ms after its written start")
            start = cue.hits[0].time
        prev = chain[-1]
        if prev.cue is None:
            prev.end = start
        elif cue.start > prev.end + 1e-9:
            chain.append(ChainState(TACET, prev.end, start, len(chain)))
        else:
            prev.end = start  # adjacent cues: the previous one plays until this one starts
        sections, planned = plan_sections(start, cue.end, [(h.time, h.label, h.source) for h in cue.hits],
                                          cue.tempo, (lo, hi), meter)
        hits[cue.id] = planned
        cue_starts[cue.id] = start
        bridge_in[cue.id] = k > 0 and sheet.cues[k - 1].transition == "segue" and \
            abs(sheet.cues[k - 1].end - cue.start) < 1e-6
        for i, sec in enumerate(sections):
            name = cue.id if i == 0 else f"{cue.id}.{i + 1}"
            chain.append(ChainState(name, sec.start, sec.end, len(chain), cue, sec, i))
    last = chain[-1]
    if last.cue is not None:  # the end of the film (or the silence after the last cue): the music fades out
        chain.append(ChainState(TACET, last.end, sheet.length, len(chain)))
    _fade_outs(chain, meter)
    spec = _spec_data(sheet, palette, chain)
    controls = _controls(sheet, palette, chain, meter)
    return FilmPlan(spec, controls, chain, hits, cue_starts, bridge_in, notes)


def _fade_outs(chain: list[ChainState], meter: Any) -> None:
    """Before silence, a cue ends by fading: its tacet starts ``fade_beats`` before the written end."""
    for prev, st in zip(chain, chain[1:]):
        if st.name != TACET or prev.cue is None or prev.section is None:
            continue
        beat = 60.0 / prev.section.tail_tempo * meter.ticks_per_beat / 480
        fade = prev.cue.fade_beats * beat
        last_hit = max((h.time for h in prev.cue.hits), default=prev.start)
        new_start = max(st.start - fade, last_hit + 0.3, prev.start + 0.5)
        if new_start < st.start:
            prev.end = new_start
            st.start = new_start


def _intensity_at(cue: Cue, t: float) -> float:
    if cue.intensity_end is None or cue.duration <= 0:
        return cue.intensity
    x = min(max((t - cue.start) / cue.duration, 0.0), 1.0)
    return cue.intensity + (cue.intensity_end - cue.intensity) * x


def music_tension(cue: Cue) -> float:
    """Harmonic tension: the engine's own affect mapping, pulled towards the scene's tension."""
    from segue.compose.affect import Affect, affect_to_state

    st = affect_to_state(Affect(cue.valence, cue.arousal, cue.intensity), home=Key.parse(cue.key))
    return max(0.0, min(1.0, 0.5 * st.tension + 0.5 * cue.tension))


def music_density(cue: Cue, intensity: float) -> float:
    """Note density: the engine's mapping for this affect, scaled by a texture word ("sparse")."""
    from segue.compose.affect import Affect, affect_to_state

    st = affect_to_state(Affect(cue.valence, cue.arousal, intensity), home=Key.parse(cue.key))
    if cue.density is None:
        return st.density
    return max(0.0, min(1.0, 0.35 * st.density + 0.65 * cue.density))


def _spec_data(sheet: CueSheet, palette: FilmPalette, chain: list[ChainState]) -> dict[str, Any]:
    data = copy.deepcopy(palette.data)
    data["name"] = (str(sheet.title) or "film")[:100]
    data["seed"] = int(sheet.seed)
    lo, hi = palette.tempo_range
    pal = dict(data.get("palette") or {})
    mods = list(pal.get("modulations") or [])
    have = {(k.tonic, k.pitch_classes) for k in palette.keys}
    for cue in sheet.cues:
        k = Key.parse(cue.key)
        if (k.tonic, k.pitch_classes) not in have:
            mods.append(k.name().replace("_", " "))
            have.add((k.tonic, k.pitch_classes))
    pal["modulations"] = mods
    data["palette"] = pal
    data["layers"] = list(data["layers"]) + [{"name": TACET_LAYER, "role": "drone", "program": 0,
                                              "range": ["C2", "C4"], "gain_db": -60.0, "enter": 1.0}]
    first_tempo = next((s.section.tempo_of_bar(0) for s in chain if s.section is not None), (lo + hi) / 2)
    data["parameters"] = [
        {"name": "tempo", "range": [lo, hi], "default": first_tempo, "seek": 0},
        {"name": "intensity", "range": [0.0, 1.0], "default": 0.0, "seek": 0},
        {"name": "density", "range": [0.0, 1.0], "default": 0.5, "seek": 0},
        {"name": "tension", "range": [0.0, 1.0], "default": 0.3, "seek": 0},
    ]
    data["mappings"] = [{"parameter": p, "target": p, "curve": "linear"}
                        for p in ("tempo", "intensity", "density", "tension")]
    states: list[dict[str, Any]] = [{"name": TACET, "mood": {"valence": 0.0, "arousal": 0.0, "intensity": 0.0},
                                     "layers": [TACET_LAYER]}]
    transitions: list[dict[str, Any]] = []
    seen_pairs: set[tuple[str, str]] = set()
    for prev, st in zip(chain, chain[1:]):
        if st.cue is not None and st.section is not None:
            c = st.cue
            states.append({"name": st.name, "mood": {"valence": c.valence, "arousal": c.arousal,
                                                     "intensity": c.intensity},
                           "key": Key.parse(c.key).name().replace("_", " "),
                           "tempo": st.section.tempo_of_bar(0), "layers": list(c.instruments)})
        if prev.cue is not None and st.cue is prev.cue:
            fade, bridge = 0.5, False  # a split inside a cue, at a hit: nearly a cut
        elif prev.cue is not None:
            fade, bridge = prev.cue.fade_beats, prev.cue.transition == "segue" and st.cue is not None
            if prev.cue.transition == "cut":
                fade = 0.0
        else:
            fade, bridge = 0.0, False
        pair = (prev.name, st.name)
        if pair not in seen_pairs:
            seen_pairs.add(pair)
            transitions.append({"from": prev.name, "to": st.name, "quantize": "immediate",
                                "fade_beats": float(fade), "bridge": bool(bridge)})
    data["states"] = states
    data["initial_state"] = TACET
    data["transitions"] = transitions
    data["stingers"] = _stingers(palette)
    return data


def _controls(sheet: CueSheet, palette: FilmPalette, chain: list[ChainState], meter: Any) -> list[Control]:
    sr = sheet.sample_rate
    out: list[Control] = []

    def at(t: float) -> int:
        return max(0, int(round(t * sr)))

    def param(name: str, value: float, t: float) -> None:
        out.append(Control(kind="param", name=name, value=float(value), sample=at(t)))

    last_tempo = None
    for st in chain[1:]:
        if st.cue is None or st.section is None:  # silence: keep the last tempo so the fade is in its beats
            if last_tempo is not None:
                param("tempo", last_tempo, st.start)
            param("intensity", 0.0, st.start)
            out.append(Control(kind="state", name=TACET, sample=at(st.start)))
            continue
        cue, sec = st.cue, st.section
        starts = bar_starts(sec, meter, st.end)
        tempos = [sec.tempo_of_bar(k) for k in range(len(starts))]
        inten = [_intensity_at(cue, t) for t in starts] or [cue.intensity]
        tension = music_tension(cue)
        param("tempo", tempos[0] if tempos else sec.tail_tempo, st.start)
        param("intensity", inten[0], st.start)
        param("density", music_density(cue, inten[0]), st.start)
        param("tension", tension, st.start)
        out.append(Control(kind="state", name=st.name, sample=at(st.start)))
        # bar k is composed when bar k-1 starts: its values must be set during bar k-2 (bar 1: right away)
        for k in range(1, len(starts)):
            when = st.start if k == 1 else (starts[k - 2] + starts[k - 1]) / 2
            if tempos[k] != tempos[k - 1]:
                param("tempo", tempos[k], when)
            if abs(inten[k] - inten[k - 1]) > 0.01:
                param("intensity", inten[k], when)
                param("density", music_density(cue, inten[k]), when)
        last_tempo = tempos[-1] if tempos else sec.tail_tempo
        kinds = hit_stingers(cue, palette)
        for h in cue.hits:
            if not st.start - 1e-6 <= h.time < st.end - 1e-6 and not (st.section_index == 0 and
                                                                      cue.start - 1e-6 <= h.time < st.start):
                continue
            if abs(h.time - st.start) <= 0.002 or h.time < st.start:
                for kind in kinds:
                    out.append(Control(kind="stinger", name=f"{kind}_now", sample=at(st.start)))
            else:
                for kind in kinds:
                    out.append(Control(kind="stinger", name=f"{kind}_beat", sample=at(h.time - STINGER_LEAD)))
    return out
