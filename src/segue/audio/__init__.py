"""Floor 6 — audio: SoundFont synthesis, the mix bus, loudness and file sinks.

One code path for live and offline: :class:`LayerSynth` takes sample-stamped events and is
pulled in blocks; :class:`Mixer` turns blocks of stems into blocks of mix. Offline rendering
(:func:`render_notes`, :func:`render_midi_file`) is just pulling blocks until the end.
User mistakes raise :class:`AudioError` with a printable message.
"""

from segue.audio.errors import AudioError
from segue.audio.limiter import Limiter
from segue.audio.loudness import integrated_loudness, normalise_loudness, sample_peak_dbfs
from segue.audio.midifile import read_midi, render_midi_file
from segue.audio.mixer import Mixer, sum_stems
from segue.audio.render import LayerAudio, LayerSpecLike, RenderResult, pull, render_layers, render_notes
from segue.audio.sinks import FileSink, write_audio
from segue.audio.soundfont import default_soundfont
from segue.audio.synth import LayerSynth

__all__ = [
    "AudioError", "default_soundfont", "LayerSynth", "Mixer", "Limiter", "sum_stems",
    "normalise_loudness", "integrated_loudness", "sample_peak_dbfs", "write_audio", "FileSink",
    "LayerAudio", "LayerSpecLike", "RenderResult", "render_layers", "render_notes", "pull",
    "read_midi", "render_midi_file",
]
