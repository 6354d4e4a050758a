"""MIDI export: Segue's direct encoder against mido's writer on the same pieces (byte-identical files).

    uv run python benchmarks/bench_midi_writer.py [--minutes 1 5 30]

Each piece is composed once from ``examples/fantasy_game.yaml``; both writers then encode it (CPU s,
best of 3). mido's path is ``build_midi(perf).save()`` (checked ``mido.Message`` objects, then mido's
track writer); the direct one is ``midi_bytes(perf)``, which ``write_midi`` uses.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from segue.export.midi import build_midi, midi_bytes  # noqa: E402
from segue.pipeline import compose  # noqa: E402
from segue.spec import load_spec  # noqa: E402


def best(fn, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        t = time.process_time()
        fn()
        times.append(time.process_time() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, nargs="+", default=[1.0, 5.0, 30.0])
    args = ap.parse_args()
    spec = load_spec(ROOT / "examples" / "fantasy_game.yaml")
    print("MIDI export — examples/fantasy_game.yaml, CPU seconds (best of 3)")
    print(f"  {'minutes':>7s} {'notes':>7s} {'bytes':>9s} {'mido':>8s} {'direct':>8s} {'speed-up':>9s} {'identical':>9s}")
    for minutes in args.minutes:
        perf = compose(spec, seconds=minutes * 60, seed=3)
        notes = sum(len(v) for v in perf.notes_by_layer().values())

        def with_mido() -> bytes:
            buf = io.BytesIO()
            build_midi(perf).save(file=buf)
            return buf.getvalue()

        same = with_mido() == midi_bytes(perf)
        t_mido, t_direct = best(with_mido), best(lambda: midi_bytes(perf))
        print(f"  {minutes:7.0f} {notes:7d} {len(midi_bytes(perf)):9d} {t_mido:7.3f}s {t_direct:7.3f}s "
              f"{t_mido / t_direct:8.1f}× {'yes' if same else 'NO':>9s}")


if __name__ == "__main__":
    main()
