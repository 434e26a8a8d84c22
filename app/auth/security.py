"""Web hardening, and the one call that installs sign-in, roles, audit and headers on the app.

``install_security(app, settings)`` (called at the end of ``create_app``):

* refuses to start in production without ``PLACEMAP_SECRET_KEY`` (32+ characters) or without a
  way to sign in (a users file, or the trusted proxy header);
* installs sign-in (:func:`app.auth.routes.install_auth`: the request gate, sign-in, roles, admin
  page) and puts every Dash page behind its permission (:mod:`app.auth.guards`);
* caps request bodies (``MAX_CONTENT_LENGTH``) so an oversized upload is refused before it is
  read into memory;
* adds security headers to every response and replaces error pages with short messages (no
  tracebacks, no paths, no versions; a missing component bundle is a 404, and every request
  refused as too large — 413 — is audited);
* records uploads and exports made through Dash callbacks in the audit log;
* adds ``POST /datasets/<id>/delete`` (analysts) that removes an uploaded dataset for good;
* tells the dataset store who may open an upload: the user who uploaded it and those it is
  shared with (:func:`may_open_upload`).

Content-Security-Policy and Dash: Dash's index page runs one inline script
(``var renderer = new DashRenderer();``) and inline scripts of clientside callbacks, so
``script-src`` lists their SHA-256 hashes (``Dash.csp_hashes()``) next to ``'self'`` — no
``'unsafe-inline'`` and no ``'unsafe-eval'`` for scripts (the bundles' ``Function(...)`` uses are
guarded fallbacks that never run in a current browser). React and Plotly set ``style``
attributes and inject ``<style>`` elements, which a nonce or hash cannot allow, so ``style-src``
needs ``'unsafe-inline'``; styles cannot run code, so the risk left is limited to CSS tricks.
Map tiles are only allowed from Carto when ``PLACEMAP_BASEMAP=carto``.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import dash
import flask
from dash.exceptions import DependencyException
from werkzeug.exceptions import Forbidden, HTTPException, NotFound

from app.auth.audit import Event
from app.auth.guards import callback_output_ids, guard_pages, require
from app.auth.routes import install_auth, render_page
from app.auth.sessions import AuthConfig, AuthState, current_user, record, record_sparingly
from app.auth.users import Permission, UserStore
from app.data.uploads import delete_upload, is_upload_id, upload_meta, upload_root
from app.ids import Id
from geo.errors import InputError

log = logging.getLogger("placemap")

MIN_SECRET_KEY = 32
MAX_UPLOAD_FILES = 4  # episodes, header, UASC, carers in one upload
# paths whose responses set their own caching (app.map_assets: public district shapes cached,
# grid squares not stored); every other response is "no-store"
STATIC_PREFIXES = ("/_dash-component-suites/", "/assets/", "/_favicon.ico", "/_placemap/geo/")
CARTO = "https://*.basemaps.cartocdn.com https://basemaps.cartocdn.com"

_MESSAGES = {
    400: "The request could not be understood.",
    401: "Sign in first.",
    403: "Your role does not allow this, or the request came from another site.",
    404: "Not found.",
    405: "Not allowed.",
    413: "The upload is larger than the limit.",
    429: "Too many requests. Try again later.",
}


def check_startup(settings: Any) -> None:
    """Raise InputError when production mode is asked for without what it needs."""
    if not settings.production:
        return
    key = settings.secret_key or ""
    if len(key) < MIN_SECRET_KEY:
        raise InputError(
            "Production mode needs PLACEMAP_SECRET_KEY set to a random secret of at least "
            f"{MIN_SECRET_KEY} characters (received "
            f"{'nothing' if not key else f'{len(key)} characters'}); it signs the session "
            "cookies and must be the same for every worker. Create one with `python -c "
            "'import secrets; print(secrets.token_urlsafe(48))'` and keep it out of version "
            "control."
        )
    cfg = AuthConfig.from_settings(settings)
    if not cfg.trusted_user_header and not UserStore(cfg.users_file).all():
        raise InputError(
            f"Production mode needs sign-in, but the users file '{cfg.users_file}' has no "
            "users. Create the first administrator with `placemap users add NAME --role admin` "
            "(and analysts/commissioners likewise), or set PLACEMAP_USERS_FILE to the users "
            "file you already have."
        )


def max_request_bytes(settings: Any) -> int:
    """Largest request body accepted: the upload limit for each file, base64-encoded, + 1 MiB."""
    return int(settings.max_upload_mb * 1024 * 1024 * 4 / 3 * MAX_UPLOAD_FILES) + 1024 * 1024


def content_security_policy(script_hashes: list[str], *, basemap: str = "none") -> str:
    tiles = f" {CARTO}" if basemap == "carto" else ""
    directives = {
        "default-src": "'self'",
        "script-src": " ".join(["'self'", *script_hashes]),
        "style-src": "'self' 'unsafe-inline'",
        "img-src": f"'self' data: blob:{tiles}",
        "font-src": "'self' data:",
        "connect-src": f"'self'{tiles}",
        "worker-src": "'self' blob:",
        "child-src": "'self' blob:",
        "frame-ancestors": "'none'",
        "form-action": "'self'",
        "base-uri": "'self'",
        "object-src": "'none'",
    }
    return "; ".join(f"{k} {v}" for k, v in directives.items())


def _is_static(path: str) -> bool:
    return path.startswith(STATIC_PREFIXES)


def _install_headers(app: dash.Dash, settings: Any) -> None:
    production = bool(settings.production)
    policy: list[str] = []  # computed on first response, after Dash has collected its scripts

    def headers(response: flask.Response) -> flask.Response:
        if not policy:
            policy.append(content_security_policy(list(app.csp_hashes()), basemap=settings.basemap))
        h = response.headers
        h["Content-Security-Policy"] = policy[0]
        h["X-Frame-Options"] = "DENY"
        h["X-Content-Type-Options"] = "nosniff"
        # same-origin: no address leaks to other sites, yet our own POSTs keep a real Origin
        h["Referrer-Policy"] = "same-origin"
        h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
        h["Cross-Origin-Opener-Policy"] = "same-origin"
        h["Cross-Origin-Resource-Policy"] = "same-origin"
        if production:
            h["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        if not _is_static(flask.request.path):
            h["Cache-Control"] = "no-store"  # pages and callbacks may hold personal data
        # Werkzeug's server names itself and Python unless the app sets Server; gunicorn's
        # banner is replaced in app.wsgi.
        if not flask.request.environ.get("SERVER_SOFTWARE", "").startswith("gunicorn"):
            h["Server"] = "placemap"
        h.pop("X-Powered-By", None)
        return response

    app.server.after_request(headers)


def _install_error_pages(server: flask.Flask, settings: Any) -> None:
    production = bool(settings.production)

    def handle(err: Exception) -> Any:
        if isinstance(err, DependencyException):
            err = NotFound()  # a component bundle that does not exist: not a server error
        if isinstance(err, HTTPException):
            code = err.code or 500
            if code < 400:  # routing redirects
                return err
        else:
            if server.debug and not production:
                raise err  # development: let the debugger show it
            log.error("unhandled error on %s", flask.request.path, exc_info=err)
            code = 500
        text = _MESSAGES.get(code, "Something went wrong. The error has been logged.")
        if code == 413:
            _audit_too_large(settings)
            text = (
                f"The upload is larger than the {settings.max_upload_mb} MB limit per "
                "file. Split the file or ask an administrator to raise "
                "PLACEMAP_MAX_UPLOAD_MB."
            )
        req = flask.request
        if req.path.startswith("/_") or "text/html" not in req.headers.get("Accept", ""):
            resp = flask.jsonify(error=text)
            resp.status_code = code
        else:
            resp = render_page("error.html", status=code, code=code, text=text)
        if isinstance(err, HTTPException) and err.response is None:
            for name, value in err.get_headers():
                if name in ("Retry-After", "Allow", "WWW-Authenticate"):
                    resp.headers[name] = value
        return resp

    server.register_error_handler(HTTPException, handle)
    server.register_error_handler(Exception, handle)


def _audit_too_large(settings: Any) -> None:
    """Record a request refused as larger than the limit (signed-in users every time; anyone
    else once a minute per address, so it cannot be used to fill the log)."""
    req = flask.request
    detail = {
        "reason": "request larger than the limit",
        "path": req.path[:200],
        "bytes": req.content_length,
        "limit_mb": settings.max_upload_mb,
    }
    if flask.g.get("placemap_user") is not None:
        record(Event.UPLOAD_REFUSED, status=413, **detail)
    else:
        record_sparingly(Event.UPLOAD_REFUSED, user=None, status=413, **detail)


# -- audit of callbacks -----------------------------------------------------------------------
def _prop_values(body: dict[str, Any], component: str, prop: str) -> list[Any]:
    values = []
    for key in ("inputs", "state"):
        for item in body.get(key) or []:
            for x in item if isinstance(item, list) else [item]:
                if isinstance(x, dict) and x.get("id") == component and x.get("property") == prop:
                    values.append(x.get("value"))
    return values


def _response_value(response: flask.Response, component: str, prop: str) -> Any:
    try:
        doc = json.loads(response.get_data())
    except ValueError:
        return None
    return ((doc.get("response") or {}).get(component) or {}).get(prop)


EXPORT_OUTPUTS = {
    Id.DT_REJECTS_DL: "rejected rows (child level)",
    Id.CP_DOWNLOAD: "district comparison report",
}


def _audit_callbacks(response: flask.Response) -> flask.Response:
    req = flask.request
    if req.path != "/_dash-update-component" or req.method != "POST":
        return response
    if flask.g.get("placemap_user") is None or response.status_code == 413:
        return response
    try:
        body = req.get_json(silent=True)
    except HTTPException:  # unreadable body: nothing ran, nothing to record
        return response
    if not isinstance(body, dict):
        return response
    ids = callback_output_ids(body)
    if Id.DT_PENDING in ids:
        names = [
            str(n)[:120]
            for v in _prop_values(body, Id.DT_UPLOAD_PLACEMENTS, "filename")
            for n in (v if isinstance(v, list) else [v])
            if n
        ]
        dataset = (
            _response_value(response, Id.DT_PENDING, "data")
            if response.status_code == 200
            else None
        )
        if is_upload_id(dataset):
            record(Event.UPLOAD, dataset=dataset, files=names)
        elif response.status_code != 204:
            record(Event.UPLOAD_REFUSED, files=names, status=response.status_code)
    for output, what in EXPORT_OUTPUTS.items():
        if output in ids and response.status_code == 200:
            sent = _response_value(response, output, "data")
            if isinstance(sent, dict) and sent.get("filename"):
                datasets = _prop_values(body, Id.DT_PENDING, "data") or _prop_values(
                    body, Id.DATASET, "data"
                )
                record(
                    Event.EXPORT,
                    dataset=str(datasets[0]) if datasets else None,
                    what=what,
                    filename=str(sent["filename"])[:120],
                )
    return response


# -- dataset deletion -------------------------------------------------------------------------
def may_open_upload(meta: dict[str, Any]) -> bool:
    """Whether this request's user may open an upload with this metadata: the uploader, or a
    user it is shared with (``shared_with``: names, or ``"*"`` for everyone signed in).

    Outside a request (start-up, the command line) nobody is asking: allowed.
    """
    if not flask.has_request_context():
        return True
    user = current_user()
    if user is None:
        return False
    shared = meta.get("shared_with") or []
    if user.name == meta.get("uploaded_by") or user.name in shared or "*" in shared:
        return True
    record(Event.ACCESS_DENIED, dataset=str(meta.get("dataset_id")), reason="another's upload")
    return False


def delete_dataset(dataset_id: str) -> bool:
    """Remove an uploaded dataset from this server: memory, disk and caches. Analysts only, and
    only the user who uploaded it (sharing lets others open it, not delete it).

    Other workers notice at their next access (the store checks the files are still there).
    Returns False when there was nothing to delete (not an upload id, or already gone).
    Raises Forbidden (audited) when the upload belongs to someone else.
    """
    user = require(Permission.DELETE_DATASET)
    if not is_upload_id(dataset_id):
        return False
    from app.data.state import store

    s = store()
    meta = upload_meta(upload_root(s.settings), dataset_id)
    if meta is None:
        return False
    if meta.get("uploaded_by") != user.name:
        record(Event.ACCESS_DENIED, dataset=dataset_id, reason="not the uploader")
        raise Forbidden("Only the person who uploaded these data can delete them.")
    s.remove(dataset_id)
    removed = delete_upload(upload_root(s.settings), dataset_id)
    if removed:
        record(Event.DATASET_DELETED, dataset=dataset_id)
    return removed


def _delete_route(dataset_id: str) -> Any:
    if not delete_dataset(dataset_id):
        raise NotFound()
    return flask.jsonify(deleted=dataset_id)


# -- installation -----------------------------------------------------------------------------
def install_security(app: dash.Dash, settings: Any) -> AuthState:
    """Install sign-in, roles, audit, headers and limits on a Dash app (see module doc)."""
    check_startup(settings)
    server = app.server
    if settings.secret_key:
        server.secret_key = settings.secret_key
    else:  # development only: sessions end when the process restarts
        import secrets

        server.secret_key = secrets.token_urlsafe(48)
    server.config["MAX_CONTENT_LENGTH"] = max_request_bytes(settings)
    if settings.production:
        server.config.update(DEBUG=False, PROPAGATE_EXCEPTIONS=False)
    state = install_auth(server, settings)
    store = server.config.get("PLACEMAP_STORE")
    if store is not None:
        store.may_open = may_open_upload
    guard_pages(dash.page_registry)
    server.add_url_rule(
        "/datasets/<dataset_id>/delete", "placemap_delete_dataset", _delete_route, methods=["POST"]
    )
    server.after_request(_audit_callbacks)
    _install_headers(app, settings)
    _install_error_pages(server, settings)
    return state
