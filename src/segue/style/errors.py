"""The one exception type that the style floor lets reach a user."""

from __future__ import annotations


class StyleError(Exception):
    """A user-facing problem with training or loading a style model.

    Raised for a missing or unreadable folder, a folder without a single usable music file,
    or a model file that is corrupt or of an unknown format. The message is written for a
    composer to read, so the CLI prints it as is, without a traceback.
    """
