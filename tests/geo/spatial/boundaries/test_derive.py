"""The offline route: district polygons derived from postcode points agree with the official
ones, are labelled approximate and are cached on disk."""

from __future__ import annotations

import time

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.errors import ReferenceDataError
from geo.spatial import boundaries as dist
from tests.conftest import shared_path
from tests.geo.spatial.boundaries.reference import KENT, MEDWAY, TIMINGS, kent_medway_file


def _iou(a: shapely.Geometry, b: shapely.Geometry) -> float:
    return float(shapely.area(shapely.intersection(a, b)) / shapely.area(shapely.union(a, b)))


def test_derived_agrees_with_the_official_polygons(derived):
    ref = gpd.read_file(kent_medway_file()).to_crs(27700).set_index("LAD24CD")
    got = derived.frame.set_index("district_code")
    rows = [
        (code, name, _iou(got.geometry[code], ref.geometry[code]))
        for code, name in [*KENT.items(), (MEDWAY, "Medway (context)")]
    ]
    table = "\n".join(f"  {c}  {n:<24} IoU {v:.3f}" for c, n, v in rows)
    kent = np.array([v for c, _, v in rows if c in KENT])
    print(
        f"\nDerived vs official (LAD Dec 2024 BGC), intersection over union:\n{table}\n"
        f"  Kent min {kent.min():.3f}, median {np.median(kent):.3f}; derived cold in "
        f"{TIMINGS.get('derived cold', float('nan')):.1f} s"
    )
    assert kent.min() >= 0.85, table
    assert np.median(kent) >= 0.90, table


def test_derived_puts_kent_postcodes_in_their_own_district(derived):
    pcs = pd.read_csv(shared_path("data", "postcodes", "postcodes_kent_medway_areas.csv.gz"))
    kent = pcs[pcs["in_kcc"].astype(bool) & pcs["easting"].notna() & pcs["northing"].notna()]
    got = dist.assign_points(kent["easting"].to_numpy(), kent["northing"].to_numpy(), derived)
    same = (got.fillna("") == kent["lad_code"].reset_index(drop=True)).mean()
    print(f"\n{same:.4%} of {len(kent):,} Kent postcodes fall in their own derived district")
    assert same >= 0.99


def test_derived_is_labelled_approximate_and_has_the_same_districts(derived, official):
    assert derived.source == dist.BoundarySource.DERIVED and derived.approximate
    assert derived.label == "approximate boundaries derived from postcode locations"
    assert "approximate boundaries derived from postcode locations" in derived.attribution
    f = derived.frame
    assert f.crs.to_epsg() == 27700
    assert f["district_code"].tolist() == official.frame["district_code"].tolist()
    assert dict(zip(f["district_code"], f["district_name"], strict=True))["E06000034"] == (
        "Thurrock"
    )
    assert f.geometry.is_valid.all()
    # A coverage: districts meet but do not overlap.
    overlap = shapely.area(shapely.intersection_all(f.geometry.values[:2]))
    assert overlap < 1.0


def test_derived_result_is_cached_on_disk(derived, derived_cache):
    files = list((derived_cache / "boundaries").glob("derived_E10000016_*.gpkg"))
    assert len(files) == 1
    from geo.spatial.postcodes import data_version

    assert data_version() in files[0].name
    started = time.perf_counter()
    again = dist.load_boundaries(authority="E10000016", source="derived", cache_dir=derived_cache)
    seconds = time.perf_counter() - started
    print(f"\nderived boundaries read from the cache in {seconds:.2f} s")
    assert seconds < 5  # the app start-up path; typically well under 0.2 s
    assert again.frame["district_code"].tolist() == derived.frame["district_code"].tolist()
    assert shapely.equals(again.frame.geometry.values, derived.frame.geometry.values).all()


def test_derive_districts_tiny_two_district_grid():
    # Two districts side by side on a 100 m grid: the boundary is halfway between the columns.
    xs, ys = np.meshgrid(np.arange(0, 2000, 100.0), np.arange(0, 1000, 100.0))
    x, y = xs.ravel() + 500_000, ys.ravel() + 150_000
    code = np.where(x < 501_000, "E07000001", "E07000002")
    f = dist.derive_districts(
        easting_m=x, northing_m=y, district_code=code, core_codes=["E07000001"]
    )
    assert f["district_code"].tolist() == ["E07000001", "E07000002"]  # neighbour found
    left, right = f.geometry
    shared = shapely.intersection(left.boundary, right.boundary)
    assert 900 <= shared.length <= 1100  # the grid's height plus a little coast each end
    assert shapely.get_coordinates(shared)[:, 0] == pytest.approx(500_950)
    with pytest.raises(ReferenceDataError, match="E07000999"):
        dist.derive_districts(
            easting_m=x, northing_m=y, district_code=code, core_codes=["E07000999"]
        )
