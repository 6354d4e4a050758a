"""A player's soundtrack: a trace rendered, or a live session run, with their profile.

The per-player seed mixes the player's own seed into the spec's (or the trace's), so two players
hear different music from the same score, and one player hears the same music again. Things the
profile says the player met in earlier sessions are told to the engine as ``meet`` controls at the
first sample — in the control log like everything else, so a replay needs no profile.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Any

from segue.engine.controls import Control, Timeline
from segue.listener.personaliser import ListenerModel
from segue.listener.profile import Profile

FLUSH_EVERY_S = 1.0
"""How often a live session writes what it learnt to the profile (a crash loses at most this much)."""


def soundtrack_seed(base: int, player: int) -> int:
    """The seed of one player's soundtrack of a score seeded ``base``."""
    digest = hashlib.sha256(f"{int(base)}:{int(player)}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def remembered(spec: Any, profile: Profile | None) -> list[Control]:
    """``meet`` controls at sample 0 for what the profile says this player met (things the spec still binds)."""
    if profile is None or getattr(spec, "remember", None) is None:
        return []
    known = {t.name for t in spec.remember.things}
    met = profile.met(str(spec.name))
    return [Control(kind="meet", name=thing, sample=0) for thing in sorted(met) if thing in known]


def play_personal(spec: Any, timeline: Timeline, profile: Profile | None, *, learn: bool = False,
                  **kwargs: Any) -> Any:
    """Render ``timeline`` for the profile's player (``learn``: write the trace's feedback to the profile)."""
    from segue import pipeline

    base = timeline.seed if timeline.seed is not None else int(spec.seed)
    seed = soundtrack_seed(base, profile.seed) if profile is not None else base
    model = ListenerModel(spec, seed=seed, profile=profile, learn=learn)
    first = remembered(spec, profile)
    if first:
        timeline = Timeline(controls=first + list(timeline.controls), duration=timeline.duration,
                            seed=timeline.seed, sample_rate=timeline.sample_rate)
    played = pipeline.play(spec, timeline, seed=seed, personaliser=model, **kwargs)
    model.flush()
    return played


class PersonalLive:
    """A :class:`~segue.engine.live.LiveSession` for one player: their seed, taste model and memory,
    with what it learns written to their profile every :data:`FLUSH_EVERY_S` seconds and on stop."""

    def __init__(self, spec: Any, profile: Profile, **session_kwargs: Any) -> None:
        from segue.engine.live import LiveSession

        seed = soundtrack_seed(int(spec.seed), profile.seed)
        self.session = LiveSession(spec, seed=seed, **session_kwargs)
        self.model = ListenerModel(spec, seed=seed, profile=profile, learn=True)
        self.session.engine.personaliser = self.model
        for c in remembered(spec, profile):
            self.session.engine.submit(c, sample=0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._flush_loop, name="segue-profile", daemon=True)

    def start(self) -> "PersonalLive":
        self.session.start()
        self._thread.start()
        return self

    def _flush_loop(self) -> None:
        while not self._stop.wait(FLUSH_EVERY_S):
            self.model.flush()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self.session.stop()
        self.model.flush()


def load_trace(path: Path) -> Timeline:
    return Timeline.load(path)
