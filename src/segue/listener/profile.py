"""A listener's profile: one SQLite file per player, on this machine only.

Why SQLite: a game may be killed at any moment (a crash, a power cut, alt-F4). Every write here is
one transaction in write-ahead-log mode, so a profile is always as of its last complete write —
never half a feedback event. The profile keeps the *evidence* (each feedback event with the settings
heard, the play-style signals, who the player met), not a fitted model: the taste model is rebuilt
from it in a few milliseconds, so a better model later can reread an old profile.

A file that is not a readable profile (corrupt, truncated, another program's database) is moved
aside (``<name>.corrupt-<n>``) with its WAL, and a fresh profile is started; :attr:`Profile.notice`
says so in one line. Nothing is ever sent anywhere; ``export`` writes JSON for the player to keep,
``reset`` deletes the file.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import time
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1
MAX_OBSERVATIONS = 20_000
"""Feedback events a profile keeps (the oldest go first): years of play, a bounded file."""
MAX_PLAYER_CHARS = 64
_PLAYER = re.compile(r"[A-Za-z0-9_.-]+")
PROFILE_DIR_ENV = "SEGUE_PROFILE_DIR"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT, spec TEXT NOT NULL, state TEXT, name TEXT NOT NULL,
    reward REAL NOT NULL, settings TEXT NOT NULL, aggression REAL NOT NULL, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS signals (name TEXT PRIMARY KEY, value REAL NOT NULL, count INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS met (spec TEXT NOT NULL, thing TEXT NOT NULL, times INTEGER NOT NULL,
    PRIMARY KEY (spec, thing));
"""


class ProfileError(ValueError):
    """A profile that cannot be opened or written (bad player name, unwritable folder)."""


def profile_dir() -> Path:
    """Where profiles live: ``$SEGUE_PROFILE_DIR``, else the user's data folder (no network, ever)."""
    env = os.environ.get(PROFILE_DIR_ENV)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "segue" / "profiles"


def check_player(player: str) -> str:
    if not isinstance(player, str) or not _PLAYER.fullmatch(player) or len(player) > MAX_PLAYER_CHARS:
        raise ProfileError(f"player name {player!r}: use 1-{MAX_PLAYER_CHARS} letters, digits, '.', '_' or '-'")
    return player


def player_seed(player: str) -> int:
    """A player's own seed: the same name always gives the same soundtrack (63 bits of its hash)."""
    return int.from_bytes(hashlib.sha256(player.encode("utf-8")).digest()[:8], "big") >> 1


class Profile:
    """One player's profile file. Use :func:`open_profile`; close it (or use ``with``) when done."""

    def __init__(self, path: Path, player: str, conn: sqlite3.Connection, notice: str | None = None) -> None:
        self.path = path
        self.player = player
        self.conn = conn
        self.notice = notice
        """One line when the file on disk was unreadable and a fresh profile replaced it."""

    # ------------------------------------------------------------------ life
    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Profile":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def seed(self) -> int:
        return int(self._meta("seed") or player_seed(self.player))

    def _meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    # ------------------------------------------------------------------ writing (one transaction each)
    def add_feedback(self, rows: list[dict[str, Any]]) -> None:
        """Feedback events, all or none: ``spec``, ``state``, ``name``, ``reward``, ``settings``, ``aggression``."""
        if not rows:
            return
        with self.conn:
            self.conn.executemany(
                "INSERT INTO feedback (spec, state, name, reward, settings, aggression, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(str(r["spec"]), r.get("state"), str(r["name"]), float(r["reward"]),
                  json.dumps(r.get("settings", {}), sort_keys=True), float(r.get("aggression", 0.5)),
                  float(r.get("at", time.time()))) for r in rows])
            self.conn.execute("DELETE FROM feedback WHERE id <= (SELECT MAX(id) FROM feedback) - ?", (MAX_OBSERVATIONS,))

    def add_signal(self, name: str, value: float) -> None:
        """A play-style signal: its latest value (and how many times it was sent)."""
        with self.conn:
            self.conn.execute("INSERT INTO signals (name, value, count) VALUES (?, ?, 1) ON CONFLICT(name) DO "
                              "UPDATE SET value = excluded.value, count = count + 1", (name, float(value)))

    def add_meeting(self, spec: str, thing: str) -> None:
        with self.conn:
            self.conn.execute("INSERT INTO met (spec, thing, times) VALUES (?, ?, 1) ON CONFLICT(spec, thing) DO "
                              "UPDATE SET times = times + 1", (spec, thing))

    # ------------------------------------------------------------------ reading
    def feedback(self, spec: str | None = None) -> list[dict[str, Any]]:
        """Feedback events, oldest first (all specs, or one)."""
        q = "SELECT spec, state, name, reward, settings, aggression, at FROM feedback"
        rows = self.conn.execute(q + (" WHERE spec = ?" if spec else "") + " ORDER BY id", (spec,) if spec else ())
        return [{"spec": r[0], "state": r[1], "name": r[2], "reward": r[3], "settings": json.loads(r[4]),
                 "aggression": r[5], "at": r[6]} for r in rows]

    def signals(self) -> dict[str, float]:
        return {name: value for name, value, _ in self.conn.execute("SELECT name, value, count FROM signals")}

    def met(self, spec: str | None = None) -> dict[str, int]:
        q = "SELECT thing, times FROM met" + (" WHERE spec = ?" if spec else "")
        return {thing: times for thing, times in self.conn.execute(q, (spec,) if spec else ())}

    def summary(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for (name,) in self.conn.execute("SELECT name FROM feedback"):
            counts[name] = counts.get(name, 0) + 1
        return {"player": self.player, "path": str(self.path), "seed": self.seed, "created": self._meta("created"),
                "feedback": counts, "signals": self.signals(), "met": self.met()}

    def export(self) -> dict[str, Any]:
        """Everything the profile holds, as JSON-ready data (for the player to read or keep)."""
        return {"format": "segue-profile", "version": SCHEMA_VERSION, **self.summary(),
                "events": self.feedback(),
                "meetings": [{"spec": s, "thing": t, "times": n} for s, t, n in
                             self.conn.execute("SELECT spec, thing, times FROM met ORDER BY spec, thing")]}


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), timeout=5.0, isolation_level="DEFERRED",
                           check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    return conn


def _check(conn: sqlite3.Connection) -> None:
    """Raise sqlite3.DatabaseError unless ``conn`` is a sound profile (or an empty new file)."""
    ok = conn.execute("PRAGMA quick_check").fetchone()
    if not ok or ok[0] != "ok":
        raise sqlite3.DatabaseError(f"integrity check failed: {ok[0] if ok else 'no answer'}")
    with conn:
        conn.executescript(_SCHEMA)
    version = conn.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
    if version is not None and version[0] != str(SCHEMA_VERSION):
        raise sqlite3.DatabaseError(f"profile format version {version[0]} (this Segue reads {SCHEMA_VERSION})")
    for table, columns in (("feedback", 8), ("signals", 3), ("met", 3)):
        if len(conn.execute(f"PRAGMA table_info({table})").fetchall()) != columns:
            raise sqlite3.DatabaseError(f"table {table!r} is not a Segue profile's")


def _set_aside(path: Path) -> Path:
    n = 1
    while (aside := path.with_name(f"{path.name}.corrupt-{n}")).exists():
        n += 1
    path.replace(aside)
    for tail in ("-wal", "-shm"):
        extra = path.with_name(path.name + tail)
        if extra.exists():
            extra.replace(aside.with_name(aside.name + tail))
    return aside


def open_profile(player: str, folder: Path | None = None) -> Profile:
    """The profile of ``player`` (created if new). A corrupt file is set aside and a fresh one started."""
    check_player(player)
    folder = Path(folder) if folder is not None else profile_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ProfileError(f"cannot create the profile folder {folder}: {exc.strerror or exc}") from None
    path = folder / f"{player}.sqlite"
    notice = None
    conn = None
    try:
        conn = _connect(path)
        _check(conn)
    except sqlite3.DatabaseError as exc:
        if conn is not None:
            conn.close()
        aside = _set_aside(path)
        notice = (f"profile {path} was unreadable ({exc}); it was moved to {aside.name} and a fresh "
                  f"profile started")
        conn = _connect(path)
        _check(conn)
    except sqlite3.Error as exc:  # a locked or unwritable file: not corrupt, so nothing is moved
        raise ProfileError(f"cannot open profile {path}: {exc}") from None
    with conn:
        conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('version', ?)", (str(SCHEMA_VERSION),))
        conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('seed', ?)", (str(player_seed(player)),))
        conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('created', ?)",
                     (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),))
    return Profile(path, player, conn, notice)


def delete_profile(player: str, folder: Path | None = None) -> bool:
    """Delete ``player``'s profile (and its WAL); True if there was one."""
    check_player(player)
    path = (Path(folder) if folder is not None else profile_dir()) / f"{player}.sqlite"
    found = path.exists()
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if p.exists():
            p.unlink()
    return found


__all__ = ["Profile", "ProfileError", "delete_profile", "open_profile", "player_seed", "profile_dir"]
