"""Offline rendering: layers of notes → stems → bus → loudness-normalised mix.

Offline is the live path driven as fast as possible: the same :class:`LayerSynth` objects
are scheduled up front and pulled block by block through the same :class:`Mixer` a live
session uses. Only loudness normalisation is offline-only, because it needs the whole piece.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from segue.audio.errors import AudioError
from segue.audio.loudness import normalise_loudness, sample_peak_dbfs
from segue.audio.mixer import Mixer, sum_stems
from segue.audio.synth import LayerSynth
from segue.music import Note, TempoMap

BLOCK = 2048
"""Offline block size: a multiple of 64 (bit-identical to live blocks of 512) and large
enough that per-block Python overhead is small next to synthesis."""

Progress = Callable[[int, int], None]
"""Called as ``progress(done_frames, total_frames)`` after each block."""

NoteEvent = tuple[int, int, int, int]
"""``(on_sample, off_sample, pitch, velocity)``."""


@dataclass(frozen=True, slots=True)
class LayerAudio:
    """What the audio floor needs to know about one layer: its instrument, level and notes."""

    name: str
    program: int
    is_drums: bool = False
    gain_db: float = 0.0
    notes: Sequence[NoteEvent] = field(default_factory=tuple)
    bank: int = 0

    @classmethod
    def from_notes(cls, name: str, notes: Iterable[Note], tempo_map: TempoMap, *, program: int,
                   is_drums: bool = False, gain_db: float = 0.0, bank: int = 0) -> "LayerAudio":
        """Place tick-timed :class:`~segue.music.Note` values on samples through the tempo map
        (the only place ticks become samples, so every layer agrees to the sample)."""
        events = [(tempo_map.sample(n.start), tempo_map.sample(n.end), n.pitch, n.velocity) for n in notes]
        return cls(name, program, is_drums, gain_db, tuple(events), bank)


LayerSpecLike = LayerAudio | tuple[str, int, bool, float, Sequence[NoteEvent]]


@dataclass(slots=True)
class RenderResult:
    """An offline render: the finished mix, the post-fader stems and what happened on the way."""

    mix: np.ndarray
    stems: dict[str, np.ndarray]
    report: dict


def _as_layer(spec: LayerSpecLike) -> LayerAudio:
    if isinstance(spec, LayerAudio):
        return spec
    try:
        name, program, is_drums, gain_db, notes = spec
    except (TypeError, ValueError):
        raise TypeError(f"a layer is a LayerAudio or (name, program, is_drums, gain_db, notes), got {spec!r}") from None
    return LayerAudio(str(name), int(program), bool(is_drums), float(gain_db), tuple(notes))


def schedule_notes(synth: LayerSynth, notes: Iterable[NoteEvent]) -> int:
    """Schedule ``(on, off, pitch, velocity)`` notes; returns the last sample any note sounds to.

    A note lasts at least one sample: at one sample, note-offs sort before note-ons (so repeated
    notes re-strike), which would otherwise leave a zero-length note hanging forever.
    """
    last = 0
    for on, off, pitch, velocity in notes:
        if on < 0:
            raise ValueError(f"note starts before sample 0: {on}")
        off = max(int(off), int(on) + 1)
        synth.schedule(int(on), "on", int(pitch), int(velocity))
        synth.schedule(off, "off", int(pitch))
        last = max(last, off)
    return last


def pull_blocks(synths: dict[str, LayerSynth], mixer: Mixer, frames: int, *, block: int = BLOCK,
                keep_stems: bool = True, progress: Progress | None = None
                ) -> Iterator[tuple[np.ndarray, dict[str, np.ndarray]]]:
    """Pull ``frames`` frames from every synth through the mixer, block by block, as a live callback would:
    yields (bus output, each layer's post-fader stem if ``keep_stems``), the bus aligned to the input
    (the limiter's look-ahead removed: the first block comes out shorter, a last one carries the flush)."""
    skip = mixer.latency
    done = 0
    while done < frames:
        n = min(block, frames - done)
        faded = mixer.fade({name: synth.render(n) for name, synth in synths.items()})
        mix = mixer.bus(sum_stems(faded, n))
        cut = min(skip, n)
        skip -= cut
        yield mix[cut:], (faded if keep_stems else {})
        done += n
        if progress is not None:
            progress(done, frames)
    yield mixer.flush()[skip:], {}


def pull(synths: dict[str, LayerSynth], mixer: Mixer, frames: int, *, block: int = BLOCK,
         keep_stems: bool = True, progress: Progress | None = None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """All of :func:`pull_blocks` in memory: (the bus output, each layer's post-fader stem if ``keep_stems``)."""
    mix = np.empty((frames, 2), dtype=np.float32)
    stems = {name: np.empty((frames, 2), dtype=np.float32) for name in synths} if keep_stems else {}
    done = at = 0
    for out, faded in pull_blocks(synths, mixer, frames, block=block, keep_stems=keep_stems, progress=progress):
        mix[done : done + out.shape[0]] = out
        done += out.shape[0]
        if faded:
            n = next(iter(faded.values())).shape[0]
            for name, stem in faded.items():
                stems[name][at : at + n] = stem
            at += n
    return mix, stems


def render_layers(layers: Sequence[LayerSpecLike], sample_rate: int = 44100, *, soundfont: Path | None = None,
           tail_seconds: float = 2.0, progress: Progress | None = None, reverb: float = 0.25,
           target_lufs: float | None = -16.0, peak_dbfs: float = -1.0, keep_stems: bool = True,
           block: int = BLOCK) -> RenderResult:
    """Render layers of sample-timed notes offline into a :class:`RenderResult` (mix, stems, report).

    ``target_lufs=None`` skips normalisation (the raw bus output, e.g. for comparing with live).
    """
    specs = [_as_layer(spec) for spec in layers]
    if not specs:
        raise AudioError("nothing to render: no layers")
    names = [spec.name for spec in specs]
    mixer = Mixer(names, sample_rate, reverb=reverb, ceiling_dbfs=peak_dbfs)
    synths: dict[str, LayerSynth] = {}
    last = 0
    for spec in specs:
        synth = LayerSynth(program=spec.program, is_drums=spec.is_drums, bank=spec.bank,
                           sample_rate=sample_rate, soundfont=soundfont)
        last = max(last, schedule_notes(synth, spec.notes))
        synths[spec.name] = synth
        mixer.set_gain(spec.name, spec.gain_db, ramp_samples=0)
    frames = last + int(round(max(tail_seconds, 0.0) * sample_rate))
    mix, stems = pull(synths, mixer, frames, block=block, keep_stems=keep_stems, progress=progress)
    report: dict = {"frames": frames, "seconds": frames / sample_rate, "sample_rate": sample_rate,
                    "bus_limiter_reduction_db": mixer.max_reduction_db,
                    "presets": {name: synth.preset_name for name, synth in synths.items()}}
    if target_lufs is not None:
        mix, loudness = normalise_loudness(mix, sample_rate, target_lufs=target_lufs, peak_dbfs=peak_dbfs)
        report.update(loudness)
    else:
        report["peak_dbfs"] = sample_peak_dbfs(mix)
    return RenderResult(mix, stems, report)


def render_notes(layers: list[LayerSpecLike], sample_rate: int = 44100, *, soundfont: Path | None = None,
                 tail_seconds: float = 2.0, progress: Progress | None = None, reverb: float = 0.25,
                 target_lufs: float | None = -16.0, peak_dbfs: float = -1.0, keep_stems: bool = True,
                 block: int = BLOCK) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Render layers offline: ``(mix, stems)``.

    ``mix`` is the finished ``(n, 2)`` float32 mix after the bus and loudness normalisation
    (−16 LUFS, peaks ≤ −1 dBFS). ``stems`` maps each layer name to its post-fader, pre-bus
    ``(n, 2)`` signal: the stems sum exactly to what the bus received (before reverb, limiter
    and normalisation). Use :func:`render_layers` to also get the loudness report.
    """
    result = render_layers(layers, sample_rate, soundfont=soundfont, tail_seconds=tail_seconds,
                           progress=progress, reverb=reverb, target_lufs=target_lufs, peak_dbfs=peak_dbfs,
                           keep_stems=keep_stems, block=block)
    return result.mix, result.stems
