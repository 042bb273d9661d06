"""The state store in one SQLite file, shared by the worker processes of one machine.

WAL mode lets readers run beside the one writer; ``busy_timeout`` makes a writer wait for another process's
short transaction instead of failing. Every claim is one statement or one ``BEGIN IMMEDIATE`` transaction,
so two processes can never both create a key, both win a swap or lose an increment.

Each process opens its own connection on first use (a connection must not cross a fork: gunicorn builds
the app after forking, and a store used before a fork reopens in the child). Calls are short, so one
connection behind a lock serves every thread or greenlet of a process.
"""

from __future__ import annotations

import math
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from app.domain.store import StoreUnavailableError

MEMORY = ":memory:"
SETUP_RETRY_SECONDS = 0.05
PURGE_EVERY = 500  # writes of this process between two deletions of the expired rows

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS kv_expires ON kv (expires)",
    "CREATE TABLE IF NOT EXISTS leases (key TEXT NOT NULL, member TEXT NOT NULL, expires REAL NOT NULL, "
    "PRIMARY KEY (key, member))",
    "CREATE INDEX IF NOT EXISTS leases_expires ON leases (expires)",
)
_CREATE = (
    "INSERT INTO kv (key, value, expires) VALUES (?, ?, ?) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires = excluded.expires WHERE kv.expires <= ?"
)
_PUT = (
    "INSERT INTO kv (key, value, expires) VALUES (?, ?, ?) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires = excluded.expires"
)

T = TypeVar("T")


def _ttl(ttl: float) -> float:
    if not (ttl > 0 and math.isfinite(ttl)):
        raise ValueError(f"a state store ttl must be a positive number of seconds, not {ttl!r}")
    return ttl


class SqliteStore:
    """``StateStore`` in the SQLite file at ``path`` (its folder is created), or a private in-process
    database for ``":memory:"`` (tests: not shared with other processes, lost on exit)."""

    def __init__(self, path: str, *, busy_timeout: float = 5.0, purge_every: int = PURGE_EVERY) -> None:
        self.path = path
        self._busy_timeout = busy_timeout
        self._purge_every = purge_every
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = 0
        self._writes = 0
        self._inherited: list[sqlite3.Connection] = []  # opened before a fork: never used nor closed here
        reset = weakref.WeakMethod(self._after_fork)
        os.register_at_fork(after_in_child=lambda: (method := reset()) and method())

    def __repr__(self) -> str:
        return f"SqliteStore({self.path!r})"

    # -- StateStore -----------------------------------------------------------------------------------

    def create(self, key: str, value: str, ttl: float) -> bool:
        ttl = _ttl(ttl)

        def run(conn: sqlite3.Connection, now: float) -> bool:
            return conn.execute(_CREATE, (key, value, now + ttl, now)).rowcount == 1

        return self._write(run)

    def get(self, key: str) -> str | None:
        def run(conn: sqlite3.Connection, now: float) -> str | None:
            row = conn.execute("SELECT value FROM kv WHERE key = ? AND expires > ?", (key, now)).fetchone()
            return None if row is None else str(row[0])

        return self._call(run)

    def put(self, key: str, value: str, ttl: float) -> None:
        ttl = _ttl(ttl)

        def run(conn: sqlite3.Connection, now: float) -> None:
            conn.execute(_PUT, (key, value, now + ttl))

        self._write(run)

    def swap(self, key: str, expected: str, value: str | None, ttl: float) -> bool:
        ttl = _ttl(ttl)

        def run(conn: sqlite3.Connection, now: float) -> bool:
            if value is None:
                sql, args = "DELETE FROM kv WHERE key = ? AND value = ? AND expires > ?", (key, expected, now)
                return conn.execute(sql, args).rowcount == 1
            sql = "UPDATE kv SET value = ?, expires = ? WHERE key = ? AND value = ? AND expires > ?"
            return conn.execute(sql, (value, now + ttl, key, expected, now)).rowcount == 1

        return self._write(run)

    def delete(self, key: str) -> None:
        self._write(lambda conn, _now: conn.execute("DELETE FROM kv WHERE key = ?", (key,)))

    def add(self, key: str, delta: int, ttl: float) -> int:
        ttl = _ttl(ttl)

        def run(conn: sqlite3.Connection, now: float) -> int:
            conn.execute("BEGIN IMMEDIATE")  # the read and the write below: one claim, no other writer between
            try:
                row = conn.execute("SELECT value, expires FROM kv WHERE key = ? AND expires > ?", (key, now)).fetchone()
                try:
                    total = (0 if row is None else int(row[0])) + delta
                except ValueError:
                    raise StoreUnavailableError(f"state key {key!r} does not hold an integer") from None
                expires = now + ttl if row is None else float(row[1])
                conn.execute(_PUT, (key, str(total), expires))
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return total

        return self._write(run)

    def lease(self, key: str, member: str, ttl: float, limit: int | None = None) -> bool:
        ttl = _ttl(ttl)

        def run(conn: sqlite3.Connection, now: float) -> bool:
            conn.execute("BEGIN IMMEDIATE")  # count and insert: one claim, no other writer between
            try:
                conn.execute("DELETE FROM leases WHERE key = ? AND expires <= ?", (key, now))
                held = conn.execute("SELECT 1 FROM leases WHERE key = ? AND member = ?", (key, member)).fetchone()
                if held is None and limit is not None:
                    (count,) = conn.execute("SELECT COUNT(*) FROM leases WHERE key = ?", (key,)).fetchone()
                    if count >= limit:
                        conn.execute("COMMIT")
                        return False
                conn.execute(
                    "INSERT INTO leases (key, member, expires) VALUES (?, ?, ?) "
                    "ON CONFLICT (key, member) DO UPDATE SET expires = excluded.expires",
                    (key, member, now + ttl),
                )
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return True

        return self._write(run)

    def unlease(self, key: str, member: str) -> bool:
        def run(conn: sqlite3.Connection, now: float) -> bool:
            sql = "DELETE FROM leases WHERE key = ? AND member = ? AND expires > ?"
            return conn.execute(sql, (key, member, now)).rowcount == 1

        return self._write(run)

    def leases(self, key: str) -> list[str]:
        def run(conn: sqlite3.Connection, now: float) -> list[str]:
            sql = "SELECT member FROM leases WHERE key = ? AND expires > ? ORDER BY member"
            return [str(row[0]) for row in conn.execute(sql, (key, now))]

        return self._call(run)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None

    # -- the connection -------------------------------------------------------------------------------

    def _write(self, run: Callable[[sqlite3.Connection, float], T]) -> T:
        return self._call(run, write=True)

    def _call(self, run: Callable[[sqlite3.Connection, float], T], write: bool = False) -> T:
        try:
            with self._lock:
                conn = self._connection()
                now = time.time()
                result = run(conn, now)
                if write:
                    self._writes += 1
                    if self._writes % self._purge_every == 0:
                        conn.execute("DELETE FROM kv WHERE expires <= ?", (now,))
                        conn.execute("DELETE FROM leases WHERE expires <= ?", (now,))
                return result
        except sqlite3.Error as err:
            raise StoreUnavailableError(f"state store {self.path}: {err}") from err
        except OSError as err:  # the folder of the file cannot be created
            raise StoreUnavailableError(f"state store {self.path}: {err}") from err

    def _connection(self) -> sqlite3.Connection:
        if self._conn is not None and self._pid == os.getpid():
            return self._conn
        if self.path != MEMORY:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # autocommit (isolation_level=None): each statement is its own transaction unless BEGIN says otherwise
        conn = sqlite3.connect(self.path, timeout=self._busy_timeout, isolation_level=None, check_same_thread=False)
        try:
            self._set_up(conn)
        except BaseException:
            conn.close()
            raise
        self._conn, self._pid = conn, os.getpid()
        return conn

    def _set_up(self, conn: sqlite3.Connection) -> None:
        """WAL mode and the table. Switching the journal mode takes the file's exclusive lock, and SQLite may
        answer "locked" at once instead of waiting when several processes open the file together (the
        workers' first requests): the set-up is tried again until the busy timeout."""
        conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
        deadline = time.monotonic() + self._busy_timeout
        while True:
            try:
                if self.path != MEMORY and conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                    conn.execute("PRAGMA journal_mode = WAL")
                if self.path != MEMORY:
                    conn.execute("PRAGMA synchronous = NORMAL")
                for statement in _SCHEMA:
                    conn.execute(statement)
                return
            except sqlite3.OperationalError as err:
                if ("locked" not in str(err) and "busy" not in str(err)) or time.monotonic() > deadline:
                    raise
                time.sleep(SETUP_RETRY_SECONDS)

    def _after_fork(self) -> None:
        """In a forked child: a fresh lock (another thread may have held it) and, on first use, a connection
        of this process's own."""
        self._lock = threading.Lock()
        if self._conn is not None:
            self._inherited.append(self._conn)
        self._conn = None
