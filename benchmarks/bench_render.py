"""Render speed and memory of the audio floor (a benchmark, not a test: timings are noisy).

Six layers of a plausible arrangement (melody, counter-melody, harmony, bass, drums, pad) at
120 bpm for ``--bars`` bars are rendered offline through the real path (LayerSynth → Mixer
with reverb and limiter → loudness normalisation). Prints seconds of audio per CPU second
(``time.process_time``: CPU, not wall clock, so a busy machine does not flatter or punish us)
for each stage, and peak memory (tracemalloc for Python/numpy allocations, ru_maxrss for the
process including TinySoundFont's C heap).

    uv run python benchmarks/bench_render.py [--bars 64] [--block 2048]
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
import tracemalloc
from pathlib import Path

import mido
import numpy as np
import tinysoundfont

from segue.audio import (
    LayerAudio, LayerSynth, Mixer, default_soundfont, normalise_loudness, render_layers, render_midi_file,
)
from segue.audio.render import BLOCK, schedule_notes
from segue.music import PPQ, Note, TempoMap

SR = 44100
C_MAJOR = [0, 2, 4, 5, 7, 9, 11]


def arrangement(bars: int, seed: int = 7) -> list[LayerAudio]:
    """Six layers with realistic densities (8ths, quarters, chords, 16th hats, a held pad)."""
    rng = np.random.default_rng(seed)
    tempo = TempoMap.constant(120.0, SR)
    bar = 4 * PPQ
    scale = [12 * octave + pc for octave in range(2, 8) for pc in C_MAJOR]

    def walk(low: int, high: int, step_ticks: int, count: int) -> list[Note]:
        pool = [p for p in scale if low <= p <= high]
        i = len(pool) // 2
        notes = []
        for k in range(count):
            i = int(np.clip(i + rng.integers(-2, 3), 0, len(pool) - 1))
            notes.append(Note(k * step_ticks, pool[i], step_ticks, int(rng.integers(60, 110))))
        return notes

    chords = []
    for b in range(bars):
        root = [0, 5, 7, 9][b % 4]
        for half in (0, 2 * PPQ):
            for third in (0, 4 if root in (0, 5, 7) else 3, 7):
                chords.append(Note(b * bar + half, 60 + (root + third) % 12, 2 * PPQ, 70))
    bass = [Note(b * bar + q * PPQ, 36 + [0, 5, 7, 9][b % 4], PPQ, 90) for b in range(bars) for q in range(4)]
    drums = []
    for b in range(bars):
        for s in range(16):
            t = b * bar + s * PPQ // 4
            drums.append(Note(t, 42, PPQ // 4, 70 if s % 2 else 90))  # closed hi-hat
            if s in (0, 8):
                drums.append(Note(t, 36, PPQ // 4, 110))  # kick
            if s in (4, 12):
                drums.append(Note(t, 38, PPQ // 4, 100))  # snare
    pad = [Note(b * bar, 48 + [0, 5, 7, 9][b % 4], bar, 60) for b in range(bars)]
    return [
        LayerAudio.from_notes("melody", walk(64, 88, PPQ // 2, bars * 8), tempo, program=73),
        LayerAudio.from_notes("counter", walk(55, 76, PPQ, bars * 4), tempo, program=40, gain_db=-3.0),
        LayerAudio.from_notes("harmony", chords, tempo, program=0, gain_db=-4.0),
        LayerAudio.from_notes("bass", bass, tempo, program=33),
        LayerAudio.from_notes("percussion", drums, tempo, program=0, is_drums=True, gain_db=-2.0),
        LayerAudio.from_notes("pad", pad, tempo, program=89, gain_db=-6.0),
    ]


def write_midi(layers: list[LayerAudio], path: Path) -> None:
    """The same arrangement as a type-1 MIDI file (one channel per layer, drums on channel 10)."""
    ppq, tempo = 480, 500_000
    per_sample = ppq / (SR * tempo / 1_000_000)  # ticks per sample at 120 bpm
    tracks = []
    melodic = iter(c for c in range(16) if c != 9)
    for layer in layers:
        channel = 9 if layer.is_drums else next(melodic)
        events = [(0, mido.Message("program_change", channel=channel, program=layer.program))]
        for on, off, pitch, velocity in layer.notes:
            events.append((round(on * per_sample), mido.Message("note_on", channel=channel, note=pitch, velocity=velocity)))
            events.append((round(off * per_sample), mido.Message("note_off", channel=channel, note=pitch)))
        events.sort(key=lambda e: (e[0], e[1].type == "note_on"))
        track, now = mido.MidiTrack(), 0
        for tick, message in events:
            track.append(message.copy(time=tick - now))
            now = tick
        tracks.append(track)
    mido.MidiFile(type=1, ticks_per_beat=ppq, tracks=tracks).save(path)


def reference_tinysoundfont(path: Path, seconds: float, block: int) -> None:
    """Reference renderer: TinySoundFont's own Synth + Sequencer playing the MIDI file (no bus,
    no normalisation, no file writing) — the floor our renderer's overhead is measured against."""
    synth = tinysoundfont.Synth(gain=-6.0, samplerate=SR)
    synth.sfload(str(default_soundfont()))
    sequencer = tinysoundfont.Sequencer(synth)
    sequencer.midi_load(str(path), persistent=False)  # persistent=True makes its Python loop quadratic
    for _ in range(0, int(seconds * SR), block):
        synth.generate(block)


def cpu(fn):
    start = time.process_time()
    result = fn()
    return result, time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=64)
    parser.add_argument("--block", type=int, default=BLOCK)
    args = parser.parse_args()
    layers = arrangement(args.bars)
    notes = sum(len(layer.notes) for layer in layers)

    # warm the soundfont cache so that parse time (once per process) is reported separately
    _, load_s = cpu(lambda: LayerSynth(program=0))

    def synth_only() -> int:
        synths = []
        for layer in layers:
            s = LayerSynth(program=layer.program, is_drums=layer.is_drums)
            schedule_notes(s, layer.notes)
            synths.append(s)
        frames = max(n[1] for layer in layers for n in layer.notes) + 2 * SR
        for start in range(0, frames, args.block):
            for s in synths:
                s.render(min(args.block, frames - start))
        return frames

    frames, synth_s = cpu(synth_only)
    audio_s = frames / SR

    def bus_only() -> None:
        mixer = Mixer([layer.name for layer in layers], SR, reverb=0.25)
        rng = np.random.default_rng(0)
        block = (rng.standard_normal((args.block, 2)) * 0.05).astype(np.float32)
        for _ in range(0, frames, args.block):
            mixer.process({layer.name: block for layer in layers})

    _, bus_s = cpu(bus_only)

    result, total_s = cpu(lambda: render_layers(layers, SR, keep_stems=False, block=args.block))
    # a second, traced run for memory only (tracemalloc slows allocation-heavy code down)
    tracemalloc.start()
    render_layers(layers, SR, keep_stems=False, block=args.block)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    _, norm_s = cpu(lambda: normalise_loudness(result.mix, SR))

    with tempfile.TemporaryDirectory() as tmp:
        midi = Path(tmp) / "arrangement.mid"
        write_midi(layers, midi)
        _, reference_s = cpu(lambda: reference_tinysoundfont(midi, audio_s, args.block))
        _, midi_s = cpu(lambda: render_midi_file(midi, Path(tmp) / "arrangement.wav"))

    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"audio floor render benchmark — 6 layers, {args.bars} bars at 120 bpm = {audio_s:.1f} s of audio, "
          f"{notes} notes, block {args.block}, {os.cpu_count()} cpus visible, single-threaded")
    print(f"  soundfont parse (once per process): {load_s * 1000:8.1f} ms")
    print(f"  synth only (6 LayerSynths):         {audio_s / synth_s:8.1f} × real time")
    print(f"  bus only (faders+reverb+limiter):   {audio_s / bus_s:8.1f} × real time")
    print(f"  normalisation only (meter+limit):   {audio_s / norm_s:8.1f} × real time")
    print(f"  full render (synth+bus+normalise):  {audio_s / total_s:8.1f} × real time   ({total_s:.2f} CPU s)")
    print(f"  same music as a MIDI file: segue render {audio_s / midi_s:6.1f} × real time (incl. WAV writing) vs "
          f"TinySoundFont's own Sequencer {audio_s / reference_s:6.1f} × (synthesis only) → ratio "
          f"{reference_s / midi_s:.2f}")
    print(f"  result: {result.report['lufs_after']:.2f} LUFS, peak {result.report['peak_dbfs']:.2f} dBFS, "
          f"bus limiter {result.report['bus_limiter_reduction_db']:.2f} dB, "
          f"normalisation limiter {result.report['limiter_reduction_db']:.2f} dB")
    print(f"  peak memory: traced (Python+numpy) {traced_peak / 2**20:.1f} MiB during the full render; "
          f"process max RSS {rss_mb:.1f} MiB (mix alone is {result.mix.nbytes / 2**20:.1f} MiB)")


if __name__ == "__main__":
    main()
