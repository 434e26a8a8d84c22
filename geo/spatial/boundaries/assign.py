"""Which district each point (EPSG:27700 metres) lies in, through an R-tree of the polygons."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import shapely

from geo.errors import InputError
from geo.spatial.boundaries.model import Boundaries


def assign_points(
    easting_m: Iterable[float] | np.ndarray,
    northing_m: Iterable[float] | np.ndarray,
    boundaries: Boundaries,
    *,
    nearest_within_m: float = 0.0,
) -> pd.Series:
    """District code of each point (EPSG:27700 metres), via an R-tree (shapely STRtree).

    Returns a ``string`` Series aligned with the input (RangeIndex): the code of the district
    containing the point (a point on a shared edge gets the first district in
    ``boundaries.frame`` order), ``<NA>`` for NaN coordinates or points in no district. With
    ``nearest_within_m > 0``, a point outside every polygon (a grid cell centre just off an
    approximate coast) takes the nearest district within that distance.
    """
    x = np.asarray(easting_m, dtype=float)
    y = np.asarray(northing_m, dtype=float)
    if x.shape != y.shape:
        raise InputError(
            f"assign_points needs as many eastings as northings (got {x.size} and {y.size})."
        )
    frame = boundaries.frame
    codes = frame["district_code"].to_numpy(dtype=object)
    out = np.full(x.size, None, dtype=object)
    valid = np.isfinite(x) & np.isfinite(y)
    if valid.any() and len(frame):
        points = shapely.points(x[valid], y[valid])
        tree = shapely.STRtree(frame.geometry.to_numpy())
        pt_idx, poly_idx = tree.query(points, predicate="intersects")
        order = np.lexsort((poly_idx, pt_idx))
        pt_idx, poly_idx = pt_idx[order], poly_idx[order]
        first = np.unique(pt_idx, return_index=True)[1]
        found = np.full(points.size, -1)
        found[pt_idx[first]] = poly_idx[first]
        if nearest_within_m > 0 and (found < 0).any():
            lost = np.flatnonzero(found < 0)
            near_pt, near_poly = tree.query_nearest(
                points[lost], max_distance=nearest_within_m, all_matches=False
            )
            found[lost[near_pt]] = near_poly
        hit = found >= 0
        vals = np.full(points.size, None, dtype=object)
        vals[hit] = codes[found[hit]]
        out[valid] = vals
    return pd.Series(out, dtype="string")
