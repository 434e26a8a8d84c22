"""Sign-in, sessions and roles: who may use the app, and what each role may see.

The wing, lowest module first (each imports only the ones above it):

* :mod:`~app.auth.audit` — the append-only, hash-chained audit log;
* :mod:`~app.auth.users` — roles, permissions, the users file, password rules and hashing;
* :mod:`~app.auth.throttle` — the shared SQLite file; failed sign-ins per user name and address
  (checked and counted in one step), the audit budget for anonymous events;
* :mod:`~app.auth.session_store` — server-side session records (revocable);
* :mod:`~app.auth.sessions` — configuration, per-request user, session cookies, CSRF, audit
  records with the current user and address;
* :mod:`~app.auth.templating` — the Jinja2 pages;
* :mod:`~app.auth.local` — local mode's token and the ``Host`` check;
* :mod:`~app.auth.guards` — the request gate and the role checks on pages and callbacks;
* :mod:`~app.auth.routes` — sign-in, sign-out, ``/healthz``, ``/admin`` (Jinja2 templates in
  ``templates/``) and :func:`install_auth`;
* :mod:`~app.auth.security` — headers, error pages, callback auditing, dataset deletion and
  :func:`install_security`, the one call ``create_app`` makes.

Callers outside the wing import from here (``from app.auth import Permission, require``).
"""

from __future__ import annotations

from app.auth.audit import AuditChainError, AuditLog, Event, load_key
from app.auth.guards import (
    CALLBACK_PERMISSIONS,
    PAGE_PERMISSIONS,
    guard_layout,
    guard_pages,
    not_permitted,
    require,
)
from app.auth.local import host_allowed, local_address
from app.auth.routes import install_auth, user_links
from app.auth.security import (
    check_startup,
    content_security_policy,
    delete_dataset,
    install_security,
    max_request_bytes,
    may_open_upload,
)
from app.auth.session_store import SessionStore
from app.auth.sessions import (
    CSRF_COOKIE,
    CSRF_HEADER,
    SESSION_COOKIE,
    AuthConfig,
    AuthState,
    current_user,
    record,
    state,
)
from app.auth.throttle import LoginThrottle
from app.auth.users import LOCAL_USER, ROLE_PERMISSIONS, Permission, Role, User, UserStore

__all__ = [
    "CALLBACK_PERMISSIONS",
    "CSRF_COOKIE",
    "CSRF_HEADER",
    "LOCAL_USER",
    "PAGE_PERMISSIONS",
    "ROLE_PERMISSIONS",
    "SESSION_COOKIE",
    "AuditChainError",
    "AuditLog",
    "AuthConfig",
    "AuthState",
    "Event",
    "LoginThrottle",
    "SessionStore",
    "Permission",
    "Role",
    "User",
    "UserStore",
    "check_startup",
    "content_security_policy",
    "current_user",
    "delete_dataset",
    "guard_layout",
    "guard_pages",
    "host_allowed",
    "install_auth",
    "install_security",
    "load_key",
    "local_address",
    "max_request_bytes",
    "may_open_upload",
    "not_permitted",
    "record",
    "require",
    "state",
    "user_links",
]
