"""Held-out bits per note: order-2 Markov (shipped), order-4 n-gram, and the neural melody model.

``uv run python -m segue.style.neural_eval`` scores every melodic step of the 100 held-out works
(``data/heldout.json.gz``, split by work, never used in training) under each model and prints
the average of −log2 P(step) over all steps (lower is better). Steps are scale-degree steps
in the piece's found key, clipped to ±7, for all three models alike; the neural model also
sees the notes' metric positions and durations, the key family and the meter (no chords: the
held-out file stores only the melody).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def heldout_bits(neural=None, ngram=None, markov=None) -> dict[str, float | int]:
    from segue.style import load_heldout_pieces
    from segue.style.neural import softmax, forward
    from segue.style.neural_train import arrays_of_heldout, examples
    from segue.style.shipped import load_default, load_neural_melody, load_ngram4

    markov = markov or load_default().melody
    ngram = ngram or load_ngram4()
    neural = neural or load_neural_melody()
    arrays = arrays_of_heldout(load_heldout_pieces())
    totals = {"markov2": 0.0, "ngram4": 0.0, "neural": 0.0}
    n = 0
    for a in arrays:
        steps = [int(s) - 7 for s in a["step"][1:]]
        for i, s in enumerate(steps):
            k = s + 7
            totals["markov2"] -= float(np.log2(markov.step_probs(steps[:i])[k]))
            totals["ngram4"] -= float(np.log2(ngram.step_probs(steps[:i])[k]))
        b, y = examples([a])
        p = softmax(forward(neural.params, b).astype(np.float64))
        totals["neural"] -= float(np.log2(p[np.arange(len(y)), y]).sum())
        n += len(steps)
    return {**{k: v / n for k, v in totals.items()}, "steps": n, "pieces": len(arrays)}


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m segue.style.neural_eval", description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true", help="print JSON")
    ap.add_argument("--model", type=Path, help="a neural melody model file (default: the shipped one)")
    args = ap.parse_args(argv)
    neural = None
    if args.model is not None:
        from segue.style.shipped import neural_melody_from_file

        neural = neural_melody_from_file(args.model)
    r = heldout_bits(neural=neural)
    if args.json:
        print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()}))
        return 0
    print(f"held-out bits per note ({r['pieces']} works, {r['steps']} steps; lower is better)")
    print(f"  order-2 Markov (shipped)  {r['markov2']:.3f}")
    print(f"  order-4 n-gram            {r['ngram4']:.3f}")
    print(f"  neural                    {r['neural']:.3f}   ({r['neural'] - r['markov2']:+.3f} vs Markov)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
