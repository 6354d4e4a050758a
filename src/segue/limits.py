"""Every size, depth, count and time limit on what Segue accepts — in one place (issue 15).

Input comes from people (a spec typed in an editor), from programs (a game engine's controls) and,
through the studio, from anyone who can reach a port. Each limit below is far above what any real
score needs and far below what would exhaust a machine. Exceeding one is a *user error* with a
message that names the limit; nothing else is lost (a refused control leaves the music playing).
``docs/limits.md`` lists them with the reasons; tests in ``tests/test_hardening.py``.

Keep the numbers here: modules import them from this file so the documentation has one source.
"""

from __future__ import annotations

import gzip
import io
import json
import math
import zlib
from typing import Any

# ---- specs ----------------------------------------------------------------------------------------

MAX_SPEC_BYTES = 1024 * 1024
"""A spec file or text: 1 MiB (the largest example is under 10 KiB)."""

MAX_SPEC_NODES = 200_000
"""Values in a spec *after* YAML alias expansion (counted before anything is expanded)."""

MAX_SPEC_DEPTH = 64
"""Nesting of lists and mappings in a spec (a real one nests 5 deep)."""

MAX_STRING_CHARS = 64 * 1024
"""One text value in a spec (a description, a name)."""

MAX_PATH_CHARS = 1024
"""A file path named in a spec (theme MIDI, style model)."""

MAX_THEMES = 256
MAX_LAYERS = 64
MAX_STATES = 256
MAX_LIST_ITEMS = 4096
"""Any other list in a spec (curve points, transitions, stingers …)."""

MAX_THEME_NOTES = 4096
"""Notes read from one theme file."""

MAX_THEME_BEATS = 4096
"""A theme file longer than this many beats is refused (a theme is a phrase; 4,096 beats is ~30 min)."""

MAX_STYLE_BYTES = 64 * 1024 * 1024
"""A style model file, and its content after gzip decompression (the shipped ones are under 8 MiB)."""

# ---- numbers --------------------------------------------------------------------------------------

MAX_NUMBER = 1e12
"""Any number in a spec, a trace or a control: larger magnitudes are refused (no curve, parameter or
time needs them, and ints beyond a float's range used to crash ``math.isfinite``)."""

# ---- MIDI files (render, vary, check, themes) -----------------------------------------------------

MAX_MIDI_BYTES = 16 * 1024 * 1024
MAX_RENDER_SECONDS = 3 * 3600.0
"""`segue render`: three hours of audio at most (a 37-byte file lasting 77 hours once asked for 91.9 GiB).
The render streams to a temporary file, so memory does not grow with length, but disk does: 3 h is a
3.8 GB spool plus a 2.8 GB 24-bit .wav."""

MAX_MOTIF_NOTES = 20_000
"""`segue vary`/`morph`: notes in a motif file (a whole song is fine: the reader takes a window)."""

MAX_MOTIF_BEATS = 4096
"""`segue vary`/`morph`: length of a motif file in beats (~34 min at 120 bpm)."""

# ---- network --------------------------------------------------------------------------------------

MIN_TOKEN_CHARS = 16
"""A ``--token`` shorter than this is refused (a 1-character token was accepted)."""

MAX_UPLOAD_BYTES = 4 * 1024 * 1024
"""A studio upload as sent."""

MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024
"""A gzip file (style model) after decompression: a 1 MB upload expanded to 1 GiB."""

MAX_UPLOAD_QUOTA_BYTES = 64 * 1024 * 1024
"""All studio uploads together (they are deleted when the studio stops)."""

MAX_SESSIONS = 16
"""Studio sessions at once."""

SUBSCRIPTION_TTL_S = 60.0
"""An OSC subscription lapses unless renewed within this time."""


class LimitError(ValueError):
    """Input over one of the limits above; its message names the limit."""


def check_number(x: Any) -> bool:
    """True when ``x`` is an int or float (not bool), finite and within ±:data:`MAX_NUMBER`.

    Never raises: an int too large for a float is simply not a usable number."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return False
    if isinstance(x, int):
        return -MAX_NUMBER <= x <= MAX_NUMBER
    return math.isfinite(x) and -MAX_NUMBER <= x <= MAX_NUMBER


def safe_json_loads(text: str | bytes) -> Any:
    """``json.loads`` that refuses integers longer than 20 digits and NaN/Infinity (ValueError).

    Python's json turns a 400-digit literal into an int, which later overflowed a float deep inside
    the engine; here it is refused at the door with the same error as malformed JSON."""

    def parse_int(s: str) -> int:
        if len(s.lstrip("-")) > 20:
            raise ValueError(f"number too large ({len(s)} digits)")
        return int(s)

    def parse_float(s: str) -> float:
        if len(s) > 400:
            raise ValueError(f"number too long ({len(s)} characters)")
        return float(s)

    def parse_constant(s: str) -> float:
        raise ValueError(f"{s} is not a number JSON allows")

    return json.loads(text, parse_int=parse_int, parse_float=parse_float, parse_constant=parse_constant)


def gunzip_limited(raw: bytes, limit: int = MAX_DECOMPRESSED_BYTES, what: str = "file") -> bytes:
    """Decompress gzip ``raw`` but stop (LimitError) once the output passes ``limit`` bytes."""
    out = bytearray()
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as fh:
            while True:
                chunk = fh.read(1 << 20)
                if not chunk:
                    break
                out += chunk
                if len(out) > limit:
                    raise LimitError(f"{what} expands to more than {limit // (1024 * 1024)} MiB when decompressed")
    except zlib.error as exc:  # corrupt deflate data: report it like any other bad gzip file
        raise gzip.BadGzipFile(f"{what} is not valid gzip data ({exc})") from None
    return bytes(out)


def clip_text(text: str, limit: int = 300) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis (error messages quote user input)."""
    return text if len(text) <= limit else text[:limit] + f"… ({len(text) - limit} more characters)"


# ---- batch jobs (`segue batch`) -------------------------------------------------------------------

MAX_BATCH_ASSETS = 1_000_000
"""Assets one job may expand to (a 100,000-asset library is the largest the docs plan for)."""

MAX_BATCH_GROUPS = 10_000
"""Groups (spec × states × variations blocks) in one job file."""

MAX_BATCH_BARS = 256
"""Bars of one batch asset (a cue for a game library is a loop of 2–32 bars)."""

MAX_BATCH_RETRIES = 10
"""Retries of one asset after an unexpected error (a user error is never retried)."""
