"""``placemap serve``: run the web app (development server, or gunicorn with --production)."""

from __future__ import annotations

import argparse
from pathlib import Path

from werkzeug.serving import WSGIRequestHandler

from app.cli import fail
from app.settings import Settings
from geo.errors import InputError, PlacemapError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="start the web app (default http://127.0.0.1:8050)",
        description="Start the Dash app on the synthetic Kent demo, or on the "
        "SSDA903 files in --data / PLACEMAP_DATA_DIR.",
    )
    env = Settings.from_env()  # PLACEMAP_* defaults; flags win
    p.add_argument("--host", default=env.host)
    p.add_argument("--port", type=int, default=env.port)
    p.add_argument(
        "--data",
        type=Path,
        metavar="DIR",
        help="folder with the SSDA903 return (XML, XLSX or CSVs, any names: recognised by content) and optionally a carers register",
    )
    p.add_argument("--debug", action="store_true", help="Dash debug mode (development only)")
    p.add_argument(
        "--production",
        action="store_true",
        help="serve with gunicorn and several workers, sign-in required (needs "
        "PLACEMAP_SECRET_KEY and users: see README 'Security and deployment')",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=env.workers,
        help="gunicorn worker processes with --production (default 2)",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=env.threads,
        help="threads per worker with --production (default 4)",
    )
    p.add_argument(
        "--no-warm-up",
        action="store_true",
        help="with --production: start without preparing the default data and boundaries first "
        "(each worker then prepares them on its first request)",
    )
    p.set_defaults(func=run)


class QuietHandler(WSGIRequestHandler):
    """The development server's request handler without its own ``Server: Werkzeug/… Python/…``
    header: the app sends one ``Server: placemap`` (``app.auth.security``)."""

    def send_response(self, code: int, message: str | None = None) -> None:
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())


def run(args: argparse.Namespace) -> int:
    from app.main import create_app

    settings = Settings.from_env(data_dir=args.data, host=args.host, port=args.port)
    if args.production or settings.production:
        from app.wsgi import run_production

        if args.debug:
            raise InputError(
                "--debug shows tracebacks and runs code on request: it cannot be "
                "used with --production. Drop one of the two options."
            )
        return run_production(
            Settings.from_env(data_dir=args.data, production=True, host=args.host, port=args.port),
            host=args.host,
            port=args.port,
            workers=args.workers,
            threads=args.threads,
            warm_up=not args.no_warm_up,
        )
    app = create_app(settings)
    print(
        "placemap: preparing data and district boundaries (the first run takes about a "
        "minute: it generates the demo and derives the boundaries, then caches them)...",
        flush=True,
    )
    try:
        app.server.config["PLACEMAP_STORE"].warm_up()
    except PlacemapError as err:
        # Start anyway: every page shows the same message as an alert.
        fail(str(err))
    from app.auth import local_address, state

    st = state(app.server)
    if st.local_mode():
        print(
            f"placemap: serving {settings.authority} for this computer's user only. Open\n\n"
            f"    {local_address(st)}\n\n(the token in the link keeps other programs and "
            "users on this machine out; PLACEMAP_LOCAL_TOKEN sets it)",
            flush=True,
        )
    else:
        print(f"placemap: serving {settings.authority} on http://{args.host}:{args.port}/")
    app.run(host=args.host, port=args.port, debug=bool(args.debug), request_handler=QuietHandler)
    return 0
