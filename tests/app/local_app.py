"""The app as a browser test runs it: local mode on a free port, a users file of its own (never
the developer's), the local token given through Settings, opened by the tokenised link."""

from __future__ import annotations

import socket
from pathlib import Path

from dash import Dash

from app.main import create_app
from app.settings import Settings

TOKEN = "browser-test-token"  # local mode's token (PLACEMAP_LOCAL_TOKEN), given through Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def local_app(cache_dir: Path, state_dir: Path) -> Dash:
    """A fresh app answering only on its own port (the Host check)."""
    return create_app(
        Settings(
            cache_dir=cache_dir,
            upload_dir=state_dir / "uploads",
            port=free_port(),
            extra={"users_file": str(state_dir / "users.json"), "local_token": TOKEN},
        )
    )


def start(dash_duo, app: Dash) -> None:
    """Start the server and open it as ``placemap serve`` tells a person to: the link with the
    local token, which the app exchanges for a session cookie."""
    dash_duo.start_server(app, navigate=False, port=app.server.config["PLACEMAP_SETTINGS"].port)
    dash_duo.driver.get(f"{dash_duo.server.url}/?token={TOKEN}")
    dash_duo.server_url = dash_duo.server.url  # waits for the page, now signed in
