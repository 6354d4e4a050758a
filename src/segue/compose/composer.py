"""The composer: a multi-layer arrangement written bar by bar, planned phrase by phrase.

At each phrase start it fixes a plan — the key, a chord progression with a cadence (learned
harmony), the phrase's form (statement / development / contrast / restatement of the theme)
and an ostinato figure. Each bar is then realised with the musical state *of that bar*, so a
control that moves during a phrase changes density, dynamics and register bar by bar while
the phrase still makes sense as a phrase.

Rules are hard: every pitched note comes from the key's scale degrees and each layer's
range is a mask while sampling; :func:`check_bar` re-verifies this and raises
:class:`RuleViolation` (a bug, never a user error) if anything slipped through.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from segue.compose import melody as mel
from segue.compose.form import CYCLE_PHRASES, RECALLED_EVERY_CYCLE, FormSlot, form_slot
from segue.compose.harmony import POLICIES, ChordSlot, allowed_pitch_classes, harmonic_rhythm, plan_bridge, plan_phrase
from segue.compose.parts import (
    BarContext, melody_notes, write_bass, write_counter, write_doubling, write_drone, write_ostinato, write_pad,
    write_percussion,
)
from segue.compose.random import rng_for
from segue.compose.state import MusicalState, clamp
from segue.music import PPQ, Chord, Key, Meter, Note

ROLES = ("melody", "counter", "harmony", "bass", "percussion", "ostinato", "drone")
PHRASE_KINDS = ("statement", "development", "contrast", "restatement")
_RECIPES = {
    "statement": ["T0", "T1", "T2", "C"],
    "development": ["S0", "S0b", "F1", "C"],
    "contrast": ["N", "Nseq", "N2", "C"],
    "restatement": ["T0o", "T1", "N", "C"],
}


GUARD_RETRIES = 3
"""How often a bar flagged by the originality guard is written again before the last try is kept (and logged)."""


class RuleViolation(AssertionError):
    """A generated note broke a spec rule (key, range). Always a bug in Segue, never the user's fault."""


@dataclass(frozen=True, slots=True)
class Part:
    """The composer's view of one layer of the spec."""

    name: str
    role: str
    low: int = 0
    high: int = 127
    program: int = 0
    bank: int = 0
    is_drums: bool = False
    density: float = 1.0
    enter: float = 0.0
    gain_db: float = 0.0
    pan: float = 0.0


@dataclass(slots=True)
class BarMusic:
    """One composed bar: where it starts, its harmony, and every layer's notes (absolute ticks)."""

    index: int
    start: int
    meter: Meter
    tempo: float
    key: Key
    chords: tuple[tuple[int, Chord], ...]
    notes: dict[str, list[Note]]
    state: MusicalState
    phrase_index: int
    bar_in_phrase: int
    phrase_kind: str
    cut: int | None = None
    """Tick where this bar's deck was faded out by a transition (exports stop its notes there)."""
    policy: str = "none"
    """The spec's tonal policy (``palette.chromatic``) the bar was written under and is checked against."""
    section: str = ""
    """The form section this bar belongs to (A, A', B, C …; empty for a bridge)."""

    @property
    def length(self) -> int:
        return self.meter.ticks_per_bar

    @property
    def end(self) -> int:
        return self.start + self.meter.ticks_per_bar


@dataclass(slots=True)
class _Phrase:
    index: int
    key: Key
    kind: str
    slots: list[ChordSlot]
    recipes: list[str]
    cadence: str
    seq_step: int
    ostinato_pattern: int
    start_bar: int = 0
    length: int = 4
    split_at: list[float] = field(default_factory=list)
    fresh: dict[str, mel.Motif] = field(default_factory=dict)
    form: FormSlot | None = None
    material: str = ""
    """Id under which this phrase's music is remembered (empty: never recalled, e.g. a bridge)."""
    bar_material: list[tuple[str, int]] = field(default_factory=list)
    """Per bar: (material, bar in it) whose first statement this bar repeats or is."""
    theme_shift: int | None = None
    """Octave placement (in scale degrees) chosen once per phrase so a stated theme keeps its contour."""
    pedal: dict[int, int] = field(default_factory=dict)
    """Bar in phrase → pitch class the bass holds (a pedal point)."""


@dataclass(slots=True)
class _Material:
    """A phrase as first composed, to be recalled: its plan, and per bar the melody and the layers' memory."""

    key: Key
    length: int
    slots: list[ChordSlot]
    recipes: list[str]
    cadence: str
    seq_step: int
    ostinato_pattern: int
    split_at: list[float]
    bar_material: list[tuple[str, int]] = field(default_factory=list)
    pedal: dict[int, int] = field(default_factory=dict)
    theme: str | None = None
    """The theme it stated: a return under another theme (a recalled leitmotif) is composed afresh."""


def theme_to_bars(theme: list[Note], home: Key, meter: Meter) -> list[mel.Motif]:
    """Cut a theme (notes in the home key) into motif bars of absolute diatonic degrees of the home key.

    Absolute indices carry over between keys and modes (index 35 is the tonic of octave 4 in any
    key), so restating the theme in another key keeps its shape and its rough register.
    """
    if not theme:
        return []
    bar = meter.ticks_per_bar
    first = min(n.start for n in theme)
    bars: dict[int, mel.Motif] = {}
    for n in sorted(theme):
        rel = n.start - first
        b, on = divmod(rel, bar)
        deg = home.degree_of(n.pitch)
        if deg is None:  # tolerated chromatic note: use the scale degree just below
            deg = home.degree_of(n.pitch - 1) or 0
        dur = min(n.duration, bar - on)
        bars.setdefault(b, []).append(mel.MotifNote(on, dur, deg))
    last = max(bars)
    return [bars.get(i, []) for i in range(last + 1)]


class Composer:
    """Writes the next bar of every layer from a :class:`MusicalState` (and its own memory).

    ``style`` is a learned :class:`segue.style.StyleModel`. ``themes`` maps theme name → notes
    in the home key; ``theme_layer`` maps theme name → the layer that states it.
    """

    def __init__(
        self,
        parts: list[Part],
        style: object,
        *,
        seed: int,
        home_key: Key,
        meter: Meter,
        phrase_bars: int = 4,
        themes: dict[str, list[Note]] | None = None,
        theme_layer: dict[str, str] | None = None,
        start_bar: int = 0,
        start_tick: int = 0,
        guard: Callable[[list[Note]], object] | None = None,
        policy: str = "harmonic",
        departures: list[Key] | None = None,
    ) -> None:
        if not parts:
            raise ValueError("an arrangement needs at least one layer")
        if policy not in POLICIES:
            raise ValueError(f"unknown chromatic policy {policy!r}; known: {', '.join(POLICIES)}")
        self.policy = policy
        """The spec's tonal policy (``palette.chromatic``): none, harmonic or free."""
        self.departure = _nearest_departure(home_key, departures or [])
        """The related key the form's contrasting C section visits (None: it stays home)."""
        self.parts = parts
        self.style = style
        self.seed = int(seed)
        self.home_key = home_key
        self.meter = meter
        self.phrase_bars = phrase_bars
        self.themes = {name: theme_to_bars(notes, home_key, meter) for name, notes in (themes or {}).items()}
        leads = [p for p in parts if p.role == "melody"]
        self.default_lead = leads[0].name if leads else None
        self.theme_layer = dict(theme_layer or {})
        self.guard = guard
        """Originality guard (injected by the apps floor): called with the phrase's melody so far plus a
        freshly generated bar; an answer with ``flagged`` true makes the bar be generated again."""
        self.guard_kept: list[object] = []
        self.guard_rejected: list[object] = []
        self._phrase_melody: list[Note] = []
        self._prefix_flags: dict[int, bool] = {}  # phrase-so-far length → flagged by the guard
        self._phrase_has_theme = False  # the phrase so far sings bars of a spec theme (never guarded)
        self._prev_texture: int | None = None
        self.bar_index = start_bar
        self.tick = start_tick
        self.start_bar = start_bar
        self.start_tick = start_tick
        self._bridge: tuple[Key, int] | None = None
        self._phrase: _Phrase | None = None
        self._phrase_count = 0
        self.ending_at: int | None = None
        """Index of the piece's last bar, if known: the last phrase is shortened to cadence there."""
        self._memory: dict[str, dict] = {p.name: {} for p in parts}
        self._materials: dict[str, _Material] = {}
        self._bar_store: dict[tuple[str, int], tuple[dict[str, dict], tuple[str, mel.Motif] | None]] = {}
        """Per (material, bar): the layers' memory before the bar's first statement and its melody, so a
        recalled bar is written from the same starting point and sings the same line."""
        self._prev_state: MusicalState | None = None
        self._prev_degree: int | None = None
        self._self_theme: list[mel.Motif] = []
        # the melody's ambitus (its range in scale steps) is a property of the piece, like a tune's:
        # drawn once per seed from the range distribution the style model learned from real tunes
        # (truncated to what the lead's range can hold)
        amb = getattr(style.melody, "ambitus_probs", None)
        probs = np.array(amb(), dtype=float) if amb is not None else None
        lead = next((p for p in parts if p.role == "melody"), None)
        if probs is not None and lead is not None:
            lo_d, hi_d = mel.degree_bounds(home_key, lead.low, lead.high)
            probs[hi_d - lo_d + 1:] = 0.0
            probs = probs / probs.sum() if probs.sum() > 0 else None
        r = rng_for(self.seed, "piece", "ambitus")
        self.ambitus = max(7, int(r.choice(len(probs), p=probs)) if probs is not None else 9)


    # ------------------------------------------------------------------ grid questions
    def bridge(self, from_key: Key, bars: int) -> None:
        """Open with ``bars`` bridge bars: a pivot chord shared with ``from_key``, then the new dominant."""
        self._bridge = (from_key, max(1, int(bars)))

    def at_phrase_start(self) -> bool:
        """Whether the next bar composed opens a phrase (where a personal setting may change)."""
        return self._phrase is None or self.bar_index - self._phrase.start_bar >= self._phrase.length

    @property
    def bridging(self) -> bool:
        """Whether the next phrase is the bridge into this deck's state (it states no theme)."""
        return self._bridge is not None

    @property
    def phrases_planned(self) -> int:
        """Phrases planned so far (the bridge not counted): the number of the next phrase."""
        return self._phrase_count

    def _phrase_grid(self) -> tuple[int, int, int]:
        """(start tick, index, length in ticks) of the current phrase, or of the first one to come."""
        bar = self.meter.ticks_per_bar
        ph = self._phrase
        if ph is None:
            return self.start_tick, 0, self.phrase_bars * bar
        start = self.start_tick + (ph.start_bar - self.start_bar) * bar
        if self.bar_index - ph.start_bar >= ph.length:  # the next phrase starts where this one ends
            return start + ph.length * bar, ph.index + 1, self.phrase_bars * bar
        return start, ph.index, ph.length * bar

    def phrase_at(self, tick: int) -> int:
        """The first phrase start at or after ``tick`` (a bar line of this composer's grid)."""
        start, _, length = self._phrase_grid()
        if tick <= start:
            return start
        first_end = start + length
        if tick <= first_end:
            return first_end
        step = self.phrase_bars * self.meter.ticks_per_bar
        return first_end + -(-(tick - first_end) // step) * step

    def cue_at(self, tick: int) -> int:
        """The first exit cue at or after ``tick``: the end of a phrase closing on an authentic cadence."""
        start, index, length = self._phrase_grid()
        step = self.phrase_bars * self.meter.ticks_per_bar
        ends = [(start + length, index)] + [(start + length + k * step, index + k) for k in range(1, 6)]
        if tick <= start and index % 2 == 0:
            return start  # a period boundary is itself a cue
        for end, idx in ends:
            if end >= tick and idx % 2 == 1:
                return end
        return self.phrase_at(tick)

    # ------------------------------------------------------------------ planning
    def _theme_bars(self, state: MusicalState, key: Key) -> list[mel.Motif]:
        if state.theme and state.theme in self.themes:
            bars = self.themes[state.theme]
        elif self.themes:
            bars = next(iter(self.themes.values()))
        else:
            return self._self_theme
        if key == self.home_key:
            return bars
        # the theme's degrees belong to the home key: in another key it keeps its height, not its index
        tonic = self.home_key.pitch_of_degree(35)
        shift = next(key.degree_of(p) for p in range(tonic, tonic - 12, -1) if key.contains(p)) - 35
        return [mel.sequence(b, shift) for b in bars]

    def _lead_for(self, state: MusicalState) -> str | None:
        name = state.theme or (next(iter(self.themes)) if self.themes else None)
        return self.theme_layer.get(name, self.default_lead) if name else self.default_lead

    def _plan(self, state: MusicalState) -> _Phrase:
        if self._bridge is not None:
            return self._plan_bridge(state)
        index = self._phrase_count
        self._phrase_count += 1
        length = self.phrase_bars
        final_phrase = False
        if self.ending_at is not None:
            remaining = self.ending_at - self.bar_index + 1
            if remaining <= self.phrase_bars + 1:
                # the piece ends inside this phrase (a lone bar left over joins it): close with a full cadence
                length, final_phrase = max(remaining, 1), True
        form = form_slot(index)
        if index % CYCLE_PHRASES == 0 and index:
            # a new cycle: only A and A' are ever recalled again; a long game session keeps bounded memory
            self._materials = {k: v for k, v in self._materials.items() if k in RECALLED_EVERY_CYCLE}
            self._bar_store = {k: v for k, v in self._bar_store.items() if k[0] in RECALLED_EVERY_CYCLE}
        key = state.key
        if form.energy < 0 and key == self.home_key and self.departure is not None:
            key = self.departure  # the contrast departs to a related key; the A that follows brings it home
        cadence = "authentic" if index % 2 == 1 or length >= 8 or final_phrase else "half"
        mat = self._materials.get(form.material)
        if (mat is not None and mat.key == key and mat.length == length and mat.cadence == cadence
                and mat.theme == state.theme):
            # a return: the same chords, melody and accompaniment as the first statement
            return _Phrase(index, key, form.kind, mat.slots, mat.recipes, cadence, mat.seq_step, mat.ostinato_pattern,
                           start_bar=self.bar_index, length=length, split_at=mat.split_at, form=form,
                           material=form.material, bar_material=list(mat.bar_material), pedal=dict(mat.pedal))
        rng = rng_for(self.seed, "deck", self.start_bar, form.material, "plan")
        kind = form.kind
        theme = self._theme_bars(state, key)
        if not theme and kind in ("statement", "restatement", "development"):
            kind = "contrast" if form.section.startswith("B") else kind
        recipes = self._recipes(rng, kind, index, length)
        # a consequent opens like its antecedent: the first half of the shared material, note for note
        src = self._materials.get(form.shares) if form.shares else None
        share = length // 2 if src is not None and src.key == key and src.length == length else 0
        offsets, split_at = harmonic_rhythm(rng, self.meter, length, state.tempo)
        if share:
            recipes = src.recipes[:share] + recipes[share:]
            split_at = src.split_at[:share] + split_at[share:]
        strong_pcs, protected = self._theme_constraints(theme, recipes, offsets, key)
        own = length - share
        prev_degree = [sl for sl in src.slots if sl.bar < share][-1].chord.degree if share else self._prev_degree
        slots = plan_phrase(
            rng, self.style.harmony, key, self.meter, own, offsets=offsets[share:],
            tension=state.tension, cadence=cadence, prev_degree=prev_degree,
            theme_strong_pcs={(b - share, o): v for (b, o), v in strong_pcs.items() if b >= share},
            policy=self.policy, valence=state.valence,
            protected={(b - share, o): v for (b, o), v in protected.items() if b >= share},
        )
        slots = [ChordSlot(bar=sl.bar + share, offset=sl.offset, chord=sl.chord, seventh=sl.seventh) for sl in slots]
        if share:
            slots = [sl for sl in src.slots if sl.bar < share] + slots
        self._prev_degree = slots[-1].chord.degree
        seq_step = src.seq_step if share else int(rng.choice([-2, -1, 1, 2]))
        pattern = src.ostinato_pattern if share else int(rng.integers(64))
        bar_material = [(form.shares, b) if b < share else (form.material, b) for b in range(length)]
        pedal = {b: pc for b, pc in src.pedal.items() if b < share} if share else {}
        if form.energy > 0 and rng.random() < 0.5 + 0.4 * state.tension:
            # the peak section opens over a dominant pedal: the harmony strains against a held bass
            pedal.update({b: key.scale_pc(4) for b in range(share, max(share + 1, length // 2))})
        elif form.section == "A" and not share and form.variant == 0 and rng.random() < 0.3:
            pedal[0] = key.tonic  # the opening bar over a tonic pedal
        # composed afresh: whatever was remembered under this name is replaced
        self._bar_store = {k: v for k, v in self._bar_store.items() if k[0] != form.material}
        self._materials[form.material] = _Material(key, length, slots, recipes, cadence, seq_step, pattern,
                                                   list(split_at), bar_material, dict(pedal), state.theme)
        return _Phrase(index, key, kind, slots, recipes, cadence, seq_step, pattern, start_bar=self.bar_index,
                       length=length, split_at=split_at, form=form, material=form.material, bar_material=bar_material,
                       pedal=pedal)

    def _recipes(self, rng: np.random.Generator, kind: str, index: int, length: int) -> list[str]:
        """The melodic recipe of each bar of a phrase (theme statement, sequence, fresh idea, cadence …)."""
        recipes = list(_RECIPES[kind])
        # the classical sentence: a basic idea and its repetition — literal as often as sequenced,
        # as in folk tunes, where whole bars come back note for note
        if rng.random() < 0.55:
            recipes = [{"Nseq": "Nrep", "S0b": "S0rep"}.get(r, r) for r in recipes]
        if length == 2:
            recipes = [recipes[0], "C"]
        elif length == 8:
            nxt = PHRASE_KINDS[(index + 1) % len(PHRASE_KINDS)]
            recipes = recipes[:3] + ["Chalf"] + _RECIPES["development" if nxt == "statement" else nxt][:3] + ["C"]
        elif length != 4:
            body = recipes[:-1] * (length // 3 + 1)
            recipes = body[: length - 1] + ["C"]
        return recipes

    def _theme_constraints(self, theme: list[mel.Motif], recipes: list[str], offsets: list[list[int]],
                           key: Key) -> tuple[dict[tuple[int, int], set[int]], dict[tuple[int, int], set[int]]]:
        """Per chord slot: the theme's strong-beat pitch classes (chords should hold them) and every
        scale degree the verbatim theme sings there (no colour chord may alter them)."""
        strong_pcs: dict[tuple[int, int], set[int]] = {}
        protected: dict[tuple[int, int], set[int]] = {}
        tpb = self.meter.ticks_per_beat
        strong = {b * tpb for b in self.meter.strong_beats}
        for b, r in enumerate(recipes):
            if r.startswith("T") and theme:
                tb = int(r[1]) if len(r) > 1 and r[1].isdigit() else 0
                if tb < len(theme):
                    for n in theme[tb]:
                        off = max(o for o in offsets[b] if o <= n.onset)
                        protected.setdefault((b, off), set()).add(n.degree % 7)
                        if n.onset in strong or n.duration >= 2 * tpb:
                            strong_pcs.setdefault((b, off), set()).add(key.pitch_of_degree(n.degree) % 12)
        return strong_pcs, protected

    def _plan_bridge(self, state: MusicalState) -> _Phrase:
        from_key, bars = self._bridge
        self._bridge = None
        rng = rng_for(self.seed, self.bar_index, "bridge", "plan")
        slots = plan_bridge(state.key, from_key, self.meter, bars)
        self._prev_degree = slots[-1].chord.degree
        recipes = ["N"] * (bars - 1) + ["C"]
        return _Phrase(-1, state.key, "bridge", slots, recipes, "half", int(rng.choice([-1, 1])),
                       int(rng.integers(64)), start_bar=self.bar_index, length=bars)

    # ------------------------------------------------------------------ writing
    def compose_bar(self, state: MusicalState) -> BarMusic:
        """Write the next bar for every active layer and advance."""
        if self._phrase is None or self.bar_index - self._phrase.start_bar >= self._phrase.length:
            self._phrase = self._plan(state)
            self._phrase_melody = []
            self._prefix_flags = {}
            self._phrase_has_theme = False
        ph = self._phrase
        bip = self.bar_index - ph.start_bar
        key = ph.key
        steady = self._prev_state is None or (abs(state.intensity - self._prev_state.intensity) < 1e-3
                                              and abs(state.density - self._prev_state.density) < 1e-3)
        self._prev_state = state
        played = self._shaped(state, ph) if steady else state
        chords = tuple((s.offset, s.chord) for s in ph.slots if s.bar == bip)
        if len(chords) > 1 and ph.split_at and played.density < ph.split_at[bip]:
            chords = chords[:1]  # calm bars hold one chord; the second sounds once the music is busy enough
        variant = ph.form.variant if ph.form is not None else 0
        bar_mat = ph.bar_material[bip] if ph.bar_material else None
        ctx = BarContext(
            seed=self.seed, index=self.bar_index, bar_in_phrase=bip, phrase_bars=ph.length,
            start=self.tick, meter=self.meter, key=key, chords=chords, state=played,
            material=(self.start_bar, *bar_mat, variant) if bar_mat else None,
            phrase_material=(self.start_bar, ph.bar_material[0][0], variant) if bar_mat else None,
            variant=variant, pedal=ph.pedal.get(bip),
        )
        stored = self._bar_store.get(bar_mat) if bar_mat else None
        if stored is not None:
            # a recalled bar starts from the same memory as its first statement: the same voicings follow
            self._memory = {name: dict(mem) for name, mem in stored[0].items()}
        elif bar_mat is not None:
            self._bar_store[bar_mat] = ({name: dict(mem) for name, mem in self._memory.items()}, None)
        notes: dict[str, list[Note]] = {}
        lead = self._lead_for(state)
        active = self.active_layers(state)
        melody_line: list[Note] = []
        # the lead first: the counter-melody listens to it
        order = sorted(self.parts, key=lambda p: (p.name != lead, p.role != "melody"))
        for part in order:
            if part.name not in active:
                notes[part.name] = []
                continue
            d = max(0.0, min(1.0, played.density * part.density))
            if part.enter > 0 and state.intensity < part.enter + 0.3:
                # a layer that has just entered plays sparsely and grows with intensity, so a build
                # adds notes a few at a time instead of a whole layer at once (a state that lists a
                # layer below its threshold gets it at its sparsest)
                d *= max(0.2, min(1.0, 0.2 + (state.intensity - part.enter) / 0.3))
            mem = self._memory[part.name]
            if part.role == "percussion" or part.is_drums:
                out = write_percussion(ctx, part.name, d * played.percussion * (0.5 + 0.5 * state.intensity) + 0.15 * state.intensity)
            elif part.role == "melody" or part.name == lead:  # a theme makes its layer the lead
                # the line of the first statement, if the same layer sang it (a state may hand the theme on)
                recalled = stored[1][1] if stored is not None and stored[1] and stored[1][0] == part.name else None
                out = self._write_melody(ctx, part, d, mem, ph, played, recalled)
                if part.name == lead or not melody_line:
                    melody_line = out
            elif part.role == "counter" and variant and melody_line:
                # a re-orchestrated return: the counter voice doubles the tune in thirds (or sixths)
                out = write_doubling(ctx, part.name, part.low, part.high, melody_line, -2 if variant % 2 else -5)
            elif part.role == "counter":
                out = write_counter(ctx, part.name, part.low, part.high, d, melody_line, mem)
            elif part.role == "bass":
                out = write_bass(ctx, part.name, part.low, part.high, d)
            elif part.role == "harmony":
                out = write_pad(ctx, part.name, part.low, part.high, d, mem)
            elif part.role == "ostinato":
                out = write_ostinato(ctx, part.name, part.low, part.high, d, ph.ostinato_pattern)
            elif part.role == "drone":
                out = write_drone(ctx, part.name, part.low, part.high, d)
            else:  # validated earlier; defensive
                raise ValueError(f"unknown role {part.role!r} for layer {part.name!r}")
            notes[part.name] = out
        self._foreground(notes, lead)
        if not steady:
            # a build the game drives grows bar by bar; a new section of the composer's own form may change at once
            self._limit_growth(notes, lead)
        else:
            self._prev_texture = sum(len(v) for v in notes.values())
        bar = BarMusic(
            index=self.bar_index, start=self.tick, meter=self.meter, tempo=state.tempo, key=key, chords=chords,
            notes=notes, state=state, phrase_index=ph.index, bar_in_phrase=bip, phrase_kind=ph.kind,
            policy=self.policy, section=ph.form.section if ph.form is not None else "",
        )
        check_bar(bar, self.parts)
        self.bar_index += 1
        self.tick += self.meter.ticks_per_bar
        return bar

    def _shaped(self, state: MusicalState, ph: _Phrase) -> MusicalState:
        """The section's arc on top of the controls: the peak section denser, higher and louder, the
        release thinner. Only while the game holds still — when a control moves, its build is the arc."""
        energy = ph.form.energy if ph.form is not None else 0.0
        if not energy:
            return state
        return state.with_(
            # the peak grows more than the release thins: a release that empties the texture sounds broken
            density=clamp(state.density * (1.0 + (0.7 if energy > 0 else 0.45) * energy) + (0.1 if energy > 0 else 0.04) * energy),
            register=clamp(state.register + 0.25 * energy, -1.0, 1.0),
            dynamics=clamp(state.dynamics + 0.08 * energy),
            percussion=clamp(state.percussion * (1.0 + 0.6 * min(energy, 0.0))),  # the release drops the drums back
        )

    def _foreground(self, notes: dict[str, list[Note]], lead: str | None) -> None:
        """Keep the melody on top: an accompanying note above a melody note it sounds with moves down an
        octave (a chord tone stays a chord tone) or, where the layer's range will not allow it, is left out."""
        tops = [p.name for p in self.parts if (p.role == "melody" or p.name == lead) and notes.get(p.name)]
        line = sorted(n for name in tops for n in notes[name])
        if not line:
            return
        by_name = {p.name: p for p in self.parts}
        for name, layer_notes in notes.items():
            part = by_name[name]
            if name in tops or part.is_drums or part.role == "percussion" or not layer_notes:
                continue
            out = []
            for n in layer_notes:
                under = [m.pitch for m in line if n.start <= m.start < n.end or m.start <= n.start < m.end]
                if not under or n.pitch <= min(under):
                    out.append(n)
                    continue
                p = n.pitch
                while p > min(under) and p - 12 >= part.low:
                    p -= 12
                if p <= min(under):
                    out.append(Note(n.start, p, n.duration, n.velocity))
            seen: set[tuple[int, int]] = set()
            notes[name] = [n for n in out if not ((n.start, n.pitch) in seen or seen.add((n.start, n.pitch)))]

    def _limit_growth(self, notes: dict[str, list[Note]], lead: str | None) -> None:
        """Let the accompaniment thicken by at most a few notes a bar (orchestration builds, it does not jump).

        A build that would add more than ``max(3, 10 %)`` notes to the bar in one step leaves out
        its weakest new notes — off-beats before beats, the most recently entered layers first — so a
        ramp grows bar by bar. The lead is never thinned, and a new deck (a new state) starts unlimited.
        """
        acc = [p for p in self.parts if p.name != lead and p.role != "melody" and p.name in notes]
        total = sum(len(v) for v in notes.values())
        prev = self._prev_texture
        self._prev_texture = total
        if prev is None:
            return
        cap = prev + max(3, int(0.1 * prev))
        if total <= cap:
            return
        tpb = self.meter.ticks_per_beat
        strong = {b * tpb for b in self.meter.strong_beats}

        def weakness(item: tuple[Part, Note]) -> tuple:
            part, n = item
            off = n.start - self.tick
            position = 3 if off % tpb else (2 if off not in strong else (1 if off else 0))
            return (position, part.enter, off, part.name, n.pitch)

        candidates = sorted(((p, n) for p in acc for n in notes[p.name]), key=weakness, reverse=True)
        drop = {(p.name, id(n)) for p, n in candidates[: max(total - cap, 0)]}
        for p in acc:
            notes[p.name] = [n for n in notes[p.name] if (p.name, id(n)) not in drop]
        self._prev_texture = sum(len(v) for v in notes.values())

    def active_layers(self, state: MusicalState) -> set[str]:
        """Layers that play.

        With no layer list (a mood, a parameter build) a layer plays once intensity reaches its
        ``enter``. A state that lists layers gets every one of them — a listed horn section that
        never sounds would be a broken promise — the ones below their threshold at their sparsest.
        Wherever three or more pitched layers play, the bass plays too (even where a state's list
        leaves it out): a texture that thick without a foundation sounds unfinished.
        """
        allowed = state.layers
        if allowed is not None:
            active = {p.name for p in self.parts if p.name in allowed}
        else:
            active = {p.name for p in self.parts if p.enter <= state.intensity + 1e-9}
        pitched = [p for p in self.parts if p.name in active and not p.is_drums and p.role != "percussion"]
        if len(pitched) >= 3 and not any(p.role == "bass" for p in pitched):
            bass = next((p for p in sorted(self.parts, key=lambda p: p.enter) if p.role == "bass"), None)
            if bass is not None:
                active.add(bass.name)
        return active

    def _flagged_before_this_bar(self) -> bool:
        """Whether the phrase so far (without the bar being written) is already flagged by the guard.

        Asked only when a new bar is flagged, and remembered per phrase length, so it costs one
        extra check at most per flagged bar.
        """
        n = len(self._phrase_melody)
        if n == 0 or self.guard is None or not self._phrase_has_theme:
            return False  # only the spec's theme, stated as written, can carry a flag into a phrase
        cached = self._prefix_flags.get(n)
        if cached is None:
            cached = self._prefix_flags[n] = bool(getattr(self.guard(list(self._phrase_melody)), "flagged", False))
        return cached

    def _write_melody(self, ctx: BarContext, part: Part, density: float, mem: dict, ph: _Phrase,
                      state: MusicalState, recalled: mel.Motif | None = None) -> list[Note]:
        key = ctx.key
        if recalled is not None:
            # a return sings the line of its first statement (already checked by the guard then)
            return self._sung(ctx, mel.clamp_to_bounds(recalled, mel.degree_bounds(key, part.low, part.high)),
                              key, mem, ph, part)
        bounds = mel.degree_bounds(key, part.low, part.high)
        lo, hi = bounds
        theme = self._theme_bars(state, key)
        theme_degrees = [n.degree for bar in theme for n in bar]
        span = self.ambitus + 3  # a line rarely touches both walls of its window
        if theme_degrees:
            # the theme's own tessitura anchors the melody; register moves it by up to a fifth or so: more than
            # the register pull's dead zone (±2 steps), so the tune's height follows the state with any style
            mid = (min(theme_degrees) + max(theme_degrees)) / 2.0
            span = max(span, max(theme_degrees) - min(theme_degrees) + 2)
            centre = int(round(min(max(mid + 6.0 * state.register, lo + 2), hi - 2)))
        else:
            centre = int(round(lo + (hi - lo) * (0.5 + 0.35 * state.register)))
        # the piece's ambitus is a hard window inside the layer's range
        w_lo = max(lo, centre - span // 2)
        w_hi = min(hi, w_lo + span)
        w_lo = max(lo, min(w_lo, w_hi - span))
        bounds = (w_lo, w_hi)
        lo, hi = bounds
        # phrases move the line around its window: development climbs, contrast dips, the
        # restatement reaches the climax — so a tune uses its whole ambitus, as real tunes do
        lift = {"development": 0.3, "contrast": -0.3, "restatement": 0.45, "bridge": 0.15}.get(ph.kind, 0.0)
        centre = int(round(min(max(centre + lift * span, w_lo + 1), w_hi - 1)))
        spread = 2
        recipe = ph.recipes[ctx.bar_in_phrase]
        rng = ctx.rng(part.name, "melody")
        chord_at = ctx.chord_at()
        last = mem.get("degree", centre)
        prev_steps = mem.get("steps", [])
        # the line's earlier notes, for a melody model that reads more than two steps (the neural style)
        history = mem.get("history", []) if hasattr(self.style.melody, "note_probs") else None
        # busier is shorter; dark and tense is shorter still (a clipped, agitated line)
        articulation = 0.95 - 0.25 * state.density - 0.15 * max(0.0, -state.valence) * state.tension
        motif: mel.Motif | None = None
        verbatim = False
        drawn_here = False  # a fresh bar drawn now, for this bar's chords and density

        def theme_bar(i: int) -> mel.Motif | None:
            return list(theme[i]) if i < len(theme) and theme[i] else None

        def guarded(make: Callable[[np.random.Generator], mel.Motif]) -> mel.Motif:
            """Generate a bar of new melody; the originality guard may send it back (bounded retries)."""
            motif: mel.Motif = []
            for attempt in range(GUARD_RETRIES + 1):
                motif = make(rng if attempt == 0 else ctx.rng(part.name, f"melody-retry{attempt}"))
                if self.guard is None:
                    break
                verdict = self.guard(self._phrase_melody + melody_notes(ctx, motif, key, low=part.low, high=part.high))
                flagged = getattr(verdict, "flagged", False)
                if not flagged or attempt == GUARD_RETRIES or self._flagged_before_this_bar():
                    # a flag that the phrase carried before this bar (a spec theme quoting a known
                    # tune: warned about before composing) cannot be mended by writing this bar again
                    self.guard_kept.append(verdict)
                    break
                self.guard_rejected.append(verdict)  # too close to an existing work: write it again
            return motif

        def fresh(tag: str) -> mel.Motif:
            nonlocal drawn_here
            if tag not in ph.fresh:
                drawn_here = True
                def make(r_: np.random.Generator) -> mel.Motif:
                    r = mel.rhythm_bar(r_, self.style.rhythm, self.meter, density, articulation=articulation)
                    r = mel.syncopate(r_, r, self.meter, self._syncopation(density))
                    return mel.pitch_line(
                        r_, self.style.melody, key, self.meter, r, chord_at, start=last, prev_steps=prev_steps,
                        bounds=bounds, center=centre, tension=state.tension, spread=spread, history=history,
                        density=density,
                    )
                ph.fresh[tag] = guarded(make)
            return ph.fresh[tag]

        if recipe.startswith("C"):
            final = frozenset({0}) if recipe == "C" and ph.cadence == "authentic" else frozenset({4, 1})

            def cadence(r_: np.random.Generator) -> mel.Motif:
                r = mel.rhythm_bar(r_, self.style.rhythm, self.meter, density, articulation=articulation, end_long=True)
                return mel.pitch_line(
                    r_, self.style.melody, key, self.meter, r, chord_at, start=last, prev_steps=prev_steps,
                    bounds=bounds, center=centre, tension=state.tension, final_degrees=final, spread=spread,
                    history=history, density=density,
                )
            motif = guarded(cadence)
            if recipe == "C" and ph.cadence == "half" and density > 0.3 and ph.form is not None:
                motif = self._pick_up(motif, ph, theme)
        elif recipe in ("T0", "T1", "T2", "T0o"):
            i = int(recipe[1])
            motif = theme_bar(i)
            if motif is not None:
                verbatim = recipe != "T0o"
                if recipe == "T0o":
                    motif = mel.ornament(rng, motif, self.meter)
        elif recipe in ("S0", "S0b"):
            base = theme_bar(0)
            if base is not None:
                motif = mel.sequence(base, ph.seq_step)
                if recipe == "S0b":  # the sequence again, varied: a neighbour-tone ornament
                    motif = mel.ornament(rng, motif, self.meter)
        elif recipe == "F1":
            base = theme_bar(1) or theme_bar(0)
            if base is not None:
                motif = mel.fragment(base, self.meter.ticks_per_bar) if rng.random() < 0.5 else mel.invert(base)
        elif recipe == "Nseq":
            motif = mel.sequence(fresh("N"), ph.seq_step)
        elif recipe == "Nrep":
            motif = list(fresh("N"))
        elif recipe == "S0rep":
            base = theme_bar(0)
            if base is not None:
                motif = mel.sequence(base, ph.seq_step)
        from_theme = motif is not None and recipe[:1] in ("T", "S", "F")  # the theme's bars, sequences, fragments
        if motif is None:
            motif = fresh(recipe if recipe in ("N", "N2") else f"N:{recipe}")
        # a bar the neural model drew just now under the hard rules already fits this bar's chords;
        # snapping its strong beats afterwards would overrule the model with a filter, so only recalled
        # or transformed material is snapped
        sampled_under_rules = drawn_here and hasattr(self.style.melody, "note_probs")
        if not verbatim and not recipe.startswith("C"):
            # a neural style writes the notes that make a recalled bar busier (model elaboration)
            infill = None if history is None else mel.ModelInfill(
                ctx.rng(part.name, "melody-infill"), self.style.melody, key, self.meter, list(history), bounds,
                state.tension, density, chord_at)
            motif = mel.fit_density(rng, motif, self.meter, density, infill=infill)
            if not recipe.startswith("N"):  # fresh bars were syncopated as they were written
                motif = mel.syncopate_motif(rng, motif, self.meter, self._syncopation(density))
            if not sampled_under_rules:
                motif = mel.snap_to_chords(motif, chord_at, self.meter, bounds, key)
        if verbatim:
            # the theme keeps its contour: one octave placement for the whole phrase, not one per bar
            if ph.theme_shift is None or any(not lo <= n.degree + ph.theme_shift <= hi for n in motif):
                ph.theme_shift = _placement(motif, last, centre, bounds)
            motif = mel.clamp_to_bounds(mel.sequence(motif, ph.theme_shift), bounds)
        else:
            motif = _place_near(motif, last, centre, bounds)
        if not self.themes and len(self._self_theme) < 2 and ph.index == 0 and not recipe.startswith("C"):
            # with no theme in the spec, the opening bars become the piece's own theme to develop later
            # (absolute diatonic indices carry over between keys: index 35 is the tonic of octave 4 in any key)
            self._self_theme.append(list(motif))
        self._phrase_has_theme |= from_theme and bool(motif)
        return self._sung(ctx, motif, key, mem, ph, part)

    def _pick_up(self, motif: mel.Motif, ph: _Phrase, theme: list[mel.Motif]) -> mel.Motif:
        """An anacrusis: after a half cadence the line steps into the theme the next phrase opens with.

        The held cadence note gives up its last beat to two short notes that approach the theme's
        first note by step, so the return is prepared, not just arrived at.
        """
        nxt = form_slot(ph.index + 1)
        if nxt.kind not in ("statement", "restatement") or not theme or not theme[0] or not motif:
            return motif
        tpb = self.meter.ticks_per_beat
        last_beat = (self.meter.beats_per_bar - 1) * tpb
        held = motif[-1]
        if held.onset >= last_beat:
            return motif
        first = min(theme[0], key=lambda n: n.onset).degree
        target = min((first + 7 * k for k in range(-3, 4)), key=lambda d: abs(d - held.degree))
        # where the next phrase's first bar was sung before (a return), lead exactly there
        opening = self._bar_store.get((nxt.shares or nxt.material, 0))
        source = self._materials.get(nxt.shares or nxt.material)
        if opening and opening[1] and opening[1][1] and source is not None and source.key == ph.key:
            target = min(opening[1][1], key=lambda n: n.onset).degree
        side = -1 if target >= held.degree else 1  # approach from below when the theme lies above
        step = tpb // 3 if self.meter.compound else tpb // 2
        out = motif[:-1] + [mel.MotifNote(held.onset, last_beat - held.onset, held.degree)]
        out.append(mel.MotifNote(last_beat, step, target + 2 * side))
        out.append(mel.MotifNote(last_beat + step, tpb - step, target + side))
        return out

    @staticmethod
    def _syncopation(density: float) -> float:
        """Chance that a note due on a beat is anticipated: busier (higher-arousal) music syncopates more."""
        return 0.15 + 0.35 * density

    def _sung(self, ctx: BarContext, motif: mel.Motif, key: Key, mem: dict, ph: _Phrase, part: Part) -> list[Note]:
        """Remember a bar of melody (for the line's continuation and for a later return) and voice it."""
        if motif:
            mem["steps"] = [b.degree - a.degree for a, b in zip(motif, motif[1:])][-2:]
            mem["degree"] = motif[-1].degree
            if hasattr(self.style.melody, "note_probs"):
                ordered = sorted(motif, key=lambda n: n.onset)
                spans = mel.written_lengths([n.onset for n in ordered], self.meter.ticks_per_bar)
                mem["history"] = (mem.get("history", []) + [(n.degree, n.onset / PPQ, span / PPQ)
                                                            for n, span in zip(ordered, spans)])[-16:]
        bar_mat = ph.bar_material[ctx.bar_in_phrase] if ph.bar_material else None
        if bar_mat is not None and bar_mat in self._bar_store and self._bar_store[bar_mat][1] is None:
            self._bar_store[bar_mat] = (self._bar_store[bar_mat][0], (part.name, list(motif)))
        notes = melody_notes(ctx, motif, key, low=part.low, high=part.high)
        self._phrase_melody.extend(notes)
        return notes


def _nearest_departure(home: Key, keys: list[Key]) -> Key | None:
    """The palette's modulation target closest to home in colour (brightness), preferring a new tonic:
    a departure that changes the scenery, not the mood."""
    others = [k for k in keys if k != home]
    if not others:
        return None
    return min(others, key=lambda k: (abs(k.brightness - home.brightness), k.tonic == home.tonic, k.tonic, k.mode))


def _placement(motif: mel.Motif, last: int, centre: int, bounds: tuple[int, int]) -> int:
    """The octave shift (in scale degrees) that puts a motif near the previous note and the register centre."""
    lo, hi = bounds
    best: tuple[float, int] | None = None
    for shift in (-21, -14, -7, 0, 7, 14, 21):
        degs = [n.degree + shift for n in motif]
        out_of_range = sum(1 for d in degs if d < lo or d > hi)
        mean = sum(degs) / len(degs)
        cost = out_of_range * 10 + abs(degs[0] - last) * 0.6 + abs(mean - centre) * 0.5
        if best is None or cost < best[0]:
            best = (cost, shift)
    return best[1] if best else 0


def _place_near(motif: mel.Motif, last: int, centre: int, bounds: tuple[int, int]) -> mel.Motif:
    """Octave placement of recalled material: close to the previous note and the register centre, inside the range."""
    if not motif:
        return motif
    shift = _placement(motif, last, centre, bounds)
    shifted = mel.sequence(motif, shift) if shift else motif
    return mel.clamp_to_bounds(shifted, bounds)


def check_bar(bar: BarMusic, parts: list[Part]) -> None:
    """Re-verify the hard rules on a composed bar: range for pitched layers, and the tonal policy.

    Policy ``none``: every pitched note is in the bar's key. ``harmonic``: in the key or a tone of
    the chord sounding at the note's onset (an applied, borrowed or chromatic chord). ``free``:
    ranges only.
    """
    by_name = {p.name: p for p in parts}
    chords = sorted(bar.chords, key=lambda c: c[0])
    for name, notes in bar.notes.items():
        part = by_name[name]
        if part.is_drums or part.role == "percussion":
            continue
        for n in notes:
            if chords:
                chord = [ch for off, ch in chords if off <= n.start - bar.start or off == chords[0][0]][-1]
                allowed = allowed_pitch_classes(bar.key, chord, bar.policy)
            else:
                allowed = None if bar.policy == "free" else bar.key.pitch_classes
            if allowed is not None and n.pitch % 12 not in allowed:
                raise RuleViolation(f"bar {bar.index + 1} layer {name}: pitch {n.pitch} not in {bar.key} "
                                    f"(policy {bar.policy})")
            if not part.low <= n.pitch <= part.high:
                raise RuleViolation(f"bar {bar.index + 1} layer {name}: pitch {n.pitch} outside {part.low}..{part.high}")
            if n.start < bar.start or n.start >= bar.end:
                raise RuleViolation(f"bar {bar.index + 1} layer {name}: note at tick {n.start} outside the bar")
