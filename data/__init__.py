"""The small data placemap owns, installed as the package ``geo.resources``.

This folder (``data/`` in the repository) holds the demo's calibration recipe, authority
configurations and district-name overrides. Code reaches it through package resources
(:func:`resource`), so it works from a wheel, an editable install or a source checkout alike.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable


def resource(*parts: str) -> Traversable:
    """The packaged file or folder at ``parts`` below ``data/`` (e.g. ``"demo", "recipe.json"``)."""
    node = files(__name__)
    for part in parts:
        node = node.joinpath(part)
    return node
