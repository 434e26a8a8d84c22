"""Browser GeoJSON: small, in lon/lat, and neighbours still meet after simplification."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from geo.spatial import boundaries as dist


def _adjacent_pairs(geoms: np.ndarray, min_shared_m: float) -> list[tuple[int, int]]:
    tree = shapely.STRtree(geoms)
    pairs = []
    for i, j in zip(*tree.query(geoms, predicate="touches"), strict=True):
        if i < j:
            shared = shapely.intersection(geoms[i].boundary, geoms[j].boundary).length
            if shared > min_shared_m:
                pairs.append((i, j))
    return pairs


@pytest.mark.parametrize("which", ["official", "derived"])
def test_browser_payload_small_and_neighbours_still_meet(which, request):
    b = request.getfixturevalue(which)
    fc = dist.browser_geojson(b)
    size = len(dist.geojson_bytes(fc))
    full = len(dist.geojson_bytes(dist.export_geojson(b)))
    print(f"\n{which}: browser GeoJSON {size / 1024:.0f} KB (full detail {full / 1024:.0f} KB)")
    assert size < 300 * 1024
    assert [f["id"] for f in fc["features"]] == b.district_codes
    assert fc["features"][0]["properties"]["district_name"] == "Ashford"
    assert fc["attribution"] == b.attribution
    coords = np.array(
        shapely.get_coordinates(shapely.geometry.shape(fc["features"][0]["geometry"]))
    )
    assert 0 < coords[:, 0].min() < 1.5 and 50.8 < coords[:, 1].min() < 51.5  # lon/lat
    assert np.allclose(coords, np.round(coords, 5))

    full_geoms = b.frame.geometry.to_numpy()
    simple = dist.simplified(b).to_numpy()
    assert shapely.get_num_coordinates(simple).sum() < shapely.get_num_coordinates(full_geoms).sum()
    assert shapely.coverage_is_valid(simple)
    pairs = _adjacent_pairs(full_geoms, min_shared_m=200)
    assert len(pairs) >= 20
    shapes = [shapely.geometry.shape(f["geometry"]) for f in fc["features"]]
    for i, j in pairs:
        assert shapely.intersection(simple[i].boundary, simple[j].boundary).length > 0, (i, j)
        assert shapely.area(shapely.intersection(simple[i], simple[j])) < 1.0
        assert shapely.intersects(shapes[i], shapes[j]), (i, j)
