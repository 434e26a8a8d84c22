"""District polygons as GeoJSON (EPSG:4326): simplified for a browser map, or at full detail
for a file. The only place the boundaries leave British National Grid."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from geo.spatial.boundaries.model import (
    BNG,
    BROWSER_DECIMALS,
    BROWSER_TOLERANCE_M,
    DERIVED_BROWSER_TOLERANCE_M,
    WGS84,
    Boundaries,
)
from geo.writing import atomic_write_bytes


def simplified(
    boundaries: Boundaries, *, tolerance_m: float = BROWSER_TOLERANCE_M
) -> gpd.GeoSeries:
    """Topology-preserving simplification (EPSG:27700): shared edges are simplified once, so
    neighbours still meet without gaps or overlaps. The coverage is first cleaned (snapping
    near-coincident edges), which official generalised files need after reprojection."""
    geoms = boundaries.frame.geometry.to_numpy()
    if len(geoms) == 0:
        return gpd.GeoSeries([], crs=BNG)
    cleaned = shapely.coverage_clean(geoms)
    simple = shapely.coverage_simplify(cleaned, tolerance_m) if tolerance_m > 0 else cleaned
    return gpd.GeoSeries(simple, index=boundaries.frame.index, crs=BNG)


def browser_geojson(
    boundaries: Boundaries,
    *,
    tolerance_m: float | None = None,
    decimals: int = BROWSER_DECIMALS,
) -> dict[str, Any]:
    """A GeoJSON FeatureCollection (EPSG:4326, coordinates rounded to ``decimals``) of the
    simplified district polygons for a browser map: feature ``id`` = district code, properties
    ``district_code, district_name, role``; the collection carries ``source``, ``label`` and
    ``attribution``. Full detail stays in ``boundaries.frame`` for analysis. ``tolerance_m``
    defaults to :data:`BROWSER_TOLERANCE_M`, or :data:`DERIVED_BROWSER_TOLERANCE_M` for
    boundaries derived from postcodes (their jagged edges smoothed, topology kept)."""
    if tolerance_m is None:
        tolerance_m = DERIVED_BROWSER_TOLERANCE_M if boundaries.approximate else BROWSER_TOLERANCE_M
    geoms = simplified(boundaries, tolerance_m=tolerance_m).to_crs(WGS84)
    return _collection(boundaries, geoms.to_numpy(), decimals=decimals)


def export_geojson(boundaries: Boundaries, *, decimals: int = 6) -> dict[str, Any]:
    """The full-detail polygons in use as a GeoJSON FeatureCollection (EPSG:4326, ``decimals``
    decimal places, 6 = about 0.1 m), each feature with code, name, role and source."""
    geoms = boundaries.frame.geometry.to_crs(WGS84).to_numpy()
    return _collection(boundaries, geoms, decimals=decimals)


def _collection(boundaries: Boundaries, geoms: np.ndarray, *, decimals: int) -> dict[str, Any]:
    frame = boundaries.frame
    features = []
    for code, name, role, geom in zip(
        frame["district_code"], frame["district_name"], frame["role"], geoms, strict=True
    ):
        geometry = _rounded_geometry(geom, decimals)
        if geometry is None:
            continue
        features.append(
            {
                "type": "Feature",
                "id": str(code),
                "properties": {
                    "district_code": str(code),
                    "district_name": str(name),
                    "role": str(role),
                    "source": boundaries.label,
                },
                "geometry": geometry,
            }
        )
    return {
        "type": "FeatureCollection",
        "source": boundaries.source.value,
        "label": boundaries.label,
        "attribution": boundaries.attribution,
        "features": features,
    }


def _rounded_geometry(geom: shapely.Geometry, decimals: int) -> dict[str, Any] | None:
    """GeoJSON geometry dict with rounded coordinates; repeated points dropped, rings that
    collapse dropped, None when nothing is left."""
    polys = []
    for poly in shapely.get_parts(geom):
        rings = [shapely.get_exterior_ring(poly)] + list(
            shapely.get_interior_ring(poly, range(shapely.get_num_interior_rings(poly)))
        )
        out_rings = []
        for i, ring in enumerate(rings):
            xy = np.round(shapely.get_coordinates(ring), decimals)
            if len(xy) > 1:
                step = np.any(np.diff(xy, axis=0) != 0, axis=1)
                xy = np.vstack([xy[0], xy[1:][step]])
            if len(xy) < 4:
                if i == 0:
                    break  # the shell collapsed: drop the polygon
                continue
            out_rings.append(xy.tolist())
        if out_rings:
            polys.append(out_rings)
    if not polys:
        return None
    if len(polys) == 1:
        return {"type": "Polygon", "coordinates": polys[0]}
    return {"type": "MultiPolygon", "coordinates": polys}


def geojson_bytes(collection: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON, as sent to a browser or written by ``boundaries export``."""
    return json.dumps(collection, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def write_geojson(path: str | Path, collection: dict[str, Any]) -> Path:
    """Write a FeatureCollection atomically (a reader never sees half a file)."""
    target = Path(path)
    atomic_write_bytes(target, geojson_bytes(collection))
    return target
