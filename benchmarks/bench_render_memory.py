"""Peak memory of `segue render IN.mid --out OUT.wav` (the whole process) against the length of the piece.

    uv run python benchmarks/bench_render_memory.py [--minutes 1 20 120]

Each MIDI file is composed from ``examples/fantasy_game.yaml`` (seed 3; beyond 20 minutes the 20-minute
composition is repeated) and written once; then
``segue render`` runs in a fresh process per file and its peak resident memory (``ru_maxrss`` of that
child, from ``os.wait4`` in a small launcher: see ``bench_peers.measured``) and CPU time are printed. The render streams to disk (``segue.audio.spool``):
the mix goes into a temporary float32 file, loudness is measured by reading it back, and the final
pass writes the .wav — so memory should not grow with length.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import mido

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from bench_peers import measured  # noqa: E402
from segue.export.midi import write_midi  # noqa: E402
from segue.pipeline import compose  # noqa: E402
from segue.spec import load_spec  # noqa: E402


COMPOSED_MINUTES = 20.0
"""Longer files repeat a 20-minute composition (composing two hours would take longer than rendering them)."""


def midi_file(spec: object, minutes: float, path: Path) -> None:
    """A MIDI file of about ``minutes``: composed, or a 20-minute composition played over as often as needed."""
    if minutes <= COMPOSED_MINUTES:
        write_midi(compose(spec, seconds=minutes * 60, seed=3), path)
        return
    write_midi(compose(spec, seconds=COMPOSED_MINUTES * 60, seed=3), path)
    mid = mido.MidiFile(path)
    times = int(round(minutes / COMPOSED_MINUTES))
    for i, track in enumerate(mid.tracks):
        body, tail = list(track[:-1]), track[-1].time  # every track ends on the same tick (end_of_track)
        out = mido.MidiTrack()
        for k in range(times):
            for j, msg in enumerate(body):
                out.append(msg.copy(time=msg.time + tail) if k and j == 0 else msg)
        out.append(mido.MetaMessage("end_of_track", time=tail))
        mid.tracks[i] = out
    mid.save(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, nargs="+", default=[1.0, 20.0, 120.0])
    args = ap.parse_args()
    spec = load_spec(ROOT / "examples" / "fantasy_game.yaml")
    segue = [sys.executable, "-c", "from segue.cli import main; main()"]
    print("segue render IN.mid --out OUT.wav, whole process (a fresh one per file): peak RSS and CPU")
    print(f"  {'minutes':>7s} {'MIDI bytes':>10s} {'WAV MiB':>8s} {'peak RSS':>10s} {'cpu s':>7s} {'wall s':>7s} "
          f"{'× real time':>11s}")
    with tempfile.TemporaryDirectory() as tmp:
        for minutes in args.minutes:
            mid, wav = Path(tmp) / f"{minutes:g}min.mid", Path(tmp) / f"{minutes:g}min.wav"
            midi_file(spec, minutes, mid)
            t = time.perf_counter()
            rc, cpu, rss, err = measured(segue + ["render", str(mid), "--out", str(wav)])
            wall = time.perf_counter() - t
            size = wav.stat().st_size / 2**20 if wav.exists() else 0.0
            print(f"  {minutes:7.0f} {mid.stat().st_size:10d} {size:8.0f} {rss:7.0f} MiB {cpu:7.1f} {wall:7.1f} "
                  f"{minutes * 60 / max(cpu, 1e-9):11.1f}" + (f"  FAILED (exit {rc}): {err}" if rc else ""))
            wav.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
