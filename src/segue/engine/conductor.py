"""The conductor: transport, controls and the composer, bar by bar.

Controls (an affect, a state, later game parameters) arrive at any time; the conductor applies
them at the next bar it composes, keeps the tempo inside the palette and writes the tempo map
as it goes. Offline rendering is the same conductor driven as fast as possible — there is no
second code path.
"""

from __future__ import annotations

import math
from segue.compose.affect import Affect, affect_to_state
from segue.compose.composer import BarMusic, Composer, Part
from segue.compose.state import MusicalState
from segue.engine.performance import Performance
from segue.music import Key, Meter, TempoMap


def parts_from_spec(spec: object) -> list[Part]:
    """The composer's layer view of a spec's layers."""
    parts = []
    for layer in spec.layers:
        drums = bool(layer.is_percussion)
        parts.append(Part(
            name=layer.name, role=layer.role, low=0 if drums else int(layer.low), high=127 if drums else int(layer.high),
            program=int(layer.program), bank=0 if drums else int(layer.bank), is_drums=drums, density=float(layer.density),
            enter=float(layer.enter), gain_db=float(layer.gain_db), pan=float(layer.pan),
        ))
    return parts


class Conductor:
    """Turns controls into a musical state and asks the composer for the next bar."""

    def __init__(self, spec: object, *, seed: int | None = None, style: object | None = None,
                 sample_rate: int = 44100, affect: Affect | None = None) -> None:
        from segue.style import load_style  # floor 3

        self.spec = spec
        self.seed = int(spec.seed if seed is None else seed)
        if style is None:
            path = spec.style_path
            style = load_style(str(path) if path is not None else None)
        self.style = style
        pal = spec.palette
        self.meter: Meter = pal.meter_value
        self.home_key: Key = pal.home_key
        self.allowed_keys = list(pal.modulation_keys)
        self.tempo_range = (float(pal.tempo.min), float(pal.tempo.max))
        self.tempo_default = float(pal.tempo.default)
        self.parts = parts_from_spec(spec)
        themes = {}
        theme_layer = {}
        base = getattr(spec, "base_dir", None)
        for t in spec.themes or []:
            themes[t.name] = t.parsed_notes(base)
            if t.layer:
                theme_layer[t.name] = t.layer
        self.composer = Composer(
            self.parts, style, seed=self.seed, home_key=self.home_key, meter=self.meter,
            phrase_bars=int(pal.phrase_bars), themes=themes, theme_layer=theme_layer,
        )
        m = spec.mood
        self.affect = affect or Affect(float(m.valence), float(m.arousal), float(m.intensity))
        self.tempo_map = TempoMap.constant(self._state().tempo, sample_rate)
        self.bars: list[BarMusic] = []
        self.final_bar: int | None = None

    # ------------------------------------------------------------------ controls
    def set_affect(self, affect: Affect) -> None:
        """Takes effect at the next bar the conductor composes."""
        self.affect = affect.clamped()

    def _state(self) -> MusicalState:
        st = affect_to_state(
            self.affect, home=self.home_key, allowed=self.allowed_keys, tempo_range=self.tempo_range,
            tempo_default=self.tempo_default, meter=self.meter,
        )
        lo, hi = self.tempo_range
        return st.with_(tempo=min(max(st.tempo, lo), hi))

    # ------------------------------------------------------------------ transport
    def next_bar(self) -> BarMusic:
        state = self._state()
        comp = self.composer
        if self.tempo_map.bpm_at(comp.tick) != state.tempo:
            self.tempo_map.set_tempo(comp.tick, state.tempo)
        bar = comp.compose_bar(state)
        self.bars.append(bar)
        return bar

    @property
    def finished(self) -> bool:
        """True once the final bar (if one was set) has been composed."""
        return self.final_bar is not None and self.composer.bar_index > self.final_bar

    def end_at(self, bars: int) -> None:
        """Make the piece end after ``bars`` bars in total, closing on a cadence."""
        self.final_bar = bars - 1
        self.composer.ending_at = self.final_bar

    def bars_for_seconds(self, seconds: float) -> int:
        """Whole bars that cover ``seconds`` at the current tempo (music ends on a bar line)."""
        bar_s = self.meter.ticks_per_bar / 480 * 60.0 / self._state().tempo
        return max(1, math.ceil(seconds / bar_s - 1e-9))

    def perform(self, bars: int, progress=None) -> Performance:
        """Compose ``bars`` bars, ending on a cadence in the final bar."""
        if bars < 1:
            raise ValueError("need at least one bar")
        self.end_at(self.composer.bar_index + bars)
        for i in range(bars):
            self.next_bar()
            if progress:
                progress(i + 1, bars)
        return self.performance()

    def performance(self) -> Performance:
        return Performance(
            name=str(self.spec.name), parts=self.parts, meter=self.meter, home_key=self.home_key,
            tempo_map=self.tempo_map, seed=self.seed, bars=list(self.bars),
        )
