"""The one exception type of the audio floor.

Everything a *user* can get wrong here — a soundfont that is missing or is not an SF2, a MIDI file
that is corrupt, an output path that cannot be written, an unknown layer name — raises
:class:`AudioError` with a sentence the CLI can print as is. Programming errors (wrong shapes,
negative block sizes) stay ``ValueError``/``TypeError`` so they are not mistaken for user errors.
"""

from __future__ import annotations


class AudioError(Exception):
    """A user-facing audio problem; ``str(err)`` is a complete, printable sentence."""
