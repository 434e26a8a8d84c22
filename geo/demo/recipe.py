"""The calibration recipe (``data/demo/recipe.json``) and the version of what it generates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from geo.errors import InputError
from geo.resources import resource

# Bump when the output for a given seed changes, so cached demos are regenerated.
DEMO_VERSION = "3"
SCALES = ("kent", "national")


def load_recipe(path: str | Path | None = None) -> dict[str, Any]:
    """Read the calibration recipe (default ``data/demo/recipe.json``).

    Raises :class:`InputError` when the file is missing or not JSON.
    """
    p = Path(path) if path is not None else resource("demo", "recipe.json")
    try:
        return dict(json.loads(p.read_text(encoding="utf-8")))
    except FileNotFoundError as err:
        raise InputError(f"The demo recipe '{p}' does not exist. Reinstall placemap.") from err
    except json.JSONDecodeError as err:
        raise InputError(f"The demo recipe '{p}' is not valid JSON: {err}.") from err
