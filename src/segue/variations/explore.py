"""Generate-and-select: variations along named axes, each inside the requested similarity band.

For every candidate a seeded generator draws a *strength* for the band (small for ``close``,
large for ``far``) and each requested axis acts on the motif in a fixed musical order (mode,
development, melody, rhythm, tempo/meter feel, model elaboration, then harmony and texture,
which dress the final line). The candidate is measured against the source with the documented
metric (:mod:`segue.variations.similarity`) and kept only if it lies in the band — and, for
``close`` and ``medium``, only if it keeps the contour (correlation ≥ 0.6) — and passes the
hard checks (scale of its key, the range, one line). If candidates keep missing on one side,
the strength drifts the other way. From the kept ones we pick, greedily, the variation least
like those already picked, so a batch is as varied as the band allows; pairwise similarities
are reported with the batch.
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from segue.compose.random import rng_for
from segue.music import MODES, Note, pitch_name
from segue.style import StyleModel, load_style
from segue.variations.arrangement import DOUBLING_PROGRAM, vary_harmony, vary_texture
from segue.variations.contour import vary_melody
from segue.variations.development import vary_development
from segue.variations.draft import Context, Draft, Layer
from segue.variations.elaborate import vary_elaboration
from segue.variations.errors import VariationError
from segue.variations.feel import vary_feel
from segue.variations.harmony import ChordChange, accompany, bass_line
from segue.variations.lines import fit_register
from segue.variations.modes import vary_mode
from segue.variations.motif import Motif
from segue.variations.rhythm import vary_rhythm
from segue.variations.similarity import BANDS, CLOSE, FAR, Similarity, band_of, similarity

AXES = ("rhythm", "melody", "harmony", "mode", "texture", "tempo", "development", "elaboration")
"""The named axes, in the order a composer would list them."""

ALIASES = {
    "contour": "melody", "pitch": "melody", "reharmonisation": "harmony", "reharmonization": "harmony",
    "chords": "harmony", "orchestration": "texture", "instrumentation": "texture", "meter": "tempo",
    "feel": "tempo", "classical": "development", "develop": "development", "model": "elaboration",
    "elaborate": "elaboration", "continue": "elaboration", "fill": "elaboration", "colour": "mode", "color": "mode",
}

ORDER = ("mode", "development", "melody", "rhythm", "tempo", "elaboration", "harmony", "texture")
"""The order in which axes act: melody-changing axes first, the arrangement around the final line last."""

_ACT = {"mode": vary_mode, "development": vary_development, "melody": vary_melody, "rhythm": vary_rhythm,
        "tempo": vary_feel, "elaboration": vary_elaboration, "harmony": vary_harmony, "texture": vary_texture}

STRENGTH = {"close": (0.05, 0.45), "medium": (0.3, 0.8), "far": (0.65, 1.0)}
"""Where a band starts drawing strengths (0..1); the draw drifts if candidates miss the band."""

BAND_CENTRE = {"close": 0.82, "medium": 0.55, "far": 0.3}
RECOGNISABLE = 0.6
"""Contour correlation that ``close`` and ``medium`` variations must keep with the source."""

BASS_PROGRAM = 32


def parse_axes(axes: str | Sequence[str]) -> tuple[str, ...]:
    """``"rhythm,harmony"`` or ``["rhythm", "harmony"]`` → canonical axis names (aliases allowed)."""
    items = [a for a in (axes.split(",") if isinstance(axes, str) else list(axes))]
    out: list[str] = []
    for raw in items:
        a = raw.strip().lower().replace("-", " ").replace("_", " ")
        a = ALIASES.get(a, a)
        if not a:
            continue
        if a not in AXES:
            near = difflib.get_close_matches(a, list(AXES) + list(ALIASES), n=1, cutoff=0.6)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise VariationError(f"unknown axis {raw.strip()!r}{hint} (axes: {', '.join(AXES)})")
        if a not in out:
            out.append(a)
    if not out:
        raise VariationError(f"no axis given (axes: {', '.join(AXES)})")
    return tuple(out)


@dataclass(frozen=True)
class Variation:
    """One variation: its melody (a :class:`Motif`, in its own key/meter/tempo), how it was made,
    its similarity to the source, and its arrangement (chords, lead program, extra layers)."""

    motif: Motif
    axes: tuple[str, ...]
    recipe: tuple[str, ...]
    similarity: Similarity
    chords: tuple[ChordChange, ...] = ()
    program: int = 0
    layers: tuple[Layer, ...] = ()
    seed: int = 0
    strength: float = 0.0
    bias: float = 0.0

    @property
    def band(self) -> str:
        return self.similarity.band

    @property
    def melody(self) -> Layer:
        return Layer("melody", self.program, self.motif.notes)

    @property
    def all_layers(self) -> tuple[Layer, ...]:
        return (self.melody, *self.layers)

    def signature(self) -> tuple:
        """What makes two variations the same music (used to drop duplicates)."""
        return (tuple((n.start, n.pitch, n.duration) for n in self.motif.notes), str(self.motif.meter),
                self.motif.bpm, tuple((c.start, c.symbol) for c in self.chords), self.program,
                tuple((ly.name, ly.program, len(ly.notes)) for ly in self.layers))

    def as_dict(self) -> dict[str, object]:
        return {"name": self.motif.name, "axes": list(self.axes), "recipe": list(self.recipe),
                **self.similarity.as_dict(), "key": self.motif.key.name(), "meter": str(self.motif.meter),
                "bpm": self.motif.bpm, "notes": len(self.motif.notes), "program": self.program,
                "chords": [c.as_dict() for c in self.chords], "layers": [ly.name for ly in self.layers],
                "seed": self.seed, "strength": round(self.strength, 3)}


@dataclass
class Batch:
    """The result of :func:`vary`: variations plus the numbers that say how well the request was met."""

    source: Motif
    variations: list[Variation]
    axes: tuple[str, ...]
    band: str
    low: int
    high: int
    pairwise: np.ndarray
    generated: int = 0
    in_band: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    remarks: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def hit_rate(self) -> float:
        """Share of generated candidates that landed in the band (and kept the contour where asked)."""
        return self.in_band / self.generated if self.generated else 0.0

    @property
    def max_pairwise(self) -> float:
        n = len(self.variations)
        return float(max((self.pairwise[i, j] for i in range(n) for j in range(i + 1, n)), default=0.0))

    @property
    def mean_pairwise(self) -> float:
        n = len(self.variations)
        vals = [self.pairwise[i, j] for i in range(n) for j in range(i + 1, n)]
        return float(np.mean(vals)) if vals else 0.0

    @property
    def diverse(self) -> bool:
        """Every pair of variations is below the ``close`` threshold: they are really different."""
        return self.max_pairwise < CLOSE

    def summary(self) -> dict[str, object]:
        return {
            "source": self.source.describe(), "axes": list(self.axes), "band": self.band,
            "range": [pitch_name(self.low), pitch_name(self.high)], "returned": len(self.variations),
            "generated": self.generated, "in_band": self.in_band, "hit_rate": round(self.hit_rate, 3),
            "rejected": dict(self.rejected), "pairwise_max": round(self.max_pairwise, 4),
            "pairwise_mean": round(self.mean_pairwise, 4), "pairwise_below_close": self.diverse,
            "pairwise": [[round(float(x), 4) for x in row] for row in self.pairwise],
            "remarks": list(self.remarks) + list(self.source.remarks), "seconds": round(self.seconds, 3),
        }


# ------------------------------------------------------------------------------- building one

def default_range(motif: Motif) -> tuple[int, int]:
    """The source's range widened by a fifth each way: room to vary, still the same register."""
    lo, hi = motif.ambitus
    return max(0, lo - 7), min(127, hi + 7)


def make_draft(motif: Motif, program: int = 0) -> Draft:
    return Draft(line=motif.line(), key=motif.key, meter=motif.meter, bpm=motif.bpm, program=program)


def realise(draft: Draft, ctx: Context, name: str) -> tuple[Motif, tuple[Layer, ...]]:
    """The draft as notes: melody folded into the range, chords played by the arrangement's layers."""
    line = fit_register(draft.line, draft.key, ctx.low, ctx.high)
    bar = draft.meter.ticks_per_bar
    vel = [88 if n.onset % bar == 0 else 78 for n in sorted(line, key=lambda m: m.onset)]
    motif = Motif.from_line(line, draft.key, draft.meter, bpm=draft.bpm, name=name, velocities=vel)
    layers: list[Layer] = []
    if draft.chords:
        layers.append(Layer("accompaniment", draft.accompaniment_program or 0,
                            tuple(accompany(draft.chords, draft.meter, draft.accompaniment or "block"))))
        if draft.bass:
            layers.append(Layer("bass", BASS_PROGRAM, tuple(bass_line(draft.chords, draft.meter))))
    if draft.doubling:
        layers.append(Layer("doubling", DOUBLING_PROGRAM[draft.doubling], tuple(_doubling(motif, draft.doubling))))
    return motif, tuple(layers)


def _doubling(motif: Motif, kind: str) -> list[Note]:
    key = motif.key
    out = []
    for n in motif.notes:
        if kind == "third below":
            p = key.pitch_of_degree(key.degree_of(n.pitch) - 2)  # type: ignore[operator]
        else:
            p = n.pitch + (12 if kind == "octave above" else -12)
        if 0 <= p <= 127:
            out.append(Note(n.start, p, n.duration, max(1, n.velocity - 14)))
    return out


def check_variation(v: Variation, low: int, high: int) -> list[str]:
    """Hard constraints, re-measured on the notes: scale of the variation's key, range, one line."""
    problems = []
    key = v.motif.key
    outside = [n.pitch for n in v.motif.notes if not key.contains(n.pitch)]
    if outside:
        problems.append(f"{len(outside)} melody notes outside {key.name()}")
    stray = [n.pitch for n in v.motif.notes if not low <= n.pitch <= high]
    if stray:
        problems.append(f"{len(stray)} melody notes outside {pitch_name(low)}–{pitch_name(high)}")
    ns = v.motif.notes
    if any(a.end > b.start for a, b in zip(ns, ns[1:])) or any(n.start < 0 for n in ns):
        problems.append("melody is not a single line")
    for ly in v.layers:
        if any(not key.contains(n.pitch) for n in ly.notes):
            problems.append(f"layer {ly.name} leaves {key.name()}")
    return problems


ARRANGEMENT = ("harmony", "texture")
"""Axes that dress the line without changing it; they act last, so they can be deferred."""


def _variation(source: Motif, ctx: Context, axes: tuple[str, ...], seed: int, index: int, band: str,
               bias: float, arrange: bool = True) -> Variation:
    """Candidate ``index``: its own generator, so it can be rebuilt exactly (with its arrangement
    when ``arrange``; the arrangement axes act last, so skipping them leaves the melody the same)."""
    rng = rng_for(seed, "vary", band, index)
    lo, hi = STRENGTH[band]
    strength = float(np.clip(rng.uniform(lo, hi) + bias, 0.02, 1.0))
    draft = make_draft(source)
    for axis in ORDER:
        if axis in axes and (arrange or axis not in ARRANGEMENT):
            s = float(np.clip(strength * rng.uniform(0.75, 1.25), 0.02, 1.0))
            draft = _ACT[axis](draft, ctx, rng, s)
    motif, layers = realise(draft, ctx, f"{source.name} var")
    return Variation(motif, axes, tuple(draft.recipe), similarity(source, motif), tuple(draft.chords or ()),
                     draft.program, layers, index, strength, bias)


def _arrangement_print(v: Variation, beats: int) -> tuple[np.ndarray, int, tuple]:
    """What the arrangement likeness compares: the chord on each beat, the lead, the layers."""
    step = v.motif.meter.ticks_per_beat
    names = []
    for b in range(beats):
        t = b * step
        names.append(next((c.symbol for c in v.chords if c.start <= t < c.end), ""))
    return np.array(names, dtype=object), v.program, tuple(sorted((ly.name, ly.program) for ly in v.layers))


def _likeness(a: tuple[np.ndarray, int, tuple], b: tuple[np.ndarray, int, tuple]) -> float:
    """0..1: how alike two arrangements are (chords per beat, lead, layers) — a tie-breaker only."""
    same = float(np.mean(a[0] == b[0])) if len(a[0]) else 1.0
    return 0.6 * same + 0.2 * (a[1] == b[1]) + 0.2 * (a[2] == b[2])


# ------------------------------------------------------------------------------- the explorer

def vary(motif: Motif, n: int = 8, axes: str | Sequence[str] = ("rhythm",), band: str = "medium", *,
         seed: int = 0, low: int | None = None, high: int | None = None, mode: str | None = None,
         style: StyleModel | None = None, max_candidates: int | None = None) -> Batch:
    """``n`` variations of ``motif`` along ``axes``, each inside ``band`` of the documented similarity.

    ``low``/``high`` bound the melody (MIDI numbers; default: the source's range ± a fifth);
    ``mode`` (``"dorian"``, ``"minor"`` …) asks the mode axis for that mode (and adds the axis).
    Deterministic for a seed. Raises :class:`VariationError` for requests that cannot be met.
    """
    started = time.perf_counter()
    axes_t = parse_axes(axes)
    band = band.strip().lower()
    if band not in BANDS:
        near = difflib.get_close_matches(band, BANDS, n=1)
        raise VariationError(f"unknown band {band!r}{f'; did you mean {near[0]!r}?' if near else ''} "
                             f"(bands: close ≥ {CLOSE}, medium, far ≤ {FAR})")
    if not 1 <= n <= 64:
        raise VariationError(f"ask for 1 to 64 variations, not {n}")
    if not motif.notes:
        raise VariationError(f"{motif.name} has no notes to vary")
    if len(motif.notes) < 2:
        raise VariationError(f"{motif.name} is a single note ({pitch_name(motif.notes[0].pitch)}): a variation "
                             "changes intervals, rhythm and contour, which need at least two notes; add notes, "
                             "or let the style model continue it first (continue_motif)")
    remarks: list[str] = []
    if mode is not None:
        mode = mode.strip().lower().replace(" ", "_")
        if mode not in MODES:
            raise VariationError(f"unknown mode {mode!r} (modes: {', '.join(MODES)})")
        if MODES[mode] == MODES[motif.key.mode]:
            raise VariationError(f"{motif.name} is already in {motif.key.name()}; ask for another mode")
        if "mode" not in axes_t:
            axes_t = axes_t + ("mode",)
            remarks.append(f"mode {mode} asked for: the mode axis was added")
    d_lo, d_hi = default_range(motif)
    lo_p, hi_p = (d_lo if low is None else int(low)), (d_hi if high is None else int(high))
    if not 0 <= lo_p < hi_p <= 127 or hi_p - lo_p < 12:
        raise VariationError(f"the range {lo_p}–{hi_p} must lie in MIDI 0..127 and span at least an octave")
    ctx = Context(motif, style or load_style(None), lo_p, hi_p, mode)

    budget = max_candidates or max(96, 24 * n)
    per_round = max(24, 4 * n)
    bias = 0.0
    pool: list[Variation] = []
    seen: set[tuple] = set()
    rejected = {"too similar": 0, "too far": 0, "contour lost": 0, "duplicate": 0, "constraint": 0}
    seen_values: list[float] = []
    generated = 0
    next_check = 0
    # where the melody moves, choose by melody and dress only the chosen ones (the arrangement is costly)
    defer = any(a not in ARRANGEMENT for a in axes_t)
    chosen: list[Variation] = []
    while generated < budget:
        above = below = 0
        for _ in range(per_round):
            v = _variation(motif, ctx, axes_t, seed, generated, band, bias, arrange=not defer)
            generated += 1
            value = v.similarity.overall
            seen_values.append(value)
            b = band_of(value)
            if check_variation(v, lo_p, hi_p):
                rejected["constraint"] += 1
            elif b != band:
                if _above(value, band):
                    rejected["too similar"] += 1
                    above += 1
                else:
                    rejected["too far"] += 1
                    below += 1
            elif band != "far" and v.similarity.contour_correlation < RECOGNISABLE:
                rejected["contour lost"] += 1
                below += 1
            elif v.signature() in seen:
                rejected["duplicate"] += 1
            else:
                seen.add(v.signature())
                pool.append(v)
        if above > below:
            bias = min(bias + 0.12, 0.6)
        elif below > above:
            bias = max(bias - 0.12, -0.6)
        # try a selection when the pool first holds enough, then each time it has grown by half
        if len(pool) >= max(next_check, min(2 * n, n + 8)) or generated >= budget:
            next_check = int(len(pool) * 1.5) + 1
            chosen = select(_sample(pool, SELECT_FROM), n, band)
            if len(chosen) == n and _pairwise_ok(chosen):
                break
    if not pool:
        raise VariationError(_no_hit_message(motif, axes_t, band, seen_values))
    if not chosen:
        chosen = select(_sample(pool, SELECT_FROM), n, band)
    if defer and any(a in ARRANGEMENT for a in axes_t):
        chosen = [_variation(motif, ctx, axes_t, seed, v.seed, band, v.bias) for v in chosen]
    chosen = [replace(v, motif=v.motif.with_(name=f"{motif.name} var {i}")) for i, v in enumerate(chosen, start=1)]
    if len(chosen) < n:
        remarks.append(f"only {len(chosen)} distinct variation(s) of {n} landed in the {band} band "
                       f"({generated} tries)")
    pw = pairwise(chosen)
    batch = Batch(motif, chosen, axes_t, band, lo_p, hi_p, pw, generated, len(pool) + rejected["duplicate"],
                  {k: v for k, v in rejected.items() if v}, remarks)
    if len(chosen) > 1 and not batch.diverse:
        if all(v.similarity.overall >= 0.999 for v in chosen):
            batch.remarks.append("these axes keep the melody, so the variations differ in their arrangement "
                                 "(chords, instruments), not in their notes")
        else:
            batch.remarks.append(f"some pairs of variations are close to each other (max pairwise "
                                 f"{batch.max_pairwise:.2f} ≥ {CLOSE}): the band leaves little room along these axes")
    batch.seconds = time.perf_counter() - started
    return batch


SELECT_FROM = 160
"""Selection looks at no more than this many kept candidates (spread over their similarities)."""


def _sample(pool: Sequence[Variation], most: int) -> list[Variation]:
    """At most ``most`` candidates, evenly spread over the pool sorted by similarity to the source."""
    if len(pool) <= most:
        return list(pool)
    ranked = sorted(pool, key=lambda v: (v.similarity.overall, v.seed))
    return [ranked[(k * len(ranked)) // most] for k in range(most)]


def _pairwise_ok(vs: Sequence[Variation]) -> bool:
    return all(similarity(a.motif, b.motif).overall < CLOSE for i, a in enumerate(vs) for b in vs[i + 1:])


def pairwise(vs: Sequence[Variation]) -> np.ndarray:
    """Similarity of every pair of variations (1 on the diagonal), by the same metric."""
    n = len(vs)
    m = np.eye(n)
    for i in range(n):
        for j in range(i + 1, n):
            m[i, j] = m[j, i] = similarity(vs[i].motif, vs[j].motif).overall
    return m


def select(pool: Sequence[Variation], n: int, band: str, *, starts: int = 4) -> list[Variation]:
    """Greedy farthest-first choice: from a start, always take the candidate least like everything
    taken so far (melody first, arrangement to break ties). Several starts (nearest the band's
    centre, the farthest from the source, the nearest, and others spread through the pool); the
    batch with the smallest largest pairwise similarity wins."""
    if not pool:
        return []
    pool = list(pool)
    cache: dict[tuple[int, int], float] = {}
    melodies = [tuple((n.start, n.pitch, n.duration) for n in v.motif.notes) for v in pool]
    beats = max(v.motif.length // v.motif.meter.ticks_per_beat for v in pool)
    prints = [_arrangement_print(v, beats) for v in pool]

    def sim(a: int, b: int) -> float:
        k = (a, b) if a < b else (b, a)
        if k not in cache:
            cache[k] = 1.0 if melodies[a] == melodies[b] else similarity(pool[a].motif, pool[b].motif).overall
        return cache[k]

    by_value = sorted(range(len(pool)), key=lambda i: (pool[i].similarity.overall, pool[i].seed))
    centre = BAND_CENTRE[band]
    firsts = [min(range(len(pool)), key=lambda i: (abs(pool[i].similarity.overall - centre), pool[i].seed)),
              by_value[0], by_value[-1]] + [by_value[(k * len(pool)) // (starts + 1)] for k in range(1, starts)]
    best: tuple[float, float, list[int]] | None = None
    for first in dict.fromkeys(firsts):
        chosen = [first]
        rest = [i for i in range(len(pool)) if i != first]
        worst_mel = {i: sim(first, i) for i in rest}
        worst_arr = {i: _likeness(prints[first], prints[i]) for i in rest}
        while rest and len(chosen) < n:
            pick_i = min(rest, key=lambda i: (round(worst_mel[i], 6), worst_arr[i], pool[i].seed))
            chosen.append(pick_i)
            rest.remove(pick_i)
            for i in rest:
                worst_mel[i] = max(worst_mel[i], sim(pick_i, i))
                worst_arr[i] = max(worst_arr[i], _likeness(prints[pick_i], prints[i]))
        pairs = [sim(a, b) for x, a in enumerate(chosen) for b in chosen[x + 1:]]
        score = (max(pairs, default=0.0), float(np.mean(pairs)) if pairs else 0.0, chosen)
        if best is None or score[:2] < best[:2]:
            best = score
    assert best is not None
    return [pool[i] for i in best[2]]


def _above(value: float, band: str) -> bool:
    """Whether a similarity misses ``band`` on the similar side."""
    return (band == "medium" and value >= CLOSE) or (band == "far" and value > FAR)


def _no_hit_message(motif: Motif, axes: tuple[str, ...], band: str, values: list[float]) -> str:
    lo, hi = (min(values), max(values)) if values else (0.0, 0.0)
    want = {"close": f"≥ {CLOSE}", "medium": f"between {FAR} and {CLOSE}", "far": f"≤ {FAR}"}[band]
    msg = (f"no variation of {motif.name} along {', '.join(axes)} landed in the {band} band ({want}): "
           f"{len(values)} tries measured {lo:.2f}–{hi:.2f}")
    if values and all(_above(v, band) for v in values):
        more = [a for a in ("development", "elaboration", "melody", "rhythm") if a not in axes]
        add = f"add {', '.join(more)} or " if more else ""
        return msg + f"; these axes keep too much of the melody for that band — {add}ask for a closer band"
    if values and all(band_of(v) != band and not _above(v, band) for v in values):
        return msg + "; these axes change the melody too much for that band — ask for a farther band"
    return msg + "; those in the band lost the motif's contour — try other axes or a farther band"
