"""The reference index: one SQLite file of works, their melodic lines and an inverted n-gram table.

Why SQLite: one file a studio can copy, inspect and back up; transactions so that a crash in
the middle of ``segue index add`` leaves the index exactly as it was before the interrupted
file (never half a work); and readers that can check while a writer adds (WAL mode).

Tables:

* ``meta`` — format, fingerprint method, name: an index made with other parameters is refused.
* ``work`` — one row per piece (title, collection, source file, sha256, bar layout).
* ``melody`` — one row per line of a work: the notes (packed, exact ticks) and how many
  n-grams it has, so that :meth:`ReferenceIndex.verify` can prove nothing is missing.
* ``ngram`` — the inverted table ``hash → (melody, position)``. It is a ``WITHOUT ROWID``
  table whose primary key starts with ``hash``: the table *is* the B-tree index on ``hash``
  (one copy of each posting instead of a table plus an index, half the size, same look-up).
"""

from __future__ import annotations

import hashlib
import itertools
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from segue.originality.bars import BarGrid
from segue.originality.errors import OriginalityError
from segue.originality.melody import METHOD, Line, pack_lines, tokenise, unpack_notes
from segue.originality.reading import Work

FORMAT = "segue-originality-index/1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS work (
    id INTEGER PRIMARY KEY,
    ident TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    collection TEXT NOT NULL,
    source TEXT NOT NULL,
    digest TEXT NOT NULL,
    bars TEXT NOT NULL,
    lines INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS work_by_source ON work (source);
CREATE TABLE IF NOT EXISTS melody (
    id INTEGER PRIMARY KEY,
    work INTEGER NOT NULL,
    line TEXT NOT NULL,
    notes BLOB NOT NULL,
    n_notes INTEGER NOT NULL,
    n_grams INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS melody_by_work ON melody (work);
CREATE TABLE IF NOT EXISTS ngram (
    hash INTEGER NOT NULL,
    melody INTEGER NOT NULL,
    pos INTEGER NOT NULL,
    PRIMARY KEY (hash, melody, pos)
) WITHOUT ROWID;
"""


@dataclass(frozen=True, slots=True)
class IndexInfo:
    """What an index holds, for reports and the provenance sidecar."""

    path: str
    name: str
    works: int
    melodies: int
    ngrams: int
    fingerprint: str  # changes whenever a work is added or replaced

    def to_dict(self) -> dict[str, str | int]:
        return {"path": self.path, "name": self.name, "works": self.works, "melodies": self.melodies,
                "ngrams": self.ngrams, "fingerprint": self.fingerprint}


@dataclass(frozen=True, slots=True)
class WorkRow:
    id: int
    ident: str
    title: str
    collection: str
    source: str
    bars: BarGrid


class ReferenceIndex:
    """An open index file. Use :meth:`open`; close it (or use ``with``) when done."""

    def __init__(self, path: Path, conn: sqlite3.Connection, writable: bool) -> None:
        self.path = path
        self._conn = conn
        self.writable = writable

    # ------------------------------------------------------------ opening

    @classmethod
    def open(cls, path: str | Path, *, create: bool = False, readonly: bool = False,
             name: str | None = None) -> "ReferenceIndex":
        """Open (or with ``create`` make) an index; raises OriginalityError if the file is not one.

        ``readonly`` opens without ever writing, even the WAL side files: the index shipped
        inside the package may sit in a read-only folder.
        """
        p = Path(path).expanduser()
        if not p.exists() and not create:
            raise OriginalityError(f"{p}: no such index (make one with `segue index add DIR --index {p}`)")
        if p.exists() and not p.is_file():
            raise OriginalityError(f"{p}: not an index file")
        try:
            if readonly:
                conn = sqlite3.connect(f"{p.resolve().as_uri()}?mode=ro&immutable=1", uri=True, isolation_level=None,
                                       check_same_thread=False)
            else:
                p.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(str(p), isolation_level=None, timeout=30.0, check_same_thread=False)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a crash loses at most the open transaction
            conn.execute("PRAGMA cache_size=-65536")
            index = cls(p, conn, not readonly)
            index._prepare(create and not readonly, name)
            return index
        except sqlite3.DatabaseError as exc:
            raise OriginalityError(f"{p}: not a Segue reference index ({exc})") from exc

    def _prepare(self, create: bool, name: str | None) -> None:
        tables = {r[0] for r in self._conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not tables and create:
            with self.transaction():
                for statement in _SCHEMA.split(";"):
                    if statement.strip():  # one by one: executescript() would commit the open transaction
                        self._conn.execute(statement)
                self._conn.executemany("INSERT INTO meta VALUES (?, ?)", [
                    ("format", FORMAT), ("method", METHOD), ("name", name or self.path.stem),
                    ("created", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())),
                ])
            return
        if "meta" not in tables:
            raise OriginalityError(f"{self.path}: not a Segue reference index (no meta table)")
        meta = self.meta()
        if meta.get("format") != FORMAT:
            raise OriginalityError(f"{self.path}: index format {meta.get('format')!r}, this Segue reads {FORMAT!r}")
        if meta.get("method") != METHOD:
            raise OriginalityError(f"{self.path}: fingerprints made with {meta.get('method')!r}; this Segue uses "
                                   f"{METHOD!r}. Rebuild the index with `segue index add`.")

    def meta(self) -> dict[str, str]:
        return dict(self._conn.execute("SELECT key, value FROM meta").fetchall())

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> "ReferenceIndex":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ writing

    def transaction(self) -> "_Transaction":
        """``with index.transaction():`` — all or nothing, even if the process is killed inside."""
        if not self.writable:
            raise OriginalityError(f"{self.path}: opened read-only")
        return _Transaction(self._conn)

    def known_digest(self, ident: str) -> str | None:
        row = self._conn.execute("SELECT digest FROM work WHERE ident = ?", (ident,)).fetchone()
        return None if row is None else str(row[0])

    def source_digests(self, source: str) -> set[str]:
        """The sha256 of a source file as indexed (empty if it is not in the index)."""
        return {str(r[0]) for r in self._conn.execute("SELECT DISTINCT digest FROM work WHERE source = ?", (source,))}

    def add_works(self, works: Sequence[Work], replace_source: str | None = None) -> int:
        """Add works in ONE transaction; a work whose ident is already indexed is replaced.

        ``replace_source``: also remove every work from that file first (a re-read ABC book
        may hold fewer tunes than before).

        Returns the number of melodic lines written. Fingerprints of the whole batch are
        computed at once (vectorised), which is where indexing speed comes from.
        """
        works = [w for w in works if w.lines]
        if not works and replace_source is None:
            return 0
        lines = [line for w in works for line in w.lines]
        tok = tokenise(lines)
        hashes, line_idx, pos = tok.postings()
        counts = np.bincount(line_idx, minlength=len(lines)).tolist()
        packed = pack_lines(lines)
        grids: dict[object, str] = {}  # works often share one bar layout (frozen, so equal layouts hash alike)
        with self.transaction():
            c = self._conn
            self._drop([w.ident for w in works], replace_source)
            next_work = int(c.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM work").fetchone()[0])
            next_melody = int(c.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM melody").fetchone()[0])
            work_rows, melody_rows = [], []
            k = 0
            for wi, w in enumerate(works):
                wid = next_work + wi
                grid = grids.get(w.bars)
                if grid is None:
                    grid = grids[w.bars] = w.bars.to_json()
                work_rows.append((wid, w.ident, w.title, w.collection, w.source, w.digest, grid, len(w.lines)))
                for line in w.lines:
                    melody_rows.append((next_melody + k, wid, line.name, packed[k], len(line), counts[k]))
                    k += 1
            c.executemany("INSERT INTO work VALUES (?, ?, ?, ?, ?, ?, ?, ?)", work_rows)
            c.executemany("INSERT INTO melody VALUES (?, ?, ?, ?, ?, ?)", melody_rows)
            order = np.lexsort((pos, line_idx, hashes))  # B-tree order: pages fill front to back
            c.executemany("INSERT INTO ngram VALUES (?, ?, ?)",
                          zip(hashes[order].tolist(), (line_idx[order] + next_melody).tolist(), pos[order].tolist()))
        return len(lines)

    def _drop(self, idents: Iterable[str], source: str | None = None) -> None:
        """Inside a transaction: remove works (and their lines and postings) that are about to be replaced."""
        c = self._conn
        names = list(idents)
        ids: set[int] = set()
        for i in range(0, len(names), 500):  # a few IN queries instead of one query per work
            chunk = names[i:i + 500]
            marks = ",".join("?" * len(chunk))
            ids |= {r[0] for r in c.execute(f"SELECT id FROM work WHERE ident IN ({marks})", chunk)}
        if source is not None:
            ids |= {r[0] for r in c.execute("SELECT id FROM work WHERE source = ?", (source,))}
        if not ids:
            return
        c.execute("CREATE TEMP TABLE IF NOT EXISTS gone (id INTEGER PRIMARY KEY)")
        c.execute("DELETE FROM gone")
        c.executemany("INSERT OR IGNORE INTO gone SELECT id FROM melody WHERE work = ?", [(i,) for i in ids])
        c.execute("DELETE FROM ngram WHERE melody IN (SELECT id FROM gone)")
        c.execute("DELETE FROM melody WHERE id IN (SELECT id FROM gone)")
        c.executemany("DELETE FROM work WHERE id = ?", [(i,) for i in ids])

    # ------------------------------------------------------------ reading

    def info(self) -> IndexInfo:
        c = self._conn
        works = int(c.execute("SELECT COUNT(*) FROM work").fetchone()[0])
        melodies = int(c.execute("SELECT COUNT(*) FROM melody").fetchone()[0])
        ngrams = int(c.execute("SELECT COALESCE(SUM(n_grams), 0) FROM melody").fetchone()[0])
        h = hashlib.sha256(f"{FORMAT}\n{METHOD}\n".encode())
        for ident, digest in c.execute("SELECT ident, digest FROM work ORDER BY ident"):
            h.update(f"{ident}\t{digest}\n".encode())
        return IndexInfo(str(self.path), self.meta().get("name", self.path.stem), works, melodies, ngrams,
                         h.hexdigest()[:16])

    def verify(self) -> list[str]:
        """Problems found (an empty list means the file is whole and consistent).

        SQLite's own integrity check, then Segue's: every line belongs to a work, every work
        has all its lines, every line has all its postings, no posting points at a missing line.
        """
        c = self._conn
        problems = [r[0] for r in c.execute("PRAGMA integrity_check") if r[0] != "ok"]
        orphans = c.execute("SELECT COUNT(*) FROM melody WHERE work NOT IN (SELECT id FROM work)").fetchone()[0]
        if orphans:
            problems.append(f"{orphans} melodies belong to no work")
        short = c.execute("SELECT COUNT(*) FROM work w WHERE w.lines != "
                          "(SELECT COUNT(*) FROM melody m WHERE m.work = w.id)").fetchone()[0]
        if short:
            problems.append(f"{short} works do not have all their melodies")
        counted = dict(c.execute("SELECT melody, COUNT(*) FROM ngram GROUP BY melody").fetchall())
        expected = dict(c.execute("SELECT id, n_grams FROM melody").fetchall())
        stray = set(counted) - set(expected)
        if stray:
            problems.append(f"postings point at {len(stray)} missing melodies")
        wrong = [m for m, n in expected.items() if counted.get(m, 0) != n]
        if wrong:
            problems.append(f"{len(wrong)} melodies do not have all their n-grams")
        return problems

    def works(self, ids: Iterable[int] | None = None) -> dict[int, WorkRow]:
        sql = "SELECT id, ident, title, collection, source, bars FROM work"
        if ids is None:
            rows = self._conn.execute(sql).fetchall()
        else:
            rows = [r for i in sorted(set(ids)) for r in self._conn.execute(sql + " WHERE id = ?", (int(i),))]
        return {int(r[0]): WorkRow(int(r[0]), r[1], r[2], r[3], r[4], BarGrid.from_json(r[5])) for r in rows}

    def melody_rows(self) -> tuple[np.ndarray, np.ndarray, list[Line]]:
        """Every line, in id order: ``(melody ids, work ids, lines)``."""
        ids, works, lines = [], [], []
        for mid, wid, name, blob in self._conn.execute("SELECT id, work, line, notes FROM melody ORDER BY id"):
            ids.append(mid)
            works.append(wid)
            lines.append(unpack_notes(name, blob))
        return np.asarray(ids, np.int64), np.asarray(works, np.int64), lines

    def lines(self, melody_ids: Iterable[int]) -> dict[int, tuple[int, Line]]:
        """``melody id → (work id, line)`` for a few melodies (report details)."""
        out: dict[int, tuple[int, Line]] = {}
        for m in sorted(set(int(i) for i in melody_ids)):
            row = self._conn.execute("SELECT work, line, notes FROM melody WHERE id = ?", (m,)).fetchone()
            if row is not None:
                out[m] = (int(row[0]), unpack_notes(row[1], row[2]))
        return out

    def postings(self) -> tuple[np.ndarray, np.ndarray]:
        """The inverted table as two arrays ``(hash, melody)``, sorted by hash (the table's own order)."""
        n = int(self._conn.execute("SELECT COALESCE(SUM(n_grams), 0) FROM melody").fetchone()[0])
        cur = self._conn.execute("SELECT hash, melody FROM ngram")
        flat = np.fromiter(itertools.chain.from_iterable(cur), dtype=np.int64, count=2 * n)
        return flat[0::2], flat[1::2]

    def candidates(self, hashes: Sequence[int], limit: int) -> list[tuple[int, int]]:
        """SQL look-up without loading the index: ``(melody, shared distinct n-grams)``, best first."""
        if not len(hashes):
            return []
        c = self._conn
        c.execute("CREATE TEMP TABLE IF NOT EXISTS probe (hash INTEGER PRIMARY KEY)")
        c.execute("DELETE FROM probe")
        c.executemany("INSERT OR IGNORE INTO probe VALUES (?)", ((int(h),) for h in hashes))
        rows = c.execute("SELECT n.melody, COUNT(DISTINCT n.hash) AS shared FROM probe p JOIN ngram n "
                         "ON n.hash = p.hash GROUP BY n.melody ORDER BY shared DESC, n.melody LIMIT ?",
                         (int(limit),)).fetchall()
        return [(int(m), int(s)) for m, s in rows]


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT, or ROLLBACK on any exception (including KeyboardInterrupt)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def __enter__(self) -> None:
        self._conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        if kind is None:
            self._conn.execute("COMMIT")
        else:
            self._conn.execute("ROLLBACK")
