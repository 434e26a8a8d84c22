"""Shared fixtures. Reference data lives in ../shared/data (never copied into the repo)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PLACEMAP_SHARED_DIR", REPO.parent / "shared"))


def shared_path(*parts: str) -> Path:
    """Path inside ../shared; skips the test with a reason when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"reference file {path} not available (../shared is absent on this machine)")
    return path


@pytest.fixture
def write_csv(tmp_path: Path):
    """Write a CSV from a list of lines and return its path."""

    def _write(name: str, lines: list[str], encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.write_text("\n".join(lines) + "\n", encoding=encoding)
        return path

    return _write
