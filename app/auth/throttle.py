"""Sign-in throttling: failed sign-ins per user name and per client address.

5 failed sign-ins per user name or 20 per client address within 15 minutes block further attempts
(even with the right password) until the window has passed; counts are kept in SQLite so all
workers share them.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path


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

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        new = not self.path.exists()
        with closing(sqlite3.connect(self.path, timeout=10, isolation_level=None)) as con:
            if new:
                os.chmod(self.path, 0o600)
            con.execute("CREATE TABLE IF NOT EXISTS failures (key TEXT NOT NULL, ts REAL NOT NULL)")
            con.execute("CREATE INDEX IF NOT EXISTS failures_key ON failures (key, ts)")
            yield con

    def retry_after(self, *, user: str, address: str, now: float | None = None) -> int:
        """Seconds until another attempt is allowed (0: allowed now)."""
        now = time.time() if now is None else now
        with self._db() as con:
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

    def failed(self, *, user: str, address: str, now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self._db() as con:
            con.execute("DELETE FROM failures WHERE ts <= ?", (now - self.window_s,))
            con.executemany(
                "INSERT INTO failures VALUES (?, ?)", [(f"u:{user}", now), (f"a:{address}", now)]
            )

    def succeeded(self, *, user: str) -> None:
        with self._db() as con:
            con.execute("DELETE FROM failures WHERE key = ?", (f"u:{user}",))
