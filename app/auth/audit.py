"""Append-only audit log: who did what, when, to which dataset.

One JSON object per line (JSONL) in a file only the service account can read (0600). The app only
ever appends, under an exclusive ``flock`` so several gunicorn workers and the ``placemap users``
command can write at once.

**Keyed chain.** Each record carries ``prev``, the MAC of the line before it, and ends with
``mac``, an HMAC-SHA256 of the line's own bytes under a key kept apart from the log
(``PLACEMAP_AUDIT_KEY``, else a 0600 key file, see :func:`load_key`). Without the key nobody can
edit a line and recompute the chain. **Checkpoint.** After every record a signed checkpoint
(``<log>.checkpoint``: the number of lines and the last MAC, HMAC-signed) is replaced
atomically, and every 100th is also written to the server's error log (journald / gunicorn's
``errorlog``), a copy kept outside the log's folder; so cutting lines off the end is detected
too. :meth:`AuditLog.verify` says where. Logs written before the key existed (plain SHA-256
chain) are accepted as a prefix only. (Mark the file append-only at the OS level as well —
``chattr +a`` — where the file system allows it.)

Records never hold child-level data: event, user, role, client address, dataset id and a few
non-personal details (file names, row counts, report format).
"""

from __future__ import annotations

import csv
import fcntl
import hashlib
import hmac
import io
import json
import logging
import os
import re
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from geo.writing import atomic_write_bytes, neutralise_cell

GENESIS = "0" * 64
MIN_KEY = 32  # characters of PLACEMAP_AUDIT_KEY
CHECKPOINT_LOG_EVERY = 100
_MAC_TAIL = re.compile(rb',"mac":"([0-9a-f]{64})"\}$')
log = logging.getLogger("placemap.audit")


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


def _mac_of(line: bytes) -> str | None:
    """The ``mac`` a keyed line ends with (None: a line from before the key)."""
    m = _MAC_TAIL.search(line.rstrip(b"\n"))
    return m.group(1).decode() if m else None


def _link(line: bytes) -> str:
    """What the next line's ``prev`` must be: the line's MAC, or its SHA-256 for old lines."""
    return _mac_of(line) or _digest(line)


def load_key(key: str | bytes | None, key_file: Path) -> bytes:
    """The audit key: ``key`` (``PLACEMAP_AUDIT_KEY``, 32+ characters) when given, else the
    contents of ``key_file`` — created with a random key (0600) on first use. Keep the key file
    away from the log (another folder or volume, readable only by the service account) or set
    the variable from a secret store; whoever holds the key can rewrite the log undetected.

    Raises ValueError when a given key is shorter than :data:`MIN_KEY` characters.
    """
    if key:
        raw = key.encode("utf-8") if isinstance(key, str) else key
        if len(raw) < MIN_KEY:
            raise ValueError(f"PLACEMAP_AUDIT_KEY must be at least {MIN_KEY} characters.")
        return raw
    try:
        return key_file.read_bytes().strip()
    except FileNotFoundError:
        pass
    key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return key_file.read_bytes().strip()
    with os.fdopen(fd, "wb") as fh:
        fh.write(secrets.token_urlsafe(48).encode())
        fh.flush()
        os.fsync(fh.fileno())
    return key_file.read_bytes().strip()


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
    """An append-only JSONL file with a keyed chain. Safe to share between processes (``flock``).

    ``key`` is the HMAC key (bytes or text); None reads or creates ``audit.key`` beside the log
    (see :func:`load_key` for keeping it elsewhere).
    """

    def __init__(self, path: Path, key: str | bytes | None = None) -> None:
        self.path = Path(path)
        self.checkpoint_path = self.path.with_name(self.path.name + ".checkpoint")
        self._key = load_key(key, self.path.with_name("audit.key"))

    def _mac(self, data: bytes) -> str:
        return hmac.new(self._key, data, hashlib.sha256).hexdigest()

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
                entry["prev"] = _link(last) if last else GENESIS
                body = json.dumps(entry, default=str, separators=(",", ":"))[:-1].encode("utf-8")
                mac = self._mac(body)
                fh.write(body + f',"mac":"{mac}"}}\n'.encode())
                fh.flush()
                os.fsync(fh.fileno())
                entry["mac"] = mac
                self._checkpoint(entry["prev"], mac, fh)
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

    # -- checkpoint ---------------------------------------------------------------------------
    def _signed(self, lines: int, mac: str) -> bytes:
        doc = {"lines": lines, "mac": mac, "ts": _now()}
        doc["sig"] = self._mac(f"{lines}:{mac}:{doc['ts']}".encode())
        return (json.dumps(doc) + "\n").encode()

    def read_checkpoint(self) -> dict[str, Any] | None:
        """The checkpoint if present and signed with this key; raises AuditChainError when it
        was forged or edited; None when there is none."""
        try:
            doc = json.loads(self.checkpoint_path.read_bytes())
            lines, mac, ts, sig = int(doc["lines"]), str(doc["mac"]), str(doc["ts"]), doc["sig"]
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError) as err:
            raise AuditChainError(f"{self.checkpoint_path}: not a checkpoint.") from err
        if not hmac.compare_digest(str(sig), self._mac(f"{lines}:{mac}:{ts}".encode())):
            raise AuditChainError(
                f"{self.checkpoint_path}: the signature is wrong (edited, or another key)."
            )
        return {"lines": lines, "mac": mac, "ts": ts}

    def _checkpoint(self, prev: str, mac: str, fh: Any) -> None:
        """Replace the checkpoint after appending the line with ``mac`` (the log is locked)."""
        try:
            cp = self.read_checkpoint()
        except AuditChainError:
            cp = None
        if cp is not None and cp["mac"] == prev:
            lines = cp["lines"] + 1
        else:  # first keyed record, or the checkpoint lagged behind: count the lines
            fh.seek(0)
            lines = sum(1 for raw in fh if raw.strip())
        atomic_write_bytes(self.checkpoint_path, self._signed(lines, mac))
        os.chmod(self.checkpoint_path, 0o600)
        if lines % CHECKPOINT_LOG_EVERY == 0:
            log.info("audit checkpoint %s: %d lines, last mac %s", self.path, lines, mac)

    def verify(self) -> int:
        """Check the keyed chain and the signed checkpoint; return the number of records.

        Raises AuditChainError when a line was edited, inserted or removed (its MAC or link is
        wrong), when lines were cut off the end (fewer lines than the checkpoint counts, or the
        checkpoint's line differs), or when the checkpoint is missing or forged.
        """
        if not self.path.exists():
            if self.checkpoint_path.exists():
                raise AuditChainError(f"{self.path}: the log is missing but has a checkpoint.")
            return 0
        cp = self.read_checkpoint()
        prev, n, keyed, at_checkpoint = GENESIS, 0, False, None
        with self.path.open("rb") as fh:
            for n, raw in enumerate(fh, start=1):
                line = raw.rstrip(b"\n")
                try:
                    claimed = json.loads(line).get("prev")
                except json.JSONDecodeError as err:
                    raise AuditChainError(f"{self.path}: line {n} is not JSON.") from err
                if claimed != prev:
                    raise AuditChainError(
                        f"{self.path}: line {n} does not follow line {n - 1} (the log was edited, "
                        "truncated or had lines removed)."
                    )
                mac = _mac_of(line)
                if mac is None and keyed:
                    raise AuditChainError(f"{self.path}: line {n} has no MAC (rewritten).")
                if mac is not None:
                    keyed = True
                    if not hmac.compare_digest(mac, self._mac(line[: -len(mac) - 10])):
                        raise AuditChainError(
                            f"{self.path}: line {n} was edited (its MAC does not match the key)."
                        )
                prev = _link(line)
                if cp is not None and n == cp["lines"]:
                    at_checkpoint = prev
        if keyed and cp is None:
            raise AuditChainError(f"{self.checkpoint_path}: the checkpoint is missing.")
        if cp is not None and (n < cp["lines"] or at_checkpoint != cp["mac"]):
            raise AuditChainError(
                f"{self.path}: {n} lines, but the checkpoint of {cp['ts']} counted {cp['lines']} "
                "(lines were cut off the end or the log was replaced)."
            )
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
