"""District names on maps (placed once per boundary set, never overlapping), the hatching of
districts outside a chosen area, the small-multiple trend and the display simplification of
derived boundaries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from app import figures, map_labels
from geo.spatial import boundaries as dist

KENT = "E10000016"


@pytest.fixture(scope="module")
def derived(app_cache_dir) -> dist.Boundaries:
    return dist.load_boundaries(authority=KENT, source="derived", cache_dir=app_cache_dir)


def _codes(b: dist.Boundaries) -> list[str]:
    return b.frame.loc[b.frame["role"] == "authority", "district_code"].tolist()


def test_long_names_break_over_two_lines():
    assert map_labels.wrap_name("Tonbridge and Malling") == "Tonbridge<br>and Malling"
    assert map_labels.wrap_name("Folkestone and Hythe") == "Folkestone<br>and Hythe"
    assert map_labels.wrap_name("Tunbridge Wells") == "Tunbridge<br>Wells"
    assert map_labels.wrap_name("Sevenoaks") == "Sevenoaks"


def test_every_district_named_once_and_no_two_names_overlap(derived):
    codes = _codes(derived)
    names = dict(zip(derived.frame["district_code"], derived.frame["district_name"], strict=True))
    t = map_labels.place_labels(derived.frame, codes, names)
    assert t["district_code"].tolist() == codes
    x0, y0, x1, y1 = derived.frame[derived.frame["district_code"].isin(codes)].total_bounds
    m_per_px = max((x1 - x0) / map_labels.MAP_WIDTH_PX, (y1 - y0) / map_labels.MAP_HEIGHT_PX)
    boxes = []
    for r in t.itertuples(index=False):
        w, h = map_labels.box_size_m(r.label, m_per_px)
        boxes.append(shapely.box(r.x - w / 2, r.y - h / 2, r.x + w / 2, r.y + h / 2))
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.intersects(b), (t.iloc[i]["district_code"], a, b)
    # Sevenoaks sits in Sevenoaks, not on Tonbridge and Malling (the label that overlapped)
    geom = derived.frame.set_index("district_code").geometry
    seven = t.set_index("district_code").loc["E07000111"]
    assert geom["E07000111"].contains(shapely.Point(seven.x, seven.y))
    lonlat = map_labels.district_labels(derived, codes)
    assert lonlat["lon"].between(0, 1.6).all() and lonlat["lat"].between(50.8, 51.6).all()
    assert map_labels.district_labels(derived, codes) is lonlat  # once per boundary set


def test_hatching_lies_in_the_districts_outside_the_area(derived):
    codes = _codes(derived)
    east = ["E07000105", "E07000106", "E07000108"]
    lon, lat = map_labels.hatching(derived, east, codes)
    pts = np.array([(a, b) for a, b in zip(lon, lat, strict=True) if a is not None])
    assert len(pts) > 20
    area = derived.frame[derived.frame["district_code"].isin(east)].to_crs(4326).union_all()
    assert shapely.contains(area.buffer(1e-3), shapely.points(pts)).all()
    assert map_labels.hatching(derived, [], codes) == ([], [])


def test_names_are_light_on_dark_fills_and_dark_on_light_ones():
    points = pd.DataFrame(
        {"district_code": ["A", "B"], "lon": [0.5, 0.6], "lat": [51.2, 51.3], "label": ["A", "B"]}
    )
    (names,) = figures.district_names(points, fills={"A": "#542788", "B": "#fee0b6"})
    assert list(names.textfont.color) == ["#ffffff", "#111111"]
    # no fills (a map of small areas): dark names with a white halo
    (halo,) = figures.district_names(points)
    assert "#fff" in halo.textfont.shadow
    lead = points.assign(leader=[True, False], anchor_lon=[0.4, 0.6], anchor_lat=[51.1, 51.3])
    traces = figures.district_names(lead, fills={"A": "#542788", "B": "#542788"})
    assert len(traces) == 2 and traces[0].mode == "lines"  # the leader line
    assert list(traces[1].textfont.color) == ["#111111", "#ffffff"]  # outside: on white


def test_area_map_names_the_districts():
    geo = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": "A",
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[0, 51], [0, 51.1], [0.1, 51.1], [0.1, 51], [0, 51]]],
                },
            }
        ],
    }
    points = pd.DataFrame({"district_code": ["A"], "lon": [0.05], "lat": [51.05], "label": ["A"]})
    fig = figures.area_map(
        geo,
        pd.DataFrame({"area_id": ["A"], "v": [1.0]}),
        value_col="v",
        value_label="Value",
        outlines_geojson=geo,
        outline_codes=["A"],
        title="t",
        hover=pd.Series(["x"]),
        label_points=points,
        bounds={"lon": [0, 0.1], "lat": [51, 51.1]},
    )
    assert [t.text for t in fig.data if t.name == "District names"] == [("A",)]
    assert fig.layout.geo.lonaxis.range == (0, 0.1)


def test_trend_panels_one_per_district_with_the_total_and_quarter_end_ticks():
    quarters = pd.date_range("2017-03-31", periods=8, freq="QE")
    rows = [
        {"quarter_end": q, "district_name": name, "pct": 70.0 + i}
        for name in ["A", "B", "C", "K total"]
        for i, q in enumerate(quarters)
    ]
    fig = figures.trend_panels(
        pd.DataFrame(rows), title="t", target=80, total_name="K total", columns=2
    )
    own = [t for t in fig.data if t.name in {"A", "B", "C"}]
    assert len({t.xaxis for t in own}) == 3
    totals = [t for t in fig.data if t.name == "K total"]
    assert len(totals) == 3 and {t.line.color for t in totals} == {figures.TOTAL_LINE}
    assert fig.layout.xaxis.ticktext[0] == "Mar<br>2017"
    assert fig.layout.xaxis.ticktext[-1] == "Dec<br>2018"


def test_derived_boundaries_are_smoothed_for_display(derived):
    smooth = dist.browser_geojson(derived)
    fine = dist.browser_geojson(derived, tolerance_m=dist.BROWSER_TOLERANCE_M)
    count = lambda fc: sum(  # noqa: E731
        len(shapely.get_coordinates(shapely.geometry.shape(f["geometry"]))) for f in fc["features"]
    )
    assert count(smooth) < 0.7 * count(fine)
    shapes = [shapely.geometry.shape(f["geometry"]) for f in smooth["features"]]
    assert all(s.is_valid for s in shapes)


def test_stars_of_neighbouring_sectors_are_spread_so_each_number_reads():
    """Suggested sectors a few hundred metres apart drew their numbered stars on top of one
    another; now marks nearer than the spacing are laid round their centre, the spacing apart,
    and a mark on its own stays put."""
    import numpy as np

    from app.recruitment_map import STAR_SPACING_M, dodge

    e = np.array([560_000.0, 560_800.0, 561_200.0, 600_000.0, np.nan, 562_000.0])
    n = np.array([150_000.0, 150_300.0, 149_600.0, 160_000.0, np.nan, 150_500.0])
    de, dn = dodge(e, n)
    assert (de[3], dn[3]) == (e[3], n[3]) and np.isnan(de[4])  # alone; unknown
    group = [0, 1, 2, 5]
    gaps = [
        np.hypot(de[a] - de[b], dn[a] - dn[b]) for i, a in enumerate(group) for b in group[i + 1 :]
    ]
    assert min(gaps) >= STAR_SPACING_M * 0.999
    # round the group's centre, the first at twelve o'clock, near where they were
    assert np.isclose(de[group].mean(), e[group].mean()) and dn[0] > dn[group].mean()
    assert max(np.hypot(de[group] - e[group], dn[group] - n[group])) < 2 * STAR_SPACING_M
    np.testing.assert_array_equal(dodge(e, n)[0], de)  # the same every time
