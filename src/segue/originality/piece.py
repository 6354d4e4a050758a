"""Checking everything a piece is made of: its themes before composing, every pitched layer and the
finished file afterwards — and the provenance entry that reports all of it.

Why more than the melody: a bass riff or an ostinato can be a copy as surely as a tune, and a
spec's theme can quote one before the composer writes a note. The melody weighs most: a layer
that accompanies is judged with its similarity scaled by :data:`ACCOMPANIMENT_WEIGHT` (a copied
bass figure is flagged only when it is close to note for note), the lead at full weight.

The checks take any ``guard`` callable (notes → :class:`~segue.originality.results.GuardResult`),
the one the composer was given, so that a studio's catalogue applies to all of them alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from segue.music import Note
from segue.originality.results import GuardResult, summarise
from segue.originality.verdict import ORIGINAL, worst

GuardFn = Callable[[list[Note]], GuardResult]

ACCOMPANIMENT_WEIGHT = 0.85
"""Similarity scale for layers other than the melody: a bass line or ostinato identifies a work
less than its tune does, so it needs to be closer to a known one to be flagged."""

LEAD_ROLES = frozenset({"melody", "lead", "counter_melody"})


def check_themes(themes: Mapping[str, Sequence[Note]], guard: GuardFn) -> dict[str, GuardResult]:
    """Each spec theme, checked as written (before composing)."""
    results = {name: guard(list(notes)) for name, notes in themes.items() if notes}
    return {name: r for name, r in results.items() if isinstance(r, GuardResult)}  # a custom guard may say less


def theme_warning(name: str, result: GuardResult) -> str:
    """One line for a flagged theme: which work it follows, how closely, where."""
    where = ""
    if result.passage:
        a, b = result.passage.get("reference_from", {}), result.passage.get("reference_to", {})
        where = f", bars {a.get('bar')}–{b.get('bar')} of it"
    return (f"theme {name!r} quotes {result.nearest_title} ({result.nearest_ident}{where}): similarity "
            f"{result.score:.2f}, {result.verdict}; the composer keeps the theme as written — change it "
            f"if it is not yours to use")


def _weighted(result: GuardResult, weight: float) -> dict[str, Any]:
    out = result.to_dict()
    if weight != 1.0:
        score = result.score * weight
        out["weight"] = weight
        out["weighted_score"] = round(score, 4)
        out["verdict"] = _verdict(score, result.threshold, result.verdict)
    return out


def _verdict(score: float, similar: float, unweighted: str) -> str:
    from segue.originality.verdict import DEFAULT_THRESHOLDS, Thresholds

    copy = max(similar, DEFAULT_THRESHOLDS.copy)
    return Thresholds(similar, copy).verdict(score) if unweighted != ORIGINAL else ORIGINAL


def check_layers(layers: Sequence[tuple[str, str, Sequence[Note]]], guard: GuardFn) -> list[dict[str, Any]]:
    """Every pitched layer ``(name, role, notes)`` of the finished piece, then the whole file
    (every layer together, heard from the top: the skyline), each as one line."""
    out: list[dict[str, Any]] = []
    everything: list[Note] = []
    for name, role, notes in layers:
        if not notes:
            continue
        everything.extend(notes)
        weight = 1.0 if role in LEAD_ROLES else ACCOMPANIMENT_WEIGHT
        result = guard(list(notes))
        if isinstance(result, GuardResult):  # a custom guard may answer only flagged / not flagged
            out.append({"layer": name, "role": role, **_weighted(result, weight)})
    if len([x for x in layers if x[2]]) > 1:
        result = guard(sorted(everything))
        if isinstance(result, GuardResult):
            out.append({"layer": "(whole file)", "role": "all", **result.to_dict()})
    return out


def piece_summary(kept: Sequence[GuardResult], rejected: Sequence[GuardResult],
                  themes: Mapping[str, GuardResult] | None = None,
                  layers: Sequence[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The provenance entry: the phrase-by-phrase record of composing (:func:`summarise`), the
    themes as given, every layer and the whole file; ``verdict`` is the worst of all of them."""
    out = summarise(kept, rejected)
    out["phrases_verdict"] = out["verdict"]
    theme_rows = [{"theme": name, **r.to_dict()} for name, r in (themes or {}).items()]
    out["themes"] = theme_rows
    out["layers"] = list(layers or [])
    out["verdict"] = worst([out["phrases_verdict"], *(t["verdict"] for t in theme_rows),
                            *(x["verdict"] for x in out["layers"])])
    return out
