"""Fine-tuning the neural melody model on a composer's folder: time, and does the result compose?

    uv run python benchmarks/bench_finetune.py [--files 30] [--folder DIR]

Without ``--folder`` it builds a folder of ``--files`` MIDI files from Bach chorales of the music21
corpus (public domain, part of the training material the model card lists; MIDI as a composer's DAW
would export it), then runs what ``segue train DIR --out M --style neural`` runs on 2 workers, prints
the wall time, the validation bits/note before and after, and composes 16 bars with the result.
Not a test: these machines are shared and noisy, so nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def chorale_folder(folder: Path, count: int) -> Path:
    from music21 import corpus

    folder.mkdir(parents=True, exist_ok=True)
    paths = sorted(str(p) for p in corpus.getComposer("bach") if str(p).endswith((".mxl", ".xml")))
    written = 0
    for p in paths:
        if written >= count:
            break
        try:
            corpus.parse(p).write("midi", fp=str(folder / f"{Path(p).name.split('.')[0]}_{written}.mid"))
            written += 1
        except Exception:  # noqa: BLE001 - a corpus file music21 cannot write is skipped
            continue
    return folder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=30)
    ap.add_argument("--folder", type=Path, help="fine-tune on this folder instead of building one")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    from segue.evaluation_run import example_specs, melody_piece
    from segue.pipeline import compose
    from segue.style import load_style
    from segue.style.neural_train import finetune

    with tempfile.TemporaryDirectory() as tmp:
        if args.folder is None:
            t = time.perf_counter()
            folder = chorale_folder(Path(tmp) / "bach", args.files)
            print(f"built {len(list(folder.iterdir()))} MIDI files from the music21 corpus in "
                  f"{time.perf_counter() - t:.0f} s")
        else:
            folder = args.folder
        out = Path(tmp) / "mine.bin.gz"
        t = time.perf_counter()
        meta = finetune(folder, out, workers=args.workers)
        wall = time.perf_counter() - t
        hist = meta["history"]
        print(f"fine-tuned in {wall:.0f} s wall ({meta['seconds_reading']:.0f} s reading {meta['files']} files): "
              f"{meta['training_pieces']} pieces, {meta['training_notes']} notes, {hist[-1]['steps']} steps; "
              f"validation bits/note {meta['valid_bits_before']} → "
              f"{min((h['valid_bits'] for h in hist), default=None)} ({meta['validation_pieces']} pieces)")
        style = load_style(out)
        spec = example_specs()[0]
        perf = compose(spec, bars=16, seed=1, style=style)
        print(f"composed 16 bars with {style.id}: {len(melody_piece(perf))} melody notes")


if __name__ == "__main__":
    main()
