"""Apps floor — the variation explorer: start from a composer's motif, not from silence.

``read_motif`` reads a motif (MIDI, MusicXML, ABC or note text) and detects its key and meter;
``vary`` makes variations along named axes inside a similarity band; ``similarity`` is the
documented metric they are measured with; ``morph`` interpolates between two motifs;
``write_*`` export MIDI, MusicXML, WAV and an HTML comparison sheet; ``cli_vary`` and
``cli_morph`` are the command-line entry points. User mistakes raise :class:`VariationError`.
"""

from segue.variations.commands import cli_morph, cli_vary
from segue.variations.draft import Layer
from segue.variations.elaborate import continue_motif, fill_between
from segue.variations.errors import VariationError
from segue.variations.explore import AXES, Batch, Variation, check_variation, parse_axes, vary
from segue.variations.export import write_midi, write_musicxml, write_wav
from segue.variations.harmony import ChordChange
from segue.variations.morph import Morph, morph, morph_path
from segue.variations.motif import Motif
from segue.variations.reading import motif_from_notes, read_motif
from segue.variations.sheet import write_sheet
from segue.variations.similarity import BANDS, CLOSE, FAR, Similarity, band_of, contour_correlation, similarity

__all__ = [
    "Motif", "read_motif", "motif_from_notes", "VariationError",
    "AXES", "parse_axes", "vary", "Variation", "Batch", "Layer", "ChordChange", "check_variation",
    "continue_motif", "fill_between",
    "similarity", "Similarity", "contour_correlation", "band_of", "BANDS", "CLOSE", "FAR",
    "morph", "morph_path", "Morph",
    "write_midi", "write_musicxml", "write_wav", "write_sheet", "cli_vary", "cli_morph",
]
