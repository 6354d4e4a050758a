"""Floor 3 — learned style models: melody steps, rhythm cells and harmony, learned from real music.

The default style is learned from public-domain Bach chorales and British/Irish folk-tune
collections in the music21 corpus (see ``docs/model-card.md``); ``train`` learns a style from
any folder of MIDI, MusicXML, ABC or Humdrum files. Knows music, not the engine.
"""

from segue.style.errors import StyleError
from segue.style.model import HarmonyModel, MelodyModel, RhythmModel, StyleModel
from segue.style.shipped import load_default, load_heldout, load_heldout_pieces, load_style
from segue.style.training import train

__all__ = [
    "StyleError", "MelodyModel", "RhythmModel", "HarmonyModel", "StyleModel",
    "load_default", "load_style", "load_heldout", "load_heldout_pieces", "train",
]
