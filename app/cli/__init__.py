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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="placemap",
        description="How far children in care are placed from home (DfE SSDA903 distance), "
        "district by district, and where foster carers are missing.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    for command in sub.choices.values():
        add_output_flags(command)
    return parser


def fail(message: str) -> int:
    """Print a one-paragraph error message and return exit code 2."""
    text = " ".join(message.split())
    print(textwrap.fill(f"placemap: error: {text}", width=100), file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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
