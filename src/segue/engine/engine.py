"""The engine: controls → conductor → sequencer → synths → mixer, one audio block at a time.

This loop is the only way Segue makes sound. Live playback pulls blocks as the sound card
asks; offline rendering pulls them as fast as the CPU allows. Inside a block the engine
stops at exact samples — where a control takes effect, where a bar must be composed, where a
transition lands — so what happens never depends on the block size.

Lookahead: bar *k* is decided when bar *k−1* starts playing (one bar ahead), using the
parameter values at that sample, and written by then — on the composer thread when the engine
composes ahead (live), lazily otherwise — and scheduled when the audio reaches its bar line
(:mod:`segue.engine.ahead`). A state change starts the new state's deck at its quantized
boundary on the other synth slot while the old deck fades out over the rule's fade length; its
first bar is decided :data:`COMPOSE_LEAD` before the boundary, so requests that replace each
other before then cost nothing.
"""

from __future__ import annotations

import heapq
import itertools
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol

import numpy as np

from segue.audio import LayerSynth, Mixer
from segue.audio.mixer import sum_stems
from segue.audio.synth import GRID
from segue.audio.voicing import key_trims
from segue.compose.affect import Affect
from segue.compose.composer import BarMusic
from segue.engine.ahead import BarJob, ComposerThread
from segue.engine.conductor import Conductor, Deck
from segue.engine.controls import Control, parse_control
from segue.engine.personal import layer_offset_db
from segue.engine.volume import VolumeAutomation
from segue.music import PPQ, Key, Note

log = logging.getLogger("segue.engine")


@dataclass(frozen=True, slots=True)
class Event:
    """Something the game may want to know, at the exact sample it happens."""

    sample: int
    kind: str  # beat | bar | phrase | state_entered | transition_started | stinger | marker | rejected | underrun
    #          | feedback | signal | met | recall | personal
    data: dict = field(default_factory=dict)


def _cancel_from(synth: LayerSynth, sample: int) -> None:
    """Drop a synth's queued events at or after ``sample``; notes already sounding end at ``sample``."""
    queue = synth._queue  # noqa: SLF001 - the engine owns its synths' queues
    keep = [e for e in queue if e[0] < sample]
    started = {e[4] for e in keep if e[3] == 4}  # note-ons that will have happened
    heapq.heapify(keep)
    synth._queue = keep  # noqa: SLF001
    for pitch in sorted(started | set(synth._held)):  # noqa: SLF001
        synth.schedule(sample, "off", pitch, 0)


VOICES = {"melody": 8, "counter": 8, "bass": 6, "drone": 6, "harmony": 16, "ostinato": 12, "percussion": 16}
"""Voices per layer (a voice also rings through its release): a player's polyphony, which also
bounds the synthesis cost of dense textures — the oldest release tail is the one that is cut."""


COMPOSE_LEAD_S = 0.1
"""How long before its boundary a state change's first bar is decided (seconds of music): time for the
composer thread to write it. A newer request before then replaces the older one at no cost."""


class Engine:
    """Pulls audio blocks from a :class:`Conductor`, applying controls at exact samples.

    ``compose_ahead``: write bars on the process's composer thread (live play) instead of lazily on
    the thread that pulls (offline); the audio is the same sample for sample.
    """

    def __init__(self, conductor: Conductor, *, soundfont: Path | None = None, reverb: float = 0.22,
                 fade_ramp: int = 1024, log_limit: int | None = None,
                 personaliser: "Personaliser | None" = None, compose_ahead: bool = False) -> None:
        self.conductor = conductor
        self.compose_ahead = bool(compose_ahead)
        self._jobs: list[BarJob] = []  # bars decided, not yet scheduled, in the order decided
        self.bars_late = 0  # bars the audio thread had to write or wait for (composing ahead)
        self.compose_lead = int(COMPOSE_LEAD_S * conductor.sample_rate)
        self.soundfont = soundfont
        self.sample_rate = conductor.sample_rate
        self.position = 0
        self.fade_ramp = fade_ramp
        parts = conductor.parts
        self.synths: dict[tuple[int, str], LayerSynth] = {}
        names = []
        for slot in (0, 1):
            for p in parts:
                names.append(f"{slot}:{p.name}")
        stingers = list(getattr(conductor.spec, "stingers", None) or [])
        self.stinger_specs = {s.name: s for s in stingers}
        names += [f"stinger:{s.name}" for s in stingers]
        self.mixer = Mixer(names, sample_rate=self.sample_rate, reverb=reverb)
        for slot in (0, 1):
            for p in parts:
                self.mixer.set_gain(f"{slot}:{p.name}", p.gain_db if slot == 0 else -120.0, ramp_samples=0)
        for s in stingers:
            self.mixer.set_gain(f"stinger:{s.name}", float(getattr(s, "gain_db", 0.0)), ramp_samples=0)
        self._slot_synths: dict[int, dict[str, LayerSynth]] = {0: {}, 1: {}}
        self._slot_idle_after: dict[int, int | None] = {0: None, 1: 0}
        self.stinger_synths: dict[str, LayerSynth] = {}
        self._controls: list[tuple[int, int, Control]] = []
        self._order = itertools.count()
        # every applied control with its sample (what replays offline); ``log_limit`` keeps only the newest,
        # so a game streaming parameters at 60 Hz for hours does not grow the process without bound
        self.control_log: list[Control] = []
        self.log_limit = log_limit
        self.events: list[Event] = []
        self._event_heap: list[tuple[int, int, Event]] = []
        self.rejected = 0
        self.underruns = 0
        self.notes_scheduled = 0
        self._last_stinger: dict[str, int] = {}
        self._layer_gain_db: dict[str, float] = {p.name: p.gain_db for p in parts}
        self._active_layers: dict[int, set[str]] = {0: set(), 1: set()}
        self._gain_targets: dict[str, float] = {f"0:{p.name}": p.gain_db for p in parts}
        self._gain_targets.update({f"1:{p.name}": -120.0 for p in parts})
        self.volume = VolumeAutomation(conductor.mappings, conductor.params, self.sample_rate)
        self.layer_faders = {p.name: f for p in parts
                             if (f := VolumeAutomation(conductor.mappings, conductor.params, self.sample_rate,
                                                       target="layer_gain", layer=p.name)).active}
        self._listeners: list[EngineListener] = []
        self.personaliser: Personaliser | None = None
        self._faders_told: tuple[float, dict[str, float]] | None = None
        self._settle(self._begin(conductor.deck, 0))
        # set after the first bar: that bar is composed before any control can arrive, so a replay
        # (whose controls are submitted after this) composes it the same way
        self.personaliser = personaliser
        """A listener model that chooses each personalised phrase's settings (its choices are logged as
        ``personal`` controls, so a replay needs no model) and hears feedback and play-style signals."""

    def warm_up(self) -> None:
        """Do the once-per-process work now rather than inside the first bars of live play: measuring
        each preset's voicing (~20-60 ms each) and loading the originality guard's index (~0.3 s) would
        otherwise land in the producer at the first phrase or the first state change, and underrun."""
        for p in self.conductor.parts:
            key_trims(self.soundfont, p.bank, p.program, p.is_drums)
        for s in self.stinger_specs.values():
            key_trims(self.soundfont, int(getattr(s, "played_bank", 0) or 0), int(s.played_program), False)
        guard = self.conductor.guard
        if guard is not None:
            guard([])

    def _tell_faders(self) -> None:
        """Listeners hear the parameter faders (master volume, layer gains) when they have moved ≥ 0.1 dB."""
        master = self.volume.level_db()
        layers = {name: f.level_db() for name, f in self.layer_faders.items()}
        last = self._faders_told
        if last is not None:
            resting = self.volume.resting and all(f.resting for f in self.layer_faders.values())
            step = 1e-9 if resting else 0.1  # at rest, the exact final level is told too
            if abs(last[0] - master) < step and all(abs(last[1].get(k, 0.0) - v) < step for k, v in layers.items()):
                return
        self._faders_told = (master, layers)
        for listener in self._listeners:
            moved = getattr(listener, "faders_moved", None)
            if moved is not None:
                moved(self.position, master, layers)

    # ------------------------------------------------------------------ listeners
    def add_listener(self, listener: "EngineListener") -> Callable[[], None]:
        """Be told of every note the engine schedules and every deck it cuts (for MIDI out, visualisers).

        Called on the thread that pulls audio, as the engine decides, i.e. *ahead* of the audio by the
        lookahead; a listener that must act when the music is heard times itself by the samples given.
        Returns a function that removes the listener.
        """
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    # ------------------------------------------------------------------ synth slots
    def _synth(self, slot: int, layer: str) -> LayerSynth:
        s = self._slot_synths[slot].get(layer)
        if s is None:
            p = next(p for p in self.conductor.parts if p.name == layer)
            s = LayerSynth(program=p.program, is_drums=p.is_drums, bank=p.bank, sample_rate=self.sample_rate,
                           soundfont=self.soundfont, max_voices=VOICES.get(p.role, 12))
            s.start_at(self.position)  # its clock joins the engine's: events land on absolute samples
            self._slot_synths[slot][layer] = s
        return s

    # ------------------------------------------------------------------ controls
    def submit(self, data: dict | Control, sample: int | None = None) -> str | None:
        """Queue a control; ``sample`` None = at the next block. Returns None or the reason it was rejected."""
        c = data if isinstance(data, Control) else parse_control(data)
        if isinstance(c, str):
            self._reject(self.position, c)
            return c
        at = c.sample if sample is None and c.sample is not None else sample
        if at is None and c.time is not None and sample is None and not isinstance(data, Control):
            at = c.at_sample(self.sample_rate)
        if at is None:
            at = self.position
        if at < self.position:
            reason = f"late control ({c.kind} {c.name}) for sample {at}, engine is at {self.position}"
            self._reject(self.position, reason)
            return reason
        heapq.heappush(self._controls, (int(at), next(self._order), c))
        return None

    def _reject(self, sample: int, reason: str) -> None:
        self.rejected += 1
        log.warning("control rejected: %s", reason)
        self._emit(Event(sample, "rejected", {"reason": reason}))

    def _apply(self, c: Control, sample: int) -> None:
        cond = self.conductor
        try:
            if c.kind == "param":
                value = cond.set_parameter(c.name, float(c.value), sample)
                info = {"name": c.name, "value": value}
            elif c.kind == "affect":
                cur = cond.affect_override or Affect(cond.spec.mood.valence, cond.spec.mood.arousal,
                                                     cond.spec.mood.intensity)
                cond.set_affect(Affect(cur.valence if c.valence is None else c.valence,
                                       cur.arousal if c.arousal is None else c.arousal,
                                       cur.intensity if c.intensity is None else c.intensity))
                info = {}
            elif c.kind == "state":
                self._request_state(c.name, sample)
                info = {"name": c.name}
            elif c.kind == "stinger":
                self._stinger(c.name, sample)
                info = {"name": c.name}
            elif c.kind == "invalid":
                self._reject(sample, c.name)
                return
            elif c.kind == "marker":
                self._emit(Event(sample, "marker", {"name": c.name}))
                info = {"name": c.name}
            elif c.kind in ("feedback", "signal"):
                tick = cond.tempo_map.tick_at_sample(sample)
                deck, _ = self._deck_bar_at(tick)  # what is sounding now (composing runs a bar ahead)
                heard = dict(deck.personal_at(tick).settings)
                info = {"name": c.name, "value": c.value, "state": deck.state, "settings": heard}
                self._emit(Event(sample, c.kind, info))
                if self.personaliser is not None:
                    self.personaliser.observe(c, deck.state, heard)
            elif c.kind == "meet":
                cond.personal.memory.meet(c.name)
                info = {"name": c.name, "kind": cond.personal.memory.kinds[c.name],
                        "theme": cond.personal.memory.themes[c.name]}
                self._emit(Event(sample, "met", info))
                if self.personaliser is not None:
                    self.personaliser.observe(c, cond.state_name, {})
            elif c.kind == "personal":
                if c.name:
                    cond.spec.state(c.name)
                info = {"state": c.name, "settings": cond.personal.request(c.name, dict(c.settings or ()))}
                self._emit(Event(sample, "personal", info))
            else:  # parse_control guarantees the kinds
                raise ValueError(f"unknown control {c.kind}")
        except KeyError as exc:
            self._reject(sample, f"{c.kind} control names nothing known: {exc.args[0]!r}")
            return
        except ValueError as exc:
            self._reject(sample, f"{c.kind} {c.name}: {exc}")
            return
        self.control_log.append(Control(kind=c.kind, name=c.name, value=c.value, valence=c.valence,
                                        arousal=c.arousal, intensity=c.intensity, sample=sample,
                                        settings=c.settings))
        if self.log_limit is not None and len(self.control_log) > self.log_limit + self.log_limit // 8:
            del self.control_log[:len(self.control_log) - self.log_limit]  # in chunks: amortised O(1)
        _ = info

    # ------------------------------------------------------------------ transitions and stingers
    def _request_state(self, name: str, sample: int) -> None:
        cond = self.conductor
        cond.spec.state(name)  # KeyError first: a request for an unknown state changes nothing
        if cond.pending is not None and cond.pending.to_state == name:
            return
        if cond.pending is None and name == cond.state_name:
            return
        if cond.pending is not None:
            # a newer request replaces one still waiting for its boundary; its first bar, if decided,
            # is never heard: dropped unwritten when possible
            old = cond.pending
            for job in [j for j in self._jobs if j.deck is old.made]:
                job.drop()
                self._jobs.remove(job)
            self._settle_all()
            if old.made is not None and old.made.bars:  # (nothing of it was scheduled otherwise)
                for synth in self._slot_synths[old.deck.slot].values():
                    _cancel_from(synth, sample)
                for part in cond.parts:
                    channel = f"{old.deck.slot}:{part.name}"
                    self.mixer.set_gain(channel, -120.0, ramp_samples=1, at=sample)
                    self._gain_targets[channel] = -120.0
                for bar in old.deck.bars:  # composed ahead but never heard: not part of the performance
                    bar.cut = bar.start
                self._unheard_recall(old.made, old.boundary_tick)
                for listener in self._listeners:
                    listener.deck_cut(old.deck, sample, False)
            cond.pending = None
            cond.deck.stop_tick = None
        else:
            self._settle_all()  # the boundary and the bridge read the playing deck's newest bar
        p = cond.request_state(name, sample)
        # the new deck's first bar is decided COMPOSE_LEAD before its boundary (see _next_decision) — or
        # now, with the parameters as they stand at the request, when the boundary is closer than that
        # (an immediate cut): controls sent at the same sample *after* the request are meant for the bars
        # that follow (a film's click track sets bar 2's tempo there), as they were before composing ahead
        if p is not None and p.made is None and self._first_bar_due(p) <= sample:
            self._begin(p.deck, sample)

    def _take_over(self, sample: int) -> None:
        self._settle_all()
        cond = self.conductor
        old_deck = cond.deck
        self._unheard_recall(old_deck, cond.pending.boundary_tick)
        p = cond.take_over(sample)
        rule = p.rule
        beat_samples = cond.tempo_map.sample(p.boundary_tick + cond.meter.ticks_per_beat) - sample
        fade = max(int(float(getattr(rule, "fade_beats", 1.0)) * beat_samples), self.fade_ramp)
        # the old deck fades out and stops; the new deck sounds at full level from the boundary
        for part in cond.parts:
            channel = f"{old_deck.slot}:{part.name}"
            self.mixer.set_gain(channel, -120.0, ramp_samples=fade, at=sample)
            self._gain_targets[channel] = -120.0
        for s in self._slot_synths[old_deck.slot].values():
            _cancel_from(s, sample + fade)
        for listener in self._listeners:
            listener.deck_cut(old_deck, sample, True)
        # on the synths' 64-sample grid: the render split there changes nothing that is heard
        self._slot_idle_after[old_deck.slot] = -(-(sample + fade + 2 * self.sample_rate) // GRID) * GRID
        self._slot_idle_after[p.deck.slot] = None
        self._emit(Event(sample, "transition_started", {
            "from": p.from_state, "to": p.to_state, "quantize": str(rule.quantize), "requested": p.requested_sample,
            "boundary_tick": p.boundary_tick, "fade_samples": fade}))
        self._emit(Event(sample, "state_entered", {"name": p.to_state, "tick": p.boundary_tick}))
        if getattr(rule, "stinger", None):
            try:
                self._stinger(rule.stinger, sample)
            except ValueError as exc:  # cooling down: the transition goes ahead without it
                self._reject(sample, f"transition stinger {rule.stinger}: {exc}")

    def _unheard_recall(self, deck: Deck, tick: int) -> None:
        """A recalled theme whose phrase a transition cuts before it sounds: not told, and recalled later."""
        thing = self.conductor.unheard_recall(deck, tick)
        if thing is None:
            return
        at = self.conductor.tempo_map.sample(tick)
        kept = [e for e in self._event_heap if not (e[2].kind == "recall" and e[2].data.get("thing") == thing
                                                     and e[2].sample >= at and e[2].data.get("state") == deck.state)]
        if len(kept) != len(self._event_heap):
            heapq.heapify(kept)
            self._event_heap = kept

    def _stinger(self, name: str, sample: int) -> None:
        spec = self.stinger_specs[name]
        cond = self.conductor
        tm = cond.tempo_map
        beat = cond.meter.ticks_per_beat
        cooldown = int(float(getattr(spec, "cooldown_beats", 4)) * beat)
        tick = tm.tick_at_sample(sample)
        while tm.sample(tick) < sample:
            tick += 1
        last = self._last_stinger.get(name)
        if last is not None and tick < last + cooldown:
            raise ValueError(f"stinger {name!r} is cooling down ({(last + cooldown - tick) / beat:.1f} beats left)")
        self._settle_all()  # its grid and its key come from the bars around it (a rejected one touches nothing)
        at = cond.boundary_tick(str(getattr(spec, "quantize", "beat")), tick)
        self._last_stinger[name] = at
        bar = self._bar_at(at)
        key = bar.key if bar else cond.home_key
        chord = None
        if bar:
            off = at - bar.start
            chord = [ch for o, ch in bar.chords if o <= off][-1]
        notes = stinger_notes(spec.parsed_notes(), cond.home_key, key, chord, at)
        synth = self.stinger_synths.get(name)
        if synth is None:
            layer = next((p for p in cond.parts if p.name == spec.layer), None) if spec.layer else None
            synth = LayerSynth(program=int(spec.played_program), bank=0 if layer and layer.is_drums else int(spec.played_bank),
                               is_drums=bool(layer and layer.is_drums), sample_rate=self.sample_rate,
                               soundfont=self.soundfont)
            synth.start_at(self.position)
            self.stinger_synths[name] = synth
        for n in notes:
            synth.schedule(tm.sample(n.start), "on", n.pitch, n.velocity)
            synth.schedule(tm.sample(n.end), "off", n.pitch, 0)
        for listener in self._listeners:
            listener.stinger_scheduled(name, notes)
        self._emit(Event(tm.sample(at), "stinger", {"name": name, "tick": at, "key": key.name(),
                                                    "notes": [(n.start, n.pitch) for n in notes]}))

    def _bar_at(self, tick: int) -> BarMusic | None:
        return self._deck_bar_at(tick)[1]

    def _deck_bar_at(self, tick: int) -> tuple[Deck, BarMusic | None]:
        for deck in (self.conductor.pending.made if self.conductor.pending else None, self.conductor.deck):
            if deck is None:
                continue
            for b in reversed(deck.bars):
                if b.start <= tick < b.end:
                    return deck, b
        deck = self.conductor.deck
        return deck, (deck.bars[-1] if deck.bars else None)

    # ------------------------------------------------------------------ composing
    def _begin(self, deck: Deck, sample: int) -> BarJob:
        """Decide ``deck``'s next bar at ``sample`` (the state and tempo are taken now); it is written
        on the composer thread when composing ahead, else when it is collected."""
        cond = self.conductor
        if (self.personaliser is not None and deck.composer.at_phrase_start() and not deck.composer.bridging
                and cond.personal.personalises(deck.state)):
            chosen = self.personaliser.choose(deck.state, sample)
            if chosen:  # applied (and logged) like any control: a replay plays it without the model
                self._apply(Control(kind="personal", name=deck.state or "",
                                    settings=tuple(sorted((k, float(v)) for k, v in chosen.items()))), sample)
        tick = deck.composer.tick
        job = BarJob(deck, cond.prepare_bar(deck, sample), tick, sample)
        if self.compose_ahead:
            job.future = ComposerThread.shared().submit(job)
        self._jobs.append(job)
        return job

    def _settle_all(self) -> None:
        """Collect every decided bar now (before anything reads a composer or moves a deck's synths)."""
        while self._jobs:
            self._settle(self._jobs[0])

    def _settle(self, job: BarJob) -> BarMusic:
        """Collect a decided bar (writing it here if need be) and schedule it: notes, faders, events."""
        self._jobs.remove(job)
        bar = job.result()
        if job.late and self.compose_ahead:
            self.bars_late += 1
        return self._schedule(job.deck, self.conductor.commit_bar(job.deck, bar))

    def _schedule(self, deck: Deck, bar: BarMusic) -> BarMusic:
        cond = self.conductor
        tm = cond.tempo_map
        slot = deck.slot
        for layer, notes in bar.notes.items():
            if not notes:
                continue
            synth = self._synth(slot, layer)
            for n in notes:
                synth.schedule(tm.sample(n.start), "on", n.pitch, n.velocity)
                synth.schedule(tm.sample(n.end), "off", n.pitch, 0)
            self.notes_scheduled += len(notes)
        for listener in self._listeners:
            listener.bar_composed(deck, bar)
        self._layer_gains(deck, bar, tm.sample(bar.start))
        start = tm.sample(bar.start)
        heard = deck.heard(bar)
        info = {"bar": heard, "state": deck.state, "key": bar.key.name(), "tempo": bar.tempo,
                "chord": bar.chords[0][1].name() if bar.chords else None, "slot": slot}
        self._emit(Event(start, "bar", info))
        if bar.bar_in_phrase == 0:
            self._emit(Event(start, "phrase", {"phrase": bar.phrase_index, "kind": bar.phrase_kind, "state": deck.state}))
            if deck.personal.recalled is not None:
                self._emit(Event(start, "recall", {"thing": deck.personal.recalled, "theme": deck.personal.theme,
                                                   "state": deck.state, "bar": heard}))
        for b in range(cond.meter.beats_per_bar):
            self._emit(Event(tm.sample(bar.start + b * cond.meter.ticks_per_beat), "beat",
                             {"bar": heard, "beat": b, "state": deck.state}))
        return bar

    def _layer_gains(self, deck: Deck, bar: BarMusic, at: int) -> None:
        """Each layer's fader follows its entry into the texture, click-free (a one-beat ramp from the bar line);
        ``layer_gain`` mappings act on top of it, sample by sample (``layer_faders``).

        A deck's first bar opens its faders exactly at the bar line: that slot was silent, so the
        jump cannot click, and the new state's downbeat sounds at full level on its boundary.
        """
        cond = self.conductor
        beat = max(cond.tempo_map.sample(bar.start + cond.meter.ticks_per_beat) - at, 1)
        first = len(deck.bars) <= 1 or bar.start == deck.start_tick
        for p in cond.parts:
            target = p.gain_db + entry_gain_db(p, bar.state) + layer_offset_db(deck.personal, p.name)
            name = f"{deck.slot}:{p.name}"
            if self._gain_targets.get(name) != target:
                self.mixer.set_gain(name, target, ramp_samples=1 if first else beat, at=at)
                self._gain_targets[name] = target
        self._active_layers[deck.slot] = {name for name, notes in bar.notes.items() if notes}

    def _job_for(self, deck: Deck) -> BarJob | None:
        for job in self._jobs:
            if job.deck is deck:
                return job
        return None

    def _decision(self, deck: Deck) -> tuple[int, BarJob | None] | None:
        """When ``deck`` next needs the engine: (sample, the decided bar to collect then, or None to decide one)."""
        cond = self.conductor
        tm = cond.tempo_map
        job = self._job_for(deck)
        if job is not None:  # collected at its bar line (its composer is busy until then)
            return tm.sample(job.start_tick), job
        if not deck.can_compose() or (deck is cond.deck and cond.finished):
            return None
        last = deck.bars[-1] if deck.bars else None
        if last is not None:
            return tm.sample(last.start), None
        p = cond.pending
        if p is not None and deck is p.made:  # a state change's first bar: COMPOSE_LEAD before its boundary
            return max(self.position, p.requested_sample, self._first_bar_due(p)), None
        return self.position, None

    def _first_bar_due(self, p) -> int:
        """When a state change's first bar is decided: COMPOSE_LEAD before its boundary, on the synths'
        64-sample grid (a render split on it changes no sample; one off it would move envelope updates)."""
        return (self.conductor.tempo_map.sample(p.boundary_tick) - self.compose_lead) // GRID * GRID

    def _decisions(self) -> list[tuple[int, Callable[[], object]]]:
        """What the playing and the pending deck need next: (sample, the action to take then)."""
        cond = self.conductor
        out: list[tuple[int, Callable[[], object]]] = []
        p = cond.pending
        for deck in (cond.deck, p.made if p else None):
            d = self._decision(deck) if deck is not None else None
            if d is not None:
                job = d[1]
                out.append((d[0], (lambda j=job: self._settle(j)) if job is not None
                            else (lambda dk=deck: self._begin(dk, self.position))))
        if p is not None and p.made is None:  # not even made yet: its deck is made when its first bar is decided
            due = max(self.position, p.requested_sample, self._first_bar_due(p))
            out.append((due, lambda: self._begin(p.deck, self.position)))
        return out

    def _next_decision(self) -> int | None:
        """The sample at which some deck's next bar must be decided or collected."""
        best: int | None = None
        for d in self._decisions():
            if d is not None:
                best = d[0] if best is None else min(best, d[0])
        return best

    # ------------------------------------------------------------------ the loop
    def pull(self, n: int, want_stems: bool = False) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """The next ``n`` frames: (mix after the bus, per-layer stems summed over decks if asked)."""
        end = self.position + n
        pieces: list[np.ndarray] = []
        stem_pieces: dict[str, list[np.ndarray]] = {}
        while self.position < end:
            self._due(self.position)
            stop = end
            if self._controls:
                stop = min(stop, max(self._controls[0][0], self.position + 1))
            d = self._next_decision()
            if d is not None and d > self.position:
                stop = min(stop, d)
            for idle in self._slot_idle_after.values():  # a slot falls idle on its own sample, whatever the blocks
                if idle is not None and idle > self.position:
                    stop = min(stop, idle)
            p = self.conductor.pending
            if p is not None:
                b = self.conductor.tempo_map.sample(p.boundary_tick)
                if b > self.position:
                    stop = min(stop, b)
            mix, stems = self._render(stop - self.position, want_stems)
            pieces.append(mix)
            for k, v in stems.items():
                stem_pieces.setdefault(k, []).append(v)
        self._flush_events(end)
        mix = pieces[0] if len(pieces) == 1 else np.concatenate(pieces)
        stems = {k: (v[0] if len(v) == 1 else np.concatenate(v)) for k, v in stem_pieces.items()}
        return mix, stems

    def _due(self, pos: int) -> None:
        """Everything that happens at ``pos``: boundaries, controls, compositions — in that order."""
        cond = self.conductor
        for _ in range(64):  # bounded: each pass makes progress
            p = cond.pending
            if p is not None and cond.tempo_map.sample(p.boundary_tick) <= pos:
                self._take_over(pos)
                continue
            if self._controls and self._controls[0][0] <= pos:
                _, _, c = heapq.heappop(self._controls)
                self._apply(c, pos)
                continue
            due = next((act for at, act in self._decisions() if at <= pos), None)
            if due is not None:
                due()
                continue
            break

    def _render(self, n: int, want_stems: bool) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        raw: dict[str, np.ndarray] = {}
        for slot in (0, 1):
            idle = self._slot_idle_after[slot]
            synths = self._slot_synths[slot]
            if idle is not None and self.position >= idle:
                for s in synths.values():
                    if s.pending:
                        idle = None
                        break
                if idle is not None:
                    for s in synths.values():
                        s.advance(n)  # keep their clocks; nothing sounds there any more
                    continue
            for layer, s in synths.items():
                raw[f"{slot}:{layer}"] = s.render(n)
        for name, s in self.stinger_synths.items():
            raw[f"stinger:{name}"] = s.render(n)
        bypass = self.conductor.affect_override is not None
        for layer, fader in self.layer_faders.items():  # every call, so each fader's clock keeps step
            fader.bypassed = bypass
            g = fader.gains(self.position, n)
            if isinstance(g, float) and g == 1.0:
                continue
            g32 = np.float32(g) if isinstance(g, float) else g.astype(np.float32)[:, None]
            for slot in (0, 1):
                key = f"{slot}:{layer}"
                if key in raw:
                    raw[key] = raw[key] * g32
        faded = self.mixer.fade(raw) if raw else {}
        if not raw:
            self.mixer.fade({})
        dry = sum_stems(faded, n)
        self.volume.bypassed = self.conductor.affect_override is not None
        volume = self.volume.gains(self.position, n)
        if isinstance(volume, float):
            gain = None if volume == 1.0 else np.float32(volume)
        else:
            gain = volume.astype(np.float32)[:, None]
        if gain is not None:
            dry *= gain
            if want_stems:
                faded = {k: v * gain for k, v in faded.items()}
        mix = self.mixer.bus(dry)
        self.position += n
        if self._listeners and (self.volume.active or self.layer_faders):
            self._tell_faders()
        stems: dict[str, np.ndarray] = {}
        if want_stems:
            for key, audio in faded.items():
                layer = key.split(":", 1)[1]
                stems[layer] = audio if layer not in stems else stems[layer] + audio
        return mix, stems

    # ------------------------------------------------------------------ events
    def _emit(self, ev: Event) -> None:
        heapq.heappush(self._event_heap, (ev.sample, next(self._order), ev))

    def _flush_events(self, upto: int) -> None:
        while self._event_heap and self._event_heap[0][0] < upto:
            self.events.append(heapq.heappop(self._event_heap)[2])

    def drain_events(self) -> list[Event]:
        out, self.events = self.events, []
        return out

    # ------------------------------------------------------------------ introspection
    def status(self) -> dict:
        cond = self.conductor
        tm = cond.tempo_map
        tick = tm.tick_at_sample(self.position)
        deck, bar = self._deck_bar_at(tick)
        beat = (tick - bar.start) // cond.meter.ticks_per_beat if bar else 0
        chord = None
        if bar:
            chord = [ch for o, ch in bar.chords if o <= tick - bar.start][-1].name()
        return {
            "sample": self.position, "seconds": self.position / self.sample_rate, "state": cond.state_name,
            "pending": cond.pending.to_state if cond.pending else None, "bar": deck.heard(bar) if bar else 0,
            "beat": int(beat), "chord": chord, "key": bar.key.name() if bar else cond.home_key.name(),
            "tempo": tm.bpm_at(tick), "active_layers": sorted(self._active_layers.get(cond.deck.slot, set())),
            "parameters": cond.values_at(self.position), "underruns": self.underruns, "rejected": self.rejected,
            "volume_db": round(self.volume.level_db(), 2),
        }

    @property
    def end_sample(self) -> int | None:
        """Sample where the last composed bar ends, once the piece has a final bar."""
        c = self.conductor
        if self._job_for(c.deck) is not None or not c.finished:
            return None
        return c.tempo_map.sample(c.deck.bars[-1].end)


class EngineListener(Protocol):
    """What :meth:`Engine.add_listener` calls. Notes are in ticks of ``engine.conductor.tempo_map``."""

    def bar_composed(self, deck: Deck, bar: BarMusic) -> None:
        """A deck's next bar is written and scheduled (``bar.notes``: layer → notes)."""

    def stinger_scheduled(self, name: str, notes: list[Note]) -> None:
        """A stinger's notes are scheduled, already quantized and in the key sounding then."""

    def deck_cut(self, deck: Deck, sample: int, handover: bool) -> None:
        """A deck stops at ``sample``: handed over to the new state (``handover``), or a pending deck
        replaced by a newer request before it was ever heard."""

    # optional: ``faders_moved(sample, master_db, {layer: db})`` — the parameter faders (``volume``,
    # ``layer_gain``) reached these levels at ``sample`` (told when one moved by 0.1 dB or more)


class Personaliser(Protocol):
    """What :attr:`Engine.personaliser` is asked (on the thread that pulls audio, so it must be quick)."""

    def choose(self, state: str | None, sample: int) -> dict[str, float] | None:
        """Settings for the phrase of ``state`` that starts composing at ``sample`` (None: keep them)."""

    def observe(self, control: Control, state: str | None, settings: dict[str, float]) -> None:
        """A ``feedback``, ``signal`` or ``meet`` control, with the state and the settings the listener was hearing."""


def entry_gain_db(part, state) -> float:
    """A layer that has just entered by intensity starts quiet and reaches full level 0.3 intensity later."""
    if part.enter <= 0 or state.layers is not None or state.intensity < part.enter:
        return 0.0
    return -15.0 * (1.0 - min(1.0, (state.intensity - part.enter) / 0.3))


def stinger_notes(notes: list[Note], home: Key, key: Key, chord, at: int) -> list[Note]:
    """A stinger's notes moved to ``key`` by scale degree and onto a tone of ``chord``, starting at tick ``at``."""
    if not notes:
        return []
    first = min(n.start for n in notes)
    degs = [home.degree_of(n.pitch) for n in notes]
    degs = [d if d is not None else home.degree_of(n.pitch - 1) for d, n in zip(degs, notes)]
    shift = 0
    if chord is not None:
        cds = {(chord.degree + k) % 7 for k in range(0, 2 * len(chord.tones), 2)}
        shift = min((s for s in range(-3, 4) if (degs[0] + s) % 7 in cds), key=abs, default=0)
    out = []
    for d, n in zip(degs, notes):
        pitch = key.pitch_of_degree(d + shift)
        while pitch > 108:
            pitch -= 12
        while pitch < 21:
            pitch += 12
        out.append(Note(at + n.start - first, pitch, n.duration, min(n.velocity + 10, 127)))
    return out


__all__ = ["Engine", "Event", "stinger_notes", "PPQ"]
