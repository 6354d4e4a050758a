"""The taste model wired to the engine: it chooses each personalised phrase and hears feedback.

The engine asks :meth:`ListenerModel.choose` as a personalised state's phrase starts composing; the
answer becomes a ``personal`` control in the control log, so replaying the log needs no model and no
profile. Feedback and play-style signals reach :meth:`ListenerModel.observe` at their exact sample;
the model learns from them at once (the next phrase may already differ). Writes to the profile are
queued and done by :meth:`flush` off the audio path (``the audio never waits``).

Determinism: each choice draws from a generator seeded by (player seed, choice number), and the
model starts from the profile as it was opened, so the same trace and the same profile render the
same samples.
"""

from __future__ import annotations

import threading
from typing import Any

from segue.compose.random import rng_for
from segue.engine.controls import Control
from segue.listener.profile import Profile
from segue.listener.taste import REWARDS, TasteModel
from segue.spec.personal import NEUTRAL

IMPLICIT: dict[str, float] = {"deaths": -0.3, "session": 0.3, "exploring": 0.2}
"""Implicit rewards, weaker than a word from the listener: a death while this music played counts a little
against it; a long session (``session`` ≥ 20 minutes) and a long stretch of exploring (``exploring`` ≥ 60
seconds) a little for it — a player who lingers is not fleeing the music. ``aggression`` is context."""

AT_LEAST = {"session": 20.0, "exploring": 60.0}


def model_for(spec: Any) -> TasteModel | None:
    """An untrained taste model for ``spec``'s ``personalise`` bounds (None if it declares none)."""
    p = getattr(spec, "personalise", None)
    if p is None or not p.bounds():
        return None
    bounds = p.bounds()
    states = list(p.states) if p.states else [s.name for s in getattr(spec, "states", None) or []]
    return TasteModel(bounds, {k: NEUTRAL.get(k, 0.0) for k in bounds}, themes=len(p.themes), states=states)


class ListenerModel:
    """Implements the engine's ``Personaliser``: a taste model, a seed, and (optionally) a profile to learn into."""

    def __init__(self, spec: Any, *, seed: int, profile: Profile | None = None, learn: bool = True) -> None:
        self.spec_name = str(spec.name)
        self.model = model_for(spec)
        self.seed = int(seed)
        self.profile = profile
        self.learn = learn
        self.choices = 0
        self.aggression = 0.5
        self._pending: list[tuple[str, Any]] = []
        self._lock = threading.Lock()
        if profile is not None:
            self.aggression = min(max(float(profile.signals().get("aggression", 0.5)), 0.0), 1.0)
            if self.model is not None:
                for row in profile.feedback():
                    if row["settings"]:  # music as written in an unpersonalised state teaches nothing here
                        self.model.update(row["settings"], row["reward"], row["state"], row["aggression"])

    # ------------------------------------------------------------------ the engine's questions
    def choose(self, state: str | None, sample: int) -> dict[str, float] | None:
        if self.model is None:
            return None
        rng = rng_for(self.seed, "personal", self.choices)
        self.choices += 1
        return self.model.choose(rng, state, self.aggression)

    def observe(self, control: Control, state: str | None, settings: dict[str, float]) -> None:
        if control.kind == "meet":
            self._queue(("met", control.name))
            return
        if control.kind == "signal":
            value = float(control.value or 0.0)
            if control.name == "aggression":
                self.aggression = min(max(value, 0.0), 1.0)
            self._queue(("signal", (control.name, value)))
            reward = IMPLICIT.get(control.name)
            if reward is None or value < AT_LEAST.get(control.name, float("-inf")):
                return
        else:
            reward = REWARDS[control.name]
        if not settings:  # the music playing was not personalised (a first phrase, a state kept as written)
            return
        if self.model is not None:
            self.model.update(settings, reward, state, self.aggression)
        self._queue(("feedback", {"spec": self.spec_name, "state": state, "name": control.name, "reward": reward,
                                  "settings": settings, "aggression": self.aggression}))

    # ------------------------------------------------------------------ the profile
    def _queue(self, item: tuple[str, Any]) -> None:
        if self.profile is not None and self.learn:
            with self._lock:
                self._pending.append(item)

    def flush(self) -> int:
        """Write what was learnt to the profile (each kind in one transaction); returns the items written."""
        with self._lock:
            items, self._pending = self._pending, []
        if not items or self.profile is None:
            return 0
        self.profile.add_feedback([x for kind, x in items if kind == "feedback"])
        for kind, x in items:
            if kind == "signal":
                self.profile.add_signal(*x)
            elif kind == "met":
                self.profile.add_meeting(self.spec_name, x)
        return len(items)
