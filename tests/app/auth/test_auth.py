"""Sign-in, sessions and roles: tries to get in where it should not.

Most tests use a tiny Dash app with the same security installed as the real one (fast, no data):
callbacks writing to the real upload / export component ids, so the server-side role policy
(`CALLBACK_PERMISSIONS`) is what is tested. The real app is exercised in test_uploads.py.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import pytest
from dash import Dash, Input, Output, dcc, html

from app import auth
from app.auth import AuditLog, Event, Permission, Role, UserStore, install_security, sessions
from app.ids import Id
from app.settings import Settings

PASSWORDS = {
    "ana": "analyst pass phrase 1",
    "cora": "commissioner phrase 2",
    "adam": "admin pass phrase 333",
}
ROLES = {"ana": Role.ANALYST, "cora": Role.COMMISSIONER, "adam": Role.ADMIN}
SECRET = "s" * 48


@pytest.fixture(scope="module")
def users_template(tmp_path_factory) -> Path:
    """A users file with one user per role (argon2 hashing is slow: made once)."""
    path = tmp_path_factory.mktemp("users") / "users.json"
    store = UserStore(path)
    for name, role in ROLES.items():
        store.add(name, role=role, password=PASSWORDS[name])
    return path


def make_app(tmp_path: Path, users_template: Path | None, **extra: str) -> Dash:
    users = tmp_path / "state" / "users.json"
    if users_template is not None:
        users.parent.mkdir(mode=0o700)
        shutil.copy(users_template, users)
    settings = Settings(
        cache_dir=tmp_path / "cache",
        upload_dir=tmp_path / "uploads",
        secret_key=SECRET,
        production=extra.pop("production", "") == "1",
        extra={"users_file": str(users), **extra},
    )
    app = Dash(__name__, serve_locally=True)
    app.layout = html.Div(
        [
            dcc.Input(id="q", value="a"),
            html.Div(id="aggregate"),
            html.Div(id=Id.DT_RESULT),
            dcc.Download(id=Id.DT_REJECTS_DL),
        ]
    )

    @app.callback(Output("aggregate", "children"), Input("q", "value"))
    def aggregate(value: str) -> str:
        return f"district totals for {value}"

    @app.callback(Output(Id.DT_RESULT, "children"), Input("q", "value"))
    def child_rows(value: str) -> str:
        return f"CHILD-LEVEL ROWS {value}"

    @app.callback(Output(Id.DT_REJECTS_DL, "data"), Input("q", "value"))
    def export(value: str) -> dict:
        return dcc.send_bytes(b"CHILD,HOME_POST\nC1,ME14 1XQ\n", "rejected.csv")

    install_security(app, settings)
    return set_up_alone(app)


def set_up_alone(app: Dash) -> Dash:
    """Let Dash set the tiny app up now, without taking the real pages' callbacks.

    Dash moves every module-level ``@callback`` into the first app that serves a request; a
    tiny test app must neither take the real app's page callbacks nor clash with them.
    """
    from dash import _callback

    saved = (
        dict(_callback.GLOBAL_CALLBACK_MAP),
        list(_callback.GLOBAL_CALLBACK_LIST),
        list(_callback.GLOBAL_INLINE_SCRIPTS),
    )
    _callback.GLOBAL_CALLBACK_MAP.clear()
    _callback.GLOBAL_CALLBACK_LIST.clear()
    _callback.GLOBAL_INLINE_SCRIPTS.clear()
    try:
        app.server.test_client().get("/healthz")  # runs Dash's one-off server set-up
    finally:
        _callback.GLOBAL_CALLBACK_MAP.update(saved[0])
        _callback.GLOBAL_CALLBACK_LIST.extend(saved[1])
        _callback.GLOBAL_INLINE_SCRIPTS.extend(saved[2])
    return app


@pytest.fixture
def app(tmp_path, users_template) -> Dash:
    return make_app(tmp_path, users_template)


def callback_body(output: str, value: str = "a") -> dict:
    return {
        "output": output,
        "outputs": {"id": output.split(".")[0], "property": output.split(".")[1]},
        "inputs": [{"id": "q", "property": "value", "value": value}],
        "changedPropIds": ["q.value"],
        "state": [],
    }


def csrf_from_form(client) -> str:
    page = client.get("/login").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def sign_in(client, name: str, password: str | None = None, **headers: str):
    token = csrf_from_form(client)
    return client.post(
        "/login",
        data={
            "username": name,
            "password": password or PASSWORDS[name],
            "csrf_token": token,
            "next": "/",
        },
        headers=headers,
    )


def sign_out(client, **headers: str):
    """Sign out as the browser does: the form of ``GET /logout`` posted with its CSRF token."""
    page = client.get("/logout").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post("/logout", data={"csrf_token": token}, headers=headers)


def post_callback(client, output: str, *, token: str | None = None, **headers: str):
    if token is None:
        cookie = client.get_cookie(auth.CSRF_COOKIE)
        token = cookie.value if cookie else ""
    return client.post(
        "/_dash-update-component",
        json=callback_body(output),
        headers={auth.CSRF_HEADER: token, **headers},
    )


def events(app: Dash) -> list[str]:
    return [r["event"] for r in AuditLog(auth.state(app.server).config.audit_log)]


# -- unauthenticated --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/data",
        "/comparison",
        "/admin",
        "/admin/audit.csv",
        "/_dash-layout",
        "/_dash-dependencies",
        "/assets/app.css",
        "/_dash-component-suites/dash/deps/react@18.3.1.min.js",
    ],
)
def test_nothing_is_served_before_sign_in(app, path):
    client = app.server.test_client()
    page = client.get(path, headers={"Accept": "text/html"})
    api = client.get(path)
    assert page.status_code in (302, 401)
    if page.status_code == 302:
        assert page.headers["Location"].startswith("/login?next=")
    assert api.status_code == 401
    for r in (page, api):
        body = r.get_data(as_text=True)
        assert "district totals" not in body and "CHILD" not in body and "dash" not in body


@pytest.mark.parametrize(
    "output", ["aggregate.children", f"{Id.DT_RESULT}.children", f"{Id.DT_REJECTS_DL}.data"]
)
def test_callbacks_refused_before_sign_in(app, output):
    client = app.server.test_client()
    r = client.post("/_dash-update-component", json=callback_body(output))
    assert r.status_code == 401
    assert r.get_json() == {"error": "Sign in first."}


def test_download_route_refused_before_sign_in(app):
    client = app.server.test_client()
    assert client.post("/datasets/up-0123456789ab/delete").status_code == 401


# -- sign-in ----------------------------------------------------------------------------------
def test_sign_in_then_callbacks_work_and_sign_out_ends_it(app):
    client = app.server.test_client()
    r = sign_in(client, "cora")
    assert r.status_code == 302 and r.headers["Location"] == "/"
    session_cookie = client.get_cookie(auth.SESSION_COOKIE)
    assert session_cookie.http_only and session_cookie.same_site == "Lax"
    assert client.get("/", headers={"Accept": "text/html"}).status_code == 200
    ok = post_callback(client, "aggregate.children")
    assert ok.status_code == 200 and "district totals" in ok.get_data(as_text=True)
    assert sign_out(client).status_code == 302
    assert post_callback(client, "aggregate.children").status_code == 401
    assert events(app)[-2:] == [Event.SIGN_IN, Event.SIGN_OUT]


def test_login_without_csrf_token_is_refused(app):
    client = app.server.test_client()
    client.get("/login")
    r = client.post("/login", data={"username": "ana", "password": PASSWORDS["ana"]})
    assert r.status_code == 400
    assert (
        client.get_cookie(auth.SESSION_COOKIE) is None
        or post_callback(client, "aggregate.children").status_code == 401
    )
    wrong = client.post(
        "/login", data={"username": "ana", "password": PASSWORDS["ana"], "csrf_token": "forged"}
    )
    assert wrong.status_code == 400
    odd = client.post("/login", data={"username": "ana", "csrf_token": "\u00e9\u2603"})
    assert odd.status_code == 400  # non-ASCII tokens are compared safely too
    # recorded once: repeats within a minute are not (they cannot fill the disk)
    assert events(app).count(Event.SIGN_IN_REFUSED) == 1


def test_login_from_another_site_is_refused(app):
    client = app.server.test_client()
    r = sign_in(client, "ana", Origin="https://evil.example")
    assert r.status_code == 400


def test_bad_passwords_until_throttled(app):
    client = app.server.test_client()
    codes = [sign_in(client, "ana", f"wrong password {i}").status_code for i in range(5)]
    assert codes == [401] * 5
    throttled = sign_in(client, "ana")  # the right password no longer helps
    assert throttled.status_code == 429
    assert int(throttled.headers["Retry-After"]) > 0
    assert "Too many failed sign-ins" in throttled.get_data(as_text=True)
    assert post_callback(client, "aggregate.children").status_code == 401
    # another user from the same address is not locked out by ana's failures
    assert sign_in(client, "cora").status_code == 302
    log = events(app)
    assert log.count(Event.SIGN_IN_FAILED) == 5 and Event.SIGN_IN_THROTTLED in log


def test_unknown_user_fails_like_a_wrong_password(app):
    client = app.server.test_client()
    r = sign_in(client, "nobody", "some long password")
    assert r.status_code == 401
    assert "Wrong user name or password" in r.get_data(as_text=True)


def test_open_redirect_after_sign_in_is_not_followed(app):
    client = app.server.test_client()
    token = csrf_from_form(client)
    r = client.post(
        "/login",
        data={
            "username": "ana",
            "password": PASSWORDS["ana"],
            "csrf_token": token,
            "next": "//evil.example/x",
        },
    )
    assert r.headers["Location"] == "/"


def test_idle_timeout_ends_the_session(app, monkeypatch):
    client = app.server.test_client()
    sign_in(client, "ana")
    assert post_callback(client, "aggregate.children").status_code == 200
    later = time.time() + 31 * 60
    monkeypatch.setattr(sessions.time, "time", lambda: later)
    assert post_callback(client, "aggregate.children").status_code == 401
    assert Event.SESSION_EXPIRED in events(app)


def test_removed_user_and_changed_password_end_sessions_at_once(app):
    client = app.server.test_client()
    sign_in(client, "ana")
    store = auth.state(app.server).users
    store.set_password("ana", "a brand new passphrase")
    assert post_callback(client, "aggregate.children").status_code == 401
    sign_in(client, "cora")
    store.remove("cora")
    assert post_callback(client, "aggregate.children").status_code == 401


def test_role_change_takes_effect_on_the_next_request(app):
    client = app.server.test_client()
    sign_in(client, "ana")
    assert post_callback(client, f"{Id.DT_RESULT}.children").status_code == 200
    auth.state(app.server).users.set_role("ana", "commissioner")
    assert post_callback(client, f"{Id.DT_RESULT}.children").status_code == 403


# -- roles ------------------------------------------------------------------------------------
@pytest.mark.parametrize("output", [f"{Id.DT_RESULT}.children", f"{Id.DT_REJECTS_DL}.data"])
@pytest.mark.parametrize("name", ["cora", "adam"])
def test_commissioner_and_admin_cannot_reach_child_level_callbacks(app, name, output):
    client = app.server.test_client()
    sign_in(client, name)
    r = post_callback(client, output)
    assert r.status_code == 403
    body = r.get_data(as_text=True)
    assert "CHILD" not in body and "rejected.csv" not in body
    assert Event.ACCESS_DENIED in events(app)


def test_smuggled_output_list_does_not_bypass_the_check(app):
    """Dash picks the callback by `output`; a harmless `outputs` list must not fool the gate."""
    client = app.server.test_client()
    sign_in(client, "cora")
    body = callback_body(f"{Id.DT_RESULT}.children")
    body["outputs"] = {"id": "aggregate", "property": "children"}
    cookie = client.get_cookie(auth.CSRF_COOKIE).value
    r = client.post("/_dash-update-component", json=body, headers={auth.CSRF_HEADER: cookie})
    assert r.status_code == 403


def test_analyst_reaches_child_level_and_export(app):
    client = app.server.test_client()
    sign_in(client, "ana")
    assert "CHILD-LEVEL" in post_callback(client, f"{Id.DT_RESULT}.children").get_data(as_text=True)
    r = post_callback(client, f"{Id.DT_REJECTS_DL}.data")
    assert r.status_code == 200 and "rejected.csv" in r.get_data(as_text=True)
    assert any(
        e["event"] == Event.EXPORT for e in AuditLog(auth.state(app.server).config.audit_log)
    )


def test_callback_without_csrf_header_or_from_another_origin_is_refused(app):
    client = app.server.test_client()
    sign_in(client, "ana")
    assert post_callback(client, "aggregate.children", token="").status_code == 403
    assert post_callback(client, "aggregate.children", token="guess").status_code == 403
    assert (
        post_callback(client, "aggregate.children", Origin="https://evil.example").status_code
        == 403
    )
    assert (
        post_callback(client, "aggregate.children", **{"Sec-Fetch-Site": "cross-site"}).status_code
        == 403
    )


def test_admin_sees_users_and_audit_others_do_not(app):
    client = app.server.test_client()
    sign_in(client, "cora")
    assert client.get("/admin").status_code == 403
    assert client.get("/admin/audit.jsonl").status_code == 403
    sign_out(client)
    sign_in(client, "adam")
    page = client.get("/admin").get_data(as_text=True)
    assert "cora" in page and "commissioner" in page and "access_denied" in page
    assert "$argon2" not in page
    csv_text = client.get("/admin/audit.csv").get_data(as_text=True)
    assert csv_text.startswith("ts,event,user,role,ip,dataset,detail")
    jsonl = client.get("/admin/audit.jsonl").get_data(as_text=True).splitlines()
    assert json.loads(jsonl[-1])["event"] == Event.AUDIT_EXPORTED  # the CSV export before
    assert events(app)[-1] == Event.AUDIT_EXPORTED


def test_page_guard_shows_a_message_instead_of_the_layout(app):
    guarded = auth.guard_layout(lambda **_: html.Div("UPLOAD FORM"), Permission.UPLOAD)
    client = app.server.test_client()
    sign_in(client, "cora")
    with app.server.test_request_context("/data"):
        import flask

        flask.g.placemap_user = auth.state(app.server).users.get("cora")
        assert "not-permitted" in str(guarded().to_plotly_json())
        flask.g.placemap_user = auth.state(app.server).users.get("ana")
        assert "UPLOAD FORM" in str(guarded().to_plotly_json())


# -- single sign-on header, local mode ---------------------------------------------------------
def test_trusted_proxy_header(tmp_path, users_template):
    app = make_app(
        tmp_path, users_template, trusted_user_header="X-Remote-User", trusted_proxies="127.0.0.1"
    )
    client = app.server.test_client()
    r = client.get("/_dash-layout", headers={"X-Remote-User": "CORA"})
    assert r.status_code == 200
    refused = client.get("/_dash-layout", headers={"X-Remote-User": "mallory"})
    assert refused.status_code == 403
    # from an address that is not a trusted proxy the header is ignored
    other = app.server.test_client()
    r = other.get(
        "/_dash-layout", headers={"X-Remote-User": "ana"}, environ_base={"REMOTE_ADDR": "10.1.2.3"}
    )
    assert r.status_code == 401


def test_proxy_header_is_off_by_default(app):
    r = app.server.test_client().get(
        "/_dash-layout", headers={"X-Remote-User": "ana", "Remote-User": "ana"}
    )
    assert r.status_code == 401


def test_local_mode_without_users_file(tmp_path):
    app = make_app(tmp_path, None, local_token="local-test-token")
    client = app.server.test_client()
    assert client.get("/?token=local-test-token").status_code == 302  # the printed link
    assert client.get("/login").status_code == 302  # no sign-in needed
    assert client.get("/", headers={"Accept": "text/html"}).status_code == 200
    r = post_callback(client, f"{Id.DT_RESULT}.children")  # local user is an analyst
    assert r.status_code == 200
    assert post_callback(client, "aggregate.children", token="").status_code == 403  # CSRF
    assert client.get("/admin").status_code == 403


def test_local_mode_never_in_production(tmp_path):
    from geo.errors import InputError

    with pytest.raises(InputError, match="users add"):
        make_app(tmp_path, None, production="1")
