"""The users file and the ``placemap users`` command."""

from __future__ import annotations

import json
import re
import stat
import sys

import pytest

from app.auth import AuditLog, Event, UserStore
from tests.app.auth.test_auth import PASSWORDS, users_template

__all__ = ["users_template"]  # the fixture, imported so pytest finds it here


def test_users_file_holds_argon2_hashes_only(users_template):
    text = users_template.read_text()
    assert all(p not in text for p in PASSWORDS.values())
    doc = json.loads(text)
    assert all(u["password_hash"].startswith("$argon2id$") for u in doc["users"].values())
    assert stat.S_IMODE(users_template.stat().st_mode) == 0o600


def test_user_store_rejects_bad_input(tmp_path):
    from geo.errors import InputError

    store = UserStore(tmp_path / "u.json")
    with pytest.raises(InputError, match="12"):
        store.add("bob", role="analyst", password="short")
    with pytest.raises(InputError, match="not a role"):
        store.add("bob", role="superuser", password="long enough password")
    with pytest.raises(InputError, match="user name"):
        store.add("../etc/passwd", role="analyst", password="long enough password")
    assert not store.exists()


def run_cli(*args: str, stdin: str = "") -> tuple[int, str, str]:
    import contextlib
    import io

    from app.cli import main

    out, err = io.StringIO(), io.StringIO()
    old_stdin = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(args))
    finally:
        sys.stdin = old_stdin
    return code, out.getvalue(), err.getvalue()


def test_users_cli(tmp_path, monkeypatch):
    monkeypatch.setenv("PLACEMAP_USERS_FILE", str(tmp_path / "users.json"))
    code, _, err = run_cli(
        "users",
        "add",
        "Jo.Smith",
        "--role",
        "commissioner",
        "--password-stdin",
        stdin="a long enough passphrase\n",
    )
    assert code == 0, err
    assert run_cli("users", "add", "sso.user", "--role", "analyst", "--no-password")[0] == 0
    assert run_cli("users", "set-role", "jo.smith", "admin")[0] == 0
    code, listing, _ = run_cli("users", "list")
    assert re.search(r"jo\.smith\s+admin", listing) and "sso.user" in listing
    assert "argon2" not in listing
    assert run_cli("users", "remove", "sso.user")[0] == 0
    code, _, err = run_cli("users", "remove", "sso.user")
    assert code == 2 and "no user" in err
    code, _, err = run_cli(
        "users", "add", "eve", "--role", "analyst", "--password-stdin", stdin="short\n"
    )
    assert code == 2 and "12" in err
    log = AuditLog(tmp_path / "audit.jsonl")
    assert [e["event"] for e in log] == [
        Event.USER_ADDED,
        Event.USER_ADDED,
        Event.USER_ROLE_CHANGED,
        Event.USER_REMOVED,
    ]
    assert log.verify() == 4
    assert UserStore(tmp_path / "users.json").verify("jo.smith", "a long enough passphrase")
