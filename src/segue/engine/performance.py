"""A performance: what the engine played (or will play), bar by bar, with its tempo map."""

from __future__ import annotations

from dataclasses import dataclass, field

from segue.compose.composer import BarMusic, Part
from segue.music import Key, Meter, Note, TempoMap


@dataclass(slots=True)
class Performance:
    """The composed bars of a piece plus everything needed to play or export them exactly."""

    name: str
    parts: list[Part]
    meter: Meter
    home_key: Key
    tempo_map: TempoMap
    seed: int
    bars: list[BarMusic] = field(default_factory=list)
    provenance: dict = field(default_factory=dict)

    @property
    def end_tick(self) -> int:
        return self.bars[-1].end if self.bars else 0

    @property
    def seconds(self) -> float:
        return self.tempo_map.seconds(self.end_tick)

    @property
    def sample_rate(self) -> int:
        return self.tempo_map.sample_rate

    def notes(self, layer: str) -> list[Note]:
        out: list[Note] = []
        for bar in self.bars:
            out.extend(bar.notes.get(layer, ()))
        out.sort()
        return out

    def notes_by_layer(self) -> dict[str, list[Note]]:
        return {p.name: self.notes(p.name) for p in self.parts}

    def key_changes(self) -> list[tuple[int, Key]]:
        """(tick, key) at the start and wherever the key changes."""
        out: list[tuple[int, Key]] = []
        for bar in self.bars:
            if not out or out[-1][1] != bar.key:
                out.append((bar.start, bar.key))
        return out
