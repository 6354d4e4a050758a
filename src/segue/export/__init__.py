"""Score exports: Standard MIDI files and MusicXML (audio files are written by ``segue.audio``)."""

from segue.export.midi import midi_key_name, write_midi
from segue.export.musicxml import write_musicxml

__all__ = ["write_midi", "write_musicxml", "midi_key_name"]
