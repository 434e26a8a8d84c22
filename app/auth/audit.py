"""Append-only audit log: who did what, when, to which dataset.

One JSON object per line (JSONL) in a file only the service account can read (0600). The app only
ever appends, under an exclusive ``flock`` so several gunicorn workers and the ``placemap users``
command can write at once. Each record carries ``prev``, the SHA-256 of the line before it, so a
deleted or edited line breaks the chain and :meth:`AuditLog.verify` says where. (Mark the file
append-only at the OS level as well — ``chattr +a`` — where the file system allows it.)

Records never hold child-level data: event, user, role, client address, dataset id and a few
non-personal details (file names, row counts, report format).
"""

from __future__ import annotations

import csv
import fcntl
import hashlib
import io
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from geo.writing import neutralise_cell

GENESIS = "0" * 64


class Event(StrEnum):
    SIGN_IN = "sign_in"
    SIGN_IN_FAILED = "sign_in_failed"
    SIGN_IN_THROTTLED = "sign_in_throttled"
    SIGN_IN_REFUSED = "sign_in_refused"  # bad or missing CSRF token, unknown single-sign-on user
    SIGN_OUT = "sign_out"
    SESSION_EXPIRED = "session_expired"
    ACCESS_DENIED = "access_denied"
    UPLOAD = "upload"
    UPLOAD_REFUSED = "upload_refused"
    EXPORT = "export"
    DATASET_DELETED = "dataset_deleted"
    USER_ADDED = "user_added"
    USER_REMOVED = "user_removed"
    USER_ROLE_CHANGED = "user_role_changed"
    USER_PASSWORD_CHANGED = "user_password_changed"
    AUDIT_EXPORTED = "audit_exported"


FIELDS = ("ts", "event", "user", "role", "ip", "dataset", "detail")


class AuditChainError(Exception):
    """The log was edited or truncated: a record's ``prev`` does not match the line before it."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _digest(line: bytes) -> str:
    return hashlib.sha256(line.rstrip(b"\n")).hexdigest()


def _last_line(fh: Any) -> bytes | None:
    """The last complete line of an open binary file (reads backwards in 4 KiB blocks)."""
    end = fh.seek(0, os.SEEK_END)
    if end == 0:
        return None
    block, tail = 4096, b""
    pos = end
    while pos > 0:
        step = min(block, pos)
        pos -= step
        fh.seek(pos)
        tail = fh.read(step) + tail
        body = tail.rstrip(b"\n")
        if b"\n" in body:
            return body.rsplit(b"\n", 1)[1]
    return tail.rstrip(b"\n") or None


class AuditLog:
    """An append-only JSONL file. Safe to share between processes (``flock``)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def record(
        self,
        event: Event | str,
        *,
        user: str | None,
        role: str | None = None,
        ip: str | None = None,
        dataset: str | None = None,
        **detail: Any,
    ) -> dict[str, Any]:
        """Append one record and return it. ``detail`` values must be JSON-serialisable."""
        entry: dict[str, Any] = {
            "ts": _now(),
            "event": str(event),
            "user": user,
            "role": role,
            "ip": ip,
            "dataset": dataset,
            "detail": detail,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a+b") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                last = _last_line(fh)
                entry["prev"] = _digest(last) if last else GENESIS
                line = json.dumps(entry, default=str, separators=(",", ":")) + "\n"
                fh.write(line.encode("utf-8"))
                fh.flush()
                os.fsync(fh.fileno())
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
        return entry

    def __iter__(self) -> Iterator[dict[str, Any]]:
        if not self.path.exists():
            return
        with self.path.open("rb") as fh:
            for raw in fh:
                if raw.strip():
                    yield json.loads(raw)

    def read(
        self, *, event: str | None = None, user: str | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Records, newest first, optionally only one event kind and/or one user."""
        rows = [
            r
            for r in self
            if (not event or r.get("event") == event) and (not user or r.get("user") == user)
        ]
        rows.reverse()
        return rows[:limit] if limit is not None else rows

    def verify(self) -> int:
        """Check the hash chain; return the number of records. Raises AuditChainError."""
        if not self.path.exists():
            return 0
        prev, n = GENESIS, 0
        with self.path.open("rb") as fh:
            for n, raw in enumerate(fh, start=1):
                try:
                    claimed = json.loads(raw).get("prev")
                except json.JSONDecodeError as err:
                    raise AuditChainError(f"{self.path}: line {n} is not JSON.") from err
                if claimed != prev:
                    raise AuditChainError(
                        f"{self.path}: line {n} does not follow line {n - 1} (the log was edited, "
                        "truncated or had lines removed)."
                    )
                prev = _digest(raw)
        return n

    # -- exports ----------------------------------------------------------------------------
    def jsonl_bytes(self) -> bytes:
        return self.path.read_bytes() if self.path.exists() else b""

    def csv_bytes(self) -> bytes:
        """The log as CSV, oldest first; cells that a spreadsheet would run are neutralised."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(FIELDS)
        for r in self:
            writer.writerow(
                [
                    neutralise_cell(r.get("ts")),
                    neutralise_cell(r.get("event")),
                    neutralise_cell(r.get("user")),
                    neutralise_cell(r.get("role")),
                    neutralise_cell(r.get("ip")),
                    neutralise_cell(r.get("dataset")),
                    neutralise_cell(json.dumps(r.get("detail") or {}, default=str)),
                ]
            )
        return out.getvalue().encode("utf-8")
