"""The conductor: states, parameters, transitions and the composers, bar by bar.

The conductor makes every *musical* decision and no sound. It keeps the tempo map, the game
parameters (which seek towards their targets in sample time), the current state and its
transition rules, and one or two *decks* — a deck is a composer with its own bar grid. A
state change starts the new state's music on the other deck at the requested boundary while
the old deck fades out, so transitions crossfade instead of cutting.

Offline rendering is the same conductor driven as fast as possible — there is no second code
path — and every decision depends only on the sample clock and the controls, never on wall
time.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import Callable

from segue.compose.affect import Affect
from segue.limits import MAX_NUMBER, check_number
from segue.compose.composer import BarMusic, Composer, Part
from segue.compose.state import MusicalState
from segue.engine.params import ParameterTrack, musical_state, tracks_for
from segue.engine.performance import Performance
from segue.engine.personal import NONE, Latched, Personal, shaped
from segue.music import PPQ, Key, Meter, Note, TempoMap


def parts_from_spec(spec: object) -> list[Part]:
    """The composer's layer view of a spec's layers."""
    parts = []
    for layer in spec.layers:
        drums = bool(layer.is_percussion)
        parts.append(Part(
            name=layer.name, role=layer.role, low=0 if drums else int(layer.low), high=127 if drums else int(layer.high),
            program=int(layer.program), bank=0 if drums else int(layer.bank), is_drums=drums,
            density=float(layer.density), enter=float(layer.enter), gain_db=float(layer.gain_db), pan=float(layer.pan),
        ))
    return parts


@dataclass(slots=True)
class Deck:
    """One stream of composed music on its own bar grid (a composer and what it wrote)."""

    slot: int  # which set of synths plays it (0 or 1)
    composer: Composer
    state: str | None
    start_tick: int
    stop_tick: int | None = None  # no bars are composed from here on (a transition took over)
    bars: list[BarMusic] = field(default_factory=list)
    first_heard: int = 0
    """The heard bar number of this deck's first bar (bars heard before it, counting a cut bar as heard)."""
    personal: Latched = NONE
    """The listener's settings and recalled theme latched for the phrase now being composed."""
    latched: list[tuple[int, Latched]] = field(default_factory=list)
    """(first tick, latched) of the last few phrases: what is *heard* lags what is composed by a bar."""

    def personal_at(self, tick: int) -> Latched:
        """The settings of the phrase sounding at ``tick`` (NONE before the first latch)."""
        for start, latched in reversed(self.latched):
            if start <= tick:
                return latched
        return NONE

    def heard(self, bar: BarMusic) -> int:
        """``bar``'s number counted in bars heard since the piece began (0-based).

        A transition's deck composes on a grid seeded at ``100_000 × n`` (so one cue's notes never depend on
        how long the earlier states played); what a listener is told is the bar they hear.
        """
        return self.first_heard + bar.index - self.composer.start_bar

    @property
    def next_tick(self) -> int:
        return self.composer.tick

    def can_compose(self) -> bool:
        return self.stop_tick is None or self.composer.tick < self.stop_tick


_DECK_LOCK = threading.Lock()


@dataclass(slots=True)
class PendingTransition:
    """A state change waiting for its boundary.

    Its deck (a new composer) is made when first needed — when its first bar is decided, shortly
    before the boundary — from what was known at the request, so a request that a newer one replaces
    before then costs next to nothing (a flood of requests coalesces)."""

    to_state: str
    from_state: str | None
    boundary_tick: int
    requested_sample: int
    rule: object
    make_deck: Callable[[], Deck]
    made: Deck | None = None

    @property
    def deck(self) -> Deck:
        if self.made is None:
            with _DECK_LOCK:  # a studio or MIDI thread may look at it too
                if self.made is None:
                    self.made = self.make_deck()
        return self.made


class Conductor:
    """Turns controls into musical states and asks the right composer for the next bar."""

    def __init__(self, spec: object, *, seed: int | None = None, style: object | None = None,
                 sample_rate: int = 44100, affect: Affect | None = None, keep_bars: bool = True,
                 guard: object | None = None) -> None:
        from segue.style import load_style  # floor 3

        self.spec = spec
        self.guard = guard
        self._guard_lists: list[tuple[list, list]] = []  # (kept, rejected) of every composer made
        self.seed = int(spec.seed if seed is None else seed)
        if style is None:
            path = spec.style_path
            style = load_style(str(path) if path is not None else getattr(spec, "style", None))
        self.style = style
        pal = spec.palette
        self.meter: Meter = pal.meter_value
        self.home_key: Key = pal.home_key
        self.allowed_keys = list(pal.modulation_keys)
        self.tempo_range = (float(pal.tempo.min), float(pal.tempo.max))
        self.tempo_default = float(pal.tempo.default)
        self.sample_rate = int(sample_rate)
        self.parts = parts_from_spec(spec)
        self.themes: dict[str, list[Note]] = {}
        self.theme_layer: dict[str, str] = {}
        base = spec.base_dir
        for t in spec.themes or []:
            self.themes[t.name] = t.parsed_notes(base)
            if t.layer:
                self.theme_layer[t.name] = t.layer
        self.params: dict[str, ParameterTrack] = tracks_for(spec, self.sample_rate)
        self.mappings = list(getattr(spec, "mappings", None) or [])
        self.affect_override: Affect | None = affect.clamped() if affect else None
        self.state_name: str | None = getattr(spec, "initial_state_name", None)
        self.keep_bars = keep_bars
        self.bars: list[BarMusic] = []
        self.bars_composed = 0
        self.final_bar: int | None = None
        self.transitions = 0
        self.pending: PendingTransition | None = None
        self.personal = Personal(spec)
        self._seek = {name: t.seek for name, t in self.params.items()}  # as the spec wrote them
        self._enter_state_params(self.state_name, 0, jump=True)
        self.tempo_map = TempoMap.constant(self.state_at(0)[0].tempo, self.sample_rate)
        self.deck = self._new_deck(slot=0, state=self.state_name, start_tick=0, start_bar=0)

    # ------------------------------------------------------------------ construction helpers
    def _new_deck(self, *, slot: int, state: str | None, start_tick: int, start_bar: int,
                  bridge_from: Key | None = None, bridge_bars: int = 0) -> Deck:
        comp = Composer(
            self.parts, self.style, seed=self.seed, home_key=self.home_key, meter=self.meter,
            phrase_bars=int(self.spec.palette.phrase_bars), themes=self.themes, theme_layer=self.theme_layer,
            start_bar=start_bar, start_tick=start_tick, guard=self.guard,
            policy=str(getattr(self.spec.palette, "chromatic", "harmonic")),
            departures=list(self.allowed_keys),
        )
        if bridge_bars:
            comp.bridge(bridge_from, bridge_bars)
        if self.final_bar is not None:
            comp.ending_at = self.final_bar
        if self.guard is not None:
            self._guard_lists.append((comp.guard_kept, comp.guard_rejected))
        return Deck(slot=slot, composer=comp, state=state, start_tick=start_tick)

    def guard_results(self) -> tuple[list, list]:
        """The originality guard's answers so far: (kept, rejected-and-rewritten), over every deck."""
        kept = [r for k, _ in self._guard_lists for r in k]
        rejected = [r for _, rej in self._guard_lists for r in rej]
        return kept, rejected

    def _state_spec(self, name: str | None):
        if name is None:
            return None
        try:
            return self.spec.state(name)
        except (KeyError, AttributeError):
            return None

    def _enter_state_params(self, name: str | None, sample: int, jump: bool = False) -> None:
        st = self._state_spec(name)
        for pname, value in (getattr(st, "parameters", None) or {}).items():
            track = self.params.get(pname)
            if track is not None:
                track.jump(sample, value) if jump else track.set_target(sample, value)

    # ------------------------------------------------------------------ controls
    def set_affect(self, affect: Affect) -> None:
        """Override the spec's (or the state's) mood; takes effect at the next bar composed."""
        self.affect_override = affect.clamped()

    def set_parameter(self, name: str, value: float, sample: int) -> float:
        """Aim parameter ``name`` at ``value`` from ``sample``; KeyError/ValueError for bad input."""
        track = self.params[name]
        if not check_number(value):
            raise ValueError(f"parameter {name!r}: value must be a finite number within ±{MAX_NUMBER:g}")
        return track.set_target(sample, value)

    def values_at(self, sample: int) -> dict[str, float]:
        return {name: t.at(sample) for name, t in self.params.items()}

    def state_at(self, sample: int, state_name: str | None = None) -> tuple[MusicalState, dict[str, float]]:
        """The musical state (and per-layer gain offsets in dB) at ``sample``.

        An explicit affect (``compose --valence``, an ``affect`` control, a film cue) is the whole
        instruction: it replaces the state's mood, key, tempo and layer choice and the parameter
        mappings. Otherwise the state's mood is the base and the mappings shape it.
        """
        name = self.state_name if state_name is None else state_name
        st = self._state_spec(name)
        theme = getattr(st, "theme", None)
        common = dict(home=self.home_key, allowed=self.allowed_keys, tempo_range=self.tempo_range,
                      tempo_default=self.tempo_default, meter=self.meter, theme=theme,
                      home_valence=float(self.spec.mood.valence))
        if self.affect_override is not None:
            return musical_state(base=self.affect_override, values={}, mappings=[], **common)
        mood = getattr(st, "mood", None) or self.spec.mood
        base = Affect(float(mood.valence), float(mood.arousal), float(mood.intensity))
        key = None
        if st is not None and getattr(st, "key", None):
            key = st.key if isinstance(st.key, Key) else Key.parse(str(st.key))
        layers = frozenset(st.layers) if st is not None and getattr(st, "layers", None) else None
        return musical_state(
            base=base, values=self.values_at(sample), mappings=self.mappings, state_key=key,
            state_tempo=getattr(st, "tempo", None), layers=layers, **common,
        )

    # ------------------------------------------------------------------ grid
    def boundary_tick(self, quantize: str, tick: int) -> int:
        """The first grid point of the playing deck at or after ``tick`` for a quantize mode."""
        deck = self.deck
        meter = self.meter
        rel = tick - deck.start_tick
        if quantize == "immediate":
            return tick
        if quantize == "beat":
            step = meter.ticks_per_beat
            return deck.start_tick + -(-rel // step) * step
        bar = meter.ticks_per_bar
        next_bar = deck.start_tick + -(-rel // bar) * bar
        if quantize == "bar":
            return next_bar
        ph = deck.composer.phrase_at(next_bar)
        if quantize == "phrase":
            return ph
        if quantize == "cue":
            # the exit cue: the end of the current period (a phrase that closes on an authentic cadence)
            return deck.composer.cue_at(next_bar)
        raise ValueError(f"unknown quantize {quantize!r}")

    # ------------------------------------------------------------------ transitions
    def request_state(self, name: str, sample: int) -> PendingTransition | None:
        """Plan a change to state ``name``; returns the pending transition (None if already there)."""
        self.spec.state(name)  # KeyError for unknown states
        current = self.pending.to_state if self.pending else self.state_name
        if name == current:
            return None
        rule = self.spec.find_transition(self.state_name or "any", name)
        tick = self.tempo_map.tick_at_sample(sample)
        while self.tempo_map.sample(tick) < sample:
            tick += 1
        boundary = self.boundary_tick(str(rule.quantize), tick)
        slot = 1 - self.deck.slot
        bridge_bars = int(rule.bridge_bars)
        old_key = self.deck.bars[-1].key if self.deck.bars else self.home_key
        # the bars the playing deck sounds before the boundary (a bar cut short by it was heard)
        tpb = self.meter.ticks_per_bar
        first_heard = self.deck.first_heard + max(0, -(-(boundary - self.deck.start_tick) // tpb))
        start_bar = 100_000 * (self.transitions + 1)

        def make() -> Deck:
            deck = self._new_deck(slot=slot, state=name, start_tick=boundary,
                                  # seeded by the transition's ordinal, not by how long earlier states played:
                                  # editing one cue of a film never changes the notes of the others
                                  start_bar=start_bar, bridge_from=old_key, bridge_bars=bridge_bars)
            deck.first_heard = first_heard
            return deck

        self.pending = PendingTransition(name, self.state_name, boundary, sample, rule, make)
        self.deck.stop_tick = boundary
        return self.pending

    def take_over(self, sample: int) -> PendingTransition:
        """At the boundary: the pending deck becomes the playing deck."""
        p = self.pending
        assert p is not None
        self.pending = None
        for bar in self.deck.bars:
            if bar.end > p.boundary_tick:
                bar.cut = p.boundary_tick
        self.deck = p.deck
        self.state_name = p.to_state
        self.transitions += 1
        self._enter_state_params(p.to_state, sample)
        return p

    # ------------------------------------------------------------------ composing
    def compose_on(self, deck: Deck, sample: int) -> BarMusic:
        """Compose the next bar of ``deck`` with the musical state at ``sample``."""
        return self.commit_bar(deck, deck.composer.compose_bar(self.prepare_bar(deck, sample)))

    def prepare_bar(self, deck: Deck, sample: int) -> MusicalState:
        """Decide ``deck``'s next bar at ``sample``: the musical state to write it in (and its tempo, set
        on the tempo map now). Cheap; the writing itself (``deck.composer.compose_bar``) may happen later
        on another thread, because it reads nothing but that state and the composer."""
        state, _ = self.state_at(sample, deck.state)  # (layer gains follow the parameters in the engine)
        if deck.composer.at_phrase_start() and not deck.composer.bridging:
            self._latch(deck, sample, state.theme)
        state = shaped(state, deck.personal, self.tempo_range)
        tick = deck.composer.tick
        if self.pending is not None and deck is self.deck:
            # the next state's deck is already scheduled against the tempo map: hold the tempo
            state = state.with_(tempo=self.tempo_map.bpm_at(tick))
        elif self.tempo_map.bpm_at(tick) != state.tempo:
            if deck.bars and tick > 0:
                # a parameter moved the tempo: glide into it across this bar (an accelerando or
                # ritardando in eighth-note steps), never a jump at the bar line
                self.tempo_map.ramp(tick, tick + self.meter.ticks_per_bar, state.tempo,
                                    max(self.meter.ticks_per_beat // 2, 1))
            else:  # a new state's first bar: its tempo starts at its boundary, like its music
                self.tempo_map.set_tempo(tick, state.tempo)
        return state

    def commit_bar(self, deck: Deck, bar: BarMusic) -> BarMusic:
        """A written bar joins ``deck`` (and the performance)."""
        self.bars_composed += 1
        if self.keep_bars:
            deck.bars.append(bar)
            self.bars.append(bar)
        else:
            deck.bars[:] = deck.bars[-2:] + [bar]
        return bar

    def _latch(self, deck: Deck, sample: int, own_theme: str | None) -> None:
        """A phrase starts: fix the listener's settings and any recalled theme for all of it."""
        deck.personal = self.personal.latch(deck.state, deck.composer.phrases_planned, own_theme)
        deck.latched = deck.latched[-2:] + [(deck.composer.tick, deck.personal)]
        if deck is not self.deck or "reaction" not in self.personal.bounds:
            return
        reaction = deck.personal.settings.get("reaction", 1.0)
        for name, track in self.params.items():  # how fast the music follows the game, from here on
            seek = self._seek[name] * reaction
            if track.seek != seek:
                track.value, track.since, track.seek = track.at(sample), sample, seek

    def unheard_recall(self, deck: Deck, tick: int) -> str | None:
        """``deck`` stops at ``tick``: if its recalled phrase would have begun there or later, it is never
        heard, so the thing gets its turn back. Returns that thing (None if the recall was heard)."""
        thing = deck.personal.recalled
        if thing is None:
            return None
        first = next((b for b in reversed(deck.bars) if b.bar_in_phrase == 0), None)
        if first is None or first.start < tick:
            return None
        memory = self.personal.memory
        memory.recalls[thing] = max(memory.recalls.get(thing, 0) - 1, 0)
        deck.personal = Latched(deck.personal.settings, deck.personal.theme, None)
        if deck.latched:
            deck.latched[-1] = (deck.latched[-1][0], deck.personal)
        return thing

    def next_bar(self) -> BarMusic:
        """Compose the next bar of the playing deck (offline composing, no audio)."""
        return self.compose_on(self.deck, self.tempo_map.sample(self.deck.composer.tick))

    @property
    def finished(self) -> bool:
        """True once the final bar (if one was set) has been composed."""
        return self.final_bar is not None and self.deck.composer.bar_index > self.final_bar

    def end_at(self, bars: int) -> None:
        """Make the piece end after ``bars`` bars in total, closing on a cadence."""
        self.final_bar = bars - 1
        self.deck.composer.ending_at = self.final_bar

    def bars_for_seconds(self, seconds: float) -> int:
        """Whole bars that cover ``seconds`` at the current tempo (music ends on a bar line)."""
        bar_s = self.meter.ticks_per_bar / PPQ * 60.0 / self.state_at(0)[0].tempo
        return max(1, math.ceil(seconds / bar_s - 1e-9))

    def perform(self, bars: int, progress=None) -> Performance:
        """Compose ``bars`` bars (no controls), ending on a cadence in the final bar."""
        if bars < 1:
            raise ValueError("need at least one bar")
        self.end_at(self.deck.composer.bar_index + bars)
        for i in range(bars):
            self.next_bar()
            if progress:
                progress(i + 1, bars)
        return self.performance()

    def performance(self) -> Performance:
        return Performance(
            name=str(self.spec.name), parts=self.parts, meter=self.meter, home_key=self.home_key,
            tempo_map=self.tempo_map, seed=self.seed, bars=list(self.bars),
        )
