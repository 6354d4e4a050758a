"""The guard's answer for one generated phrase, and the summary that goes into the provenance sidecar."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from segue.originality.melody import METHOD
from segue.originality.verdict import ORIGINAL, worst


@dataclass(frozen=True, slots=True)
class GuardResult:
    """Whether one phrase may be kept: its highest similarity to any reference work and to which.

    ``flagged`` phrases (similarity at or above ``threshold``) should be regenerated. The
    passage, when flagged, gives the phrase's tick range and the bars of the work it follows.
    """

    verdict: str
    score: float
    threshold: float
    notes: int
    elapsed_ms: float
    nearest_title: str | None = None
    nearest_ident: str | None = None
    nearest_collection: str | None = None
    passage: dict[str, Any] | None = None
    indexes: tuple[str, ...] = ()  # "name@fingerprint" of every index checked against

    @property
    def flagged(self) -> bool:
        return self.verdict != ORIGINAL

    @property
    def passed(self) -> bool:
        return not self.flagged

    def to_dict(self) -> dict[str, Any]:
        # no timing here: this goes into provenance, which must be the same every time the same music is made
        out: dict[str, Any] = {"verdict": self.verdict, "score": round(self.score, 4), "threshold": self.threshold,
                               "notes": self.notes}
        if self.nearest_ident is not None:
            out["nearest"] = {"title": self.nearest_title, "ident": self.nearest_ident,
                              "collection": self.nearest_collection}
        if self.passage is not None:
            out["passage"] = self.passage
        return out


def summarise(results: Sequence[GuardResult], rejected: Sequence[GuardResult] = ()) -> dict[str, Any]:
    """The originality part of a provenance sidecar.

    ``results``: the guard's answers for the phrases that were kept in the output.
    ``rejected``: answers for phrases that were flagged and regenerated (logged, so that a
    reader can see the guard at work). Small, JSON-ready, and free of timings, so the same music
    gives the same summary (``GuardResult.elapsed_ms`` is there for logs).
    """
    kept = list(results)
    scores = [r.score for r in kept]
    nearest: dict[str, dict[str, Any]] = {}
    for r in kept:
        if r.nearest_ident is not None and r.score > 0:
            seen = nearest.get(r.nearest_ident)
            if seen is None or r.score > seen["score"]:
                nearest[r.nearest_ident] = {"title": r.nearest_title, "ident": r.nearest_ident,
                                            "collection": r.nearest_collection, "score": round(r.score, 4)}
    top = sorted(nearest.values(), key=lambda d: (-d["score"], d["ident"]))[:3]
    thresholds = sorted({r.threshold for r in [*kept, *rejected]})
    indexes = sorted({i for r in [*kept, *rejected] for i in r.indexes})
    return {
        "method": METHOD,
        "threshold": thresholds[0] if len(thresholds) == 1 else thresholds,
        "indexes": indexes,
        "phrases_checked": len(kept),
        "phrases_flagged": sum(r.flagged for r in kept),
        "phrases_regenerated": len(rejected),
        "verdict": worst([r.verdict for r in kept]),
        "max_score": round(max(scores), 4) if scores else 0.0,
        "mean_score": round(sum(scores) / len(scores), 4) if scores else 0.0,
        "nearest": top,
        "rejected": [r.to_dict() for r in rejected][:20],
    }
