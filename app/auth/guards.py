"""Guards: the request gate and the server-side role checks on pages and callbacks.

* **Gate**: a ``before_request`` hook first refuses a ``Host`` that is not this server
  (:mod:`app.auth.local`), then lets nothing through without a user except the sign-in
  page, sign-out and ``/healthz`` — not pages, ``/_dash-layout``, ``/_dash-dependencies``,
  callbacks, downloads, component bundles or assets. Browsers asking for a page are redirected
  to ``/login`` (in local mode: shown the "open the link printed in the terminal" page);
  everything else gets an empty 401. Requests that change anything must carry the session's
  CSRF token and come from this origin (scheme, host and port).
* **Roles** are checked on the server: every callback whose outputs are listed in
  :data:`CALLBACK_PERMISSIONS`, every page in :data:`PAGE_PERMISSIONS`, and :func:`require`
  called inside a callback. Hiding buttons is only a courtesy.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import flask
from werkzeug.exceptions import Forbidden, Unauthorized

from app.auth.audit import Event
from app.auth.local import check_host, exchange_token, local_page
from app.auth.sessions import (
    CSRF_HEADER,
    PUBLIC_PATHS,
    authenticate,
    current_user,
    record,
    same_origin,
    state,
    tokens_match,
)
from app.auth.users import Permission, User
from app.ids import Id

# Pages (Dash page modules) that need more than AGGREGATES.
PAGE_PERMISSIONS: dict[str, Permission] = {
    "app.pages.data": Permission.UPLOAD,
    # Published DfE figures beside the authority's own totals (suppressed): aggregates only.
    "app.pages.benchmark": Permission.AGGREGATES,
    # Forecast and recruitment targets by district, rounded and suppressed: aggregates only.
    "app.pages.forecast": Permission.AGGREGATES,
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
    if req.path == "/healthz":
        return None
    check_host(st)
    if req.path in PUBLIC_PATHS:
        return None
    local = st.local_mode()
    if local and (exchanged := exchange_token(st)) is not None:
        return exchanged
    user = authenticate(st)
    if user is None:
        if local:
            if _wants_page():
                return local_page()
            raise Unauthorized("Open the link printed in the terminal.")
        if _wants_page():
            return flask.redirect(f"/login?next={quote(req.full_path.rstrip('?'), safe='/')}")
        raise Unauthorized("Sign in first.")
    flask.g.placemap_user = user
    if req.method not in ("GET", "HEAD", "OPTIONS"):
        token = flask.session.get("csrf") or ""
        sent = req.headers.get(CSRF_HEADER, "")
        if not same_origin() or not tokens_match(sent, token):
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


# -- Dash pages -------------------------------------------------------------------------------
def not_permitted(permission: Permission) -> Any:
    """The Dash content shown instead of a page the user's role does not include."""
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
