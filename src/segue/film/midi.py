"""MIDI for picture: a file for the whole film and one per cue, with bar lines where cues start.

The engine starts each cue on a downbeat of its own, wherever the previous cue's bar happened to
be, so the whole film's bar grid restarts at every cue. A DAW only knows one grid, so the export
closes the previous cue's last, incomplete bar as a short bar of its own (n/16, with its tempo
scaled so that its length in seconds is exact). Every cue then starts on a bar line at its exact
time, hits sit on the grid, and a composer can open the file against picture. The conductor
track carries an SMPTE offset (the film's start timecode), cue and hit markers, tempi, meters
and keys. MIDI tempi are whole microseconds per quarter; the short bars absorb that rounding,
so timing error never accumulates from cue to cue.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import mido

from segue.export.midi import track_from_events
from segue.engine.performance import Performance
from segue.export import midi_key_name
from segue.export.midi import channels_for
from segue.film.timecode import FrameRate, smpte_fields
from segue.music import PPQ, Meter

SIXTEENTH = PPQ // 4


@dataclass(frozen=True, slots=True)
class _Region:
    """Engine ticks [start, end) written at file ticks from ``file_start``, stretched by ``scale``, in meter ``ts``."""

    start: int
    end: int
    file_start: int
    scale: Fraction
    ts: tuple[int, int]

    def map(self, tick: int) -> int:
        return self.file_start + int(round((tick - self.start) * self.scale))

    @property
    def file_end(self) -> int:
        return self.map(self.end)


def _short_meter(ticks: int) -> tuple[int, int]:
    """The time signature of a short bar of ``ticks`` (a whole number of sixteenths): 960 → 2/4."""
    n = ticks // SIXTEENTH
    if n % 4 == 0:
        return n // 4, 4
    if n % 2 == 0:
        return n // 2, 8
    return n, 16


def _regions(deck_starts: list[int], tick_from: int, tick_to: int, meter: Meter) -> list[_Region]:
    """Full bars as they are; a cue's last, incomplete bar cut at its strong beats into short bars.

    Cutting at strong beats keeps them accented in the file (beat 3 of a cut-off 4/4 bar becomes the
    downbeat of a 2/4 bar); only the final piece, shorter than a beat's worth of remainder, may need
    rounding to sixteenths — its tempo is scaled so its length in seconds stays exact.
    """
    bar = meter.ticks_per_bar
    tpb = meter.ticks_per_beat
    starts = sorted({t for t in deck_starts if tick_from <= t < tick_to} | {tick_from})
    out: list[_Region] = []
    pos = 0
    whole = (meter.numerator, meter.denominator)
    for i, b in enumerate(starts):
        e = starts[i + 1] if i + 1 < len(starts) else tick_to
        full_end = b + (e - b) // bar * bar
        if full_end > b:
            out.append(_Region(b, full_end, pos, Fraction(1), whole))
            pos += full_end - b
        if e <= full_end:
            continue
        if i + 1 >= len(starts):  # the film (or cue) ends mid-bar: leave it as it is
            out.append(_Region(full_end, e, pos, Fraction(1), whole))
            pos += e - full_end
            continue
        cuts = sorted({full_end + s * tpb for s in meter.strong_beats if full_end + s * tpb < e} | {full_end, e})
        for a, z in zip(cuts, cuts[1:]):
            length = z - a
            if length % SIXTEENTH == 0:
                out.append(_Region(a, z, pos, Fraction(1), _short_meter(length)))
                pos += length
            else:
                written = max(SIXTEENTH, round(length / SIXTEENTH) * SIXTEENTH)
                out.append(_Region(a, z, pos, Fraction(written, length), _short_meter(written)))
                pos += written
    return out


def _region_of(regions: list[_Region], tick: int) -> _Region:
    for r in regions:
        if r.start <= tick < r.end:
            return r
    return regions[-1]


def _map(regions: list[_Region], tick: int) -> int:
    if tick >= regions[-1].end:
        return regions[-1].file_end + (tick - regions[-1].end)
    return _region_of(regions, tick).map(tick)


@dataclass(slots=True)
class FilmNotes:
    """A performance's notes and keys, gathered once (a film has many cues to cut them for)."""

    perf: Performance
    by_layer: dict[str, list[Any]]
    starts: dict[str, list[int]]
    keys: list[tuple[int, Any]]

    @classmethod
    def of(cls, perf: Performance) -> "FilmNotes":
        by_layer = perf.notes_by_layer()
        return cls(perf, by_layer, {k: [n.start for n in v] for k, v in by_layer.items()}, perf.key_changes())

    def between(self, layer: str, a: int, b: int) -> list[Any]:
        import bisect

        st = self.starts[layer]
        return self.by_layer[layer][bisect.bisect_left(st, a):bisect.bisect_left(st, b)]


def build_film_midi(notes: FilmNotes, deck_starts: list[int], tick_from: int, tick_to: int, *, parts: list[Any],
                    title: str, rate: FrameRate, offset_seconds: float, markers: list[tuple[int, str]] = (),
                    extra_notes: list[tuple[int, int, int, int, int]] = (), extra_programs: dict[int, int] | None = None,
                    ) -> tuple[mido.MidiFile, int]:
    """A type-1 MIDI file of engine ticks [tick_from, tick_to); returns it and its length in file ticks.

    ``extra_notes`` are (engine tick, pitch, duration ticks, velocity, channel) for the hits track.
    """
    perf = notes.perf
    tm = perf.tempo_map
    meter: Meter = perf.meter
    regions = _regions(deck_starts, tick_from, tick_to, meter)
    end_file = regions[-1].file_end
    base = tm.seconds_exact(tick_from)
    cond: list[tuple[int, int, Any]] = []
    h, mi, s, f, sub = smpte_fields(offset_seconds, rate)
    smpte_rate = {24: 24, 25: 25, 30: 29.97 if rate.fps.denominator == 1001 else 30}.get(rate.nominal, 30)
    cond.append((0, 0, mido.MetaMessage("track_name", name=title[:120])))
    cond.append((0, 1, mido.MetaMessage("smpte_offset", frame_rate=smpte_rate, hours=h, minutes=mi, seconds=s,
                                        frames=min(f, 29 if smpte_rate == 29.97 else int(smpte_rate) - 1),
                                        sub_frames=sub)))
    # tempo and meter, region by region; file time is kept equal to engine time at every region edge
    file_time = Fraction(0)
    last_ts: tuple[int, int] | None = None
    for r in regions:
        if r.scale != 1:
            length_q = Fraction(r.file_end - r.file_start, PPQ)
            target = tm.seconds_exact(r.end) - base
            us = max(1, int(round((target - file_time) * 1_000_000 / length_q)))
            cond.append((r.file_start, 2, mido.MetaMessage("set_tempo", tempo=us)))
            file_time += Fraction(us, 1_000_000) * length_q
        else:
            points = [(r.start, tm.bpm_at(r.start))] + [(p.tick, p.bpm) for p in tm.points if r.start < p.tick < r.end]
            for k, (tick, bpm) in enumerate(points):
                nxt = points[k + 1][0] if k + 1 < len(points) else r.end
                us = int(round(60_000_000 / bpm))
                cond.append((r.map(tick), 2, mido.MetaMessage("set_tempo", tempo=us)))
                file_time += Fraction(us, 1_000_000) * Fraction(nxt - tick, PPQ)
        if r.ts != last_ts:
            cond.append((r.file_start, 1, mido.MetaMessage("time_signature", numerator=r.ts[0], denominator=r.ts[1])))
            last_ts = r.ts
    for tick, key in notes.keys:
        if tick_from <= tick < tick_to:
            cond.append((_map(regions, tick), 3, mido.MetaMessage("key_signature", key=midi_key_name(key))))
    for tick, text in markers:
        if tick_from <= tick <= tick_to:
            cond.append((_map(regions, tick), 4, mido.MetaMessage("marker", text=text[:120])))
    if perf.provenance:
        from segue.export.midi import provenance_event

        cond.append((0, 6, provenance_event(perf.provenance)))
    mid = mido.MidiFile(type=1, ticks_per_beat=PPQ, charset="utf-8")  # names in UTF-8, not latin-1
    mid.tracks.append(track_from_events(cond, end_file))
    chans = channels_for(perf.parts)
    for part in parts:
        ch = chans[part.name]
        ev: list[tuple[int, int, Any]] = [(0, 0, mido.MetaMessage("track_name", name=part.name))]
        if not part.is_drums:
            ev.append((0, 1, mido.Message("control_change", channel=ch, control=0, value=part.bank & 127)))
            ev.append((0, 2, mido.Message("program_change", channel=ch, program=part.program)))
        pan = int(round(64 + 63 * max(-1.0, min(1.0, part.pan))))
        ev.append((0, 3, mido.Message("control_change", channel=ch, control=10, value=min(pan, 127))))
        for n in notes.between(part.name, tick_from, tick_to):
            a = _map(regions, n.start)
            b = max(a + 1, _map(regions, min(n.end, tick_to)))
            ev.append((a, 10, mido.Message("note_on", channel=ch, note=n.pitch, velocity=n.velocity)))
            ev.append((b, 5, mido.Message("note_off", channel=ch, note=n.pitch, velocity=0)))
        mid.tracks.append(track_from_events(ev, end_file))
    if extra_notes:
        ev = [(0, 0, mido.MetaMessage("track_name", name="hits"))]
        for ch, prog in (extra_programs or {}).items():
            if ch != 9:
                ev.append((0, 2, mido.Message("program_change", channel=ch, program=prog)))
        for tick, pitch, dur, vel, ch in extra_notes:
            if not tick_from <= tick < tick_to:
                continue
            a = _map(regions, tick)
            b = max(a + 1, _map(regions, min(tick + dur, tick_to)))
            ev.append((a, 10, mido.Message("note_on", channel=ch, note=pitch, velocity=vel)))
            ev.append((b, 5, mido.Message("note_off", channel=ch, note=pitch, velocity=0)))
        mid.tracks.append(track_from_events(ev, end_file))
    return mid, end_file


# ---------------------------------------------------------------------------------------- reading back
@dataclass(frozen=True, slots=True)
class GridBeat:
    """A beat of a MIDI file's bar grid: its time, bar and beat number, and whether it is accented."""

    seconds: float
    bar: int
    beat: int
    downbeat: bool
    strong: bool


def read_grid(path: str | Path) -> tuple[list[GridBeat], float]:
    """Every beat of a MIDI file's bar grid (from its tempi and meters) and the file's length in seconds.

    Written independently of the exporter: it only reads tempo and time-signature events.
    """
    mid = mido.MidiFile(str(path))
    tpq = mid.ticks_per_beat
    tempos: dict[int, int] = {}
    sigs: dict[int, tuple[int, int]] = {}
    end = 0
    for track in mid.tracks:
        now = 0
        for msg in track:
            now += msg.time
            if msg.type == "set_tempo":
                tempos[now] = msg.tempo
            elif msg.type == "time_signature":
                sigs[now] = (msg.numerator, msg.denominator)
        end = max(end, now)
    if 0 not in tempos:
        tempos[0] = 500_000
    tempo_ticks = sorted(tempos)
    cum = [Fraction(0)]
    for a, b in zip(tempo_ticks, tempo_ticks[1:]):
        cum.append(cum[-1] + Fraction(tempos[a], 1_000_000) * Fraction(b - a, tpq))

    def seconds(tick: int) -> float:
        import bisect

        i = max(bisect.bisect_right(tempo_ticks, tick) - 1, 0)
        a = tempo_ticks[i]
        return float(cum[i] + Fraction(tempos[a], 1_000_000) * Fraction(tick - a, tpq))

    beats: list[GridBeat] = []
    sig = sigs.get(0, (4, 4))
    tick = 0
    bar = 0
    sig_ticks = sorted(sigs)
    si = 0
    while tick < end:
        while si < len(sig_ticks) and sig_ticks[si] <= tick:
            sig = sigs[sig_ticks[si]]
            si += 1
        m = Meter(sig[0], sig[1])
        bar_ticks = tpq * 4 * sig[0] // sig[1]
        beat_ticks = bar_ticks // m.beats_per_bar
        nxt_sig = sig_ticks[si] if si < len(sig_ticks) else None
        for b in range(m.beats_per_bar):
            t = tick + b * beat_ticks
            if t >= end or (nxt_sig is not None and t >= nxt_sig):
                break
            beats.append(GridBeat(seconds(t), bar, b, b == 0, b in m.strong_beats))
        tick = min(tick + bar_ticks, nxt_sig) if nxt_sig is not None else tick + bar_ticks
        bar += 1
    return beats, seconds(end)
