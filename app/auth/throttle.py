"""Sign-in throttling and the shared auth database (SQLite, one file for every worker).

5 failed sign-ins per user name or 20 per client address within 15 minutes block further attempts
(even with the right password) until the window has passed. Checking and counting are **one
step**: :meth:`LoginThrottle.begin` counts the attempt as a failure inside the same ``BEGIN
IMMEDIATE`` transaction that checked the limits, and only a right password takes it back
(:meth:`LoginThrottle.succeeded`), so a hundred parallel guesses cannot all pass the check before
any is recorded. :meth:`LoginThrottle.allow_once` is the same kind of atomic budget for audit
records that anyone can cause without signing in (one per address and event a minute).

The same file holds the server-side sessions (:mod:`app.auth.session_store`).
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS failures (key TEXT NOT NULL, ts REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS failures_key ON failures (key, ts)",
    "CREATE TABLE IF NOT EXISTS marks (key TEXT PRIMARY KEY, ts REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, user TEXT NOT NULL, "
    "via TEXT NOT NULL, epoch INTEGER NOT NULL, started REAL NOT NULL, seen REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS sessions_user ON sessions (user)",
)


@contextmanager
def connect(path: Path, *, write: bool = False) -> Iterator[sqlite3.Connection]:
    """A connection to the auth database (created 0600 in a 0700 folder). With ``write`` the
    block runs in one ``BEGIN IMMEDIATE`` transaction (committed at the end, rolled back on an
    error), so a read followed by a write cannot interleave with another worker's."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    new = not path.exists()
    with closing(sqlite3.connect(path, timeout=10, isolation_level=None)) as con:
        if new:
            os.chmod(path, 0o600)
        for statement in _SCHEMA:
            con.execute(statement)
        if not write:
            yield con
            return
        con.execute("BEGIN IMMEDIATE")
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")


class LoginThrottle:
    """Failed sign-ins per user name and per client address, shared by all workers (SQLite)."""

    def __init__(
        self,
        path: Path,
        *,
        max_per_user: int = 5,
        max_per_address: int = 20,
        window_s: float = 900.0,
    ) -> None:
        self.path = Path(path)
        self.max_per_user = max_per_user
        self.max_per_address = max_per_address
        self.window_s = window_s

    def _wait(self, con: sqlite3.Connection, user: str, address: str, now: float) -> int:
        rows = con.execute(
            "SELECT key, COUNT(*), MIN(ts) FROM failures WHERE key IN (?, ?) AND ts > ? "
            "GROUP BY key",
            (f"u:{user}", f"a:{address}", now - self.window_s),
        ).fetchall()
        wait = 0.0
        for key, count, first in rows:
            limit = self.max_per_user if key.startswith("u:") else self.max_per_address
            if count >= limit:
                wait = max(wait, first + self.window_s - now)
        return int(wait + 0.999) if wait > 0 else 0

    def retry_after(self, *, user: str, address: str, now: float | None = None) -> int:
        """Seconds until another attempt is allowed (0: allowed now)."""
        with connect(self.path) as con:
            return self._wait(con, user, address, time.time() if now is None else now)

    def begin(self, *, user: str, address: str, now: float | None = None) -> int:
        """Check the limits and, when allowed, count this attempt as a failure — atomically.

        Returns 0 when the attempt may go ahead (call :meth:`succeeded` if the password was
        right), else the seconds to wait (nothing is recorded then).
        """
        now = time.time() if now is None else now
        with connect(self.path, write=True) as con:
            wait = self._wait(con, user, address, now)
            if wait:
                return wait
            con.execute("DELETE FROM failures WHERE ts <= ?", (now - self.window_s,))
            con.executemany(
                "INSERT INTO failures VALUES (?, ?)", [(f"u:{user}", now), (f"a:{address}", now)]
            )
        return 0

    def failed(self, *, user: str, address: str, now: float | None = None) -> None:
        """Record a failure without checking (tests; :meth:`begin` is the sign-in path)."""
        now = time.time() if now is None else now
        with connect(self.path, write=True) as con:
            con.execute("DELETE FROM failures WHERE ts <= ?", (now - self.window_s,))
            con.executemany(
                "INSERT INTO failures VALUES (?, ?)", [(f"u:{user}", now), (f"a:{address}", now)]
            )

    def succeeded(self, *, user: str, address: str | None = None) -> None:
        """A right password: forget the user name's failures and take back this attempt's
        count against the address (the newest one)."""
        with connect(self.path, write=True) as con:
            con.execute("DELETE FROM failures WHERE key = ?", (f"u:{user}",))
            if address is not None:
                con.execute(
                    "DELETE FROM failures WHERE rowid = (SELECT rowid FROM failures "
                    "WHERE key = ? ORDER BY ts DESC LIMIT 1)",
                    (f"a:{address}",),
                )

    def allow_once(self, key: str, *, per_s: float = 60.0, now: float | None = None) -> bool:
        """True at most once per ``per_s`` seconds for ``key``, across all workers (atomic)."""
        now = time.time() if now is None else now
        with connect(self.path, write=True) as con:
            row = con.execute("SELECT ts FROM marks WHERE key = ?", (key,)).fetchone()
            if row is not None and now - row[0] < per_s:
                return False
            if row is None:  # a new key: forget marks older than an hour
                con.execute("DELETE FROM marks WHERE ts < ?", (now - 3600,))
            con.execute("INSERT OR REPLACE INTO marks VALUES (?, ?)", (key, now))
        return True
