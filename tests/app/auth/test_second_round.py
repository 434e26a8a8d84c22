"""Security, second round (issue 18): each finding of the attack test, reproduced, now refused.

1 copied cookie after sign-out; 2 local mode without the token, foreign Host, one Server header;
4 audit log filled with random names; 5 parallel guesses; 6 forged X-Forwarded-For; 7 truncated
or rewritten audit log; 8 POST-only sign-out, 404 for missing bundles, audited 413s, Origin port.
Uploads (3 and 8's ownership) are in test_upload_limits.py.
"""

from __future__ import annotations

import json
import threading
import uuid

import pytest

from app import auth
from app.auth import AuditChainError, AuditLog, Event, LoginThrottle
from tests.app.auth.test_auth import (
    callback_body,
    csrf_from_form,
    events,
    make_app,
    post_callback,
    sign_in,
    sign_out,
    users_template,
)

__all__ = ["users_template"]


@pytest.fixture
def app(tmp_path, users_template):
    return make_app(tmp_path, users_template)


# -- 1. sessions that really end --------------------------------------------------------------
def test_copied_cookie_is_refused_after_sign_out(app):
    browser = app.server.test_client()
    sign_in(browser, "cora")
    thief = app.server.test_client()
    for name in (auth.SESSION_COOKIE, auth.CSRF_COOKIE):
        thief.set_cookie(name, browser.get_cookie(name).value)
    assert post_callback(thief, "aggregate.children").status_code == 200  # the copy works...
    assert sign_out(browser).status_code == 302
    assert post_callback(thief, "aggregate.children").status_code == 401  # ...not any more
    assert thief.get("/_dash-layout").status_code == 401


def test_password_change_and_removal_delete_the_server_sessions(app):
    st = auth.state(app.server)
    for name in ("ana", "cora"):
        sign_in(app.server.test_client(), name)
    assert st.sessions.count("ana") == 1
    st.users.set_password("ana", "a brand new passphrase")
    st.sessions.revoke_user("ana")  # what `placemap users set-password` does
    assert st.sessions.count("ana") == 0
    assert st.sessions.count("cora") == 1


def test_users_cli_revokes_sessions(tmp_path, users_template, monkeypatch):
    from app.cli import main

    app = make_app(tmp_path, users_template)
    sign_in(app.server.test_client(), "cora")
    st = auth.state(app.server)
    assert st.sessions.count("cora") == 1
    monkeypatch.setenv("PLACEMAP_USERS_FILE", str(st.config.users_file))
    assert main(["users", "remove", "cora"]) == 0
    assert st.sessions.count("cora") == 0
    assert st.audit.verify() > 0  # the CLI writes with the same key


# -- 2. local mode and Host --------------------------------------------------------------------
@pytest.fixture
def local(tmp_path):
    return make_app(tmp_path / "local", None, local_token="the-printed-token")


def test_local_mode_needs_the_printed_link(local):
    client = local.server.test_client()
    page = client.get("/data", headers={"Accept": "text/html"})
    assert page.status_code == 401 and "printed in the terminal" in page.get_data(as_text=True)
    assert client.get("/_dash-layout").status_code == 401
    assert client.post("/_dash-update-component", json={}).status_code == 401
    assert client.post("/datasets/up-0123456789ab/delete").status_code == 401
    assert client.get("/?token=guessed").status_code == 401
    r = client.get("/data?token=the-printed-token&x=1")
    assert r.status_code == 302 and r.headers["Location"] == "/data?x=1"  # token dropped
    assert client.get("/_dash-layout").status_code == 200
    assert post_callback(client, "aggregate.children").status_code == 200


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:8050", "localhost:9999", "127.0.0.1.nip.io:8050", ""]
)
def test_foreign_host_is_refused_in_every_mode(local, app, host):
    for a in (local, app):
        r = a.server.test_client().get("/?token=the-printed-token", headers={"Host": host})
        assert r.status_code == 400
    ok = local.server.test_client().get("/?token=the-printed-token", headers={"Host": "[::1]:8050"})
    assert ok.status_code == 302


def test_allowed_hosts_add_the_public_name(tmp_path, users_template):
    a = make_app(tmp_path, users_template, allowed_hosts="placemap.kent.gov.uk")
    client = a.server.test_client()
    assert client.get("/login", headers={"Host": "placemap.kent.gov.uk"}).status_code == 200
    assert client.get("/login", headers={"Host": "other.kent.gov.uk"}).status_code == 400


def test_development_server_sends_one_server_header(local):
    import http.client

    from werkzeug.serving import make_server

    from app.cli.serve_cmd import QuietHandler

    server = make_server("127.0.0.1", 0, local.server, request_handler=QuietHandler)
    thread = threading.Thread(target=server.handle_request)
    thread.start()
    con = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
    con.request("GET", "/healthz")
    headers = con.getresponse().getheaders()
    thread.join(10)
    server.server_close()
    assert [v for k, v in headers if k.lower() == "server"] == ["placemap"]


# -- 4. the audit log cannot be filled without signing in -------------------------------------
def test_random_user_names_cannot_fill_the_audit_log(app):
    client = app.server.test_client()
    token = csrf_from_form(client)
    before = len(events(app))
    for _ in range(60):
        client.post(
            "/login",
            data={"username": uuid.uuid4().hex, "password": "x" * 12, "csrf_token": token},
        )
        client.post("/login", data={"username": uuid.uuid4().hex, "csrf_token": "forged"})
    added = events(app)[before:]
    # 20 failures per address, then one throttled and one refused record a minute
    assert added.count(Event.SIGN_IN_FAILED) == 20
    assert len(added) <= 22


# -- 5. parallel guesses ------------------------------------------------------------------------
def test_parallel_guesses_cannot_pass_the_throttle(app):
    codes: list[int] = []
    barrier = threading.Barrier(24)

    def guess(i: int) -> None:
        client = app.server.test_client()
        token = csrf_from_form(client)
        barrier.wait()
        r = client.post(
            "/login",
            data={"username": "ana", "password": f"wrong guess {i}", "csrf_token": token},
        )
        codes.append(r.status_code)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert codes.count(401) == 5 and codes.count(429) == 19  # exactly 5 passwords checked


def test_throttle_begin_is_atomic_across_connections(tmp_path):
    t = LoginThrottle(tmp_path / "t.sqlite3", max_per_user=5, max_per_address=1000)
    allowed: list[int] = []
    barrier = threading.Barrier(50)

    def attempt() -> None:
        barrier.wait()
        allowed.append(t.begin(user="ana", address="10.0.0.1") == 0)

    threads = [threading.Thread(target=attempt) for _ in range(50)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    assert sum(allowed) == 5


# -- 6. forwarded headers only from configured proxies -----------------------------------------
def test_forged_forwarded_for_does_not_walk_past_the_throttle(app):
    client = app.server.test_client()
    for i in range(20):  # 20 failures from this address (different names)
        sign_in(client, f"guess{i}", f"wrong password {i}")
    assert sign_in(client, "adam").status_code == 429  # the address is blocked
    forged = sign_in(client, "adam", **{"X-Forwarded-For": "203.0.113.9"})
    assert forged.status_code == 429
    ips = {r["ip"] for r in AuditLog(auth.state(app.server).config.audit_log)}
    assert "203.0.113.9" not in ips


def test_forwarded_for_believed_from_a_configured_proxy(tmp_path, users_template):
    a = make_app(tmp_path, users_template, trusted_proxies="127.0.0.1")
    client = a.server.test_client()
    sign_in(client, "cora", **{"X-Forwarded-For": "198.51.100.7"})
    assert AuditLog(auth.state(a.server).config.audit_log).read()[0]["ip"] == "198.51.100.7"


# -- 7. keyed audit chain and checkpoint --------------------------------------------------------
KEY = "k" * 40


def _log(tmp_path, n: int = 5) -> AuditLog:
    log = AuditLog(tmp_path / "audit.jsonl", key=KEY)
    for i in range(n):
        log.record(Event.SIGN_IN, user=f"u{i}", ip="10.0.0.1")
    assert log.verify() == n
    return log


def test_truncated_audit_log_is_detected(tmp_path):
    log = _log(tmp_path)
    lines = log.path.read_bytes().splitlines(keepends=True)
    log.path.write_bytes(b"".join(lines[:3]))
    with pytest.raises(AuditChainError, match="cut off"):
        log.verify()


def test_rewritten_audit_log_with_a_recomputed_chain_is_detected(tmp_path):
    import hashlib

    log = _log(tmp_path)
    rows = [json.loads(x) for x in log.path.read_bytes().splitlines()]
    rows[1]["user"] = "someone-else"
    prev, out = "0" * 64, []
    for r in rows:  # the attacker recomputes the chain, but has no key
        r.pop("mac")
        r["prev"] = prev
        line = json.dumps(r, separators=(",", ":")).encode()
        prev = hashlib.sha256(line).hexdigest()
        out.append(line + b"\n")
    log.path.write_bytes(b"".join(out))
    with pytest.raises(AuditChainError):
        log.verify()
    edited = _log(tmp_path / "b")
    text = edited.path.read_text().replace('"u1"', '"u9"')
    edited.path.write_text(text)
    with pytest.raises(AuditChainError, match="line 2 was edited"):
        edited.verify()


def test_checkpoint_cannot_be_removed_or_forged(tmp_path):
    log = _log(tmp_path)
    cp = json.loads(log.checkpoint_path.read_text())
    cp["lines"] = 2
    log.checkpoint_path.write_text(json.dumps(cp))
    with pytest.raises(AuditChainError, match="signature"):
        log.verify()
    log.checkpoint_path.unlink()
    with pytest.raises(AuditChainError, match="missing"):
        log.verify()
    with pytest.raises(AuditChainError):
        AuditLog(log.path, key="another key of forty characters.........").verify()


def test_old_unkeyed_log_is_accepted_as_a_prefix(tmp_path):
    import hashlib

    path = tmp_path / "audit.jsonl"
    line = json.dumps({"event": "sign_in", "user": "old", "prev": "0" * 64}).encode()
    path.write_bytes(line + b"\n")
    log = AuditLog(path, key=KEY)
    log.record(Event.SIGN_IN, user="new")
    assert log.verify() == 2
    assert json.loads(path.read_bytes().splitlines()[1])["prev"] == hashlib.sha256(line).hexdigest()


def test_audit_key_file_is_private_and_apart_from_a_given_key(tmp_path):
    import stat

    log = AuditLog(tmp_path / "audit.jsonl")
    log.record(Event.SIGN_IN, user="u")
    key_file = tmp_path / "audit.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600 and len(key_file.read_bytes()) >= 32
    with pytest.raises(ValueError, match="at least"):
        AuditLog(tmp_path / "x.jsonl", key="short")


# -- 8. sign-out, missing bundles, 413, Origin --------------------------------------------------
def test_sign_out_is_post_only_with_csrf(app):
    client = app.server.test_client()
    sign_in(client, "cora")
    assert client.get("/logout").status_code == 200  # a page with the button, nothing ended
    assert post_callback(client, "aggregate.children").status_code == 200
    assert client.post("/logout").status_code == 400  # no token: a cross-site sign-out
    assert client.post("/logout", headers={"Origin": "https://evil.example"}).status_code == 400
    assert post_callback(client, "aggregate.children").status_code == 200
    assert sign_out(client).status_code == 302


def test_missing_bundle_is_404(app):
    client = app.server.test_client()
    sign_in(client, "cora")
    r = client.get("/_dash-component-suites/dash/no-such-file.js")
    assert r.status_code == 404 and "Traceback" not in r.get_data(as_text=True)


def test_refused_413_is_audited(app):
    from app.auth import max_request_bytes
    from app.settings import Settings

    client = app.server.test_client()
    sign_in(client, "ana")
    token = client.get_cookie(auth.CSRF_COOKIE).value
    r = client.post(
        "/_dash-update-component",
        data=b"x" * (max_request_bytes(Settings()) + 10),
        headers={"Content-Type": "application/json", auth.CSRF_HEADER: token},
    )
    assert r.status_code == 413
    last = AuditLog(auth.state(app.server).config.audit_log).read()[0]
    assert last["event"] == Event.UPLOAD_REFUSED and last["detail"]["status"] == 413
    assert last["user"] == "ana"


@pytest.mark.parametrize(
    "origin, ok",
    [
        ("http://localhost", True),
        ("http://localhost:80", True),
        ("http://localhost:8051", False),
        ("https://localhost", False),
        ("http://evil.example", False),
    ],
)
def test_origin_is_compared_with_scheme_host_and_port(app, origin, ok):
    client = app.server.test_client()
    sign_in(client, "cora")
    token = client.get_cookie(auth.CSRF_COOKIE).value
    r = client.post(
        "/_dash-update-component",
        json=callback_body("aggregate.children"),
        headers={auth.CSRF_HEADER: token, "Origin": origin},
    )
    assert (r.status_code == 200) is ok
