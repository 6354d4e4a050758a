"""What went wrong in a score spec, and where.

A composer fixes a spec in an editor, so every problem carries the file, the line, the column and
the field path (``layers[2].range``). All problems found in one pass are raised together in one
:class:`SpecError`: fixing a spec one error per run is slow and demoralising.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

PathTuple = tuple[str | int, ...]
"""A path into spec data: ``("layers", 2, "range")``."""


def format_path(path: Iterable[str | int]) -> str:
    """``("layers", 2, "range")`` → ``layers[2].range`` (how issues name a field)."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@dataclass(frozen=True, slots=True)
class SpecIssue:
    """One problem: the field ``path`` (e.g. ``layers[2].range``), 1-based ``line``/``column``
    in ``source`` (None when unknown, e.g. for specs built from a dict), and a plain-words ``message``."""

    path: str
    line: int | None
    column: int | None
    message: str
    source: str = "<spec>"

    def location(self) -> str:
        """``file:line:col`` (or fewer parts when line/column are unknown)."""
        if self.line is None:
            return self.source
        if self.column is None:
            return f"{self.source}:{self.line}"
        return f"{self.source}:{self.line}:{self.column}"

    def __str__(self) -> str:
        where = self.location()
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class LocatedError(ValueError):
    """A bad value found *inside* a field (point 3 of a curve, its y): ``at`` is the rest of the path
    below the field that pydantic reports, so the issue can point at the exact value, not the field."""

    def __init__(self, message: str, at: PathTuple):
        super().__init__(message)
        self.at = at


def _order(issue: SpecIssue) -> tuple[int, int]:
    big = 1 << 30
    return (issue.line if issue.line is not None else big, issue.column if issue.column is not None else big)


class SpecError(Exception):
    """A score spec that cannot be used. ``issues`` lists every problem found, in file order;
    ``str()`` prints them one per line as ``file:line:col: path: message`` (what the CLI shows)."""

    def __init__(self, issues: Iterable[SpecIssue]):
        unique: list[SpecIssue] = []
        for issue in issues:
            if issue not in unique:
                unique.append(issue)
        self.issues: list[SpecIssue] = sorted(unique, key=_order)
        super().__init__("\n".join(str(i) for i in self.issues))

    @property
    def paths(self) -> list[str]:
        """The field paths of all issues (handy in tests and tools)."""
        return [i.path for i in self.issues]

    def __str__(self) -> str:
        return "\n".join(str(i) for i in self.issues)
