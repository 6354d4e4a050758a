"""The film's palette (a score spec) and how a cue's affect chooses key, tempo and instruments.

A film is scored from one palette — Segue's hybrid orchestra (``data/film_palette.yaml``) or the
composer's own spec — so every cue shares instruments, a home key and themes. Choices follow the
music-psychology directions Segue uses everywhere (arousal ↔ tempo and activity, valence ↔ mode
brightness) plus a film composer's habits, written as *archetypes*: grief is piano, cello and
strings in the minor; suspense is tremolo strings, pizzicato and a low clarinet in harmonic minor;
violence is horn and brass over drums; hope is horn or flute over strings and harp in the major.
A user palette without those instruments falls back to the closest instrument family.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from segue.film.errors import FilmError
from segue.music import Key, Meter

TACET_LAYER = "tacet"
"""The silent layer every film spec gets: the state between cues plays it, and it never sounds."""
GAME_SECTIONS = ("parameters", "mappings", "initial_state", "states", "transitions", "stingers")


@dataclass(slots=True)
class FilmPalette:
    """A validated score spec used as the film's palette, plus its raw data for building the film spec."""

    data: dict[str, Any]
    spec: Any
    source: str
    base_dir: Path | None = None

    @property
    def home_key(self) -> Key:
        return self.spec.palette.home_key

    @property
    def keys(self) -> list[Key]:
        return [self.home_key] + [k for k in self.spec.palette.modulation_keys if k != self.home_key]

    @property
    def tempo_range(self) -> tuple[float, float]:
        t = self.spec.palette.tempo
        return float(t.min), float(t.max)

    @property
    def meter(self) -> Meter:
        return self.spec.palette.meter_value

    @property
    def layers(self) -> list[Any]:
        return list(self.spec.layers)

    def layer(self, name: str) -> Any:
        for layer in self.spec.layers:
            if layer.name == name:
                return layer
        raise KeyError(name)

    @property
    def percussion(self) -> str | None:
        return next((layer.name for layer in self.spec.layers if layer.is_percussion), None)

    @property
    def sha256(self) -> str:
        return str(self.spec.sha256)


def load_palette(path: str | Path | None = None) -> FilmPalette:
    """The default film palette, or a user's spec (game sections are dropped: the cue sheet writes them)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    from segue.spec import SpecError, spec_from_dict

    if path is None:
        text = resources.files("segue.film").joinpath("data/film_palette.yaml").read_text(encoding="utf-8")
        source, base = "<film palette>", None
    else:
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise FilmError(f"{p}: cannot read the palette spec ({exc})") from None
        source, base = str(p), p.resolve().parent
    try:
        data = YAML(typ="safe").load(text)
    except YAMLError as exc:
        raise FilmError(f"{source}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise FilmError(f"{source}: a palette is a score spec (a YAML mapping)")
    data = {k: v for k, v in data.items() if k not in GAME_SECTIONS}
    try:
        spec = spec_from_dict(data, base_dir=base, source=source)
    except SpecError as exc:
        raise FilmError(f"{source}: not a valid score spec:\n{exc}") from None
    if any(layer.name == TACET_LAYER for layer in spec.layers):
        raise FilmError(f"{source}: the layer name {TACET_LAYER!r} is reserved for the silence between cues")
    if len(spec.layers) > 15:
        raise FilmError(f"{source}: a film palette may have at most 15 layers (Segue adds a silent one)")
    return FilmPalette(data, spec, source, base)


# ---------------------------------------------------------------------------------------- instruments
def program_character(program: int) -> tuple[float, float, float]:
    """Where an instrument sits in (valence, arousal, tension) when nothing better is known."""
    special = {40: (0.2, 0.5, 0.3), 41: (-0.1, 0.35, 0.35), 42: (-0.45, 0.3, 0.35), 43: (-0.3, 0.4, 0.5),
               44: (-0.45, 0.55, 0.85), 45: (-0.1, 0.55, 0.6), 46: (0.55, 0.3, 0.05), 47: (-0.4, 0.85, 0.8),
               48: (0.1, 0.35, 0.3), 52: (0.1, 0.25, 0.3), 55: (-0.5, 0.95, 0.9), 56: (0.5, 0.8, 0.35),
               57: (-0.3, 0.7, 0.6), 60: (0.45, 0.6, 0.3), 61: (-0.3, 0.9, 0.8), 69: (-0.45, 0.25, 0.35),
               71: (-0.2, 0.4, 0.55), 73: (0.55, 0.3, 0.05), 89: (0.3, 0.15, 0.1), 116: (-0.4, 0.9, 0.8)}
    if program in special:
        return special[program]
    family = [(0.1, 0.3, 0.25), (0.6, 0.45, 0.1), (-0.1, 0.3, 0.35), (0.35, 0.45, 0.15), (0.0, 0.5, 0.4),
              (0.0, 0.4, 0.35), (0.1, 0.35, 0.3), (0.2, 0.75, 0.45), (0.2, 0.4, 0.25), (0.4, 0.35, 0.1),
              (0.0, 0.7, 0.5), (-0.05, 0.2, 0.4), (-0.3, 0.3, 0.65), (0.2, 0.5, 0.3), (-0.3, 0.85, 0.75),
              (-0.3, 0.5, 0.6)]
    return family[max(0, min(127, program)) // 8]


PERCUSSIVE_PROGRAMS = frozenset({47} | set(range(112, 120)))
"""Timpani and the percussive GM programs: asked for by name, they go to the palette's percussion layer."""
LOUD_PROGRAMS = frozenset(range(56, 64)) | {47, 55, 116, 117, 118}
"""Instruments that only belong in loud, high-arousal music (brass, timpani, taiko, orchestra hits)."""

ARCHETYPES: dict[str, tuple[tuple[float, float, float], dict[str, list[int]]]] = {
    # name: ((valence, arousal, tension), preferred GM programs by role, best first)
    "calm": ((0.45, 0.15, 0.1), {"melody": [73, 68, 0, 46], "harmony": [48, 49, 52, 89], "bass": [43, 32],
                                 "ostinato": [46, 8, 45], "counter": [71, 42], "drone": [89, 88]}),
    "hope": ((0.6, 0.45, 0.15), {"melody": [60, 73, 40], "harmony": [48, 52], "bass": [43, 32],
                                 "ostinato": [46, 8], "counter": [42, 71], "drone": [89]}),
    "joy": ((0.8, 0.65, 0.05), {"melody": [73, 40, 56], "harmony": [48], "bass": [43, 32],
                                "ostinato": [45, 46, 8], "counter": [71], "drone": [89]}),
    "triumph": ((0.8, 0.85, 0.2), {"melody": [60, 56], "harmony": [61, 48, 52], "bass": [43, 32],
                                   "ostinato": [45, 47], "counter": [42], "drone": [89]}),
    "suspense": ((-0.35, 0.45, 0.75), {"melody": [71, 0, 42], "harmony": [48, 49], "bass": [43],
                                       "ostinato": [45, 46], "counter": [71, 42], "drone": [44, 99, 89]}),
    "dread": ((-0.6, 0.3, 0.65), {"melody": [0, 69, 42], "harmony": [48, 52], "bass": [43],
                                  "ostinato": [45], "counter": [42], "drone": [44, 99, 89]}),
    "violence": ((-0.75, 0.9, 0.85), {"melody": [60, 57, 56], "harmony": [61, 48], "bass": [43, 33],
                                      "ostinato": [45, 47], "counter": [42], "drone": [44]}),
    "grief": ((-0.7, 0.2, 0.3), {"melody": [0, 42, 40], "harmony": [48, 52], "bass": [43],
                                 "ostinato": [46], "counter": [42, 69], "drone": [89]}),
    "neutral": ((0.0, 0.4, 0.3), {"melody": [0, 73], "harmony": [48], "bass": [43, 32],
                                  "ostinato": [46, 45], "counter": [71, 42], "drone": [89]}),
    # named by the learned reader (segue.film.reader); never the nearest to a bare affect (see archetype())
    "romance": ((0.6, 0.3, 0.1), {"melody": [40, 73, 0], "harmony": [48, 49], "bass": [43, 32],
                                  "ostinato": [46, 0], "counter": [42, 71], "drone": [89]}),
    "comedy": ((0.6, 0.6, 0.05), {"melody": [71, 70, 68, 72], "harmony": [45, 48], "bass": [43, 32],
                                  "ostinato": [45, 12, 13, 8], "counter": [71, 42], "drone": [89]}),
    "wonder": ((0.55, 0.4, 0.15), {"melody": [73, 60, 52], "harmony": [52, 48], "bass": [43],
                                   "ostinato": [46, 8, 10], "counter": [42], "drone": [89, 88]}),
}
READER_ONLY = frozenset({"romance", "comedy", "wonder"})
"""Archetypes only the learned reader names: an affect alone cannot tell romance from calm warmth."""
FAMILY_OF_ARCHETYPE: dict[str, dict[str, object]] = {
    # what a film composer reaches for first: the roles that must play and the layers that must not
    "violence": {"must": ["percussion", "brass"], "avoid": []},
    "triumph": {"must": ["percussion", "brass"], "avoid": []},
    "grief": {"must": [], "avoid": ["percussion", "brass"]},
    "calm": {"must": [], "avoid": ["percussion", "brass"]},
    "romance": {"must": [], "avoid": ["percussion", "brass"]},
    "wonder": {"must": [], "avoid": ["percussion"]},
    "suspense": {"must": [], "avoid": ["brass"]},
    "comedy": {"must": [], "avoid": ["brass"]},
}


def archetype(valence: float, arousal: float, tension: float) -> str:
    """The nearest archetype to an affect (tension counts a little less than valence and arousal)."""
    def dist(p: tuple[float, float, float]) -> float:
        return (valence - p[0]) ** 2 + (arousal - p[1]) ** 2 + 0.6 * (tension - p[2]) ** 2
    return min((k for k in ARCHETYPES if k not in READER_ONLY), key=lambda k: dist(ARCHETYPES[k][0]))


def roles_for(valence: float, arousal: float, tension: float, intensity: float) -> list[str]:
    """Which roles play: always a melody and a harmony bed, the rest as the scene asks."""
    roles = ["melody", "harmony"]
    if intensity > 0.3 or arousal > 0.5:
        roles.append("bass")
    if intensity > 0.45 or (valence < -0.4 and arousal < 0.4):
        roles.append("counter")
    if arousal > 0.35 or valence > 0.3:
        roles.append("ostinato")
    if (tension > 0.5 and arousal < 0.8) or arousal < 0.15:
        roles.append("drone")
    if arousal > 0.7 or intensity > 0.8:
        roles.append("percussion")
    return roles


def _pick(layers: list[Any], role: str, prefs: list[int], affect: tuple[float, float, float],
          used: set[str]) -> str | None:
    v, a, t = affect
    cands = [x for x in layers if x.role == role and x.name not in used]
    if role != "percussion":
        cands = [x for x in cands if int(x.program) not in LOUD_PROGRAMS or a >= 0.6]
    if not cands:
        return None
    for prog in prefs:
        for x in cands:
            if int(x.program) == prog:
                return x.name

    def dist(x: Any) -> float:
        cv, ca, ct = program_character(int(x.program))
        return abs(cv - v) + abs(ca - a) + abs(ct - t)
    return min(cands, key=dist).name


def choose_instruments(pal: FilmPalette, valence: float, arousal: float, tension: float, intensity: float,
                       direction: Any | None = None, kind: str | None = None) -> tuple[list[str], list[str]]:
    """Layer names for a cue and notes on any instrument the palette could not give.

    ``kind`` is the cue's archetype when the learned reader named one (else the nearest to the
    affect): it picks the preferred instruments per role, and a film composer's habits on top —
    violence and triumph get brass and percussion, grief, calm and romance neither.
    """
    notes: list[str] = []
    layers = pal.layers
    if direction is not None and direction.instruments:
        chosen: list[str] = []
        for word, prog in direction.instruments:
            exact = [x.name for x in layers if int(x.program) == prog and not x.is_percussion]
            family = [x.name for x in layers if int(x.program) // 8 == prog // 8 and not x.is_percussion]
            if prog in PERCUSSIVE_PROGRAMS and not exact:
                # timpani sit among the strings in General MIDI's numbering, but a composer asking for
                # them wants the percussion section, never a cello
                if pal.percussion:
                    if pal.percussion not in chosen:
                        chosen.append(pal.percussion)
                    notes.append(f"'{word}' is not a layer of the palette; the percussion layer "
                                 f"({pal.percussion}) plays it")
                else:
                    notes.append(f"'{word}' is not in the palette and it has no percussion; left out")
                continue
            if exact:
                pick = exact[0]
            elif family:
                pick = family[0]
                notes.append(f"'{word}' is not in the palette; using {pick} (same instrument family)")
            else:
                notes.append(f"'{word}' is not in the palette and has no relative there; left out")
                continue
            if pick not in chosen:
                chosen.append(pick)
        if direction.percussion and pal.percussion:
            chosen.append(pal.percussion)
        if chosen and any(not pal.layer(n).is_percussion for n in chosen):
            return chosen, notes
    kind = kind if kind in ARCHETYPES else archetype(valence, arousal, tension)
    prefs = ARCHETYPES[kind][1]
    habits = FAMILY_OF_ARCHETYPE.get(kind, {"must": [], "avoid": []})
    used: set[str] = set()
    out: list[str] = []
    roles = roles_for(valence, arousal, tension, intensity)
    if "percussion" in habits["must"] and "percussion" not in roles:
        roles.append("percussion")
    if "percussion" in habits["avoid"]:
        roles = [r for r in roles if r != "percussion"]
    for role in roles:
        loud = max(arousal, 0.6) if kind in ("violence", "triumph") else arousal  # horns may play
        name = _pick(layers, role, prefs.get(role, []), (valence, loud, tension), used)
        if name is not None:
            out.append(name)
            used.add(name)
    if "brass" in habits["must"]:  # the brass section (GM 56–63) joins loud cues that have none yet
        brass = [x.name for x in layers if 56 <= int(x.program) <= 63 and not x.is_percussion]
        if brass and not any(n in brass for n in out):
            out.append(brass[0])
    if "brass" in habits["avoid"]:
        out = [n for n in out if not 56 <= int(pal.layer(n).program) <= 63] or out
    if arousal > 0.75 and intensity > 0.7:  # a second harmony voice for the loudest scenes
        extra = _pick(layers, "harmony", prefs.get("harmony", [])[1:] + [48], (valence, arousal, tension), used)
        if extra:
            out.append(extra)
    if direction is not None and direction.percussion is False:
        out = [n for n in out if not pal.layer(n).is_percussion]
    elif direction is not None and direction.percussion and pal.percussion and pal.percussion not in out:
        out.append(pal.percussion)
    if not any(not pal.layer(n).is_percussion for n in out):
        pitched = [x.name for x in layers if not x.is_percussion]
        out.insert(0, pitched[0])
    return out, notes


# ---------------------------------------------------------------------------------------- key and tempo
RELATED = {0: 0.1, 3: 0.2, 9: 0.2, 5: 0.2, 7: 0.2}
"""Tonic distance (semitones up from the previous cue's tonic) → how natural the move is: parallel mode,
relative major/minor, subdominant, dominant. A film's keys move by these, as a composer's would."""


def choose_key(pal: FilmPalette, valence: float, arousal: float, tension: float,
               direction: Any | None = None, previous: str | None = None, same_kind: bool = False) -> str:
    """The palette key whose mode brightness matches valence; tension leans to harmonic minor / phrygian.

    With ``previous`` (the cue before's key) the key moves with the drama: a cue of the same
    archetype stays in the key, a change of archetype moves to a related key (relative, parallel,
    dominant, subdominant) rather than restarting from the home key — one key for a whole film is
    what a lexicon-only reading of mood gave, and what no score sounds like.
    """
    keys = pal.keys
    if direction is not None and direction.key:
        try:
            want = Key.parse(direction.key)
        except ValueError:
            want = None
        if want is not None:
            for k in keys:
                if k.tonic == want.tonic and k.pitch_classes == want.pitch_classes:
                    return k.name()
    home = pal.home_key
    lo = min(k.brightness for k in keys)
    hi = max(k.brightness for k in keys)
    # film valences rarely reach the ends of the scale: -0.8 already asks for the darkest mode, +0.6 the brightest
    target = lo + max(0.0, min(1.0, (valence + 0.8) / 1.4)) * (hi - lo)

    prev = None
    if previous:
        try:
            prev = Key.parse(previous)
        except ValueError:
            prev = None

    def cost(k: Key) -> float:
        c = abs(k.brightness - target) + (0.0 if k.tonic == home.tonic else 0.25 if prev is None else 0.1)
        if prev is not None:
            same = k.tonic == prev.tonic and k.pitch_classes == prev.pitch_classes
            if same_kind:
                c -= 0.3 if same else 0.0
            else:
                c += 0.15 if same else -RELATED.get((k.tonic - prev.tonic) % 12, 0.0)
        if valence < 0 and tension > 0.5 and k.mode == "harmonic_minor":
            c -= 0.4 * tension
        if valence < -0.3 and k.mode == "phrygian":
            c -= 0.5 * tension + 0.4 * max(0.0, arousal - 0.6)
        if valence > 0.2 and arousal < 0.35 and k.family == "major" and k.tonic != home.tonic and \
                (k.tonic - home.tonic) % 12 == 3:
            c -= 0.35  # calm warmth: the relative major
        return c
    return min(keys, key=lambda k: (cost(k), k != home)).name()


def preferred_tempo(pal: FilmPalette, arousal: float, direction: Any | None = None) -> float:
    """Tempo from arousal (the strongest cue for it), scaled by tempo words, inside the palette."""
    lo, hi = pal.tempo_range
    if direction is not None and direction.tempo:
        t = float(direction.tempo)
    else:
        t = 52.0 + 100.0 * max(0.0, min(1.0, arousal)) ** 1.2
        if direction is not None:
            t *= direction.tempo_scale
    return round(min(max(t, lo), hi), 1) if math.isfinite(t) else round((lo + hi) / 2, 1)
