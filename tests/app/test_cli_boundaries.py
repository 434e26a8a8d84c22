"""`placemap boundaries list|download|export` end to end (a local fake ArcGIS server, no internet)."""

from __future__ import annotations

import json

import pytest

from app.cli import main
from tests.conftest import shared_path
from tests.geo.spatial.boundaries.reference import (
    KENT,
    KENT_NEIGHBOURS,
    FakeArcGIS,
    kent_medway_file,
    reference_features,
)

__all__ = ["reference_features"]  # a module fixture shared with tests/geo/spatial/boundaries


@pytest.fixture(autouse=True)
def _env(monkeypatch, tmp_path):
    monkeypatch.delenv("PLACEMAP_BOUNDARIES", raising=False)
    monkeypatch.delenv("PLACEMAP_AUTHORITY", raising=False)
    monkeypatch.setenv("PLACEMAP_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PLACEMAP_ONS_URL", "http://127.0.0.1:9/not-used")


@pytest.fixture
def arcgis(reference_features, monkeypatch):
    server = FakeArcGIS(reference_features)
    monkeypatch.setenv("PLACEMAP_ONS_URL", server.url)
    yield server
    server.close()


def test_list_prints_code_name_and_group(capsys):
    assert main(["boundaries", "list", "--authority", "E10000016"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "Kent (E10000016): 12 districts"
    for code, name in KENT.items():
        assert any(line.startswith(code) and name in line for line in lines), code
    assert any(ln.startswith("E07000111") and ln.endswith("West Kent") for ln in lines)
    assert any(ln.startswith("E07000113") and ln.endswith("North Kent") for ln in lines)
    assert any(ln.startswith("E06000035") and "context (not part of Kent)" in ln for ln in lines)


def test_list_unknown_authority_is_a_clear_error(capsys):
    assert main(["boundaries", "list", "--authority", "E99999999"]) == 2
    err = capsys.readouterr().err
    assert "E99999999" in err and "E10000016" in err


def test_download_then_export_ons(arcgis, tmp_path, capsys):
    assert main(["boundaries", "download", "--authority", "E10000016"]) == 0
    out = capsys.readouterr().out
    assert "Cached 19 districts for Kent" in out and "6 neighbours" in out
    assert "Open Government Licence" in out
    assert (tmp_path / "cache" / "boundaries").is_dir()

    target = tmp_path / "out" / "kent.geojson"
    assert (
        main(
            [
                "boundaries",
                "export",
                "--authority",
                "E10000016",
                "--source",
                "ons",
                "--out",
                str(target),
            ]
        )
        == 0
    )
    fc = json.loads(target.read_text(encoding="utf-8"))
    codes = [f["properties"]["district_code"] for f in fc["features"]]
    assert codes == [*KENT, "E06000035", *sorted(KENT_NEIGHBOURS)]
    first = fc["features"][0]
    assert first["properties"]["district_name"] == "Ashford"
    assert "Local Authority Districts" in first["properties"]["source"]
    lon, lat = first["geometry"]["coordinates"][0][0][:2]
    assert 0.5 < lon < 1.2 and 50.9 < lat < 51.3  # EPSG:4326, lon/lat order
    assert fc["source"] == "ons" and "Office for National Statistics" in fc["attribution"]
    assert [p.name for p in target.parent.iterdir()] == ["kent.geojson"]  # no temp files


def test_download_failure_exits_2_and_caches_nothing(arcgis, tmp_path, capsys):
    arcgis.fail = (1, "http500")
    assert main(["boundaries", "download"]) == 2
    err = capsys.readouterr().err
    assert "HTTP 500" in err and "Nothing was cached" in err
    assert not list((tmp_path / "cache").rglob("*.geojson"))


def test_export_from_a_file(tmp_path, capsys):
    target = tmp_path / "kent.geojson"
    path = shared_path("data", "boundaries", "kent_medway_lad_dec2024_bgc.geojson")
    assert (
        main(
            [
                "boundaries",
                "export",
                "--source",
                "file",
                "--boundaries",
                str(path),
                "--out",
                str(target),
            ]
        )
        == 0
    )
    assert "Wrote 13 districts" in capsys.readouterr().out
    fc = json.loads(target.read_text(encoding="utf-8"))
    props = [f["properties"] for f in fc["features"]]
    assert [p["role"] for p in props].count("authority") == 12
    assert {
        p["district_code"]: p["district_name"] for p in props if p["role"] == "authority"
    } == KENT
    assert all(p["source"].endswith("kent_medway_lad_dec2024_bgc.geojson") for p in props)


def test_placemap_boundaries_names_the_file(monkeypatch, tmp_path, capsys):
    # The environment is read by app/settings.py and passed down; geo/ never reads it.
    monkeypatch.setenv("PLACEMAP_BOUNDARIES", str(kent_medway_file()))
    target = tmp_path / "kent.geojson"
    assert main(["boundaries", "export", "--out", str(target)]) == 0
    assert "from kent_medway_lad_dec2024_bgc.geojson" in capsys.readouterr().out
    assert json.loads(target.read_text(encoding="utf-8"))["source"] == "file"


def test_export_errors_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.geojson"
    bad.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", '
        '"properties": {"foo": 1}, "geometry": {"type": "Point", '
        '"coordinates": [0.5, 51.2]}}]}'
    )
    out = tmp_path / "x.geojson"
    assert main(["boundaries", "export", "--boundaries", str(bad), "--out", str(out)]) == 2
    assert "foo" in capsys.readouterr().err
    assert main(["boundaries", "export", "--source", "ons", "--out", str(out)]) == 2
    # the message is wrapped to 100 columns: compare words, not line breaks
    assert "placemap boundaries download" in " ".join(capsys.readouterr().err.split())
    assert not out.exists()
