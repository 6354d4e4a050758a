"""Measuring a slow build: does the music grow bar by bar, without jumps, when intensity ramps?

The game brief's continuity check: a parameter ramp 0 → 1 over 16 bars must raise notes per bar
and loudness monotonically (Spearman ≥ 0.9) with no bar-to-bar step larger than twice the median
step. This module builds that experiment from any game spec (its states, transitions and stingers
removed, so only the ramp moves the music), renders it through the real engine and measures it;
the test suite asserts it and ``benchmarks/bench_ramp.py`` reports it over many seeds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from segue.audio.loudness import k_weighted
from segue.engine.controls import Timeline
from segue.evaluate import spearman
from segue.music import TempoMap
from segue.pipeline import play
from segue.spec import Spec, spec_from_dict

RAMP_BARS = 16
RAMP_TEMPO = 96.0
"""The tempo the ramp's seek speed is computed for (the calm end of the example's mood)."""


@dataclass(frozen=True)
class BuildMeasure:
    """Per-bar notes and loudness of one ramp, and the continuity figures the brief asks for."""

    seed: int
    notes: list[int]
    loudness_db: list[float]

    @staticmethod
    def _ratio(values: list[float]) -> float:
        steps = np.abs(np.diff(values))
        median = float(np.median(steps))
        return float(steps.max() / median) if median > 0 else float("inf")

    @property
    def notes_rho(self) -> float:
        return spearman(list(range(len(self.notes))), self.notes)

    @property
    def loudness_rho(self) -> float:
        return spearman(list(range(len(self.loudness_db))), self.loudness_db)

    @property
    def notes_step_ratio(self) -> float:
        """Largest bar-to-bar change in notes per bar over the median change."""
        return self._ratio([float(n) for n in self.notes])

    @property
    def loudness_step_ratio(self) -> float:
        """Largest bar-to-bar change in loudness (dB) over the median change."""
        return self._ratio(self.loudness_db)

    @property
    def rise_db(self) -> float:
        return self.loudness_db[-1] - self.loudness_db[0]

    @property
    def meets_brief(self) -> bool:
        return (self.notes_rho >= 0.9 and self.loudness_rho >= 0.9
                and self.notes_step_ratio <= 2.0 and self.loudness_step_ratio <= 2.0)


def ramp_spec(game: Spec, parameter: str = "intensity", bars: int = RAMP_BARS) -> Spec:
    """``game`` with only its parameters and mappings: ``parameter`` rests at its minimum and seeks to its
    maximum in ``bars`` bars of :data:`RAMP_TEMPO` (4/4)."""
    data = game.model_dump(mode="json", by_alias=True, exclude_none=True)
    for key in ("states", "transitions", "initial_state"):
        data.pop(key, None)
    data["stingers"] = []
    data["mood"] = {"valence": 0.0, "arousal": 0.4, "intensity": 0.0}
    bar_s = 4 * 60 / RAMP_TEMPO
    for p in data.get("parameters", []):
        if p["name"] == parameter:
            low, high = p["range"]
            p["default"] = low
            p["seek"] = (high - low) / (bars * bar_s)
    return spec_from_dict(data, base_dir=game.base_dir)


def bar_loudness_db(mix: np.ndarray, tempo_map: TempoMap, bars: list, sample_rate: int) -> list[float]:
    """Each bar's loudness: K-weighted (BS.1770) mean square over the bar, in dB (LUFS without gating)."""
    weighted = k_weighted(mix, sample_rate)
    out = []
    for b in bars:
        seg = weighted[tempo_map.sample(b.start):tempo_map.sample(b.end)]
        out.append(10.0 * float(np.log10(max(float(np.mean(np.sum(seg ** 2, axis=1))), 1e-20))))
    return out


def measure_build(game: Spec, *, seed: int | None = None, parameter: str = "intensity",
                  bars: int = RAMP_BARS, sample_rate: int = 44100) -> BuildMeasure:
    """Render the ramp of ``parameter`` through the engine and measure its first ``bars`` sounding bars."""
    spec = ramp_spec(game, parameter, bars)
    high = next(p.range[1] for p in spec.parameters if p.name == parameter)
    seconds = (bars + 4) * 4 * 60 / min(float(spec.palette.tempo.min), RAMP_TEMPO)
    trace = Timeline.from_data({"duration": seconds, "sample_rate": sample_rate,
                                "controls": [{"time": 0.0, "type": "param", "name": parameter, "value": high}]})
    played = play(spec, trace, seed=seed)
    perf = played.performance
    sounding = perf.sounding_bars()[:bars]
    notes = [sum(len(v) for v in b.notes.values()) for b in sounding]
    return BuildMeasure(seed=int(perf.seed), notes=notes, loudness_db=bar_loudness_db(played.mix, perf.tempo_map, sounding, sample_rate))
