"""The one exception type the variation explorer lets reach a user."""

from __future__ import annotations


class VariationError(Exception):
    """A user-facing problem with a motif, an axis or a band: ``str(err)`` is a printable sentence.

    Raised for files that are missing, empty, corrupt, drum-only or chordal (without
    ``skyline``), for motifs too short to vary, for unknown axes, bands or modes, and when no
    variation along the requested axes lands in the requested band. The CLI prints it without
    a traceback; programming errors stay ``ValueError``/``TypeError``.
    """
