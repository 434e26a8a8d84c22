"""The ``placemap`` command line. Each sub-command lives in its own module with ``register()``.

Errors a person can act on (:class:`geo.errors.PlacemapError`) are caught here, once: the message
goes to stderr as one paragraph and the exit code is 2. Ctrl-C stops a command with one line and
exit code 130; outputs are written only at the end, atomically, so nothing half-written is left.
Every command gets ``--quiet``/``--verbose`` and ``args.progress`` (:mod:`app.cli.progress`).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import textwrap
from collections.abc import Sequence

from app.cli.progress import add_output_flags, stage_reporter
from geo.errors import PlacemapError

# Sub-command modules, in the order `placemap --help` lists them.
COMMAND_MODULES = [
    "app.cli.distance_cmd",
    "app.cli.analyse_cmd",
    "app.cli.coverage_cmd",
    "app.cli.demo_cmd",
    "app.cli.serve_cmd",
    "app.cli.boundaries_cmd",
    "app.cli.report_cmd",
    "app.cli.benchmark_cmd",
    "app.cli.forecast_cmd",
    "app.cli.users_cmd",
]
# The command(s) each module registers (tests/app/test_cli_startup.py keeps this whole): a run
# of one command imports only its module, so `placemap analyse` does not load the web app.
COMMANDS = {
    "distance": "app.cli.distance_cmd",
    "analyse": "app.cli.analyse_cmd",
    "coverage": "app.cli.coverage_cmd",
    "recruit": "app.cli.coverage_cmd",
    "demo": "app.cli.demo_cmd",
    "serve": "app.cli.serve_cmd",
    "boundaries": "app.cli.boundaries_cmd",
    "report": "app.cli.report_cmd",
    "benchmark": "app.cli.benchmark_cmd",
    "forecast": "app.cli.forecast_cmd",
    "users": "app.cli.users_cmd",
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole parser, or (``command`` given, as the first argument) one with only that
    command's module loaded."""
    parser = argparse.ArgumentParser(
        prog="placemap",
        description="How far children in care are placed from home (DfE SSDA903 distance), "
        "district by district, and where foster carers are missing.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    modules = [COMMANDS[command]] if command in COMMANDS else COMMAND_MODULES
    for name in modules:
        importlib.import_module(name).register(sub)
    for each in sub.choices.values():
        add_output_flags(each)
    return parser


def fail(message: str) -> int:
    """Print a one-paragraph error message and return exit code 2."""
    text = " ".join(message.split())
    print(textwrap.fill(f"placemap: error: {text}", width=100), file=sys.stderr)
    return 2


def use_cache_folder() -> None:
    """Keep the library's compact postcode arrays in the configured cache folder
    (``PLACEMAP_CACHE_DIR``; default the user cache)."""
    from app.settings import Settings
    from geo.spatial import set_postcode_cache_dir

    try:
        cache_dir = Settings.from_env().cache_dir
    except (ValueError, PlacemapError):  # a malformed setting: the command using it says so
        cache_dir = None
    set_postcode_cache_dir(cache_dir)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv[0] if argv else None)
    args = parser.parse_args(argv)
    use_cache_folder()
    try:
        with stage_reporter(args) as args.progress:
            return int(args.func(args) or 0)
    except PlacemapError as err:
        return fail(str(err))
    except KeyboardInterrupt:
        print("placemap: interrupted; no output was written", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
