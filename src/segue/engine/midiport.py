"""A MIDI output port for live play: the engine's notes, sent when their audio is heard.

A DAW or a game's own sampler can play Segue's music from MIDI instead of (or as well as) its
audio. Three things make that usable:

* **The same notes.** Every note the engine schedules — each deck's bars and every stinger —
  goes out as note_on/note_off on its layer's channel (the channel map of the exported MIDI file,
  so one DAW template fits both). At a state change the old deck's notes stop *at the boundary*,
  as in the exported file: MIDI cannot fade a deck out, so its crossfade tail is not sent.
* **Heard, not rendered.** The producer composes and renders up to ``ahead_blocks`` early; a
  message is sent only once the sink takes the block that carries its sample, at its offset
  inside that block (``LiveSession.on_played``), so MIDI and audio stay aligned.
* **No hanging notes.** Stop sends a note_off for every note still sounding and "all notes off"
  (CC 123) on every channel; a state change sends CC 123 on the layers' channels where the old
  deck is cut.

:class:`MidiPortSink` works with anything that has ``.send(msg)`` (a mido output port, or a
recorder in tests). :func:`open_midi_output` opens a real port through mido/python-rtmidi and turns
every backend failure into one readable :class:`MidiPortError`.

How the notes are known: the sink is an engine listener (:meth:`Engine.add_listener`): it hears of
each bar as it is composed, each stinger as it is scheduled and each deck as it is cut, ahead of
the audio, and holds the messages until their samples are played.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import math
import os
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Protocol

import mido

from segue.export.midi import channels_for

EXPRESSION = 11
"""MIDI controller number of expression: where the parameter faders (volume, layer_gain) go."""

ALL_NOTES_OFF = 123
"""MIDI controller number of "all notes off" (the channel-mode message every receiver knows)."""

DRUM_CHANNEL = 9
"""General MIDI percussion: channel 10, index 9."""


class MidiPortError(RuntimeError):
    """No MIDI output could be opened (no backend, no MIDI system, no such port). The message says why."""


class MidiOutput(Protocol):
    """What the sink needs of a port: mido's output ports, or any recorder with ``send``."""

    def send(self, msg: mido.Message) -> None: ...


# ---------------------------------------------------------------------------------------- opening a port
@contextlib.contextmanager
def _backend_stderr() -> Iterator[list[str]]:
    """Catch what the C backend writes to stderr (ALSA prints lines of its own) instead of showing it.

    Yields a list that holds the captured text afterwards, so an error message can use it. Why at
    the file-descriptor level: ALSA writes with C stdio, past Python's ``sys.stderr``.
    """
    captured: list[str] = []
    try:
        sys.stderr.flush()
    except Exception:  # pragma: no cover - a closed stderr
        pass
    try:
        saved = os.dup(2)
    except OSError:  # pragma: no cover - no fd 2 (embedded interpreters)
        yield captured
        return
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield captured
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            captured.append(tmp.read().decode("utf-8", "replace"))


def _explain(exc: BaseException, noise: str) -> str:
    """One readable reason for a backend failure."""
    text = f"{exc}".strip() or type(exc).__name__
    if sys.platform.startswith("linux") and ("ALSA" in text or "/dev/snd/seq" in noise or "ALSA" in noise):
        if not os.path.exists("/dev/snd/seq"):
            return ("ALSA sequencer not present (/dev/snd/seq is missing: load the snd-seq kernel module, "
                    "or play where a MIDI system exists)")
        return f"the ALSA sequencer could not be opened ({text})"
    return text


def _backend() -> Any:
    try:
        backend = mido.Backend(load=True)
    except Exception as exc:  # ImportError of python-rtmidi, or a broken MIDO_BACKEND
        hint = (" — python-rtmidi ships wheels for Python 3.11 and 3.12 only; use one of those for MIDI output"
                if isinstance(exc, ImportError) and sys.version_info >= (3, 13) else "")
        raise MidiPortError(f"no MIDI output available: the MIDI backend could not be loaded ({exc}){hint}") from None
    return backend


def list_midi_outputs() -> list[str]:
    """Names of the MIDI output ports this machine offers (for ``--midi-out``)."""
    backend = _backend()
    with _backend_stderr() as noise:
        try:
            names = list(backend.get_output_names())
            error = None
        except Exception as exc:  # rtmidi.SystemError and friends
            names, error = [], exc
    if error is not None:
        raise MidiPortError(f"no MIDI output available: {_explain(error, ''.join(noise))}")
    return names


def _choose(name: str, names: list[str]) -> str:
    """The port ``name`` means: exact, else the one port whose name contains it (ALSA adds client numbers)."""
    if name in names:
        return name
    hits = [n for n in names if name.lower() in n.lower()]
    if len(hits) == 1:
        return hits[0]
    listing = ", ".join(repr(n) for n in names)
    if not names:
        raise MidiPortError(f"no MIDI output port named {name!r}: this machine has no MIDI output ports "
                            "(use --midi-virtual to create one)")
    if hits:
        raise MidiPortError(f"MIDI output {name!r} is ambiguous; it matches {', '.join(repr(h) for h in hits)}")
    raise MidiPortError(f"no MIDI output port named {name!r}; available: {listing}")


def open_midi_output(name: str | None = None, virtual: bool = False) -> MidiOutput:
    """Open a MIDI output port through mido (python-rtmidi).

    ``virtual``: create a port named ``name`` (default "Segue") that DAWs and samplers can connect
    to (ALSA, CoreMIDI, JACK; not Windows). Otherwise open the existing port ``name`` (exact name, or
    the only one containing it), or the first port when ``name`` is None. Every failure — no
    backend, no MIDI system, no such port — raises :class:`MidiPortError` with a one-line reason.
    """
    backend = _backend()
    if virtual:
        port_name = name or "Segue"
        with _backend_stderr() as noise:
            try:
                port, error = backend.open_output(port_name, virtual=True), None
            except Exception as exc:
                port, error = None, exc
        if error is not None:
            raise MidiPortError(f"no MIDI output available: could not create the virtual port {port_name!r}: "
                                f"{_explain(error, ''.join(noise))}")
        return port
    names = list_midi_outputs()
    if name is None:
        if not names:
            raise MidiPortError("no MIDI output available: this machine has no MIDI output ports "
                                "(use --midi-virtual to create one)")
        chosen = names[0]
    else:
        chosen = _choose(name, names)
    with _backend_stderr() as noise:
        try:
            port, error = backend.open_output(chosen), None
        except Exception as exc:
            port, error = None, exc
    if error is not None:
        raise MidiPortError(f"could not open MIDI output {chosen!r}: {_explain(error, ''.join(noise))}")
    return port


# ---------------------------------------------------------------------------------------- the note schedule
@dataclass(slots=True)
class _Note:
    source: object  # the deck it belongs to (cut at state changes) or ("stinger", name)
    channel: int
    pitch: int
    velocity: int
    on: int  # engine samples
    off: int


_OFF_FIRST, _CUT, _ON_LAST = 1, 2, 3
"""Order of messages at one sample: note-offs, then "all notes off" of a cut, then note-ons (so a
repeated note re-strikes, and a new deck's downbeat survives the old deck's cut)."""


class _Schedule:
    """Sample-stamped MIDI messages not yet heard. Filled on the producer thread, emptied on the sink's."""

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, int, int, int, str, _Note | None]] = []
        self._seq = itertools.count()
        self._lock = threading.Lock()

    def add(self, note: _Note) -> None:
        if note.off <= note.on:  # zero length in samples: inaudible, and its off would precede its on
            return
        with self._lock:
            self._push(note.on, _ON_LAST, note.channel, note.pitch, "on", note)
            self._push(note.off, _OFF_FIRST, note.channel, note.pitch, "off", note)

    def _push(self, sample: int, prio: int, channel: int, pitch: int, kind: str, note: _Note | None) -> None:
        heapq.heappush(self._heap, (sample, prio, channel, pitch, next(self._seq), kind, note))

    def cut(self, source: object, sample: int, all_off_channels: list[int]) -> None:
        """``source`` stops at ``sample``: notes starting there or later are dropped, sounding ones end there."""
        with self._lock:
            kept = []
            for entry in self._heap:
                note = entry[6]
                if note is None or note.source is not source:
                    kept.append(entry)
                elif note.on >= sample:
                    continue
                elif entry[5] == "off" and note.off > sample:
                    note.off = sample
                    kept.append((sample,) + entry[1:])
                else:
                    kept.append(entry)
            heapq.heapify(kept)
            self._heap = kept
            for ch in all_off_channels:
                self._push(sample, _CUT, ch, 0, "cut", None)

    def expression(self, sample: int, channel: int, value: int) -> None:
        """CC 11 (expression) at ``sample``: the parameter faders' level, before any note there."""
        with self._lock:
            self._push(sample, 0, channel, value, "expression", None)

    def pop_before(self, limit: int) -> list[tuple[int, mido.Message]]:
        """Messages with sample < ``limit``, in playing order."""
        out: list[tuple[int, mido.Message]] = []
        with self._lock:
            heap = self._heap
            while heap and heap[0][0] < limit:
                sample, _, channel, pitch, _, kind, note = heapq.heappop(heap)
                if kind == "on":
                    msg = mido.Message("note_on", channel=channel, note=pitch, velocity=note.velocity)
                elif kind == "off":
                    msg = mido.Message("note_off", channel=channel, note=pitch, velocity=0)
                elif kind == "expression":
                    msg = mido.Message("control_change", channel=channel, control=EXPRESSION, value=pitch)
                else:
                    msg = mido.Message("control_change", channel=channel, control=ALL_NOTES_OFF, value=0)
                out.append((sample, msg))
        return out


# ---------------------------------------------------------------------------------------- the engine tap
class _EngineTap:
    """Learns the engine's notes and cuts as it makes them, through :meth:`Engine.add_listener`."""

    def __init__(self, engine: Any, schedule: _Schedule, channels: dict[str, int],
                 stinger_channels: dict[str, int]) -> None:
        self.engine = engine
        self.schedule = schedule
        self.channels = channels
        self.stinger_channels = stinger_channels
        self.part_channels = sorted(set(channels.values()))
        self._remove: Callable[[], None] | None = None
        self._expression: dict[int, int] = {}

    def attach(self) -> None:
        if self._remove is not None:
            raise ValueError("this MIDI output port is already attached")
        eng = self.engine
        cond = eng.conductor
        # bars already composed (the engine composes its first bar when it is built)
        for deck in (cond.deck, cond.pending.deck if cond.pending else None):
            if deck is not None:
                for bar in list(deck.bars):
                    self._add_bar(deck, bar, not_before=eng.position)
        self._remove = eng.add_listener(self)

    def detach(self) -> None:
        if self._remove is not None:
            self._remove()
            self._remove = None

    # -- EngineListener ---------------------------------------------------------------------
    def bar_composed(self, deck: Any, bar: Any) -> None:
        self._add_bar(deck, bar)

    def stinger_scheduled(self, name: str, notes: list) -> None:
        tm = self.engine.conductor.tempo_map
        ch = self.stinger_channels[name]
        for n in notes:
            self.schedule.add(_Note(("stinger", name), ch, n.pitch, n.velocity, tm.sample(n.start), tm.sample(n.end)))

    def faders_moved(self, sample: int, master_db: float, layers: dict[str, float]) -> None:
        """The master volume and layer gains as CC 11 on each layer's channel (only where the value changes)."""
        for layer, ch in self.channels.items():
            value = _volume(master_db + layers.get(layer, 0.0))
            if self._expression.get(ch) != value:
                self._expression[ch] = value
                self.schedule.expression(sample, ch, value)

    def deck_cut(self, deck: Any, sample: int, handover: bool) -> None:
        # a handover silences the layers' channels; a replaced pending deck was never heard
        self.schedule.cut(deck, sample, self.part_channels if handover else [])

    def _add_bar(self, deck: Any, bar: Any, not_before: int = 0) -> None:
        tm = self.engine.conductor.tempo_map
        for layer, notes in bar.notes.items():
            ch = self.channels.get(layer)
            if ch is None:
                continue
            for n in notes:
                on = tm.sample(n.start)
                if on >= not_before:
                    self.schedule.add(_Note(deck, ch, n.pitch, n.velocity, on, tm.sample(n.end)))


# ---------------------------------------------------------------------------------------- the sink
def _volume(gain_db: float) -> int:
    """CC 7 for a fader level (General MIDI's curve: dB = 40·log10(v/127))."""
    return max(0, min(127, int(round(127 * 10 ** (min(gain_db, 0.0) / 40.0)))))


def stinger_channels_for(parts: list, stingers: list, channels: dict[str, int]) -> dict[str, int]:
    """Each stinger's channel: 10 for a drum kit, else a channel of its own (its own program) while
    one is free, else the channel of the layer it borrows (or the last pitched channel)."""
    free = [c for c in range(16) if c != DRUM_CHANNEL and c not in set(channels.values())]
    by_name = {p.name: p for p in parts}
    pitched = [c for c in channels.values() if c != DRUM_CHANNEL] or [0]
    out: dict[str, int] = {}
    for s in stingers:
        layer = by_name.get(getattr(s, "layer", None) or "")
        if layer is not None and layer.is_drums:
            out[s.name] = DRUM_CHANNEL
        elif free:
            out[s.name] = free.pop(0)
        else:
            out[s.name] = channels[layer.name] if layer is not None else pitched[-1]
    return out


class MidiPortSink:
    """Sends a :class:`~segue.engine.live.LiveSession`'s notes to a MIDI port, in step with its audio.

    Attach it before ``session.start()`` (attached later, it joins with the notes the engine has
    not reached yet). ``delay_s`` shifts every message later, e.g. by a sound card's buffer.
    Messages go out from a thread of their own, so a slow port never holds up the audio.
    """

    def __init__(self, session: Any, port: MidiOutput, *, delay_s: float = 0.0, close_port: bool = False,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.session = session
        self.port = port
        self.delay_s = max(0.0, float(delay_s))
        self.close_port = close_port
        self._clock = clock
        engine = session.engine
        parts = engine.conductor.parts
        self.parts = parts
        self.channels: dict[str, int] = channels_for(parts)
        self.stinger_specs = dict(engine.stinger_specs)
        self.stinger_channels = stinger_channels_for(parts, list(self.stinger_specs.values()), self.channels)
        self._schedule = _Schedule()
        self._tap = _EngineTap(engine, self._schedule, self.channels, self.stinger_channels)
        self._latency = int(engine.mixer.latency)
        self._rate = int(session.sample_rate)
        self._outbox: list[tuple[float, int, mido.Message]] = []
        self._seq = itertools.count()
        self._cv = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._last_due = -math.inf
        self._sounding: dict[tuple[int, int], int] = {}
        self.sent = 0
        self.errors: list[str] = []

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> "MidiPortSink":
        for msg in self.setup_messages():
            self._send(msg)
        self._tap.attach()
        self._unsubscribe = self.session.on_played(self._on_played)
        self._thread = threading.Thread(target=self._run, name="segue-midi-out", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop sending: release every note still sounding, then "all notes off" on all 16 channels."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._tap.detach()
        with self._cv:
            self._stopping = True
            self._outbox.clear()
            self._cv.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        for (channel, pitch), count in sorted(self._sounding.items()):
            for _ in range(count):
                self._send(mido.Message("note_off", channel=channel, note=pitch, velocity=0))
        for channel in range(16):
            self._send(mido.Message("control_change", channel=channel, control=ALL_NOTES_OFF, value=0))
        if self.close_port and hasattr(self.port, "close"):
            try:
                self.port.close()
            except Exception as exc:  # pragma: no cover - depends on the backend
                self.errors.append(repr(exc))

    def setup_messages(self) -> list[mido.Message]:
        """Instruments and levels, sent at start: bank/program per layer and stinger, CC 7 volume, CC 10 pan."""
        msgs: list[mido.Message] = []
        for p in self.parts:
            ch = self.channels[p.name]
            msgs += self._voice(ch, int(p.bank), int(p.program), drums=bool(p.is_drums))
            msgs.append(mido.Message("control_change", channel=ch, control=7, value=_volume(float(p.gain_db))))
            pan = int(round(64 + 63 * max(-1.0, min(1.0, float(p.pan)))))
            msgs.append(mido.Message("control_change", channel=ch, control=10, value=min(pan, 127)))
        owned = set(self.channels.values())
        for name, spec in self.stinger_specs.items():
            ch = self.stinger_channels[name]
            if ch in owned:  # sharing a layer's channel (or the kit): keep that layer's instrument
                continue
            owned.add(ch)
            msgs += self._voice(ch, int(spec.played_bank), int(spec.played_program), drums=False)
            msgs.append(mido.Message("control_change", channel=ch, control=7,
                                     value=_volume(float(getattr(spec, "gain_db", 0.0)))))
        return msgs

    @staticmethod
    def _voice(channel: int, bank: int, program: int, drums: bool) -> list[mido.Message]:
        msgs = []
        if not drums:
            msgs.append(mido.Message("control_change", channel=channel, control=0, value=bank & 127))
        if not drums or program:  # a kit number (GS/XG kit select; plain GM receivers ignore it)
            msgs.append(mido.Message("program_change", channel=channel, program=program & 127))
        return msgs

    # -- timing -------------------------------------------------------------------------------
    def _on_played(self, start: int, end: int) -> None:
        """The sink took engine samples [start, end): queue their messages at their offsets in the block."""
        now = self._clock()
        lat = self._latency
        due_msgs = self._schedule.pop_before(end - lat)
        if not due_msgs:
            return
        with self._cv:
            for sample, msg in due_msgs:
                due = now + self.delay_s + max(0, sample + lat - start) / self._rate
                due = max(due, self._last_due)  # never reorder across blocks taken in a burst
                self._last_due = due
                heapq.heappush(self._outbox, (due, next(self._seq), msg))
            self._cv.notify_all()

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._stopping:
                    wait = self._outbox[0][0] - self._clock() if self._outbox else None
                    if wait is not None and wait <= 0:
                        break
                    self._cv.wait(timeout=wait)
                if self._stopping:
                    return
                now = self._clock()
                ready = []
                while self._outbox and self._outbox[0][0] <= now:
                    ready.append(heapq.heappop(self._outbox)[2])
            for msg in ready:
                self._send(msg)

    def _send(self, msg: mido.Message) -> None:
        try:
            self.port.send(msg)
        except Exception as exc:  # a closed or broken port must not stop the music
            if len(self.errors) < 20:
                self.errors.append(repr(exc))
            return
        self.sent += 1
        if msg.type == "note_on" and msg.velocity > 0:
            key = (msg.channel, msg.note)
            self._sounding[key] = self._sounding.get(key, 0) + 1
        elif msg.type in ("note_off", "note_on"):
            key = (msg.channel, msg.note)
            if self._sounding.get(key, 0) > 1:
                self._sounding[key] -= 1
            else:
                self._sounding.pop(key, None)


__all__ = ["MidiOutput", "MidiPortError", "MidiPortSink", "list_midi_outputs", "open_midi_output",
           "stinger_channels_for"]
