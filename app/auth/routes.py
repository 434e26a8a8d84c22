"""Sign-in, sign-out, health and administration routes, and :func:`install_auth`.

The pages are Jinja2 templates (:mod:`app.auth.templating`), values escaped, no scripts.
Sign-out is a POST with the session's CSRF token (``GET /logout`` shows the button), so another
site cannot sign a user out; it deletes the server-side session, so a copy of the cookie is
refused afterwards.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import flask
from werkzeug.exceptions import BadRequest

from app.auth.audit import FIELDS, Event
from app.auth.guards import gate, require
from app.auth.session_store import SessionStore
from app.auth.sessions import (
    CSRF_COOKIE,
    EXTENSION,
    SESSION_COOKIE,
    AuthConfig,
    AuthState,
    client_address,
    csrf_token,
    end_session,
    record,
    record_sparingly,
    safe_next,
    same_origin,
    session_user,
    set_csrf_cookie,
    start_session,
    state,
    tokens_match,
)
from app.auth.templating import render_page
from app.auth.throttle import LoginThrottle
from app.auth.users import MAX_PASSWORD, Permission, UserStore, normalise_name
from geo.errors import InputError

__all__ = ["install_auth", "render_page", "user_links"]


def _login_form(
    message: str = "", *, status: int = 200, next_path: str = "/", ok: bool = False
) -> flask.Response:
    return render_page(
        "login.html",
        status=status,
        message=message,
        ok=ok,
        csrf_token=csrf_token(),
        next_path=safe_next(next_path),
        max_password=MAX_PASSWORD,
    )


def login() -> Any:
    st = state()
    req = flask.request
    if st.local_mode():
        return flask.redirect("/")
    if req.method == "GET":
        if session_user(st) is not None:
            return flask.redirect(safe_next(req.args.get("next")))
        msg = "You have signed out." if "signed_out" in req.args else ""
        return _login_form(msg, next_path=req.args.get("next", "/"), ok=bool(msg))
    form = req.form
    next_path = form.get("next", "/")
    token = flask.session.get("csrf") or ""
    if not tokens_match(form.get("csrf_token", ""), token) or not same_origin():
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
    wait = st.throttle.begin(user=name, address=address)  # checks and counts in one step
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
        # the attempt was counted by begin(); audited per name only while the address is
        # under its limit, so random names cannot fill the log
        record(Event.SIGN_IN_FAILED, user=name)
        return _login_form("Wrong user name or password.", status=401, next_path=next_path)
    st.throttle.succeeded(user=name, address=address)
    start_session(st, user, via="password")
    record(Event.SIGN_IN, user=user, method="password")
    return flask.redirect(safe_next(next_path))


def logout() -> Any:
    """GET: a page with the sign-out button; POST (CSRF token, same origin): end the session."""
    st = state()
    req = flask.request
    if req.method != "POST":
        return render_page("logout.html", csrf_token=csrf_token())
    token = flask.session.get("csrf") or ""
    if not tokens_match(req.form.get("csrf_token", ""), token) or not same_origin():
        record_sparingly(Event.ACCESS_DENIED, user=None, reason="sign-out without CSRF token")
        return render_page("logout.html", status=400, csrf_token=csrf_token())
    name = flask.session.get("user")
    if name:
        record(Event.SIGN_OUT, user=name)
    end_session(st)
    resp = flask.redirect("/" if st.local_mode() else "/login?signed_out=1")
    resp.delete_cookie(CSRF_COOKIE, path="/")
    return resp


def healthz() -> Any:
    return flask.Response("ok\n", mimetype="text/plain")


def _cell(value: Any) -> str:
    """The text of one table cell (the template escapes it): dicts as ``k=v, ...``."""
    if isinstance(value, dict):
        value = ", ".join(f"{k}={v}" for k, v in value.items())
    return "" if value is None else str(value)


def admin() -> Any:
    """Users and the latest audit records (admins: MANAGE_USERS / VIEW_AUDIT)."""
    user = require(Permission.VIEW_AUDIT)
    st = state()
    args = flask.request.args
    event, who = args.get("event", "")[:40], args.get("user", "")[:64]
    users = [
        [
            _cell(v)
            for v in (
                u.name,
                u.role,
                "yes" if u.password_hash else "single sign-on only",
                u.created,
            )
        ]
        for u in st.users.all().values()
    ]
    rows = st.audit.read(event=event or None, user=who or None, limit=500)
    return render_page(
        "admin.html",
        user_name=user.name,
        users=users,
        audit=[[_cell(r.get(k)) for k in FIELDS] for r in rows],
        events=[""] + [str(e) for e in Event],
        event=event,
        who=who,
    )


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


def user_links() -> list[Any]:
    """Navbar items for the Dash shell: administration and sign-out (server routes, so they
    are real links, not client-side page changes)."""
    import dash_bootstrap_components as dbc

    return [
        dbc.NavItem(dbc.NavLink("Admin", href="/admin", external_link=True)),
        dbc.NavItem(dbc.NavLink("Sign out", href="/logout", external_link=True)),
    ]


# -- installation -----------------------------------------------------------------------------
def install_auth(server: flask.Flask, settings: Any) -> AuthState:
    """Register sign-in routes and the request gate on ``server``; returns the state."""
    cfg = AuthConfig.from_settings(settings)
    st = AuthState(
        config=cfg,
        users=UserStore(cfg.users_file),
        throttle=LoginThrottle(cfg.throttle_db),
        audit=cfg.open_audit(),
        sessions=SessionStore(cfg.throttle_db),
    )
    if cfg.local_token:
        st.local_token = cfg.local_token
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
    # sessions idle for longer than the timeout are deleted now and then (at start-up here)
    st.sessions.purge(idle_s=cfg.idle_minutes * 60, max_s=cfg.max_session_hours * 3600)
    server.add_url_rule("/healthz", "placemap_healthz", healthz)
    server.add_url_rule("/admin", "placemap_admin", admin)
    server.add_url_rule("/admin/audit.<fmt>", "placemap_audit_export", audit_export)
    server.before_request(gate)
    server.after_request(set_csrf_cookie)
    return st
