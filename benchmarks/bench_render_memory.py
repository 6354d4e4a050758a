"""Peak memory of `segue render IN.mid --out OUT.wav` (the whole process) against the length of the piece.

    uv run python benchmarks/bench_render_memory.py [--minutes 1 20 120]

Each MIDI file is composed from ``examples/fantasy_game.yaml`` (seed 3) and written once; then
``segue render`` runs in a fresh process per file and its peak resident memory (``ru_maxrss`` of that
child, from ``os.wait4``) and CPU time are printed. The render streams to disk (``segue.audio.spool``):
the mix goes into a temporary float32 file, loudness is measured by reading it back, and the final
pass writes the .wav — so memory should not grow with length.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from segue.export.midi import write_midi  # noqa: E402
from segue.pipeline import compose  # noqa: E402
from segue.spec import load_spec  # noqa: E402


def run_measured(cmd: list[str]) -> tuple[int, float, float, float]:
    """(exit status, peak RSS MiB, CPU s, wall s) of one child process."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        sys.stderr.write(proc.stderr.read().decode(errors="replace")[-2000:] if proc.stderr else "")
    return proc.returncode, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime, wall


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
            write_midi(compose(spec, seconds=minutes * 60, seed=3), mid)
            rc, rss, cpu, wall = run_measured(segue + ["render", str(mid), "--out", str(wav)])
            size = wav.stat().st_size / 2**20 if wav.exists() else 0.0
            print(f"  {minutes:7.0f} {mid.stat().st_size:10d} {size:8.0f} {rss:7.0f} MiB {cpu:7.1f} {wall:7.1f} "
                  f"{minutes * 60 / max(cpu, 1e-9):11.1f}" + (f"  FAILED (exit {rc})" if rc else ""))
            wav.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
