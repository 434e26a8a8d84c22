"""District boundaries: a user's file, the official ONS file (downloaded once, cached), or an
offline approximation derived from postcode points; assigning points to districts; browser
GeoJSON.

Where the polygons come from, in the order :func:`load_boundaries` tries them with
``source="auto"``:

1. **file** – a GeoJSON / GeoPackage / Shapefile of ONS Local Authority Districts the caller
   names (``path``; the app passes ``--boundaries`` or ``PLACEMAP_BOUNDARIES``), in any CRS; the
   code and name columns (``LAD24CD``/``LAD24NM``, ``LADCD``, ``AREACD``…) are detected
   (:mod:`.load`).
2. **ons** – the ONS Open Geography Portal feature service "Local Authority Districts (December
   2024) Boundaries UK BGC", fetched by :func:`download_ons` (never implicitly) and cached with
   its source URL, date and licence beside it (:mod:`.ons`, its HTTP client :mod:`._http`).
3. **derived** – Voronoi cells of the ONSPD postcode units dissolved by district and clipped to a
   land mask made from the points themselves; approximate, clearly labelled as such, and cached
   on disk keyed by the postcode data version and the authority (:mod:`.derive`).

Everything inside is British National Grid (EPSG:27700) metres; EPSG:4326 appears only in
:func:`browser_geojson` and :func:`export_geojson` (:mod:`.geojson`), which build what a map or
a file needs. Configuration comes from the arguments (``path``, ``cache_dir``, ``base_url``);
nothing here reads ``PLACEMAP_*`` variables (``app/settings.py`` does, and passes them down).
"""

from __future__ import annotations

from geo.spatial.boundaries.assign import assign_points
from geo.spatial.boundaries.derive import derive_districts, derived_boundaries
from geo.spatial.boundaries.geojson import (
    browser_geojson,
    export_geojson,
    geojson_bytes,
    simplified,
    write_geojson,
)
from geo.spatial.boundaries.load import load_boundaries, read_boundaries_file
from geo.spatial.boundaries.model import (
    BNG,
    BROWSER_TOLERANCE_M,
    DERIVED_LABEL,
    NEIGHBOUR_GAP_M,
    ONS_ATTRIBUTION,
    ONS_SERVICE_URL,
    Boundaries,
    BoundarySource,
    DistrictRole,
    default_cache_dir,
)
from geo.spatial.boundaries.ons import download_ons, ons_cache_paths

__all__ = [
    "BNG",
    "BROWSER_TOLERANCE_M",
    "DERIVED_LABEL",
    "NEIGHBOUR_GAP_M",
    "ONS_ATTRIBUTION",
    "ONS_SERVICE_URL",
    "Boundaries",
    "BoundarySource",
    "DistrictRole",
    "assign_points",
    "browser_geojson",
    "default_cache_dir",
    "derive_districts",
    "derived_boundaries",
    "download_ons",
    "export_geojson",
    "geojson_bytes",
    "load_boundaries",
    "ons_cache_paths",
    "read_boundaries_file",
    "simplified",
    "write_geojson",
]
