"""Server-side session records, shared by every worker (the auth SQLite file).

The signed session cookie (Flask/itsdangerous) carries only a random session id; the record on
the server says whose session it is, when it started and when it was last used. Signing out,
the idle timeout, the maximum age, a password change and removing the user delete the record,
so a copied cookie stops working at once. Only the SHA-256 of the id is stored, so the database
alone does not give anyone a usable cookie.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from app.auth.throttle import connect

TOUCH_EVERY_S = 15.0  # ``seen`` is written at most this often per session (fewer writes)


@dataclass(frozen=True)
class SessionRecord:
    user: str
    via: str  # password | local | proxy
    epoch: int
    started: float
    seen: float


def _key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8", "replace")).hexdigest()


class SessionStore:
    """Create, look up, refresh and revoke sessions (SQLite, safe across workers)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def create(self, *, user: str, via: str, epoch: int = 1, now: float | None = None) -> str:
        """A new session for ``user``; returns its id (put it in the signed cookie)."""
        now = time.time() if now is None else now
        session_id = secrets.token_urlsafe(32)
        with connect(self.path, write=True) as con:
            con.execute(
                "INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?)",
                (_key(session_id), user, via, epoch, now, now),
            )
        return session_id

    def get(self, session_id: str) -> SessionRecord | None:
        if not session_id:
            return None
        with connect(self.path) as con:
            row = con.execute(
                "SELECT user, via, epoch, started, seen FROM sessions WHERE id = ?",
                (_key(session_id),),
            ).fetchone()
        return SessionRecord(*row) if row else None

    def touch(self, session_id: str, record: SessionRecord, now: float | None = None) -> None:
        """Mark the session used now (written at most every :data:`TOUCH_EVERY_S` seconds)."""
        now = time.time() if now is None else now
        if now - record.seen < TOUCH_EVERY_S:
            return
        with connect(self.path, write=True) as con:
            con.execute("UPDATE sessions SET seen = ? WHERE id = ?", (now, _key(session_id)))

    def revoke(self, session_id: str) -> bool:
        with connect(self.path, write=True) as con:
            return (
                con.execute("DELETE FROM sessions WHERE id = ?", (_key(session_id),)).rowcount > 0
            )

    def revoke_user(self, user: str) -> int:
        """End every session of ``user`` (password changed, user removed); returns how many."""
        with connect(self.path, write=True) as con:
            return con.execute("DELETE FROM sessions WHERE user = ?", (user,)).rowcount

    def purge(self, *, idle_s: float, max_s: float, now: float | None = None) -> int:
        """Delete sessions idle longer than ``idle_s`` or older than ``max_s``."""
        now = time.time() if now is None else now
        with connect(self.path, write=True) as con:
            return con.execute(
                "DELETE FROM sessions WHERE seen < ? OR started < ?", (now - idle_s, now - max_s)
            ).rowcount

    def count(self, user: str | None = None) -> int:
        with connect(self.path) as con:
            if user is None:
                return int(con.execute("SELECT COUNT(*) FROM sessions").fetchone()[0])
            return int(
                con.execute("SELECT COUNT(*) FROM sessions WHERE user = ?", (user,)).fetchone()[0]
            )
