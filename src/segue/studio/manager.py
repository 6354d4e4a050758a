"""The studio's sessions: creation with limits, look-up, and clean-up.

A session ends when its last socket closes, when it is deleted, when nobody connected to it
within ``connect_timeout_s`` of its creation, or when the server shuts down. Stopping an engine
joins its producer thread, so it runs in a worker thread and never blocks the event loop.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from segue.engine.live import ProducerPool
from segue.studio.sessions import StudioSession


class SessionLimitError(Exception):
    """Too many sessions are running; the message says how many are allowed."""


class SessionManager:
    """Owns every :class:`StudioSession` of one studio server."""

    def __init__(self, max_sessions: int = 16, connect_timeout_s: float = 60.0, sample_rate: int = 44100) -> None:
        self.max_sessions = max_sessions
        self.connect_timeout_s = connect_timeout_s
        self.sample_rate = sample_rate
        self._sessions: dict[str, StudioSession] = {}
        self._lock = threading.Lock()
        self._starting = 0  # sessions being created (their places are taken)
        self.closed_total = 0
        # one render thread for every session (the studio's pacer is already one clock for all of them):
        # that is what lets one core carry ~20 sessions instead of ~15 (docs/benchmarks-engine.md)
        self.pool = ProducerPool()

    def create(self, spec: Any, *, text: str, name: str, base_dir: Path | None,
               seed: int | None = None) -> StudioSession:
        """Start an engine for ``spec`` (blocking: primes the audio queue)."""
        # reserve the place under the lock: checking, then creating outside it let 40 concurrent
        # requests make 21 sessions against a limit of 16
        with self._lock:
            if len(self._sessions) + self._starting >= self.max_sessions:
                raise SessionLimitError(f"too many sessions: at most {self.max_sessions} may run at once; "
                                        "close one first")
            self._starting += 1
        try:
            session = StudioSession(spec, text=text, name=name, base_dir=base_dir, seed=seed,
                                    sample_rate=self.sample_rate, pool=self.pool)
        finally:
            with self._lock:
                self._starting -= 1
        with self._lock:
            self._sessions[session.id] = session
        return session

    def get(self, session_id: str) -> StudioSession | None:
        return self._sessions.get(session_id)

    def all(self) -> list[StudioSession]:
        return list(self._sessions.values())

    def __len__(self) -> int:
        return len(self._sessions)

    async def close(self, session_id: str) -> bool:
        """End a session: stop its pacer, close its sockets' writers and stop its engine."""
        with self._lock:
            session = self._sessions.get(session_id)
        if session is None:
            return False
        session.cancel_pacer()
        # joined here, not in a worker thread: a cancelled handler must not leave the producer running,
        # and the join is quick (the producer wakes on its stop event)
        session.stop_engine()
        with self._lock:
            if self._sessions.pop(session_id, None) is None:
                return False
        self.closed_total += 1
        return True

    async def reap(self) -> None:
        """Close sessions that nobody connected to in time (a page that created one and vanished)."""
        now = time.monotonic()
        stale = [s.id for s in self.all()
                 if not s.ever_connected and now - s.created > self.connect_timeout_s]
        for session_id in stale:
            await self.close(session_id)

    async def close_all(self) -> None:
        for session in self.all():
            await self.close(session.id)
        self.pool.close()
