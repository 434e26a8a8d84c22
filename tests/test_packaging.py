"""The package installs from a wheel with its data: every Python package is listed in
pyproject.toml, and data/ and assets/ are reachable through package resources."""

from __future__ import annotations

import tomllib
import zipfile
from importlib.resources import files
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_every_python_package_is_listed():
    listed = set(_pyproject()["tool"]["setuptools"]["packages"])
    found = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for top in ("geo", "app")
        for p in (ROOT / top).rglob("__init__.py")
    }
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"


def test_data_and_assets_are_package_resources():
    assert files("geo.resources").joinpath("demo", "recipe.json").is_file()
    assert files("geo.resources").joinpath("authorities", "E10000016.json").is_file()
    assert files("app.assets").joinpath("app.css").is_file()
    assert files("app.auth").joinpath("templates", "login.html").is_file()


def test_wheel_holds_code_and_data(tmp_path):
    import subprocess
    import sys

    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    wheel = next(tmp_path.glob("placemap-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for must in (
        "geo/resources/demo/recipe.json",
        "geo/resources/authorities/E10000016.json",
        "app/assets/app.css",
        "app/assets/vendor/bootstrap-5.3.3.min.css",
        "app/auth/templates/login.html",
        "geo/py.typed",
        "app/py.typed",
        "geo/ssda903/sniff.py",
    ):
        assert must in names, must
