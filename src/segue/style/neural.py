"""A small neural melody model (numpy only): the next diatonic step from a window of earlier notes.

Why a network: the order-2 Markov chain sees only the last two steps. This model also sees, for
each of the last :data:`CONTEXT` notes, its scale degree, duration and metric position, and for
the note to be written its metric position, duration, how busy its bar is, the chord that sounds
under it, the key family and the kind of meter. All of these are things the composer knows
before it picks a pitch (rhythm comes first), so the model can be *conditioned* on them.

Architecture: a feed-forward neural language model. Every categorical input has a learned
embedding (tables shared across the context window); the embeddings are concatenated and go
through two ReLU layers; three output heads score the 15 candidate steps:

* a step head (15 logits),
* a target-degree head (7 logits, one per scale degree; candidate ``s`` gets the logit of the
  degree it lands on, so "the leading note rises" needs no memorising per step),
* a chord head (7 logits, one per interval above the chord's root; candidate ``s`` gets the
  logit of the interval it forms with the chord, which covers "chord tone or not").

Inference and training are plain numpy, float32. Unknown inputs have their own token, so the
Markov-compatible call :meth:`NeuralMelodyModel.step_probs` (steps only) works too.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from segue.style.analysis import N_STEPS, STEP_RANGE, rhythm_grid
from segue.limits import MAX_STYLE_BYTES, gunzip_limited
from segue.style.errors import StyleError
from segue.style.sampling import Heat

NEURAL_FORMAT = "segue-neural-melody/1"
CONTEXT = 12
"""Earlier notes the model sees (about three bars of a reel, two of an air)."""

# vocabulary sizes; the last index of each is "unknown / none"
V_STEP = N_STEPS + 1  # 15 steps + none
V_DEG = 8  # 7 scale degrees + unknown
V_DUR = 14  # 13 duration classes + unknown
V_POS = 13  # 12 metric-position classes + unknown
V_DENS = 10  # 9 bar-density classes + unknown
V_CHORD = 8  # 7 chord degrees + unknown
V_FAM = 3  # major, minor, unknown
V_METER = 4  # simple, compound, other, unknown
UNK_STEP, UNK_DEG, UNK_DUR, UNK_POS, UNK_DENS, UNK_CHORD, UNK_FAM, UNK_METER = (
    V_STEP - 1, V_DEG - 1, V_DUR - 1, V_POS - 1, V_DENS - 1, V_CHORD - 1, V_FAM - 1, V_METER - 1)
FAMILY_INDEX = {"major": 0, "minor": 1}
STEPS = np.arange(-STEP_RANGE, STEP_RANGE + 1)

# embedding widths
E_STEP, E_DEG, E_DUR, E_POS, E_DENS, E_CHORD, E_FAM, E_METER = 12, 6, 6, 6, 4, 6, 3, 3
SLOT_WIDTH = E_STEP + E_DEG + E_DUR + E_POS
INPUT_WIDTH = CONTEXT * SLOT_WIDTH + E_POS + E_DUR + E_DENS + E_CHORD + E_FAM + E_METER


# ---------------------------------------------------------------- feature classes (shared by training and composing)


@dataclass(frozen=True, slots=True)
class Grid:
    """How onsets are measured: beat length in quarter notes, beats per bar, compound or not."""

    beat: float
    beats_per_bar: int
    compound: bool
    meter_kind: int  # 0 simple, 1 compound, 2 other

    @property
    def bar(self) -> float:
        return self.beat * self.beats_per_bar


def grid_of(numerator: int, denominator: int) -> Grid:
    """The same counting grid as the rhythm tables; odd meters (5/8, 7/8) count in their note value."""
    g = rhythm_grid(numerator, denominator)
    if g is not None:
        return Grid(g.beat, g.beats_per_bar, g.compound, int(g.compound))
    beat = 4.0 / max(denominator, 1)
    return Grid(beat, max(1, numerator), False, 2)


def pos_class(onset_q: float, grid: Grid) -> int:
    """Metric position: (downbeat | other strong beat | weak beat) × (on the beat | mid-beat | quarter-beat | other)."""
    t = onset_q % grid.bar
    x = t / grid.beat
    beat = int(math.floor(x + 1e-6))
    slot = int(round((x - beat) * 12)) % 12
    if beat >= grid.beats_per_bar:
        beat = grid.beats_per_bar - 1
    if beat == 0:
        w = 0
    elif not grid.compound and beat % 2 == 0:
        w = 1
    else:
        w = 2
    if slot == 0:
        s = 0
    elif slot == 6 or (grid.compound and slot in (4, 8)):
        s = 1
    elif slot in (3, 9):
        s = 2
    else:
        s = 3
    return w * 4 + s


def dur_class(dur_q: float, grid: Grid) -> int:
    """Duration in beats on a half-octave log scale: 1/4 beat → 2, 1/2 → 4, 1 → 6, 2 → 8 …"""
    d = max(dur_q / grid.beat, 1e-3)
    return int(min(max(round(2.0 * math.log2(d)) + 6, 0), V_DUR - 2))


def dens_class(onsets_in_bar: int, grid: Grid) -> int:
    """How busy the bar is: onsets per beat in half-note steps (0, ½, 1, … ≥4)."""
    return int(min(max(round(2.0 * onsets_in_bar / grid.beats_per_bar), 0), V_DENS - 2))


def step_token(step: int | None) -> int:
    if step is None:
        return UNK_STEP
    return max(-STEP_RANGE, min(STEP_RANGE, int(step))) + STEP_RANGE


# ---------------------------------------------------------------- the network


PARAM_NAMES = ("E_step", "E_deg", "E_dur", "E_pos", "E_dens", "E_chord", "E_fam", "E_meter",
               "W1", "b1", "W2", "b2", "Wo", "bo", "Wd", "bd", "Wc", "bc")


def init_params(hidden: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)

    def emb(v: int, d: int) -> np.ndarray:
        return (rng.standard_normal((v, d)) * 0.3).astype(np.float32)

    def lin(i: int, o: int, gain: float = 2.0) -> np.ndarray:
        return (rng.standard_normal((i, o)) * math.sqrt(gain / i)).astype(np.float32)

    z = lambda n: np.zeros(n, dtype=np.float32)  # noqa: E731
    return {
        "E_step": emb(V_STEP, E_STEP), "E_deg": emb(V_DEG, E_DEG), "E_dur": emb(V_DUR, E_DUR),
        "E_pos": emb(V_POS, E_POS), "E_dens": emb(V_DENS, E_DENS), "E_chord": emb(V_CHORD, E_CHORD),
        "E_fam": emb(V_FAM, E_FAM), "E_meter": emb(V_METER, E_METER),
        "W1": lin(INPUT_WIDTH, hidden), "b1": z(hidden),
        "W2": lin(hidden, hidden), "b2": z(hidden),
        "Wo": lin(hidden, N_STEPS, 0.5), "bo": z(N_STEPS),
        "Wd": lin(hidden, 7, 0.5), "bd": z(7),
        "Wc": lin(hidden, 7, 0.5), "bc": z(7),
    }


@dataclass
class Batch:
    """Inputs of a batch of predictions, as small-integer arrays (see :func:`encode_batch`)."""

    ctx_step: np.ndarray  # (B, K)
    ctx_deg: np.ndarray  # (B, K)
    ctx_dur: np.ndarray  # (B, K)
    ctx_pos: np.ndarray  # (B, K)
    cur_pos: np.ndarray  # (B,)
    cur_dur: np.ndarray
    cur_dens: np.ndarray
    cur_chord: np.ndarray
    fam: np.ndarray
    meter: np.ndarray

    def take(self, idx: np.ndarray) -> "Batch":
        return Batch(*(getattr(self, f)[idx] for f in self.__dataclass_fields__))


def gather_indices(b: Batch) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For every candidate step: the degree it lands on and its interval above the chord root (+ masks)."""
    cur = b.ctx_deg[:, 0].astype(np.int64)
    deg_known = cur != UNK_DEG
    target = (cur[:, None] + STEPS[None, :]) % 7  # (B, 15)
    chord = b.cur_chord.astype(np.int64)
    chord_known = (chord != UNK_CHORD) & deg_known
    interval = (target - chord[:, None]) % 7
    return target, deg_known, interval, chord_known


def forward(p: dict[str, np.ndarray], b: Batch, keep: bool = False):
    """Logits (B, 15); with ``keep`` also what :func:`backward` needs."""
    n = b.ctx_step.shape[0]
    parts = [p["E_step"][b.ctx_step], p["E_deg"][b.ctx_deg], p["E_dur"][b.ctx_dur], p["E_pos"][b.ctx_pos]]
    ctx = np.concatenate(parts, axis=2).reshape(n, CONTEXT * SLOT_WIDTH)
    cur = [p["E_pos"][b.cur_pos], p["E_dur"][b.cur_dur], p["E_dens"][b.cur_dens], p["E_chord"][b.cur_chord],
           p["E_fam"][b.fam], p["E_meter"][b.meter]]
    x = np.concatenate([ctx, *cur], axis=1)
    a1 = x @ p["W1"] + p["b1"]
    h1 = np.maximum(a1, 0.0)
    a2 = h1 @ p["W2"] + p["b2"]
    h2 = np.maximum(a2, 0.0)
    logits = h2 @ p["Wo"] + p["bo"]
    target, deg_known, interval, chord_known = gather_indices(b)
    gd = h2 @ p["Wd"] + p["bd"]  # (B, 7)
    gc = h2 @ p["Wc"] + p["bc"]
    rows = np.arange(n)[:, None]
    logits = logits + gd[rows, target] * deg_known[:, None] + gc[rows, interval] * chord_known[:, None]
    if not keep:
        return logits
    return logits, (x, a1, h1, a2, h2, target, deg_known, interval, chord_known)


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def backward(p: dict[str, np.ndarray], b: Batch, cache, dlogits: np.ndarray) -> dict[str, np.ndarray]:
    """Gradients of the loss with respect to every parameter, given d loss / d logits."""
    x, a1, h1, a2, h2, target, deg_known, interval, chord_known = cache
    n = dlogits.shape[0]
    g: dict[str, np.ndarray] = {}
    g["Wo"] = h2.T @ dlogits
    g["bo"] = dlogits.sum(0)
    dgd = np.zeros((n, 7), dtype=np.float32)
    dgc = np.zeros((n, 7), dtype=np.float32)
    rows = np.repeat(np.arange(n), N_STEPS)
    np.add.at(dgd, (rows, target.ravel()), (dlogits * deg_known[:, None]).ravel())
    np.add.at(dgc, (rows, interval.ravel()), (dlogits * chord_known[:, None]).ravel())
    g["Wd"] = h2.T @ dgd
    g["bd"] = dgd.sum(0)
    g["Wc"] = h2.T @ dgc
    g["bc"] = dgc.sum(0)
    dh2 = dlogits @ p["Wo"].T + dgd @ p["Wd"].T + dgc @ p["Wc"].T
    da2 = dh2 * (a2 > 0)
    g["W2"] = h1.T @ da2
    g["b2"] = da2.sum(0)
    dh1 = da2 @ p["W2"].T
    da1 = dh1 * (a1 > 0)
    g["W1"] = x.T @ da1
    g["b1"] = da1.sum(0)
    dx = da1 @ p["W1"].T
    dctx = dx[:, : CONTEXT * SLOT_WIDTH].reshape(n, CONTEXT, SLOT_WIDTH)
    off = 0
    for name, idx, w in (("E_step", b.ctx_step, E_STEP), ("E_deg", b.ctx_deg, E_DEG),
                         ("E_dur", b.ctx_dur, E_DUR), ("E_pos", b.ctx_pos, E_POS)):
        gE = np.zeros_like(p[name])
        np.add.at(gE, idx.ravel(), dctx[:, :, off:off + w].reshape(-1, w))
        g[name] = gE
        off += w
    off = CONTEXT * SLOT_WIDTH
    for name, idx, w in (("E_pos", b.cur_pos, E_POS), ("E_dur", b.cur_dur, E_DUR), ("E_dens", b.cur_dens, E_DENS),
                         ("E_chord", b.cur_chord, E_CHORD), ("E_fam", b.fam, E_FAM), ("E_meter", b.meter, E_METER)):
        gE = g.get(name)
        if gE is None:
            gE = np.zeros_like(p[name])
            g[name] = gE
        np.add.at(gE, idx, dx[:, off:off + w])
        off += w
    return g


# ---------------------------------------------------------------- the model the composer uses


@dataclass(frozen=True, slots=True)
class NoteContext:
    """What the composer knows when it picks the pitch of the next note.

    ``history``: the earlier notes of the line, oldest first, as (degree, onset in quarters from
    the start of its bar, duration in quarters) — degree is the absolute diatonic index in the key.
    ``onset``/``duration``: the note to be written (quarters from the start of its bar).
    ``chord_degree``: the scale degree (0..6) of the chord's root under the note, or None.
    """

    history: Sequence[tuple[int, float, float]]
    onset: float
    duration: float
    onsets_in_bar: int
    chord_degree: int | None
    family: str | None
    numerator: int
    denominator: int


@dataclass(eq=False)
class NeuralMelodyModel:
    """The neural counterpart of :class:`segue.style.model.MelodyModel` (same ``step_probs`` call)."""

    params: dict[str, np.ndarray]
    meta: dict[str, Any] = field(default_factory=dict)
    chord_tone_on_strong_beat: float = 0.954
    ambitus: np.ndarray | None = None
    conditions_on_chords: bool = False
    """Whether the composer gives the model the chord (and drops its own chord-tone rule).

    The model is trained with chords for every work: the chorales' fitted from all voices, the folk
    tunes' implied by their melody (one triad per half bar, :func:`segue.style.neural_train.melody_chords`).
    Chosen on the validation works (:mod:`segue.style.neural_validate`): off, because with the
    composer's own chords the lines drifted from the scale (scale consistency OA 0.837–0.854 against
    0.860–0.871 off). Stored in the model file (``meta["compose"]``).
    """
    heat: Heat = field(default_factory=Heat)
    """Temperature and top-p of the draw, and how they follow tension and density (stored in the model
    file, ``meta["compose"]``; chosen on the validation works by :mod:`segue.style.neural_validate`).
    The old files' ``sharpness`` s reads as temperature 1/s, fixed."""
    _cache: dict = field(default_factory=dict, repr=False)

    # -- the Markov-compatible call
    def step_probs(self, prev_steps: Sequence[int]) -> np.ndarray:
        """P(next step) for steps −7..+7 given only the steps so far (every other input unknown)."""
        key = tuple(step_token(s) for s in list(prev_steps)[-CONTEXT:])
        hit = self._cache.get(key)
        if hit is not None:
            return hit.copy()
        b = _empty_batch(1)
        for j, tok in enumerate(reversed(key)):
            b.ctx_step[0, j] = tok
        p = softmax(forward(self.params, b).astype(np.float64))[0]
        if len(self._cache) < 50000:
            self._cache[key] = p
        return p.copy()

    # -- the richer call
    def note_probs(self, ctx: NoteContext) -> np.ndarray:
        """P(next step) for steps −7..+7 with the full musical context (see :class:`NoteContext`)."""
        return self.note_probs_batch([ctx])[0]

    def note_probs_batch(self, ctxs: Sequence[NoteContext]) -> np.ndarray:
        b = _empty_batch(len(ctxs))
        for i, c in enumerate(ctxs):
            encode_context(b, i, c)
        return softmax(forward(self.params, b).astype(np.float64))

    def ambitus_probs(self) -> np.ndarray:
        if self.ambitus is None or not self.ambitus.sum():
            k = np.arange(29)
            pr = np.exp(-0.5 * ((k - 9) / 2.5) ** 2)
        else:
            pr = self.ambitus.astype(float) + 0.1
        return pr / pr.sum()

    @property
    def parameter_count(self) -> int:
        return int(sum(v.size for v in self.params.values()))

    @property
    def sha256(self) -> str:
        return weights_sha256(self.params)

    def to_dict(self) -> dict[str, Any]:
        """What a style's identity covers: the format and the hash of the weights."""
        return {"format": NEURAL_FORMAT, "sha256": self.sha256, "parameters": self.parameter_count,
                "heat": [self.heat.base, self.heat.tension, self.heat.density, self.heat.top_p, self.heat.top_p_tension],
                "conditions_on_chords": self.conditions_on_chords}


def _empty_batch(n: int) -> Batch:
    def full(shape, v):
        return np.full(shape, v, dtype=np.int64)
    return Batch(full((n, CONTEXT), UNK_STEP), full((n, CONTEXT), UNK_DEG), full((n, CONTEXT), UNK_DUR),
                 full((n, CONTEXT), UNK_POS), full(n, UNK_POS), full(n, UNK_DUR), full(n, UNK_DENS),
                 full(n, UNK_CHORD), full(n, UNK_FAM), full(n, UNK_METER))


def encode_context(b: Batch, i: int, c: NoteContext) -> None:
    grid = grid_of(c.numerator, c.denominator)
    hist = list(c.history)[-(CONTEXT + 1):]
    # slot j (0 = the previous note): its degree, duration, position and the step that led to it
    for j in range(min(CONTEXT, len(hist))):
        deg, on, dur = hist[-1 - j]
        b.ctx_deg[i, j] = int(deg) % 7
        b.ctx_dur[i, j] = dur_class(dur, grid)
        b.ctx_pos[i, j] = pos_class(on, grid)
        if len(hist) - 2 - j >= 0:
            b.ctx_step[i, j] = step_token(int(deg) - int(hist[-2 - j][0]))
    b.cur_pos[i] = pos_class(c.onset, grid)
    b.cur_dur[i] = dur_class(c.duration, grid)
    b.cur_dens[i] = dens_class(c.onsets_in_bar, grid)
    b.cur_chord[i] = UNK_CHORD if c.chord_degree is None else int(c.chord_degree) % 7
    b.fam[i] = FAMILY_INDEX.get(c.family or "", UNK_FAM)
    b.meter[i] = grid.meter_kind


# ---------------------------------------------------------------- file format


def weights_sha256(params: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for name in PARAM_NAMES:
        a = np.ascontiguousarray(params[name], dtype=np.float32)
        h.update(name.encode() + str(a.shape).encode() + a.tobytes())
    return h.hexdigest()


def save_neural(path: Path, params: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
    """gzip (mtime 0) of: 8-byte header length, JSON header (shapes, meta), raw little-endian float32."""
    arrays = {n: np.ascontiguousarray(params[n], dtype="<f4") for n in PARAM_NAMES}
    header = {"format": NEURAL_FORMAT, "sha256": weights_sha256(params),
              "arrays": [[n, list(a.shape)] for n, a in arrays.items()], "meta": meta}
    hb = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    raw = len(hb).to_bytes(8, "little") + hb + b"".join(a.tobytes() for a in arrays.values())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(raw, compresslevel=9, mtime=0))


def load_neural_bytes(raw: bytes, where: str = "neural melody model") -> tuple[dict[str, np.ndarray], dict]:
    try:
        raw = gunzip_limited(raw, MAX_STYLE_BYTES, where)
        n = int.from_bytes(raw[:8], "little")
        header = json.loads(raw[8:8 + n].decode())
        if header.get("format") != NEURAL_FORMAT:
            raise ValueError(f"format {header.get('format')!r}")
        off = 8 + n
        params = {}
        for name, shape in header["arrays"]:
            size = int(np.prod(shape)) * 4
            params[name] = np.frombuffer(raw[off:off + size], dtype="<f4").reshape(shape).astype(np.float32)
            off += size
    except (OSError, EOFError, ValueError, KeyError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StyleError(f"{where} is not a Segue neural melody model: {exc}") from exc
    if weights_sha256(params) != header["sha256"]:
        raise StyleError(f"{where} is corrupt (weights do not match their sha256)")
    return params, header.get("meta", {})
