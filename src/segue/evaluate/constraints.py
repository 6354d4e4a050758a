"""QUALITY.md §1: hard constraints, re-extracted from the output, must hold 100%.

Each piece reports, per attribute (key, range, programs, tempo, meter, length, hit points …),
whether the requested value was found in the output file. The report is the share of pieces that
satisfied each attribute and the mean over attributes; anything under 1.0 is a bug.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from segue.evaluate.errors import EvaluationError

MEAN = "mean"
"""Key of the mean over attributes in :func:`constraint_report`'s result."""


def _satisfied(attribute: str, value: bool | float) -> bool:
    """A bool is the verdict; a number is a within-piece share (e.g. of notes in key), satisfied only at 1.0."""
    if isinstance(value, bool):
        return value
    try:
        share = float(value)
    except (TypeError, ValueError) as exc:
        raise EvaluationError(f"constraint {attribute!r}: expected a bool or a share 0..1, got {value!r}") from exc
    if not (math.isfinite(share) and 0.0 <= share <= 1.0):
        raise EvaluationError(f"constraint {attribute!r}: a share must be within 0..1, got {value!r}")
    return share >= 1.0 - 1e-12


def constraint_report(checks: Sequence[Mapping[str, bool | float]]) -> dict[str, float]:
    """Per attribute, the share (0..1) of pieces that satisfied it, plus ``"mean"`` over attributes.

    ``checks`` holds one mapping per piece. An attribute missing from a piece is not counted for
    that piece (not every piece has hit points). With no checks at all the mean is 1.0 — nothing
    was requested, nothing was violated — and there are no attribute entries.
    """
    passed: dict[str, int] = {}
    seen: dict[str, int] = {}
    for piece in checks:
        for attribute, value in piece.items():
            if attribute == MEAN:
                raise EvaluationError(f"{MEAN!r} is reserved for the mean and cannot name a constraint")
            seen[attribute] = seen.get(attribute, 0) + 1
            passed[attribute] = passed.get(attribute, 0) + int(_satisfied(attribute, value))
    report = {attribute: passed[attribute] / seen[attribute] for attribute in seen}
    report[MEAN] = sum(report.values()) / len(report) if report else 1.0
    return report
