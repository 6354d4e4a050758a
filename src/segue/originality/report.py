"""What a check says: the nearest works, the passages they share with the checked music, a verdict.

A composer reads the text; a build pipeline reads the JSON (same content). Bar and beat numbers
are the ones printed in each score (a pickup bar is bar 0 in notation files).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from segue.originality.bars import BarBeat
from segue.originality.verdict import ORIGINAL, Thresholds


@dataclass(frozen=True, slots=True)
class Passage:
    """A stretch of the checked music and the stretch of a reference work it follows."""

    query_line: str
    reference_line: str
    notes: int  # notes in the checked stretch
    same_steps: int  # steps with the same interval in both
    query_from: BarBeat
    query_to: BarBeat
    reference_from: BarBeat
    reference_to: BarBeat

    def to_dict(self) -> dict[str, Any]:
        return {"query_line": self.query_line, "reference_line": self.reference_line, "notes": self.notes,
                "same_steps": self.same_steps, "query_from": self.query_from.to_dict(),
                "query_to": self.query_to.to_dict(), "reference_from": self.reference_from.to_dict(),
                "reference_to": self.reference_to.to_dict()}

    def text(self) -> str:
        return (f"{self.query_from} – {self.query_to} ({self.query_line}) ~ {self.reference_from} – "
                f"{self.reference_to} ({self.reference_line}); {self.notes} notes, "
                f"{self.same_steps} identical steps")


@dataclass(frozen=True, slots=True)
class Match:
    """One reference work near the checked music."""

    title: str
    ident: str
    collection: str
    source: str
    index: str  # name of the index it is in
    score: float
    verdict: str
    shared_ngrams: float  # weighted votes of shared keys along one diagonal
    passages: tuple[Passage, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "ident": self.ident, "collection": self.collection, "source": self.source,
                "index": self.index, "score": round(self.score, 4), "verdict": self.verdict,
                "shared_ngrams": round(float(self.shared_ngrams), 2), "passages": [p.to_dict() for p in self.passages]}


@dataclass(frozen=True)
class Report:
    """The result of checking one file (or one list of notes) against the reference indexes."""

    source: str
    verdict: str
    score: float
    thresholds: Thresholds
    lines: tuple[str, ...]  # the melodic lines that were checked
    matches: tuple[Match, ...]
    indexes: tuple[dict[str, Any], ...]
    elapsed_ms: float
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def flagged(self) -> bool:
        return self.verdict != ORIGINAL

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "verdict": self.verdict, "score": round(self.score, 4),
                "flagged": self.flagged, "thresholds": self.thresholds.to_dict(), "lines_checked": list(self.lines),
                "matches": [m.to_dict() for m in self.matches], "indexes": list(self.indexes),
                "elapsed_ms": round(self.elapsed_ms, 1), "warnings": list(self.warnings)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    def text(self) -> str:
        works = sum(int(i.get("works", 0)) for i in self.indexes)
        out = [f"{self.source}: {self.verdict.upper()} (highest similarity {self.score:.2f}; similar ≥ "
               f"{self.thresholds.similar:.2f}, copy ≥ {self.thresholds.copy:.2f})",
               f"checked {len(self.lines)} melodic line(s) against {works} works in "
               f"{', '.join(str(i.get('name')) for i in self.indexes)}"]
        if not self.matches:
            out.append("no reference work shares a passage with it")
        for k, m in enumerate(self.matches, start=1):
            out.append(f"{k}. {m.score:.2f} {m.verdict:<8} {m.title} [{m.collection}] ({m.ident})")
            for p in m.passages:
                out.append(f"     {p.text()}")
        out += [f"warning: {w}" for w in self.warnings]
        return "\n".join(out)
