"""The guard in generation: ``guard_phrase`` checks each phrase as the composer writes it.

The composer calls :func:`guard_phrase` (or holds its own :class:`~segue.originality.search.Guard`)
per phrase; a flagged phrase is regenerated a bounded number of times; the results of the kept
phrases (and of the rejected attempts) go through :func:`~segue.originality.results.summarise`
into the provenance sidecar.
"""

from __future__ import annotations

from collections.abc import Sequence

from segue.music import PPQ, Note
from segue.originality.results import GuardResult, summarise
from segue.originality.search import Guard, shared_guard

__all__ = ["Guard", "GuardResult", "guard_phrase", "summarise"]


def guard_phrase(notes: Sequence[Note], ppq: int = PPQ) -> GuardResult:
    """Check one phrase against the shipped corpus and the user's default catalogue.

    The indexes are loaded on the first call (well under a second for the corpus) and kept in
    memory for the life of the process; each later call takes a few milliseconds.
    """
    return shared_guard().guard_phrase(notes, ppq)
