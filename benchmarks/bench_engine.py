"""Adaptive engine: control latency, real-time factor, and live engines per core (one run, one core).

    uv run python benchmarks/bench_engine.py [--seconds 20] [--max 40] [--quick] [--profile]

Everything runs at 44.1 kHz stereo on the example game score (``examples/fantasy_game.yaml``),
with the originality guard on, as ``segue live`` and the studio run it. The process — every
thread of it — is pinned to one core, so the numbers say what *one* core does.

1. **Control latency, measured live.** A :class:`LiveSession` plays into a :class:`HeadlessSink`
   in real time. The caller thread fires a probe stinger quantized ``immediate`` (its note-on lands
   on the first tick at or after the sample at which the engine applies the control, so the audio
   changes *at* that sample) at wall time t0. The engine logs the exact sample; the session is
   wrapped so that the sink's consumption of every block is timestamped; the latency is the wall
   time from t0 to the sink taking the block that holds that sample (after the limiter's
   look-ahead). Median and max over ``--changes`` changes, at blocks 256, 512 and 1024.
2. **Musical latency, measured offline.** The same engine is rendered twice, with and without one
   control at a random sample; the first output sample that differs is when that control became
   audible. This separates the *transport* latency (1.) from the *musical* one (quantize grids,
   one-bar lookahead).
3. **Real-time factor** of one engine: ``Engine.pull`` of ``--rtf-seconds`` of the example trace,
   audio seconds per CPU second.
4. **Engines per core.** N live sessions, each with its own sink and its own controls (a random
   intensity/danger walk and state changes), for ``--seconds`` of wall time; N grows by ``--step``
   until a session underruns, then one half step is tried. The machine may be shared: the share of
   the core that other processes took is printed (from /proc/stat), and a failing step on which
   they took more than 10% is run once more. If the largest clean N is below the issue's aim (20),
   or with ``--profile``, cProfile says where one engine's time goes.

A benchmark, not a test: timings are noisy and nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import gc
import cProfile
import logging
import os
import pstats
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from segue.engine.controls import Timeline  # noqa: E402
from segue.engine.engine import Engine  # noqa: E402
from segue.engine.live import HeadlessClock, HeadlessSink, LiveSession, ProducerPool  # noqa: E402
from segue.pipeline import default_guard, make_conductor  # noqa: E402
from segue.spec import load_spec, spec_from_dict  # noqa: E402

SR = 44100
AIM = 20  # engines per core the issue asks for
PROBE = "probe"  # the benchmark's immediate stinger
FADER = "probe_fader"  # the benchmark's fader-only parameter (layer_gain on the strings, no seek)


# ---------------------------------------------------------------------------------------------- setup
def idlest_core(cores: list[int], seconds: float = 1.0) -> int:
    """The core other processes used least over ``seconds`` (a shared machine: pick the quiet one)."""
    before = {c: core_ticks(c) for c in cores}
    time.sleep(seconds)
    def busy(c: int) -> float:
        (b0, a0), (b1, a1) = before[c], core_ticks(c)
        return (b1 - b0) / max(a1 - a0, 1)
    return min(cores, key=busy)


def pin_to_one_core() -> int:
    """Pin every thread of this process (numpy's pools included) and all future threads to one core,
    the least busy one of those this process may use."""
    core = idlest_core(sorted(os.sched_getaffinity(0)))
    for tid in os.listdir("/proc/self/task"):
        try:
            os.sched_setaffinity(int(tid), {core})
        except OSError:  # a thread that ended meanwhile
            pass
    return core


def bench_spec(style: str | None = None) -> object:
    """The example game score plus two probes that change nothing until they are used.

    The probe stinger (quantize ``immediate``, no cooldown) sounds at the control's own sample, so
    the live latency is that of the transport alone. The fader parameter maps only onto one layer's
    gain (0 dB at its default), so its musical latency is the fader's alone.
    """
    game = load_spec(ROOT / "examples" / "fantasy_game.yaml")
    data = game.model_dump(mode="json", by_alias=True, exclude_none=True)
    data["stingers"].append({"name": PROBE, "notes": "D5:0.25", "program": "glockenspiel",
                             "quantize": "immediate", "cooldown_beats": 0.0, "gain_db": 0.0})
    data["parameters"].append({"name": FADER, "range": [0.0, 1.0], "default": 0.0, "seek": 0.0})
    data["mappings"].append({"parameter": FADER, "target": "layer_gain", "layer": "strings",
                             "curve": [[0.0, 0.0], [1.0, -18.0]]})
    if style is not None:
        data["style"] = style  # e.g. "neural": every engine composes with that style
    return spec_from_dict(data, base_dir=ROOT / "examples")


class TimedSession(LiveSession):
    """A live session that timestamps each block its sink takes and counts its producer's CPU per block."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.calls: list[float] = []  # wall time of every sink call (played or sustained)
        self.played_at: list[float] = []  # wall time the sink took block k (samples k·block …)
        self.produce_cpu = 0.0  # CPU seconds of the producer thread inside produce_block
        self.produced = 0

    def produce_block(self) -> np.ndarray:
        t = time.thread_time()
        out = super().produce_block()
        self.produce_cpu += time.thread_time() - t
        self.produced += 1
        return out

    def next_block(self) -> np.ndarray:
        before = self.blocks_played
        out = super().next_block()
        now = time.perf_counter()
        self.calls.append(now)
        if self.blocks_played != before:
            self.played_at.append(now)
        return out

    def sink_lateness(self) -> float:
        """The latest the sink took a block, against its ideal clock (seconds): GIL starvation shows here."""
        if len(self.calls) < 2:
            return 0.0
        period = self.block / self.sample_rate
        calls = np.asarray(self.calls)
        return float(np.max(calls - calls[0] - np.arange(len(calls)) * period))


def core_ticks(core: int) -> tuple[int, int]:
    """(busy, total) clock ticks of one core so far, from /proc/stat (all processes, ours included)."""
    with open("/proc/stat", encoding="ascii") as f:
        for line in f:
            if line.startswith(f"cpu{core} "):
                v = [int(x) for x in line.split()[1:]]
                idle = v[3] + (v[4] if len(v) > 4 else 0)
                return sum(v[:8]) - idle, sum(v[:8])
    return 0, 0


def warm_guard() -> float:
    """Load the originality index now (CPU seconds): its first use otherwise lands inside a producer."""
    from segue.music import Note

    guard = default_guard()
    t = time.process_time()
    if guard is not None:
        guard([Note(i * 240, 62 + (i * 3) % 7, 240, 80) for i in range(16)])
    return time.process_time() - t


# ---------------------------------------------------------------------------------------------- 1. live latency
@dataclass
class LatencyResult:
    block: int
    ahead: int
    latency_ms: list[float] = field(default_factory=list)  # t0 → sink takes the block holding the onset
    to_render_ms: list[float] = field(default_factory=list)  # t0 → the producer has rendered that block
    onset_offset: list[int] = field(default_factory=list)  # onset sample − applied sample
    matched: int = 0
    sent: int = 0
    underruns: int = 0
    errors: int = 0
    bars_late: int = 0  # bars the producer had to write itself (the composer thread was not done)
    identical: bool | None = None  # the session's control log replays offline to the same samples


def live_latency(spec: object, block: int, changes: int, rng: np.random.Generator, ahead: int = 1,
                 check_replay: bool = False) -> LatencyResult:
    """Fire ``changes`` immediate stingers from this thread and time each from call to playback.

    ``check_replay``: record the session and render its control log offline (``segue play``'s path,
    2048-frame blocks, no composer thread): is it the same, sample for sample?
    """
    session = TimedSession(spec, block=block, guard=default_guard(), seed=7, ahead_blocks=ahead,
                           record=check_replay)
    rendered: list[tuple[float, int]] = []  # (wall time the block was rendered, onset sample)

    def on_event(ev: object) -> None:
        if ev.kind == "stinger" and ev.data.get("name") == PROBE:
            rendered.append((time.perf_counter(), ev.sample))

    session.subscribe(on_event)
    session.start()
    sink = HeadlessSink(session).start()
    period = block / SR
    time.sleep(1.0)  # past the first bars' composition
    t0s = []
    for _ in range(changes):
        time.sleep(float(rng.uniform(0.15, 0.45)))  # not phase-locked to the block clock
        t0s.append(time.perf_counter())
        session.stinger(PROBE)
    time.sleep((session._ahead + 4) * period + 0.3)  # noqa: SLF001 - until the last change has played
    sink.stop()
    session.stop()
    res = LatencyResult(block, session._ahead, sent=changes, underruns=session.underruns,  # noqa: SLF001
                        errors=len(session._errors), bars_late=session.engine.bars_late)  # noqa: SLF001
    if check_replay:
        from segue.pipeline import play

        live = session.recorded_audio()
        log = session.control_log()
        total = live.shape[0] - session.engine.mixer.latency
        log.duration = total / SR
        res.identical = bool(np.array_equal(play(spec, log).mix, live[session.engine.mixer.latency:][:total]))
    applied = [c.sample for c in session.engine.control_log if c.kind == "stinger" and c.name == PROBE]
    delay = session.engine.mixer.latency  # the limiter's look-ahead: output frame = input sample + delay
    for t0, s, (t_rendered, onset) in zip(t0s, applied, rendered):
        k = (onset + delay) // block
        if k >= len(session.played_at):
            continue
        res.matched += 1
        res.latency_ms.append((session.played_at[k] - t0) * 1000)
        res.to_render_ms.append((t_rendered - t0) * 1000)
        res.onset_offset.append(onset - s)
    return res


# ---------------------------------------------------------------------------------------------- 2. musical latency
def render_with(spec: object, control: dict, at: int, horizon: int, reference: np.ndarray | None = None,
                block: int = 512) -> tuple[np.ndarray | None, list[int], int | None]:
    """Render with ``control`` at sample ``at``: (the mix if no reference, bar-line samples, first change).

    With a ``reference`` it stops at the first output frame that differs from it and returns that
    frame on the input timeline (minus the limiter's look-ahead).
    """
    eng = Engine(make_conductor(spec))
    eng.submit(control, sample=at)
    delay = eng.mixer.latency
    pieces, bars = [], []
    while eng.position < horizon:
        pos = eng.position
        mix, _ = eng.pull(min(block, horizon - pos))
        bars += [ev.sample for ev in eng.drain_events() if ev.kind == "bar"]
        if reference is None:
            pieces.append(mix)
            continue
        diff = np.nonzero(np.any(mix != reference[pos:pos + mix.shape[0]], axis=1))[0]
        if diff.size:
            return None, bars, pos + int(diff[0]) - delay
    return (np.concatenate(pieces) if pieces else None), bars, None


def musical_latency(spec: object, trials: int, rng: np.random.Generator) -> tuple[list[tuple], float]:
    """For each kind of control: samples from the control to the first audible change (offline, exact).

    The reference render gets a marker at the same sample: a marker is inaudible but, like every
    control, splits the engine's block there, so both renders take the same steps and differ only
    by what the control does.
    """
    bar_s = 4 * 60 / 90  # explore: 4/4 at 90 bpm
    volume = any(getattr(m, "target", None) == "volume" for m in getattr(spec, "mappings", []) or [])
    cases = [
        ("stinger, quantize immediate (probe)", {"type": "stinger", "name": PROBE}, "the control's sample"),
        ("stinger 'hit', quantize beat", {"type": "stinger", "name": "hit"}, "next beat"),
        ("state explore→tension, quantize bar", {"type": "state", "name": "tension"}, "next bar line"),
        ("param → layer_gain only (fader, seek 0)", {"type": "param", "name": FADER, "value": 1.0},
         "at once (fader, 30 ms de-zipper)"),
        ("param danger 0→0.9 (tension, valence)", {"type": "param", "name": "danger", "value": 0.9},
         "bar line after next"),
        ("param intensity 0.2→0.9 (all its mappings)", {"type": "param", "name": "intensity", "value": 0.9},
         "at once (volume mapping)" if volume else "bar line after next"),
    ]
    ats = [int(SR * float(rng.uniform(2.0, 8.0))) for _ in range(trials)]
    results: dict[str, tuple[list[int], list[int]]] = {label: ([], []) for label, _, _ in cases}
    for at in ats:
        horizon = at + int((2 * bar_s + 0.5) * SR)
        reference, bars, _ = render_with(spec, {"type": "marker", "name": "reference"}, at, horizon)
        bar_lines = np.asarray(sorted(set(bars)))
        for label, control, _ in cases:
            _, _, first = render_with(spec, control, at, horizon, reference)
            if first is None:
                continue
            lat, after = results[label]
            lat.append(first - at)
            # which bar line the change sounds on: 0 = not on one, 1 = the next after the control, 2 = the one after …
            near = int(np.argmin(np.abs(bar_lines - first)))
            on_line = abs(int(bar_lines[near]) - first) <= 64 + 60  # limiter look-ahead + one tick at 90 bpm
            after.append(int(np.sum(bar_lines[: near + 1] > at)) if on_line else 0)
    rows = [(label, expected, *results[label], len(ats)) for label, _, expected in cases]
    return rows, bar_s


# ---------------------------------------------------------------------------------------------- 3. real-time factor
def real_time_factor(spec: object, seconds: float, block: int, guard: bool = True,
                     profiler: cProfile.Profile | None = None) -> tuple[float, float, int]:
    """Offline ``Engine.pull`` of the example trace: (audio seconds, CPU seconds, blocks)."""
    trace = Timeline.load(ROOT / "examples" / "fantasy_game_trace.json")
    eng = Engine(make_conductor(spec, guard=guard))
    for c in trace.sorted():
        eng.submit(c, sample=c.at_sample(SR))
    total = int(seconds * SR)
    blocks = 0
    if profiler:
        profiler.enable()
    t = time.process_time()
    while eng.position < total:
        eng.pull(min(block, total - eng.position))
        eng.events.clear()
        blocks += 1
    cpu = time.process_time() - t
    if profiler:
        profiler.disable()
    return total / SR, cpu, blocks


# ---------------------------------------------------------------------------------------------- 4. engines per core
@dataclass
class FleetResult:
    n: int
    underruns: list[int]
    lateness_ms: float
    cpu_load: float  # process CPU seconds per wall second over the window (1.0 = the whole core)
    others: float  # share of the core other processes took over the window (a shared machine)
    produce_ms: float  # producer CPU per block (ms): the engine's own work, live
    blocks: int
    controls: int
    errors: int


def player(spec: object, seconds: float, rng: np.random.Generator) -> list[tuple[float, dict]]:
    """One session's controls over ``seconds`` (time from its start, control): a game that never sits still.

    Intensity walks by up to ±0.3 every 0.3–1.2 s with danger near it; the state changes every 3–8 s.
    """
    states = [s.name for s in spec.states]
    out: list[tuple[float, dict]] = []
    t, level = float(rng.uniform(0.0, 1.0)), float(rng.uniform(0.1, 0.9))
    while t < seconds:
        level = float(np.clip(level + rng.uniform(-0.3, 0.3), 0.0, 1.0))
        out.append((t, {"type": "param", "name": "intensity", "value": level}))
        out.append((t, {"type": "param", "name": "danger", "value": float(np.clip(level + rng.uniform(-0.2, 0.2), 0, 1))}))
        t += float(rng.uniform(0.3, 1.2))
    t, current = float(rng.uniform(1.0, 6.0)), spec.initial_state_name
    while t < seconds:
        current = str(rng.choice([x for x in states if x != current]))
        out.append((t, {"type": "state", "name": current}))
        t += float(rng.uniform(3.0, 8.0))
    return sorted(out, key=lambda e: e[0])


def fleet_offline(spec: object, n: int, seconds: float, block: int, rng: np.random.Generator) -> float:
    """CPU ms per block of the fleet's workload without threads: N engines pulled round-robin in this thread.

    Each block does what a producer does (pull, drain events, status), so the difference from the
    live fleet's producers is what the threads cost.
    """
    engines = [Engine(make_conductor(spec, seed=i)) for i in range(n)]
    for eng in engines:
        for t, c in player(spec, seconds, rng):
            eng.submit(c, sample=int(t * SR))
    total, blocks = int(seconds * SR), 0
    t0 = time.process_time()
    while engines[0].position < total:
        for eng in engines:
            eng.pull(block)
            eng.drain_events()
            eng.status()
            blocks += 1
    return 1000 * (time.process_time() - t0) / blocks


def fleet(spec: object, n: int, seconds: float, block: int, rng: np.random.Generator, core: int,
          ahead: int = 6, pooled: bool = False) -> FleetResult:
    """N sessions on one core, each with a real-time sink and its own moving controls, for ``seconds``.

    ``pooled``: one ProducerPool thread renders for all sessions and one HeadlessClock plays them all
    (a server's layout), instead of a producer thread and a sink thread per session.
    """
    gc.collect()  # start from a collected heap: the previous fleet's garbage is not this fleet's cost
    guard = default_guard()
    pool = ProducerPool() if pooled else None
    sessions = [TimedSession(spec, seed=i, block=block, guard=guard, ahead_blocks=ahead, pool=pool) for i in range(n)]
    # players join at different moments, spread over one bar, so bar lines do not coincide
    offsets = np.sort(rng.uniform(0.0, 4 * 60 / 90, n))
    sinks: list = []
    if pooled:
        for off, s in zip(offsets, sessions):  # pre-roll each by its offset so their bar lines differ
            for _ in range(int(off * SR / block)):
                s.produce_block()
                s.next_block()
            s.blocks_played = 0
            s.calls.clear()
            s.played_at.clear()
        for s in sessions:
            s.start()
        t_join = time.perf_counter()
        offsets = np.zeros(n)
        sinks.append(HeadlessClock(sessions).start())
    else:
        for s in sessions:
            s.start()  # primed: each has its queue full before any sink starts
        t_join = time.perf_counter()
        for off, s in zip(offsets, sessions):
            time.sleep(max(0.0, t_join + off - time.perf_counter()))
            sinks.append(HeadlessSink(s).start())
    script = sorted(((t_join + off + t, i, c) for i, off in enumerate(offsets)
                     for t, c in player(spec, seconds + 4.0, rng)), key=lambda e: (e[0], e[1]))
    for s in sessions:
        s.produce_cpu, s.produced = 0.0, 0
    cpu0, w0, (busy0, all0) = time.process_time(), time.perf_counter(), core_ticks(core)
    end = w0 + seconds
    for at, i, c in script:  # this thread is the games: each control at its wall time
        if at >= end:
            break
        time.sleep(max(0.0, at - time.perf_counter()))
        sessions[i].control(c)
    time.sleep(max(0.0, end - time.perf_counter()))
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - w0
    produce_cpu, produced = sum(s.produce_cpu for s in sessions), sum(s.produced for s in sessions)
    busy1, all1 = core_ticks(core)
    tick = os.sysconf("SC_CLK_TCK")
    core_s = (all1 - all0) / tick
    others = max(0.0, (busy1 - busy0) / tick - cpu) / core_s if core_s > 0 else float("nan")
    for k in sinks:
        k.stop()
    for s in sessions:
        s.stop()
    if pool is not None:
        pool.close()
    return FleetResult(
        n=n, underruns=[s.underruns for s in sessions], lateness_ms=max(s.sink_lateness() for s in sessions) * 1000,
        cpu_load=cpu / wall, others=others, produce_ms=1000 * produce_cpu / max(produced, 1),
        blocks=sum(s.blocks_played for s in sessions), controls=sum(len(s.engine.control_log) for s in sessions),
        errors=sum(len(s._errors) for s in sessions))  # noqa: SLF001


# ---------------------------------------------------------------------------------------------- 5. state flood
@dataclass
class FloodResult:
    rate: float
    sent: int
    blocks_before: int
    underruns_before: int
    blocks_during: int
    underruns_during: int
    blocks_after: int
    underruns_after: int
    transitions: int
    bars_late: int
    identical: bool
    others: tuple[float, float, float]  # share of the core other processes took before, during, after


def others_share(core: int, cpu0: float, ticks0: tuple[int, int]) -> float:
    """The share of ``core`` that other processes took since (``cpu0`` = our process_time, ``ticks0``)."""
    busy1, all1 = core_ticks(core)
    tick = os.sysconf("SC_CLK_TCK")
    core_s = (all1 - ticks0[1]) / tick
    return max(0.0, (busy1 - ticks0[0]) / tick - (time.process_time() - cpu0)) / core_s if core_s > 0 else float("nan")


def state_flood(spec: object, rate: float, seconds: float, after: float, core: int, block: int = 512) -> FloodResult:
    """``segue live``'s layout (one LiveSession, a HeadlessSink, the WebSocket server) under a flood of state
    requests from one socket, cycling through the states; underruns counted before (as long as after: what the
    machine alone causes), during and after the flood, with the share of the core other processes took."""
    from websockets.sync.client import connect

    from segue.server import start_ws

    session = LiveSession(spec, block=block, guard=default_guard(), seed=11, record=True)
    session.start()
    sink = HeadlessSink(session).start()
    server = start_ws(session, port=0)
    states = [x.name for x in spec.states]
    time.sleep(1.0)
    shares = []
    bb, ub, mark = session.blocks_played, session.underruns, (time.process_time(), core_ticks(core))
    time.sleep(after)
    shares.append(others_share(core, *mark))
    b0, u0, mark = session.blocks_played, session.underruns, (time.process_time(), core_ticks(core))
    sent = 0
    with connect(f"ws://127.0.0.1:{server.port}") as ws:
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            ws.send('{"type": "state", "name": "%s"}' % states[sent % len(states)])
            sent += 1
            time.sleep(max(0.0, t0 + sent / rate - time.perf_counter()))
        b1, u1 = session.blocks_played, session.underruns
        shares.append(others_share(core, *mark))
        mark = (time.process_time(), core_ticks(core))
        time.sleep(after)
    b2, u2 = session.blocks_played, session.underruns
    shares.append(others_share(core, *mark))
    server.close()
    sink.stop()
    session.stop()
    live = session.recorded_audio()
    log = session.control_log()
    lat = session.engine.mixer.latency
    total = live.shape[0] - lat
    log.duration = total / SR
    from segue.pipeline import play

    same = bool(np.array_equal(play(spec, log).mix, live[lat:][:total]))
    return FloodResult(rate, sent, b0 - bb, u0 - ub, b1 - b0, u1 - u0, b2 - b1, u2 - u1, session.conductor.transitions,
                       session.engine.bars_late, same, tuple(shares))


# ---------------------------------------------------------------------------------------------- profile
def profile_engine(spec: object, seconds: float, block: int, rng: np.random.Generator) -> None:
    """Where the engines' time goes, on the fleet's workload (offline, no threads: the producers' own work)."""
    prof = cProfile.Profile()
    prof.enable()
    fleet_offline(spec, 2, seconds, block, rng)
    prof.disable()
    st = pstats.Stats(prof)
    stats = st.stats  # type: ignore[attr-defined]
    total = sum(v[3] for (f, _, fn), v in stats.items() if f.endswith("engine.py") and fn == "pull")
    total += sum(v[3] for (f, _, fn), v in stats.items() if f.endswith("engine.py") and fn == "status")
    rows = [(tt, ct, nc, f"{_short(file)}:{func}") for (file, _, func), (_, nc, tt, ct, _) in stats.items()]
    print(f"\n  profile (cProfile) of the fleet's workload: 2 engines × {seconds:.0f} s, block {block}, round-robin "
          f"in one thread; % of the time in Engine.pull + Engine.status ({total:.2f} s under the profiler, which "
          f"inflates Python-heavy code):")
    print(f"  {'self %':>7s} {'cum %':>7s} {'calls':>9s}  function")
    for tt, ct, nc, name in sorted(rows, reverse=True)[:15]:
        print(f"  {100 * tt / total:7.1f} {100 * ct / total:7.1f} {nc:9d}  {name}")
    stages = [("synthesis (LayerSynth.render)", "synth.py", "render"),
              ("  of which TinySoundFont's C render", "~", "<built-in method tinysoundfont._tinysoundfont.render>"),
              ("faders (Mixer.fade)", "mixer.py", "fade"), ("bus: reverb + limiter (Mixer.bus)", "mixer.py", "bus"),
              ("master volume automation (VolumeAutomation.gains)", "volume.py", "gains"),
              ("tempo map lookups (TempoMap.sample)", "time.py", "sample"),
              ("state changes (Engine._request_state)", "engine.py", "_request_state"),
              ("composing bars (Engine._compose)", "engine.py", "_compose"),
              ("  of which the originality guard (guard_phrase)", "guard.py", "guard_phrase"),
              ("new synths (LayerSynth.__init__)", "synth.py", "__init__"),
              ("status() per block", "engine.py", "status")]
    print(f"  {'cum %':>7s}  stage (overlapping: a stage includes what it calls)")
    for label, file, func in stages:
        ct = sum(v[3] for (f, _, fn), v in stats.items() if f.endswith(file) and fn == func)
        print(f"  {100 * ct / total:7.1f}  {label}")


def _short(file: str) -> str:
    p = Path(file)
    parts = p.parts
    if "segue" in parts:
        return "/".join(parts[parts.index("segue"):])
    return p.name if p.name else file


# ---------------------------------------------------------------------------------------------- main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0, help="wall seconds per fleet size (engines per core)")
    ap.add_argument("--max", type=int, default=40, help="largest fleet to try")
    ap.add_argument("--step", type=int, default=4, help="fleet size step")
    ap.add_argument("--changes", type=int, default=20, help="live control changes per block size")
    ap.add_argument("--trials", type=int, default=6, help="offline trials per control kind (musical latency)")
    ap.add_argument("--rtf-seconds", type=float, default=120.0, help="audio seconds for the real-time factor")
    ap.add_argument("--ahead", type=int, default=2, help="ahead_blocks of each fleet session (segue live: 1)")
    ap.add_argument("--flood-rate", type=float, default=190.0, help="state requests per second (section 5)")
    ap.add_argument("--skip-fleet", action="store_true", help="skip section 4 (engines per core)")
    ap.add_argument("--quick", action="store_true", help="a fast smoke run (5 s per fleet, up to 12 engines)")
    ap.add_argument("--profile", action="store_true", help="profile the engines' work even if the aim is met")
    ap.add_argument("--style", default=None, help="compose with this style (markov, neural or a file; default: the spec's)")
    args = ap.parse_args()
    if args.quick:
        args.seconds, args.max, args.changes, args.trials, args.rtf_seconds = 5.0, min(args.max, 12), 8, 2, 30.0
    logging.getLogger("segue").setLevel(logging.ERROR)  # the trace's deliberately bad control
    core = pin_to_one_core()
    rng = np.random.default_rng(2024)
    spec = bench_spec(args.style)
    guard_load = warm_guard()
    warm_s = time.process_time()
    real_time_factor(spec, 90.0, 2048)  # warm every per-process cache: soundfont, style, each preset's voicing
    warm_s = time.process_time() - warm_s
    wall0 = time.perf_counter()
    print(f"segue adaptive engine benchmark — examples/fantasy_game.yaml, 44.1 kHz stereo, originality guard on, "
          f"pinned to core {core} of {os.cpu_count()}, Python {sys.version.split()[0]}, load average "
          f"{os.getloadavg()[0]:.1f} at start")
    print(f"  (the originality index loads lazily on the first guarded phrase of a process: {guard_load * 1000:.0f} ms "
          f"CPU, which in `segue live` happens inside the first session's producer; warmed here before timing, as are "
          f"the soundfont, the style model and every preset's voicing: 90 s of the trace offline, {warm_s:.1f} CPU s)")

    # 1 ------------------------------------------------------------------------------------------
    print(f"\n1. control latency, live (LiveSession → HeadlessSink in real time, bars written ahead on the composer "
          f"thread; {args.changes} immediate stingers fired from the caller thread; t0 = the call, end = the sink "
          f"taking the block that holds the onset)")
    print(f"  {'block':>5s} {'ms/blk':>7s} {'ahead':>5s} {'bound':>15s} {'median':>15s} {'p99':>15s} {'max':>15s} "
          f"{'t0→rendered':>12s} {'onset−applied':>14s} {'matched':>8s} {'underruns':>9s} {'late bars':>9s} "
          f"{'live = offline':>14s}")
    for block, ahead in ((256, 1), (512, 1), (512, 2), (1024, 1)):
        r = live_latency(spec, block, args.changes, rng, ahead=ahead, check_replay=(block, ahead) == (512, 1))
        blk = block / SR * 1000
        bound = (r.ahead + 1) * blk
        med, mx = statistics.median(r.latency_ms), max(r.latency_ms)
        p99 = float(np.percentile(r.latency_ms, 99))
        same = "—" if r.identical is None else ("identical" if r.identical else "DIFFERENT")
        print(f"  {block:5d} {blk:7.2f} {r.ahead:5d} {r.ahead + 1:3d} blk {bound:5.1f} ms "
              f"{med / blk:4.1f} blk {med:5.1f} ms {p99 / blk:4.1f} blk {p99:5.1f} ms {mx / blk:4.1f} blk {mx:5.1f} ms "
              f"{statistics.median(r.to_render_ms):9.1f} ms {max(r.onset_offset):10d} smp "
              f"{r.matched:4d}/{r.sent:<3d} {r.underruns:9d} {r.bars_late:9d} {same:>14s}"
              + (f"  errors {r.errors}" if r.errors else ""))
    print("  bound = (ahead_blocks + 1) blocks: up to one block until the producer picks the control up, then the "
          "rendered block waits behind ahead_blocks queued ones (segue live: ahead_blocks 1; 2 with a sound card, "
          "whose callback takes two blocks). t0→rendered: median time until the producer had "
          "rendered the block with the control. onset−applied: max samples between the sample the engine applied "
          "the control at (its log) and the note-on (≤ 1 tick). late bars: bars the producer had to write itself "
          "because the composer thread had not finished them (same notes, counted). live = offline: the 512/1 "
          "session recorded and its control log rendered offline (segue play, 2048-frame blocks, no composer "
          "thread). Add the limiter's 64-sample (1.45 ms) look-ahead inside the played block; a sound card adds its "
          "own buffer on top.")

    # 2 ------------------------------------------------------------------------------------------
    rows, bar_s = musical_latency(spec, args.trials, rng)
    print(f"\n2. musical latency, offline (first output sample that differs from a render without the control; "
          f"{args.trials} random control samples in the explore state, 90 bpm: beat {bar_s / 4 * 1000:.0f} ms, "
          f"bar {bar_s * 1000:.0f} ms)")
    print(f"  {'control':44s} {'median ms':>10s} {'max ms':>9s} {'max bars':>9s} {'bar line #':>11s}  expected")
    for label, expected, lat, after, n in rows:
        if not lat:
            print(f"  {label:44s} {'no audible change within 2 bars':>45s}")
            continue
        ms = [x / SR * 1000 for x in lat]
        lines = ",".join(str(a) for a in after)
        print(f"  {label:44s} {statistics.median(ms):10.1f} {max(ms):9.1f} {max(ms) / (bar_s * 1000):9.2f} "
              f"{lines:>11s}  {expected}")
    print("  bar line #, per trial: the bar line the change first sounds on (1 = the first after the control, 2 = the "
          "one after; 0 = not on a bar line). A parameter is read when a bar is composed, one bar ahead (bar k at the "
          "start of bar k−1), so its bar-wise mappings (density, tension, valence …) sound from the bar line after "
          "next (1–2 bars later); 'layer_gain' and 'volume' mappings are faders and follow at once.")

    # 3 ------------------------------------------------------------------------------------------
    print(f"\n3. real-time factor of one engine (offline Engine.pull of {args.rtf_seconds:.0f} s of "
          f"examples/fantasy_game_trace.json, one core)")
    print(f"  {'block':>5s} {'guard':>5s} {'audio s':>8s} {'cpu s':>7s} {'× real time':>12s} {'cpu/block':>10s} "
          f"{'block period':>13s} {'duty':>6s}")
    for block, guard in ((512, True), (512, False), (256, True), (1024, True)):
        audio, cpu, blocks = real_time_factor(spec, args.rtf_seconds, block, guard)
        per = cpu / blocks * 1000
        period = block / SR * 1000
        print(f"  {block:5d} {'on' if guard else 'off':>5s} {audio:8.1f} {cpu:7.2f} {audio / cpu:12.1f} "
              f"{per:7.3f} ms {period:10.2f} ms {100 * per / period:5.1f}%")
    fleet_ms = fleet_offline(spec, 4, min(args.rtf_seconds, 30.0), 512, rng)
    period = 512 / SR * 1000
    print(f"  the fleet's workload (section 4's controls: a state change every 3–8 s, intensity moving), 4 engines "
          f"round-robin in one thread, block 512: {fleet_ms:.3f} ms per block = {period / fleet_ms:.1f} × real time "
          f"→ at most {int(period / fleet_ms)} engines on a core with nothing else running")

    # 4 ------------------------------------------------------------------------------------------
    print(f"\n4. engines per core (N LiveSessions + N HeadlessSinks in one process on one core, block 512, "
          f"ahead_blocks {args.ahead} = {args.ahead * 512 / SR * 1000:.0f} ms of queue; each session moves "
          f"intensity/danger every 0.3–1.2 s and changes state every 3–8 s; sinks join spread over one bar; "
          f"{args.seconds:.0f} s each)")
    print(f"  {'N':>3s} {'underruns':>9s} {'sessions hit':>12s} {'worst sink late':>15s} {'cpu ours':>8s} "
          f"{'predicted':>9s} {'others':>6s} {'produce/blk':>11s} {'blocks':>7s} {'controls':>8s} {'errors':>6s}")

    def step(n: int, pooled: bool) -> bool:
        """Run N sessions (once more if the machine was busy and it failed); True if no underrun."""
        for attempt in (1, 2):
            r = fleet(spec, n, args.seconds, 512, rng, core, args.ahead, pooled=pooled)
            total = sum(r.underruns)
            print(f"  {r.n:3d} {total:9d} {sum(1 for u in r.underruns if u):8d}/{r.n:<3d} {r.lateness_ms:12.1f} ms "
                  f"{100 * r.cpu_load:7.0f}% {100 * n * fleet_ms / period:8.0f}% {100 * r.others:5.0f}% {r.produce_ms:8.3f} ms "
                  f"{r.blocks:7d} {r.controls:8d} {r.errors:6d}"
                  + ("  (repeated: others took > 10% of the core)" if attempt == 2 else ""))
            if not (total or r.errors) or r.others <= 0.10:
                break
        return not (total or r.errors)

    # 5 ------------------------------------------------------------------------------------------
    flood_s, after_s = (4.0, 2.0) if args.quick else (10.0, 5.0)
    f = state_flood(spec, args.flood_rate, flood_s, after_s, core)
    print(f"\n5. state flood (segue live's layout: LiveSession, block 512, ahead 1 → HeadlessSink, WebSocket server; one "
          f"socket sends {args.flood_rate:.0f} state requests/s cycling through the states for {flood_s:.0f} s, then "
          f"{after_s:.0f} s quiet; the same quiet window before it says what the machine alone costs)")
    print(f"  {'window':>8s} {'underruns':>9s} {'blocks':>7s} {'share':>7s} {'others':>7s}")
    for label, u, b, o in (("before", f.underruns_before, f.blocks_before, f.others[0]),
                           ("during", f.underruns_during, f.blocks_during, f.others[1]),
                           ("after", f.underruns_after, f.blocks_after, f.others[2])):
        print(f"  {label:>8s} {u:9d} {b:7d} {100 * u / max(b, 1):6.2f}% {100 * o:6.0f}%")
    print(f"  sent {f.sent}; transitions heard {f.transitions}; late bars {f.bars_late}; live = offline "
          f"{'identical' if f.identical else 'DIFFERENT'}; others: the share of the core other processes took")
    print("  a newer request for the same boundary replaces the older one and costs nothing until its first bar is "
          "decided, 0.1 s before the boundary; the bar is written on the composer thread.")

    results = {}
    if args.skip_fleet:
        print(f"\n  total wall time {time.perf_counter() - wall0:.0f} s")
        return
    for pooled in (False, True):
        print("  " + ("b) one ProducerPool thread renders for all sessions, one HeadlessClock plays them all"
                      if pooled else "a) a producer thread and a HeadlessSink thread per session"))
        best, failed = 0, None
        n = args.step
        while n <= args.max:
            if not step(n, pooled):
                failed = n
                break
            best = n
            n += args.step
        if failed is not None and args.step >= 4:  # one finer step between the last clean N and the first failing one
            mid = best + args.step // 2
            if step(mid, pooled):
                best = mid
        results[pooled] = (best, failed)
    for pooled, (best, failed) in results.items():
        verdict = "meets" if best >= AIM else "falls short of"
        print(f"  {'b) pooled' if pooled else 'a) a thread per session'}: largest N with 0 underruns: {best}"
              f"{' (the largest tried)' if failed is None else ''} — {verdict} the aim of ≥ {AIM}.")
    best = max(b for b, _ in results.values())
    print(f"  cpu ours: this process's CPU / wall over the window (100% = the core); predicted: N × "
          f"the fleet workload's offline cost ({fleet_ms:.3f} ms CPU per block, section 3) / the block period; "
          f"produce/blk: the producers' own CPU per block, live (same work as that offline figure); the rest of 'cpu ours' is the sinks, the control "
          f"thread and thread switching; others: the share of the core other processes took (/proc/stat; a failing "
          f"step is run again once if that exceeds 10%); worst sink late: how far behind its clock a sink took a "
          f"block (a sound card's callback needs the GIL too, so this is a dropout risk the queue does not cover).")

    if args.profile or best < AIM:
        profile_engine(spec, min(args.rtf_seconds, 30.0), 512, rng)
    print(f"\n  total wall time {time.perf_counter() - wall0:.0f} s, load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
