"""The working state of one variation while axes act on it, and what every axis may read."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from segue.music import Key, Meter, Note
from segue.style import StyleModel
from segue.variations.harmony import ChordChange
from segue.variations.motif import Line, Motif


@dataclass(frozen=True, slots=True)
class Layer:
    """An extra voice of a variation (accompaniment, bass, doubling): its GM program and notes."""

    name: str
    program: int
    notes: tuple[Note, ...]
    is_drums: bool = False


@dataclass(frozen=True)
class Context:
    """What the axes share: the source, the learned style, the range, a requested mode."""

    source: Motif
    style: StyleModel
    low: int
    high: int
    mode: str | None = None


@dataclass
class Draft:
    """A variation being made: a line of scale degrees plus key, meter, tempo, harmony and texture.

    Axes take a draft and return a new one; nothing else is shared between them, so the
    order in which they act is the only coupling (see :data:`segue.variations.explore.ORDER`).
    """

    line: Line
    key: Key
    meter: Meter
    bpm: float
    program: int = 0
    chords: list[ChordChange] | None = None
    accompaniment: str | None = None
    accompaniment_program: int | None = None
    bass: bool = False
    doubling: str | None = None
    recipe: list[str] = field(default_factory=list)

    def but(self, **changes: object) -> "Draft":
        """A copy with changes (the recipe list is copied, so drafts never share it)."""
        d = replace(self, **changes)  # type: ignore[arg-type]
        if "recipe" not in changes:
            d.recipe = list(self.recipe)
        return d

    def noting(self, text: str) -> "Draft":
        self.recipe.append(text)
        return self
