"""Sessions, CSRF and who is asking: the per-request side of sign-in.

* **Sessions** live on the server (:mod:`app.auth.session_store`, shared by every worker); the
  signed cookie (``PLACEMAP_SECRET_KEY``: HttpOnly, SameSite=Lax, Secure in production) carries
  only the session id. Signing out, the idle timeout (``PLACEMAP_IDLE_MINUTES``, 30), the
  maximum age of 12 hours, a password change and removing the user end the record, so a copied
  cookie is refused afterwards.
* **CSRF**: the sign-in form carries a token bound to the session; Dash callbacks must echo the
  session's token in ``X-CSRFToken`` (Dash's renderer copies it from the ``_csrf_token``
  cookie); any POST whose ``Origin`` differs in scheme, host or port is refused.
* **Single sign-on**: with ``PLACEMAP_TRUSTED_USER_HEADER`` (off by default) a user name sent by
  an authenticating reverse proxy is trusted — only from ``PLACEMAP_TRUSTED_PROXIES`` (none by
  default) and only for users in the users file (which gives the role). ``X-Forwarded-For`` is
  believed only from those proxies too.
* **Local mode**: with no users file, not in production and no proxy header, the app runs for
  one local user with the analyst role and no password — but only for a browser that opened the
  link with the local token ``placemap serve`` prints (``PLACEMAP_LOCAL_TOKEN``, else random per
  start; see :mod:`app.auth.local`). Creating the first user switches sign-in on; production
  mode never runs without it.

The options come from ``settings.extra`` (filled from the ``PLACEMAP_*`` variables by
:meth:`app.settings.Settings.from_env`); nothing here reads the environment.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import flask
from werkzeug.exceptions import Forbidden

from app.auth.audit import AuditLog, Event, load_key
from app.auth.session_store import SessionStore
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
    trusted_proxies: frozenset[str] = frozenset()  # none: forwarded headers are not believed
    cookie_secure: bool = False
    host: str = "127.0.0.1"  # where the server listens (Host header check)
    port: int = 8050
    allowed_hosts: tuple[str, ...] = ()  # PLACEMAP_ALLOWED_HOSTS: extra ``name[:port]`` entries
    local_token: str | None = None  # PLACEMAP_LOCAL_TOKEN; None: random for each start
    audit_key: str | None = None  # PLACEMAP_AUDIT_KEY; None: the key file
    audit_key_file: Path | None = None  # PLACEMAP_AUDIT_KEY_FILE; None: audit.key beside users

    @classmethod
    def from_settings(cls, settings: Any) -> AuthConfig:
        """From ``settings.production`` and ``settings.extra`` (``users_file``, ``audit_log``,
        ``idle_minutes``, ``trusted_user_header``, ``trusted_proxies``, ``cookie_secure``,
        ``allowed_hosts``, ``local_token``, ``audit_key``, ``audit_key_file``: filled from the ``PLACEMAP_*`` variables by ``Settings.from_env``, see README).

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
        hosts = opt("allowed_hosts")
        key_file = opt("audit_key_file")
        production = bool(settings.production)
        return cls(
            users_file=users,
            audit_log=audit,
            throttle_db=users.parent / "login-throttle.sqlite3",
            production=production,
            idle_minutes=float(opt("idle_minutes") or 30),
            trusted_user_header=opt("trusted_user_header") or None,
            trusted_proxies=frozenset(p.strip() for p in proxies.split(",") if p.strip()),
            cookie_secure=(secure in {"1", "true", "yes", "on"}) if secure else production,
            host=str(getattr(settings, "host", "127.0.0.1") or "127.0.0.1"),
            port=int(getattr(settings, "port", 8050) or 8050),
            allowed_hosts=tuple(h.strip().lower() for h in hosts.split(",") if h.strip()),
            local_token=opt("local_token") or None,
            audit_key=opt("audit_key") or None,
            audit_key_file=Path(key_file).expanduser() if key_file else None,
        )

    def open_audit(self) -> AuditLog:
        """The audit log with its key (``PLACEMAP_AUDIT_KEY``, else the key file)."""
        key_file = self.audit_key_file or self.users_file.parent / "audit.key"
        return AuditLog(self.audit_log, key=load_key(self.audit_key, key_file))


@dataclass
class AuthState:
    config: AuthConfig
    users: UserStore
    throttle: LoginThrottle
    audit: AuditLog
    sessions: SessionStore
    local_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))

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
    """The client's address; the last X-Forwarded-For hop only when the peer is one of the
    configured ``PLACEMAP_TRUSTED_PROXIES`` (none by default: the header is ignored)."""
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
    """Audit an event anyone can repeat without signing in (refused or throttled sign-ins,
    requests without a session) at most once a minute per client address and event, across all
    workers — not per user name, so random names cannot fill the disk; the first of each burst
    is always recorded."""
    st = state()
    if st.throttle.allow_once(f"audit:{event}:{client_address()}"):
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
    return _origin_tuple(origin, "") == _origin_tuple(req.host_url, req.scheme)


def _origin_tuple(url: str, scheme: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of a URL, with the scheme's default port filled in."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return ("", "", None)
    scheme = (parts.scheme or scheme).lower()
    default = {"http": 80, "https": 443}.get(scheme)
    return (scheme, (parts.hostname or "").lower(), port if port is not None else default)


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
        return LOCAL_USER if session_user(st, via="local") is not None else None
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
        s.update(user=user.name, via="proxy")
        record(Event.SIGN_IN, user=user, method="proxy header")
    return user


def start_session(st: AuthState, user: User, *, via: str) -> None:
    """Begin a server-side session for ``user`` (a fresh cookie and a fresh CSRF token)."""
    end_session(st)
    sid = st.sessions.create(user=user.name, via=via, epoch=user.epoch)
    flask.session.update(sid=sid, user=user.name, via=via, csrf=secrets.token_urlsafe(32))


def end_session(st: AuthState) -> None:
    """Revoke this request's server-side session (if any) and clear the cookie."""
    sid = flask.session.get("sid")
    if sid:
        st.sessions.revoke(str(sid))
    reset_session()


def session_user(st: AuthState, *, via: str = "password") -> User | None:
    """The user of a live server-side session made ``via`` a password (or the local token); a
    revoked, unknown, idle, too old or outdated one is ended (None)."""
    s = flask.session
    sid = s.get("sid")
    if not sid or s.get("via") != via:
        return None
    rec = st.sessions.get(str(sid))
    if rec is None or rec.via != via:
        reset_session()  # signed out, revoked, or a cookie from before a restart of the store
        return None
    now = time.time()
    cfg = st.config
    if now - rec.seen > cfg.idle_minutes * 60 or now - rec.started > cfg.max_session_hours * 3600:
        record(Event.SESSION_EXPIRED, user=rec.user)
        end_session(st)
        return None
    if via == "local":
        st.sessions.touch(str(sid), rec, now)
        return LOCAL_USER
    user = st.users.get(rec.user)
    if user is None or user.epoch != rec.epoch or user.password_hash is None:
        end_session(st)
        return None
    st.sessions.touch(str(sid), rec, now)
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
