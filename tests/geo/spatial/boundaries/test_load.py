"""The front door and the file route: :func:`load_boundaries` picking a route and
:func:`read_boundaries_file` reading a user's file (any CRS, detected columns, clear errors)."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from geo.errors import InputError
from geo.spatial import boundaries as dist
from geo.spatial.authority import load_authority
from tests.geo.spatial.boundaries.reference import (
    KENT,
    KENT_NEIGHBOURS,
    MEDWAY,
    kent_medway_file,
    uk_file,
)


def test_file_route_kent_medway_file_has_the_12_districts_and_medway():
    b = dist.load_boundaries(authority="E10000016", source="file", path=kent_medway_file())
    f = b.frame
    assert b.source == dist.BoundarySource.FILE
    assert f.crs.to_epsg() == 27700
    own = f[f["role"] == "authority"]
    assert dict(zip(own["district_code"], own["district_name"], strict=True)) == KENT
    assert f.loc[f["role"] == "context", "district_code"].tolist() == [MEDWAY]
    assert f.loc[f["district_code"] == MEDWAY, "district_name"].item() == "Medway"
    assert not (f["role"] == "neighbour").any()  # the file holds nothing else
    # Areas (km²) from the provenance notes: the file was reprojected, not mangled.
    area = dict(zip(f["district_code"], f.geometry.area / 1e6, strict=True))
    assert area["E07000105"] == pytest.approx(580.6, rel=0.01)
    assert area["E07000114"] == pytest.approx(103.6, rel=0.01)
    assert f.geometry.is_valid.all()
    assert "Office for National Statistics" in b.attribution


def test_file_route_uk_file_finds_neighbours_from_polygons(official):
    f = official.frame
    assert f["district_code"].tolist()[:13] == [*KENT, MEDWAY]
    nb = f[f["role"] == "neighbour"]
    assert dict(zip(nb["district_code"], nb["district_name"], strict=True)) == KENT_NEIGHBOURS


def test_neighbour_gap_is_configurable():
    b = dist.read_boundaries_file(uk_file(), authority="E10000016", neighbour_gap_m=0.0)
    assert "E06000034" not in b.district_codes  # Thurrock only touches across the Thames


def test_file_in_another_crs_gives_the_same_polygons(tmp_path):
    src = gpd.read_file(kent_medway_file())
    bng = src.to_crs(27700)
    gpkg = tmp_path / "kent_bng.gpkg"
    bng.to_file(gpkg, driver="GPKG")
    a = dist.read_boundaries_file(kent_medway_file(), authority="E10000016").frame
    b = dist.read_boundaries_file(gpkg, authority="E10000016").frame
    assert a["district_code"].tolist() == b["district_code"].tolist()
    sym = shapely.area(shapely.symmetric_difference(a.geometry.values, b.geometry.values))
    assert (sym / a.geometry.area.to_numpy() < 1e-6).all()


def test_shapefile_without_prj_is_read_as_british_national_grid(tmp_path):
    shp = tmp_path / "lads.shp"
    frame = (
        gpd.read_file(kent_medway_file())
        .to_crs(27700)
        .rename(columns={"LAD24CD": "LADCD", "LAD24NM": "LADNM"})
    )
    frame[["LADCD", "LADNM", "geometry"]].to_file(shp)
    shp.with_suffix(".prj").unlink()
    b = dist.read_boundaries_file(shp, authority="E10000016")
    assert sorted(b.frame.loc[b.frame["role"] == "authority", "district_code"]) == sorted(KENT)
    assert b.frame.geometry.area.sum() / 1e6 == pytest.approx(3545 + 193.6, rel=0.01)


def _tiny_geojson(path: Path, properties: dict[str, object]) -> Path:
    feature = {
        "type": "Feature",
        "properties": properties,
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[0.5, 51.2], [0.6, 51.2], [0.6, 51.3], [0.5, 51.2]]],
        },
    }
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    return path


def test_unrecognised_columns_error_names_the_columns_found(tmp_path):
    path = _tiny_geojson(tmp_path / "odd.geojson", {"objectid": 1, "district": "Ashford"})
    with pytest.raises(InputError) as err:
        dist.load_boundaries(authority="E10000016", source="file", path=path)
    msg = str(err.value)
    assert "odd.geojson" in msg and "objectid" in msg and "district" in msg
    assert "LAD24CD" in msg  # what was expected


def test_code_column_without_gss_codes_is_refused(tmp_path):
    path = _tiny_geojson(tmp_path / "codes.geojson", {"code": "Ashford"})
    with pytest.raises(InputError, match="does not hold ONS GSS district codes"):
        dist.read_boundaries_file(path, authority="E10000016")


def test_file_missing_authority_districts_is_refused(tmp_path):
    src = gpd.read_file(kent_medway_file())
    part = tmp_path / "part.geojson"
    src[src["LAD24CD"].isin(["E07000105", "E07000106", MEDWAY])].to_file(part)
    with pytest.raises(InputError) as err:
        dist.read_boundaries_file(part, authority="E10000016")
    assert "E07000107 Dartford" in str(err.value) and "lacks 10 of the 12" in str(err.value)


def test_missing_file_and_file_source_without_file(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        dist.load_boundaries(authority="E10000016", path=tmp_path / "nope.geojson")
    with pytest.raises(InputError, match="no file was given"):
        dist.load_boundaries(authority="E10000016", source="file")


def test_the_environment_is_not_read(monkeypatch, tmp_path):
    # The library takes its configuration as arguments; app/settings.py reads PLACEMAP_*.
    monkeypatch.setenv("PLACEMAP_BOUNDARIES", str(kent_medway_file()))
    with pytest.raises(InputError, match="no file was given"):
        dist.load_boundaries(authority="E10000016", source="file", cache_dir=tmp_path)
    b = dist.load_boundaries(authority="E10000016", path=kent_medway_file())  # auto: the file
    assert b.source == dist.BoundarySource.FILE


def test_auto_uses_the_derived_cache_and_never_downloads(derived, derived_cache, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("auto must not download")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    b = dist.load_boundaries(authority=load_authority("E10000016"), cache_dir=derived_cache)
    assert b.source == dist.BoundarySource.DERIVED
