"""Train and evaluate the learned reader (``segue.film.reader``): deterministic, offline, a few minutes.

    uv run python -m segue.film.train_reader            # train, write data/reader_model.npz
    uv run python -m segue.film.train_reader --cv       # the cross-validation that chose the settings
    uv run python -m segue.film.train_reader --evaluate # the held-out tables of the shipped weights

Data (all in ``segue/film/data``, sources and licences in docs/model-card.md):

- ``archetype_passages.txt`` — short screenplay passages written for Segue, CC0, nine archetypes.
  Split **by passage**: a passage whose SHA-256 (of its text) is 0 mod 4 is held out, the rest
  train. Valence and arousal labels follow the archetype (see ``reader.POSITIVE`` / ``AROUSED``).
- ``archetype_heldout_b.txt`` — a second held-out set, written and committed on its own before any
  change to the reader; only ``--evaluate`` reads it.
- ``archetype_training_b.txt`` — more training passages, written after that set was sealed
  (near-duplicates of held-out passages removed); all trained on.
- ``emobank_va.tsv.gz`` — EmoBank sentences (CC BY-SA 4.0) with valence and arousal on 1…5; only
  clearly polar sentences (at least 0.2 from the scale's middle, 3) are used, labelled by side.
  EmoBank's own split: train is trained on, test is held out (dev is unused).

Nothing is tuned on held-out data: L2 and the naive Bayes weight are chosen by ``--cv`` on the
training passages (folds keep near-duplicates together), and the lexicon's and the blend's
thresholds are fitted on the training split. The held-out tables report valence and arousal
accuracy and archetype macro-F1 next to the majority class and the lexicon.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import re
from collections import Counter
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from segue.film.reader import (
    AROUSED, ARCHETYPE_NAMES, POSITIVE, Doc, ReaderModel, bayes_log_probabilities, dense_inputs, doc, lexicon_reading,
    ngrams, passage_parts,
)

DATA = "data"
POLAR = 0.2
"""EmoBank sentences this far from the middle of the 1…5 scale count as clearly positive/negative (aroused/calm)."""
MIN_COUNT = 2
L2 = 0.005
"""Chosen by 4-fold cross-validation on the training passages (--cv), never on the held-out ones."""
HEAD_L2 = 0.05
"""L2 of the valence, arousal and sentence heads (the value they had before; not retuned)."""
BAYES_ALPHA = 0.5
"""Smoothing of the naive Bayes counts (a customary value, not tuned)."""
BAYES_WEIGHT = 1.0
"""How much the naive Bayes vote adds to the archetype head; chosen with L2 by --cv."""
CV_L2 = (0.005, 0.01, 0.02, 0.05)
CV_BAYES = (0.0, 0.5, 1.0, 2.0, 3.0, 5.0)
CV_TEMPERATURE = (1.0, 1.5, 2.0, 3.0, 4.0, 6.0)
TEMPERATURE = 1.5
"""The archetype scores are divided by this before the softmax so that its probabilities are honest (the
naive Bayes vote makes them too sure); chosen by the out-of-fold log-loss in --cv. It moves no argmax."""
NEAR_DUPLICATE = 0.2
"""Two passages sharing more than this share of their content words count as near-duplicates (Jaccard)."""
PASSAGE_WEIGHT = 4.0
"""A screenplay passage counts this many EmoBank sentences in the valence and arousal heads (it is the domain)."""


@dataclass(slots=True)
class Example:
    doc: Doc
    archetype: str | None
    positive: bool | None
    aroused: bool | None
    weight: float
    text: str


def _data_text(name: str) -> bytes:
    return resources.files("segue.film").joinpath(f"{DATA}/{name}").read_bytes()


def held_out(text: str) -> bool:
    """The passage split: a quarter of the passages, chosen by a hash of their text (stable, not by position)."""
    return int(hashlib.sha256(text.strip().encode("utf-8")).hexdigest(), 16) % 4 == 0


PASSAGES = "archetype_passages.txt"
"""The first set: split by passage hash (:func:`held_out`)."""
TRAINING_B = "archetype_training_b.txt"
"""Passages written for training only, after the second held-out set was sealed (all trained on)."""
HELDOUT_B = "archetype_heldout_b.txt"
"""The second held-out set, written and committed before any change to the reader; never trained or tuned on."""


def load_passages(name: str = PASSAGES) -> list[tuple[str, str]]:
    """(archetype, passage text) of one passage file, in file order."""
    out: list[tuple[str, str]] = []
    label, buf = None, []
    for line in _data_text(name).decode("utf-8").split("\n"):
        if line.startswith("@"):
            if label is not None:
                out.append((label, "\n".join(buf).strip()))
            label, buf = line[1:].strip(), []
        elif label is not None:
            buf.append(line)
    if label is not None:
        out.append((label, "\n".join(buf).strip()))
    unknown = {a for a, _ in out} - set(ARCHETYPE_NAMES)
    if unknown:
        raise ValueError(f"unknown archetypes in the passages: {sorted(unknown)}")
    return out


def passage_examples(held: bool) -> list[Example]:
    """The training passages (the first set's training split and all of ``TRAINING_B``), or the first held-out set."""
    chosen = [(a, t) for a, t in load_passages() if held_out(t) == held]
    if not held:
        chosen += load_passages(TRAINING_B)
    return _examples(chosen)


def heldout_b_examples() -> list[Example]:
    """The second held-out set (only ever read by the final evaluation)."""
    return _examples(load_passages(HELDOUT_B))


def _examples(passages: list[tuple[str, str]]) -> list[Example]:
    out = []
    for arch, text in passages:
        heading, parts = passage_parts(text)
        out.append(Example(doc(heading, parts), arch, arch in POSITIVE, arch in AROUSED, PASSAGE_WEIGHT, text))
    return out


def emobank_examples(split: str) -> list[Example]:
    out = []
    lines = gzip.decompress(_data_text("emobank_va.tsv.gz")).decode("utf-8").split("\n")
    for line in lines:
        if not line or line.startswith("#") or line.startswith("split\t"):
            continue
        sp, v, a, text = line.split("\t", 3)
        if sp != split:
            continue
        v, a = float(v), float(a)
        pos = None if abs(v - 3) < POLAR else v > 3
        aro = None if abs(a - 3) < POLAR else a > 3
        if pos is None and aro is None:
            continue
        out.append(Example(Doc(ngrams(text), lexicon_reading([("action", text)])), None, pos, aro, 1.0, text))
    return out


# ---------------------------------------------------------------------------------------- training
def _matrix(examples: list[Example], vocab: dict[str, int]):
    from scipy.sparse import csr_matrix

    rows, cols, vals = [], [], []
    for i, ex in enumerate(examples):
        idx = sorted({vocab[f] for f in ex.doc.feats if f in vocab})
        for j in idx:
            rows.append(i)
            cols.append(j)
            vals.append(1.0 / np.sqrt(len(idx)))
        rows.append(i)
        cols.append(len(vocab))
        vals.append(1.0)
    return csr_matrix((vals, (rows, cols)), shape=(len(examples), len(vocab) + 1))


def fit_softmax(x, y: np.ndarray, weights: np.ndarray, classes: int, l2: float = HEAD_L2) -> np.ndarray:
    """Weighted multinomial logistic regression (L-BFGS, from zeros: deterministic)."""
    from scipy.optimize import minimize

    n, d = x.shape
    onehot = np.zeros((n, classes))
    onehot[np.arange(n), y] = 1.0
    mask = np.ones((d, classes))
    mask[-1] = 0.0  # the bias is not shrunk

    def loss(flat: np.ndarray) -> tuple[float, np.ndarray]:
        w = flat.reshape(d, classes)
        z = x @ w
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        p = np.exp(logp)
        val = -(weights[:, None] * onehot * logp).sum() + 0.5 * l2 * ((w * mask) ** 2).sum()
        grad = x.T @ (weights[:, None] * (p - onehot)) + l2 * w * mask
        return float(val), np.asarray(grad).ravel()

    res = minimize(loss, np.zeros(d * classes), jac=True, method="L-BFGS-B", options={"maxiter": 500})
    return res.x.reshape(d, classes)


def _softmax1(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=1, keepdims=True))[:, 1]


def _head(examples: list[Example], vocab: dict[str, int], attr: str) -> np.ndarray:
    exs = [ex for ex in examples if getattr(ex, attr) is not None]
    return fit_softmax(_matrix(exs, vocab), np.array([int(getattr(ex, attr)) for ex in exs]),
                       np.array([ex.weight for ex in exs]), 2)


def archetype_inputs(examples: list[Example], vocab: dict[str, int], sentence_w: np.ndarray):
    """Sparse bag, then the dense inputs (sentence heads and lexicon), then the bias column."""
    from scipy.sparse import csr_matrix, hstack

    x = _matrix(examples, vocab)
    dense = dense_inputs(_softmax1(np.asarray(x @ sentence_w[:, :2])), _softmax1(np.asarray(x @ sentence_w[:, 2:])),
                         np.array([ex.doc.lexicon for ex in examples]))
    return hstack([x[:, :-1], csr_matrix(dense), x[:, -1:]]).tocsr()


def build_vocab(examples: list[Example]) -> dict[str, int]:
    counts = Counter(f for ex in examples for f in set(ex.doc.feats))
    return {f: i for i, f in enumerate(sorted(f for f, c in counts.items() if c >= MIN_COUNT))}


def bayes_counts(x, y: np.ndarray) -> np.ndarray:
    """How many passages of each archetype hold each feature (features × classes), from the sparse bag."""
    present = (x[:, :-1] > 0).astype(np.float64)
    return np.column_stack([np.asarray(present[y == c].sum(axis=0)).ravel() for c in range(len(ARCHETYPE_NAMES))])


def train(l2: float = L2, bayes_weight: float = BAYES_WEIGHT) -> ReaderModel:
    passages = passage_examples(held=False)
    emo = emobank_examples("train")
    vocab = build_vocab(passages + emo)
    sentence = np.hstack([_head(emo, vocab, "positive"), _head(emo, vocab, "aroused")])
    valence, arousal = _head(passages + emo, vocab, "positive"), _head(passages + emo, vocab, "aroused")
    y = np.array([ARCHETYPE_NAMES.index(ex.archetype) for ex in passages])
    arch = fit_softmax(archetype_inputs(passages, vocab, sentence), y, np.ones(len(passages)), len(ARCHETYPE_NAMES), l2)
    counts = bayes_counts(_matrix(passages, vocab), y).astype(np.uint16)
    return ReaderModel(vocab, arch, valence, arousal, sentence, ARCHETYPE_NAMES, counts, BAYES_ALPHA, bayes_weight,
                       TEMPERATURE)


def save(model: ReaderModel, path: Path) -> Path:
    vocab = sorted(model.vocab, key=model.vocab.__getitem__)
    with path.open("wb") as fh:
        np.savez_compressed(fh, vocab=np.array("\n".join(vocab)), classes=np.array("\n".join(model.classes)),
                            archetype=model.archetype_w.astype(np.float16), valence=model.valence_w.astype(np.float16),
                            arousal=model.arousal_w.astype(np.float16), sentence=model.sentence_w.astype(np.float16),
                            bayes_counts=np.asarray(model.bayes_counts, np.uint16),
                            bayes_alpha=np.array(model.bayes_alpha), bayes_weight=np.array(model.bayes_weight),
                            temperature=np.array(model.temperature))
    return path


# ---------------------------------------------------------------------------------------- evaluation
def macro_f1(truth: list[str], pred: list[str]) -> float:
    labels = sorted(set(truth))
    f1s = []
    for c in labels:
        tp = sum(t == c and p == c for t, p in zip(truth, pred))
        fp = sum(t != c and p == c for t, p in zip(truth, pred))
        fn = sum(t == c and p != c for t, p in zip(truth, pred))
        f1s.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return sum(f1s) / len(f1s)


def _accuracy(truth: list[bool], pred: list[bool]) -> float:
    return sum(t == p for t, p in zip(truth, pred)) / max(1, len(truth))


LEXICON_ARCHETYPE = {"calm": "calm", "hope": "wonder", "joy": "joy", "triumph": "triumph", "suspense": "suspense",
                     "dread": "suspense", "violence": "violence", "grief": "grief", "neutral": "calm"}


def _lexicon_reading(ex: Example) -> tuple[float, float, float]:
    from segue.film.analysis import analyse_scene
    from segue.film.fountain import parse_fountain

    script = parse_fountain(ex.text + "\n")
    sc = script.scenes[0]
    for other in script.scenes[1:]:
        sc.elements += other.elements
    sa = analyse_scene(sc)
    return sa.valence, sa.arousal, sa.tension


def _threshold(values: list[float], truth: list[bool]) -> float:
    """The cut that fits the *training* labels best (the lexicon's baseline is calibrated, never on held-out)."""
    cands = sorted(set(round(v, 4) for v in values))
    return max(cands, key=lambda c: (_accuracy(truth, [v > c for v in values]), -abs(c)))


Scores = dict[str, dict[str, dict[str, float]]]


def evaluate(model: ReaderModel) -> Scores:
    """Held-out scores for the model, the majority class of the training data and the lexicon, on both
    passage sets (and on each set's passages with no near-duplicate among the training passages) and on
    EmoBank's test split. Every threshold is fitted on the training split."""
    from segue.film.analysis import LEARNED_WEIGHT
    from segue.film.palette import archetype as lexicon_archetype
    from segue.film.reader import affect_of

    train_p = passage_examples(held=False)
    lex_train = [_lexicon_reading(ex) for ex in train_p]
    cut_v = _threshold([r[0] for r in lex_train], [bool(ex.positive) for ex in train_p])
    cut_a = _threshold([r[1] for r in lex_train], [bool(ex.aroused) for ex in train_p])
    maj_arch = Counter(str(ex.archetype) for ex in train_p).most_common(1)[0][0]
    maj_v = Counter(bool(ex.positive) for ex in train_p).most_common(1)[0][0]
    maj_r = Counter(bool(ex.aroused) for ex in train_p).most_common(1)[0][0]

    def blended(p: tuple, lex: tuple[float, float, float]) -> tuple[float, float]:
        v, a, _ = affect_of(p[0], p[1], p[2], model.classes)
        return LEARNED_WEIGHT * v + (1 - LEARNED_WEIGHT) * lex[0], LEARNED_WEIGHT * a + (1 - LEARNED_WEIGHT) * lex[1]

    train_blend = [blended(model.predict(ex.doc), r) for ex, r in zip(train_p, lex_train)]
    cut_bv = _threshold([b[0] for b in train_blend], [bool(ex.positive) for ex in train_p])
    cut_ba = _threshold([b[1] for b in train_blend], [bool(ex.aroused) for ex in train_p])
    train_words = [_content_words(ex.text) for ex in train_p]

    def passages(test_p: list[Example]) -> dict[str, dict[str, float]]:
        lex_test = [_lexicon_reading(ex) for ex in test_p]
        preds = [model.predict(ex.doc) for ex in test_p]
        truth_a = [str(ex.archetype) for ex in test_p]
        tv, tr = [bool(ex.positive) for ex in test_p], [bool(ex.aroused) for ex in test_p]
        named = [model.classes[int(np.argmax(p[0]))] for p in preds]
        test_blend = [blended(p, r) for p, r in zip(preds, lex_test)]
        novel = [k for k, ex in enumerate(test_p)
                 if max(_overlap(_content_words(ex.text), w) for w in train_words) <= NEAR_DUPLICATE]
        bv, ba = [b[0] > cut_bv for b in test_blend], [b[1] > cut_ba for b in test_blend]
        return {
            "segue": {"valence": _accuracy(tv, bv), "arousal": _accuracy(tr, ba), "macro_f1": macro_f1(truth_a, named)},
            "model": {"valence": _accuracy(tv, [p[1] > 0.5 for p in preds]),
                      "arousal": _accuracy(tr, [p[2] > 0.5 for p in preds]), "macro_f1": macro_f1(truth_a, named)},
            "majority": {"valence": _accuracy(tv, [maj_v] * len(tv)), "arousal": _accuracy(tr, [maj_r] * len(tr)),
                         "macro_f1": macro_f1(truth_a, [maj_arch] * len(truth_a))},
            "lexicon": {"valence": _accuracy(tv, [r[0] > cut_v for r in lex_test]),
                        "arousal": _accuracy(tr, [r[1] > cut_a for r in lex_test]),
                        "macro_f1": macro_f1(truth_a, [LEXICON_ARCHETYPE[lexicon_archetype(*r)] for r in lex_test])},
            "novel": {"valence": _accuracy([tv[k] for k in novel], [bv[k] for k in novel]),
                      "arousal": _accuracy([tr[k] for k in novel], [ba[k] for k in novel]),
                      "macro_f1": macro_f1([truth_a[k] for k in novel], [named[k] for k in novel])},
            "count": {"valence": len(tv), "arousal": len(tr), "macro_f1": len(truth_a), "novel": len(novel)},
        }

    out: Scores = {"passages": passages(passage_examples(held=True)), "passages_b": passages(heldout_b_examples())}

    # EmoBank sentences (its own test split; clearly polar ones)
    from segue.film.analysis import combine, read_words

    def lex(text: str) -> tuple[float, float]:
        r = combine(read_words(text))
        return r.valence, r.arousal

    train_e, test_e = emobank_examples("train"), emobank_examples("test")
    lex_tr = [lex(ex.text) for ex in train_e]
    res: dict[str, dict[str, float]] = {"model": {}, "majority": {}, "lexicon": {}, "count": {}}
    for k, attr in enumerate(("positive", "aroused")):
        name = "valence" if attr == "positive" else "arousal"
        tr_ex = [(ex, r) for ex, r in zip(train_e, lex_tr) if getattr(ex, attr) is not None]
        cut = _threshold([r[k] for _, r in tr_ex], [bool(getattr(ex, attr)) for ex, _ in tr_ex])
        te = [ex for ex in test_e if getattr(ex, attr) is not None]
        truth = [bool(getattr(ex, attr)) for ex in te]
        maj = Counter(bool(getattr(ex, attr)) for ex, _ in tr_ex).most_common(1)[0][0]
        res["model"][name] = _accuracy(truth, [model.predict(ex.doc)[1 + k] > 0.5 for ex in te])
        res["majority"][name] = _accuracy(truth, [maj] * len(truth))
        res["lexicon"][name] = _accuracy(truth, [lex(ex.text)[k] > cut for ex in te])
        res["count"][name] = len(truth)
    out["emobank"] = res
    return out


def table(scores: Scores) -> str:
    e = scores["emobank"]
    lines = ["| held-out set | reader | valence acc. | arousal acc. | archetype macro-F1 |", "|---|---|---|---|---|"]
    names = {"segue": "learned reader + lexicon, as Segue reads a scene", "model": "learned reader (its heads alone)",
             "majority": "majority class", "lexicon": "lexicon"}
    for key, label in (("passages", "first set"), ("passages_b", "second set, sealed")):
        p = scores[key]
        for who in ("segue", "model", "majority", "lexicon"):
            lines.append(f"| screenplay passages, {label} ({p['count']['valence']}) | {names[who]} | "
                         f"{p[who]['valence']:.2f} | {p[who]['arousal']:.2f} | {p[who]['macro_f1']:.2f} |")
        lines.append(f"| … of which no near-duplicate in training ({p['count']['novel']}) | {names['segue']} | "
                     f"{p['novel']['valence']:.2f} | {p['novel']['arousal']:.2f} | {p['novel']['macro_f1']:.2f} |")
    for who in ("model", "majority", "lexicon"):
        name = {"model": "learned reader", "majority": "majority class", "lexicon": "lexicon"}[who]
        lines.append(f"| EmoBank test, polar ({e['count']['valence']} / {e['count']['arousal']}) | {name} | "
                     f"{e[who]['valence']:.2f} | {e[who]['arousal']:.2f} | — |")
    return "\n".join(lines)


def _content_words(text: str) -> set[str]:
    stop = {"the", "a", "an", "and", "of", "to", "in", "on", "at", "his", "her", "he", "she", "it", "is", "with",
            "as", "for", "by", "into", "from", "their", "they", "them", "its", "over", "one", "two", "out", "up",
            "all", "but", "be", "was", "not", "no", "so", "that", "this", "then", "int", "ext", "day", "night"}
    return {w for w in re.findall(r"[a-z]+", text.lower()) if w not in stop}


def _overlap(a: set[str], b: set[str]) -> float:
    return len(a & b) / max(1, len(a | b))


def near_duplicate_folds(texts: list[str], folds: int) -> np.ndarray:
    """Cross-validation folds that keep near-duplicate passages together (so a fold never tests on a twin of
    a passage it trained on): passages linked by word overlap above ``NEAR_DUPLICATE`` form one group, and
    groups are dealt to the folds in turn."""
    words = [_content_words(t) for t in texts]
    parent = list(range(len(texts)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(texts)):
        for j in range(i):
            if _overlap(words[i], words[j]) > NEAR_DUPLICATE:
                parent[root(i)] = root(j)
    order = {r: k % folds for k, r in enumerate(sorted({root(i) for i in range(len(texts))}))}
    return np.array([order[root(i)] for i in range(len(texts))])


def cross_validate(l2s: tuple[float, ...] = CV_L2, bayes: tuple[float, ...] = CV_BAYES, folds: int = 4
                   ) -> tuple[dict[tuple[float, float], float], dict[float, float]]:
    """Archetype macro-F1 of each (L2 strength, naive Bayes weight) by cross-validation on the *training*
    passages only (folds keep near-duplicates together; the held-out sets are not read), and the mean
    log-loss of the shipped setting's probabilities at each temperature in ``CV_TEMPERATURE``."""
    passages = passage_examples(held=False)
    emo = emobank_examples("train")
    vocab = build_vocab(passages + emo)
    sentence = np.hstack([_head(emo, vocab, "positive"), _head(emo, vocab, "aroused")])
    x, bag = archetype_inputs(passages, vocab, sentence), _matrix(passages, vocab)
    y = np.array([ARCHETYPE_NAMES.index(ex.archetype) for ex in passages])
    fold = near_duplicate_folds([ex.text for ex in passages], folds)
    truth = [ARCHETYPE_NAMES[i] for i in y]
    out: dict[tuple[float, float], float] = {}
    loss: dict[float, float] = {}
    for l2 in l2s:
        head, vote = np.zeros((len(y), len(ARCHETYPE_NAMES))), np.zeros((len(y), len(ARCHETYPE_NAMES)))
        for f in range(folds):
            tr, te = fold != f, fold == f
            w = fit_softmax(x[tr], y[tr], np.ones(int(tr.sum())), len(ARCHETYPE_NAMES), l2)
            head[te] = x[te] @ w
            logp = bayes_log_probabilities(bayes_counts(bag[tr], y[tr]), BAYES_ALPHA)
            vote[te] = bag[te][:, :-1] @ logp
        for b in bayes:
            out[(l2, b)] = macro_f1(truth, [ARCHETYPE_NAMES[i] for i in np.argmax(head + b * vote, axis=1)])
        if l2 == L2:
            z = head + BAYES_WEIGHT * vote
            for t in CV_TEMPERATURE:
                zt = z / t - (z / t).max(axis=1, keepdims=True)
                logp = zt - np.log(np.exp(zt).sum(axis=1, keepdims=True))
                loss[t] = float(-logp[np.arange(len(y)), y].mean())
    return out, loss


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Train (and evaluate) Segue's learned script reader.")
    ap.add_argument("--evaluate", action="store_true", help="only evaluate the shipped weights")
    ap.add_argument("--out", type=Path, default=None, help="where to write the weights (default: the package's)")
    ap.add_argument("--cv", action="store_true",
                    help="cross-validate L2 and the naive Bayes weight on the training passages "
                         "(reads no held-out set)")
    a = ap.parse_args(argv)
    if a.cv:
        scores, loss = cross_validate()
        for (l2, b), f1 in scores.items():
            print(f"L2 {l2:g}, naive Bayes weight {b:g}: archetype macro-F1 {f1:.3f}")
        best = max(scores, key=lambda k: (round(scores[k], 3), -k[0], -k[1]))
        print(f"best (4-fold CV on the training passages, near-duplicates kept in one fold): L2 {best[0]:g}, "
              f"naive Bayes weight {best[1]:g}, macro-F1 {scores[best]:.3f}; shipped: L2 {L2:g}, "
              f"naive Bayes weight {BAYES_WEIGHT:g}, macro-F1 {scores.get((L2, BAYES_WEIGHT), float('nan')):.3f}")
        for t, v in loss.items():
            print(f"temperature {t:g}: log-loss {v:.3f} (shipped setting, out of fold)")
        print(f"best temperature {min(loss, key=loss.__getitem__):g}; shipped {TEMPERATURE:g}")
        return
    from segue.film.reader import default_model

    if a.evaluate:
        model = default_model()
        if model is None:
            raise SystemExit("no shipped weights; run without --evaluate to train")
    else:
        model = train()
        path = a.out or Path(str(resources.files("segue.film").joinpath(f"{DATA}/reader_model.npz")))
        save(model, path)
        print(f"wrote {path} ({path.stat().st_size // 1024} KB, {len(model.vocab)} features)")
        print("(held-out tables: --evaluate)")
        return
    print(table(evaluate(model)))


if __name__ == "__main__":
    main()
