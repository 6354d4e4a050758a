"""A listener's taste: Bayesian linear regression over the musical dimensions, Thompson-sampled.

Why this model: each feedback event is one noisy number about the settings heard, and a listener's
liking of tempo, density or register is roughly single-peaked — too slow is bad, too fast is bad. A
quadratic in each normalised dimension (``z`` in 0..1 across the spec's bounds) captures a peak with
two numbers, so a few dozen events pin it down. The features come in three copies, the usual way to
share strength between contexts: one for every state, one per state (smaller prior: a state may
differ a little), and one that scales with the player's aggression (aggressive players may like it
faster). The prior is centred on the spec's own music (a gentle peak at the neutral setting), so a
new listener first hears the music as written, and exploration starts near it.

Choosing is Thompson sampling: draw one plausible taste from the posterior and take its best
settings on a grid inside the bounds — the bounds are the grid, so no choice can leave them. The
dimensions add up, so the best setting is found dimension by dimension.

Pure numpy; no I/O. Randomness comes only from the generator passed in.
"""

from __future__ import annotations

import numpy as np

GRID = np.linspace(0.0, 1.0, 21)
"""Normalised settings a choice may take in each dimension (both bounds included)."""

REWARDS: dict[str, float] = {"like": 1.0, "skip": -1.0, "less": -0.5, "volume_down": -0.3}
"""What each feedback says about the settings heard, on one scale."""

NOISE_VAR = 0.5
"""Variance of one reward around the taste's prediction (feedback is noisy: moods, the game, chance)."""


class TasteModel:
    """Posterior over a listener's taste for one spec's personal dimensions."""

    def __init__(self, bounds: dict[str, tuple[float, float]], neutral: dict[str, float], *,
                 themes: int = 0, states: list[str] | None = None, prior_pull: float = 1.0,
                 explore: float = 0.25, state_var: float = 0.15,
                 aggression_var: float = 0.1) -> None:
        self.dims = sorted(k for k in bounds if k != "theme")
        self.bounds = {k: bounds[k] for k in self.dims}
        self.themes = max(int(themes), 0)
        self.states = list(states or [])
        self.explore = float(explore)
        d = len(self.dims)
        lo = np.array([self.bounds[k][0] for k in self.dims])
        hi = np.array([self.bounds[k][1] for k in self.dims])
        self._lo, self._span = lo, np.where(hi > lo, hi - lo, 1.0)
        self.z0 = np.array([self.normalise(k, neutral.get(k, 0.0)) for k in self.dims])
        # layout: [1 | global lin, quad (2d) | themes | aggression × lin (d) | per state lin (d)]
        self._g = 1
        self._t = 1 + 2 * d
        self._a = self._t + self.themes
        self._s = self._a + d
        n = self._s + d * len(self.states)
        self.n = n
        mean = np.zeros(n)
        var = np.full(n, 1.0)
        # the prior's peak sits on the music as written: -c (z - z0)^2 = 2c z0 z - c z^2 + const
        mean[1:1 + d] = 2 * prior_pull * self.z0
        mean[1 + d:1 + 2 * d] = -prior_pull
        var[self._t:self._a] = 0.3
        var[self._a:self._s] = aggression_var
        var[self._s:] = state_var
        self.precision = np.diag(1.0 / var)
        self.b = self.precision @ mean
        self.count = 0
        self._cache: tuple[np.ndarray, np.ndarray] | None = None

    # ------------------------------------------------------------------ units
    def normalise(self, dim: str, value: float) -> float:
        lo, hi = self.bounds[dim]
        return float(min(max((value - lo) / (hi - lo), 0.0), 1.0)) if hi > lo else 0.0

    def settings_of(self, z: np.ndarray, theme: int | None) -> dict[str, float]:
        """Normalised choices back in the spec's units (bpm, dB, …), rounded so logs stay readable."""
        out = {k: round(float(self._lo[i] + z[i] * self._span[i]), 4) for i, k in enumerate(self.dims)}
        if theme is not None and self.themes > 1:
            out["theme"] = float(theme)
        return out

    def z_of(self, settings: dict[str, float]) -> np.ndarray:
        return np.array([self.normalise(k, settings[k]) if k in settings else self.z0[i]
                         for i, k in enumerate(self.dims)])

    # ------------------------------------------------------------------ features
    def features(self, z: np.ndarray, theme: int | None, state: str | None, aggression: float) -> np.ndarray:
        d = len(self.dims)
        f = np.zeros(self.n)
        f[0] = 1.0
        f[1:1 + d] = z
        f[1 + d:1 + 2 * d] = z * z
        if self.themes > 1 and theme is not None and 0 <= theme < self.themes:
            f[self._t + int(theme)] = 1.0
        f[self._a:self._s] = (aggression - 0.5) * z
        if state in self.states:
            at = self._s + d * self.states.index(state)
            f[at:at + d] = z
        return f

    # ------------------------------------------------------------------ learning
    def update(self, settings: dict[str, float], reward: float, state: str | None = None,
               aggression: float = 0.5) -> None:
        """One observation: ``reward`` for having heard ``settings`` in ``state``."""
        theme = int(settings["theme"]) if "theme" in settings else (0 if self.themes > 1 else None)
        f = self.features(self.z_of(settings), theme, state, aggression)
        self.precision += np.outer(f, f) / NOISE_VAR
        self.b += f * float(reward) / NOISE_VAR
        self.count += 1
        self._cache = None

    def _posterior(self) -> tuple[np.ndarray, np.ndarray]:
        if self._cache is None:
            chol = np.linalg.cholesky(self.precision)
            mean = np.linalg.solve(self.precision, self.b)
            self._cache = (mean, chol)
        return self._cache

    def mean(self) -> np.ndarray:
        return self._posterior()[0]

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        """One plausible taste from the posterior (its spread scaled by ``explore``)."""
        mean, chol = self._posterior()
        # precision = L Lᵀ  ⇒  θ = mean + L⁻ᵀ ε has the posterior's covariance
        eps = rng.standard_normal(self.n)
        return mean + self.explore * np.linalg.solve(chol.T, eps)

    # ------------------------------------------------------------------ choosing
    def best(self, theta: np.ndarray, state: str | None, aggression: float = 0.5) -> tuple[np.ndarray, int | None]:
        """The grid settings (and theme) a taste ``theta`` likes most."""
        d = len(self.dims)
        lin = theta[1:1 + d] + (aggression - 0.5) * theta[self._a:self._s]
        quad = theta[1 + d:1 + 2 * d].copy()
        if state in self.states:
            at = self._s + d * self.states.index(state)
            lin = lin + theta[at:at + d]
        values = lin[:, None] * GRID[None, :] + quad[:, None] * GRID[None, :] ** 2
        z = GRID[np.argmax(values, axis=1)] if d else np.zeros(0)
        theme = int(np.argmax(theta[self._t:self._a])) if self.themes > 1 else None
        return z, theme

    def choose(self, rng: np.random.Generator, state: str | None = None, aggression: float = 0.5) -> dict[str, float]:
        """Thompson sampling: the best settings of one draw from the posterior."""
        z, theme = self.best(self.draw(rng), state, aggression)
        return self.settings_of(z, theme)

    def favourite(self, state: str | None = None, aggression: float = 0.5) -> dict[str, float]:
        """The settings the posterior mean likes most (what the model believes, without exploring)."""
        z, theme = self.best(self.mean(), state, aggression)
        return self.settings_of(z, theme)
