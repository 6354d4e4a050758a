"""Originality guard (apps floor): is this music a copy of an existing work?

Melodies are fingerprinted independently of key and tempo (n-grams of interval and duration
ratio), looked up in a SQLite reference index (the public-domain training corpus ships
pre-indexed; users add their catalogues), and confirmed by local alignment, which also says
which passages match, at which bars. ``docs/originality.md`` explains the method and how the
thresholds were calibrated.

Entry points:

* :func:`check_file` / :func:`check_notes` → :class:`Report` (text and JSON);
* :func:`guard_phrase` / :class:`Guard` → :class:`GuardResult`, per phrase while composing;
  :func:`summarise` for the provenance sidecar;
* :func:`add_to_index` for a user's catalogue;
* :func:`cli_check`, :func:`cli_index_add` for the command line.
"""

from segue.originality.catalogue import AddReport, add_to_index
from segue.originality.check import check_file, check_notes
from segue.originality.cli import cli_check, cli_index_add
from segue.originality.errors import OriginalityError
from segue.originality.guard import guard_phrase
from segue.originality.report import Match, Passage, Report
from segue.originality.results import GuardResult, summarise
from segue.originality.search import Guard
from segue.originality.store import IndexInfo, ReferenceIndex
from segue.originality.verdict import COPY, DEFAULT_THRESHOLDS, ORIGINAL, SIMILAR, Thresholds

__all__ = [
    "OriginalityError", "check_file", "check_notes", "Report", "Match", "Passage",
    "guard_phrase", "Guard", "GuardResult", "summarise", "add_to_index", "AddReport",
    "ReferenceIndex", "IndexInfo", "Thresholds", "DEFAULT_THRESHOLDS", "ORIGINAL", "SIMILAR", "COPY",
    "cli_check", "cli_index_add",
]
