"""Train the neural melody model (numpy only, deterministic) and the order-4 n-gram baseline.

``uv run python -m segue.style.neural_train`` reads the same music21 collections as the Markov
style (same duplicates dropped, same 100 held-out works kept out), turns every melody into
note-by-note training examples, trains :mod:`segue.style.neural` with Adam, keeps the epoch that
is best on a validation split (5 % of the training *works*, never fragments), and writes
``data/neural.bin.gz`` and ``data/ngram4.json.gz``. Same seed and same files → same weights.
Melody-only tunes get the chords their melody implies (:func:`melody_chords`). :func:`finetune`
goes on training the shipped weights on a composer's folder (``segue train DIR --out M --style neural``).
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import platform
import sys
import time
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from segue.music import Key
from segue.style.analysis import diatonic_index, step_index
from segue.style.errors import StyleError
from segue.style.features import span_weights
from segue.style.neural import (
    CONTEXT, FAMILY_INDEX, UNK_CHORD, UNK_DEG, UNK_DENS, UNK_DUR, UNK_FAM, UNK_POS, UNK_STEP, Batch,
    backward, dens_class, dur_class, forward, grid_of, init_params, pos_class, save_neural, softmax, step_token,
)

NEURAL_FILE = "neural.bin.gz"
NGRAM_FILE = "ngram4.json.gz"
EPS = 1e-6
DEFAULTS = {"hidden": 256, "epochs": 4, "batch": 256, "lr": 2e-3, "seed": 20240607, "steps_only": 0.12,
            "valid_share": 0.05, "chord_drop": 0.5}
COMPOSE = {"temperature": 1.0, "temperature_tension": 0.5, "temperature_density": 0.3, "top_p": 0.9,
           "top_p_tension": 0.1, "conditions_on_chords": True}
"""Composing settings stored in the model file (:func:`segue.style.sampling.heat_from`): chosen with
:mod:`segue.style.neural_validate` on the validation works (never on the held-out works)."""


# ---------------------------------------------------------------- examples


def piece_arrays(notes: Sequence[tuple[int, float, float]], key_name: str | None, meter: str,
                 chords: Sequence[int | None] = (), chord_beat0: int | None = None) -> dict[str, np.ndarray] | None:
    """Per-note features of one melody (see :mod:`segue.style.neural`), or None if it cannot be read."""
    if len(notes) < 2:
        return None
    try:
        key = Key.parse(key_name) if key_name else Key(0, "major")
        num, den = (int(x) for x in meter.split("/"))
    except (ValueError, AttributeError):
        return None
    grid = grid_of(num, den)
    deg_abs = [diatonic_index(p, key) for p, _, _ in notes]
    bars = [int(math.floor(o / grid.bar + EPS)) for _, o, _ in notes]
    per_bar: dict[int, int] = {}
    for b in bars:
        per_bar[b] = per_bar.get(b, 0) + 1
    chord_of = [UNK_CHORD] * len(notes)
    if chords:
        first = int(math.floor(notes[0][1] / grid.beat + EPS))
        if chord_beat0 is None or first % grid.beats_per_bar == chord_beat0:
            for i, (_, o, _) in enumerate(notes):
                k = int(math.floor(o / grid.beat + EPS)) - first
                if 0 <= k < len(chords) and chords[k] is not None:
                    chord_of[i] = int(chords[k])
    return {
        "step": np.array([UNK_STEP] + [step_token(b - a) for a, b in zip(deg_abs, deg_abs[1:])], dtype=np.int8),
        "deg": np.array([d % 7 for d in deg_abs], dtype=np.int8),
        "dur": np.array([dur_class(d, grid) for _, _, d in notes], dtype=np.int8),
        "pos": np.array([pos_class(o, grid) for _, o, _ in notes], dtype=np.int8),
        "dens": np.array([dens_class(per_bar[b], grid) for b in bars], dtype=np.int8),
        "chord": np.array(chord_of, dtype=np.int8),
        "fam": np.int8(FAMILY_INDEX.get(key.family, UNK_FAM) if key_name else UNK_FAM),
        "meter": np.int8(grid.meter_kind),
    }


def harmony_span(grid) -> int:
    """Beats per implied chord of a melody-only tune: half a bar in 4/4 and 12/8, a beat in 2/4 and 6/8,
    a bar in 3/4 and 9/8 (the usual harmonic rhythm of a dance tune)."""
    if grid.beats_per_bar == 2:
        return 1
    if grid.beats_per_bar % 2 == 0:
        return grid.beats_per_bar // 2
    return grid.beats_per_bar


def melody_chords(notes: Sequence[tuple[int, float, float]], key_name: str | None, meter: str) -> list[int | None]:
    """The harmony a bare melody implies: one diatonic triad per :func:`harmony_span`, per beat.

    The same chord fitting as the chorales' (:func:`segue.style.analysis.fit_triad`), fed only with
    the melody: how long each pitch class sounds in the span and which one sounds at its start.
    Returned per beat (beat 0 = the beat of the first note), like :attr:`PieceStats.chords`.
    """
    from segue.style.analysis import fit_triad

    if len(notes) < 2 or not key_name:
        return []
    try:
        key = Key.parse(key_name)
        num, den = (int(x) for x in meter.split("/"))
    except (ValueError, AttributeError):
        return []
    grid = grid_of(num, den)
    span = harmony_span(grid) * grid.beat
    weights, at_start = span_weights(notes, span)
    fits = {k: fit_triad(w, at_start.get(k, np.zeros(12)), key) for k, w in weights.items()}
    first = int(math.floor(notes[0][1] / grid.beat + EPS))
    last = int(math.floor((notes[-1][1] + notes[-1][2]) / grid.beat - EPS))
    out: list[int | None] = []
    for beat in range(first, last + 1):
        f = fits.get(int(math.floor(beat * grid.beat / span + EPS)))
        out.append(None if f is None else f.degree)
    return out


def examples(arrays: Sequence[dict[str, np.ndarray]]) -> tuple[Batch, np.ndarray]:
    """Every note after the first of every melody as one prediction: (inputs, target step 0..14)."""
    cols: dict[str, list] = {k: [] for k in ("cs", "cd", "cu", "cp", "pos", "dur", "dens", "chord", "fam", "meter", "y")}
    for a in arrays:
        n = len(a["step"])
        pad = CONTEXT
        # prepend CONTEXT unknown notes so that every window is a plain slice
        st = np.concatenate([np.full(pad, UNK_STEP, np.int8), a["step"]])
        dg = np.concatenate([np.full(pad, UNK_DEG, np.int8), a["deg"]])
        du = np.concatenate([np.full(pad, UNK_DUR, np.int8), a["dur"]])
        po = np.concatenate([np.full(pad, UNK_POS, np.int8), a["pos"]])
        idx = np.arange(1, n)  # target notes
        # slot j = note i-1-j → padded index pad+i-1-j
        win = (pad + idx - 1)[:, None] - np.arange(CONTEXT)[None, :]
        cols["cs"].append(st[win])
        cols["cd"].append(dg[win])
        cols["cu"].append(du[win])
        cols["cp"].append(po[win])
        cols["pos"].append(a["pos"][idx])
        cols["dur"].append(a["dur"][idx])
        cols["dens"].append(a["dens"][idx])
        cols["chord"].append(a["chord"][idx])
        cols["fam"].append(np.full(n - 1, a["fam"], np.int8))
        cols["meter"].append(np.full(n - 1, a["meter"], np.int8))
        cols["y"].append(a["step"][idx])
    cat = {k: np.concatenate(v).astype(np.int64) for k, v in cols.items()}
    b = Batch(cat["cs"], cat["cd"], cat["cu"], cat["cp"], cat["pos"], cat["dur"], cat["dens"], cat["chord"],
              cat["fam"], cat["meter"])
    return b, cat["y"]


def steps_only(b: Batch, rows: np.ndarray) -> None:
    """Hide everything but the steps for ``rows`` (so that ``step_probs(prev_steps)`` is trained too)."""
    b.ctx_deg[rows] = UNK_DEG
    b.ctx_dur[rows] = UNK_DUR
    b.ctx_pos[rows] = UNK_POS
    b.cur_pos[rows] = UNK_POS
    b.cur_dur[rows] = UNK_DUR
    b.cur_dens[rows] = UNK_DENS
    b.cur_chord[rows] = UNK_CHORD
    b.fam[rows] = UNK_FAM
    b.meter[rows] = 3


def _copy(b: Batch) -> Batch:
    return Batch(*(getattr(b, f).copy() for f in b.__dataclass_fields__))


# ---------------------------------------------------------------- training loop


def bits_per_note(params: dict[str, np.ndarray], b: Batch, y: np.ndarray, chunk: int = 4096) -> float:
    total = 0.0
    for s in range(0, len(y), chunk):
        idx = np.arange(s, min(s + chunk, len(y)))
        p = softmax(forward(params, b.take(idx)).astype(np.float64))
        total += float(-np.log2(p[np.arange(len(idx)), y[idx]]).sum())
    return total / max(len(y), 1)


def fit(train: tuple[Batch, np.ndarray], valid: tuple[Batch, np.ndarray] | None, *, hidden: int, epochs: int,
        batch: int, lr: float, seed: int, steps_only_share: float, chord_drop: float = 0.0,
        log: Callable[[str], None] | None = None, max_steps: int | None = None,
        params: dict[str, np.ndarray] | None = None) -> tuple[dict[str, np.ndarray], list[dict]]:
    """Adam on the cross-entropy; returns the parameters of the best validation epoch and the history."""
    rng = np.random.default_rng(seed)
    p = init_params(hidden, seed) if params is None else {k: v.copy() for k, v in params.items()}
    m = {k: np.zeros_like(v) for k, v in p.items()}
    v2 = {k: np.zeros_like(v) for k, v in p.items()}
    b1, b2, eps = 0.9, 0.999, 1e-8
    xb, y = train
    n = len(y)
    per_epoch = max(1, n // batch)
    total = per_epoch * epochs if max_steps is None else min(max_steps, per_epoch * epochs)
    t = 0
    best, best_bits = None, math.inf
    history: list[dict] = []
    for epoch in range(epochs):
        order = rng.permutation(n)
        run_loss, run_n = 0.0, 0
        for s in range(per_epoch):
            if t >= total:
                break
            idx = order[s * batch:(s + 1) * batch]
            bb = xb.take(idx)
            hide = np.nonzero(rng.random(len(idx)) < steps_only_share)[0]
            if len(hide):
                steps_only(bb, hide)
            if chord_drop > 0:
                # some notes see no chord, so that "chord unknown" (the held-out melodies, a bare motif) stays trained
                bb.cur_chord[rng.random(len(idx)) < chord_drop] = UNK_CHORD
            logits, cache = forward(p, bb, keep=True)
            prob = softmax(logits)
            yy = y[idx]
            rows = np.arange(len(idx))
            run_loss += float(-np.log(prob[rows, yy] + 1e-12).sum())
            run_n += len(idx)
            dl = prob
            dl[rows, yy] -= 1.0
            dl /= len(idx)
            g = backward(p, bb, cache, dl.astype(np.float32))
            t += 1
            # linear warm-up (200 steps, or a tenth of a short run), cosine decay to 5 % of lr
            frac = t / total
            rate = lr * min(1.0, t / max(1, min(200, total // 10))) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac)))
            c1, c2 = 1 - b1 ** t, 1 - b2 ** t
            for k in p:
                gk = g[k]
                m[k] *= b1
                m[k] += (1 - b1) * gk
                v2[k] *= b2
                v2[k] += (1 - b2) * gk * gk
                p[k] -= (rate * (m[k] / c1) / (np.sqrt(v2[k] / c2) + eps)).astype(np.float32)
        rec = {"epoch": epoch + 1, "steps": t, "train_bits": round(run_loss / max(run_n, 1) / math.log(2), 4)}
        if valid is not None:
            vb = bits_per_note(p, *valid)
            rec["valid_bits"] = round(vb, 4)
            if vb < best_bits:
                best_bits, best = vb, {k: v.copy() for k, v in p.items()}
        history.append(rec)
        if log:
            log(json.dumps(rec))
        if t >= total:
            break
    return (best if best is not None else p), history


# ---------------------------------------------------------------- order-4 n-gram baseline


def count_ngrams(step_lists: Sequence[Sequence[int]], order: int = 4) -> dict[str, list[int]]:
    """Counts of (up to order−1 previous steps) → next step, every context length 0..order−1."""
    table: dict[tuple, np.ndarray] = {}
    for steps in step_lists:
        s = [step_index(x) for x in steps]
        for i, nxt in enumerate(s):
            for k in range(order):
                if i - k < 0:
                    break
                ctx = tuple(s[i - k:i])
                row = table.get(ctx)
                if row is None:
                    row = table[ctx] = np.zeros(15, dtype=np.int64)
                row[nxt] += 1
    return {",".join(map(str, k)): v.tolist() for k, v in sorted(table.items())}


class NGram:
    """Order-n step model with the same back-off smoothing as the Markov chain (add-k, then Dirichlet)."""

    def __init__(self, counts: dict[str, list[int]], order: int = 4, add_k: float = 0.5, backoff: float = 4.0):
        self.order, self.add_k, self.backoff = order, add_k, backoff
        self.table = {tuple(int(x) for x in k.split(",")) if k else (): np.array(v, dtype=float)
                      for k, v in counts.items()}

    def step_probs(self, prev_steps: Sequence[int]) -> np.ndarray:
        uni = self.table[()] + self.add_k
        p = uni / uni.sum()
        s = [step_index(int(x)) for x in prev_steps]
        for k in range(1, self.order):
            if len(s) < k:
                break
            c = self.table.get(tuple(s[-k:]))
            if c is None:
                break
            p = (c + self.backoff * p) / (c.sum() + self.backoff)
        return p


def save_ngram(path: Path, counts: dict[str, list[int]], meta: dict) -> None:
    text = json.dumps({"format": "segue-ngram/1", "order": 4, "counts": counts, "meta": meta},
                      sort_keys=True, separators=(",", ":"))
    path.write_bytes(gzip.compress(text.encode(), compresslevel=9, mtime=0))


def load_ngram(path: Path) -> NGram:
    d = json.loads(gzip.decompress(path.read_bytes()).decode())
    return NGram(d["counts"], int(d["order"]))


# ---------------------------------------------------------------- the command


def corpus_pieces(workers: int = 2, limit: int | None = None):
    """The training and held-out pieces exactly as :func:`segue.style.training.train` splits them."""
    from segue.style.corpus import default_files
    from segue.style.heldout import HELDOUT_COUNT, HELDOUT_SEED, choose_heldout
    from segue.style.training import _drop_duplicates, _run, _subset

    files = _subset(default_files(), limit)
    results = _run(files, max(1, workers), None)
    pieces = [p for _, stats, _ in results for p in stats]
    if not pieces:
        raise StyleError("no readable pieces in the music21 corpus")
    pieces, _ = _drop_duplicates(pieces)
    held = set(choose_heldout(pieces, HELDOUT_COUNT, HELDOUT_SEED))
    return [p for p in pieces if p.ident not in held], [p for p in pieces if p.ident in held]


def split_valid(pieces, share: float):
    """Validation works: a fixed hash of the work's name (independent of order and of the run)."""
    valid = [p for p in pieces if zlib.crc32(p.ident.encode()) % 1000 < share * 1000]
    train = [p for p in pieces if zlib.crc32(p.ident.encode()) % 1000 >= share * 1000]
    return train, valid


def arrays_of(pieces, implied_chords: bool = True) -> list[dict[str, np.ndarray]]:
    """Per-note features of training pieces; a melody-only tune gets the chords its melody implies."""
    out = []
    for p in pieces:
        if p.chords:
            a = piece_arrays(p.notes, p.key, p.meter, p.chords, p.chord_beat0)
        elif implied_chords:
            a = piece_arrays(p.notes, p.key, p.meter, melody_chords(p.notes, p.key, p.meter), None)
        else:
            a = piece_arrays(p.notes, p.key, p.meter)
        if a is not None:
            out.append(a)
    return out


def arrays_of_heldout(pieces) -> list[dict[str, np.ndarray]]:
    """Per-note features of the shipped held-out pieces (melody, key and meter only: no chords)."""
    out = []
    for p in pieces:
        a = piece_arrays([tuple(n) for n in p["notes"]], p.get("key"), p.get("meter", "4/4"))
        if a is not None:
            out.append(a)
    return out


FINETUNE = {"epochs": 8, "max_steps": 4000, "lr": 5e-4, "batch": 128, "valid_share": 0.1, "seed": 20240607}


def finetune(source: str | Path, out: Path, *, base: Path | None = None, workers: int = 2,
             epochs: int | None = None, max_steps: int | None = None, lr: float | None = None,
             seed: int | None = None, progress: Callable[[int, int], None] | None = None,
             log: Callable[[str], None] | None = None) -> dict:
    """Fine-tune the neural melody model on a folder of a composer's music; write it to ``out``.

    Starts from ``base`` (default: the shipped weights) and goes on with Adam at a small learning
    rate over the folder's melodies (bare melodies get the chords they imply, as in training).
    With ten works or more, a tenth of them (by a hash of the file name) pick the best epoch;
    otherwise the last epoch is kept. Deterministic: same folder, base and seed → same bytes.
    The composing settings (temperature, top-p, chords) are the base model's. Returns the manifest stored
    in the file. Raises StyleError when the folder holds no usable melody.
    """
    from segue.style.corpus import folder_files
    from segue.style.neural import load_neural_bytes
    from segue.style.shipped import NEURAL_FILE as SHIPPED, _packaged
    from segue.style.training import _drop_duplicates, _run

    epochs = int(FINETUNE["epochs"] if epochs is None else epochs)
    max_steps = int(FINETUNE["max_steps"] if max_steps is None else max_steps)
    lr = float(FINETUNE["lr"] if lr is None else lr)
    seed = int(FINETUNE["seed"] if seed is None else seed)
    t0 = time.perf_counter()
    files = folder_files(source)
    results = _run(files, max(1, int(workers)), progress)
    pieces = [p for _, stats, _ in results for p in stats]
    skipped = [reason for _, _, reason in results if reason is not None]
    if not pieces:
        first = f" (first problem: {skipped[0]})" if skipped else ""
        raise StyleError(f"no usable music files in {source}: {len(files)} tried, none could be read{first}")
    pieces, duplicates = _drop_duplicates(pieces)
    raw = base.read_bytes() if base is not None else _packaged(SHIPPED, "the neural melody model",
                                                              "python -m segue.style.neural_train")
    params, base_meta = load_neural_bytes(raw, str(base or "shipped neural melody model"))
    tr, va = split_valid(pieces, FINETUNE["valid_share"]) if len(pieces) >= 10 else (pieces, [])
    train_arrays = arrays_of(tr)
    if not train_arrays:
        raise StyleError(f"no melody with two notes or more in {source}")
    train_set = examples(train_arrays)
    valid_arrays = arrays_of(va, implied_chords=False)
    valid_set = examples(valid_arrays) if valid_arrays else None
    base_bits = bits_per_note(params, *valid_set) if valid_set is not None else None
    t_read = time.perf_counter() - t0
    batch = int(min(FINETUNE["batch"], max(16, len(train_set[1]) // 8)))
    new, history = fit(train_set, valid_set, hidden=params["W1"].shape[1], epochs=epochs, batch=batch, lr=lr,
                       seed=seed, steps_only_share=DEFAULTS["steps_only"], chord_drop=DEFAULTS["chord_drop"],
                       log=log, max_steps=max_steps, params=params)
    if base_bits is not None and history and min(h["valid_bits"] for h in history) > base_bits:
        new = params  # fine-tuning never made the validation works likelier: keep the base weights
    from segue.style.neural import weights_sha256

    meta = {
        "finetuned_from": weights_sha256(params), "source": str(source),
        "compose": base_meta.get("compose", {}),
        "hyper": {"epochs": epochs, "max_steps": max_steps, "lr": lr, "batch": batch, "seed": seed,
                  "valid_share": FINETUNE["valid_share"], "steps_only": DEFAULTS["steps_only"],
                  "chord_drop": DEFAULTS["chord_drop"]},
        "history": history, "valid_bits_before": None if base_bits is None else round(base_bits, 4),
        "files": len(files), "skipped": len(skipped), "duplicates": len(duplicates),
        "training_pieces": len(tr), "validation_pieces": len(va), "training_notes": int(len(train_set[1])),
        "seconds": round(time.perf_counter() - t0, 1), "seconds_reading": round(t_read, 1),
    }
    save_neural(out, new, meta)
    return meta


def set_compose(path: Path, compose: dict) -> None:
    """Rewrite the composing settings stored in a model file; the weights (and their sha256) stay as they are.

    Why: the settings are chosen on the validation works after training, and choosing them again must
    not need (or change) a 10-minute training run.
    """
    from segue.style.neural import load_neural_bytes

    params, meta = load_neural_bytes(Path(path).read_bytes(), str(path))
    save_neural(Path(path), params, {**meta, "compose": dict(compose)})


def main(argv: Sequence[str] | None = None) -> int:
    here = Path(__file__).resolve().parent / "data"
    ap = argparse.ArgumentParser(prog="python -m segue.style.neural_train", description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=here / NEURAL_FILE)
    ap.add_argument("--ngram-out", type=Path, default=here / NGRAM_FILE)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--limit", type=int, help="read only this many files (quick trials)")
    ap.add_argument("--epochs", type=int, default=DEFAULTS["epochs"])
    ap.add_argument("--hidden", type=int, default=DEFAULTS["hidden"])
    ap.add_argument("--batch", type=int, default=DEFAULTS["batch"])
    ap.add_argument("--lr", type=float, default=DEFAULTS["lr"])
    ap.add_argument("--seed", type=int, default=DEFAULTS["seed"])
    ap.add_argument("--chord-drop", type=float, default=DEFAULTS["chord_drop"],
                    help="share of training notes shown without their chord")
    ap.add_argument("--no-implied-chords", action="store_true",
                    help="train melody-only tunes without the chords their melody implies (the first model)")
    ap.add_argument("--temperature", type=float, default=COMPOSE["temperature"],
                    help="temperature of the draw at middling tension (chosen on the validation works)")
    ap.add_argument("--top-p", type=float, default=COMPOSE["top_p"], help="nucleus of the draw")
    ap.add_argument("--chords", type=int, choices=(0, 1), default=int(COMPOSE["conditions_on_chords"]),
                    help="1: the composer gives the model the chord (chosen on the validation works)")
    ap.add_argument("--recompose", action="store_true",
                    help="only rewrite the composing settings stored in --out (weights untouched, no training)")
    ap.add_argument("--pieces-cache", type=Path, help="(development) pickle of the parsed pieces, read if present")
    args = ap.parse_args(argv)
    compose = {**COMPOSE, "temperature": args.temperature, "top_p": args.top_p,
               "conditions_on_chords": bool(args.chords)}
    if args.recompose:
        set_compose(args.out, compose)
        return 0
    t0 = time.perf_counter()
    log = lambda s: print(s, file=sys.stderr, flush=True)  # noqa: E731
    if args.pieces_cache is not None and args.pieces_cache.is_file():
        import pickle

        used, held = pickle.loads(args.pieces_cache.read_bytes())
    else:
        used, held = corpus_pieces(args.workers, args.limit)
        if args.pieces_cache is not None:
            import pickle

            args.pieces_cache.write_bytes(pickle.dumps((used, held)))
    t_read = time.perf_counter() - t0
    log(f"read {len(used)} training and {len(held)} held-out pieces in {t_read:.0f} s")
    tr, va = split_valid(used, DEFAULTS["valid_share"])
    # validation is scored as the held-out works are: melody, key and meter, no chords (a chord fitted
    # from the melody itself would tell the model the answer)
    train_set = examples(arrays_of(tr, implied_chords=not args.no_implied_chords))
    valid_set = examples(arrays_of(va, implied_chords=False))
    log(f"{len(train_set[1])} training and {len(valid_set[1])} validation notes")
    params, history = fit(train_set, valid_set, hidden=args.hidden, epochs=args.epochs, batch=args.batch,
                          lr=args.lr, seed=args.seed, steps_only_share=DEFAULTS["steps_only"],
                          chord_drop=args.chord_drop, log=log)
    seconds = time.perf_counter() - t0
    meta = {
        "command": "python -m segue.style.neural_train" + (" " + " ".join(argv if argv is not None else sys.argv[1:])
                                                           if (argv or sys.argv[1:]) else ""),
        "hyper": {"hidden": args.hidden, "epochs": args.epochs, "batch": args.batch, "lr": args.lr,
                  "seed": args.seed, "context": CONTEXT, "steps_only": DEFAULTS["steps_only"],
                  "valid_share": DEFAULTS["valid_share"], "chord_drop": args.chord_drop,
                  "implied_chords": not args.no_implied_chords},
        "compose": compose,
        "history": history,
        "training_pieces": len(tr), "validation_pieces": len(va), "heldout_pieces": len(held),
        "training_notes": int(len(train_set[1])),
        "heldout": sorted(p.ident for p in held),
        "seconds": round(seconds, 1), "seconds_reading": round(t_read, 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores visible, Python {platform.python_version()}",
    }
    save_neural(args.out, params, meta)
    # the n-gram baseline counts every training work (validation included), in the same step definition
    step_lists = [[int(s) - 7 for s in a["step"][1:]] for a in arrays_of(used)]
    save_ngram(args.ngram_out, count_ngrams(step_lists, 4), {"pieces": len(used)})
    log(f"wrote {args.out} ({args.out.stat().st_size} bytes) and {args.ngram_out} in {seconds:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
