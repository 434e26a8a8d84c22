"""Sessions, CSRF and who is asking: the per-request side of sign-in.

* **Sessions** are Flask's signed cookies (``PLACEMAP_SECRET_KEY``): HttpOnly, SameSite=Lax,
  Secure in production, an idle timeout (``PLACEMAP_IDLE_MINUTES``, 30) and a maximum age of
  12 hours, both checked on the server.
* **CSRF**: the sign-in form carries a token bound to the session; Dash callbacks must echo the
  session's token in ``X-CSRFToken`` (Dash's renderer copies it from the ``_csrf_token``
  cookie); any POST from another origin is refused.
* **Single sign-on**: with ``PLACEMAP_TRUSTED_USER_HEADER`` (off by default) a user name sent by
  an authenticating reverse proxy is trusted — only from ``PLACEMAP_TRUSTED_PROXIES``
  (default 127.0.0.1, ::1) and only for users in the users file (which gives the role).
* **Local mode**: with no users file, not in production and no proxy header, the app runs for
  one local user with the analyst role and no sign-in, so ``make run`` works out of the box.
  Creating the first user switches sign-in on; production mode never runs without it.

The options come from ``settings.extra`` (filled from the ``PLACEMAP_*`` variables by
:meth:`app.settings.Settings.from_env`); nothing here reads the environment.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import flask
from werkzeug.exceptions import Forbidden

from app.auth.audit import AuditLog, Event
from app.auth.throttle import LoginThrottle
from app.auth.users import LOCAL_USER, User, UserStore

PUBLIC_PATHS = frozenset({"/login", "/logout", "/healthz"})
CSRF_COOKIE = "_csrf_token"  # the cookie Dash's renderer reads and echoes as X-CSRFToken
CSRF_HEADER = "X-CSRFToken"
SESSION_COOKIE = "placemap_session"
EXTENSION = "placemap_auth"


def default_state_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("placemap"))


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
        """From ``settings.production`` and ``settings.extra`` (``users_file``, ``audit_log``,
        ``idle_minutes``, ``trusted_user_header``, ``trusted_proxies``, ``cookie_secure``:
        filled from the ``PLACEMAP_*`` variables by ``Settings.from_env``, see README).

        Missing or empty options take their defaults; a non-numeric ``idle_minutes`` raises
        ValueError.
        """
        extra = dict(getattr(settings, "extra", {}) or {})

        def opt(key: str) -> str:
            return str(extra.get(key) or "").strip()

        users = Path(opt("users_file") or default_state_dir() / "users.json").expanduser()
        audit = Path(opt("audit_log") or users.parent / "audit.jsonl").expanduser()
        secure = opt("cookie_secure").lower()
        proxies = opt("trusted_proxies")
        production = bool(settings.production)
        return cls(
            users_file=users,
            audit_log=audit,
            throttle_db=users.parent / "login-throttle.sqlite3",
            production=production,
            idle_minutes=float(opt("idle_minutes") or 30),
            trusted_user_header=opt("trusted_user_header") or None,
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


def csrf_token() -> str:
    """This session's CSRF token (created on first use)."""
    token = flask.session.get("csrf")
    if not token:
        token = flask.session["csrf"] = secrets.token_urlsafe(32)
    return token


def reset_session() -> None:
    flask.session.clear()


def safe_next(value: str | None) -> str:
    """A local path to go to after sign-in; anything else (other sites, ``//host``) is ``/``."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or parts.path in PUBLIC_PATHS:
        return "/"
    return value[:500]


def same_origin() -> bool:
    """False when this request plainly comes from another site (``Sec-Fetch-Site``/``Origin``)."""
    req = flask.request
    if req.headers.get("Sec-Fetch-Site", "") == "cross-site":
        return False
    origin = req.headers.get("Origin")
    if not origin or origin == "null":
        # No usable Origin (a non-browser client, or a browser hiding it for privacy): the
        # session-bound CSRF token and the SameSite cookie are the defence then.
        return True
    return urlsplit(origin).hostname == urlsplit("//" + req.host).hostname


# -- who is asking ----------------------------------------------------------------------------
def authenticate(st: AuthState) -> User | None:
    """This request's user: trusted proxy header, local mode, or the session (None: nobody).

    Raises Forbidden when a trusted proxy names a user who is not in the users file.
    """
    cfg, req = st.config, flask.request
    if cfg.trusted_user_header and req.remote_addr in cfg.trusted_proxies:
        value = req.headers.get(cfg.trusted_user_header, "").strip()
        if value:
            return _proxy_user(st, value)
    if st.local_mode():
        return LOCAL_USER
    return session_user(st)


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
        reset_session()
        s.update(
            user=user.name, via="proxy", started=time.time(), seen=time.time(), epoch=user.epoch
        )
        record(Event.SIGN_IN, user=user, method="proxy header")
    return user


def session_user(st: AuthState) -> User | None:
    """The user of a live password session; an idle, too old or outdated one is ended (None)."""
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
        reset_session()
        return None
    user = st.users.get(name)
    if user is None or user.epoch != s.get("epoch") or user.password_hash is None:
        reset_session()
        return None
    if now - float(s.get("seen", 0)) > 15:
        s["seen"] = now
    return user


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
