"""The engine: conductor → sequencer → synths → mixer, pulled one audio block at a time.

This loop is the only way Segue makes sound. Live playback pulls blocks as the sound card
asks for them; offline rendering pulls them as fast as the CPU allows. Composition runs ahead
of the playhead (at least one bar of lookahead), so pulling audio never waits for the
composer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from segue.audio import LayerSynth, Mixer
from segue.compose.composer import BarMusic
from segue.engine.conductor import Conductor


@dataclass(slots=True)
class Sequencer:
    """Turns composed bars (ticks) into synth events (samples) through the tempo map."""

    synths: dict[str, LayerSynth]
    scheduled_bars: int = 0
    notes_scheduled: int = 0

    def schedule_bar(self, bar: BarMusic, tempo_map) -> None:
        for layer, notes in bar.notes.items():
            synth = self.synths[layer]
            for n in notes:
                synth.schedule(tempo_map.sample(n.start), "on", n.pitch, n.velocity)
                synth.schedule(tempo_map.sample(n.end), "off", n.pitch, 0)
            self.notes_scheduled += len(notes)
        self.scheduled_bars += 1


@dataclass
class Engine:
    """Pulls audio blocks from a :class:`Conductor`, composing ``lookahead_bars`` ahead of the playhead."""

    conductor: Conductor
    soundfont: Path | None = None
    reverb: float = 0.22
    lookahead_bars: int = 1
    position: int = 0
    synths: dict[str, LayerSynth] = field(init=False)
    mixer: Mixer = field(init=False)
    sequencer: Sequencer = field(init=False)

    def __post_init__(self) -> None:
        sr = self.conductor.tempo_map.sample_rate
        self.synths = {
            p.name: LayerSynth(program=p.program, is_drums=p.is_drums, bank=p.bank, sample_rate=sr, soundfont=self.soundfont)
            for p in self.conductor.parts
        }
        self.mixer = Mixer([p.name for p in self.conductor.parts], sample_rate=sr, reverb=self.reverb)
        for p in self.conductor.parts:
            self.mixer.set_gain(p.name, p.gain_db, ramp_samples=0)
        self.sequencer = Sequencer(self.synths)

    @property
    def sample_rate(self) -> int:
        return self.conductor.tempo_map.sample_rate

    def _composed_until(self) -> int:
        bars = self.conductor.bars
        return self.conductor.tempo_map.sample(bars[-1].end) if bars else 0

    def _compose_ahead(self, horizon: int) -> None:
        """Compose and schedule bars until ``lookahead_bars`` whole bars start at or after ``horizon``."""
        c = self.conductor
        look = max(self.lookahead_bars, 1)
        while not c.finished:
            bars = c.bars
            if len(bars) >= look and c.tempo_map.sample(bars[-look].start) >= horizon:
                return
            bar = c.next_bar()
            self.sequencer.schedule_bar(bar, c.tempo_map)

    def pull(self, n: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """The next ``n`` frames: (mix after the bus, per-layer stems before the bus)."""
        self._compose_ahead(self.position + n)
        stems = {name: s.render(n) for name, s in self.synths.items()}
        mix = self.mixer.process(stems)
        self.position += n
        return mix, stems

    @property
    def end_sample(self) -> int | None:
        """Sample where the last composed bar ends, once the piece has a final bar."""
        c = self.conductor
        if c.final_bar is None or not c.bars or c.bars[-1].index < c.final_bar:
            return None
        return self._composed_until()
