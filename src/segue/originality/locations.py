"""Where the indexes live: the corpus index shipped in the package, and the user's own catalogue.

The corpus index ships inside the package (never downloaded). If it is shipped gzipped, it is
unpacked once into the user's cache folder and re-unpacked whenever the shipped copy changes
(the cached file's name carries the shipped file's hash). ``segue index add DIR`` without
``--index`` writes to one catalogue in the user's data folder, which every check then includes.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import sys
import tempfile
from importlib import resources
from pathlib import Path

from segue.originality.errors import OriginalityError

CORPUS_INDEX = "corpus_index.sqlite"


def _user_dir(kind: str) -> Path:
    """XDG folders on Linux, ``~/Library/…`` on macOS, ``%LOCALAPPDATA%`` on Windows."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
        return base / "segue" / ("Cache" if kind == "cache" else "Data")
    if sys.platform == "darwin":
        sub = "Caches" if kind == "cache" else "Application Support"
        return Path.home() / "Library" / sub / "segue"
    env = "XDG_CACHE_HOME" if kind == "cache" else "XDG_DATA_HOME"
    default = Path.home() / (".cache" if kind == "cache" else ".local/share")
    return Path(os.environ.get(env) or default) / "segue"


def default_user_index() -> Path:
    """The catalogue that ``segue index add`` fills when no ``--index`` is given (``SEGUE_INDEX`` overrides)."""
    override = os.environ.get("SEGUE_INDEX")
    return Path(override).expanduser() if override else _user_dir("data") / "catalogue.sqlite"


def corpus_index_path() -> Path:
    """The shipped index of the public-domain training corpus, ready to open read-only."""
    data = resources.files("segue.originality") / "data"
    plain = data / CORPUS_INDEX
    if plain.is_file():
        return Path(str(plain))
    packed = data / (CORPUS_INDEX + ".gz")
    if not packed.is_file():
        raise OriginalityError(f"the corpus index is missing from the package ({CORPUS_INDEX}); rebuild it with "
                               "`python -m segue.originality.build`")
    raw = packed.read_bytes()
    target = _user_dir("cache") / f"corpus_index-{hashlib.sha256(raw).hexdigest()[:12]}.sqlite"
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as tmp:
            tmp.write(gzip.decompress(raw))
        shutil.move(tmp.name, target)  # atomic on one file system: no reader sees half a file
        for old in target.parent.glob("corpus_index-*.sqlite"):
            if old != target:  # an earlier Segue's corpus: no longer needed
                old.unlink(missing_ok=True)
    return target
