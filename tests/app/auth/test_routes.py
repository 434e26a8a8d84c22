"""The server-rendered pages (Jinja2 templates): same forms, every value escaped, no scripts."""

from __future__ import annotations

import re

import pytest
from dash import Dash

from tests.app.auth.test_auth import make_app, sign_in, users_template

__all__ = ["users_template"]  # the fixture, imported so pytest finds it here

NASTY = "\"><script>alert(1)</script>'&"


@pytest.fixture
def app(tmp_path, users_template) -> Dash:
    return make_app(tmp_path, users_template)


def test_login_form_fields_and_escaped_next(app):
    r = app.server.test_client().get("/login", query_string={"next": "/data?q=" + NASTY})
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and r.mimetype == "text/html"
    assert '<form method="post" action="/login">' in page
    assert re.search(r'<input type="hidden" name="csrf_token" value="[A-Za-z0-9_-]{40,}">', page)
    for field in ('name="next"', 'name="username"', 'name="password"', 'maxlength="1024"'):
        assert field in page
    assert "<script" not in page and "&lt;script&gt;" in page and "&#34;&gt;" in page
    assert "<title>Sign in · placemap</title>" in page


def test_admin_page_escapes_what_it_shows(app):
    client = app.server.test_client()
    sign_in(client, "nobody", "some long password")  # an audit row: sign_in_failed, 'nobody'
    sign_in(client, "adam")
    page = client.get("/admin", query_string={"user": NASTY, "event": NASTY}).get_data(as_text=True)
    assert "<script" not in page and 'value="&#34;&gt;&lt;script&gt;' in page
    assert '<main class="wide">' in page and "<th>Detail</th>" in page
    page = client.get("/admin", query_string={"event": "sign_in_failed"}).get_data(as_text=True)
    assert '<option value="sign_in_failed" selected>sign_in_failed</option>' in page
    assert "<td>sign_in_failed</td><td>nobody</td>" in page


def test_error_page_is_a_template_too(app):
    r = app.server.test_client().put("/login", headers={"Accept": "text/html"})
    page = r.get_data(as_text=True)
    assert r.status_code == 405
    assert "<h1>405</h1>" in page and "<p>Not allowed.</p>" in page and "<script" not in page
