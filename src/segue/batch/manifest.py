"""The manifest: one SQLite row per asset — inputs hash, outputs, provenance, status, error, attempts.

Only the driver writes it, one committed transaction per finished asset, so a crash loses at most the
assets in flight. An asset counts as done only if its row says so *for the same inputs hash* and every
file it lists is still there: deleting an output or editing a spec makes it run again.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from segue.batch.assets import Asset
from segue.batch.errors import BatchError

SCHEMA = """
CREATE TABLE IF NOT EXISTS assets (
    name TEXT PRIMARY KEY,
    inputs_hash TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('done', 'failed')),
    attempts INTEGER NOT NULL,
    error TEXT,  -- why it failed; for a done asset tried more than once, its last failed try
    outputs TEXT NOT NULL DEFAULT '[]',
    facts TEXT NOT NULL DEFAULT '{}',
    provenance TEXT NOT NULL DEFAULT '{}',
    asset TEXT NOT NULL,
    seconds REAL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    job TEXT NOT NULL,
    workers INTEGER,
    cluster TEXT,
    planned INTEGER, skipped INTEGER, done INTEGER, failed INTEGER, retried INTEGER,
    status TEXT
);
"""


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class Manifest:
    """``manifest.sqlite`` in the output folder."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.root = self.path.parent
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            # no fsync per commit (4.6 ms each here): a process crash loses nothing, a power cut at worst the
            # last rows — assets that are then made again, never a file wrongly marked done
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise BatchError(f"cannot open the manifest {self.path}: {exc}") from None

    def close(self) -> None:
        self.db.close()

    # ---------------------------------------------------------------- reading
    def row(self, name: str) -> dict | None:
        cur = self.db.execute("SELECT name, inputs_hash, status, attempts, error, outputs, facts, provenance, "
                              "asset, seconds, updated_at FROM assets WHERE name = ?", (name,))
        r = cur.fetchone()
        if r is None:
            return None
        keys = ("name", "inputs_hash", "status", "attempts", "error", "outputs", "facts", "provenance", "asset",
                "seconds", "updated_at")
        d = dict(zip(keys, r))
        for k in ("outputs", "facts", "provenance", "asset"):
            d[k] = json.loads(d[k])
        return d

    def is_done(self, asset: Asset) -> bool:
        """Done for these inputs, with every listed file present."""
        r = self.row(asset.name)
        return (r is not None and r["status"] == "done" and r["inputs_hash"] == asset.inputs_hash
                and all((self.root / p).is_file() for p in r["outputs"]))

    def rows(self, names: list[str]) -> list[dict]:
        return [r for r in (self.row(n) for n in names) if r is not None]

    # ---------------------------------------------------------------- writing
    def record(self, asset: Asset, result: dict, attempts: int) -> None:
        """Record a finished try (done or failed) in one transaction."""
        ok = bool(result.get("ok"))
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO assets (name, inputs_hash, status, attempts, error, outputs, facts, "
                "provenance, asset, seconds, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (asset.name, asset.inputs_hash, "done" if ok else "failed", attempts,
                 result.get("recovered") if ok else str(result.get("error", "unknown error")),
                 json.dumps(result.get("outputs", []) if ok else []),
                 json.dumps(result.get("facts", {}) if ok else {}, sort_keys=True),
                 json.dumps(result.get("provenance", {}) if ok else {}, sort_keys=True, default=str),
                 json.dumps(asset.to_dict(), sort_keys=True), result.get("seconds"), _now()))

    def start_run(self, job: str, workers: int, cluster: str) -> int:
        with self.db:
            cur = self.db.execute("INSERT INTO runs (started_at, job, workers, cluster, status) "
                                  "VALUES (?, ?, ?, ?, 'running')", (_now(), job, workers, cluster))
        return int(cur.lastrowid)

    def finish_run(self, run: int, status: str, **counts: int) -> None:
        with self.db:
            self.db.execute("UPDATE runs SET finished_at = ?, status = ?, planned = ?, skipped = ?, done = ?, "
                            "failed = ?, retried = ? WHERE id = ?",
                            (_now(), status, counts.get("planned"), counts.get("skipped"), counts.get("done"),
                             counts.get("failed"), counts.get("retried"), run))
