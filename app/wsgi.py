"""Production serving: the WSGI entry point for gunicorn, and ``placemap serve --production``.

Either let placemap start gunicorn::

    PLACEMAP_SECRET_KEY=... placemap serve --production --workers 3 --threads 4

or run gunicorn yourself (production mode is implied)::

    PLACEMAP_SECRET_KEY=... gunicorn 'app.wsgi:application' --worker-class gthread \\
        --workers 3 --threads 4 --bind 127.0.0.1:8050 --preload

Several workers are safe: sessions are server-side records in SQLite behind a signed cookie
(same secret key everywhere), login throttling is shared through the same SQLite file, uploads are files on disk that any worker loads by id
(:meth:`app.data.store.DatasetStore.get`), and results caches are per worker and only ever derived
from those files, so a killed worker loses nothing but its cache.
"""

from __future__ import annotations

import sys
from typing import Any

import flask

from app.settings import Settings
from geo.errors import PlacemapError


def hide_server_banner() -> None:
    """gunicorn answers ``Server: gunicorn``; answer ``Server: placemap`` (no product/version)."""
    try:
        import gunicorn.http.wsgi as gunicorn_wsgi
    except ImportError:  # pragma: no cover
        return
    gunicorn_wsgi.SERVER = "placemap"


def build_app(settings: Settings | None = None) -> flask.Flask:
    """The Flask server of the Dash app, in production mode unless ``settings`` say otherwise."""
    from app.main import create_app

    hide_server_banner()
    return create_app(settings or Settings.from_env(production=True)).server


def gunicorn_options(
    *,
    host: str,
    port: int,
    workers: int,
    threads: int,
    timeout_s: int = 120,
    trusted_proxies: str = "",
) -> dict[str, Any]:
    """gunicorn's settings. ``trusted_proxies`` (``PLACEMAP_TRUSTED_PROXIES``, none by
    default) are the only peers whose ``X-Forwarded-Proto`` gunicorn believes."""
    return {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": max(1, workers),
        "threads": max(1, threads),
        "worker_class": "gthread",
        "timeout": timeout_s,  # the first analysis of a large return can take a while
        "graceful_timeout": 30,
        "keepalive": 5,
        "preload_app": True,  # build once in the master: config errors stop the start-up
        "max_requests": 2000,  # recycle workers now and then (bounded memory)
        "max_requests_jitter": 200,
        "accesslog": None,  # the audit log records what matters; URLs hold no personal data
        "errorlog": "-",
        "limit_request_line": 8190,
        "forwarded_allow_ips": trusted_proxies,
    }


def run_production(
    settings: Settings, *, host: str, port: int, workers: int, threads: int, warm_up: bool = True
) -> int:
    """Serve with gunicorn; raises InputError (exit 2) when production needs are missing.

    With ``warm_up`` the default dataset, its analysis and the district boundaries are prepared
    once in the master before the workers are forked, so every worker — including one started
    to replace a crashed worker — inherits them and never serves its first user cold.
    """
    from gunicorn.app.base import BaseApplication

    from app.auth import check_startup

    check_startup(settings)
    server = build_app(settings)
    store = server.config.get("PLACEMAP_STORE")
    if warm_up and store is not None and hasattr(store, "warm_up"):
        print("placemap: preparing the default data and district boundaries...", flush=True)
        try:
            store.warm_up()
        except PlacemapError as err:  # start anyway: the pages show the message as an alert
            print(f"placemap: warning: {' '.join(str(err).split())}", file=sys.stderr)
    options = gunicorn_options(
        host=host,
        port=port,
        workers=workers,
        threads=threads,
        trusted_proxies=settings.extra.get("trusted_proxies", ""),
    )

    class PlacemapServer(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> flask.Flask:
            return server

    print(
        f"placemap: production server on http://{host}:{port}/ ({options['workers']} "
        f"workers x {options['threads']} threads)",
        flush=True,
    )
    PlacemapServer().run()
    return 0


def __getattr__(name: str) -> Any:
    """``application`` is built on first access, so importing this module stays cheap."""
    if name == "application":
        app = build_app()
        globals()["application"] = app
        return app
    raise AttributeError(name)
