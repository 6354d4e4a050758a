"""The score spec as typed models: what a composer may write, with defaults and allowed values.

Every model forbids unknown fields (a typo must never be silently ignored) and is frozen (a spec
is a set of rules; changing one means building a new, re-validated spec). Checks that look at a
single value (a note name, a key, a number's bounds) live here; checks that relate several parts
(a layer's range against the key, a theme against its layer) live in :mod:`segue.spec.checks`.

To add a section: write its model here, add it as a field of :class:`Spec` with a default, and
register its cross-checks in :mod:`segue.spec.checks`. Loading, line numbers and error messages need
no change. The adaptive sections for games (``parameters``, ``mappings``, ``initial_state``,
``states``, ``transitions``, ``stingers``) were added that way; a spec without them is unchanged,
hash included.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import math
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    FiniteFloat,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from segue.music import Key, Meter, Note, pitch_name
from segue.spec.gm import program_name, program_number
from segue.limits import MAX_PATH_CHARS, check_number
from segue.spec.issues import LocatedError
from segue.spec.notation import parse_key, parse_meter, parse_note, tokenize_note_text

LayerRole = Literal["melody", "counter", "harmony", "bass", "percussion", "ostinato", "drone"]
PERCUSSION_BANK = 128
"""SoundFont bank of GM drum kits (what TinySoundFont and most players use for channel 10)."""
PERCUSSION_RANGE = (35, 81)
"""The GM percussion key map (Acoustic Bass Drum .. Open Triangle)."""

ROLE_DEFAULTS: dict[str, tuple[int, tuple[int, int]]] = {
    "melody": (73, (60, 84)),      # flute, C4..C6
    "counter": (71, (55, 79)),     # clarinet, G3..G5
    "harmony": (48, (48, 72)),     # string ensemble 1, C3..C5
    "bass": (32, (28, 52)),        # acoustic bass, E1..E3
    "ostinato": (46, (55, 84)),    # orchestral harp, G3..C6
    "drone": (89, (36, 60)),       # warm pad, C2..C4
    "percussion": (0, PERCUSSION_RANGE),  # standard kit
}
"""Program and range a layer gets when the spec leaves them out, by role."""


class SpecModel(BaseModel):
    """Base of all spec sections: unknown fields are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=False)


# ---------- single-value types ----------

def _name(value: Any) -> Any:
    """Names are text; a bare number (``name: 1999``) is taken as its text, not an error."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value.strip() if isinstance(value, str) else value


Name = Annotated[str, BeforeValidator(_name), Field(min_length=1, max_length=100)]


def _key_text(value: str) -> str:
    parse_key(value)
    return " ".join(value.split())


KeyText = Annotated[str, AfterValidator(_key_text)]


def _meter_text(value: Any) -> Any:
    return str(parse_meter(value))


MeterText = Annotated[str, BeforeValidator(_meter_text)]
Pitch = Annotated[int, BeforeValidator(parse_note)]


def _range_shape(value: Any) -> Any:
    if isinstance(value, (list, tuple)) and len(value) != 2:
        raise ValueError(f"a range is two notes [low, high], got {len(value)} value(s)")
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"a range is two notes [low, high] like [C4, C6], got {value!r}")
    return value


def _range_order(value: tuple[int, int]) -> tuple[int, int]:
    low, high = value
    if low > high:
        raise ValueError(f"low {pitch_name(low)} is above high {pitch_name(high)}")
    if low == high:
        raise ValueError(f"low {pitch_name(low)} equals high; a range needs low below high")
    return value


PitchRange = Annotated[tuple[Pitch, Pitch], BeforeValidator(_range_shape), AfterValidator(_range_order)]


def _program(value: Any) -> Any:
    return program_number(value) if isinstance(value, str) and not value.strip().isdigit() else value


Program = Annotated[int, BeforeValidator(_program), Field(ge=0, le=127)]


# ---------- sections ----------

class Tempo(SpecModel):
    """Tempo bounds in quarter-note bpm; the engine moves between min and max, starting at default."""

    min: float = Field(60.0, ge=20, le=300)
    max: float = Field(160.0, ge=20, le=300)
    default: float = Field(100.0, ge=20, le=300)


class Palette(SpecModel):
    """The tonal and metric boundaries: key, modulations, tempo, meter, phrase length, strictness."""

    key: KeyText = "C major"
    modulations: list[KeyText] = Field(default_factory=list)
    tempo: Tempo = Field(default_factory=Tempo)
    meter: MeterText = "4/4"
    phrase_bars: Literal[2, 4, 8] = 4
    scale_tolerance: float = Field(0.0, ge=0.0, le=0.2)
    chromatic: Literal["none", "harmonic", "free"] = "harmonic"
    """How chromatic the score may be, a hard policy checked on every note: ``none`` keeps every
    pitched note in the key (strictly modal); ``harmonic`` (default) also allows the tones of the
    sounding applied, borrowed or chromatic chord; ``free`` checks ranges only."""

    @field_validator("tempo", mode="before")
    @classmethod
    def _fixed_tempo(cls, value: Any) -> Any:
        """``tempo: 96`` is shorthand for a fixed tempo (min = max = default = 96)."""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if not 20 <= value <= 300:
                raise ValueError(f"tempo {value:g} bpm is outside 20..300")
            return {"min": value, "max": value, "default": value}
        return value

    @property
    def home_key(self) -> Key:
        return parse_key(self.key)

    @property
    def modulation_keys(self) -> list[Key]:
        return [parse_key(k) for k in self.modulations]

    @property
    def meter_value(self) -> Meter:
        return Meter.parse(self.meter)


class Mood(SpecModel):
    """Default affect when nothing drives it: valence (sad..happy), arousal (calm..excited), intensity."""

    valence: float = Field(0.0, ge=-1.0, le=1.0)
    arousal: float = Field(0.5, ge=0.0, le=1.0)
    intensity: float = Field(0.5, ge=0.0, le=1.0)


class Layer(SpecModel):
    """One voice of the arrangement: its role, instrument, register, level and when it plays."""

    name: Name
    role: LayerRole
    program: Program = 0
    bank: int = Field(0, ge=0, le=128)
    range: PitchRange = (60, 84)
    gain_db: float = Field(0.0, ge=-60.0, le=12.0)
    pan: float = Field(0.0, ge=-1.0, le=1.0)
    enter: float = Field(0.0, ge=0.0, le=1.0)
    density: float = Field(1.0, ge=0.0, le=2.0)

    @model_validator(mode="before")
    @classmethod
    def _role_defaults(cls, data: Any) -> Any:
        """Fill program, bank and range from the role, so a dumped spec states every value it uses."""
        # the role may be any YAML value here (a list is unhashable): only a known name fills defaults
        if not isinstance(data, dict) or not isinstance(data.get("role"), str) or data["role"] not in ROLE_DEFAULTS:
            return data
        program, pitch_range = ROLE_DEFAULTS[data["role"]]
        filled = dict(data)
        filled.setdefault("program", program)
        filled.setdefault("range", list(pitch_range))
        filled.setdefault("bank", PERCUSSION_BANK if data["role"] == "percussion" else 0)
        return filled

    @model_validator(mode="after")
    def _bank_fits_role(self) -> "Layer":
        # bank 128 holds the GM drum kits: a pitched layer on it failed only when the WAV was written
        if self.bank == PERCUSSION_BANK and self.role != "percussion":
            raise ValueError(f"bank {PERCUSSION_BANK} holds drum kits: only a percussion layer may use it "
                             f"(pitched layers use banks 0..127)")
        return self

    @property
    def is_percussion(self) -> bool:
        return self.role == "percussion"

    @property
    def is_pitched(self) -> bool:
        return not self.is_percussion

    @property
    def low(self) -> int:
        return self.range[0]

    @property
    def high(self) -> int:
        return self.range[1]

    @property
    def instrument(self) -> str:
        """GM name of the program (for percussion, the program picks the drum kit)."""
        return program_name(self.program)


class Theme(SpecModel):
    """A motif the composer wrote, as inline note text or a MIDI file, optionally bound to a layer."""

    name: Name
    notes: str | None = None
    midi: str | None = None
    layer: str | None = None

    @field_validator("notes")
    @classmethod
    def _notes(cls, value: str | None) -> str | None:
        if value is None:
            return value
        tokens = tokenize_note_text(value)
        if not any(t.note for t in tokens):
            raise ValueError("no notes (a theme needs at least one note, e.g. \"D4:1 E4 F4:2\")")
        return value

    @field_validator("midi")
    @classmethod
    def _midi(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("empty MIDI file path")
        if value is not None and len(value) > MAX_PATH_CHARS:
            raise ValueError(f"MIDI file path too long ({len(value)} characters; at most {MAX_PATH_CHARS})")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> "Theme":
        if self.notes is None and self.midi is None:
            raise ValueError("give the theme's notes (inline text) or midi (a file path)")
        if self.notes is not None and self.midi is not None:
            raise ValueError("give either notes or midi, not both")
        return self

    def midi_path(self, base_dir: Path | None = None) -> Path | None:
        """The MIDI file, resolved against ``base_dir`` (the spec's folder; cwd if None)."""
        if self.midi is None:
            return None
        path = Path(self.midi).expanduser()
        return path if path.is_absolute() else (base_dir or Path.cwd()) / path

    def parsed_notes(self, base_dir: Path | None = None) -> list[Note]:
        """The theme's notes, start/duration in ticks (PPQ 480), from text or the MIDI file."""
        if self.notes is not None:
            return [t.note for t in tokenize_note_text(self.notes) if t.note is not None]
        from segue.spec.midi import read_theme_midi

        path = self.midi_path(base_dir)
        assert path is not None  # guaranteed by _one_source
        return read_theme_midi(path, shown=self.midi)


# ---------- the adaptive sections (games): parameters, mappings, states, transitions, stingers ----------

ANY_STATE = "any"
"""In a transition, ``from: any`` / ``to: any`` stands for every state (so no state may be called that)."""

MappingTarget = Literal["valence", "arousal", "intensity", "density", "tension", "tempo", "register",
                        "dynamics", "brightness", "percussion", "layer_gain", "volume"]
AFFECT_TARGETS = frozenset({"valence", "arousal", "intensity"})
"""Targets that move the affect (applied before the affect → music mapping), not the music directly."""
TARGET_RANGES: dict[str, tuple[float, float] | None] = {
    "valence": (-1.0, 1.0), "arousal": (0.0, 1.0), "intensity": (0.0, 1.0),
    "density": (0.0, 1.0), "tension": (0.0, 1.0), "tempo": None, "register": (-1.0, 1.0),
    "dynamics": (0.0, 1.0), "brightness": (0.0, 1.0), "percussion": (0.0, 1.0), "layer_gain": (-60.0, 12.0),
    "volume": (-60.0, 12.0),
}
"""The values a mapping may produce for each target; tempo's are the palette's tempo bounds (bpm)."""
TARGET_UNITS: dict[str, str] = {"tempo": " bpm", "layer_gain": " dB", "volume": " dB"}

TransitionQuantize = Literal["immediate", "beat", "bar", "phrase", "cue"]
StingerQuantize = Literal["immediate", "beat", "bar", "phrase"]
DEFAULT_STINGER_PROGRAM = 9
"""Glockenspiel: a bright, short sound that cuts through any texture without clashing."""

Point = tuple[float, float]


def target_range(target: str, tempo: Tempo | None = None) -> tuple[float, float]:
    """The values ``target`` takes; for ``tempo`` the bounds of ``tempo`` (the default 60..160 if None)."""
    fixed = TARGET_RANGES[target]
    if fixed is not None:
        return fixed
    bounds = tempo or Tempo()
    return (bounds.min, bounds.max)


def _is_number(value: Any) -> bool:
    return check_number(value)


_IDENTIFIER = re.compile(r"[A-Za-z0-9_-]+")


def _identifier(value: str) -> str:
    """Parameter names travel through game code, OSC addresses and command lines: keep them plain."""
    if not _IDENTIFIER.fullmatch(value):
        raise ValueError(f"{value!r} is not a valid parameter name: use letters, digits, _ and - only "
                         f"(no spaces), e.g. 'boss_health'")
    return value


Identifier = Annotated[str, BeforeValidator(_name), Field(min_length=1, max_length=100), AfterValidator(_identifier)]


def _pair_shape(value: Any) -> Any:
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"a range is two numbers [min, max] like [0, 1], got {value!r}")
    if len(value) != 2:
        raise ValueError(f"a range is two numbers [min, max], got {len(value)} value(s)")
    return value


def _pair_order(value: tuple[float, float]) -> tuple[float, float]:
    low, high = value
    if low >= high:
        raise ValueError(f"min {low:g} is not below max {high:g}")
    return value


ValueRange = Annotated[tuple[FiniteFloat, FiniteFloat], BeforeValidator(_pair_shape), AfterValidator(_pair_order)]


def _curve(value: Any) -> Any:
    """``linear`` or ≥ 2 finite ``[x, y]`` points with x strictly increasing; a bad point is reported
    at its own position (``curve[2][0]``), so the composer sees which number to fix."""
    if isinstance(value, str):
        if value.strip().lower() == "linear":
            return "linear"
        raise ValueError(f"unknown curve {value!r}: write 'linear' or a list of [x, y] points")
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"a curve is 'linear' or a list of [x, y] points like [[0, 0.1], [1, 1]], got {value!r}")
    if len(value) < 2:
        raise ValueError(f"a curve needs at least 2 points [x, y], got {len(value)}")
    points: list[Point] = []
    for j, point in enumerate(value):
        if not isinstance(point, (list, tuple)) or len(point) != 2:
            raise LocatedError(f"point {j + 1} must be two numbers [x, y], got {point!r}", (j,))
        for k, number in enumerate(point):
            if not _is_number(number):
                raise LocatedError(f"point {j + 1}: {'xy'[k]} must be a finite number, got {number!r}", (j, k))
        x, y = float(point[0]), float(point[1])
        if points and x <= points[-1][0]:
            raise LocatedError(f"point {j + 1}: x {x:g} is not above point {j}'s x {points[-1][0]:g} "
                               f"(x must increase from point to point)", (j, 0))
        points.append((x, y))
    return tuple(points)


Curve = Annotated[tuple[Point, ...] | Literal["linear"], BeforeValidator(_curve)]


class Parameter(SpecModel):
    """A continuous control the game moves (intensity, danger …): its range, resting value and how
    fast the music follows it (``seek``, units per second; 0 = at once), so that a game sending
    jumpy values still gets smooth music."""

    name: Identifier
    range: ValueRange = (0.0, 1.0)
    default: FiniteFloat = 0.0
    seek: FiniteFloat = Field(0.0, ge=0.0)

    @model_validator(mode="before")
    @classmethod
    def _default_at_min(cls, data: Any) -> Any:
        """The default is the range's minimum, written into the model so a dump states it."""
        if isinstance(data, dict) and "default" not in data:
            low = data.get("range", (0.0, 1.0))
            if isinstance(low, (list, tuple)) and len(low) == 2 and _is_number(low[0]):
                return {**data, "default": low[0]}
        return data

    @property
    def min(self) -> float:
        return self.range[0]

    @property
    def max(self) -> float:
        return self.range[1]

    def clamp(self, value: float) -> float:
        """``value`` held inside the range (NaN → the default): what the engine accepts from a game."""
        if math.isnan(value):
            return self.default
        return min(max(value, self.range[0]), self.range[1])


class Mapping(SpecModel):
    """How a parameter moves one musical dimension: a piecewise-linear curve from parameter values (x)
    to target values (y). Affect targets (valence, arousal, intensity) move the mood, which the affect
    mapping then turns into music; the others move the music directly."""

    parameter: Name
    target: MappingTarget
    layer: Name | None = None
    curve: Curve = "linear"

    _points: tuple[Point, ...] | None = PrivateAttr(default=None)
    _x_default: float | None = PrivateAttr(default=None)

    @property
    def is_affect(self) -> bool:
        return self.target in AFFECT_TARGETS

    @property
    def points(self) -> tuple[Point, ...]:
        """The curve as points, ``linear`` expanded: inside a :class:`Spec`, from the parameter's min to
        max and across the target's range (tempo: the palette's bounds); on its own, over x 0..1."""
        if self.curve != "linear":
            return self.curve  # type: ignore[return-value]
        if self._points is not None:
            return self._points
        low, high = target_range(self.target)
        return ((0.0, low), (1.0, high))

    def value_at(self, x: float) -> float:
        """The target value at parameter value ``x``: linear between points, the end values outside
        them, and for NaN the value at the parameter's default (at the first point when this mapping
        is not part of a spec) — a game that sends garbage gets the resting music, not an exception."""
        points = self.points
        if math.isnan(x):
            x = self._x_default if self._x_default is not None else points[0][0]
        if x <= points[0][0]:
            return points[0][1]
        if x >= points[-1][0]:
            return points[-1][1]
        j = bisect.bisect_right([p[0] for p in points], x)
        (x0, y0), (x1, y1) = points[j - 1], points[j]
        return y0 + (y1 - y0) * (x - x0) / (x1 - x0)

    def _bound(self, parameter: Parameter, tempo: Tempo) -> "Mapping":
        """A copy that knows its parameter's range and default (for ``linear`` and NaN)."""
        bound = self.model_copy()
        low, high = target_range(self.target, tempo)
        bound._points = ((parameter.min, low), (parameter.max, high))
        bound._x_default = parameter.default
        return bound


def _not_any(value: str) -> str:
    if value.lower() == ANY_STATE:
        raise ValueError(f"{value!r} cannot name a state: transitions use 'any' to mean every state")
    return value


class State(SpecModel):
    """A named musical situation (explore, combat …): what it feels like and what it may use. Fields
    left out keep the spec's values (mood, key, tempo) or let intensity decide (layers)."""

    name: Annotated[Name, AfterValidator(_not_any)]
    mood: Mood | None = None
    key: KeyText | None = None
    tempo: Annotated[float, Field(ge=20, le=300)] | None = None
    theme: Name | None = None
    layers: Annotated[list[Name], Field(min_length=1)] | None = None
    parameters: dict[str, FiniteFloat] = Field(default_factory=dict)

    @property
    def key_value(self) -> Key | None:
        return parse_key(self.key) if self.key is not None else None

    def _with_mood_from(self, base: Mood) -> "State":
        """A copy whose mood is complete: the fields it gives, the spec's mood for the rest."""
        given = {} if self.mood is None else {k: getattr(self.mood, k) for k in self.mood.model_fields_set}
        return self.model_copy(update={"mood": base.model_copy(update=given)})


def _bridge(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and 1 <= value <= 4:
        return value
    raise ValueError(f"bridge is true, false or a number of bars 1..4, got {value!r}")


class Transition(SpecModel):
    """How the music moves from one state to another: when (``quantize``), how (a crossfade of
    ``fade_beats``, an optional generated ``bridge``) and with what accent (a ``stinger``).

    In YAML the ends are ``from`` and ``to``; in Python ``from_state`` and ``to_state`` (``from`` is a
    keyword), e.g. ``Transition(from_state="any", to_state="combat")``."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=False,
                              validate_by_alias=True, validate_by_name=True)

    from_state: Name = Field(ANY_STATE, alias="from")
    to_state: Name = Field(ANY_STATE, alias="to")
    quantize: TransitionQuantize = "bar"
    fade_beats: float = Field(1.0, ge=0.0, le=32.0, allow_inf_nan=False)
    bridge: Annotated[bool | int, BeforeValidator(_bridge)] = False
    stinger: Name | None = None

    @property
    def bridge_bars(self) -> int:
        """Bars of generated bridge: 0 for none, 1 for ``bridge: true``."""
        return int(self.bridge)

    @property
    def specificity(self) -> int:
        """3 for an exact (from, to) rule, 2 for (from, any), 1 for (any, to), 0 for (any, any)."""
        return 2 * (self.from_state != ANY_STATE) + (self.to_state != ANY_STATE)


def _stinger_quantize(value: Any) -> Any:
    if value == "cue":
        raise ValueError("'cue' is only valid in transitions; a stinger plays at immediate, beat, bar or phrase")
    return value


class Stinger(SpecModel):
    """A short one-shot the game fires (a discovery, a hit), quantized to the beat grid. Its notes are
    written in the home key and sung relative to the key and chord playing when it fires."""

    name: Name
    notes: str
    program: Program | None = None
    layer: Name | None = None
    quantize: Annotated[StingerQuantize, BeforeValidator(_stinger_quantize)] = "beat"
    cooldown_beats: float = Field(4.0, ge=0.0, allow_inf_nan=False)
    spill: bool = True
    gain_db: float = Field(0.0, ge=-60.0, le=12.0)

    _voice: tuple[int, int] | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _instrument(cls, data: Any) -> Any:
        """Its own program (glockenspiel by default) or a borrowed layer's instrument, not both."""
        if not isinstance(data, dict):
            return data
        has_program, has_layer = data.get("program") is not None, data.get("layer") is not None
        if has_program and has_layer:
            raise LocatedError("give program (the stinger's own instrument) or layer (to borrow a layer's "
                               "instrument), not both", ("program",))
        if not has_program and not has_layer:
            return {**data, "program": DEFAULT_STINGER_PROGRAM}
        return data

    @field_validator("notes")
    @classmethod
    def _notes(cls, value: str) -> str:
        if not any(t.note for t in tokenize_note_text(value)):
            raise ValueError("no notes (a stinger needs at least one note, e.g. \"D5:0.5 A5:1\")")
        return value

    def parsed_notes(self) -> list[Note]:
        """The stinger's notes, start/duration in ticks (PPQ 480), as written (in the home key)."""
        return [t.note for t in tokenize_note_text(self.notes) if t.note is not None]

    @property
    def played_bank(self) -> int:
        """SoundFont bank it sounds on: 0, or the borrowed layer's (128 for a drum kit)."""
        return self._played()[0]

    @property
    def played_program(self) -> int:
        """GM program it sounds with: its own, or the borrowed layer's."""
        return self._played()[1]

    def _played(self) -> tuple[int, int]:
        if self._voice is not None:
            return self._voice
        if self.program is not None:
            return (0, self.program)
        raise LookupError(f"stinger {self.name!r} borrows layer {self.layer!r}; look it up through its spec "
                          f"(spec.stinger({self.name!r})) to know the instrument")

    def _bound(self, layers: dict[str, Layer]) -> "Stinger":
        bound = self.model_copy()
        if self.layer is None:
            bound._voice = (0, self.program if self.program is not None else DEFAULT_STINGER_PROGRAM)
        elif self.layer in layers:
            bound._voice = (layers[self.layer].bank, layers[self.layer].program)
        return bound


from segue.spec.personal import Personalise, Remember  # noqa: E402 - built from the types above

ADAPTIVE_SECTIONS = ("parameters", "mappings", "initial_state", "states", "transitions", "stingers",
                     "personalise", "remember")
"""Spec fields for games; left out (empty) they are also left out of the canonical content."""


class Spec(SpecModel):
    """A whole score spec. Build it with :func:`segue.spec.load_spec` (or ``load_spec_text``,
    ``spec_from_dict``) to get line-precise errors; ``Spec.model_validate`` also runs every check."""

    name: Name
    description: str | None = None
    seed: int = Field(0, ge=0, le=2**63 - 1)
    style: str = "default"
    palette: Palette = Field(default_factory=Palette)
    mood: Mood = Field(default_factory=Mood)
    layers: list[Layer] = Field(min_length=1, max_length=16)
    themes: list[Theme] = Field(default_factory=list)
    parameters: list[Parameter] = Field(default_factory=list)
    mappings: list[Mapping] = Field(default_factory=list)
    initial_state: Name | None = None
    states: list[State] = Field(default_factory=list)
    transitions: list[Transition] = Field(default_factory=list)
    stingers: list[Stinger] = Field(default_factory=list)
    personalise: Personalise | None = None
    remember: Remember | None = None

    _source_path: Path | None = PrivateAttr(default=None)
    _base_dir: Path | None = PrivateAttr(default=None)
    _sha256: str | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _cross_checks(self, info: ValidationInfo) -> "Spec":
        """Run the cross-section checks, unless the loader runs them itself (to locate each issue)."""
        context = info.context or {}
        self._base_dir = context.get("base_dir")
        self._source_path = context.get("source_path")
        if not context.get("loader"):
            from segue.spec.checks import SpecView, run_checks
            from segue.spec.issues import SpecError, SpecIssue

            findings = run_checks(SpecView.of_spec(self))
            if findings:
                raise SpecError(SpecIssue(f.path_text, None, None, f.message, "<spec>") for f in findings)
        self._resolve()
        return self

    def _resolve(self) -> None:
        """Complete what depends on other sections: each mapping learns its parameter (``linear``
        curves, NaN), each state's mood is filled from the spec's, each stinger learns its instrument.
        Items are replaced by resolved copies; references that do not resolve are left as they are
        (the checks report them)."""
        parameters: dict[str, Parameter] = {}
        for parameter in self.parameters:
            parameters.setdefault(parameter.name, parameter)
        for i, mapping in enumerate(self.mappings):
            if mapping.parameter in parameters:
                self.mappings[i] = mapping._bound(parameters[mapping.parameter], self.palette.tempo)
        for i, state in enumerate(self.states):
            self.states[i] = state._with_mood_from(self.mood)
        layers = {layer.name: layer for layer in reversed(self.layers)}
        for i, stinger in enumerate(self.stingers):
            self.stingers[i] = stinger._bound(layers)

    # ---------- where the spec came from ----------
    @property
    def source_path(self) -> Path | None:
        """The spec file, if loaded from one."""
        return self._source_path

    @property
    def base_dir(self) -> Path | None:
        """The folder that relative paths (theme MIDI files, style model) are resolved against."""
        return self._base_dir

    @property
    def style_path(self) -> Path | None:
        """The trained style model file, or None for a built-in style (``default``/``markov``, ``neural``)."""
        if self.style in ("default", "markov", "neural"):
            return None
        path = Path(self.style).expanduser()
        return path if path.is_absolute() else (self._base_dir or Path.cwd()) / path

    @property
    def sha256(self) -> str:
        """Hash of the canonical content (all values with defaults filled, plus the bytes of theme MIDI
        files), for provenance: comments, key order and formatting do not change it."""
        if self._sha256 is None:
            self._sha256 = hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()
        return self._sha256

    def canonical_json(self) -> str:
        """The content that :attr:`sha256` hashes, as compact JSON with sorted keys."""
        dump = self.model_dump(mode="json")
        for section in ADAPTIVE_SECTIONS:
            if dump.get(section) in ([], None):
                del dump[section]  # a spec without game sections hashes exactly as before they existed
        content: dict[str, Any] = {"spec": dump}
        midi_files: dict[str, str | None] = {}
        for theme in self.themes:
            path = theme.midi_path(self._base_dir)
            if path is not None:
                midi_files[theme.name] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
        if midi_files:
            content["theme_midi_sha256"] = midi_files
        return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    # ---------- look-ups in musicians' words ----------
    def layer(self, name: str) -> Layer:
        """The layer called ``name`` (KeyError if none)."""
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(f"no layer named {name!r}")

    def theme(self, name: str) -> Theme:
        """The theme called ``name`` (KeyError if none)."""
        for theme in self.themes:
            if theme.name == name:
                return theme
        raise KeyError(f"no theme named {name!r}")

    def theme_notes(self, name: str) -> list[Note]:
        """The notes of theme ``name``, with its MIDI file (if any) resolved against :attr:`base_dir`."""
        return self.theme(name).parsed_notes(self._base_dir)

    @property
    def pitched_layers(self) -> list[Layer]:
        return [layer for layer in self.layers if layer.is_pitched]

    def parameter(self, name: str) -> Parameter:
        """The parameter called ``name`` (KeyError if none)."""
        for parameter in self.parameters:
            if parameter.name == name:
                return parameter
        raise KeyError(f"no parameter named {name!r}")

    def state(self, name: str) -> State:
        """The state called ``name``, its mood completed from the spec's (KeyError if none)."""
        for state in self.states:
            if state.name == name:
                return state
        raise KeyError(f"no state named {name!r}")

    def stinger(self, name: str) -> Stinger:
        """The stinger called ``name`` (KeyError if none)."""
        for stinger in self.stingers:
            if stinger.name == name:
                return stinger
        raise KeyError(f"no stinger named {name!r}")

    @property
    def initial_state_name(self) -> str | None:
        """The state the music starts in: ``initial_state``, else the first state; None without states."""
        if self.initial_state is not None:
            return self.initial_state
        return self.states[0].name if self.states else None

    def find_transition(self, from_state: str, to_state: str) -> Transition:
        """The rule for moving from ``from_state`` to ``to_state``, most specific first: (from, to),
        then (from, any), (any, to), (any, any); with no rule at all, the default: at the next bar,
        with a one-beat crossfade. Names are not checked here (use :meth:`state` for that)."""
        rules: dict[tuple[str, str], Transition] = {}
        for rule in self.transitions:
            rules.setdefault((rule.from_state, rule.to_state), rule)
        for pair in ((from_state, to_state), (from_state, ANY_STATE), (ANY_STATE, to_state), (ANY_STATE, ANY_STATE)):
            if pair in rules:
                return rules[pair]
        return Transition(from_state=ANY_STATE, to_state=ANY_STATE, quantize="bar", fade_beats=1.0)
