"""The learned style models and their file format.

Every model keeps raw integer *counts* and turns them into probabilities on demand with
add-k smoothing and back-off. Counts are exact, small in JSON, and make the model's identity
(its sha256) independent of floating-point printing; smoothing stays a readable parameter.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from segue.style.analysis import N_STEPS, POSITION_CLASSES, Cell, position_class, step_index
from segue.limits import MAX_STYLE_BYTES, LimitError, gunzip_limited
from segue.style.errors import StyleError

FORMAT = "segue-style/1"
FAMILIES = ("major", "minor")
MAX_CELLS = 40
"""Rhythm vocabulary cap: 40 cells cover > 99 % of beats in the sources; the rest is noise."""


def _dirichlet(counts: np.ndarray, prior: np.ndarray, mass: float) -> np.ndarray:
    """Counts smoothed towards a prior distribution: ``(c + mass·prior) / (N + mass)``.

    With no counts this *is* the prior, so it is back-off and smoothing in one formula.
    """
    c = np.asarray(counts, dtype=float)
    return (c + mass * prior) / (c.sum() + mass)


def _add_k(counts: np.ndarray, k: float) -> np.ndarray:
    c = np.asarray(counts, dtype=float) + k
    return c / c.sum()


def _check_family(family: str) -> str:
    if family not in FAMILIES:
        raise ValueError(f"unknown key family {family!r}; expected 'major' or 'minor'")
    return family


# ---------------------------------------------------------------- melody


@dataclass(eq=False)  # numpy tables: compare models by sha256
class MelodyModel:
    """Diatonic steps between consecutive melody notes (−7..+7 scale degrees, 15 bins).

    Order-2 Markov chain: the next step depends on the two previous steps, backing off to
    one previous step and to the overall step distribution when a context is rare.
    """

    unigram: np.ndarray  # (15,) step counts
    bigram: np.ndarray  # (15, 15) counts [previous step, next step]
    trigram: dict[tuple[int, int], np.ndarray]  # (step before previous, previous step) -> (15,) counts
    chord_tone_on_strong_beat: float = 0.0
    add_k: float = 0.5
    backoff: float = 4.0
    ambitus: np.ndarray | None = None
    """(29,) counts of tunes by their range in scale steps (0..28): how far real melodies roam."""

    def ambitus_probs(self) -> np.ndarray:
        """P(a tune spans k scale steps), k = 0..28; a broad prior around an octave if not learned."""
        if self.ambitus is None or not self.ambitus.sum():
            k = np.arange(29)
            p = np.exp(-0.5 * ((k - 9) / 2.5) ** 2)
        else:
            p = self.ambitus.astype(float) + 0.1
        return p / p.sum()

    def step_probs(self, prev_steps: Sequence[int]) -> np.ndarray:
        """P(next step) for steps −7..+7 (index = step + 7), given the steps so far (may be empty)."""
        p = _add_k(self.unigram, self.add_k)
        if len(prev_steps) >= 1:
            last = step_index(int(prev_steps[-1]))
            p = _dirichlet(self.bigram[last], p, self.backoff)
            if len(prev_steps) >= 2:
                ctx = (step_index(int(prev_steps[-2])), last)
                counts = self.trigram.get(ctx)
                if counts is not None:
                    p = _dirichlet(counts, p, self.backoff)
        return p

    def to_dict(self) -> dict[str, Any]:
        return {
            "unigram": self.unigram.tolist(),
            "bigram": self.bigram.tolist(),
            "trigram": {f"{a},{b}": v.tolist() for (a, b), v in sorted(self.trigram.items())},
            "chord_tone_on_strong_beat": round(float(self.chord_tone_on_strong_beat), 6),
            "add_k": self.add_k,
            "backoff": self.backoff,
            **({"ambitus": self.ambitus.tolist()} if self.ambitus is not None else {}),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "MelodyModel":
        uni = np.array(d["unigram"], dtype=np.int64)
        bi = np.array(d["bigram"], dtype=np.int64)
        if uni.shape != (N_STEPS,) or bi.shape != (N_STEPS, N_STEPS):
            raise ValueError("melody tables have the wrong shape")
        tri = {}
        for k, v in d["trigram"].items():
            a, b = (int(x) for x in k.split(","))
            arr = np.array(v, dtype=np.int64)
            if arr.shape != (N_STEPS,):
                raise ValueError("melody trigram row has the wrong shape")
            tri[(a, b)] = arr
        amb = np.array(d["ambitus"], dtype=np.int64) if "ambitus" in d else None
        if amb is not None and amb.shape != (29,):
            raise ValueError("melody ambitus table has the wrong shape")
        return cls(uni, bi, tri, float(d["chord_tone_on_strong_beat"]), float(d["add_k"]), float(d["backoff"]), amb)


# ---------------------------------------------------------------- rhythm


@dataclass(eq=False)  # numpy tables: compare models by sha256
class RhythmTable:
    """Beat cells of one kind of meter (simple or compound): vocabulary and counts."""

    vocab: list[Cell]  # most frequent first
    unigram: np.ndarray  # (V,)
    transitions: np.ndarray  # (V, V) [previous cell, next cell]
    by_position: dict[str, np.ndarray]  # position class -> (V,)

    def to_dict(self) -> dict[str, Any]:
        return {
            "vocab": [list(c) for c in self.vocab],
            "unigram": self.unigram.tolist(),
            "transitions": self.transitions.tolist(),
            "by_position": {k: self.by_position[k].tolist() for k in POSITION_CLASSES},
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "RhythmTable":
        vocab = [tuple(int(x) for x in c) for c in d["vocab"]]
        v = len(vocab)
        uni = np.array(d["unigram"], dtype=np.int64)
        tr = np.array(d["transitions"], dtype=np.int64).reshape(v, v)
        pos = {k: np.array(d["by_position"][k], dtype=np.int64) for k in POSITION_CLASSES}
        if uni.shape != (v,) or any(a.shape != (v,) for a in pos.values()):
            raise ValueError("rhythm tables have the wrong shape")
        return cls(vocab, uni, tr, pos)

    @property
    def empty(self) -> bool:
        return int(self.unigram.sum()) == 0


@dataclass(eq=False)  # numpy tables: compare models by sha256
class RhythmModel:
    """Onset patterns inside one beat ("cells", 12 slots per beat), order-1 Markov per meter kind."""

    simple: RhythmTable
    compound: RhythmTable
    add_k: float = 0.5
    backoff: float = 4.0
    _index: dict[bool, dict[Cell, int]] = field(default_factory=dict, repr=False, compare=False)

    def _table(self, compound: bool) -> RhythmTable:
        return self.compound if compound else self.simple

    def cells(self, compound: bool) -> list[Cell]:
        """The cell vocabulary for simple or compound meters, most frequent first."""
        return list(self._table(compound).vocab)

    def cell_probs(self, compound: bool, prev: Cell | None, beat_in_bar: int | None = None) -> np.ndarray:
        """P(cell) aligned with :meth:`cells`, given the previous beat's cell and, optionally, the beat.

        The beat position enters as a likelihood ratio P(cell | position) / P(cell): downbeats
        favour an onset on slot 0, weak beats allow more held notes and pickups.
        """
        t = self._table(compound)
        base = _add_k(t.unigram, self.add_k)
        p = base
        if prev is not None:
            i = self._lookup(compound).get(tuple(prev))
            if i is not None:
                p = _dirichlet(t.transitions[i], base, self.backoff)
        if beat_in_bar is not None:
            pos = _dirichlet(t.by_position[position_class(int(beat_in_bar), compound)], base, self.backoff)
            p = p * pos / base
            p = p / p.sum()
        return p

    def onsets_per_beat(self, cell: Cell) -> int:
        return len(cell)

    def _lookup(self, compound: bool) -> dict[Cell, int]:
        if compound not in self._index:
            self._index[compound] = {c: i for i, c in enumerate(self._table(compound).vocab)}
        return self._index[compound]

    def to_dict(self) -> dict[str, Any]:
        return {"simple": self.simple.to_dict(), "compound": self.compound.to_dict(),
                "add_k": self.add_k, "backoff": self.backoff}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "RhythmModel":
        return cls(RhythmTable.from_dict(d["simple"]), RhythmTable.from_dict(d["compound"]),
                   float(d["add_k"]), float(d["backoff"]))


# ---------------------------------------------------------------- harmony


@dataclass(eq=False)  # numpy tables: compare models by sha256
class HarmonyModel:
    """Chords as scale degrees 0..6 of the key, separately for major and minor keys.

    ``next_probs`` is the chord that comes *when the chord changes* (repeats were collapsed
    before counting); how often it changes is ``changes_per_bar``.
    """

    first: dict[str, np.ndarray]  # family -> (7,)
    transitions: dict[str, np.ndarray]  # family -> (7, 7) [previous, next]
    cadences: dict[str, np.ndarray]  # family -> (7, 7) [penultimate, final]
    changes_per_bar: dict[str, float]
    add_k: float = 0.5

    def first_probs(self, family: str) -> np.ndarray:
        return _add_k(self.first[_check_family(family)], self.add_k)

    def next_probs(self, family: str, prev_degree: int) -> np.ndarray:
        return _add_k(self.transitions[_check_family(family)][int(prev_degree) % 7], self.add_k)

    def cadence_probs(self, family: str) -> np.ndarray:
        """P(penultimate, final) over all 49 degree pairs at phrase ends; sums to 1."""
        c = np.asarray(self.cadences[_check_family(family)], dtype=float) + self.add_k
        return c / c.sum()

    def empty(self, family: str) -> bool:
        return int(self.transitions[family].sum()) == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "first": {f: self.first[f].tolist() for f in FAMILIES},
            "transitions": {f: self.transitions[f].tolist() for f in FAMILIES},
            "cadences": {f: self.cadences[f].tolist() for f in FAMILIES},
            "changes_per_bar": {k: round(float(v), 6) for k, v in sorted(self.changes_per_bar.items())},
            "add_k": self.add_k,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "HarmonyModel":
        first = {f: np.array(d["first"][f], dtype=np.int64) for f in FAMILIES}
        trans = {f: np.array(d["transitions"][f], dtype=np.int64) for f in FAMILIES}
        cad = {f: np.array(d["cadences"][f], dtype=np.int64) for f in FAMILIES}
        if any(a.shape != (7,) for a in first.values()) or any(
                a.shape != (7, 7) for a in [*trans.values(), *cad.values()]):
            raise ValueError("harmony tables have the wrong shape")
        return cls(first, trans, cad, {k: float(v) for k, v in d["changes_per_bar"].items()}, float(d["add_k"]))


# ---------------------------------------------------------------- the style


@dataclass(eq=False)  # numpy tables: compare models by sha256
class StyleModel:
    """A named style: melody, rhythm and harmony models plus where they were learned from."""

    name: str
    melody: MelodyModel
    rhythm: RhythmModel
    harmony: HarmonyModel
    sources: list[dict] = field(default_factory=list)
    training: dict = field(default_factory=dict)

    def weights(self) -> dict[str, Any]:
        """The learned behaviour only: what the sha256 identifies (not timings or paths)."""
        return {"format": FORMAT, "melody": self.melody.to_dict(), "rhythm": self.rhythm.to_dict(),
                "harmony": self.harmony.to_dict()}

    def to_dict(self) -> dict[str, Any]:
        return {**self.weights(), "name": self.name, "sources": self.sources, "training": self.training}

    @property
    def sha256(self) -> str:
        return hashlib.sha256(_canonical(self.weights()).encode()).hexdigest()

    @property
    def id(self) -> str:
        return f"{self.name}-{self.sha256[:12]}"

    @property
    def parameter_count(self) -> int:
        """How many numbers the model stores (counts and smoothing constants)."""
        return _count_numbers(self.weights())

    def save(self, path: str | Path) -> None:
        """Write as JSON; gzip-compressed when the name ends in ``.gz``."""
        p = Path(path)
        text = _canonical(self.to_dict())
        p.parent.mkdir(parents=True, exist_ok=True)
        if p.suffix == ".gz":
            p.write_bytes(gzip.compress(text.encode(), compresslevel=9, mtime=0))
        else:
            p.write_text(text, encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> "StyleModel":
        p = Path(path)
        try:
            if p.stat().st_size > MAX_STYLE_BYTES:
                raise StyleError(f"style model {p} is larger than {MAX_STYLE_BYTES // (1024 * 1024)} MiB")
            raw = p.read_bytes()
        except OSError as exc:
            raise StyleError(f"cannot read style model {p}: {exc.strerror or exc}") from exc
        return cls.from_bytes(raw, str(p))

    @classmethod
    def from_bytes(cls, raw: bytes, where: str = "style model") -> "StyleModel":
        try:
            if raw[:2] == b"\x1f\x8b":
                raw = gunzip_limited(raw, MAX_STYLE_BYTES, where)
            d = json.loads(raw.decode("utf-8"))
        except LimitError as exc:
            raise StyleError(str(exc)) from None
        except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise StyleError(f"{where} is not a Segue style model (not JSON or gzip JSON): {exc}") from exc
        if not isinstance(d, dict) or d.get("format") != FORMAT:
            found = d.get("format") if isinstance(d, dict) else type(d).__name__
            raise StyleError(f"{where} is not a Segue style model (format {found!r}, expected {FORMAT!r})")
        try:
            return cls(
                name=str(d["name"]),
                melody=MelodyModel.from_dict(d["melody"]),
                rhythm=RhythmModel.from_dict(d["rhythm"]),
                harmony=HarmonyModel.from_dict(d["harmony"]),
                sources=list(d.get("sources", [])),
                training=dict(d.get("training", {})),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise StyleError(f"{where} is a corrupt Segue style model: {type(exc).__name__}: {exc}") from exc


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _count_numbers(obj: Any) -> int:
    if isinstance(obj, bool):
        return 0
    if isinstance(obj, (int, float)):
        return 1
    if isinstance(obj, dict):
        return sum(_count_numbers(v) for k, v in obj.items() if k != "vocab")
    if isinstance(obj, list):
        return sum(_count_numbers(v) for v in obj)
    return 0
