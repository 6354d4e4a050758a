"""The simulated population's numbers and curves: what ``segue profile simulate`` prints and draws.

The bar (docs/personalisation.md): after 50 feedback events the learner's cumulative regret is at
most half of random choice's, its favourite settings beat the spec's own music for at least 80% of
listeners, and no choice ever leaves the spec's bounds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from segue.listener.simulate import POLICIES, Evaluation, evaluate
from segue.spec.personal import NEUTRAL

BAR_EVENTS = 50
BAR_RATIO = 0.5
BAR_CLOSER = 0.8


def evaluate_spec(spec: Any, *, listeners: int = 200, events: int = 100, seed: int = 17) -> Evaluation:
    """Every policy on a population of simulated listeners of ``spec``'s ``personalise`` bounds."""
    p = getattr(spec, "personalise", None)
    if p is None or not p.bounds():
        raise ValueError(f"spec {spec.name!r} has no 'personalise' bounds to learn within")
    if not 1 <= listeners <= 10_000 or not BAR_EVENTS <= events <= 1_000:
        raise ValueError(f"listeners must be 1..10000 and events {BAR_EVENTS}..1000")
    bounds = p.bounds()
    states = list(p.states) if p.states else [s.name for s in spec.states]
    return evaluate(bounds, {k: NEUTRAL.get(k, 0.0) for k in bounds}, themes=len(p.themes), states=states,
                    listeners=listeners, events=events, seed=seed)


def summary(ev: Evaluation) -> dict[str, Any]:
    cum = {p: ev.cumulative(p, BAR_EVENTS) for p in POLICIES}
    conv = ev.converged_at[~np.isnan(ev.converged_at)]
    return {
        "listeners": ev.listeners, "events": ev.events,
        "cumulative_regret_50": {p: round(v, 3) for p, v in cum.items()},
        "ratio_to_random": round(cum["learner"] / cum["random"], 3),
        "ratio_to_fixed": round(cum["learner"] / cum["fixed"], 3),
        "mean_regret_last_10": {p: round(float(ev.regret[p][:, -10:].mean()), 4) for p in POLICIES},
        "closer_than_default": round(ev.closer_than_default, 3),
        "converged_share": round(len(conv) / ev.listeners, 3),
        "converged_median_events": float(np.median(conv)) if len(conv) else None,
        "out_of_bounds": ev.out_of_bounds, "choices_checked": ev.choices,
        "bar_holds": bool(cum["learner"] <= BAR_RATIO * cum["random"] and ev.closer_than_default >= BAR_CLOSER
                          and ev.out_of_bounds == 0),
    }


def text(s: dict[str, Any]) -> str:
    c = s["cumulative_regret_50"]
    lines = [
        f"simulated listeners: {s['listeners']}, feedback events each: {s['events']}",
        f"cumulative regret after {BAR_EVENTS} events: learner {c['learner']:.2f}, fixed (spec defaults) "
        f"{c['fixed']:.2f}, random {c['random']:.2f}",
        f"  learner / random = {s['ratio_to_random']:.3f} (bar ≤ {BAR_RATIO}), learner / fixed = {s['ratio_to_fixed']:.3f}",
        "mean regret over the last 10 events: " + ", ".join(f"{p} {v:.3f}" for p, v in s["mean_regret_last_10"].items()),
        f"learner's favourite beats the spec's own music for {100 * s['closer_than_default']:.1f}% of listeners "
        f"(bar ≥ {100 * BAR_CLOSER:.0f}%)",
        f"converged (regret < 0.1 over every later 10 events) for {100 * s['converged_share']:.1f}% of listeners, "
        f"median after {s['converged_median_events']} events",
        f"choices outside the spec's bounds: {s['out_of_bounds']} of {s['choices_checked']} checked",
        f"bar: {'holds' if s['bar_holds'] else 'does NOT hold'}",
    ]
    return "\n".join(lines)


def plot(ev: Evaluation, folder: Path) -> list[Path]:
    """Regret curves (per event and cumulative) and the convergence histogram, as PNGs in ``folder``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    colours = {"learner": "#c0392b", "fixed": "#2c3e50", "random": "#95a5a6"}
    labels = {"learner": "learner (Thompson sampling)", "fixed": "fixed (spec defaults)", "random": "random"}
    x = np.arange(1, ev.events + 1)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for p in POLICIES:
        r = ev.regret[p]
        axes[0].plot(x, r.mean(axis=0), color=colours[p], label=labels[p])
        cum = np.cumsum(r, axis=1)
        m = cum.mean(axis=0)
        lo, hi = np.percentile(cum, [25, 75], axis=0)
        axes[1].plot(x, m, color=colours[p], label=labels[p])
        axes[1].fill_between(x, lo, hi, color=colours[p], alpha=0.15, linewidth=0)
    axes[0].set(title="regret per feedback event (mean)", xlabel="feedback events", ylabel="regret")
    axes[1].axvline(BAR_EVENTS, color="#777", linestyle=":", linewidth=1)
    axes[1].set(title="cumulative regret (mean, 25–75%)", xlabel="feedback events", ylabel="cumulative regret")
    axes[0].legend(frameon=False, fontsize=8)
    fig.suptitle(f"{ev.listeners} simulated listeners", fontsize=10)
    fig.tight_layout()
    curves = folder / "personal_regret.png"
    fig.savefig(curves, dpi=110)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(5, 3.2))
    conv = ev.converged_at[~np.isnan(ev.converged_at)]
    ax.hist(conv, bins=np.arange(0, ev.events + 6, 5), color=colours["learner"], alpha=0.8)
    ax.set(title=f"events until the learner converges ({ev.listeners - len(conv)} of {ev.listeners} not in {ev.events})",
           xlabel="feedback events (regret < 0.1 over every later 10)", ylabel="listeners")
    fig.tight_layout()
    hist = folder / "personal_convergence.png"
    fig.savefig(hist, dpi=110)
    plt.close(fig)
    return [curves, hist]
