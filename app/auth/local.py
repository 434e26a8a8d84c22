"""Local mode's token, and the ``Host`` check every mode makes.

**Local mode** (no users file, not production) works as Jupyter does: ``placemap serve`` prints
``http://127.0.0.1:8050/?token=…``; opening it exchanges the token for a server-side session
cookie and drops the token from the address bar. Without that session a browser gets only a
short "open the link printed in the terminal" page and other clients an empty 401, so another
program or user on the same machine cannot read the data. The token is
``PLACEMAP_LOCAL_TOKEN`` when set (scripts, tests), else random for each start of the server;
it stays valid while the server runs (a second browser may open the same link).

**Host check** (every mode): a request whose ``Host`` names another host or port than the
server's (``PLACEMAP_HOST``/``PLACEMAP_PORT``; a loopback address also answers as
``localhost``, ``127.0.0.1`` and ``::1``) or one listed in ``PLACEMAP_ALLOWED_HOSTS``
(``name`` or ``name:port``, e.g. the public name behind a reverse proxy) is refused with 400.
That is what stops DNS rebinding: a page on another site cannot make the browser talk to the
local server under that site's name.
"""

from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import urlencode, urlsplit

import flask
from werkzeug.exceptions import BadRequest

from app.auth.audit import Event
from app.auth.sessions import AuthConfig, AuthState, record_sparingly, start_session
from app.auth.templating import render_page
from app.auth.users import LOCAL_USER

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
WILDCARD = frozenset({"", "0.0.0.0", "::"})


def _split(value: str) -> tuple[str, int | None] | None:
    """(host name, port) of a ``Host`` header or ``name[:port]`` entry; None when malformed."""
    try:
        parts = urlsplit("//" + value.strip())
        port = parts.port
    except ValueError:
        return None
    name = (parts.hostname or "").lower()
    if not name or parts.path or parts.query or parts.username is not None:
        return None
    return name, port


def allowed_hosts(cfg: AuthConfig) -> tuple[frozenset[str], frozenset[int]]:
    """The host names and ports this server answers to."""
    host = cfg.host.strip("[]").lower()
    names = set(LOOPBACK) if host in LOOPBACK or host in WILDCARD else {host}
    ports = {cfg.port}
    for entry in cfg.allowed_hosts:
        split = _split(entry)
        if split is not None:
            names.add(split[0])
            if split[1] is not None:
                ports.add(split[1])
    return frozenset(names), frozenset(ports)


def host_allowed(cfg: AuthConfig, host_header: str | None) -> bool:
    """True when ``host_header`` names this server (a Host without a port is the default
    port of the scheme, which is what a reverse proxy passes on)."""
    split = _split(host_header or "")
    if split is None:
        return False
    names, ports = allowed_hosts(cfg)
    return split[0] in names and (split[1] is None or split[1] in ports)


def check_host(st: AuthState) -> None:
    """Raise BadRequest (400) for a request to a host name or port this server is not."""
    environ = flask.request.environ
    host = environ["HTTP_HOST"] if "HTTP_HOST" in environ else environ.get("SERVER_NAME")
    if not host_allowed(st.config, host):
        record_sparingly(Event.ACCESS_DENIED, user=None, reason="unknown Host header")
        raise BadRequest("Unknown host.")


def local_address(st: AuthState) -> str:
    """The address ``placemap serve`` prints in local mode: ``http://host:port/?token=…``."""
    return local_url(st.config, st.local_token)


def local_url(cfg: AuthConfig, token: str, *, host: str | None = None) -> str:
    """The address to open in local mode, with the token."""
    name = (host or cfg.host).strip("[]")
    if name in WILDCARD:
        name = "127.0.0.1"
    shown = f"[{name}]" if ":" in name else name
    return f"http://{shown}:{cfg.port}/?{urlencode({'token': token})}"


def exchange_token(st: AuthState) -> Any:
    """``?token=`` on a GET in local mode: a right token starts a local session and redirects
    to the same address without the token; a wrong one gets the local page (401). None when
    the request carries no token."""
    req = flask.request
    sent = req.args.get("token")
    if sent is None or req.method != "GET":
        return None
    if not hmac.compare_digest(sent.encode("utf-8", "replace"), st.local_token.encode("utf-8")):
        record_sparingly(Event.SIGN_IN_REFUSED, user=None, reason="wrong local-mode token")
        return local_page("That link's token is not the one printed in the terminal.")
    start_session(st, LOCAL_USER, via="local")
    flask.g.placemap_user = LOCAL_USER  # this request is the local user's (for the redirect)
    rest = [(k, v) for k, v in req.args.items(multi=True) if k != "token"]
    return flask.redirect(req.path + (f"?{urlencode(rest)}" if rest else ""))


def local_page(message: str = "") -> Any:
    return render_page("local.html", status=401, message=message)
