"""The operating point: at which similarity a passage counts as *similar*, and at which as a *copy*.

Both numbers come from data, not taste: ``python -m segue.originality.calibrate`` measures the
similarity between different works of the corpus (how much composers of the same tradition
borrow from each other) and between works and altered copies of themselves, and
``docs/originality.md`` explains how these thresholds were read off those distributions.
"""

from __future__ import annotations

from dataclasses import dataclass

ORIGINAL, SIMILAR, COPY = "original", "similar", "copy"
VERDICTS = (ORIGINAL, SIMILAR, COPY)


@dataclass(frozen=True, slots=True)
class Thresholds:
    """``similar``: the guard flags (and the composer regenerates) at or above it. ``copy``: outright copying."""

    similar: float = 0.5
    copy: float = 0.9

    def __post_init__(self) -> None:
        if not 0.0 < self.similar <= self.copy <= 1.0:
            raise ValueError(f"thresholds must satisfy 0 < similar <= copy <= 1, got {self.similar}, {self.copy}")

    def verdict(self, score: float) -> str:
        if score >= self.copy:
            return COPY
        if score >= self.similar:
            return SIMILAR
        return ORIGINAL

    def to_dict(self) -> dict[str, float]:
        return {"similar": self.similar, "copy": self.copy}


DEFAULT_THRESHOLDS = Thresholds()


def worst(verdicts: list[str]) -> str:
    """The most serious of several verdicts (a file is as unoriginal as its least original line)."""
    return max(verdicts, key=VERDICTS.index, default=ORIGINAL)
