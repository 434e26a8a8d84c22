"""Users, roles and passwords: the users file and what each role may do.

Users live in a JSON file (``PLACEMAP_USERS_FILE``, mode 0600) with argon2id password hashes,
managed by ``placemap users``. The role is read from the file on every request, so removing a
user or changing a role takes effect at once; changing a password ends the user's other sessions
(the session carries the user's ``epoch``).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from geo.errors import InputError
from geo.writing import atomic_write_bytes


class Role(StrEnum):
    ANALYST = "analyst"
    COMMISSIONER = "commissioner"
    ADMIN = "admin"


class Permission(StrEnum):
    AGGREGATES = "aggregates"  # district/area tables and maps, suppressed reports
    CHILD_LEVEL = "child_level"  # per-child rows: validation report, rejected rows
    UNSUPPRESSED_EXPORT = "unsuppressed_export"
    UPLOAD = "upload"
    DELETE_DATASET = "delete_dataset"
    MANAGE_USERS = "manage_users"
    VIEW_AUDIT = "view_audit"


# Least privilege: an admin manages accounts and reads the audit log but does not see children's
# rows (give a person an analyst account as well if they need both).
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.COMMISSIONER: frozenset({Permission.AGGREGATES}),
    Role.ANALYST: frozenset(
        {
            Permission.AGGREGATES,
            Permission.CHILD_LEVEL,
            Permission.UNSUPPRESSED_EXPORT,
            Permission.UPLOAD,
            Permission.DELETE_DATASET,
        }
    ),
    Role.ADMIN: frozenset({Permission.AGGREGATES, Permission.MANAGE_USERS, Permission.VIEW_AUDIT}),
}

NAME = re.compile(r"[a-z0-9][a-z0-9._@\\-]{0,63}")
MIN_PASSWORD = 12
MAX_PASSWORD = 1024  # argon2 hashes anything; a cap keeps a sign-in request cheap
# argon2id with OWASP's parameters (m=19 MiB, t=2, p=1): ~0.1 s per sign-in on a small server.
# Hashes carry their parameters; a hash made with other ones is upgraded at the next sign-in.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


def normalise_name(name: str) -> str:
    """Lower-case user name; raises InputError when it is not a plain account name."""
    value = (name or "").strip().lower()
    if not NAME.fullmatch(value):
        raise InputError(
            f"'{name[:70]}' is not a usable user name: use 1-64 letters, digits, '.', '_', '-', "
            "'@' or '\\', starting with a letter or digit (e.g. 'jsmith' or 'j.smith@kent.gov.uk')."
        )
    return value


def check_password(password: str, *, name: str) -> None:
    """Raise InputError unless ``password`` is long enough and not the user name."""
    if len(password) < MIN_PASSWORD or len(password) > MAX_PASSWORD:
        raise InputError(
            f"The password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters long (received "
            f"{len(password)}). A passphrase of three or four words is easy to type and hard to "
            "guess."
        )
    if password.strip().lower() == name.lower():
        raise InputError("The password must not be the user name.")


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    password_hash: str | None = None  # None: single-sign-on only (trusted proxy header)
    epoch: int = 1  # bumped when the password changes: ends the user's other sessions
    created: str = ""

    def can(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]

    def public(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": str(self.role),
            "created": self.created,
            "password": self.password_hash is not None,
        }


LOCAL_USER = User(name="local", role=Role.ANALYST)


def _role(value: str) -> Role:
    try:
        return Role(str(value).strip().lower())
    except ValueError as err:
        raise InputError(
            f"'{value}' is not a role. Expected one of: {', '.join(r.value for r in Role)}."
        ) from err


class UserStore:
    """The users file. Reads are cached by file signature; writes are locked and atomic."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._cache: tuple[Any, dict[str, User]] = (None, {})

    def exists(self) -> bool:
        return self.path.is_file()

    def _signature(self) -> tuple[int, int, int] | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def _parse(self, raw: bytes) -> dict[str, User]:
        try:
            doc = json.loads(raw)
            return {
                name: User(
                    name=name,
                    role=Role(u["role"]),
                    password_hash=u.get("password_hash"),
                    epoch=int(u.get("epoch", 1)),
                    created=str(u.get("created", "")),
                )
                for name, u in doc["users"].items()
            }
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            raise InputError(
                f"The users file '{self.path}' is not a placemap users file (expected JSON "
                "with a 'users' object). Restore it from backup or recreate the users with "
                "`placemap users add`."
            ) from err

    def all(self) -> dict[str, User]:
        sig = self._signature()
        if sig is None:
            return {}
        if sig != self._cache[0]:
            self._cache = (sig, self._parse(self.path.read_bytes()))
        return self._cache[1]

    def get(self, name: str) -> User | None:
        try:
            return self.all().get(normalise_name(name))
        except InputError:
            return None

    @contextmanager
    def _editing(self) -> Iterator[dict[str, User]]:
        """Lock, read fresh, let the caller change the dict, write it back atomically (0600)."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            users = self._parse(self.path.read_bytes()) if self.exists() else {}
            yield users
            doc = {
                "version": 1,
                "users": {
                    n: {
                        "role": str(u.role),
                        "password_hash": u.password_hash,
                        "epoch": u.epoch,
                        "created": u.created,
                    }
                    for n, u in sorted(users.items())
                },
            }
            atomic_write_bytes(self.path, (json.dumps(doc, indent=2) + "\n").encode("utf-8"))
            os.chmod(self.path, 0o600)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def add(self, name: str, *, role: Role | str, password: str | None) -> User:
        """Create a user; ``password=None`` makes a single-sign-on-only account."""
        name = normalise_name(name)
        if password is not None:
            check_password(password, name=name)
        with self._editing() as users:
            if name in users:
                raise InputError(f"User '{name}' already exists; use `placemap users set-role`.")
            user = User(
                name=name,
                role=_role(str(role)),
                password_hash=_HASHER.hash(password) if password is not None else None,
                created=datetime.now(UTC).isoformat(timespec="seconds"),
            )
            users[name] = user
        return user

    def remove(self, name: str) -> User:
        name = normalise_name(name)
        with self._editing() as users:
            if name not in users:
                raise InputError(f"There is no user '{name}' (see `placemap users list`).")
            return users.pop(name)

    def set_role(self, name: str, role: Role | str) -> User:
        name = normalise_name(name)
        with self._editing() as users:
            if name not in users:
                raise InputError(f"There is no user '{name}' (see `placemap users list`).")
            users[name] = replace(users[name], role=_role(str(role)))
            return users[name]

    def set_password(self, name: str, password: str, *, end_sessions: bool = True) -> User:
        name = normalise_name(name)
        check_password(password, name=name)
        with self._editing() as users:
            if name not in users:
                raise InputError(f"There is no user '{name}' (see `placemap users list`).")
            old = users[name]
            users[name] = replace(
                old,
                password_hash=_HASHER.hash(password),
                epoch=old.epoch + 1 if end_sessions else old.epoch,
            )
            return users[name]

    def verify(self, name: str, password: str) -> User | None:
        """The user when ``password`` is right, else None. Unknown names cost the same time."""
        user = self.get(name)
        stored = user.password_hash if user is not None else None
        try:
            _HASHER.verify(stored or _dummy_hash(), password[:MAX_PASSWORD])
        except (VerificationError, InvalidHashError):
            return None
        if user is None or stored is None:
            return None
        if _HASHER.check_needs_rehash(stored):
            self.set_password(user.name, password, end_sessions=False)
        return user


_DUMMY: list[str] = []


def _dummy_hash() -> str:
    if not _DUMMY:
        _DUMMY.append(_HASHER.hash(secrets.token_urlsafe(16)))
    return _DUMMY[0]
