"""Access to the server-side dataset store from inside callbacks (Flask app context)."""

from __future__ import annotations

import flask

from app.data.store import DatasetStore

STORE_KEY = "PLACEMAP_STORE"


def store() -> DatasetStore:
    return flask.current_app.config[STORE_KEY]
