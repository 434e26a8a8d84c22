"""Exception types, one per kind of failure, caught once at the edge (CLI exit 2 / Dash alert)."""

from __future__ import annotations


class PlacemapError(Exception):
    """Base class: a problem a person can act on. ``str(err)`` is a one-paragraph message."""


class InputError(PlacemapError):
    """An input file is unusable as a whole (missing, empty, wrong format, missing column)."""


class ReferenceDataError(PlacemapError):
    """Reference data (postcodes, boundaries) is missing, corrupt or cannot be fetched."""
