"""A command loads only its own module (a quick start for `placemap analyse`), and the table of
which module registers which command stays whole."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys

from app.cli import COMMAND_MODULES, COMMANDS, build_parser
from tests.conftest import REPO


def test_every_command_is_listed_with_the_module_that_registers_it() -> None:
    registered: dict[str, str] = {}
    for name in COMMAND_MODULES:
        sub = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(name).register(sub)
        registered.update(dict.fromkeys(sub.choices, name))
    assert registered == COMMANDS
    help_text = build_parser().format_help()
    assert all(command in help_text for command in COMMANDS)


_PROBE = """
import sys
from app.cli import main
try:
    main(["analyse", "--help"])
except SystemExit:
    pass
print(sorted(m for m in ("dash", "flask", "app.auth", "geopandas", "plotly") if m in sys.modules))
"""


def test_analyse_does_not_load_the_web_app() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert "--placements" in out.stdout
    assert out.stdout.strip().splitlines()[-1] == "[]"
