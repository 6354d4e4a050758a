"""The studio's one user-facing error type."""

from __future__ import annotations


class StudioError(Exception):
    """The studio cannot start or cannot do what was asked (bad address, no token off loopback,
    unknown example …); ``str(err)`` is a sentence the CLI can print as is."""
