"""District boundaries: file route, ONS download (local fake ArcGIS server), offline derivation,
point assignment and browser GeoJSON. Never touches the internet."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.errors import InputError, ReferenceDataError
from geo.spatial import boundaries as dist
from geo.spatial.authority import load_authority
from tests.conftest import shared_path

KENT = {
    "E07000105": "Ashford",
    "E07000106": "Canterbury",
    "E07000107": "Dartford",
    "E07000108": "Dover",
    "E07000109": "Gravesham",
    "E07000110": "Maidstone",
    "E07000111": "Sevenoaks",
    "E07000112": "Folkestone and Hythe",
    "E07000113": "Swale",
    "E07000114": "Thanet",
    "E07000115": "Tonbridge and Malling",
    "E07000116": "Tunbridge Wells",
}
MEDWAY = "E06000035"
# Official polygons within 1 km of Kent's districts (LAD Dec 2024 BGC).
KENT_NEIGHBOURS = {
    "E09000004": "Bexley",
    "E09000006": "Bromley",
    "E07000064": "Rother",
    "E07000215": "Tandridge",
    "E06000034": "Thurrock",
    "E07000065": "Wealden",
}


TIMINGS: dict[str, float] = {}


def kent_medway_file() -> Path:
    return shared_path("data", "boundaries", "kent_medway_lad_dec2024_bgc.geojson")


def uk_file() -> Path:
    return shared_path("data", "boundaries", "lad_dec2024_uk_bgc.geojson")


@pytest.fixture(autouse=True)
def _no_boundary_env(monkeypatch):
    # The developer's own configuration must not leak into the tests.
    for name in ("PLACEMAP_BOUNDARIES", "PLACEMAP_CACHE_DIR", "PLACEMAP_ONS_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def official() -> dist.Boundaries:
    return dist.read_boundaries_file(uk_file(), authority="E10000016")


@pytest.fixture(scope="module")
def derived_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("placemap-cache")


@pytest.fixture(scope="module")
def derived(derived_cache) -> dist.Boundaries:
    """Kent derived once per module (cold: nothing cached yet), with its time recorded."""
    started = time.perf_counter()
    b = dist.load_boundaries(authority="E10000016", source="derived", cache_dir=derived_cache)
    TIMINGS["derived cold"] = time.perf_counter() - started
    return b


# --------------------------------------------------------------------------- file route


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


def test_environment_variable_names_the_file(monkeypatch):
    monkeypatch.setenv("PLACEMAP_BOUNDARIES", str(kent_medway_file()))
    b = dist.load_boundaries(authority="E10000016")
    assert b.source == dist.BoundarySource.FILE


# --------------------------------------------------------------------------- derived route


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


def test_auto_uses_the_derived_cache_and_never_downloads(derived, derived_cache, monkeypatch):
    monkeypatch.setenv("PLACEMAP_ONS_URL", "http://127.0.0.1:9/never")

    def no_network(*args, **kwargs):
        raise AssertionError("auto must not download")

    monkeypatch.setattr(dist.urllib.request, "urlopen", no_network)
    b = dist.load_boundaries(authority=load_authority("E10000016"), cache_dir=derived_cache)
    assert b.source == dist.BoundarySource.DERIVED


def test_ons_source_without_download_says_how_to_get_it(tmp_path):
    with pytest.raises(ReferenceDataError, match="placemap boundaries download"):
        dist.load_boundaries(authority="E10000016", source="ons", cache_dir=tmp_path)


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


# --------------------------------------------------------------------------- points


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


# --------------------------------------------------------------------------- browser GeoJSON


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


# --------------------------------------------------------------------------- ONS download


class FakeArcGIS:
    """A local ArcGIS feature service serving the reference LAD file in pages.

    ``fail`` = (query number, mode): mode ``http500`` answers HTTP 500, ``drop`` sends half a
    page and closes the connection, ``slow`` waits longer than the client's timeout, ``error``
    answers 200 with an ArcGIS error object.
    """

    def __init__(self, features: list[dict]):
        self.features = sorted(features, key=lambda f: f["properties"]["LAD24CD"])
        self.fail: tuple[int, str] | None = None
        self.queries: list[dict[str, str]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_GET(self):
                # The client may have given up (the timeout test): nothing left to answer.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    fake.handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/arcgis/FeatureServer"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def send(self, h: BaseHTTPRequestHandler, payload: dict, *, cut: bool = False) -> None:
        body = json.dumps(payload).encode()
        h.send_response(200)
        h.send_header("Content-Type", "application/geo+json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if cut:
            h.wfile.write(body[: len(body) // 2])
            h.wfile.flush()
            h.connection.shutdown(socket.SHUT_RDWR)
            h.close_connection = True
            return
        h.wfile.write(body)

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        url = urllib.parse.urlsplit(h.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        if url.path.endswith("/FeatureServer/0"):
            fields = [{"name": n, "type": "esriFieldTypeString"} for n in ("LAD24CD", "LAD24NM")]
            self.send(h, {"name": "LAD_DEC_2024_UK_BGC", "fields": fields, "maxRecordCount": 2000})
            return
        if not url.path.endswith("/FeatureServer/0/query"):
            h.send_error(404)
            return
        self.queries.append(q)
        if self.fail and self.fail[0] == len(self.queries):
            mode = self.fail[1]
            if mode == "http500":
                h.send_error(500, "Internal Server Error")
                return
            if mode == "slow":
                time.sleep(1.5)
            if mode == "error":
                self.send(h, {"error": {"code": 400, "message": "Invalid query parameters"}})
                return
        feats = self.features
        codes = re.findall(r"'([A-Z]\d{8})'", q.get("where", ""))
        if codes:
            feats = [f for f in feats if f["properties"]["LAD24CD"] in codes]
        if "geometry" in q:
            box = shapely.box(*map(float, q["geometry"].split(",")))
            feats = [f for f in feats if shapely.geometry.shape(f["geometry"]).intersects(box)]
        start, count = int(q.get("resultOffset", 0)), int(q.get("resultRecordCount", 2000))
        page = feats[start : start + count]
        payload = {"type": "FeatureCollection", "features": page}
        if start + count < len(feats):
            payload["properties"] = {"exceededTransferLimit": True}
        self.send(
            h, payload, cut=self.fail is not None and self.fail == (len(self.queries), "drop")
        )


@pytest.fixture(scope="module")
def reference_features() -> list[dict]:
    """The UK reference file's features around Kent (EPSG:4326 GeoJSON dicts)."""
    uk = gpd.read_file(uk_file(), bbox=(-0.6, 50.6, 1.8, 51.8))
    return json.loads(uk[["LAD24CD", "LAD24NM", "geometry"]].to_json())["features"]


@pytest.fixture
def arcgis(reference_features):
    server = FakeArcGIS(reference_features)
    yield server
    server.close()


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
