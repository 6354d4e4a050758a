"""Choose the neural style's composing settings on a validation split of the *training* works.

``segue eval`` judges the composer's melodies against the 100 held-out works. Settings that only
matter while composing (how sharp the model's probabilities are, whether it is given the chord)
must not be chosen there, or the held-out report flatters them. This module runs the same §2
comparison (the same example specs, moods, piece lengths drawn from the reference, the same
overlapped-area metrics) against the validation works instead: the 5 % of the training works that
:func:`segue.style.neural_train.split_valid` keeps out of gradient descent (split by work, by a
hash of the work's name), with the held-out set's own rule of at least 16 notes.

``uv run python -m segue.style.neural_validate --pieces-cache P [--temperature 1.0 1.4] [--top-p 0.9 1.0] [--chords 0 1]``
prints the table for Markov and for every setting; nothing here reads the held-out file.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import pickle
import sys
from collections.abc import Sequence
from pathlib import Path

from segue.style.heldout import MIN_NOTES


def validation_reference(used) -> list[list[tuple[int, float, float]]]:
    """Melodies of the validation works (training works that gradient descent never saw)."""
    from segue.style.neural_train import DEFAULTS, split_valid

    _, valid = split_valid(used, DEFAULTS["valid_share"])
    return [[(int(p), float(o), float(d)) for p, o, d in w.notes] for w in valid if len(w.notes) >= MIN_NOTES]


def judged_metrics() -> list[str]:
    from segue.evaluate.metrics import METRIC_NAMES
    from segue.evaluate.plausibility import MATCHED_BY_CONSTRUCTION

    return [m for m in METRIC_NAMES if m not in MATCHED_BY_CONSTRUCTION]


def validation_table(style_model, reference, pieces: int = 60, seed: int = 7) -> dict:
    """The §2 plausibility table of ``style_model``'s pieces against ``reference`` (validation melodies)."""
    from segue.evaluate import plausibility_table
    from segue.evaluation_run import example_specs, generate_pieces, reference_lengths

    generated, _ = generate_pieces(example_specs(), reference_lengths(reference), pieces, seed, style_model,
                                   check=False)
    return plausibility_table(generated, reference, seed=seed)


def neural_variant(style, **settings):
    """The neural style with other composing settings (``heat``, ``conditions_on_chords`` …)."""
    melody = dataclasses.replace(style.melody, _cache={}, **settings)
    return dataclasses.replace(style, melody=melody)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m segue.style.neural_validate", description=__doc__.split("\n\n")[0])
    ap.add_argument("--pieces-cache", type=Path, help="pickle of (training, held-out) pieces from neural_train")
    ap.add_argument("--model", type=Path, help="a neural melody model file (default: the shipped one)")
    ap.add_argument("--temperature", type=float, nargs="*", default=[])
    ap.add_argument("--top-p", type=float, nargs="*", default=[])
    ap.add_argument("--chords", type=int, nargs="*", default=[])
    ap.add_argument("--pieces", type=int, default=60)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--no-markov", action="store_true")
    args = ap.parse_args(argv)
    from segue.style import load_default, load_style
    from segue.style.neural_train import corpus_pieces

    if args.pieces_cache is not None and args.pieces_cache.is_file():
        used, _ = pickle.loads(args.pieces_cache.read_bytes())
    else:
        used, _ = corpus_pieces()
    reference = validation_reference(used)
    neural = load_style("neural")
    if args.model is not None:
        from segue.style.shipped import neural_melody_from_file

        neural = dataclasses.replace(neural, melody=neural_melody_from_file(args.model))
    rows: dict[str, dict] = {}
    if not args.no_markov:
        rows["markov"] = validation_table(load_default(), reference, args.pieces, args.seed)
    heat = neural.melody.heat
    temps = args.temperature or [heat.base]
    nuclei = args.top_p or [heat.top_p]
    chords = args.chords or [int(neural.melody.conditions_on_chords)]
    for c in chords:
        for t in temps:
            for tp in nuclei:
                name = f"neural T={t:g} p={tp:g} chords={c}"
                variant = neural_variant(neural, heat=dataclasses.replace(heat, base=t, top_p=tp),
                                         conditions_on_chords=bool(c))
                rows[name] = validation_table(variant, reference, args.pieces, args.seed)
                print(name, json.dumps({m: round(rows[name][m]["ours"], 3) for m in judged_metrics()}),
                      file=sys.stderr, flush=True)
    metrics = judged_metrics()
    print(f"validation works: {len(reference)}; pieces per row: {args.pieces}; OA, higher is better")
    print(f"{'':28}" + "".join(f"{m[:12]:>13}" for m in metrics))
    for name, t in rows.items():
        print(f"{name:28}" + "".join(f"{t[m]['ours']:13.3f}" for m in metrics))
    print(f"{'(means) reference':28}" + "".join(f"{t[m]['ref_mean']:13.3f}" for m in metrics))
    for name, t in rows.items():
        print(f"{'(means) ' + name:28}" + "".join(f"{t[m]['ours_mean']:13.3f}" for m in metrics))
    return 0


if __name__ == "__main__":
    sys.exit(main())
