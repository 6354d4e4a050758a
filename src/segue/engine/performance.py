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
    end: int | None = None
    """Where the piece ends (ticks); default: the end of the last bar."""

    @property
    def end_tick(self) -> int:
        if self.end is not None:
            return self.end
        return max((b.end for b in self.bars), default=0)

    @property
    def seconds(self) -> float:
        return self.tempo_map.seconds(self.end_tick)

    @property
    def sample_rate(self) -> int:
        return self.tempo_map.sample_rate

    def notes(self, layer: str) -> list[Note]:
        """A layer's notes in time order; notes of a faded-out deck stop at its transition."""
        out: list[Note] = []
        end = self.end_tick
        for bar in self.bars:
            limit = end if bar.cut is None else min(bar.cut, end)
            for n in bar.notes.get(layer, ()):
                if n.start >= limit:
                    continue
                out.append(n if n.end <= limit else Note(n.start, n.pitch, limit - n.start, n.velocity))
        out.sort()
        return out

    def notes_by_layer(self) -> dict[str, list[Note]]:
        return {p.name: self.notes(p.name) for p in self.parts}

    def key_changes(self) -> list[tuple[int, Key]]:
        """(tick, key) at the start and wherever the key changes."""
        out: list[tuple[int, Key]] = []
        for bar in self.sounding_bars():
            if not out or out[-1][1] != bar.key:
                out.append((bar.start, bar.key))
        return out

    def sounding_bars(self) -> list[BarMusic]:
        """Bars in time order that actually sound (not replaced by a transition, not past the end)."""
        end = self.end_tick
        bars = [b for b in self.bars if b.start < end and (b.cut is None or b.start < b.cut)]
        return sorted(bars, key=lambda b: b.start)
