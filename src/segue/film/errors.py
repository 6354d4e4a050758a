"""The one exception the film tools raise for anything a user can fix.

A script that cannot be read, a scene list whose timecodes overlap, a cue sheet with a typo, a
locked cue whose notes would change: each is a :class:`FilmError` whose message names the file,
the line or row and the problem, so the CLI can print it as one line instead of a traceback.
"""

from __future__ import annotations


class FilmError(ValueError):
    """Input or an edit the film tools cannot use; the message says where and what to change."""
