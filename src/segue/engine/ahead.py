"""Composing ahead: bars are written off the audio path, on one composer thread per process.

Why: composing a bar costs ~1–15 ms (more when the originality guard rewrites a phrase), while a
512-frame block lasts 11.6 ms. Composed inside ``Engine.pull`` those spikes forced a deep queue
ahead of the sink (six blocks, ~70 ms of control latency). Here the engine only *decides* a bar on
the audio path — it takes the musical state at the decision sample, a cheap snapshot — and hands
the writing to :class:`ComposerThread`; it collects the bar when the audio reaches the bar line,
a whole bar later.

Determinism does not depend on the thread: a bar depends only on the snapshot and its composer,
and nothing else touches that composer between the decision and the collection (the engine
collects first whenever it needs the composer). A bar that is not written by the time it is due
is written on the spot — the same notes, counted in :attr:`BarJob.late` — never different ones.
Offline (no thread) a bar is written lazily at collection, which is why a state request that is
replaced before its music is due costs nothing.
"""

from __future__ import annotations

import sys
import threading
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from segue.compose.composer import BarMusic
    from segue.compose.state import MusicalState
    from segue.engine.conductor import Deck

COMPOSE_LOCK = threading.RLock()
"""Held while any bar is written: composers share the style model and the originality guard, which
are not made for two threads at once. The audio thread takes it only for a late bar."""

SWITCH_INTERVAL_S = 0.0005
"""Python's GIL hand-over interval while a composer thread exists (the default is 5 ms): the audio
thread waits at most about this long for the interpreter while a bar is being written."""


class ComposerThread:
    """One worker thread per process that writes bars for every engine that composes ahead."""

    _instance: "ComposerThread | None" = None
    _guard = threading.Lock()

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="segue-composer")

    @classmethod
    def shared(cls) -> "ComposerThread":
        with cls._guard:
            if cls._instance is None:
                if sys.getswitchinterval() > SWITCH_INTERVAL_S:
                    sys.setswitchinterval(SWITCH_INTERVAL_S)
                cls._instance = cls()
            return cls._instance

    def submit(self, job: "BarJob") -> Future:
        return self._pool.submit(job.write)


@dataclass(eq=False)
class BarJob:
    """A bar decided at ``sample`` for ``deck`` (starting at tick ``start_tick``), written now or later."""

    deck: "Deck"
    state: "MusicalState"
    start_tick: int
    sample: int
    future: Future | None = None
    late: bool = False  # it had to be written (or waited for) on the audio thread
    _bar: "BarMusic | None" = field(default=None, repr=False)

    def write(self) -> "BarMusic":
        with COMPOSE_LOCK:
            if self._bar is None:
                self._bar = self.deck.composer.compose_bar(self.state)
            return self._bar

    def result(self) -> "BarMusic":
        """The bar, written here if no thread has written it (the same notes either way)."""
        f = self.future
        if f is None:
            return self.write()
        if f.cancel():  # not started: write it here rather than wait behind other engines' bars
            self.late = True
            return self.write()
        if not f.done():
            self.late = True
        try:
            return f.result()
        except CancelledError:  # pragma: no cover - cancel() above owns cancellation
            return self.write()

    def drop(self) -> None:
        """Never needed (a replaced state request): cancel it if no thread has started it."""
        if self.future is not None:
            self.future.cancel()


__all__ = ["BarJob", "ComposerThread", "COMPOSE_LOCK"]
