"""The spec's personal sections: what a listener's taste may change (``personalise``) and which
themes belong to things in the game (``remember``).

Why offsets: a personal setting rides *on top of* what the game state asks (combat stays faster than
exploring, a build still thickens), so taste never undoes the composer's adaptive design. Every bound
must hold the neutral value (0, or 1 for ``reaction``): the spec's own music is always one of the
choices, and a listener who likes it as written can keep it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, FiniteFloat, model_validator

from segue.spec.schema import Name, SpecModel, _pair_order, _pair_shape

Bounds = Annotated[tuple[FiniteFloat, FiniteFloat], BeforeValidator(_pair_shape), AfterValidator(_pair_order)]

NEUTRAL: dict[str, float] = {"tempo": 0.0, "density": 0.0, "brightness": 0.0, "register": 0.0, "reaction": 1.0}
"""The value of each dimension that leaves the spec's music as written."""

LIMITS: dict[str, tuple[float, float]] = {
    "tempo": (-60.0, 60.0),        # bpm added to the state's tempo (still clamped to the palette's range)
    "density": (-0.5, 0.5),        # added to the 0..1 density
    "brightness": (-1.0, 1.0),     # added to the -1..1 harmonic colour (valence): darker ↔ brighter
    "register": (-1.0, 1.0),       # added to the -1..1 register shift
    "reaction": (0.25, 4.0),       # multiplies every parameter's seek speed: how fast the music reacts
}
LAYER_LIMITS = (-24.0, 12.0)
"""dB a listener's taste may add to a layer's gain (instrumentation weight)."""


def _within(name: str, bounds: tuple[float, float], limits: tuple[float, float], neutral: float) -> None:
    lo, hi = bounds
    if lo < limits[0] or hi > limits[1]:
        raise ValueError(f"{name} bounds [{lo:g}, {hi:g}] go beyond [{limits[0]:g}, {limits[1]:g}]")
    if not lo <= neutral <= hi:
        raise ValueError(f"{name} bounds [{lo:g}, {hi:g}] must hold {neutral:g} (the music as written)")


class Personalise(SpecModel):
    """Per-dimension bounds for a listener's taste. Dimensions left out are never personalised.

    In YAML the register's bounds are ``register``; in Python ``register_`` (``register`` is a pydantic
    method), like a transition's ``from``/``from_state``."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=False,
                              validate_by_alias=True, validate_by_name=True)

    tempo: Bounds | None = None
    density: Bounds | None = None
    brightness: Bounds | None = None
    register_: Bounds | None = Field(None, alias="register")  # (``register`` is a pydantic method name)
    reaction: Bounds | None = None
    layers: dict[Name, Bounds] = Field(default_factory=dict, max_length=16)
    themes: Annotated[list[Name], Field(max_length=16)] = Field(default_factory=list)
    """Themes a listener's taste may choose between for a state's statements (empty: the state's own)."""
    states: Annotated[list[Name], Field(min_length=1, max_length=256)] | None = None
    """States whose music may be personalised (None: every state)."""

    @model_validator(mode="after")
    def _bounds(self) -> "Personalise":
        for name, limits in LIMITS.items():
            bounds = self.dimension(name)
            if bounds is not None:
                _within(name, bounds, limits, NEUTRAL[name])
        for layer, bounds in self.layers.items():
            _within(f"layers.{layer}", bounds, LAYER_LIMITS, 0.0)
        if len(set(self.themes)) != len(self.themes):
            raise ValueError("a theme is listed twice in personalise.themes")
        return self

    def dimension(self, name: str) -> tuple[float, float] | None:
        """The bounds of one musical dimension (None: not personalised)."""
        return getattr(self, "register_" if name == "register" else name)

    def bounds(self) -> dict[str, tuple[float, float]]:
        """Every personalised dimension → (min, max): ``layer:<name>`` for layers, ``theme`` as an index."""
        out = {name: (float(b[0]), float(b[1])) for name in LIMITS if (b := self.dimension(name)) is not None}
        out.update({f"layer:{k}": (float(v[0]), float(v[1])) for k, v in self.layers.items()})
        if len(self.themes) > 1:
            out["theme"] = (0.0, float(len(self.themes) - 1))
        return out


def _thing_name(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class Thing(SpecModel):
    """Something in the game the music remembers: the player met a character, found a place, made a choice."""

    name: Annotated[str, BeforeValidator(_thing_name), Field(min_length=1, max_length=100)]
    kind: Literal["character", "place", "choice"] = "character"
    theme: Name


class Remember(SpecModel):
    """Themes bound to things in the game, recalled as leitmotifs once the player has met them."""

    things: Annotated[list[Thing], Field(min_length=1, max_length=64)]
    every: int = Field(2, ge=1, le=64)
    """A recalled theme opens every ``every``-th phrase of a state (counted from the state's first phrase)."""
    states: Annotated[list[Name], Field(min_length=1, max_length=256)] | None = None
    """States in which themes are recalled (None: every state)."""

    @model_validator(mode="after")
    def _unique(self) -> "Remember":
        names = [t.name for t in self.things]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"remember.things names {', '.join(map(repr, twice))} more than once")
        return self
