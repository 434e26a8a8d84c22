"""The ONS download against a local fake ArcGIS server: paging, the cache with its attribution,
and every failure leaving the cache as it was. Never touches the internet."""

from __future__ import annotations

import json
import socket

import pytest

from geo.errors import ReferenceDataError
from geo.spatial import boundaries as dist
from tests.geo.spatial.boundaries.reference import (
    KENT,
    KENT_NEIGHBOURS,
    FakeArcGIS,
    reference_features,
)

__all__ = ["reference_features"]  # a module fixture from reference.py


@pytest.fixture
def arcgis(reference_features):
    server = FakeArcGIS(reference_features)
    yield server
    server.close()


def test_ons_source_without_download_says_how_to_get_it(tmp_path):
    with pytest.raises(ReferenceDataError, match="placemap boundaries download"):
        dist.load_boundaries(authority="E10000016", source="ons", cache_dir=tmp_path)


def test_download_pages_through_results_and_caches_with_attribution(arcgis, tmp_path):
    path = dist.download_ons(
        authority="E10000016", cache_dir=tmp_path, base_url=arcgis.url, page_size=4
    )
    data_path, meta_path = dist.ons_cache_paths(authority="E10000016", cache_dir=tmp_path)
    assert path == data_path and meta_path.exists()
    offsets = [q["resultOffset"] for q in arcgis.queries]
    assert offsets[:4] == ["0", "4", "8", "12"]  # 13 districts by code, 4 per page
    meta = json.loads(meta_path.read_text())
    assert meta["source_url"] == arcgis.url
    assert meta["licence"] == "Open Government Licence v3.0"
    assert "Office for National Statistics" in meta["attribution"]
    assert meta["downloaded_at"][:4].isdigit()
    b = dist.load_boundaries(authority="E10000016", cache_dir=tmp_path)  # auto finds the cache
    assert b.source == dist.BoundarySource.ONS
    nb = b.frame[b.frame["role"] == "neighbour"]
    assert set(nb["district_code"]) == set(KENT_NEIGHBOURS)
    own = b.frame[b.frame["role"] == "authority"]
    assert dict(zip(own["district_code"], own["district_name"], strict=True)) == KENT
    cached = json.loads(data_path.read_text())
    assert len(cached["features"]) == 19  # only the districts needed, not the whole UK


@pytest.mark.parametrize(
    "mode, says",
    [
        ("http500", "HTTP 500"),
        ("drop", "connection dropped"),
        ("slow", "timed out"),
        ("error", "Invalid query parameters"),
    ],
)
def test_failed_download_leaves_the_cache_untouched(arcgis, tmp_path, mode, says):
    dist.download_ons(authority="E10000016", cache_dir=tmp_path, base_url=arcgis.url, page_size=4)
    data_path, meta_path = dist.ons_cache_paths(authority="E10000016", cache_dir=tmp_path)
    before = (data_path.read_bytes(), meta_path.read_bytes())
    arcgis.queries.clear()
    arcgis.fail = (2, mode)
    with pytest.raises(ReferenceDataError) as err:
        dist.download_ons(
            authority="E10000016",
            cache_dir=tmp_path,
            base_url=arcgis.url,
            page_size=4,
            timeout_s=0.4,
        )
    msg = str(err.value)
    assert says in msg and "page 2" in msg and "left unchanged" in msg, msg
    assert (data_path.read_bytes(), meta_path.read_bytes()) == before
    assert sorted(p.name for p in data_path.parent.iterdir()) == sorted(
        [data_path.name, meta_path.name]
    )  # no temporary files left behind


def test_failed_first_download_caches_nothing(arcgis, tmp_path):
    arcgis.fail = (2, "drop")
    with pytest.raises(ReferenceDataError, match="Nothing was cached"):
        dist.download_ons(
            authority="E10000016", cache_dir=tmp_path, base_url=arcgis.url, page_size=4
        )
    assert not (tmp_path / "boundaries").exists() or not any((tmp_path / "boundaries").iterdir())


def test_unreachable_service_says_so(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    with pytest.raises(ReferenceDataError, match="could not connect"):
        dist.download_ons(
            authority="E10000016",
            cache_dir=tmp_path,
            base_url=f"http://127.0.0.1:{port}/FeatureServer",
            timeout_s=2,
        )
