"""Assigning points (EPSG:27700 metres) to districts."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.errors import InputError
from geo.spatial import boundaries as dist
from tests.geo.spatial.boundaries.reference import KENT


def _two_squares() -> dist.Boundaries:
    frame = gpd.GeoDataFrame(
        {"district_code": ["A", "B"], "district_name": ["a", "b"], "role": ["authority"] * 2},
        geometry=[shapely.box(0, 0, 1000, 1000), shapely.box(1000, 0, 2000, 1000)],
        crs=27700,
    )
    return dist.Boundaries(frame, dist.BoundarySource.FILE, "test", "", "X")


def test_assign_points_inside_edge_outside_and_missing():
    b = _two_squares()
    got = dist.assign_points(
        np.array([500.0, 1500.0, 1000.0, 2500.0, np.nan, 2040.0]),
        np.array([500.0, 500.0, 500.0, 500.0, 500.0, 500.0]),
        b,
    )
    assert got.dtype == "string"
    assert got.tolist()[:3] == ["A", "B", "A"]  # on the shared edge: the first district
    assert got.isna().tolist()[3:] == [True, True, True]
    near = dist.assign_points([2040.0, 2500.0], [500.0, 500.0], b, nearest_within_m=50)
    assert near[0] == "B" and pd.isna(near[1])
    with pytest.raises(InputError):
        dist.assign_points([1.0, 2.0], [1.0], b)


def test_assign_points_grid_over_kent(official):
    # A 5 km grid of cell centres over Kent: every centre inside the county gets a Kent code.
    xmin, ymin, xmax, ymax = official.frame.total_bounds
    gx, gy = np.meshgrid(np.arange(xmin, xmax, 5000.0), np.arange(ymin, ymax, 5000.0))
    codes = dist.assign_points(gx.ravel(), gy.ravel(), official)
    kent = shapely.union_all(official.frame.geometry[official.frame["role"] == "authority"])
    inside = shapely.contains_xy(kent, gx.ravel(), gy.ravel())
    assert codes[inside].isin(list(KENT)).all()
    assert not codes[~inside].isin(list(KENT)).any()
