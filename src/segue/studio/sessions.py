"""Studio sessions: one live engine per session, its audio paced in real time to every socket.

Why one pacer per session, not per socket: the engine's queue of finished blocks is consumed
by exactly one sink (as a sound card would), so every page listening to a session hears the
same samples and the same underruns. The pacer runs on the server's event loop and never
waits for a socket: each socket has a bounded outbox, and a page that reads too slowly loses
its oldest frames instead of slowing the music or the other pages.

Events cross from the session's producer thread with ``loop.call_soon_threadsafe``; the
producer only schedules a callback and returns.
"""

from __future__ import annotations

import asyncio
import collections
import json
import secrets
import struct
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from segue.engine.engine import Event
from segue.engine.live import LiveSession, ProducerPool
from segue.server import ControlGate

#: Blocks per audio frame sent to the page: 4 × 512 samples ≈ 46 ms at 44.1 kHz.
FRAME_BLOCKS = 4
#: Finished blocks the engine keeps ready ahead of the pacer (≈ 93 ms, two frames): the pacer takes a
#: whole frame at once. It was 16 while bars were composed inside ``pull``; with bars composed ahead,
#: ten sessions on two cores, one flooded with 100 controls/s, underrun 0 times at 8 as at 16, and
#: with two CPU hogs beside them no more at 8 than at 16 (``benchmarks/bench_studio.py --flood``) —
#: so a slider is heard ~93 ms sooner.
AHEAD_BLOCKS = 8
#: Binary audio frame header: engine sample of the frame's first sample (-1 while the engine was
#: late and the frame sustains the last block), the session's generation (bumped by hot reload),
#: and the number of sample frames that follow as interleaved stereo int16 little-endian.
FRAME_HEADER = struct.Struct("<dII")
OUTBOX_SIZE = 128
STATUS_EVERY_FRAMES = 6  # a status message about every 280 ms


@dataclass(eq=False)
class Listener:
    """One socket's view of a session: what it wants and what is waiting to be sent to it."""

    audio: bool = True
    outbox: collections.deque[str | bytes] = field(default_factory=collections.deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    dropped: int = 0
    frames_sent: int = 0

    def push(self, message: str | bytes) -> None:
        if len(self.outbox) >= OUTBOX_SIZE:
            # Drop the oldest audio frame first: late audio is useless, while an event still informs.
            for i, item in enumerate(self.outbox):
                if isinstance(item, bytes):
                    del self.outbox[i]
                    break
            else:
                self.outbox.popleft()
            self.dropped += 1
        self.outbox.append(message)
        self.wake.set()


def controls_of(spec: Any) -> dict[str, Any]:
    """What the page builds its controls from: parameter sliders, state and stinger buttons, layers."""
    return {
        "name": getattr(spec, "name", ""),
        "parameters": [{"name": p.name, "min": float(p.range[0]), "max": float(p.range[1]),
                        "default": float(p.default)} for p in getattr(spec, "parameters", []) or []],
        "states": [s.name for s in getattr(spec, "states", []) or []],
        "initial_state": getattr(spec, "initial_state_name", None),
        "stingers": [s.name for s in getattr(spec, "stingers", []) or []],
        "layers": [layer.name for layer in getattr(spec, "layers", []) or []],
    }


class StudioSession:
    """A running score: the live engine, its control gate, its listeners and its audio pacer."""

    def __init__(self, spec: Any, *, text: str, name: str, base_dir: Path | None, seed: int | None = None,
                 sample_rate: int = 44100, block: int = 512, pool: ProducerPool | None = None) -> None:
        self.id = secrets.token_urlsafe(9)
        self.pool = pool
        self.name = name
        self.text = text
        self.base_dir = base_dir
        self.seed = seed
        self.sample_rate = int(sample_rate)
        self.block = int(block)
        self.created = time.monotonic()
        self.generation = 0
        self.reloads = 0
        self.listeners: set[Listener] = set()
        self.ever_connected = False
        self.closed = False
        self.frames_sent = 0
        self.sustained_frames = 0
        self._swap = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pacer: asyncio.Task[None] | None = None
        self.targets: dict[str, float] = {}
        self.requested_state: str | None = None
        self.last_notes: str | None = None  # the newest piano-roll message, for a page that connects late
        self.live, self.gate, self._unsubscribe = self._start_live(spec)

    # ------------------------------------------------------------------ engine (blocking: call in a thread)
    def _start_live(self, spec: Any, carry: dict[str, Any] | None = None) -> tuple[LiveSession, ControlGate, Any]:
        from segue.pipeline import default_guard

        live = LiveSession(spec, seed=self.seed, sample_rate=self.sample_rate, block=self.block,
                           ahead_blocks=AHEAD_BLOCKS, guard=default_guard(), pool=self.pool)
        gate = ControlGate(live)
        if getattr(spec, "personalise", None) is not None:
            from segue.listener.personaliser import ListenerModel

            # the studio's like/skip buttons teach this session's taste model (no profile: nothing is saved)
            live.engine.personaliser = ListenerModel(spec, seed=live.conductor.seed)
        if carry:
            for name, value in (carry.get("parameters") or {}).items():
                if name in gate.parameters:
                    live.set_parameter(name, float(value))
            state = carry.get("state")
            if state in gate.states and state != getattr(spec, "initial_state_name", None):
                live.set_state(state)
        generation = self.generation
        unsubscribe = live.subscribe(lambda ev, g=generation: self._on_event(ev, g, live))
        live.start()
        return live, gate, unsubscribe

    def submit(self, data: Any) -> str | None:
        """Judge and queue a control; remember parameter targets and state requests for hot reload."""
        reason = self.gate.submit(data)
        if reason is None and isinstance(data, dict):
            if data.get("type") == "param":
                self.targets[str(data["name"])] = float(data["value"])
            elif data.get("type") == "state":
                self.requested_state = str(data["name"])
        return reason

    def replace_spec(self, spec: Any, text: str) -> None:
        """Hot reload: restart the engine cleanly on ``spec``, keeping the state and parameter values
        that still exist. The new engine is primed before the swap, so the audio never stops."""
        status = self.live.status()
        # Carry what the composer asked for (targets), not where the smoothing has got to by now.
        carry = {"parameters": {**status.get("parameters", {}), **self.targets},
                 "state": self.requested_state or status.get("state")}
        self.generation += 1
        live, gate, unsubscribe = self._start_live(spec, carry)
        with self._swap:
            old, old_unsubscribe = self.live, self._unsubscribe
            self.live, self.gate, self._unsubscribe = live, gate, unsubscribe
            self.text = text
            self.reloads += 1
        old_unsubscribe()
        old.stop()
        self._broadcast(json.dumps(self.describe()))

    def stop_engine(self) -> None:
        """Stop the producer thread (blocking, at most a few seconds)."""
        self._unsubscribe()
        self.live.stop()

    # ------------------------------------------------------------------ what the page sees
    def describe(self) -> dict[str, Any]:
        """The ``session`` message: controls, audio format and the current status."""
        return {"type": "session", "id": self.id, "name": self.name, "generation": self.generation,
                "controls": controls_of(self.live.spec),
                "audio": {"sample_rate": self.sample_rate, "channels": 2, "format": "s16le",
                          "frame_samples": FRAME_BLOCKS * self.block, "header_bytes": FRAME_HEADER.size},
                "status": self.status()}

    def status(self) -> dict[str, Any]:
        s = self.live.status()
        s.update({"id": self.id, "name": self.name, "generation": self.generation, "reloads": self.reloads,
                  "sockets": len(self.listeners), "frames_sent": self.frames_sent,
                  "sustained_frames": self.sustained_frames})
        return s

    # ------------------------------------------------------------------ events (producer thread → loop)
    def _on_event(self, ev: Event, generation: int, live: LiveSession) -> None:
        if generation != self.generation:
            return
        notes = self._upcoming_notes(ev, live) if ev.kind == "bar" else None
        if notes is not None:
            self.last_notes = json.dumps(notes)
        loop = self._loop
        if loop is None or not self.listeners:
            return
        messages = [json.dumps({"type": "event", "kind": ev.kind, "sample": ev.sample,
                                "seconds": round(ev.sample / self.sample_rate, 6), "generation": generation,
                                "data": ev.data}, default=str)]
        if notes is not None and self.last_notes is not None:
            messages.append(self.last_notes)
        try:
            for text in messages:
                loop.call_soon_threadsafe(self._broadcast, text)
        except RuntimeError:  # the loop is closing
            pass

    def _upcoming_notes(self, ev: Event, live: LiveSession) -> dict[str, Any] | None:
        """The notes of the bar that starts now and of any bar already composed after it (runs on the
        producer thread, the only thread that changes the conductor, so the read is consistent)."""
        cond = live.conductor
        decks = [cond.deck] + ([cond.pending.deck] if cond.pending is not None else [])
        slot = ev.data.get("slot")
        deck = next((d for d in decks if getattr(d, "slot", None) == slot), cond.deck)
        tpb = cond.meter.ticks_per_beat
        layers = [layer.name for layer in live.spec.layers]
        tm = cond.tempo_map
        bars = []
        for bar in deck.bars:
            if deck.heard(bar) < ev.data.get("bar", 0):
                continue
            notes = []
            for layer, layer_notes in bar.notes.items():
                li = layers.index(layer) if layer in layers else len(layers)
                for n in layer_notes:
                    notes.append([int(n.pitch), round((n.start - bar.start) / tpb, 3),
                                  round((n.end - n.start) / tpb, 3), li])
            bars.append({"bar": deck.heard(bar), "sample": tm.sample(bar.start), "beats": cond.meter.beats_per_bar,
                         "tempo": bar.tempo, "notes": notes})
        if not bars:
            return None
        return {"type": "notes", "generation": self.generation, "layers": layers, "bars": bars}

    def _broadcast(self, message: str | bytes) -> None:
        for listener in list(self.listeners):
            if isinstance(message, bytes) and not listener.audio:
                continue
            listener.push(message)

    # ------------------------------------------------------------------ sockets and pacing (event loop)
    def attach(self, listener: Listener) -> None:
        self._loop = asyncio.get_running_loop()
        self.listeners.add(listener)
        self.ever_connected = True
        if self._pacer is None:
            self._pacer = self._loop.create_task(self._pace(), name=f"segue-studio-pacer-{self.id}")

    def detach(self, listener: Listener) -> int:
        """Forget ``listener``; returns how many sockets still listen."""
        self.listeners.discard(listener)
        return len(self.listeners)

    def take_frame(self) -> bytes:
        """The next ~93 ms of audio from the engine, as a binary frame (never waits for the engine)."""
        with self._swap:
            live = self.live
            parts = []
            first = -1.0
            for i in range(FRAME_BLOCKS):
                underruns, played = live.underruns, live.blocks_played
                parts.append(live.next_block())
                if i == 0 and live.underruns == underruns:
                    first = float(played * live.block)
            generation = self.generation
        if first < 0:
            self.sustained_frames += 1
        mix = np.concatenate(parts)
        pcm = (np.clip(mix, -1.0, 1.0) * 32767.0).astype("<i2")
        self.frames_sent += 1
        return FRAME_HEADER.pack(first, generation, mix.shape[0]) + pcm.tobytes()

    async def _pace(self) -> None:
        loop = asyncio.get_running_loop()
        period = FRAME_BLOCKS * self.block / self.sample_rate
        start = loop.time()
        n = 0
        while not self.closed:
            self._broadcast(self.take_frame())
            n += 1
            if n % STATUS_EVERY_FRAMES == 0:
                self._broadcast(json.dumps({"type": "status", **self.status()}, default=str))
            delay = start + n * period - loop.time()
            if delay < -2.0:  # the loop stalled for seconds: resume now instead of bursting to catch up
                start, n = loop.time(), 0
                delay = 0.0
            await asyncio.sleep(max(0.0, delay))

    def cancel_pacer(self) -> None:
        self.closed = True
        if self._pacer is not None:
            self._pacer.cancel()
            self._pacer = None
        for listener in list(self.listeners):
            listener.wake.set()
