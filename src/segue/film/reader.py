"""A learned reader: a small text-affect model that ships with Segue and runs offline in milliseconds.

Why a model next to the lexicon: a lexicon only hears the words on its list (a third of a
script's lines contain one) and cannot tell *grabs* in a fight from *grabs* at a deathbed. A
linear model over words, word pairs and what a screenplay says by its form reads every line and
learns which words go together. It stays small and explainable: three softmax heads over one
bag of features —

- **archetype** (grief, violence, joy, triumph, romance, suspense, comedy, wonder, calm), trained on
  short screenplay passages written for Segue (CC0, ``data/archetype_passages.txt`` and
  ``data/archetype_training_b.txt``);
- **valence** (negative / positive) and **arousal** (calm / aroused), trained on EmoBank sentences
  (CC BY-SA 4.0, ``data/emobank_va.tsv.gz``) together with those passages.

The archetype head adds a naive Bayes vote over the same features (counted on the training
passages; two views of a small data set name archetypes better together than either alone), and
its probabilities are softened by a temperature so that they mean what they say.

Features are lower-cased word stems and stem pairs, four-letter word pieces, the lexicon group
of each word it knows, plus *form tokens* (``§night``, ``§ext``,
``§dialogue+``, ``§paren``, ``§smashcut``, ``§caps``, ``§excl``, short/long lines, brief/long
scene): a night exterior with shouted capitals and a SMASH CUT reads differently from a kitchen
at dawn. The weights (``data/reader_model.npz``) are made by ``python -m segue.film.train_reader``
(deterministic); this module only reads them. A scene's prediction also looks at its neighbours
(a fifth of each side's archetype probabilities), and it keeps the lines that drove it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Iterable

import numpy as np

ARCHETYPE_NAMES = ("grief", "violence", "joy", "triumph", "romance", "suspense", "comedy", "wonder", "calm")
ARCHETYPE_AFFECT: dict[str, tuple[float, float, float]] = {
    # (valence −1…1, arousal 0…1, tension 0…1): where each archetype sits, for blending and music
    "grief": (-0.7, 0.2, 0.35), "violence": (-0.75, 0.9, 0.85), "joy": (0.8, 0.7, 0.05),
    "triumph": (0.8, 0.85, 0.2), "romance": (0.6, 0.3, 0.1), "suspense": (-0.4, 0.55, 0.8),
    "comedy": (0.6, 0.6, 0.05), "wonder": (0.55, 0.4, 0.15), "calm": (0.45, 0.15, 0.1),
}
POSITIVE = frozenset({"joy", "triumph", "romance", "comedy", "wonder", "calm"})
"""Archetypes whose passages are labelled positive in valence."""
AROUSED = frozenset({"violence", "joy", "triumph", "suspense", "comedy"})
"""Archetypes whose passages are labelled high in arousal."""
NEIGHBOUR = 0.2
"""How much of each neighbouring scene's archetype reading a scene takes in (context across scenes)."""

_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


def stem(word: str) -> str:
    """A light suffix stripper (weeps, weeping, wept stay apart; sobbing → sobb): enough for a bag of words."""
    for suf in ("'s", "ing", "edly", "ed", "ies", "es", "s", "ly"):
        if word.endswith(suf) and len(word) - len(suf) >= 3:
            return word[: -len(suf)] + ("y" if suf == "ies" else "")
    return word


def words(text: str) -> list[str]:
    return [stem(w) for w in _WORD.findall(text.lower())]


def ngrams(text: str) -> list[str]:
    """Stems and stem pairs of one line, the film lexicon's group of every word it knows (``§g:grief``) and
    the four-letter pieces of every word (``§c<sob``, ``§cobbi``).

    The lexicon groups and the word pieces let a few hundred training passages generalise: *sobs*
    and *mourns* are different stems but the same group; *giggled*, *giggling* and *giggly* share
    their pieces, which a light stemmer does not see.
    """
    raw = _WORD.findall(text.lower())
    ws = [stem(w) for w in raw]
    lex = _lexicon()
    groups = [f"§g:{e.group}" for e in (lex.lookup(w) for w in raw) if e is not None]
    pieces = [f"§c{m[i:i + 4]}" for m in (f"<{w}>" for w in raw) for i in range(len(m) - 3)]
    return ws + [f"{a}_{b}" for a, b in zip(ws, ws[1:])] + groups + pieces


@lru_cache(maxsize=1)
def _lexicon():
    from segue.film.lexicon import default_lexicon

    return default_lexicon()


def form_tokens(heading: str, parts: list[tuple[str, str]]) -> list[str]:
    """What a screenplay says by its form: slugline, dialogue share, parentheticals, transitions, shouting, pacing.

    ``parts`` are (kind, text) with kinds as in :mod:`segue.film.script` (action, dialogue, …).
    """
    out: list[str] = []
    h = heading.upper()
    if re.search(r"\bEXT\b", h):
        out.append("§ext")
    if re.search(r"\bINT\b", h):
        out.append("§int")
    for word, tok in (("NIGHT", "§night"), ("DAY", "§day"), ("MORNING", "§day"), ("DAWN", "§dawn"),
                      ("DUSK", "§dusk"), ("SUNSET", "§dusk"), ("CONTINUOUS", "§continuous")):
        if re.search(rf"\b{word}\b", h):
            out.append(tok)
    spoken = sum(len(t.split()) for k, t in parts if k in ("dialogue", "lyric", "subtitle"))
    total = sum(len(t.split()) for k, t in parts if k not in ("character", "transition", "note", "section"))
    if total:
        share = spoken / total
        out.append("§dialogue0" if share == 0 else "§dialogue+" if share >= 0.5 else "§dialogue-")
    kinds = {k for k, _ in parts}
    if "parenthetical" in kinds:
        out.append("§paren")
    for k, t in parts:
        if k == "transition":
            out.append("§transition")
            if re.search(r"SMASH|MATCH|JUMP", t.upper()):
                out.append("§smashcut")
    action = " ".join(t for k, t in parts if k in ("action", "description"))
    if re.search(r"\b[A-Z]{3,}\b", action):
        out.append("§caps")
    body = " ".join(t for k, t in parts if k not in ("character", "note", "section"))
    if "!" in body:
        out.append("§excl")
    if "?" in body:
        out.append("§quest")
    sentences = [s for s in re.split(r"[.!?]+", body) if s.strip()]
    if sentences:
        mean = sum(len(s.split()) for s in sentences) / len(sentences)
        out.append("§short-sentences" if mean < 7 else "§long-sentences" if mean > 16 else "§mid-sentences")
    out.append("§brief" if total < 25 else "§long-scene" if total > 150 else "§mid-scene")
    return out


def passage_parts(text: str) -> tuple[str, list[tuple[str, str]]]:
    """A short Fountain passage as (heading, [(kind, text)]), read by the same Fountain reader as a script."""
    from segue.film.fountain import parse_fountain

    script = parse_fountain(text + "\n")
    heading = next((sc.heading for sc in script.scenes if is_slugline(sc.heading)), "")
    return heading, [(e.kind, e.text) for sc in script.scenes for e in sc.elements]


def is_slugline(heading: str) -> bool:
    """A real scene heading (INT./EXT. …), not a name Segue gave a stretch of text without one."""
    return bool(re.match(r"^\s*(?:INT|EXT|EST|I/E|INT\./EXT)\b", heading.upper()))


def features(heading: str, parts: list[tuple[str, str]]) -> list[str]:
    """Every feature of a passage or scene: n-grams of heading and text, then the form tokens."""
    if not is_slugline(heading):
        heading = ""
    out = ngrams(heading) if heading else []
    for kind, text in parts:
        if kind in ("character", "note", "section"):
            continue
        out += ngrams(text)
    return out + form_tokens(heading, parts)


@dataclass(slots=True)
class Reading:
    """What the model read in a scene: probabilities, affect, and the lines that drove the archetype."""

    archetype: str
    probabilities: dict[str, float]
    valence: float
    arousal: float
    tension: float
    p_positive: float
    p_aroused: float
    lines: list[tuple[int, str, float]] = field(default_factory=list)
    """(source line, text, how much it pushed towards the archetype), strongest first."""


DENSE = 5
"""Dense inputs of the archetype head: the sentence-level valence and arousal heads and the lexicon's reading."""


def lexicon_reading(parts: list[tuple[str, str]]) -> np.ndarray:
    """The film lexicon's (valence, arousal, tension) of a passage, centred on neutral text."""
    from segue.film.analysis import KIND_WEIGHT, NEUTRAL, combine, read_words

    ev = []
    for kind, text in parts:
        w = KIND_WEIGHT.get(kind, 0.5)
        if w > 0:
            ev += read_words(text, 0, _lexicon(), weight=w, shouting=kind in ("action", "description"))
    r = combine(ev)
    return np.array([r.valence - NEUTRAL[0], r.arousal - NEUTRAL[1], r.tension - NEUTRAL[2]])


@dataclass(slots=True)
class Doc:
    """A passage or scene as the model sees it: its features and the lexicon's reading."""

    feats: list[str]
    lexicon: np.ndarray


def doc(heading: str, parts: list[tuple[str, str]]) -> Doc:
    return Doc(features(heading, parts), lexicon_reading(parts))


@dataclass(slots=True)
class ReaderModel:
    """Vocabulary and the heads' weights (rows: features, then dense inputs where used, then a bias row).

    ``valence_w`` / ``arousal_w`` read valence and arousal (trained on EmoBank and the passages);
    ``sentence_w`` holds the EmoBank-only valence and arousal heads whose outputs, with the lexicon's
    reading, are the archetype head's dense inputs (trained without the passages, so the archetype
    head learns how far to trust them on text it has not seen).
    """

    vocab: dict[str, int]
    archetype_w: np.ndarray
    valence_w: np.ndarray
    arousal_w: np.ndarray
    sentence_w: np.ndarray
    classes: tuple[str, ...] = ARCHETYPE_NAMES
    bayes_counts: np.ndarray | None = None
    """How many training passages of each archetype hold each feature (features × classes): naive Bayes."""
    bayes_alpha: float = 0.5
    bayes_weight: float = 0.0
    """How much the naive Bayes vote adds to the archetype head's scores (0: the head alone)."""
    temperature: float = 1.0
    """The archetype scores are divided by this before the softmax (calibration: it moves no argmax)."""
    bayes_logp: np.ndarray | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        if self.bayes_counts is not None:
            self.bayes_logp = bayes_log_probabilities(self.bayes_counts, self.bayes_alpha)

    def vector(self, feats: Iterable[str]) -> np.ndarray:
        """Binary presence of known features, L2-normalised, with a bias of 1 at the end."""
        x = np.zeros(len(self.vocab) + 1, np.float64)
        idx = [self.vocab[f] for f in set(feats) if f in self.vocab]
        if idx:
            x[idx] = 1.0 / math.sqrt(len(idx))
        x[-1] = 1.0
        return x

    @staticmethod
    def _softmax(z: np.ndarray) -> np.ndarray:
        z = z - z.max(axis=-1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=-1, keepdims=True)

    def dense(self, x: np.ndarray, lexicon: np.ndarray) -> np.ndarray:
        sv = self._softmax(x @ self.sentence_w[:, :2])[..., 1]
        sa = self._softmax(x @ self.sentence_w[:, 2:])[..., 1]
        return dense_inputs(sv, sa, lexicon)

    def archetype_scores(self, x: np.ndarray, lexicon: np.ndarray) -> np.ndarray:
        """The archetype head's scores plus the weighted naive Bayes vote (a product of the two models' odds).

        Two views of the same small data: the logistic head weighs features against each other, naive
        Bayes counts each on its own, and on held-apart folds of the training passages together they
        name archetypes better than either (``train_reader --cv``).
        """
        xa = np.concatenate([x[:-1], self.dense(x, lexicon), [1.0]])
        z = xa @ self.archetype_w
        if self.bayes_logp is not None and self.bayes_weight:
            # the same length-normalised presence vector as the head's: a long scene's vote does not drown the head
            z = z + self.bayes_weight * (x[:-1] @ self.bayes_logp)
        return z / self.temperature

    def predict(self, d: Doc) -> tuple[np.ndarray, float, float]:
        """(archetype probabilities, P(positive valence), P(high arousal))."""
        x = self.vector(d.feats)
        pa = self._softmax(self.archetype_scores(x, d.lexicon))
        pv = float(self._softmax(x @ self.valence_w)[1])
        pr = float(self._softmax(x @ self.arousal_w)[1])
        return pa, pv, pr

    def line_pull(self, text: str, cls: int) -> float:
        """How strongly one line's n-grams point to class ``cls`` (its weight minus the mean over classes)."""
        idx = [self.vocab[f] for f in set(ngrams(text)) if f in self.vocab]
        if not idx:
            return 0.0
        w = self.archetype_w[idx]
        pull = float((w[:, cls] - w.mean(axis=1)).sum())
        if self.bayes_logp is not None and self.bayes_weight:
            b = self.bayes_logp[idx]
            pull += self.bayes_weight * float((b[:, cls] - b.mean(axis=1)).sum())
        return pull


def dense_inputs(sv: float | np.ndarray, sa: float | np.ndarray, lexicon: np.ndarray) -> np.ndarray:
    """[2·(P(pos) − ½), 2·(P(aroused) − ½), 2 × the lexicon's centred valence, arousal, tension] (one row or many)."""
    if np.ndim(sv) == 0:
        return np.concatenate([[2 * (float(sv) - 0.5), 2 * (float(sa) - 0.5)], 2 * np.asarray(lexicon)])
    return np.column_stack([2 * (np.asarray(sv) - 0.5), 2 * (np.asarray(sa) - 0.5), 2 * np.asarray(lexicon)])


def affect_of(pa: np.ndarray, pv: float, pr: float, classes: tuple[str, ...] = ARCHETYPE_NAMES
              ) -> tuple[float, float, float]:
    """Valence, arousal and tension from the heads: the valence/arousal heads and the archetype mix.

    The archetype mix counts as much as the archetype head is sure (a half to 0.8): a scene read as
    grief with confidence is not made cheerful by a kitchen at DAY, which the sentence-level heads
    (general text, no drama) may like.
    """
    mix = np.array([ARCHETYPE_AFFECT[c] for c in classes])
    v_mix, a_mix, t_mix = (pa[:, None] * mix).sum(axis=0)
    c = float(np.clip(pa.max(), 0.5, 0.8))
    valence = (1 - c) * (2 * pv - 1) + c * v_mix
    arousal = (1 - c) * pr + c * a_mix
    return float(np.clip(valence, -1, 1)), float(np.clip(arousal, 0, 1)), float(np.clip(t_mix, 0, 1))


def bayes_log_probabilities(counts: np.ndarray, alpha: float) -> np.ndarray:
    """log P(feature | archetype) from how many training passages of each archetype hold each feature.

    The counts (small integers) are what ships: they compress to almost nothing, where log
    probabilities would not. ``alpha`` is the smoothing added to every count.
    """
    c = counts.astype(np.float64) + alpha
    return np.log(c / c.sum(axis=0, keepdims=True))


@lru_cache(maxsize=1)
def default_model() -> ReaderModel | None:
    """The shipped model, or None when its weights are missing (the lexicon then reads alone)."""
    try:
        ref = resources.files("segue.film").joinpath("data/reader_model.npz")
        with ref.open("rb") as fh:
            data = np.load(fh, allow_pickle=False)
            vocab_list = str(data["vocab"]).split("\n")
            model = ReaderModel({w: i for i, w in enumerate(vocab_list)}, data["archetype"].astype(np.float64),
                                data["valence"].astype(np.float64), data["arousal"].astype(np.float64),
                                data["sentence"].astype(np.float64), tuple(str(data["classes"]).split("\n")),
                                data["bayes_counts"], float(data["bayes_alpha"]), float(data["bayes_weight"]),
                                float(data["temperature"]))
    except (OSError, KeyError, ValueError):
        return None
    return model


def read_scenes(scenes: list, model: ReaderModel | None = None, neighbour: float = NEIGHBOUR) -> list[Reading]:
    """The model's reading of every scene (with context from the scenes either side)."""
    model = model or default_model()
    if model is None:
        return []
    raw = []
    for sc in scenes:
        parts = [(e.kind, e.text) for e in sc.elements]
        if sc.synopsis:
            parts.append(("synopsis", sc.synopsis))
        raw.append(model.predict(doc(sc.heading, parts)))
    out: list[Reading] = []
    for k, (sc, (pa, pv, pr)) in enumerate(zip(scenes, raw)):
        ctx = pa.copy()
        for j in (k - 1, k + 1):
            if 0 <= j < len(raw):
                ctx = ctx + neighbour * raw[j][0]
        ctx = ctx / ctx.sum()
        cls = int(np.argmax(ctx))
        v, a, t = affect_of(ctx, pv, pr, model.classes)
        pulls = [(e.line, e.text.split("\n")[0][:90], model.line_pull(e.text, cls)) for e in sc.elements
                 if e.kind not in ("character", "note", "section", "transition")]
        lines = sorted((p for p in pulls if p[2] > 0), key=lambda p: -p[2])[:3]
        out.append(Reading(model.classes[cls], {c: round(float(p), 3) for c, p in zip(model.classes, ctx)},
                           v, a, t, pv, pr, lines))
    return out
