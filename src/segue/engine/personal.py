"""Personal music in the engine: a listener's settings and a player's memory, latched at phrase starts.

Two things make one player's soundtrack their own, and both enter only through controls, so a
session's control log still replays offline to the same samples:

* ``personal`` controls carry a listener's settings for a state (offsets on tempo, density,
  brightness and register, a reaction speed, layer gains, a theme choice). They wait here and are
  *latched* when that state's deck starts its next phrase: the music never changes its mind in the
  middle of a phrase, and a setting outside the spec's ``personalise`` bounds is clamped, never played.
* ``meet`` controls tell the engine the player met a character, found a place or made a choice. A
  spec's ``remember`` block binds themes to those things; at later phrase starts the music recalls
  them as leitmotifs (least recalled first, then the most recently met).

Nothing here does I/O or draws random numbers: what is latched depends only on the controls
applied so far and on the deck's phrase count.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from segue.compose.state import MusicalState, clamp

FEEDBACK = ("like", "skip", "less", "volume_down")
"""What a listener says about the music playing (``feedback`` controls)."""
SIGNALS = ("aggression", "exploring", "deaths", "session")
"""How the player plays, as the game measures it (``signal`` controls): aggression 0..1, seconds spent
exploring, deaths so far, minutes of play this session."""

MAX_SETTINGS = 64
"""Entries one ``personal`` control may carry (dimensions plus one gain per layer)."""


@dataclass(frozen=True, slots=True)
class Latched:
    """What a deck plays for one phrase: the listener's settings (clamped) and a recalled theme."""

    settings: dict[str, float] = field(default_factory=dict)
    theme: str | None = None
    """The theme these settings chose (by ``personalise.themes``) or the recalled leitmotif."""
    recalled: str | None = None
    """The thing whose theme this phrase recalls (None: no recall)."""


NONE = Latched()


class PlayerMemory:
    """What the player met (in order) and how often each theme was recalled since."""

    def __init__(self, remember: object | None) -> None:
        things = list(getattr(remember, "things", None) or [])
        self.themes: dict[str, str] = {t.name: t.theme for t in things}
        self.kinds: dict[str, str] = {t.name: t.kind for t in things}
        self.every = int(getattr(remember, "every", 2) or 2)
        states = getattr(remember, "states", None)
        self.states: frozenset[str] | None = frozenset(states) if states else None
        self.met: dict[str, int] = {}
        """thing → the order in which it was last met (0, 1, …)."""
        self.recalls: dict[str, int] = {}
        self._order = 0

    def meet(self, name: str) -> None:
        """The player met ``name``; KeyError if the spec binds no theme to it."""
        if name not in self.themes:
            known = ", ".join(sorted(self.themes)) or "none"
            raise KeyError(f"{name} (this score remembers: {known})")
        self.met[name] = self._order
        self._order += 1

    def recall(self, state: str | None, phrase: int) -> str | None:
        """The thing whose theme opens phrase ``phrase`` of ``state``'s deck, if any."""
        if not self.met or phrase % self.every:
            return None
        if self.states is not None and state not in self.states:
            return None
        thing = min(self.met, key=lambda t: (self.recalls.get(t, 0), -self.met[t]))
        self.recalls[thing] = self.recalls.get(thing, 0) + 1
        return thing


class Personal:
    """The listener's requested settings per state, the player's memory, and what each phrase latches."""

    def __init__(self, spec: object) -> None:
        p = getattr(spec, "personalise", None)
        self.bounds: dict[str, tuple[float, float]] = p.bounds() if p is not None else {}
        self.theme_choices: list[str] = list(p.themes) if p is not None else []
        self.states: frozenset[str] | None = frozenset(p.states) if p is not None and p.states else None
        self.memory = PlayerMemory(getattr(spec, "remember", None))
        self.requested: dict[str, dict[str, float]] = {}
        """state ('' = every state) → settings waiting for that state's next phrase."""

    def personalises(self, state: str | None) -> bool:
        """Whether a listener's taste may shape ``state`` (the spec declares bounds, and lists it or all)."""
        return bool(self.bounds) and (self.states is None or state in self.states)

    def clamped(self, settings: dict[str, float]) -> dict[str, float]:
        """``settings`` inside the spec's bounds; unknown dimensions dropped, a theme index made whole."""
        out = {}
        for name, value in settings.items():
            b = self.bounds.get(name)
            if b is None:
                continue
            v = min(max(float(value), b[0]), b[1])
            out[name] = float(round(v)) if name == "theme" else v
        return out

    def request(self, state: str, settings: dict[str, float]) -> dict[str, float]:
        """Hold ``settings`` for ``state``'s next phrase; returns them clamped (ValueError if none apply)."""
        if not self.bounds:
            raise ValueError("this score declares no 'personalise' bounds")
        if state and self.states is not None and state not in self.states:
            raise ValueError(f"state {state!r} is not personalised (personalise.states)")
        kept = self.clamped(settings)
        if settings and not kept:
            raise ValueError(f"none of {', '.join(sorted(settings))} is personalised here "
                             f"(this score personalises: {', '.join(sorted(self.bounds))})")
        self.requested[state] = kept
        return kept

    def latch(self, state: str | None, phrase: int, own_theme: str | None) -> Latched:
        """What ``state``'s deck plays for its phrase number ``phrase`` (called as that phrase starts)."""
        settings: dict[str, float] = {}
        if self.personalises(state):
            settings = dict(self.requested.get("", {}))
            settings.update(self.requested.get(state or "", {}))
        theme = own_theme
        if "theme" in settings and self.theme_choices:
            theme = self.theme_choices[int(settings["theme"])]
        thing = self.memory.recall(state, phrase)
        if thing is not None:
            theme = self.memory.themes[thing]
        if not settings and thing is None:
            return NONE
        return Latched(settings, theme, thing)


def shaped(state: MusicalState, latched: Latched, tempo_range: tuple[float, float]) -> MusicalState:
    """``state`` with a phrase's personal settings on top, every value kept inside the spec's hard ranges."""
    if latched is NONE:
        return state
    s = latched.settings
    lo, hi = tempo_range
    return state.with_(
        tempo=round(min(max(state.tempo + s.get("tempo", 0.0), lo), hi), 3),
        density=clamp(state.density + s.get("density", 0.0)),
        valence=clamp(state.valence + s.get("brightness", 0.0), -1.0, 1.0),
        register=clamp(state.register + s.get("register", 0.0), -1.0, 1.0),
        theme=latched.theme if latched.theme is not None else state.theme,
    )


def layer_offset_db(latched: Latched | None, layer: str) -> float:
    """The listener's gain for ``layer`` in this phrase (0 dB when not personalised)."""
    if latched is None or latched is NONE:
        return 0.0
    return latched.settings.get(f"layer:{layer}", 0.0)
