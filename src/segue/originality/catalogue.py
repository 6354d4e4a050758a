"""Adding a user's catalogue to an index: ``segue index add DIR [--index FILE]``.

Each file is read, fingerprinted and written in its own transaction: if the process dies
(killed, power cut, Ctrl-C) the index holds every file finished before, none of the interrupted
one, and running the same command again picks up where it stopped (unchanged files are
recognised by their sha256 and skipped; a changed file replaces its old version).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from segue.originality.errors import OriginalityError
from segue.originality.reading import file_digest, read_works
from segue.originality.store import ReferenceIndex
from segue.style.reading import MUSIC_SUFFIXES

Progress = Callable[[int, int], None]


@dataclass
class AddReport:
    """What ``index add`` did, for the command line and for scripts."""

    index: str
    folder: str
    files: int = 0
    works_added: int = 0
    files_replaced: int = 0
    files_unchanged: int = 0
    lines: int = 0
    skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0
    total_works: int = 0

    def text(self) -> str:
        out = [f"indexed {self.folder} into {self.index}: {self.works_added} works ({self.lines} melodic lines) "
               f"from {self.files} files in {self.seconds:.1f} s",
               f"{self.files_unchanged} files already indexed and unchanged, {self.files_replaced} replaced, "
               f"{len(self.skipped)} skipped; the index now holds {self.total_works} works"]
        out += [f"  skipped {why}" for why in self.skipped[:20]]
        if len(self.skipped) > 20:
            out.append(f"  … and {len(self.skipped) - 20} more")
        return "\n".join(out)


def music_files(folder: str | Path) -> list[Path]:
    """Every MIDI/MusicXML/ABC file under ``folder``, recursively, in a stable order."""
    root = Path(folder).expanduser()
    if not root.exists():
        raise OriginalityError(f"{root}: no such folder")
    if not root.is_dir():
        raise OriginalityError(f"{root}: not a folder (give the folder that holds your MIDI, MusicXML or ABC files)")
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in MUSIC_SUFFIXES)
    if not files:
        raise OriginalityError(f"{root}: no music files (looked for {', '.join(MUSIC_SUFFIXES)})")
    return files


def add_to_index(folder: str | Path, index_path: str | Path, *, progress: Progress | None = None) -> AddReport:
    """Index every music file under ``folder`` into ``index_path`` (created if missing).

    Unreadable files (corrupt, empty, drums only, too short) are skipped with their reason;
    they never stop the run. Raises :class:`OriginalityError` only for a missing or empty
    folder and an index file that is not a Segue index.
    """
    started = time.perf_counter()
    files = music_files(folder)
    report = AddReport(str(index_path), str(folder), files=len(files))
    with ReferenceIndex.open(index_path, create=True) as index:
        for done, path in enumerate(files, start=1):
            source = str(path.resolve())
            try:
                digest = file_digest(path)
                known = index.source_digests(source)
                if known == {digest}:
                    report.files_unchanged += 1
                else:
                    works = read_works(path, source)
                    report.lines += index.add_works(works, replace_source=source)
                    report.works_added += len(works)
                    report.files_replaced += bool(known)
            except OriginalityError as exc:
                report.skipped.append(str(exc))
            except OSError as exc:
                report.skipped.append(f"{path}: cannot read ({exc})")
            if progress:
                progress(done, len(files))
        report.total_works = index.info().works
    report.seconds = time.perf_counter() - started
    return report
