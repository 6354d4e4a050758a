"""Live sessions: the engine in real time, fed by controls from any thread.

A producer thread pulls blocks from the :class:`~segue.engine.engine.Engine` and keeps a small
queue of finished audio ahead of the sink (one block by default: bars are written ahead on the
composer thread, :mod:`segue.engine.ahead`, so a block costs well under its period); the sink (a sound card, or a headless clock for
tests and servers) takes one block per block-period and never waits for the composer. If the
queue is ever empty the sink repeats the last block, fading it, and counts an underrun —
the music sustains instead of going silent.

Controls from the game (Python API, OSC, WebSocket) are queued and applied at the start of the
next block the producer renders; the engine logs each with its exact sample, so
``session.control_log()`` replays offline to the same samples (``segue play``).
"""

from __future__ import annotations

import collections
import contextlib
import gc
import math
import queue
import threading
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from segue.engine.conductor import Conductor
from segue.engine.controls import Control, Timeline, parse_control
from segue.limits import check_number
from segue.engine.engine import Engine, Event

EventCallback = Callable[[Event], None]

FREEZE_GC = True
"""Whether starting a session collects and then *freezes* the heap (``gc.freeze``). Why: a full garbage
collection walks every object — the style model, the originality index, the soundfont tables — and
takes ~45 ms with one session loaded, long enough to empty a 70 ms queue and cut the music. Those
objects live for the whole process; frozen, later collections walk only what was made since (a few
hundred objects while playing: ~0.1 ms). Set to False if the host application manages the GC itself."""

DEFAULT_LOG_LIMIT = 200_000
"""Controls a live session keeps in its log unless it records (an hour of 60 Hz parameter updates is 216,000;
about 25 MB). ``record=True`` or ``log_limit=None`` keep them all, for a full replay."""

STATUS_EVERY = 2048
"""Samples between refreshes of ``status()`` (46 ms at 44.1 kHz): it costs ~10% of a block to compute."""

MAX_AHEAD_S = 600.0
"""How far ahead a time-tagged control may be scheduled (a bogus time tag must not sit in the queue forever)."""
JIT_MARGIN_S = 0.006
"""With one block queued, the producer starts each block this long (or half a block, whichever is
more, never more than a block) before the sink will take it, and picks up controls then: a control
waits at most a block plus this margin instead of two blocks. A block costs ~0.2 ms (0.6 ms p99) now
that bars are written on the composer thread, so the margin is mostly slack for the OS scheduler.
The margin adapts: a block finished with under 2 ms to spare, or an underrun, widens it (up to a
whole block, i.e. no waiting); it narrows again slowly while blocks are on time."""

PlayedCallback = Callable[[int, int], None]
"""``callback(start, end)``: the sink has just taken the engine's samples ``[start, end)`` to play."""


class LiveSession:
    """One running engine: thread-safe control methods, events to subscribers, audio to a sink."""

    def __init__(self, spec: object, *, seed: int | None = None, soundfont: Path | None = None,
                 sample_rate: int = 44100, block: int = 512, ahead_blocks: int = 1,
                 record: bool = False, style: object | None = None, guard: object | None = None,
                 pool: "ProducerPool | None" = None, log_limit: int | None = DEFAULT_LOG_LIMIT) -> None:
        self.spec = spec
        self.block = int(block)
        self.sample_rate = int(sample_rate)
        self.conductor = Conductor(spec, seed=seed, style=style, sample_rate=sample_rate, keep_bars=record,
                                   guard=guard)
        self.engine = Engine(self.conductor, soundfont=soundfont, log_limit=None if record else log_limit,
                             compose_ahead=True)
        self._inbox: queue.SimpleQueue[dict | tuple[Control, float | None]] = queue.SimpleQueue()
        self._ready: collections.deque[tuple[int, int, np.ndarray]] = collections.deque()  # (start, end, mix)
        self._ahead = max(1, int(ahead_blocks))
        self.pool = pool
        self._cv = pool._cv if pool is not None else threading.Condition()
        self._subscribers: list[EventCallback] = []
        self._played_listeners: list[PlayedCallback] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.record = record
        self.recorded: list[np.ndarray] = []
        self.underruns = 0
        self.blocks_played = 0
        self._last_block = np.zeros((self.block, 2), dtype=np.float32)
        self._fill_gain = 1.0
        self._status: dict = self.engine.status()
        self._errors: list[str] = []
        self._status_at = 0
        self._heard: tuple[float, int] | None = None  # (wall clock, music sample) when the sink took a block
        self._taken_at: float | None = None  # perf_counter() when the sink last took a block
        period = self.block / self.sample_rate
        self._base_margin = min(period, max(period / 2, JIT_MARGIN_S))
        self._margin = self._base_margin
        self._underruns_seen = 0

    # ------------------------------------------------------------------ controls (any thread)
    def control(self, data: dict | Control, at: float | None = None) -> str | None:
        """Queue a control (dict as in the WebSocket/trace format). Returns a reason if it is malformed.

        ``at`` (wall clock, ``time.time()`` seconds — what an OSC bundle's time tag says) asks for the
        control to take effect at the sample that will be *heard* then, not at the next block: a game that
        timestamps its events gets them sample-accurately, whatever the network jitter. A time already
        past (or too close to be met: the producer renders ``ahead_blocks`` early) applies at once, as
        OSC says late bundles must; one more than :data:`MAX_AHEAD_S` away is rejected.
        """
        c = data if isinstance(data, Control) else parse_control(data)
        if isinstance(c, str):
            self._inbox.put({"__rejected__": c})
            return c
        if at is not None:
            if not check_number(at) or at - time.time() > MAX_AHEAD_S:
                reason = f"time tag {at!r} is more than {MAX_AHEAD_S:g} s ahead (or not a time)"
                self._inbox.put({"__rejected__": reason})
                return reason
        self._inbox.put((Control(kind=c.kind, name=c.name, value=c.value, valence=c.valence,
                                 arousal=c.arousal, intensity=c.intensity, settings=c.settings), at))
        return None

    def heard_sample(self, wall: float) -> int | None:
        """The music sample the listener hears at wall-clock time ``wall`` (None before playback starts).

        Projected from the last block the sink took: its first sample is heard as the sink takes it
        (a sound card adds its own buffer on top, which we cannot see).
        """
        ref = self._heard
        if ref is None:
            return None
        t0, s0 = ref
        return s0 + int(round((wall - t0) * self.sample_rate))

    def reject(self, reason: str) -> None:
        """Log a rejected control that never became a control dict (unknown OSC address, non-JSON …)."""
        self._inbox.put({"__rejected__": reason})

    def set_parameter(self, name: str, value: float) -> str | None:
        return self.control({"type": "param", "name": name, "value": value})

    def set_state(self, name: str) -> str | None:
        return self.control({"type": "state", "name": name})

    def stinger(self, name: str) -> str | None:
        return self.control({"type": "stinger", "name": name})

    def marker(self, name: str) -> str | None:
        return self.control({"type": "marker", "name": name})

    def set_affect(self, valence: float | None = None, arousal: float | None = None,
                   intensity: float | None = None) -> str | None:
        d: dict[str, Any] = {"type": "affect"}
        for k, v in (("valence", valence), ("arousal", arousal), ("intensity", intensity)):
            if v is not None:
                d[k] = v
        return self.control(d)

    def subscribe(self, callback: EventCallback) -> Callable[[], None]:
        """Call ``callback(event)`` (on the producer thread) for every event; returns an unsubscribe function."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback) if callback in self._subscribers else None

    def on_played(self, callback: PlayedCallback) -> Callable[[], None]:
        """Call ``callback(start, end)`` on the sink's thread each time the sink takes a block to play.

        Why: events reach subscribers when the producer *renders* a block, up to ``ahead_blocks``
        early; whatever must line up with what is *heard* (a MIDI output port) keys off this
        instead. ``[start, end)`` are engine samples of the mix (the bus adds ``engine.mixer.latency``).
        Not called for a sustained block on an underrun: it carries no new music. Returns an
        unsubscribe function.
        """
        self._played_listeners.append(callback)
        return lambda: self._played_listeners.remove(callback) if callback in self._played_listeners else None

    def status(self) -> dict:
        s = dict(self._status)
        s["underruns"] = self.underruns
        s["blocks_played"] = self.blocks_played
        return s

    def control_log(self) -> Timeline:
        """The applied controls with their samples, as a trace (the newest ``log_limit`` unless recording)."""
        return Timeline(controls=list(self.engine.control_log), duration=self.engine.position / self.sample_rate,
                        seed=self.conductor.seed, sample_rate=self.sample_rate)

    # ------------------------------------------------------------------ producer
    def start(self) -> "LiveSession":
        """Start the producer and wait (briefly) until the queue is primed, so playback starts without a gap."""
        if self.pool is None and self._thread is not None:
            return self
        self.engine.warm_up()
        if FREEZE_GC:
            gc.collect()
            gc.freeze()
        if self.pool is not None:
            self.pool.add(self)
            self._wait_primed()
        elif self._thread is None:
            self._thread = threading.Thread(target=self._produce, name="segue-producer", daemon=True)
            self._thread.start()
            self._wait_primed()
        return self

    @property
    def wants_block(self) -> bool:
        """Whether the ready queue has room (for a pool's producer; call with the condition held)."""
        return len(self._ready) < self._ahead and not self._stop.is_set()

    @property
    def ready_blocks(self) -> int:
        return len(self._ready)

    def _wait_primed(self) -> None:
        deadline = time.perf_counter() + 5.0
        with self._cv:
            while len(self._ready) < self._ahead and time.perf_counter() < deadline:
                self._cv.wait(timeout=0.05)

    def stop(self) -> None:
        self._stop.set()
        if self.pool is not None:
            self.pool.remove(self)
        with self._cv:
            self._cv.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _produce(self) -> None:
        eng = self.engine
        while not self._stop.is_set():
            with self._cv:
                while len(self._ready) >= self._ahead and not self._stop.is_set():
                    self._cv.wait(timeout=0.5)
            if self._stop.is_set():
                break
            due = self._just_in_time()
            self.produce_block()
            if due is not None:
                self._adapt_margin(due - time.perf_counter())

    def _just_in_time(self) -> float | None:
        """With one block queued, wait until the block is nearly due (see :data:`JIT_MARGIN_S`);
        returns when the sink will take it (None when not waiting: more blocks queued, or no sink yet)."""
        taken = self._taken_at
        if self._ahead != 1 or taken is None:
            return None
        due = taken + self.block / self.sample_rate
        wait = due - self._margin - time.perf_counter()
        if wait > 0:
            self._stop.wait(wait)
        return due

    def _adapt_margin(self, spare: float) -> None:
        period = self.block / self.sample_rate
        if spare < 0.002 or self.underruns != self._underruns_seen:
            self._underruns_seen = self.underruns
            self._margin = min(period, self._margin + max(0.002, period / 4))
        else:
            self._margin = max(self._base_margin, self._margin - 0.00005)

    def produce_block(self) -> np.ndarray:
        """Render one block now (the producer thread's step; also usable synchronously in tests)."""
        eng = self.engine
        while True:
            try:
                item = self._inbox.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, dict):
                eng._reject(eng.position, item["__rejected__"])  # noqa: SLF001 - logged like any rejection
                continue
            control, at = item
            sample = eng.position
            if at is not None:
                wanted = self.heard_sample(at)
                if wanted is not None and wanted > sample:
                    sample = wanted  # the engine holds it and applies it at exactly that sample
            eng.submit(control, sample=sample)
        start = eng.position
        try:
            mix, _ = eng.pull(self.block)
        except Exception as exc:  # never let a bug silence the music: log it and keep the last block going
            self._errors.append(repr(exc))
            mix = self._last_block * np.float32(0.5)
        for ev in eng.drain_events():
            for cb in list(self._subscribers):
                try:
                    cb(ev)
                except Exception:  # a subscriber's bug must not stop the music
                    pass
        if eng.position - self._status_at >= STATUS_EVERY:  # introspection, not music: ~20 times a second
            self._status = eng.status()
            self._status_at = eng.position
        if self.record:
            self.recorded.append(mix)
        with self._cv:
            self._ready.append((start, eng.position, mix))
            self._cv.notify_all()
        return mix

    # ------------------------------------------------------------------ sink side
    def next_block(self) -> np.ndarray:
        """The next block for the sink; never waits: on an empty queue, sustain (fade) the last block."""
        with self._cv:
            if self._ready:
                start, end, block = self._ready.popleft()
                self._heard = (time.time(), start - self.engine.mixer.latency)
                self._taken_at = time.perf_counter()
                self._cv.notify_all()
                self._last_block = block
                self._fill_gain = 1.0
                self.blocks_played += 1
            else:
                block = None
        if block is not None:
            for cb in list(self._played_listeners):
                try:
                    cb(start, end)
                except Exception:  # a listener's bug must not stop the music
                    pass
            return block
        self.underruns += 1
        self._fill_gain *= 0.7
        return self._last_block * np.float32(self._fill_gain)

    def recorded_audio(self) -> np.ndarray:
        return np.concatenate(self.recorded) if self.recorded else np.zeros((0, 2), dtype=np.float32)


class ProducerPool:
    """One producer thread rendering for many sessions, always the one with the least audio queued.

    Why: a session's own producer thread is simplest, but a server hosting many sessions (the studio,
    a game with several music instances) then runs a thread per session, and under Python's GIL the
    switching between them costs as much as a quarter of the core. One thread that always serves the
    neediest queue does the same work with no switching between producers. Sessions join with
    ``LiveSession(..., pool=pool)`` and leave when stopped; the thread ends with the pool's ``close``
    (and starts again if another session joins).
    """

    def __init__(self) -> None:
        self._cv = threading.Condition()
        self._sessions: list[LiveSession] = []
        self._closed = False
        self._thread: threading.Thread | None = None

    def add(self, session: LiveSession) -> None:
        with self._cv:
            self._closed = False  # a closed pool opens again for a new session (a server that restarts)
            if session not in self._sessions:
                self._sessions.append(session)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="segue-producer-pool", daemon=True)
                self._thread.start()
            self._cv.notify_all()

    def remove(self, session: LiveSession) -> None:
        with self._cv:
            if session in self._sessions:
                self._sessions.remove(session)
            self._cv.notify_all()

    def close(self) -> None:
        with self._cv:
            self._closed = True
            self._cv.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        while True:
            with self._cv:
                while True:
                    if self._closed:
                        return
                    needy = [s for s in self._sessions if s.wants_block]
                    if needy:
                        session = min(needy, key=lambda s: s.ready_blocks)
                        break
                    self._cv.wait(timeout=0.5)
            session.produce_block()  # outside the lock: sinks keep taking blocks meanwhile


class HeadlessClock:
    """Consumes the blocks of many sessions at real-time pace from one thread (no sound card).

    The many-session twin of :class:`HeadlessSink` (a server's sessions, a benchmark's fleet): one
    timer instead of a thread per session. Sessions must share block size and sample rate.
    """

    def __init__(self, sessions: list[LiveSession]) -> None:
        if len({(s.block, s.sample_rate) for s in sessions}) > 1:
            raise ValueError("sessions on one clock need the same block size and sample rate")
        self.sessions = list(sessions)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.late_s = 0.0  # the furthest behind its schedule the clock has taken a round of blocks

    def start(self) -> "HeadlessClock":
        self._thread = threading.Thread(target=self._run, name="segue-headless-clock", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        if not self.sessions:
            return
        period = self.sessions[0].block / self.sessions[0].sample_rate
        t0 = time.perf_counter()
        n = 0
        shared = {id(s._cv) for s in self.sessions}
        # sessions of one pool share its condition: take every block of a round under it, so the pool's
        # producer is woken once per round instead of once per session (each wake-up can cost a GIL
        # hand-over of several milliseconds, and a round must be quick for every sink to stay on time)
        lock = self.sessions[0]._cv if len(shared) == 1 else contextlib.nullcontext()
        while not self._stop.is_set():
            with lock:
                for s in self.sessions:
                    s.next_block()
            n += 1
            delay = t0 + n * period - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            else:
                self.late_s = max(self.late_s, -delay)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


class HeadlessSink:
    """Consumes a session's blocks at real-time pace without a sound card (servers, tests, CI)."""

    def __init__(self, session: LiveSession) -> None:
        self.session = session
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> "HeadlessSink":
        self._thread = threading.Thread(target=self._run, name="segue-headless-sink", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        period = self.session.block / self.session.sample_rate
        t0 = time.perf_counter()
        n = 0
        while not self._stop.is_set():
            self.session.next_block()
            n += 1
            delay = t0 + n * period - time.perf_counter()
            if delay > 0:
                time.sleep(delay)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


class DeviceError(RuntimeError):
    """No sound device (or no audio backend) is available."""


class DeviceSink:
    """Plays a session on the default sound device through miniaudio (wheels on Linux, macOS, Windows)."""

    def __init__(self, session: LiveSession) -> None:
        self.session = session
        self._device = None

    def start(self) -> "DeviceSink":
        try:
            import miniaudio
        except Exception as exc:  # pragma: no cover - depends on the platform
            raise DeviceError(f"the audio backend (miniaudio) is not available: {exc}") from None
        session = self.session
        # the device asks for up to two blocks per callback: keep that much queued
        session._ahead = max(session._ahead, 2)  # noqa: SLF001 - the sink sizes its own session's queue
        pending = np.zeros((0, 2), dtype=np.float32)

        def frames():
            nonlocal pending
            required = yield b""
            while True:
                while pending.shape[0] < required:
                    pending = np.concatenate([pending, session.next_block()])
                out, pending = pending[:required], pending[required:]
                required = yield out.astype(np.float32).tobytes()

        try:
            self._device = miniaudio.PlaybackDevice(
                output_format=miniaudio.SampleFormat.FLOAT32, nchannels=2, sample_rate=session.sample_rate,
                buffersize_msec=max(20, int(1000 * session.block / session.sample_rate * 2)))
            gen = frames()
            next(gen)
            self._device.start(gen)
        except Exception as exc:
            raise DeviceError(f"no sound device could be opened ({exc}); use --headless or `segue play` to render to a file") from None
        return self

    def stop(self) -> None:
        if self._device is not None:
            self._device.close()
            self._device = None
