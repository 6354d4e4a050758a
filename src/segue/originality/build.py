"""Rebuilding the shipped corpus index: ``python -m segue.originality.build``.

Indexes the same public-domain music21 collections the default style learns from
(:data:`segue.style.corpus.DEFAULT_COLLECTIONS`), every tune of every file, with every part and
the skyline. Parsing the corpus takes a few minutes (music21); the result ships in
``segue/originality/data/`` (gzipped, about 4 MB; unpacked into the user's cache folder on
first use) so that no user ever waits for it.
"""

from __future__ import annotations

import argparse
import gzip
import multiprocessing
import sys
import time
from pathlib import Path

from segue.originality.errors import OriginalityError
from segue.originality.locations import CORPUS_INDEX
from segue.originality.reading import Work, read_works
from segue.originality.store import IndexInfo, ReferenceIndex
from segue.style.corpus import default_files


def _read(task: tuple[str, str, str]) -> tuple[list[Work], str | None]:
    path, ident, collection = task
    try:
        return read_works(Path(path), ident, collection), None
    except OriginalityError as exc:
        return [], str(exc)
    except Exception as exc:  # a strange file must not end the build
        return [], f"{ident}: {type(exc).__name__}: {exc}"


def build(out: Path, workers: int = 2, limit: int | None = None) -> IndexInfo:
    """Write a fresh index of the default collections to ``out`` (replacing it)."""
    files = default_files()
    if limit:
        files = files[:: max(1, len(files) // limit)][:limit]
    tasks = [(str(f.path), f.ident, f.collection) for f in files]
    tmp = out.with_name(out.name + ".building")
    for p in (tmp, Path(str(tmp) + "-wal"), Path(str(tmp) + "-shm")):
        p.unlink(missing_ok=True)
    started = time.perf_counter()
    ctx = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    with ctx.Pool(max(1, workers)) as pool:
        results = pool.map(_read, tasks, chunksize=4)
    works = [w for ws, _ in results for w in ws]
    skipped = [why for _, why in results if why]
    index = ReferenceIndex.open(tmp, create=True, name="segue public-domain training corpus")
    lines = index.add_works(works)
    index.close()
    # ship a compact single file that opens read-only anywhere: no WAL, no free pages
    import sqlite3

    conn = sqlite3.connect(str(tmp), isolation_level=None)
    conn.execute("PRAGMA journal_mode=DELETE")
    conn.execute("VACUUM")
    conn.close()
    info = _verify_and_place(tmp, out, "new")
    print(f"{len(files)} files, {len(works)} works, {lines} melodic lines, {len(skipped)} files skipped, "
          f"{time.perf_counter() - started:.1f} s -> {out} ({out.stat().st_size / 1e6:.1f} MB)")
    for why in skipped[:20]:
        print("  skipped:", why)
    return info


def _verify_and_place(tmp: Path, out: Path, what: str) -> IndexInfo:
    """Check a freshly written index and move it to ``out`` (gzipped when ``out`` ends in .gz: the shipped
    form, unpacked into the user's cache on first use)."""
    with ReferenceIndex.open(tmp, readonly=True) as done:
        info = done.info()
        problems = done.verify()
    if problems:
        raise OriginalityError(f"the {what} index is inconsistent: {problems}")
    if out.suffix == ".gz":
        out.write_bytes(gzip.compress(tmp.read_bytes(), compresslevel=9, mtime=0))
        tmp.unlink()
    else:
        tmp.replace(out)
    return info


def rekey(source: Path, out: Path) -> IndexInfo:
    """Rewrite an index's keys with this Segue's method, from the notes it stores (no re-parsing).

    The ``melody`` table keeps every line's exact notes, so when only the retrieval keys change
    the shipped index is re-keyed in seconds instead of re-reading the corpus for minutes.
    """
    import shutil
    import sqlite3

    import numpy as np

    from segue.originality.melody import METHOD, tokenise, unpack_notes

    tmp = out.with_name(out.name + ".rekeying")
    tmp.unlink(missing_ok=True)
    if source.suffix == ".gz":
        tmp.write_bytes(gzip.decompress(source.read_bytes()))
    else:
        shutil.copyfile(source, tmp)
    conn = sqlite3.connect(str(tmp), isolation_level=None)
    rows = conn.execute("SELECT id, line, notes FROM melody ORDER BY id").fetchall()
    ids = np.asarray([r[0] for r in rows], np.int64)
    hashes, line_idx, pos = tokenise([unpack_notes(r[1], r[2]) for r in rows]).postings()
    counts = np.bincount(line_idx, minlength=len(rows))
    order = np.lexsort((pos, line_idx, hashes))
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("DELETE FROM ngram")
    conn.executemany("INSERT INTO ngram VALUES (?, ?, ?)",
                     zip(hashes[order].tolist(), ids[line_idx[order]].tolist(), pos[order].tolist()))
    conn.executemany("UPDATE melody SET n_grams = ? WHERE id = ?", zip(counts.tolist(), ids.tolist()))
    conn.execute("UPDATE meta SET value = ? WHERE key = 'method'", (METHOD,))
    conn.execute("COMMIT")
    conn.execute("VACUUM")
    conn.close()
    info = _verify_and_place(tmp, out, "re-keyed")
    print(f"re-keyed {info.melodies} lines ({info.ngrams} keys) -> {out} ({out.stat().st_size / 1e6:.1f} MB)")
    return info


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "data" / (CORPUS_INDEX + ".gz"),
                    help="where to write (ending in .gz: gzipped, as shipped)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--limit", type=int, default=None, help="index only about this many files (for trying things)")
    ap.add_argument("--rekey", action="store_true",
                    help="only rewrite the keys of the index at --out from its stored notes (fast)")
    args = ap.parse_args(argv)
    if args.rekey:
        rekey(args.out, args.out)
    else:
        build(args.out, args.workers, args.limit)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
