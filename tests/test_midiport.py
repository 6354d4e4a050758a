"""Live play to a MIDI output port: the engine's notes, sent when their audio is heard, none left hanging."""

from __future__ import annotations

import bisect
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import mido
import pytest

from segue.engine import midiport
from segue.engine.live import HeadlessSink, LiveSession
from segue.engine.midiport import MidiPortError, MidiPortSink, open_midi_output
from segue.evaluation_run import examples_dir
from segue.export.midi import channels_for
from segue.spec import load_spec

ROOT = Path(__file__).resolve().parents[1]
SR = 44100
OFF, CUT, ON = 1, 2, 3  # order of messages at one sample: offs, a cut's "all notes off", ons


class RecordingPort:
    """A MIDI output port without a MIDI system: keeps (wall time, message)."""

    def __init__(self) -> None:
        self.log: list[tuple[float, mido.Message]] = []  # everything but expression
        self.expression: list[tuple[float, mido.Message]] = []  # CC 11: the parameter faders

    def send(self, msg: mido.Message) -> None:
        if msg.type == "control_change" and msg.control == 11:
            self.expression.append((time.perf_counter(), msg))
        else:
            self.log.append((time.perf_counter(), msg))


@pytest.fixture(scope="module")
def game():
    return load_spec(examples_dir() / "fantasy_game.yaml")


def _bar_entries(bars, tm, channels, *, uncut: bool = False) -> list[tuple[int, int, int, int, str]]:
    """(sample, order, channel, pitch, type) for the bars' notes, each deck cut where a transition cut it
    (``uncut``: as written, ignoring any cut)."""
    out = []
    for bar in bars:
        cut = None if uncut else bar.cut
        for layer, notes in bar.notes.items():
            for n in notes:
                end = n.end if cut is None else min(n.end, cut)
                if cut is not None and n.start >= cut:
                    continue
                on, off = tm.sample(n.start), tm.sample(end)
                if off > on:
                    out += [(on, ON, channels[layer], n.pitch, "note_on"), (off, OFF, channels[layer], n.pitch, "note_off")]
    return out


def _cut_entries(events, channels) -> list[tuple[int, int, int, int, str]]:
    return [(ev.sample, CUT, c, 0, "control_change") for ev in events if ev.kind == "transition_started"
            for c in sorted(set(channels.values()))]


def _stinger_entries(events, spec, tm, stinger_channels) -> list[tuple[int, int, int, int, str]]:
    """A stinger event names its notes' onsets and pitches; their lengths are the spec's, in order."""
    specs = {s.name: s for s in spec.stingers}
    out = []
    for ev in events:
        if ev.kind != "stinger":
            continue
        ch = stinger_channels[ev.data["name"]]
        for (tick, pitch), written in zip(ev.data["notes"], specs[ev.data["name"]].parsed_notes()):
            out += [(tm.sample(tick), ON, ch, pitch, "note_on"),
                    (tm.sample(tick + written.duration), OFF, ch, pitch, "note_off")]
    return out


def _key(msg: mido.Message) -> tuple[str, int, int]:
    return (msg.type, msg.channel, msg.note if msg.type != "control_change" else 0)


@pytest.fixture(scope="module")
def live_run(game):
    """4.5 s of real-time play (headless clock): a stinger, then explore → combat with its 'hit' stinger."""
    session = LiveSession(game, record=True, block=512)
    played: list[tuple[float, int, int]] = []
    events = []
    session.on_played(lambda a, b: played.append((time.perf_counter(), a, b)))  # before the sink's: earlier time
    session.subscribe(events.append)
    port = RecordingPort()
    midi = MidiPortSink(session, port).start()
    n_setup = len(port.log)
    t0 = time.perf_counter()
    session.start()
    sink = HeadlessSink(session).start()
    for at, action in ((0.4, lambda: session.stinger("discovery")), (1.0, lambda: session.set_state("combat"))):
        time.sleep(max(0.0, at - (time.perf_counter() - t0)))
        action()
    time.sleep(max(0.0, 4.5 - (time.perf_counter() - t0)))
    sink.stop()
    time.sleep(0.15)  # everything heard so far is due within one block
    n_timed = len(port.log)
    midi.stop()
    session.stop()
    return {"session": session, "midi": midi, "port": port, "played": played, "events": events,
            "setup": port.log[:n_setup], "timed": port.log[n_setup:n_timed], "tail": port.log[n_timed:]}


def test_sends_the_engines_notes_of_the_played_range_in_order(game, live_run) -> None:
    session, midi = live_run["session"], live_run["midi"]
    cond = session.conductor
    tm = cond.tempo_map
    channels = channels_for(cond.parts)
    assert midi.channels == channels  # the exported MIDI file's channel map: one DAW template for both
    events = live_run["events"]
    kinds = [e.kind for e in events]
    assert kinds.count("stinger") == 2 and kinds.count("transition_started") == 1
    heard = live_run["played"][-1][2] - session.engine.mixer.latency
    expected = sorted(e for e in _bar_entries(cond.bars, tm, channels) + _cut_entries(events, channels)
                      + _stinger_entries(events, game, tm, midi.stinger_channels) if e[0] < heard)
    got = [_key(m) for _, m in live_run["timed"]]
    assert len(got) > 60
    assert got == [(kind, ch, pitch) for _, _, ch, pitch, kind in expected]
    # velocities are the composed ones
    bar_vel = sorted((tm.sample(n.start), channels[layer], n.pitch, n.velocity)
                     for b in cond.bars for layer, ns in b.notes.items() for n in ns)
    sent_on = [m for _, m in live_run["timed"] if m.type == "note_on" and m.channel in channels.values()]
    assert {(m.channel, m.note, m.velocity) for m in sent_on} <= {(c, p, v) for _, c, p, v in bar_vel}
    # the stingers' notes went out on their own channels, the ones the spec wrote (moved into the key)
    for name in ("discovery", "hit"):
        ch = midi.stinger_channels[name]
        assert ch not in channels.values()
        ev = next(e for e in events if e.kind == "stinger" and e.data["name"] == name)
        pitches = [m.note for _, m in live_run["timed"] if m.type == "note_on" and m.channel == ch]
        assert pitches[: len(ev.data["notes"])] == [p for t, p in ev.data["notes"] if tm.sample(t) < heard]
    # instruments first: each pitched layer's program, and each stinger's
    programs = {m.channel: m.program for _, m in live_run["setup"] if m.type == "program_change"}
    for p in cond.parts:
        if not p.is_drums:
            assert programs[channels[p.name]] == p.program
    for s in game.stingers:
        assert programs[midi.stinger_channels[s.name]] == game.stinger(s.name).played_program


def test_each_message_waits_for_its_block_to_be_played(live_run) -> None:
    """Sent no earlier than its sample is heard (the producer renders up to 6 blocks, 70 ms, earlier)."""
    session = live_run["session"]
    latency = session.engine.mixer.latency
    cond = session.conductor
    channels = channels_for(cond.parts)
    heard = live_run["played"][-1][2] - latency
    expected = sorted(e for e in _bar_entries(cond.bars, cond.tempo_map, channels)
                      + _cut_entries(live_run["events"], channels)
                      + _stinger_entries(live_run["events"], session.spec, cond.tempo_map, live_run["midi"].stinger_channels)
                      if e[0] < heard)
    played = live_run["played"]
    starts = [a for _, a, _ in played]
    lags = []
    for (sent_at, _), (sample, *_rest) in zip(live_run["timed"], expected, strict=True):
        at = sample + latency  # where that sample is in the audio the sink plays
        i = bisect.bisect_right(starts, at) - 1
        block_at, a, b = played[i]
        assert a <= at < b
        heard_at = block_at + (at - a) / SR
        assert sent_at >= heard_at
        lags.append(sent_at - heard_at)
    assert statistics.median(lags) < 0.02
    assert sorted(lags)[int(0.95 * len(lags))] < 0.1


def test_no_note_is_left_hanging_after_stop(live_run) -> None:
    balance: Counter = Counter()
    sounding: Counter = Counter()
    for _, m in live_run["timed"]:
        if m.type == "note_on":
            sounding[(m.channel, m.note)] += 1
        elif m.type == "note_off" and sounding[(m.channel, m.note)] > 0:
            sounding[(m.channel, m.note)] -= 1
    tail = [m for _, m in live_run["tail"]]
    released = Counter((m.channel, m.note) for m in tail if m.type == "note_off")
    assert released == +sounding  # exactly the notes still sounding at stop
    assert [(m.type, m.control, m.channel) for m in tail[-16:]] == [("control_change", 123, c) for c in range(16)]
    for _, m in live_run["setup"] + live_run["timed"] + live_run["tail"]:
        if m.type == "note_on" and m.velocity > 0:
            balance[(m.channel, m.note)] += 1
        elif m.type in ("note_off", "note_on"):
            balance[(m.channel, m.note)] -= 1
    assert not +balance and not -balance
    assert live_run["midi"].errors == []


def test_a_replaced_transition_sends_none_of_its_notes(game) -> None:
    """explore → combat, replaced by tension just before its boundary: combat's first bar was composed (decided
    0.1 s before the boundary, collected early by a stinger), never heard."""
    session = LiveSession(game, record=True, block=512)
    events = []
    session.subscribe(events.append)
    port = RecordingPort()
    midi = MidiPortSink(session, port).start()
    n_setup = len(port.log)
    replaced = None
    for i in range(560):  # 6.5 s, synchronously: produce a block, play it
        if i == 40:
            session.set_state("combat")
        if i == 223:  # past the first bar's decision (boundary at 117,600 − 4,410 samples = block 221)
            session.stinger("discovery")
        if i == 225:
            replaced = session.conductor.pending.deck
            session.set_state("tension")
        session.produce_block()
        session.next_block()
    time.sleep(0.1)
    timed = [m for _, m in port.log[n_setup:]]
    midi.stop()
    cond = session.conductor
    assert replaced is not None and replaced.bars and cond.state_name == "tension"
    assert [e.data["to"] for e in events if e.kind == "transition_started"] == ["tension"]
    channels = channels_for(cond.parts)
    heard = session.engine.position - session.engine.mixer.latency
    kept = [b for b in cond.bars if not any(b is r for r in replaced.bars)]
    expected = sorted(e for e in _bar_entries(kept, cond.tempo_map, channels) + _cut_entries(events, channels)
                      if e[0] < heard)
    stinger_channel = midi.stinger_channels["discovery"]  # (its own notes are tested above)
    assert any(m.channel == stinger_channel for m in timed)
    got = [_key(m) for m in timed if m.channel != stinger_channel]
    assert got == [(kind, ch, pitch) for _, _, ch, pitch, kind in expected]
    assert all(b.cut == b.start for b in replaced.bars)  # and it is not part of the performance either
    combat = _bar_entries(replaced.bars, cond.tempo_map, channels, uncut=True)
    assert combat and not set(e for e in combat if e[4] == "note_on") <= set(expected)


class FakeBackend:
    """mido's backend as a machine with MIDI ports would answer."""

    names = ["FLUID Synth (4242):Synth input port (4242:0) 128:0", "Midi Through:Midi Through Port-0 14:0"]

    def __init__(self, *args, **kwargs) -> None:
        pass

    def get_output_names(self) -> list[str]:
        return list(self.names)

    def open_output(self, name: str, virtual: bool = False) -> RecordingPort:
        port = RecordingPort()
        port.name = name
        return port


def test_ports_are_found_by_part_of_their_name_and_listed_when_not(monkeypatch) -> None:
    monkeypatch.setattr(midiport.mido, "Backend", FakeBackend)
    assert open_midi_output("fluid").name == FakeBackend.names[0]
    assert open_midi_output(None).name == FakeBackend.names[0]
    assert open_midi_output("Segue Out", virtual=True).name == "Segue Out"
    with pytest.raises(MidiPortError) as info:
        open_midi_output("Yamaha")
    msg = str(info.value)
    assert "'Yamaha'" in msg and all(n in msg for n in FakeBackend.names) and "\n" not in msg
    with pytest.raises(MidiPortError, match="ambiguous"):
        open_midi_output(":")


def test_opening_a_port_here_fails_with_one_readable_line(capfd) -> None:
    with pytest.raises(MidiPortError) as info:
        open_midi_output("Segue Test No Such Port")
    msg = str(info.value)
    assert "\n" not in msg and "Traceback" not in msg
    if sys.platform.startswith("linux") and not os.path.exists("/dev/snd/seq"):
        assert msg.startswith("no MIDI output available: ALSA sequencer not present")
    else:
        assert "Segue Test No Such Port" in msg
    assert "ALSA lib" not in capfd.readouterr().err  # the backend's own noise is kept off the terminal


def _segue(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, COLUMNS="400")
    return subprocess.run([sys.executable, "-m", "segue.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=120)


def test_cli_prints_one_line_and_exits_non_zero_without_a_port() -> None:
    r = _segue("live", "--midi-out", "Segue Test No Such Port", "--no-audio", "--seconds", "1",
               "--osc-port", "-1", "--ws-port", "-1")
    assert r.returncode == 2, r.stdout + r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "MIDI" in lines[0], r.stderr
    assert "Traceback" not in r.stderr + r.stdout and "ALSA lib" not in r.stderr
    assert "playing" not in r.stdout  # nothing started
    listing = _segue("live", "--midi-list")
    if os.path.exists("/dev/snd/seq") or not sys.platform.startswith("linux"):
        assert listing.returncode == 0, listing.stderr
    else:
        assert listing.returncode == 2 and len(listing.stderr.strip().splitlines()) == 1
        assert "ALSA sequencer not present" in listing.stderr


def test_the_parameter_faders_go_out_as_expression(game) -> None:
    """The example maps intensity to the master volume (-18 → 0 dB) and to the drums' gain: a sampler
    playing the notes hears the same swell as CC 11 on every layer's channel."""
    session = LiveSession(game, block=512)
    port = RecordingPort()
    midi = MidiPortSink(session, port).start()
    for i in range(700):  # ~8 s, synchronously
        if i == 20:
            session.set_parameter("intensity", 1.0)
        session.produce_block()
        session.next_block()
    time.sleep(0.1)
    midi.stop()
    by_channel: dict[int, list[int]] = {}
    for _, m in port.expression:
        by_channel.setdefault(m.channel, []).append(m.value)
    lead = midi.channels["lead"]
    drums = midi.channels["drums"]
    values = by_channel[lead]
    assert len(values) > 10 and values == sorted(values)  # a swell, in many small steps
    assert values[0] < 70 and values[-1] == 127  # from about -14 dB (intensity 0.2) to 0 dB
    assert max(b - a for a, b in zip(values, values[1:])) <= 4
    assert by_channel[drums][-1] == 127 and by_channel[drums][0] < values[0]  # the drums' own fader on top
