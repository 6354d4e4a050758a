"""The one exception type that the originality guard lets reach a user."""

from __future__ import annotations


class OriginalityError(Exception):
    """A user-facing problem with checking a file or with a reference index.

    Raised for a missing, empty or corrupt music file, a file with no melody to compare (only
    drums, or too few notes), a folder without music files, and an index file that is not a
    Segue reference index. The message is written for a composer to read, so the CLI prints it
    as is, without a traceback.
    """
