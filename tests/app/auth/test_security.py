"""Security headers, error pages without tracebacks, request limits and production start-up."""

from __future__ import annotations

import base64
import hashlib

import pandas as pd
import pytest
from dash import Dash, Input, Output, dcc, html

from app.auth import (
    UserStore,
    check_startup,
    content_security_policy,
    install_security,
    max_request_bytes,
)
from app.settings import Settings
from geo.errors import InputError
from geo.writing import neutralise_cell, neutralise_formulas
from tests.app.auth.test_auth import (
    PASSWORDS,
    make_app,
    post_callback,
    set_up_alone,
    sign_in,
    users_template,
)

__all__ = ["users_template"]  # the fixture, imported so pytest finds it here


@pytest.fixture
def app(tmp_path, users_template) -> Dash:
    return make_app(tmp_path, users_template)


def test_security_headers_on_every_response(app):
    client = app.server.test_client()
    for r in (
        client.get("/login"),
        client.get("/_dash-layout"),
        client.post("/_dash-update-component", json={}),
    ):
        h = r.headers
        assert h["X-Frame-Options"] == "DENY"
        assert h["X-Content-Type-Options"] == "nosniff"
        assert h["Referrer-Policy"] == "same-origin"
        assert "frame-ancestors 'none'" in h["Content-Security-Policy"]
        assert h["Cache-Control"] == "no-store"
        assert h.get("Server", "placemap") == "placemap"
        assert "Werkzeug" not in str(h) and "Python" not in str(h)


def test_csp_allows_exactly_dashs_inline_renderer_script(app):
    client = app.server.test_client()
    sign_in(client, "ana")
    r = client.get("/", headers={"Accept": "text/html"})
    csp = r.headers["Content-Security-Policy"]
    script_src = next(d for d in csp.split("; ") if d.startswith("script-src"))
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    page = r.get_data(as_text=True)
    inline = page.split('<script id="_dash-renderer" type="application/javascript">')[1]
    inline = inline.split("</script>")[0]
    digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in script_src
    assert "object-src 'none'" in csp and "base-uri 'self'" in csp


def test_csp_allows_carto_tiles_only_when_chosen():
    assert "cartocdn" not in content_security_policy([], basemap="none")
    assert "cartocdn" in content_security_policy([], basemap="carto")


def test_session_cookie_is_secure_in_production(tmp_path, users_template):
    app = make_app(tmp_path, users_template, production="1")
    client = app.server.test_client()
    r = sign_in(client, "ana")
    cookies = r.headers.getlist("Set-Cookie")
    session = next(c for c in cookies if c.startswith("placemap_session="))
    assert "Secure" in session and "HttpOnly" in session and "SameSite=Lax" in session
    csrf = next(c for c in cookies if c.startswith("_csrf_token="))
    assert "Secure" in csrf and "SameSite=Strict" in csrf
    assert "max-age=" in r.headers["Strict-Transport-Security"]


def test_production_refuses_to_start_without_a_secret_key(tmp_path, users_template):
    users = tmp_path / "users.json"
    users.write_bytes(users_template.read_bytes())
    for key in (None, "short"):
        settings = Settings(production=True, secret_key=key, extra={"users_file": str(users)})
        with pytest.raises(InputError, match="PLACEMAP_SECRET_KEY"):
            check_startup(settings)
    check_startup(Settings(production=True, secret_key="k" * 40, extra={"users_file": str(users)}))


def test_production_refuses_to_start_without_users(tmp_path):
    settings = Settings(
        production=True, secret_key="k" * 40, extra={"users_file": str(tmp_path / "none.json")}
    )
    with pytest.raises(InputError, match="placemap users add"):
        check_startup(settings)
    sso = Settings(
        production=True,
        secret_key="k" * 40,
        extra={"users_file": str(tmp_path / "none.json"), "trusted_user_header": "X-Remote-User"},
    )
    check_startup(sso)  # single sign-on: users may be added later


def test_serve_refuses_production_without_secret_key(tmp_path, monkeypatch, capsys):
    from app.cli import main

    monkeypatch.delenv("PLACEMAP_SECRET_KEY", raising=False)
    monkeypatch.setenv("PLACEMAP_USERS_FILE", str(tmp_path / "users.json"))
    assert main(["serve", "--production", "--port", "1"]) == 2
    assert "PLACEMAP_SECRET_KEY" in capsys.readouterr().err
    monkeypatch.setenv("PLACEMAP_SECRET_KEY", "k" * 40)
    assert main(["serve", "--production", "--debug"]) == 2
    assert "--debug" in capsys.readouterr().err


def tracebacking_app(tmp_path, production: bool) -> Dash:
    settings = Settings(
        production=production,
        secret_key="k" * 40,
        extra={
            "users_file": str(tmp_path / "no-users.json"),
            "trusted_user_header": "X-Remote-User" if production else "",
            "trusted_proxies": "127.0.0.1",
            "local_token": "tok",
        },
    )
    app = Dash(__name__)
    app.layout = html.Div([dcc.Input(id="q"), html.Div(id="out")])

    @app.callback(Output("out", "children"), Input("q", "value"))
    def boom(value):
        raise RuntimeError("secret path /srv/placemap/uploads and a traceback")

    install_security(app, settings)
    return set_up_alone(app)


@pytest.mark.parametrize("production", [False, True])
def test_errors_show_no_traceback(tmp_path, production):
    app = tracebacking_app(tmp_path, production)
    if production:
        UserStore(tmp_path / "no-users.json").add("ana", role="analyst", password=None)
    client = app.server.test_client()
    headers = {"X-Remote-User": "ana"} if production else {}
    client.get("/" if production else "/?token=tok", headers=headers)
    token = client.get_cookie("_csrf_token").value
    body = {
        "output": "out.children",
        "outputs": {"id": "out", "property": "children"},
        "inputs": [{"id": "q", "property": "value", "value": "x"}],
        "changedPropIds": ["q.value"],
        "state": [],
    }
    r = client.post("/_dash-update-component", json=body, headers={"X-CSRFToken": token, **headers})
    assert r.status_code == 500
    text = r.get_data(as_text=True)
    assert "Traceback" not in text and "secret path" not in text and "RuntimeError" not in text
    assert r.get_json() == {"error": "Something went wrong. The error has been logged."}


def test_oversized_request_refused_before_it_is_read(app):
    client = app.server.test_client()
    sign_in(client, "ana")
    too_big = max_request_bytes(Settings()) + 10
    r = client.post(
        "/_dash-update-component",
        data=b"x" * too_big,
        headers={
            "Content-Type": "application/json",
            "X-CSRFToken": client.get_cookie("_csrf_token").value,
        },
    )
    assert r.status_code == 413
    assert "limit" in r.get_json()["error"]


def test_not_found_and_methods_leak_nothing(app):
    client = app.server.test_client()
    sign_in(client, "ana")
    r = client.get("/admin/../../etc/passwd")
    assert r.status_code in (403, 404, 200) and "root:" not in r.get_data(as_text=True)
    r = client.put(
        "/_dash-update-component", headers={"X-CSRFToken": client.get_cookie("_csrf_token").value}
    )
    assert r.status_code == 405 and r.get_json() == {"error": "Not allowed."}


def test_callback_still_works_for_the_right_user(app):
    client = app.server.test_client()
    sign_in(client, "ana", PASSWORDS["ana"])
    assert post_callback(client, "aggregate.children").status_code == 200


def test_neutralise_formulas():
    frame = pd.DataFrame(
        {
            "CHILD": ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "C1", None],
            "n": [-1, 2, 3, 4, 5, 6, 7],
        }
    )
    out = neutralise_formulas(frame)
    assert out["CHILD"].tolist()[:6] == ["'=1+1", "'+SUM(A1)", "'-2+3", "'@cmd", "'\tx", "C1"]
    assert out["n"].tolist() == [-1, 2, 3, 4, 5, 6, 7]  # numbers untouched
    assert neutralise_cell("=HYPERLINK()") == "'=HYPERLINK()"
    assert neutralise_cell(-5) == -5
    assert frame["CHILD"][0] == "=1+1"  # the input is not changed
