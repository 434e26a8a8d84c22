"""The sign-in throttle: failures per user name and per address within a window."""

from __future__ import annotations

import stat

from app.auth import LoginThrottle


def test_throttle_window(tmp_path):
    t = LoginThrottle(tmp_path / "t.sqlite3", max_per_user=2, max_per_address=3, window_s=60)
    t.failed(user="u", address="1.2.3.4", now=1000)
    assert t.retry_after(user="u", address="1.2.3.4", now=1001) == 0
    t.failed(user="u", address="1.2.3.4", now=1002)
    assert t.retry_after(user="u", address="9.9.9.9", now=1003) == 57
    assert t.retry_after(user="u", address="9.9.9.9", now=1061) == 0  # window passed
    t.failed(user="v", address="1.2.3.4", now=1004)
    assert t.retry_after(user="w", address="1.2.3.4", now=1005) > 0  # per address too
    assert stat.S_IMODE((tmp_path / "t.sqlite3").stat().st_mode) == 0o600
