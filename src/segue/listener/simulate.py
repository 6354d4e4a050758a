"""Simulated listeners: hidden tastes, noisy feedback, and the regret of a choice policy.

Why simulate: a real listener's taste is unknown, so the only honest way to measure a learner is
against listeners whose taste we wrote down and hid from it. Each simulated listener has an ideal
setting per dimension (anywhere inside the spec's bounds), a weight per dimension (some people care
about tempo, some about the harp), a favourite theme, a small per-state shift (they like combat a
bit faster) and an aggression level. Hearing a phrase, they get a utility in 0..1; their feedback is
that utility plus noise, cut into like / less / volume_down / skip.

Regret of a choice is the best utility inside the bounds minus the utility of what was chosen.
Policies compared: ``learner`` (the :class:`TasteModel`, Thompson sampling), ``fixed`` (the spec's
own music: every setting neutral, the first theme) and ``random`` (uniform inside the bounds).
Everything is seeded: the same seed gives the same population, feedback and numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from segue.compose.random import rng_for
from segue.listener.taste import GRID, REWARDS, TasteModel

POLICIES = ("learner", "fixed", "random")
FEEDBACK_NOISE = 0.12
"""Standard deviation of the noise on a listener's utility before it becomes feedback."""
THEME_WEIGHT = 0.15
"""Utility a listener loses when the phrase states a theme other than their favourite."""
STATE_SHIFT = 0.08
"""Spread of a listener's per-state shift of their ideal (normalised units)."""


@dataclass(frozen=True, slots=True)
class HiddenTaste:
    """One simulated listener's taste (normalised units, 0..1 across each dimension's bounds)."""

    ideal: np.ndarray
    weights: np.ndarray
    theme: int
    shifts: dict[str, np.ndarray]
    aggression: float

    def ideal_in(self, state: str | None) -> np.ndarray:
        return np.clip(self.ideal + self.shifts.get(state or "", 0.0), 0.0, 1.0)

    def utility(self, z: np.ndarray, theme: int | None, state: str | None) -> float:
        miss = float(np.sum(self.weights * (z - self.ideal_in(state)) ** 2))
        u = 1.0 - miss
        if theme is not None and theme != self.theme:
            u -= THEME_WEIGHT
        return u

    def best_utility(self, state: str | None) -> float:
        """The best a choice on the grid can do (the ideal rounded to the grid)."""
        ideal = self.ideal_in(state)
        z = GRID[np.argmin(np.abs(GRID[None, :] - ideal[:, None]), axis=1)]
        return self.utility(z, self.theme, state)


def population(n: int, dims: int, themes: int, states: list[str], seed: int) -> list[HiddenTaste]:
    """``n`` listeners with hidden tastes, drawn from ``seed``."""
    out = []
    for i in range(n):
        r = rng_for(seed, "listener", i)
        w = r.uniform(0.3, 1.7, dims)
        out.append(HiddenTaste(
            ideal=r.uniform(0.0, 1.0, dims), weights=w / w.sum() * 1.5, theme=int(r.integers(max(themes, 1))),
            shifts={s: r.normal(0.0, STATE_SHIFT, dims) for s in states}, aggression=float(r.uniform(0.0, 1.0)),
        ))
    return out


def feedback(u: float, rng: np.random.Generator) -> str:
    """What a listener says after a phrase of utility ``u`` (noisy)."""
    heard = u + rng.normal(0.0, FEEDBACK_NOISE)
    if heard > 0.8:
        return "like"
    if heard > 0.65:
        return "volume_down" if rng.random() < 0.5 else "less"
    if heard > 0.5:
        return "less"
    return "skip"


@dataclass(slots=True)
class Run:
    """One listener under one policy: regret per feedback event, the settings chosen, the final belief."""

    regret: np.ndarray
    chosen: list[dict[str, float]]
    final_regret: float
    """Regret of the settings the policy would play now (the learner: its posterior's favourite)."""
    default_regret: float
    """Regret of the spec's own music for this listener (in the same states)."""


def run_listener(taste: HiddenTaste, policy: str, *, bounds: dict[str, tuple[float, float]],
                 neutral: dict[str, float], themes: int, states: list[str], events: int, seed: int,
                 index: int) -> Run:
    """``events`` phrases and feedback events for one listener under ``policy``."""
    model = TasteModel(bounds, neutral, themes=themes, states=states)
    r_choice = rng_for(seed, "choice", policy, index)
    r_feedback = rng_for(seed, "feedback", policy, index)
    regret = np.zeros(events)
    chosen: list[dict[str, float]] = []
    fixed = model.settings_of(model.z0, 0 if themes > 1 else None)
    for t in range(events):
        state = states[t % len(states)] if states else None
        if policy == "learner":
            settings = model.choose(r_choice, state, taste.aggression)
        elif policy == "fixed":
            settings = dict(fixed)
        else:
            z = GRID[r_choice.integers(len(GRID), size=len(model.dims))]
            settings = model.settings_of(z, int(r_choice.integers(themes)) if themes > 1 else None)
        chosen.append(settings)
        theme = int(settings["theme"]) if "theme" in settings else None
        u = taste.utility(model.z_of(settings), theme, state)
        regret[t] = taste.best_utility(state) - u
        said = feedback(u, r_feedback)
        model.update(settings, REWARDS[said], state, taste.aggression)

    def mean_regret(pick) -> float:
        total = 0.0
        for state in states or [None]:
            s = pick(state)
            th = int(s["theme"]) if "theme" in s else None
            total += taste.best_utility(state) - taste.utility(model.z_of(s), th, state)
        return total / max(len(states), 1)

    final = mean_regret(lambda st: model.favourite(st, taste.aggression)) if policy == "learner" else \
        mean_regret(lambda st: fixed) if policy == "fixed" else float(np.mean(regret))
    return Run(regret, chosen, final, mean_regret(lambda st: fixed))


@dataclass(slots=True)
class Evaluation:
    """A whole population under every policy."""

    listeners: int
    events: int
    regret: dict[str, np.ndarray]
    """policy → (listeners × events) regret."""
    closer_than_default: float
    """Share of listeners for whom the learner's final favourite beats the spec's own music."""
    converged_at: np.ndarray
    """Per listener: feedback events until the learner's choices stay near their best (NaN: never)."""
    out_of_bounds: int
    """Chosen settings outside the spec's bounds, over every policy, listener and event (must be 0)."""
    choices: int

    def cumulative(self, policy: str, upto: int) -> float:
        """Mean over listeners of the regret summed over the first ``upto`` events."""
        return float(np.mean(np.sum(self.regret[policy][:, :upto], axis=1)))


def converged(regret: np.ndarray, window: int = 10, level: float = 0.1) -> float:
    """The first event from which the mean regret of every later ``window`` events stays below ``level``."""
    n = len(regret)
    if n < window:
        return float("nan")
    means = np.convolve(regret, np.ones(window) / window, mode="valid")
    below = means < level
    for t in range(len(means)):
        if below[t:].all():
            return float(t + window)
    return float("nan")


def evaluate(bounds: dict[str, tuple[float, float]], neutral: dict[str, float], *, themes: int,
             states: list[str], listeners: int = 200, events: int = 100, seed: int = 17) -> Evaluation:
    """Every policy on the same population, with the bounds checked on every choice."""
    dims = len([k for k in bounds if k != "theme"])
    people = population(listeners, dims, themes, states, seed)
    regret = {p: np.zeros((listeners, events)) for p in POLICIES}
    wins = 0
    conv = np.full(listeners, np.nan)
    outside = 0
    choices = 0
    for i, taste in enumerate(people):
        for policy in POLICIES:
            run = run_listener(taste, policy, bounds=bounds, neutral=neutral, themes=themes, states=states,
                               events=events, seed=seed, index=i)
            regret[policy][i] = run.regret
            for s in run.chosen:
                choices += 1
                outside += sum(1 for k, v in s.items() if not bounds[k][0] <= v <= bounds[k][1])
            if policy == "learner":
                wins += run.final_regret < run.default_regret
                conv[i] = converged(run.regret)
    return Evaluation(listeners, events, regret, wins / listeners, conv, outside, choices)
