"""Sign-in, sessions and roles: who may use the app, and what each role may see.

* **Users** live in a JSON file (``PLACEMAP_USERS_FILE``, mode 0600) with argon2id password
  hashes, managed by ``placemap users``. The role is read from the file on every request, so
  removing a user or changing a role takes effect at once; changing a password ends the user's
  other sessions (the session carries the user's ``epoch``).
* **Sessions** are Flask's signed cookies (``PLACEMAP_SECRET_KEY``): HttpOnly, SameSite=Lax,
  Secure in production, an idle timeout (``PLACEMAP_IDLE_MINUTES``, 30) and a maximum age of
  12 hours, both checked on the server.
* **Gate**: a ``before_request`` hook lets nothing through without a user except the sign-in
  page, sign-out and ``/healthz`` — not pages, ``/_dash-layout``, ``/_dash-dependencies``,
  callbacks, downloads, component bundles or assets. Browsers asking for a page are redirected
  to ``/login``; everything else gets an empty 401.
* **CSRF**: the sign-in form carries a token bound to the session; Dash callbacks must echo the
  session's token in ``X-CSRFToken`` (Dash's renderer copies it from the ``_csrf_token``
  cookie); any POST from another origin is refused.
* **Roles** are checked on the server: every callback whose outputs are listed in
  :data:`CALLBACK_PERMISSIONS`, every page in :data:`PAGE_PERMISSIONS`, and :func:`require`
  called inside a callback. Hiding buttons is only a courtesy.
* **Throttling**: 5 failed sign-ins per user name or 20 per client address within 15 minutes
  block further attempts (even with the right password) until the window has passed; counts
  are kept in SQLite so all workers share them.
* **Single sign-on**: with ``PLACEMAP_TRUSTED_USER_HEADER`` (off by default) a user name sent by
  an authenticating reverse proxy is trusted — only from ``PLACEMAP_TRUSTED_PROXIES``
  (default 127.0.0.1, ::1) and only for users in the users file (which gives the role).
* **Local mode**: with no users file, not in production and no proxy header, the app runs for
  one local user with the analyst role and no sign-in, so ``make run`` works out of the box.
  Creating the first user switches sign-in on; production mode never runs without it.
"""

from __future__ import annotations

import fcntl
import hmac
import json
import os
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import flask
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from markupsafe import escape
from werkzeug.exceptions import BadRequest, Forbidden, Unauthorized

from app.auth.audit import AuditLog, Event
from app.ids import Id
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

# Pages (Dash page modules) that need more than AGGREGATES.
PAGE_PERMISSIONS: dict[str, Permission] = {
    "app.pages.data": Permission.UPLOAD,
}

# Callback outputs (component ids) that carry child-level rows, accept uploads or export
# unsuppressed data. A callback request naming any of them is refused before it runs unless the
# user holds the permission. Keep this list in step with the pages.
CALLBACK_PERMISSIONS: dict[str, Permission] = {
    Id.DT_RESULT: Permission.UPLOAD,
    Id.DT_PENDING: Permission.UPLOAD,
    Id.DT_ALERT: Permission.UPLOAD,
    Id.DT_REJECTS_DL: Permission.UNSUPPRESSED_EXPORT,
    Id.DT_DELETED: Permission.DELETE_DATASET,
}

NAME = re.compile(r"[a-z0-9][a-z0-9._@\\-]{0,63}")
MIN_PASSWORD = 12
MAX_PASSWORD = 1024  # argon2 hashes anything; a cap keeps a sign-in request cheap
PUBLIC_PATHS = frozenset({"/login", "/logout", "/healthz"})
CSRF_COOKIE = "_csrf_token"  # the cookie Dash's renderer reads and echoes as X-CSRFToken
CSRF_HEADER = "X-CSRFToken"
SESSION_COOKIE = "placemap_session"
# argon2id with OWASP's parameters (m=19 MiB, t=2, p=1): ~0.1 s per sign-in on a small server.
# Hashes carry their parameters; a hash made with other ones is upgraded at the next sign-in.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


def default_state_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("placemap"))


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


# -- users ------------------------------------------------------------------------------------
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


# -- throttling -------------------------------------------------------------------------------
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


# -- configuration ----------------------------------------------------------------------------
@dataclass(frozen=True)
class AuthConfig:
    users_file: Path
    audit_log: Path
    throttle_db: Path
    production: bool = False
    idle_minutes: float = 30.0
    max_session_hours: float = 12.0
    trusted_user_header: str | None = None
    trusted_proxies: frozenset[str] = frozenset({"127.0.0.1", "::1"})
    cookie_secure: bool = False

    @classmethod
    def from_settings(cls, settings: Any) -> AuthConfig:
        """From ``settings.extra`` (tests) or the ``PLACEMAP_*`` variables (see README)."""
        extra = dict(getattr(settings, "extra", {}) or {})

        def opt(key: str, env: str) -> str:
            return str(extra.get(key) or os.environ.get(env, "")).strip()

        users = Path(
            opt("users_file", "PLACEMAP_USERS_FILE") or default_state_dir() / "users.json"
        ).expanduser()
        audit = Path(
            opt("audit_log", "PLACEMAP_AUDIT_LOG") or users.parent / "audit.jsonl"
        ).expanduser()
        secure = opt("cookie_secure", "PLACEMAP_COOKIE_SECURE").lower()
        proxies = opt("trusted_proxies", "PLACEMAP_TRUSTED_PROXIES")
        production = bool(settings.production)
        return cls(
            users_file=users,
            audit_log=audit,
            throttle_db=users.parent / "login-throttle.sqlite3",
            production=production,
            idle_minutes=float(opt("idle_minutes", "PLACEMAP_IDLE_MINUTES") or 30),
            trusted_user_header=opt("trusted_user_header", "PLACEMAP_TRUSTED_USER_HEADER") or None,
            trusted_proxies=frozenset(p.strip() for p in proxies.split(",") if p.strip())
            if proxies
            else cls.trusted_proxies,
            cookie_secure=(secure in {"1", "true", "yes", "on"}) if secure else production,
        )


@dataclass
class AuthState:
    config: AuthConfig
    users: UserStore
    throttle: LoginThrottle
    audit: AuditLog
    recent: dict[tuple[str, ...], float] = field(default_factory=dict)  # record_sparingly
    lock: threading.Lock = field(default_factory=threading.Lock)

    def local_mode(self) -> bool:
        c = self.config
        return not c.production and not c.trusted_user_header and not self.users.exists()


EXTENSION = "placemap_auth"


def state(app: flask.Flask | None = None) -> AuthState:
    return (app or flask.current_app).extensions[EXTENSION]


# -- request helpers --------------------------------------------------------------------------
def current_user() -> User | None:
    """The signed-in user of this request (None outside a request or before sign-in)."""
    if not flask.has_request_context():
        return None
    return flask.g.get("placemap_user")


def client_address() -> str:
    """The client's address; the last X-Forwarded-For hop when the peer is a trusted proxy."""
    remote = flask.request.remote_addr or "unknown"
    if remote in state().config.trusted_proxies:
        hops = [h.strip() for h in flask.request.headers.get("X-Forwarded-For", "").split(",")]
        if hops and hops[-1]:
            return hops[-1][:64]
    return remote


def record(
    event: Event | str, *, dataset: str | None = None, user: User | str | None = None, **detail: Any
) -> dict[str, Any]:
    """Append to the audit log with the current user and client address."""
    who = user if user is not None else current_user()
    name = who.name if isinstance(who, User) else who
    role = str(who.role) if isinstance(who, User) else None
    return state().audit.record(
        event, user=name, role=role, ip=client_address(), dataset=dataset, **detail
    )


def record_sparingly(event: Event, *, user: str | None, **detail: Any) -> None:
    """Audit an event anyone can repeat without signing in (refused or throttled sign-ins) at
    most once a minute per user name, address and event in each worker, so hammering the
    sign-in page cannot fill the disk; the first of each burst is always recorded."""
    st = state()
    key = (str(event), str(user), client_address())
    now = time.monotonic()
    with st.lock:
        if now - st.recent.get(key, -1e9) < 60:
            return
        if len(st.recent) > 10_000:
            st.recent.clear()
        st.recent[key] = now
    record(event, user=user, **detail)


def tokens_match(sent: str, expected: str) -> bool:
    """Constant-time comparison of a CSRF token (any text received is safe to pass)."""
    return bool(expected) and hmac.compare_digest(
        sent.encode("utf-8", "replace"), expected.encode("utf-8")
    )


def require(permission: Permission) -> User:
    """The current user if they hold ``permission``; otherwise audit and raise 403.

    Call it first thing in any callback or route that shows child-level rows, accepts uploads
    or exports unsuppressed data.
    """
    user = current_user()
    if user is None or not user.can(permission):
        record(Event.ACCESS_DENIED, permission=str(permission), path=flask.request.path)
        raise Forbidden("Your role does not allow this.")
    return user


def csrf_token() -> str:
    """This session's CSRF token (created on first use)."""
    token = flask.session.get("csrf")
    if not token:
        token = flask.session["csrf"] = secrets.token_urlsafe(32)
    return token


def _reset_session() -> None:
    flask.session.clear()


def safe_next(value: str | None) -> str:
    """A local path to go to after sign-in; anything else (other sites, ``//host``) is ``/``."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or parts.path in PUBLIC_PATHS:
        return "/"
    return value[:500]


def callback_output_ids(body: Any) -> set[str]:
    """Component ids a Dash callback request writes to (from ``output`` and ``outputs``).

    Dash picks the callback by the ``output`` string, so that one is authoritative; ``outputs``
    is read as well. Pattern-matching ids come back as JSON text.
    """
    ids: set[str] = set()
    if not isinstance(body, dict):
        return ids
    out = body.get("output")
    if isinstance(out, str):
        parts = out[2:-2].split("...") if out.startswith("..") else [out]
        ids.update(p.rsplit(".", 1)[0] for p in parts if p)

    def walk(item: Any) -> None:
        if isinstance(item, list):
            for x in item:
                walk(x)
        elif isinstance(item, dict) and "id" in item:
            i = item["id"]
            ids.add(
                i if isinstance(i, str) else json.dumps(i, sort_keys=True, separators=(",", ":"))
            )

    walk(body.get("outputs"))
    return ids


def _same_origin() -> bool:
    req = flask.request
    if req.headers.get("Sec-Fetch-Site", "") == "cross-site":
        return False
    origin = req.headers.get("Origin")
    if not origin or origin == "null":
        # No usable Origin (a non-browser client, or a browser hiding it for privacy): the
        # session-bound CSRF token and the SameSite cookie are the defence then.
        return True
    return urlsplit(origin).hostname == urlsplit("//" + req.host).hostname


def _authenticate(st: AuthState) -> User | None:
    cfg, req = st.config, flask.request
    if cfg.trusted_user_header and req.remote_addr in cfg.trusted_proxies:
        value = req.headers.get(cfg.trusted_user_header, "").strip()
        if value:
            return _proxy_user(st, value)
    if st.local_mode():
        return LOCAL_USER
    return _session_user(st)


def _proxy_user(st: AuthState, value: str) -> User:
    user = st.users.get(value)
    if user is None:
        record(
            Event.SIGN_IN_REFUSED,
            user=value[:64],
            reason="single-sign-on user not in the users file",
        )
        raise Forbidden("Your account is not authorised for placemap.")
    s = flask.session
    if s.get("user") != user.name or s.get("via") != "proxy":
        _reset_session()
        s.update(
            user=user.name, via="proxy", started=time.time(), seen=time.time(), epoch=user.epoch
        )
        record(Event.SIGN_IN, user=user, method="proxy header")
    return user


def _session_user(st: AuthState) -> User | None:
    s = flask.session
    name = s.get("user")
    if not name or s.get("via") != "password":
        return None
    now = time.time()
    cfg = st.config
    if (
        now - float(s.get("seen", 0)) > cfg.idle_minutes * 60
        or now - float(s.get("started", 0)) > cfg.max_session_hours * 3600
    ):
        record(Event.SESSION_EXPIRED, user=name)
        _reset_session()
        return None
    user = st.users.get(name)
    if user is None or user.epoch != s.get("epoch") or user.password_hash is None:
        _reset_session()
        return None
    if now - float(s.get("seen", 0)) > 15:
        s["seen"] = now
    return user


def _wants_page() -> bool:
    req = flask.request
    return (
        req.method == "GET"
        and not req.path.startswith(("/_dash-", "/_reload", "/assets/"))
        and "text/html" in req.headers.get("Accept", "")
    )


def gate() -> Any:
    """``before_request``: authenticate, then check CSRF, origin and callback permissions."""
    st = state()
    req = flask.request
    flask.g.placemap_user = None
    if req.path in PUBLIC_PATHS:
        return None
    user = _authenticate(st)
    if user is None:
        if _wants_page():
            return flask.redirect(f"/login?next={quote(req.full_path.rstrip('?'), safe='/')}")
        raise Unauthorized("Sign in first.")
    flask.g.placemap_user = user
    if req.method not in ("GET", "HEAD", "OPTIONS"):
        token = flask.session.get("csrf") or ""
        sent = req.headers.get(CSRF_HEADER, "")
        if not _same_origin() or not tokens_match(sent, token):
            record(
                Event.ACCESS_DENIED,
                reason="cross-site request or missing CSRF token",
                path=req.path,
            )
            raise Forbidden("Request refused (reload the page and try again).")
    if req.path == "/_dash-update-component":
        for oid in callback_output_ids(req.get_json(silent=True)):
            if oid in CALLBACK_PERMISSIONS:
                require(CALLBACK_PERMISSIONS[oid])
    return None


def set_csrf_cookie(response: flask.Response) -> flask.Response:
    """``after_request``: give Dash's renderer the session's CSRF token to echo."""
    token = flask.session.get("csrf")
    if flask.g.get("placemap_user") is not None and not token:
        token = csrf_token()
    if token and flask.request.cookies.get(CSRF_COOKIE) != token:
        response.set_cookie(
            CSRF_COOKIE,
            token,
            secure=state().config.cookie_secure,
            httponly=False,
            samesite="Strict",
            path="/",
        )
    return response


# -- pages ------------------------------------------------------------------------------------
_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;background:#f3f5f8;color:#1f2a44;
margin:0}
main{max-width:26rem;margin:8vh auto;background:#fff;padding:2rem 2.2rem;border-radius:10px;
box-shadow:0 2px 10px rgba(0,0,0,.08)}
main.wide{max-width:70rem}
h1{font-size:1.4rem;margin:0 0 .4rem}h2{font-size:1.1rem;margin:1.6rem 0 .5rem}
p.note{color:#5a6478;font-size:.9rem;margin:.2rem 0 1.2rem}
label{display:block;font-weight:600;margin:.9rem 0 .3rem}
input{width:100%;box-sizing:border-box;padding:.55rem .6rem;font-size:1rem;border:1px solid #b8c0cc;
border-radius:6px}
button{margin-top:1.3rem;width:100%;padding:.6rem;font-size:1rem;font-weight:600;color:#fff;
background:#1f2a44;border:0;border-radius:6px;cursor:pointer}
.msg{padding:.6rem .8rem;border-radius:6px;background:#fdecea;color:#8a1c1c;margin:.6rem 0}
.ok{background:#e8f4ea;color:#1d5b2a}
table{border-collapse:collapse;width:100%;font-size:.85rem}
th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #e1e5eb;vertical-align:top}
nav a{margin-right:1rem}
"""


def render_page(title: str, body: str, *, status: int = 200, wide: bool = False) -> flask.Response:
    """A plain server-rendered page (no scripts) for sign-in, admin and errors."""
    html = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<link rel="icon" href="data:,">'  # no /favicon.ico probe before sign-in
        f"<title>{escape(title)} · placemap</title><style>{_CSS}</style></head><body>"
        f'<main class="{"wide" if wide else ""}">{body}</main></body></html>'
    )
    return flask.Response(html, status=status, mimetype="text/html")


def _login_form(
    message: str = "", *, status: int = 200, next_path: str = "/", ok: bool = False
) -> flask.Response:
    note = (
        f'<div class="msg{" ok" if ok else ""}" role="alert">{escape(message)}</div>'
        if message
        else ""
    )
    body = (
        "<h1>Sign in to placemap</h1>"
        '<p class="note">Children\'s placement data: authorised staff only. Sign-ins are '
        "recorded.</p>"
        f"{note}"
        '<form method="post" action="/login">'
        f'<input type="hidden" name="csrf_token" value="{escape(csrf_token())}">'
        f'<input type="hidden" name="next" value="{escape(safe_next(next_path))}">'
        '<label for="username">User name</label>'
        '<input id="username" name="username" autocomplete="username" maxlength="64" required '
        "autofocus>"
        '<label for="password">Password</label>'
        '<input id="password" name="password" type="password" autocomplete="current-password" '
        f'maxlength="{MAX_PASSWORD}" required>'
        '<button type="submit">Sign in</button></form>'
    )
    return render_page("Sign in", body, status=status)


def login() -> Any:
    st = state()
    req = flask.request
    if st.local_mode():
        return flask.redirect("/")
    if req.method == "GET":
        if _session_user(st) is not None:
            return flask.redirect(safe_next(req.args.get("next")))
        msg = "You have signed out." if "signed_out" in req.args else ""
        return _login_form(msg, next_path=req.args.get("next", "/"), ok=bool(msg))
    form = req.form
    next_path = form.get("next", "/")
    token = flask.session.get("csrf") or ""
    if not tokens_match(form.get("csrf_token", ""), token) or not _same_origin():
        record_sparingly(
            Event.SIGN_IN_REFUSED,
            user=form.get("username", "")[:64] or None,
            reason="missing or wrong CSRF token",
        )
        return _login_form(
            "The sign-in form had expired. Please try again.", status=400, next_path=next_path
        )
    raw_name = form.get("username", "")[:64]
    try:
        name = normalise_name(raw_name)
    except InputError:
        name = raw_name.strip().lower() or "?"
    address = client_address()
    wait = st.throttle.retry_after(user=name, address=address)
    if wait:
        record_sparingly(Event.SIGN_IN_THROTTLED, user=name, retry_after_s=wait)
        resp = _login_form(
            f"Too many failed sign-ins. Try again in {(wait + 59) // 60} "
            "minute(s), or ask an administrator.",
            status=429,
            next_path=next_path,
        )
        resp.headers["Retry-After"] = str(wait)
        return resp
    user = st.users.verify(name, form.get("password", ""))
    if user is None:
        st.throttle.failed(user=name, address=address)
        record(Event.SIGN_IN_FAILED, user=name)
        return _login_form("Wrong user name or password.", status=401, next_path=next_path)
    st.throttle.succeeded(user=name)
    _reset_session()
    now = time.time()
    flask.session.update(
        user=user.name,
        via="password",
        started=now,
        seen=now,
        epoch=user.epoch,
        csrf=secrets.token_urlsafe(32),
    )
    record(Event.SIGN_IN, user=user, method="password")
    return flask.redirect(safe_next(next_path))


def logout() -> Any:
    st = state()
    name = flask.session.get("user")
    if name:
        record(Event.SIGN_OUT, user=name)
    _reset_session()
    resp = flask.redirect("/" if st.local_mode() else "/login?signed_out=1")
    resp.delete_cookie(CSRF_COOKIE, path="/")
    return resp


def healthz() -> Any:
    return flask.Response("ok\n", mimetype="text/plain")


def _cell(value: Any) -> str:
    if isinstance(value, dict):
        value = ", ".join(f"{k}={v}" for k, v in value.items())
    return f"<td>{escape('' if value is None else str(value))}</td>"


def admin() -> Any:
    """Users and the latest audit records (admins: MANAGE_USERS / VIEW_AUDIT)."""
    user = require(Permission.VIEW_AUDIT)
    st = state()
    args = flask.request.args
    event, who = args.get("event", "")[:40], args.get("user", "")[:64]
    users = "".join(
        "<tr>"
        + "".join(
            _cell(v)
            for v in (
                u.name,
                u.role,
                "yes" if u.password_hash else "single sign-on only",
                u.created,
            )
        )
        + "</tr>"
        for u in st.users.all().values()
    )
    rows = st.audit.read(event=event or None, user=who or None, limit=500)
    audit = "".join(
        "<tr>"
        + "".join(
            _cell(r.get(k)) for k in ("ts", "event", "user", "role", "ip", "dataset", "detail")
        )
        + "</tr>"
        for r in rows
    )
    options = "".join(
        f'<option value="{e}"{" selected" if e == event else ""}>{e}</option>'
        for e in [""] + [str(e) for e in Event]
    )
    body = (
        f'<nav><a href="/">Back to the app</a><a href="/logout">Sign out '
        f"({escape(user.name)})</a></nav>"
        "<h1>Administration</h1>"
        '<p class="note">Accounts are managed with <code>placemap users add|remove|list|'
        "set-role</code> on the server; every change is recorded below.</p>"
        "<h2>Users</h2><table><tr><th>User</th><th>Role</th><th>Password</th><th>Created</th>"
        f"</tr>{users}</table>"
        "<h2>Audit log</h2>"
        '<form method="get" action="/admin">'
        f'Event <select name="event">{options}</select> User '
        f'<input name="user" value="{escape(who)}" maxlength="64"> '
        '<input type="submit" value="Filter"></form>'
        '<p class="note">Newest first, at most 500 shown. Export the whole log: '
        '<a href="/admin/audit.csv">CSV</a> · <a href="/admin/audit.jsonl">JSONL</a>.</p>'
        "<table><tr><th>When (UTC)</th><th>Event</th><th>User</th><th>Role</th><th>Address</th>"
        f"<th>Dataset</th><th>Detail</th></tr>{audit}</table>"
    )
    return render_page("Administration", body, wide=True)


def audit_export(fmt: str) -> Any:
    require(Permission.VIEW_AUDIT)
    log = state().audit
    if fmt not in ("csv", "jsonl"):
        raise BadRequest("Unknown format.")
    data = log.csv_bytes() if fmt == "csv" else log.jsonl_bytes()
    record(Event.AUDIT_EXPORTED, format=fmt)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return flask.Response(
        data,
        mimetype="text/csv" if fmt == "csv" else "application/x-ndjson",
        headers={"Content-Disposition": f'attachment; filename="placemap-audit-{stamp}.{fmt}"'},
    )


# -- Dash pages -------------------------------------------------------------------------------
def user_links() -> list[Any]:
    """Navbar items for the Dash shell: administration and sign-out (server routes, so they
    are real links, not client-side page changes)."""
    import dash_bootstrap_components as dbc

    return [
        dbc.NavItem(dbc.NavLink("Admin", href="/admin", external_link=True)),
        dbc.NavItem(dbc.NavLink("Sign out", href="/logout", external_link=True)),
    ]


def not_permitted(permission: Permission) -> Any:
    from dash import html

    user = current_user()
    role = str(user.role) if user else "none"
    return html.Div(
        [
            html.H1("Not available for your role", className="page-title"),
            html.P(
                f"Your role ({role}) does not include '{permission}'. Ask an administrator if "
                "you need it."
            ),
        ],
        id="not-permitted",
    )


def guard_layout(layout: Any, permission: Permission) -> Callable[..., Any]:
    """Wrap a Dash page layout so it is only built for users holding ``permission``."""
    if getattr(layout, "_placemap_permission", None) is not None:
        return layout

    def guarded(**kwargs: Any) -> Any:
        if flask.has_request_context():
            user = current_user()
            if user is None or not user.can(permission):
                if user is not None:
                    record(Event.ACCESS_DENIED, permission=str(permission), page=flask.request.path)
                return not_permitted(permission)
        return layout(**kwargs) if callable(layout) else layout

    guarded._placemap_permission = permission  # type: ignore[attr-defined]
    return guarded


def guard_pages(registry: Any) -> None:
    """Put every registered page behind its permission (default AGGREGATES)."""
    for page in registry.values():
        permission = PAGE_PERMISSIONS.get(page.get("module", ""), Permission.AGGREGATES)
        page["layout"] = guard_layout(page["layout"], permission)


# -- installation -----------------------------------------------------------------------------
def install_auth(server: flask.Flask, settings: Any) -> AuthState:
    """Register sign-in routes and the request gate on ``server``; returns the state."""
    cfg = AuthConfig.from_settings(settings)
    st = AuthState(
        config=cfg,
        users=UserStore(cfg.users_file),
        throttle=LoginThrottle(cfg.throttle_db),
        audit=AuditLog(cfg.audit_log),
    )
    server.extensions[EXTENSION] = st
    server.config.update(
        SESSION_COOKIE_NAME=SESSION_COOKIE,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=cfg.cookie_secure,
        SESSION_REFRESH_EACH_REQUEST=False,
    )
    server.add_url_rule("/login", "placemap_login", login, methods=["GET", "POST"])
    server.add_url_rule("/logout", "placemap_logout", logout, methods=["GET", "POST"])
    server.add_url_rule("/healthz", "placemap_healthz", healthz)
    server.add_url_rule("/admin", "placemap_admin", admin)
    server.add_url_rule("/admin/audit.<fmt>", "placemap_audit_export", audit_export)
    server.before_request(gate)
    server.after_request(set_csrf_cookie)
    return st
