"""Exceptions of the evaluation library.

Every user mistake (an unreadable MIDI file, a note with a negative length, an empty sample)
raises an :class:`EvaluationError`. It subclasses :class:`ValueError` so that callers which
already catch ``ValueError`` keep working, and the CLI can print ``str(exc)`` without a traceback.
"""

from __future__ import annotations


class EvaluationError(ValueError):
    """Input to the evaluation library that cannot be measured."""


class PieceError(EvaluationError):
    """A piece whose notes are malformed (pitch outside 0..127, non-positive length, negative onset …)."""


class MidiReadError(EvaluationError):
    """A MIDI file that is missing, corrupt or not a standard MIDI file."""
