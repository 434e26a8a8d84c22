"""Sign-in options come from Settings (app/settings.py reads the environment, nothing else)."""

from __future__ import annotations

from pathlib import Path

from app.auth import AuthConfig
from app.settings import Settings


def test_options_come_from_settings_not_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("PLACEMAP_USERS_FILE", str(tmp_path / "env-users.json"))
    monkeypatch.setenv("PLACEMAP_TRUSTED_USER_HEADER", "X-Remote-User")
    cfg = AuthConfig.from_settings(Settings(extra={"users_file": str(tmp_path / "u.json")}))
    assert cfg.users_file == tmp_path / "u.json"
    assert cfg.audit_log == tmp_path / "audit.jsonl"
    assert cfg.throttle_db == tmp_path / "login-throttle.sqlite3"
    assert cfg.trusted_user_header is None and cfg.idle_minutes == 30.0
    assert cfg.trusted_proxies == frozenset() and not cfg.cookie_secure  # none by default


def test_settings_from_env_fills_the_sign_in_options(tmp_path, monkeypatch):
    env = {
        "PLACEMAP_USERS_FILE": str(tmp_path / "users.json"),
        "PLACEMAP_AUDIT_LOG": str(tmp_path / "log" / "audit.jsonl"),
        "PLACEMAP_IDLE_MINUTES": "5",
        "PLACEMAP_TRUSTED_USER_HEADER": " X-Remote-User ",
        "PLACEMAP_TRUSTED_PROXIES": "10.0.0.1, 10.0.0.2",
        "PLACEMAP_COOKIE_SECURE": "yes",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    cfg = AuthConfig.from_settings(Settings.from_env())
    assert cfg.users_file == tmp_path / "users.json"
    assert cfg.audit_log == Path(env["PLACEMAP_AUDIT_LOG"])
    assert cfg.idle_minutes == 5.0 and cfg.trusted_user_header == "X-Remote-User"
    assert cfg.trusted_proxies == frozenset({"10.0.0.1", "10.0.0.2"}) and cfg.cookie_secure
    for name in env:
        monkeypatch.delenv(name)
    assert Settings.from_env().extra == {}
