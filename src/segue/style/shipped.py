"""The style model and held-out pieces that ship inside the package, and loading a style by name."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from segue.style.errors import StyleError
from segue.style.heldout import HeldoutMelody, melodies, parse_heldout
from segue.style.model import StyleModel

DEFAULT_FILE = "default.json.gz"
HELDOUT_FILE = "heldout.json.gz"


def data_dir() -> Path:
    """Folder of the shipped weights (inside the installed package)."""
    return Path(str(resources.files("segue.style") / "data"))


@lru_cache(maxsize=1)
def load_default() -> StyleModel:
    """The default style (Bach chorales + British/Irish folk tunes), loaded once per process."""
    res = resources.files("segue.style") / "data" / DEFAULT_FILE
    try:
        raw = res.read_bytes()
    except OSError as exc:
        raise StyleError(f"the default style model is missing from the package ({DEFAULT_FILE}); "
                         "run `python -m segue.style.train` to rebuild it") from exc
    return StyleModel.from_bytes(raw, f"shipped {DEFAULT_FILE}")


def load_style(name_or_path: str | Path | None) -> StyleModel:
    """``None`` or ``"default"`` → the shipped style; anything else is the path of a saved model."""
    if name_or_path is None or str(name_or_path) == "default":
        return load_default()
    path = Path(name_or_path).expanduser()
    if not path.is_file():
        raise StyleError(f"no style model at {path} (give 'default' or the path of a file made by `segue train`)")
    return StyleModel.load(path)


@lru_cache(maxsize=1)
def load_heldout_pieces() -> tuple[dict[str, Any], ...]:
    """Held-out pieces with metadata (id, collection, meter, key, notes)."""
    res = resources.files("segue.style") / "data" / HELDOUT_FILE
    try:
        raw = res.read_bytes()
    except OSError as exc:
        raise StyleError(f"the held-out pieces are missing from the package ({HELDOUT_FILE}); "
                         "run `python -m segue.style.train` to rebuild them") from exc
    return tuple(parse_heldout(raw, f"shipped {HELDOUT_FILE}"))


def load_heldout() -> list[HeldoutMelody]:
    """~100 real melodies never used in training: lists of (midi_pitch, onset, duration) in quarter notes."""
    return melodies(load_heldout_pieces())
