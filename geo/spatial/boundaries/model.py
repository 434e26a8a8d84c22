"""The result of every boundary route: :class:`Boundaries`, its codes, and the shared constants.

Everything inside is British National Grid (EPSG:27700) metres; EPSG:4326 (:data:`WGS84`) appears
only where GeoJSON is read or written.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import geopandas as gpd

from geo.writing import user_cache_dir

BNG = "EPSG:27700"
WGS84 = "EPSG:4326"

ONS_SERVICE_URL = (
    "https://services1.arcgis.com/ESMARspQHYMw9BZ9/arcgis/rest/services/"
    "Local_Authority_Districts_December_2024_Boundaries_UK_BGC/FeatureServer"
)
ONS_TITLE = "ONS Local Authority Districts (December 2024) Boundaries UK BGC"
ONS_LICENCE = "Open Government Licence v3.0"
ONS_ATTRIBUTION = (
    "Source: Office for National Statistics licensed under the Open Government Licence v.3.0. "
    "Contains OS data © Crown copyright and database right 2025."
)
DERIVED_LABEL = "approximate boundaries derived from postcode locations"
POSTCODE_ATTRIBUTION = (
    "Contains OS data © Crown copyright and database right 2025. Contains Royal Mail data © "
    "Royal Mail copyright and database right 2025. Contains National Statistics data © Crown "
    "copyright and database right 2025. Source: Office for National Statistics licensed under "
    "the Open Government Licence v.3.0."
)

# A district is a neighbour when its polygon comes within this distance of the authority's:
# 1 km bridges the Thames (Dartford-Thurrock) without pulling in districts that merely come near.
NEIGHBOUR_GAP_M = 1000.0
# Browser maps: Visvalingam tolerance (about the side of the smallest triangle kept) and decimals
# of a degree kept (5 decimals is about 1 m).
BROWSER_TOLERANCE_M = 100.0
# Derived boundaries follow the Voronoi cells of postcode points: their edges zig-zag at the
# spacing of rural postcodes (a few hundred metres), which the display smooths away.
DERIVED_BROWSER_TOLERANCE_M = 400.0
BROWSER_DECIMALS = 5


class BoundarySource(StrEnum):
    """Where a set of district polygons came from (``auto`` picks one of the others)."""

    AUTO = "auto"
    FILE = "file"
    ONS = "ons"
    DERIVED = "derived"


class DistrictRole(StrEnum):
    """Why a district is on the map."""

    AUTHORITY = "authority"  # one of the authority's own districts
    CONTEXT = "context"  # configured context, e.g. Medway for Kent
    NEIGHBOUR = "neighbour"  # touches or lies within NEIGHBOUR_GAP_M of the authority


@dataclass(frozen=True)
class Boundaries:
    """District polygons for one authority, full detail, for analysis and maps.

    ``frame``: GeoDataFrame in EPSG:27700 (metres), one row per district, columns
    ``district_code, district_name, role`` (:class:`DistrictRole` values) and ``geometry``;
    authority districts first in configuration order, then context, then neighbours.
    ``source``: :class:`BoundarySource`; ``label``: a short description for map notes
    (derived maps say "approximate boundaries derived from postcode locations");
    ``attribution``: the licence text to show; ``origin``: file path, URL or data version.
    """

    frame: gpd.GeoDataFrame
    source: BoundarySource
    label: str
    attribution: str
    authority_code: str
    origin: str = ""

    @property
    def approximate(self) -> bool:
        return self.source == BoundarySource.DERIVED

    @property
    def district_codes(self) -> list[str]:
        return self.frame["district_code"].tolist()


def default_cache_dir() -> Path:
    """The user cache directory (``platformdirs.user_cache_dir("placemap")``).

    The caller's configuration (``PLACEMAP_CACHE_DIR`` in the app) is passed as ``cache_dir``
    to the functions that cache; this is only their fallback (:func:`geo.writing.user_cache_dir`).
    """
    return user_cache_dir()


def cache_root(cache_dir: str | Path | None) -> Path:
    """``cache_dir`` (``~`` expanded), or :func:`default_cache_dir` when it is None or empty;
    the downloaded and derived boundaries live in its ``boundaries/`` folder."""
    return Path(cache_dir).expanduser() if cache_dir else default_cache_dir()
