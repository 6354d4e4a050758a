"""Training a style: read files in parallel, hold pieces back, count, save.

Run ``python -m segue.style.train`` to rebuild the shipped default style from the music21
corpus, or ``python -m segue.style.train MY_FOLDER --out my-style.json.gz`` to learn a style
from your own MIDI/MusicXML/ABC files. (This module holds the code; :mod:`segue.style.train`
is only the ``python -m`` entry point, because the package exports the *function* ``train``.)
"""

from __future__ import annotations

import argparse
import copy
import multiprocessing
import os
import platform
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from importlib.metadata import version
from pathlib import Path


from segue.style.corpus import DEFAULT_COLLECTIONS, SourceFile, default_files, folder_files
from segue.style.counting import count_harmony, count_melody, count_rhythm
from segue.style.errors import StyleError
from segue.style.features import PieceStats, melody_fingerprint, piece_stats
from segue.style.heldout import HELDOUT_COUNT, HELDOUT_SEED, choose_heldout, write_heldout
from segue.style.model import FAMILIES, HarmonyModel, RhythmModel, StyleModel
from segue.style.reading import UnreadableFile, read_file
from segue.style.shipped import DEFAULT_FILE, HELDOUT_FILE

Progress = Callable[[int, int], None]
FileResult = tuple[int, list[PieceStats], str | None]  # (file index, its pieces, why it was skipped)


def _extract(task: tuple[int, str, str, str]) -> FileResult:
    """Worker: every piece of one file, or the reason it was skipped. Never raises."""
    index, path, ident, collection = task
    try:
        raws = read_file(Path(path), ident, collection)
        stats = []
        for raw in raws:
            if len(raw.melody) >= 2:
                stats.append(piece_stats(raw))
        if not stats:
            return index, [], f"{ident}: no melody of two notes or more"
        return index, stats, None
    except UnreadableFile as exc:
        return index, [], str(exc)
    except Exception as exc:  # a bug on a strange file must not end hours of training
        return index, [], f"{ident}: {type(exc).__name__}: {exc}"


def _run(files: Sequence[SourceFile], workers: int, progress: Progress | None) -> list[FileResult]:
    tasks = [(i, str(f.path), f.ident, f.collection) for i, f in enumerate(files)]
    # big ABC books first, so that no worker is left parsing one at the end while the other idles
    tasks.sort(key=lambda t: -_size(t[1]))
    results = []
    if workers <= 1 or len(tasks) == 1:
        for done, task in enumerate(tasks, start=1):
            results.append(_extract(task))
            if progress:
                progress(done, len(tasks))
    else:
        # fork where it is safe (Linux): workers inherit the imported music21 and start at once; elsewhere
        # spawn, which needs the caller's script to be import-safe (``if __name__ == "__main__"``)
        method = "fork" if sys.platform.startswith("linux") else "spawn"
        ctx = multiprocessing.get_context(method)
        with ctx.Pool(processes=min(workers, len(tasks))) as pool:
            for done, res in enumerate(pool.imap_unordered(_extract, tasks, chunksize=1), start=1):
                results.append(res)
                if progress:
                    progress(done, len(tasks))
    results.sort(key=lambda r: r[0])  # file order, not finishing order: counts must not depend on timing
    return results


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _subset(files: list[SourceFile], limit: int | None) -> list[SourceFile]:
    """Every k-th file, so that a limited run still samples every collection."""
    if limit is None or limit >= len(files):
        return files
    if limit < 1:
        raise StyleError("limit must be at least 1")
    step = len(files) / limit
    return [files[int(i * step)] for i in range(limit)]


def train(
    source: str | Path | None,
    out: Path,
    *,
    workers: int = 2,
    progress: Progress | None = None,
    limit: int | None = None,
    name: str | None = None,
    heldout_out: Path | None = None,
    heldout_count: int | None = None,
    command: str | None = None,
) -> StyleModel:
    """Learn a style and save it to ``out`` (JSON; gzip when it ends in ``.gz``).

    ``source`` None learns from the default music21 collections and holds ``heldout_count``
    (default 100) pieces back; a folder learns from every music file in it, holding nothing
    back unless asked. Unreadable files are skipped and counted. Tables that the folder cannot
    teach (no chords in a folder of bare melodies, no 6/8 tunes) are taken from the default
    style and the manifest says so. Raises StyleError when no file is usable.
    """
    started = time.perf_counter()
    files = _subset(default_files() if source is None else folder_files(source), limit)
    results = _run(files, max(1, int(workers)), progress)
    skipped = [reason for _, _, reason in results if reason is not None]
    pieces = [p for _, stats, _ in results for p in stats]
    where = "the music21 corpus" if source is None else str(source)
    if not pieces:
        first = f" (first problem: {skipped[0]})" if skipped else ""
        raise StyleError(f"no usable music files in {where}: {len(files)} tried, none could be read{first}")

    pieces, duplicates = _drop_duplicates(pieces)
    n_held = (HELDOUT_COUNT if source is None else 0) if heldout_count is None else heldout_count
    held_ids = set(choose_heldout(pieces, n_held, HELDOUT_SEED))
    held = [p for p in pieces if p.ident in held_ids]
    used = [p for p in pieces if p.ident not in held_ids]

    melody, rhythm, harmony = count_melody(used), count_rhythm(used), count_harmony(used)
    if int(melody.unigram.sum()) == 0:
        raise StyleError(f"no melody with two notes or more in {where}")
    inherited = _inherit_missing(rhythm, harmony) if source is not None else []

    seconds = time.perf_counter() - started
    model = StyleModel(
        name=name or ("default" if source is None else _name_of(Path(source))),
        melody=melody,
        rhythm=rhythm,
        harmony=harmony,
        sources=_sources(source, files, results, used, held),
        training=_manifest(command, source, workers, limit, files, skipped, used, held, seconds, inherited,
                           duplicates),
    )
    model.save(out)
    if heldout_out is not None:
        write_heldout(held, Path(heldout_out), HELDOUT_SEED)
    return model


def _drop_duplicates(pieces: list[PieceStats]) -> tuple[list[PieceStats], list[str]]:
    """Keep the first of pieces with the same tune *and* the same chords; the rest were copies.

    Another harmonisation of the same chorale melody is kept: its harmony is new material.
    """
    seen: set[tuple] = set()
    kept, dropped = [], []
    for p in pieces:
        key = (melody_fingerprint(p), tuple(p.chords))
        if key in seen:
            dropped.append(p.ident)
        else:
            seen.add(key)
            kept.append(p)
    return kept, dropped


def _name_of(folder: Path) -> str:
    return folder.expanduser().resolve().name or "style"


def _inherit_missing(rhythm: RhythmModel, harmony: HarmonyModel) -> list[str]:
    """Fill tables the training folder could not teach from the shipped default style."""
    from segue.style.shipped import load_default

    missing = []
    for kind in ("simple", "compound"):
        if getattr(rhythm, kind).empty:
            missing.append(f"rhythm.{kind}")
    for fam in FAMILIES:
        if harmony.empty(fam):
            missing.append(f"harmony.{fam}")
    if not missing:
        return []
    default = load_default()
    for item in missing:
        part, which = item.split(".")
        if part == "rhythm":
            setattr(rhythm, which, copy.deepcopy(getattr(default.rhythm, which)))
        else:
            for table in ("first", "transitions", "cadences"):
                getattr(harmony, table)[which] = getattr(default.harmony, table)[which].copy()
    if harmony.changes_per_bar.get("pieces", 0.0) == 0.0:
        harmony.changes_per_bar = dict(default.harmony.changes_per_bar)
        missing.append("harmony.changes_per_bar")
    rhythm._index.clear()
    return [f"{m} (from {default.id}: not present in the training files)" for m in missing]


def _sources(source: str | Path | None, files: Sequence[SourceFile], results: Sequence[FileResult],
             used: Sequence[PieceStats], held: Sequence[PieceStats]) -> list[dict]:
    per_coll_files = Counter(files[i].collection for i, stats, _ in results if stats)
    per_coll_used = Counter(p.collection for p in used)
    per_coll_held = Counter(p.collection for p in held)
    if source is not None:
        return [{"name": _name_of(Path(source)), "path": str(Path(source).expanduser()),
                 "licence": "supplied by the user who trained this style",
                 "files": per_coll_files["user"], "pieces": per_coll_used["user"], "heldout": per_coll_held["user"]}]
    return [{"name": c.name, "path": f"music21/corpus/{c.folder}/", "licence": c.licence,
             "files": per_coll_files[c.folder], "pieces": per_coll_used[c.folder], "heldout": per_coll_held[c.folder]}
            for c in DEFAULT_COLLECTIONS]


def _manifest(command: str | None, source: str | Path | None, workers: int, limit: int | None,
              files: Sequence[SourceFile], skipped: Sequence[str], used: Sequence[PieceStats],
              held: Sequence[PieceStats], seconds: float, inherited: list[str], duplicates: list[str]) -> dict:
    cells = Counter("compound" if p.compound else "simple" for p in used for c in p.cells
                    if c is not None and p.compound is not None)
    harmonic = [p for p in used if p.family is not None]
    chords = sum(1 for p in harmonic for c in p.chords if c is not None)
    return {
        "command": command or f"segue.style.train.train(source={str(source) if source else None!r}, "
                              f"workers={workers}, limit={limit})",
        "seconds": round(seconds, 1),
        "workers": workers,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores visible, Python {platform.python_version()}",
        "music21": version("music21"),
        "files": len(files),
        "files_skipped": len(skipped),
        "skipped_examples": skipped[:20],
        "pieces": len(used),
        "duplicates_dropped": len(duplicates),
        "duplicate_examples": duplicates[:20],
        "melody_notes": sum(len(p.notes) for p in used),
        "melody_steps": sum(len(p.steps) for p in used),
        "rhythm_beats": dict(sorted(cells.items())),
        "harmony_pieces": dict(sorted(Counter(p.family for p in harmonic).items())),
        "harmony_chords": chords,
        "cadences": sum(len(p.cadences) for p in harmonic),
        "heldout_seed": HELDOUT_SEED,
        "heldout": sorted(p.ident for p in held),
        "inherited": inherited,
    }


def _print_progress(done: int, total: int) -> None:
    if done == total or done % 25 == 0:
        print(f"\r  read {done}/{total} files", end="\n" if done == total else "", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    here = Path(__file__).resolve().parent / "data"
    ap = argparse.ArgumentParser(prog="python -m segue.style.train", description=__doc__.split("\n\n")[0])
    ap.add_argument("source", nargs="?", help="folder of MIDI/MusicXML/ABC/Humdrum files (default: music21 corpus)")
    ap.add_argument("--out", type=Path, help=f"model file to write (default for the corpus: data/{DEFAULT_FILE})")
    ap.add_argument("--heldout-out", type=Path,
                    help=f"held-out pieces file (default for the corpus: data/{HELDOUT_FILE})")
    ap.add_argument("--workers", type=int, default=2, help="processes reading files in parallel (default 2)")
    ap.add_argument("--limit", type=int, help="read only this many files (quick trial runs)")
    ap.add_argument("--name", help="style name (default: 'default' or the folder's name)")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    if args.source is None:
        out = args.out or here / DEFAULT_FILE
        heldout_out = args.heldout_out or (here / HELDOUT_FILE if args.out is None else None)
    else:
        if args.out is None:
            print("error: --out is required when training from a folder", file=sys.stderr)
            return 2
        out, heldout_out = args.out, args.heldout_out
    command = "python -m segue.style.train" + ("" if argv is None and len(sys.argv) <= 1 else " " + " ".join(
        sys.argv[1:] if argv is None else argv))
    try:
        model = train(args.source, out, workers=args.workers, limit=args.limit, name=args.name,
                      heldout_out=heldout_out, command=command,
                      progress=None if args.quiet else _print_progress)
    except StyleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    t = model.training
    print(f"{model.id}: {t['pieces']} pieces, {t['melody_notes']} melody notes, {t['harmony_chords']} chords, "
          f"{t['files_skipped']} of {t['files']} files skipped, {t['seconds']} s with {t['workers']} workers")
    print(f"wrote {out} ({out.stat().st_size} bytes, {model.parameter_count} numbers)"
          + (f" and {heldout_out} ({len(t['heldout'])} held-out pieces)" if heldout_out else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
