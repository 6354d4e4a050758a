"""What ``segue check`` and ``segue index add`` print: plain functions the command line wires up.

They return text (and an exit status) instead of printing, so that the command line stays a
thin layer and tests can call them directly. User errors arrive as
:class:`~segue.originality.errors.OriginalityError`, which the command line prints as one line.
"""

from __future__ import annotations

from pathlib import Path

from segue.originality.catalogue import add_to_index
from segue.originality.check import check_file
from segue.originality.locations import default_user_index

EXIT_ORIGINAL = 0
EXIT_FLAGGED = 1
"""``segue check`` exits 1 when the file is similar to, or a copy of, a reference work (for CI scripts)."""


def cli_check(path: str | Path, index: str | Path | None = None, as_json: bool = False) -> tuple[str, int]:
    """``segue check FILE [--index FILE] [--json]`` → (text to print, exit status 0 original / 1 flagged)."""
    report = check_file(path, index)
    return (report.to_json() if as_json else report.text()), (EXIT_FLAGGED if report.flagged else EXIT_ORIGINAL)


def cli_index_add(folder: str | Path, index: str | Path | None = None) -> str:
    """``segue index add DIR [--index FILE]`` → a summary of what was added (default: the user catalogue)."""
    target = Path(index).expanduser() if index is not None else default_user_index()
    return add_to_index(folder, target).text()
