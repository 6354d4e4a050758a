"""Which files a style is learned from: the default music21 collections (with their licences) or a folder.

The default style learns only from collections whose music is in the public domain and whose
encodings music21 distributes without a use restriction; each one is listed here with the
licence that the model card repeats. Collections left out on purpose are listed too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from segue.style.errors import StyleError
from segue.style.reading import MUSIC_SUFFIXES

_MUSIC21_CORPUS_NOTE = (
    "music21 core corpus (music21 is BSD-3-Clause; its corpus/license.txt says the encodings are "
    "distributed with the encoders' permission, that restrictions, if any, are embedded in the files "
    "or folders); no restriction is embedded in this collection's files"
)


@dataclass(frozen=True, slots=True)
class Collection:
    """A folder of the music21 corpus that the default style learns from."""

    name: str
    folder: str
    licence: str
    keep: Callable[[str], bool] = lambda filename: True


def _is_bach_chorale(filename: str) -> bool:
    # MusicXML chorales only: the .krn files duplicate three of them, .rntxt files are analyses,
    # and BWV 846 is the C-major keyboard prelude, not a chorale
    return bool(re.fullmatch(r"bwv\d+(\.\d+)?(-[a-z]+)?\.(mxl|xml)", filename)) and filename != "bwv846.mxl"


DEFAULT_COLLECTIONS: tuple[Collection, ...] = (
    Collection(
        "J. S. Bach, four-part chorales",
        "bach",
        "Public domain (composer died 1750). Encodings: " + _MUSIC21_CORPUS_NOTE + ".",
        _is_bach_chorale,
    ),
    Collection(
        "Ryan's Mammoth Collection (Boston: Elias Howe, 1883)",
        "ryansMammoth",
        "Public domain (published 1883). ABC transcriptions contributed by Ray Davies, Bob Puckette, "
        "John Walsh, John Chambers and others; " + _MUSIC21_CORPUS_NOTE + ".",
    ),
    Collection(
        "O'Neill's Music of Ireland, 1850 melodies (Chicago, 1903)",
        "oneills1850",
        "Public domain (published 1903). ABC transcriptions by Norbert Paap and others; "
        + _MUSIC21_CORPUS_NOTE + ".",
    ),
    Collection(
        "Aird's Selection of Scotch, English, Irish and Foreign Airs (Glasgow, 1778-1803)",
        "airdsAirs",
        "Public domain (published 1778-1803). ABC transcriptions by Jack Campin (2009); "
        + _MUSIC21_CORPUS_NOTE + ".",
    ),
)

EXCLUDED_COLLECTIONS: dict[str, str] = {
    "essenFolksong": "licence allows only non-commercial use (corpus/essenFolksong/license.txt); Segue is MIT "
                     "and may be used commercially",
    "nottingham-dataset": "no licence statement shipped with the files",
    "palestrina, monteverdi, trecento, …": "polyphonic vocal music whose 'top part' is not a tune; not needed",
}


@dataclass(frozen=True, slots=True)
class SourceFile:
    path: Path
    ident: str  # stable name recorded in manifests: corpus-relative or folder-relative path
    collection: str  # folder name of the collection (music21 corpus) or "user"


def music21_corpus_root() -> Path:
    from music21 import common

    return Path(common.getCorpusFilePath())


def default_files() -> list[SourceFile]:
    """Files of :data:`DEFAULT_COLLECTIONS`, sorted, as listed by ``music21.corpus.getCorePaths()``."""
    from music21 import corpus

    root = music21_corpus_root()
    wanted = {c.folder: c for c in DEFAULT_COLLECTIONS}
    out = []
    for p in corpus.getCorePaths():
        rel = Path(p).relative_to(root)
        coll = wanted.get(rel.parts[0])
        if coll is not None and coll.keep(rel.name):
            out.append(SourceFile(Path(p), rel.as_posix(), coll.folder))
    out.sort(key=lambda f: (list(wanted).index(f.collection), f.ident))
    if not out:
        raise StyleError(f"the music21 corpus at {root} holds none of the default collections")
    return out


def folder_files(folder: str | Path) -> list[SourceFile]:
    """Every music file under ``folder`` (recursively), sorted by relative path."""
    root = Path(folder).expanduser()
    if not root.exists():
        raise StyleError(f"training folder {root} does not exist")
    if not root.is_dir():
        raise StyleError(f"{root} is not a folder; give the folder that holds your MIDI/MusicXML/ABC files")
    out = [SourceFile(p, p.relative_to(root).as_posix(), "user")
           for p in root.rglob("*") if p.is_file() and p.suffix.lower() in MUSIC_SUFFIXES]
    out.sort(key=lambda f: f.ident)
    if not out:
        raise StyleError(f"no music files in {root} (looked for {', '.join(MUSIC_SUFFIXES)})")
    return out
